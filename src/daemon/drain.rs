//! Operator drain (`vigil drain NAME|--all`, `vigil undrain`), which no other VRRP daemon
//! has: a drained Master hands over at once with a priority-0 advert (RFC 5798 §6.4.3's
//! Shutdown step, so the Backup takes over after its Skew_Time) and every drained instance
//! stays Backup until undrained, while the daemon and its other instances run on. The rule
//! itself is the state machine's (`fsm::Input::Drain`); the core picks the instances.
//!
//! Decisions:
//! - **Sync groups move together** (keepalived `vrrp_sync_group`), so draining a member
//!   drains its whole group, and a group's name is accepted as a target. Fed to every member
//!   before the group settles (`Node::handle_each`), each Master member sends its own
//!   priority-0 advert instead of being demoted silently by the first.
//! - **An unknown name changes nothing**: the whole command is refused (the driver answers
//!   with the error before the input is recorded).
//! - **Drained survives a reload** for every instance whose name remains, carried or
//!   restarted, and spreads to the rest of a sync group the new configuration forms around a
//!   drained member (`restore_drained`). An instance that is gone is forgotten.

use std::collections::BTreeSet;

use super::core::{Core, Effects};
use crate::fsm::{Input, InstanceId, Time};

/// Why a drain or undrain was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrainError {
    #[error("no instance or sync group named {0:?}")]
    Unknown(String),
}

/// The control socket's answer to an accepted drain or undrain.
pub fn answer(drained: bool, names: &[String]) -> String {
    let verb = if drained { "drained" } else { "undrained" };
    if names.is_empty() {
        format!("{verb}: no instances\n")
    } else {
        format!("{verb}: {}\n", names.join(", "))
    }
}

impl<E: Effects> Core<E> {
    /// The instances `name` designates (`None`: all of them), each with the rest of its sync
    /// group, in id order.
    pub fn drain_targets(&self, name: Option<&str>) -> Result<Vec<InstanceId>, DrainError> {
        let Some(name) = name else {
            return Ok(self.node.iter().map(|(id, _, _)| id).collect());
        };
        let mut ids = BTreeSet::new();
        for (id, _, slot) in self.node.iter() {
            if slot.plan.name() == name {
                ids.insert(id);
            }
        }
        let groups: Vec<usize> = ids
            .iter()
            .filter_map(|&id| self.node.group_of(id))
            .chain(self.node.sync_groups().iter().position(|g| g.name == name))
            .collect();
        for g in groups {
            if let Some(group) = self.node.sync_groups().get(g) {
                ids.extend(group.members.iter().copied());
            }
        }
        if ids.is_empty() {
            return Err(DrainError::Unknown(name.to_owned()));
        }
        Ok(ids.into_iter().collect())
    }

    /// The names of [`Core::drain_targets`], for the operator's answer.
    pub fn drain_names(&self, name: Option<&str>) -> Result<Vec<String>, DrainError> {
        Ok(self
            .drain_targets(name)?
            .into_iter()
            .filter_map(|id| self.node.data(id).map(|s| s.plan.name().to_owned()))
            .collect())
    }

    pub(super) fn on_drain(&mut self, now: Time, name: Option<&str>, drained: bool) {
        // Refused by the driver before it got here; a recording replayed against another
        // configuration may still name an instance that is not there.
        let Ok(ids) = self.drain_targets(name) else {
            return;
        };
        let input = if drained {
            Input::Drain
        } else {
            Input::Undrain
        };
        for &id in &ids {
            if let Some(slot) = self.node.data(id) {
                tracing::info!(instance = %slot.plan.name(), drained, "operator {}", if drained { "drain" } else { "undrain" });
            }
        }
        let actions = self.node.handle_each(now, &ids, input);
        self.apply(actions);
    }

    /// The names of the drained instances (before a reload replaces the node).
    pub(super) fn drained_names(&self) -> BTreeSet<String> {
        self.node
            .iter()
            .filter(|(_, inst, _)| inst.drained())
            .map(|(_, _, s)| s.plan.name().to_owned())
            .collect()
    }

    /// After a reload: every instance that was drained under its name is drained again (a
    /// carried one still is; a restarted one is new), with the rest of its sync group.
    pub(super) fn restore_drained(&mut self, now: Time, before: &BTreeSet<String>) {
        if before.is_empty() {
            return;
        }
        let mut ids = BTreeSet::new();
        for (id, _, slot) in self.node.iter() {
            if before.contains(slot.plan.name()) {
                ids.insert(id);
                if let Some(g) = self.node.group_of(id)
                    && let Some(group) = self.node.sync_groups().get(g)
                {
                    ids.extend(group.members.iter().copied());
                }
            }
        }
        let ids: Vec<InstanceId> = ids.into_iter().collect();
        let actions = self.node.handle_each(now, &ids, Input::Drain);
        self.apply(actions);
    }
}
