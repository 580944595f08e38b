//! The VRRP advertisement: a zero-copy view (`VrrpPacket`) and its meaning (`VrrpRepr`).
//!
//! ```text
//!  RFC 3768 §5.1 (v2)                       RFC 5798 §5.1 / RFC 9568 §5.1 (v3)
//!  0       4       8              16              24              32
//!  |Ver=2|Type=1| VRID        | Priority     | Count IP Addrs |      (same first word)
//!  | Auth Type    | Adver Int (s) | Checksum                   |  v2
//!  | Rsvd(4)| Max Adver Int (cs, 12 bits)   | Checksum        |  v3
//!  | IPv4 / IPv6 address(es) ...                              |
//!  | Authentication Data (8 bytes, v2 only)                  |
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::auth::{AUTH_AH, AUTH_DATA_LEN, AUTH_NONE, AUTH_PASSWORD, Auth, AuthKey};
use super::auth_hmac::AuthHmac;
use super::checksum::{self, V3Checksum};
use super::constants::{IPPROTO_VRRP, VRRP_GROUP_V4};
use super::error::{Error, Layer, need, room};
use crate::types::{Centis, Family, Priority, Version, Vrid};

/// The fixed part of every VRRP message.
pub const HEADER_LEN: usize = 8;
/// RFC 5798 §5.2.2: the only message type.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// RFC 5798 §5.2.7: the 12-bit Max Adver Int field.
pub const MAX_V3_INTERVAL: u32 = 0x0fff;

mod field {
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    pub const AUTH_TYPE: usize = 4;
    pub const ADVER_INT_V2: usize = 5;
    pub const MAX_ADVER_INT: usize = 4;
    pub const CHECKSUM: usize = 6;
}

const fn address_len(family: Family) -> usize {
    match family {
        Family::V4 => 4,
        Family::V6 => 16,
    }
}

/// The length a VRRP message of this version, family and address count must have.
pub const fn message_len(version: Version, family: Family, count: usize) -> usize {
    let auth = match version {
        Version::V2 => AUTH_DATA_LEN,
        Version::V3 => 0,
    };
    HEADER_LEN + count * address_len(family) + auth
}

