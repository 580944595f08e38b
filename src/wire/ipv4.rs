//! The IPv4 header, as raw IPv4 sockets deliver it on receive and as the daemon writes it with
//! `IP_HDRINCL` on send (so that the AH ICV covers exactly the header that goes out).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::checksum;
use super::error::{Error, Layer, need, room};

/// A header without options.
pub const MIN_HEADER_LEN: usize = 20;
/// keepalived's TOS for adverts: precedence 6, "internetwork control".
pub const TOS_NETWORK_CONTROL: u8 = 0xc0;

const FLAG_MF: u16 = 0x2000;
const FRAGMENT_OFFSET: u16 = 0x1fff;

/// The fields of an IPv4 header VRRP cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL × 4), options included.
    pub header_len: u8,
    pub tos: u8,
    pub total_len: u16,
    pub id: u16,
    /// Flags and fragment offset as on the wire.
    pub flags_fragment: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: u16,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
}

/// A parsed datagram: the header, its raw bytes (options included) and the payload.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Datagram<'a> {
    pub header: Ipv4Header,
    pub header_bytes: &'a [u8],
    pub payload: &'a [u8],
}

impl Ipv4Header {
    /// A VRRP advert header the way keepalived builds it: no options, TOS 0xc0, no
    /// fragmentation flags. `payload_len` counts everything after the IPv4 header.
    pub fn for_advert(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        id: u16,
        protocol: u8,
        payload_len: usize,
    ) -> Self {
        let total = MIN_HEADER_LEN.saturating_add(payload_len);
        Self {
            header_len: MIN_HEADER_LEN as u8,
            tos: TOS_NETWORK_CONTROL,
            total_len: u16::try_from(total).unwrap_or(u16::MAX),
            id,
            flags_fragment: 0,
            ttl,
            protocol,
            checksum: 0,
            src,
            dst,
        }
    }

    /// Parses and validates a whole received datagram: version 4, a sane header length, a
    /// total length equal to what was received, a correct header checksum, no fragment.
    pub fn parse(datagram: &[u8]) -> Result<Ipv4Datagram<'_>, Error> {
        need(Layer::Ipv4, datagram, MIN_HEADER_LEN)?;
        let fixed: [u8; MIN_HEADER_LEN] = datagram
            .get(..MIN_HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(Error::TooShort {
                what: Layer::Ipv4,
                len: datagram.len(),
                needed: MIN_HEADER_LEN,
            })?;
        let [
            ver_ihl,
            tos,
            l0,
            l1,
            i0,
            i1,
            f0,
            f1,
            ttl,
            protocol,
            c0,
            c1,
            s0,
            s1,
            s2,
            s3,
            d0,
            d1,
            d2,
            d3,
        ] = fixed;
        if ver_ihl >> 4 != 4 {
            return Err(Error::BadIpVersion(ver_ihl >> 4));
        }
        let header_len = usize::from(ver_ihl & 0x0f) * 4;
        if header_len < MIN_HEADER_LEN {
            return Err(Error::BadIpHeaderLength(header_len));
        }
        need(Layer::Ipv4, datagram, header_len)?;
        let total_len = u16::from_be_bytes([l0, l1]);
        if usize::from(total_len) != datagram.len() {
            return Err(Error::BadIpTotalLength {
                total: total_len,
                received: datagram.len(),
            });
        }
        let (header_bytes, payload) = datagram
            .split_at_checked(header_len)
            .unwrap_or((datagram, &[]));
        let found = u16::from_be_bytes([c0, c1]);
        let computed = {
            let sum = checksum::accumulate(0, header_bytes.get(..10).unwrap_or(&[]));
            checksum::finish(checksum::accumulate(
                sum,
                header_bytes.get(12..).unwrap_or(&[]),
            ))
        };
        if found != computed {
            return Err(Error::BadIpChecksum { found, computed });
        }
        let flags_fragment = u16::from_be_bytes([f0, f1]);
        if flags_fragment & (FLAG_MF | FRAGMENT_OFFSET) != 0 {
            return Err(Error::Fragmented(flags_fragment));
        }
        let header = Self {
            header_len: header_len as u8,
            tos,
            total_len,
            id: u16::from_be_bytes([i0, i1]),
            flags_fragment,
            ttl,
            protocol,
            checksum: found,
            src: Ipv4Addr::new(s0, s1, s2, s3),
            dst: Ipv4Addr::new(d0, d1, d2, d3),
        };
        Ok(Ipv4Datagram {
            header,
            header_bytes,
            payload,
        })
    }

