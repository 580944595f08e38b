//! keepalived's `auth_hmac` (2.4.1 and later): an authenticated trailer after the VRRP
//! message, for VRRPv2 and v3, IPv4 and IPv6, multicast and unicast alike. Facts from
//! keepalived's `vrrp_auth_hmac.c` / `vrrp.c` (v2.4.3), none of its code:
//!
//! ```text
//!  VRRP message (header, addresses, v2 auth data) | trailer, 28 bytes:
//!   0      1       2               4                8         10       12          28
//!   | type | key id | reserved (0) | seconds (UTC) | fraction | counter | HMAC (16) |
//! ```
//!
//! - `type` 1: HMAC-SHA-256 (RFC 2104, FIPS 180-4) truncated to its leftmost 128 bits.
//! - `key id` picks the receiver's key (1..=255); a sender signs with its `active_key`.
//! - seconds / fraction (1/65536 s) / counter form one 64-bit sequence, big-endian: the sender's
//!   wall clock, or the last value plus one when the clock has not moved ([`next_sequence`]).
//! - The HMAC covers a 20-byte pseudo-header (4 or 6, the VRRP version, the VRID, a zero byte,
//!   the sender's address, zero-padded), then the VRRP message with its checksum field read as
//!   zero, then the first 12 trailer bytes, then 16 zero bytes where the HMAC goes. The IP
//!   header is not covered; the pseudo-header ties the packet to its claimed source, VRID and
//!   version, so a packet cannot be moved between instances that share a key.
//! - A receiver detects the trailer by length alone: exactly the message's length plus 28.
//! - The VRRP checksum: over IPv4 it covers the message only (the trailer is outside, and the
//!   pseudo-header length is the message's); over IPv6 keepalived lets the kernel checksum the
//!   whole payload (`IPV6_CHECKSUM`), so it covers the trailer and the length includes it.
//!
//! Pure: the wall clock and the replay state belong to the caller.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::{Error, Layer, need, room};
use crate::types::{Family, Version, Vrid};

/// The trailer's length on the wire.
pub const TRAILER_LEN: usize = 28;
/// The truncated HMAC's length (128 bits).
pub const TAG_LEN: usize = 16;
/// The trailer's bytes before the HMAC.
pub const PREFIX_LEN: usize = TRAILER_LEN - TAG_LEN;
/// The only scheme keepalived defines: HMAC-SHA-256-128.
pub const EXT_TYPE_SHA256: u8 = 1;
/// keepalived's key length bounds, in bytes (a 32-byte floor since 2.4.0).
pub const KEY_MIN: usize = 32;
pub const KEY_MAX: usize = 64;
/// keepalived's `time_window` bounds, in seconds, and the floor of the derived default.
pub const WINDOW_MIN: u16 = 1;
pub const WINDOW_MAX: u16 = 300;
pub const WINDOW_FLOOR: u16 = 5;
/// The pseudo-header's length.
const PSEUDO_LEN: usize = 20;
/// Where the VRRP checksum sits in the message (RFC 5798 §5.1).
const CHECKSUM_AT: usize = 6;

/// A key's secret bytes: never printed, never serialised (a recorded plan carries none; a
/// replay does not sign or verify).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret(Arc<[u8]>);

impl Secret {
    pub fn new(bytes: &[u8]) -> Self {
        Self(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// One configured key: its id on the wire and its secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HmacKey {
    pub id: u8,
    #[serde(skip)]
    pub secret: Secret,
}

/// keepalived's `mode`: how a group migrates to authenticated adverts without a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Verify a trailer when one comes, send none, accept adverts without one.
    ReceiveOnly,
    /// Sign every advert, and still accept adverts without a trailer.
    Permissive,
    /// Sign every advert, and accept only adverts with a valid trailer (the default).
    #[default]
    Enforce,
}

impl Mode {
    pub const fn signs(self) -> bool {
        !matches!(self, Mode::ReceiveOnly)
    }
}

/// An instance's `auth_hmac`, as the wire code and the daemon use it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuthHmac {
    /// Every key a received trailer may name, by id.
    pub keys: Vec<HmacKey>,
    /// The id adverts are signed with (always one of `keys`).
    pub active_key: u8,
    pub mode: Mode,
    /// `anti_replay time`: the freshness window in seconds (a trailer whose seconds differ
    /// from the receiver's clock by more is stale). `None`: `anti_replay monotonic`, where
    /// only a growing sequence per sender is required.
    pub time_window: Option<u16>,
}

