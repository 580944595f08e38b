//! The core: one `fsm::Node` holding every instance, fed by every IO task, deciding in one
//! place and handing each decision to an [`Effects`] implementation.
//!
//! The core reads no clock and touches no socket: `now` comes with each call, effects go
//! through the trait. The daemon's driver (`driver.rs`) supplies real time and
//! `SystemEffects`; tests supply a virtual time and `RecordingEffects`.
//!
//! What the core adds to the pure state machine is the receive side of RFC 5798 §7.1 that
//! needs per-instance configuration (VRID demultiplexing, the v2 interval check), counting
//! every dropped packet by reason in one place, and the status snapshot.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::control::{InstanceStatus, Status};
use crate::fsm::{Action, AdvertRx, Input, InstanceId, Node, State, Time};
use crate::notify::NotifyState;
use crate::types::{Centis, Family, Priority, Version, Vrid};

/// One receive socket: an interface, an address family and an IP protocol (112, or 51 for
/// VRRPv2 with IPsec-AH). Every instance on that interface shares it (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketKey {
    pub ifindex: u32,
    pub family: Family,
    pub protocol: u8,
}

/// An advertisement that passed the packet-level checks (TTL, version, type, checksum,
/// authentication) in the receive task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxAdvert {
    pub src: IpAddr,
    pub version: Version,
    pub vrid: u8,
    pub priority: Priority,
    pub max_advert_int: Centis,
    pub addresses: Vec<IpAddr>,
}

/// A packet the receive task dropped, and the VRID it named if its header got that far: a
/// packet for a configured VRID that fails a check (TTL, authentication, checksum) is counted
/// against that instance, anything else against its socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub vrid: Option<u8>,
    /// A `wire::Error::reason()` or one of the receive task's own reasons.
    pub reason: &'static str,
}

impl Dropped {
    /// A drop that names no instance (too short to hold a VRID, or an unknown VRID).
    pub const fn socket(reason: &'static str) -> Self {
        Self { vrid: None, reason }
    }
}

/// Everything the IO tasks tell the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A packet from a receive socket, or the reason it was dropped before it reached here.
    Packet {
        socket: SocketKey,
        result: Result<RxAdvert, Dropped>,
    },
    /// An interface changed (netlink): down puts its instances in Fault.
    Link { ifindex: u32, up: bool },
    /// An address disappeared from an interface (netlink), perhaps a VIP an operator deleted.
    AddressRemoved { ifindex: u32, addr: IpAddr },
    /// A tracker's verdict for one instance.
    Tracker {
        instance: InstanceId,
        weight_sum: i32,
        faulted: bool,
    },
}

/// What the core needs to know about an instance besides its state machine.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub interface: String,
    pub ifindex: u32,
    pub socket: SocketKey,
    pub vrid: Vrid,
    pub version: Version,
    pub virtual_addresses: Vec<IpAddr>,
    /// Display form of the virtual addresses (with prefix length) for status.
    pub virtual_display: Vec<String>,
}

/// Carries out the core's decisions. Implementations must keep per-instance order: the
/// core calls them in the order the state machine emitted the actions.
pub trait Effects {
    fn send_advert(&mut self, id: InstanceId, priority: Priority);
    fn install_vips(&mut self, id: InstanceId);
    fn remove_vips(&mut self, id: InstanceId);
    fn announce(&mut self, id: InstanceId, count: u8);
    fn notify(&mut self, id: InstanceId, state: NotifyState, priority: Priority);
    /// Put back one virtual address an administrator removed while this instance is Master.
    fn restore_vip(&mut self, id: InstanceId, addr: IpAddr);
}

/// Per-instance counters, carried across a reload with the instance.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    transitions: u64,
    adverts_sent: u64,
    adverts_received: u64,
    drops: BTreeMap<String, u64>,
    last_master: Option<IpAddr>,
}

pub struct Core<E: Effects> {
    node: Node,
    bindings: Vec<Binding>,
    counters: Vec<Counters>,
    by_vrid: HashMap<(SocketKey, u8), InstanceId>,
    /// Drops that could not be pinned on an instance (unknown VRID, malformed header).
    socket_drops: BTreeMap<String, u64>,
    effects: E,
}

impl<E: Effects> Core<E> {
    /// `bindings[i]` describes the instance `InstanceId(i)` of `node`.
    pub fn new(node: Node, bindings: Vec<Binding>, effects: E) -> Self {
        let by_vrid = bindings
            .iter()
            .enumerate()
            .map(|(i, b)| ((b.socket, b.vrid.get()), InstanceId(i)))
            .collect();
        let counters = vec![Counters::default(); bindings.len()];
        Self {
            node,
            bindings,
            counters,
            by_vrid,
            socket_drops: BTreeMap::new(),
            effects,
        }
    }

