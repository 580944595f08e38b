//! The gratuitous ARP keepalived sends for each IPv4 VIP on becoming master (RFC 5798
//! §6.4.2, RFC 5227 §3): an ARP request, broadcast, sender IP = target IP = the VIP.
//! keepalived 2.2.7 (`send_gratuitous_arp_immediate`) fills the target hardware address with
//! the broadcast address and, with `use_vmac`, sends from the virtual MAC (Ethernet source and
//! sender hardware address alike).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::error::{Error, Layer, need, room};
use super::ethernet::{self, ETHERTYPE_ARP, ETHERTYPE_IPV4, EthernetHeader, MacAddr};
use crate::types::{Family, Vrid};

const ARP_LEN: usize = 28;
/// The frame length before any link-layer padding.
pub const FRAME_LEN: usize = ethernet::HEADER_LEN + ARP_LEN;
const HTYPE_ETHERNET: u16 = 1;
const OP_REQUEST: u16 = 1;

/// A gratuitous ARP request announcing `ip` at `mac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GratuitousArp {
    /// Ethernet source and ARP sender hardware address: the interface MAC, or the VMAC.
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
}

fn not_garp(why: &'static str) -> Error {
    Error::NotAnnouncement {
        what: Layer::Arp,
        why: why.into(),
    }
}

impl GratuitousArp {
    pub const fn new(mac: MacAddr, ip: Ipv4Addr) -> Self {
        Self { mac, ip }
    }

    /// The announcement sent from the virtual router MAC 00:00:5e:00:01:{VRID}.
    pub const fn from_vmac(vrid: Vrid, ip: Ipv4Addr) -> Self {
        Self {
            mac: MacAddr::vmac(Family::V4, vrid),
            ip,
        }
    }

    pub const fn buffer_len(&self) -> usize {
        FRAME_LEN
    }

    /// Recognises a gratuitous ARP request; trailing link-layer padding is ignored.
    pub fn parse(frame: &[u8]) -> Result<Self, Error> {
        let (eth, arp) = EthernetHeader::parse(frame)?;
        if eth.ethertype != ETHERTYPE_ARP {
            return Err(not_garp("EtherType is not ARP"));
        }
        need(Layer::Arp, arp, ARP_LEN)?;
        let mut a = [0u8; ARP_LEN];
        a.copy_from_slice(arp.get(..ARP_LEN).unwrap_or(&[0; ARP_LEN]));
        let [
            h0,
            h1,
            p0,
            p1,
            hlen,
            plen,
            o0,
            o1,
            sha @ ..,
            s0,
            s1,
            s2,
            s3,
            _,
            _,
            _,
            _,
            _,
            _,
            t0,
            t1,
            t2,
            t3,
        ] = a;
        if u16::from_be_bytes([h0, h1]) != HTYPE_ETHERNET
            || u16::from_be_bytes([p0, p1]) != ETHERTYPE_IPV4
            || hlen != 6
            || plen != 4
        {
            return Err(not_garp("not Ethernet/IPv4 ARP"));
        }
        if u16::from_be_bytes([o0, o1]) != OP_REQUEST {
            return Err(not_garp("not an ARP request"));
        }
        let (spa, tpa) = (Ipv4Addr::new(s0, s1, s2, s3), Ipv4Addr::new(t0, t1, t2, t3));
        if spa != tpa {
            return Err(not_garp("sender and target IP differ"));
        }
        if eth.dst != MacAddr::BROADCAST {
            return Err(not_garp("not sent to broadcast"));
        }
        if MacAddr(sha) != eth.src {
            return Err(not_garp(
                "sender hardware address is not the Ethernet source",
            ));
        }
        Ok(Self {
            mac: eth.src,
            ip: spa,
        })
    }