/// A read/write view over a buffer holding a VRRP message. Accessors never panic: on a
/// buffer shorter than a field they read zero (use `new_checked` to refuse such buffers).
#[derive(Debug, Clone)]
pub struct VrrpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VrrpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer that holds at least the fixed header.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        need(Layer::Vrrp, buffer.as_ref(), HEADER_LEN)?;
        Ok(Self { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, index: usize) -> u8 {
        self.buffer.as_ref().get(index).copied().unwrap_or(0)
    }

    fn word(&self, index: usize) -> u16 {
        u16::from_be_bytes([self.byte(index), self.byte(index + 1)])
    }

    pub fn version(&self) -> u8 {
        self.byte(field::VER_TYPE) >> 4
    }

    pub fn msg_type(&self) -> u8 {
        self.byte(field::VER_TYPE) & 0x0f
    }

    pub fn vrid(&self) -> u8 {
        self.byte(field::VRID)
    }

    pub fn priority(&self) -> u8 {
        self.byte(field::PRIORITY)
    }

    pub fn count(&self) -> u8 {
        self.byte(field::COUNT)
    }

    /// v2 only: the Auth Type field.
    pub fn auth_type(&self) -> u8 {
        self.byte(field::AUTH_TYPE)
    }

    /// v2 only: Adver Int in seconds.
    pub fn adver_int_secs(&self) -> u8 {
        self.byte(field::ADVER_INT_V2)
    }

    /// v3 only: Max Adver Int in centiseconds; RFC 5798 §5.2.6 says the 4 reserved bits are
    /// ignored on reception.
    pub fn max_adver_int(&self) -> u16 {
        self.word(field::MAX_ADVER_INT) & 0x0fff
    }

    pub fn checksum(&self) -> u16 {
        self.word(field::CHECKSUM)
    }

    /// The raw address list for `count()` addresses of `family`, if the buffer holds it.
    pub fn address_bytes(&self, family: Family) -> Option<&[u8]> {
        let len = usize::from(self.count()) * address_len(family);
        self.buffer.as_ref().get(HEADER_LEN..HEADER_LEN + len)
    }

    /// v2 only: the 8 bytes after the address list.
    pub fn auth_data(&self) -> Option<&[u8]> {
        let start = HEADER_LEN + usize::from(self.count()) * address_len(Family::V4);
        self.buffer.as_ref().get(start..start + AUTH_DATA_LEN)
    }

    /// The checksum the message should carry, computed with the field taken as zero.
    pub fn compute_checksum(&self, pseudo_header_sum: u32) -> u16 {
        let buf = self.buffer.as_ref();
        let mut sum =
            checksum::accumulate(pseudo_header_sum, buf.get(..field::CHECKSUM).unwrap_or(&[]));
        sum = checksum::accumulate(sum, buf.get(field::CHECKSUM + 2..).unwrap_or(&[]));
        checksum::finish(sum)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VrrpPacket<T> {
    fn set_byte(&mut self, index: usize, value: u8) {
        if let Some(slot) = self.buffer.as_mut().get_mut(index) {
            *slot = value;
        }
    }

    fn set_word(&mut self, index: usize, value: u16) {
        let [hi, lo] = value.to_be_bytes();
        self.set_byte(index, hi);
        self.set_byte(index + 1, lo);
    }

    pub fn set_version_type(&mut self, version: u8, msg_type: u8) {
        self.set_byte(field::VER_TYPE, (version << 4) | (msg_type & 0x0f));
    }

    pub fn set_vrid(&mut self, vrid: u8) {
        self.set_byte(field::VRID, vrid);
    }

    pub fn set_priority(&mut self, priority: u8) {
        self.set_byte(field::PRIORITY, priority);
    }

    pub fn set_count(&mut self, count: u8) {
        self.set_byte(field::COUNT, count);
    }

    pub fn set_auth_type(&mut self, auth_type: u8) {
        self.set_byte(field::AUTH_TYPE, auth_type);
    }

    pub fn set_adver_int_secs(&mut self, secs: u8) {
        self.set_byte(field::ADVER_INT_V2, secs);
    }

    /// Writes the 12-bit interval with the reserved bits zero (RFC 5798 §5.2.6).
    pub fn set_max_adver_int(&mut self, centis: u16) {
        self.set_word(field::MAX_ADVER_INT, centis & 0x0fff);
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.set_word(field::CHECKSUM, value);
    }

    /// Mutable access to everything after the fixed header.
    pub fn body_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }

    /// Computes and writes the checksum (call last).
    pub fn fill_checksum(&mut self, pseudo_header_sum: u32) {
        let sum = self.compute_checksum(pseudo_header_sum);
        self.set_checksum(sum);
    }
}

/// What a receiver knows before looking at a message: the instance's version and
/// authentication, and how its peers checksum VRRPv3 over IPv4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RxContext {
    pub version: Version,
    /// The VRRPv2 authentication this instance expects (must be `Auth::None` for v3).
    pub auth: Auth,
    pub v3_checksum: V3Checksum,
    /// The instance talks to unicast peers: keepalived then skips the TTL = 255 check
    /// (routers may decrement it) and zeroes the TTL in the AH ICV.
    pub unicast: bool,
    /// keepalived's `auth_hmac`: the keys a trailer is verified with, and whether one is
    /// required ([`super::auth_hmac`]).
    #[serde(default)]
    pub auth_hmac: Option<Arc<AuthHmac>>,
}

impl RxContext {
    /// The same expectations apart from `auth_hmac`'s keys and settings, which a reload may
    /// rotate without making the instance another router (keepalived's key rotation).
    pub fn same_except_keys(&self, other: &RxContext) -> bool {
        // Destructured so that a new field is a compile error here, not a silent carry.
        let RxContext {
            version,
            auth,
            v3_checksum,
            unicast,
            auth_hmac,
        } = self;
        *version == other.version
            && *auth == other.auth
            && *v3_checksum == other.v3_checksum
            && *unicast == other.unicast
            && auth_hmac.is_some() == other.auth_hmac.is_some()
    }

