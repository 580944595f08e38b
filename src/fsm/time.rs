//! The state machine's notion of time: a point on a caller-supplied timeline.
//!
//! The fsm never reads a clock. The daemon maps its monotonic clock (e.g. `tokio::time::Instant`
//! minus the instant it started) onto [`Time`]; the simulator uses a virtual clock. Time is kept
//! in integer microseconds so that Skew_Time (RFC 5798 §6.1), which is a fraction of a
//! centisecond for most priorities, is never rounded to the advert unit.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Microseconds since an arbitrary epoch chosen by the caller.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Time(u64);

impl Time {
    pub const ZERO: Time = Time(0);

    pub const fn from_micros(micros: u64) -> Self {
        Self(micros)
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Builds a time from a `Duration` since the epoch (sub-microsecond parts are dropped).
    pub fn from_duration(since_epoch: Duration) -> Self {
        Self(u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX))
    }

    /// The time elapsed since the epoch.
    pub const fn since_epoch(self) -> Duration {
        Duration::from_micros(self.0)
    }

    /// `self + d`, or `None` if the timeline overflows (after ~584,000 years).
    pub fn checked_add(self, d: Duration) -> Option<Time> {
        let micros = u64::try_from(d.as_micros()).ok()?;
        self.0.checked_add(micros).map(Time)
    }

    /// How long after `earlier` this time is, or `None` if it is before `earlier`.
    pub fn checked_sub(self, earlier: Time) -> Option<Duration> {
        self.0.checked_sub(earlier.0).map(Duration::from_micros)
    }

    /// Like `checked_sub` but zero if `earlier` is later.
    pub fn saturating_sub(self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;

    /// Saturates at the end of the timeline rather than panicking: a deadline that far away
    /// is as good as never.
    fn add(self, d: Duration) -> Time {
        self.checked_add(d).unwrap_or(Time(u64::MAX))
    }
}

impl Sub<Duration> for Time {
    type Output = Time;

    /// Saturates at the epoch.
    fn sub(self, d: Duration) -> Time {
        Time(
            self.0
                .saturating_sub(u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        )
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_and_saturating() {
        let t = Time::from_micros(1_500_000);
        assert_eq!(t + Duration::from_micros(1), Time::from_micros(1_500_001));
        assert_eq!(
            Time::from_micros(u64::MAX) + Duration::from_secs(1),
            Time::from_micros(u64::MAX)
        );
        assert_eq!(
            t.checked_sub(Time::from_micros(500_000)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(Time::ZERO.checked_sub(t), None);
        assert_eq!(t.to_string(), "1.500000s");
    }
}
