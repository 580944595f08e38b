//! The async half of a reload (and of the start): read and validate the file, read the
//! kernel's interfaces, plan, create the VMACs and open the sockets the new set needs. It runs
//! beside the driver's loop, so timers keep firing while netlink answers its dumps; the CPU
//! work (parsing, planning) runs on a blocking thread. Nothing running is touched: on any
//! error what this preparation made is undone and the old configuration runs on, whole.
//!
//! What it returns is applied by the core in one pure step (`reload.rs`).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::effects::{OpenSocket, OpenVmac};
use super::input::{
    CoreInput, GroupPlan, LinkFact, LinkLocalFact, Prepared, PresentAddress, SocketKey,
};
use super::plan::{IfaceFacts, InstancePlan, PlanError, fifo_reader, plan, plan_groups};
use super::receive::{SocketRoutes, receive_loop};
use crate::config::LoadOptions;
use crate::config::interfaces::missing_interfaces;
use crate::config::model::{Config, Global};
use crate::net::{
    AddressInfo, IpProtocol, LinkInfo, NetError, Netlink, VmacSpec, VrrpSocket, ipv6_link_local_of,
    primary_ipv4_of, sysctl,
};
use crate::track::{TrackerId, TrackerKind};
use crate::types::Family;

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("{}", .0.join("\n"))]
    Config(Vec<String>),
    /// NetError names its operation (a socket option, a netlink request) itself.
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Plan(Vec<PlanError>),
    #[error("preparation failed: {0}")]
    Task(String),
}

/// Where the configuration comes from.
pub enum Source {
    /// Already loaded (the start: `main` loaded and reported it).
    Loaded(Box<Config>),
    /// Read from the file again (a reload).
    File { path: PathBuf, options: LoadOptions },
}

/// What the running daemon has that a preparation may reuse.
pub struct Context {
    pub netlink: Arc<Netlink>,
    pub events: mpsc::Sender<CoreInput>,
    pub open_sockets: Vec<SocketKey>,
    pub open_vmacs: HashMap<String, OpenVmac>,
    /// The `net_namespace` the daemon runs in (entered at start; fixed until a restart).
    pub net_namespace: Option<String>,
}

/// A prepared configuration and what was opened for it.
pub struct Ready {
    pub prepared: Prepared,
    pub sockets: Vec<(SocketKey, OpenSocket)>,
    pub vmacs: Vec<(String, OpenVmac)>,
    /// The model, for spawning its checkers once applied; dropped after.
    pub config: Config,
}

