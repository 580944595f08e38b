//! keepalived's `auth_hmac` trailer through the daemon's receive step, IPv4 datagrams and IPv6
//! payloads, under every mode and window the first byte picks; the key is the one keepalived's
//! pinned test images use (00..1f, id 1), so seeds made from them reach past the HMAC.
//! Whatever is accepted with a trailer must sign back to the same trailer.
#![no_main]

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use vigil::daemon::receive::{RxRoute, SocketRoutes, decode, V6Meta};
use vigil::fsm::InstanceId;
use vigil::types::{Family, Version};
use vigil::wire::{self, RxContext};
use vigil::wire::auth_hmac::{self, AuthHmac, HmacKey, Mode, Secret, Signer};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let key: Vec<u8> = (0u8..32).collect();
    let config = AuthHmac {
        keys: vec![HmacKey { id: 1, secret: Secret::new(&key) }],
        active_key: 1,
        mode: match selector & 0x03 {
            0 => Mode::ReceiveOnly,
            1 => Mode::Permissive,
            _ => Mode::Enforce,
        },
        time_window: (selector & 0x04 != 0).then_some(5),
    };
    let version = if selector & 0x08 == 0 { Version::V3 } else { Version::V2 };
    let ctx = RxContext {
        unicast: selector & 0x10 != 0,
        auth_hmac: Some(Arc::new(config)),
        ..RxContext::new(version)
    };
    let now = u32::from_be_bytes([selector, 0, 0, 0]) | 0x6800_0000;
    let v6 = selector & 0x80 != 0;
    let (family, bytes, meta) = if v6 {
        let Some((head, payload)) = rest.split_first_chunk::<32>() else { return };
        let mut s = [0u8; 16];
        let mut d = [0u8; 16];
        s.copy_from_slice(&head[..16]);
        d.copy_from_slice(&head[16..]);
        let meta = V6Meta { src: Ipv6Addr::from(s), dst: Ipv6Addr::from(d), hop_limit: 255 };
        (Family::V6, payload, Some(meta))
    } else {
        (Family::V4, rest, None)
    };
    let vrid = if v6 { wire::peek_vrid_ipv6(bytes) } else { wire::peek_vrid_ipv4(bytes) };
    if let Some(vrid) = vrid {
        let table = SocketRoutes {
            generation: 1,
            routes: vec![RxRoute {
                vrid,
                id: InstanceId(0),
                ctx: ctx.clone(),
                own: IpAddr::from([192, 0, 2, 250]),
                v2_interval: None,
                peers: None,
                vips: Vec::new().into(),
            }],
        };
        let _ = decode(family, bytes, meta, &table, now);
    }
    let parsed = match meta {
        Some(m) => wire::parse_ipv6_advert(bytes, m.src, m.dst, m.hop_limit, &ctx),
        None => wire::parse_ipv4_advert(bytes, &ctx),
    };
    let Ok(rx) = parsed else { return };
    let Some(trailer) = rx.hmac else {
        assert!(ctx.auth_hmac.as_ref().is_some_and(|a| a.mode != Mode::Enforce), "a trailerless advert passed enforce");
        return;
    };
    // Re-sign the message it carried: the same key, sequence and source give the same bytes.
    let tail = bytes.len() - auth_hmac::TRAILER_LEN;
    let message_start = tail - rx.vrrp.buffer_len_for(family);
    let message = &bytes[message_start..tail];
    let signer = Signer { version: rx.vrrp.version, vrid: rx.vrrp.vrid, src: rx.src };
    let again = auth_hmac::sign(&HmacKey { id: 1, secret: Secret::new(&key) }, &signer, message, trailer.sequence);
    assert_eq!(again, trailer, "an accepted trailer does not sign back");
});
