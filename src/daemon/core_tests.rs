//! The core with `RecordingEffects` and a virtual clock: what the driver used to decide in
//! async code (start gating on checkers, link debounce, reload carry-over) and the receive
//! routing, drop counting and VIP restore, each through `Core::handle`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use super::core::Core;
use super::drops::DropReason;
use super::input::{CoreInput, LinkFact, Prepared, PresentAddress, Received, Route, RxAdvert};
use super::plan::{IfaceFacts, plan, plan_groups};
use super::prepare::assemble;
use super::record::{Effect, Recorder, RecordingEffects, replay};
use crate::config::{LoadOptions, load_keepalived_str};
use crate::fsm::{InstanceId, State, Time};
use crate::notify::NotifyState;
use crate::track::TrackerUpdate;
use crate::types::{Centis, Priority};

const ETH0: u32 = 2;
const ETH1: u32 = 3;
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

fn facts(name: &str) -> Option<IfaceFacts> {
    let (ifindex, last) = match name {
        "eth0" => (ETH0, 1),
        "eth1" => (ETH1, 2),
        _ => return None,
    };
    Some(IfaceFacts {
        ifindex,
        name: name.into(),
        mac: [0x02, 0, 0, 0, 0, last],
        up: true,
        primary_v4: Some(Ipv4Addr::new(192, 0, last, 1)),
        link_local_v6: None,
        ipv6_forwarding: false,
    })
}

pub(super) fn instance(name: &str, vrid: u8, priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n \
         priority {priority}\n advert_int 1\n virtual_ipaddress {{\n  192.0.2.{vrid}/24\n }}\n\
         {extra}}}\n"
    )
}

/// keepalived.conf text → what `prepare` would hand the core (links all up unless `down`).
pub(super) fn prepared(conf: &str, down: &[u32]) -> Prepared {
    let loaded = load_keepalived_str(conf, Path::new("test.conf"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config does not load: {e:?}\n{conf}"));
    let config = loaded.model;
    let instances = plan(&config, &facts).unwrap_or_else(|e| panic!("plan: {e:?}"));
    let links = [("eth0", ETH0), ("eth1", ETH1)]
        .into_iter()
        .map(|(name, ifindex)| LinkFact {
            ifindex,
            name: name.into(),
            up: !down.contains(&ifindex),
            link_locals: Vec::new(),
        })
        .collect();
    let groups = plan_groups(&config).unwrap_or_else(|e| panic!("plan groups: {e:?}"));
    assemble(&config, instances, groups, links)
}

pub(super) fn secs(s: f64) -> Time {
    Time::from_micros((s * 1_000_000.0) as u64)
}

pub(super) fn started(conf: &str) -> Core<RecordingEffects> {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(secs(0.0), CoreInput::Reload(Box::new(prepared(conf, &[]))));
    core
}

pub(super) fn state(core: &Core<RecordingEffects>, name: &str) -> State {
    core.instance(name)
        .unwrap_or_else(|| panic!("no instance {name}"))
        .0
        .state()
}

pub(super) fn transitions(effects: &[Effect]) -> Vec<(String, State, State)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Transition {
                instance, from, to, ..
            } => Some((instance.clone(), *from, *to)),
            _ => None,
        })
        .collect()
}

fn t(name: &str, from: State, to: State) -> (String, State, State) {
    (name.into(), from, to)
}

/// Runs timers until `at`.
pub(super) fn run_until(core: &mut Core<RecordingEffects>, at: Time) {
    while let Some(due) = core.next_deadline().filter(|&d| d <= at) {
        core.handle(due, CoreInput::Tick);
    }
}

pub(super) fn advert_from_peer(
    core: &Core<RecordingEffects>,
    name: &str,
    priority: u8,
) -> CoreInput {
    advert_with(core, name, |a| a.priority = Priority::new(priority))
}

/// An advert from `PEER` at priority 200 that passed the receive task, as `edit` changes it.
fn advert_with(
    core: &Core<RecordingEffects>,
    name: &str,
    edit: impl FnOnce(&mut RxAdvert),
) -> CoreInput {
    let (id, generation) = route_of(core, name);
    let (_, slot) = core.instance(name).expect("instance");
    let mut advert = RxAdvert {
        src: PEER,
        priority: Priority::new(200),
        max_advert_int: Centis::from_secs(1),
        ah_sequence: None,
        addresses_match: true,
        hmac: None,
    };
    edit(&mut advert);
    CoreInput::Packet {
        arrived: None,
        socket: slot.plan.socket,
        received: Received::Advert {
            route: Route {
                generation,
                id,
                vrid: slot.plan.fsm.vrid.get(),
            },
            advert,
        },
    }
}

fn route_of(core: &Core<RecordingEffects>, name: &str) -> (InstanceId, u64) {
    let id = core
        .node
        .iter()
        .find(|(_, _, s)| s.plan.name() == name)
        .map(|(id, _, _)| id)
        .expect("instance");
    (id, core.generation)
}

// ---------------------------------------------------------------------------------------------
// Start gating

const TRACKS_CHK: &str = " track_script {\n  chk\n }\n";
const WEIGHT_ZERO_CHECK: &str =
    "vrrp_script chk {\n script \"/bin/true\"\n interval 1\n weight 0\n}\n";

#[test]
fn an_instance_waits_in_init_for_its_weight_zero_checker() {
    let conf = format!(
        "{WEIGHT_ZERO_CHECK}{}{}",
        instance("VI_1", 1, 100, TRACKS_CHK),
        instance("VI_2", 2, 100, "")
    );
    let mut core = started(&conf);
    let effects = core.effects_mut().take();
    // VI_2 starts at once; VI_1 stays in INIT: no FAULT, no notify, no timer.
    assert_eq!(
        transitions(&effects),
        vec![t("VI_2", State::Initialize, State::Backup)]
    );
    assert_eq!(state(&core, "VI_1"), State::Initialize);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Notify { instance, .. } if instance == "VI_1"))
    );

    core.handle(
        secs(0.5),
        CoreInput::Tracker(TrackerUpdate::script("chk", true)),
    );
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Initialize, State::Backup)]
    );
    // A failure afterwards is a FAULT, as for any running instance.
    core.handle(
        secs(1.0),
        CoreInput::Tracker(TrackerUpdate::script("chk", false)),
    );
    assert_eq!(state(&core, "VI_1"), State::Fault);
}

