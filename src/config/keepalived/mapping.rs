//! keepalived's keywords onto the model, with keepalived's value rules (decimal seconds,
//! `<BOOL>`, `ip address add`-style address lines, ...). Every statement is either mapped,
//! accepted with a warning naming it, or reported as an error: nothing is silently dropped.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use crate::config::diagnostic::{Diagnostic, Pos, Severity, SourceMap, did_you_mean};
use crate::config::model::*;
use crate::types::{Centis, Family, Priority, Version, Vrid};

use super::keywords::*;
use super::parser::{Arg, Node};

/// The model built from a statement tree, where each field came from, and the problems seen.
pub struct Mapped {
    pub config: Config,
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn map(nodes: &[Node], fallback: Pos) -> Mapped {
    let mut m = Mapper {
        cur_base: String::new(),
        config: Config::default(),
        map: SourceMap::new(fallback),
        diags: Vec::new(),
        fifo_script: None,
        fifo_keyword: None,
    };
    for node in nodes {
        m.top(node);
    }
    if let Some((kw, _, pos)) = m.fifo_script.take() {
        // keepalived starts a reader only for a FIFO it opened.
        let fifo_kw = kw.trim_end_matches("_script");
        m.warn(
            &pos,
            format!("`{kw}` without `{fifo_kw}`: ignored, as keepalived ignores it (add `{fifo_kw} PATH`)"),
        );
    }
    Mapped {
        config: m.config,
        map: m.map,
        diagnostics: m.diags,
    }
}

struct Mapper {
    /// YAML path of the instance being mapped, for per-item positions.
    cur_base: String,
    config: Config,
    map: SourceMap,
    diags: Vec<Diagnostic>,
    /// A `notify_fifo_script` seen before any `notify_fifo` (keepalived takes them in either
    /// order), kept until the FIFO comes.
    fifo_script: Option<(String, NotifyScript, Pos)>,
    /// The keyword that named the notify FIFO (`notify_fifo` or `vrrp_notify_fifo`).
    fifo_keyword: Option<String>,
}

type R<T> = Result<T, ()>;

impl Mapper {
    fn err(&mut self, pos: &Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(pos.clone(), msg));
    }

