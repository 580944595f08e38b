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
