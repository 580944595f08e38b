//! keepalived's fix-ups: where keepalived runs a configuration by changing it (ignoring an
//! authentication block, resetting an initial state), vigil makes the same change and says
//! so with a warning at the line concerned, naming the fix-up in keepalived's words. Under
//! `--strict` each warning is an error, so nothing is changed behind the operator's back.
//!
//! Applied to keepalived.conf only: a YAML file is vigil's own format, where the same
//! combinations are refused by [`super::validate`]. The order and the conditions follow
//! keepalived 2.2.7's `vrrp_complete_instance` (vrrp.c): first the strict-mode state, then
//! one authentication fix-up at most (strict mode, version 3, IPv6 with AH, AH with an
//! initial MASTER state), in that order; then preemption, strict-mode defaults and the
//! advertisement interval. A `track_script` naming no vrrp_script is dropped, and sync groups
//! lose unknown or duplicate members (and are removed when empty), as keepalived does.

use std::collections::HashSet;

use crate::types::{Centis, Family, Priority, Version};

/// RFC 5798 §6.1: Master_Down_Interval is three advertisement intervals (plus skew).
const DOWN_TIMER_ADVERTS: u8 = 3;

use super::diagnostic::{Diagnostic, SourceMap};
use super::model::{Auth, Config, InitialState, Instance};

/// Apply keepalived's fix-ups to `config`, one warning per change. An item dropped from a
/// list is dropped from `map` too, so that the items after it keep their own lines.
pub fn fix_up(config: &mut Config, map: &mut SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    unknown_track_scripts(config, map, &mut out);
    sync_group_members(config, map, &mut out);
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let set = |field: &str| map.contains(&format!("instances.{i}.{field}"));
        let mut warn = |field: &str, msg: String| {
            out.push(Diagnostic::warning(
                map.locate(&format!("instances.{i}.{field}")),
                msg,
            ));
        };
        fix_version(inst, &set, &mut warn);
        fix_instance(inst, &mut warn);
        fix_preemption(inst, &mut warn);
        fix_strict_defaults(inst, &set, &mut warn);
        fix_advert_int(inst, &mut warn);
    }
    out
}

/// Removes the items of `items` (at `list` in `map`) that `keep` refuses, warning with
/// `why(item)` at each one's line.
fn retain_warned<T>(
    items: &mut Vec<T>,
    list: &str,
    map: &mut SourceMap,
    out: &mut Vec<Diagnostic>,
    mut keep: impl FnMut(&T) -> Option<String>,
) {
    let mut k = 0;
    while k < items.len() {
        match keep(&items[k]) {
            None => k += 1,
            Some(why) => {
                out.push(Diagnostic::warning(map.locate(&format!("{list}.{k}")), why));
                items.remove(k);
                map.remove_index(list, k);
            }
        }
    }
}

/// keepalived: "track script X not found, ignoring..." (a vrrp_script without `script` was
/// removed, or the name is misspelt); the instance or group runs without that tracker.
fn unknown_track_scripts(config: &mut Config, map: &mut SourceMap, out: &mut Vec<Diagnostic>) {
    let scripts: HashSet<String> = config.scripts.iter().map(|s| s.name.clone()).collect();
    let why = |owner: &str, name: &str| {
        (!scripts.contains(name)).then(|| {
            format!(
                "{owner}: track script `{name}` not found, ignoring (keepalived's fix-up){}: define `vrrp_script {name} {{ script ... }}`, or run with --strict to refuse",
                super::diagnostic::did_you_mean(name, scripts.iter().map(String::as_str))
            )
        })
    };
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let owner = format!("instance `{}`", inst.name);
        let list = format!("instances.{i}.track_script");
        retain_warned(&mut inst.track_scripts, &list, map, out, |t| {
            why(&owner, &t.name)
        });
    }
    for (g, group) in config.sync_groups.iter_mut().enumerate() {
        let owner = format!("vrrp_sync_group `{}`", group.name);
        let list = format!("sync_groups.{g}.track_script");
        retain_warned(&mut group.track_scripts, &list, map, out, |t| {
            why(&owner, &t.name)
        });
    }
}

