//! The core's decisions when the kernel's interfaces change under the plans: an interface
//! that appears (`dynamic_interfaces`), one deleted and created again under a new ifindex, and
//! a resync after lost netlink events (`resync.rs`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::core::Core;
use super::core_tests::{instance, run_until, secs, state, transitions};
use super::input::{CoreInput, KernelSnapshot, LinkFact, Prepared, PresentAddress};
use super::plan::{IfaceFacts, plan, plan_groups};
use super::prepare::assemble;
use super::record::{Effect, RecordingEffects};
use crate::config::{LoadOptions, load_keepalived_str};
use crate::fsm::State;

/// eth0 at `ifindex`, or missing (`None`).
fn prepared_at(conf: &str, eth0: Option<u32>) -> Prepared {
    let config = load_keepalived_str(conf, Path::new("test.conf"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config does not load: {e:?}\n{conf}"))
        .model;
    let facts = |name: &str| {
        let ifindex = eth0.filter(|_| name == "eth0")?;
        Some(IfaceFacts {
            ifindex,
            name: name.into(),
            mac: [0x02, 0, 0, 0, 0, 1],
            up: true,
            primary_v4: Some(Ipv4Addr::new(192, 0, 1, 1)),
            link_local_v6: None,
            ipv6_forwarding: false,
        })
    };
    let instances = plan(&config, &facts).unwrap_or_else(|e| panic!("plan: {e:?}"));
    let groups = plan_groups(&config).unwrap_or_else(|e| panic!("groups: {e:?}"));
    let links = eth0
        .map(|ifindex| LinkFact {
            ifindex,
            name: "eth0".into(),
            up: true,
            link_locals: Vec::new(),
        })
        .into_iter()
        .collect();
    assemble(&config, instances, groups, links)
}

fn link(ifindex: u32, up: bool) -> CoreInput {
    CoreInput::Link {
        ifindex,
        name: "eth0".into(),
        up,
    }
}

fn replans(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Replan { interface } if interface == "eth0"))
        .count()
}

const DYNAMIC: &str = "global_defs {\n dynamic_interfaces\n}\n";
const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

