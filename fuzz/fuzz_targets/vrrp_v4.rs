//! A whole received IPv4 datagram through the daemon's receive path: IPv4 header, optional
//! AH with ICV check, VRRP validation, under every instance configuration the first bytes pick.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::daemon::receive::{PeerFilter, RxRoute, SocketRoutes, decode};
use vigil::fsm::InstanceId;
use vigil::types::{Centis, Family, Version};
use vigil::wire::{self, Auth, AuthKey, RxContext, V3Checksum};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, datagram)) = data.split_first() else { return };
    // The golden AH capture's key, so that seed reaches past the ICV check.
    let key = AuthKey::from_password(b"vigilah");
    let auth = match selector & 0x03 {
        0 => Auth::None,
        1 => Auth::Password(key),
        _ => Auth::Ah(key),
    };
    let version = if selector & 0x04 == 0 { Version::V2 } else { Version::V3 };
    let v3_checksum = match (selector >> 3) & 0x03 {
        0 => V3Checksum::PseudoHeader,
        1 => V3Checksum::PseudoHeaderMulticastDst,
        _ => V3Checksum::WithoutPseudoHeader,
    };
    let ctx = RxContext { version, auth, v3_checksum, unicast: selector & 0x20 != 0, auth_hmac: None };
    // The daemon's own receive step: route by VRID, then every check, never a panic.
    if let Some(vrid) = wire::peek_vrid_ipv4(datagram) {
        let table = SocketRoutes {
            generation: 1,
            routes: vec![RxRoute {
                vrid,
                id: InstanceId(0),
                ctx: ctx.clone(),
                own: std::net::Ipv4Addr::new(192, 0, 2, 1).into(),
                v2_interval: (selector & 0x40 != 0).then(|| Centis::from_secs(1)),
                // Unicast instances also run the peer source and TTL-range checks.
                peers: ctx.unicast.then(|| {
                    vec![PeerFilter {
                        addr: std::net::Ipv4Addr::new(192, 0, 2, 2).into(),
                        min_ttl: 64,
                        max_ttl: 255,
                    }]
                    .into()
                }),
                vips: vec![std::net::Ipv4Addr::new(192, 0, 2, 100).into()].into(),
            }],
        };
        let _ = decode(Family::V4, datagram, None, &table, 0);
    }
    if let Ok(rx) = wire::parse_ipv4_advert(datagram, &ctx) {
        // Whatever we accept we must be able to send again, identically for non-AH adverts.
        let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (rx.src, rx.dst) else {
            panic!("IPv4 parse returned non-IPv4 addresses");
        };
        let tx = wire::Ipv4Tx {
            src,
            dst,
            ttl: rx.ttl,
            id: rx.ip_id.unwrap_or(0),
            ah_sequence: rx.ah.map_or(0, |a| a.sequence),
            v3_checksum,
            unicast: ctx.unicast,
        };
        let mut out = vec![0; wire::ipv4_advert_len(&rx.vrrp)];
        if rx.vrrp.max_advert_int.get() != 0 || rx.vrrp.version == Version::V3 {
            assert!(wire::emit_ipv4_advert(&mut out, &rx.vrrp, &tx).is_ok(), "accepted advert does not re-emit");
            assert!(wire::parse_ipv4_advert(&out, &ctx).is_ok(), "re-emitted advert does not parse");
        }
    }
});
