//! Everything one router runs: its instances and their sync groups.

use std::collections::BTreeSet;

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

/// Not serialisable on purpose: its timer index is derived state. Record the `Input`s
/// instead (they are) and replay them into a fresh node.
#[derive(Debug, Clone, Default)]
pub struct Node {
    instances: Vec<Instance>,
    groups: Vec<SyncGroup>,
    /// For each instance, the index of its sync group.
    group_of: Vec<Option<usize>>,
    /// Every instance's next deadline, ordered: the earliest is found in O(log n) and a tick
    /// visits only the instances that are due, so a router with thousands of instances does
    /// no per-instance work on a packet or a wake-up that concerns one of them.
    timers: BTreeSet<(Time, usize)>,
    /// The deadline each instance is filed under in `timers`.
    filed: Vec<Option<Time>>,
}

impl Node {
    pub fn new() -> Node {
        Node::default()
    }

    pub fn add_instance(&mut self, config: InstanceConfig) -> InstanceId {
        self.push(Instance::new(config))
    }

    fn push(&mut self, instance: Instance) -> InstanceId {
        self.instances.push(instance);
        self.group_of.push(None);
        self.filed.push(None);
        let id = InstanceId(self.instances.len() - 1);
        self.refile(id.0);
        id
    }

    /// Files instance `i` under its current deadline.
    fn refile(&mut self, i: usize) {
        let now = self.instances.get(i).and_then(Instance::next_deadline);
        let Some(slot) = self.filed.get_mut(i) else {
            return;
        };
        if *slot == now {
            return;
        }
        if let Some(old) = slot.take() {
            self.timers.remove(&(old, i));
        }
        if let Some(at) = now {
            self.timers.insert((at, i));
        }
        *slot = now;
    }

    /// Refiles `id` and, when it belongs to a sync group, every member (settling may have
    /// moved them all).
    fn refile_after(&mut self, id: InstanceId) {
        match self.group_of.get(id.0).copied().flatten() {
            Some(g) => {
                let members = self
                    .groups
                    .get(g)
                    .map(|g| g.members.clone())
                    .unwrap_or_default();
                for m in members {
                    self.refile(m.0);
                }
            }
            None => self.refile(id.0),
        }
    }

    /// Adds an instance carried over from another node (a configuration reload), keeping its
    /// state and timers. Its sync-group membership is cleared: the new node's groups are
    /// declared afresh with `add_sync_group`.
    pub fn add_existing(&mut self, mut instance: Instance) -> InstanceId {
        instance.set_grouped(false);
        self.push(instance)
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
        self.refile_after(id);
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

    /// Delivers `TimerTick` to every instance whose deadline has passed, each at most once
    /// per call, visiting only those (the timer index knows which).
    pub fn tick(&mut self, now: Time) -> Vec<(InstanceId, Action)> {
        let due: Vec<usize> = self
            .timers
            .range(..=(now, usize::MAX))
            .map(|&(_, i)| i)
            .collect();
        let mut out = Vec::new();
        for i in due {
            // A sync-group neighbour handled earlier in this pass may have moved it.
            if self
                .filed
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|at| at <= now)
            {
                out.extend(self.handle(now, InstanceId(i), Input::TimerTick));
            }
        }
        out
    }

    /// The earliest deadline of any instance, in O(log n).
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.first().map(|&(at, _)| at)
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