pub async fn prepare(source: Source, ctx: Context) -> Result<Ready, PrepareError> {
    let config = match source {
        Source::Loaded(config) => *config,
        Source::File { path, options } => {
            let config = blocking(move || load(&path, &options)).await??;
            super::netns::reload_change(
                ctx.net_namespace.as_deref(),
                config.global.net_namespace.as_deref(),
            )
            .map_err(|e| PrepareError::Config(vec![e]))?;
            config
        }
    };
    // Nothing of the kernel's answers is decoded or digested on the loop's thread (thousands
    // of addresses at 10,000 instances: ~25 ms of decoding, sets and lookups per reload), so
    // that a reload delays no advert (issue 13).
    let (links, addresses) = read_kernel().await?;
    let (config, facts, present, mut link_locals, missing) = blocking(move || {
        let (facts, present, link_locals) = digest_kernel(links, addresses);
        // keepalived refuses a configuration naming an interface that does not exist; so
        // does `vigil check`, from the same list.
        // With `dynamic_interfaces` their instances wait in Fault instead (`plan`).
        let missing = missing_interfaces(&config, &|name| facts.contains_key(name));
        (config, facts, present, link_locals, missing)
    })
    .await?;
    if !missing.is_empty() && !config.global.dynamic_interfaces {
        return Err(PrepareError::Config(
            missing.iter().map(ToString::to_string).collect(),
        ));
    }
    // A route's `vrf` must name a VRF device: its table is the route's (daemon/netns.rs).
    super::netns::check_route_vrfs(&config, &ctx.netlink)
        .await
        .map_err(PrepareError::Config)?;
    let links: Vec<LinkFact> = facts
        .values()
        .map(|f| LinkFact {
            ifindex: f.ifindex,
            name: f.name.clone(),
            up: f.up,
            link_locals: link_locals.remove(&f.ifindex).unwrap_or_default(),
        })
        .collect();
    // Sources the kernel will not bind yet: their sockets open unbound, and the core keeps
    // their instances in Fault until the address is usable (`link_local.rs`).
    let tentative: HashSet<(u32, Ipv6Addr)> = links
        .iter()
        .flat_map(|l| {
            l.link_locals
                .iter()
                .filter(|ll| !ll.usable)
                .map(|ll| (l.ifindex, ll.addr))
        })
        .collect();
    let (config, planned, groups, reader) = blocking(move || {
        let planned = plan(&config, &|name| facts.get(name).cloned());
        let groups = plan_groups(&config);
        let reader = fifo_reader(&config);
        (config, planned, groups, reader)
    })
    .await?;
    let (mut planned, groups) = match (planned, groups, reader) {
        (Ok(p), Ok(g), Ok(_)) => (p, g),
        (p, g, r) => {
            let mut errors = p.err().unwrap_or_default();
            errors.extend(g.err().unwrap_or_default());
            errors.extend(r.err());
            return Err(PrepareError::Plan(errors));
        }
    };

    let mut made = Made::default();
    if let Err(e) = open(&mut planned, &ctx, &tentative, &mut made).await {
        made.undo(&ctx.netlink).await;
        return Err(e);
    }
    // After `open`: a VMAC's addresses are compared on its ifindex.
    let (planned, present_vips, absent_sources) = blocking(move || {
        let found = present_vips(&planned, &present);
        let absent = planned
            .iter()
            .filter(|p| p.track_src && !present.iter().any(|a| a.addr == p.tx.src))
            .map(|p| p.tx.src)
            .collect();
        (planned, found, absent)
    })
    .await?;
    let mut prepared = assemble(&config, planned, groups, links);
    prepared.present_vips = present_vips;
    prepared.absent_sources = absent_sources;
    Ok(Ready {
        prepared,
        sockets: made.sockets,
        vmacs: made.vmacs,
        config,
    })
}

/// A configuration's plans with what the core needs besides them (pure).
pub fn assemble(
    config: &Config,
    instances: Vec<InstancePlan>,
    sync_groups: Vec<GroupPlan>,
    links: Vec<LinkFact>,
) -> Prepared {
    // Every field of the model is named here (no `..`), with the part of vigil that reads
    // it: a field added to the model does not compile until someone decides who acts on it
    // (issue 9's rule: nothing parsed that the runtime does not read).
    let Config {
        global,
        // `plan::plan` and `plan::plan_groups` (each destructures its item in full).
        instances: _,
        sync_groups: _,
        scripts,
        // Spawned by `track::spawn_all` from the model the driver keeps until then.
        track_files: _,
        track_processes: _,
        // `statics.rs`, at start and at every reload.
        static_addresses: _,
        static_routes: _,
        static_rules: _,
        // `InstanceTrackers::for_instance` via `Config::static_tracked_interfaces`
        // (`config::static_track`).
        track_groups: _,
    } = config;
    let Global {
        ref router_id,
        // Inherited: `config::resolve` copied these into every instance, which planning reads.
        vrrp_version: _,
        garp: _,
        min_garp: _,
        skip_check_adv_addr: _,
        strict: _,
        check_unicast_src: _,
        lower_prio_no_advert: _,
        higher_prio_send_advert: _,
        down_timer_adverts: _,
        notify_priority_changes: _,
        v3_checksum_as_v2: _,
        smtp_alert: _,
        // `plan::plan`: the default multicast groups.
        mcast_group4: _,
        mcast_group6: _,
        // The driver: the announcement executor's gaps, the core thread's nice value, the
        // notifier's default user and FIFO (`driver.rs`, `plan::fifo_reader`).
        garp_interval: _,
        gna_interval: _,
        process_priority: _,
        // The driver: `daemon::auto_priority` when a timer is served late.
        max_auto_priority: _,
        min_auto_priority_delay: _,
        script_user: _,
        notify_fifo: _,
        // `statics.rs` and `config::interfaces`: where a static address with no `dev` goes.
        default_interface: _,
        // `prepare` (a missing interface is not refused) and `plan::plan` (the placeholder
        // that waits for it).
        dynamic_interfaces: _,
        // `config::script_security`, at every load.
        enable_script_security: _,
        // Warned as inert by `config::inert`: vigil sends no e-mail.
        notification_email: _,
        notification_email_from: _,
        smtp_server: _,
        smtp_helo_name: _,
        smtp_connect_timeout: _,
        // `main` entered it before the daemon started; the driver keeps it so that a reload
        // cannot change it (`daemon::netns`).
        net_namespace: _,
        startup_delay,
    } = *global;
    Prepared {
        instances,
        sync_groups,
        links,
        initially_down: scripts
            .iter()
            .filter(|s| s.init_fail)
            .map(|s| TrackerId::new(TrackerKind::Script, s.name.clone()))
            .collect(),
        present_vips: Vec::new(),
        startup_delay,
        router_id: router_id.clone(),
        absent_sources: Vec::new(),
    }
}

