use super::*;

#[test]
fn master_sends_advert_every_advertisement_interval() {
    // RFC 5798 §6.4.3: Adver_Timer fires → send, reset to Advertisement_Interval.
    let (mut inst, at) = master(Version::V3, 100, 1);
    let mut now = at;
    for _ in 0..3 {
        now = now + us(1_000_000);
        assert_eq!(inst.timers().adver, Some(now));
        let actions = inst.handle(now, Input::TimerTick);
        assert_eq!(adverts(&actions), vec![100]);
    }
}

#[test]
fn master_steps_down_on_higher_priority_advert() {
    // RFC 9568 §6.4.3: cancel Adver_Timer, learn interval, recompute, set Master_Down_Timer, Backup.
    let (mut inst, at) = master(Version::V3, 100, 1);
    let now = at + us(300_000);
    let actions = inst.handle(now, advert(2, 101, 200));
    assert_eq!(
        actions,
        vec![
            Action::RemoveVips,
            Action::Transition {
                from: State::Master,
                to: State::Backup,
                reason: Reason::HigherPriority {
                    peer: addr(2),
                    peer_priority: Priority::new(101),
                    ours: Priority::new(100)
                }
            },
        ]
    );
    assert_eq!(inst.master_adver_interval(), Centis::new(200));
    assert_eq!(inst.timers().adver, None);
    assert_eq!(inst.next_deadline(), Some(now + us(6_000_000 + 1_218_750)));
}

#[test]
fn master_steps_down_on_equal_priority_from_higher_primary_address() {
    // RFC 5798 §6.4.3: equal priority, sender's primary address greater → Backup.
    let (mut inst, at) = master(Version::V3, 100, 5);
    let actions = inst.handle(at, advert(6, 100, 100));
    assert_eq!(
        transitions(&actions),
        vec![(
            State::Master,
            State::Backup,
            Reason::HigherPriority {
                peer: addr(6),
                peer_priority: Priority::new(100),
                ours: Priority::new(100)
            }
        )]
    );
}

#[test]
fn master_discards_equal_priority_from_lower_address_and_reasserts() {
    // RFC 5798 §6.4.3: discard; keepalived answers with its own advert.
    let (mut inst, at) = master(Version::V3, 100, 5);
    let actions = inst.handle(at, advert(4, 100, 100));
    assert_eq!(inst.state(), State::Master);
    assert_eq!(adverts(&actions), vec![100]);
    assert!(transitions(&actions).is_empty());
}

#[test]
fn master_answers_lower_priority_advert_with_advert_and_gratuitous_bursts() {
    // keepalived: advert at once, garp_lower_prio_repeat now and again after garp_lower_prio_delay.
    let mut c = config(Version::V3, 200, 1);
    c.garp.lower_prio_repeat = Some(3);
    c.garp.lower_prio_delay = Some(Centis::new(250));
    c.garp.master_delay = Centis::ZERO;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let at = inst.next_deadline().unwrap_or_else(|| unreachable!());
    inst.handle(at, Input::TimerTick);
    let actions = inst.handle(at + us(10), advert(2, 100, 100));
    assert_eq!(adverts(&actions), vec![200]);
    assert_eq!(
        announces(&actions),
        vec![(3, AnnounceReason::LowerPriority)]
    );
    // keepalived reports the event after answering (notify_master_rx_lower_pri).
    assert_eq!(actions.last(), Some(&Action::HeardLowerPriority));
    assert_eq!(inst.timers().garp_lower_prio, Some(at + us(2_500_010)));
    let later = inst.handle(at + us(2_500_010), Input::TimerTick);
    assert_eq!(
        announces(&later),
        vec![(3, AnnounceReason::LowerPriorityDelay)]
    );
    assert_eq!(inst.state(), State::Master);
}

#[test]
fn master_lower_prio_no_advert_keeps_to_the_rfc() {
    let mut c = config(Version::V3, 200, 1);
    c.lower_prio_no_advert = true;
    c.garp.lower_prio_repeat = Some(0);
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let at = inst.next_deadline().unwrap_or_else(|| unreachable!());
    inst.handle(at, Input::TimerTick);
    // Nothing on the wire; only keepalived's MASTER_RX_LOWER_PRI event is reported.
    assert_eq!(
        inst.handle(at, advert(2, 100, 100)),
        vec![Action::HeardLowerPriority]
    );
}

#[test]
fn master_priority_zero_advert_sends_advert_and_resets_adver_timer() {
    // RFC 5798 §6.4.3: priority 0 → send an advert, reset Adver_Timer.
    let (mut inst, at) = master(Version::V3, 100, 1);
    let now = at + us(400_000);
    let actions = inst.handle(now, advert(2, 0, 100));
    assert_eq!(
        actions,
        vec![Action::SendAdvert {
            priority: Priority::new(100)
        }]
    );
    assert_eq!(inst.timers().adver, Some(now + us(1_000_000)));
}

#[test]
fn master_advertises_the_effective_priority() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    inst.handle(
        at,
        Input::TrackerChanged {
            weight_sum: -20,
            faulted: false,
        },
    );
    let actions = inst.handle(at + us(1_000_000), Input::TimerTick);
    assert_eq!(adverts(&actions), vec![80]);
}

#[test]
fn owner_priority_is_never_changed_by_trackers() {
    let mut inst = Instance::new(config(Version::V3, 255, 1));
    inst.handle(
        ms(0),
        Input::TrackerChanged {
            weight_sum: -100,
            faulted: false,
        },
    );
    inst.handle(ms(0), Input::Startup);
    assert_eq!(inst.effective_priority(), Priority::OWNER);
    assert_eq!(inst.state(), State::Master);
}

#[test]
fn zero_advert_interval_cannot_become_a_busy_loop() {
    let mut c = config(Version::V3, 255, 1);
    c.advert_int = Centis::ZERO;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    assert_eq!(inst.timers().adver, Some(ms(10)));
}

#[test]
fn owner_discards_a_priority_255_advert_even_from_a_higher_address() {
    // RFC 5798 §6.4.3 and §5.2.4: 255 belongs to the address owner alone; a second "owner"
    // is misconfigured. The owner keeps its role and its timers, and reports the conflict;
    // the address tie-break (which keepalived applies) does not hand the addresses over.
    let (mut inst, at) = master(Version::V3, 255, 5);
    let adver = inst.timers().adver;
    let actions = inst.handle(at + us(100_000), advert(6, 255, 100));
    assert_eq!(actions, vec![Action::OwnerConflict]);
    assert_eq!(inst.state(), State::Master);
    assert_eq!(inst.timers().adver, adver);
    // A non-owner at 254 still yields to 255, as the RFC says.
    let (mut inst, at) = master(Version::V3, 254, 5);
    let actions = inst.handle(at, advert(4, 255, 100));
    assert_eq!(inst.state(), State::Backup);
    assert!(!transitions(&actions).is_empty());
}
