//! systemd `Type=notify` / `Type=notify-reload`: READY=1 once every instance is running,
//! STATUS= lines with a summary, RELOADING=1 while a SIGHUP reload runs, STOPPING=1 at
//! shutdown, and WATCHDOG=1 keep-alives when the unit sets `WatchdogSec=`. Without
//! NOTIFY_SOCKET these are no-ops.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio::time::{Interval, MissedTickBehavior};

pub fn ready(summary: &str) {
    let _ = sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(summary)]);
}

pub fn status(summary: &str) {
    let _ = sd_notify::notify(&[NotifyState::Status(summary)]);
}

/// A reload has begun; READY=1 says it ended. sd_notify(3): RELOADING=1 carries
/// MONOTONIC_USEC= (CLOCK_MONOTONIC, µs) so that a `Type=notify-reload` manager (systemd ≥ 253)
/// can tell this answer to its SIGHUP from a stale one; without it `systemctl reload` waits
/// for its timeout. Older managers ignore the field.
pub fn reloading() {
    let mut state = vec![NotifyState::Reloading];
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        state.push(now);
    }
    let _ = sd_notify::notify(&state);
}

pub fn stopping() {
    let _ = sd_notify::notify(&[NotifyState::Stopping]);
}

/// systemd's service watchdog (`WatchdogSec=`): WATCHDOG=1 at half of WATCHDOG_USEC, as
/// sd_watchdog_enabled(3) advises. It is polled as a branch of the driver's loop, never from
/// a task of its own, so a loop that is stuck stops the keep-alives and systemd restarts
/// the daemon.
pub struct Watchdog {
    interval: Option<Interval>,
}

impl Watchdog {
    /// From WATCHDOG_USEC (and WATCHDOG_PID, which must be this process when set: a script
    /// that inherited the variables is not the one being watched). Disabled when unset.
    pub fn from_env() -> Watchdog {
        Watchdog::every(sd_notify::watchdog_enabled().map(|usec| usec / 2))
    }

    /// Keep-alives every `period` (none for `None` or zero).
    pub fn every(period: Option<Duration>) -> Watchdog {
        let interval = period.filter(|p| !p.is_zero()).map(|p| {
            let mut interval = tokio::time::interval(p);
            // After a stall, one keep-alive, not a burst that would hide how late it was.
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval
        });
        Watchdog { interval }
    }

    /// The period, if the watchdog is on.
    pub fn period(&self) -> Option<Duration> {
        self.interval.as_ref().map(Interval::period)
    }

    /// Completes when a keep-alive is due (the first at once); never when disabled.
    pub async fn due(&mut self) {
        match &mut self.interval {
            Some(interval) => {
                interval.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// Sends WATCHDOG=1.
    pub fn keep_alive(&self) {
        let _ = sd_notify::notify(&[NotifyState::Watchdog]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keep_alives_come_at_the_period_and_not_when_disabled() {
        let period = Duration::from_millis(20);
        let mut on = Watchdog::every(Some(period));
        assert_eq!(on.period(), Some(period));
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            on.due().await;
        }
        // The first at once, then one per period.
        let took = start.elapsed();
        assert!(
            took >= 2 * period && took < Duration::from_secs(2),
            "{took:?}"
        );

        for period in [None, Some(Duration::ZERO)] {
            let mut off = Watchdog::every(period);
            assert_eq!(off.period(), None);
            let never = tokio::time::timeout(Duration::from_millis(100), off.due()).await;
            assert!(never.is_err(), "a disabled watchdog fired");
        }
    }
}