/// The addresses in the kernel's dump that a planned instance lists as a virtual address.
fn present_vips(
    planned: &[InstancePlan],
    present: &HashSet<PresentAddress>,
) -> Vec<PresentAddress> {
    let mut found: Vec<PresentAddress> = planned
        .iter()
        .flat_map(|p| &p.vips)
        .map(|v| PresentAddress {
            ifindex: v.ifindex,
            addr: v.addr,
        })
        .filter(|a| present.contains(a))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

fn load(path: &std::path::Path, options: &LoadOptions) -> Result<Config, PrepareError> {
    match crate::config::load_for_run(path, options) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                tracing::warn!("{w}");
            }
            Ok(loaded.model)
        }
        Err(diagnostics) => Err(PrepareError::Config(
            diagnostics.0.iter().map(ToString::to_string).collect(),
        )),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PrepareError> {
    // The loop that sends the adverts comes first (`sched::to_background`).
    tokio::task::spawn_blocking(move || {
        crate::net::sched::to_background();
        f()
    })
    .await
    .map_err(|e| PrepareError::Task(e.to_string()))
}

/// What one preparation created, to hand over or to undo.
#[derive(Default)]
struct Made {
    sockets: Vec<(SocketKey, OpenSocket)>,
    vmacs: Vec<(String, OpenVmac)>,
}

impl Made {
    async fn undo(self, netlink: &Netlink) {
        for (_, s) in self.sockets {
            s.receiver.abort();
        }
        for (name, v) in self.vmacs {
            if let Err(e) = netlink.delete_vmac(v.ifindex).await {
                tracing::warn!(interface = %name, error = %e, "cannot delete VMAC interface");
            }
        }
    }
}

/// VMACs (reusing those whose plan did not change) and the sockets not open yet.
async fn open(
    planned: &mut [InstancePlan],
    ctx: &Context,
    tentative: &HashSet<(u32, Ipv6Addr)>,
    made: &mut Made,
) -> Result<(), PrepareError> {
    // A placeholder waiting for its interface (`dynamic_interfaces`) has nothing to open.
    for p in planned.iter_mut().filter(|p| !p.awaits_interface) {
        let Some(v) = p.vmac.as_deref().cloned() else {
            continue;
        };
        if let Some(open) = ctx.open_vmacs.get(&v.name).filter(|o| o.plan == v) {
            p.attach_vmac(open.ifindex);
            continue;
        }
        let spec = VmacSpec {
            name: v.name.clone(),
            base_ifindex: v.base_ifindex,
            vrid: p.fsm.vrid,
            family: p.fsm.family,
            source_v6: v.source_v6,
        };
        let link = ctx.netlink.create_vmac(&spec).await?;
        made.vmacs.push((
            v.name.clone(),
            OpenVmac {
                plan: v,
                ifindex: link.ifindex,
            },
        ));
        p.attach_vmac(link.ifindex);
    }
    for p in planned
        .iter()
        .filter(|p| p.promote_secondaries && !p.awaits_interface)
    {
        // keepalived's `promote_secondaries`: removing one VIP keeps the others of its subnet
        // (without it the kernel deletes every secondary address with the primary).
        if p.fsm.family == Family::V4
            && let Err(e) =
                sysctl::write_conf(Family::V4, &p.announce.ifname, "promote_secondaries", 1)
        {
            tracing::warn!(instance = %p.name(), error = %e, "cannot set promote_secondaries");
        }
    }
    let mut open: HashSet<SocketKey> = ctx.open_sockets.iter().copied().collect();
    for p in planned.iter().filter(|p| !p.awaits_interface) {
        if !open.insert(p.socket) {
            continue;
        }
        let socket = Arc::new(open_socket(p, tentative)?);
        let (routes, rx) = watch::channel(Arc::new(SocketRoutes::default()));
        let receiver = tokio::spawn(receive_loop(
            socket.clone(),
            p.socket,
            rx,
            ctx.events.clone(),
        ))
        .abort_handle();
        made.sockets.push((
            p.socket,
            OpenSocket {
                socket,
                routes,
                receiver,
            },
        ));
    }
    Ok(())
}