#[test]
fn a_checker_that_fails_first_starts_its_instance_in_fault() {
    let conf = format!(
        "{WEIGHT_ZERO_CHECK}{}",
        instance("VI_1", 1, 100, TRACKS_CHK)
    );
    let mut core = started(&conf);
    core.effects_mut().take();
    core.handle(
        secs(0.5),
        CoreInput::Tracker(TrackerUpdate::script("chk", false)),
    );
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Initialize, State::Fault)]
    );
}

#[test]
fn init_fail_is_a_known_result_so_the_instance_starts_in_fault() {
    let conf = format!(
        "{}{}",
        WEIGHT_ZERO_CHECK.replace("weight 0\n", "weight 0\n init_fail\n"),
        instance("VI_1", 1, 100, TRACKS_CHK)
    );
    assert_eq!(
        transitions(&started(&conf).effects_mut().take()),
        vec![t("VI_1", State::Initialize, State::Fault)]
    );
}

#[test]
fn a_weighted_checker_changes_the_priority_without_holding_the_start() {
    let conf = format!(
        "vrrp_script chk {{\n script \"/bin/true\"\n weight 50\n}}\n{}",
        instance("VI_1", 1, 100, TRACKS_CHK)
    );
    let mut core = started(&conf);
    assert_eq!(state(&core, "VI_1"), State::Backup);
    core.handle(
        secs(0.1),
        CoreInput::Tracker(TrackerUpdate::script("chk", true)),
    );
    let (inst, _) = core.instance("VI_1").expect("instance");
    assert_eq!(inst.effective_priority().get(), 150);
}

// ---------------------------------------------------------------------------------------------
// Link state

#[test]
fn netlink_repeats_are_not_events_and_a_change_is() {
    let mut core = started(&instance("VI_1", 1, 100, ""));
    core.effects_mut().take();
    let link = |up| CoreInput::Link {
        ifindex: ETH0,
        name: "eth0".into(),
        up,
    };
    // Up again (netlink repeats a link message on any attribute change): nothing.
    core.handle(secs(0.1), link(true));
    assert!(core.effects_mut().take().is_empty());
    core.handle(secs(0.2), link(false));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Backup, State::Fault)]
    );
    core.handle(secs(0.3), link(false));
    core.handle(
        secs(0.3),
        CoreInput::LinkRemoved {
            ifindex: ETH0,
            name: "eth0".into(),
        },
    );
    assert!(core.effects_mut().take().is_empty());
    core.handle(secs(0.4), link(true));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Fault, State::Backup)]
    );
    // Another interface's change touches nobody here.
    core.handle(
        secs(0.5),
        CoreInput::Link {
            ifindex: ETH1,
            name: "eth1".into(),
            up: false,
        },
    );
    assert!(transitions(&core.effects_mut().take()).is_empty());
}

#[test]
fn a_use_vmac_instance_follows_its_vmac_set_down_and_up() {
    // keepalived runs the instance on its VMAC: set down, the instance is in FAULT (not a
    // Master nobody can reach beside the Backup that took over); up again, it runs.
    let mut core = started(&instance("VI_1", 1, 100, " use_vmac vrrp.1\n"));
    let vmac = |up| CoreInput::Link {
        ifindex: 40,
        name: "vrrp.1".into(),
        up,
    };
    core.handle(secs(0.1), vmac(true));
    core.effects_mut().take();
    core.handle(secs(0.2), vmac(false));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Backup, State::Fault)]
    );
    core.handle(secs(0.3), vmac(true));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Fault, State::Backup)]
    );
    // Another instance's VMAC touches nobody here.
    core.handle(
        secs(0.4),
        CoreInput::Link {
            ifindex: 41,
            name: "vrrp.2".into(),
            up: false,
        },
    );
    assert!(transitions(&core.effects_mut().take()).is_empty());
}

#[test]
fn track_src_ip_faults_while_the_configured_source_is_gone() {
    let conf = instance("VI_1", 1, 100, " mcast_src_ip 192.0.2.77\n track_src_ip\n");
    let mut core = started(&conf);
    core.effects_mut().take();
    let src: IpAddr = "192.0.2.77".parse().unwrap();
    core.handle(
        secs(0.1),
        CoreInput::AddressRemoved {
            ifindex: ETH0,
            addr: src,
        },
    );
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Backup, State::Fault)]
    );
    core.handle(
        secs(0.2),
        CoreInput::AddressAdded {
            ifindex: ETH0,
            addr: src,
            tentative: false,
        },
    );
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Fault, State::Backup)]
    );
    // Without track_src_ip the same removal changes nothing.
    let mut plain = started(&instance("VI_1", 1, 100, " mcast_src_ip 192.0.2.77\n"));
    plain.effects_mut().take();
    plain.handle(
        secs(0.1),
        CoreInput::AddressRemoved {
            ifindex: ETH0,
            addr: src,
        },
    );
    assert!(transitions(&plain.effects_mut().take()).is_empty());
}

#[test]
fn dont_track_primary_ignores_the_instance_s_own_link() {
    let mut core = started(&instance("VI_1", 1, 100, " dont_track_primary\n"));
    core.effects_mut().take();
    for (at, up) in [(0.1, false), (0.2, true)] {
        core.handle(
            secs(at),
            CoreInput::Link {
                ifindex: ETH0,
                name: "eth0".into(),
                up,
            },
        );
    }
    assert!(
        transitions(&core.effects_mut().take()).is_empty(),
        "an instance with dont_track_primary followed its own link"
    );
}

#[test]
fn an_instance_on_a_down_link_starts_in_fault() {
    let mut core = Core::new(RecordingEffects::default());
    let p = prepared(&instance("VI_1", 1, 100, ""), &[ETH0]);
    core.handle(secs(0.0), CoreInput::Reload(Box::new(p)));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("VI_1", State::Initialize, State::Fault)]
    );
}

#[test]
fn a_tracked_interface_is_a_checker_fed_by_link_events() {
    let conf = instance(
        "VI_1",
        1,
        100,
        " track_interface {\n  eth1 weight -30\n }\n",
    );
    let mut core = started(&conf);
    core.handle(
        secs(0.1),
        CoreInput::Link {
            ifindex: ETH1,
            name: "eth1".into(),
            up: false,
        },
    );
    let (inst, _) = core.instance("VI_1").expect("instance");
    assert_eq!(inst.effective_priority().get(), 70);
}

