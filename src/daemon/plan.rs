//! From the configuration model and what the kernel says about the interfaces, to everything
//! an instance needs at run time: its state-machine configuration, its receive expectations,
//! its transmit template and its addresses.
//!
//! Pure: the interface facts are looked up by the caller first. Every problem is collected,
//! so the daemon either starts with every instance or not at all.
//!
//! An [`InstancePlan`] is immutable once made and shared (`Arc`) by the core's slot and the
//! executor's queued work: the configuration is held once, in its run-time form. The parsed
//! model is dropped after planning.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::address_plan::address_spec;
use super::input::{GroupPlan, SocketKey};
use super::receive::PeerFilter;
use crate::config::model::{self, Config, Instance, SyncGroup};
use crate::fsm::{self, InitialState};
use crate::net::{AddrScope, AddressSpec, IpProtocol};
use crate::notify::{FifoSpec, NotifyScripts, ReaderSpec, Script, split_command};
use crate::track::{InstanceTrackers, Tracked, TrackerId, TrackerKind};
use crate::types::{Centis, Family, Version};
use crate::wire::{self, Auth, AuthKey, RxContext, V3Checksum, VrrpRepr, ethernet::MacAddr};

/// What the kernel told us about one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfaceFacts {
    pub ifindex: u32,
    pub name: String,
    pub mac: [u8; 6],
    pub up: bool,
    pub primary_v4: Option<Ipv4Addr>,
    pub link_local_v6: Option<Ipv6Addr>,
    /// IPv6 forwarding is on: unsolicited NAs then carry the Router flag, as keepalived's do.
    pub ipv6_forwarding: bool,
}

/// How one instance's advertisements are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxPlan {
    pub src: IpAddr,
    /// The multicast group, or every unicast peer.
    pub destinations: Vec<IpAddr>,
    pub unicast: bool,
    pub ttl: u8,
    /// The advertisement; only the priority changes from one send to the next.
    pub repr: VrrpRepr,
    pub v3_checksum: V3Checksum,
}

/// Where and how gratuitous announcements go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncePlan {
    pub ifindex: u32,
    pub ifname: Arc<str>,
    /// One frame per virtual address (GARP or unsolicited NA).
    pub frames: Vec<Vec<u8>>,
}

/// A VMAC interface to create before the instance starts (keepalived's `use_vmac`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmacPlan {
    pub name: String,
    pub base_ifindex: u32,
    /// `vmac_xmit_base` (forced by unicast, as keepalived does): adverts are sent and received
    /// on the base interface; otherwise on the VMAC, so they carry the virtual MAC.
    pub xmit_base: bool,
    /// IPv6: the address adverts are sent from, which the VMAC must carry to bind to it.
    pub source_v6: Option<Ipv6Addr>,
}

/// The receive checks an instance's configuration asks for, beyond those every advert meets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RxChecks {
    /// `check_unicast_src` on a unicast instance: the only sources accepted, each with its
    /// TTL range. `None`: any source (keepalived checks nothing without it, and nothing on a
    /// multicast instance).
    pub peers: Option<Arc<[PeerFilter]>>,
    /// `skip_check_adv_addr`: a backup checks the address list only of a new master.
    pub skip_check_adv_addr: bool,
}

