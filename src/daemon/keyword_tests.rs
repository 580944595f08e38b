//! keepalived keywords the core acts on (`vrrp_startup_delay`, `unicast_fault_no_peer`),
//! through `Core::handle` with a virtual clock.

use std::net::Ipv4Addr;
use std::path::Path;

use super::core::Core;
use super::input::{CoreInput, LinkFact, Prepared};
use super::plan::{IfaceFacts, plan, plan_groups};
use super::prepare::assemble;
use super::record::{Effect, RecordingEffects};
use crate::config::{LoadOptions, load_keepalived_str};
use crate::fsm::{State, Time};
use crate::track::TrackerUpdate;

fn facts(name: &str) -> Option<IfaceFacts> {
    (name == "eth0").then(|| IfaceFacts {
        ifindex: 2,
        name: "eth0".into(),
        mac: [0x02, 0, 0, 0, 0, 1],
        up: true,
        primary_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
        link_local_v6: None,
        ipv6_forwarding: false,
    })
}

fn prepared(global: &str) -> Prepared {
    prepared_with(global, "")
}

fn prepared_with(global: &str, instance: &str) -> Prepared {
    let conf = format!(
        "global_defs {{\n{global}}}\nvrrp_instance vi {{\n interface eth0\n virtual_router_id 51\n \
         priority 100\n advert_int 1\n virtual_ipaddress {{\n  192.0.2.200/24\n }}\n{instance}}}\n"
    );
    prepared_text(&conf)
}

fn prepared_text(conf: &str) -> Prepared {
    let loaded = load_keepalived_str(conf, Path::new("t.conf"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config does not load: {e:?}\n{conf}"));
    let config = loaded.model;
    let instances = plan(&config, &facts).unwrap_or_else(|e| panic!("plan: {e:?}"));
    let groups = plan_groups(&config).unwrap_or_else(|e| panic!("plan groups: {e:?}"));
    let links = vec![LinkFact {
        ifindex: 2,
        name: "eth0".into(),
        up: true,
        link_locals: Vec::new(),
    }];
    assemble(&config, instances, groups, links)
}

fn ms(millis: u64) -> Time {
    Time::from_micros(millis * 1_000)
}

fn state(core: &Core<RecordingEffects>) -> State {
    core.instance("vi")
        .map_or(State::Initialize, |(i, _)| i.state())
}

fn run_until(core: &mut Core<RecordingEffects>, at: Time) {
    while let Some(due) = core.next_deadline().filter(|&d| d <= at) {
        core.handle(due, CoreInput::Tick);
    }
}

/// Master_Down_Interval of priority 100, advert_int 1 s: 3 s + 156/256 s (RFC 3768 §6.1).
const MDI_MS: u64 = 3_609;

#[test]
fn instances_start_when_the_startup_delay_ends() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        ms(0),
        CoreInput::Reload(Box::new(prepared(" vrrp_startup_delay 5\n"))),
    );
    assert_eq!(state(&core), State::Initialize, "held during the delay");
    assert_eq!(core.next_deadline(), Some(ms(5_000)));
    run_until(&mut core, ms(4_999));
    assert_eq!(state(&core), State::Initialize);
    run_until(&mut core, ms(5_000));
    assert_eq!(
        state(&core),
        State::Backup,
        "started at the end of the delay"
    );
    // Without the delay it would be Master at 3.609 s; with it, at 5 s + 3.609 s.
    run_until(&mut core, ms(5_000 + MDI_MS));
    assert_eq!(state(&core), State::Backup);
    run_until(&mut core, ms(5_000 + MDI_MS + 1));
    assert_eq!(state(&core), State::Master);
}

#[test]
fn without_a_startup_delay_instances_start_at_once() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(ms(0), CoreInput::Reload(Box::new(prepared(""))));
    assert_eq!(state(&core), State::Backup);
}