    fn warn(&mut self, pos: &Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(pos.clone(), msg));
    }

    /// Runs `parse` on one line of a route or rule list; if it fails, keepalived skips that
    /// line and goes on ("Invalid rule to address ...", "unknown route keyword ..."), so its
    /// errors become warnings that say the line is skipped (`--strict` refuses them again).
    fn skip_bad_line<T>(&mut self, what: &str, parse: impl FnOnce(&mut Self) -> R<T>) -> Option<T> {
        let before = self.diags.len();
        match parse(self) {
            Ok(v) => Some(v),
            Err(()) => {
                for d in &mut self.diags[before..] {
                    if d.severity == Severity::Error {
                        d.severity = Severity::Warning;
                        d.message = format!(
                            "{}; the {what} is skipped (keepalived's fix-up: it skips an invalid {what} and goes on), or run with --strict to refuse",
                            d.message
                        );
                    }
                }
                None
            }
        }
    }

    fn no_effect(&mut self, node: &Node, block: &str) {
        self.warn(
            &node.pos,
            format!(
                "`{}` in {block} is accepted but has no effect in vigil yet",
                node.keyword
            ),
        );
    }

    fn unknown(&mut self, node: &Node, block: &str, known: &[&[&str]], as_error: bool) {
        let hint = did_you_mean(&node.keyword, known.iter().flat_map(|k| k.iter().copied()));
        let msg = format!("unknown keyword `{}` in {block}{hint}", node.keyword);
        if as_error {
            self.err(&node.pos, msg);
        } else {
            self.warn(&node.pos, format!("{msg}; ignored"));
        }
    }

    /// keepalived's top-level `track_group NAME { group { VI_1 VI_2 } }` (see
    /// `model::TrackGroup`); a second block of the same name is skipped, as keepalived does.
    fn track_group_block(&mut self, node: &Node) {
        let name = self.name(node);
        if self.config.track_groups.iter().any(|g| g.name == name) {
            self.warn(&node.pos, format!("track_group {name} already defined - ignoring (keepalived's fix-up): give each track_group its own name"));
            return;
        }
        let i = self.config.track_groups.len();
        self.map
            .insert(format!("track_groups.{i}"), node.pos.clone());
        let mut group = Vec::new();
        for n in self.children(node) {
            if n.keyword == "group" {
                group.extend(self.lines(&n).into_iter().flatten().map(|a| a.text));
            } else {
                self.unknown(&n, "track_group", &[&["group"]], false);
            }
        }
        self.config.track_groups.push(TrackGroup { name, group });
    }

    /// A static item's `track_group NAME`: keepalived looks the group up while it parses, so
    /// a group defined further down is "not found" and the option is dropped.
    fn track_group_ref(&mut self, arg: &Arg) -> Option<String> {
        if self.config.track_groups.iter().any(|g| g.name == arg.text) {
            return Some(arg.text.clone());
        }
        self.warn(&arg.pos, format!("track_group {} not found - ignored (keepalived's fix-up): define the track_group block before the lines that name it", arg.text));
        None
    }

    fn top(&mut self, node: &Node) {
        match node.keyword.as_str() {
            "global_defs" => {
                for n in self.children(node) {
                    self.global(&n);
                }
            }
            "vrrp_instance" => self.instance(node),
            "vrrp_sync_group" => self.sync_group(node),
            "vrrp_script" => self.script(node),
            "vrrp_track_file" | "track_file" => self.track_file(node),
            "vrrp_track_process" => self.track_process(node),
            "static_ipaddress" => {
                for n in self.children(node) {
                    let i = self.config.static_addresses.len();
                    if !self.address_is_usable(&n) {
                        continue;
                    }
                    if let Ok(a) = self.address(&n) {
                        self.map
                            .insert(format!("static_addresses.{i}"), n.pos.clone());
                        self.config.static_addresses.push(a);
                    }
                }
            }
            "static_routes" => {
                for n in self.children(node) {
                    let i = self.config.static_routes.len();
                    if let Some(r) = self.skip_bad_line("route", |m| m.route(&n)) {
                        self.map.insert(format!("static_routes.{i}"), n.pos.clone());
                        self.config.static_routes.push(r);
                    }
                }
            }
            "static_rules" => {
                for n in self.children(node) {
                    let i = self.config.static_rules.len();
                    if let Some(r) = self.skip_bad_line("rule", |m| m.rule(&n)) {
                        self.map.insert(format!("static_rules.{i}"), n.pos.clone());
                        self.config.static_rules.push(r);
                    }
                }
            }
            "track_group" => self.track_group_block(node),
            "net_namespace" => {
                use super::namespaces::{NetNamespaceLine, net_namespace_line};
                match net_namespace_line(node, self.config.global.net_namespace.as_deref()) {
                    NetNamespaceLine::Set(name) => {
                        self.map.insert("global.net_namespace", node.pos.clone());
                        self.config.global.net_namespace = Some(name);
                    }
                    NetNamespaceLine::Ignored(msg) => self.warn(&node.pos, msg),
                    NetNamespaceLine::Refused(msg) => self.err(&node.pos, msg),
                }
            }
            k if TOP_ACCEPTED.contains(&k) => self.no_effect(node, "the top level"),
            _ => self.unknown(node, "the top level", &[TOP_MAPPED, TOP_ACCEPTED], false),
        }
    }

    /// The statements of a block; a keyword that needs a block but has none is an error.
    fn children(&mut self, node: &Node) -> Vec<Node> {
        match &node.block {
            Some(b) => b.clone(),
            None => {
                self.err(
                    &node.pos,
                    format!(
                        "`{}` needs a block: `{} {{ ... }}`",
                        node.keyword, node.keyword
                    ),
                );
                Vec::new()
            }
        }
    }

    /// The block's lines as word lists (keyword first), for list blocks.
    fn lines(&mut self, node: &Node) -> Vec<Vec<Arg>> {
        self.children(node)
            .into_iter()
            .map(|n| {
                let mut words = vec![Arg {
                    text: n.keyword.clone(),
                    pos: n.pos.clone(),
                }];
                words.extend(n.args);
                words
            })
            .collect()
    }

    fn arg<'a>(&mut self, node: &'a Node) -> R<&'a Arg> {
        match node.args.first() {
            Some(a) => Ok(a),
            None => {
                self.err(&node.pos, format!("`{}` needs a value", node.keyword));
                Err(())
            }
        }
    }

    fn name(&mut self, node: &Node) -> String {
        match node.args.first() {
            Some(a) => a.text.clone(),
            None => {
                self.err(
                    &node.pos,
                    format!(
                        "`{}` needs a name: `{} NAME {{ ... }}`",
                        node.keyword, node.keyword
                    ),
                );
                String::new()
            }
        }
    }

    fn int<T: FromStr + PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        node: &Node,
        min: T,
        max: T,
    ) -> R<T> {
        let a = self.arg(node)?;
        self.int_word(&node.keyword, a, min, max)
    }

    fn int_word<T: FromStr + PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        what: &str,
        a: &Arg,
        min: T,
        max: T,
    ) -> R<T> {
        match a.text.parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => {
                self.err(
                    &a.pos,
                    format!(
                        "`{what}` must be an integer from {min} to {max}, not `{}`",
                        a.text
                    ),
                );
                Err(())
            }
        }
    }

    /// keepalived's decimal seconds (`advert_int 0.5`), exactly, in centiseconds.
    fn secs(&mut self, node: &Node, max_secs: u32) -> R<Centis> {
        let a = self.arg(node)?;
        match parse_centis(&a.text) {
            Some(c) if c.get() <= max_secs.saturating_mul(100) => Ok(c),
            Some(_) => {
                self.err(
                    &a.pos,
                    format!(
                        "`{}` must be at most {max_secs} seconds, not `{}`",
                        node.keyword, a.text
                    ),
                );
                Err(())
            }
            None => {
                self.err(
                    &a.pos,
                    format!(
                        "`{}` must be a number of seconds with at most 2 decimals (e.g. 1 or 0.25), not `{}`",
                        node.keyword, a.text
                    ),
                );
                Err(())
            }
        }
    }

    /// `keyword [<BOOL>]`: no value means on.
    fn flag(&mut self, node: &Node) -> R<bool> {
        match node.args.first() {
            None => Ok(true),
            Some(a) => match a.text.to_ascii_lowercase().as_str() {
                "on" | "true" | "yes" => Ok(true),
                "off" | "false" | "no" => Ok(false),
                _ => {
                    self.err(
                        &a.pos,
                        format!(
                            "`{}` takes on|off|true|false|yes|no, not `{}`",
                            node.keyword, a.text
                        ),
                    );
                    Err(())
                }
            },
        }
    }

    fn ip(&mut self, a: &Arg, what: &str) -> R<IpAddr> {
        a.text.parse().map_err(|_| {
            self.err(
                &a.pos,
                format!("`{what}` needs an IP address, not `{}`", a.text),
            );
        })
    }

    fn script_cmd(&mut self, node: &Node) -> R<NotifyScript> {
        let a = self.arg(node)?;
        if node.args.len() > 3 {
            self.err(
                &node.args[3].pos,
                format!(
                    "`{}` takes a command and an optional user and group: quote a command that has arguments",
                    node.keyword
                ),
            );
            return Err(());
        }
        Ok(NotifyScript {
            command: a.text.clone(),
            user: node.args.get(1).map(|a| a.text.clone()),
            group: node.args.get(2).map(|a| a.text.clone()),
        })
    }

    fn global(&mut self, node: &Node) {
        let pos = node.pos.clone();
        let key = match node.keyword.as_str() {
            "router_id" => {
                if let Ok(a) = self.arg(node) {
                    self.config.global.router_id = Some(a.text.clone());
                }
                "router_id"
            }
            "vrrp_version" => {
                if let Ok(v) = self.int::<u8>(node, 2, 3) {
                    self.config.global.vrrp_version =
                        if v == 2 { Version::V2 } else { Version::V3 };
                }
                "vrrp_version"
            }
            "vrrp_mcast_group4" => {
                if let Ok(a) = self.arg(node) {
                    match a.text.parse::<Ipv4Addr>() {
                        Ok(ip) => self.config.global.mcast_group4 = ip,
                        Err(_) => self.err(
                            &a.pos,
                            format!(
                                "`vrrp_mcast_group4` needs an IPv4 address, not `{}`",
                                a.text
                            ),
                        ),
                    }
                }
                "mcast_group4"
            }
            "vrrp_mcast_group6" => {
                if let Ok(a) = self.arg(node) {
                    match a.text.parse() {
                        Ok(ip) => self.config.global.mcast_group6 = ip,
                        Err(_) => self.err(
                            &a.pos,
                            format!(
                                "`vrrp_mcast_group6` needs an IPv6 address, not `{}`",
                                a.text
                            ),
                        ),
                    }
                }
                "mcast_group6"
            }
            "vrrp_garp_master_delay" => {
                if let Ok(v) = self.secs(node, 86_400) {
                    self.config.global.garp.master_delay = v;
                }
                "garp.master_delay"
            }
            "vrrp_garp_master_repeat" => {
                if let Ok(v) = self.int(node, 0u32, 10_000) {
                    self.config.global.garp.master_repeat = v;
                }
                "garp.master_repeat"
            }
            "vrrp_garp_master_refresh" => {
                if let Ok(v) = self.secs(node, 86_400) {
                    self.config.global.garp.master_refresh = v;
                }
                "garp.master_refresh"
            }
            "vrrp_garp_master_refresh_repeat" => {
                if let Ok(v) = self.int(node, 0u32, 10_000) {
                    self.config.global.garp.master_refresh_repeat = v;
                }
                "garp.master_refresh_repeat"
            }
            "vrrp_garp_lower_prio_delay" => {
                if let Ok(v) = self.secs(node, 86_400) {
                    self.config.global.garp.lower_prio_delay = v;
                }
                "garp.lower_prio_delay"
            }
            "vrrp_garp_lower_prio_repeat" => {
                if let Ok(v) = self.int(node, 0u32, 10_000) {
                    self.config.global.garp.lower_prio_repeat = v;
                }
                "garp.lower_prio_repeat"
            }
            "vrrp_garp_interval" | "vrrp_gna_interval" => {
                if let Ok(a) = self.arg(node) {
                    match parse_micros(&a.text) {
                        // keepalived's range starts at one microsecond: it reports 0 as
                        // invalid and keeps its default, no delay (which 0 asks for anyway).
                        Some(0) => self.warn(
                            &a.pos,
                            format!(
                                "{} '0' is invalid (keepalived takes 0.000001 to 4294.967295 seconds) - ignored (keepalived's fix-up): the default applies, no delay; remove the line, or run with --strict to refuse",
                                node.keyword
                            ),
                        ),
                        Some(us) => {
                            let d = std::time::Duration::from_micros(us);
                            if node.keyword == "vrrp_garp_interval" {
                                self.config.global.garp_interval = d;
                            } else {
                                self.config.global.gna_interval = d;
                            }
                        }
                        None => self.err(
                            &a.pos,
                            format!(
                                "`{}` must be decimal seconds (e.g. 0.001), not `{}`",
                                node.keyword, a.text
                            ),
                        ),
                    }
                }
                if node.keyword == "vrrp_garp_interval" {
                    "garp_interval"
                } else {
                    "gna_interval"
                }
            }
            "vrrp_min_garp" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.min_garp = v;
                }
                "min_garp"
            }
            "vrrp_skip_check_adv_addr" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.skip_check_adv_addr = v;
                }
                "skip_check_adv_addr"
            }
            "vrrp_strict" => {
                self.config.global.strict = true;
                "strict"
            }
            "vrrp_check_unicast_src" => {
                self.config.global.check_unicast_src = true;
                "check_unicast_src"
            }
            "vrrp_lower_prio_no_advert" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.lower_prio_no_advert = v;
                }
                "lower_prio_no_advert"
            }
            "vrrp_higher_prio_send_advert" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.higher_prio_send_advert = v;
                }
                "higher_prio_send_advert"
            }
            "vrrp_down_timer_adverts" => {
                if let Ok(v) = self.int(node, 1u8, 100) {
                    self.config.global.down_timer_adverts = v;
                }
                "down_timer_adverts"
            }
            "vrrp_notify_priority_changes" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.notify_priority_changes = v;
                }
                "notify_priority_changes"
            }
            "vrrp_startup_delay" => {
                if let Ok(v) = self.secs(node, 3600) {
                    self.config.global.startup_delay = v;
                }
                "startup_delay"
            }
            "v3_checksum_as_v2" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.v3_checksum_as_v2 = v;
                }
                "v3_checksum_as_v2"
            }
            "vrrp_priority" => {
                if let Ok(v) = self.int(node, -20i8, 19) {
                    self.config.global.process_priority = Some(v);
                }
                "process_priority"
            }
            "max_auto_priority" => {
                // keepalived: no value is the maximum (sched_get_priority_max(SCHED_RR)); -1
                // only silences its start-up notice, so it is 0 (off) here.
                if node.args.is_empty() {
                    self.config.global.max_auto_priority = crate::net::sched::MAX_RT_PRIORITY;
                } else if let Ok(v) = self.int(node, -1i16, 99) {
                    self.config.global.max_auto_priority = u8::try_from(v).unwrap_or(0);
                }
                "max_auto_priority"
            }
            "min_auto_priority_delay" => {
                if let Ok(v) = self.int(node, 1u32, 10_000_000) {
                    self.config.global.min_auto_priority_delay = v;
                }
                "min_auto_priority_delay"
            }
            "default_interface" => {
                if let Ok(a) = self.arg(node) {
                    self.config.global.default_interface = Some(a.text.clone());
                }
                "default_interface"
            }
            "dynamic_interfaces" => {
                self.config.global.dynamic_interfaces = true;
                // keepalived's one option: without it, an interface re-created as another
                // kind (macvlan or not, another lower device) is not taken back. vigil plans
                // a re-created interface afresh whatever its kind, as with the option.
                match node.args.first().map(|a| a.text.as_str()) {
                    None => {}
                    Some("allow_if_changes") => self.warn(
                        &node.pos,
                        "`dynamic_interfaces allow_if_changes`: vigil always takes back an \
                         interface re-created under its name, whatever its kind, so the option \
                         changes nothing",
                    ),
                    Some(other) => {
                        let msg = format!("unknown dynamic_interfaces option `{other}`");
                        self.err(&node.pos, msg);
                    }
                }
                "dynamic_interfaces"
            }
            "script_user" => {
                if let Ok(a) = self.arg(node) {
                    self.config.global.script_user = Some(RunAs {
                        user: a.text.clone(),
                        group: node.args.get(1).map(|g| g.text.clone()),
                    });
                }
                "script_user"
            }
            "enable_script_security" => {
                self.config.global.enable_script_security = true;
                "enable_script_security"
            }
            kw @ ("notify_fifo" | "vrrp_notify_fifo") => {
                let Ok(a) = self.arg(node) else { return };
                match self.fifo_keyword.clone() {
                    Some(prev) => {
                        // keepalived keeps the first of one keyword ("already specified -
                        // ignoring") and writes both kinds; vigil writes one FIFO.
                        let why = if prev == kw {
                            "given twice: the first is used, as keepalived uses it".to_owned()
                        } else {
                            format!(
                                "vigil writes one notify FIFO and uses `{prev}` (keepalived would write both)"
                            )
                        };
                        self.warn(&pos, format!("`{kw} {}` ignored: {why}", a.text));
                        return;
                    }
                    None => {
                        let script = match self.fifo_script.take() {
                            Some((skw, s, _)) if skw == format!("{kw}_script") => Some(s),
                            other => {
                                self.fifo_script = other;
                                None
                            }
                        };
                        self.fifo_keyword = Some(kw.to_owned());
                        self.config.global.notify_fifo = Some(NotifyFifo {
                            path: a.text.clone(),
                            user: node.args.get(1).map(|u| u.text.clone()),
                            group: node.args.get(2).map(|g| g.text.clone()),
                            script,
                        });
                    }
                }
                "notify_fifo"
            }
            kw @ ("notify_fifo_script" | "vrrp_notify_fifo_script") => {
                let Ok(s) = self.script_cmd(node) else { return };
                let fifo_kw = kw.trim_end_matches("_script");
                let fifo = self.config.global.notify_fifo.as_mut();
                match (self.fifo_keyword.as_deref(), fifo) {
                    (Some(prev), Some(f)) if prev == fifo_kw && f.script.is_none() => {
                        f.script = Some(s);
                    }
                    (Some(prev), _) => {
                        let why = if prev == fifo_kw {
                            "given twice: the first is used, as keepalived uses it".to_owned()
                        } else {
                            format!("its FIFO is not the one vigil writes (`{prev}`)")
                        };
                        self.warn(&pos, format!("`{kw}` ignored: {why}"));
                        return;
                    }
                    (None, _) if self.fifo_script.is_some() => {
                        self.warn(
                            &pos,
                            format!("`{kw}` ignored: a notify FIFO script was given already"),
                        );
                        return;
                    }
                    // keepalived takes the script before its FIFO too.
                    (None, _) => self.fifo_script = Some((kw.to_owned(), s, pos.clone())),
                }
                "notify_fifo.script"
            }
            "notification_email" => {
                let emails: Vec<String> = self
                    .lines(node)
                    .into_iter()
                    .flatten()
                    .map(|a| a.text)
                    .collect();
                self.config.global.notification_email.extend(emails);
                "notification_email"
            }
            "notification_email_from" => {
                if let Ok(a) = self.arg(node) {
                    self.config.global.notification_email_from = Some(a.text.clone());
                }
                "notification_email_from"
            }
            "smtp_server" => {
                if let Ok(a) = self.arg(node) {
                    let host = a.text.clone();
                    let port = match node.args.get(1) {
                        Some(p) => self
                            .int_word("smtp_server port", p, 1u16, 65535)
                            .unwrap_or(25),
                        None => 25,
                    };
                    self.config.global.smtp_server = Some(SmtpServer { host, port });
                }
                "smtp_server"
            }
            "smtp_helo_name" => {
                if let Ok(a) = self.arg(node) {
                    self.config.global.smtp_helo_name = Some(a.text.clone());
                }
                "smtp_helo_name"
            }
            "smtp_connect_timeout" => {
                if let Ok(v) = self.int(node, 1u32, 3600) {
                    self.config.global.smtp_connect_timeout = v;
                }
                "smtp_connect_timeout"
            }
            "smtp_alert" | "smtp_alert_vrrp" => {
                if let Ok(v) = self.flag(node) {
                    self.config.global.smtp_alert = v;
                }
                "smtp_alert"
            }
            k if GLOBAL_ACCEPTED.contains(&k) => {
                self.no_effect(node, "global_defs");
                return;
            }
            _ => {
                self.unknown(
                    node,
                    "global_defs",
                    &[GLOBAL_MAPPED, GLOBAL_ACCEPTED],
                    false,
                );
                return;
            }
        };
        self.map.insert(format!("global.{key}"), pos);
    }

    fn instance(&mut self, node: &Node) {
        let name = self.name(node);
        let idx = self.config.instances.len();
        let base = format!("instances.{idx}");
        self.map.insert(base.clone(), node.pos.clone());
        self.cur_base = base.clone();
        let mut inst = Instance {
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
        };
        let mut has_interface = false;
        let mut has_vrid = false;
        for n in self.children(node) {
            let key = self.instance_kw(&mut inst, &n, &mut has_interface, &mut has_vrid);
            if let Some(key) = key {
                self.map.insert(format!("{base}.{key}"), n.pos.clone());
            }
        }
        if !has_interface {
            self.err(
                &node.pos,
                format!(
                    "vrrp_instance `{}` has no `interface`: add e.g. `interface eth0`",
                    inst.name
                ),
            );
        }
        if !has_vrid {
            self.err(
                &node.pos,
                format!(
                    "vrrp_instance `{}` has no `virtual_router_id`: add one from 1 to 255, the same on every router of this virtual router",
                    inst.name
                ),
            );
        }
        self.config.instances.push(inst);
    }

    /// Map one instance statement; returns the YAML path it set.
    fn instance_kw(
        &mut self,
        inst: &mut Instance,
        n: &Node,
        has_interface: &mut bool,
        has_vrid: &mut bool,
    ) -> Option<&'static str> {
        let key = match n.keyword.as_str() {
            "state" => {
                let a = self.arg(n).ok()?;
                match a.text.to_ascii_uppercase().as_str() {
                    "MASTER" => inst.initial_state = InitialState::Master,
                    "BACKUP" => inst.initial_state = InitialState::Backup,
                    _ => self.err(
                        &a.pos,
                        format!("`state` is MASTER or BACKUP, not `{}`", a.text),
                    ),
                }
                "state"
            }
            "interface" => {
                inst.interface = self.arg(n).ok()?.text.clone();
                *has_interface = true;
                "interface"
            }
            "virtual_router_id" => {
                *has_vrid = true;
                let a = self.arg(n).ok()?;
                match a.text.parse::<u8>().ok().and_then(Vrid::new) {
                    Some(v) => inst.vrid = v,
                    // RFC 5798 §5.2.3: VRID is 1..=255.
                    None => self.err(
                        &a.pos,
                        format!(
                            "`virtual_router_id` must be from 1 to 255 (RFC 5798 §5.2.3), not `{}`",
                            a.text
                        ),
                    ),
                }
                "virtual_router_id"
            }
            "version" => {
                let v = self.int::<u8>(n, 2, 3).ok()?;
                inst.version = if v == 2 { Version::V2 } else { Version::V3 };
                "version"
            }
            "native_ipv6" => {
                inst.family = Family::V6;
                "family"
            }
            "priority" => {
                let a = self.arg(n).ok()?;
                match a.text.parse::<u8>() {
                    Ok(p) if p >= 1 => inst.priority = Priority::new(p),
                    // RFC 5798 §5.2.4: 0 is reserved for a master that is stopping.
                    _ => self.err(&a.pos, format!("`priority` must be from 1 to 255 (255 = address owner; 0 is reserved, RFC 5798 §5.2.4), not `{}`", a.text)),
                }
                "priority"
            }
            "advert_int" => {
                // keepalived reads larger values and clamps them to what the version can
                // carry, with a warning (fixup.rs); beyond this bound it is a typo.
                inst.advert_int = self.secs(n, 655).ok()?;
                "advert_int"
            }
            "nopreempt" => {
                inst.preempt = false;
                "preempt"
            }
            "preempt" => {
                inst.preempt = true;
                "preempt"
            }
            "preempt_delay" => {
                inst.preempt_delay = self.secs(n, 1000).ok()?;
                "preempt_delay"
            }
            "accept" => {
                inst.accept = true;
                "accept"
            }
            "no_accept" => {
                inst.accept = false;
                "accept"
            }
            "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                let excluded = n.keyword == "virtual_ipaddress_excluded";
                for line in self.children(n) {
                    let (field, k) = if excluded {
                        ("virtual_ipaddress_excluded", inst.excluded_addresses.len())
                    } else {
                        ("virtual_ipaddress", inst.virtual_addresses.len())
                    };
                    if !self.address_is_usable(&line) {
                        continue;
                    }
                    self.map
                        .insert(format!("{}.{field}.{k}", self.cur_base), line.pos.clone());
                    if let Ok(a) = self.address(&line) {
                        if excluded {
                            inst.excluded_addresses.push(a);
                        } else {
                            inst.virtual_addresses.push(a);
                        }
                    }
                }
                if excluded {
                    "virtual_ipaddress_excluded"
                } else {
                    "virtual_ipaddress"
                }
            }
            "virtual_routes" => {
                for line in self.children(n) {
                    if let Some(r) = self.skip_bad_line("route", |m| m.route(&line)) {
                        inst.virtual_routes.push(r);
                    }
                }
                "virtual_routes"
            }
            "virtual_rules" => {
                for line in self.children(n) {
                    if let Some(r) = self.skip_bad_line("rule", |m| m.rule(&line)) {
                        inst.virtual_rules.push(r);
                    }
                }
                "virtual_rules"
            }
            "authentication" => {
                let (mut kind, mut pass) = (None, None);
                for line in self.children(n) {
                    match line.keyword.as_str() {
                        "auth_type" => {
                            if let Ok(a) = self.arg(&line) {
                                match a.text.to_ascii_uppercase().as_str() {
                                    "PASS" | "AH" => {
                                        kind = Some((a.text.to_ascii_uppercase(), line.pos.clone()))
                                    }
                                    _ => self.err(
                                        &a.pos,
                                        format!("`auth_type` is PASS or AH, not `{}`", a.text),
                                    ),
                                }
                            }
                        }
                        "auth_pass" => {
                            if let Ok(a) = self.arg(&line) {
                                pass = Some(a.text.clone());
                            }
                        }
                        _ => self.unknown(
                            &line,
                            "authentication",
                            &[&["auth_type", "auth_pass"]],
                            true,
                        ),
                    }
                }
                match (kind, pass) {
                    (Some((k, _)), Some(p)) => {
                        inst.auth = Some(if k == "AH" {
                            Auth::Ah(p)
                        } else {
                            Auth::Pass(p)
                        });
                    }
                    (None, _) => self.err(
                        &n.pos,
                        "`authentication` needs `auth_type PASS` or `auth_type AH`",
                    ),
                    (Some((_, pos)), None) => {
                        self.err(&pos, "`authentication` needs an `auth_pass`")
                    }
                }
                "authentication"
            }
            "auth_hmac" => {
                inst.auth_hmac = Some(crate::config::auth_hmac::map_keepalived(
                    n,
                    inst.auth_hmac.take(),
                    &self.cur_base,
                    &mut self.map,
                    &mut self.diags,
                ));
                "auth_hmac"
            }
            "unicast_src_ip" => {
                let a = self.arg(n).ok()?;
                inst.unicast_src_ip = Some(self.ip(a, "unicast_src_ip").ok()?);
                "unicast_src_ip"
            }
            "unicast_peer" => {
                for line in self.lines(n) {
                    let Some((first, rest)) = line.split_first() else {
                        continue;
                    };
                    let k = inst.unicast_peers.len();
                    let path = format!("{}.unicast_peer.{k}", self.cur_base);
                    self.map.insert(path, first.pos.clone());
                    let Ok(ip) = self.ip(first, "unicast_peer") else {
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
                                self.err(
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
                            self.err(&opt.pos, format!("`{}` needs a value", opt.text));
                            break;
                        };
                        *slot = self.int_word(&opt.text, value, 0u8, 255).ok();
                    }
                    inst.unicast_peers.push(peer);
                }
                "unicast_peer"
            }
            "unicast_ttl" => {
                inst.unicast_ttl = Some(self.int(n, 0u8, 255).ok()?);
                "unicast_ttl"
            }
            "unicast_fault_no_peer" => {
                inst.unicast_fault_no_peer = true;
                "unicast_fault_no_peer"
            }
            "check_unicast_src" => {
                inst.check_unicast_src = true;
                "check_unicast_src"
            }
            "mcast_src_ip" => {
                let a = self.arg(n).ok()?;
                inst.mcast_src_ip = Some(self.ip(a, "mcast_src_ip").ok()?);
                "mcast_src_ip"
            }
            "mcast_dst_ip" => {
                let a = self.arg(n).ok()?;
                inst.mcast_dst_ip = Some(self.ip(a, "mcast_dst_ip").ok()?);
                "mcast_dst_ip"
            }
            "track_src_ip" => {
                inst.track_src_ip = true;
                "track_src_ip"
            }
            "use_vmac" => {
                // keepalived: `use_vmac [NAME] [MAC]`; a word that parses as a MAC is the MAC.
                let name = n.args.iter().find(|a| !looks_like_mac(&a.text));
                if let Some(mac) = n.args.iter().find(|a| looks_like_mac(&a.text)) {
                    self.warn(&mac.pos, "a custom VMAC address is accepted but has no effect in vigil yet: the RFC 5798 §7.3 address is used");
                }
                inst.use_vmac = Some(match name {
                    Some(a) => a.text.clone(),
                    None => format!("vrrp.{}", pending_vrid_name()),
                });
                "use_vmac"
            }
            "vmac_xmit_base" => {
                inst.vmac_xmit_base = true;
                "vmac_xmit_base"
            }
            "track_interface" => {
                for line in self.lines(n) {
                    if let Ok((name, weight, reverse)) = self.track_line(&line, 253) {
                        inst.track_interfaces.push(TrackInterface {
                            name,
                            weight: weight.unwrap_or(0),
                            reverse,
                        });
                    }
                }
                "track_interface"
            }
            "track_script" | "track_file" | "track_process" => {
                let limit = if n.keyword == "track_script" {
                    253
                } else {
                    254
                };
                let mut refs = Vec::new();
                let start = match n.keyword.as_str() {
                    "track_script" => inst.track_scripts.len(),
                    "track_file" => inst.track_files.len(),
                    _ => inst.track_processes.len(),
                };
                for line in self.lines(n) {
                    if let Some(first) = line.first() {
                        let path =
                            format!("{}.{}.{}", self.cur_base, n.keyword, start + refs.len());
                        self.map.insert(path, first.pos.clone());
                    }
                    if let Ok((name, weight, reverse)) = self.track_line(&line, limit) {
                        refs.push(TrackRef {
                            name,
                            weight,
                            reverse,
                        });
                    }
                }
                match n.keyword.as_str() {
                    "track_script" => {
                        inst.track_scripts.extend(refs);
                        "track_script"
                    }
                    "track_file" => {
                        inst.track_files.extend(refs);
                        "track_file"
                    }
                    _ => {
                        inst.track_processes.extend(refs);
                        "track_process"
                    }
                }
            }
            "garp_master_delay" => {
                inst.garp.master_delay = self.secs(n, 86_400).ok()?;
                "garp.master_delay"
            }
            "garp_master_repeat" => {
                inst.garp.master_repeat = self.int(n, 0u32, 10_000).ok()?;
                "garp.master_repeat"
            }
            "garp_master_refresh" => {
                inst.garp.master_refresh = self.secs(n, 86_400).ok()?;
                "garp.master_refresh"
            }
            "garp_master_refresh_repeat" => {
                inst.garp.master_refresh_repeat = self.int(n, 0u32, 10_000).ok()?;
                "garp.master_refresh_repeat"
            }
            "garp_lower_prio_delay" => {
                inst.garp.lower_prio_delay = self.secs(n, 86_400).ok()?;
                "garp.lower_prio_delay"
            }
            "garp_lower_prio_repeat" => {
                inst.garp.lower_prio_repeat = self.int(n, 0u32, 10_000).ok()?;
                "garp.lower_prio_repeat"
            }
            // keepalived: `notify_deleted` alone only changes how the removal is announced.
            "notify_deleted" if n.args.is_empty() => {
                inst.notify.report_deleted = true;
                "notify.report_deleted"
            }
            "use_vmac_addr" => {
                self.warn(&n.pos, "`use_vmac_addr` is not implemented by vigil: a virtual address on another interface than the instance's (or of the other family) goes on that interface itself, answering with its MAC, where keepalived creates a VMAC (virtual MAC, RFC 5798 §7.3) on that interface for it; ignored");
                return None;
            }
            "no_virtual_ipaddress" => {
                inst.no_virtual_ipaddress = true;
                "no_virtual_ipaddress"
            }
            k @ ("notify_master"
            | "notify_backup"
            | "notify_fault"
            | "notify_stop"
            | "notify_deleted"
            | "notify"
            | "notify_master_rx_lower_pri") => {
                let s = self.script_cmd(n).ok()?;
                set_notify(&mut inst.notify, k, s)
            }
            "notify_priority_changes" => {
                inst.notify_priority_changes = self.flag(n).ok()?;
                "notify_priority_changes"
            }
            "smtp_alert" => {
                inst.smtp_alert = self.flag(n).ok()?;
                "smtp_alert"
            }
            "dont_track_primary" => {
                inst.dont_track_primary = true;
                "dont_track_primary"
            }
            "skip_check_adv_addr" => {
                inst.skip_check_adv_addr = self.flag(n).ok()?;
                "skip_check_adv_addr"
            }
            "strict_mode" => {
                inst.strict_mode = self.flag(n).ok()?;
                "strict_mode"
            }
            "lower_prio_no_advert" => {
                inst.lower_prio_no_advert = self.flag(n).ok()?;
                "lower_prio_no_advert"
            }
            "higher_prio_send_advert" => {
                inst.higher_prio_send_advert = self.flag(n).ok()?;
                "higher_prio_send_advert"
            }
            "down_timer_adverts" => {
                inst.down_timer_adverts = self.int(n, 1u8, 100).ok()?;
                "down_timer_adverts"
            }
            "v3_checksum_as_v2" => {
                inst.v3_checksum_as_v2 = self.flag(n).ok()?;
                "v3_checksum_as_v2"
            }
            "promote_secondaries" => {
                inst.promote_secondaries = true;
                "promote_secondaries"
            }
            "lvs_sync_daemon_interface" => {
                // keepalived still reads it (deprecated for global_defs' lvs_sync_daemon)
                // and hands the interface to IPVS; vigil has no LVS side.
                self.warn(&n.pos, "`lvs_sync_daemon_interface` is deprecated in keepalived (use global_defs' `lvs_sync_daemon`), and LVS has no effect in vigil: ignored");
                return None;
            }
            "vrf" => {
                let msg = super::namespaces::instance_vrf_warning(n);
                self.warn(&n.pos, msg);
                return None;
            }
            k if INSTANCE_ACCEPTED.contains(&k) => {
                self.no_effect(n, "vrrp_instance");
                return None;
            }
            _ => {
                self.unknown(
                    n,
                    "vrrp_instance",
                    &[INSTANCE_MAPPED, INSTANCE_ACCEPTED],
                    true,
                );
                return None;
            }
        };
        Some(key)
    }

    /// `NAME [weight N] [reverse|noreverse|no_reverse]`.
    fn track_line(&mut self, line: &[Arg], limit: i32) -> R<(String, Option<i32>, bool)> {
        let Some((name, rest)) = line.split_first() else {
            return Err(());
        };
        let (mut weight, mut reverse) = (None, false);
        let mut it = rest.iter();
        while let Some(opt) = it.next() {
            match opt.text.as_str() {
                "weight" => match it.next() {
                    Some(w) => weight = Some(self.int_word("weight", w, -limit, limit)?),
                    None => {
                        self.err(&opt.pos, "`weight` needs a value");
                        return Err(());
                    }
                },
                "reverse" => reverse = true,
                "noreverse" | "no_reverse" => reverse = false,
                other => {
                    self.err(
                        &opt.pos,
                        format!(
                            "unknown option `{other}` after `{}`: expected `weight N` or `reverse`",
                            name.text
                        ),
                    );
                    return Err(());
                }
            }
        }
        Ok((name.text.clone(), weight, reverse))
    }

    fn sync_group(&mut self, node: &Node) {
        let idx = self.config.sync_groups.len();
        let base = format!("sync_groups.{idx}");
        self.map.insert(base.clone(), node.pos.clone());
        let mut g = SyncGroup {
            name: self.name(node),
            group: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            notify: Notify::default(),
            notify_priority_changes: false,
            smtp_alert: false,
            sync_group_tracking_weight: false,
        };
        for n in self.children(node) {
            let key: &str = match n.keyword.as_str() {
                "group" => {
                    for a in self.lines(&n).into_iter().flatten() {
                        self.map
                            .insert(format!("{base}.group.{}", g.group.len()), a.pos.clone());
                        g.group.push(a.text);
                    }
                    "group"
                }
                "track_interface" => {
                    for line in self.lines(&n) {
                        if let Ok((name, weight, reverse)) = self.track_line(&line, 253) {
                            g.track_interfaces.push(TrackInterface {
                                name,
                                weight: weight.unwrap_or(0),
                                reverse,
                            });
                        }
                    }
                    "track_interface"
                }
                k @ ("track_script" | "track_file" | "track_process") => {
                    let start = match k {
                        "track_script" => g.track_scripts.len(),
                        "track_file" => g.track_files.len(),
                        _ => g.track_processes.len(),
                    };
                    for (i, line) in self.lines(&n).into_iter().enumerate() {
                        if let Some(first) = line.first() {
                            self.map
                                .insert(format!("{base}.{k}.{}", start + i), first.pos.clone());
                        }
                        if let Ok((name, weight, reverse)) = self.track_line(&line, 254) {
                            let r = TrackRef {
                                name,
                                weight,
                                reverse,
                            };
                            match k {
                                "track_script" => g.track_scripts.push(r),
                                "track_file" => g.track_files.push(r),
                                _ => g.track_processes.push(r),
                            }
                        }
                    }
                    k
                }
                "notify_deleted" | "notify_master_rx_lower_pri" => {
                    // Instance keywords: keepalived reports them as unknown in a sync group.
                    self.warn(&n.pos, format!("`{}` is a vrrp_instance keyword (keepalived does not know it in a vrrp_sync_group): ignored; set it in the member instances", n.keyword));
                    continue;
                }
                k @ ("notify_master" | "notify_backup" | "notify_fault" | "notify_stop"
                | "notify") => match self.script_cmd(&n) {
                    Ok(s) => set_notify(&mut g.notify, k, s),
                    Err(()) => continue,
                },
                "notify_priority_changes" => {
                    g.notify_priority_changes = self.flag(&n).unwrap_or(true);
                    "notify_priority_changes"
                }
                "smtp_alert" => {
                    g.smtp_alert = self.flag(&n).unwrap_or(true);
                    "smtp_alert"
                }
                "sync_group_tracking_weight" => {
                    g.sync_group_tracking_weight = true;
                    "sync_group_tracking_weight"
                }
                k if SYNC_GROUP_ACCEPTED.contains(&k) => {
                    self.no_effect(&n, "vrrp_sync_group");
                    continue;
                }
                _ => {
                    self.unknown(
                        &n,
                        "vrrp_sync_group",
                        &[SYNC_GROUP_MAPPED, SYNC_GROUP_ACCEPTED],
                        true,
                    );
                    continue;
                }
            };
            self.map.insert(format!("{base}.{key}"), n.pos.clone());
        }
        self.config.sync_groups.push(g);
    }

    fn script(&mut self, node: &Node) {
        let idx = self.config.scripts.len();
        let base = format!("scripts.{idx}");
        self.map.insert(base.clone(), node.pos.clone());
        let mut s = TrackScript {
            name: self.name(node),
            script: String::new(),
            interval: Centis::from_secs(1),
            timeout: None,
            weight: 0,
            reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
        };
        let mut has_script = false;
        for n in self.children(node) {
            let ok = match n.keyword.as_str() {
                "script" => self.arg(&n).map(|a| {
                    has_script = true;
                    s.script = a.text.clone();
                }),
                "interval" => self.secs(&n, 86_400).map(|v| s.interval = v),
                "timeout" => self.secs(&n, 86_400).map(|v| s.timeout = Some(v)),
                "weight" => self.int(&n, -253i32, 253).map(|w| {
                    s.weight = w;
                    s.reverse = n.args.get(1).is_some_and(|a| a.text == "reverse");
                }),
                "rise" => self.int(&n, 1u32, 1_000_000).map(|v| s.rise = v),
                "fall" => self.int(&n, 1u32, 1_000_000).map(|v| s.fall = v),
                "user" => self.arg(&n).map(|a| {
                    s.user = Some(RunAs {
                        user: a.text.clone(),
                        group: n.args.get(1).map(|g| g.text.clone()),
                    });
                }),
                "init_fail" => {
                    s.init_fail = true;
                    Ok(())
                }
                _ => {
                    self.unknown(&n, "vrrp_script", &[SCRIPT_MAPPED], true);
                    Err(())
                }
            };
            if ok.is_ok() {
                self.map
                    .insert(format!("{base}.{}", n.keyword), n.pos.clone());
            }
        }
        if !has_script {
            // keepalived drops such a script and runs ("No script set for vrrp_script X -
            // removing"); its track_script references are then ignored (see fixup.rs).
            self.warn(
                &node.pos,
                format!(
                    "No script set for vrrp_script `{}` - removing (keepalived's fix-up): add `script \"/path/to/check\"`, or run with --strict to refuse",
                    s.name
                ),
            );
            // The next vrrp_script takes this index: its lines, not these, are `scripts.{idx}`.
            self.map.remove_index("scripts", idx);
            return;
        }
        self.config.scripts.push(s);
    }

    fn track_file(&mut self, node: &Node) {
        let idx = self.config.track_files.len();
        let base = format!("track_files.{idx}");
        self.map.insert(base.clone(), node.pos.clone());
        let mut f = TrackFile {
            name: self.name(node),
            file: String::new(),
            weight: 1,
            reverse: false,
            init_file: None,
        };
        let mut has_file = false;
        for n in self.children(node) {
            let ok = match n.keyword.as_str() {
                "file" => self.arg(&n).map(|a| {
                    has_file = true;
                    f.file = a.text.clone();
                }),
                "weight" => self.int(&n, -2_147_483_647i32, 2_147_483_647).map(|w| {
                    f.weight = w;
                    f.reverse = n.args.get(1).is_some_and(|a| a.text == "reverse");
                }),
                "init_file" => {
                    let mut init = InitFile {
                        value: 0,
                        overwrite: false,
                    };
                    let mut ok = Ok(());
                    for a in &n.args {
                        if a.text == "overwrite" {
                            init.overwrite = true;
                        } else {
                            match a.text.parse() {
                                Ok(v) => init.value = v,
                                Err(_) => {
                                    self.err(
                                        &a.pos,
                                        format!(
                                            "`init_file` takes [VALUE] [overwrite], not `{}`",
                                            a.text
                                        ),
                                    );
                                    ok = Err(());
                                }
                            }
                        }
                    }
                    f.init_file = Some(init);
                    ok
                }
                _ => {
                    self.unknown(&n, "track_file", &[TRACK_FILE_MAPPED], true);
                    Err(())
                }
            };
            if ok.is_ok() {
                self.map
                    .insert(format!("{base}.{}", n.keyword), n.pos.clone());
            }
        }
        if !has_file {
            self.err(
                &node.pos,
                format!(
                    "track_file `{}` has no `file`: add `file \"/path\"`",
                    f.name
                ),
            );
        }
        self.config.track_files.push(f);
    }

    fn track_process(&mut self, node: &Node) {
        let idx = self.config.track_processes.len();
        let base = format!("track_processes.{idx}");
        self.map.insert(base.clone(), node.pos.clone());
        let mut p = TrackProcess {
            name: self.name(node),
            process: Vec::new(),
            param_match: None,
            // keepalived's default (alloc_vrrp_process): weight 0, so losing the process
            // is FAULT.
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: Centis::ZERO,
            terminate_delay: Centis::ZERO,
            full_command: false,
        };
        for n in self.children(node) {
            let ok = match n.keyword.as_str() {
                "process" => self
                    .arg(&n)
                    .map(|_| p.process = n.args.iter().map(|a| a.text.clone()).collect()),
                "param_match" => self.arg(&n).and_then(|a| {
                    p.param_match = Some(match a.text.as_str() {
                        "initial" => ParamMatch::Initial,
                        "partial" => ParamMatch::Partial,
                        "exact" => ParamMatch::Exact,
                        _ => {
                            self.err(
                                &a.pos,
                                format!("`param_match` is initial or partial, not `{}`", a.text),
                            );
                            return Err(());
                        }
                    });
                    Ok(())
                }),
                "weight" => self.int(&n, -254i32, 254).map(|w| {
                    p.weight = w;
                    p.reverse = n.args.get(1).is_some_and(|a| a.text == "reverse");
                }),
                "quorum" => self.int(&n, 0u32, 65_535).map(|v| p.quorum = v),
                "quorum_max" => self.int(&n, 0u32, 65_535).map(|v| p.quorum_max = Some(v)),
                "fork_delay" => self.secs(&n, 3600).map(|v| p.fork_delay = v),
                "terminate_delay" => self.secs(&n, 3600).map(|v| p.terminate_delay = v),
                "delay" => self.secs(&n, 3600).map(|v| {
                    p.fork_delay = v;
                    p.terminate_delay = v;
                }),
                "full_command" => {
                    p.full_command = true;
                    Ok(())
                }
                _ => {
                    self.unknown(&n, "vrrp_track_process", &[TRACK_PROCESS_MAPPED], true);
                    Err(())
                }
            };
            if ok.is_ok() {
                self.map
                    .insert(format!("{base}.{}", n.keyword), n.pos.clone());
            }
        }
        if p.process.is_empty() {
            self.err(
                &node.pos,
                format!(
                    "vrrp_track_process `{}` has no `process`: add `process NAME`",
                    p.name
                ),
            );
        }
        self.config.track_processes.push(p);
    }

    /// `<ip>[/<len>] [brd X] [dev X] [scope X] [label X] [peer X] [home] [-nodad] ...`
    /// keepalived's fix-ups of an address line: an address that does not parse is skipped
    /// ("VRRP parsed invalid IP X. skipping IP..."); returns false then.
    fn address_is_usable(&mut self, line: &Node) -> bool {
        let addr = line
            .keyword
            .split_once('/')
            .map_or(line.keyword.as_str(), |(a, _)| a);
        if addr.parse::<IpAddr>().is_ok() {
            return true;
        }
        self.warn(
            &line.pos,
            format!(
                "VRRP parsed invalid IP {}. skipping IP... (keepalived's fix-up): the address is not used; write an IP address with an optional /prefix length, or run with --strict to refuse",
                line.keyword
            ),
        );
        false
    }

    fn address(&mut self, line: &Node) -> R<VirtualAddress> {
        let mut first = Arg {
            text: line.keyword.clone(),
            pos: line.pos.clone(),
        };
        // keepalived: a prefix length beyond the family's is replaced by the full length.
        if let Some((ad, l)) = first.text.split_once('/')
            && let Ok(ip) = ad.parse::<IpAddr>()
        {
            let max: u32 = if ip.is_ipv4() { 32 } else { 128 };
            if l.parse::<u32>().is_ok_and(|n| n > max) {
                self.warn(&first.pos, format!("Invalid address prefix len {l} for address {} - using {max} (keepalived's fix-up); write /{max} or less, or run with --strict to refuse", first.text));
                first.text = ad.to_string();
            }
        }
        let prefix = self.prefix(&first, "virtual address")?;
        let mut a = VirtualAddress::new(prefix.addr, prefix.len);
        let mut it = line.args.iter();
        while let Some(opt) = it.next() {
            let brd_sign = matches!(it.clone().next(), Some(v) if v.text == "+" || v.text == "-");
            let mut value = |m: &mut Self| -> R<&Arg> {
                it.next()
                    .ok_or_else(|| m.err(&opt.pos, format!("`{}` needs a value", opt.text)))
            };
            match opt.text.as_str() {
                "brd" | "broadcast" if brd_sign => {
                    let v = value(self)?;
                    // `ip address`'s `brd +` / `brd -`: the subnet's last / first address.
                    match broadcast_of(a.addr, a.prefix_len, v.text == "+") {
                        Some(b) => a.brd = Some(b),
                        None => self.warn(&v.pos, format!("Address prefix length {} too long for broadcast (keepalived's fix-up): no broadcast address is set; drop `brd {}`, or run with --strict to refuse", a.prefix_len, v.text)),
                    }
                }
                "brd" | "broadcast" => {
                    let v = value(self)?;
                    a.brd = Some(v.text.parse().map_err(|_| {
                        self.err(
                            &v.pos,
                            format!("`brd` needs an IPv4 address, not `{}`", v.text),
                        )
                    })?);
                }
                "dev" => a.dev = Some(value(self)?.text.clone()),
                "scope" => {
                    let v = value(self)?;
                    a.scope = Some(self.scope(v)?);
                }
                "label" => a.label = Some(value(self)?.text.clone()),
                "peer" => {
                    let v = value(self)?;
                    a.peer = Some(self.ip(v, "peer")?);
                }
                "preferred_lft" => {
                    let v = value(self)?;
                    a.preferred_lft = Some(if v.text == "forever" {
                        u32::MAX
                    } else {
                        self.int_word("preferred_lft", v, 0u32, u32::MAX - 1)?
                    });
                }
                "track_group" => {
                    let g = value(self)?.clone();
                    a.track_group = self.track_group_ref(&g);
                }
                "home" => a.home = true,
                "-nodad" => a.dad = true,
                "mngtmpaddr" => a.mngtmpaddr = true,
                "noprefixroute" => a.noprefixroute = true,
                "autojoin" => a.autojoin = true,
                "no_track" => a.no_track = true,
                "use_vmac" => a.use_vmac = true,
                other => {
                    let known = [
                        "brd",
                        "dev",
                        "scope",
                        "label",
                        "peer",
                        "preferred_lft",
                        "track_group",
                        "home",
                        "-nodad",
                        "mngtmpaddr",
                        "noprefixroute",
                        "autojoin",
                        "no_track",
                        "use_vmac",
                    ];
                    self.err(
                        &opt.pos,
                        format!(
                            "unknown address option `{other}`{}",
                            did_you_mean(other, known)
                        ),
                    );
                    return Err(());
                }
            }
        }
        if a.addr.is_ipv6() {
            // keepalived: "Cannot specify scope / label for IPv6 addresses ... - ignoring".
            if a.scope.take().is_some() {
                self.warn(&line.pos, format!("Cannot specify scope for IPv6 addresses ({}) - ignoring scope (keepalived's fix-up); drop `scope`, or run with --strict to refuse", a.addr));
            }
            if a.label.take().is_some() {
                self.warn(&line.pos, format!("Cannot specify label for IPv6 addresses ({}) - ignoring label (keepalived's fix-up); drop `label`, or run with --strict to refuse", a.addr));
            }
        }
        Ok(a)
    }

    fn scope(&mut self, v: &Arg) -> R<Scope> {
        Ok(match v.text.as_str() {
            "global" | "0" => Scope::Global,
            "site" | "200" => Scope::Site,
            "link" | "253" => Scope::Link,
            "host" | "254" => Scope::Host,
            "nowhere" | "255" => Scope::Nowhere,
            _ => {
                self.err(
                    &v.pos,
                    format!(
                        "`scope` is global, site, link, host or nowhere, not `{}`",
                        v.text
                    ),
                );
                return Err(());
            }
        })
    }

    fn prefix(&mut self, a: &Arg, what: &str) -> R<Prefix> {
        let text = if a.text == "default" {
            "0.0.0.0/0"
        } else {
            a.text.as_str()
        };
        let (addr, len) = match text.split_once('/') {
            Some((ad, l)) => (ad, Some(l)),
            None => (text, None),
        };
        let Ok(addr) = addr.parse::<IpAddr>() else {
            self.err(
                &a.pos,
                format!(
                    "{what} must be an IP address with an optional /prefix length, not `{}`",
                    a.text
                ),
            );
            return Err(());
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(l) if l <= max => l,
                _ => {
                    self.err(
                        &a.pos,
                        format!("prefix length of `{}` must be from 0 to {max}", a.text),
                    );
                    return Err(());
                }
            },
        };
        Ok(Prefix { addr, len })
    }

    /// `[type] [src IP] [to] PREFIX [via|gw IP] [dev IF] [scope S] [table N] [metric N] ...`
    fn route(&mut self, line: &Node) -> R<Route> {
        let mut words: Vec<Arg> = vec![Arg {
            text: line.keyword.clone(),
            pos: line.pos.clone(),
        }];
        words.extend(line.args.iter().cloned());
        let mut kind = RouteKind::Unicast;
        let mut src = None;
        let mut i = 0;
        loop {
            match words.get(i).map(|w| w.text.as_str()) {
                Some("blackhole") => kind = RouteKind::Blackhole,
                Some("unreachable") => kind = RouteKind::Unreachable,
                Some("prohibit") => kind = RouteKind::Prohibit,
                Some("throw") => kind = RouteKind::Throw,
                Some("unicast") => kind = RouteKind::Unicast,
                Some("to") => {}
                Some("src") => {
                    i += 1;
                    let w = words
                        .get(i)
                        .cloned()
                        .ok_or_else(|| self.err(&line.pos, "`src` needs an address"))?;
                    src = Some(self.ip(&w, "src")?);
                }
                _ => break,
            }
            i += 1;
        }
        let Some(dest) = words.get(i).cloned() else {
            self.err(&line.pos, "route needs a destination prefix");
            return Err(());
        };
        let to = self.prefix(&dest, "route destination")?;
        let mut r = Route {
            to,
            kind,
            src,
            via: None,
            dev: None,
            scope: None,
            table: None,
            vrf: None,
            metric: None,
            protocol: None,
            mtu: None,
            onlink: false,
            no_track: false,
            track_group: None,
            nexthops: Vec::new(),
        };
        let mut it = words.iter().skip(i + 1);
        while let Some(opt) = it.next() {
            if opt.text == "nexthop" {
                // keepalived: `nexthop ...` runs to the end of the line.
                let rest: Vec<&Arg> = std::iter::once(opt).chain(it).collect();
                if !r.nexthops.is_empty() {
                    self.err(&opt.pos, "a route takes either `or` or `nexthop`, not both: write every next hop as `nexthop via IP`");
                    return Err(());
                }
                r.nexthops = self.nexthops(&rest)?;
                break;
            }
            let mut value = |m: &mut Self| -> R<&Arg> {
                it.next()
                    .ok_or_else(|| m.err(&opt.pos, format!("`{}` needs a value", opt.text)))
            };
            match opt.text.as_str() {
                "via" | "gw" => {
                    let v = value(self)?;
                    r.via = Some(self.ip(v, "via")?);
                    if opt.text == "gw" {
                        // keepalived reads it as `via`, with this warning.
                        self.warn(
                            &opt.pos,
                            "\"gw\" for routes is deprecated. Please use \"via\" (read as `via`)",
                        );
                    }
                }
                "src" => {
                    let v = value(self)?;
                    r.src = Some(self.ip(v, "src")?);
                }
                "dev" | "oif" => r.dev = Some(value(self)?.text.clone()),
                "scope" => {
                    let v = value(self)?;
                    r.scope = Some(self.scope(v)?);
                }
                "table" => {
                    let v = value(self)?;
                    r.table = Some(match v.text.as_str() {
                        "main" => 254,
                        "local" => 255,
                        "default" => 253,
                        _ => self.int_word("table", v, 0u32, u32::MAX)?,
                    });
                }
                "vrf" => r.vrf = Some(value(self)?.text.clone()),
                "metric" | "priority" | "preference" => {
                    let v = value(self)?;
                    r.metric = Some(self.int_word(&opt.text, v, 0u32, u32::MAX)?);
                }
                "protocol" | "proto" => {
                    let v = value(self)?;
                    r.protocol = Some(match v.text.as_str() {
                        "redirect" => 1,
                        "kernel" => 2,
                        "boot" => 3,
                        "static" => 4,
                        _ => self.int_word("protocol", v, 0u8, 255)?,
                    });
                }
                "mtu" => {
                    let v = value(self)?;
                    r.mtu = Some(self.int_word("mtu", v, 68u32, 65_535)?);
                }
                "track_group" => {
                    let g = value(self)?.clone();
                    r.track_group = self.track_group_ref(&g);
                }
                "or" => {
                    let v = value(self)?;
                    let alternative = self.ip(v, "or")?;
                    if !r.nexthops.is_empty() {
                        self.warn(&opt.pos, "\"or\" route already specified - ignoring subsequent (keepalived's fix-up): list every next hop as `nexthop via IP`");
                        continue;
                    }
                    // keepalived: the `via` address becomes the first next hop, the `or`
                    // address the second.
                    self.warn(&opt.pos, "\"or\" for routes is deprecated. Please use \"nexthop\" (read as two next hops: `nexthop via A nexthop via B`)");
                    r.nexthops = vec![
                        NextHop {
                            via: r.via.take(),
                            dev: None,
                            weight: None,
                            onlink: false,
                        },
                        NextHop {
                            via: Some(alternative),
                            dev: None,
                            weight: None,
                            onlink: false,
                        },
                    ];
                }
                "onlink" => r.onlink = true,
                "no_track" => r.no_track = true,
                "inet" | "inet6" => {}
                other => {
                    self.err(&opt.pos, format!("route option `{other}` is not supported by vigil: supported are via/gw, src, dev, scope, table, metric, protocol, mtu, onlink, no_track, track_group"));
                    return Err(());
                }
            }
        }
        Ok(r)
    }

    /// `nexthop [via IP] [dev IF] [weight N] [onlink]`, repeated to the end of the line.
    fn nexthops(&mut self, words: &[&Arg]) -> R<Vec<NextHop>> {
        let mut hops = Vec::new();
        let mut it = words.iter().peekable();
        while let Some(word) = it.next() {
            if word.text != "nexthop" {
                self.err(
                    &word.pos,
                    format!(
                        "`{}` after the next hops: a next hop takes via, dev, weight and onlink",
                        word.text
                    ),
                );
                return Err(());
            }
            let mut hop = NextHop {
                via: None,
                dev: None,
                weight: None,
                onlink: false,
            };
            while let Some(opt) = it.next_if(|w| w.text != "nexthop") {
                let mut value = |m: &mut Self| -> R<&Arg> {
                    it.next().copied().ok_or_else(|| {
                        m.err(&opt.pos, format!("nexthop `{}` needs a value", opt.text))
                    })
                };
                match opt.text.as_str() {
                    "via" => {
                        let mut v = value(self)?;
                        if matches!(v.text.as_str(), "inet" | "inet6") {
                            v = value(self)?;
                        }
                        hop.via = Some(self.ip(v, "nexthop via")?);
                    }
                    "dev" => hop.dev = Some(value(self)?.text.clone()),
                    // keepalived: 1 to 256, as `ip route`.
                    "weight" => {
                        let v = value(self)?;
                        hop.weight = Some(self.int_word("weight", v, 1u16, 256)?);
                    }
                    "onlink" => hop.onlink = true,
                    other => {
                        self.err(&opt.pos, format!("nexthop option `{other}` is not supported by vigil: supported are via, dev, weight, onlink"));
                        return Err(());
                    }
                }
            }
            hops.push(hop);
        }
        Ok(hops)
    }

    /// `[from P] [to P] [table N] [priority N] [fwmark N] [iif IF] [oif IF] [no_track] [inet6]`
    fn rule(&mut self, line: &Node) -> R<Rule> {
        let mut words: Vec<Arg> = vec![Arg {
            text: line.keyword.clone(),
            pos: line.pos.clone(),
        }];
        words.extend(line.args.iter().cloned());
        let mut r = Rule {
            from: None,
            to: None,
            family: Family::V4,
            table: None,
            priority: None,
            fwmark: None,
            iif: None,
            oif: None,
            no_track: false,
            track_group: None,
        };
        let mut it = words.iter();
        while let Some(opt) = it.next() {
            let mut value = |m: &mut Self| -> R<&Arg> {
                it.next()
                    .ok_or_else(|| m.err(&opt.pos, format!("`{}` needs a value", opt.text)))
            };
            match opt.text.as_str() {
                "from" => {
                    let v = value(self)?;
                    let p = self.prefix(v, "from")?;
                    r.family = family_of(p.addr);
                    r.from = Some(p);
                }
                "to" => {
                    let v = value(self)?;
                    let p = self.prefix(v, "to")?;
                    r.family = family_of(p.addr);
                    r.to = Some(p);
                }
                "table" | "lookup" => {
                    let v = value(self)?;
                    r.table = Some(match v.text.as_str() {
                        "main" => 254,
                        "local" => 255,
                        "default" => 253,
                        _ => self.int_word("table", v, 0u32, u32::MAX)?,
                    });
                }
                "priority" | "preference" | "pref" => {
                    let v = value(self)?;
                    r.priority = Some(self.int_word(&opt.text, v, 0u32, u32::MAX)?);
                }
                "fwmark" => {
                    let v = value(self)?;
                    let t = v.text.trim_start_matches("0x");
                    let radix = if v.text.starts_with("0x") { 16 } else { 10 };
                    r.fwmark = Some(u32::from_str_radix(t, radix).map_err(|_| {
                        self.err(
                            &v.pos,
                            format!("`fwmark` must be a number, not `{}`", v.text),
                        )
                    })?);
                }
                "iif" => r.iif = Some(value(self)?.text.clone()),
                "oif" => r.oif = Some(value(self)?.text.clone()),
                "no_track" => r.no_track = true,
                "track_group" => {
                    let g = value(self)?.clone();
                    r.track_group = self.track_group_ref(&g);
                }
                "inet6" => r.family = Family::V6,
                "inet" => r.family = Family::V4,
                other => {
                    self.err(&opt.pos, format!("rule option `{other}` is not supported by vigil: supported are from, to, table, priority, fwmark, iif, oif, no_track, track_group, inet6"));
                    return Err(());
                }
            }
        }
        Ok(r)
    }
}

