//! Interfaces a configuration names that the host does not have.
//!
//! keepalived looks every interface name up while it parses (the instance's `interface`,
//! `track_interface`, a VIP's or route's `dev`, a rule's `iif`/`oif`, `default_interface`).
//! Without `dynamic_interfaces` a name that does not exist marks the configuration bad, and
//! keepalived stops ("Non-existent interface specified in configuration"), under `-t` as at
//! start. vigil refuses the same configurations, in `vigil check` and `vigil run` alike, from
//! this one list. With `dynamic_interfaces` keepalived waits for the interface instead, and so
//! does vigil: the instance runs in FAULT until the interface appears (`daemon::plan`), and
//! `vigil check` lists what it will wait for without failing.

use std::fmt;

use super::model::{Config, Route, Rule, VirtualAddress};

/// One interface name the host does not have, and what names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingInterface {
    pub name: String,
    /// `vrrp_instance VI_1 interface`, `vrrp_sync_group G track_interface`, ...
    pub named_by: String,
}

impl fmt::Display for MissingInterface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interface {:?} ({}) does not exist",
            self.name, self.named_by
        )?;
        write!(
            f,
            ": keepalived refuses such a configuration (\"Non-existent interface specified in \
             configuration\"); create the interface, fix the name, or set `dynamic_interfaces` \
             in global_defs to wait for it in FAULT"
        )
    }
}

/// Every interface `config` names that `exists` does not know, in configuration order.
/// VMAC interfaces (`use_vmac NAME`) are not looked up: vigil creates them.
pub fn missing_interfaces(config: &Config, exists: &dyn Fn(&str) -> bool) -> Vec<MissingInterface> {
    let vmacs: Vec<&str> = config
        .instances
        .iter()
        .filter_map(|i| i.use_vmac.as_deref())
        .collect();
    let mut missing = Vec::new();
    let mut need = |name: &str, named_by: String| {
        if !exists(name)
            && !vmacs.contains(&name)
            && !missing.iter().any(|m: &MissingInterface| m.name == name)
        {
            missing.push(MissingInterface {
                name: name.to_owned(),
                named_by,
            });
        }
    };
    if let Some(name) = &config.global.default_interface {
        need(name, "global_defs default_interface".into());
    }
    for inst in &config.instances {
        let who = format!("vrrp_instance {}", inst.name);
        need(&inst.interface, format!("{who} interface"));
        for t in &inst.track_interfaces {
            need(&t.name, format!("{who} track_interface"));
        }
        addresses(&mut need, &who, &inst.virtual_addresses);
        addresses(&mut need, &who, &inst.excluded_addresses);
        routes(&mut need, &who, &inst.virtual_routes);
        rules(&mut need, &who, &inst.virtual_rules);
    }
    for g in &config.sync_groups {
        for t in &g.track_interfaces {
            need(
                &t.name,
                format!("vrrp_sync_group {} track_interface", g.name),
            );
        }
    }
    addresses(&mut need, "static_ipaddress", &config.static_addresses);
    // keepalived: "Static address requires either an interface or default interface must
    // exist" (a fatal configuration error).
    for a in config.static_addresses.iter().filter(|a| a.dev.is_none()) {
        need(
            config.static_address_dev(a),
            format!(
                "static_ipaddress address {} without dev: default_interface",
                a.addr
            ),
        );
    }
    routes(&mut need, "static_routes", &config.static_routes);
    rules(&mut need, "static_rules", &config.static_rules);
    missing
}

fn addresses(need: &mut impl FnMut(&str, String), who: &str, list: &[VirtualAddress]) {
    for a in list {
        if let Some(dev) = &a.dev {
            need(dev, format!("{who} address {} dev", a.addr));
        }
    }
}

fn routes(need: &mut impl FnMut(&str, String), who: &str, list: &[Route]) {
    for r in list {
        if let Some(dev) = &r.dev {
            need(dev, format!("{who} route dev"));
        }
        // keepalived: "VRF NAME not found for route".
        if let Some(vrf) = &r.vrf {
            need(vrf, format!("{who} route vrf"));
        }
    }
}

fn rules(need: &mut impl FnMut(&str, String), who: &str, list: &[Rule]) {
    for r in list {
        for dev in [&r.iif, &r.oif].into_iter().flatten() {
            need(dev, format!("{who} rule iif/oif"));
        }
    }
}

