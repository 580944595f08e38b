//! Linux IO adapters: the edge where `fsm`'s decisions become packets and kernel state.
//!
//! - [`socket`]: raw VRRP sockets, one per (interface, family[, protocol]), shared by every
//!   VRID on the interface; async `recv` / `send_to` over tokio's `AsyncFd`.
//! - [`netlink`]: rtnetlink commands: link lookup, addresses (batched), macvlan VMACs.
//! - [`events`]: link and address notifications on a separate multicast netlink connection.
//! - [`announce`]: AF_PACKET sending of the GARP / NA frames `wire` builds.
//! - [`netns`]: entering a network namespace (`net_namespace`; lab tests).
//! - [`firewall`]: the nftables table that drops traffic to a no-accept master's VIPs.
//! - [`sysctl`]: the per-interface /proc/sys parameters VMACs need.
//! - [`heap`]: returning the heap a configuration's parsing freed to the kernel.
//! - [`address_batch`]: virtual addresses added in one datagram, without a round trip.
//! - [`timerfd`]: the driver's sub-millisecond timer (a timerfd on the reactor).
//!
//! Nothing here knows VRRP fields: it moves bytes and kernel objects. The only `unsafe` of the
//! crate lives in this module (socket options and AF_PACKET addresses that socket2 and nix do
//! not cover, `AsyncFd::register`, the timerfd syscalls, and glibc's `malloc_trim`), each with the reason it is
//! sound.

pub mod address;
pub mod address_batch;
pub mod announce;
pub mod error;
pub mod events;
pub mod firewall;
pub mod heap;
pub mod netlink;
pub mod netns;
pub mod routing;
pub mod sched;
pub mod socket;
pub mod sysctl;
pub mod timerfd;

pub use address::{AddrScope, AddressExtra, AddressInfo, AddressSpec};
pub use announce::Announcer;
pub use error::NetError;
pub use events::{NetEvent, NetlinkEvents};
pub use netlink::{
    BATCH_WINDOW, LinkInfo, Netlink, VmacSpec, eui64_link_local, ipv6_link_local_of,
    primary_ipv4_of, virtual_mac,
};
/// The IFA_F_* address flags, for [`AddressSpec::flags`].
pub use rtnetlink::packet_route::address::AddressFlags;
pub use socket::{IpProtocol, Received, VrrpSocket};
// Defined in `wire::constants`; re-exported because sockets are opened and joined with them.
pub use crate::wire::constants::{
    IPPROTO_AH, IPPROTO_VRRP, VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_HOP_LIMIT,
};
