//! Sync-group notifications: keepalived runs a `vrrp_sync_group`'s `notify_master` /
//! `notify_backup` / `notify_fault` / `notify_stop` and its generic `notify` (with
//! `GROUP NAME STATE 0`), and writes `GROUP "NAME" STATE 0` to the notify FIFO, when the group
//! as a whole changes state (keepalived/vrrp/vrrp_sync.c, vrrp_sync_master / _backup / _fault,
//! then send_group_notifies), and every group announces STOP at shutdown after its members
//! (vrrp_notify.c, notify_shutdown).
//!
//! The group's state is derived from its members once a batch of actions has settled (the
//! fsm's sync group moves members together within one batch): any member in FAULT is a
//! FAULT group, every member MASTER is a MASTER group, every member BACKUP a BACKUP group;
//! anything else (members not started yet) announces nothing. Only a change is announced, so
//! the group's lines come after its members' lines for the same change, as in keepalived,
//! and a reload that keeps a group in its state announces nothing (keepalived's
//! `state_same_at_reload`).
//!
//! Two differences from keepalived, both on purpose: at start-up keepalived announces a
//! group's initial BACKUP/FAULT before its members' (vrrp_init_state) and never announces the
//! MASTER of a group whose members are all address owners (the group starts "MASTER" with
//! no notify); vigil announces each group state once its members are all in it, so a
//! script always learns the state the group really reached, in order.

use super::core::{Core, Effects};
use super::input::GroupPlan;
use crate::fsm::{InstanceId, State};
use crate::notify::NotifyState;

/// A sync group as the core keeps it, at the index the fsm's node gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSlot {
    pub plan: GroupPlan,
    /// The state last announced to the group's scripts and the FIFO.
    pub announced: Option<NotifyState>,
}

/// The state a group is in, given its members' states (see the module doc).
pub fn group_state(members: impl IntoIterator<Item = State>) -> Option<NotifyState> {
    let (mut master, mut backup, mut other, mut fault) = (0usize, 0usize, 0usize, false);
    for s in members {
        match s {
            State::Fault => fault = true,
            State::Master => master += 1,
            State::Backup => backup += 1,
            State::Initialize => other += 1,
        }
    }
    // keepalived: one member down is a FAULT group (vrrp_sync_fault).
    if fault {
        return Some(NotifyState::Fault);
    }
    match (master, backup, other) {
        (m, 0, 0) if m > 0 => Some(NotifyState::Master),
        (0, b, 0) if b > 0 => Some(NotifyState::Backup),
        _ => None,
    }
}

impl<E: Effects> Core<E> {
    /// After a batch of actions: announces each touched group whose state changed.
    pub(super) fn announce_groups(&mut self, touched: &[usize]) {
        for &g in touched {
            let Some(group) = self.node.sync_groups().get(g) else {
                continue;
            };
            let state = group_state(
                group
                    .members
                    .iter()
                    .filter_map(|&m| self.node.instance(m))
                    .map(|i| i.state()),
            );
            let Some(slot) = self.groups.get_mut(g) else {
                continue;
            };
            if let Some(state) = state
                && slot.announced != Some(state)
            {
                slot.announced = Some(state);
                self.effects.notify_group(&slot.plan, state);
            }
        }
    }

    /// The group `id` belongs to, for `announce_groups`.
    pub(super) fn group_index(&self, id: InstanceId) -> Option<usize> {
        self.node.group_of(id)
    }

    /// Every group announces STOP (at shutdown, after its members, as keepalived's
    /// notify_shutdown; at a reload, the groups the new configuration no longer has).
    pub(super) fn stop_groups(&mut self, which: impl Fn(&GroupPlan) -> bool) {
        for slot in self.groups.iter_mut().filter(|s| which(&s.plan)) {
            slot.announced = Some(NotifyState::Stop);
            self.effects.notify_group(&slot.plan, NotifyState::Stop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::{Backup, Fault, Initialize, Master};

    #[test]
    fn a_group_state_is_its_members_common_state_and_fault_wins() {
        assert_eq!(group_state([Master, Master]), Some(NotifyState::Master));
        assert_eq!(group_state([Backup, Backup]), Some(NotifyState::Backup));
        assert_eq!(group_state([Backup, Fault]), Some(NotifyState::Fault));
        assert_eq!(group_state([Master, Backup]), None);
        assert_eq!(group_state([Backup, Initialize]), None);
        assert_eq!(group_state([Initialize, Fault]), Some(NotifyState::Fault));
        assert_eq!(group_state([]), None);
    }
}
