//! Debouncing reload requests (SIGHUP and `vigil reload`): a burst is one reload, prepared
//! once the requests have been quiet for [`QUIET`].
//!
//! Without it a storm reloads many times: 300 SIGHUPs in 3 s were 300 preparations, each
//! reading and planning the file again. A request that arrives while a preparation runs
//! still gets a preparation of its own afterwards (it may have been sent after an edit the
//! running one did not read); it waits for the quiet period like any other.
//!
//! A steady stream of requests would postpone the reload for ever, so a request waits at
//! most [`LONGEST`]: a reload loop gone wrong still lets one reload through now and then.
//!
//! Pure: the driver passes the time in and sleeps until [`Debounce::deadline`].

use std::time::Duration;

use tokio::time::Instant;

/// The quiet period after the last request. Tools that signal in a loop (configuration
/// management writing several files, then `systemctl reload` for each) send their requests
/// within milliseconds of each other; 200 ms covers them with a wide margin, stays far below
/// what an operator notices after `systemctl reload`, and far below systemd's reload timeout
/// (TimeoutStartSec, 90 s by default).
pub(super) const QUIET: Duration = Duration::from_millis(200);

/// The longest a request waits while more keep coming.
pub(super) const LONGEST: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub(super) struct Debounce {
    /// The oldest request not yet covered by a preparation.
    first: Option<Instant>,
    /// The newest.
    last: Option<Instant>,
}

impl Debounce {
    /// A reload was asked for at `now`.
    pub(super) fn request(&mut self, now: Instant) {
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// Whether a request waits for its preparation.
    pub(super) fn pending(&self) -> bool {
        self.first.is_some()
    }

    /// When the preparation is due: [`QUIET`] after the last request, at most [`LONGEST`]
    /// after the first. `None` when nothing waits.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let (first, last) = (self.first?, self.last?);
        Some((last + QUIET).min(first + LONGEST))
    }

    /// The preparation starts (at its deadline, or later if another one was running): it
    /// covers every request made so far.
    pub(super) fn take(&mut self) {
        self.first = None;
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_one_reload_after_the_last_request() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert_eq!(d.deadline(), None);
        assert!(!d.pending());
        for i in 0..10 {
            d.request(t0 + Duration::from_millis(50 * i));
        }
        assert!(d.pending());
        assert_eq!(d.deadline(), Some(t0 + Duration::from_millis(450) + QUIET));
        d.take();
        assert_eq!(d.deadline(), None);
        assert!(!d.pending());
    }

    #[test]
    fn a_steady_stream_waits_at_most_the_longest_delay() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        let step = QUIET / 2;
        let mut t = t0;
        while t < t0 + 3 * LONGEST {
            d.request(t);
            t += step;
        }
        assert_eq!(d.deadline(), Some(t0 + LONGEST));
        // After the preparation, the stream starts a new wait.
        d.take();
        d.request(t);
        assert_eq!(d.deadline(), Some(t + QUIET));
    }
}