#[test]
fn a_reload_moves_a_running_delay_and_never_starts_a_new_one() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        ms(0),
        CoreInput::Reload(Box::new(prepared(" vrrp_startup_delay 10\n"))),
    );
    // keepalived: the delay is counted from the first start with the new value.
    core.handle(
        ms(1_000),
        CoreInput::Reload(Box::new(prepared(" vrrp_startup_delay 3\n"))),
    );
    assert_eq!(state(&core), State::Initialize);
    assert_eq!(core.next_deadline(), Some(ms(3_000)));
    run_until(&mut core, ms(3_000));
    assert_eq!(state(&core), State::Backup);
    // A reload after the delay ended does not hold the (running) instance again, nor delay.
    core.handle(
        ms(4_000),
        CoreInput::Reload(Box::new(prepared(" vrrp_startup_delay 30\n"))),
    );
    assert_eq!(state(&core), State::Backup);
    assert!(core.next_deadline().is_some_and(|d| d < ms(30_000)));
}

#[test]
fn unicast_fault_no_peer_without_peers_holds_the_instance_in_fault() {
    // keepalived vrrp.c: "Cannot use unicast without any peers - going to fault state",
    // instead of multicasting; no checker or link event brings it out.
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        ms(0),
        CoreInput::Reload(Box::new(prepared_with("", " unicast_fault_no_peer\n"))),
    );
    assert_eq!(state(&core), State::Fault);
    run_until(&mut core, ms(20_000));
    assert_eq!(
        state(&core),
        State::Fault,
        "never multicasts its way to Master"
    );
    for (at, up) in [(20_000, false), (21_000, true)] {
        core.handle(
            ms(at),
            CoreInput::Link {
                ifindex: 2,
                name: "eth0".into(),
                up,
            },
        );
    }
    assert_eq!(
        state(&core),
        State::Fault,
        "a link coming back does not clear it"
    );
}

#[test]
fn unicast_fault_no_peer_with_a_peer_runs_as_unicast() {
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        ms(0),
        CoreInput::Reload(Box::new(prepared_with(
            "",
            " unicast_fault_no_peer\n unicast_peer {\n  192.0.2.2\n }\n",
        ))),
    );
    assert_eq!(state(&core), State::Backup);
}

fn priority_notes(core: &mut Core<RecordingEffects>) -> Vec<(bool, u8)> {
    core.effects_mut()
        .take()
        .into_iter()
        .filter_map(|e| match e {
            Effect::PriorityNotify {
                master, priority, ..
            } => Some((master, priority)),
            _ => None,
        })
        .collect()
}

fn weighted(flag: &str) -> Core<RecordingEffects> {
    let conf = format!(
        "vrrp_script chk {{\n script \"/bin/true\"\n weight 50\n}}\n\
         vrrp_instance vi {{\n interface eth0\n virtual_router_id 51\n priority 100\n \
         advert_int 1\n virtual_ipaddress {{\n  192.0.2.200/24\n }}\n \
         track_script {{\n  chk\n }}\n{flag}}}\n"
    );
    let mut core = Core::new(RecordingEffects::default());
    core.handle(ms(0), CoreInput::Reload(Box::new(prepared_text(&conf))));
    core
}

#[test]
fn notify_priority_changes_reports_each_effective_priority_change() {
    let mut core = weighted(" notify_priority_changes\n");
    assert_eq!(state(&core), State::Backup);
    priority_notes(&mut core);
    core.handle(
        ms(100),
        CoreInput::Tracker(TrackerUpdate::script("chk", true)),
    );
    assert_eq!(priority_notes(&mut core), vec![(false, 150)]);
    // The same verdict again: no change, no line.
    core.handle(
        ms(200),
        CoreInput::Tracker(TrackerUpdate::script("chk", true)),
    );
    assert_eq!(priority_notes(&mut core), vec![]);
    run_until(&mut core, ms(10_000));
    assert_eq!(state(&core), State::Master);
    priority_notes(&mut core);
    core.handle(
        ms(10_100),
        CoreInput::Tracker(TrackerUpdate::script("chk", false)),
    );
    assert_eq!(priority_notes(&mut core), vec![(true, 100)]);
}

#[test]
fn without_notify_priority_changes_nothing_is_reported() {
    let mut core = weighted("");
    core.handle(
        ms(100),
        CoreInput::Tracker(TrackerUpdate::script("chk", true)),
    );
    assert_eq!(priority_notes(&mut core), vec![]);
}
