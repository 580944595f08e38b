use super::*;

#[test]
fn weight_zero_tracker_failure_in_master_enters_fault_with_priority_zero_advert() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    let actions = inst.handle(
        at,
        Input::TrackerChanged {
            weight_sum: 0,
            faulted: true,
        },
    );
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert {
                priority: Priority::STOP
            },
            Action::RemoveVips,
            Action::Transition {
                from: State::Master,
                to: State::Fault,
                reason: Reason::TrackerFault
            },
        ]
    );
    assert_eq!(inst.next_deadline(), None, "Fault runs no timers");
    assert!(
        inst.handle(at, advert(2, 200, 100)).is_empty(),
        "Fault ignores adverts"
    );
}

#[test]
fn link_down_enters_fault_without_an_advert() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    let actions = inst.handle(at, Input::LinkDown);
    assert_eq!(adverts(&actions), Vec::<u8>::new());
    assert_eq!(
        transitions(&actions),
        vec![(State::Master, State::Fault, Reason::LinkDown)]
    );
}

#[test]
fn leaving_fault_goes_to_backup_with_a_full_master_down_timer() {
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    inst.handle(ms(0), Input::Startup);
    inst.handle(ms(10), Input::LinkDown);
    assert_eq!(
        inst.handle(ms(20), Input::LinkUp),
        vec![Action::Transition {
            from: State::Fault,
            to: State::Backup,
            reason: Reason::FaultCleared
        }]
    );
    assert_eq!(inst.next_deadline(), Some(ms(20) + us(3_609_375)));
}

#[test]
fn fault_needs_every_cause_cleared() {
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    inst.handle(ms(0), Input::Startup);
    inst.handle(ms(1), Input::LinkDown);
    inst.handle(
        ms(2),
        Input::TrackerChanged {
            weight_sum: 0,
            faulted: true,
        },
    );
    assert!(inst.handle(ms(3), Input::LinkUp).is_empty());
    assert_eq!(inst.state(), State::Fault);
    inst.handle(
        ms(4),
        Input::TrackerChanged {
            weight_sum: 0,
            faulted: false,
        },
    );
    assert_eq!(inst.state(), State::Backup);
}

#[test]
fn owner_leaving_fault_goes_to_master() {
    let mut inst = Instance::new(config(Version::V3, 255, 1));
    inst.handle(ms(0), Input::Startup);
    inst.handle(ms(1), Input::LinkDown);
    let actions = inst.handle(ms(2), Input::LinkUp);
    assert_eq!(
        transitions(&actions),
        vec![(State::Fault, State::Master, Reason::FaultCleared)]
    );
}

#[test]
fn fault_before_startup_starts_in_fault() {
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    assert!(inst.handle(ms(0), Input::LinkDown).is_empty());
    let actions = inst.handle(ms(1), Input::Startup);
    assert_eq!(
        transitions(&actions),
        vec![(State::Initialize, State::Fault, Reason::LinkDown)]
    );
}
