use super::*;

#[test]
fn garp_master_delay_sends_a_second_burst_after_the_delay() {
    // keepalived garp_master_delay (default 5 s), garp_master_repeat (default 5).
    let (mut inst, at) = master(Version::V3, 100, 1);
    assert_eq!(inst.timers().garp_master_delay, Some(at + us(5_000_000)));
    let actions = inst.handle(at + us(5_000_000), Input::TimerTick);
    assert_eq!(announces(&actions), vec![(5, AnnounceReason::MasterDelay)]);
    // The advert timer fired at the same instant too: both are handled by one tick.
    assert_eq!(adverts(&actions), vec![100]);
    assert_eq!(inst.timers().garp_master_delay, None);
}

#[test]
fn garp_master_delay_zero_means_no_second_burst() {
    let mut c = config(Version::V3, 100, 1);
    c.garp.master_delay = Centis::ZERO;
    c.garp.master_repeat = 2;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let at = inst.next_deadline().unwrap_or_else(|| unreachable!());
    let actions = inst.handle(at, Input::TimerTick);
    assert_eq!(announces(&actions), vec![(2, AnnounceReason::BecameMaster)]);
    assert_eq!(inst.timers().garp_master_delay, None);
}

#[test]
fn garp_master_refresh_repeats_while_master() {
    let mut c = config(Version::V3, 100, 1);
    c.garp.master_refresh = Some(Centis::from_secs(60));
    c.garp.master_refresh_repeat = 2;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let at = inst.next_deadline().unwrap_or_else(|| unreachable!());
    inst.handle(at, Input::TimerTick);
    for n in 1..=3u64 {
        let due = at + us(60_000_000 * n);
        assert_eq!(inst.timers().garp_refresh, Some(due));
        // Keep the advert timer in step so only the refresh is due.
        let actions = inst.handle(due, Input::TimerTick);
        assert!(announces(&actions).contains(&(2, AnnounceReason::Refresh)));
    }
}

#[test]
fn garp_timers_stop_when_leaving_master() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    // The new master advertises every 2 s, so this backup's timer runs until at + 7.2 s.
    inst.handle(at, advert(2, 200, 200));
    assert_eq!(inst.timers().garp_master_delay, None);
    assert!(announces(&inst.handle(at + us(5_000_000), Input::TimerTick)).is_empty());
}
