//! Construct/deconstruct tests against messages written out by hand from RFC 3768 §5.1 and
//! RFC 5798 §5.1 (checksums computed independently), and one test per error variant.

use super::*;
use crate::wire::constants::VRRP_GROUP_V6;

const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const DST4: IpAddr = IpAddr::V4(VRRP_GROUP_V4);

fn src6() -> IpAddr {
    "fe80::1".parse().unwrap()
}
fn dst6() -> IpAddr {
    IpAddr::V6(VRRP_GROUP_V6)
}
fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

// v2, VRID 51, priority 100, one address, no auth, 1 s.
static V2_NONE: [u8; 20] = [
    0x21, 0x33, 0x64, 0x01, // version 2 type 1, VRID 51, priority 100, count 1
    0x00, 0x01, 0xb8, 0x65, // auth none, adver int 1 s, checksum
    192, 0, 2, 100, // 192.0.2.100
    0, 0, 0, 0, 0, 0, 0, 0, // authentication data
];

// v2, VRID 51, priority 100, two addresses, password "secret", 3 s.
static V2_PASS: [u8; 24] = [
    0x21, 0x33, 0x64, 0x02, 0x01, 0x03, 0xb8, 0xb0, 192, 0, 2, 100, 192, 0, 2, 101, b's', b'e',
    b'c', b'r', b'e', b't', 0, 0,
];

// v3 over IPv4 from 192.0.2.1 to 224.0.0.18, VRID 1, priority 100, 1.00 s, 192.0.2.100.
static V3_V4: [u8; 12] = [
    0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x05, 0xa4, 192, 0, 2, 100,
];
// The same without the pseudo-header (keepalived's v3_checksum_as_v2).
static V3_V4_AS_V2: [u8; 12] = [
    0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0xa8, 0x34, 192, 0, 2, 100,
];

// v3 over IPv6 from fe80::1 to ff02::12, VRID 1, priority 200, 1.00 s, fe80::100.
static V3_V6: [u8; 24] = [
    0x31, 0x01, 0xc8, 0x01, 0x00, 0x64, 0x08, 0xf9, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x01, 0x00,
];

fn v2_ctx(auth: Auth) -> RxContext {
    RxContext {
        auth,
        ..RxContext::new(Version::V2)
    }
}
fn v3_ctx() -> RxContext {
    RxContext::new(Version::V3)
}
fn password() -> Auth {
    Auth::Password(AuthKey::from_password(b"secret"))
}

#[test]
fn deconstruct_v2() {
    let p = VrrpPacket::new_checked(&V2_NONE[..]).unwrap();
    assert_eq!(p.version(), 2);
    assert_eq!(p.msg_type(), 1);
    assert_eq!(p.vrid(), 51);
    assert_eq!(p.priority(), 100);
    assert_eq!(p.count(), 1);
    assert_eq!(p.auth_type(), 0);
    assert_eq!(p.adver_int_secs(), 1);
    assert_eq!(p.checksum(), 0xb865);
    assert_eq!(p.address_bytes(Family::V4), Some(&[192, 0, 2, 100][..]));
    assert_eq!(p.auth_data(), Some(&[0u8; 8][..]));
}

#[test]
fn deconstruct_v3() {
    let p = VrrpPacket::new_checked(&V3_V4[..]).unwrap();
    assert_eq!(
        (p.version(), p.msg_type(), p.vrid(), p.priority(), p.count()),
        (3, 1, 1, 100, 1)
    );
    assert_eq!(p.max_adver_int(), 100);
    assert_eq!(p.checksum(), 0x05a4);
    // RFC 5798 §5.2.6: reserved bits are ignored on reception.
    let mut buf = V3_V4;
    buf[4] |= 0xf0;
    assert_eq!(VrrpPacket::new_unchecked(&buf[..]).max_adver_int(), 100);
}

#[test]
fn construct_v3_by_setters() {
    let mut buf = vec![0xa5; 12];
    let mut p = VrrpPacket::new_unchecked(&mut buf);
    p.set_version_type(3, 1);
    p.set_vrid(1);
    p.set_priority(100);
    p.set_count(1);
    p.set_max_adver_int(100);
    p.body_mut().copy_from_slice(&[192, 0, 2, 100]);
    p.fill_checksum(pseudo_header_sum(
        Version::V3,
        SRC4,
        DST4,
        12,
        V3Checksum::PseudoHeader,
    ));
    assert_eq!(buf, V3_V4);
}

fn repr_v2(auth: Auth, addresses: Vec<IpAddr>, secs: u32) -> VrrpRepr {
    VrrpRepr {
        version: Version::V2,
        vrid: Vrid::new(51).unwrap(),
        priority: Priority::new(100),
        max_advert_int: Centis::from_secs(secs),
        addresses,
        auth,
    }
}