/// keepalived's static track group: a member instance is in FAULT while the interface of a
/// static address naming the group is down; an instance outside the group is not.
#[test]
fn a_static_track_group_member_faults_with_the_static_address_interface() {
    let conf = format!(
        "{}{}track_group G {{\n group {{\n  VI_1\n }}\n}}\nstatic_ipaddress {{\n 10.9.0.1/24 dev eth1 track_group G\n}}\n",
        instance("VI_1", 1, 100, ""),
        instance("VI_2", 2, 100, "")
    );
    let mut core = started(&conf);
    run_until(&mut core, secs(4.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    let link = |up| CoreInput::Link {
        ifindex: ETH1,
        name: "eth1".into(),
        up,
    };
    core.handle(secs(4.1), link(false));
    assert_eq!(state(&core, "VI_1"), State::Fault);
    assert_eq!(state(&core, "VI_2"), State::Master);
    core.handle(secs(4.2), link(true));
    assert_ne!(state(&core, "VI_1"), State::Fault);
}

// ---------------------------------------------------------------------------------------------
// Receive routing and drops

#[test]
fn packets_in_flight_across_a_reload_reach_their_instance_or_are_counted() {
    let mut core = started(&format!(
        "{}{}",
        instance("VI_1", 1, 100, ""),
        instance("VI_2", 2, 100, "")
    ));
    let good = advert_from_peer(&core, "VI_1", 200);
    core.handle(secs(0.1), good.clone());
    let received = |core: &Core<RecordingEffects>, name: &str| {
        let status = core.status("t", Time::ZERO, Duration::ZERO);
        let i = status.instances.iter().find(|i| i.name == name).cloned();
        i.map_or(0, |i| i.adverts_received)
    };
    assert_eq!(received(&core, "VI_1"), 1);
    // A reload that reorders the instances: the packet routed by the old table (VI_1 at
    // index 0) is looked up again by its VRID, not handed to whatever has index 0 now.
    core.handle(
        secs(0.2),
        CoreInput::Reload(Box::new(prepared(
            &format!(
                "{}{}",
                instance("VI_2", 2, 100, ""),
                instance("VI_1", 1, 100, "")
            ),
            &[],
        ))),
    );
    core.handle(secs(0.3), good.clone());
    assert_eq!(received(&core, "VI_1"), 2);
    assert_eq!(received(&core, "VI_2"), 0);
    // Its VRID gone with the next reload: counted on the socket.
    core.handle(
        secs(0.4),
        CoreInput::Reload(Box::new(prepared(&instance("VI_2", 2, 100, ""), &[]))),
    );
    core.handle(secs(0.5), good);
    assert_eq!(
        core.status("t", Time::ZERO, Duration::ZERO)
            .socket_drops
            .get("stale_route"),
        Some(&1)
    );
    assert_eq!(received(&core, "VI_2"), 0);
}

#[test]
fn drops_count_on_the_routed_instance_or_on_the_socket() {
    let mut core = started(&instance("VI_1", 1, 100, ""));
    let (id, generation) = route_of(&core, "VI_1");
    let socket = core.instance("VI_1").expect("instance").1.plan.socket;
    let drop = |route, reason| CoreInput::Packet {
        arrived: None,
        socket,
        received: Received::Dropped {
            route,
            reason,
            peer: None,
            detail: None,
        },
    };
    let route = Some(Route {
        generation,
        id,
        vrid: 1,
    });
    for _ in 0..3 {
        core.handle(secs(0.1), drop(route, DropReason::BadPassword));
    }
    core.handle(secs(0.1), drop(None, DropReason::UnknownVrid));
    let status = core.status("t", Time::ZERO, Duration::ZERO);
    assert_eq!(status.instances[0].drops.get("bad_password"), Some(&3));
    assert_eq!(status.socket_drops.get("unknown_vrid"), Some(&1));
    assert_eq!(status.instances[0].adverts_received, 0);
}

// ---------------------------------------------------------------------------------------------
// Reload

/// VI_1 master (priority 200, nobody else), VI_2 backup of a peer.
pub(super) fn master_and_backup() -> (Core<RecordingEffects>, String) {
    let conf = format!(
        "{}{}",
        instance("VI_1", 1, 200, ""),
        instance("VI_2", 2, 100, "")
    );
    let mut core = started(&conf);
    for s in 1..=3 {
        let advert = advert_from_peer(&core, "VI_2", 200);
        core.handle(secs(f64::from(s)), advert);
        run_until(&mut core, secs(f64::from(s)));
    }
    run_until(&mut core, secs(4.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert_eq!(state(&core, "VI_2"), State::Backup);
    core.effects_mut().take();
    (core, conf)
}

#[test]
fn an_unchanged_reload_touches_nothing() {
    let (mut core, conf) = master_and_backup();
    let ip_id = core.instance("VI_1").expect("VI_1").1.tx.ip_id;
    let counters = core.status("t", Time::ZERO, Duration::ZERO).instances[0].transitions;
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    let effects = core.effects_mut().take();
    assert!(
        effects.iter().all(|e| matches!(e, Effect::Bind { .. })),
        "an unchanged reload does only the rebinding: {effects:?}"
    );
    assert_eq!(state(&core, "VI_1"), State::Master);
    // Transmit state and counters moved with the instance.
    assert_eq!(core.instance("VI_1").expect("VI_1").1.tx.ip_id, ip_id);
    assert_eq!(
        core.status("t", Time::ZERO, Duration::ZERO).instances[0].transitions,
        counters
    );
    // And its schedule too: the next advert is due within one interval.
    assert_vi_1_advertises_by(&mut core, secs(5.1));
}

/// VI_1 (`master_and_backup`'s master) sends an advert at priority 200 by `at`.
pub(super) fn assert_vi_1_advertises_by(core: &mut Core<RecordingEffects>, at: Time) {
    run_until(core, at);
    assert!(
        core.effects_mut()
            .take()
            .iter()
            .any(|e| matches!(e, Effect::Advert { instance, priority: 200 } if instance == "VI_1")),
        "VI_1 sent no advert by {at:?}"
    );
}

#[test]
fn a_reload_moves_only_the_changed_addresses_of_a_master() {
    let (mut core, conf) = master_and_backup();
    let conf = conf.replace("  192.0.2.1/24\n", "  192.0.2.1/24\n  192.0.2.101/24\n");
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    let effects = core.effects_mut().take();
    let installs: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Install { .. } | Effect::Remove { .. }))
        .collect();
    assert_eq!(
        installs,
        vec![&Effect::Install {
            instance: "VI_1".into(),
            addresses: vec!["192.0.2.101".parse().expect("literal")],
        }]
    );
    assert!(transitions(&effects).is_empty());
    // Removing it again removes that one address only.
    let back = conf.replace("  192.0.2.101/24\n", "");
    core.handle(secs(4.2), CoreInput::Reload(Box::new(prepared(&back, &[]))));
    let effects = core.effects_mut().take();
    assert!(effects.contains(&Effect::Remove {
        instance: "VI_1".into(),
        addresses: vec!["192.0.2.101".parse().expect("literal")],
    }));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Install { .. })));
}

