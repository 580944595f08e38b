//! keepalived's `track_src_ip`: an instance whose configured source address (`unicast_src_ip`
//! or `mcast_src_ip`) leaves the box goes to FAULT, and comes back when the address does
//! (keepalived_netlink.c: `down_instance(vrrp, VRRP_FAULT_FL_NO_SOURCE_IP)`, then up again on
//! RTM_NEWADDR). Without a configured source keepalived clears the flag, and so does planning.
//!
//! The core keeps, for each tracked source, whether the kernel holds it: from the
//! preparation's dump (`Prepared::absent_sources`), then from RTM_NEWADDR / RTM_DELADDR. An
//! address never heard of counts as present.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::core::{Core, Effects};
use super::plan::InstancePlan;
use crate::fsm::{InstanceId, Time};

/// Whether each tracked source address is on the box.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackedSources(BTreeMap<IpAddr, bool>);

impl TrackedSources {
    /// Whether `plan` may run as far as its source goes.
    pub fn present(&self, plan: &InstancePlan) -> bool {
        !plan.track_src || self.0.get(&plan.tx.src).copied().unwrap_or(true)
    }
}

impl<E: Effects> Core<E> {
    /// Records what a preparation found missing among the tracked sources (the others are
    /// present); what was heard since the dump is kept.
    pub(super) fn learn_sources(&mut self, tracked: Vec<IpAddr>, absent: &[IpAddr]) {
        for src in tracked {
            self.sources
                .0
                .entry(src)
                .or_insert_with(|| !absent.contains(&src));
        }
    }

    /// An address came (`present`) or went: the instances tracking it as their source leave or
    /// enter FAULT.
    pub(super) fn on_tracked_source(&mut self, now: Time, addr: IpAddr, present: bool) {
        // Every address event comes here (a mass failover's VIPs among them): an address no
        // instance tracks costs one map lookup, not a scan of the instances.
        if !self.sources.0.contains_key(&addr) {
            return;
        }
        let tracking: Vec<(InstanceId, bool)> = self
            .node
            .iter()
            .filter(|(_, _, s)| s.plan.track_src && s.plan.tx.src == addr)
            .map(|(id, _, s)| (id, s.phase == super::slot::Phase::Started))
            .collect();
        if tracking.is_empty() {
            return;
        }
        let before = self.sources.0.insert(addr, present);
        if before.unwrap_or(true) == present {
            return;
        }
        // One not started yet reads the map when it starts.
        let affected = tracking
            .into_iter()
            .filter(|&(_, started)| started)
            .map(|(id, _)| id);
        for id in affected {
            let Some(plan) = self.node.data(id).map(|s| s.plan.clone()) else {
                continue;
            };
            if present {
                tracing::info!(instance = %plan.name(), source = %addr, "source address is back (track_src_ip)");
            } else {
                tracing::warn!(instance = %plan.name(), source = %addr, "source address removed (track_src_ip): FAULT until it returns");
            }
            self.follow_usability(now, id, &plan);
        }
    }
}