fn repr_v3(priority: u8, addresses: Vec<IpAddr>) -> VrrpRepr {
    VrrpRepr {
        version: Version::V3,
        vrid: Vrid::new(1).unwrap(),
        priority: Priority::new(priority),
        max_advert_int: Centis::new(100),
        addresses,
        auth: Auth::None,
    }
}

#[test]
fn parse_v2_none() {
    let repr = VrrpRepr::parse(&V2_NONE, SRC4, DST4, &v2_ctx(Auth::None)).unwrap();
    assert_eq!(repr, repr_v2(Auth::None, vec![v4(192, 0, 2, 100)], 1));
}

#[test]
fn parse_v2_password() {
    let repr = VrrpRepr::parse(&V2_PASS, SRC4, DST4, &v2_ctx(password())).unwrap();
    assert_eq!(
        repr,
        repr_v2(password(), vec![v4(192, 0, 2, 100), v4(192, 0, 2, 101)], 3)
    );
}

#[test]
fn parse_v3_ipv4_both_checksum_modes() {
    let repr = VrrpRepr::parse(&V3_V4, SRC4, DST4, &v3_ctx()).unwrap();
    assert_eq!(repr, repr_v3(100, vec![v4(192, 0, 2, 100)]));
    let as_v2 = RxContext {
        v3_checksum: V3Checksum::WithoutPseudoHeader,
        ..v3_ctx()
    };
    assert_eq!(
        VrrpRepr::parse(&V3_V4_AS_V2, SRC4, DST4, &as_v2).unwrap(),
        repr
    );
    // Each mode refuses the other's checksum.
    assert!(matches!(
        VrrpRepr::parse(&V3_V4_AS_V2, SRC4, DST4, &v3_ctx()),
        Err(Error::BadChecksum { .. })
    ));
    assert!(matches!(
        VrrpRepr::parse(&V3_V4, SRC4, DST4, &as_v2),
        Err(Error::BadChecksum { .. })
    ));
}

#[test]
fn parse_v3_ipv6() {
    let repr = VrrpRepr::parse(&V3_V6, src6(), dst6(), &v3_ctx()).unwrap();
    assert_eq!(repr, repr_v3(200, vec!["fe80::100".parse().unwrap()]));
}

#[test]
fn emit_matches_hand_written_bytes() {
    let cases: [(VrrpRepr, IpAddr, IpAddr, V3Checksum, &[u8]); 5] = [
        (
            repr_v2(Auth::None, vec![v4(192, 0, 2, 100)], 1),
            SRC4,
            DST4,
            V3Checksum::PseudoHeader,
            &V2_NONE,
        ),
        (
            repr_v2(password(), vec![v4(192, 0, 2, 100), v4(192, 0, 2, 101)], 3),
            SRC4,
            DST4,
            V3Checksum::PseudoHeader,
            &V2_PASS,
        ),
        (
            repr_v3(100, vec![v4(192, 0, 2, 100)]),
            SRC4,
            DST4,
            V3Checksum::PseudoHeader,
            &V3_V4,
        ),
        (
            repr_v3(100, vec![v4(192, 0, 2, 100)]),
            SRC4,
            DST4,
            V3Checksum::WithoutPseudoHeader,
            &V3_V4_AS_V2,
        ),
        (
            repr_v3(200, vec!["fe80::100".parse().unwrap()]),
            src6(),
            dst6(),
            V3Checksum::PseudoHeader,
            &V3_V6,
        ),
    ];
    for (repr, src, dst, mode, expected) in cases {
        assert_eq!(repr.buffer_len(), expected.len());
        // Emit into a poisoned, longer buffer: every byte of the message must be written
        // and nothing past it touched.
        let mut buf = vec![0xa5; expected.len() + 4];
        assert_eq!(repr.emit(&mut buf, src, dst, mode).unwrap(), expected.len());
        assert_eq!(&buf[..expected.len()], expected, "{repr:?}");
        assert_eq!(&buf[expected.len()..], &[0xa5; 4]);
    }
}

#[test]
fn v2_ah_emits_type_2_and_zero_auth_data() {
    let key = AuthKey::from_password(b"secret");
    let repr = repr_v2(Auth::Ah(key.clone()), vec![v4(192, 0, 2, 100)], 1);
    let bytes = repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader).unwrap();
    assert_eq!(bytes[4], 2);
    assert_eq!(&bytes[12..], &[0; 8]);
    let parsed = VrrpRepr::parse(&bytes, SRC4, DST4, &v2_ctx(Auth::Ah(key))).unwrap();
    assert_eq!(parsed, repr);
}

