//! The top level of keepalived.conf: its blocks. keepalived skips an unknown keyword here
//! with a message (vigil: a warning).

use super::super::namespaces::{NetNamespaceLine, net_namespace_line};
use super::super::table::{Block, Keyword, Why};
use super::{
    global_defs, track_file, track_group, vrrp_instance, vrrp_script, vrrp_sync_group,
    vrrp_track_process,
};

type K = Keyword<()>;

pub static BLOCK: Block<()> = Block {
    name: "the top level",
    list_name: "top",
    keywords: KEYWORDS,
    unknown_is_error: false,
};

static KEYWORDS: &[K] = &[
    K::acted(&["global_defs"], "", |m, _, n| {
        m.run_children(&global_defs::BLOCK, &mut (), n, "global");
        Ok(())
    }),
    K::acted(&["vrrp_instance"], "", |m, _, n| {
        vrrp_instance::map(m, n);
        Ok(())
    }),
    K::acted(&["vrrp_sync_group"], "", |m, _, n| {
        vrrp_sync_group::map(m, n);
        Ok(())
    }),
    K::acted(&["vrrp_script"], "", |m, _, n| {
        vrrp_script::map(m, n);
        Ok(())
    }),
    // `vrrp_track_file` is keepalived's older name (deprecated after 2.0.20, still read).
    K::acted(&["track_file", "vrrp_track_file"], "", |m, _, n| {
        track_file::map(m, n);
        Ok(())
    }),
    K::acted(&["vrrp_track_process"], "", |m, _, n| {
        vrrp_track_process::map(m, n);
        Ok(())
    }),
    K::acted(&["static_ipaddress"], "", |m, _, n| {
        for line in m.children(n) {
            let i = m.config.static_addresses.len();
            if !m.address_is_usable(&line) {
                continue;
            }
            if let Ok(a) = m.address(&line) {
                m.record(format!("static_addresses.{i}"), &line.pos);
                m.config.static_addresses.push(a);
            }
        }
        Ok(())
    }),
    K::acted(&["static_routes"], "", |m, _, n| {
        for line in m.children(n) {
            let i = m.config.static_routes.len();
            if let Some(r) = m.skip_bad_line("route", |m| m.route(&line)) {
                m.record(format!("static_routes.{i}"), &line.pos);
                m.config.static_routes.push(r);
            }
        }
        Ok(())
    }),
    K::acted(&["static_rules"], "", |m, _, n| {
        for line in m.children(n) {
            let i = m.config.static_rules.len();
            if let Some(r) = m.skip_bad_line("rule", |m| m.rule(&line)) {
                m.record(format!("static_rules.{i}"), &line.pos);
                m.config.static_rules.push(r);
            }
        }
        Ok(())
    }),
    K::acted(&["track_group"], "", |m, _, n| {
        track_group::map(m, n);
        Ok(())
    }),
    K::acted(&["net_namespace"], "", |m, _, n| {
        match net_namespace_line(n, m.config.global.net_namespace.as_deref()) {
            NetNamespaceLine::Set(name) => {
                m.record("global.net_namespace".into(), &n.pos);
                m.config.global.net_namespace = Some(name);
            }
            NetNamespaceLine::Ignored(msg) => m.warn(&n.pos, msg),
            NetNamespaceLine::Refused(msg) => m.err(&n.pos, msg),
        }
        Ok(())
    }),
    // Being made to act by other work of issue 9.
    K::warned(&["garp_group"], Why::ExtraGarp),
    K::warned(&["linkbeat_interfaces"], Why::LinkPolling),
    K::warned(&["linkbeat_use_polling"], Why::LinkPolling),
    K::warned(&["interface_up_down_delays"], Why::LinkDelays),
    K::warned(&["virtual_server"], Why::Lvs),
    K::warned(&["virtual_server_group"], Why::Lvs),
    K::warned(&["SSL"], Why::Lvs),
    K::warned(&["net_namespace_ipvs"], Why::Lvs),
    K::warned(&["bfd_instance"], Why::Bfd),
    K::warned(&["namespace_with_ipsets"], Why::Firewall),
    K::warned(&["instance"], Why::ProcessLayout),
    K::warned(&["use_pid_dir"], Why::ProcessLayout),
    K::warned(&["child_wait_time"], Why::ProcessLayout),
];
