//! `Trackers`: what the core owns. It holds each instance's resolved trackers, the states
//! reported so far and the last verdict per instance, and turns one `TrackerUpdate` into the
//! verdicts that changed. Pure: no IO, no clock.

use std::collections::{BTreeSet, HashMap};

use super::update::{TrackerId, TrackerKind, TrackerState, TrackerUpdate};
use super::verdict::{InstanceTrackers, TrackerStates, Verdict, verdict};
use crate::config::Config;

#[derive(Debug, Clone)]
pub struct Trackers {
    instances: Vec<InstanceTrackers>,
    states: TrackerStates,
    last: Vec<Verdict>,
    /// Which instances watch a tracker, so an update touches only those.
    watchers: HashMap<TrackerId, Vec<usize>>,
}

impl Trackers {
    /// `instance_order` gives the index each instance has in the core; the verdicts are
    /// returned by that index.
    pub fn new(config: &Config, instance_order: &[String]) -> Self {
        let instances: Vec<InstanceTrackers> = instance_order
            .iter()
            .map(|name| InstanceTrackers::for_instance(config, name))
            .collect();
        let mut watchers: HashMap<TrackerId, Vec<usize>> = HashMap::new();
        for (index, inst) in instances.iter().enumerate() {
            for t in &inst.tracked {
                watchers.entry(t.id.clone()).or_default().push(index);
            }
        }
        let mut states = TrackerStates::new();
        // keepalived `init_fail`: the script starts failed instead of "no result yet".
        for s in config.scripts.iter().filter(|s| s.init_fail) {
            states.set(
                TrackerId::new(TrackerKind::Script, s.name.clone()),
                TrackerState::Down,
            );
        }
        let last = instances.iter().map(|i| verdict(i, &states)).collect();
        Self {
            instances,
            states,
            last,
            watchers,
        }
    }

    /// Like `new`, but keeps the states already known for trackers that still exist, so that
    /// a reload does not send weight-0 instances back to "no result yet".
    pub fn reloaded(&self, config: &Config, instance_order: &[String]) -> Self {
        let mut next = Self::new(config, instance_order);
        for id in next.watchers.keys() {
            if let Some(state) = self.states.get(id) {
                next.states.set(id.clone(), state);
            }
        }
        next.last = next
            .instances
            .iter()
            .map(|i| verdict(i, &next.states))
            .collect();
        next
    }

    /// The verdict of every instance that watches at least one tracker, to be given to the
    /// state machine before `Startup`.
    pub fn initial(&self) -> Vec<(usize, Verdict)> {
        self.instances
            .iter()
            .zip(&self.last)
            .enumerate()
            .filter(|(_, (inst, _))| !inst.is_empty())
            .map(|(index, (_, v))| (index, *v))
            .collect()
    }

    /// Records `u` and returns the instances whose verdict changed, with the new verdict.
    pub fn update(&mut self, u: TrackerUpdate) -> Vec<(usize, Verdict)> {
        let id = u.id();
        let Some(watching) = self.watchers.get(&id) else {
            tracing::debug!(kind = ?u.kind, name = %u.name, "update for a tracker no instance watches");
            return Vec::new();
        };
        if !self.states.set(id, u.state) {
            return Vec::new();
        }
        tracing::info!(kind = ?u.kind, name = %u.name, state = ?u.state, "tracker changed");
        let mut changed = Vec::new();
        for &index in watching {
            let (Some(inst), Some(last)) = (self.instances.get(index), self.last.get_mut(index))
            else {
                continue;
            };
            let now = verdict(inst, &self.states);
            if now != *last {
                *last = now;
                changed.push((index, now));
            }
        }
        changed
    }

    /// The current verdict of instance `index`.
    pub fn verdict(&self, index: usize) -> Option<Verdict> {
        self.last.get(index).copied()
    }

    /// The interfaces some instance tracks: the driver reports their link state with
    /// `TrackerUpdate::interface` at start and on every change.
    pub fn interfaces(&self) -> BTreeSet<String> {
        self.watchers
            .keys()
            .filter(|id| id.kind == TrackerKind::Interface)
            .map(|id| id.name.clone())
            .collect()
    }

