//! keepalived's static track groups and the default interface of static addresses.
//!
//! A static address without `dev` goes on `default_interface`, `eth0` if that is not set
//! (keepalived vrrp_ipaddress.c, `get_default_if`). A static address, route (`dev`) or rule
//! (`iif`) that names a `track_group` makes each instance of that group watch its interface
//! as a weight-0 `track_interface` would (vrrp_static_track.c `static_track_group_init`):
//! the instance is in FAULT while the interface is down. An item with `no_track` is not
//! tracked (keepalived: "has both track_group and no_track set - not tracking"), and a route
//! without `dev` cannot be (keepalived clears its track_group; validation warns).

use super::diagnostic::{Diagnostic, SourceMap};
use super::model::{Config, VirtualAddress};

/// keepalived's interface for static addresses that name none (`DFLT_INT`).
pub const DEFAULT_STATIC_INTERFACE: &str = "eth0";

impl Config {
    /// The interface a static address goes on.
    pub fn static_address_dev<'a>(&'a self, a: &'a VirtualAddress) -> &'a str {
        a.dev
            .as_deref()
            .or(self.global.default_interface.as_deref())
            .unwrap_or(DEFAULT_STATIC_INTERFACE)
    }

    /// The interfaces instance `name` watches because a static item names a track group it
    /// belongs to, in configuration order, each once.
    pub fn static_tracked_interfaces(&self, name: &str) -> Vec<&str> {
        let member = |group: &Option<String>| {
            group.as_deref().is_some_and(|g| {
                self.track_groups
                    .iter()
                    .any(|t| t.name == g && t.group.iter().any(|m| m == name))
            })
        };
        let addresses = self
            .static_addresses
            .iter()
            .filter(|a| !a.no_track && member(&a.track_group))
            .map(|a| self.static_address_dev(a));
        let routes = self
            .static_routes
            .iter()
            .filter(|r| !r.no_track && member(&r.track_group))
            .filter_map(|r| r.dev.as_deref());
        let rules = self
            .static_rules
            .iter()
            .filter(|r| !r.no_track && member(&r.track_group))
            .filter_map(|r| r.iif.as_deref());
        let mut out: Vec<&str> = Vec::new();
        for dev in addresses.chain(routes).chain(rules) {
            if !out.contains(&dev) {
                out.push(dev);
            }
        }
        out
    }
}

