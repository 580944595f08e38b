//! What the log says: dropped packets (rate-limited, with the peer and the values that
//! disagree), transitions naming their trigger, effective priority changes. The core runs on
//! simulated time; the log is captured from `tracing` on the test's thread.

use std::net::{IpAddr, Ipv4Addr};

use super::core::Core;
use super::core_tests::{instance, secs, started};
use super::drop_log::DropDetail;
use super::drops::DropReason;
use super::input::{CoreInput, Received, Route, RxAdvert};
use super::record::{Effect, RecordingEffects};
use crate::fsm::Time;
use crate::logging::capture;
use crate::track::TrackerUpdate;
use crate::types::{Centis, Priority};

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

fn route(core: &Core<RecordingEffects>, name: &str) -> (super::input::SocketKey, Route) {
    let (id, _, slot) = core
        .node
        .iter()
        .find(|(_, _, s)| s.plan.name() == name)
        .expect("instance");
    (
        slot.plan.socket,
        Route {
            generation: core.generation,
            id,
            vrid: slot.plan.fsm.vrid.get(),
        },
    )
}

/// A v2 advert every 150 ms for 150 s (1000 of them) whose interval (1 s) is not ours (2 s).
#[test]
fn a_flood_of_mismatched_adverts_logs_one_line_then_one_a_minute() {
    let mut core = started(&instance("VI_1", 1, 100, " advert_int 2\n"));
    let (socket, route) = route(&core, "VI_1");
    let mismatch = CoreInput::Packet {
        arrived: None,
        socket,
        received: Received::Dropped {
            route: Some(route),
            reason: DropReason::IntervalMismatch,
            peer: Some(PEER),
            detail: Some(DropDetail::Interval {
                ours: Centis::from_secs(2),
                received: Centis::from_secs(1),
            }),
        },
    };
    let ((), log) = capture(|| {
        for i in 0..1000u64 {
            core.handle(Time::from_micros(i * 150_000), mismatch.clone());
        }
    });
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("dropped advertisement"))
        .collect();
    // At 0 s, at 60 s and at 120 s (the last packet comes at 149.85 s).
    assert_eq!(lines.len(), 3, "{log}");
    let first = lines[0];
    assert!(
        first.contains("advert interval mismatch: ours 200 cs, received 100 cs from 10.0.0.2"),
        "{first}"
    );
    assert!(
        first.contains("instance=\"VI_1\"") || first.contains("instance=VI_1"),
        "{first}"
    );
    assert!(
        first.contains("reason=\"interval_mismatch\"")
            || first.contains("reason=interval_mismatch"),
        "{first}"
    );
    assert!(first.starts_with(" WARN"), "{first}");
    // 60 s / 150 ms = 400 packets in a minute: the first logged, 399 left out.
    assert!(lines[1].contains("suppressed=399"), "{}", lines[1]);
    // Every packet is counted, logged or not.
    let status = core.status("t", Time::ZERO, std::time::Duration::ZERO);
    let vi = status.instances.first().expect("VI_1");
    assert_eq!(vi.drops.get("interval_mismatch"), Some(&1000));
}

#[test]
fn drops_are_limited_per_instance_and_reason() {
    let conf = format!(
        "{}{}",
        instance("VI_1", 1, 100, ""),
        instance("VI_2", 2, 100, "")
    );
    let mut core = started(&conf);
    let drop = |core: &Core<RecordingEffects>, name, reason| {
        let (socket, route) = route(core, name);
        CoreInput::Packet {
            arrived: None,
            socket,
            received: Received::Dropped {
                route: Some(route),
                reason,
                peer: Some(PEER),
                detail: None,
            },
        }
    };
    let inputs = [
        drop(&core, "VI_1", DropReason::BadPassword),
        drop(&core, "VI_1", DropReason::BadPassword),
        drop(&core, "VI_1", DropReason::NotAPeer),
        drop(&core, "VI_2", DropReason::BadPassword),
        // Our own adverts looped back are normal: never logged.
        drop(&core, "VI_2", DropReason::OwnAdvert),
    ];
    let ((), log) = capture(|| {
        for input in inputs {
            core.handle(secs(1.0), input);
        }
    });
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(
        log.contains("authentication password mismatch from 10.0.0.2"),
        "{log}"
    );
    assert!(
        log.contains("unicast source is not a unicast_peer from 10.0.0.2"),
        "{log}"
    );
}

