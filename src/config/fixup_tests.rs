//! keepalived's fix-ups (fixup.rs), each through the keepalived.conf loader: the warning at
//! the line keepalived names, the model keepalived runs, and `--strict` refusing.

use std::path::Path;

use crate::config::model::InitialState;
use crate::config::{LoadOptions, Severity, load_keepalived_str};

fn load(text: &str) -> crate::config::Loaded {
    load_keepalived_str(text, Path::new("f.conf"), &LoadOptions::default()).expect("loads")
}

fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance V {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n  10.0.0.1\n }}\n{extra}}}\n"
    )
}

#[test]
fn strict_mode_ignores_authentication_and_resets_the_state() {
    let text = format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        instance(
            " state MASTER\n priority 100\n authentication {\n  auth_type PASS\n  auth_pass 1111\n }\n"
        )
    );
    let l = load(&text);
    let inst = &l.model.instances[0];
    assert_eq!(inst.auth, None);
    assert_eq!(inst.initial_state, InitialState::Backup);
    let msgs: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter().any(|m| m.starts_with("f.conf:10:2: warning:")
            && m.contains("State MASTER must match being address owner")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.starts_with("f.conf:12:2: warning:")
            && m.contains("Strict mode does not support authentication. Ignoring.")),
        "{msgs:?}"
    );
    let strict = LoadOptions {
        strict: true,
        ..Default::default()
    };
    let e = load_keepalived_str(&text, Path::new("f.conf"), &strict).expect_err("refused");
    assert!(e.0.iter().all(|d| d.severity == Severity::Error));
    assert!(e.0.iter().any(|d| d.message.contains("Strict mode")));
}

#[test]
fn strict_owner_starts_as_master() {
    let text = format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        instance(" priority 255\n")
    );
    let l = load(&text);
    assert_eq!(l.model.instances[0].initial_state, InitialState::Master);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.message.contains("address owner"))
    );
}

#[test]
fn a_script_without_a_command_is_removed_and_its_references_ignored() {
    let text = format!(
        "vrrp_script chk {{\n interval 1\n}}\n{}",
        instance(" track_script {\n  chk\n }\n")
    );
    let l = load(&text);
    assert!(l.model.scripts.is_empty());
    assert!(l.model.instances[0].track_scripts.is_empty());
    let msgs: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter().any(|m| m
            .starts_with("f.conf:1:1: warning: No script set for vrrp_script `chk` - removing")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.starts_with("f.conf:11:3: warning:")
            && m.contains("track script `chk` not found, ignoring")),
        "{msgs:?}"
    );
}

#[test]
fn state_master_without_priority_is_the_owner() {
    let l = load(&instance(" state MASTER\n"));
    assert_eq!(l.model.instances[0].priority, crate::types::Priority::OWNER);
    let l = load(&instance(" state MASTER\n priority 100\n"));
    assert_eq!(l.model.instances[0].priority.get(), 100);
    let l = load(&instance(" state BACKUP\n"));
    assert_eq!(l.model.instances[0].priority.get(), 100);
}

/// Each of keepalived's remaining `vrrp_complete_instance` fix-ups: the warning at the
/// keyword's line, and the model as keepalived runs it.
#[test]
fn preemption_strict_and_interval_fix_ups() {
    type Check = fn(&crate::config::model::Instance) -> bool;
    let strict = "global_defs {\n vrrp_strict\n}\n";
    let cases: &[(&str, &str, u32, &str, Check)] = &[
        (
            "",
            " priority 255\n nopreempt\n",
            8,
            "nopreempt is incompatible with priority 255",
            |i| i.preempt,
        ),
        (
            "",
            " state MASTER\n priority 100\n nopreempt\n",
            9,
            "nopreempt will not work with initial state MASTER",
            |i| i.preempt,
        ),
        (
            "",
            " state MASTER\n priority 100\n preempt_delay 5\n",
            9,
            "preempt delay will not work with initial state MASTER",
            |i| i.preempt_delay.get() == 0,
        ),
        (
            "",
            " nopreempt\n preempt_delay 5\n",
            8,
            "preempt_delay is incompatible with nopreempt mode",
            |i| i.preempt_delay.get() == 0,
        ),
        (
            "",
            " unicast_peer {\n  10.0.0.2\n }\n mcast_dst_ip 224.0.0.19\n",
            10,
            "multicast destination specified with unicast - ignoring",
            |i| i.mcast_dst_ip.is_none(),
        ),
        (
            "",
            " advert_int 2.4\n",
            7,
            "VRRPv2 advertisement interval 2.40s must be an integer. rounding",
            |i| i.advert_int.get() == 200,
        ),
        ("", " advert_int 300\n", 7, "Setting to 255s", |i| {
            i.advert_int.get() == 25_500
        }),
        (
            "",
            " version 3\n advert_int 50\n",
            8,
            "Setting to 40.95s",
            |i| i.advert_int.get() == 4095,
        ),
        (
            strict,
            " preempt_delay 5\n",
            10,
            "preempt_delay is incompatible with strict mode",
            |i| i.preempt_delay.get() == 0,
        ),
        (
            strict,
            " down_timer_adverts 5\n",
            10,
            "down_timer_adverts is incompatible with strict mode",
            |i| i.down_timer_adverts == 3,
        ),
        (
            strict,
            " accept\n",
            10,
            "accept mode for VRRP version 2 does not comply with RFC3768",
            |i| !i.accept,
        ),
        (
            strict,
            " garp_lower_prio_repeat 2\n",
            10,
            "Strict mode requires no repeat garps",
            |i| i.garp.lower_prio_repeat == 0,
        ),
        (
            strict,
            " higher_prio_send_advert\n",
            10,
            "higher_prio_send_advert to be clear",
            |i| !i.higher_prio_send_advert,
        ),
    ];
    for (global, extra, line, message, check) in cases {
        let text = format!("{global}{}", instance(extra));
        let l = load(&text);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.pos.line == *line && w.message.contains(message)),
            "`{message}` at line {line}; got {:?}",
            l.warnings
        );
        assert!(
            check(&l.model.instances[0]),
            "{message}: model not fixed up"
        );
    }
}

