//! Applying a prepared configuration: the pure half of a reload (the async half, which reads
//! the file and the kernel and opens what the new set needs, is `prepare.rs`). The first start
//! is the reload of an empty core.
//!
//! Each new instance is matched by name with a running one. It is carried over (state, timers,
//! counters, transmit state, installed addresses) when it is the same virtual router on the
//! same socket ([`InstancePlan::same_router`]) in the same sync group; it then takes its new
//! plan in place, and a Master installs or removes only the addresses that changed, computed
//! here once. Any other running instance hands over (priority 0, addresses removed) and is
//! announced as keepalived announces a deleted instance (FAULT, or DELETED with
//! `notify_deleted`; see `core::deleted_note`), and any other new one starts, as at start-up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::core::{Core, Effects};
use super::group_notify::GroupSlot;
use super::input::Prepared;
use super::plan::{InstancePlan, Routing};
use super::receive::{RxRoute, RxTable, SocketRoutes};
use super::slot::{Phase, Slot};
use crate::fsm::{Input, Instance, InstanceId, Node, State, Time};
use crate::net::AddressSpec;
use crate::types::Version;

/// What a reload did, for the log and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReloadSummary {
    pub kept: usize,
    pub started: usize,
    pub stopped: usize,
}

impl<E: Effects> Core<E> {
    pub(super) fn reload(&mut self, now: Time, prepared: Prepared) -> ReloadSummary {
        let Prepared {
            instances,
            sync_groups,
            links,
            initially_down,
            present_vips,
            startup_delay,
            router_id,
            absent_sources,
        } = prepared;
        self.router_id = router_id;
        self.replan_pending = false;
        self.learn_links(&links);
        self.learn_sources(
            instances
                .iter()
                .filter(|p| p.track_src)
                .map(|p| p.tx.src)
                .collect(),
            &absent_sources,
        );
        self.set_startup_delay(now, startup_delay);

        // The usual SIGHUP: the file did not change (or not for any instance). Nothing is
        // rebuilt: the instances, their receive routes and their generation stay as they
        // are, so that thousands of instances cost one comparison each on the loop, not a
        // new node, timer index and receive table (tens of milliseconds at 10,000, long
        // enough to delay adverts).
        if self.runs_unchanged(&instances, &sync_groups) {
            self.discarded.extend(instances);
            self.trackers.rewire(
                self.node.iter().map(|(id, _, s)| (id.0, &s.plan.tracking)),
                &initially_down,
            );
            self.report_tracked_interfaces();
            for i in 0..self.node.len() {
                self.refresh_verdict(now, InstanceId(i));
            }
            tracing::info!(
                instances = self.node.len(),
                kept = self.node.len(),
                started = 0,
                stopped = 0,
                "configuration applied (unchanged)"
            );
            return ReloadSummary {
                kept: self.node.len(),
                started: 0,
                stopped: 0,
            };
        }

        // Member name -> sync group name, before and after (maps: no scan per instance).
        let old_group: BTreeMap<String, String> = self
            .node
            .sync_groups()
            .iter()
            .flat_map(|g| {
                g.members.iter().filter_map(|&m| {
                    let name = self.node.data(m)?.plan.name().to_owned();
                    Some((name, g.name.clone()))
                })
            })
            .collect();
        let new_group: BTreeMap<&str, &str> = sync_groups
            .iter()
            .flat_map(|g| g.members.iter().map(|m| (m.as_str(), g.name.as_str())))
            .collect();

        // Which running instance each new one continues, if any.
        let by_name: BTreeMap<&str, InstanceId> = self
            .node
            .iter()
            .map(|(id, _, s)| (s.plan.name(), id))
            .collect();
        let carried_from: Vec<Option<InstanceId>> = instances
            .iter()
            .map(|p| {
                let &old = by_name.get(p.name())?;
                let o = self.node.data(old)?;
                let same_group =
                    old_group.get(p.name()).map(String::as_str) == new_group.get(p.name()).copied();
                // An instance in Fault for want of its interface follows it (`resync.rs`).
                let faulted = self.node.instance(old).map(Instance::state) == Some(State::Fault);
                let same = o.plan.same_router(p) || (faulted && o.plan.moved_to(p));
                (same && same_group).then_some(old)
            })
            .collect();
        let kept: BTreeSet<InstanceId> = carried_from.iter().flatten().copied().collect();

        // Drained instances stay drained under their names (`drain.rs`).
        let drained = self.drained_names();

        // Instances that leave (removed, or a different router now) hand over first.
        let leaving: Vec<InstanceId> = (0..self.node.len())
            .map(InstanceId)
            .filter(|id| !kept.contains(id))
            .collect();
        for &id in &leaving {
            if let Some(slot) = self.node.data(id) {
                tracing::info!(instance = %slot.plan.name(), "reload: stopping instance");
            }
            let actions = self.node.handle(now, id, Input::Shutdown);
            self.deleting = true;
            self.apply(actions);
            self.deleting = false;
        }

        // Groups the new configuration no longer has announce STOP, after their members.
        let new_names: BTreeSet<&str> = sync_groups.iter().map(|g| g.name.as_str()).collect();
        self.stop_groups(|g| !new_names.contains(g.name.as_str()));
        drop(new_names);
        // A group that stays keeps its announced state: it is announced again only when it
        // changes (keepalived's state_same_at_reload).
        let announced: BTreeMap<String, Option<crate::notify::NotifyState>> =
            std::mem::take(&mut self.groups)
                .into_iter()
                .map(|g| (g.plan.name, g.announced))
                .collect();

        let mut old: Vec<Option<(Instance, Slot)>> = std::mem::take(&mut self.node)
            .into_members()
            .into_iter()
            .map(Some)
            .collect();
        let mut node: Node<Slot> = Node::with_capacity(instances.len());
        let mut reconfigured = Vec::new();
        let mut deltas: Vec<(InstanceId, Vec<AddressSpec>, Vec<AddressSpec>)> = Vec::new();
        // Carried Masters whose Accept_Mode changed (`accept`, or the owner's priority): the
        // new value, applied after the address deltas.
        let mut accept_changes: Vec<(InstanceId, bool)> = Vec::new();
        // A carried Master's changed routes and rules: (added, removed).
        let mut routing_deltas: Vec<(InstanceId, Option<Routing>, Option<Routing>)> = Vec::new();
        let mut started = Vec::new();
        // Carried instances whose interface is another one now: told its state below.
        let mut moved = Vec::new();
        // Every plan as prepared is handed back to the driver to be freed beside the loop
        // (`take_discarded`): it was allocated on a blocking thread beside the parsed model.
        // A running instance whose plan did not change keeps the one it has (a SIGHUP with an
        // unchanged file changes nothing and copies nothing); the others run on a copy made
        // here, on the loop's thread (`InstancePlan::compacted`).
        let mut discarded = Vec::with_capacity(instances.len());
        for (prepared, from) in instances.into_iter().zip(&carried_from) {
            let carried = from.and_then(|o| old.get_mut(o.0)?.take());
            let plan = match &carried {
                Some((_, slot)) if *slot.plan == prepared => slot.plan.clone(),
                _ => Arc::new(prepared.compacted()),
            };
            discarded.push(prepared);
            match carried {
                // Same plan: same state machine configuration, addresses, routes and
                // interface; reconfiguring would change nothing.
                Some((inst, slot)) if Arc::ptr_eq(&slot.plan, &plan) => {
                    node.push(inst, slot);
                }
                Some((mut inst, mut slot)) => {
                    let is_moved = slot.plan.moved_to(&plan);
                    let before = inst.effective_priority();
                    let actions = inst.reconfigure(now, plan.fsm.clone());
                    if inst.effective_priority() != before {
                        let line = super::cause::priority_change(
                            &plan.tracking,
                            before,
                            inst.effective_priority(),
                            Some(&super::cause::Trigger::Reload),
                        );
                        tracing::info!(instance = %plan.name(), "{line}");
                    }
                    let is_master = inst.state() == State::Master;
                    let (install, remove) = vip_delta(&slot.plan, &plan);
                    let refuse = plan.fsm.refuses_vip_traffic();
                    let refuse_changed = refuse != slot.plan.fsm.refuses_vip_traffic();
                    let (old_r, new_r) = (slot.plan.routing.as_deref(), plan.routing.as_deref());
                    let routing = (Routing::minus(new_r, old_r), Routing::minus(old_r, new_r));
                    slot.plan = plan;
                    let id = node.push(inst, slot);
                    if is_moved {
                        moved.push(id);
                    }
                    reconfigured.extend(actions.into_iter().map(|a| (id, a)));
                    if is_master && !(install.is_empty() && remove.is_empty()) {
                        deltas.push((id, install, remove));
                    }
                    if is_master && refuse_changed {
                        accept_changes.push((id, refuse));
                    }
                    // An unchanged instance's routes are not touched; a changed set moves
                    // only its delta.
                    if is_master && (routing.0.is_some() || routing.1.is_some()) {
                        routing_deltas.push((id, routing.0, routing.1));
                    }
                }
                None => {
                    let inst = Instance::new(plan.fsm.clone());
                    started.push(node.push(inst, Slot::new(plan)));
                }
            }
        }
        self.discarded.append(&mut discarded);
        let id_of: BTreeMap<&str, InstanceId> =
            node.iter().map(|(id, _, s)| (s.plan.name(), id)).collect();
        let groups: Vec<Vec<InstanceId>> = sync_groups
            .iter()
            .map(|g| {
                g.members
                    .iter()
                    .filter_map(|m| id_of.get(m.as_str()).copied())
                    .collect()
            })
            .collect();
        drop(id_of);
        for (plan, ids) in sync_groups.into_iter().zip(groups) {
            // Validation refused unknown members and double membership before planning.
            match node.add_sync_group(&plan.name, &ids) {
                Ok(()) => self.groups.push(GroupSlot {
                    announced: announced.get(&plan.name).copied().flatten(),
                    plan,
                }),
                Err(e) => tracing::error!(error = %e, "reload: sync group not applied"),
            }
        }
        self.node = node;
        self.generation += 1;
        self.trackers.rewire(
            self.node.iter().map(|(id, _, s)| (id.0, &s.plan.tracking)),
            &initially_down,
        );
        self.report_tracked_interfaces();
        let table = self.rx_table();
        self.effects.bind(&table);
        // Before any of them starts: what a previous run left goes first (`residual.rs`).
        self.remove_residual(&started, &present_vips);

        self.apply(reconfigured);
        // Routes and rules leave before the addresses they may depend on, and come after.
        let plan_of = |core: &Self, id: InstanceId| core.node.data(id).map(|s| s.plan.clone());
        for (id, _, removed) in &routing_deltas {
            if let (Some(plan), Some(r)) = (plan_of(self, *id), removed) {
                self.effects.routing(&plan, false, Some(r));
            }
        }
        for (id, install, remove) in deltas {
            let Some(plan) = plan_of(self, id) else {
                continue;
            };
            if !remove.is_empty() {
                self.effects.remove(&plan, Some(&remove));
            }
            if !install.is_empty() {
                self.effects.install(&plan, Some(&install));
                self.effects.announce(&plan, 1);
            }
        }
        for (id, refuse) in accept_changes {
            if let Some(plan) = plan_of(self, id) {
                self.effects.accept_mode(&plan, refuse);
            }
        }
        for (id, added, _) in &routing_deltas {
            if let (Some(plan), Some(r)) = (plan_of(self, *id), added) {
                self.effects.routing(&plan, true, Some(r));
            }
        }
        self.restore_drained(now, &drained);
        // Running instances get their (possibly changed) verdict; new ones, and those still
        // waiting for a checker, start once their verdict is known.
        for i in 0..self.node.len() {
            self.refresh_verdict(now, InstanceId(i));
        }
        // A moved instance's link is the new interface's (down until it is usable).
        for id in moved {
            let Some(plan) = self.node.data(id).map(|s| s.plan.clone()) else {
                continue;
            };
            tracing::info!(instance = %plan.name(), interface = %plan.interface, ifindex = plan.ifindex, "instance moved to its interface's new index");
            self.follow_usability(now, id, &plan);
        }
        let summary = ReloadSummary {
            kept: kept.len(),
            started: started.len(),
            stopped: leaving.len(),
        };
        let waiting = self
            .node
            .iter()
            .filter(|(_, _, s)| s.phase == Phase::AwaitingCheckers)
            .count();
        tracing::info!(
            instances = self.node.len(),
            kept = summary.kept,
            started = summary.started,
            stopped = summary.stopped,
            waiting_for_checkers = waiting,
            "configuration applied"
        );
        summary
    }