// ---- one test per error variant the VRRP layer can raise ----

#[test]
fn error_too_short() {
    let err = VrrpRepr::parse(&V3_V4[..7], SRC4, DST4, &v3_ctx()).unwrap_err();
    assert_eq!(
        err,
        Error::TooShort {
            what: Layer::Vrrp,
            len: 7,
            needed: 8
        }
    );
}

#[test]
fn error_bad_version() {
    let err = VrrpRepr::parse(&V3_V4, SRC4, DST4, &v2_ctx(Auth::None)).unwrap_err();
    assert_eq!(
        err,
        Error::BadVersion {
            found: 3,
            expected: 2
        }
    );
    let mut buf = V3_V4;
    buf[0] = 0x41;
    assert_eq!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v3_ctx()).unwrap_err(),
        Error::BadVersion {
            found: 4,
            expected: 3
        }
    );
}

#[test]
fn error_bad_type() {
    let mut buf = V3_V4;
    buf[0] = 0x32;
    assert_eq!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v3_ctx()).unwrap_err(),
        Error::BadType(2)
    );
}

#[test]
fn error_bad_checksum() {
    let mut buf = V3_V4;
    buf[2] = 101; // priority changed, checksum not
    assert!(matches!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v3_ctx()),
        Err(Error::BadChecksum { found: 0x05a4, .. })
    ));
    // The v3 IPv4 pseudo-header covers the addresses: another source fails.
    assert!(matches!(
        VrrpRepr::parse(&V3_V4, v4(192, 0, 2, 2), DST4, &v3_ctx()),
        Err(Error::BadChecksum { .. })
    ));
    let mut buf = V2_NONE;
    buf[19] = 1;
    assert!(matches!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v2_ctx(Auth::None)),
        Err(Error::BadChecksum { .. })
    ));
}

#[test]
fn error_address_count_mismatch() {
    let mut buf = V3_V4;
    buf[3] = 2;
    assert_eq!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v3_ctx()).unwrap_err(),
        Error::AddressCountMismatch {
            count: 2,
            len: 12,
            expected: 16
        }
    );
    let mut long = V3_V4.to_vec();
    long.extend_from_slice(&[0, 0, 0, 0]);
    assert!(matches!(
        VrrpRepr::parse(&long, SRC4, DST4, &v3_ctx()),
        Err(Error::AddressCountMismatch {
            count: 1,
            len: 16,
            expected: 12
        })
    ));
    // An IPv4-sized list received over IPv6 does not add up either.
    assert!(matches!(
        VrrpRepr::parse(&V3_V4, src6(), dst6(), &v3_ctx()),
        Err(Error::AddressCountMismatch { expected: 24, .. })
    ));
}

#[test]
fn error_wrong_family() {
    let err = VrrpRepr::parse(&V3_V4, SRC4, dst6(), &v3_ctx()).unwrap_err();
    assert!(matches!(err, Error::WrongFamily(_)));
    let err = VrrpRepr::parse(&V2_NONE, src6(), dst6(), &v2_ctx(Auth::None)).unwrap_err();
    assert!(matches!(err, Error::WrongFamily(_)));
    let mixed = repr_v3(
        100,
        vec![v4(192, 0, 2, 100), "2001:db8::1".parse().unwrap()],
    );
    assert!(matches!(
        mixed.to_vec(SRC4, DST4, V3Checksum::PseudoHeader),
        Err(Error::WrongFamily(_))
    ));
    let v6_list = repr_v3(100, vec!["2001:db8::1".parse().unwrap()]);
    assert!(matches!(
        v6_list.to_vec(SRC4, DST4, V3Checksum::PseudoHeader),
        Err(Error::WrongFamily(_))
    ));
}

#[test]
fn error_zero_vrid() {
    let mut buf = V3_V4;
    buf[1] = 0;
    // Keep the checksum right so that the VRID itself is what is refused.
    VrrpPacket::new_unchecked(&mut buf[..]).fill_checksum(pseudo_header_sum(
        Version::V3,
        SRC4,
        DST4,
        12,
        V3Checksum::PseudoHeader,
    ));
    assert_eq!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v3_ctx()).unwrap_err(),
        Error::ZeroVrid
    );
}

#[test]
fn error_unknown_auth_type() {
    let mut buf = V2_NONE;
    buf[4] = 3;
    VrrpPacket::new_unchecked(&mut buf[..]).fill_checksum(0);
    assert_eq!(
        VrrpRepr::parse(&buf, SRC4, DST4, &v2_ctx(Auth::None)).unwrap_err(),
        Error::UnknownAuthType(3)
    );
}