    /// A multicast instance without authentication, using the RFC 5798 checksum.
    pub fn new(version: Version) -> Self {
        Self {
            version,
            auth: Auth::None,
            v3_checksum: V3Checksum::PseudoHeader,
            unicast: false,
            auth_hmac: None,
        }
    }
}

/// The family both ends of a datagram share; VRRP never mixes them.
pub fn family_of(src: IpAddr, dst: IpAddr) -> Result<Family, Error> {
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Ok(Family::V4),
        (IpAddr::V6(_), IpAddr::V6(_)) => Ok(Family::V6),
        _ => Err(Error::WrongFamily(
            "source and destination addresses differ in family".into(),
        )),
    }
}

/// The sum of the pseudo-header a VRRP message between `src` and `dst` is checksummed with.
pub fn pseudo_header_sum(
    version: Version,
    src: IpAddr,
    dst: IpAddr,
    len: usize,
    mode: V3Checksum,
) -> u32 {
    match (version, src, dst) {
        // RFC 3768 §5.3.8: the v2 checksum covers the VRRP message only.
        (Version::V2, _, _) => 0,
        (Version::V3, IpAddr::V4(_), _) if mode == V3Checksum::WithoutPseudoHeader => 0,
        // RFC 5798 §5.2.8: the message plus the pseudo-header, next header 112.
        (Version::V3, IpAddr::V4(s), IpAddr::V4(_))
            if mode == V3Checksum::PseudoHeaderMulticastDst =>
        {
            checksum::pseudo_header_v4(
                s,
                VRRP_GROUP_V4,
                IPPROTO_VRRP,
                u16::try_from(len).unwrap_or(u16::MAX),
            )
        }
        (Version::V3, IpAddr::V4(s), IpAddr::V4(d)) => {
            checksum::pseudo_header_v4(s, d, IPPROTO_VRRP, u16::try_from(len).unwrap_or(u16::MAX))
        }
        (Version::V3, IpAddr::V6(s), IpAddr::V6(d)) => {
            checksum::pseudo_header_v6(s, d, IPPROTO_VRRP, u32::try_from(len).unwrap_or(u32::MAX))
        }
        _ => 0,
    }
}

/// A decoded, validated VRRP advertisement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpRepr {
    pub version: Version,
    pub vrid: Vrid,
    pub priority: Priority,
    /// v3 Max Adver Int, or the v2 Adver Int converted from seconds.
    pub max_advert_int: Centis,
    /// All of one family: IPv4 for v2, the datagram's family for v3.
    pub addresses: Vec<IpAddr>,
    /// v2 only; `Auth::None` for v3. For AH, the key the caller verified the ICV with.
    pub auth: Auth,
}

impl VrrpRepr {
    /// Decodes and validates the VRRP message `buf` received from `src` to `dst`: every check
    /// of RFC 5798 §7.1 (RFC 3768 §7.1 for v2) that needs no instance state besides `ctx`,
    /// except the TTL and the AH ICV, which live in the IP layer (`advert` does both).
    pub fn parse(buf: &[u8], src: IpAddr, dst: IpAddr, ctx: &RxContext) -> Result<Self, Error> {
        Self::parse_before_trailer(buf, &[], src, dst, ctx)
    }

