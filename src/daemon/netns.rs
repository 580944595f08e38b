//! keepalived's `net_namespace` in the running daemon (`main` enters the namespace before
//! the daemon starts, `net::netns`; here, what a reload may do about it), and the `vrf` of
//! routes, checked against the kernel before a configuration is used.

use crate::config::model::{Config, Route};
use crate::net::{NetError, Netlink};

/// keepalived cannot move a running daemon to another namespace: a reload that adds, removes
/// or changes `net_namespace` is refused whole ("Cannot change network namespace at a reload
/// - please restart keepalived") and the previous configuration runs on. vigil does the same.
pub fn reload_change(running: Option<&str>, new: Option<&str>) -> Result<(), String> {
    if running == new {
        return Ok(());
    }
    let show = |n: Option<&str>| n.map_or_else(|| "none".to_owned(), |n| format!("{n:?}"));
    Err(format!(
        "net_namespace cannot change at a reload (running in {}, the file now says {}): restart vigil to move it, as keepalived must be restarted",
        show(running),
        show(new)
    ))
}

/// Every route that names a `vrf`, with what holds it, in configuration order.
pub fn route_vrfs(config: &Config) -> Vec<(String, &Route)> {
    let mut out = Vec::new();
    for inst in &config.instances {
        for r in inst.virtual_routes.iter().filter(|r| r.vrf.is_some()) {
            out.push((format!("vrrp_instance {} virtual_routes", inst.name), r));
        }
    }
    for r in config.static_routes.iter().filter(|r| r.vrf.is_some()) {
        out.push(("static_routes".to_owned(), r));
    }
    out
}

/// What is wrong with a route's `vrf`, given what the kernel says of the named device
/// (`None`: no such device; `Some(None)`: a device that is not a VRF; `Some(Some(t))`: a VRF
/// with table `t`). keepalived drops such a route with "VRF NAME not found for route" or
/// "Route specified VRF NAME is not a VRF"; vigil refuses the configuration instead, as it
/// refuses a missing interface, so that no route is silently left out.
pub fn vrf_problem(who: &str, route: &Route, device: Option<Option<u32>>) -> Option<String> {
    let name = route.vrf.as_deref()?;
    let what = crate::net::routing::describe_route(route);
    match device {
        None => Some(format!(
            "{who}: route {what}: VRF device {name:?} does not exist (keepalived: \"VRF {name} not found for route\"); create it (`ip link add {name} type vrf table N`) or fix the name"
        )),
        Some(None) => Some(format!(
            "{who}: route {what}: {name:?} is not a VRF device (keepalived: \"Route specified VRF {name} is not a VRF\"); name a VRF device, or use `table`"
        )),
        Some(Some(_)) => None,
    }
}

/// [`vrf_problem`] for every route of `config`, asking the kernel.
pub async fn check_route_vrfs(config: &Config, netlink: &Netlink) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (who, route) in route_vrfs(config) {
        let Some(name) = route.vrf.as_deref() else {
            continue;
        };
        let device = match netlink.link_by_name(name).await {
            Ok(link) => Some(link.vrf_table),
            Err(NetError::NoSuchLink(_)) => None,
            Err(e) => {
                problems.push(format!("{who}: cannot look VRF {name:?} up: {e}"));
                continue;
            }
        };
        problems.extend(vrf_problem(&who, route, device));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_vrf_must_name_a_vrf_device() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n \
            virtual_ipaddress {\n  192.0.2.1/24\n }\n virtual_routes {\n  \
            198.51.100.0/24 dev eth0 vrf red\n  203.0.113.0/24 dev eth0\n }\n}\n\
            static_routes {\n 10.9.0.0/16 dev eth0 vrf blue\n}\n";
        let config = crate::config::load_keepalived_str(
            text,
            std::path::Path::new("t.conf"),
            &crate::config::LoadOptions::default(),
        )
        .expect("valid")
        .model;
        let vrfs = route_vrfs(&config);
        let whos: Vec<&str> = vrfs.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(whos, ["vrrp_instance VI_1 virtual_routes", "static_routes"]);
        let (who, route) = &vrfs[0];
        assert_eq!(vrf_problem(who, route, Some(Some(10))), None);
        let missing = vrf_problem(who, route, None).expect("missing");
        assert!(missing.contains("VRF red not found for route"), "{missing}");
        let not_vrf = vrf_problem(who, route, Some(None)).expect("not a VRF");
        assert!(not_vrf.contains("\"red\" is not a VRF device"), "{not_vrf}");
        assert!(not_vrf.starts_with("vrrp_instance VI_1 virtual_routes: route 198.51.100.0/24"));
    }

    #[test]
    fn a_reload_keeps_the_namespace_or_is_refused() {
        assert_eq!(reload_change(None, None), Ok(()));
        assert_eq!(reload_change(Some("blue"), Some("blue")), Ok(()));
        for (running, new) in [
            (Some("blue"), Some("red")),
            (Some("blue"), None),
            (None, Some("red")),
        ] {
            let e = reload_change(running, new).expect_err("refused");
            assert!(e.contains("restart vigil"), "{e}");
        }
        let e = reload_change(Some("blue"), None).expect_err("refused");
        assert!(
            e.contains("running in \"blue\", the file now says none"),
            "{e}"
        );
    }
}
