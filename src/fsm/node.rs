//! Everything one router runs: its instances and their sync groups.

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::config::InstanceConfig;
use super::group::SyncGroup;
use super::input::Input;
use super::instance::Instance;
use super::time::Time;

/// An instance's index in its [`Node`], stable for the node's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InstanceId(pub usize);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    #[error("sync group {group:?}: no instance with id {instance}")]
    UnknownInstance { group: String, instance: usize },
    #[error("sync group {group:?}: instance {instance:?} already belongs to sync group {other:?}")]
    AlreadyGrouped {
        group: String,
        instance: String,
        other: String,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Node {
    instances: Vec<Instance>,
    groups: Vec<SyncGroup>,
    /// For each instance, the index of its sync group.
    group_of: Vec<Option<usize>>,
}

impl Node {
    pub fn new() -> Node {
        Node::default()
    }

    pub fn add_instance(&mut self, config: InstanceConfig) -> InstanceId {
        self.instances.push(Instance::new(config));
        self.group_of.push(None);
        InstanceId(self.instances.len() - 1)
    }

    /// Adds an instance carried over from another node (a configuration reload), keeping its
    /// state and timers. Its sync-group membership is cleared: the new node's groups are
    /// declared afresh with `add_sync_group`.
    pub fn add_existing(&mut self, mut instance: Instance) -> InstanceId {
        instance.set_grouped(false);
        self.instances.push(instance);
        self.group_of.push(None);
        InstanceId(self.instances.len() - 1)
    }

    /// Takes the node apart, handing back its instances in id order.
    pub fn into_instances(self) -> Vec<Instance> {
        self.instances
    }

    /// Declares a sync group. Call before `Startup`: membership changes the startup path.
    pub fn add_sync_group(&mut self, name: &str, members: &[InstanceId]) -> Result<(), NodeError> {
        for &member in members {
            let Some(slot) = self.group_of.get(member.0) else {
                return Err(NodeError::UnknownInstance {
                    group: name.to_owned(),
                    instance: member.0,
                });
            };
            if let Some(other) = slot.and_then(|g| self.groups.get(g)) {
                return Err(NodeError::AlreadyGrouped {
                    group: name.to_owned(),
                    instance: self.instance_name(member),
                    other: other.name.clone(),
                });
            }
        }
        let index = self.groups.len();
        for &member in members {
            if let Some(slot) = self.group_of.get_mut(member.0) {
                *slot = Some(index);
            }
            if let Some(inst) = self.instances.get_mut(member.0) {
                inst.set_grouped(true);
            }
        }
        self.groups.push(SyncGroup {
            name: name.to_owned(),
            members: members.to_vec(),
        });
        Ok(())
    }

    fn instance_name(&self, id: InstanceId) -> String {
        self.instances
            .get(id.0)
            .map(|i| i.config().name.clone())
            .unwrap_or_default()
    }

    pub fn instance(&self, id: InstanceId) -> Option<&Instance> {
        self.instances.get(id.0)
    }

    pub fn instances(&self) -> impl Iterator<Item = (InstanceId, &Instance)> {
        self.instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (InstanceId(i), inst))
    }

    pub fn sync_groups(&self) -> &[SyncGroup] {
        &self.groups
    }

    pub fn len(&self) -> usize {
        self.instances.len()
    }

    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// Feeds one input to one instance, then lets its sync group react. An unknown id yields
    /// no actions.
    pub fn handle(&mut self, now: Time, id: InstanceId, input: Input) -> Vec<(InstanceId, Action)> {
        let mut out = Vec::new();
        let Some(inst) = self.instances.get_mut(id.0) else {
            return out;
        };
        out.extend(inst.handle(now, input).into_iter().map(|a| (id, a)));
        if let Some(g) = self.group_of.get(id.0).copied().flatten() {
            self.settle(now, g, &mut out, 0);
        }
        out
    }

    /// Feeds the same input to every instance in order (e.g. `Startup`, `Shutdown`).
    pub fn handle_all(&mut self, now: Time, input: Input) -> Vec<(InstanceId, Action)> {
        let mut out = Vec::new();
        for i in 0..self.instances.len() {
            out.extend(self.handle(now, InstanceId(i), input));
        }
        out
    }

    /// Delivers `TimerTick` to every instance whose deadline has passed.
    pub fn tick(&mut self, now: Time) -> Vec<(InstanceId, Action)> {
        let mut out = Vec::new();
        for i in 0..self.instances.len() {
            let due = self
                .instances
                .get(i)
                .and_then(Instance::next_deadline)
                .is_some_and(|d| d <= now);
            if due {
                out.extend(self.handle(now, InstanceId(i), Input::TimerTick));
            }
        }
        out
    }

    /// The earliest deadline of any instance. O(instances): cheap next to a syscall for the
    /// few thousand instances a router runs.
    pub fn next_deadline(&self) -> Option<Time> {
        self.instances
            .iter()
            .filter_map(Instance::next_deadline)
            .min()
    }

    fn settle(
        &mut self,
        now: Time,
        group: usize,
        out: &mut Vec<(InstanceId, Action)>,
        scan_from: usize,
    ) {
        if let Some(g) = self.groups.get(group) {
            g.settle(now, &mut self.instances, out, scan_from);
        }
    }
}
