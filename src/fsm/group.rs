//! Sync groups (keepalived `vrrp_sync_group`): members move together.
//!
//! keepalived semantics, as implemented by [`SyncGroup::settle`]:
//! - when a member is faulted (its link or a weight-0 tracker), every member is in Fault; the
//!   group leaves Fault when no member is faulted any more;
//! - when a member steps down from Master to Backup, every Master member follows;
//! - a member whose Master_Down_Timer fires does not become Master alone: it waits, timer
//!   re-armed, until every member is ready (`vrrp_sync_can_goto_master`), or until the group
//!   already has a Master member; then the ready members become Master together.

use serde::{Deserialize, Serialize};

use super::action::{Action, State};
use super::instance::Instance;
use super::node::InstanceId;
use super::time::Time;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroup {
    pub name: String,
    pub members: Vec<InstanceId>,
}

/// Enough rounds for every member to react to every other member (each round either changes
/// nothing, which ends the loop, or moves at least one member to a state it keeps).
const MAX_ROUNDS_PER_MEMBER: usize = 4;

impl SyncGroup {
    /// Brings the members into line after some of them acted; `out[scan_from..]` holds the
    /// actions not yet looked at. New actions are appended to `out`.
    pub(crate) fn settle(
        &self,
        now: Time,
        instances: &mut (impl Members + ?Sized),
        out: &mut Vec<(InstanceId, Action)>,
        mut scan_from: usize,
    ) {
        let rounds = self
            .members
            .len()
            .saturating_mul(MAX_ROUNDS_PER_MEMBER)
            .max(1);
        for _ in 0..rounds {
            // The member that stepped down, named in the others' transitions.
            let stepped_down = out
                .get(scan_from..)
                .unwrap_or_default()
                .iter()
                .find(|(id, action)| {
                    self.members.contains(id)
                        && matches!(
                            action,
                            Action::Transition {
                                from: State::Master,
                                to: State::Backup,
                                ..
                            }
                        )
                })
                .map(|(id, _)| *id);
            scan_from = out.len();
            let mut fresh: Vec<(InstanceId, Action)> = Vec::new();

            // Fault spreads to every member, and lifts only when no member is faulted.
            for &member in &self.members {
                let faulted_other = self.members.iter().copied().find(|&other| {
                    other != member && get(instances, other).is_some_and(Instance::own_fault)
                });
                if let Some(inst) = get_mut(instances, member) {
                    tag(&mut fresh, member, inst.set_group_fault(now, faulted_other));
                }
            }

            // One member stepped down: the others follow.
            if let Some(by) = stepped_down {
                for &member in &self.members {
                    if let Some(inst) = get_mut(instances, member) {
                        tag(&mut fresh, member, inst.demote(now, Some(by)));
                    }
                }
            }

            // Become Master only together.
            let states = || self.members.iter().filter_map(|&m| get(instances, m));
            let any_master = states().any(|i| i.state() == State::Master);
            let any_ready = states().any(Instance::wants_master);
            let all_ready = states().all(Instance::wants_master);
            if any_ready && (all_ready || any_master) {
                for &member in &self.members {
                    if let Some(inst) = get_mut(instances, member) {
                        if inst.wants_master() {
                            tag(&mut fresh, member, inst.promote(now));
                        }
                    }
                }
            }

            if fresh.is_empty() {
                return;
            }
            out.extend(fresh);
        }
    }
}

/// Where a sync group finds its members' state machines (the node's member table).
pub(crate) trait Members {
    fn instance(&self, id: InstanceId) -> Option<&Instance>;
    fn instance_mut(&mut self, id: InstanceId) -> Option<&mut Instance>;
}

fn get(instances: &(impl Members + ?Sized), id: InstanceId) -> Option<&Instance> {
    instances.instance(id)
}

fn get_mut(instances: &mut (impl Members + ?Sized), id: InstanceId) -> Option<&mut Instance> {
    instances.instance_mut(id)
}

fn tag(out: &mut Vec<(InstanceId, Action)>, id: InstanceId, actions: Vec<Action>) {
    out.extend(actions.into_iter().map(|a| (id, a)));
}