fn set_notify(n: &mut Notify, keyword: &str, s: NotifyScript) -> &'static str {
    match keyword {
        "notify_master" => {
            n.master = Some(s);
            "notify.master"
        }
        "notify_backup" => {
            n.backup = Some(s);
            "notify.backup"
        }
        "notify_fault" => {
            n.fault = Some(s);
            "notify.fault"
        }
        "notify_stop" => {
            n.stop = Some(s);
            "notify.stop"
        }
        "notify_deleted" => {
            n.deleted = Some(s);
            "notify.deleted"
        }
        "notify_master_rx_lower_pri" => {
            n.master_rx_lower_pri = Some(s);
            "notify.master_rx_lower_pri"
        }
        _ => {
            n.any = Some(s);
            "notify.any"
        }
    }
}

/// Placeholder VMAC name part, fixed once the instance is complete (see `finish_vmac_names`).
fn pending_vrid_name() -> &'static str {
    "{vrid}"
}

/// Replace the `{vrid}` placeholder in default VMAC names: `use_vmac` may come before
/// `virtual_router_id` in the block.
pub fn finish_vmac_names(config: &mut Config) {
    for inst in &mut config.instances {
        if let Some(name) = inst.use_vmac.as_mut()
            && name.contains("{vrid}")
        {
            *name = name.replace("{vrid}", &inst.vrid.to_string());
        }
    }
}

