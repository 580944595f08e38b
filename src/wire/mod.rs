//! Packet codecs: VRRP v2/v3, authentication, checksums, gratuitous ARP and unsolicited NA.
//! Pure code: no sockets, no clock.
