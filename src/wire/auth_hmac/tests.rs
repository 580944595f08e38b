//! RFC 4231's HMAC-SHA-256 vectors, the wire images keepalived's own test pins (its IETF
//! draft's appendix: key 00..1f, VRID 51, priority 200, sequence 0x68000000_80000000), and
//! round trips through the advert codec.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;
use crate::types::{Centis, Priority};
use crate::wire::advert::{
    Ipv4Tx, emit_ipv4_advert_signed, emit_ipv6_advert, ipv4_advert_len_signed, parse_ipv4_advert,
    parse_ipv6_advert,
};
use crate::wire::{Auth, RxContext, V3Checksum, VrrpRepr};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = hmac_sha256(key);
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

// RFC 4231 §4.2 to §4.8.
#[test]
fn rfc4231_hmac_sha256_vectors() {
    let long_key = vec![0xaa; 131];
    let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
        (
            vec![0x0b; 20],
            b"Hi There".to_vec(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            vec![0xaa; 20],
            vec![0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        ),
        (
            (1..=25).collect(),
            vec![0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        ),
        (
            long_key.clone(),
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            long_key,
            b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, data, want)) in cases.iter().enumerate() {
        assert_eq!(mac(key, data), hex(want), "RFC 4231 case {i}");
    }
    // §4.6, truncated to 128 bits: what the trailer carries.
    assert_eq!(
        mac(&[0x0c; 20], b"Test With Truncation")[..16],
        hex("a3b6167473100ee06e0c796c2955552b")[..]
    );
}

fn draft_key() -> HmacKey {
    HmacKey {
        id: 1,
        secret: Secret::new(&(0u8..32).collect::<Vec<_>>()),
    }
}

fn config(mode: Mode) -> AuthHmac {
    AuthHmac {
        keys: vec![draft_key()],
        active_key: 1,
        mode,
        time_window: None,
    }
}

const V4_IMAGE: &str = "3133c80100644402c0000264010100006800000080000000\
                        1b84bc4e8e43892dc6d98448f8ee2265";
const V6_IMAGE: &str = "3133c8010064a2e9fe800000000000000000000000000100\
                        010100006800000080000000c8c56146ebfd66ee10ec4d8186461b78";
const DRAFT_SEQ: Sequence = Sequence(0x6800_0000_8000_0000);

fn v6_image() -> Vec<u8> {
    hex(V6_IMAGE)
}

fn signer(src: IpAddr) -> Signer {
    Signer {
        version: Version::V3,
        vrid: Vrid::new(51).expect("51"),
        src,
    }
}

const V4_SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10));

fn v6_src() -> IpAddr {
    "fe80::10".parse().expect("literal")
}

#[test]
fn keepalived_s_pinned_images_verify() {
    let v4 = hex(V4_IMAGE);
    let (msg, tr) = v4.split_at(12);
    let trailer = Trailer::parse(tr).expect("trailer");
    assert_eq!(trailer.sequence, DRAFT_SEQ);
    assert_eq!(trailer.key_id, 1);
    verify(&config(Mode::Enforce), &signer(V4_SRC), msg, &trailer).expect("IPv4 image");
    // Signing the same message at the same sequence gives the same bytes.
    assert_eq!(sign(&draft_key(), &signer(V4_SRC), msg, DRAFT_SEQ), trailer);

    let v6 = v6_image();
    assert_eq!(v6.len(), 24 + TRAILER_LEN);
    let (msg, tr) = v6.split_at(24);
    let trailer = Trailer::parse(tr).expect("trailer");
    verify(&config(Mode::Enforce), &signer(v6_src()), msg, &trailer).expect("IPv6 image");
}

#[test]
fn the_ipv6_image_parses_whole_with_its_checksum_over_the_trailer() {
    let ctx = RxContext {
        auth_hmac: Some(std::sync::Arc::new(config(Mode::Enforce))),
        ..RxContext::new(Version::V3)
    };
    let src: Ipv6Addr = "fe80::10".parse().expect("literal");
    let dst: Ipv6Addr = "fe80::20".parse().expect("literal");
    let got = parse_ipv6_advert(&v6_image(), src, dst, 255, &ctx).expect("keepalived's image");
    assert_eq!(got.hmac.map(|t| t.sequence), Some(DRAFT_SEQ));
    assert_eq!(got.vrrp.priority, Priority::new(200));
}

