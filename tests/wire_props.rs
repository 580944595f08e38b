//! Property tests for the wire codecs: emit -> parse round trips for every advert and frame
//! kind, any single bit flip of a valid advert is refused, and parsers never panic on
//! arbitrary bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vigil::types::{Centis, Priority, Version, Vrid};
use vigil::wire::{
    self, Auth, AuthKey, GratuitousArp, Ipv4Tx, Ipv6Header, MacAddr, RxContext, UnsolicitedNa,
    V3Checksum, VRRP_GROUP_V4, VRRP_HOP_LIMIT, VrrpPacket, VrrpRepr,
};

fn vrid() -> impl Strategy<Value = Vrid> {
    (1u8..=255).prop_map(|v| Vrid::new(v).unwrap_or_else(|| unreachable!()))
}

fn v4_list() -> impl Strategy<Value = Vec<IpAddr>> {
    prop::collection::vec(
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        0..=20,
    )
}

fn v6_list() -> impl Strategy<Value = Vec<IpAddr>> {
    prop::collection::vec(
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
        0..=12,
    )
}

fn key() -> impl Strategy<Value = AuthKey> {
    any::<[u8; 8]>().prop_map(AuthKey::from_bytes)
}

fn v2_auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        key().prop_map(Auth::Password),
        key().prop_map(Auth::Ah)
    ]
}

fn checksum_mode() -> impl Strategy<Value = V3Checksum> {
    prop_oneof![
        Just(V3Checksum::PseudoHeader),
        Just(V3Checksum::PseudoHeaderMulticastDst),
        Just(V3Checksum::WithoutPseudoHeader)
    ]
}

/// A v2 (any auth) or v3 IPv4 advert and the context it is sent/received with.
fn ipv4_case() -> impl Strategy<Value = (VrrpRepr, Ipv4Tx, RxContext)> {
    let v2 = (vrid(), any::<u8>(), 1u32..=255, v4_list(), v2_auth()).prop_map(
        |(vrid, p, secs, addresses, auth)| {
            let repr = VrrpRepr {
                version: Version::V2,
                vrid,
                priority: Priority::new(p),
                max_advert_int: Centis::from_secs(secs),
                addresses,
                auth: auth.clone(),
            };
            (
                repr,
                RxContext {
                    auth,
                    ..RxContext::new(Version::V2)
                },
                V3Checksum::PseudoHeader,
            )
        },
    );
    let v3 = (vrid(), any::<u8>(), 0u32..=4095, v4_list(), checksum_mode()).prop_map(
        |(vrid, p, centis, addresses, mode)| {
            let repr = VrrpRepr {
                version: Version::V3,
                vrid,
                priority: Priority::new(p),
                max_advert_int: Centis::new(centis),
                addresses,
                auth: Auth::None,
            };
            (
                repr,
                RxContext {
                    v3_checksum: mode,
                    ..RxContext::new(Version::V3)
                },
                mode,
            )
        },
    );
    (
        prop_oneof![v2, v3],
        any::<[u8; 4]>(),
        any::<bool>(),
        any::<u16>(),
        any::<u32>(),
    )
        .prop_map(|((repr, mut ctx, mode), src, unicast, id, seq)| {
            let dst = if unicast {
                Ipv4Addr::new(192, 0, 2, 200)
            } else {
                VRRP_GROUP_V4
            };
            ctx.unicast = unicast;
            let tx = Ipv4Tx {
                src: Ipv4Addr::from(src),
                dst,
                ttl: VRRP_HOP_LIMIT,
                id,
                ah_sequence: seq,
                v3_checksum: mode,
                unicast,
            };
            (repr, tx, ctx)
        })
}

