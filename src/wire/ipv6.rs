//! The fixed IPv6 header (RFC 8200 §3), for the unsolicited NA frame and for tests and the
//! lab reading captured VRRPv3 datagrams. The daemon's IPv6 raw socket hands over the VRRP
//! payload only, with addresses and hop limit as ancillary data.

use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use super::error::{Error, Layer, need, room};

pub const HEADER_LEN: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ipv6Header {
    pub traffic_class: u8,
    pub flow_label: u32,
    pub payload_len: u16,
    pub next_header: u8,
    pub hop_limit: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

impl Ipv6Header {
    /// Parses the fixed header and returns it with exactly `payload_len` bytes of payload;
    /// bytes past it (link-layer padding) are dropped. Extension headers are not walked: the
    /// payload belongs to `next_header`.
    pub fn parse(packet: &[u8]) -> Result<(Self, &[u8]), Error> {
        need(Layer::Ipv6, packet, HEADER_LEN)?;
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(packet.get(..HEADER_LEN).unwrap_or(&[0; HEADER_LEN]));
        let first = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        if first >> 28 != 6 {
            return Err(Error::BadIpVersion((first >> 28) as u8));
        }
        let payload_len = u16::from_be_bytes([h[4], h[5]]);
        let end = HEADER_LEN + usize::from(payload_len);
        need(Layer::Ipv6, packet, end)?;
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&h[8..24]);
        dst.copy_from_slice(&h[24..40]);
        let header = Self {
            traffic_class: ((first >> 20) & 0xff) as u8,
            flow_label: first & 0x000f_ffff,
            payload_len,
            next_header: h[6],
            hop_limit: h[7],
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
        };
        Ok((header, packet.get(HEADER_LEN..end).unwrap_or(&[])))
    }

    /// Writes the 40-byte header.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        room(buf, HEADER_LEN)?;
        let mut h = [0u8; HEADER_LEN];
        let first =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        h[0..4].copy_from_slice(&first.to_be_bytes());
        h[4..6].copy_from_slice(&self.payload_len.to_be_bytes());
        h[6] = self.next_header;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src.octets());
        h[24..40].copy_from_slice(&self.dst.octets());
        if let Some(out) = buf.get_mut(..HEADER_LEN) {
            out.copy_from_slice(&h);
        }
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fields() {
        let h = Ipv6Header {
            traffic_class: 0xc0,
            flow_label: 0x12f4,
            payload_len: 2,
            next_header: 112,
            hop_limit: 255,
            src: "fe80::1".parse().unwrap(),
            dst: "ff02::12".parse().unwrap(),
        };
        let mut buf = vec![0xa5; 42];
        h.emit(&mut buf).unwrap();
        assert_eq!(&buf[..8], &[0x6c, 0x00, 0x12, 0xf4, 0x00, 0x02, 112, 255]);
        buf.extend_from_slice(&[0, 0]); // padding past the payload
        let (parsed, payload) = Ipv6Header::parse(&buf).unwrap();
        assert_eq!(parsed, h);
        assert_eq!(payload, &[0xa5, 0xa5]);
    }

    #[test]
    fn errors() {
        let mut buf = vec![0u8; 40];
        buf[0] = 0x40;
        assert_eq!(Ipv6Header::parse(&buf).unwrap_err(), Error::BadIpVersion(4));
        buf[0] = 0x60;
        buf[5] = 1; // one payload byte promised, none present
        assert!(matches!(
            Ipv6Header::parse(&buf),
            Err(Error::TooShort {
                what: Layer::Ipv6,
                needed: 41,
                ..
            })
        ));
        assert!(matches!(
            Ipv6Header::parse(&buf[..39]),
            Err(Error::TooShort { .. })
        ));
    }
}
