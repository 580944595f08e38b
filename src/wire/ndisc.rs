//! The unsolicited Neighbor Advertisement keepalived sends for each IPv6 VIP on becoming
//! master (RFC 5798 §6.4.2, RFC 4861 §7.2.6), as built by keepalived 2.2.7's
//! `ndisc_send_unsolicited_na_immediate`: from the VIP to ff02::1 (33:33:00:00:00:01), hop
//! limit 255, Override set, Solicited clear, Router set when the interface forwards IPv6,
//! and a Target Link-Layer Address option carrying the sending MAC.

use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use super::checksum;
use super::error::{Error, Layer, need, room};
use super::ethernet::{self, ETHERTYPE_IPV6, EthernetHeader, MacAddr};
use super::ipv6::{self, Ipv6Header};

pub const PROTO_ICMPV6: u8 = 58;
const TYPE_NEIGHBOR_ADVERT: u8 = 136;
const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;
const OPT_TARGET_LLADDR: u8 = 2;
/// NA body (type, code, checksum, flags, target) plus one 8-byte option.
const ICMP_LEN: usize = 24 + 8;
pub const FRAME_LEN: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN + ICMP_LEN;
/// RFC 4861 §7.1.2: NAs with another hop limit were forwarded and must be dropped.
const ND_HOP_LIMIT: u8 = 255;
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// An unsolicited NA announcing `target` at `mac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnsolicitedNa {
    /// Ethernet source and target link-layer address: the interface MAC or the VMAC.
    pub mac: MacAddr,
    /// The VIP; also the IPv6 source, as keepalived sends it.
    pub target: Ipv6Addr,
    /// keepalived sets the Router flag when IPv6 forwarding is enabled on the interface.
    pub router: bool,
}

fn not_na(why: &'static str) -> Error {
    Error::NotAnnouncement {
        what: Layer::Icmpv6,
        why: why.into(),
    }
}

fn icmp_checksum(src: Ipv6Addr, dst: Ipv6Addr, icmp: &[u8]) -> u16 {
    let len = u32::try_from(icmp.len()).unwrap_or(u32::MAX);
    let sum = checksum::pseudo_header_v6(src, dst, PROTO_ICMPV6, len);
    let sum = checksum::accumulate(sum, icmp.get(..2).unwrap_or(&[]));
    checksum::finish(checksum::accumulate(sum, icmp.get(4..).unwrap_or(&[])))
}

impl UnsolicitedNa {
    pub const fn new(mac: MacAddr, target: Ipv6Addr, router: bool) -> Self {
        Self {
            mac,
            target,
            router,
        }
    }

    pub const fn buffer_len(&self) -> usize {
        FRAME_LEN
    }

    /// Recognises an unsolicited NA frame; trailing padding is ignored.
    pub fn parse(frame: &[u8]) -> Result<Self, Error> {
        let (eth, packet) = EthernetHeader::parse(frame)?;
        if eth.ethertype != ETHERTYPE_IPV6 {
            return Err(not_na("EtherType is not IPv6"));
        }
        let (ip, icmp) = Ipv6Header::parse(packet)?;
        if ip.next_header != PROTO_ICMPV6 {
            return Err(not_na("next header is not ICMPv6"));
        }
        need(Layer::Icmpv6, icmp, 24)?;
        let byte = |i: usize| icmp.get(i).copied().unwrap_or(0);
        if byte(0) != TYPE_NEIGHBOR_ADVERT || byte(1) != 0 {
            return Err(not_na("not a Neighbor Advertisement"));
        }
        if ip.hop_limit != ND_HOP_LIMIT {
            return Err(Error::BadTtl(ip.hop_limit));
        }
        let found = u16::from_be_bytes([byte(2), byte(3)]);
        let computed = icmp_checksum(ip.src, ip.dst, icmp);
        if found != computed {
            return Err(Error::BadIcmpChecksum { found, computed });
        }
        let flags = byte(4);
        // RFC 4861 §7.2.6: an unsolicited NA has Solicited clear and, to update caches,
        // Override set.
        if flags & FLAG_SOLICITED != 0 || flags & FLAG_OVERRIDE == 0 {
            return Err(not_na("Solicited set or Override clear"));
        }
        let mut target = [0u8; 16];
        target.copy_from_slice(icmp.get(8..24).unwrap_or(&[0; 16]));
        let target = Ipv6Addr::from(target);
        if ip.src != target || ip.dst != ALL_NODES || eth.dst != MacAddr::ALL_NODES_V6 {
            return Err(not_na("not sent from the target to ff02::1"));
        }
        let lladdr = target_lladdr(icmp.get(24..).unwrap_or(&[]))?;
        if lladdr != eth.src {
            return Err(not_na(
                "target link-layer address is not the Ethernet source",
            ));
        }
        Ok(Self {
            mac: eth.src,
            target,
            router: flags & FLAG_ROUTER != 0,
        })
    }