impl AuthHmac {
    pub fn key(&self, id: u8) -> Option<&HmacKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    pub fn active(&self) -> Option<&HmacKey> {
        self.key(self.active_key)
    }

    /// Whether a trailer timestamped `secs` is outside the window around `now_secs` (both UTC
    /// seconds, compared modulo 2^32 as keepalived does). Never stale without a window.
    pub fn is_stale(&self, secs: u32, now_secs: u32) -> bool {
        self.time_window
            .is_some_and(|w| skew(now_secs, secs).unsigned_abs() > u32::from(w))
    }
}

/// `now - then` in seconds, as a signed 32-bit difference (serial arithmetic).
pub fn skew(now_secs: u32, then_secs: u32) -> i32 {
    now_secs.wrapping_sub(then_secs) as i32
}

/// The 64-bit sequence: seconds in the high 32 bits, then a 16-bit binary fraction of a
/// second, then a 16-bit counter.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct Sequence(pub u64);

impl Sequence {
    /// A wall-clock reading with the counter zero.
    pub fn from_clock(unix_secs: u64, nanos: u32) -> Self {
        let fraction = (u64::from(nanos.min(999_999_999)) << 16) / 1_000_000_000;
        Self((unix_secs & 0xffff_ffff) << 32 | fraction << 16)
    }

    pub const fn secs(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// RFC 1982 serial-number order over 64 bits: `self` comes after `other`.
    pub const fn after(self, other: Sequence) -> bool {
        (self.0.wrapping_sub(other.0) as i64) > 0
    }
}

/// The sender's next sequence: the clock if it is ahead of the last one sent, else the last
/// plus one (so it grows even when the clock does not). With a time window, a last value
/// more than a window ahead of the clock (a clock stepped back) is abandoned for the clock:
/// receivers would find it stale anyway.
pub fn next_sequence(last: Sequence, clock: Sequence, window: Option<u16>) -> Sequence {
    if clock.after(last) {
        return clock;
    }
    let ahead = skew(last.secs(), clock.secs());
    match window {
        Some(w) if ahead > i32::from(w) => clock,
        _ => Sequence(last.0.wrapping_add(1)),
    }
}

/// A parsed trailer, HMAC not yet checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Trailer {
    pub ext_type: u8,
    pub key_id: u8,
    pub reserved: u16,
    pub sequence: Sequence,
    pub tag: [u8; TAG_LEN],
}

impl Trailer {
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        need(Layer::Vrrp, buf, TRAILER_LEN)?;
        let mut b = [0u8; TRAILER_LEN];
        b.copy_from_slice(buf.get(..TRAILER_LEN).unwrap_or(&[0; TRAILER_LEN]));
        let [t, k, r0, r1, s0, s1, s2, s3, f0, f1, c0, c1, tag @ ..] = b;
        let secs = u32::from_be_bytes([s0, s1, s2, s3]);
        let low = u32::from_be_bytes([f0, f1, c0, c1]);
        Ok(Self {
            ext_type: t,
            key_id: k,
            reserved: u16::from_be_bytes([r0, r1]),
            sequence: Sequence(u64::from(secs) << 32 | u64::from(low)),
            tag,
        })
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        room(buf, TRAILER_LEN)?;
        let mut b = [0u8; TRAILER_LEN];
        b[0] = self.ext_type;
        b[1] = self.key_id;
        b[2..4].copy_from_slice(&self.reserved.to_be_bytes());
        b[4..12].copy_from_slice(&self.sequence.0.to_be_bytes());
        b[12..].copy_from_slice(&self.tag);
        if let Some(dst) = buf.get_mut(..TRAILER_LEN) {
            dst.copy_from_slice(&b);
        }
        Ok(())
    }

    fn prefix(&self) -> [u8; PREFIX_LEN] {
        let mut b = [0u8; TRAILER_LEN];
        let with_zero_tag = Trailer {
            tag: [0; TAG_LEN],
            ..*self
        };
        // Cannot fail: `b` is exactly TRAILER_LEN long.
        let _ = with_zero_tag.emit(&mut b);
        let mut p = [0u8; PREFIX_LEN];
        p.copy_from_slice(&b[..PREFIX_LEN]);
        p
    }
}

