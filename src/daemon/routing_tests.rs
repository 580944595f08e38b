//! Virtual routes and rules through the core: in with mastership after the VIPs, out before
//! them when leaving Master or stopping, and only the delta at a reload.

use super::core::Core;
use super::core_tests::{
    advert_from_peer, instance, prepared, prepared_with_present, run_until, secs, started, state,
    transitions,
};
use super::input::CoreInput;
use super::record::{Effect, RecordingEffects};
use crate::fsm::State;

const ROUTING: &str = " virtual_routes {\n  198.51.100.0/24 via 192.0.2.254\n  \
                       203.0.113.0/24 dev eth0\n }\n virtual_rules {\n  \
                       from 192.0.2.1 table 100\n }\n";

/// The address and routing effects, in order, as "install" / "remove" / "add-routing" /
/// "remove-routing" with their counts.
fn moves(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Install { .. } | Effect::Remove { .. } | Effect::Routing { .. }
            )
        })
        .map(ToString::to_string)
        .collect()
}

/// VI_1 (priority 200, with routes and a rule) becomes Master with no peer heard.
fn master() -> (Core<RecordingEffects>, String) {
    let conf = instance("VI_1", 1, 200, ROUTING);
    let mut core = started(&conf);
    run_until(&mut core, secs(4.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    (core, conf)
}

#[test]
fn routes_and_rules_go_in_with_mastership_after_the_addresses() {
    let (mut core, _) = master();
    assert_eq!(
        moves(&core.effects_mut().take()),
        vec![
            "VI_1 install 192.0.2.1".to_owned(),
            "VI_1 add-routing routes=2 rules=1".to_owned()
        ]
    );
}

#[test]
fn a_backup_installs_no_routes() {
    let conf = instance("VI_1", 1, 100, ROUTING);
    let mut core = started(&conf);
    for s in 1..=4 {
        let advert = advert_from_peer(&core, "VI_1", 200);
        core.handle(secs(f64::from(s)), advert);
        run_until(&mut core, secs(f64::from(s)));
    }
    assert_eq!(state(&core, "VI_1"), State::Backup);
    assert!(moves(&core.effects_mut().take()).is_empty());
}

#[test]
fn leaving_master_takes_routes_out_before_the_addresses() {
    let (mut core, _) = master();
    core.effects_mut().take();
    // A higher priority master appears (RFC 5798 §6.4.3): VI_1 steps down.
    let advert = advert_from_peer(&core, "VI_1", 250);
    core.handle(secs(4.5), advert);
    let effects = core.effects_mut().take();
    assert!(transitions(&effects).contains(&("VI_1".into(), State::Master, State::Backup)));
    assert_eq!(
        moves(&effects),
        vec![
            "VI_1 remove-routing routes=2 rules=1".to_owned(),
            "VI_1 remove 192.0.2.1".to_owned()
        ]
    );
}

#[test]
fn shutdown_takes_a_masters_routes_out() {
    let (mut core, _) = master();
    core.effects_mut().take();
    core.handle(secs(5.0), CoreInput::Shutdown);
    assert_eq!(
        moves(&core.effects_mut().take()),
        vec![
            "VI_1 remove-routing routes=2 rules=1".to_owned(),
            "VI_1 remove 192.0.2.1".to_owned()
        ]
    );
}

#[test]
fn an_instance_without_routes_has_no_routing_effect() {
    let conf = instance("VI_1", 1, 200, "");
    let mut core = started(&conf);
    run_until(&mut core, secs(4.0));
    assert_eq!(
        moves(&core.effects_mut().take()),
        vec!["VI_1 install 192.0.2.1".to_owned()]
    );
}

#[test]
fn a_reload_leaves_unchanged_routes_alone_and_moves_only_the_delta() {
    let (mut core, conf) = master();
    core.effects_mut().take();
    core.handle(secs(4.1), CoreInput::Reload(Box::new(prepared(&conf, &[]))));
    assert!(moves(&core.effects_mut().take()).is_empty());

    let changed = conf.replace("203.0.113.0/24 dev eth0", "203.0.113.0/25 dev eth0");
    core.handle(
        secs(4.2),
        CoreInput::Reload(Box::new(prepared(&changed, &[]))),
    );
    assert_eq!(state(&core, "VI_1"), State::Master);
    assert_eq!(
        moves(&core.effects_mut().take()),
        vec![
            "VI_1 remove-routing routes=1 rules=0".to_owned(),
            "VI_1 add-routing routes=1 rules=0".to_owned()
        ]
    );
}

#[test]
fn a_backup_start_with_residual_vips_removes_its_routes_first() {
    // VI_1's VIP is on eth0 (ifindex 2) from a killed master: its routes were in too.
    let conf = format!(
        "{}{}",
        instance("VI_1", 1, 100, ROUTING),
        instance(
            "VI_2",
            2,
            100,
            ROUTING.replace("table 100", "table 102").as_str()
        )
    );
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_with_present(&conf, &[(2, "192.0.2.1")]))),
    );
    // VI_2 had no residual VIP: its routes are not touched.
    assert_eq!(
        moves(&core.effects_mut().take()),
        vec![
            "VI_1 remove-routing routes=2 rules=1".to_owned(),
            "VI_1 remove 192.0.2.1".to_owned()
        ]
    );
}