#[test]
fn one_flipped_byte_per_field_is_refused_for_its_reason() {
    let img = v6_image();
    let check = |at: usize| {
        let mut b = img.clone();
        b[at] ^= 1;
        let (msg, tr) = b.split_at(24);
        let trailer = Trailer::parse(tr).expect("28 bytes");
        verify(&config(Mode::Enforce), &signer(v6_src()), msg, &trailer)
    };
    let bad_tag = |r: Result<(), Error>| matches!(r, Err(Error::HmacBadTag { .. }));
    assert!(bad_tag(check(2)), "priority");
    assert!(bad_tag(check(5)), "interval");
    assert!(check(6).is_ok(), "the checksum is not covered");
    assert!(bad_tag(check(8 + 15)), "the address");
    assert!(
        matches!(check(24), Err(Error::HmacMalformed { .. })),
        "type"
    );
    assert!(
        matches!(check(25), Err(Error::HmacUnknownKey { key_id: 0, .. })),
        "key id"
    );
    assert!(
        matches!(check(26), Err(Error::HmacMalformed { .. })),
        "reserved"
    );
    assert!(bad_tag(check(28)), "seconds");
    assert!(bad_tag(check(34)), "counter");
    assert!(bad_tag(check(40)), "the HMAC itself");
    // The pseudo-header binds the source, the VRID and the version.
    let (msg, tr) = img.split_at(24);
    let trailer = Trailer::parse(tr).expect("28 bytes");
    let other_src = signer("fe80::20".parse().expect("literal"));
    assert!(bad_tag(verify(
        &config(Mode::Enforce),
        &other_src,
        msg,
        &trailer
    )));
    let other_vrid = Signer {
        vrid: Vrid::new(52).expect("52"),
        ..signer(v6_src())
    };
    assert!(bad_tag(verify(
        &config(Mode::Enforce),
        &other_vrid,
        msg,
        &trailer
    )));
    let v2 = Signer {
        version: Version::V2,
        ..signer(v6_src())
    };
    assert!(bad_tag(verify(&config(Mode::Enforce), &v2, msg, &trailer)));
    // Another key under the same id.
    let mut other_key = config(Mode::Enforce);
    other_key.keys[0].secret = Secret::new(&[7; 32]);
    assert!(bad_tag(verify(
        &other_key,
        &signer(v6_src()),
        msg,
        &trailer
    )));
}

fn v3_repr(addr: IpAddr) -> VrrpRepr {
    VrrpRepr {
        version: Version::V3,
        vrid: Vrid::new(51).expect("51"),
        priority: Priority::new(200),
        max_advert_int: Centis::new(100),
        addresses: vec![addr],
        auth: Auth::None,
    }
}

fn tx() -> Ipv4Tx {
    Ipv4Tx {
        src: Ipv4Addr::new(198, 51, 100, 10),
        dst: crate::wire::VRRP_GROUP_V4,
        ttl: 255,
        id: 1,
        ah_sequence: 0,
        v3_checksum: V3Checksum::PseudoHeader,
        unicast: false,
    }
}

