//! keepalived's state-machine keywords beyond the RFC: `down_timer_adverts` and
//! `higher_prio_send_advert`.

use super::*;

#[test]
fn down_timer_adverts_multiplies_master_adver_interval_in_master_down_interval() {
    // keepalived VRRP_MS_DOWN_TIMER: down_timer_adverts × Master_Adver_Interval + Skew_Time.
    // 6 × 0.5 s + (256 - 100) × 0.5 s / 256 = 3.304687 s.
    let mut c = config(Version::V3, 100, 1);
    c.advert_int = Centis::new(50);
    c.down_timer_adverts = 6;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let deadline = ms(0) + us(3_304_687);
    assert_eq!(inst.master_down_interval(), us(3_304_687));
    assert!(inst.handle(deadline - us(1), Input::TimerTick).is_empty());
    assert_eq!(
        transitions(&inst.handle(deadline, Input::TimerTick)),
        vec![(
            State::Backup,
            State::Master,
            Reason::MasterDown {
                interval_ms: 3304,
                last_master: None
            }
        )]
    );
}

#[test]
fn down_timer_adverts_applies_when_a_backup_hears_an_advert() {
    let mut c = config(Version::V3, 100, 1);
    c.down_timer_adverts = 1;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    assert!(inst.handle(ms(500), advert(2, 150, 100)).is_empty());
    // 1 × 1 s + 0.609375 s.
    assert_eq!(inst.next_deadline(), Some(ms(500) + us(1_609_375)));
}

/// A priority-100 master with `higher_prio_send_advert`, and the time it became master.
fn master_sending_advert_to_higher_prio() -> (Instance, Time) {
    let mut c = config(Version::V3, 100, 1);
    c.higher_prio_send_advert = true;
    let mut inst = Instance::new(c);
    inst.handle(ms(0), Input::Startup);
    let at = inst.next_deadline().unwrap_or_else(|| unreachable!());
    inst.handle(at, Input::TimerTick);
    (inst, at)
}

#[test]
fn higher_prio_send_advert_sends_one_advert_before_stepping_down() {
    let (mut inst, at) = master_sending_advert_to_higher_prio();
    assert_eq!(inst.state(), State::Master);
    let actions = inst.handle(at + us(10), advert(2, 101, 100));
    assert_eq!(
        actions.first(),
        Some(&Action::SendAdvert {
            priority: Priority::new(100)
        }),
        "the advert goes out while still Master, before the VIPs are removed"
    );
    assert_eq!(adverts(&actions), vec![100]);
    assert_eq!(
        transitions(&actions),
        vec![(
            State::Master,
            State::Backup,
            Reason::HigherPriority {
                peer: addr(2),
                peer_priority: Priority::new(101),
                ours: Priority::new(100)
            }
        )]
    );
}

#[test]
fn higher_prio_send_advert_also_covers_equal_priority_from_a_higher_address() {
    let (mut inst, at) = master_sending_advert_to_higher_prio();
    let actions = inst.handle(at, advert(9, 100, 100));
    assert_eq!(adverts(&actions), vec![100]);
    assert_eq!(inst.state(), State::Backup);
}

#[test]
fn without_higher_prio_send_advert_a_master_steps_down_silently() {
    let (mut inst, at) = master(Version::V3, 100, 1);
    let actions = inst.handle(at, advert(2, 101, 100));
    assert!(adverts(&actions).is_empty());
    assert_eq!(inst.state(), State::Backup);
}