    /// Writes the 42-byte frame; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        room(buf, FRAME_LEN)?;
        let mut eth = [0u8; ethernet::HEADER_LEN];
        EthernetHeader {
            dst: MacAddr::BROADCAST,
            src: self.mac,
            ethertype: ETHERTYPE_ARP,
        }
        .write(&mut eth);
        let mut arp = [0u8; ARP_LEN];
        arp[0..2].copy_from_slice(&HTYPE_ETHERNET.to_be_bytes());
        arp[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        arp[4] = 6;
        arp[5] = 4;
        arp[6..8].copy_from_slice(&OP_REQUEST.to_be_bytes());
        arp[8..14].copy_from_slice(&self.mac.0);
        arp[14..18].copy_from_slice(&self.ip.octets());
        arp[18..24].copy_from_slice(&MacAddr::BROADCAST.0);
        arp[24..28].copy_from_slice(&self.ip.octets());
        if let Some(out) = buf.get_mut(..FRAME_LEN) {
            let (e, a) = out.split_at_mut(ethernet::HEADER_LEN);
            e.copy_from_slice(&eth);
            a.copy_from_slice(&arp);
        }
        Ok(FRAME_LEN)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = vec![0; FRAME_LEN];
        // The buffer is exactly FRAME_LEN long, so emit cannot fail.
        let _ = self.emit(&mut buf);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // keepalived's GARP for 192.0.2.21 from 02:00:5e:10:00:0a, written from RFC 826's layout.
    const FRAME: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a, 0x08,
        0x06, // Ethernet
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // hrd, pro, hln, pln, op = request
        0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a, 192, 0, 2, 21, // sender
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 192, 0, 2, 21, // target
    ];

    fn garp() -> GratuitousArp {
        GratuitousArp::new(
            MacAddr([2, 0, 0x5e, 0x10, 0, 0x0a]),
            Ipv4Addr::new(192, 0, 2, 21),
        )
    }

    #[test]
    fn emit_matches_hand_written_frame() {
        let mut buf = vec![0xa5; 44];
        assert_eq!(garp().emit(&mut buf).unwrap(), 42);
        assert_eq!(&buf[..42], &FRAME);
        assert_eq!(&buf[42..], &[0xa5, 0xa5]);
    }

    #[test]
    fn parse_with_and_without_padding() {
        assert_eq!(GratuitousArp::parse(&FRAME).unwrap(), garp());
        let mut padded = FRAME.to_vec();
        padded.resize(60, 0);
        assert_eq!(GratuitousArp::parse(&padded).unwrap(), garp());
    }

    #[test]
    fn vmac_frame() {
        let g = GratuitousArp::from_vmac(Vrid::new(51).unwrap(), Ipv4Addr::new(192, 0, 2, 51));
        let bytes = g.to_vec();
        assert_eq!(&bytes[6..12], &[0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(&bytes[22..28], &[0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(GratuitousArp::parse(&bytes).unwrap(), g);
    }

    #[test]
    fn refuses_what_is_not_a_garp() {
        let edit = |i: usize, v: u8| {
            let mut f = FRAME;
            f[i] = v;
            GratuitousArp::parse(&f)
        };
        assert!(matches!(edit(13, 0x00), Err(Error::NotAnnouncement { .. }))); // IPv4 EtherType
        assert!(matches!(edit(15, 6), Err(Error::NotAnnouncement { .. }))); // htype
        assert!(matches!(edit(21, 2), Err(Error::NotAnnouncement { .. }))); // reply
        assert!(matches!(edit(41, 22), Err(Error::NotAnnouncement { .. }))); // target IP differs
        assert!(matches!(edit(0, 0x01), Err(Error::NotAnnouncement { .. }))); // not broadcast
        assert!(matches!(edit(27, 0x0b), Err(Error::NotAnnouncement { .. }))); // sha != source
        assert!(matches!(
            GratuitousArp::parse(&FRAME[..41]),
            Err(Error::TooShort {
                what: Layer::Arp,
                ..
            })
        ));
        let mut short = [0u8; 41];
        assert!(matches!(
            garp().emit(&mut short),
            Err(Error::BufferTooSmall { .. })
        ));
    }
}
