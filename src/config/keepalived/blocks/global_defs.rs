//! `global_defs { ... }`: settings of the whole daemon and the instances' defaults. keepalived
//! skips an unknown keyword here with a message (vigil: a warning).

use std::net::Ipv4Addr;

use crate::config::model::{NotifyFifo, RunAs, SmtpServer};
use crate::types::Version;

use super::super::mapping::Mapper;
use super::super::parser::Node;
use super::super::table::{Block, Keyword, R, Why};
use super::super::values::parse_micros;

type K = Keyword<()>;

pub static BLOCK: Block<()> = Block {
    name: "global_defs",
    list_name: "global_defs",
    keywords: KEYWORDS,
    unknown_is_error: false,
};

const VRRP_DEFAULT_LIMITS: u32 = 86_400;

static KEYWORDS: &[K] = &[
    K::acted(&["router_id"], "router_id", |m, _, n| {
        if let Ok(a) = m.arg(n) {
            m.config.global.router_id = Some(a.text.clone());
        }
        Ok(())
    }),
    K::acted(&["vrrp_version"], "vrrp_version", |m, _, n| {
        if let Ok(v) = m.int::<u8>(n, 2, 3) {
            m.config.global.vrrp_version = if v == 2 { Version::V2 } else { Version::V3 };
        }
        Ok(())
    }),
    K::acted(&["vrrp_mcast_group4"], "mcast_group4", |m, _, n| {
        if let Ok(a) = m.arg(n) {
            match a.text.parse::<Ipv4Addr>() {
                Ok(ip) => m.config.global.mcast_group4 = ip,
                Err(_) => m.err(
                    &a.pos,
                    format!(
                        "`vrrp_mcast_group4` needs an IPv4 address, not `{}`",
                        a.text
                    ),
                ),
            }
        }
        Ok(())
    }),
    K::acted(&["vrrp_mcast_group6"], "mcast_group6", |m, _, n| {
        if let Ok(a) = m.arg(n) {
            match a.text.parse() {
                Ok(ip) => m.config.global.mcast_group6 = ip,
                Err(_) => m.err(
                    &a.pos,
                    format!(
                        "`vrrp_mcast_group6` needs an IPv6 address, not `{}`",
                        a.text
                    ),
                ),
            }
        }
        Ok(())
    }),
    K::acted(
        &["vrrp_garp_master_delay"],
        "garp.master_delay",
        |m, _, n| {
            if let Ok(v) = m.secs(n, VRRP_DEFAULT_LIMITS) {
                m.config.global.garp.master_delay = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_garp_master_repeat"],
        "garp.master_repeat",
        |m, _, n| {
            if let Ok(v) = m.int(n, 0u32, 10_000) {
                m.config.global.garp.master_repeat = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_garp_master_refresh"],
        "garp.master_refresh",
        |m, _, n| {
            if let Ok(v) = m.secs(n, VRRP_DEFAULT_LIMITS) {
                m.config.global.garp.master_refresh = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_garp_master_refresh_repeat"],
        "garp.master_refresh_repeat",
        |m, _, n| {
            if let Ok(v) = m.int(n, 0u32, 10_000) {
                m.config.global.garp.master_refresh_repeat = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_garp_lower_prio_delay"],
        "garp.lower_prio_delay",
        |m, _, n| {
            if let Ok(v) = m.secs(n, VRRP_DEFAULT_LIMITS) {
                m.config.global.garp.lower_prio_delay = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_garp_lower_prio_repeat"],
        "garp.lower_prio_repeat",
        |m, _, n| {
            if let Ok(v) = m.int(n, 0u32, 10_000) {
                m.config.global.garp.lower_prio_repeat = v;
            }
            Ok(())
        },
    ),
    K::acted(&["vrrp_garp_interval"], "garp_interval", |m, _, n| {
        if let Some(d) = garp_spacing(m, n) {
            m.config.global.garp_interval = d;
        }
        Ok(())
    }),
    K::acted(&["vrrp_gna_interval"], "gna_interval", |m, _, n| {
        if let Some(d) = garp_spacing(m, n) {
            m.config.global.gna_interval = d;
        }
        Ok(())
    }),
    K::acted(&["vrrp_min_garp"], "min_garp", |m, _, n| {
        if let Ok(v) = m.flag(n) {
            m.config.global.min_garp = v;
        }
        Ok(())
    }),
    K::acted(
        &["vrrp_skip_check_adv_addr"],
        "skip_check_adv_addr",
        |m, _, n| {
            if let Ok(v) = m.flag(n) {
                m.config.global.skip_check_adv_addr = v;
            }
            Ok(())
        },
    ),
    K::acted(&["vrrp_strict"], "strict", |m, _, _| {
        m.config.global.strict = true;
        Ok(())
    }),
    K::acted(
        &["vrrp_check_unicast_src"],
        "check_unicast_src",
        |m, _, _| {
            m.config.global.check_unicast_src = true;
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_lower_prio_no_advert"],
        "lower_prio_no_advert",
        |m, _, n| {
            if let Ok(v) = m.flag(n) {
                m.config.global.lower_prio_no_advert = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_higher_prio_send_advert"],
        "higher_prio_send_advert",
        |m, _, n| {
            if let Ok(v) = m.flag(n) {
                m.config.global.higher_prio_send_advert = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_down_timer_adverts"],
        "down_timer_adverts",
        |m, _, n| {
            if let Ok(v) = m.int(n, 1u8, 100) {
                m.config.global.down_timer_adverts = v;
            }
            Ok(())
        },
    ),
    K::acted(
        &["vrrp_notify_priority_changes"],
        "notify_priority_changes",
        |m, _, n| {
            if let Ok(v) = m.flag(n) {
                m.config.global.notify_priority_changes = v;
            }
            Ok(())
        },
    ),
    K::acted(&["vrrp_startup_delay"], "startup_delay", |m, _, n| {
        if let Ok(v) = m.secs(n, 3600) {
            m.config.global.startup_delay = v;
        }
        Ok(())
    }),
    K::acted(&["v3_checksum_as_v2"], "v3_checksum_as_v2", |m, _, n| {
        if let Ok(v) = m.flag(n) {
            m.config.global.v3_checksum_as_v2 = v;
        }
        Ok(())
    }),
    K::acted(&["vrrp_priority"], "process_priority", |m, _, n| {
        if let Ok(v) = m.int(n, -20i8, 19) {
            m.config.global.process_priority = Some(v);
        }
        Ok(())
    }),
    K::acted(&["default_interface"], "default_interface", |m, _, n| {
        if let Ok(a) = m.arg(n) {
            m.config.global.default_interface = Some(a.text.clone());
        }
        Ok(())
    }),
    K::acted(&["max_auto_priority"], "max_auto_priority", |m, _, n| {
        // keepalived: no value is the maximum (sched_get_priority_max(SCHED_RR)); -1 only
        // silences its start-up notice, so it is 0 (off) here.
        if n.args.is_empty() {
            m.config.global.max_auto_priority = crate::net::sched::MAX_RT_PRIORITY;
        } else if let Ok(v) = m.int(n, -1i16, 99) {
            m.config.global.max_auto_priority = u8::try_from(v).unwrap_or(0);
        }
        Ok(())
    }),
    K::acted(
        &["min_auto_priority_delay"],
        "min_auto_priority_delay",
        |m, _, n| {
            if let Ok(v) = m.int(n, 1u32, 10_000_000) {
                m.config.global.min_auto_priority_delay = v;
            }
            Ok(())
        },
    ),
    K::acted(&["dynamic_interfaces"], "dynamic_interfaces", |m, _, n| {
        m.config.global.dynamic_interfaces = true;
        // keepalived's one option: without it, an interface re-created as another kind
        // (macvlan or not, another lower device) is not taken back. vigil plans a
        // re-created interface afresh whatever its kind, as with the option.
        match n.args.first().map(|a| a.text.as_str()) {
            None => {}
            Some("allow_if_changes") => m.warn(
                &n.pos,
                "`dynamic_interfaces allow_if_changes`: vigil always takes back an \
                 interface re-created under its name, whatever its kind, so the option \
                 changes nothing",
            ),
            Some(other) => {
                let msg = format!("unknown dynamic_interfaces option `{other}`");
                m.err(&n.pos, msg);
            }
        }
        Ok(())
    }),
    K::acted(&["script_user"], "script_user", |m, _, n| {
        if let Ok(a) = m.arg(n) {
            m.config.global.script_user = Some(RunAs {
                user: a.text.clone(),
                group: n.args.get(1).map(|g| g.text.clone()),
            });
        }
        Ok(())
    }),
    K::acted(
        &["enable_script_security"],
        "enable_script_security",
        |m, _, _| {
            m.config.global.enable_script_security = true;
            Ok(())
        },
    ),
    K::acted(&["notify_fifo"], "notify_fifo", notify_fifo),
    K::acted(&["vrrp_notify_fifo"], "notify_fifo", notify_fifo),
    K::acted(
        &["notify_fifo_script"],
        "notify_fifo.script",
        notify_fifo_script,
    ),
    K::acted(
        &["vrrp_notify_fifo_script"],
        "notify_fifo.script",
        notify_fifo_script,
    ),
    // E-mail: mapped into the model, warned about by config/inert.rs (vigil sends none).
    K::warned_by(
        &["notification_email"],
        Why::Email,
        "notification_email",
        |m, _, n| {
            let emails: Vec<String> = m.lines(n).into_iter().flatten().map(|a| a.text).collect();
            m.config.global.notification_email.extend(emails);
            Ok(())
        },
    ),
    K::warned_by(
        &["notification_email_from"],
        Why::Email,
        "notification_email_from",
        |m, _, n| {
            if let Ok(a) = m.arg(n) {
                m.config.global.notification_email_from = Some(a.text.clone());
            }
            Ok(())
        },
    ),
    K::warned_by(&["smtp_server"], Why::Email, "smtp_server", |m, _, n| {
        if let Ok(a) = m.arg(n) {
            let host = a.text.clone();
            let port = match n.args.get(1) {
                Some(p) => m.int_word("smtp_server port", p, 1u16, 65535).unwrap_or(25),
                None => 25,
            };
            m.config.global.smtp_server = Some(SmtpServer { host, port });
        }
        Ok(())
    }),
    K::warned_by(
        &["smtp_helo_name"],
        Why::Email,
        "smtp_helo_name",
        |m, _, n| {
            if let Ok(a) = m.arg(n) {
                m.config.global.smtp_helo_name = Some(a.text.clone());
            }
            Ok(())
        },
    ),
    K::warned_by(
        &["smtp_connect_timeout"],
        Why::Email,
        "smtp_connect_timeout",
        |m, _, n| {
            if let Ok(v) = m.int(n, 1u32, 3600) {
                m.config.global.smtp_connect_timeout = v;
            }
            Ok(())
        },
    ),
    K::warned_by(
        &["smtp_alert", "smtp_alert_vrrp"],
        Why::Email,
        "smtp_alert",
        |m, _, n| {
            if let Ok(v) = m.flag(n) {
                m.config.global.smtp_alert = v;
            }
            Ok(())
        },
    ),
    K::warned(&["no_email_faults"], Why::Email),
    // LVS / checker side.
    K::warned(&["smtp_alert_checker"], Why::Lvs),
    K::warned(&["checker_log_all_failures"], Why::Lvs),
    K::warned(&["lvs_sync_daemon"], Why::Lvs),
    K::warned(&["lvs_timeouts"], Why::Lvs),
    K::warned(&["lvs_flush"], Why::Lvs),
    K::warned(&["lvs_flush_on_stop", "lvs_flush_onstop"], Why::Lvs),
    K::warned(&["checker_process_name", "lvs_process_name"], Why::Lvs),
    K::warned(&["nftables_ipvs"], Why::Lvs),
    K::warned(&["nftables_ipvs_priority"], Why::Lvs),
    K::warned(&["nftables_ipvs_start_fwmark"], Why::Lvs),
    K::warned(&["lvs_notify_fifo"], Why::Lvs),
    K::warned(&["lvs_notify_fifo_script"], Why::Lvs),
    K::warned(&["checker_priority"], Why::Lvs),
    K::warned(&["checker_no_swap"], Why::Lvs),
    K::warned(&["checker_rt_priority"], Why::Lvs),
    K::warned(&["checker_cpu_affinity"], Why::Lvs),
    K::warned(&["checker_rlimit_rttime", "checker_rlimit_rtime"], Why::Lvs),
    K::warned(&["lvs_netlink_cmd_rcv_bufs"], Why::Lvs),
    K::warned(&["lvs_netlink_cmd_rcv_bufs_force"], Why::Lvs),
    K::warned(&["lvs_netlink_monitor_rcv_bufs"], Why::Lvs),
    K::warned(&["lvs_netlink_monitor_rcv_bufs_force"], Why::Lvs),
    K::warned(&["rs_init_notifies"], Why::Lvs),
    K::warned(&["no_checker_emails"], Why::Lvs),
    K::warned(&["snmp_vs_stats_update_interval"], Why::Lvs),
    K::warned(&["snmp_rs_stats_update_interval"], Why::Lvs),
    K::warned(&["enable_snmp_checker"], Why::Lvs),
    // BFD.
    K::warned(&["bfd_process_name"], Why::Bfd),
    K::warned(&["bfd_priority"], Why::Bfd),
    K::warned(&["bfd_no_swap"], Why::Bfd),
    K::warned(&["bfd_rt_priority"], Why::Bfd),
    K::warned(&["bfd_cpu_affinity"], Why::Bfd),
    K::warned(&["bfd_rlimit_rttime", "bfd_rlimit_rtime"], Why::Bfd),
    // SNMP, D-Bus.
    K::warned(&["snmp_socket"], Why::Snmp),
    K::warned(&["enable_traps"], Why::Snmp),
    K::warned(&["enable_snmp_vrrp", "enable_snmp_keepalived"], Why::Snmp),
    K::warned(&["enable_snmp_rfc"], Why::Snmp),
    K::warned(&["enable_snmp_rfcv2"], Why::Snmp),
    K::warned(&["enable_snmp_rfcv3"], Why::Snmp),
    K::warned(&["enable_dbus"], Why::Dbus),
    K::warned(&["dbus_service_name"], Why::Dbus),
    K::warned(&["dbus_no_interface_name"], Why::Dbus),
    // Firewall rules for no_accept / vrrp_strict: vigil's own nftables table (`net::firewall`)
    // whenever an instance needs it, whatever these say.
    K::warned(&["vrrp_iptables"], Why::Firewall),
    K::warned(&["vrrp_ipsets"], Why::Firewall),
    K::warned(&["nftables"], Why::Nftables),
    K::warned(&["nftables_priority"], Why::Nftables),
    K::warned(&["nftables_counters"], Why::Nftables),
    K::warned(&["nftables_ifindex"], Why::Nftables),
    // keepalived's process tuning.
    K::warned(&["process_names"], Why::ProcessTuning),
    K::warned(&["process_name"], Why::ProcessTuning),
    K::warned(&["vrrp_process_name"], Why::ProcessTuning),
    K::warned(&["vrrp_no_swap"], Why::ProcessTuning),
    K::warned(&["vrrp_rt_priority"], Why::ProcessTuning),
    K::warned(
        &["vrrp_rlimit_rttime", "vrrp_rlimit_rtime"],
        Why::ProcessTuning,
    ),
    K::warned(&["vrrp_cpu_affinity"], Why::ProcessTuning),
    K::warned(&["vrrp_netlink_cmd_rcv_bufs"], Why::ProcessTuning),
    K::warned(&["vrrp_netlink_cmd_rcv_bufs_force"], Why::ProcessTuning),
    K::warned(&["vrrp_netlink_monitor_rcv_bufs"], Why::ProcessTuning),
    K::warned(&["vrrp_netlink_monitor_rcv_bufs_force"], Why::ProcessTuning),
    K::warned(&["process_monitor_rcv_bufs"], Why::ProcessTuning),
    K::warned(&["process_monitor_rcv_bufs_force"], Why::ProcessTuning),
    K::warned(&["vrrp_rx_bufs_policy"], Why::ProcessTuning),
    K::warned(&["vrrp_rx_bufs_multiplier"], Why::ProcessTuning),
    K::warned(&["umask"], Why::ProcessTuning),
    K::warned(&["random_seed"], Why::ProcessTuning),
    K::warned(&["use_symlink_paths"], Why::ProcessTuning),
    // Scripts of keepalived's parent process.
    K::warned(&["startup_script"], Why::ProcessScripts),
    K::warned(&["startup_script_timeout"], Why::ProcessScripts),
    K::warned(&["shutdown_script"], Why::ProcessScripts),
    K::warned(&["shutdown_script_timeout"], Why::ProcessScripts),
    // keepalived's reload/dump/debug machinery.
    K::warned(&["tmp_config_directory"], Why::KeepalivedRuntime),
    K::warned(&["config_save_dir"], Why::KeepalivedRuntime),
    K::warned(&["reload_check_config"], Why::KeepalivedRuntime),
    K::warned(&["reload_time_file"], Why::KeepalivedRuntime),
    K::warned(&["reload_repeat"], Why::KeepalivedRuntime),
    K::warned(&["reload_file"], Why::KeepalivedRuntime),
    K::warned(&["include_check"], Why::KeepalivedRuntime),
    K::warned(&["data_use_instance"], Why::KeepalivedRuntime),
    K::warned(&["json_version"], Why::KeepalivedRuntime),
    K::warned(&["state_dump_file"], Why::KeepalivedRuntime),
    K::warned(&["stats_dump_file"], Why::KeepalivedRuntime),
    K::warned(&["json_dump_file"], Why::KeepalivedRuntime),
    K::warned(&["iproute_usr_dir"], Why::KeepalivedRuntime),
    K::warned(&["iproute_etc_dir"], Why::KeepalivedRuntime),
    K::warned(
        &["fifo_write_vrrp_states_on_reload"],
        Why::KeepalivedRuntime,
    ),
    // VRRP details vigil handles its own way.
    K::warned(
        &["vrrp_garp_extra_if", "vrrp_vmac_garp_intvl"],
        Why::ExtraGarp,
    ),
    K::warned(&["disable_local_igmp"], Why::IgmpSysctl),
    K::warned(&["vmac_prefix"], Why::VmacNaming),
    K::warned(&["vmac_addr_prefix"], Why::VmacNaming),
    K::warned(&["log_unknown_vrids"], Why::UnknownVrids),
    K::refused(&["vrrp_owner_ignore_adverts"], Why::FsmVariant),
    K::warned(&["vrrp_delay_after_boot"], Why::BootDelay),
    K::warned(&["linkbeat_use_polling"], Why::LinkPolling).vigil_only(
        "keepalived 2.4 reads it at the top level; vigil has accepted it in global_defs too",
    ),
];

/// `vrrp_garp_interval` / `vrrp_gna_interval`: decimal seconds to microseconds.
fn garp_spacing(m: &mut Mapper, n: &Node) -> Option<std::time::Duration> {
    let a = m.arg(n).ok()?;
    match parse_micros(&a.text) {
        // keepalived's range starts at one microsecond: it reports 0 as invalid and keeps
        // its default, no delay (which 0 asks for anyway).
        Some(0) => {
            m.warn(
                &a.pos,
                format!(
                    "{} '0' is invalid (keepalived takes 0.000001 to 4294.967295 seconds) - ignored (keepalived's fix-up): the default applies, no delay; remove the line, or run with --strict to refuse",
                    n.keyword
                ),
            );
            None
        }
        Some(us) => Some(std::time::Duration::from_micros(us)),
        None => {
            m.err(
                &a.pos,
                format!(
                    "`{}` must be decimal seconds (e.g. 0.001), not `{}`",
                    n.keyword, a.text
                ),
            );
            None
        }
    }
}

/// `notify_fifo PATH [USER [GROUP]]` / `vrrp_notify_fifo ...`: vigil writes one FIFO.
fn notify_fifo(m: &mut Mapper, _: &mut (), n: &Node) -> R<()> {
    let kw = n.keyword.as_str();
    let a = m.arg(n)?;
    if let Some(prev) = m.fifo_keyword.clone() {
        // keepalived keeps the first of one keyword ("already specified - ignoring") and
        // writes both kinds; vigil writes one FIFO.
        let why = if prev == kw {
            "given twice: the first is used, as keepalived uses it".to_owned()
        } else {
            format!("vigil writes one notify FIFO and uses `{prev}` (keepalived would write both)")
        };
        m.warn(&n.pos, format!("`{kw} {}` ignored: {why}", a.text));
        return Err(());
    }
    let script = match m.fifo_script.take() {
        Some((skw, s, _)) if skw == format!("{kw}_script") => Some(s),
        other => {
            m.fifo_script = other;
            None
        }
    };
    m.fifo_keyword = Some(kw.to_owned());
    m.config.global.notify_fifo = Some(NotifyFifo {
        path: a.text.clone(),
        user: n.args.get(1).map(|u| u.text.clone()),
        group: n.args.get(2).map(|g| g.text.clone()),
        script,
    });
    Ok(())
}

/// `notify_fifo_script CMD [USER [GROUP]]`: the reader of its own FIFO keyword, either order.
fn notify_fifo_script(m: &mut Mapper, _: &mut (), n: &Node) -> R<()> {
    let kw = n.keyword.as_str();
    let s = m.script_cmd(n)?;
    let fifo_kw = kw.trim_end_matches("_script");
    let fifo = m.config.global.notify_fifo.as_mut();
    match (m.fifo_keyword.as_deref(), fifo) {
        (Some(prev), Some(f)) if prev == fifo_kw && f.script.is_none() => {
            f.script = Some(s);
        }
        (Some(prev), _) => {
            let why = if prev == fifo_kw {
                "given twice: the first is used, as keepalived uses it".to_owned()
            } else {
                format!("its FIFO is not the one vigil writes (`{prev}`)")
            };
            m.warn(&n.pos, format!("`{kw}` ignored: {why}"));
            return Err(());
        }
        (None, _) if m.fifo_script.is_some() => {
            m.warn(
                &n.pos,
                format!("`{kw}` ignored: a notify FIFO script was given already"),
            );
            return Err(());
        }
        // keepalived takes the script before its FIFO too.
        (None, _) => m.fifo_script = Some((kw.to_owned(), s, n.pos.clone())),
    }
    Ok(())
}

/// After the whole file: a FIFO script whose FIFO never came.
pub fn finish(m: &mut Mapper) {
    if let Some((kw, _, pos)) = m.fifo_script.take() {
        // keepalived starts a reader only for a FIFO it opened.
        let fifo_kw = kw.trim_end_matches("_script");
        m.warn(
            &pos,
            format!(
                "`{kw}` without `{fifo_kw}`: ignored, as keepalived ignores it (add `{fifo_kw} PATH`)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn notify_fifo_script_may_come_before_notify_fifo_and_alone_is_ignored() {
        let load = |conf: &str| {
            crate::config::load_keepalived_str(
                conf,
                std::path::Path::new("t.conf"),
                &crate::config::LoadOptions::default(),
            )
            .expect("loads")
        };
        let loaded = load(
            "global_defs {\n notify_fifo_script /bin/reader\n notify_fifo /run/k.fifo nobody\n}\n",
        );
        let f = loaded.model.global.notify_fifo.expect("fifo");
        assert_eq!(f.path, "/run/k.fifo");
        assert_eq!(f.user.as_deref(), Some("nobody"));
        assert_eq!(f.script.expect("reader").command, "/bin/reader");
        let alone = load("global_defs {\n notify_fifo_script /bin/reader\n}\n");
        assert!(alone.model.global.notify_fifo.is_none());
        assert!(
            alone.warnings.iter().any(|w| w
                .to_string()
                .contains("`notify_fifo_script` without `notify_fifo`")),
            "{:?}",
            alone.warnings
        );
    }

    #[test]
    fn a_second_notify_fifo_is_ignored_with_a_warning_and_scripts_stay_with_their_fifo() {
        let loaded = crate::config::load_keepalived_str(
            "global_defs {\n vrrp_notify_fifo_script /bin/vr\n notify_fifo /a\n \
             notify_fifo_script /bin/r\n vrrp_notify_fifo /b\n notify_fifo /c\n}\n",
            std::path::Path::new("t.conf"),
            &crate::config::LoadOptions::default(),
        )
        .expect("loads");
        let f = loaded.model.global.notify_fifo.expect("fifo");
        assert_eq!(
            (f.path.as_str(), f.script.expect("r").command.as_str()),
            ("/a", "/bin/r")
        );
        let text: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        for want in [
            "`vrrp_notify_fifo /b` ignored: vigil writes one notify FIFO and uses `notify_fifo`",
            "`notify_fifo /c` ignored: given twice",
            "`vrrp_notify_fifo_script` without `vrrp_notify_fifo`",
        ] {
            assert!(
                text.iter().any(|w| w.contains(want)),
                "{want:?} not in {text:#?}"
            );
        }
    }
}