    /// Whether `instances` and `groups` are what runs, plan for plan in the same order: a
    /// reload that then has nothing to stop, start, move or reconfigure.
    fn runs_unchanged(
        &self,
        instances: &[InstancePlan],
        groups: &[super::input::GroupPlan],
    ) -> bool {
        self.node.len() == instances.len()
            && self.groups.len() == groups.len()
            && self.groups.iter().zip(groups).all(|(g, p)| g.plan == *p)
            && self
                .node
                .iter()
                .zip(instances)
                .all(|((_, _, slot), p)| *slot.plan == *p)
    }

    /// The receive tables for the current instances.
    fn rx_table(&self) -> RxTable {
        let mut sockets: BTreeMap<_, SocketRoutes> = BTreeMap::new();
        let mut vmacs = BTreeSet::new();
        for (id, _, slot) in self.node.iter() {
            let plan = &slot.plan;
            // A placeholder waiting for its interface has no socket (`prepare`).
            if plan.awaits_interface {
                continue;
            }
            let routes = sockets.entry(plan.socket).or_insert_with(|| SocketRoutes {
                generation: self.generation,
                routes: Vec::new(),
            });
            routes.routes.push(RxRoute {
                vrid: plan.fsm.vrid.get(),
                id,
                ctx: plan.rx.clone(),
                own: plan.tx.src,
                v2_interval: (plan.fsm.version == Version::V2).then_some(plan.fsm.advert_int),
                peers: plan.rx_checks.peers.clone(),
                vips: plan.tx.repr.addresses.as_slice().into(),
            });
            if let Some(v) = &plan.vmac {
                vmacs.insert(v.name.clone());
            }
        }
        RxTable {
            generation: self.generation,
            sockets: sockets
                .into_iter()
                .map(|(key, mut r)| {
                    r.routes.sort_by_key(|r| r.vrid);
                    (key, Arc::new(r))
                })
                .collect(),
            vmacs,
        }
    }
}

/// The addresses a carried Master must add and remove when its plan changes.
fn vip_delta(old: &InstancePlan, new: &InstancePlan) -> (Vec<AddressSpec>, Vec<AddressSpec>) {
    let install = new
        .vips
        .iter()
        .filter(|v| !old.vips.contains(v))
        .cloned()
        .collect();
    let remove = old
        .vips
        .iter()
        .filter(|v| !new.vips.contains(v))
        .cloned()
        .collect();
    (install, remove)
}
