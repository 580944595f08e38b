//! Packet codecs: VRRP v2/v3, authentication, checksums, gratuitous ARP and unsolicited NA.
//! Pure code: no sockets, no clock, no allocation except the parsed address list.
//!
//! Shape (smoltcp's `wire` style): a zero-copy view with checked accessors (`VrrpPacket`),
//! a representation with `parse` and `emit` into the caller's buffer (`VrrpRepr`,
//! `GratuitousArp`, `UnsolicitedNa`, `Ipv4Header`, `Ipv6Header`), one `Error` enum.
//!
//! The protocol numbers, groups and hop limit VRRP is defined by live in [`constants`], once;
//! `net` and `config` use them from there.
//!
//! What the daemon calls:
//! - receive: `peek_vrid_ipv4` / `peek_vrid_ipv6` to find the instance on a shared socket,
//!   then `parse_ipv4_advert(datagram, &RxContext)` or
//!   `parse_ipv6_advert(payload, src, dst, hop_limit, &RxContext)`, which run every
//!   RFC 5798 §7.1 (RFC 3768 §7.1 for v2) check that needs no instance state: TTL/hop limit,
//!   version, type, length, checksum, VRID != 0, v2 authentication (password, AH ICV and SPI).
//!   Instance-level checks (VRID match, address list, v2 interval match, AH replay, unicast
//!   peer filtering) are left to `fsm`/`daemon`.
//! - send: `emit_ipv4_advert` (whole datagram for `IP_HDRINCL`, AH included) or
//!   `VrrpRepr::emit` (IPv6 payload); `GratuitousArp::emit`, `UnsolicitedNa::emit`.
//!
//! Compatibility choices, all following keepalived 2.2.7 (see the golden tests):
//! - VRRPv3 over IPv4 is checksummed with the IPv4 pseudo-header by default; `V3Checksum`
//!   also covers `old_unicast_checksum` (224.0.0.18 as pseudo destination) and
//!   `v3_checksum_as_v2` (no pseudo-header; keepalived 2.2.8+, Cisco/Juniper).
//! - Trailing bytes after the address list are refused, as keepalived does.
//! - A count of 0 addresses is accepted (keepalived allows instances without VIPs), although
//!   RFC 5798 §5.2.5 says the minimum is 1.

pub mod advert;
pub mod arp;
pub mod auth;
pub mod auth_hmac;
pub mod checksum;
pub mod constants;
pub mod error;
pub mod ethernet;
pub mod ipv4;
pub mod ipv6;
pub mod ndisc;
pub mod vrrp;

pub use advert::{
    Ipv4Tx, Received, emit_ipv4_advert, ipv4_advert_len, parse_ipv4_advert, parse_ipv6_advert,
    peek_vrid_ipv4, peek_vrid_ipv6,
};
pub use arp::GratuitousArp;
pub use auth::{AhHeader, Auth, AuthKey};
pub use checksum::V3Checksum;
pub use constants::{IPPROTO_AH, IPPROTO_VRRP, VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_HOP_LIMIT};
pub use error::{Error, Layer};
pub use ethernet::MacAddr;
pub use ipv4::Ipv4Header;
pub use ipv6::Ipv6Header;
pub use ndisc::UnsolicitedNa;
pub use vrrp::{RxContext, VrrpPacket, VrrpRepr};
