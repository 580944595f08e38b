//! The pure part of tracking: which trackers an instance watches with which weights, the
//! table of their last states, and the combined verdict (weight sum, fault).
//!
//! The rules follow keepalived 2.2 (`vrrp_track.c`):
//! - up/down trackers (script, process, interface) with a **positive** weight add it while up;
//!   with a **negative** weight add it while down; `reverse` negates what is added;
//! - with weight **0** a down tracker puts the instance in FAULT (`reverse`: an up one does);
//! - a file's value is multiplied by the weight (negated by `reverse`) and added, capped at
//!   253; a product of -254 or less is FAULT; with weight 0 a non-zero value is FAULT
//!   (`reverse`: a zero value is);
//! - a tracker with no result yet adds nothing; with weight 0 it holds the instance down
//!   (keepalived keeps such an instance in INIT until its script has returned once; vigil's
//!   state machine has no such state, so the verdict says FAULT and `Verdict::pending` tells
//!   the driver why).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::update::{TrackerId, TrackerKind, TrackerState, TrackerUpdate};
use crate::config::model::{Config, Instance, SyncGroup, TrackRef};

/// keepalived's floor: a weighted file result at or below this puts the instance in FAULT.
const FILE_FAULT_AT: i64 = -254;
/// keepalived's cap on what one tracked file may add.
const FILE_MAX_ADD: i64 = 253;

/// One tracker as one instance sees it, with its weight resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    pub id: TrackerId,
    pub weight: i32,
    pub reverse: bool,
}

/// Every tracker one instance watches: its own and its sync group's, weights resolved once
/// from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceTrackers {
    pub tracked: Vec<Tracked>,
}

impl InstanceTrackers {
    /// Resolves the trackers of instance `name` in `config`. A reference to a checker that is
    /// not defined is skipped (keepalived ignores it with a config error; `config::validate`
    /// reports it).
    ///
    /// keepalived sets the weights of a sync group member's own trackers to 0 (so a failure
    /// is a FAULT that the whole group follows) unless the group has
    /// `sync_group_tracking_weight`; the group's own trackers keep their weights, since they
    /// apply to every member alike.
    pub fn for_instance(config: &Config, name: &str) -> Self {
        config
            .instances
            .iter()
            .find(|i| i.name == name)
            .map_or_else(Self::default, |inst| Self::of(config, inst))
    }

    /// [`InstanceTrackers::for_instance`] for an instance already found (planning has it:
    /// no search by name per instance).
    pub fn of(config: &Config, inst: &Instance) -> Self {
        let mut tracked = Vec::new();
        let name = inst.name.as_str();
        let group = config
            .sync_groups
            .iter()
            .find(|g| g.group.iter().any(|m| m == name));
        let zero_own_weights = group.is_some_and(|g| !g.sync_group_tracking_weight);

        let mut own = Vec::new();
        for t in &inst.track_interfaces {
            own.push(Tracked {
                id: TrackerId::new(TrackerKind::Interface, t.name.clone()),
                weight: t.weight,
                reverse: t.reverse,
            });
        }
        resolve_refs(config, &inst.track_scripts, TrackerKind::Script, &mut own);
        resolve_refs(config, &inst.track_files, TrackerKind::File, &mut own);
        resolve_refs(
            config,
            &inst.track_processes,
            TrackerKind::Process,
            &mut own,
        );
        if zero_own_weights {
            for t in &mut own {
                t.weight = 0;
            }
        }
        tracked.extend(own);
        if let Some(g) = group {
            tracked.extend(group_trackers(config, g));
        }
        // keepalived's static track groups: the interfaces of the static items naming a
        // group the instance is in, weight 0 (`config::static_track`).
        tracked.extend(
            config
                .static_tracked_interfaces(name)
                .into_iter()
                .map(|dev| Tracked {
                    id: TrackerId::new(TrackerKind::Interface, dev.to_owned()),
                    weight: 0,
                    reverse: false,
                }),
        );
        // A tracker named both by the instance and by its group counts once: keepalived
        // links a checker to an instance once.
        let mut seen = std::collections::HashSet::new();
        tracked.retain(|t| seen.insert(t.id.clone()));
        Self { tracked }
    }

    pub fn is_empty(&self) -> bool {
        self.tracked.is_empty()
    }

    pub fn watches(&self, id: &TrackerId) -> bool {
        self.tracked.iter().any(|t| &t.id == id)
    }
}

fn group_trackers(config: &Config, g: &SyncGroup) -> Vec<Tracked> {
    let mut out: Vec<Tracked> = g
        .track_interfaces
        .iter()
        .map(|t| Tracked {
            id: TrackerId::new(TrackerKind::Interface, t.name.clone()),
            weight: t.weight,
            reverse: t.reverse,
        })
        .collect();
    resolve_refs(config, &g.track_scripts, TrackerKind::Script, &mut out);
    resolve_refs(config, &g.track_files, TrackerKind::File, &mut out);
    resolve_refs(config, &g.track_processes, TrackerKind::Process, &mut out);
    out
}