/// RFC 5798 §6.4.3: a reload that turns Accept_Mode off on a running master refuses its VIPs'
/// traffic from then on (and on again accepts it); a backup holds no VIPs and is told nothing.
#[test]
fn a_reload_changing_accept_mode_applies_to_a_master_at_once() {
    let (mut core, conf) = master_and_backup();
    let refusing = conf.replace(" priority 200\n", " priority 200\n no_accept\n");
    let refusing = refusing.replace(" priority 100\n", " priority 100\n no_accept\n");
    assert_ne!(refusing, conf);
    core.handle(
        secs(4.1),
        CoreInput::Reload(Box::new(prepared(&refusing, &[]))),
    );
    let changes: Vec<Effect> = core
        .effects_mut()
        .take()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                Effect::AcceptMode { .. } | Effect::Install { .. } | Effect::Remove { .. }
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![Effect::AcceptMode {
            instance: "VI_1".into(),
            refuse: true
        }]
    );
    core.handle(secs(4.2), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    let effects = core.effects_mut().take();
    assert!(effects.contains(&Effect::AcceptMode {
        instance: "VI_1".into(),
        refuse: false
    }));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::AcceptMode { instance, .. } if instance == "VI_2"))
    );
}

#[test]
fn a_priority_change_is_taken_in_place_and_advertised_at_once() {
    let (mut core, conf) = master_and_backup();
    let conf = conf.replace("priority 200", "priority 150");
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    let effects = core.effects_mut().take();
    assert!(transitions(&effects).is_empty());
    assert!(effects.contains(&Effect::Advert {
        instance: "VI_1".into(),
        priority: 150
    }));
}

#[test]
fn a_new_vrid_is_another_router_it_stops_and_starts() {
    let (mut core, conf) = master_and_backup();
    let conf = conf.replace("virtual_router_id 1\n", "virtual_router_id 9\n");
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    let effects = core.effects_mut().take();
    assert_eq!(
        transitions(&effects),
        vec![
            t("VI_1", State::Master, State::Initialize),
            t("VI_1", State::Initialize, State::Backup)
        ]
    );
    // The old router hands over at once (priority 0) and takes its addresses away.
    let stop = effects
        .iter()
        .position(|e| {
            *e == Effect::Advert {
                instance: "VI_1".into(),
                priority: 0,
            }
        })
        .expect("a priority-0 advert");
    let remove = effects
        .iter()
        .position(|e| matches!(e, Effect::Remove { instance, .. } if instance == "VI_1"))
        .expect("its addresses removed");
    assert!(stop < remove);
    // keepalived announces the old router as deleted: FAULT without notify_deleted.
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Notify { instance, state: NotifyState::Fault, .. } if instance == "VI_1"
        )),
        "{effects:?}"
    );
    assert!(!effects.iter().any(|e| matches!(
        e,
        Effect::Notify {
            state: NotifyState::Stop,
            ..
        }
    )));
    // VI_2 was not touched.
    assert_eq!(state(&core, "VI_2"), State::Backup);
}

#[test]
fn removed_instances_stop_and_added_ones_start() {
    let (mut core, _) = master_and_backup();
    let conf = format!(
        "{}{}",
        instance("VI_2", 2, 100, ""),
        instance("VI_3", 3, 100, "")
    );
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    let effects = core.effects_mut().take();
    assert_eq!(
        transitions(&effects),
        vec![
            t("VI_1", State::Master, State::Initialize),
            t("VI_3", State::Initialize, State::Backup)
        ]
    );
    assert_eq!(core.len(), 2);
    assert!(core.instance("VI_1").is_none());
}

fn notes_of(effects: &[Effect], name: &str) -> Vec<NotifyState> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify {
                instance, state, ..
            } if instance == name => Some(*state),
            _ => None,
        })
        .collect()
}

/// keepalived (vrrp.c `clear_diff_vrrp`): a removed instance is announced FAULT by default,
/// DELETED with `notify_deleted`, never STOP.
#[test]
fn a_removed_instance_is_announced_fault_or_with_notify_deleted_deleted() {
    for (extra, want) in [
        ("", NotifyState::Fault),
        (" notify_deleted\n", NotifyState::Deleted),
        (" notify_deleted /bin/true\n", NotifyState::Deleted),
    ] {
        let conf = format!(
            "{}{}",
            instance("VI_1", 1, 200, extra),
            instance("VI_2", 2, 100, "")
        );
        let mut core = started(&conf);
        run_until(&mut core, secs(4.0));
        assert_eq!(state(&core, "VI_1"), State::Master);
        core.effects_mut().take();
        let only_vi2 = instance("VI_2", 2, 100, "");
        core.handle(
            secs(4.1),
            CoreInput::Reload(Box::new(prepared(&only_vi2, &[]))),
        );
        let effects = core.effects_mut().take();
        assert_eq!(
            notes_of(&effects, "VI_1"),
            vec![want],
            "{extra:?}: {effects:?}"
        );
    }
}

/// keepalived announces nothing for a removed instance already in FAULT, unless
/// `notify_deleted` is set.
#[test]
fn a_removed_instance_in_fault_is_announced_only_with_notify_deleted() {
    for (extra, want) in [
        ("", vec![]),
        (" notify_deleted\n", vec![NotifyState::Deleted]),
    ] {
        let conf = instance("VI_1", 1, 200, extra);
        let mut core = Core::new(RecordingEffects::default());
        core.handle(
            secs(0.0),
            CoreInput::Reload(Box::new(prepared(&conf, &[ETH0]))),
        );
        run_until(&mut core, secs(4.0));
        assert_eq!(state(&core, "VI_1"), State::Fault);
        core.effects_mut().take();
        let other = instance("VI_2", 2, 100, "");
        core.handle(
            secs(4.1),
            CoreInput::Reload(Box::new(prepared(&other, &[]))),
        );
        let effects = core.effects_mut().take();
        assert_eq!(notes_of(&effects, "VI_1"), want, "{extra:?}: {effects:?}");
    }
}