/// Whether this host (the current network namespace) has an interface of that name.
pub fn host_has_interface(name: &str) -> bool {
    nix::net::if_::if_nametoindex(name).is_ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{LoadOptions, load_keepalived_str};

    fn config(text: &str) -> Config {
        load_keepalived_str(text, Path::new("t.conf"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e:?}"))
            .model
    }

    const INSTANCE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n \
        priority 100\n use_vmac vrrp.1\n track_interface {\n  eth9\n }\n virtual_ipaddress {\n  \
        192.0.2.1/24 dev eth0\n  192.0.2.2/24 dev eth8\n  192.0.2.3/24 dev vrrp.1\n }\n}\n";

    #[test]
    fn every_name_the_host_lacks_is_listed_once_with_what_names_it() {
        let missing = missing_interfaces(&config(INSTANCE), &|n| n == "eth0");
        let names: Vec<(&str, &str)> = missing
            .iter()
            .map(|m| (m.name.as_str(), m.named_by.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("eth9", "vrrp_instance VI_1 track_interface"),
                ("eth8", "vrrp_instance VI_1 address 192.0.2.2 dev"),
            ]
        );
        assert!(missing[0].to_string().contains("Non-existent interface"));
        assert!(missing_interfaces(&config(INSTANCE), &|_| true).is_empty());
    }

    #[test]
    fn vigil_check_refuses_a_configuration_naming_a_missing_interface() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keepalived.conf");
        std::fs::write(&path, INSTANCE).expect("write");
        let mut out = Vec::new();
        let code = crate::config::cli::check_on(
            &path,
            &crate::config::LoadOptions::default(),
            &|n| n == "eth0",
            &mut out,
        );
        let text = String::from_utf8_lossy(&out);
        assert_eq!(code, 1, "{text}");
        assert!(
            text.contains("interface \"eth9\" (vrrp_instance VI_1 track_interface) does not exist"),
            "{text}"
        );
        let mut out = Vec::new();
        assert_eq!(
            crate::config::cli::check_on(
                &path,
                &crate::config::LoadOptions::default(),
                &|_| true,
                &mut out
            ),
            0
        );
    }

    /// `vigil check` looks the interfaces up on this host; `--offline` does not, and says so.
    #[test]
    fn vigil_check_offline_skips_the_interface_lookup_and_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keepalived.conf");
        let text = INSTANCE
            .replace("eth0", "vgl-nosuch0")
            .replace("eth9", "vgl-nosuch9");
        std::fs::write(&path, text).expect("write");
        let options = crate::config::LoadOptions::default();
        let mut out = Vec::new();
        let code = crate::config::cli::check(&path, &options, &mut out);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(code, 1, "{text}");
        assert!(text.contains("\"vgl-nosuch0\""), "{text}");
        let mut out = Vec::new();
        let code = crate::config::cli::check_offline(&path, &options, &mut out);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains(": ok (") && text.contains("interfaces not checked (--offline)"),
            "{text}"
        );
    }

    #[test]
    fn with_dynamic_interfaces_vigil_check_notes_the_missing_interface_and_passes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keepalived.conf");
        let text = format!("global_defs {{\n dynamic_interfaces\n}}\n{INSTANCE}");
        std::fs::write(&path, text).expect("write");
        let mut out = Vec::new();
        let code = crate::config::cli::check_on(
            &path,
            &crate::config::LoadOptions::default(),
            &|n| n == "eth0",
            &mut out,
        );
        let text = String::from_utf8_lossy(&out);
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains("interface \"eth9\"") && text.contains("wait for it in FAULT"),
            "{text}"
        );
    }

    #[test]
    fn dynamic_interfaces_takes_allow_if_changes_with_a_warning_and_refuses_other_options() {
        let with = |opt: &str| {
            load_keepalived_str(
                &format!("global_defs {{\n dynamic_interfaces {opt}\n}}\n{INSTANCE}"),
                Path::new("t.conf"),
                &LoadOptions::default(),
            )
        };
        let loaded = with("").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(loaded.model.global.dynamic_interfaces);
        assert!(
            !loaded
                .warnings
                .iter()
                .any(|w| w.to_string().contains("dynamic_interfaces")),
            "{:?}",
            loaded.warnings
        );
        let loaded = with("allow_if_changes").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(loaded.model.global.dynamic_interfaces);
        assert!(
            loaded
                .warnings
                .iter()
                .any(|w| w.to_string().contains("allow_if_changes")),
            "{:?}",
            loaded.warnings
        );
        assert!(with("sometimes").is_err());
    }
}