#[test]
fn ipv4_round_trip_and_the_modes() {
    let repr = v3_repr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)));
    let key = draft_key();
    let hmac = crate::wire::advert::HmacTx {
        key: &key,
        sequence: DRAFT_SEQ,
    };
    let len = ipv4_advert_len_signed(&repr, true);
    let mut buf = vec![0xa5; len];
    assert_eq!(
        emit_ipv4_advert_signed(&mut buf, &repr, &tx(), Some(&hmac)),
        Ok(len)
    );
    // The trailer is keepalived's image for the same message (the checksums differ: this one
    // has the RFC 5798 pseudo-header, which the HMAC reads as zero anyway).
    assert_eq!(buf[20 + 12..], hex(V4_IMAGE)[12..]);
    let ctx = |mode| RxContext {
        auth_hmac: Some(std::sync::Arc::new(config(mode))),
        ..RxContext::new(Version::V3)
    };
    let got = parse_ipv4_advert(&buf, &ctx(Mode::Enforce)).expect("signed advert");
    assert_eq!(got.hmac.map(|t| t.sequence), Some(DRAFT_SEQ));

    // Without a trailer: refused under enforce, taken by the migration modes.
    let mut plain = vec![0xa5; ipv4_advert_len_signed(&repr, false)];
    emit_ipv4_advert_signed(&mut plain, &repr, &tx(), None).expect("plain");
    assert_eq!(
        parse_ipv4_advert(&plain, &ctx(Mode::Enforce)).map(|_| ()),
        Err(Error::HmacMissing)
    );
    for mode in [Mode::Permissive, Mode::ReceiveOnly] {
        assert_eq!(
            parse_ipv4_advert(&plain, &ctx(mode)).map(|r| r.hmac),
            Ok(None)
        );
    }
    // A bad trailer is refused whatever the mode.
    let mut forged = buf.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x80;
    for mode in [Mode::Enforce, Mode::Permissive, Mode::ReceiveOnly] {
        assert!(matches!(
            parse_ipv4_advert(&forged, &ctx(mode)),
            Err(Error::HmacBadTag { .. })
        ));
    }
    // An instance without auth_hmac refuses the longer datagram, as keepalived does.
    assert!(matches!(
        parse_ipv4_advert(&buf, &RxContext::new(Version::V3)),
        Err(Error::AddressCountMismatch { .. })
    ));
}

#[test]
fn ipv6_round_trip_matches_keepalived_s_image() {
    let repr = v3_repr("fe80::100".parse().expect("literal"));
    let key = draft_key();
    let hmac = crate::wire::advert::HmacTx {
        key: &key,
        sequence: DRAFT_SEQ,
    };
    let src: Ipv6Addr = "fe80::10".parse().expect("literal");
    let dst: Ipv6Addr = "fe80::20".parse().expect("literal");
    let mut buf = vec![0xa5; 24 + TRAILER_LEN];
    let n = emit_ipv6_advert(
        &mut buf,
        &repr,
        src,
        dst,
        V3Checksum::PseudoHeader,
        Some(&hmac),
    )
    .expect("emit");
    assert_eq!(n, buf.len());
    // Byte for byte, the checksum over the trailer included.
    assert_eq!(buf, v6_image());
}

#[test]
fn sequence_layout_and_order() {
    let s = Sequence::from_clock(0x6800_0000, 500_000_000);
    assert_eq!(s, DRAFT_SEQ);
    assert_eq!(s.secs(), 0x6800_0000);
    assert!(Sequence(1).after(Sequence(0)));
    assert!(!Sequence(0).after(Sequence(0)));
    // Serial arithmetic survives the wrap.
    assert!(Sequence(0).after(Sequence(u64::MAX)));
    let t = Trailer::parse(&hex(&V4_IMAGE[24..])).expect("trailer");
    let mut out = vec![0xa5; TRAILER_LEN];
    t.emit(&mut out).expect("emit");
    assert_eq!(out, hex(&V4_IMAGE[24..]));
    assert!(Trailer::parse(&[0; 27]).is_err());
}

#[test]
fn the_window_is_symmetric_and_wraps() {
    let mut c = config(Mode::Enforce);
    c.time_window = Some(5);
    assert!(!c.is_stale(100, 105));
    assert!(c.is_stale(100, 106));
    assert!(!c.is_stale(105, 100));
    assert!(c.is_stale(106, 100));
    assert!(!c.is_stale(u32::MAX, 2), "across the 2^32 wrap");
    c.time_window = None;
    assert!(!c.is_stale(0, 1_000_000));
}

#[test]
fn secrets_never_print() {
    let k = draft_key();
    let shown = format!("{k:?}");
    assert!(!shown.contains("1, 2, 3"), "{shown}");
    assert!(shown.contains("32 bytes"));
}
