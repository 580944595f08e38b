//! IPv6 instances and their link-local source: an instance whose source address is not usable
//! yet waits in Fault, and starts when it is.
//!
//! At boot an interface that has just come up carries its link-local address as *tentative*
//! while duplicate address detection runs (RFC 4862 §5.4; Linux: `dad_transmits` probes
//! `retrans_time_ms` apart), and the kernel refuses to bind or send from it. keepalived does not
//! fail then: the instance stays in FAULT until the address is usable. vigil does the same: the
//! core remembers which link-local addresses are usable (from the preparation's dump, then from
//! RTM_NEWADDR / RTM_DELADDR), treats an instance whose source is not as if its link were down,
//! and starts it (Fault -> Backup/Master) when the kernel reports the address without
//! IFA_F_TENTATIVE. Only link-local addresses are followed: they are the default IPv6 source
//! (RFC 5798 §5.1.2.1), and the map stays as small as the number of interfaces.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use super::core::{Core, Effects};
use super::input::LinkFact;
use super::plan::InstancePlan;
use crate::fsm::{Input, InstanceId, Time};

/// Whether each IPv6 link-local address heard of is usable, by (ifindex, address).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkLocals(BTreeMap<(u32, Ipv6Addr), bool>);

impl LinkLocals {
    /// Records what a preparation saw, keeping what was heard since (events are newer than a
    /// dump: the driver subscribes before preparing).
    pub fn learn(&mut self, facts: &[LinkFact]) {
        for f in facts {
            for ll in &f.link_locals {
                self.0.entry((f.ifindex, ll.addr)).or_insert(ll.usable);
            }
        }
    }

    /// Records an event; returns the previous value (`None`: not heard of before).
    fn set(&mut self, ifindex: u32, addr: Ipv6Addr, usable: bool) -> Option<bool> {
        self.0.insert((ifindex, addr), usable)
    }

    /// Whether `plan` may send from its source now. An address never heard of counts as
    /// usable: a configured global source, or one vigil itself adds (a VMAC's).
    pub fn source_usable(&self, plan: &InstancePlan) -> bool {
        match plan.tx.src {
            IpAddr::V6(a) => self
                .0
                .get(&(plan.socket.ifindex, a))
                .copied()
                .unwrap_or(true),
            IpAddr::V4(_) => true,
        }
    }
}

/// IPv6 link-local (fe80::/10).
fn link_local(addr: IpAddr) -> Option<Ipv6Addr> {
    match addr {
        IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80 => Some(a),
        _ => None,
    }
}

impl<E: Effects> Core<E> {
    /// Whether an instance can run: its link is up and its source address usable.
    pub(super) fn usable(&self, plan: &InstancePlan) -> bool {
        (plan.dont_track_primary || (self.link_up(plan.ifindex) && self.vmac_up(plan)))
            && self.link_locals.source_usable(plan)
            && self.sources.present(plan)
    }

    /// Tells a started instance whether it can run now (its link, its source addresses): into
    /// Fault while it cannot (the wait logged), out of Fault when it can.
    pub(super) fn follow_usability(&mut self, now: Time, id: InstanceId, plan: &InstancePlan) {
        let input = if self.usable(plan) {
            Input::LinkUp
        } else {
            self.log_waiting(plan);
            Input::LinkDown
        };
        let actions = self.node.handle(now, id, input);
        self.apply(actions);
    }

    /// Logs, once per wait, that an instance holds in Fault for its link-local address.
    pub(super) fn log_waiting(&self, plan: &InstancePlan) {
        if self.link_up(plan.ifindex) && !self.link_locals.source_usable(plan) {
            tracing::warn!(
                instance = %plan.name(),
                source = %plan.tx.src,
                "waiting for a usable IPv6 link-local address on {}",
                plan.socket_ifname
            );
        }
    }

    /// RTM_NEWADDR (`usable`: without IFA_F_TENTATIVE) or RTM_DELADDR (`usable` false) for a
    /// link-local address: the instances sending from it leave Fault when it becomes usable
    /// (and their link is up), and enter it when it stops being usable.
    pub(super) fn on_link_local(&mut self, now: Time, ifindex: u32, addr: IpAddr, usable: bool) {
        let Some(ll) = link_local(addr) else {
            return;
        };
        let before = self.link_locals.set(ifindex, ll, usable);
        if before.unwrap_or(true) == usable {
            return;
        }
        let affected: Vec<InstanceId> = self
            .node
            .iter()
            .filter(|(_, _, s)| {
                s.phase == super::slot::Phase::Started
                    && s.plan.socket.ifindex == ifindex
                    && s.plan.tx.src == addr
            })
            .map(|(id, _, _)| id)
            .collect();
        for id in affected {
            let Some(plan) = self.node.data(id).map(|s| s.plan.clone()) else {
                continue;
            };
            if self.usable(&plan) {
                tracing::info!(
                    instance = %plan.name(),
                    source = %addr,
                    "IPv6 link-local address on {} is usable: starting",
                    plan.socket_ifname
                );
                self.effects.source_ready(&plan);
            }
            self.follow_usability(now, id, &plan);
        }
    }
}
