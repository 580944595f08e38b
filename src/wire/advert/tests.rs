//! Whole-datagram tests: a v2 AH advert whose ICV was computed independently (Python's
//! hmac/hashlib over keepalived's layout), v3 over IPv4 and IPv6, and the IP-level errors.

use super::*;
use crate::types::{Centis, Priority, Version, Vrid};
use crate::wire::auth::AuthKey;
use crate::wire::constants::{VRRP_GROUP_V4, VRRP_GROUP_V6};
use crate::wire::error::Layer;

const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

// IPv4 (TOS 0xc0, id 1, TTL 255, protocol 51) + AH (SPI 192.0.2.1, seq 1, ICV) + VRRPv2
// (VRID 51, priority 100, auth type 2, 1 s, 192.0.2.100), key "secret".
static V2_AH: [u8; 64] = [
    0x45, 0xc0, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0xff, 0x33, 0x18, 0xb6, 0xc0, 0x00, 0x02, 0x01,
    0xe0, 0x00, 0x00, 0x12, // IPv4
    0x70, 0x04, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x01, 0xe9, 0xd3, 0x3f, 0x49,
    0x70, 0xc1, 0x96, 0x08, 0x67, 0x38, 0x71, 0xfc, // AH
    0x21, 0x33, 0x64, 0x01, 0x02, 0x01, 0xb6, 0x65, 0xc0, 0x00, 0x02, 0x64, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, // VRRP
];

fn key() -> AuthKey {
    AuthKey::from_password(b"secret")
}

fn ah_ctx() -> RxContext {
    RxContext {
        auth: Auth::Ah(key()),
        ..RxContext::new(Version::V2)
    }
}

fn v2_ah_repr() -> VrrpRepr {
    VrrpRepr {
        version: Version::V2,
        vrid: Vrid::new(51).unwrap(),
        priority: Priority::new(100),
        max_advert_int: Centis::from_secs(1),
        addresses: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
        auth: Auth::Ah(key()),
    }
}

fn tx(id: u16, seq: u32) -> Ipv4Tx {
    Ipv4Tx {
        src: SRC,
        dst: VRRP_GROUP_V4,
        ttl: VRRP_HOP_LIMIT,
        id,
        ah_sequence: seq,
        v3_checksum: V3Checksum::PseudoHeader,
        unicast: false,
    }
}

fn v3_repr() -> VrrpRepr {
    VrrpRepr {
        version: Version::V3,
        vrid: Vrid::new(7).unwrap(),
        priority: Priority::new(150),
        max_advert_int: Centis::new(35),
        addresses: vec![
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 101)),
        ],
        auth: Auth::None,
    }
}

fn v3_datagram() -> Vec<u8> {
    let repr = v3_repr();
    let mut buf = vec![0xa5; ipv4_advert_len(&repr)];
    emit_ipv4_advert(&mut buf, &repr, &tx(0x4242, 0)).unwrap();
    buf
}

/// Rewrites the IPv4 header checksum after a test edits the header.
fn fix_ip_checksum(d: &mut [u8]) {
    d[10..12].copy_from_slice(&[0, 0]);
    let sum = crate::wire::checksum::checksum(&d[..20]);
    d[10..12].copy_from_slice(&sum.to_be_bytes());
}

#[test]
fn parse_v2_ah_datagram() {
    let rx = parse_ipv4_advert(&V2_AH, &ah_ctx()).unwrap();
    assert_eq!(rx.src, IpAddr::V4(SRC));
    assert_eq!(rx.dst, IpAddr::V4(VRRP_GROUP_V4));
    assert_eq!((rx.ttl, rx.ip_id), (255, Some(1)));
    let ah = rx.ah.unwrap();
    assert_eq!((ah.spi, ah.sequence), (0xc000_0201, 1));
    assert_eq!(rx.vrrp, v2_ah_repr());
}

#[test]
fn emit_v2_ah_datagram_matches_independent_icv() {
    let repr = v2_ah_repr();
    assert_eq!(ipv4_advert_len(&repr), 64);
    let mut buf = vec![0xa5; 70];
    assert_eq!(emit_ipv4_advert(&mut buf, &repr, &tx(1, 1)).unwrap(), 64);
    assert_eq!(&buf[..64], &V2_AH);
    assert_eq!(&buf[64..], &[0xa5; 6]);
}

#[test]
fn v3_ipv4_round_trip_and_layout() {
    let d = v3_datagram();
    assert_eq!(d.len(), 20 + 16);
    assert_eq!((d[0], d[1], d[8], d[9]), (0x45, 0xc0, 255, 112));
    assert_eq!(&d[4..6], &[0x42, 0x42]);
    let rx = parse_ipv4_advert(&d, &RxContext::new(Version::V3)).unwrap();
    assert_eq!(rx.vrrp, v3_repr());
    assert_eq!(rx.ah, None);
    assert_eq!(peek_vrid_ipv4(&d), Some(7));
}

#[test]
fn v3_ipv6_payload() {
    let src: Ipv6Addr = "fe80::1".parse().unwrap();
    let dst = VRRP_GROUP_V6;
    let mut repr = v3_repr();
    repr.addresses = vec![
        "fe80::100".parse().unwrap(),
        "2001:db8::100".parse().unwrap(),
    ];
    let bytes = repr
        .to_vec(src.into(), dst.into(), V3Checksum::PseudoHeader)
        .unwrap();
    let rx = parse_ipv6_advert(
        &bytes,
        src,
        dst,
        VRRP_HOP_LIMIT,
        &RxContext::new(Version::V3),
    )
    .unwrap();
    assert_eq!(rx.vrrp, repr);
    assert_eq!((rx.ttl, rx.ip_id), (255, None));
    assert_eq!(peek_vrid_ipv6(&bytes), Some(7));
    assert_eq!(
        parse_ipv6_advert(&bytes, src, dst, 64, &RxContext::new(Version::V3)).unwrap_err(),
        Error::BadTtl(64)
    );
}

