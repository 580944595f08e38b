//! A VRRP payload as an IPv6 raw socket delivers it, with source, destination and hop limit
//! taken from the input (as they would come from ancillary data).
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use vigil::types::{Family, Version};
use vigil::wire::{self, RxContext, V3Checksum};

fuzz_target!(|data: &[u8]| {
    let Some((head, payload)) = data.split_first_chunk::<33>() else { return };
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&head[..16]);
    dst.copy_from_slice(&head[16..32]);
    let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
    let hop_limit = head[32];
    let ctx = RxContext { unicast: hop_limit & 1 == 0, ..RxContext::new(Version::V3) };
    let _ = wire::peek_vrid_ipv6(payload);
    if let Ok(rx) = wire::parse_ipv6_advert(payload, src, dst, hop_limit, &ctx) {
        let mut out = vec![0; rx.vrrp.buffer_len_for(Family::V6)];
        let emitted = rx.vrrp.emit(&mut out, src.into(), dst.into(), V3Checksum::PseudoHeader);
        assert!(emitted.is_ok(), "accepted advert does not re-emit");
        assert_eq!(wire::parse_ipv6_advert(&out, src, dst, hop_limit, &ctx), Ok(rx), "re-emitted advert differs");
        // Only the reserved bits (RFC 5798 §5.2.6, ignored on receive) may be lost.
        if payload.get(4).is_some_and(|b| b & 0xf0 == 0) {
            assert_eq!(out, payload, "re-emitted bytes differ");
        }
    }
});