/// keepalived's `vrrp_sync_set_group`: a member naming no instance, or an instance already
/// in an earlier group, is ignored; a group left with no member is removed.
fn sync_group_members(config: &mut Config, map: &mut SourceMap, out: &mut Vec<Diagnostic>) {
    let instances: HashSet<String> = config.instances.iter().map(|i| i.name.clone()).collect();
    let mut taken: HashSet<String> = HashSet::new();
    for (g, group) in config.sync_groups.iter_mut().enumerate() {
        let gname = group.name.clone();
        let list = format!("sync_groups.{g}.group");
        retain_warned(&mut group.group, &list, map, out, |member| {
            if !instances.contains(member) {
                Some(format!(
                    "Virtual router {member} specified in sync group {gname} doesn't exist - ignoring (keepalived's fix-up){}: define the vrrp_instance or remove it from the group, or run with --strict to refuse",
                    super::diagnostic::did_you_mean(member, instances.iter().map(String::as_str))
                ))
            } else if !taken.insert(member.clone()) {
                Some(format!(
                    "Virtual router {member} cannot exist in more than one sync group; ignoring {member} in {gname} (keepalived's fix-up): list it in one group, or run with --strict to refuse"
                ))
            } else {
                None
            }
        });
    }
    let mut g = 0;
    while g < config.sync_groups.len() {
        if config.sync_groups[g].group.is_empty() {
            out.push(Diagnostic::warning(
                map.locate(&format!("sync_groups.{g}")),
                format!(
                    "Sync group {}, no matching virtual router found in group declaration - removing (keepalived's fix-up): list its instances in `group {{ ... }}`, or run with --strict to refuse",
                    config.sync_groups[g].name
                ),
            ));
            config.sync_groups.remove(g);
            map.remove_index("sync_groups", g);
        } else {
            g += 1;
        }
    }
}

/// The instance's name, for messages.
fn who(inst: &Instance) -> String {
    format!("instance `{}`", inst.name)
}

/// keepalived: in strict mode an IPv6 instance written `version 2` becomes version 3.
fn fix_version(
    inst: &mut Instance,
    set: &dyn Fn(&str) -> bool,
    warn: &mut dyn FnMut(&str, String),
) {
    if inst.strict_mode
        && inst.family == Family::V6
        && inst.version == Version::V2
        && set("version")
    {
        inst.version = Version::V3;
        warn(
            "version",
            format!(
                "{}: cannot use IPv6 with VRRP version 2; setting version 3 (keepalived's strict-mode fix-up, RFC 5798 §1); write `version 3`, or run with --strict to refuse",
                who(inst)
            ),
        );
    }
}

/// keepalived's preemption fix-ups: the owner always preempts, an initial MASTER neither
/// waits nor defers, and a preempt delay needs preemption (and is not RFC behaviour).
fn fix_preemption(inst: &mut Instance, warn: &mut dyn FnMut(&str, String)) {
    let name = who(inst);
    if inst.priority == Priority::OWNER && !inst.preempt {
        inst.preempt = true;
        warn(
            "preempt",
            format!(
                "{name}: nopreempt is incompatible with priority 255. resetting nopreempt (keepalived's fix-up): the address owner always takes over; remove `nopreempt`, or run with --strict to refuse"
            ),
        );
    }
    if inst.initial_state == InitialState::Master {
        if !inst.preempt {
            inst.preempt = true;
            warn(
                "preempt",
                format!(
                    "{name}: nopreempt will not work with initial state MASTER - clearing (keepalived's fix-up); use `state BACKUP` with `nopreempt`, or run with --strict to refuse"
                ),
            );
        }
        if inst.preempt_delay != Centis::ZERO {
            inst.preempt_delay = Centis::ZERO;
            warn(
                "preempt_delay",
                format!(
                    "{name}: preempt delay will not work with initial state MASTER - clearing (keepalived's fix-up); use `state BACKUP` with `preempt_delay`, or run with --strict to refuse"
                ),
            );
        }
    }
    if inst.preempt_delay != Centis::ZERO && (inst.strict_mode || !inst.preempt) {
        let why = if inst.strict_mode {
            "strict mode"
        } else {
            "nopreempt mode"
        };
        inst.preempt_delay = Centis::ZERO;
        warn(
            "preempt_delay",
            format!(
                "{name}: preempt_delay is incompatible with {why} - resetting (keepalived's fix-up); remove `preempt_delay`, or run with --strict to refuse"
            ),
        );
    }
}

