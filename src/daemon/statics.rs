//! keepalived's `static_ipaddress`, `static_routes` and `static_rules`: put in at start whatever the VRRP
//! state, taken away at exit (keepalived's vrrp_daemon.c adds them when the VRRP process
//! starts and deletes them in stop_vrrp, rules first, then routes, then addresses).
//!
//! They belong to no instance, so the core never decides about them: the driver installs
//! them once before the first instance starts and removes them after the last has handed
//! over. A reload applies the new set as keepalived's does (vrrp_daemon.c: the
//! `clear_diff_static_*` functions delete the rules, routes and addresses the new
//! configuration no longer has, then every static entry is added again, those already
//! present staying as they are): [`Statics::replace`], run beside the loop.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::model::{Config, VirtualAddress};
use crate::net::{AddressSpec, Netlink};

use super::address_plan::address_spec;
use super::effects::apply_routing;
use super::plan::Routing;

/// The static configuration as read, interfaces by name: taken from the model inside the
/// loop (cheap, synchronous), resolved beside it.
#[derive(Debug, Clone, Default)]
pub struct StaticSpec {
    addresses: Vec<(String, VirtualAddress)>,
    routing: Option<Box<Routing>>,
}

impl StaticSpec {
    pub fn of(config: &Config) -> StaticSpec {
        StaticSpec {
            addresses: config
                .static_addresses
                .iter()
                .map(|a| (config.static_address_dev(a).to_owned(), a.clone()))
                .collect(),
            routing: Routing::boxed(&config.static_routes, &config.static_rules),
        }
    }

    pub async fn resolve(self, netlink: &Netlink) -> Statics {
        let mut addresses = Vec::with_capacity(self.addresses.len());
        let mut untracked = Vec::with_capacity(self.addresses.len());
        for (dev, a) in &self.addresses {
            match netlink.link_by_name(dev).await {
                Ok(link) => {
                    addresses.push(address_spec(a, link.ifindex));
                    untracked.push(a.no_track);
                }
                Err(e) => {
                    tracing::warn!(address = %a.addr, error = %e, "static_ipaddress not installed")
                }
            }
        }
        Statics {
            addresses,
            untracked,
            routing: self.routing,
        }
    }
}

/// What the driver tells the statics worker.
pub struct StaticsWorker {
    /// Each reload's static set: the newest only (a set superseded before its turn is
    /// skipped).
    pub reload: watch::Sender<StaticSpec>,
    /// Addresses the kernel reported removed (bounded: a full queue drops the report, and the
    /// address stays away until the next reload, as after any missed netlink event).
    pub removed: mpsc::Sender<(u32, IpAddr)>,
    /// Hands back what is installed, for the exit to remove, once both senders are dropped.
    pub done: JoinHandle<Statics>,
}

/// Applies each reload's static set beside the loop, in order, and puts back a static
/// address someone deletes (keepalived's `reinstate_static_address`, unless `no_track`).
pub fn spawn_worker(mut statics: Statics, netlink: Arc<Netlink>) -> StaticsWorker {
    let (tx, mut rx) = watch::channel(StaticSpec::default());
    let (removed_tx, mut removed_rx) = mpsc::channel::<(u32, IpAddr)>(64);
    let done = tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let spec = rx.borrow_and_update().clone();
                    let new = spec.resolve(&netlink).await;
                    statics.replace(new, &netlink).await;
                }
                Some((ifindex, addr)) = removed_rx.recv() => {
                    statics.reinstate(ifindex, addr, &netlink).await;
                }
            }
        }
        statics
    });
    StaticsWorker {
        reload: tx,
        removed: removed_tx,
        done,
    }
}

/// The static configuration, addresses resolved to interfaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statics {
    addresses: Vec<AddressSpec>,
    /// `no_track` of each address: not put back when deleted.
    untracked: Vec<bool>,
    routing: Option<Box<Routing>>,
}

impl Statics {
    /// Resolves the static addresses' interfaces: `dev`, else `default_interface`, else
    /// `eth0`, as keepalived (`Config::static_address_dev`). Configuration checks refuse a
    /// missing one as keepalived does; one gone since is skipped with a warning.
    pub async fn resolve(config: &Config, netlink: &Netlink) -> Statics {
        StaticSpec::of(config).resolve(netlink).await
    }

    /// Moves from this set to `new`: what `new` no longer has is removed (rules, routes,
    /// then addresses), then all of `new` is added (what is present stays); `self` becomes
    /// `new`.
    pub async fn replace(&mut self, new: Statics, netlink: &Netlink) {
        let addresses: Vec<AddressSpec> = self
            .addresses
            .iter()
            .filter(|a| !new.addresses.contains(a))
            .cloned()
            .collect();
        let gone = Statics {
            untracked: vec![true; addresses.len()],
            addresses,
            routing: Routing::minus(self.routing.as_deref(), new.routing.as_deref()).map(Box::new),
        };
        if !gone.is_empty() {
            tracing::info!(
                "reload: removing the static addresses, routes and rules no longer configured"
            );
            gone.remove(netlink).await;
        }
        new.install(netlink).await;
        *self = new;
    }

    /// A tracked static address the kernel reported removed goes back (keepalived
    /// keepalived_netlink.c: a static address deleted by hand is reinstated).
    async fn reinstate(&self, ifindex: u32, addr: IpAddr, netlink: &Netlink) {
        let Some(spec) = self
            .addresses
            .iter()
            .zip(&self.untracked)
            .find(|(a, untracked)| a.ifindex == ifindex && a.addr == addr && !**untracked)
            .map(|(a, _)| a)
        else {
            return;
        };
        match netlink
            .add_addresses(std::slice::from_ref(spec))
            .await
            .pop()
        {
            Some(Ok(())) => {
                tracing::info!(%spec, "static address deleted by someone else: put back")
            }
            Some(Err(e)) if e.is_already_exists() => {}
            Some(Err(e)) => {
                tracing::warn!(%spec, error = %e, "cannot put back a deleted static address")
            }
            None => {}
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