    /// Writes the 86-byte frame; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        room(buf, FRAME_LEN)?;
        let Some(out) = buf.get_mut(..FRAME_LEN) else {
            return Err(Error::BufferTooSmall {
                len: buf.len(),
                needed: FRAME_LEN,
            });
        };
        let (eth_out, rest) = out.split_at_mut(ethernet::HEADER_LEN);
        let (ip_out, icmp_out) = rest.split_at_mut(ipv6::HEADER_LEN);

        let mut eth = [0u8; ethernet::HEADER_LEN];
        EthernetHeader {
            dst: MacAddr::ALL_NODES_V6,
            src: self.mac,
            ethertype: ETHERTYPE_IPV6,
        }
        .write(&mut eth);
        eth_out.copy_from_slice(&eth);
        Ipv6Header {
            traffic_class: 0,
            flow_label: 0,
            payload_len: ICMP_LEN as u16,
            next_header: PROTO_ICMPV6,
            hop_limit: ND_HOP_LIMIT,
            src: self.target,
            dst: ALL_NODES,
        }
        .emit(ip_out)?;

        let mut icmp = [0u8; ICMP_LEN];
        icmp[0] = TYPE_NEIGHBOR_ADVERT;
        icmp[4] = FLAG_OVERRIDE | if self.router { FLAG_ROUTER } else { 0 };
        icmp[8..24].copy_from_slice(&self.target.octets());
        icmp[24] = OPT_TARGET_LLADDR;
        icmp[25] = 1; // option length in units of 8 bytes
        icmp[26..32].copy_from_slice(&self.mac.0);
        let sum = icmp_checksum(self.target, ALL_NODES, &icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        icmp_out.copy_from_slice(&icmp);
        Ok(FRAME_LEN)
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = vec![0; FRAME_LEN];
        // The buffer is exactly FRAME_LEN long, so emit cannot fail.
        let _ = self.emit(&mut buf);
        buf
    }
}

