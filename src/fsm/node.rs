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

/// One instance in a [`Node`], with what the node keeps about it and the caller's data.
#[derive(Debug, Clone)]
struct Member<T> {
    instance: Instance,
    /// The index of its sync group.
    group: Option<usize>,
    /// The deadline it is filed under in `Node::timers`.
    filed: Option<Time>,
    data: T,
}

/// Everything one router runs: its instances, each with a payload `T` of the caller's (the
/// daemon keeps its per-instance runtime plan, transmit state and counters there, so one
/// vector indexed by [`InstanceId`] holds all of it), and the sync groups.
///
/// Not serialisable on purpose: its timer index is derived state. Record the `Input`s
/// instead (they are) and replay them into a fresh node.
#[derive(Debug, Clone)]
pub struct Node<T = ()> {
    members: Vec<Member<T>>,
    groups: Vec<SyncGroup>,
    /// Every instance's next deadline, ordered: the earliest is found in O(log n) and a tick
    /// visits only the instances that are due, so a router with thousands of instances does
    /// no per-instance work on a packet or a wake-up that concerns one of them.
    timers: BTreeSet<(Time, usize)>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Self {
            members: Vec::new(),
            groups: Vec::new(),
            timers: BTreeSet::new(),
        }
    }
}

impl Node<()> {
    pub fn new() -> Node {
        Node::default()
    }

    pub fn add_instance(&mut self, config: InstanceConfig) -> InstanceId {
        self.push(Instance::new(config), ())
    }

    /// Adds an instance carried over from another node (a configuration reload), keeping its
    /// state and timers. Its sync-group membership is cleared: the new node's groups are
    /// declared afresh with `add_sync_group`.
    pub fn add_existing(&mut self, instance: Instance) -> InstanceId {
        self.push(instance, ())
    }

    /// Takes the node apart, handing back its instances in id order.
    pub fn into_instances(self) -> Vec<Instance> {
        self.members.into_iter().map(|m| m.instance).collect()
    }
}

impl<T> Node<T> {
    /// An empty node with room for `n` instances.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            members: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    /// Adds an instance with its payload. An instance carried over from another node (a
    /// configuration reload) keeps its state and timers; its sync-group membership is
    /// cleared, as the new node's groups are declared afresh with `add_sync_group`.
    pub fn push(&mut self, mut instance: Instance, data: T) -> InstanceId {
        instance.set_grouped(false);
        self.members.push(Member {
            instance,
            group: None,
            filed: None,
            data,
        });
        let id = InstanceId(self.members.len() - 1);
        self.refile(id.0);
        id
    }

    /// Takes the node apart, handing back its instances and payloads in id order.
    pub fn into_members(self) -> Vec<(Instance, T)> {
        self.members
            .into_iter()
            .map(|m| (m.instance, m.data))
            .collect()
    }

    pub fn data(&self, id: InstanceId) -> Option<&T> {
        self.members.get(id.0).map(|m| &m.data)
    }

    pub fn data_mut(&mut self, id: InstanceId) -> Option<&mut T> {
        self.members.get_mut(id.0).map(|m| &mut m.data)
    }

    /// An instance and its payload.
    pub fn get(&self, id: InstanceId) -> Option<(&Instance, &T)> {
        self.members.get(id.0).map(|m| (&m.instance, &m.data))
    }