/// keepalived's strict mode (RFC 5798 to the letter): what the RFC does not have is reset
/// with a warning when written, and defaults to the RFC's behaviour when not.
fn fix_strict_defaults(
    inst: &mut Instance,
    set: &dyn Fn(&str) -> bool,
    warn: &mut dyn FnMut(&str, String),
) {
    let name = who(inst);
    // RFC 5798 §6.4.3: only one multicast group; unicast adverts have no group to set.
    if !inst.unicast_peers.is_empty() && inst.mcast_dst_ip.is_some() {
        inst.mcast_dst_ip = None;
        warn(
            "mcast_dst_ip",
            format!(
                "{name}: multicast destination specified with unicast - ignoring (keepalived's fix-up); remove `mcast_dst_ip`, or run with --strict to refuse"
            ),
        );
    }
    if !inst.strict_mode {
        return;
    }
    if inst.down_timer_adverts != DOWN_TIMER_ADVERTS {
        inst.down_timer_adverts = DOWN_TIMER_ADVERTS;
        warn(
            "down_timer_adverts",
            format!(
                "{name}: down_timer_adverts is incompatible with strict mode - resetting to 3 (keepalived's fix-up, RFC 5798 §6.1); remove it, or run with --strict to refuse"
            ),
        );
    }
    // RFC 3768 has no Accept Mode: a v2 backup that becomes master must not accept packets
    // for addresses it does not own.
    if inst.accept && inst.priority != Priority::OWNER && inst.version == Version::V2 {
        inst.accept = false;
        warn(
            "accept",
            format!(
                "{name}: accept mode for VRRP version 2 does not comply with RFC3768 - resetting (keepalived's strict-mode fix-up); remove `accept`, or run with --strict to refuse"
            ),
        );
    }
    let garp = &mut inst.garp;
    if garp.lower_prio_repeat != 0 {
        garp.lower_prio_repeat = 0;
        if set("garp.lower_prio_repeat") {
            warn(
                "garp.lower_prio_repeat",
                format!(
                    "{name}: Strict mode requires no repeat garps. resetting (keepalived's fix-up); remove `garp_lower_prio_repeat`, or run with --strict to refuse"
                ),
            );
        }
    }
    if garp.lower_prio_delay != Centis::ZERO {
        garp.lower_prio_delay = Centis::ZERO;
        if set("garp.lower_prio_delay") {
            warn(
                "garp.lower_prio_delay",
                format!(
                    "{name}: Strict mode requires no repeat garp delay. resetting (keepalived's fix-up); remove `garp_lower_prio_delay`, or run with --strict to refuse"
                ),
            );
        }
    }
    if !inst.lower_prio_no_advert {
        inst.lower_prio_no_advert = true;
        if set("lower_prio_no_advert") {
            warn(
                "lower_prio_no_advert",
                format!(
                    "{name}: Strict mode requires no lower priority advert. resetting (keepalived's fix-up, RFC 5798 §6.4.3)"
                ),
            );
        }
    }
    if inst.higher_prio_send_advert {
        inst.higher_prio_send_advert = false;
        if set("higher_prio_send_advert") {
            warn(
                "higher_prio_send_advert",
                format!(
                    "{name}: strict mode requires higher_prio_send_advert to be clear. resetting (keepalived's fix-up)"
                ),
            );
        }
    }
}