    /// [`VrrpRepr::parse`] of a message followed by an `auth_hmac` trailer: over IPv6 the
    /// checksum covers the trailer too (keepalived has the kernel checksum the whole payload),
    /// over IPv4 it covers the message only.
    pub fn parse_before_trailer(
        buf: &[u8],
        trailer: &[u8],
        src: IpAddr,
        dst: IpAddr,
        ctx: &RxContext,
    ) -> Result<Self, Error> {
        let family = family_of(src, dst)?;
        let packet = VrrpPacket::new_checked(buf)?;

        // RFC 5798 §7.1: MUST verify the VRRP version.
        let found = packet.version();
        if found != ctx.version.number() {
            return Err(Error::BadVersion {
                found,
                expected: ctx.version.number(),
            });
        }
        if ctx.version == Version::V2 && family == Family::V6 {
            return Err(Error::WrongFamily(
                "VRRPv2 runs over IPv4 only (RFC 3768)".into(),
            ));
        }
        // RFC 5798 §5.2.2: a packet with an unknown type MUST be discarded.
        if packet.msg_type() != TYPE_ADVERTISEMENT {
            return Err(Error::BadType(packet.msg_type()));
        }
        // RFC 5798 §7.1: MUST verify that the packet holds the complete message, fixed fields
        // and addresses. Like keepalived we also refuse trailing bytes: they would mean the
        // count disagrees with what the sender meant.
        let count = packet.count();
        let expected = message_len(ctx.version, family, usize::from(count));
        if buf.len() != expected {
            return Err(Error::AddressCountMismatch {
                count,
                len: buf.len(),
                expected,
            });
        }
        // RFC 5798 §7.1: MUST verify the VRRP checksum.
        let covered = match family {
            Family::V6 => trailer,
            Family::V4 => &[],
        };
        let pseudo = pseudo_header_sum(
            ctx.version,
            src,
            dst,
            buf.len() + covered.len(),
            ctx.v3_checksum,
        );
        // Both lengths are even, so the trailer's words add in like the message's.
        let computed = packet.compute_checksum(checksum::accumulate(pseudo, covered));
        if computed != packet.checksum() {
            return Err(Error::BadChecksum {
                found: packet.checksum(),
                computed,
            });
        }
        let vrid = Vrid::new(packet.vrid()).ok_or(Error::ZeroVrid)?;

        let (max_advert_int, auth) = match ctx.version {
            Version::V2 => (
                Centis::from_secs(u32::from(packet.adver_int_secs())),
                check_v2_auth(&packet, ctx)?,
            ),
            Version::V3 => (Centis::new(u32::from(packet.max_adver_int())), Auth::None),
        };
        let addresses = decode_addresses(packet.address_bytes(family).unwrap_or(&[]), family);
        Ok(Self {
            version: ctx.version,
            vrid,
            priority: Priority::new(packet.priority()),
            max_advert_int,
            addresses,
            auth,
        })
    }

    /// The family of the address list, or `None` if it is empty or mixed.
    fn address_family(&self) -> Option<Family> {
        let mut families = self.addresses.iter().map(|a| match a {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        });
        let first = families.next()?;
        families.all(|f| f == first).then_some(first)
    }

    /// The encoded length for a datagram of `family`.
    pub fn buffer_len_for(&self, family: Family) -> usize {
        message_len(self.version, family, self.addresses.len())
    }

    /// The encoded length, taking the family from the address list (IPv4 if empty).
    pub fn buffer_len(&self) -> usize {
        self.buffer_len_for(self.address_family().unwrap_or(Family::V4))
    }

