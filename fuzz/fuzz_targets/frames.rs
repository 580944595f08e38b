//! Link-layer frames: gratuitous ARP and unsolicited NA recognisers, and the IPv6 header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::wire::{GratuitousArp, Ipv6Header, UnsolicitedNa};

fuzz_target!(|data: &[u8]| {
    if let Ok(garp) = GratuitousArp::parse(data) {
        assert_eq!(GratuitousArp::parse(&garp.to_vec()), Ok(garp), "GARP does not round trip");
    }
    if let Ok(na) = UnsolicitedNa::parse(data) {
        assert_eq!(UnsolicitedNa::parse(&na.to_vec()), Ok(na), "NA does not round trip");
    }
    let _ = Ipv6Header::parse(data);
});
