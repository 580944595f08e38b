//! vigil drain (no RFC counterpart): a drained Master hands over as at Shutdown (RFC 5798
//! §6.4.3, a priority-0 advert) but stays a Backup; a drained instance never becomes Master
//! until undrained.

use super::*;

#[test]
fn drained_master_sends_priority_zero_removes_vips_and_becomes_backup() {
    let (mut inst, at) = master(Version::V3, 200, 1);
    let actions = inst.handle(at + us(10), Input::Drain);
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert {
                priority: Priority::STOP
            },
            Action::RemoveVips,
            Action::Transition {
                from: State::Master,
                to: State::Backup,
                reason: Reason::Drained
            },
        ]
    );
    assert!(inst.drained());
    // It stays in the protocol: its Master_Down_Timer runs.
    assert!(inst.timers().master_down.is_some());
    // A second drain changes nothing.
    assert!(inst.handle(at + us(20), Input::Drain).is_empty());
}

#[test]
fn drained_backup_never_takes_over_when_its_master_down_timer_fires() {
    let (mut inst, at) = master(Version::V3, 200, 1);
    inst.handle(at, Input::Drain);
    let mut now = at;
    for _ in 0..10 {
        now = inst
            .next_deadline()
            .expect("a drained backup keeps its timer");
        let actions = inst.handle(now, Input::TimerTick);
        assert!(actions.is_empty(), "drained backup acted: {actions:?}");
        assert_eq!(inst.state(), State::Backup);
    }
    // Undrained: the next expiry takes over (RFC 5798 §6.4.2), nothing at once.
    assert!(inst.handle(now, Input::Undrain).is_empty());
    assert!(!inst.drained());
    let due = inst.next_deadline().expect("timer");
    inst.handle(due, Input::TimerTick);
    assert_eq!(inst.state(), State::Master);
}

#[test]
fn drained_backup_still_defers_and_a_priority_zero_advert_does_not_promote_it() {
    let mut inst = Instance::new(config(Version::V3, 200, 1));
    inst.handle(ms(0), Input::Startup);
    inst.handle(ms(10), Input::Drain);
    // A lower-priority Master goes away with priority 0: a drained Backup does not take over
    // after its Skew_Time.
    inst.handle(ms(100), advert(9, 100, 100));
    inst.handle(ms(200), advert(9, 0, 100));
    let due = inst.next_deadline().expect("timer");
    assert!(inst.handle(due, Input::TimerTick).is_empty());
    assert_eq!(inst.state(), State::Backup);
}

#[test]
fn undrained_backup_with_preempt_and_higher_priority_takes_mastership_back() {
    let mut inst = Instance::new(config(Version::V3, 200, 1));
    inst.handle(ms(0), Input::Startup);
    inst.handle(ms(10), Input::Drain);
    // The lower-priority Master keeps advertising; drained, the Backup lets it.
    let mut now = ms(10);
    for _ in 0..10 {
        now = now + us(1_000_000);
        inst.handle(now, advert(9, 100, 100));
        if let Some(due) = inst.next_deadline().filter(|&d| d <= now) {
            inst.handle(due, Input::TimerTick);
        }
        assert_eq!(inst.state(), State::Backup);
    }
    inst.handle(now, Input::Undrain);
    // Preempt: the lower adverts are discarded, the timer runs out, it preempts.
    now = now + us(1_000_000);
    inst.handle(now, advert(9, 100, 100));
    let due = inst.next_deadline().expect("timer");
    let actions = inst.handle(due, Input::TimerTick);
    assert_eq!(
        transitions(&actions),
        vec![(
            State::Backup,
            State::Master,
            Reason::Preempted {
                master: addr(9),
                master_priority: Priority::new(100),
                ours: Priority::new(200)
            }
        )]
    );
}

#[test]
fn drained_address_owner_starts_and_leaves_fault_as_backup() {
    let mut inst = Instance::new(config(Version::V3, 255, 1));
    inst.handle(ms(0), Input::Drain);
    let actions = inst.handle(ms(0), Input::Startup);
    assert_eq!(
        transitions(&actions),
        vec![(State::Initialize, State::Backup, Reason::Startup)]
    );
    inst.handle(ms(1), Input::LinkDown);
    let actions = inst.handle(ms(2), Input::LinkUp);
    assert_eq!(
        transitions(&actions),
        vec![(State::Fault, State::Backup, Reason::FaultCleared)]
    );
    let due = inst.next_deadline().expect("timer");
    assert!(inst.handle(due, Input::TimerTick).is_empty());
    // Undrained, the owner takes over at its next expiry.
    inst.handle(due, Input::Undrain);
    let due = inst.next_deadline().expect("timer");
    inst.handle(due, Input::TimerTick);
    assert_eq!(inst.state(), State::Master);
}

#[test]
fn drained_state_survives_a_reconfigure_and_serde() {
    let (mut inst, at) = master(Version::V3, 200, 1);
    inst.handle(at, Input::Drain);
    inst.reconfigure(at, config(Version::V3, 250, 1));
    assert!(inst.drained());
    let json = serde_json::to_string(&inst).expect("serialise");
    let back: Instance = serde_json::from_str(&json).expect("deserialise");
    assert!(back.drained());
}

fn group() -> (Node, InstanceId, InstanceId) {
    let mut node = Node::new();
    let a = node.add_instance(config(Version::V3, 200, 1));
    let mut c = config(Version::V3, 200, 1);
    c.vrid = Vrid::new(8).unwrap_or_else(|| unreachable!());
    let b = node.add_instance(c);
    assert_eq!(node.add_sync_group("g", &[a, b]), Ok(()));
    node.handle_all(ms(0), Input::Startup);
    let due = node.next_deadline().expect("timer");
    node.tick(due);
    (node, a, b)
}

#[test]
fn draining_a_whole_sync_group_hands_over_every_member_with_priority_zero() {
    let (mut node, a, b) = group();
    let state = |n: &Node, id| n.instance(id).map(Instance::state);
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Master), Some(State::Master))
    );
    let actions = node.handle_each(ms(5_000), &[a, b], Input::Drain);
    for id in [a, b] {
        let sent: Vec<_> = actions
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, a)| *a)
            .collect();
        assert_eq!(adverts(&sent), vec![0], "member {id:?}: {actions:?}");
        assert_eq!(
            transitions(&sent),
            vec![(State::Master, State::Backup, Reason::Drained)]
        );
    }
    // Neither member is ever promoted while drained, however long the timers run.
    let mut now = ms(5_000);
    for _ in 0..10 {
        now = node.next_deadline().expect("timers");
        let acted = node.tick(now);
        assert!(acted.is_empty(), "{acted:?}");
    }
    node.handle_each(now, &[a, b], Input::Undrain);
    let due = node.next_deadline().expect("timers");
    node.tick(due);
    let due = node.next_deadline().expect("timers");
    node.tick(due);
    assert_eq!(
        (state(&node, a), state(&node, b)),
        (Some(State::Master), Some(State::Master))
    );
}
