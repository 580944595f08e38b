//! `vrrp_instance NAME { ... }`: one virtual router on one interface. keepalived refuses an
//! unknown keyword here (vigil: an error).

use crate::config::model::{
    Config, Garp, InitialState, Instance, Notify, TrackInterface, TrackRef, UnicastPeer,
};
use crate::types::{Centis, Family, Priority, Version, Vrid};

use super::super::mapping::Mapper;
use super::super::namespaces::instance_vrf_warning;
use super::super::parser::Node;
use super::super::table::{Block, Keyword, R, Why};
use super::super::values::looks_like_mac;
use super::authentication;

/// The instance being built, and what the block must contain.
pub struct Ctx {
    pub inst: Instance,
    /// `instances.N`: the SourceMap base of this instance.
    pub base: String,
    has_interface: bool,
    has_vrid: bool,
}

type K = Keyword<Ctx>;

pub static BLOCK: Block<Ctx> = Block {
    name: "vrrp_instance",
    list_name: "vrrp_instance",
    keywords: KEYWORDS,
    unknown_is_error: true,
};

/// Stands in for a missing `virtual_router_id` (already reported as an error).
const PLACEHOLDER_VRID: Vrid = match Vrid::new(1) {
    Some(v) => v,
    None => panic!("1 is a valid VRID"), // evaluated at compile time
};

/// Placeholder VMAC name part, fixed once the instance is complete (see `finish_vmac_names`).
const PENDING_VRID_NAME: &str = "{vrid}";