/// keepalived `notify_master_rx_lower_pri`: each lower-priority advert a Master receives is
/// reported (the FIFO line and the script), and a Backup hearing one reports nothing.
#[test]
fn a_master_hearing_a_lower_priority_reports_it_each_time() {
    let (mut core, _) = master_and_backup();
    for k in 0..2 {
        let advert = advert_from_peer(&core, "VI_1", 100);
        core.handle(secs(4.2 + f64::from(k) * 0.1), advert);
    }
    let advert = advert_from_peer(&core, "VI_2", 50);
    core.handle(secs(4.5), advert);
    let effects = core.effects_mut().take();
    assert_eq!(
        notes_of(&effects, "VI_1"),
        vec![NotifyState::MasterRxLowerPri; 2]
    );
    assert!(notes_of(&effects, "VI_2").is_empty(), "{effects:?}");
    assert!(effects.contains(&Effect::Notify {
        instance: "VI_1".into(),
        state: NotifyState::MasterRxLowerPri,
        priority: 200
    }));
}

#[test]
fn a_sync_group_change_restarts_its_members() {
    let (mut core, conf) = master_and_backup();
    let grouped = format!("vrrp_sync_group G {{\n group {{\n  VI_1\n  VI_2\n }}\n}}\n{conf}");
    core.handle(
        secs(4.1),
        CoreInput::Reload(Box::new(prepared(&grouped, &[]))),
    );
    let reasons: Vec<(String, State, State)> = transitions(&core.effects_mut().take());
    assert!(reasons.contains(&t("VI_1", State::Master, State::Initialize)));
    assert!(reasons.contains(&t("VI_2", State::Backup, State::Initialize)));
}

// ---------------------------------------------------------------------------------------------
// Addresses removed by hand

#[test]
fn a_vip_removed_while_master_is_put_back_and_only_that_one() {
    let (mut core, _) = master_and_backup();
    core.handle(
        secs(4.5),
        CoreInput::AddressRemoved {
            ifindex: ETH0,
            addr: "192.0.2.1".parse().expect("literal"),
        },
    );
    assert_eq!(
        core.effects_mut().take(),
        vec![Effect::Install {
            instance: "VI_1".into(),
            addresses: vec!["192.0.2.1".parse().expect("literal")]
        }]
    );
    // A backup's address, or one on another interface, is none of its business.
    for (ifindex, addr) in [(ETH0, "192.0.2.2"), (ETH1, "192.0.2.1")] {
        core.handle(
            secs(4.6),
            CoreInput::AddressRemoved {
                ifindex,
                addr: addr.parse().expect("literal"),
            },
        );
    }
    assert!(core.effects_mut().take().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Record and replay

#[test]
fn a_recording_replays_to_the_same_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.jsonl");
    let mut recorder = Recorder::create(&path).expect("recorder");
    let conf = format!(
        "{}{}",
        instance("VI_1", 1, 200, ""),
        instance("VI_2", 2, 100, "")
    );
    let mut core = Core::new(RecordingEffects::default());
    let mut live = Vec::new();
    let mut feed = |core: &mut Core<RecordingEffects>, at: Time, input: CoreInput| {
        recorder.record(at, &input).expect("record");
        core.handle(at, input);
        for e in core.effects_mut().take() {
            if matches!(e, Effect::Transition { .. }) {
                live.push(format!("{:.6} {e}", at.since_epoch().as_secs_f64()));
            }
        }
    };
    feed(
        &mut core,
        secs(0.0),
        CoreInput::Reload(Box::new(prepared(&conf, &[]))),
    );
    for s in 1..=5 {
        while let Some(due) = core.next_deadline().filter(|&d| d <= secs(f64::from(s))) {
            feed(&mut core, due, CoreInput::Tick);
        }
        let advert = advert_from_peer(&core, "VI_2", 200);
        feed(&mut core, secs(f64::from(s)), advert);
    }
    feed(
        &mut core,
        secs(5.5),
        CoreInput::Link {
            ifindex: ETH0,
            name: "eth0".into(),
            up: false,
        },
    );
    feed(&mut core, secs(6.0), CoreInput::Shutdown);
    drop(recorder);
    assert!(live.len() >= 4, "the scenario has transitions: {live:?}");
    assert!(
        live.iter()
            .any(|l| l.contains("VI_1 transition BACKUP -> MASTER"))
    );

    let mut out = Vec::new();
    replay(&path, true, &mut out).expect("replay");
    let replayed: Vec<String> = String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(replayed, live);
    // The core names the interface (`cause.rs`), in the replay as live.
    assert!(replayed.iter().any(|l| l.contains("interface eth0 down")));
}

// ---------------------------------------------------------------------------------------------
// Stateful receive checks: AH replay, the address list

const AH: &str = " authentication {\n  auth_type AH\n  auth_pass secret\n }\n";
const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3));

fn drops(core: &Core<RecordingEffects>, name: &str, reason: DropReason) -> u64 {
    core.instance(name)
        .expect("instance")
        .1
        .counters
        .drops
        .get(reason)
}

fn received(core: &Core<RecordingEffects>, name: &str) -> u64 {
    core.instance(name)
        .expect("instance")
        .1
        .counters
        .adverts_received
}

fn ah(seq: u32) -> impl FnOnce(&mut RxAdvert) {
    move |a| a.ah_sequence = Some(seq)
}

#[test]
fn an_ah_sequence_number_not_above_the_last_is_a_replay() {
    let mut core = started(&instance("VI_1", 1, 100, AH));
    core.handle(secs(0.1), advert_with(&core, "VI_1", ah(5)));
    assert_eq!(received(&core, "VI_1"), 1);
    for (at, seq) in [(0.2, 5), (0.3, 4), (0.4, 1)] {
        core.handle(secs(at), advert_with(&core, "VI_1", ah(seq)));
    }
    assert_eq!(received(&core, "VI_1"), 1, "a replay was accepted");
    assert_eq!(drops(&core, "VI_1", DropReason::ReplayedAh), 3);
    core.handle(secs(0.5), advert_with(&core, "VI_1", ah(6)));
    assert_eq!(received(&core, "VI_1"), 2);
    // A different sender continues the same sequence (keepalived keeps one per instance).
    core.handle(
        secs(0.6),
        advert_with(&core, "VI_1", |a| {
            a.src = OTHER;
            a.ah_sequence = Some(6);
        }),
    );
    assert_eq!(drops(&core, "VI_1", DropReason::ReplayedAh), 4);
}

