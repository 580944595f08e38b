//! Residual virtual addresses: the ones a previous run left on the box.
//!
//! A master that dies by `kill -9` (or a crash, or an OOM kill) cannot remove its VIPs. Started
//! again as a backup it would leave them there, and two routers would hold them. keepalived
//! removes them at start-up: with its interfaces already present it marks every instance's
//! addresses as set (`vrrp_complete_instance`, "Set to force address removal"), and
//! `vrrp_restore_interfaces_startup` / `vrrp_init_state` then delete them (and its virtual
//! routes and rules) with `force`, before an instance that is not the address owner runs as a
//! backup; the owner (priority 255) goes straight to master and adds them again. vigil does the
//! same for every instance that starts (not carried over by a reload) and is not the owner,
//! from the one address dump `prepare` already made: the owner keeps its addresses, which it
//! installs at once anyway, so its clients see no gap. keepalived's `--dont-release-vrrp`
//! (leave the addresses at exit) has no vigil equivalent, so nothing here depends on it.
//!
//! A reload never removes the addresses of a carried instance: a running master keeps its
//! VIPs. An instance that starts at a reload removes only addresses no carried instance also
//! lists, so a VIP shared with a running instance stays.
//!
//! Virtual routes and rules: the kernel is not dumped for them. An instance whose residual
//! VIPs are found was master when the previous run died, so its routes and rules were in too:
//! they are deleted with the addresses (before them, as keepalived orders it), except those a
//! running instance also lists. A deletion of a route that is not there is a no-op. Routes
//! left without any residual VIP (someone removed the VIPs by hand) stay.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::core::{Core, Effects};
use super::input::PresentAddress;
use super::plan::Routing;
use crate::fsm::InstanceId;
use crate::net::AddressSpec;
use crate::types::Priority;

impl<E: Effects> Core<E> {
    /// Removes the virtual addresses of the `starting` instances found in `present` (the
    /// kernel's addresses at preparation time), except for address owners and for addresses
    /// an instance not in `starting` also lists. One log line per address removed.
    pub(super) fn remove_residual(&mut self, starting: &[InstanceId], present: &[PresentAddress]) {
        // Nothing starting (a reload that only keeps or stops instances): nothing to look
        // for, and no set of every running address to build.
        if present.is_empty() || starting.is_empty() {
            return;
        }
        let present: BTreeSet<(u32, IpAddr)> =
            present.iter().map(|p| (p.ifindex, p.addr)).collect();
        let starting_set: BTreeSet<InstanceId> = starting.iter().copied().collect();
        let running: BTreeSet<(u32, IpAddr)> = self
            .node
            .iter()
            .filter(|(id, _, _)| !starting_set.contains(id))
            .flat_map(|(_, _, s)| s.plan.vips.iter().map(|v| (v.ifindex, v.addr)))
            .collect();
        let mut running_routing = Routing::default();
        for (_, _, s) in self
            .node
            .iter()
            .filter(|(id, _, _)| !starting_set.contains(id))
        {
            if let Some(r) = &s.plan.routing {
                running_routing.routes.extend(r.routes.iter().cloned());
                running_routing.rules.extend(r.rules.iter().cloned());
            }
        }
        for &id in starting {
            let Some(slot) = self.node.data(id) else {
                continue;
            };
            let plan = slot.plan.clone();
            if plan.fsm.priority == Priority::OWNER {
                continue;
            }
            let residual: Vec<AddressSpec> = plan
                .vips
                .iter()
                .filter(|v| {
                    let key = (v.ifindex, v.addr);
                    present.contains(&key) && !running.contains(&key)
                })
                .cloned()
                .collect();
            if residual.is_empty() {
                continue;
            }
            for spec in &residual {
                tracing::warn!(
                    instance = %plan.name(),
                    address = %spec,
                    "removing a virtual address left on the interface by a previous run (the instance does not start as its owner)"
                );
            }
            if let Some(routing) = Routing::minus(plan.routing.as_deref(), Some(&running_routing)) {
                tracing::warn!(
                    instance = %plan.name(),
                    routes = routing.routes.len(),
                    rules = routing.rules.len(),
                    "removing the virtual routes and rules a previous run may have left with its addresses"
                );
                self.effects.routing(&plan, false, Some(&routing));
            }
            self.effects.remove(&plan, Some(&residual));
        }
    }
}