/// Everything one instance needs at run time, immutable once the instance runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstancePlan {
    /// The state machine's configuration, shared with the `fsm::Instance` (name, VRID,
    /// version, family, priority, primary address, ...).
    pub fsm: Arc<fsm::InstanceConfig>,
    /// The configured interface: its link state is the instance's, its name is shown.
    /// Interface names are shared by every instance on the interface.
    pub interface: Arc<str>,
    pub ifindex: u32,
    /// The receive/send socket: the configured interface, or its VMAC once
    /// [`InstancePlan::attach_vmac`] has run (unless `vmac_xmit_base`).
    pub socket: SocketKey,
    /// The name of the socket's interface.
    pub socket_ifname: Arc<str>,
    pub rx: RxContext,
    /// The receive checks the configuration asks for beyond RFC 5798 §7.1.
    pub rx_checks: RxChecks,
    pub tx: TxPlan,
    pub vips: Vec<AddressSpec>,
    pub announce: AnnouncePlan,
    /// Boxed, and absent when the instance has none: most have none, and an instance's plan
    /// stays small (thousands of them on one router).
    pub notify: Option<Box<NotifyScripts>>,
    pub vmac: Option<Box<VmacPlan>>,
    /// The checkers the instance watches, weights resolved.
    pub tracking: InstanceTrackers,
    /// Why the configuration holds the instance in Fault for good, if it does: keepalived's
    /// `unicast_fault_no_peer` with no peer (vrrp.c: "Cannot use unicast without any peers -
    /// going to fault state"), instead of falling back to multicast.
    #[serde(default)]
    pub config_fault: Option<ConfigFault>,
    /// keepalived `dynamic_interfaces`: an interface the instance needs (its own, or a virtual
    /// address's `dev`) did not exist when it was planned (`config_fault` is
    /// [`ConfigFault::MissingInterface`]). The plan is a placeholder (no socket, no VMAC, held
    /// in Fault) until an interface appears and the configuration is planned again
    /// (`resync.rs`). A flag, not the name: it fits in the plan's padding, and thousands of
    /// plans are kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaits_interface: bool,
    /// keepalived `notify_priority_changes`: effective priority changes go to the FIFO.
    #[serde(default)]
    pub notify_priority_changes: bool,
    /// keepalived `dont_track_primary`: the instance ignores its own interface's link state
    /// (no FAULT when it goes down); its other watched interfaces still count.
    #[serde(default)]
    pub dont_track_primary: bool,
    /// keepalived `track_src_ip` with a configured source: FAULT while the source address
    /// is not on the box (`tracked_source.rs`).
    #[serde(default)]
    pub track_src: bool,
    /// `virtual_routes` / `virtual_rules`: in with mastership, after the VIPs. Boxed and
    /// absent when the instance has none, as most have.
    pub routing: Option<Box<Routing>>,
    /// Virtual addresses marked `no_track`: one deleted by someone else is not put back
    /// while master (keepalived reinstates it only at the next transition to master).
    #[serde(default)]
    pub vips_no_track: Option<Box<Vec<IpAddr>>>,
    /// `promote_secondaries`: set on the addresses' interface before the instance starts.
    #[serde(default)]
    pub promote_secondaries: bool,
}

/// Why a configuration holds an instance in Fault for good (one byte in every plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ConfigFault {
    /// keepalived's wording, which operators grep for.
    #[error("Cannot use unicast without any peers - going to fault state")]
    NoUnicastPeer,
    /// keepalived `dynamic_interfaces`: the instance waits for its interface
    /// ([`InstancePlan::awaits_interface`]).
    #[error("an interface it needs does not exist (dynamic_interfaces): waiting for it in FAULT")]
    MissingInterface,
}

/// An instance's virtual routes and rules, as configured (interface names are resolved when
/// they are installed, as `ip route` does).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    pub routes: Vec<model::Route>,
    pub rules: Vec<model::Rule>,
}

impl Routing {
    /// `None` when there is nothing to install.
    pub fn boxed(routes: &[model::Route], rules: &[model::Rule]) -> Option<Box<Routing>> {
        (!routes.is_empty() || !rules.is_empty()).then(|| {
            Box::new(Routing {
                routes: routes.to_vec(),
                rules: rules.to_vec(),
            })
        })
    }

    /// What `a` holds that `b` does not (`None` when nothing): a reload's delta.
    pub fn minus(a: Option<&Routing>, b: Option<&Routing>) -> Option<Routing> {
        let a = a?;
        let empty = Routing::default();
        let b = b.unwrap_or(&empty);
        let d = Routing {
            routes: a
                .routes
                .iter()
                .filter(|r| !b.routes.contains(r))
                .cloned()
                .collect(),
            rules: a
                .rules
                .iter()
                .filter(|r| !b.rules.contains(r))
                .cloned()
                .collect(),
        };
        (!d.routes.is_empty() || !d.rules.is_empty()).then_some(d)
    }
}