/// Who signed: what the pseudo-header binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    pub version: Version,
    pub vrid: Vrid,
    pub src: IpAddr,
}

impl Signer {
    fn pseudo_header(&self) -> [u8; PSEUDO_LEN] {
        let mut p = [0u8; PSEUDO_LEN];
        p[1] = self.version.number();
        p[2] = self.vrid.get();
        match self.src {
            IpAddr::V4(a) => {
                p[0] = 4;
                p[4..8].copy_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                p[0] = 6;
                p[4..20].copy_from_slice(&a.octets());
            }
        }
        p
    }

    pub fn family(&self) -> Family {
        match self.src {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// HMAC-SHA-256 keyed with `key`. RFC 2104 §2 pads a short key and hashes a long one, so
/// any key length is valid: the fixed-size initialiser always gets one block.
fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        use sha2::Digest;
        let digest = Sha256::digest(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        for (slot, byte) in block.iter_mut().zip(key) {
            *slot = *byte;
        }
    }
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

/// The keyed MAC over the pseudo-header, `message` (checksum read as zero) and the trailer
/// with a zero HMAC, ready to finalise or verify.
fn trailer_mac(key: &[u8], signer: &Signer, message: &[u8], trailer: &Trailer) -> Hmac<Sha256> {
    let mut mac = hmac_sha256(key);
    mac.update(&signer.pseudo_header());
    mac.update(message.get(..CHECKSUM_AT).unwrap_or(message));
    if message.len() > CHECKSUM_AT {
        mac.update(&[0, 0]);
        mac.update(message.get(CHECKSUM_AT + 2..).unwrap_or(&[]));
    }
    mac.update(&trailer.prefix());
    mac.update(&[0u8; TAG_LEN]);
    mac
}

/// The truncated HMAC a trailer over `message` must carry.
pub fn tag(key: &[u8], signer: &Signer, message: &[u8], trailer: &Trailer) -> [u8; TAG_LEN] {
    let full = trailer_mac(key, signer, message, trailer)
        .finalize()
        .into_bytes();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(full.get(..TAG_LEN).unwrap_or(&[0; TAG_LEN]));
    out
}

/// Builds the signed trailer for `message`, sent by `signer` with `key` at `sequence`.
pub fn sign(key: &HmacKey, signer: &Signer, message: &[u8], sequence: Sequence) -> Trailer {
    let mut trailer = Trailer {
        ext_type: EXT_TYPE_SHA256,
        key_id: key.id,
        reserved: 0,
        sequence,
        tag: [0; TAG_LEN],
    };
    trailer.tag = tag(key.secret.as_bytes(), signer, message, &trailer);
    trailer
}

/// Checks a received trailer in keepalived's order: its type and reserved field, the key id,
/// then the HMAC (in constant time). The time window and the replay check need the clock and
/// the sender's last sequence: they are the caller's ([`AuthHmac::is_stale`]).
pub fn verify(
    config: &AuthHmac,
    signer: &Signer,
    message: &[u8],
    trailer: &Trailer,
) -> Result<(), Error> {
    if trailer.ext_type != EXT_TYPE_SHA256 || trailer.reserved != 0 {
        return Err(Error::HmacMalformed {
            ext_type: trailer.ext_type,
            reserved: trailer.reserved,
        });
    }
    let secs = trailer.sequence.secs();
    let key = config.key(trailer.key_id).ok_or(Error::HmacUnknownKey {
        key_id: trailer.key_id,
        secs,
    })?;
    trailer_mac(key.secret.as_bytes(), signer, message, trailer)
        .verify_truncated_left(&trailer.tag)
        .map_err(|_| Error::HmacBadTag { secs })
}

#[cfg(test)]
mod tests;