    /// Encodes into `buf` (at least `buffer_len()` bytes) for a datagram from `src` to `dst`,
    /// checksum included; returns the number of bytes written.
    pub fn emit(
        &self,
        buf: &mut [u8],
        src: IpAddr,
        dst: IpAddr,
        v3_checksum: V3Checksum,
    ) -> Result<usize, Error> {
        let family = family_of(src, dst)?;
        if !self.addresses.is_empty() && self.address_family() != Some(family) {
            return Err(Error::WrongFamily(
                "the address list must match the datagram's family".into(),
            ));
        }
        if self.version == Version::V2 && family == Family::V6 {
            return Err(Error::WrongFamily(
                "VRRPv2 runs over IPv4 only (RFC 3768)".into(),
            ));
        }
        let count = u8::try_from(self.addresses.len())
            .map_err(|_| Error::TooManyAddresses(self.addresses.len()))?;
        let len = self.buffer_len_for(family);
        room(buf, len)?;
        let buf = buf.get_mut(..len).unwrap_or(&mut []);

        let mut packet = VrrpPacket::new_unchecked(&mut *buf);
        packet.set_version_type(self.version.number(), TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid.get());
        packet.set_priority(self.priority.get());
        packet.set_count(count);
        packet.set_checksum(0);
        match self.version {
            Version::V2 => {
                // RFC 3768 §5.3.7: Adver Int is in whole seconds.
                let centis = self.max_advert_int.get();
                let secs = u8::try_from(centis / 100)
                    .ok()
                    .filter(|s| centis % 100 == 0 && *s > 0);
                let secs = secs.ok_or(Error::IntervalNotWholeSeconds(self.max_advert_int))?;
                packet.set_auth_type(self.auth.type_number());
                packet.set_adver_int_secs(secs);
            }
            Version::V3 => {
                if self.auth != Auth::None {
                    return Err(Error::AuthOnV3);
                }
                let centis = u16::try_from(self.max_advert_int.get())
                    .ok()
                    .filter(|c| u32::from(*c) <= MAX_V3_INTERVAL)
                    .ok_or(Error::IntervalTooLarge(self.max_advert_int))?;
                packet.set_max_adver_int(centis);
            }
        }
        let body = packet.body_mut();
        let mut chunks = body.chunks_exact_mut(address_len(family));
        for (slot, address) in (&mut chunks).zip(&self.addresses) {
            match address {
                IpAddr::V4(a) => slot.copy_from_slice(&a.octets()),
                IpAddr::V6(a) => slot.copy_from_slice(&a.octets()),
            }
        }
        if self.version == Version::V2 {
            let auth_data = body.get_mut(usize::from(count) * 4..).unwrap_or(&mut []);
            // RFC 2338 §5.3.10: the password in clear for type 1; zero otherwise.
            match &self.auth {
                Auth::Password(key) => auth_data.copy_from_slice(key.as_bytes()),
                Auth::None | Auth::Ah(_) => auth_data.fill(0),
            }
        }
        let pseudo = pseudo_header_sum(self.version, src, dst, len, v3_checksum);
        VrrpPacket::new_unchecked(&mut *buf).fill_checksum(pseudo);
        Ok(len)
    }

    /// `emit` into a new vector.
    pub fn to_vec(
        &self,
        src: IpAddr,
        dst: IpAddr,
        v3_checksum: V3Checksum,
    ) -> Result<Vec<u8>, Error> {
        let family = family_of(src, dst)?;
        let mut buf = vec![0; self.buffer_len_for(family)];
        self.emit(&mut buf, src, dst, v3_checksum)?;
        Ok(buf)
    }
}

/// RFC 3768 §7.1 / RFC 2338 §7.1: MUST perform the authentication the instance is configured
/// for; an unknown type or a type other than ours is refused.
fn check_v2_auth<T: AsRef<[u8]>>(packet: &VrrpPacket<T>, ctx: &RxContext) -> Result<Auth, Error> {
    let found = packet.auth_type();
    if !matches!(found, AUTH_NONE | AUTH_PASSWORD | AUTH_AH) {
        return Err(Error::UnknownAuthType(found));
    }
    let expected = ctx.auth.type_number();
    if found != expected {
        return Err(Error::AuthTypeMismatch { found, expected });
    }
    match &ctx.auth {
        Auth::Password(key) => {
            let data = packet.auth_data().unwrap_or(&[]);
            if !key.ct_eq(data) {
                return Err(Error::BadPassword);
            }
            Ok(Auth::Password(AuthKey::from_password(data)))
        }
        // RFC 3768 §5.3.10: Authentication Data is ignored on reception for the other types.
        other => Ok(other.clone()),
    }
}

fn decode_addresses(bytes: &[u8], family: Family) -> Vec<IpAddr> {
    match family {
        Family::V4 => bytes
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(|o| IpAddr::V4(Ipv4Addr::from(o)))
            .collect(),
        Family::V6 => bytes
            .chunks_exact(16)
            .filter_map(|c| <[u8; 16]>::try_from(c).ok())
            .map(|o| IpAddr::V6(Ipv6Addr::from(o)))
            .collect(),
    }
}

#[cfg(test)]
mod tests;
