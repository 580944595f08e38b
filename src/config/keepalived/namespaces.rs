//! keepalived's `net_namespace` (top level) and `vrf` (in `vrrp_instance`, and as a route
//! option): what each line means, decided here so that the keyword tables only hook them.

use super::parser::Node;

/// What a `net_namespace` line does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetNamespaceLine {
    /// The daemon runs in this namespace.
    Set(String),
    /// keepalived reports the line and ignores it; vigil warns with this text.
    Ignored(String),
    /// A name that is not a file in /run/netns: keepalived could not open it and would not
    /// start; vigil refuses the configuration with this text.
    Refused(String),
}

/// keepalived's `net_namespace_handler`: the first `net_namespace NAME` wins; a second one
/// and one without a name are reported and ignored.
pub fn net_namespace_line(node: &Node, already: Option<&str>) -> NetNamespaceLine {
    let Some(name) = node.args.first() else {
        return NetNamespaceLine::Ignored(
            "`net_namespace` needs a namespace name (keepalived: \"net_namespace name missing - ignoring\"): ignored".into(),
        );
    };
    if let Some(first) = already {
        return NetNamespaceLine::Ignored(format!(
            "duplicate `net_namespace {}`: the first one ({first}) is kept, as keepalived keeps it (\"Duplicate net_namespace definition - ignoring\")",
            name.text
        ));
    }
    match crate::net::netns::netns_path(&name.text) {
        Ok(_) => NetNamespaceLine::Set(name.text.clone()),
        Err(e) => NetNamespaceLine::Refused(format!("`net_namespace`: {e}")),
    }
}

/// keepalived's `vrrp_vrf_handler` names the VRF of an instance that has no `interface`
/// (a unicast instance); with an `interface` it ignores `vrf` ("Cannot specify VRF interface
/// and interface - ignoring", or at the end of the block "vrf can only be specified without
/// interface - clearing") and the instance's sockets follow the interface's own VRF. Every
/// vigil instance names its interface, so the line is ignored as keepalived ignores it, with
/// this warning.
pub fn instance_vrf_warning(node: &Node) -> String {
    let name = node.args.first().map_or("", |a| a.text.as_str());
    format!(
        "`vrf {name}` ignored: keepalived ignores `vrf` in an instance that has an `interface` \
         (\"Cannot specify VRF interface and interface\"), and every vigil instance names its \
         interface; an instance whose interface is enslaved to a VRF runs in that VRF \
         without it"
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{LoadOptions, Severity, load_keepalived_str};

    const INSTANCE: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n \
        priority 100\n virtual_ipaddress {\n  192.0.2.1/24\n }\n}\n";

    fn load(text: &str) -> Result<crate::config::Loaded, crate::config::Diagnostics> {
        load_keepalived_str(text, Path::new("t.conf"), &LoadOptions::default())
    }

    #[test]
    fn net_namespace_names_the_daemons_namespace_and_the_first_one_wins() {
        let loaded = load(&format!("net_namespace blue\n{INSTANCE}")).expect("valid");
        assert_eq!(loaded.model.global.net_namespace.as_deref(), Some("blue"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        let loaded = load(&format!(
            "net_namespace blue\nnet_namespace red\n{INSTANCE}"
        ))
        .expect("valid");
        assert_eq!(loaded.model.global.net_namespace.as_deref(), Some("blue"));
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(
            loaded.warnings[0]
                .message
                .contains("Duplicate net_namespace")
        );
        assert_eq!(loaded.warnings[0].pos.line, 2);

        let loaded = load(&format!("net_namespace\n{INSTANCE}")).expect("valid");
        assert_eq!(loaded.model.global.net_namespace, None);
        assert!(loaded.warnings[0].message.contains("name missing"));
    }

    #[test]
    fn a_net_namespace_that_is_not_a_file_name_is_refused() {
        let e =
            load(&format!("net_namespace ../../proc/1/ns/net\n{INSTANCE}")).expect_err("refused");
        assert!(e.0.iter().any(|d| d.severity == Severity::Error
            && d.message.contains("not a file name in /run/netns")));
        let yaml = "global:\n  net_namespace: '..'\ninstances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    virtual_ipaddress: [{addr: 192.0.2.1, prefix_len: 24}]\n";
        let e = crate::config::load_yaml_str(yaml, Path::new("t.yaml"), &LoadOptions::default())
            .expect_err("refused");
        assert!(e.0[0].message.contains("not a file name"), "{e:?}");
        assert_eq!(e.0[0].pos.line, 2);
    }

    #[test]
    fn net_namespace_in_yaml_is_read() {
        let yaml = "global:\n  net_namespace: blue\ninstances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    virtual_ipaddress: [{addr: 192.0.2.1, prefix_len: 24}]\n";
        let loaded =
            crate::config::load_yaml_str(yaml, Path::new("t.yaml"), &LoadOptions::default())
                .expect("valid");
        assert_eq!(loaded.model.global.net_namespace.as_deref(), Some("blue"));
    }

    #[test]
    fn an_instance_vrf_is_ignored_as_keepalived_ignores_it_with_an_interface() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n vrf red\n virtual_router_id 1\n \
            virtual_ipaddress {\n  192.0.2.1/24\n }\n}\n";
        let loaded = load(text).expect("valid with a warning");
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        let w = &loaded.warnings[0];
        assert!(w.message.contains("`vrf red` ignored"), "{}", w.message);
        assert!(
            w.message
                .contains("Cannot specify VRF interface and interface")
        );
        assert_eq!(w.pos.line, 3);
        let strict = LoadOptions {
            strict: true,
            ..LoadOptions::default()
        };
        assert!(load_keepalived_str(text, Path::new("t.conf"), &strict).is_err());
    }

    #[test]
    fn a_route_vrf_is_read_and_its_device_must_exist() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n \
            virtual_ipaddress {\n  192.0.2.1/24\n }\n virtual_routes {\n  \
            198.51.100.0/24 dev eth0 vrf red\n }\n}\n";
        let loaded = load(text).expect("valid");
        let route = &loaded.model.instances[0].virtual_routes[0];
        assert_eq!(route.vrf.as_deref(), Some("red"));
        let missing =
            crate::config::interfaces::missing_interfaces(&loaded.model, &|n| n == "eth0");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].name, "red");
        assert_eq!(missing[0].named_by, "vrrp_instance VI_1 route vrf");
    }
}
