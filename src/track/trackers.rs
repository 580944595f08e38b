//! `Trackers`: what the core owns of the checkers. It keeps the last state of every tracker
//! and who watches it; each instance's resolved trackers ([`InstanceTrackers`], part of its
//! plan) and last verdict live in the instance's slot, so nothing here is indexed in parallel
//! with the core's instances. Pure: no IO, no clock.

use std::collections::BTreeMap;

use super::update::{TrackerId, TrackerKind, TrackerState, TrackerUpdate};
use super::verdict::{InstanceTrackers, TrackerStates, Verdict, verdict};

#[derive(Debug, Clone, Default)]
pub struct Trackers {
    states: TrackerStates,
    /// Which instances (by the core's index) watch a tracker, so an update touches only those.
    watchers: BTreeMap<TrackerId, Vec<usize>>,
}

impl Trackers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Who watches what, for a new set of instances (`(index, trackers)`, the index being the
    /// instance's in the core). States of trackers still watched are kept, so that a reload does
    /// not send weight-0 instances back to "no result yet"; a tracker the set did not watch
    /// before starts down if it is in `initially_down` (keepalived `init_fail`), else with no
    /// result. States of trackers nobody watches any more are forgotten.
    pub fn rewire<'a>(
        &mut self,
        instances: impl IntoIterator<Item = (usize, &'a InstanceTrackers)>,
        initially_down: &[TrackerId],
    ) {
        let mut watchers: BTreeMap<TrackerId, Vec<usize>> = BTreeMap::new();
        for (index, inst) in instances {
            for t in &inst.tracked {
                let list = watchers.entry(t.id.clone()).or_default();
                if !list.contains(&index) {
                    list.push(index);
                }
            }
        }
        let mut states = TrackerStates::new();
        for id in watchers.keys() {
            match self.states.get(id) {
                Some(known) => {
                    states.set(id.clone(), known);
                }
                None if initially_down.contains(id) => {
                    states.set(id.clone(), TrackerState::Down);
                }
                None => {}
            }
        }
        self.states = states;
        self.watchers = watchers;
    }

    /// Records `u` and returns the instances watching it when its state changed (their
    /// verdicts may have).
    pub fn update(&mut self, u: &TrackerUpdate) -> Vec<usize> {
        let id = u.id();
        let Some(watching) = self.watchers.get(&id) else {
            return Vec::new();
        };
        if !self.states.set(id, u.state) {
            return Vec::new();
        }
        tracing::info!(kind = ?u.kind, name = %u.name, state = ?u.state, "tracker changed");
        watching.clone()
    }

    /// The verdict for an instance watching `trackers`, from the states known now.
    pub fn verdict(&self, trackers: &InstanceTrackers) -> Verdict {
        verdict(trackers, &self.states)
    }

    /// The interfaces some instance tracks: their link state is reported as a
    /// `TrackerUpdate::interface` at start and on every change.
    pub fn interfaces(&self) -> impl Iterator<Item = &str> {
        self.watchers
            .keys()
            .filter(|id| id.kind == TrackerKind::Interface)
            .map(|id| id.name.as_str())
    }

    /// The last state reported for a tracker (for status output).
    pub fn state(&self, id: &TrackerId) -> Option<TrackerState> {
        self.states.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::track::verdict_tests::{CONFIG, parse};

    const ORDER: [&str; 4] = ["VI_1", "VI_G1", "VI_G2", "VI_none"];

    fn resolved(config: &Config) -> Vec<InstanceTrackers> {
        ORDER
            .iter()
            .map(|name| InstanceTrackers::for_instance(config, name))
            .collect()
    }

    fn init_fail(config: &Config) -> Vec<TrackerId> {
        config
            .scripts
            .iter()
            .filter(|s| s.init_fail)
            .map(|s| TrackerId::new(TrackerKind::Script, s.name.clone()))
            .collect()
    }

    fn wired(config: &Config, insts: &[InstanceTrackers]) -> Trackers {
        let mut t = Trackers::new();
        t.rewire(insts.iter().enumerate(), &init_fail(config));
        t
    }

    fn v(weight_sum: i32, faulted: bool, pending: bool) -> Verdict {
        Verdict {
            weight_sum,
            faulted,
            pending,
        }
    }

    fn verdicts(t: &Trackers, insts: &[InstanceTrackers]) -> Vec<Verdict> {
        insts.iter().map(|i| t.verdict(i)).collect()
    }

    #[test]
    fn weight_zero_trackers_without_a_result_are_pending() {
        let config = parse(CONFIG);
        let insts = resolved(&config);
        let t = wired(&config, &insts);
        assert_eq!(
            verdicts(&t, &insts),
            vec![
                // eth1 and haproxy have weight 0 and no result yet.
                v(0, true, true),
                // chk_b weight 0 (member of a sync group) has no result yet.
                v(0, true, true),
                v(0, false, false),
                Verdict::default(),
            ]
        );
        assert_eq!(t.interfaces().collect::<Vec<_>>(), vec!["eth1", "eth2"]);
    }

    #[test]
    fn update_names_the_watchers_only_when_the_state_changed() {
        let config = parse(CONFIG);
        let insts = resolved(&config);
        let mut t = wired(&config, &insts);
        // chk_a: +20 on VI_1, +7 (group weight) on both members.
        assert_eq!(
            t.update(&TrackerUpdate::script("chk_a", true)),
            vec![0, 1, 2]
        );
        assert_eq!(
            verdicts(&t, &insts)[..3],
            [v(20, true, true), v(7, true, true), v(7, false, false)]
        );
        // The same state again changes nothing.
        assert!(t.update(&TrackerUpdate::script("chk_a", true)).is_empty());
        // A tracker nobody watches changes nothing.
        assert!(
            t.update(&TrackerUpdate::interface("eth9", false))
                .is_empty()
        );
        // chk_b up: VI_1 weight 5 (positive, added while up); VI_G1 weight 0 reverse: FAULT.
        assert_eq!(t.update(&TrackerUpdate::script("chk_b", true)), vec![0, 1]);
        assert_eq!(
            verdicts(&t, &insts)[..2],
            [v(25, true, true), v(7, true, false)]
        );
        t.update(&TrackerUpdate::interface("eth1", true));
        t.update(&TrackerUpdate::interface("eth2", true));
        t.update(&TrackerUpdate::process("haproxy", true));
        assert_eq!(t.verdict(&insts[0]), v(25, false, false));
        // tf: weight -2 reverse: value 4 adds +8.
        t.update(&TrackerUpdate::file("tf", 4));
        assert_eq!(t.verdict(&insts[0]), v(33, false, false));
        // eth2 down: weight -10 applies.
        t.update(&TrackerUpdate::interface("eth2", false));
        assert_eq!(t.verdict(&insts[0]), v(23, false, false));
    }

    #[test]
    fn init_fail_scripts_start_down() {
        let text = CONFIG.replace("weight -15 reverse", "weight -15 reverse\n    init_fail");
        let config = parse(&text);
        let insts = resolved(&config);
        let t = wired(&config, &insts);
        // VI_G1 watches chk_b with weight 0 reverse: down is OK, and known at once.
        assert_eq!(t.verdict(&insts[1]), v(0, false, false));
        assert_eq!(
            t.state(&TrackerId::new(TrackerKind::Script, "chk_b")),
            Some(TrackerState::Down)
        );
    }

    #[test]
    fn rewiring_keeps_known_states_and_forgets_unwatched_ones() {
        let config = parse(CONFIG);
        let insts = resolved(&config);
        let mut t = wired(&config, &insts);
        t.update(&TrackerUpdate::interface("eth1", true));
        t.update(&TrackerUpdate::process("haproxy", true));
        assert_eq!(t.verdict(&insts[0]), v(0, false, false));
        t.rewire(insts.iter().enumerate(), &[]);
        assert_eq!(t.verdict(&insts[0]), v(0, false, false));
        // Only VI_none left: nothing is watched, every state is forgotten.
        t.rewire([(0, &insts[3])], &[]);
        assert_eq!(t.interfaces().count(), 0);
        t.rewire(insts.iter().enumerate(), &[]);
        assert_eq!(t.verdict(&insts[0]), v(0, true, true));
    }
}
