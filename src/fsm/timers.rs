//! VRRP's derived intervals (RFC 5798 §6.1, RFC 9568 §6.1, RFC 3768 §6.1) in exact integer
//! microseconds, and the set of deadlines one instance keeps.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::time::Time;
use crate::types::{Centis, Priority, Version};

const MICROS_PER_SEC: u64 = 1_000_000;

/// Skew_Time for a router of `priority`.
///
/// - RFC 3768 §6.1 (v2): `(256 - Priority) / 256` seconds, independent of the interval.
/// - RFC 9568 §6.1 (v3): `((256 - Priority) * Master_Adver_Interval) / 256`.
///
/// Computed in microseconds and floored only at the microsecond: truncating to centiseconds
/// (as holo-vrrp does) would make routers of neighbouring priorities time out together.
pub fn skew_time(version: Version, priority: Priority, master_adver_interval: Centis) -> Duration {
    let weight = 256 - u64::from(priority.get());
    let micros = match version {
        Version::V2 => weight * MICROS_PER_SEC / 256,
        Version::V3 => weight * master_adver_interval.as_micros() / 256,
    };
    Duration::from_micros(micros)
}

/// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (RFC 5798 §6.1, RFC 3768 §6.1).
pub fn master_down_interval(
    version: Version,
    priority: Priority,
    master_adver_interval: Centis,
) -> Duration {
    master_down_interval_n(version, priority, master_adver_interval, 3)
}

/// Master_Down_Interval with keepalived's `down_timer_adverts` (`adverts`) in place of the
/// RFC's 3: `adverts × Master_Adver_Interval + Skew_Time` (keepalived `VRRP_MS_DOWN_TIMER`).
pub fn master_down_interval_n(
    version: Version,
    priority: Priority,
    master_adver_interval: Centis,
    adverts: u8,
) -> Duration {
    Duration::from_micros(u64::from(adverts) * master_adver_interval.as_micros())
        + skew_time(version, priority, master_adver_interval)
}

/// The deadlines an instance may have armed. All are absolute; `None` means not running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timers {
    /// RFC 5798 §6.2 Master_Down_Timer (Backup only).
    pub master_down: Option<Time>,
    /// RFC 5798 §6.2 Adver_Timer (Master only).
    pub adver: Option<Time>,
    /// keepalived `garp_master_delay`: the second gratuitous burst after becoming Master.
    pub garp_master_delay: Option<Time>,
    /// keepalived `garp_master_refresh`: the periodic gratuitous refresh while Master.
    pub garp_refresh: Option<Time>,
    /// keepalived `garp_lower_prio_delay`: the second burst after a lower-priority advert.
    pub garp_lower_prio: Option<Time>,
}

impl Timers {
    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Time> {
        [
            self.master_down,
            self.adver,
            self.garp_master_delay,
            self.garp_refresh,
            self.garp_lower_prio,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn clear(&mut self) {
        *self = Timers::default();
    }
}

/// Takes the deadline out of `slot` if it has passed at `now`.
pub(crate) fn take_if_due(slot: &mut Option<Time>, now: Time) -> bool {
    match *slot {
        Some(deadline) if deadline <= now => {
            *slot = None;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_time_v2_is_a_fraction_of_one_second() {
        // (256 - 100) / 256 s = 0.609375 s exactly.
        assert_eq!(
            skew_time(Version::V2, Priority::new(100), Centis::from_secs(1)),
            Duration::from_micros(609_375)
        );
        // v2 ignores the interval.
        assert_eq!(
            skew_time(Version::V2, Priority::new(100), Centis::from_secs(5)),
            Duration::from_micros(609_375)
        );
        assert_eq!(
            skew_time(Version::V2, Priority::OWNER, Centis::from_secs(1)),
            Duration::from_micros(3_906)
        );
    }

    #[test]
    fn skew_time_v3_scales_with_master_adver_interval_without_centisecond_truncation() {
        // (256 - 200) * 100 cs / 256 = 21.875 cs = 218_750 µs; a centisecond floor would give 21 cs.
        assert_eq!(
            skew_time(Version::V3, Priority::new(200), Centis::new(100)),
            Duration::from_micros(218_750)
        );
        // Neighbouring priorities get distinct skews even with a short interval.
        assert_ne!(
            skew_time(Version::V3, Priority::new(200), Centis::new(10)),
            skew_time(Version::V3, Priority::new(201), Centis::new(10))
        );
    }

    #[test]
    fn master_down_interval_is_three_intervals_plus_skew() {
        assert_eq!(
            master_down_interval(Version::V3, Priority::new(100), Centis::new(100)),
            Duration::from_micros(3_000_000 + 609_375)
        );
        assert_eq!(
            master_down_interval(Version::V2, Priority::new(254), Centis::from_secs(2)),
            Duration::from_micros(6_000_000 + 7_812)
        );
    }

    #[test]
    fn master_down_interval_n_multiplies_by_down_timer_adverts() {
        // 6 × 0.5 s + (256 - 100) × 0.5 s / 256 = 3 s + 304_687 µs (v3).
        assert_eq!(
            master_down_interval_n(Version::V3, Priority::new(100), Centis::new(50), 6),
            Duration::from_micros(3_000_000 + 304_687)
        );
        assert_eq!(
            master_down_interval_n(Version::V3, Priority::new(100), Centis::new(100), 3),
            master_down_interval(Version::V3, Priority::new(100), Centis::new(100))
        );
    }

    #[test]
    fn timers_next_is_the_earliest_armed_deadline() {
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.adver = Some(Time::from_micros(50));
        t.garp_refresh = Some(Time::from_micros(20));
        assert_eq!(t.next(), Some(Time::from_micros(20)));
        assert!(take_if_due(&mut t.garp_refresh, Time::from_micros(20)));
        assert!(!take_if_due(&mut t.adver, Time::from_micros(49)));
        assert_eq!(t.next(), Some(Time::from_micros(50)));
    }
}
