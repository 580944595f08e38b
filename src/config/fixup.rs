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
        super::auth_hmac::fix_up(inst, &mut warn);
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
    // keepalived 2.4 (vrrp.c `vrrp_complete_instance`): RFC 5798 §5.2.5 wants at least one
    // address in an advert, so strict mode takes `no_virtual_ipaddress` back; validation
    // then refuses the instance if it has none.
    if inst.no_virtual_ipaddress {
        inst.no_virtual_ipaddress = false;
        warn(
            "no_virtual_ipaddress",
            format!(
                "{name}: no_virtual_ipaddress and strict mode incompatible, clearing no_virtual_ipaddress (keepalived's fix-up); remove it, or run with --strict to refuse"
            ),
        );
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