#[test]
fn an_invalid_address_is_skipped_and_a_long_prefix_shortened() {
    let text = "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n  10.0.0.300/24\n  10.0.0.5/40\n }\n}\nstatic_ipaddress {\n 10.1.0.999\n 10.1.0.1/24 dev eth0\n}\n";
    let l = load(text);
    let vips: Vec<String> = l.model.instances[0]
        .virtual_addresses
        .iter()
        .map(|a| format!("{}/{}", a.addr, a.prefix_len))
        .collect();
    assert_eq!(vips, ["10.0.0.1/32", "10.0.0.5/32"]);
    assert_eq!(l.model.static_addresses.len(), 1);
    let at = |line: u32, text: &str| {
        l.warnings
            .iter()
            .any(|w| w.pos.line == line && w.message.contains(text))
    };
    assert!(
        at(6, "VRRP parsed invalid IP 10.0.0.300/24. skipping IP..."),
        "{:?}",
        l.warnings
    );
    assert!(at(
        7,
        "Invalid address prefix len 40 for address 10.0.0.5/40 - using 32"
    ));
    assert!(at(11, "VRRP parsed invalid IP 10.1.0.999. skipping IP..."));
    let strict = LoadOptions {
        strict: true,
        ..Default::default()
    };
    assert!(load_keepalived_str(text, Path::new("f.conf"), &strict).is_err());
}

#[test]
fn sync_groups_lose_unknown_and_duplicate_members_and_empty_groups_go() {
    let two = format!(
        "{}{}",
        instance(""),
        instance("")
            .replace("V {", "W {")
            .replace("router_id 1", "router_id 2")
    );
    let text = format!(
        "{two}vrrp_sync_group G1 {{\n group {{\n  V\n  X\n  W\n }}\n}}\nvrrp_sync_group G2 {{\n group {{\n  W\n }}\n}}\nvrrp_sync_group G3 {{\n group {{\n  V\n  Wx\n }}\n notify_master /bin/true\n}}\n"
    );
    let l = load(&text);
    let groups: Vec<(&str, Vec<&str>)> = l
        .model
        .sync_groups
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                g.group.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(groups, [("G1", vec!["V", "W"])]);
    let at = |line: u32, text: &str| {
        l.warnings
            .iter()
            .any(|w| w.pos.line == line && w.message.contains(text))
    };
    assert!(
        at(
            18,
            "Virtual router X specified in sync group G1 doesn't exist - ignoring"
        ),
        "{:?}",
        l.warnings
    );
    assert!(at(
        24,
        "Virtual router W cannot exist in more than one sync group"
    ));
    assert!(at(
        22,
        "Sync group G2, no matching virtual router found in group declaration - removing"
    ));
    assert!(at(
        29,
        "Virtual router V cannot exist in more than one sync group"
    ));
    assert!(at(
        30,
        "Virtual router Wx specified in sync group G3 doesn't exist"
    ));
    assert!(at(27, "Sync group G3, no matching virtual router found"));
}

#[test]
fn a_removed_script_leaves_later_positions_alone() {
    // The second script's missing-weight warning, if any, and any diagnostic about it,
    // point at its own lines once the first is removed.
    let text = "vrrp_script a {\n interval 1\n}\nvrrp_script b {\n script /bin/true\n}\n";
    let (_, map, _) = crate::config::keepalived::load_text(text, Path::new("f.conf"), "x");
    assert_eq!(map.locate("scripts.0").line, 4);
    assert_eq!(map.locate("scripts.0.script").line, 5);
}

#[test]
fn strict_ipv6_version_2_becomes_version_3() {
    let text = "global_defs {\n vrrp_strict\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 1\n priority 255\n version 2\n virtual_ipaddress {\n  fe80::1\n }\n}\n";
    let l = load(text);
    assert_eq!(l.model.instances[0].version, crate::types::Version::V3);
    assert!(l.warnings.iter().any(|w| {
        w.pos.line == 8
            && w.message
                .contains("cannot use IPv6 with VRRP version 2; setting version 3")
    }));
}

#[test]
fn version_3_ignores_authentication() {
    let l = load(&instance(
        " version 3\n authentication {\n  auth_type AH\n  auth_pass k\n }\n",
    ));
    assert_eq!(l.model.instances[0].auth, None);
    assert!(l.warnings.iter().any(|w| {
        w.pos.line == 8
            && w.message
                .contains("VRRP version 3 does not support authentication. Ignoring.")
    }));
}

#[test]
fn ah_clears_an_initial_master_state() {
    let l = load(&instance(
        " state MASTER\n priority 100\n authentication {\n  auth_type AH\n  auth_pass k\n }\n",
    ));
    let inst = &l.model.instances[0];
    assert!(inst.auth.is_some(), "AH is kept");
    assert_eq!(inst.initial_state, InitialState::Backup);
    assert!(l.warnings.iter().any(|w| {
        w.pos.line == 7
            && w.message
                .contains("Initial state master is incompatible with AH authentication")
    }));
    // The owner may start as master with AH.
    let l = load(&instance(
        " state MASTER\n priority 255\n authentication {\n  auth_type AH\n  auth_pass k\n }\n",
    ));
    assert_eq!(l.model.instances[0].initial_state, InitialState::Master);
}