#[test]
fn an_address_list_mismatch_is_logged_with_the_sender_and_rate_limited() {
    let mut core = started(&instance("VI_1", 1, 100, ""));
    let (socket, route) = route(&core, "VI_1");
    let advert = |priority: u8| CoreInput::Packet {
        arrived: None,
        socket,
        received: Received::Advert {
            route,
            advert: RxAdvert {
                src: PEER,
                priority: Priority::new(priority),
                max_advert_int: Centis::from_secs(1),
                ah_sequence: None,
                addresses_match: false,
                hmac: None,
            },
        },
    };
    let ((), log) = capture(|| {
        for i in 0..10 {
            core.handle(secs(1.0 + f64::from(i)), advert(150));
        }
        core.handle(secs(70.0), advert(150));
    });
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("address list differs")
            && lines[0].contains("(priority 150), dropped from 10.0.0.2"),
        "{log}"
    );
    assert!(lines[1].contains("suppressed=9"), "{log}");
}

#[test]
fn an_owner_hearing_another_owner_keeps_master_counts_and_logs_it_rate_limited() {
    // RFC 5798 §6.4.3 / §5.2.4: a second router at 255 is misconfigured; the owner discards
    // its adverts whatever its address (10.0.0.2 is above ours).
    let mut core = started(&instance("VI_1", 1, 255, ""));
    assert_eq!(
        super::core_tests::state(&core, "VI_1"),
        crate::fsm::State::Master
    );
    let (socket, route) = route(&core, "VI_1");
    let advert = CoreInput::Packet {
        arrived: None,
        socket,
        received: Received::Advert {
            route,
            advert: RxAdvert {
                src: PEER,
                priority: Priority::OWNER,
                max_advert_int: Centis::from_secs(1),
                ah_sequence: None,
                addresses_match: true,
                hmac: None,
            },
        },
    };
    let ((), log) = capture(|| {
        for i in 0..5 {
            core.handle(secs(1.0 + f64::from(i)), advert.clone());
        }
    });
    assert_eq!(
        super::core_tests::state(&core, "VI_1"),
        crate::fsm::State::Master
    );
    let (_, _, slot) = core.node.iter().next().expect("instance");
    assert_eq!(slot.counters.drops.get(DropReason::OwnerConflict), 5);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("two routers configured as owner") && lines[0].contains("10.0.0.2"),
        "{log}"
    );
}

