//! keepalived's rise/fall hysteresis for `vrrp_script`, as a pure counter.
//!
//! keepalived keeps one counter per script in `0..rise+fall`: OK when it is at least `rise`.
//! A success below `rise - 1` counts up, otherwise jumps to the top (OK, `fall` failures
//! away from KO); a failure above `rise` counts down, otherwise drops to 0 (KO, `rise`
//! successes away from OK). It starts at `rise - 1` (one success is enough, one failure is
//! enough: the first result decides), or at 0 with `init_fail`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiseFall {
    rise: u32,
    fall: u32,
    counter: u32,
    /// The state last reported: `None` until the first result decides (unless `init_fail`).
    reported: Option<bool>,
}

impl RiseFall {
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Self {
        let rise = rise.max(1);
        let fall = fall.max(1);
        Self {
            rise,
            fall,
            counter: if init_fail { 0 } else { rise - 1 },
            reported: init_fail.then_some(false),
        }
    }

    /// Records one run's outcome; returns the new state (true = OK) if it changed, including
    /// the first time it becomes known.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        if success {
            if self.counter + 1 < self.rise {
                self.counter += 1;
            } else {
                self.counter = self.rise + self.fall - 1;
            }
        } else if self.counter > self.rise {
            self.counter -= 1;
        } else {
            self.counter = 0;
        }
        let ok = self.counter >= self.rise;
        if self.reported == Some(ok) {
            None
        } else {
            self.reported = Some(ok);
            Some(ok)
        }
    }

    #[cfg(test)]
    pub fn state(&self) -> Option<bool> {
        self.reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rf: &mut RiseFall, outcomes: &[bool]) -> Vec<Option<bool>> {
        outcomes.iter().map(|&o| rf.record(o)).collect()
    }

    #[test]
    fn first_result_decides_without_init_fail() {
        let mut ok_first = RiseFall::new(3, 3, false);
        assert_eq!(ok_first.state(), None);
        assert_eq!(ok_first.record(true), Some(true));
        let mut ko_first = RiseFall::new(3, 3, false);
        assert_eq!(ko_first.record(false), Some(false));
    }

    #[test]
    fn fall_failures_to_go_down_and_rise_successes_to_come_back() {
        let mut rf = RiseFall::new(2, 3, false);
        assert_eq!(rf.record(true), Some(true));
        // Two failures are absorbed, the third goes KO.
        assert_eq!(
            run(&mut rf, &[false, false, false]),
            [None, None, Some(false)]
        );
        // One success is not enough with rise 2; the second is.
        assert_eq!(run(&mut rf, &[true, true]), [None, Some(true)]);
        // A success between failures resets the count (back to the top).
        assert_eq!(
            run(&mut rf, &[false, false, true, false, false, false]),
            [None, None, None, None, None, Some(false)]
        );
        // A failure between successes resets the rise count.
        assert_eq!(
            run(&mut rf, &[true, false, true, true]),
            [None, None, None, Some(true)]
        );
    }

    #[test]
    fn init_fail_starts_down_and_needs_rise_successes() {
        let mut rf = RiseFall::new(3, 1, true);
        assert_eq!(rf.state(), Some(false));
        assert_eq!(rf.record(false), None);
        assert_eq!(run(&mut rf, &[true, true, true]), [None, None, Some(true)]);
        assert_eq!(rf.record(false), Some(false), "fall 1");
    }

    #[test]
    fn zero_rise_or_fall_behave_as_one() {
        let mut rf = RiseFall::new(0, 0, true);
        assert_eq!(rf.record(true), Some(true));
        assert_eq!(rf.record(false), Some(false));
    }
}
