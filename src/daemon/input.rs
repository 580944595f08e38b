//! Everything the core is told: one serialisable enum, so that `vigil run --record-events`
//! can write the stream down and `vigil replay` can feed it to a fresh core.

use std::net::{IpAddr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::drops::DropReason;
use super::plan::InstancePlan;
use crate::fsm::InstanceId;
use crate::notify::NotifyScripts;
use crate::track::{TrackerId, TrackerUpdate};
use crate::types::{Centis, Family, Priority};

/// One receive socket: an interface, an address family and an IP protocol (112, or 51 for
/// VRRPv2 with IPsec-AH). Every instance on that interface shares it (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SocketKey {
    pub ifindex: u32,
    pub family: Family,
    pub protocol: u8,
}

/// The instance a receive task routed a packet to, under the receive table of `generation`.
/// The core takes the id as it is when the generation is its own: the VRID is looked up once,
/// in the receive task. A packet routed by the table a reload just replaced is looked up again
/// by its VRID (rare: only the packets in flight at that moment), so a reload loses none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub generation: u64,
    pub id: InstanceId,
    pub vrid: u8,
}

/// An advertisement that passed every check of RFC 5798 §7.1 in the receive task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RxAdvert {
    pub src: IpAddr,
    pub priority: Priority,
    pub max_advert_int: Centis,
    /// The IPsec AH sequence number (VRRPv2 with AH), for the instance's replay check.
    #[serde(default)]
    pub ah_sequence: Option<u32>,
    /// Whether the address list is the configured one (RFC 5798 §7.1); the core decides
    /// whether that matters (`skip_check_adv_addr`, the address owner).
    #[serde(default = "yes")]
    pub addresses_match: bool,
    /// The verified `auth_hmac` trailer's sequence and the wall clock (UTC seconds) when the
    /// advert came, for the instance's replay check.
    #[serde(default)]
    pub hmac: Option<HmacSeen>,
}

/// What the core's `auth_hmac` replay check needs of a received advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HmacSeen {
    pub sequence: crate::wire::auth_hmac::Sequence,
    pub now_secs: u32,
}

fn yes() -> bool {
    true
}

/// What a receive task made of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Received {
    Advert {
        route: Route,
        advert: RxAdvert,
    },
    /// Dropped; `route` names the instance when the packet got as far as a configured VRID
    /// (a wrong password is that instance's problem), otherwise the socket counts it.
    Dropped {
        route: Option<Route>,
        reason: DropReason,
        /// The sender, when the packet got far enough to say (for the log).
        #[serde(default)]
        peer: Option<std::net::IpAddr>,
        /// The values that disagree (for the log, `drop_log.rs`).
        #[serde(default)]
        detail: Option<super::drop_log::DropDetail>,
    },
}

/// One interface as the kernel reported it when a configuration was prepared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFact {
    pub ifindex: u32,
    pub name: String,
    pub up: bool,
    /// Its IPv6 link-local addresses, and whether each is usable (duplicate address
    /// detection over): an IPv6 instance waits in Fault until its source is.
    #[serde(default)]
    pub link_locals: Vec<LinkLocalFact>,
}

/// An IPv6 link-local address as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLocalFact {
    pub addr: Ipv6Addr,
    /// Not tentative (RFC 4862 §5.4: DAD over) and not failed: the kernel lets a socket
    /// bind it.
    pub usable: bool,
}

/// A sync group, by member names, with its notify scripts (keepalived runs them when the
/// group as a whole changes state, with `GROUP NAME STATE 0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPlan {
    pub name: String,
    pub members: Vec<String>,
    /// Absent when the group has none (the FIFO still hears of its changes). Defaulted so
    /// that recordings made before groups had scripts still replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Box<NotifyScripts>>,
}

impl GroupPlan {
    /// The notify scripts (none configured: an empty set).
    pub fn notify_scripts(&self) -> &NotifyScripts {
        self.notify.as_deref().unwrap_or(&NotifyScripts::NONE)
    }
}

/// A configuration ready to run: planned against the kernel's interfaces, its VMACs and
/// sockets open (those live in the executor, keyed by name and [`SocketKey`]). The first start
/// is the reload of an empty core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    pub instances: Vec<InstancePlan>,
    pub sync_groups: Vec<GroupPlan>,
    /// The interfaces at preparation time; the core keeps what it has heard since.
    pub links: Vec<LinkFact>,
    /// Checkers with `init_fail`: down until they report otherwise.
    pub initially_down: Vec<TrackerId>,
    /// Addresses the kernel held when the configuration was prepared that one of its
    /// instances lists as a virtual address: what a starting instance compares against to
    /// remove the ones a previous run left behind (`residual.rs`).
    #[serde(default)]
    pub present_vips: Vec<PresentAddress>,
    /// keepalived `vrrp_startup_delay`: how long after the first start the instances wait
    /// before they start (`startup_delay.rs`).
    #[serde(default)]
    pub startup_delay: crate::types::Centis,
    /// keepalived `router_id`: this router's name in status and the dump files.
    #[serde(default)]
    pub router_id: Option<String>,
    /// `track_src_ip` sources the kernel did not hold when the configuration was prepared.
    #[serde(default)]
    pub absent_sources: Vec<IpAddr>,
}

/// An address found on an interface, by the interface's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PresentAddress {
    pub ifindex: u32,
    pub addr: IpAddr,
}

/// The kernel's links and addresses, read again after netlink events were lost (an overrun
/// of the event socket, or its stream ending): the core reconciles what it believes with it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KernelSnapshot {
    pub links: Vec<LinkFact>,
    /// Every address on every interface.
    pub addresses: Vec<PresentAddress>,
}

/// Everything the IO tasks tell the core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoreInput {
    /// Apply a configuration (the first start, or a SIGHUP's).
    Reload(Box<Prepared>),
    /// Deliver every timer that is due.
    Tick,
    /// A packet from a receive socket, or why it was dropped.
    Packet {
        socket: SocketKey,
        received: Received,
        /// When the kernel received it (`SO_TIMESTAMPNS`), on the driver's monotonic clock:
        /// the driver hands the core this time, not the time the loop got to the packet, so a
        /// Backup's Master_Down_Timer restarts when the advert arrived (RFC 5798 §6.4.2) and
        /// a failover is not late by the receive path's latency. Not recorded: a recording
        /// carries the time the core was given.
        #[serde(skip)]
        arrived: Option<std::time::Instant>,
    },
    /// An interface's state (netlink repeats it on any attribute change; the core debounces).
    Link {
        ifindex: u32,
        name: String,
        up: bool,
    },
    /// An interface was deleted.
    LinkRemoved { ifindex: u32, name: String },
    /// An address appeared or changed on an interface; `tentative` while duplicate address
    /// detection runs (IFA_F_TENTATIVE): netlink repeats RTM_NEWADDR when it ends.
    AddressAdded {
        ifindex: u32,
        addr: IpAddr,
        #[serde(default)]
        tentative: bool,
    },
    /// An address disappeared from an interface, perhaps a VIP an operator deleted.
    AddressRemoved { ifindex: u32, addr: IpAddr },
    /// A checker reported.
    Tracker(TrackerUpdate),
    /// Netlink events were lost: the kernel's state, read again after subscribing afresh.
    Resync(Box<KernelSnapshot>),
    /// RFC 5798 §6.4.2/§6.4.3 Shutdown of every instance.
    Shutdown,
    /// The operator drained (`drained`) or undrained an instance or sync group by name, or
    /// every instance (`name: None`); see `drain.rs`.
    Drain { name: Option<String>, drained: bool },
}
