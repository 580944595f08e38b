//! One call per direction for the daemon: a whole received datagram in, a validated advert
//! out (every RFC 5798 §7.1 / RFC 3768 §7.1 check that needs no instance state besides the
//! `RxContext`), and a whole IPv4 datagram out for `IP_HDRINCL` sockets.
//!
//! Left to the state machine / daemon, because they need instance state: the VRID lookup,
//! the address list comparison, the v2 interval match, the AH sequence number replay check
//! (`Received::ah` carries it) and unicast peer filtering.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::auth::{self, AH_HEADER_LEN, AUTH_AH, AhHeader, Auth};
use super::auth_hmac::{self, HmacKey, Mode, Sequence, Signer, TRAILER_LEN, Trailer};
use super::checksum::{self, V3Checksum};
use super::constants::{IPPROTO_AH, IPPROTO_VRRP, VRRP_HOP_LIMIT};
use super::error::{Error, room};
use super::ipv4::{self, Ipv4Header};
use super::vrrp::{self, RxContext, VrrpRepr};
use crate::types::Family;

/// A validated advertisement and the IP-level facts the daemon still needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (none for IPv6).
    pub ip_id: Option<u16>,
    /// The AH header of a v2 AH advert, ICV and SPI already verified; the sequence number
    /// is for the instance's replay check.
    pub ah: Option<AhHeader>,
    /// The `auth_hmac` trailer, HMAC verified; its sequence is for the time window and the
    /// instance's replay check. `None` without one (accepted only outside `mode enforce`).
    #[serde(default)]
    pub hmac: Option<Trailer>,
    pub vrrp: VrrpRepr,
}

/// Splits an `auth_hmac` trailer off `bytes` (a VRRP message and what follows it), as
/// keepalived detects it: by length alone, exactly the message's length plus 28 bytes, and
/// only for an instance that has `auth_hmac`.
fn split_trailer<'a>(bytes: &'a [u8], family: Family, ctx: &RxContext) -> (&'a [u8], &'a [u8]) {
    if ctx.auth_hmac.is_none() {
        return (bytes, &[]);
    }
    let version = match bytes.first().map(|b| b >> 4) {
        Some(2) => crate::types::Version::V2,
        Some(3) => crate::types::Version::V3,
        _ => ctx.version,
    };
    let count = usize::from(bytes.get(3).copied().unwrap_or(0));
    let message = vrrp::message_len(version, family, count);
    if bytes.len() == message + TRAILER_LEN {
        bytes.split_at_checked(message).unwrap_or((bytes, &[]))
    } else {
        (bytes, &[])
    }
}

/// keepalived's `auth_hmac` receive check, on a message that passed every other check: a
/// trailer is verified if present, and required under `mode enforce`.
fn check_hmac(
    ctx: &RxContext,
    src: IpAddr,
    repr: &VrrpRepr,
    message: &[u8],
    trailer: &[u8],
) -> Result<Option<Trailer>, Error> {
    let Some(config) = &ctx.auth_hmac else {
        return Ok(None);
    };
    if trailer.is_empty() {
        return match config.mode {
            Mode::Enforce => Err(Error::HmacMissing),
            Mode::Permissive | Mode::ReceiveOnly => Ok(None),
        };
    }
    let parsed = Trailer::parse(trailer)?;
    let signer = Signer {
        version: repr.version,
        vrid: repr.vrid,
        src,
    };
    auth_hmac::verify(config, &signer, message, &parsed)?;
    Ok(Some(parsed))
}

/// The VRID of a received IPv4 datagram, without validation: for demultiplexing on a socket
/// shared by every VRID, before the instance's `RxContext` is known.
pub fn peek_vrid_ipv4(datagram: &[u8]) -> Option<u8> {
    let ihl = usize::from(datagram.first()? & 0x0f) * 4;
    let ah = if *datagram.get(9)? == IPPROTO_AH {
        AH_HEADER_LEN
    } else {
        0
    };
    datagram.get(ihl + ah + 1).copied()
}

/// The VRID of a received IPv6 VRRP payload, without validation.
pub fn peek_vrid_ipv6(payload: &[u8]) -> Option<u8> {
    payload.get(1).copied()
}

/// RFC 5798 §7.1: MUST verify that the IPv4 TTL / IPv6 hop limit is 255. keepalived skips
/// this for unicast peers, whose adverts may cross routers.
fn check_ttl(ttl: u8, ctx: &RxContext) -> Result<(), Error> {
    if !ctx.unicast && ttl != VRRP_HOP_LIMIT {
        return Err(Error::BadTtl(ttl));
    }
    Ok(())
}

