//! Why a packet or frame was refused. One variant per kind of malformed input, each carrying
//! what a log line or a drop counter needs; `reason()` gives a stable label for metrics.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::types::Centis;

/// A static explanation that still deserialises into an owned value (for replayed inputs).
pub type Why = Cow<'static, str>;

/// The protocol layer an error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layer {
    Ipv4,
    Ah,
    Vrrp,
    Ethernet,
    Arp,
    Ipv6,
    Icmpv6,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Ipv4 => "IPv4 datagram",
            Layer::Ah => "IPsec AH header",
            Layer::Vrrp => "VRRP message",
            Layer::Ethernet => "Ethernet frame",
            Layer::Arp => "ARP packet",
            Layer::Ipv6 => "IPv6 packet",
            Layer::Icmpv6 => "ICMPv6 message",
        })
    }
}

/// A decoding, validation or encoding failure. Receive errors travel to the core as data
/// (`Input::Advert(Err(..))`), hence `Clone + Serialize`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    #[error("{what} too short: {len} bytes, need at least {needed}")]
    TooShort {
        what: Layer,
        len: usize,
        needed: usize,
    },

    #[error("not an IPv4 header: version field is {0}")]
    BadIpVersion(u8),
    #[error("IPv4 header length {0} bytes is below the 20-byte minimum")]
    BadIpHeaderLength(usize),
    #[error("IPv4 total length {total} does not match the {received} bytes received")]
    BadIpTotalLength { total: u16, received: usize },
    #[error("IPv4 header checksum 0x{found:04x} is wrong (computed 0x{computed:04x})")]
    BadIpChecksum { found: u16, computed: u16 },
    #[error("IPv4 fragment (flags/offset 0x{0:04x}): VRRP adverts are never fragmented")]
    Fragmented(u16),
    #[error("IP protocol {0} is neither VRRP (112) nor AH (51)")]
    BadProtocol(u8),
    #[error("TTL/hop limit {0}, RFC 5798 §7.1 requires 255")]
    BadTtl(u8),

    #[error("VRRP version {found}, expected {expected}")]
    BadVersion { found: u8, expected: u8 },
    #[error("VRRP type {0}, only 1 (ADVERTISEMENT) exists")]
    BadType(u8),
    #[error("VRID 0 is not valid (RFC 5798 §5.2.3)")]
    ZeroVrid,
    #[error("VRRP checksum 0x{found:04x} is wrong (computed 0x{computed:04x})")]
    BadChecksum { found: u16, computed: u16 },
    #[error(
        "VRRP count says {count} addresses but the message is {len} bytes, expected {expected}"
    )]
    AddressCountMismatch {
        count: u8,
        len: usize,
        expected: usize,
    },
    #[error("address family mismatch: {0}")]
    WrongFamily(Why),

    #[error("unknown VRRPv2 authentication type {0}")]
    UnknownAuthType(u8),
    #[error("VRRPv2 authentication type {found}, this instance expects {expected}")]
    AuthTypeMismatch { found: u8, expected: u8 },
    #[error("VRRPv2 simple password does not match")]
    BadPassword,
    #[error("IPsec AH header malformed: {0}")]
    BadAhHeader(Why),
    #[error("IPsec AH ICV (HMAC-MD5-96) does not match")]
    BadAhIcv,
    #[error("IPsec AH SPI {spi:#010x} is not the sender address {src}")]
    BadAhSpi { spi: u32, src: IpAddr },

    #[error("auth_hmac: no authentication trailer, and the instance's mode is enforce")]
    HmacMissing,
    #[error("auth_hmac: malformed trailer (type {ext_type}, reserved {reserved:#06x})")]
    HmacMalformed { ext_type: u8, reserved: u16 },
    /// `secs`: the trailer's timestamp, for a caller that counts a stale trailer first.
    #[error("auth_hmac: trailer names key id {key_id}, which is not configured")]
    HmacUnknownKey { key_id: u8, secs: u32 },
    #[error("auth_hmac: the trailer's HMAC does not match")]
    HmacBadTag { secs: u32 },

    #[error("{what} is not a gratuitous ARP / unsolicited NA: {why}")]
    NotAnnouncement { what: Layer, why: Why },
    #[error("ICMPv6 checksum 0x{found:04x} is wrong (computed 0x{computed:04x})")]
    BadIcmpChecksum { found: u16, computed: u16 },

    #[error("cannot encode: buffer of {len} bytes, need {needed}")]
    BufferTooSmall { len: usize, needed: usize },
    #[error("cannot encode: {0} addresses, the count field holds at most 255")]
    TooManyAddresses(usize),
    #[error("cannot encode advertisement interval {0} as VRRPv2 whole seconds 1..=255")]
    IntervalNotWholeSeconds(Centis),
    #[error("cannot encode advertisement interval {0}: VRRPv3 holds at most 40.95s")]
    IntervalTooLarge(Centis),
    #[error("cannot encode: authentication exists only in VRRPv2")]
    AuthOnV3,
    #[error("cannot encode: auth_hmac replaces VRRPv2 authentication, it cannot carry both")]
    HmacWithLegacyAuth,
}

/// Checks that `buf` holds at least `needed` bytes.
pub(crate) fn need(what: Layer, buf: &[u8], needed: usize) -> Result<(), Error> {
    if buf.len() < needed {
        return Err(Error::TooShort {
            what,
            len: buf.len(),
            needed,
        });
    }
    Ok(())
}

/// Checks that an output buffer can take `needed` bytes.
pub(crate) fn room(buf: &[u8], needed: usize) -> Result<(), Error> {
    if buf.len() < needed {
        return Err(Error::BufferTooSmall {
            len: buf.len(),
            needed,
        });
    }
    Ok(())
}
