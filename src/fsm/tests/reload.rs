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

/// The node's timer index always agrees with its instances: whatever inputs arrive, the
/// earliest filed deadline is the earliest of the instances' own deadlines.
#[test]
fn node_timer_index_matches_the_instances_deadlines() {
    let mut node = Node::new();
    let ids: Vec<InstanceId> = (0..40u8)
        .map(|k| {
            let mut c = config(Version::V3, 50 + k * 5, 1);
            c.advert_int = Centis::new(50 + u32::from(k) * 3);
            node.add_instance(c)
        })
        .collect();
    node.add_sync_group("g", &ids[..3])
        .unwrap_or_else(|e| panic!("{e}"));
    let brute = |n: &Node| n.instances().filter_map(|(_, i)| i.next_deadline()).min();
    let mut now = ms(0);
    node.handle_all(now, Input::Startup);
    assert_eq!(node.next_deadline(), brute(&node));
    for step in 0..2_000u64 {
        now = now + us(7_919 * (step % 13 + 1));
        let id = ids[(step as usize * 7) % ids.len()];
        match step % 5 {
            0 => {
                node.handle(now, id, advert(2, (step % 255) as u8, 100));
            }
            1 => {
                node.handle(
                    now,
                    id,
                    Input::TrackerChanged {
                        weight_sum: -10,
                        faulted: step % 10 == 1,
                    },
                );
            }
            _ => {
                node.tick(now);
            }
        }
        assert_eq!(node.next_deadline(), brute(&node), "after step {step}");
        if let Some(next) = node.next_deadline() {
            assert!(next > now || node.tick(now).is_empty() || node.next_deadline() != Some(next));
        }
    }
    node.handle_all(now, Input::Shutdown);
    assert_eq!(node.next_deadline(), brute(&node));
}
