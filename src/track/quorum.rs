//! keepalived's quorum with `fork_delay` / `terminate_delay`, as a pure debouncer.
//!
//! The count is in quorum when `quorum <= count <= quorum_max`. The first observation is
//! reported at once (keepalived counts at start-up before instances start). After that, a
//! gained quorum is reported only if it still holds `fork_delay` later, and a lost one only if
//! still lost `terminate_delay` later, so a restart (terminate then fork) or a fork/exec does
//! not bounce the instances.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quorum {
    min: u32,
    max: u32,
    fork_delay: Duration,
    terminate_delay: Duration,
    reported: Option<bool>,
    /// A change waiting out its delay: the new state and since when it has held.
    pending: Option<(bool, Instant)>,
}

impl Quorum {
    pub fn new(
        min: u32,
        max: Option<u32>,
        fork_delay: Duration,
        terminate_delay: Duration,
    ) -> Self {
        Self {
            min,
            max: max.unwrap_or(u32::MAX),
            fork_delay,
            terminate_delay,
            reported: None,
            pending: None,
        }
    }

    pub fn holds(&self, count: u32) -> bool {
        (self.min..=self.max).contains(&count)
    }

    /// Feeds one count observed at `now`; returns the new state when it is to be reported.
    pub fn observe(&mut self, now: Instant, count: u32) -> Option<bool> {
        let up = self.holds(count);
        let Some(reported) = self.reported else {
            self.reported = Some(up);
            return Some(up);
        };
        if up == reported {
            self.pending = None;
            return None;
        }
        let delay = if up {
            self.fork_delay
        } else {
            self.terminate_delay
        };
        let since = match self.pending {
            Some((state, since)) if state == up => since,
            _ => {
                self.pending = Some((up, now));
                now
            }
        };
        if now.saturating_duration_since(since) >= delay {
            self.pending = None;
            self.reported = Some(up);
            Some(up)
        } else {
            None
        }
    }

    /// When a pending change becomes due, so the runner can look again then.
    pub fn deadline(&self) -> Option<Instant> {
        let (up, since) = self.pending?;
        Some(
            since
                + if up {
                    self.fork_delay
                } else {
                    self.terminate_delay
                },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn quorum_bounds_are_inclusive_and_max_is_optional() {
        let q = Quorum::new(2, Some(3), S, S);
        assert!(!q.holds(1) && q.holds(2) && q.holds(3) && !q.holds(4));
        assert!(Quorum::new(1, None, S, S).holds(u32::MAX));
        // quorum_max 0 and quorum 0: OK only while nothing runs.
        let none = Quorum::new(0, Some(0), S, S);
        assert!(none.holds(0) && !none.holds(1));
    }

    #[test]
    fn first_observation_is_reported_at_once() {
        let t0 = Instant::now();
        let mut q = Quorum::new(1, None, S, S);
        assert_eq!(q.observe(t0, 0), Some(false));
        assert_eq!(q.observe(t0, 0), None);
    }

    #[test]
    fn changes_wait_out_their_delay_and_a_bounce_is_ignored() {
        let t0 = Instant::now();
        let mut q = Quorum::new(1, None, 2 * S, 3 * S);
        assert_eq!(q.observe(t0, 1), Some(true));
        // Lost: reported only after terminate_delay (3 s).
        assert_eq!(q.observe(t0 + S, 0), None);
        assert_eq!(q.deadline(), Some(t0 + 4 * S));
        assert_eq!(q.observe(t0 + 3 * S, 0), None);
        assert_eq!(q.observe(t0 + 4 * S, 0), Some(false));
        // Regained then lost again within fork_delay: nothing reported.
        assert_eq!(q.observe(t0 + 5 * S, 1), None);
        assert_eq!(q.observe(t0 + 6 * S, 0), None);
        assert_eq!(q.deadline(), None);
        assert_eq!(q.observe(t0 + 8 * S, 0), None);
        // Regained for good: after fork_delay (2 s).
        assert_eq!(q.observe(t0 + 9 * S, 1), None);
        assert_eq!(q.observe(t0 + 11 * S, 2), Some(true));
    }

    #[test]
    fn zero_delays_report_immediately() {
        let t0 = Instant::now();
        let mut q = Quorum::new(1, Some(1), Duration::ZERO, Duration::ZERO);
        assert_eq!(q.observe(t0, 1), Some(true));
        assert_eq!(q.observe(t0, 2), Some(false), "above quorum_max");
        assert_eq!(q.observe(t0, 1), Some(true));
    }
}