fn open_socket(
    p: &InstancePlan,
    tentative: &HashSet<(u32, Ipv6Addr)>,
) -> Result<VrrpSocket, PrepareError> {
    let key = p.socket;
    Ok(match key.family {
        Family::V4 => {
            let proto = if key.protocol == IpProtocol::Ah.number() {
                IpProtocol::Ah
            } else {
                IpProtocol::Vrrp
            };
            VrrpSocket::open_v4(&p.socket_ifname, key.ifindex, proto)?
        }
        Family::V6 => {
            let IpAddr::V6(src) = p.tx.src else {
                return Err(PrepareError::Plan(vec![PlanError {
                    subject: format!("instance {}", p.name()),
                    message: "an IPv6 instance needs an IPv6 source address".into(),
                }]));
            };
            if tentative.contains(&(key.ifindex, src)) {
                VrrpSocket::open_v6_unbound(&p.socket_ifname, key.ifindex, src)?
            } else {
                VrrpSocket::open_v6(&p.socket_ifname, key.ifindex, src)?
            }
        }
    })
}

/// Each interface's IPv6 link-local addresses, by ifindex.
type LinkLocalsByLink = HashMap<u32, Vec<LinkLocalFact>>;

/// What the kernel says about every interface: one dump of the links and one of the
/// addresses, whatever the number of interfaces (a router holding thousands of VIPs answers
/// each address dump with all of them). Also every address by interface, for the residual
/// virtual addresses a start removes.
///
/// The two dumps are read on a netlink socket of their own, served by a runtime on a blocking
/// thread: the daemon's command socket is served by the loop's thread, which would decode
/// every address message of the dump there.
async fn read_kernel() -> Result<(Vec<LinkInfo>, Vec<AddressInfo>), PrepareError> {
    blocking(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PrepareError::Task(format!("cannot start the netlink reader: {e}")))?;
        runtime.block_on(async {
            let netlink = Netlink::connect()?;
            Ok((netlink.links().await?, netlink.all_addresses().await?))
        })
    })
    .await?
}

/// The interface facts, every present address and the link-local addresses, from the dumps
/// (`read_kernel`); reads each interface's IPv6 forwarding sysctl. CPU and file work: for a
/// blocking thread.
fn digest_kernel(
    links: Vec<LinkInfo>,
    addresses: Vec<AddressInfo>,
) -> (
    HashMap<String, IfaceFacts>,
    HashSet<PresentAddress>,
    LinkLocalsByLink,
) {
    let mut by_link: HashMap<u32, Vec<AddressInfo>> = HashMap::new();
    let mut present = HashSet::new();
    for a in addresses {
        present.insert(PresentAddress {
            ifindex: a.ifindex,
            addr: a.addr,
        });
        by_link.entry(a.ifindex).or_default().push(a);
    }
    let mut facts = HashMap::with_capacity(links.len());
    let mut link_locals = LinkLocalsByLink::new();
    for link in links {
        let addrs = by_link.get(&link.ifindex).map_or(&[][..], Vec::as_slice);
        for a in addrs {
            if let IpAddr::V6(v6) = a.addr
                && (v6.segments()[0] & 0xffc0) == 0xfe80
            {
                link_locals
                    .entry(link.ifindex)
                    .or_default()
                    .push(LinkLocalFact {
                        addr: v6,
                        usable: !a.is_tentative() && !a.is_dad_failed(),
                    });
            }
        }
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
                primary_v4: primary_ipv4_of(addrs),
                link_local_v6: ipv6_link_local_of(addrs),
                ipv6_forwarding: forwarding,
            },
        );
    }
    (facts, present, link_locals)
}