#[test]
fn with_dynamic_interfaces_a_missing_interface_holds_its_instance_in_fault_until_it_appears() {
    let conf = format!("{DYNAMIC}{}", instance("VI_1", 1, 100, ""));
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_at(&conf, None))),
    );
    assert_eq!(state(&core, "VI_1"), State::Fault);
    let (_, slot) = core.instance("VI_1").expect("instance");
    assert!(slot.plan.awaits_interface);
    // Nothing is opened for a placeholder: no socket in the receive table.
    assert!(
        core.effects_mut()
            .take()
            .iter()
            .any(|e| matches!(e, Effect::Bind { sockets: 0, .. }))
    );
    // An interface new to the core may be one a placeholder waits for (a virtual address's
    // `dev` is not named by the plan): planned again once; its repeats ask for nothing.
    let eth1 = CoreInput::Link {
        ifindex: 7,
        name: "eth1".into(),
        up: true,
    };
    core.handle(secs(1.0), eth1.clone());
    let asked = core.effects_mut().take();
    assert!(asked.contains(&Effect::Replan {
        interface: "eth1".into()
    }));
    core.handle(secs(1.1), eth1);
    assert!(
        !core
            .effects_mut()
            .take()
            .iter()
            .any(|e| matches!(e, Effect::Replan { .. }))
    );
    // eth0 appears: the configuration is planned again, and the plan it makes carries the
    // instance from Fault to Backup, on its socket (not a stop and a start).
    core.handle(secs(2.0), link(9, true));
    assert_eq!(replans(&core.effects_mut().take()), 1);
    core.handle(
        secs(2.1),
        CoreInput::Reload(Box::new(prepared_at(&conf, Some(9)))),
    );
    let effects = core.effects_mut().take();
    assert_eq!(
        transitions(&effects),
        vec![("VI_1".into(), State::Fault, State::Backup)],
        "{effects:?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Bind { sockets: 1, .. }))
    );
    // Planned: repeats of the link message ask for nothing more.
    core.handle(secs(2.2), link(9, true));
    assert_eq!(replans(&core.effects_mut().take()), 0);
    run_until(&mut core, secs(6.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
}

#[test]
fn an_interface_created_again_under_a_new_index_is_planned_again_and_its_instance_returns() {
    let conf = instance("VI_1", 1, 100, "");
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_at(&conf, Some(2)))),
    );
    run_until(&mut core, secs(5.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    core.effects_mut().take();
    core.handle(
        secs(5.1),
        CoreInput::LinkRemoved {
            ifindex: 2,
            name: "eth0".into(),
        },
    );
    assert_eq!(state(&core, "VI_1"), State::Fault);
    assert_eq!(replans(&core.effects_mut().take()), 0);
    // Created again: down at first, with no address yet.
    core.handle(secs(6.0), link(12, false));
    assert_eq!(replans(&core.effects_mut().take()), 1);
    // Its address arrives: asked again (the first plan may have failed for want of it).
    core.handle(
        secs(6.1),
        CoreInput::AddressAdded {
            ifindex: 12,
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 1, 1)),
            tentative: false,
        },
    );
    assert_eq!(replans(&core.effects_mut().take()), 1);
    core.handle(secs(6.2), link(12, true));
    core.effects_mut().take();
    core.handle(
        secs(6.3),
        CoreInput::Reload(Box::new(prepared_at(&conf, Some(12)))),
    );
    let effects = core.effects_mut().take();
    assert_eq!(
        transitions(&effects),
        vec![("VI_1".into(), State::Fault, State::Backup)],
        "{effects:?}"
    );
    let (_, slot) = core.instance("VI_1").expect("instance");
    assert_eq!(slot.plan.socket.ifindex, 12);
    // The old index's link events no longer concern it; the new one's do.
    core.handle(secs(6.4), link(2, false));
    assert_eq!(state(&core, "VI_1"), State::Backup);
    run_until(&mut core, secs(10.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
}

#[test]
fn a_resync_brings_an_instance_out_of_fault_and_restores_a_masters_vips() {
    let conf = instance("VI_1", 1, 100, "");
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_at(&conf, Some(2)))),
    );
    run_until(&mut core, secs(5.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    let eth0 = |up| LinkFact {
        ifindex: 2,
        name: "eth0".into(),
        up,
        link_locals: Vec::new(),
    };
    // The link went down and came back while the events were lost; the VIP was deleted.
    core.handle(secs(5.1), link(2, false));
    assert_eq!(state(&core, "VI_1"), State::Fault);
    core.effects_mut().take();
    core.handle(
        secs(6.0),
        CoreInput::Resync(Box::new(KernelSnapshot {
            links: vec![eth0(true)],
            addresses: Vec::new(),
        })),
    );
    assert_eq!(
        transitions(&core.effects_mut().take()),
        vec![("VI_1".into(), State::Fault, State::Backup)]
    );
    run_until(&mut core, secs(10.0));
    assert_eq!(state(&core, "VI_1"), State::Master);
    core.effects_mut().take();
    // Master; its VIP gone from the kernel without an event: added back, and only that.
    core.handle(
        secs(10.1),
        CoreInput::Resync(Box::new(KernelSnapshot {
            links: vec![eth0(true)],
            addresses: Vec::new(),
        })),
    );
    let effects = core.effects_mut().take();
    assert_eq!(
        effects,
        vec![Effect::Install {
            instance: "VI_1".into(),
            addresses: vec![VIP],
        }]
    );
    // Everything in place: a resync changes nothing.
    core.handle(
        secs(10.2),
        CoreInput::Resync(Box::new(KernelSnapshot {
            links: vec![eth0(true)],
            addresses: vec![PresentAddress {
                ifindex: 2,
                addr: VIP,
            }],
        })),
    );
    assert!(core.effects_mut().take().is_empty());
    // The link went down unseen: Fault.
    core.handle(
        secs(10.3),
        CoreInput::Resync(Box::new(KernelSnapshot {
            links: vec![eth0(false)],
            addresses: Vec::new(),
        })),
    );
    assert_eq!(state(&core, "VI_1"), State::Fault);
}

#[test]
fn a_resync_sees_an_interface_deleted_and_created_again_unseen() {
    let conf = instance("VI_1", 1, 100, "");
    let mut core = Core::new(RecordingEffects::default());
    core.handle(
        secs(0.0),
        CoreInput::Reload(Box::new(prepared_at(&conf, Some(2)))),
    );
    run_until(&mut core, secs(5.0));
    core.effects_mut().take();
    core.handle(
        secs(5.1),
        CoreInput::Resync(Box::new(KernelSnapshot {
            links: vec![LinkFact {
                ifindex: 14,
                name: "eth0".into(),
                up: true,
                link_locals: Vec::new(),
            }],
            addresses: Vec::new(),
        })),
    );
    let effects = core.effects_mut().take();
    // Gone from its old index: Fault (not a Master restoring VIPs on a dead index), and
    // planned again for the new one.
    assert_eq!(state(&core, "VI_1"), State::Fault);
    assert!(!effects.iter().any(|e| matches!(e, Effect::Install { .. })));
    assert_eq!(replans(&effects), 1, "{effects:?}");
}

#[test]
fn a_resync_is_recorded_and_replayed_like_any_input() {
    let input = CoreInput::Resync(Box::new(KernelSnapshot {
        links: vec![LinkFact {
            ifindex: 2,
            name: "eth0".into(),
            up: true,
            link_locals: Vec::new(),
        }],
        addresses: vec![PresentAddress {
            ifindex: 2,
            addr: VIP,
        }],
    }));
    let line = serde_json::to_string(&input).expect("serialises");
    let back: CoreInput = serde_json::from_str(&line).expect("parses");
    assert_eq!(back, input);
}

#[test]
fn without_dynamic_interfaces_a_missing_interface_is_not_planned() {
    let config = load_keepalived_str(
        &instance("VI_1", 1, 100, ""),
        Path::new("test.conf"),
        &LoadOptions::default(),
    )
    .expect("loads")
    .model;
    let errors = plan(&config, &|_| None).expect_err("planned without its interface");
    assert!(errors[0].message.contains("does not exist"), "{errors:?}");
}