#[test]
fn a_replayed_ah_advert_does_not_hold_the_backup_once_the_master_died() {
    let mut core = started(&instance("VI_1", 1, 100, AH));
    // The master's last advert, at 0.1 s; then an attacker replays it every 200 ms.
    core.handle(secs(0.1), advert_with(&core, "VI_1", ah(10)));
    // Master_Down_Interval: 3 x 1 s + (256 - 100) / 256 s = 3.61 s after the last advert.
    let down = 0.1 + 3.0 + 156.0 / 256.0;
    let mut at = 0.3;
    while at < down + 2.0 {
        run_until(&mut core, secs(at));
        core.handle(secs(at), advert_with(&core, "VI_1", ah(10)));
        at += 0.2;
    }
    let became_master = core.effects().effects.iter().any(|e| {
        matches!(
            e,
            Effect::Transition {
                to: State::Master,
                ..
            }
        )
    });
    assert!(became_master, "the replay held the backup");
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert!(drops(&core, "VI_1", DropReason::ReplayedAh) >= 15);
    // As master it continues the virtual router's sequence: the other backups accept it.
    let (_, slot) = core.instance("VI_1").expect("instance");
    assert!(slot.tx.ah_sequence > 10, "sequence {}", slot.tx.ah_sequence);
}

fn mismatch(priority: u8) -> impl FnOnce(&mut RxAdvert) {
    move |a| {
        a.priority = Priority::new(priority);
        a.addresses_match = false;
    }
}

#[test]
fn a_wrong_address_list_is_dropped_unless_from_the_owner_or_a_leaving_master() {
    let mut core = started(&instance("VI_1", 1, 100, ""));
    core.handle(secs(0.1), advert_with(&core, "VI_1", mismatch(200)));
    assert_eq!(received(&core, "VI_1"), 0);
    assert_eq!(drops(&core, "VI_1", DropReason::AddressListMismatch), 1);
    // RFC 5798 §7.1: from the address owner it is logged and processed.
    core.handle(secs(0.2), advert_with(&core, "VI_1", mismatch(255)));
    assert_eq!(received(&core, "VI_1"), 1);
    assert_eq!(drops(&core, "VI_1", DropReason::AddressListMismatch), 1);
    // A master leaving (priority 0) is heard too: it only hastens the takeover.
    core.handle(secs(0.3), advert_with(&core, "VI_1", mismatch(0)));
    assert_eq!(received(&core, "VI_1"), 2);
    run_until(&mut core, secs(1.5));
    assert_eq!(
        state(&core, "VI_1"),
        State::Master,
        "Skew_Time, not Master_Down_Interval"
    );

    // A master checks every advert: a mismatched higher priority does not demote it.
    let mut core = started(&instance("VI_1", 1, 100, ""));
    run_until(&mut core, secs(5.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    core.handle(secs(5.1), advert_with(&core, "VI_1", mismatch(254)));
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert_eq!(drops(&core, "VI_1", DropReason::AddressListMismatch), 1);
    core.handle(secs(5.2), advert_from_peer(&core, "VI_1", 254));
    assert_eq!(state(&core, "VI_1"), State::Backup, "the control advert");
}

#[test]
fn skip_check_adv_addr_spares_only_the_current_master_while_backup() {
    let conf = instance("VI_1", 1, 100, " skip_check_adv_addr\n");
    let mut core = started(&conf);
    // A new master is checked.
    core.handle(secs(0.1), advert_with(&core, "VI_1", mismatch(200)));
    assert_eq!(drops(&core, "VI_1", DropReason::AddressListMismatch), 1);
    core.handle(secs(0.2), advert_from_peer(&core, "VI_1", 200));
    // The master it last heard is not.
    core.handle(secs(0.3), advert_with(&core, "VI_1", mismatch(200)));
    assert_eq!(received(&core, "VI_1"), 2);
    // Another sender is.
    core.handle(
        secs(0.4),
        advert_with(&core, "VI_1", |a| {
            a.src = OTHER;
            a.addresses_match = false;
        }),
    );
    assert_eq!(drops(&core, "VI_1", DropReason::AddressListMismatch), 2);
    assert_eq!(received(&core, "VI_1"), 2);
}

// ---------------------------------------------------------------------------------------------
// Residual virtual addresses (residual.rs)

/// `prepared` with these (ifindex, address) pairs found in the kernel.
pub(super) fn prepared_with_present(conf: &str, present: &[(u32, &str)]) -> Prepared {
    let mut p = prepared(conf, &[]);
    p.present_vips = present
        .iter()
        .map(|&(ifindex, addr)| PresentAddress {
            ifindex,
            addr: addr.parse().expect("literal"),
        })
        .collect();
    p
}

/// The address removals among `effects`, in order.
fn removes_in(effects: &[Effect]) -> Vec<&Effect> {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Remove { .. }))
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal")
}

#[test]
fn a_backup_start_removes_its_residual_vips_before_anything_else() {
    // VI_1's address is on eth0 from a killed run, VI_2's is not; 192.0.2.2 on eth1 is
    // another interface's address, not VI_2's.
    let conf = format!(
        "{}{}",
        instance("VI_1", 1, 100, ""),
        instance("VI_2", 2, 100, "")
    );
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_with_present(
            &conf,
            &[(ETH0, "192.0.2.1"), (ETH1, "192.0.2.2")],
        ))),
    );
    let effects = core.effects_mut().take();
    let removes = removes_in(&effects);
    assert_eq!(
        removes,
        vec![&Effect::Remove {
            instance: "VI_1".into(),
            addresses: vec![ip("192.0.2.1")],
        }]
    );
    // Removed before the instance starts (its first transition) and never installed.
    let remove_at = effects
        .iter()
        .position(|e| matches!(e, Effect::Remove { .. }))
        .expect("remove");
    let first_transition = effects
        .iter()
        .position(|e| matches!(e, Effect::Transition { .. }))
        .expect("transition");
    assert!(remove_at < first_transition, "{effects:?}");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Install { .. })));
    assert_eq!(state(&core, "VI_1"), State::Backup);
}

#[test]
fn the_address_owner_keeps_its_addresses_at_start() {
    let conf = instance("VI_1", 1, 255, "");
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_with_present(
            &conf,
            &[(ETH0, "192.0.2.1")],
        ))),
    );
    let effects = core.effects_mut().take();
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Remove { .. })),
        "the owner starts as master and keeps its VIPs: {effects:?}"
    );
    assert_eq!(state(&core, "VI_1"), State::Master);
}

