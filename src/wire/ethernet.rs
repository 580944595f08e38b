//! Ethernet II framing shared by the gratuitous ARP and unsolicited NA frames.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{Error, Layer, need};
use crate::types::{Family, Vrid};

pub const HEADER_LEN: usize = 14;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// RFC 2464 §7: ff02::1 maps to 33:33:00:00:00:01.
    pub const ALL_NODES_V6: MacAddr = MacAddr([0x33, 0x33, 0, 0, 0, 1]);

    /// The virtual router MAC (RFC 5798 §7.3): 00-00-5E-00-01-{VRID} for IPv4,
    /// 00-00-5E-00-02-{VRID} for IPv6.
    pub const fn vmac(family: Family, vrid: Vrid) -> Self {
        let block = match family {
            Family::V4 => 0x01,
            Family::V6 => 0x02,
        };
        MacAddr([0x00, 0x00, 0x5e, 0x00, block, vrid.get()])
    }

    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Parse error for `MacAddr::from_str`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {0:?}: expected six hex bytes separated by ':'")]
pub struct InvalidMac(String);

impl FromStr for MacAddr {
    type Err = InvalidMac;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for slot in &mut out {
            let part = parts
                .next()
                .filter(|p| p.len() == 2)
                .ok_or_else(|| InvalidMac(s.to_owned()))?;
            *slot = u8::from_str_radix(part, 16).map_err(|_| InvalidMac(s.to_owned()))?;
        }
        if parts.next().is_some() {
            return Err(InvalidMac(s.to_owned()));
        }
        Ok(MacAddr(out))
    }
}

/// An Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EthernetHeader {
    pub dst: MacAddr,
    pub src: MacAddr,
    pub ethertype: u16,
}

impl EthernetHeader {
    /// Splits a frame into its header and payload.
    pub fn parse(frame: &[u8]) -> Result<(Self, &[u8]), Error> {
        need(Layer::Ethernet, frame, HEADER_LEN)?;
        let (head, payload) = frame.split_at_checked(HEADER_LEN).unwrap_or((frame, &[]));
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(head.get(..6).unwrap_or(&[0; 6]));
        src.copy_from_slice(head.get(6..12).unwrap_or(&[0; 6]));
        let ethertype = u16::from_be_bytes([
            head.get(12).copied().unwrap_or(0),
            head.get(13).copied().unwrap_or(0),
        ]);
        Ok((
            Self {
                dst: MacAddr(dst),
                src: MacAddr(src),
                ethertype,
            },
            payload,
        ))
    }

    /// Writes the 14-byte header; the caller has checked the buffer length.
    pub(crate) fn write(&self, out: &mut [u8; HEADER_LEN]) {
        out[..6].copy_from_slice(&self.dst.0);
        out[6..12].copy_from_slice(&self.src.0);
        out[12..].copy_from_slice(&self.ethertype.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmac_per_family() {
        let vrid = Vrid::new(0x33).unwrap();
        assert_eq!(
            MacAddr::vmac(Family::V4, vrid).to_string(),
            "00:00:5e:00:01:33"
        );
        assert_eq!(
            MacAddr::vmac(Family::V6, vrid).to_string(),
            "00:00:5e:00:02:33"
        );
    }

    #[test]
    fn mac_parse_and_display() {
        let mac: MacAddr = "02:00:5e:10:00:0a".parse().unwrap();
        assert_eq!(mac.octets(), [2, 0, 0x5e, 0x10, 0, 0x0a]);
        assert_eq!(mac.to_string(), "02:00:5e:10:00:0a");
        assert!("02:00:5e:10:00".parse::<MacAddr>().is_err());
        assert!("02:00:5e:10:00:0a:01".parse::<MacAddr>().is_err());
        assert!("02:00:5e:10:00:zz".parse::<MacAddr>().is_err());
    }

    #[test]
    fn header_parse() {
        let frame = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0x5e, 0x10, 0, 0x0a, 0x08, 0x06, 0xaa,
        ];
        let (h, payload) = EthernetHeader::parse(&frame).unwrap();
        assert_eq!(
            (h.dst, h.ethertype, payload),
            (MacAddr::BROADCAST, ETHERTYPE_ARP, &[0xaa][..])
        );
        assert!(matches!(
            EthernetHeader::parse(&frame[..13]),
            Err(Error::TooShort {
                what: Layer::Ethernet,
                ..
            })
        ));
    }
}
