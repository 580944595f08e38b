//! Settings the model holds that vigil does not act on (yet): each one set in a file gets a
//! warning at its line saying so and why, whichever format it came from, so that nothing is
//! accepted silently (`--strict` refuses them like every warning).
//!
//! A setting leaves this list when something starts acting on it.

use super::diagnostic::{Diagnostic, SourceMap};
use super::model::Config;

/// Why e-mail alerts do nothing: keepalived's SMTP client is not reimplemented.
const NO_SMTP: &str = "vigil sends no e-mail: run a notify script (notify_master/backup/fault) that mails, or alert from the Prometheus metrics";

/// Warnings for every inert setting `config` sets.
pub fn inert(config: &Config, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut warn = |path: String, message: String| {
        out.push(Diagnostic::warning(map.locate(&path), message));
    };
    let g = &config.global;
    if !g.notification_email.is_empty() {
        warn(
            "global.notification_email".into(),
            format!("`notification_email` has no effect: {NO_SMTP}"),
        );
    }
    if g.notification_email_from.is_some() {
        warn(
            "global.notification_email_from".into(),
            format!("`notification_email_from` has no effect: {NO_SMTP}"),
        );
    }
    if g.smtp_server.is_some() {
        warn(
            "global.smtp_server".into(),
            format!("`smtp_server` has no effect: {NO_SMTP}"),
        );
    }
    if g.smtp_helo_name.is_some() {
        warn(
            "global.smtp_helo_name".into(),
            format!("`smtp_helo_name` has no effect: {NO_SMTP}"),
        );
    }
    if map.contains("global.smtp_connect_timeout") {
        warn(
            "global.smtp_connect_timeout".into(),
            format!("`smtp_connect_timeout` has no effect: {NO_SMTP}"),
        );
    }
    if g.smtp_alert {
        warn(
            "global.smtp_alert".into(),
            format!("`smtp_alert` has no effect: {NO_SMTP}"),
        );
    }
    for (i, group) in config.sync_groups.iter().enumerate() {
        if group.smtp_alert {
            warn(
                format!("sync_groups.{i}.smtp_alert"),
                format!(
                    "sync group `{}`: `smtp_alert` has no effect: {NO_SMTP}",
                    group.name
                ),
            );
        }
    }
    for (i, group) in config.sync_groups.iter().enumerate() {
        let n = &group.notify;
        for (set, field, keyword) in [
            (n.deleted.is_some(), "deleted", "notify_deleted"),
            (n.report_deleted, "report_deleted", "notify_deleted"),
            (
                n.master_rx_lower_pri.is_some(),
                "master_rx_lower_pri",
                "notify_master_rx_lower_pri",
            ),
        ] {
            if set {
                warn(
                    format!("sync_groups.{i}.notify.{field}"),
                    format!(
                        "sync group `{}`: `{keyword}` has no effect on a sync group (keepalived has it for instances only): set it in the member instances",
                        group.name
                    ),
                );
            }
        }
    }
    for (i, inst) in config.instances.iter().enumerate() {
        // Only where the instance sets it: an instance inheriting global_defs' smtp_alert
        // is covered by the warning there.
        let path = format!("instances.{i}.smtp_alert");
        if inst.smtp_alert && map.contains(&path) {
            warn(
                path,
                format!(
                    "instance `{}`: `smtp_alert` has no effect: {NO_SMTP}",
                    inst.name
                ),
            );
        }
    }
    address_options(config, &mut warn);
    out
}

/// Address options with no effect on the address they are written on.
fn address_options(config: &Config, warn: &mut impl FnMut(String, String)) {
    let lists = config.instances.iter().enumerate().flat_map(|(i, inst)| {
        [
            (
                format!("instances.{i}.virtual_ipaddress"),
                &inst.virtual_addresses,
            ),
            (
                format!("instances.{i}.virtual_ipaddress_excluded"),
                &inst.excluded_addresses,
            ),
        ]
    });
    let lists = lists.chain(std::iter::once((
        "static_addresses".to_owned(),
        &config.static_addresses,
    )));
    for (base, list) in lists {
        for (j, a) in list.iter().enumerate() {
            if a.use_vmac {
                warn(
                    format!("{base}.{j}"),
                    format!(
                        "{}: `use_vmac` on an address has no effect in vigil: it is installed on its `dev` itself, without a VMAC of its own (vigil makes one VMAC per instance, with the instance's `use_vmac`)",
                        a.addr
                    ),
                );
            }
            if a.addr.is_ipv4() && a.preferred_lft.is_some() {
                warn(
                    format!("{base}.{j}"),
                    format!(
                        "{}: `preferred_lft` applies to IPv6 addresses only; ignored, as keepalived ignores it",
                        a.addr
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{LoadOptions, load_keepalived_str};
    use std::path::Path;

    fn warnings(conf: &str) -> Vec<String> {
        let loaded = load_keepalived_str(conf, Path::new("k.conf"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{:?}", e.0));
        loaded.warnings.iter().map(ToString::to_string).collect()
    }

    const INSTANCE: &str = "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n  192.0.2.1/24\n }\n";

    #[test]
    fn every_inert_setting_is_warned_at_its_line() {
        let conf = format!(
            "global_defs {{\n notification_email {{\n  ops@example.com\n }}\n smtp_server 192.0.2.25\n smtp_alert\n}}\n{INSTANCE}}}\n"
        );
        let w = warnings(&conf).join("\n");
        for (what, line) in [
            ("`notification_email`", 2),
            ("`smtp_server`", 5),
            ("`smtp_alert`", 6),
        ] {
            assert!(
                w.lines()
                    .any(|l| l.contains(what) && l.contains(&format!("k.conf:{line}:"))),
                "no warning for {what} at line {line} in:\n{w}"
            );
        }
    }

    #[test]
    fn a_plain_instance_gets_no_inert_warning() {
        let w = warnings(&format!("{INSTANCE}}}\n"));
        assert!(
            !w.iter()
                .any(|l| l.contains("has no effect") || l.contains("not run by vigil")),
            "{w:?}"
        );
    }
}