    pub fn effects(&self) -> &E {
        &self.effects
    }

    pub fn effects_mut(&mut self) -> &mut E {
        &mut self.effects
    }

    pub fn into_effects(self) -> E {
        self.effects
    }

    /// Takes the core apart for a reload: the node (to carry instances over), each
    /// instance's counters, the socket-level drops and the effects.
    pub fn into_parts(self) -> (Node, Vec<Counters>, BTreeMap<String, u64>, E) {
        (self.node, self.counters, self.socket_drops, self.effects)
    }

    /// Builds a core from a reload's parts; `counters[i]` belongs to `InstanceId(i)`.
    pub fn from_parts(
        node: Node,
        bindings: Vec<Binding>,
        mut counters: Vec<Counters>,
        socket_drops: BTreeMap<String, u64>,
        effects: E,
    ) -> Self {
        counters.resize(bindings.len(), Counters::default());
        let mut core = Self::new(node, bindings, effects);
        core.counters = counters;
        core.socket_drops = socket_drops;
        core
    }

    /// RFC 5798 §6.4.1 Startup for some instances (those a reload added).
    pub fn start_some(&mut self, now: Time, ids: &[InstanceId]) {
        for &id in ids {
            let actions = self.node.handle(now, id, Input::Startup);
            self.apply(actions);
        }
    }

    /// RFC 5798 §6.4.3 Shutdown for one instance (one a reload removes or restarts).
    pub fn shutdown_one(&mut self, now: Time, id: InstanceId) {
        let actions = self.node.handle(now, id, Input::Shutdown);
        self.apply(actions);
    }

    /// Carries out actions decided outside `handle` (a reload's in-place reconfiguration).
    pub fn apply_actions(&mut self, actions: Vec<(InstanceId, Action)>) {
        self.apply(actions);
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    pub fn next_deadline(&self) -> Option<Time> {
        self.node.next_deadline()
    }

    /// RFC 5798 §6.4.1: the Startup event for every instance.
    pub fn start(&mut self, now: Time) {
        let actions = self.node.handle_all(now, Input::Startup);
        self.apply(actions);
    }

    /// RFC 5798 §6.4.3: Shutdown. Masters send priority 0 and remove their addresses.
    pub fn shutdown(&mut self, now: Time) {
        let actions = self.node.handle_all(now, Input::Shutdown);
        self.apply(actions);
    }

    /// Delivers expired timers.
    pub fn tick(&mut self, now: Time) {
        let actions = self.node.tick(now);
        self.apply(actions);
    }

    pub fn handle(&mut self, now: Time, event: Event) {
        match event {
            Event::Packet { socket, result } => self.on_packet(now, socket, result),
            Event::Link { ifindex, up } => {
                let input = if up { Input::LinkUp } else { Input::LinkDown };
                for id in self.ids_on(ifindex) {
                    let actions = self.node.handle(now, id, input);
                    self.apply(actions);
                }
            }
            Event::AddressRemoved { ifindex, addr } => {
                for id in self.ids_on(ifindex) {
                    let mine = self.bindings[id.0].virtual_addresses.contains(&addr);
                    if mine && self.state(id) == State::Master {
                        tracing::warn!(
                            instance = %self.bindings[id.0].name,
                            %addr,
                            "virtual address removed from the interface while master: restoring it"
                        );
                        self.effects.restore_vip(id, addr);
                    }
                }
            }
            Event::Tracker {
                instance,
                weight_sum,
                faulted,
            } => {
                let actions = self.node.handle(
                    now,
                    instance,
                    Input::TrackerChanged {
                        weight_sum,
                        faulted,
                    },
                );
                self.apply(actions);
            }
        }
    }

    fn ids_on(&self, ifindex: u32) -> Vec<InstanceId> {
        (0..self.bindings.len())
            .filter(|&i| self.bindings[i].ifindex == ifindex)
            .map(InstanceId)
            .collect()
    }

    fn state(&self, id: InstanceId) -> State {
        self.node
            .instance(id)
            .map_or(State::Initialize, |i| i.state())
    }

    fn on_packet(&mut self, now: Time, socket: SocketKey, result: Result<RxAdvert, Dropped>) {
        let advert = match result {
            Ok(advert) => advert,
            Err(dropped) => {
                let owner = dropped
                    .vrid
                    .and_then(|vrid| self.by_vrid.get(&(socket, vrid)).copied());
                let counts = match owner {
                    Some(id) => &mut self.counters[id.0].drops,
                    None => &mut self.socket_drops,
                };
                *counts.entry(dropped.reason.to_string()).or_default() += 1;
                return;
            }
        };
        let Some(&id) = self.by_vrid.get(&(socket, advert.vrid)) else {
            // RFC 5798 §7.1: a VRID this router is not configured for is discarded.
            *self.socket_drops.entry("unknown_vrid".into()).or_default() += 1;
            return;
        };
        if let Err(reason) = self.check_for_instance(id, &advert) {
            *self.counters[id.0].drops.entry(reason.into()).or_default() += 1;
            return;
        }
        let c = &mut self.counters[id.0];
        c.adverts_received += 1;
        if advert.priority != Priority::STOP {
            c.last_master = Some(advert.src);
        }
        let rx = AdvertRx {
            src: advert.src,
            priority: advert.priority,
            max_advert_int: advert.max_advert_int,
        };
        let actions = self.node.handle(now, id, Input::Advert(rx));
        self.apply(actions);
    }

    /// The RFC 5798 §7.1 / RFC 3768 §7.1 checks that need the instance's configuration.
    fn check_for_instance(&self, id: InstanceId, advert: &RxAdvert) -> Result<(), &'static str> {
        let binding = &self.bindings[id.0];
        if advert.version != binding.version {
            return Err("version_mismatch");
        }
        let Some(instance) = self.node.instance(id) else {
            return Err("unknown_vrid");
        };
        if advert.src == instance.config().primary_addr {
            // Our own advertisement looped back (unicast to ourselves, or a bridge echo).
            return Err("own_advert");
        }
        // RFC 3768 §7.1: a v2 advertisement whose interval differs from ours MUST be
        // discarded. v3 backups learn the master's interval instead (RFC 5798 §6.4.2).
        if binding.version == Version::V2 && advert.max_advert_int != instance.config().advert_int {
            return Err("interval_mismatch");
        }
        Ok(())
    }