fn emit(repr: &VrrpRepr, tx: &Ipv4Tx) -> Vec<u8> {
    let mut buf = vec![0xa5; wire::ipv4_advert_len(repr)];
    let written = wire::emit_ipv4_advert(&mut buf, repr, tx);
    assert_eq!(written, Ok(buf.len()));
    buf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn ipv4_adverts_round_trip((repr, tx, ctx) in ipv4_case()) {
        let datagram = emit(&repr, &tx);
        let rx = wire::parse_ipv4_advert(&datagram, &ctx).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&rx.vrrp, &repr);
        prop_assert_eq!(rx.src, IpAddr::V4(tx.src));
        prop_assert_eq!(rx.ip_id, Some(tx.id));
        prop_assert_eq!(rx.ah.map(|a| a.sequence), matches!(repr.auth, Auth::Ah(_)).then_some(tx.ah_sequence));
        prop_assert_eq!(wire::peek_vrid_ipv4(&datagram), Some(repr.vrid.get()));
    }

    #[test]
    fn any_single_bit_flip_of_an_ipv4_advert_is_refused((repr, tx, ctx) in ipv4_case(), bit in any::<prop::sample::Index>()) {
        let mut datagram = emit(&repr, &tx);
        let bit = bit.index(datagram.len() * 8);
        datagram[bit / 8] ^= 1 << (bit % 8);
        // The IPv4 header checksum covers the header; the VRRP checksum (or the AH ICV)
        // covers the rest, and a one's complement sum always sees a single flipped bit.
        prop_assert!(wire::parse_ipv4_advert(&datagram, &ctx).is_err(), "bit {} flipped unnoticed", bit);
    }

    #[test]
    fn v3_ipv6_adverts_round_trip(vrid in vrid(), p in any::<u8>(), centis in 0u32..=4095, addresses in v6_list(),
                                  src in any::<[u8; 16]>(), dst in any::<[u8; 16]>()) {
        let repr = VrrpRepr { version: Version::V3, vrid, priority: Priority::new(p), max_advert_int: Centis::new(centis), addresses, auth: Auth::None };
        let (src, dst) = (Ipv6Addr::from(src), Ipv6Addr::from(dst));
        let mut buf = vec![0xa5; repr.buffer_len_for(vigil::types::Family::V6)];
        prop_assert_eq!(repr.emit(&mut buf, src.into(), dst.into(), V3Checksum::PseudoHeader), Ok(buf.len()));
        let rx = wire::parse_ipv6_advert(&buf, src, dst, VRRP_HOP_LIMIT, &RxContext::new(Version::V3)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(rx.vrrp, repr);
    }

    #[test]
    fn garp_round_trips(mac in any::<[u8; 6]>(), ip in any::<[u8; 4]>()) {
        let garp = GratuitousArp::new(MacAddr(mac), Ipv4Addr::from(ip));
        let mut buf = vec![0xa5; garp.buffer_len()];
        prop_assert_eq!(garp.emit(&mut buf), Ok(buf.len()));
        prop_assert_eq!(GratuitousArp::parse(&buf), Ok(garp));
    }

    #[test]
    fn na_round_trips(mac in any::<[u8; 6]>(), target in any::<[u8; 16]>(), router in any::<bool>()) {
        let na = UnsolicitedNa::new(MacAddr(mac), Ipv6Addr::from(target), router);
        let mut buf = vec![0xa5; na.buffer_len()];
        prop_assert_eq!(na.emit(&mut buf), Ok(buf.len()));
        prop_assert_eq!(UnsolicitedNa::parse(&buf), Ok(na));
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..200), auth in v2_auth(),
                                               version in prop_oneof![Just(Version::V2), Just(Version::V3)], unicast in any::<bool>()) {
        let ctx = RxContext { version, auth, v3_checksum: V3Checksum::PseudoHeader, unicast, auth_hmac: None };
        let _ = wire::parse_ipv4_advert(&data, &ctx);
        let _ = wire::parse_ipv6_advert(&data, Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, VRRP_HOP_LIMIT, &ctx);
        let _ = VrrpRepr::parse(&data, IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::BROADCAST), &ctx);
        let _ = wire::peek_vrid_ipv4(&data);
        let _ = GratuitousArp::parse(&data);
        let _ = UnsolicitedNa::parse(&data);
        let _ = Ipv6Header::parse(&data);
        let p = VrrpPacket::new_unchecked(&data[..]);
        let _ = (p.version(), p.vrid(), p.checksum(), p.max_adver_int(), p.auth_data(), p.address_bytes(vigil::types::Family::V6));
    }

    #[test]
    fn mutated_valid_adverts_never_panic((repr, tx, ctx) in ipv4_case(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
        // Structure-aware: start from a valid datagram so the deeper layers get exercised.
        let mut datagram = emit(&repr, &tx);
        for (index, value) in edits {
            let i = index.index(datagram.len());
            datagram[i] = value;
        }
        let len = cut.index(datagram.len() + 1);
        let _ = wire::parse_ipv4_advert(&datagram[..len], &ctx);
        let _ = wire::parse_ipv4_advert(&datagram, &ctx);
    }
}