#[test]
fn error_auth_type_mismatch() {
    let err = VrrpRepr::parse(&V2_NONE, SRC4, DST4, &v2_ctx(password())).unwrap_err();
    assert_eq!(
        err,
        Error::AuthTypeMismatch {
            found: 0,
            expected: 1
        }
    );
    let err = VrrpRepr::parse(&V2_PASS, SRC4, DST4, &v2_ctx(Auth::None)).unwrap_err();
    assert_eq!(
        err,
        Error::AuthTypeMismatch {
            found: 1,
            expected: 0
        }
    );
}

#[test]
fn error_bad_password() {
    let wrong = Auth::Password(AuthKey::from_password(b"secreT"));
    assert_eq!(
        VrrpRepr::parse(&V2_PASS, SRC4, DST4, &v2_ctx(wrong)).unwrap_err(),
        Error::BadPassword
    );
    // keepalived truncates to 8 bytes: a longer configured password with the same first
    // 8 bytes is the same key.
    let long = Auth::Password(AuthKey::from_password(b"secret\0\0trailing"));
    assert!(VrrpRepr::parse(&V2_PASS, SRC4, DST4, &v2_ctx(long)).is_ok());
}

#[test]
fn error_interval_not_whole_seconds() {
    let mut repr = repr_v2(Auth::None, vec![v4(192, 0, 2, 100)], 1);
    repr.max_advert_int = Centis::new(150);
    assert_eq!(
        repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader)
            .unwrap_err(),
        Error::IntervalNotWholeSeconds(Centis::new(150))
    );
    repr.max_advert_int = Centis::from_secs(256);
    assert!(matches!(
        repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader),
        Err(Error::IntervalNotWholeSeconds(_))
    ));
    repr.max_advert_int = Centis::ZERO;
    assert!(matches!(
        repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader),
        Err(Error::IntervalNotWholeSeconds(_))
    ));
}

#[test]
fn error_interval_too_large() {
    let mut repr = repr_v3(100, vec![v4(192, 0, 2, 100)]);
    repr.max_advert_int = Centis::new(4096);
    assert_eq!(
        repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader)
            .unwrap_err(),
        Error::IntervalTooLarge(Centis::new(4096))
    );
    repr.max_advert_int = Centis::new(4095);
    assert!(repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader).is_ok());
}

#[test]
fn error_auth_on_v3() {
    let mut repr = repr_v3(100, vec![v4(192, 0, 2, 100)]);
    repr.auth = password();
    assert_eq!(
        repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader)
            .unwrap_err(),
        Error::AuthOnV3
    );
}

#[test]
fn error_too_many_addresses() {
    let repr = repr_v3(
        100,
        (0..=255)
            .map(|i| v4(10, 0, 0, i as u8))
            .chain([v4(10, 0, 1, 0)])
            .collect(),
    );
    assert_eq!(
        repr.to_vec(SRC4, DST4, V3Checksum::PseudoHeader)
            .unwrap_err(),
        Error::TooManyAddresses(257)
    );
}

#[test]
fn error_buffer_too_small() {
    let repr = repr_v3(100, vec![v4(192, 0, 2, 100)]);
    let mut buf = [0u8; 11];
    assert_eq!(
        repr.emit(&mut buf, SRC4, DST4, V3Checksum::PseudoHeader)
            .unwrap_err(),
        Error::BufferTooSmall {
            len: 11,
            needed: 12
        }
    );
}

#[test]
fn accessors_on_short_buffers_do_not_panic() {
    let p = VrrpPacket::new_unchecked(&[0x31u8][..]);
    assert_eq!((p.vrid(), p.checksum(), p.max_adver_int()), (0, 0, 0));
    assert_eq!(p.address_bytes(Family::V6), None);
    assert_eq!(p.auth_data(), None);
    assert!(VrrpPacket::new_checked(&[0u8; 7][..]).is_err());
}

#[test]
fn old_unicast_checksum_uses_the_group_as_pseudo_destination() {
    let peer = v4(192, 0, 2, 2);
    let repr = repr_v3(100, vec![v4(192, 0, 2, 100)]);
    let old = repr
        .to_vec(SRC4, peer, V3Checksum::PseudoHeaderMulticastDst)
        .unwrap();
    // The same bytes as a multicast advert: only the pseudo-header destination matters.
    assert_eq!(old, V3_V4);
    let ctx = RxContext {
        v3_checksum: V3Checksum::PseudoHeaderMulticastDst,
        ..v3_ctx()
    };
    assert_eq!(VrrpRepr::parse(&old, SRC4, peer, &ctx).unwrap(), repr);
    assert!(matches!(
        VrrpRepr::parse(&old, SRC4, peer, &v3_ctx()),
        Err(Error::BadChecksum { .. })
    ));
}
