//! The internet checksum (RFC 1071) and the pseudo-headers VRRPv3 folds into it.
//!
//! RFC 5798 §5.2.8 (and RFC 9568 §5.2.8): the VRRPv3 checksum covers the whole VRRP message
//! and a pseudo-header as defined in RFC 8200 §8.1, with next header 112. For IPv4 keepalived
//! (and Wireshark, FRR) use the classic IPv4 pseudo-header (source, destination, zero, protocol,
//! length), which is what interoperates; `V3Checksum::WithoutPseudoHeader` covers peers that
//! leave it out (keepalived's `v3_checksum_as_v2`, Cisco, Juniper).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Adds `data` to a running one's complement sum, big-endian 16-bit words, an odd trailing
/// byte padded with zero (RFC 1071 §4.1). The sum is kept in 32 bits and folded at the end.
pub fn accumulate(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for word in &mut chunks {
        if let [hi, lo] = word {
            sum = sum.wrapping_add(u32::from(u16::from_be_bytes([*hi, *lo])));
        }
        // Fold eagerly enough that the 32-bit sum can never overflow on long inputs.
        if sum >= 0x8000_0000 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Folds a running sum to 16 bits and complements it: the value to put in a checksum field.
pub fn finish(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The internet checksum of `data` alone.
pub fn checksum(data: &[u8]) -> u16 {
    finish(accumulate(0, data))
}

/// Sum of the IPv4 pseudo-header (source, destination, zero, protocol, upper-layer length).
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u32 {
    let mut sum = accumulate(0, &src.octets());
    sum = accumulate(sum, &dst.octets());
    sum += u32::from(protocol);
    sum + u32::from(length)
}

/// Sum of the IPv6 pseudo-header of RFC 8200 §8.1: source, destination, 32-bit upper-layer
/// length, three zero bytes and the next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> u32 {
    let mut sum = accumulate(0, &src.octets());
    sum = accumulate(sum, &dst.octets());
    sum = accumulate(sum, &length.to_be_bytes());
    sum + u32::from(next_header)
}

/// How a VRRPv3 message over IPv4 is checksummed. IPv6 always uses the pseudo-header.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum V3Checksum {
    /// RFC 5798 §5.2.8 with the IPv4 pseudo-header: keepalived's default, FRR, Wireshark.
    #[default]
    PseudoHeader,
    /// The IPv4 pseudo-header with 224.0.0.18 as destination even for unicast adverts:
    /// keepalived's `old_unicast_checksum` (compatibility with keepalived <= 1.3.6).
    PseudoHeaderMulticastDst,
    /// The VRRP message alone, as VRRPv2 does: keepalived's `v3_checksum_as_v2` (2.2.8+),
    /// for peers that read RFC 5798 §5.2.8 as applying to IPv6 only.
    WithoutPseudoHeader,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::constants::IPPROTO_VRRP;

    #[test]
    fn rfc1071_example_sum() {
        // RFC 1071 §3 worked example: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(finish(accumulate(0, &data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            checksum(&[0x12, 0x34, 0x56]),
            checksum(&[0x12, 0x34, 0x56, 0x00])
        );
    }

    #[test]
    fn data_with_its_checksum_sums_to_zero() {
        let mut data = vec![0x45, 0x00, 0x00, 0x1c, 0xbe, 0xef, 0x00, 0x00, 0xff, 0x70];
        data.extend_from_slice(&[0, 0, 192, 0, 2, 1, 224, 0, 0, 18]);
        let sum = checksum(&data);
        data[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn long_input_does_not_overflow() {
        let data = vec![0xff; 1 << 20];
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn ipv4_pseudo_header_words() {
        let sum = pseudo_header_v4(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            IPPROTO_VRRP,
            12,
        );
        let words = 0xc000 + 0x0201 + 0xe000 + 0x0012 + 112 + 12;
        assert_eq!(sum, words);
    }

    #[test]
    fn ipv6_pseudo_header_words() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let dst: Ipv6Addr = "ff02::12".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
        let sum = pseudo_header_v6(src, dst, IPPROTO_VRRP, 24);
        assert_eq!(sum, 0xfe80 + 1 + 0xff02 + 0x12 + 24 + 112);
    }
}
