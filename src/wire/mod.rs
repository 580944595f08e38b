//! Packet codecs: VRRP v2/v3, authentication, checksums, gratuitous ARP and unsolicited NA.
//! Pure code: no sockets, no clock.

pub mod auth;
pub mod checksum;
pub mod error;

pub use auth::{Auth, AuthKey};
pub use checksum::V3Checksum;
pub use error::{Error, Layer};
pub mod vrrp;
pub use vrrp::{RxContext, VrrpPacket, VrrpRepr};
pub mod advert;
pub mod ipv4;
pub use advert::{
    Ipv4Tx, Received, emit_ipv4_advert, ipv4_advert_len, parse_ipv4_advert, parse_ipv6_advert,
    peek_vrid_ipv4, peek_vrid_ipv6,
};
pub use ipv4::Ipv4Header;
pub mod arp;
pub mod ethernet;
pub use arp::GratuitousArp;
pub use ethernet::MacAddr;
pub mod ipv6;
pub mod ndisc;
pub use ipv6::Ipv6Header;
pub use ndisc::UnsolicitedNa;