/// Parses and validates a whole IPv4 datagram as delivered by a raw IPPROTO_VRRP or
/// IPPROTO_AH socket.
pub fn parse_ipv4_advert(datagram: &[u8], ctx: &RxContext) -> Result<Received, Error> {
    let ip = Ipv4Header::parse(datagram)?;
    let header = ip.header;
    let (ah, vrrp_bytes) = match header.protocol {
        IPPROTO_VRRP => (None, ip.payload),
        IPPROTO_AH => {
            let ah = AhHeader::parse(ip.payload)?;
            (Some(ah), ip.payload.get(AH_HEADER_LEN..).unwrap_or(&[]))
        }
        other => return Err(Error::BadProtocol(other)),
    };
    check_ttl(header.ttl, ctx)?;

    // RFC 2338 §7.1: MUST perform the configured authentication; keepalived refuses an AH
    // header it does not expect and a missing one it does, before looking further.
    match (&ah, &ctx.auth) {
        (Some(_), Auth::Ah(_)) | (None, Auth::None | Auth::Password(_)) => {}
        (Some(_), expected) => {
            return Err(Error::AuthTypeMismatch {
                found: AUTH_AH,
                expected: expected.type_number(),
            });
        }
        (None, Auth::Ah(_)) => {
            return Err(Error::BadAhHeader(
                "missing, the instance expects IPsec AH".into(),
            ));
        }
    }
    if let (Some(ah), Auth::Ah(key)) = (&ah, &ctx.auth) {
        // The ICV first: nothing else in the datagram can be trusted before it verifies.
        let ah_bytes = ip.payload.get(..AH_HEADER_LEN).unwrap_or(&[]);
        if !auth::ah_verify(key, ip.header_bytes, ah_bytes, vrrp_bytes, ctx.unicast) {
            return Err(Error::BadAhIcv);
        }
        // keepalived's convention: the SPI is the sender's address.
        if ah.spi != u32::from(header.src) {
            return Err(Error::BadAhSpi {
                spi: ah.spi,
                src: IpAddr::V4(header.src),
            });
        }
    }

    let (src, dst) = (IpAddr::V4(header.src), IpAddr::V4(header.dst));
    let (message, trailer) = split_trailer(vrrp_bytes, Family::V4, ctx);
    let vrrp = VrrpRepr::parse_before_trailer(message, trailer, src, dst, ctx)?;
    let hmac = check_hmac(ctx, src, &vrrp, message, trailer)?;
    Ok(Received {
        src,
        dst,
        ttl: header.ttl,
        ip_id: Some(header.id),
        ah,
        hmac,
        vrrp,
    })
}

/// Parses and validates the VRRP payload of an IPv6 datagram; the addresses and hop limit
/// come from the socket (`recvmsg` source address, IPV6_PKTINFO, IPV6_HOPLIMIT).
pub fn parse_ipv6_advert(
    payload: &[u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    ctx: &RxContext,
) -> Result<Received, Error> {
    check_ttl(hop_limit, ctx)?;
    let (src, dst) = (IpAddr::V6(src), IpAddr::V6(dst));
    let (message, trailer) = split_trailer(payload, Family::V6, ctx);
    let vrrp = VrrpRepr::parse_before_trailer(message, trailer, src, dst, ctx)?;
    let hmac = check_hmac(ctx, src, &vrrp, message, trailer)?;
    Ok(Received {
        src,
        dst,
        ttl: hop_limit,
        ip_id: None,
        ah: None,
        hmac,
        vrrp,
    })
}

/// What an IPv4 advert's headers carry besides the VRRP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv4Tx {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// 255 for multicast (RFC 5798 §5.1.1.3); may differ for unicast peers.
    pub ttl: u8,
    /// IPv4 identification; keepalived never sends 0 (the kernel would fill one in).
    pub id: u16,
    /// AH sequence number (v2 AH only): starts at 1, one more per advert.
    pub ah_sequence: u32,
    pub v3_checksum: V3Checksum,
    /// Unicast peers: the AH ICV is computed with the TTL zeroed.
    pub unicast: bool,
}

/// What signs an advert with keepalived's `auth_hmac`: the active key and the sequence.
#[derive(Debug, Clone, Copy)]
pub struct HmacTx<'a> {
    pub key: &'a HmacKey,
    pub sequence: Sequence,
}

/// The length of the whole IPv4 datagram for `repr`.
pub fn ipv4_advert_len(repr: &VrrpRepr) -> usize {
    let ah = if matches!(repr.auth, Auth::Ah(_)) {
        AH_HEADER_LEN
    } else {
        0
    };
    ipv4::MIN_HEADER_LEN + ah + repr.buffer_len_for(Family::V4)
}

/// The length of the whole IPv4 datagram for `repr`, with an `auth_hmac` trailer if `signed`.
pub fn ipv4_advert_len_signed(repr: &VrrpRepr, signed: bool) -> usize {
    ipv4_advert_len(repr) + if signed { TRAILER_LEN } else { 0 }
}

/// Writes a whole IPv4 datagram (header, AH if `repr.auth` is `Auth::Ah`, VRRP message) for
/// an `IP_HDRINCL` socket; returns its length.
pub fn emit_ipv4_advert(buf: &mut [u8], repr: &VrrpRepr, tx: &Ipv4Tx) -> Result<usize, Error> {
    emit_ipv4_advert_signed(buf, repr, tx, None)
}

