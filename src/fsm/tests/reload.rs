//! Configuration reload: an instance carried into a new node keeps its state and timers.
use super::*;

#[test]
fn reconfigure_keeps_state_and_timers_when_nothing_that_matters_changed() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    let before = inst.timers().clone();
    let actions = inst.reconfigure(at + us(10), config(Version::V3, 100, 1));
    assert!(actions.is_empty(), "{actions:?}");
    assert_eq!(inst.state(), State::Master);
    assert_eq!(inst.timers(), &before);
}

#[test]
fn reconfigure_priority_of_a_master_advertises_the_new_priority_at_once() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    let now = at + us(300_000);
    let actions = inst.reconfigure(now, config(Version::V3, 90, 1));
    assert_eq!(adverts(&actions), vec![90]);
    assert_eq!(inst.state(), State::Master);
    assert_eq!(inst.effective_priority(), Priority::new(90));
    assert_eq!(inst.timers().adver, Some(now + us(1_000_000)));
}

#[test]
fn reconfigure_priority_of_a_backup_changes_its_skew_without_a_transition() {
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    inst.handle(ms(0), Input::Startup);
    let skew_before = inst.skew_time();
    let actions = inst.reconfigure(ms(10), config(Version::V3, 200, 1));
    assert!(transitions(&actions).is_empty());
    assert_eq!(inst.state(), State::Backup);
    assert!(inst.skew_time() < skew_before);
}

#[test]
fn node_carries_instances_over_with_their_state() {
    let mut old = Node::new();
    let a = old.add_instance(config(Version::V3, 255, 1));
    old.handle(ms(0), a, Input::Startup);
    assert_eq!(old.instance(a).map(Instance::state), Some(State::Master));
    let mut new = Node::new();
    for inst in old.into_instances() {
        new.add_existing(inst);
    }
    assert_eq!(
        new.instance(InstanceId(0)).map(Instance::state),
        Some(State::Master)
    );
    assert!(
        new.next_deadline().is_some(),
        "the carried-over master lost its advert timer"
    );
}