/// A reference's weight overrides the checker's, and then its `reverse` is the one that
/// counts (keepalived reads `weight N [reverse|noreverse]` together); without a weight the
/// checker's own weight and reverse apply.
fn resolve_refs(config: &Config, refs: &[TrackRef], kind: TrackerKind, out: &mut Vec<Tracked>) {
    for r in refs {
        let Some((weight, reverse)) = checker_defaults(config, kind, &r.name) else {
            continue;
        };
        let (weight, reverse) = match r.weight {
            Some(w) => (w, r.reverse),
            None => (weight, reverse || r.reverse),
        };
        out.push(Tracked {
            id: TrackerId::new(kind, r.name.clone()),
            weight,
            reverse,
        });
    }
}

fn checker_defaults(config: &Config, kind: TrackerKind, name: &str) -> Option<(i32, bool)> {
    match kind {
        TrackerKind::Script => config
            .scripts
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.weight, s.reverse)),
        TrackerKind::File => config
            .track_files
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.weight, f.reverse)),
        TrackerKind::Process => config
            .track_processes
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.weight, p.reverse)),
        TrackerKind::Interface => Some((0, false)),
    }
}

/// The last known state of every tracker; a tracker absent from the table has no result yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerStates {
    states: HashMap<TrackerId, TrackerState>,
}

impl TrackerStates {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `u`; returns whether the state differs from the one recorded before.
    pub fn apply(&mut self, u: &TrackerUpdate) -> bool {
        self.set(u.id(), u.state)
    }

    pub fn set(&mut self, id: TrackerId, state: TrackerState) -> bool {
        self.states.insert(id, state) != Some(state)
    }

    pub fn get(&self, id: &TrackerId) -> Option<TrackerState> {
        self.states.get(id).copied()
    }
}

/// What the trackers say about one instance, as `fsm::Input::TrackerChanged` takes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Added to the base priority (the state machine clamps the result to 1..=254 and leaves
    /// an owner's 255 alone).
    pub weight_sum: i32,
    /// A weight-0 tracker failed, a file result reached -254, or a weight-0 tracker has no
    /// result yet (see `pending`).
    pub faulted: bool,
    /// Some weight-0 tracker has not reported yet. keepalived would hold the instance in
    /// INIT rather than FAULT; the driver may use this to delay `Startup` instead.
    pub pending: bool,
}

/// What one tracker contributes (also shown per tracker by `vigil status NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contribution {
    Add(i32),
    Fault,
    Pending,
}

/// Combines the states of the trackers `refs` watches into one verdict.
pub fn verdict(refs: &InstanceTrackers, states: &TrackerStates) -> Verdict {
    let mut v = Verdict::default();
    for t in &refs.tracked {
        match contribution(t, states.get(&t.id)) {
            Contribution::Add(w) => v.weight_sum = v.weight_sum.saturating_add(w),
            Contribution::Fault => v.faulted = true,
            Contribution::Pending => {
                v.faulted = true;
                v.pending = true;
            }
        }
    }
    v
}

/// What tracker `t` in state `state` (`None`: no result yet) adds to its instance.
pub fn contribution(t: &Tracked, state: Option<TrackerState>) -> Contribution {
    let sign: i64 = if t.reverse { -1 } else { 1 };
    let weight = i64::from(t.weight);
    match (t.id.kind, state) {
        // No result yet: keepalived adds nothing for a weighted checker until its first
        // result, and does not bring a weight-0 tracked instance up before it.
        (_, None) => no_result(t),
        (TrackerKind::File, Some(TrackerState::Value(value))) => {
            if t.weight == 0 {
                // keepalived: with weight 0 a non-zero value is a failure, zero is OK.
                if (value != 0) != t.reverse {
                    Contribution::Fault
                } else {
                    Contribution::Add(0)
                }
            } else {
                let status = value.saturating_mul(weight).saturating_mul(sign);
                if status <= FILE_FAULT_AT {
                    Contribution::Fault
                } else {
                    Contribution::Add(clamp_i32(status.min(FILE_MAX_ADD)))
                }
            }
        }
        (TrackerKind::File, Some(_)) => no_result(t),
        (_, Some(TrackerState::Value(_))) => no_result(t),
        (_, Some(s)) => {
            let up = s == TrackerState::Up;
            if t.weight == 0 {
                // Weight 0: down is FAULT; `weight 0 reverse` makes up the FAULT.
                if up == t.reverse {
                    Contribution::Fault
                } else {
                    Contribution::Add(0)
                }
            } else if (t.weight > 0) == up {
                // A positive weight is added while up, a negative one while down.
                Contribution::Add(clamp_i32(weight * sign))
            } else {
                Contribution::Add(0)
            }
        }
    }
}

fn no_result(t: &Tracked) -> Contribution {
    if t.weight == 0 {
        Contribution::Pending
    } else {
        Contribution::Add(0)
    }
}

fn clamp_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}