/// Stands in for a missing `virtual_router_id` (already reported as an error).
const PLACEHOLDER_VRID: Vrid = match Vrid::new(1) {
    Some(v) => v,
    None => panic!("1 is a valid VRID"), // evaluated at compile time
};

/// The broadcast address `brd +` (`last`) or `brd -` sets: the subnet's last or first
/// address; `None` for a non-IPv4 address or a prefix longer than /30 (keepalived's limit).
fn broadcast_of(addr: IpAddr, prefix_len: u8, last: bool) -> Option<Ipv4Addr> {
    let IpAddr::V4(v4) = addr else { return None };
    if prefix_len > 30 {
        return None;
    }
    let host_mask = u32::MAX >> prefix_len;
    let bits = u32::from(v4);
    Some(Ipv4Addr::from(if last {
        bits | host_mask
    } else {
        bits & !host_mask
    }))
}

fn looks_like_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    (parts.len() == 5 || parts.len() == 6)
        && parts
            .iter()
            .all(|p| p.len() <= 2 && !p.is_empty() && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Exact decimal seconds to centiseconds: `1`, `0.5`, `0.25`, `3.10`; more than two decimals
/// are accepted only when the extra digits are zeros.
pub fn parse_centis(s: &str) -> Option<Centis> {
    let us = parse_micros(s)?;
    if us % 10_000 != 0 {
        return None;
    }
    u32::try_from(us / 10_000).ok().map(Centis::new)
}

/// Exact decimal seconds to microseconds.
pub fn parse_micros(s: &str) -> Option<u64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > 6 {
        return None;
    }
    let mut micros: u64 = 0;
    for (i, c) in frac_trimmed.chars().enumerate() {
        let digit = u64::from(c.to_digit(10)?);
        micros += digit * 10u64.pow(5 - u32::try_from(i).ok()?);
    }
    whole.checked_mul(1_000_000)?.checked_add(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_are_exact() {
        assert_eq!(parse_centis("1"), Some(Centis::new(100)));
        assert_eq!(parse_centis("0.92"), Some(Centis::new(92)));
        assert_eq!(parse_centis("0.290"), Some(Centis::new(29)));
        assert_eq!(parse_centis("0.001"), None);
        assert_eq!(parse_centis("-1"), None);
        assert_eq!(parse_centis("1e3"), None);
        assert_eq!(parse_micros("0.000001"), Some(1));
    }

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

    #[test]
    fn a_track_process_without_weight_faults_as_in_keepalived() {
        // keepalived's alloc_vrrp_process leaves the weight 0: losing the process is FAULT.
        let conf = "vrrp_track_process P {\n process nginx\n}\n\
                    vrrp_track_process Q {\n process sshd\n weight -20 reverse\n}\n";
        let loaded = crate::config::load_keepalived_str(
            conf,
            std::path::Path::new("t.conf"),
            &crate::config::LoadOptions::default(),
        )
        .expect("loads");
        let p = &loaded.model.track_processes;
        assert_eq!((p[0].weight, p[0].reverse), (0, false));
        assert_eq!((p[1].weight, p[1].reverse), (-20, true));
    }

    #[test]
    fn brd_plus_and_minus_are_the_subnet_s_ends() {
        let a: IpAddr = "192.0.2.77".parse().unwrap();
        assert_eq!(
            broadcast_of(a, 24, true),
            Some(Ipv4Addr::new(192, 0, 2, 255))
        );
        assert_eq!(
            broadcast_of(a, 24, false),
            Some(Ipv4Addr::new(192, 0, 2, 0))
        );
        assert_eq!(broadcast_of(a, 31, true), None);
        assert_eq!(broadcast_of("2001:db8::1".parse().unwrap(), 64, true), None);
    }

    #[test]
    fn mac_detection() {
        assert!(looks_like_mac("00:00:5e:00:01"));
        assert!(!looks_like_mac("vrrp.51"));
    }
}
