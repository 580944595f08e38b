//! keepalived's `static_ipaddress`, `static_routes` and `static_rules`: put in at start whatever the VRRP
//! state, taken away at exit (keepalived's vrrp_daemon.c adds them when the VRRP process
//! starts and deletes them in stop_vrrp, rules first, then routes, then addresses).
//!
//! They belong to no instance, so the core never decides about them: the driver installs
//! them once before the first instance starts and removes them after the last has handed
//! over. A reload does not move them (keepalived diffs them at reload; vigil warns instead,
//! see `driver.rs`).

use crate::config::model::Config;
use crate::net::{AddressSpec, Netlink};

use super::address_plan::address_spec;
use super::effects::apply_routing;
use super::plan::Routing;

/// The static configuration, addresses resolved to interfaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statics {
    addresses: Vec<AddressSpec>,
    routing: Option<Box<Routing>>,
}

impl Statics {
    /// Resolves the static addresses' interfaces. An address without `dev`, or on an
    /// interface that does not exist, is skipped with a warning (keepalived skips it too).
    pub async fn resolve(config: &Config, netlink: &Netlink) -> Statics {
        let mut addresses = Vec::with_capacity(config.static_addresses.len());
        for a in &config.static_addresses {
            let Some(dev) = &a.dev else {
                tracing::warn!(address = %a.addr, "static_ipaddress without `dev`: not installed");
                continue;
            };
            match netlink.link_by_name(dev).await {
                Ok(link) => {
                    addresses.push(address_spec(a, link.ifindex));
                }
                Err(e) => {
                    tracing::warn!(address = %a.addr, error = %e, "static_ipaddress not installed")
                }
            }
        }
        Statics {
            addresses,
            routing: Routing::boxed(&config.static_routes, &config.static_rules),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.routing.is_none()
    }

    /// Adds addresses, then routes, then rules (a route may go via a static address's subnet).
    pub async fn install(&self, netlink: &Netlink) {
        for (spec, r) in self
            .addresses
            .iter()
            .zip(netlink.add_addresses(&self.addresses).await)
        {
            match r {
                Ok(()) => tracing::info!(%spec, "static address added"),
                Err(e) if e.is_already_exists() => {}
                Err(e) => tracing::error!(%spec, error = %e, "cannot add static address"),
            }
        }
        if let Some(routing) = &self.routing {
            apply_routing(netlink, "static", routing, true).await;
        }
    }

    /// Removes rules, then routes, then addresses, as keepalived's stop_vrrp does.
    pub async fn remove(&self, netlink: &Netlink) {
        if let Some(routing) = &self.routing {
            apply_routing(netlink, "static", routing, false).await;
        }
        for (spec, r) in self
            .addresses
            .iter()
            .zip(netlink.del_addresses(&self.addresses).await)
        {
            match r {
                Ok(()) => tracing::info!(%spec, "static address removed"),
                Err(e) if e.is_not_found() => {}
                Err(e) => tracing::warn!(%spec, error = %e, "cannot remove static address"),
            }
        }
    }
}
