//! keepalived's `max_auto_priority` (lib/scheduler.c, lib/process.c
//! `increment_process_priority`): when the loop serves a timer more than
//! `min_auto_priority_delay` after it was due, the machine is too loaded for the daemon to
//! keep its advert schedule, so it moves itself to realtime scheduling (SCHED_RR), at the
//! lowest realtime priority first and one step higher each further time, up to
//! `max_auto_priority`. It never steps down again (keepalived neither).
//!
//! The decision is pure (here); the driver measures the lateness and applies the priority
//! through `net::sched::set_realtime`.

use std::time::Duration;

/// `sched_get_priority_min(SCHED_RR)` on Linux.
const MIN_RT_PRIORITY: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoPriority {
    max: u8,
    min_delay: Duration,
    current: u8,
}

impl AutoPriority {
    /// `max` 0 turns it off; `min_delay_us` is keepalived's microseconds.
    pub fn new(max: u8, min_delay_us: u32) -> Self {
        Self {
            max,
            min_delay: Duration::from_micros(u64::from(min_delay_us)),
            current: 0,
        }
    }

    /// Whether these are the settings it was made with (a reload that changes them is
    /// warned about: they apply from the next start).
    pub fn is_configured(&self, max: u8, min_delay_us: u32) -> bool {
        self.max == max && self.min_delay == Duration::from_micros(u64::from(min_delay_us))
    }

    pub fn is_on(&self) -> bool {
        self.max > 0
    }

    /// A timer was served `late` after its deadline: the realtime priority to move to, if any.
    pub fn timer_served(&mut self, late: Duration) -> Option<u8> {
        if self.max == 0 || late <= self.min_delay || self.current >= self.max {
            return None;
        }
        self.current = if self.current == 0 {
            MIN_RT_PRIORITY
        } else {
            self.current + 1
        };
        Some(self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn steps_up_once_per_late_timer_from_the_lowest_to_the_maximum() {
        let mut a = AutoPriority::new(3, 1_000_000);
        assert_eq!(a.timer_served(SEC), None, "exactly the delay is not late");
        assert_eq!(a.timer_served(SEC + Duration::from_micros(1)), Some(1));
        assert_eq!(a.timer_served(SEC / 2), None);
        assert_eq!(a.timer_served(2 * SEC), Some(2));
        assert_eq!(a.timer_served(2 * SEC), Some(3));
        assert_eq!(a.timer_served(9 * SEC), None, "stays at the maximum");
    }

    #[test]
    fn off_by_default() {
        let mut a = AutoPriority::new(0, 1);
        assert!(!a.is_on());
        assert_eq!(a.timer_served(60 * SEC), None);
    }

    #[test]
    fn the_delay_is_in_microseconds() {
        let mut a = AutoPriority::new(99, 500);
        assert_eq!(a.timer_served(Duration::from_micros(501)), Some(1));
    }
}
