//! The protocol numbers and addresses VRRP is defined by, each defined here once.
//!
//! `wire` builds and checks packets with them, `net` opens sockets and joins groups with them
//! (it re-exports them as `vigil::net::*`), and `config` takes its multicast defaults from
//! them. Anything else that needs one of these facts uses these names, not a literal.

use std::net::{Ipv4Addr, Ipv6Addr};

/// IANA protocol number of VRRP (RFC 5798 §5.1.1.4, RFC 3768 §5.2.4): the IPv4 protocol, the
/// IPv6 next header, and the next header inside AH.
pub const IPPROTO_VRRP: u8 = 112;

/// IANA protocol number of the IP Authentication Header, which carries VRRPv2 AH instances
/// (RFC 2338 §5.3.6.3, as keepalived implements it).
pub const IPPROTO_AH: u8 = 51;

/// The VRRP IPv4 multicast group (RFC 5798 §5.1.1.2); also the pseudo-header destination of
/// keepalived's `old_unicast_checksum`.
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The VRRP IPv6 multicast group (RFC 5798 §5.1.2.2).
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// The IPv4 TTL / IPv6 hop limit adverts are sent with and must arrive with (RFC 5798
/// §5.1.1.3, §5.1.2.3, §7.1); also the default `unicast_ttl`.
pub const VRRP_HOP_LIMIT: u8 = 255;

#[cfg(test)]
mod tests {
    use super::*;

    // The values as the RFCs print them, written independently of the definitions above.
    #[test]
    fn values_are_the_rfcs() {
        assert_eq!((IPPROTO_VRRP, IPPROTO_AH, VRRP_HOP_LIMIT), (112, 51, 255));
        assert_eq!(VRRP_GROUP_V4.to_string(), "224.0.0.18");
        assert_eq!(VRRP_GROUP_V6.to_string(), "ff02::12");
        assert!(VRRP_GROUP_V4.is_multicast() && VRRP_GROUP_V6.is_multicast());
    }
}