/// [`emit_ipv4_advert`], followed by an `auth_hmac` trailer when `hmac` is given. The IPv4
/// total length counts the trailer; the VRRP checksum does not (keepalived's layout).
pub fn emit_ipv4_advert_signed(
    buf: &mut [u8],
    repr: &VrrpRepr,
    tx: &Ipv4Tx,
    hmac: Option<&HmacTx<'_>>,
) -> Result<usize, Error> {
    if hmac.is_some() && repr.auth != Auth::None {
        return Err(Error::HmacWithLegacyAuth);
    }
    let total = ipv4_advert_len_signed(repr, hmac.is_some());
    room(buf, total)?;
    let buf = buf.get_mut(..total).unwrap_or(&mut []);
    let key = match &repr.auth {
        Auth::Ah(key) => Some(key),
        Auth::None | Auth::Password(_) => None,
    };
    let protocol = if key.is_some() {
        IPPROTO_AH
    } else {
        IPPROTO_VRRP
    };
    let header = Ipv4Header::for_advert(
        tx.src,
        tx.dst,
        tx.ttl,
        tx.id,
        protocol,
        total - ipv4::MIN_HEADER_LEN,
    );

    let (ip_bytes, rest) =
        buf.split_at_mut_checked(ipv4::MIN_HEADER_LEN)
            .ok_or(Error::BufferTooSmall {
                len: 0,
                needed: total,
            })?;
    header.emit(ip_bytes)?;
    let ah_len = if key.is_some() { AH_HEADER_LEN } else { 0 };
    let (ah_bytes, vrrp_bytes) = rest
        .split_at_mut_checked(ah_len)
        .unwrap_or((&mut [], &mut []));
    let written = repr.emit(
        vrrp_bytes,
        IpAddr::V4(tx.src),
        IpAddr::V4(tx.dst),
        tx.v3_checksum,
    )?;
    if let Some(hmac) = hmac {
        sign_after(vrrp_bytes, written, total, repr, IpAddr::V4(tx.src), hmac)?;
    }
    if let Some(key) = key {
        let mut ah = AhHeader {
            next_header: IPPROTO_VRRP,
            spi: u32::from(tx.src),
            sequence: tx.ah_sequence,
            icv: [0; 12],
        };
        ah.emit(ah_bytes)?;
        ah.icv = auth::ah_icv(key, ip_bytes, ah_bytes, vrrp_bytes, tx.unicast);
        ah.emit(ah_bytes)?;
    }
    Ok(total)
}

/// Signs the VRRP message in `bytes[..written]` and writes the `auth_hmac` trailer after it
/// (`total` is the packet's whole length, for the error).
fn sign_after(
    bytes: &mut [u8],
    written: usize,
    total: usize,
    repr: &VrrpRepr,
    src: IpAddr,
    hmac: &HmacTx<'_>,
) -> Result<(), Error> {
    let (message, trailer) = bytes
        .split_at_mut_checked(written)
        .ok_or(Error::BufferTooSmall {
            len: 0,
            needed: total,
        })?;
    let signer = Signer {
        version: repr.version,
        vrid: repr.vrid,
        src,
    };
    auth_hmac::sign(hmac.key, &signer, message, hmac.sequence).emit(trailer)?;
    Ok(())
}

/// Writes the VRRP payload of an IPv6 advert, followed by an `auth_hmac` trailer when `hmac`
/// is given; returns its length. The checksum then covers the trailer, as the kernel's does
/// for keepalived (`IPV6_CHECKSUM`).
pub fn emit_ipv6_advert(
    buf: &mut [u8],
    repr: &VrrpRepr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    v3_checksum: V3Checksum,
    hmac: Option<&HmacTx<'_>>,
) -> Result<usize, Error> {
    let (src, dst) = (IpAddr::V6(src), IpAddr::V6(dst));
    let Some(hmac) = hmac else {
        return repr.emit(buf, src, dst, v3_checksum);
    };
    let total = repr.buffer_len_for(Family::V6) + TRAILER_LEN;
    room(buf, total)?;
    let buf = buf.get_mut(..total).unwrap_or(&mut []);
    let written = repr.emit(buf, src, dst, v3_checksum)?;
    sign_after(buf, written, total, repr, src, hmac)?;
    // The HMAC read the checksum as zero; now the checksum covers the trailer.
    let pseudo = vrrp::pseudo_header_sum(repr.version, src, dst, total, v3_checksum);
    let mut packet = vrrp::VrrpPacket::new_unchecked(&mut *buf);
    packet.set_checksum(0);
    let sum = checksum::finish(checksum::accumulate(pseudo, packet.into_inner()));
    vrrp::VrrpPacket::new_unchecked(&mut *buf).set_checksum(sum);
    Ok(total)
}

#[cfg(test)]
mod tests;
