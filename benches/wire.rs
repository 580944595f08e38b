//! Wire codec throughput: parse+validate and emit per advert kind, and the GARP/NA frames.
//! Target (issue 2): >= 5 million v3 IPv4 adverts parsed and validated per second on one core.
//!
//!     cargo bench --bench wire -- --quick

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil::types::{Centis, Family, Priority, Version, Vrid};
use vigil::wire::{
    self, Auth, AuthKey, GratuitousArp, Ipv4Tx, MacAddr, RxContext, UnsolicitedNa, V3Checksum,
    VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_HOP_LIMIT, VrrpRepr,
};

struct Case {
    name: &'static str,
    repr: VrrpRepr,
    ctx: RxContext,
}

fn repr(version: Version, auth: Auth, interval: Centis, addresses: Vec<IpAddr>) -> VrrpRepr {
    VrrpRepr {
        version,
        vrid: Vrid::new(51).unwrap_or_else(|| unreachable!()),
        priority: Priority::new(150),
        max_advert_int: interval,
        addresses,
        auth,
    }
}

fn ipv4_cases() -> Vec<Case> {
    let vip = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
    let key = AuthKey::from_password(b"secret");
    let v2 = |auth: Auth| RxContext {
        auth,
        ..RxContext::new(Version::V2)
    };
    vec![
        Case {
            name: "v3_ipv4",
            repr: repr(Version::V3, Auth::None, Centis::new(100), vip.clone()),
            ctx: RxContext::new(Version::V3),
        },
        Case {
            name: "v2_none",
            repr: repr(Version::V2, Auth::None, Centis::from_secs(1), vip.clone()),
            ctx: v2(Auth::None),
        },
        Case {
            name: "v2_pass",
            repr: repr(
                Version::V2,
                Auth::Password(key.clone()),
                Centis::from_secs(1),
                vip.clone(),
            ),
            ctx: v2(Auth::Password(key.clone())),
        },
        Case {
            name: "v2_ah",
            repr: repr(
                Version::V2,
                Auth::Ah(key.clone()),
                Centis::from_secs(1),
                vip,
            ),
            ctx: v2(Auth::Ah(key)),
        },
    ]
}

fn tx() -> Ipv4Tx {
    Ipv4Tx {
        src: Ipv4Addr::new(192, 0, 2, 1),
        dst: VRRP_GROUP_V4,
        ttl: VRRP_HOP_LIMIT,
        id: 7,
        ah_sequence: 1,
        v3_checksum: V3Checksum::PseudoHeader,
        unicast: false,
    }
}

fn adverts(c: &mut Criterion) {
    let mut group = c.benchmark_group("advert");
    group.throughput(Throughput::Elements(1));
    for case in ipv4_cases() {
        let mut datagram = vec![0; wire::ipv4_advert_len(&case.repr)];
        if wire::emit_ipv4_advert(&mut datagram, &case.repr, &tx()).is_err() {
            panic!("{}: emit failed", case.name);
        }
        assert!(
            wire::parse_ipv4_advert(&datagram, &case.ctx).is_ok(),
            "{}: parse failed",
            case.name
        );
        group.bench_function(format!("parse/{}", case.name), |b| {
            b.iter(|| wire::parse_ipv4_advert(black_box(&datagram), black_box(&case.ctx)))
        });
        let mut out = vec![0; datagram.len()];
        group.bench_function(format!("emit/{}", case.name), |b| {
            b.iter(|| {
                wire::emit_ipv4_advert(black_box(&mut out), black_box(&case.repr), black_box(&tx()))
            })
        });
    }

    let (src, dst): (Ipv6Addr, Ipv6Addr) =
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1), VRRP_GROUP_V6);
    let v6 = repr(
        Version::V3,
        Auth::None,
        Centis::new(100),
        vec![IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100,
        ))],
    );
    let ctx = RxContext::new(Version::V3);
    let mut payload = vec![0; v6.buffer_len_for(Family::V6)];
    assert!(
        v6.emit(
            &mut payload,
            src.into(),
            dst.into(),
            V3Checksum::PseudoHeader
        )
        .is_ok()
    );
    group.bench_function("parse/v3_ipv6", |b| {
        b.iter(|| {
            wire::parse_ipv6_advert(
                black_box(&payload),
                src,
                dst,
                VRRP_HOP_LIMIT,
                black_box(&ctx),
            )
        })
    });
    let mut out = payload.clone();
    group.bench_function("emit/v3_ipv6", |b| {
        b.iter(|| {
            black_box(&v6).emit(
                black_box(&mut out),
                src.into(),
                dst.into(),
                V3Checksum::PseudoHeader,
            )
        })
    });
    group.finish();
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Elements(1));
    let mac = MacAddr([2, 0, 0x5e, 0x10, 0, 0x0a]);
    let garp = GratuitousArp::new(mac, Ipv4Addr::new(192, 0, 2, 100));
    let garp_bytes = garp.to_vec();
    let mut out = garp_bytes.clone();
    group.bench_function("emit/garp", |b| {
        b.iter(|| black_box(&garp).emit(black_box(&mut out)))
    });
    group.bench_function("parse/garp", |b| {
        b.iter(|| GratuitousArp::parse(black_box(&garp_bytes)))
    });
    let na = UnsolicitedNa::new(
        mac,
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
        false,
    );
    let na_bytes = na.to_vec();
    let mut out = na_bytes.clone();
    group.bench_function("emit/na", |b| {
        b.iter(|| black_box(&na).emit(black_box(&mut out)))
    });
    group.bench_function("parse/na", |b| {
        b.iter(|| UnsolicitedNa::parse(black_box(&na_bytes)))
    });
    group.finish();
}

criterion_group!(benches, adverts, frames);
criterion_main!(benches);
