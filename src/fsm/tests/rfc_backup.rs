use super::*;

fn backup(version: Version, priority: u8) -> Instance {
    let mut inst = Instance::new(config(version, priority, 1));
    inst.handle(ms(0), Input::Startup);
    inst
}

#[test]
fn backup_becomes_master_when_master_down_timer_fires() {
    // RFC 5798 §6.4.2: send advert, announce, set Adver_Timer, transition to Master.
    let mut inst = backup(Version::V3, 100);
    let deadline = ms(0) + us(3_609_375);
    assert!(
        inst.handle(deadline - us(1), Input::TimerTick).is_empty(),
        "one µs early must not fire"
    );
    let actions = inst.handle(deadline, Input::TimerTick);
    assert_eq!(adverts(&actions), vec![100]);
    assert_eq!(announces(&actions), vec![(5, AnnounceReason::BecameMaster)]);
    assert_eq!(
        transitions(&actions),
        vec![(
            State::Backup,
            State::Master,
            Reason::MasterDown {
                interval_ms: 3609,
                last_master: None
            }
        )]
    );
    assert_eq!(actions.first(), Some(&Action::InstallVips));
    assert_eq!(inst.timers().adver, Some(deadline + us(1_000_000)));
    assert_eq!(inst.timers().master_down, None);
}

#[test]
fn backup_resets_master_down_timer_on_higher_or_equal_priority_advert() {
    // RFC 5798 §6.4.2: priority >= local → reset Master_Down_Timer to Master_Down_Interval.
    let mut inst = backup(Version::V3, 100);
    assert!(inst.handle(ms(2000), advert(2, 150, 100)).is_empty());
    assert_eq!(inst.next_deadline(), Some(ms(2000) + us(3_609_375)));
    assert!(inst.handle(ms(3000), advert(2, 100, 100)).is_empty());
    assert_eq!(inst.next_deadline(), Some(ms(3000) + us(3_609_375)));
    assert_eq!(inst.state(), State::Backup);
}

#[test]
fn backup_v3_learns_master_adver_interval_and_recomputes_master_down_interval() {
    // RFC 5798 §6.4.2: Master_Adver_Interval := advert's interval; recompute.
    let mut inst = backup(Version::V3, 200);
    inst.handle(ms(500), advert(2, 250, 37));
    assert_eq!(inst.master_adver_interval(), Centis::new(37));
    // Skew = (256 − 200) × 370 000 µs / 256 = 80 937.5 µs → 80 937 µs; MDI = 1.11 s + skew.
    assert_eq!(inst.skew_time(), us(80_937));
    assert_eq!(inst.master_down_interval(), us(1_110_000 + 80_937));
    assert_eq!(inst.next_deadline(), Some(ms(500) + us(1_190_937)));
}

#[test]
fn backup_v2_keeps_its_own_advertisement_interval() {
    // RFC 3768 has no interval learning; v2 skew is (256 − p)/256 s.
    let mut inst = backup(Version::V2, 200);
    inst.handle(ms(500), advert(2, 250, 300));
    assert_eq!(inst.master_adver_interval(), Centis::new(100));
    assert_eq!(inst.master_down_interval(), us(3_000_000 + 218_750));
}

#[test]
fn backup_priority_zero_advert_sets_master_down_timer_to_skew_time() {
    // RFC 9568 §6.4.2.
    let mut inst = backup(Version::V3, 100);
    inst.handle(ms(1000), advert(2, 0, 100));
    assert_eq!(inst.next_deadline(), Some(ms(1000) + us(609_375)));
    let actions = inst.handle(ms(1000) + us(609_375), Input::TimerTick);
    assert_eq!(
        transitions(&actions),
        vec![(
            State::Backup,
            State::Master,
            Reason::MasterReleased { master: addr(2) }
        )]
    );
}

#[test]
fn backup_with_preempt_discards_lower_priority_advert() {
    // RFC 5798 §6.4.2 "else ... Discard the ADVERTISEMENT".
    let mut inst = backup(Version::V3, 100);
    inst.handle(ms(1000), advert(2, 99, 50));
    assert_eq!(
        inst.master_adver_interval(),
        Centis::new(100),
        "a discarded advert teaches nothing"
    );
    assert_eq!(inst.next_deadline(), Some(ms(0) + us(3_609_375)));
}

#[test]
fn backup_without_preempt_accepts_lower_priority_advert() {
    // RFC 5798 §6.4.2: Preempt_Mode False → reset the timer whatever the priority.
    let mut c = config(Version::V3, 200, 1);
    c.preempt = false;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    inst.handle(ms(1000), advert(2, 50, 100));
    assert_eq!(
        inst.next_deadline(),
        Some(ms(1000) + inst.master_down_interval())
    );
}

#[test]
fn preempt_delay_defers_preemption_until_the_delay_after_startup() {
    // keepalived preempt_delay: a higher-priority backup accepts lower adverts until
    // startup + delay, then discards them and its timer runs out.
    let mut c = config(Version::V3, 200, 1);
    c.preempt_delay = Centis::from_secs(10);
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let mdi = inst.master_down_interval();
    inst.handle(ms(9_999), advert(2, 100, 100));
    assert_eq!(
        inst.next_deadline(),
        Some(ms(9_999) + mdi),
        "inside the delay: defers"
    );
    inst.handle(ms(10_000), advert(2, 100, 100));
    assert_eq!(
        inst.next_deadline(),
        Some(ms(9_999) + mdi),
        "after the delay: discards"
    );
    let actions = inst.handle(ms(9_999) + mdi, Input::TimerTick);
    assert_eq!(
        transitions(&actions),
        vec![(
            State::Backup,
            State::Master,
            Reason::Preempted {
                master: addr(2),
                master_priority: Priority::new(100),
                ours: Priority::new(200)
            }
        )]
    );
}

#[test]
fn backup_effective_priority_feeds_skew_time() {
    // RFC 5798 §6.1: Skew_Time uses the (effective) local priority.
    let mut inst = backup(Version::V3, 100);
    inst.handle(
        ms(0),
        Input::TrackerChanged {
            weight_sum: 50,
            faulted: false,
        },
    );
    assert_eq!(inst.effective_priority(), Priority::new(150));
    assert_eq!(inst.skew_time(), us(414_062));
}

#[test]
fn a_silent_master_is_named_in_the_master_down_reason() {
    // The master at .2 (priority 150) goes silent: the reason names it and the interval
    // waited, and says it is not a preemption.
    let mut inst = backup(Version::V3, 100);
    inst.handle(ms(1000), advert(2, 150, 100));
    let at = ms(1000) + us(3_609_375);
    let reason = transitions(&inst.handle(at, Input::TimerTick))
        .first()
        .map(|t| t.2);
    assert_eq!(
        reason,
        Some(Reason::MasterDown {
            interval_ms: 3609,
            last_master: Some(addr(2))
        })
    );
    assert_eq!(
        reason.map(|r| r.to_string()).unwrap_or_default(),
        "master down: no advertisement for Master_Down_Interval (3609 ms), last master 192.0.2.2"
    );
    let preempted = Reason::Preempted {
        master: addr(2),
        master_priority: Priority::new(50),
        ours: Priority::new(200),
    };
    assert_eq!(
        preempted.to_string(),
        "preempting a lower-priority master 192.0.2.2 (prio 50 < ours 200)"
    );
}