    /// Writes a 20-byte header (no options) with a freshly computed checksum.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        room(buf, MIN_HEADER_LEN)?;
        let mut out = [0u8; MIN_HEADER_LEN];
        out[0] = 0x45;
        out[1] = self.tos;
        out[2..4].copy_from_slice(&self.total_len.to_be_bytes());
        out[4..6].copy_from_slice(&self.id.to_be_bytes());
        out[6..8].copy_from_slice(&self.flags_fragment.to_be_bytes());
        out[8] = self.ttl;
        out[9] = self.protocol;
        out[12..16].copy_from_slice(&self.src.octets());
        out[16..20].copy_from_slice(&self.dst.octets());
        let sum = checksum::checksum(&out);
        out[10..12].copy_from_slice(&sum.to_be_bytes());
        if let Some(dst) = buf.get_mut(..MIN_HEADER_LEN) {
            dst.copy_from_slice(&out);
        }
        Ok(MIN_HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 20-byte header: TOS 0xc0, total 32, id 0x1234, TTL 255, protocol 112,
    // 192.0.2.1 -> 224.0.0.18; checksum computed independently.
    const HEADER: [u8; 20] = [
        0x45, 0xc0, 0x00, 0x20, 0x12, 0x34, 0x00, 0x00, 0xff, 0x70, 0x06, 0x66, 192, 0, 2, 1, 224,
        0, 0, 18,
    ];

    fn datagram() -> Vec<u8> {
        let mut d = HEADER.to_vec();
        d.extend_from_slice(&[0xee; 12]);
        d
    }

    #[test]
    fn parse_fields() {
        let d = datagram();
        let parsed = Ipv4Header::parse(&d).unwrap();
        let h = parsed.header;
        assert_eq!(
            (h.header_len, h.tos, h.total_len, h.id, h.ttl, h.protocol),
            (20, 0xc0, 32, 0x1234, 255, 112)
        );
        assert_eq!(
            (h.src, h.dst),
            (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(224, 0, 0, 18))
        );
        assert_eq!(parsed.header_bytes, &HEADER);
        assert_eq!(parsed.payload, &[0xee; 12]);
    }

    #[test]
    fn emit_matches_hand_written_header() {
        let h = Ipv4Header::for_advert(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            255,
            0x1234,
            112,
            12,
        );
        let mut buf = vec![0xa5; 21];
        assert_eq!(h.emit(&mut buf).unwrap(), 20);
        assert_eq!(&buf[..20], &HEADER);
        assert_eq!(buf[20], 0xa5);
    }

    #[test]
    fn options_are_skipped() {
        let mut d = HEADER.to_vec();
        d[0] = 0x46;
        d[3] = 36;
        d.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        d.extend_from_slice(&[0xee; 12]);
        d[10] = 0;
        d[11] = 0;
        let sum = checksum::checksum(&d[..24]);
        d[10..12].copy_from_slice(&sum.to_be_bytes());
        let parsed = Ipv4Header::parse(&d).unwrap();
        assert_eq!(parsed.header.header_len, 24);
        assert_eq!(parsed.payload, &[0xee; 12]);
    }

    #[test]
    fn error_too_short() {
        assert!(matches!(
            Ipv4Header::parse(&HEADER[..19]),
            Err(Error::TooShort {
                what: Layer::Ipv4,
                ..
            })
        ));
        let mut d = HEADER.to_vec();
        d[0] = 0x4f; // claims 60 bytes of header
        assert!(matches!(
            Ipv4Header::parse(&d),
            Err(Error::TooShort { needed: 60, .. })
        ));
    }

    #[test]
    fn error_bad_ip_version() {
        let mut d = datagram();
        d[0] = 0x65;
        assert_eq!(Ipv4Header::parse(&d).unwrap_err(), Error::BadIpVersion(6));
    }

    #[test]
    fn error_bad_header_length() {
        let mut d = datagram();
        d[0] = 0x44;
        assert_eq!(
            Ipv4Header::parse(&d).unwrap_err(),
            Error::BadIpHeaderLength(16)
        );
    }

    #[test]
    fn error_bad_total_length() {
        let mut d = datagram();
        d.push(0);
        assert_eq!(
            Ipv4Header::parse(&d).unwrap_err(),
            Error::BadIpTotalLength {
                total: 32,
                received: 33
            }
        );
    }

    #[test]
    fn error_bad_ip_checksum() {
        let mut d = datagram();
        d[8] = 254;
        assert!(matches!(
            Ipv4Header::parse(&d),
            Err(Error::BadIpChecksum { found: 0x0666, .. })
        ));
    }

    #[test]
    fn error_fragmented() {
        let mut d = datagram();
        d[6] = 0x20; // MF
        d[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::checksum(&d[..20]);
        d[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            Ipv4Header::parse(&d).unwrap_err(),
            Error::Fragmented(0x2000)
        );
        // DF alone is not a fragment.
        d[6] = 0x40;
        d[10..12].copy_from_slice(&[0, 0]);
        let sum = checksum::checksum(&d[..20]);
        d[10..12].copy_from_slice(&sum.to_be_bytes());
        assert!(Ipv4Header::parse(&d).is_ok());
    }
}