    /// The last state reported for a tracker (for status output).
    pub fn state(&self, id: &TrackerId) -> Option<TrackerState> {
        self.states.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::verdict_tests::{CONFIG, parse};

    fn order() -> Vec<String> {
        ["VI_1", "VI_G1", "VI_G2", "VI_none"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn v(weight_sum: i32, faulted: bool, pending: bool) -> Verdict {
        Verdict {
            weight_sum,
            faulted,
            pending,
        }
    }

    #[test]
    fn initial_lists_instances_with_trackers_and_pending_weight_zero_ones() {
        let t = Trackers::new(&parse(CONFIG), &order());
        assert_eq!(
            t.initial(),
            vec![
                // eth1 and haproxy have weight 0 and no result yet.
                (0, v(0, true, true)),
                // chk_b weight 0 (member of a sync group) has no result yet.
                (1, v(0, true, true)),
                (2, v(0, false, false)),
            ]
        );
        assert_eq!(t.verdict(3), Some(Verdict::default()));
        assert_eq!(
            t.interfaces().into_iter().collect::<Vec<_>>(),
            vec!["eth1".to_string(), "eth2".to_string()]
        );
    }

    #[test]
    fn update_returns_only_instances_whose_verdict_changed() {
        let mut t = Trackers::new(&parse(CONFIG), &order());
        // chk_a: +20 on VI_1, +7 (group weight) on both members.
        assert_eq!(
            t.update(TrackerUpdate::script("chk_a", true)),
            vec![
                (0, v(20, true, true)),
                (1, v(7, true, true)),
                (2, v(7, false, false))
            ]
        );
        // The same state again changes nothing.
        assert!(t.update(TrackerUpdate::script("chk_a", true)).is_empty());
        // A tracker nobody watches changes nothing.
        assert!(t.update(TrackerUpdate::interface("eth9", false)).is_empty());
        // chk_b up: VI_1 weight 5 (positive, added while up); VI_G1 weight 0 reverse: FAULT.
        assert_eq!(
            t.update(TrackerUpdate::script("chk_b", true)),
            vec![(0, v(25, true, true)), (1, v(7, true, false))]
        );
        t.update(TrackerUpdate::interface("eth1", true));
        t.update(TrackerUpdate::interface("eth2", true));
        assert_eq!(
            t.update(TrackerUpdate::process("haproxy", true)),
            vec![(0, v(25, false, false))]
        );
        // tf: weight -2 reverse: value 4 adds +8.
        assert_eq!(
            t.update(TrackerUpdate::file("tf", 4)),
            vec![(0, v(33, false, false))]
        );
        // eth2 down: weight -10 applies.
        assert_eq!(
            t.update(TrackerUpdate::interface("eth2", false)),
            vec![(0, v(23, false, false))]
        );
    }

    #[test]
    fn init_fail_scripts_start_down() {
        let text = CONFIG.replace("weight -15 reverse", "weight -15 reverse\n    init_fail");
        let t = Trackers::new(&parse(&text), &order());
        // VI_G1 watches chk_b with weight 0 reverse: down is OK, and known at once.
        assert_eq!(t.verdict(1), Some(v(0, false, false)));
        assert_eq!(
            t.state(&TrackerId::new(TrackerKind::Script, "chk_b")),
            Some(TrackerState::Down)
        );
    }

    #[test]
    fn reload_keeps_known_states() {
        let config = parse(CONFIG);
        let mut t = Trackers::new(&config, &order());
        for u in [
            TrackerUpdate::interface("eth1", true),
            TrackerUpdate::process("haproxy", true),
        ] {
            t.update(u);
        }
        assert_eq!(t.verdict(0), Some(v(0, false, false)));
        let reloaded = t.reloaded(&config, &order());
        assert_eq!(reloaded.verdict(0), Some(v(0, false, false)));
        assert_eq!(
            Trackers::new(&config, &order()).verdict(0),
            Some(v(0, true, true))
        );
    }
}