static KEYWORDS: &[K] = &[
    K::acted(&["state"], "state", |m, c, n| {
        let a = m.arg(n)?;
        match a.text.to_ascii_uppercase().as_str() {
            "MASTER" => c.inst.initial_state = InitialState::Master,
            "BACKUP" => c.inst.initial_state = InitialState::Backup,
            _ => m.err(
                &a.pos,
                format!("`state` is MASTER or BACKUP, not `{}`", a.text),
            ),
        }
        Ok(())
    }),
    K::acted(&["interface"], "interface", |m, c, n| {
        c.inst.interface = m.arg(n)?.text.clone();
        c.has_interface = true;
        Ok(())
    }),
    K::acted(&["virtual_router_id"], "virtual_router_id", |m, c, n| {
        c.has_vrid = true;
        let a = m.arg(n)?;
        match a.text.parse::<u8>().ok().and_then(Vrid::new) {
            Some(v) => c.inst.vrid = v,
            // RFC 5798 §5.2.3: VRID is 1..=255.
            None => m.err(
                &a.pos,
                format!(
                    "`virtual_router_id` must be from 1 to 255 (RFC 5798 §5.2.3), not `{}`",
                    a.text
                ),
            ),
        }
        Ok(())
    }),
    K::acted(&["version"], "version", |m, c, n| {
        let v = m.int::<u8>(n, 2, 3)?;
        c.inst.version = if v == 2 { Version::V2 } else { Version::V3 };
        Ok(())
    }),
    K::acted(&["native_ipv6"], "family", |_, c, _| {
        c.inst.family = Family::V6;
        Ok(())
    }),
    K::acted(&["priority"], "priority", |m, c, n| {
        let a = m.arg(n)?;
        match a.text.parse::<u8>() {
            Ok(p) if p >= 1 => c.inst.priority = Priority::new(p),
            // RFC 5798 §5.2.4: 0 is reserved for a master that is stopping.
            _ => m.err(&a.pos, format!("`priority` must be from 1 to 255 (255 = address owner; 0 is reserved, RFC 5798 §5.2.4), not `{}`", a.text)),
        }
        Ok(())
    }),
    K::acted(&["advert_int"], "advert_int", |m, c, n| {
        // keepalived reads larger values and clamps them to what the version can carry,
        // with a warning (fixup.rs); beyond this bound it is a typo.
        c.inst.advert_int = m.secs(n, 655)?;
        Ok(())
    }),
    K::acted(&["nopreempt"], "preempt", |_, c, _| {
        c.inst.preempt = false;
        Ok(())
    }),
    K::acted(&["preempt"], "preempt", |_, c, _| {
        c.inst.preempt = true;
        Ok(())
    }),
    K::acted(&["preempt_delay"], "preempt_delay", |m, c, n| {
        c.inst.preempt_delay = m.secs(n, 1000)?;
        Ok(())
    }),
    K::acted(&["accept"], "accept", |_, c, _| {
        c.inst.accept = true;
        Ok(())
    }),
    K::acted(&["no_accept"], "accept", |_, c, _| {
        c.inst.accept = false;
        Ok(())
    }),
    K::acted(&["virtual_ipaddress"], "virtual_ipaddress", |m, c, n| {
        for line in m.children(n) {
            let k = c.inst.virtual_addresses.len();
            if !m.address_is_usable(&line) {
                continue;
            }
            m.record(format!("{}.virtual_ipaddress.{k}", c.base), &line.pos);
            if let Ok(a) = m.address(&line) {
                c.inst.virtual_addresses.push(a);
            }
        }
        Ok(())
    }),
    K::acted(
        &["virtual_ipaddress_excluded"],
        "virtual_ipaddress_excluded",
        |m, c, n| {
            for line in m.children(n) {
                let k = c.inst.excluded_addresses.len();
                if !m.address_is_usable(&line) {
                    continue;
                }
                m.record(
                    format!("{}.virtual_ipaddress_excluded.{k}", c.base),
                    &line.pos,
                );
                if let Ok(a) = m.address(&line) {
                    c.inst.excluded_addresses.push(a);
                }
            }
            Ok(())
        },
    ),
    K::acted(&["virtual_routes"], "virtual_routes", |m, c, n| {
        for line in m.children(n) {
            if let Some(r) = m.skip_bad_line("route", |m| m.route(&line)) {
                c.inst.virtual_routes.push(r);
            }
        }
        Ok(())
    }),
    K::acted(&["virtual_rules"], "virtual_rules", |m, c, n| {
        for line in m.children(n) {
            if let Some(r) = m.skip_bad_line("rule", |m| m.rule(&line)) {
                c.inst.virtual_rules.push(r);
            }
        }
        Ok(())
    }),
    K::acted(&["authentication"], "authentication", |m, c, n| {
        if let Some(auth) = authentication::map(m, n) {
            c.inst.auth = Some(auth);
        }
        Ok(())
    }),
    // Its sub-block (key, active_key, time_window, anti_replay, mode) is read by
    // config/auth_hmac.rs.
    K::acted(&["auth_hmac"], "auth_hmac", |m, c, n| {
        c.inst.auth_hmac = Some(crate::config::auth_hmac::map_keepalived(
            n,
            c.inst.auth_hmac.take(),
            &c.base,
            &mut m.map,
            &mut m.diags,
        ));
        Ok(())
    }),
    K::acted(&["unicast_src_ip"], "unicast_src_ip", |m, c, n| {
        let a = m.arg(n)?;
        c.inst.unicast_src_ip = Some(m.ip(a, "unicast_src_ip")?);
        Ok(())
    }),
    K::acted(&["unicast_peer"], "unicast_peer", unicast_peer),
    K::acted(&["unicast_ttl"], "unicast_ttl", |m, c, n| {
        c.inst.unicast_ttl = Some(m.int(n, 0u8, 255)?);
        Ok(())
    }),
    K::acted(
        &["unicast_fault_no_peer"],
        "unicast_fault_no_peer",
        |_, c, _| {
            c.inst.unicast_fault_no_peer = true;
            Ok(())
        },
    ),
    K::acted(&["check_unicast_src"], "check_unicast_src", |_, c, _| {
        c.inst.check_unicast_src = true;
        Ok(())
    }),
    K::acted(&["mcast_src_ip"], "mcast_src_ip", |m, c, n| {
        let a = m.arg(n)?;
        c.inst.mcast_src_ip = Some(m.ip(a, "mcast_src_ip")?);
        Ok(())
    }),
    K::acted(&["mcast_dst_ip"], "mcast_dst_ip", |m, c, n| {
        let a = m.arg(n)?;
        c.inst.mcast_dst_ip = Some(m.ip(a, "mcast_dst_ip")?);
        Ok(())
    }),
    K::acted(&["track_src_ip"], "track_src_ip", |_, c, _| {
        c.inst.track_src_ip = true;
        Ok(())
    }),
    K::acted(&["use_vmac"], "use_vmac", |m, c, n| {
        // keepalived: `use_vmac [NAME] [MAC]`; a word that parses as a MAC is the MAC.
        let name = n.args.iter().find(|a| !looks_like_mac(&a.text));
        if let Some(mac) = n.args.iter().find(|a| looks_like_mac(&a.text)) {
            m.warn(&mac.pos, "a custom VMAC address is accepted but has no effect in vigil yet: the RFC 5798 §7.3 address is used");
        }
        c.inst.use_vmac = Some(match name {
            Some(a) => a.text.clone(),
            None => format!("vrrp.{PENDING_VRID_NAME}"),
        });
        Ok(())
    }),
    K::acted(&["vmac_xmit_base"], "vmac_xmit_base", |_, c, _| {
        c.inst.vmac_xmit_base = true;
        Ok(())
    }),
    K::acted(&["track_interface"], "track_interface", |m, c, n| {
        for line in m.lines(n) {
            if let Ok((name, weight, reverse)) = m.track_line(&line, 253) {
                c.inst.track_interfaces.push(TrackInterface {
                    name,
                    weight: weight.unwrap_or(0),
                    reverse,
                });
            }
        }
        Ok(())
    }),
    K::acted(&["track_script"], "track_script", |m, c, n| {
        let refs = track_refs(m, c, n, c.inst.track_scripts.len(), 253);
        c.inst.track_scripts.extend(refs);
        Ok(())
    }),
    K::acted(&["track_file"], "track_file", |m, c, n| {
        let refs = track_refs(m, c, n, c.inst.track_files.len(), 254);
        c.inst.track_files.extend(refs);
        Ok(())
    }),
    K::acted(&["track_process"], "track_process", |m, c, n| {
        let refs = track_refs(m, c, n, c.inst.track_processes.len(), 254);
        c.inst.track_processes.extend(refs);
        Ok(())
    }),
    K::acted(&["garp_master_delay"], "garp.master_delay", |m, c, n| {
        c.inst.garp.master_delay = m.secs(n, 86_400)?;
        Ok(())
    }),
    K::acted(&["garp_master_repeat"], "garp.master_repeat", |m, c, n| {
        c.inst.garp.master_repeat = m.int(n, 0u32, 10_000)?;
        Ok(())
    }),
    K::acted(
        &["garp_master_refresh"],
        "garp.master_refresh",
        |m, c, n| {
            c.inst.garp.master_refresh = m.secs(n, 86_400)?;
            Ok(())
        },
    ),
    K::acted(
        &["garp_master_refresh_repeat"],
        "garp.master_refresh_repeat",
        |m, c, n| {
            c.inst.garp.master_refresh_repeat = m.int(n, 0u32, 10_000)?;
            Ok(())
        },
    ),
    K::acted(
        &["garp_lower_prio_delay"],
        "garp.lower_prio_delay",
        |m, c, n| {
            c.inst.garp.lower_prio_delay = m.secs(n, 86_400)?;
            Ok(())
        },
    ),
    K::acted(
        &["garp_lower_prio_repeat"],
        "garp.lower_prio_repeat",
        |m, c, n| {
            c.inst.garp.lower_prio_repeat = m.int(n, 0u32, 10_000)?;
            Ok(())
        },
    ),
    K::acted(&["notify_master"], "notify.master", |m, c, n| {
        c.inst.notify.master = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_backup"], "notify.backup", |m, c, n| {
        c.inst.notify.backup = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_fault"], "notify.fault", |m, c, n| {
        c.inst.notify.fault = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_stop"], "notify.stop", |m, c, n| {
        c.inst.notify.stop = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify"], "notify.any", |m, c, n| {
        c.inst.notify.any = Some(m.script_cmd(n)?);
        Ok(())
    }),
    K::acted(&["notify_deleted"], "", |m, c, n| {
        // keepalived: `notify_deleted` alone only changes how the removal is announced.
        if n.args.is_empty() {
            c.inst.notify.report_deleted = true;
            m.record(format!("{}.notify.report_deleted", c.base), &n.pos);
            return Ok(());
        }
        c.inst.notify.deleted = Some(m.script_cmd(n)?);
        m.record(format!("{}.notify.deleted", c.base), &n.pos);
        Ok(())
    }),
    K::acted(
        &["notify_master_rx_lower_pri"],
        "notify.master_rx_lower_pri",
        |m, c, n| {
            c.inst.notify.master_rx_lower_pri = Some(m.script_cmd(n)?);
            Ok(())
        },
    ),
    K::acted(
        &["notify_priority_changes"],
        "notify_priority_changes",
        |m, c, n| {
            c.inst.notify_priority_changes = m.flag(n)?;
            Ok(())
        },
    ),
    K::warned_by(&["smtp_alert"], Why::Email, "smtp_alert", |m, c, n| {
        c.inst.smtp_alert = m.flag(n)?;
        Ok(())
    }),
    K::acted(&["dont_track_primary"], "dont_track_primary", |_, c, _| {
        c.inst.dont_track_primary = true;
        Ok(())
    }),
    K::acted(
        &["skip_check_adv_addr"],
        "skip_check_adv_addr",
        |m, c, n| {
            c.inst.skip_check_adv_addr = m.flag(n)?;
            Ok(())
        },
    ),
    K::acted(&["strict_mode"], "strict_mode", |m, c, n| {
        c.inst.strict_mode = m.flag(n)?;
        Ok(())
    }),
    K::acted(
        &["lower_prio_no_advert"],
        "lower_prio_no_advert",
        |m, c, n| {
            c.inst.lower_prio_no_advert = m.flag(n)?;
            Ok(())
        },
    ),
    K::acted(
        &["higher_prio_send_advert"],
        "higher_prio_send_advert",
        |m, c, n| {
            c.inst.higher_prio_send_advert = m.flag(n)?;
            Ok(())
        },
    ),
    K::acted(&["down_timer_adverts"], "down_timer_adverts", |m, c, n| {
        c.inst.down_timer_adverts = m.int(n, 1u8, 100)?;
        Ok(())
    }),
    K::acted(&["v3_checksum_as_v2"], "v3_checksum_as_v2", |m, c, n| {
        c.inst.v3_checksum_as_v2 = m.flag(n)?;
        Ok(())
    }),
    K::acted(
        &["promote_secondaries"],
        "promote_secondaries",
        |_, c, _| {
            c.inst.promote_secondaries = true;
            Ok(())
        },
    ),
    K::warned_by(&["lvs_sync_daemon_interface"], Why::Lvs, "", |m, _, n| {
        // keepalived still reads it (deprecated for global_defs' lvs_sync_daemon) and hands
        // the interface to IPVS; vigil has no LVS side.
        m.warn(&n.pos, "`lvs_sync_daemon_interface` is deprecated in keepalived (use global_defs' `lvs_sync_daemon`), and LVS has no effect in vigil: ignored");
        Err(())
    }),
    // keepalived ignores `vrf` in an instance with an `interface`, and every vigil instance
    // has one (config/keepalived/namespaces.rs).
    K::warned_by(&["vrf"], Why::KeepalivedIgnores, "", |m, _, n| {
        m.warn(&n.pos, instance_vrf_warning(n));
        Err(())
    }),
    K::warned_by(&["use_vmac_addr"], Why::VmacAddr, "", |m, _, n| {
        m.warn(&n.pos, "`use_vmac_addr` is not implemented by vigil: a virtual address on another interface than the instance's (or of the other family) goes on that interface itself, answering with its MAC, where keepalived creates a VMAC (virtual MAC, RFC 5798 §7.3) on that interface for it; ignored");
        Err(())
    }),
    K::acted(
        &["no_virtual_ipaddress"],
        "no_virtual_ipaddress",
        |_, c, _| {
            c.inst.no_virtual_ipaddress = true;
            Ok(())
        },
    ),
    K::warned(&["use_ipvlan"], Why::Ipvlan),
    K::warned(&["track_bfd"], Why::Bfd),
    K::warned(&["old_unicast_checksum"], Why::OldChecksum),
    K::warned(&["garp_extra_if", "vmac_garp_intvl"], Why::ExtraGarp),
    K::warned(&["kernel_rx_buf_size"], Why::InstanceTuning),
    K::warned(&["linkbeat_use_polling"], Why::LinkPolling),
    K::warned(&["debug"], Why::InstanceTuning),
    K::refused(&["timer_expired_backup"], Why::FsmVariant),
    K::refused(&["thread_timer_expired"], Why::FsmVariant),
    K::refused(&["owner_ignore_adverts"], Why::FsmVariant),
];

