use super::*;

#[test]
fn startup_non_owner_enters_backup_with_master_down_timer() {
    // RFC 5798 §6.4.1
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    assert_eq!(inst.state(), State::Initialize);
    assert_eq!(inst.next_deadline(), None);
    let actions = inst.handle(ms(1000), Input::Startup);
    assert_eq!(
        actions,
        vec![Action::Transition {
            from: State::Initialize,
            to: State::Backup,
            reason: Reason::Startup
        }]
    );
    assert_eq!(inst.master_adver_interval(), Centis::new(100));
    // 3 × 1 s + (256 − 100) × 1 s / 256 = 3.609375 s
    assert_eq!(inst.master_down_interval(), us(3_609_375));
    assert_eq!(inst.next_deadline(), Some(ms(1000) + us(3_609_375)));
}

#[test]
fn startup_address_owner_priority_255_goes_straight_to_master() {
    // RFC 5798 §6.4.1: Priority = 255 → send advert, announce, set Adver_Timer, Master.
    let mut inst = Instance::new(config(Version::V3, 255, 1));
    let actions = inst.handle(ms(0), Input::Startup);
    assert_eq!(
        actions,
        vec![
            Action::InstallVips,
            Action::SendAdvert {
                priority: Priority::OWNER
            },
            Action::Announce {
                count: 5,
                reason: AnnounceReason::BecameMaster
            },
            Action::Transition {
                from: State::Initialize,
                to: State::Master,
                reason: Reason::AddressOwner
            },
        ]
    );
    assert_eq!(inst.timers().adver, Some(ms(1000)));
}

#[test]
fn startup_state_master_hint_shortens_the_first_wait_but_starts_in_backup() {
    // keepalived vrrp_init_state: Advertisement_Interval + the skew of priority 255.
    let mut c = config(Version::V3, 100, 1);
    c.initial = InitialState::Master;
    let mut inst = Instance::new(c);
    let actions = inst.handle(ms(0), Input::Startup);
    assert_eq!(
        transitions(&actions),
        vec![(State::Initialize, State::Backup, Reason::Startup)]
    );
    assert_eq!(inst.next_deadline(), Some(ms(0) + us(1_000_000 + 3_906)));
}

#[test]
fn startup_twice_is_ignored() {
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    inst.handle(ms(0), Input::Startup);
    assert!(inst.handle(ms(5), Input::Startup).is_empty());
    assert_eq!(inst.next_deadline(), Some(ms(0) + us(3_609_375)));
}

#[test]
fn initialize_ignores_adverts_and_ticks() {
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    assert!(inst.handle(ms(0), advert(2, 200, 100)).is_empty());
    assert!(inst.handle(ms(0), Input::TimerTick).is_empty());
    assert_eq!(inst.state(), State::Initialize);
}

#[test]
fn shutdown_in_master_sends_priority_zero_and_removes_vips() {
    // RFC 5798 §6.4.3 Shutdown: cancel Adver_Timer, send priority 0, go to Initialize.
    let (mut inst, at) = master(Version::V3, 100, 1);
    let actions = inst.handle(at + us(10), Input::Shutdown);
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert {
                priority: Priority::STOP
            },
            Action::RemoveVips,
            Action::Transition {
                from: State::Master,
                to: State::Initialize,
                reason: Reason::Shutdown
            },
        ]
    );
    assert_eq!(inst.next_deadline(), None);
}

#[test]
fn shutdown_in_backup_cancels_the_timer_silently() {
    // RFC 5798 §6.4.2 Shutdown.
    let mut inst = Instance::new(config(Version::V3, 100, 1));
    inst.handle(ms(0), Input::Startup);
    let actions = inst.handle(ms(10), Input::Shutdown);
    assert_eq!(
        actions,
        vec![Action::Transition {
            from: State::Backup,
            to: State::Initialize,
            reason: Reason::Shutdown
        }]
    );
    assert_eq!(inst.next_deadline(), None);
    // And it can start again.
    inst.handle(ms(20), Input::Startup);
    assert_eq!(inst.state(), State::Backup);
}