/// Walks the ND options (RFC 4861 §4.6) for the Target Link-Layer Address.
fn target_lladdr(mut options: &[u8]) -> Result<MacAddr, Error> {
    while let [kind, len, ..] = options {
        let size = usize::from(*len) * 8;
        if size == 0 {
            // RFC 4861 §4.6: a zero-length option is invalid and the packet must be dropped.
            return Err(not_na("zero-length ND option"));
        }
        let Some(option) = options.get(..size) else {
            return Err(not_na("truncated ND option"));
        };
        if *kind == OPT_TARGET_LLADDR {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(option.get(2..8).unwrap_or(&[0; 6]));
            return Ok(MacAddr(mac));
        }
        options = options.get(size..).unwrap_or(&[]);
    }
    Err(not_na("no target link-layer address option"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn na(router: bool) -> UnsolicitedNa {
        UnsolicitedNa::new(
            MacAddr([2, 0, 0x5e, 0x10, 0, 0x0a]),
            "2001:db8::36".parse().unwrap(),
            router,
        )
    }

    // Written from RFC 4861 §4.4 for 2001:db8::36 at 02:00:5e:10:00:0a, Override only; the
    // checksum is the one keepalived 2.2.7 put on the wire for this frame (golden v3_ipv6_na).
    const FRAME: [u8; 86] = [
        0x33, 0x33, 0, 0, 0, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a, 0x86, 0xdd, // Ethernet
        0x60, 0, 0, 0, 0x00, 0x20, 58,
        255, // version, payload length 32, ICMPv6, hop limit 255
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x36, // source = target
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // ff02::1
        136, 0, 0x9a, 0xa7, 0x20, 0, 0, 0, // type, code, checksum, flags O
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x36, // target
        2, 1, 0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a, // target link-layer address option
    ];

    #[test]
    fn emit_matches_hand_written_frame() {
        let mut buf = vec![0xa5; 88];
        assert_eq!(na(false).emit(&mut buf).unwrap(), 86);
        assert_eq!(&buf[..86], &FRAME);
        assert_eq!(&buf[86..], &[0xa5, 0xa5]);
    }

    #[test]
    fn parse_and_router_flag() {
        assert_eq!(UnsolicitedNa::parse(&FRAME).unwrap(), na(false));
        let routed = na(true).to_vec();
        assert_eq!(routed[54 + 4], 0xa0);
        assert_eq!(UnsolicitedNa::parse(&routed).unwrap(), na(true));
    }

    #[test]
    fn refuses_what_is_not_an_unsolicited_na() {
        let edit = |i: usize, v: u8| {
            let mut f = FRAME;
            f[i] = v;
            UnsolicitedNa::parse(&f)
        };
        assert!(matches!(edit(12, 0x08), Err(Error::NotAnnouncement { .. })));
        assert!(matches!(edit(21, 64), Err(Error::BadTtl(64))));
        assert!(matches!(
            edit(56, 0x9b),
            Err(Error::BadIcmpChecksum {
                found: 0x9ba7,
                computed: 0x9aa7
            })
        ));
        assert!(matches!(edit(54, 135), Err(Error::NotAnnouncement { .. })));
        assert!(matches!(edit(20, 17), Err(Error::NotAnnouncement { .. })));
        // Flags: solicited set / override clear (fix the checksum so the flags are what fails).
        for flags in [0x60u8, 0x00] {
            let mut f = FRAME;
            f[58] = flags;
            let sum = icmp_checksum("2001:db8::36".parse().unwrap(), ALL_NODES, &f[54..]);
            f[56..58].copy_from_slice(&sum.to_be_bytes());
            assert!(
                matches!(UnsolicitedNa::parse(&f), Err(Error::NotAnnouncement { .. })),
                "{flags:#x}"
            );
        }
        assert!(matches!(
            UnsolicitedNa::parse(&FRAME[..77]),
            Err(Error::TooShort { .. })
        ));
        assert!(matches!(
            na(false).emit(&mut [0u8; 85]),
            Err(Error::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn option_walk() {
        assert_eq!(
            target_lladdr(&[1, 1, 9, 9, 9, 9, 9, 9, 2, 1, 1, 2, 3, 4, 5, 6]).unwrap(),
            MacAddr([1, 2, 3, 4, 5, 6])
        );
        assert!(target_lladdr(&[2, 0, 1, 2, 3, 4, 5, 6]).is_err());
        assert!(target_lladdr(&[2, 2, 1, 2, 3, 4, 5, 6]).is_err());
        assert!(target_lladdr(&[]).is_err());
    }

    #[test]
    fn etherparse_agrees_on_the_checksum() {
        // An independent implementation as an oracle for the ICMPv6 checksum.
        let frame = na(true).to_vec();
        let sliced = etherparse::SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(etherparse::NetSlice::Ipv6(ip)) = sliced.net else {
            panic!("not IPv6")
        };
        let Some(etherparse::TransportSlice::Icmpv6(icmp)) = sliced.transport else {
            panic!("not ICMPv6")
        };
        let header = ip.header();
        let computed = icmp
            .icmp_type()
            .calc_checksum(header.source(), header.destination(), icmp.payload())
            .unwrap();
        assert_eq!(computed, icmp.checksum());
    }
}