/// `vrrp_instance NAME { ... }` at the top level.
pub fn map(m: &mut Mapper, node: &Node) {
    let name = m.name(node);
    let idx = m.config.instances.len();
    let base = format!("instances.{idx}");
    m.record(base.clone(), &node.pos);
    let mut c = Ctx {
        inst: new_instance(name),
        base,
        has_interface: false,
        has_vrid: false,
    };
    let base = c.base.clone();
    m.run_children(&BLOCK, &mut c, node, &base);
    if !c.has_interface {
        m.err(
            &node.pos,
            format!(
                "vrrp_instance `{}` has no `interface`: add e.g. `interface eth0`",
                c.inst.name
            ),
        );
    }
    if !c.has_vrid {
        m.err(
            &node.pos,
            format!(
                "vrrp_instance `{}` has no `virtual_router_id`: add one from 1 to 255, the same on every router of this virtual router",
                c.inst.name
            ),
        );
    }
    m.config.instances.push(c.inst);
}

/// keepalived's defaults of an instance.
fn new_instance(name: String) -> Instance {
    Instance {
        name,
        interface: String::new(),
        vrid: PLACEHOLDER_VRID,
        version: Version::V2,
        family: Family::V4,
        priority: Priority::DEFAULT,
        advert_int: Centis::from_secs(1),
        initial_state: InitialState::Backup,
        preempt: true,
        preempt_delay: Centis::ZERO,
        accept: true,
        virtual_addresses: Vec::new(),
        excluded_addresses: Vec::new(),
        no_virtual_ipaddress: false,
        virtual_routes: Vec::new(),
        virtual_rules: Vec::new(),
        auth: None,
        auth_hmac: None,
        unicast_src_ip: None,
        unicast_peers: Vec::new(),
        unicast_ttl: None,
        unicast_fault_no_peer: false,
        check_unicast_src: false,
        mcast_src_ip: None,
        mcast_dst_ip: None,
        track_src_ip: false,
        use_vmac: None,
        vmac_xmit_base: false,
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        track_files: Vec::new(),
        track_processes: Vec::new(),
        garp: Garp::default(),
        notify: Notify::default(),
        notify_priority_changes: false,
        smtp_alert: false,
        dont_track_primary: false,
        skip_check_adv_addr: false,
        strict_mode: false,
        lower_prio_no_advert: false,
        higher_prio_send_advert: false,
        down_timer_adverts: 3,
        v3_checksum_as_v2: false,
        promote_secondaries: false,
    }
}

