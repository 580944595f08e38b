//! Settings an instance inherits: the loaders fill the model's resolved values from `global`
//! and from the instance's own addresses, for every field the file did not set explicitly.

use crate::types::{Family, Priority, Version};

use super::diagnostic::SourceMap;
use super::model::{Config, Instance, family_of};

/// Resolve every inherited value in `config`. `explicit` tells which YAML paths the file set
/// (`global.garp.lower_prio_delay`, `instances.3.version`, ...).
pub fn resolve(config: &mut Config, explicit: &SourceMap) {
    let global = &mut config.global;
    // keepalived's `vrrp_min_garp`: one GARP/NA on becoming master, no second burst and no
    // refresh, without overriding what the file sets itself (global_parser.c).
    if global.min_garp {
        if !explicit.contains("global.garp.master_repeat") {
            global.garp.master_repeat = 1;
        }
        if !explicit.contains("global.garp.master_delay") {
            global.garp.master_delay = crate::types::Centis::ZERO;
        }
        if !explicit.contains("global.garp.master_refresh") {
            global.garp.master_refresh = crate::types::Centis::ZERO;
        }
    }
    // keepalived: the lower-priority GARP settings default to the master ones.
    if !explicit.contains("global.garp.lower_prio_delay") {
        global.garp.lower_prio_delay = global.garp.master_delay;
    }
    if !explicit.contains("global.garp.lower_prio_repeat") {
        global.garp.lower_prio_repeat = global.garp.master_repeat;
    }
    let global = config.global.clone();
    // keepalived (vrrp.c): an instance that does not set `notify_priority_changes` takes its
    // sync group's when the group sets it, the global one otherwise.
    let group_priority_notes: std::collections::BTreeMap<String, bool> = config
        .sync_groups
        .iter()
        .enumerate()
        .filter(|(g, _)| explicit.contains(&format!("sync_groups.{g}.notify_priority_changes")))
        .flat_map(|(_, sg)| {
            sg.group
                .iter()
                .map(move |m| (m.clone(), sg.notify_priority_changes))
        })
        .collect();
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let set = |field: &str| explicit.contains(&format!("instances.{i}.{field}"));
        resolve_instance(inst, &global, &set);
        if !set("notify_priority_changes")
            && let Some(&v) = group_priority_notes.get(&inst.name)
        {
            inst.notify_priority_changes = v;
        }
    }
}

fn resolve_instance(
    inst: &mut Instance,
    global: &super::model::Global,
    set: &dyn Fn(&str) -> bool,
) {
    if !set("family") {
        // keepalived: the family is that of the first VIP; IPv4 when there is none.
        inst.family = inst
            .virtual_addresses
            .first()
            .map(|a| family_of(a.addr))
            .or_else(|| inst.unicast_peers.first().map(|p| family_of(p.address)))
            .unwrap_or(Family::V4);
    }
    if !set("version") {
        // RFC 5798 §1: IPv6 needs VRRPv3; keepalived forces it for IPv6 instances.
        inst.version = match inst.family {
            Family::V6 => Version::V3,
            Family::V4 => global.vrrp_version,
        };
    }
    let garp_fields = [
        "master_delay",
        "master_repeat",
        "master_refresh",
        "master_refresh_repeat",
        "lower_prio_delay",
        "lower_prio_repeat",
    ];
    for f in garp_fields {
        if set(&format!("garp.{f}")) {
            continue;
        }
        let g = &global.garp;
        let ig = &mut inst.garp;
        match f {
            "master_delay" => ig.master_delay = g.master_delay,
            "master_repeat" => ig.master_repeat = g.master_repeat,
            "master_refresh" => ig.master_refresh = g.master_refresh,
            "master_refresh_repeat" => ig.master_refresh_repeat = g.master_refresh_repeat,
            "lower_prio_delay" => {
                ig.lower_prio_delay = if set("garp.master_delay") {
                    ig.master_delay
                } else {
                    g.lower_prio_delay
                }
            }
            _ => {
                ig.lower_prio_repeat = if set("garp.master_repeat") {
                    ig.master_repeat
                } else {
                    g.lower_prio_repeat
                }
            }
        }
    }
    if !set("skip_check_adv_addr") {
        inst.skip_check_adv_addr = global.skip_check_adv_addr;
    }
    if !set("strict_mode") {
        inst.strict_mode = global.strict;
    }
    if !set("check_unicast_src") {
        inst.check_unicast_src = global.check_unicast_src;
    }
    if !set("lower_prio_no_advert") {
        // keepalived: strict mode implies the RFC behaviour of not answering lower priorities.
        inst.lower_prio_no_advert = global.lower_prio_no_advert || inst.strict_mode;
    }
    if !set("higher_prio_send_advert") {
        inst.higher_prio_send_advert = global.higher_prio_send_advert;
    }
    if !set("down_timer_adverts") {
        inst.down_timer_adverts = global.down_timer_adverts;
    }
    if !set("v3_checksum_as_v2") {
        inst.v3_checksum_as_v2 = global.v3_checksum_as_v2;
    }
    if !set("notify_priority_changes") {
        inst.notify_priority_changes = global.notify_priority_changes;
    }
    if !set("smtp_alert") {
        inst.smtp_alert = global.smtp_alert;
    }
    if !set("accept") {
        // RFC 5798 §6.1 leaves Accept_Mode to the operator; keepalived accepts unless in
        // strict mode, where only the address owner accepts.
        inst.accept = !inst.strict_mode || inst.priority == Priority::OWNER;
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{LoadOptions, load_keepalived_str};
    use crate::types::Centis;
    use std::path::Path;

    fn garp_of(global: &str) -> crate::config::model::Garp {
        let conf = format!(
            "global_defs {{\n{global}}}\nvrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {{\n  192.0.2.1/24\n }}\n}}\n"
        );
        let loaded = load_keepalived_str(&conf, Path::new("k.conf"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{:?}", e.0));
        loaded.model.instances[0].garp
    }

    #[test]
    fn min_garp_sends_one_message_and_no_second_burst_unless_set_otherwise() {
        let plain = garp_of("");
        assert_eq!(
            (plain.master_repeat, plain.master_delay),
            (5, Centis::from_secs(5))
        );
        let min = garp_of(" vrrp_min_garp\n");
        assert_eq!((min.master_repeat, min.master_delay), (1, Centis::ZERO));
        assert_eq!(
            min.lower_prio_repeat, 1,
            "lower-priority bursts follow the master's"
        );
        // What the file sets itself wins, in either order.
        let set = garp_of(" vrrp_garp_master_repeat 3\n vrrp_min_garp\n");
        assert_eq!((set.master_repeat, set.master_delay), (3, Centis::ZERO));
    }
}