impl InstancePlan {
    pub fn name(&self) -> &str {
        &self.fsm.name
    }

    /// Whether `other` is the same virtual router on the same socket: a reload carries an
    /// instance over (state, timers, installed addresses) only then; anything else is a
    /// different router, which stops and starts.
    pub fn same_router(&self, other: &InstancePlan) -> bool {
        let (a, b) = (&self.fsm, &other.fsm);
        self.socket == other.socket
            && a.vrid == b.vrid
            && a.version == b.version
            && a.family == b.family
            && a.primary_addr == b.primary_addr
            && self.rx.same_except_keys(&other.rx)
            && self.tx.destinations == other.tx.destinations
            && self.tx.unicast == other.tx.unicast
            && self.tx.ttl == other.tx.ttl
            && self.vmac == other.vmac
    }

    /// Whether `other` is this virtual router planned again on the same interface name after
    /// the interface appeared (`dynamic_interfaces`) or was re-created under a new ifindex:
    /// a reload carries such an instance over from Fault, with its new socket, instead of
    /// stopping it (keepalived keeps the instance and rebinds it when the interface returns).
    pub fn moved_to(&self, other: &InstancePlan) -> bool {
        let (a, b) = (&self.fsm, &other.fsm);
        (self.awaits_interface || self.ifindex != other.ifindex)
            && self.interface == other.interface
            && a.vrid == b.vrid
            && a.version == b.version
            && a.family == b.family
            && self.socket.family == other.socket.family
    }

    /// Points the instance at its VMAC interface once it exists (`ifindex`): virtual addresses
    /// and announcements go there and, unless `vmac_xmit_base`, so does the VRRP socket.
    ///
    /// keepalived sends and receives a VMAC instance's adverts on the VMAC: the Ethernet source
    /// is then the virtual MAC (RFC 5798 §7.3), so switches learn it from the adverts. Receiving
    /// there is not a choice either: the Linux macvlan driver hands a multicast frame whose
    /// source MAC is a local private-mode macvlan's own MAC to that macvlan alone, so a peer's
    /// VMAC-sourced adverts never reach a socket on the base interface.
    pub fn attach_vmac(&mut self, ifindex: u32) {
        let Some(vmac) = &self.vmac else { return };
        // 0 marks the addresses planned for the VMAC before its ifindex was known.
        for vip in self.vips.iter_mut().filter(|s| s.ifindex == 0) {
            vip.ifindex = ifindex;
        }
        self.announce.ifindex = ifindex;
        if !vmac.xmit_base {
            self.socket.ifindex = ifindex;
            self.socket_ifname = vmac.name.as_str().into();
        }
    }

    /// The notify scripts (none configured: an empty set; the FIFO still hears of it).
    pub fn notify_scripts(&self) -> &NotifyScripts {
        self.notify.as_deref().unwrap_or(&NotifyScripts::NONE)
    }

    /// A copy allocated by the calling thread (the shared interface names excepted). Plans are
    /// made on a blocking thread, whose malloc arena also held the parsed model: the running
    /// daemon keeps copies made on its own thread, and the originals go with the model, so
    /// that arena empties whole and is handed back instead of staying pinned by a few live
    /// blocks per page.
    pub fn compacted(&self) -> InstancePlan {
        InstancePlan {
            fsm: Arc::new((*self.fsm).clone()),
            ..self.clone()
        }
    }