#[test]
fn a_reload_never_removes_a_carried_instances_vips_only_a_new_ones() {
    let (mut core, conf) = master_and_backup();
    // VI_1 is master and holds 192.0.2.1; VI_3 is new and lists 192.0.2.3 (left over) and
    // 192.0.2.1 (VI_1's, which must stay).
    let conf = format!(
        "{conf}{}",
        instance("VI_3", 3, 100, "")
            .replace("  192.0.2.3/24\n", "  192.0.2.3/24\n  192.0.2.1/24\n")
    );
    core.handle(
        secs(4.1),
        CoreInput::Reload(Box::new(prepared_with_present(
            &conf,
            &[(ETH0, "192.0.2.1"), (ETH0, "192.0.2.3")],
        ))),
    );
    let effects = core.effects_mut().take();
    let removes = removes_in(&effects);
    assert_eq!(
        removes,
        vec![&Effect::Remove {
            instance: "VI_3".into(),
            addresses: vec![ip("192.0.2.3")],
        }]
    );
    assert_eq!(state(&core, "VI_1"), State::Master);
}

// ---------------------------------------------------------------------------------------------
// Sync-group notifications

const GROUP_G: &str = "vrrp_sync_group G {\n group {\n  VI_1\n  VI_2\n }\n \
                       notify_master \"/bin/m\"\n notify \"/bin/n\"\n}\n";

/// The notifications, instance and group, in the order the core made them.
fn notes(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify {
                instance, state, ..
            } => Some(format!("INSTANCE {instance} {}", state.as_keepalived())),
            Effect::GroupNotify { group, state } => {
                Some(format!("GROUP {group} {}", state.as_keepalived()))
            }
            _ => None,
        })
        .collect()
}

fn grouped_pair() -> (Core<RecordingEffects>, String) {
    let conf = format!(
        "{GROUP_G}{}{}",
        instance("VI_1", 1, 100, ""),
        instance("VI_2", 2, 100, "")
    );
    (started(&conf), conf)
}

#[test]
fn a_sync_group_announces_each_state_after_its_members_and_stop_last() {
    let (mut core, _) = grouped_pair();
    assert_eq!(
        notes(&core.effects_mut().take()),
        [
            "INSTANCE VI_1 BACKUP",
            "INSTANCE VI_2 BACKUP",
            "GROUP G BACKUP"
        ]
    );
    // Nobody else is there: both become master together, then the group does.
    run_until(&mut core, secs(4.0));
    assert_eq!(
        notes(&core.effects_mut().take()),
        [
            "INSTANCE VI_1 MASTER",
            "INSTANCE VI_2 MASTER",
            "GROUP G MASTER"
        ]
    );
    // A higher-priority master on VI_1: VI_1 steps down, VI_2 follows, then the group.
    let advert = advert_from_peer(&core, "VI_1", 200);
    core.handle(secs(4.5), advert);
    assert_eq!(
        notes(&core.effects_mut().take()),
        [
            "INSTANCE VI_1 BACKUP",
            "INSTANCE VI_2 BACKUP",
            "GROUP G BACKUP"
        ]
    );
    core.handle(secs(5.0), CoreInput::Shutdown);
    assert_eq!(
        notes(&core.effects_mut().take()),
        ["INSTANCE VI_1 STOP", "INSTANCE VI_2 STOP", "GROUP G STOP"]
    );
}

#[test]
fn a_faulted_member_makes_a_fault_group_announced_once() {
    let (mut core, _) = grouped_pair();
    core.effects_mut().take();
    core.handle(
        secs(1.0),
        CoreInput::Link {
            ifindex: ETH0,
            name: "eth0".into(),
            up: false,
        },
    );
    let got = notes(&core.effects_mut().take());
    assert_eq!(
        got.iter()
            .filter(|n| n.starts_with("GROUP"))
            .collect::<Vec<_>>(),
        ["GROUP G FAULT"],
        "{got:?}"
    );
    assert_eq!(got.last().map(String::as_str), Some("GROUP G FAULT"));
}

#[test]
fn a_reload_keeps_a_group_quiet_and_stops_a_removed_one() {
    let (mut core, conf) = grouped_pair();
    run_until(&mut core, secs(4.0));
    core.effects_mut().take();
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    assert_eq!(notes(&core.effects_mut().take()), Vec::<String>::new());
    // Without the group, its members restart (a different sync group) and it stops.
    let ungrouped = format!(
        "{}{}",
        instance("VI_1", 1, 100, ""),
        instance("VI_2", 2, 100, "")
    );
    core.handle(
        secs(4.2),
        CoreInput::Reload(Box::new(prepared(&ungrouped, &[]))),
    );
    let got = notes(&core.effects_mut().take());
    let stop = got.iter().position(|n| n == "GROUP G STOP");
    let members_stopped = got
        .iter()
        .rposition(|n| n.ends_with(" STOP") && n.starts_with("INSTANCE"));
    assert!(
        stop.is_some() && stop > members_stopped,
        "group STOP after its members' STOP: {got:?}"
    );
}

#[test]
fn a_group_plan_runs_keepalived_argv_with_priority_zero() {
    let (core, _) = grouped_pair();
    let group = &core.groups[0].plan;
    let note = crate::notify::Notification {
        scope: crate::notify::Scope::Group,
        name: "G".into(),
        state: NotifyState::Master,
        priority: 0,
    };
    let argv: Vec<Vec<String>> = crate::notify::commands_for(group.notify_scripts(), &note)
        .into_iter()
        .map(|s| s.argv)
        .collect();
    assert_eq!(
        argv,
        [vec!["/bin/m"], vec!["/bin/n", "GROUP", "G", "MASTER", "0"]]
    );
    assert_eq!(note.fifo_line(), "GROUP \"G\" MASTER 0\n");
}

// --- An IPv6 instance whose link-local source is tentative (DAD running) at start ---

const LINK_LOCAL: &str = "fe80::1";