/// `unicast_peer { ADDRESS [min_ttl N] [max_ttl N] ... }`
fn unicast_peer(m: &mut Mapper, c: &mut Ctx, n: &Node) -> R<()> {
    for line in m.lines(n) {
        let Some((first, rest)) = line.split_first() else {
            continue;
        };
        let k = c.inst.unicast_peers.len();
        m.record(format!("{}.unicast_peer.{k}", c.base), &first.pos);
        let Ok(ip) = m.ip(first, "unicast_peer") else {
            continue;
        };
        let mut peer = UnicastPeer::new(ip);
        let mut it = rest.iter();
        while let Some(opt) = it.next() {
            // keepalived: `<address> [min_ttl N] [max_ttl N]`, each 0-255.
            let slot = match opt.text.as_str() {
                "min_ttl" => &mut peer.min_ttl,
                "max_ttl" => &mut peer.max_ttl,
                _ => {
                    m.err(
                        &opt.pos,
                        format!(
                            "unknown unicast_peer option `{}`: expected min_ttl or max_ttl",
                            opt.text
                        ),
                    );
                    break;
                }
            };
            let Some(value) = it.next() else {
                m.err(&opt.pos, format!("`{}` needs a value", opt.text));
                break;
            };
            *slot = m.int_word(&opt.text, value, 0u8, 255).ok();
        }
        c.inst.unicast_peers.push(peer);
    }
    Ok(())
}

/// The lines of `track_script` / `track_file` / `track_process`, each recorded at
/// `{base}.{keyword}.{start + i}`.
fn track_refs(m: &mut Mapper, c: &Ctx, n: &Node, start: usize, limit: i32) -> Vec<TrackRef> {
    let mut refs = Vec::new();
    for line in m.lines(n) {
        if let Some(first) = line.first() {
            let path = format!("{}.{}.{}", c.base, n.keyword, start + refs.len());
            m.record(path, &first.pos);
        }
        if let Ok((name, weight, reverse)) = m.track_line(&line, limit) {
            refs.push(TrackRef {
                name,
                weight,
                reverse,
            });
        }
    }
    refs
}

/// Replace the `{vrid}` placeholder in default VMAC names: `use_vmac` may come before
/// `virtual_router_id` in the block.
pub fn finish_vmac_names(config: &mut Config) {
    for inst in &mut config.instances {
        if let Some(name) = inst.use_vmac.as_mut()
            && name.contains(PENDING_VRID_NAME)
        {
            *name = name.replace(PENDING_VRID_NAME, &inst.vrid.to_string());
        }
    }
}