    /// The addresses as `vigil status` shows them.
    pub fn vip_display(&self) -> Vec<String> {
        self.vips
            .iter()
            .map(|v| format!("{}/{}", v.addr, v.prefix_len))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{subject}: {message}")]
pub struct PlanError {
    /// What could not be planned: `instance NAME` or `vrrp_sync_group NAME`.
    pub subject: String,
    pub message: String,
}

/// Plans every instance; `facts` answers for an interface name. With `use_vmac`, the VMAC
/// interface does not exist yet: its facts are derived from the base interface.
pub fn plan(
    config: &Config,
    facts: &dyn Fn(&str) -> Option<IfaceFacts>,
) -> Result<Vec<InstancePlan>, Vec<PlanError>> {
    let mut planned = Vec::with_capacity(config.instances.len());
    let mut errors = Vec::new();
    let mut names = Names::default();
    for inst in &config.instances {
        match plan_instance(config, inst, facts, &mut names) {
            Ok(p) => planned.push(p),
            Err(message) => errors.push(PlanError {
                subject: format!("instance {}", inst.name),
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(planned)
    } else {
        Err(errors)
    }
}

/// Plans every sync group: its members by name and its notify scripts.
pub fn plan_groups(config: &Config) -> Result<Vec<GroupPlan>, Vec<PlanError>> {
    let mut planned = Vec::with_capacity(config.sync_groups.len());
    let mut errors = Vec::new();
    for g in &config.sync_groups {
        // Every field named, as in `plan_instance`.
        let SyncGroup {
            name,
            group,
            // Its checkers count for every member: `InstanceTrackers::of`.
            track_interfaces: _,
            track_scripts: _,
            track_files: _,
            track_processes: _,
            sync_group_tracking_weight: _,
            notify,
            // Copied into the members by `config::resolve`.
            notify_priority_changes: _,
            // Warned as inert by `config::inert`: vigil sends no e-mail.
            smtp_alert: _,
        } = g;
        // keepalived's sync groups have no `notify_deleted` or `notify_master_rx_lower_pri`
        // (`config::inert` warns where a file sets them): only the instances' run.
        let group_notify = model::Notify {
            deleted: None,
            report_deleted: false,
            master_rx_lower_pri: None,
            ..notify.clone()
        };
        match notify_scripts(&group_notify, config.global.script_user.as_ref()) {
            Ok(notify) => planned.push(GroupPlan {
                name: name.clone(),
                members: group.clone(),
                notify: notify.filter(|n| **n != NotifyScripts::default()),
            }),
            Err(message) => errors.push(PlanError {
                subject: format!("vrrp_sync_group {name}"),
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(planned)
    } else {
        Err(errors)
    }
}

/// Interface names, one shared copy each.
#[derive(Default)]
struct Names(std::collections::HashMap<String, Arc<str>>);

impl Names {
    fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.0.get(name) {
            return n.clone();
        }
        let n: Arc<str> = name.into();
        self.0.insert(name.to_owned(), n.clone());
        n
    }
}

fn plan_instance(
    config: &Config,
    inst: &Instance,
    facts: &dyn Fn(&str) -> Option<IfaceFacts>,
    names: &mut Names,
) -> Result<InstancePlan, String> {
    // Every field is named (no `..`): a field added to the model does not compile until
    // planning reads it, or says here which part of vigil does (issue 9: nothing parsed that
    // the runtime does not read).
    let Instance {
        ref name,
        ref interface,
        vrid,
        version,
        family,
        priority,
        advert_int,
        initial_state,
        preempt,
        preempt_delay,
        accept,
        ref virtual_addresses,
        ref excluded_addresses,
        // `config::validate` (refuses or warns about an instance without addresses, as
        // keepalived) and `config::fixup` (strict mode clears it); nothing left at run time.
        no_virtual_ipaddress: _,
        ref virtual_routes,
        ref virtual_rules,
        ref auth,
        ref auth_hmac,
        unicast_src_ip,
        ref unicast_peers,
        unicast_ttl,
        unicast_fault_no_peer,
        check_unicast_src,
        mcast_src_ip,
        mcast_dst_ip,
        track_src_ip,
        ref use_vmac,
        vmac_xmit_base,
        // The checkers: resolved with the sync group's by `InstanceTrackers::for_instance`.
        track_interfaces: _,
        track_scripts: _,
        track_files: _,
        track_processes: _,
        garp,
        ref notify,
        notify_priority_changes,
        // Warned as inert by `config::inert` (vigil sends no e-mail).
        smtp_alert: _,
        dont_track_primary,
        skip_check_adv_addr,
        // Resolved into `accept`, `lower_prio_no_advert` and the fix-ups by the loader
        // (`config::resolve`, `config::fixup`); nothing is left for the runtime.
        strict_mode: _,
        lower_prio_no_advert,
        higher_prio_send_advert,
        down_timer_adverts,
        v3_checksum_as_v2,
        promote_secondaries,
    } = *inst;
    let awaits = awaited_interface(config, inst, facts);
    let iface = match facts(interface) {
        Some(f) => f,
        None if awaits.is_some() => placeholder_facts(interface),
        None => return Err(format!("interface {interface:?} does not exist")),
    };
    let unicast = !unicast_peers.is_empty();

    // RFC 5798 §5.1.1.1 / §5.1.2.1: the source is the interface's primary IPv4 address or
    // its IPv6 link-local address; keepalived lets unicast_src_ip / mcast_src_ip override it.
    let configured_src = unicast.then_some(unicast_src_ip).flatten().or(mcast_src_ip);
    let src = match (configured_src, family) {
        (Some(a), _) => a,
        (None, Family::V4) => IpAddr::V4(iface.primary_v4.ok_or_else(|| {
            format!(
                "interface {} has no IPv4 address to send from: add one, or set unicast_src_ip / mcast_src_ip",
                iface.name
            )
        })?),
        (None, Family::V6) => IpAddr::V6(iface.link_local_v6.ok_or_else(|| {
            format!("interface {} has no IPv6 link-local address to send from", iface.name)
        })?),
    };
    let destinations = if unicast {
        unicast_peers.iter().map(|p| p.address).collect()
    } else {
        vec![match (mcast_dst_ip, family) {
            (Some(a), _) => a,
            (None, Family::V4) => IpAddr::V4(config.global.mcast_group4),
            (None, Family::V6) => IpAddr::V6(config.global.mcast_group6),
        }]
    };

    let auth = match (auth, version) {
        (None, _) => Auth::None,
        (Some(model::Auth::Pass(p)), Version::V2) => {
            Auth::Password(AuthKey::from_password(p.as_bytes()))
        }
        (Some(model::Auth::Ah(p)), Version::V2) => Auth::Ah(AuthKey::from_password(p.as_bytes())),
        (Some(_), Version::V3) => {
            return Err("authentication is a VRRPv2 feature (RFC 5798 removed it): drop authentication or use version 2".into());
        }
    };
    let protocol = match auth {
        Auth::Ah(_) => IpProtocol::Ah,
        _ => IpProtocol::Vrrp,
    };

    // keepalived `v3_checksum_as_v2`: VRRPv3 over IPv4 checksummed as VRRPv2 (no
    // pseudo-header), both ways; IPv6 and VRRPv2 are unaffected (`pseudo_header_sum`).
    let v3_checksum = if v3_checksum_as_v2 {
        V3Checksum::WithoutPseudoHeader
    } else {
        V3Checksum::PseudoHeader
    };
    let advertised: Vec<IpAddr> = virtual_addresses.iter().map(|v| v.addr).collect();
    if let Some(bad) = advertised.iter().find(|a| model::family_of(**a) != family) {
        return Err(format!(
            "virtual address {bad} is not of the instance's address family"
        ));
    }
    let repr = VrrpRepr {
        version,
        vrid,
        priority,
        max_advert_int: advert_int,
        addresses: advertised,
        auth: auth.clone(),
    };
    // Emitting once here turns an unsendable configuration (a v2 interval that is not whole
    // seconds, too many addresses) into a start-up error instead of a silent instance.
    let probe_dst = destinations.first().copied().unwrap_or(src);
    let mut probe = vec![0u8; repr.buffer_len_for(family)];
    repr.emit(&mut probe, src, probe_dst, v3_checksum)
        .map_err(|e| format!("cannot build its advertisement: {e}"))?;

    let (vip_ifindex, vip_ifname, announce_mac, vmac) = match use_vmac {
        Some(name) => {
            // The VMAC's ifindex is only known once it exists; 0 marks "resolve at start".
            let mac = MacAddr::vmac(family, vrid);
            let vmac = VmacPlan {
                name: name.clone(),
                base_ifindex: iface.ifindex,
                // keepalived: "unicast with use_vmac requires vmac_xmit_base - setting".
                xmit_base: vmac_xmit_base || unicast,
                source_v6: match src {
                    IpAddr::V6(a) => Some(a),
                    IpAddr::V4(_) => None,
                },
            };
            (0, names.get(name), mac, Some(Box::new(vmac)))
        }
        None => (
            iface.ifindex,
            names.get(&iface.name),
            MacAddr(iface.mac),
            None,
        ),
    };

    // Sized exactly: a pushed-to Vec keeps room for four, and there are thousands of plans.
    // `virtual_ipaddress_excluded` (keepalived's evips) is installed, removed and announced
    // with the virtual addresses, but stays out of the advert (`repr` above) and so out of
    // the received address-list check: it may be of either family and any number.
    let installed = virtual_addresses.len() + excluded_addresses.len();
    let mut vips = Vec::with_capacity(installed);
    let mut frames = Vec::with_capacity(installed);
    for v in virtual_addresses.iter().chain(excluded_addresses) {
        let ifindex = match &v.dev {
            Some(dev) if dev != interface => {
                facts(dev)
                    // Waiting for it: never installed before it exists and is planned again.
                    .or_else(|| awaits.as_ref().map(|_| placeholder_facts(dev)))
                    .ok_or_else(|| {
                        format!(
                            "virtual address {}: interface {dev:?} does not exist",
                            v.addr
                        )
                    })?
                    .ifindex
            }
            _ => vip_ifindex,
        };
        let spec = address_spec(v, ifindex);
        vips.push(spec);
        frames.push(match v.addr {
            IpAddr::V4(ip) => wire::arp::GratuitousArp::new(announce_mac, ip).to_vec(),
            IpAddr::V6(ip) => {
                wire::ndisc::UnsolicitedNa::new(announce_mac, ip, iface.ipv6_forwarding).to_vec()
            }
        });
    }

    let fsm = fsm::InstanceConfig {
        name: name.clone(),
        vrid,
        version,
        family,
        priority,
        advert_int,
        preempt,
        preempt_delay,
        accept,
        primary_addr: src,
        initial: match initial_state {
            model::InitialState::Backup => InitialState::Backup,
            model::InitialState::Master => InitialState::Master,
        },
        garp: fsm::GarpConfig {
            master_delay: garp.master_delay,
            master_repeat: clamp_u8(garp.master_repeat),
            master_refresh: (garp.master_refresh > Centis::ZERO).then_some(garp.master_refresh),
            master_refresh_repeat: clamp_u8(garp.master_refresh_repeat),
            lower_prio_delay: Some(garp.lower_prio_delay),
            lower_prio_repeat: Some(clamp_u8(garp.lower_prio_repeat)),
        },
        lower_prio_no_advert,
        higher_prio_send_advert,
        down_timer_adverts,
    };
    let socket = SocketKey {
        ifindex: iface.ifindex,
        family,
        protocol: protocol.number(),
    };
    let auth_hmac = match auth_hmac {
        Some(ah) => {
            if auth != Auth::None {
                return Err(
                    "auth_hmac replaces `authentication`: remove the authentication block".into(),
                );
            }
            let secs = advert_int.get() / 100;
            Some(Arc::new(crate::config::auth_hmac::runtime(ah, secs)?))
        }
        None => None,
    };
    let rx = RxContext {
        version,
        auth,
        v3_checksum,
        unicast,
        auth_hmac,
    };
    // keepalived (vrrp.c `vrrp_check_packet`): the source check applies to unicast instances
    // with `check_unicast_src` (instance or global), which a peer's `min_ttl` / `max_ttl`
    // also turns on (`alloc_vrrp_unicast_peer`).
    let check_src =
        unicast && (check_unicast_src || unicast_peers.iter().any(|p| p.has_ttl_range()));
    // keepalived's auth_hmac anchors each unicast sender's replay state on its configured
    // peer, so an advert from any other address is refused, `check_unicast_src` or not; the
    // TTL range stays `check_unicast_src`'s.
    let hmac_peers_only = unicast && rx.auth_hmac.is_some() && !check_src;
    let rx_checks = RxChecks {
        peers: (check_src || hmac_peers_only).then(|| {
            unicast_peers
                .iter()
                .map(|p| {
                    let (min_ttl, max_ttl) = if check_src {
                        p.ttl_range()
                    } else {
                        (0, u8::MAX)
                    };
                    PeerFilter {
                        addr: p.address,
                        min_ttl,
                        max_ttl,
                    }
                })
                .collect()
        }),
        skip_check_adv_addr,
    };
    Ok(InstancePlan {
        fsm: Arc::new(fsm),
        interface: names.get(interface),
        ifindex: iface.ifindex,
        socket,
        socket_ifname: names.get(&iface.name),
        rx,
        rx_checks,
        tx: TxPlan {
            src,
            destinations,
            unicast,
            ttl: unicast_ttl
                .filter(|_| unicast)
                .unwrap_or(wire::VRRP_HOP_LIMIT),
            repr,
            v3_checksum,
        },
        vips,
        announce: AnnouncePlan {
            ifindex: vip_ifindex,
            ifname: vip_ifname,
            frames,
        },
        notify: notify_scripts(notify, config.global.script_user.as_ref())?
            .filter(|n| **n != NotifyScripts::default()),
        vmac,
        tracking: with_watched_interfaces(
            InstanceTrackers::of(config, inst),
            interface,
            virtual_addresses.iter().chain(excluded_addresses),
            virtual_routes,
            virtual_rules,
        ),
        config_fault: if awaits.is_some() {
            Some(ConfigFault::MissingInterface)
        } else {
            (unicast_fault_no_peer && !unicast).then_some(ConfigFault::NoUnicastPeer)
        },
        awaits_interface: awaits.is_some(),
        notify_priority_changes,
        dont_track_primary,
        // keepalived clears `track_src_ip` when no source is configured.
        track_src: track_src_ip && configured_src.is_some(),
        routing: Routing::boxed(virtual_routes, virtual_rules),
        vips_no_track: {
            let untracked: Vec<IpAddr> = virtual_addresses
                .iter()
                .chain(excluded_addresses)
                .filter(|v| v.no_track)
                .map(|v| v.addr)
                .collect();
            (!untracked.is_empty()).then(|| Box::new(untracked))
        },
        promote_secondaries,
    })
}

/// keepalived (vrrp.c `vrrp_complete_instance`) watches the other interfaces an instance's
/// addresses, routes and rules name, unless they say `no_track`: one going down puts the
/// instance in FAULT, as a tracked interface of weight 0 does.
fn with_watched_interfaces<'a>(
    mut trackers: InstanceTrackers,
    own: &str,
    addresses: impl Iterator<Item = &'a model::VirtualAddress>,
    routes: &[model::Route],
    rules: &[model::Rule],
) -> InstanceTrackers {
    let devs = addresses
        .filter(|a| !a.no_track)
        .filter_map(|a| a.dev.as_deref())
        .chain(
            routes
                .iter()
                .filter(|r| !r.no_track)
                .filter_map(|r| r.dev.as_deref()),
        )
        .chain(
            rules
                .iter()
                .filter(|r| !r.no_track)
                .flat_map(|r| [r.iif.as_deref(), r.oif.as_deref()])
                .flatten(),
        );
    for dev in devs {
        // The instance's own interface is watched already (its link state is the instance's).
        if dev == own {
            continue;
        }
        let id = TrackerId::new(TrackerKind::Interface, dev.to_owned());
        if trackers.tracked.iter().all(|t| t.id != id) {
            trackers.tracked.push(Tracked {
                id,
                weight: 0,
                reverse: false,
            });
        }
    }
    trackers
}

/// With `dynamic_interfaces`, the first interface the instance needs that does not exist
/// (its own, then its addresses' `dev`s; a VMAC is made by vigil and not looked up). keepalived
/// 2.4 creates a placeholder interface for such a name and runs the instance in FAULT until
/// the kernel reports it.
fn awaited_interface(
    config: &Config,
    inst: &Instance,
    facts: &dyn Fn(&str) -> Option<IfaceFacts>,
) -> Option<String> {
    if !config.global.dynamic_interfaces {
        return None;
    }
    std::iter::once(&inst.interface)
        .chain(
            inst.virtual_addresses
                .iter()
                .chain(&inst.excluded_addresses)
                .filter_map(|v| v.dev.as_ref()),
        )
        .filter(|name| inst.use_vmac.as_ref() != Some(*name))
        .find(|name| facts(name).is_none())
        .cloned()
}

/// Facts for an interface that does not exist yet: enough to plan a placeholder that never
/// sends, binds or installs anything.
fn placeholder_facts(name: &str) -> IfaceFacts {
    IfaceFacts {
        ifindex: 0,
        name: name.to_owned(),
        mac: [0; 6],
        up: false,
        primary_v4: Some(Ipv4Addr::UNSPECIFIED),
        link_local_v6: Some(Ipv6Addr::UNSPECIFIED),
        ipv6_forwarding: false,
    }
}

fn clamp_u8(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

pub(super) fn scope(s: model::Scope) -> AddrScope {
    match s {
        model::Scope::Global => AddrScope::Global,
        model::Scope::Site => AddrScope::Site,
        model::Scope::Link => AddrScope::Link,
        model::Scope::Host => AddrScope::Host,
        model::Scope::Nowhere => AddrScope::Nowhere,
    }
}

/// The scripts an instance's or sync group's `notify*` keywords configure, each run as its own
/// user or else as `script_user` (keepalived's notify_script_init / default script user).
fn notify_scripts(
    n: &model::Notify,
    default_user: Option<&model::RunAs>,
) -> Result<Option<Box<NotifyScripts>>, String> {
    let one = |s: &Option<model::NotifyScript>| -> Result<Option<Script>, String> {
        s.as_ref().map(|s| script(s, default_user)).transpose()
    };
    let model::Notify {
        master,
        backup,
        fault,
        stop,
        deleted,
        report_deleted,
        any,
        master_rx_lower_pri,
    } = n;
    Ok(Some(Box::new(NotifyScripts {
        master: one(master)?,
        backup: one(backup)?,
        fault: one(fault)?,
        stop: one(stop)?,
        // keepalived: `notify_deleted SCRIPT` implies `notify_deleted`.
        notify_deleted: *report_deleted || deleted.is_some(),
        deleted: one(deleted)?,
        master_rx_lower_pri: one(master_rx_lower_pri)?,
        any: one(any)?,
    })))
}

/// One configured script: split into argv (no shell), run as its own user or else as
/// `script_user`.
fn script(s: &model::NotifyScript, default_user: Option<&model::RunAs>) -> Result<Script, String> {
    let argv =
        split_command(&s.command).map_err(|e| format!("notify script {:?}: {e}", s.command))?;
    Ok(Script {
        argv,
        user: s
            .user
            .clone()
            .or_else(|| default_user.map(|u| u.user.clone())),
        group: s
            .group
            .clone()
            .or_else(|| default_user.and_then(|u| u.group.clone())),
    })
}

/// The notify FIFO (its owner: `notify_fifo`'s USER [GROUP], else `script_user`, as
/// keepalived) and its reader (`notify_fifo_script`), if configured. A reader without a FIFO
/// is ignored, as keepalived ignores it (it starts readers only for a FIFO it opened).
pub fn fifo_reader(config: &Config) -> Result<Option<(FifoSpec, Option<ReaderSpec>)>, PlanError> {
    let Some(f) = &config.global.notify_fifo else {
        return Ok(None);
    };
    let reader = f
        .script
        .as_ref()
        .map(|s| script(s, config.global.script_user.as_ref()))
        .transpose()
        .map_err(|message| PlanError {
            subject: "notify_fifo_script".into(),
            message,
        })?
        .map(|script| ReaderSpec { script });
    let owner = match (&f.user, &config.global.script_user) {
        (Some(user), _) => Some((user.clone(), f.group.clone())),
        (None, Some(u)) => Some((u.user.clone(), u.group.clone())),
        (None, None) => None,
    };
    let fifo = FifoSpec {
        path: PathBuf::from(&f.path),
        owner,
    };
    Ok(Some((fifo, reader)))
}