#[test]
fn peek_on_ah_datagram_and_garbage() {
    assert_eq!(peek_vrid_ipv4(&V2_AH), Some(51));
    assert_eq!(peek_vrid_ipv4(&[]), None);
    assert_eq!(peek_vrid_ipv4(&V2_AH[..45]), None);
}

#[test]
fn error_bad_ttl() {
    let mut d = v3_datagram();
    d[8] = 254;
    fix_ip_checksum(&mut d);
    assert_eq!(
        parse_ipv4_advert(&d, &RxContext::new(Version::V3)).unwrap_err(),
        Error::BadTtl(254)
    );
    // Unicast peers may be routed: keepalived does not check the TTL then.
    let unicast = RxContext {
        unicast: true,
        ..RxContext::new(Version::V3)
    };
    assert!(parse_ipv4_advert(&d, &unicast).is_ok());
}

#[test]
fn error_bad_protocol() {
    let mut d = v3_datagram();
    d[9] = 17;
    fix_ip_checksum(&mut d);
    assert_eq!(
        parse_ipv4_advert(&d, &RxContext::new(Version::V3)).unwrap_err(),
        Error::BadProtocol(17)
    );
}

#[test]
fn ip_errors_surface_through_the_one_call_parser() {
    let mut d = v3_datagram();
    d[11] ^= 1;
    assert!(matches!(
        parse_ipv4_advert(&d, &RxContext::new(Version::V3)),
        Err(Error::BadIpChecksum { .. })
    ));
    assert!(matches!(
        parse_ipv4_advert(&d[..10], &RxContext::new(Version::V3)),
        Err(Error::TooShort {
            what: Layer::Ipv4,
            ..
        })
    ));
}

#[test]
fn error_bad_ah_icv() {
    let mut d = V2_AH;
    d[63] = 1; // auth data is ignored by VRRP but covered by the ICV
    assert_eq!(
        parse_ipv4_advert(&d, &ah_ctx()).unwrap_err(),
        Error::BadAhIcv
    );
    let wrong_key = RxContext {
        auth: Auth::Ah(AuthKey::from_password(b"secreT")),
        ..ah_ctx()
    };
    assert_eq!(
        parse_ipv4_advert(&V2_AH, &wrong_key).unwrap_err(),
        Error::BadAhIcv
    );
    // Mutable fields are not covered: a router rewriting the TOS does not break it.
    let mut tos = V2_AH;
    tos[1] = 0;
    fix_ip_checksum(&mut tos);
    assert!(parse_ipv4_advert(&tos, &ah_ctx()).is_ok());
}

#[test]
fn error_bad_ah_spi() {
    let repr = v2_ah_repr();
    let mut buf = vec![0; 64];
    emit_ipv4_advert(&mut buf, &repr, &tx(1, 1)).unwrap();
    // Build a datagram whose SPI is not the source but whose ICV is right.
    let mut ah = AhHeader::parse(&buf[20..44]).unwrap();
    ah.spi = 0x0a00_0001;
    ah.icv = [0; 12];
    ah.emit(&mut buf[20..44]).unwrap();
    let (ip, rest) = buf.split_at_mut(20);
    let (ah_bytes, vrrp) = rest.split_at_mut(24);
    ah.icv = auth::ah_icv(&key(), ip, ah_bytes, vrrp, false);
    ah.emit(ah_bytes).unwrap();
    assert_eq!(
        parse_ipv4_advert(&buf, &ah_ctx()).unwrap_err(),
        Error::BadAhSpi {
            spi: 0x0a00_0001,
            src: IpAddr::V4(SRC)
        }
    );
}

#[test]
fn error_ah_presence_mismatch() {
    let none = RxContext::new(Version::V2);
    assert_eq!(
        parse_ipv4_advert(&V2_AH, &none).unwrap_err(),
        Error::AuthTypeMismatch {
            found: 2,
            expected: 0
        }
    );
    let mut repr = v2_ah_repr();
    repr.auth = Auth::None;
    let mut buf = vec![0; ipv4_advert_len(&repr)];
    emit_ipv4_advert(&mut buf, &repr, &tx(1, 1)).unwrap();
    assert!(matches!(
        parse_ipv4_advert(&buf, &ah_ctx()),
        Err(Error::BadAhHeader(_))
    ));
}

#[test]
fn unicast_ah_zeroes_ttl_in_icv() {
    let repr = v2_ah_repr();
    let mut t = tx(9, 5);
    t.unicast = true;
    t.dst = Ipv4Addr::new(192, 0, 2, 2);
    t.ttl = 64;
    let mut buf = vec![0; 64];
    emit_ipv4_advert(&mut buf, &repr, &t).unwrap();
    // One router hop later.
    buf[8] = 63;
    fix_ip_checksum(&mut buf);
    let ctx = RxContext {
        unicast: true,
        ..ah_ctx()
    };
    let rx = parse_ipv4_advert(&buf, &ctx).unwrap();
    assert_eq!(rx.ah.map(|a| a.sequence), Some(5));
    assert_eq!(
        parse_ipv4_advert(
            &buf,
            &RxContext {
                unicast: false,
                ..ah_ctx()
            }
        )
        .unwrap_err(),
        Error::BadTtl(63)
    );
}

#[test]
fn emit_into_short_buffer_fails() {
    let mut buf = [0u8; 63];
    assert_eq!(
        emit_ipv4_advert(&mut buf, &v2_ah_repr(), &tx(1, 1)).unwrap_err(),
        Error::BufferTooSmall {
            len: 63,
            needed: 64
        }
    );
}
