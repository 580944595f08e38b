//! keepalived's `vrrp_startup_delay`: after the daemon starts, the instances wait this long
//! before they run (e.g. for the network to settle after a boot).
//!
//! keepalived (vrrp_daemon.c, vrrp_scheduler.c) sets a delayed start time on the first start
//! only; a reload during the delay moves it to the first start plus the new delay, and once
//! it has passed a reload does not delay again. keepalived puts the instances in Backup with
//! their first timers counted from the end of the delay; here they stay in Initialize (no
//! notify, no adverts) and start at its end, which gives the same earliest takeover: the end
//! of the delay plus Master_Down_Interval.

use std::time::Duration;

use super::core::{Core, Effects};
use super::slot::Phase;
use crate::fsm::{InstanceId, Time};
use crate::types::Centis;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartupDelay {
    /// When the first configuration was applied.
    first_start: Option<Time>,
    /// The end of the delay, while it runs.
    until: Option<Time>,
}

impl StartupDelay {
    /// The end of a running delay.
    pub fn until(&self) -> Option<Time> {
        self.until
    }

    /// Whether instances may not start yet at `now`.
    pub fn holds(&self, now: Time) -> bool {
        self.until.is_some_and(|u| now < u)
    }

    /// Applies a configuration's delay at `now`; true if a delay runs.
    fn configure(&mut self, now: Time, delay: Duration) -> bool {
        let first = *self.first_start.get_or_insert(now);
        let fresh = first == now;
        // A reload after the delay ended does not start another (keepalived: `!reload`).
        if !fresh && self.until.is_none() {
            return false;
        }
        let end = first + delay;
        self.until = (end > now).then_some(end);
        self.until.is_some()
    }
}

impl<E: Effects> Core<E> {
    pub(super) fn set_startup_delay(&mut self, now: Time, delay: Centis) {
        if self.startup.configure(now, delay.as_duration()) {
            tracing::info!(
                delay = %delay,
                "vrrp_startup_delay: the instances start when the delay ends"
            );
        }
    }

    /// Starts the instances the delay held, once it has passed.
    pub(super) fn end_startup_delay(&mut self, now: Time) {
        if self.startup.until.is_none() || self.startup.holds(now) {
            return;
        }
        self.startup.until = None;
        tracing::info!("vrrp_startup_delay over: starting the instances");
        let waiting: Vec<InstanceId> = self
            .node
            .iter()
            .filter(|(_, _, s)| s.phase == Phase::AwaitingCheckers)
            .map(|(id, _, _)| id)
            .collect();
        for id in waiting {
            self.refresh_verdict(now, id);
        }
    }
}