    fn apply(&mut self, actions: Vec<(InstanceId, Action)>) {
        for (id, action) in actions {
            let Some(binding) = self.bindings.get(id.0) else {
                continue;
            };
            match action {
                Action::SendAdvert { priority } => {
                    self.counters[id.0].adverts_sent += 1;
                    self.effects.send_advert(id, priority);
                }
                Action::InstallVips => self.effects.install_vips(id),
                Action::RemoveVips => self.effects.remove_vips(id),
                Action::Announce { count, .. } => self.effects.announce(id, count),
                Action::Transition { from, to, reason } => {
                    let priority = self
                        .node
                        .instance(id)
                        .map_or(Priority::STOP, |i| i.effective_priority());
                    tracing::info!(
                        instance = %binding.name,
                        interface = %binding.interface,
                        vrid = binding.vrid.get(),
                        %from,
                        %to,
                        %reason,
                        "transition"
                    );
                    self.counters[id.0].transitions += 1;
                    let note = match (to, reason) {
                        (State::Master, _) => Some(NotifyState::Master),
                        (State::Backup, _) => Some(NotifyState::Backup),
                        (State::Fault, _) => Some(NotifyState::Fault),
                        (State::Initialize, crate::fsm::Reason::Shutdown) => {
                            Some(NotifyState::Stop)
                        }
                        (State::Initialize, _) => None,
                    };
                    if let Some(state) = note {
                        self.effects.notify(id, state, priority);
                    }
                }
            }
        }
    }

    /// The snapshot `vigil status` serves.
    pub fn status(&self, config: &str) -> Status {
        let instances = self
            .bindings
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let inst = self.node.instance(InstanceId(i));
                let c = &self.counters[i];
                let state = inst.map_or(State::Initialize, |x| x.state());
                InstanceStatus {
                    name: b.name.clone(),
                    interface: b.interface.clone(),
                    vrid: b.vrid.get(),
                    version: b.version.number(),
                    family: match b.socket.family {
                        Family::V4 => "ipv4".into(),
                        Family::V6 => "ipv6".into(),
                    },
                    state: state.to_string(),
                    base_priority: inst.map_or(0, |x| x.config().priority.get()),
                    effective_priority: inst.map_or(0, |x| x.effective_priority().get()),
                    master: if state == State::Master {
                        inst.map(|x| x.config().primary_addr.to_string())
                    } else {
                        c.last_master.map(|a| a.to_string())
                    },
                    advert_interval_centis: inst.map_or(0, |x| x.master_adver_interval().get()),
                    master_down_interval_ms: inst
                        .map_or(0, |x| x.master_down_interval().as_millis() as u64),
                    virtual_addresses: b.virtual_display.clone(),
                    transitions: c.transitions,
                    adverts_sent: c.adverts_sent,
                    adverts_received: c.adverts_received,
                    drops: c.drops.clone(),
                }
            })
            .collect();
        Status {
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            config: config.into(),
            instances,
            socket_drops: self.socket_drops.clone(),
        }
    }
}