/// keepalived clamps and rounds an advertisement interval the version cannot carry:
/// RFC 3768 §5.3.7 (v2) has whole seconds up to 255, RFC 5798 §5.2.7 (v3) centiseconds up
/// to 40.95 s.
fn fix_advert_int(inst: &mut Instance, warn: &mut dyn FnMut(&str, String)) {
    let name = who(inst);
    let c = inst.advert_int.get();
    let fixed = match inst.version {
        Version::V2 if c >= 256 * 100 => Some((
            25_500,
            "is out of range. Must be less than 256s. Setting to 255s",
        )),
        Version::V2 if c % 100 != 0 => Some((
            ((c + 50) / 100 * 100).max(100),
            "must be an integer. rounding",
        )),
        Version::V3 if c >= 4096 => Some((
            4095,
            "is out of range. Must be less than 40.96s. Setting to 40.95s",
        )),
        _ => None,
    };
    if let Some((now, what)) = fixed {
        let v = if inst.version == Version::V2 { 2 } else { 3 };
        let was = inst.advert_int;
        inst.advert_int = Centis::new(now);
        warn(
            "advert_int",
            format!(
                "{name}: VRRPv{v} advertisement interval {was} {what} (keepalived's fix-up): {} is used; write it, or run with --strict to refuse",
                inst.advert_int
            ),
        );
    }
}

fn fix_instance(inst: &mut Instance, warn: &mut dyn FnMut(&str, String)) {
    let name = inst.name.clone();
    let owner = inst.priority == Priority::OWNER;
    // RFC 5798 §6.4.1: only the address owner (priority 255) starts as master; keepalived's
    // strict mode enforces it by resetting the initial state, and runs.
    if inst.strict_mode && (inst.initial_state == InitialState::Master) != owner {
        let (now, why) = if owner {
            (
                InitialState::Master,
                "the address owner (priority 255) starts as MASTER",
            )
        } else {
            (InitialState::Backup, "starting as BACKUP")
        };
        inst.initial_state = now;
        warn(
            "state",
            format!(
                "instance `{name}`: State MASTER must match being address owner (keepalived's strict-mode fix-up): {why}; set `state` to match the priority, or run with --strict to refuse"
            ),
        );
    }
    let Some(auth) = &inst.auth else {
        return;
    };
    let is_ah = matches!(auth, Auth::Ah(_));
    // RFC 5798 §9 removed authentication from VRRPv3; keepalived's strict mode refuses it
    // in v2 as well. keepalived drops the block and runs unauthenticated: say so loudly.
    let ignored = if inst.strict_mode {
        Some("Strict mode does not support authentication. Ignoring.")
    } else if inst.version == Version::V3 {
        Some("VRRP version 3 does not support authentication. Ignoring.")
    } else if inst.family == Family::V6 && is_ah {
        Some("Cannot use AH authentication with IPv6. Ignoring.")
    } else {
        None
    };
    if let Some(what) = ignored {
        inst.auth = None;
        warn(
            "authentication",
            format!(
                "instance `{name}`: {what} (keepalived's fix-up): adverts are sent and accepted WITHOUT authentication; remove the authentication block, or run with --strict to refuse"
            ),
        );
    } else if is_ah && inst.initial_state == InitialState::Master && !owner {
        // keepalived: a master needs the peer's AH sequence number before taking over, so
        // a non-owner never starts as MASTER with AH.
        inst.initial_state = InitialState::Backup;
        warn(
            "state",
            format!(
                "instance `{name}`: Initial state master is incompatible with AH authentication - clearing (keepalived's fix-up): starting as BACKUP; set `state BACKUP`, or run with --strict to refuse"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
        assert_eq!(inst.initial_state, super::InitialState::Backup);
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
        assert_eq!(
            l.model.instances[0].initial_state,
            super::InitialState::Master
        );
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
            msgs.iter().any(|m| m.starts_with(
                "f.conf:1:1: warning: No script set for vrrp_script `chk` - removing"
            )),
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
        assert_eq!(inst.initial_state, super::InitialState::Backup);
        assert!(l.warnings.iter().any(|w| {
            w.pos.line == 7
                && w.message
                    .contains("Initial state master is incompatible with AH authentication")
        }));
        // The owner may start as master with AH.
        let l = load(&instance(
            " state MASTER\n priority 255\n authentication {\n  auth_type AH\n  auth_pass k\n }\n",
        ));
        assert_eq!(
            l.model.instances[0].initial_state,
            super::InitialState::Master
        );
    }
}
