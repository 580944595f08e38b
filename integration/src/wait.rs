//! Bounded waits: poll for an observable condition and fail with what was last seen
//! ([`wait_until`]), or await an event with a deadline ([`within`]).

use std::fmt::{Debug, Display};
use std::future::Future;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// How often [`wait_until`] looks again. Short enough that measured failover times are
/// accurate to a few tens of milliseconds, long enough not to load two shared cores.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Something a poll returns: whether the wait is over, and how to describe it if it never is.
///
/// Implemented for `bool`, `Option<T>` (done when `Some`), `(bool, T)` (done when `.0`, `.1`
/// is the observation reported on timeout) and `Result<C, E>` (done when `Ok` and `C` is done;
/// an `Err` is an observation too, so transient command failures keep the wait going).
pub trait Check {
    fn is_done(&self) -> bool;
    fn describe(&self) -> String;
}

impl Check for bool {
    fn is_done(&self) -> bool {
        *self
    }
    fn describe(&self) -> String {
        self.to_string()
    }
}

impl<T: Debug> Check for Option<T> {
    fn is_done(&self) -> bool {
        self.is_some()
    }
    fn describe(&self) -> String {
        format!("{self:?}")
    }
}

impl<T: Debug> Check for (bool, T) {
    fn is_done(&self) -> bool {
        self.0
    }
    fn describe(&self) -> String {
        format!("{:?}", self.1)
    }
}

impl<C: Check, E: Display> Check for Result<C, E> {
    fn is_done(&self) -> bool {
        matches!(self, Ok(c) if c.is_done())
    }
    fn describe(&self) -> String {
        match self {
            Ok(c) => c.describe(),
            Err(e) => format!("error: {e:#}"),
        }
    }
}

/// The value that ended a wait and how long the wait took.
#[derive(Debug, Clone)]
pub struct Waited<C> {
    pub value: C,
    pub elapsed: Duration,
}

/// Calls `probe` every [`POLL_INTERVAL`] until its result [`Check::is_done`], for at most
/// `timeout`. On timeout the error names `what` and the last observation, e.g.
/// `timed out after 5s waiting for r1 to hold 192.0.2.200 (last seen: false)`.
///
/// ```no_run
/// # use std::time::Duration;
/// # use vigil_integration::wait_until;
/// # fn f(host: &vigil_integration::Host) -> anyhow::Result<()> {
/// let vip = "192.0.2.200".parse()?;
/// wait_until(Duration::from_secs(5), "r1 holds the VIP", || host.has_address(vip))?;
/// # Ok(()) }
/// ```
pub fn wait_until<C: Check>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> C,
) -> Result<Waited<C>> {
    let start = Instant::now();
    loop {
        let value = probe();
        let elapsed = start.elapsed();
        if value.is_done() {
            return Ok(Waited { value, elapsed });
        }
        if elapsed >= timeout {
            bail!(
                "timed out after {timeout:?} waiting for {what} (last seen: {})",
                value.describe()
            );
        }
        thread::sleep(POLL_INTERVAL.min(timeout.saturating_sub(elapsed)));
    }
}

/// Like [`wait_until`] but for a probe that yields `Option<T>` (or `Result<Option<T>>`),
/// returning the `T` itself.
pub fn wait_for<T: Debug>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let waited = wait_until(timeout, what, &mut probe)?;
    match waited.value {
        Ok(Some(v)) => Ok(v),
        // wait_until only returns once the value is done, i.e. Ok(Some(_)).
        other => bail!("wait for {what} ended on {}", other.describe()),
    }
}

/// Awaits `fut` for at most `timeout`: the async counterpart of [`wait_until`] for an event
/// that can be awaited rather than polled (a packet, a netlink notification). On timeout the
/// error says `timed out after 10s waiting for <what>`.
///
/// Needs a tokio runtime with time enabled, such as the one [`crate::Host::spawn_async`]
/// builds.
pub async fn within<T>(timeout: Duration, what: &str, fut: impl Future<Output = T>) -> Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(value) => Ok(value),
        Err(_) => bail!("timed out after {timeout:?} waiting for {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_that_ended_the_wait() -> Result<()> {
        let mut n = 0;
        let waited = wait_until(Duration::from_secs(2), "n to reach 3", || {
            n += 1;
            (n >= 3, n)
        })?;
        assert_eq!(waited.value, (true, 3));
        Ok(())
    }

    #[test]
    fn timeout_names_what_and_last_observation() {
        let err = wait_until(Duration::from_millis(50), "the impossible", || {
            (false, "seen-7")
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("the impossible"), "{err}");
        assert!(err.contains("seen-7"), "{err}");
    }

    #[test]
    fn within_names_what_it_waited_for() -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let err = runtime
            .block_on(within(
                Duration::from_millis(20),
                "a reply",
                std::future::pending::<()>(),
            ))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("a reply") && err.contains("20ms"), "{err}");
        let ready = runtime.block_on(within(Duration::from_secs(1), "ready", async { 7 }))?;
        assert_eq!(ready, 7);
        Ok(())
    }

    #[test]
    fn errors_are_observations_not_the_end() -> Result<()> {
        let mut n = 0;
        let v = wait_for(Duration::from_secs(2), "third try", || {
            n += 1;
            if n < 3 {
                anyhow::bail!("not yet {n}")
            }
            Ok(Some(n))
        })?;
        assert_eq!(v, 3);
        Ok(())
    }
}
