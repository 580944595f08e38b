//! Keeping the core's picture of the kernel true when it is not told everything.
//!
//! - An interface deleted: its instances go to Fault (the link is down) with one log line, and
//!   its name is remembered under its old ifindex.
//! - An interface a plan names that appears (keepalived's `dynamic_interfaces`: the plan was
//!   a placeholder) or comes back under a new ifindex: the plans point at an index the kernel
//!   no longer has, so the running configuration is planned again ([`Effects::replan`]);
//!   the reload that answers moves the instance's socket and binding (`reload.rs`).
//! - Netlink events lost (the event socket overran, or its stream ended): the driver
//!   subscribes afresh, reads links and addresses again, and hands them here
//!   ([`CoreInput::Resync`](super::input::CoreInput::Resync)); each link is reconciled as if
//!   its event had arrived, and a Master's virtual address that is gone is added back, as
//!   when its deletion is seen (DESIGN.md: state is resynced, not assumed).

use std::collections::HashSet;

use super::core::{Core, Effects};
use super::input::{KernelSnapshot, PresentAddress};
use crate::fsm::{State, Time};

impl<E: Effects> Core<E> {
    /// RTM_DELLINK: the instances on the interface go to Fault until it is back.
    pub(super) fn on_link_removed(&mut self, now: Time, ifindex: u32, name: String) {
        let users = self
            .node
            .iter()
            // (A VMAC deleted under its instance is not this case: its link is the base's.)
            .filter(|(_, _, s)| s.plan.ifindex == ifindex)
            .count();
        if users > 0 {
            tracing::warn!(
                interface = %name,
                ifindex,
                instances = users,
                "interface deleted: its instances wait in FAULT until it exists again"
            );
        }
        self.on_link(now, ifindex, name, false);
    }

    /// Asks for the configuration to be planned again if interface `name`, now at `ifindex`,
    /// is one a plan waits for or knows under another index.
    pub(super) fn replan_if_stale(&mut self, ifindex: u32, name: &str) {
        if self.stale(ifindex, name) {
            tracing::debug!(interface = %name, ifindex, "plans name this interface under another index");
            self.replan_pending = true;
            self.effects.replan(name);
        }
    }

    /// The same, for an interface known by its index (an address appeared on it: one that
    /// came back without its address could not be planned before).
    pub(super) fn replan_if_stale_index(&mut self, ifindex: u32) {
        if let Some(name) = self.links.get(&ifindex).map(|l| l.name.clone()) {
            self.replan_if_stale(ifindex, &name);
        }
    }

    fn stale(&self, ifindex: u32, name: &str) -> bool {
        // Its earlier indexes, if it had any: a virtual address's `dev` re-created.
        let earlier: Vec<u32> = self
            .links
            .iter()
            .filter(|(i, l)| **i != ifindex && l.name == name)
            .map(|(&i, _)| i)
            .collect();
        // A placeholder may wait for a virtual address's `dev`, which it does not name: any
        // interface new to the core may be the one (planning again is harmless if not).
        let new = !self.links.contains_key(&ifindex);
        self.node.iter().any(|(_, _, s)| {
            let p = &s.plan;
            (p.awaits_interface && (new || &*p.interface == name))
                || (&*p.interface == name && p.ifindex != ifindex)
                || p.vips.iter().any(|v| earlier.contains(&v.ifindex))
        })
    }

    /// Reconciles the core with the kernel's state after lost events.
    pub(super) fn resync(&mut self, now: Time, snapshot: &KernelSnapshot) {
        let present: HashSet<u32> = snapshot.links.iter().map(|l| l.ifindex).collect();
        // Deleted while events were lost (those already known down need nothing).
        let gone: Vec<(u32, String)> = self
            .links
            .iter()
            .filter(|(i, l)| l.up && !present.contains(i))
            .map(|(&i, l)| (i, l.name.clone()))
            .collect();
        let mut changed = gone.len();
        for (ifindex, name) in gone {
            self.on_link_removed(now, ifindex, name);
        }
        for link in &snapshot.links {
            for ll in &link.link_locals {
                self.on_link_local(now, link.ifindex, ll.addr.into(), ll.usable);
            }
            if self
                .links
                .get(&link.ifindex)
                .is_none_or(|l| l.up != link.up)
            {
                changed += 1;
            }
            self.on_link(now, link.ifindex, link.name.clone(), link.up);
        }
        let restored = self.restore_vips(&snapshot.addresses);
        tracing::warn!(
            links = snapshot.links.len(),
            addresses = snapshot.addresses.len(),
            links_changed = changed,
            virtual_addresses_restored = restored,
            "resynced with the kernel after lost netlink events"
        );
    }

    /// Adds back every Master's virtual address the kernel no longer has; how many.
    fn restore_vips(&mut self, addresses: &[PresentAddress]) -> usize {
        let present: HashSet<PresentAddress> = addresses.iter().copied().collect();
        let missing: Vec<_> = self
            .node
            .iter()
            .filter(|(_, inst, _)| inst.state() == State::Master)
            .filter_map(|(_, _, slot)| {
                let gone: Vec<_> = slot
                    .plan
                    .vips
                    .iter()
                    .filter(|v| {
                        !present.contains(&PresentAddress {
                            ifindex: v.ifindex,
                            addr: v.addr,
                        })
                    })
                    .cloned()
                    .collect();
                (!gone.is_empty()).then(|| (slot.plan.clone(), gone))
            })
            .collect();
        let mut n = 0;
        for (plan, gone) in missing {
            tracing::warn!(
                instance = %plan.name(),
                addresses = gone.len(),
                "virtual addresses missing from the interface while master: restoring them"
            );
            n += gone.len();
            self.effects.install(&plan, Some(&gone));
        }
        n
    }
}