/// A v6 instance on eth0, sending from `LINK_LOCAL`, which the kernel reported as `usable` or
/// not when the configuration was prepared.
fn prepared_v6(usable: bool) -> Prepared {
    let conf = "vrrp_instance V6 {\n interface eth0\n virtual_router_id 6\n priority 100\n \
                advert_int 1\n virtual_ipaddress {\n  2001:db8::6/64\n }\n}\n";
    let loaded = load_keepalived_str(conf, Path::new("test.conf"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config does not load: {e:?}"));
    let ll: std::net::Ipv6Addr = LINK_LOCAL.parse().expect("literal");
    let with_ll = |name: &str| {
        facts(name).map(|mut f| {
            f.link_local_v6 = Some(ll);
            f
        })
    };
    let instances = plan(&loaded.model, &with_ll).unwrap_or_else(|e| panic!("plan: {e:?}"));
    let links = vec![LinkFact {
        ifindex: ETH0,
        name: "eth0".into(),
        up: true,
        link_locals: vec![super::input::LinkLocalFact { addr: ll, usable }],
    }];
    assemble(&loaded.model, instances, Vec::new(), links)
}

fn link_local_event(tentative: bool) -> CoreInput {
    CoreInput::AddressAdded {
        ifindex: ETH0,
        addr: LINK_LOCAL.parse().expect("literal"),
        tentative,
    }
}

#[test]
fn a_v6_instance_waits_in_fault_for_its_tentative_link_local_then_starts() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(secs(0.0), CoreInput::Reload(Box::new(prepared_v6(false))));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("V6", State::Initialize, State::Fault)]
    );
    // Netlink repeats the tentative address (a flag change, another address): still waiting.
    core.handle(secs(0.5), link_local_event(true));
    run_until(&mut core, secs(10.0));
    assert_eq!(state(&core, "V6"), State::Fault);
    assert!(core.effects_mut().take().is_empty());

    // DAD is over: the socket is bound to the address, then the instance starts.
    core.handle(secs(10.0), link_local_event(false));
    let effects = core.effects_mut().take();
    assert_eq!(
        effects.first(),
        Some(&Effect::SourceReady {
            instance: "V6".into()
        })
    );
    assert_eq!(
        transitions(&effects),
        vec![t("V6", State::Fault, State::Backup)]
    );
    run_until(&mut core, secs(20.0));
    assert_eq!(state(&core, "V6"), State::Master);
}

#[test]
fn a_v6_instance_with_a_usable_link_local_starts_at_once() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(secs(0.0), CoreInput::Reload(Box::new(prepared_v6(true))));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("V6", State::Initialize, State::Backup)]
    );
}

#[test]
fn after_a_link_flap_a_v6_instance_waits_for_its_link_local_again() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(secs(0.0), CoreInput::Reload(Box::new(prepared_v6(true))));
    core.effects_mut().take();
    let link = |up| CoreInput::Link {
        ifindex: ETH0,
        name: "eth0".into(),
        up,
    };
    // Link down: the kernel removes the link-local address; back up, it is added again as
    // tentative, after the link message.
    core.handle(secs(1.0), link(false));
    core.handle(
        secs(1.0),
        CoreInput::AddressRemoved {
            ifindex: ETH0,
            addr: LINK_LOCAL.parse().expect("literal"),
        },
    );
    core.handle(secs(2.0), link(true));
    core.handle(secs(2.0), link_local_event(true));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("V6", State::Backup, State::Fault)]
    );
    core.handle(secs(5.0), link_local_event(false));
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![t("V6", State::Fault, State::Backup)]
    );
}

#[test]
fn an_address_usable_while_the_link_is_down_waits_for_the_link() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(secs(0.0), CoreInput::Reload(Box::new(prepared_v6(false))));
    core.handle(
        secs(0.1),
        CoreInput::Link {
            ifindex: ETH0,
            name: "eth0".into(),
            up: false,
        },
    );
    core.effects_mut().take();
    core.handle(secs(1.0), link_local_event(false));
    assert_eq!(state(&core, "V6"), State::Fault);
    assert!(transitions(&core.effects_mut().take()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// auth_hmac's replay marks

const HMAC: &str =
    " version 3\n auth_hmac {\n  key 1 an-ascii-key-of-thirty-two-bytes\n  active_key 1\n }\n";

fn hmac_seq(secs: u32, low: u32) -> impl FnOnce(&mut RxAdvert) {
    move |a| {
        a.hmac = Some(super::input::HmacSeen {
            sequence: crate::wire::auth_hmac::Sequence(u64::from(secs) << 32 | u64::from(low)),
            now_secs: secs,
        })
    }
}

#[test]
fn an_hmac_sequence_that_does_not_grow_per_sender_is_a_replay() {
    let mut core = started(&instance("VI_1", 1, 100, HMAC));
    core.handle(secs(0.1), advert_with(&core, "VI_1", hmac_seq(1000, 5)));
    assert_eq!(received(&core, "VI_1"), 1);
    for (at, low) in [(0.2, 5), (0.3, 4)] {
        core.handle(secs(at), advert_with(&core, "VI_1", hmac_seq(1000, low)));
    }
    assert_eq!(received(&core, "VI_1"), 1, "a replay was accepted");
    assert_eq!(drops(&core, "VI_1", DropReason::HmacReplay), 2);
    // Another sender has a mark of its own (unlike AH's one sequence per instance).
    core.handle(
        secs(0.4),
        advert_with(&core, "VI_1", |a| {
            hmac_seq(1000, 1)(a);
            a.src = OTHER;
        }),
    );
    assert_eq!(received(&core, "VI_1"), 2);
    // The marks survive a reload that rotates the key: the instance is carried, not restarted.
    let rotated = instance(
        "VI_1",
        1,
        100,
        " version 3\n auth_hmac {\n  key 1 an-ascii-key-of-thirty-two-bytes\n  key 2 An-ascii-key-of-thirty-two-bytes\n  active_key 2\n }\n",
    );
    core.handle(
        secs(0.5),
        CoreInput::Reload(Box::new(prepared(&rotated, &[]))),
    );
    core.handle(secs(0.6), advert_with(&core, "VI_1", hmac_seq(1000, 5)));
    assert_eq!(drops(&core, "VI_1", DropReason::HmacReplay), 3);
}

#[test]
fn auth_hmac_with_unicast_peers_accepts_only_the_peers() {
    let conf = instance(
        "VI_1",
        1,
        100,
        &format!("{HMAC} unicast_peer {{\n  192.0.2.2\n }}\n"),
    );
    let loaded =
        load_keepalived_str(&conf, Path::new("t.conf"), &LoadOptions::default()).expect("loads");
    let plans = plan(&loaded.model, &facts).expect("plans");
    let peers = plans[0].rx_checks.peers.as_deref().expect("a peer filter");
    // keepalived anchors each unicast sender's replay mark on its peer, so other sources are
    // refused, but the TTL range stays check_unicast_src's (none here).
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].addr, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!((peers[0].min_ttl, peers[0].max_ttl), (0, 255));
}
