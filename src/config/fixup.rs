//! keepalived's fix-ups: where keepalived runs a configuration by changing it (ignoring an
//! authentication block, resetting an initial state), vigil makes the same change and says
//! so with a warning at the line concerned, naming the fix-up in keepalived's words. Under
//! `--strict` each warning is an error, so nothing is changed behind the operator's back.
//!
//! Applied to keepalived.conf only: a YAML file is vigil's own format, where the same
//! combinations are refused by [`super::validate`]. The order and the conditions follow
//! keepalived 2.2.7's `vrrp_complete_instance` (vrrp.c): first the strict-mode state, then
//! one authentication fix-up at most (strict mode, version 3, IPv6 with AH, AH with an
//! initial MASTER state), in that order. A `track_script` naming no vrrp_script is dropped,
//! as keepalived's `vrrp_complete_instance` drops it.

use std::collections::HashSet;

use crate::types::{Family, Priority, Version};

use super::diagnostic::{Diagnostic, SourceMap};
use super::model::{Auth, Config, InitialState, Instance};

/// Apply keepalived's fix-ups to `config`, one warning per change.
pub fn fix_up(config: &mut Config, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let scripts: HashSet<String> = config.scripts.iter().map(|s| s.name.clone()).collect();
    // keepalived: "track script X not found, ignoring..." (a vrrp_script without `script`
    // was removed, or the name is misspelt); the instance runs without that tracker.
    let mut unknown_script = |path: String, owner: &str, name: &str| {
        out.push(Diagnostic::warning(
            map.locate(&path),
            format!(
                "{owner}: track script `{name}` not found, ignoring (keepalived's fix-up){}: define `vrrp_script {name} {{ script ... }}`, or run with --strict to refuse",
                super::diagnostic::did_you_mean(name, scripts.iter().map(String::as_str))
            ),
        ));
    };
    for (i, inst) in config.instances.iter_mut().enumerate() {
        let owner = format!("instance `{}`", inst.name);
        let mut k = 0;
        inst.track_scripts.retain(|t| {
            let known = scripts.contains(&t.name);
            if !known {
                unknown_script(format!("instances.{i}.track_script.{k}"), &owner, &t.name);
            }
            k += 1;
            known
        });
    }
    for (g, group) in config.sync_groups.iter_mut().enumerate() {
        let owner = format!("vrrp_sync_group `{}`", group.name);
        let mut k = 0;
        group.track_scripts.retain(|t| {
            let known = scripts.contains(&t.name);
            if !known {
                unknown_script(format!("sync_groups.{g}.track_script.{k}"), &owner, &t.name);
            }
            k += 1;
            known
        });
    }
    for (i, inst) in config.instances.iter_mut().enumerate() {
        fix_instance(inst, &mut |field: &str, msg: String| {
            out.push(Diagnostic::warning(
                map.locate(&format!("instances.{i}.{field}")),
                msg,
            ));
        });
    }
    out
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
