//! The daemon's driver: sets everything up from a configuration, then feeds the core with
//! packets, netlink events and timer expiries until told to stop.
//!
//! Shaped like mini-redis: `run(config, options, shutdown)` so tests can drive a daemon
//! in-process and stop it with any future.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::core::{Core, Event, SocketKey};
use super::effects::{SystemEffects, Work, execute};
use super::pidfile::{PidFile, PidFileError};
use super::plan::{IfaceFacts, PlanError, plan};
use super::receive::{Contexts, receive_loop};
use super::sdnotify;
use crate::config::model::Config;
use crate::control;
use crate::fsm::{InstanceId, Node, Time};
use crate::net::{IpProtocol, NetError, NetEvent, Netlink, NetlinkEvents, VmacSpec, VrrpSocket};
use crate::notify::{Notifier, NotifierConfig};
use crate::types::Family;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Shown by `vigil status`.
    pub config_path: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub control_socket: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    PidFile(#[from] PidFileError),
    #[error("netlink: {0}")]
    Net(#[from] NetError),
    #[error("cannot start: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Plan(Vec<PlanError>),
    #[error("sync group {group}: {message}")]
    SyncGroup { group: String, message: String },
    #[error(transparent)]
    Control(#[from] control::ControlError),
}

/// Runs the daemon until `shutdown` completes, then hands mastership over (priority 0),
/// removes every virtual address and VMAC, and returns.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let _pid = options
        .pid_file
        .as_deref()
        .map(PidFile::create)
        .transpose()?;
    let netlink = Arc::new(Netlink::connect()?);
    // Subscribe before reading state so no change between the two is missed.
    let mut net_events = NetlinkEvents::subscribe()?;

    let mut facts = HashMap::new();
    for link in netlink.links().await? {
        let primary_v4 = netlink.primary_ipv4(link.ifindex).await.unwrap_or(None);
        let link_local_v6 = netlink.ipv6_link_local(link.ifindex).await.unwrap_or(None);
        let forwarding =
            std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{}/forwarding", link.name))
                .is_ok_and(|s| s.trim() == "1");
        facts.insert(
            link.name.clone(),
            IfaceFacts {
                ifindex: link.ifindex,
                name: link.name.clone(),
                mac: link.mac.unwrap_or_default(),
                up: link.is_up(),
                primary_v4,
                link_local_v6,
                ipv6_forwarding: forwarding,
            },
        );
    }
    let mut planned = plan(&config, &|name| facts.get(name).cloned()).map_err(DaemonError::Plan)?;

    // keepalived's use_vmac: a macvlan per instance carrying the virtual MAC; VIPs,
    // announcements and (unless vmac_xmit_base) adverts live on it.
    let mut vmacs = Vec::new();
    for p in &mut planned {
        let Some(v) = &p.vmac else { continue };
        let spec = VmacSpec {
            name: v.name.clone(),
            base_ifindex: v.base_ifindex,
            vrid: p.fsm.vrid,
            family: p.fsm.family,
            source_v6: v.source_v6,
        };
        let link = netlink.create_vmac(&spec).await?;
        vmacs.push(link.ifindex);
        p.attach_vmac(link.ifindex);
    }

    // One socket per (interface, family, protocol), shared by every VRID on it.
    let (event_tx, mut event_rx) = mpsc::channel::<(Instant, Event)>(4096);
    let mut sockets: HashMap<SocketKey, (Arc<VrrpSocket>, Contexts)> = HashMap::new();
    let mut per_instance = Vec::new();
    for p in &planned {
        let key = p.binding.socket;
        if let std::collections::hash_map::Entry::Vacant(slot) = sockets.entry(key) {
            let socket = match key.family {
                Family::V4 => {
                    let proto = if key.protocol == IpProtocol::Ah.number() {
                        IpProtocol::Ah
                    } else {
                        IpProtocol::Vrrp
                    };
                    VrrpSocket::open_v4(&p.ifname, key.ifindex, proto)?
                }
                Family::V6 => {
                    let std::net::IpAddr::V6(src) = p.tx.src else {
                        return Err(DaemonError::Plan(vec![PlanError {
                            instance: p.binding.name.clone(),
                            message: "an IPv6 instance needs an IPv6 source address".into(),
                        }]));
                    };
                    VrrpSocket::open_v6(&p.ifname, key.ifindex, src)?
                }
            };
            slot.insert((Arc::new(socket), Arc::new(RwLock::new(HashMap::new()))));
        }
        let (socket, contexts) = &sockets[&key];
        contexts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(p.fsm.vrid.get(), p.rx.clone());
        per_instance.push(socket.clone());
    }
    let mut receivers = tokio::task::JoinSet::new();
    for (key, (socket, contexts)) in &sockets {
        receivers.spawn(receive_loop(
            socket.clone(),
            *key,
            contexts.clone(),
            event_tx.clone(),
        ));
    }
    drop(event_tx);

    let mut node = Node::new();
    for p in &planned {
        node.add_instance(p.fsm.clone());
    }
    for g in &config.sync_groups {
        let ids: Result<Vec<InstanceId>, String> = g
            .group
            .iter()
            .map(|name| {
                planned
                    .iter()
                    .position(|p| &p.binding.name == name)
                    .map(InstanceId)
                    .ok_or_else(|| format!("no instance named {name:?}"))
            })
            .collect();
        let ids = ids.map_err(|message| DaemonError::SyncGroup {
            group: g.name.clone(),
            message,
        })?;
        node.add_sync_group(&g.name, &ids)
            .map_err(|e| DaemonError::SyncGroup {
                group: g.name.clone(),
                message: e.to_string(),
            })?;
    }

    let notifier = Notifier::new(NotifierConfig {
        default_user: config.global.script_user.as_ref().map(|u| u.user.clone()),
        fifo: config
            .global
            .notify_fifo
            .as_ref()
            .map(|f| PathBuf::from(&f.path)),
        ..NotifierConfig::default()
    });
    let (work_tx, work_rx) = mpsc::unbounded_channel::<Work>();
    let executor = tokio::spawn(execute(
        netlink.clone(),
        work_rx,
        config.global.garp_interval,
    ));
    let effects = SystemEffects::new(&planned, per_instance, notifier, work_tx);
    let bindings = planned.iter().map(|p| p.binding.clone()).collect();
    let mut core = Core::new(node, bindings, effects);

    let epoch = Instant::now();
    let to_time = |at: Instant| Time::from_duration(at.saturating_duration_since(epoch));
    let to_instant = |t: Time| epoch + t.since_epoch();
    let config_name = options.config_path.display().to_string();
    let (status_tx, status_rx) = watch::channel(core.status(&config_name));
    let _control = match &options.control_socket {
        Some(path) => Some(control::serve(path, status_rx, Box::new(String::new)).await?),
        None => None,
    };

    core.start(to_time(Instant::now()));
    // An interface that is already down puts its instances straight into Fault.
    let mut link_up: HashMap<u32, bool> = HashMap::new();
    for b in core.bindings().to_vec() {
        let up = facts
            .values()
            .find(|f| f.ifindex == b.ifindex)
            .is_some_and(|f| f.up);
        link_up.insert(b.ifindex, up);
        if !up {
            core.handle(
                to_time(Instant::now()),
                Event::Link {
                    ifindex: b.ifindex,
                    up,
                },
            );
        }
    }
    let summary = format!("{} instances running", core.bindings().len());
    tracing::info!(instances = core.bindings().len(), "vigil started");
    sdnotify::ready(&summary);
    status_tx.send_replace(core.status(&config_name));

    tokio::pin!(shutdown);
    loop {
        let deadline = core.next_deadline().map(to_instant);
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some((_, event)) = event_rx.recv() => {
                core.handle(to_time(Instant::now()), event);
            }
            Some(ev) = net_events.next() => {
                let now = to_time(Instant::now());
                match ev {
                    NetEvent::LinkChanged { ifindex, up, .. } => {
                        // Netlink repeats a link message on any attribute change: only a
                        // change of up/down is an event for the state machines.
                        if link_up.get(&ifindex).is_some_and(|&was| was != up) {
                            link_up.insert(ifindex, up);
                            core.handle(now, Event::Link { ifindex, up });
                        }
                    }
                    NetEvent::LinkRemoved { ifindex, .. } => {
                        if link_up.get(&ifindex) == Some(&true) {
                            link_up.insert(ifindex, false);
                            core.handle(now, Event::Link { ifindex, up: false });
                        }
                    }
                    NetEvent::AddressRemoved { ifindex, addr, .. } => {
                        core.handle(now, Event::AddressRemoved { ifindex, addr });
                    }
                    NetEvent::AddressAdded { .. } => {}
                }
            }
            () = sleep_until(deadline) => {
                core.tick(to_time(Instant::now()));
            }
        }
        status_tx.send_if_modified(|s| {
            let new = core.status(&config_name);
            if *s == new {
                false
            } else {
                *s = new;
                true
            }
        });
    }

    // RFC 5798 §6.4.3 Shutdown: a Master sends priority 0 so a Backup takes over after
    // Skew_Time instead of Master_Down_Interval, then removes its addresses.
    sdnotify::stopping();
    core.shutdown(to_time(Instant::now()));
    receivers.abort_all();
    let effects = core.into_effects();
    effects.flush().await;
    for ifindex in vmacs {
        if let Err(e) = netlink.delete_vmac(ifindex).await {
            tracing::warn!(ifindex, error = %e, "cannot delete VMAC interface");
        }
    }
    let notifier = effects.into_notifier();
    // Notify scripts for STOP get a bounded moment to run; exit is not held hostage.
    let _ = tokio::time::timeout(Duration::from_secs(2), notifier.close()).await;
    executor.abort();
    tracing::info!("vigil stopped");
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