fn transition_reasons(core: &mut Core<RecordingEffects>) -> Vec<String> {
    core.effects_mut()
        .take()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Transition { reason, .. } => Some(reason.to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_preemption_names_the_lower_priority_master_and_both_priorities() {
    let mut core = started(&instance("VI_1", 1, 200, ""));
    transition_reasons(&mut core);
    let (socket, route) = route(&core, "VI_1");
    let mut at = 0.1;
    while at < 5.0 {
        super::core_tests::run_until(&mut core, secs(at));
        core.handle(
            secs(at),
            CoreInput::Packet {
                arrived: None,
                socket,
                received: Received::Advert {
                    route,
                    advert: RxAdvert {
                        src: PEER,
                        priority: Priority::new(100),
                        max_advert_int: Centis::from_secs(1),
                        ah_sequence: None,
                        addresses_match: true,
                        hmac: None,
                    },
                },
            },
        );
        at += 1.0;
    }
    assert_eq!(
        transition_reasons(&mut core),
        vec!["preempting a lower-priority master 10.0.0.2 (prio 100 < ours 200)".to_owned()]
    );
}

const CHECK: &str = "vrrp_script chk_nginx {\n script \"/bin/true\"\n interval 1\n weight -150\n}\n\
                     vrrp_script chk_db {\n script \"/bin/true\"\n interval 1\n weight 0\n}\n";

#[test]
fn a_priority_change_names_the_tracker_and_its_weight() {
    let conf = format!(
        "{CHECK}{}",
        instance("VI_1", 1, 200, " track_script {\n  chk_nginx\n }\n")
    );
    let mut core = started(&conf);
    let ((), log) = capture(|| {
        core.handle(
            secs(1.0),
            CoreInput::Tracker(TrackerUpdate::script("chk_nginx", false)),
        );
    });
    assert!(
        log.contains("priority 200 \u{2192} 50: tracker chk_nginx down (weight -150)"),
        "{log}"
    );
    // Back up: the line again, the other way.
    let ((), log) = capture(|| {
        core.handle(
            secs(2.0),
            CoreInput::Tracker(TrackerUpdate::script("chk_nginx", true)),
        );
    });
    assert!(
        log.contains("priority 50 \u{2192} 200: tracker chk_nginx up"),
        "{log}"
    );
}

#[test]
fn a_fault_names_the_tracker_that_failed_and_what_cleared_it() {
    let conf = format!(
        "{CHECK}{}",
        instance("VI_1", 1, 200, " track_script {\n  chk_db\n }\n")
    );
    let mut core = started(&conf);
    core.handle(
        secs(0.5),
        CoreInput::Tracker(TrackerUpdate::script("chk_db", true)),
    );
    transition_reasons(&mut core);
    core.handle(
        secs(1.0),
        CoreInput::Tracker(TrackerUpdate::script("chk_db", false)),
    );
    assert_eq!(transition_reasons(&mut core), vec!["tracker chk_db down"]);
    core.handle(
        secs(2.0),
        CoreInput::Tracker(TrackerUpdate::script("chk_db", true)),
    );
    assert_eq!(
        transition_reasons(&mut core),
        vec!["fault cleared: tracker chk_db up"]
    );
}

#[test]
fn a_link_down_names_the_interface() {
    let mut core = started(&instance("VI_1", 1, 200, ""));
    transition_reasons(&mut core);
    let ifindex = core
        .node
        .iter()
        .next()
        .map(|(_, _, s)| s.plan.ifindex)
        .expect("plan");
    core.handle(
        secs(1.0),
        CoreInput::Link {
            ifindex,
            name: "eth0".into(),
            up: false,
        },
    );
    assert_eq!(transition_reasons(&mut core), vec!["interface eth0 down"]);
}

#[test]
fn a_master_hearing_a_lower_priority_says_so_once_a_minute() {
    let mut core = started(&instance("VI_1", 1, 200, ""));
    super::core_tests::run_until(&mut core, secs(4.0));
    assert_eq!(
        super::core_tests::state(&core, "VI_1"),
        crate::fsm::State::Master
    );
    let (socket, route) = route(&core, "VI_1");
    let lower = CoreInput::Packet {
        arrived: None,
        socket,
        received: Received::Advert {
            route,
            advert: RxAdvert {
                src: PEER,
                priority: Priority::new(100),
                max_advert_int: Centis::from_secs(1),
                ah_sequence: None,
                addresses_match: true,
                hmac: None,
            },
        },
    };
    let ((), log) = capture(|| {
        for i in 0..100 {
            core.handle(secs(4.0 + f64::from(i) * 0.5), lower.clone());
        }
    });
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("lower priority"))
        .collect();
    // 4 s to 53.5 s: within one minute of the first.
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains(
            "master heard an advertisement from 10.0.0.2 with lower priority 100, ours 200"
        ),
        "{log}"
    );
}

#[test]
fn a_reload_that_changes_the_priority_says_so() {
    let mut core = started(&instance("VI_1", 1, 100, ""));
    let ((), log) = capture(|| {
        core.handle(
            secs(1.0),
            CoreInput::Reload(Box::new(super::core_tests::prepared(
                &instance("VI_1", 1, 150, ""),
                &[],
            ))),
        );
    });
    assert!(
        log.contains("priority 100 \u{2192} 150: configuration reloaded"),
        "{log}"
    );
}