    /// Every instance with its payload, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (InstanceId, &Instance, &T)> {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| (InstanceId(i), &m.instance, &m.data))
    }

    /// Files instance `i` under its current deadline.
    fn refile(&mut self, i: usize) {
        let Some(member) = self.members.get_mut(i) else {
            return;
        };
        let now = member.instance.next_deadline();
        if member.filed == now {
            return;
        }
        if let Some(old) = member.filed.take() {
            self.timers.remove(&(old, i));
        }
        if let Some(at) = now {
            self.timers.insert((at, i));
        }
        member.filed = now;
    }

    /// Refiles `id` and, when it belongs to a sync group, every member (settling may have
    /// moved them all).
    fn refile_after(&mut self, id: InstanceId) {
        match self.members.get(id.0).and_then(|m| m.group) {
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

    /// Declares a sync group. Call before `Startup`: membership changes the startup path.
    pub fn add_sync_group(&mut self, name: &str, members: &[InstanceId]) -> Result<(), NodeError> {
        for &member in members {
            let Some(m) = self.members.get(member.0) else {
                return Err(NodeError::UnknownInstance {
                    group: name.to_owned(),
                    instance: member.0,
                });
            };
            if let Some(other) = m.group.and_then(|g| self.groups.get(g)) {
                return Err(NodeError::AlreadyGrouped {
                    group: name.to_owned(),
                    instance: self.instance_name(member),
                    other: other.name.clone(),
                });
            }
        }
        let index = self.groups.len();
        for &member in members {
            if let Some(m) = self.members.get_mut(member.0) {
                m.group = Some(index);
                m.instance.set_grouped(true);
            }
        }
        self.groups.push(SyncGroup {
            name: name.to_owned(),
            members: members.to_vec(),
        });
        Ok(())
    }

    fn instance_name(&self, id: InstanceId) -> String {
        self.members
            .get(id.0)
            .map(|m| m.instance.config().name.clone())
            .unwrap_or_default()
    }

    pub fn instance(&self, id: InstanceId) -> Option<&Instance> {
        self.members.get(id.0).map(|m| &m.instance)
    }

    pub fn instances(&self) -> impl Iterator<Item = (InstanceId, &Instance)> {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| (InstanceId(i), &m.instance))
    }

    pub fn sync_groups(&self) -> &[SyncGroup] {
        &self.groups
    }

    /// The index in [`Node::sync_groups`] of `id`'s sync group.
    pub fn group_of(&self, id: InstanceId) -> Option<usize> {
        self.members.get(id.0).and_then(|m| m.group)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Feeds one input to one instance, then lets its sync group react. An unknown id yields
    /// no actions.
    pub fn handle(&mut self, now: Time, id: InstanceId, input: Input) -> Vec<(InstanceId, Action)> {
        let mut out = Vec::new();
        if self.members.get(id.0).is_none() {
            return out;
        }
        if let Some(g) = self.feed(now, id, input, &mut out) {
            self.settle(now, g, &mut out, 0);
        }
        self.refile_after(id);
        out
    }

    /// Feeds `input` to instance `id` alone (no group reaction, no refiling); returns its
    /// sync group, if any.
    fn feed(
        &mut self,
        now: Time,
        id: InstanceId,
        input: Input,
        out: &mut Vec<(InstanceId, Action)>,
    ) -> Option<usize> {
        let member = self.members.get_mut(id.0)?;
        out.extend(
            member
                .instance
                .handle(now, input)
                .into_iter()
                .map(|a| (id, a)),
        );
        member.group
    }

    /// Feeds the same input to each of `ids` before any sync group reacts, then lets each
    /// group concerned settle once. For `Drain` of a whole group this matters: fed one by one,
    /// the first Master member's step-down would demote the others before their own Drain, and
    /// they would leave without the priority-0 advert that hands over after Skew_Time.
    pub fn handle_each(
        &mut self,
        now: Time,
        ids: &[InstanceId],
        input: Input,
    ) -> Vec<(InstanceId, Action)> {
        let mut out = Vec::new();
        let mut groups = Vec::new();
        for &id in ids {
            if let Some(g) = self.feed(now, id, input, &mut out)
                && !groups.contains(&g)
            {
                groups.push(g);
            }
        }
        for g in groups {
            self.settle(now, g, &mut out, 0);
        }
        for &id in ids {
            self.refile_after(id);
        }
        out
    }

    /// Feeds the same input to every instance in order (e.g. `Startup`, `Shutdown`).
    pub fn handle_all(&mut self, now: Time, input: Input) -> Vec<(InstanceId, Action)> {
        let mut out = Vec::new();
        for i in 0..self.members.len() {
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
                .members
                .get(i)
                .and_then(|m| m.filed)
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
            g.settle(now, self.members.as_mut_slice(), out, scan_from);
        }
    }
}

impl<T> super::group::Members for [Member<T>] {
    fn instance(&self, id: InstanceId) -> Option<&Instance> {
        self.get(id.0).map(|m| &m.instance)
    }

    fn instance_mut(&mut self, id: InstanceId) -> Option<&mut Instance> {
        self.get_mut(id.0).map(|m| &mut m.instance)
    }
}