/// What keepalived reports about track groups and continues: a member that is no instance,
/// a group no block defines (YAML; keepalived.conf reports it while parsing), an item that
/// cannot be tracked, and `track_group` where only static items take it.
pub fn diagnostics(config: &Config, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut warn = |path: String, message: String| {
        out.push(Diagnostic::warning(map.locate(&path), message));
    };
    for (i, g) in config.track_groups.iter().enumerate() {
        for m in &g.group {
            if !config.instances.iter().any(|inst| &inst.name == m) {
                warn(
                    format!("track_groups.{i}"),
                    format!(
                        "vrrp instance {m} specified in track group {} doesn't exist - ignoring (as keepalived)",
                        g.name
                    ),
                );
            }
        }
    }
    let defined = |name: &str| config.track_groups.iter().any(|g| g.name == name);
    let items = config
        .static_addresses
        .iter()
        .enumerate()
        .map(|(k, a)| {
            (
                format!("static_addresses.{k}"),
                &a.track_group,
                a.no_track,
                true,
            )
        })
        .chain(config.static_routes.iter().enumerate().map(|(k, r)| {
            (
                format!("static_routes.{k}"),
                &r.track_group,
                r.no_track,
                r.dev.is_some(),
            )
        }))
        .chain(config.static_rules.iter().enumerate().map(|(k, r)| {
            (
                format!("static_rules.{k}"),
                &r.track_group,
                r.no_track,
                r.iif.is_some(),
            )
        }));
    for (path, group, no_track, has_dev) in items {
        let Some(g) = group else { continue };
        if !defined(g) {
            warn(
                path,
                format!("track_group {g} not found - ignored: define it under `track_groups`"),
            );
        } else if no_track {
            warn(
                path,
                format!(
                    "this static item has both track_group {g} and no_track set - not tracking (as keepalived): drop one of them"
                ),
            );
        } else if !has_dev {
            warn(
                path,
                format!(
                    "track_group {g} needs the interface to track (`dev` on a route, `iif` on a rule): ignored, as keepalived does"
                ),
            );
        }
    }
    for (i, inst) in config.instances.iter().enumerate() {
        let vips = inst
            .virtual_addresses
            .iter()
            .chain(&inst.excluded_addresses)
            .filter(|a| a.track_group.is_some())
            .map(|_| "virtual_ipaddress");
        let routes = inst
            .virtual_routes
            .iter()
            .filter(|r| r.track_group.is_some())
            .map(|_| "virtual_routes");
        let rules = inst
            .virtual_rules
            .iter()
            .filter(|r| r.track_group.is_some())
            .map(|_| "virtual_rules");
        for field in vips.chain(routes).chain(rules) {
            warn(
                format!("instances.{i}.{field}"),
                format!(
                    "instance `{}`: `track_group` applies to static addresses, routes and rules only (keepalived does not take it in {field}): ignored",
                    inst.name
                ),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{LoadOptions, load_keepalived_str};

    const INSTANCES: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\nvrrp_instance VI_2 {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n  10.0.0.2\n }\n}\n";

    fn load(text: &str) -> (crate::config::model::Config, Vec<String>) {
        let l = load_keepalived_str(text, Path::new("t.conf"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        (
            l.model,
            l.warnings.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn members_watch_the_interfaces_of_the_static_items_naming_their_group() {
        let (c, w) = load(&format!(
            "{INSTANCES}track_group G {{\n group {{\n  VI_1\n }}\n}}\n\
             static_ipaddress {{\n 10.1.0.1/24 dev eth1 track_group G\n 10.1.0.2/24 dev eth2\n 10.1.0.3/24 dev eth3 track_group G no_track\n}}\n\
             static_routes {{\n 10.2.0.0/16 dev eth4 track_group G\n}}\n\
             static_rules {{\n from 10.3.0.0/16 table 7 iif eth5 track_group G\n}}\n"
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("both track_group G and no_track"), "{w:?}");
        assert_eq!(
            c.static_tracked_interfaces("VI_1"),
            ["eth1", "eth4", "eth5"]
        );
        assert!(c.static_tracked_interfaces("VI_2").is_empty());
    }

    #[test]
    fn an_address_without_dev_is_on_default_interface_or_eth0() {
        let (c, _) = load(&format!(
            "{INSTANCES}track_group G {{\n group {{\n  VI_2\n }}\n}}\nstatic_ipaddress {{\n 10.1.0.1/24 track_group G\n}}\n"
        ));
        assert_eq!(c.static_tracked_interfaces("VI_2"), ["eth0"]);
        let (c, _) = load(&format!(
            "global_defs {{\n default_interface eth7\n}}\n{INSTANCES}static_ipaddress {{\n 10.1.0.1/24\n}}\n"
        ));
        assert_eq!(c.static_address_dev(&c.static_addresses[0]), "eth7");
    }

    #[test]
    fn untrackable_items_and_unknown_members_are_warned() {
        let (c, w) = load(&format!(
            "{INSTANCES}track_group G {{\n group {{\n  VI_1\n  VI_9\n }}\n}}\n\
             static_routes {{\n 10.2.0.0/16 via 10.0.0.9 track_group G\n}}\n\
             static_ipaddress {{\n 10.1.0.1/24 dev eth1 track_group G no_track\n}}\n"
        ));
        for (line, what) in [
            (15, "VI_9 specified in track group G doesn't exist"),
            (22, "needs the interface to track"),
            (25, "both track_group G and no_track"),
        ] {
            assert!(
                w.iter()
                    .any(|m| m.starts_with(&format!("t.conf:{line}:")) && m.contains(what)),
                "{what} at {line}: {w:?}"
            );
        }
        assert!(c.static_tracked_interfaces("VI_1").is_empty());
    }

    #[test]
    fn a_group_named_before_its_block_is_not_found_as_in_keepalived() {
        let (c, w) = load(&format!(
            "{INSTANCES}static_ipaddress {{\n 10.1.0.1/24 dev eth1 track_group G\n}}\ntrack_group G {{\n group {{\n  VI_1\n }}\n}}\n"
        ));
        assert!(
            w.iter()
                .any(|m| m.starts_with("t.conf:16:") && m.contains("track_group G not found")),
            "{w:?}"
        );
        assert!(c.static_tracked_interfaces("VI_1").is_empty());
    }
}
