//! Golden bytes: packets keepalived 2.2.7 really sent (captured by `scripts/capture-golden`
//! into tests/data/golden, described by manifest.json). Each capture is parsed with the
//! daemon's own receive path, its fields checked against the manifest, then re-emitted from
//! the parsed representation (reusing the captured IPv4 id and AH sequence number) and
//! compared byte for byte.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigil::types::{Centis, Version};
use vigil::wire::{
    self, Auth, AuthKey, GratuitousArp, Ipv4Tx, Ipv6Header, MacAddr, RxContext, UnsolicitedNa,
    V3Checksum,
};

#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    kind: String,
    link: String,
    version: u8,
    vrid: u8,
    priority: u8,
    advert_int_centis: u32,
    auth_type: String,
    auth_password: Option<String>,
    addresses: Vec<IpAddr>,
    src: IpAddr,
    dst: IpAddr,
    ttl: Option<u8>,
    vmac: bool,
    eth_src: String,
    length: usize,
    #[serde(default)]
    ah_spi: Option<u32>,
    #[serde(default)]
    ah_seq: Option<u32>,
    #[serde(default)]
    v3_ipv4_checksum: Option<String>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

fn manifest() -> Vec<Entry> {
    let path = golden_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn bytes(entry: &Entry) -> Vec<u8> {
    let path = golden_dir().join(&entry.file);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    assert_eq!(data.len(), entry.length, "{}: length", entry.file);
    data
}

fn context(entry: &Entry) -> RxContext {
    let version = match entry.version {
        2 => Version::V2,
        3 => Version::V3,
        other => panic!("{}: version {other}", entry.file),
    };
    let key = || AuthKey::from_password(entry.auth_password.as_deref().unwrap_or("").as_bytes());
    let auth = match entry.auth_type.as_str() {
        "none" => Auth::None,
        "pass" => Auth::Password(key()),
        "ah" => Auth::Ah(key()),
        other => panic!("{}: auth type {other}", entry.file),
    };
    let v3_checksum = match entry.v3_ipv4_checksum.as_deref() {
        None | Some("pseudo_header") => V3Checksum::PseudoHeader,
        Some("pseudo_header_multicast_dst") => V3Checksum::PseudoHeaderMulticastDst,
        Some("without_pseudo_header" | "as_v2") => V3Checksum::WithoutPseudoHeader,
        Some(other) => panic!("{}: v3_ipv4_checksum {other}", entry.file),
    };
    let unicast = !entry.dst.is_multicast();
    RxContext {
        version,
        auth,
        v3_checksum,
        unicast,
        auth_hmac: None,
    }
}

fn check_advert_fields(entry: &Entry, rx: &wire::Received) {
    let f = &entry.file;
    assert_eq!(rx.src, entry.src, "{f}: src");
    assert_eq!(rx.dst, entry.dst, "{f}: dst");
    assert_eq!(Some(rx.ttl), entry.ttl, "{f}: ttl");
    assert_eq!(rx.vrrp.version.number(), entry.version, "{f}: version");
    assert_eq!(rx.vrrp.vrid.get(), entry.vrid, "{f}: vrid");
    assert_eq!(rx.vrrp.priority.get(), entry.priority, "{f}: priority");
    assert_eq!(
        rx.vrrp.max_advert_int,
        Centis::new(entry.advert_int_centis),
        "{f}: interval"
    );
    assert_eq!(rx.vrrp.addresses, entry.addresses, "{f}: addresses");
    if entry.kind == "shutdown" {
        assert_eq!(
            entry.priority, 0,
            "{f}: a shutdown advert carries priority 0"
        );
    }
    match (&rx.ah, entry.ah_spi, entry.ah_seq) {
        (None, None, None) => {}
        (Some(ah), Some(spi), Some(seq)) => {
            assert_eq!((ah.spi, ah.sequence), (spi, seq), "{f}: AH SPI/sequence");
        }
        other => panic!("{f}: AH presence disagrees with the manifest: {other:?}"),
    }
}

fn check_ipv4_advert(entry: &Entry, data: &[u8]) {
    let ctx = context(entry);
    let rx = wire::parse_ipv4_advert(data, &ctx).unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    check_advert_fields(entry, &rx);
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (rx.src, rx.dst) else {
        panic!("{}: not IPv4", entry.file)
    };
    let tx = Ipv4Tx {
        src,
        dst,
        ttl: rx.ttl,
        id: rx.ip_id.unwrap_or(0),
        ah_sequence: rx.ah.map_or(0, |a| a.sequence),
        v3_checksum: ctx.v3_checksum,
        unicast: ctx.unicast,
    };
    let mut out = vec![0xa5; wire::ipv4_advert_len(&rx.vrrp)];
    wire::emit_ipv4_advert(&mut out, &rx.vrrp, &tx)
        .unwrap_or_else(|e| panic!("{}: emit: {e}", entry.file));
    assert_eq!(out, data, "{}: re-emitted datagram differs", entry.file);
}

fn check_ipv6_advert(entry: &Entry, data: &[u8]) {
    let ctx = context(entry);
    let (ip, payload) = Ipv6Header::parse(data).unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    assert_eq!(ip.next_header, 112, "{}: next header", entry.file);
    let rx = wire::parse_ipv6_advert(payload, ip.src, ip.dst, ip.hop_limit, &ctx)
        .unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    check_advert_fields(entry, &rx);
    let out = rx
        .vrrp
        .to_vec(rx.src, rx.dst, ctx.v3_checksum)
        .unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    assert_eq!(
        out, payload,
        "{}: re-emitted VRRP payload differs",
        entry.file
    );
}

fn check_garp(entry: &Entry, data: &[u8]) {
    let garp = GratuitousArp::parse(data).unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    let mac: MacAddr = entry
        .eth_src
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    assert_eq!(garp.mac, mac, "{}: sender MAC", entry.file);
    assert_eq!(IpAddr::V4(garp.ip), entry.src, "{}: sender IP", entry.file);
    assert!(
        entry.addresses.contains(&IpAddr::V4(garp.ip)),
        "{}: GARP for a VIP",
        entry.file
    );
    if entry.vmac {
        let vrid =
            vigil::types::Vrid::new(entry.vrid).unwrap_or_else(|| panic!("{}: VRID 0", entry.file));
        assert_eq!(
            garp,
            GratuitousArp::from_vmac(vrid, garp.ip),
            "{}: VMAC GARP",
            entry.file
        );
    }
    assert_eq!(
        garp.to_vec(),
        data,
        "{}: re-emitted frame differs",
        entry.file
    );
}

fn check_na(entry: &Entry, data: &[u8]) {
    let na = UnsolicitedNa::parse(data).unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    let mac: MacAddr = entry
        .eth_src
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", entry.file));
    assert_eq!(na.mac, mac, "{}: MAC", entry.file);
    assert_eq!(IpAddr::V6(na.target), entry.src, "{}: target", entry.file);
    assert!(
        entry.addresses.contains(&IpAddr::V6(na.target)),
        "{}: NA for a VIP",
        entry.file
    );
    // The flow label is the only field the kernel may choose; keepalived's AF_PACKET frame
    // carries zero, which is what we emit, so the comparison is exact.
    assert_eq!(
        na.to_vec(),
        data,
        "{}: re-emitted frame differs",
        entry.file
    );
}

#[test]
fn every_golden_capture_parses_checks_and_re_emits_exactly() {
    let entries = manifest();
    assert!(!entries.is_empty(), "the golden manifest is empty");
    for entry in &entries {
        let data = bytes(entry);
        match (entry.kind.as_str(), entry.link.as_str()) {
            ("advert" | "shutdown", "ipv4") => check_ipv4_advert(entry, &data),
            ("advert" | "shutdown", "ipv6") => check_ipv6_advert(entry, &data),
            ("garp", "ethernet") => check_garp(entry, &data),
            ("na", "ethernet") => check_na(entry, &data),
            other => panic!("{}: unknown kind/link {other:?}", entry.file),
        }
    }
}

#[test]
fn every_capture_file_is_in_the_manifest_and_every_kind_is_covered() {
    let entries = manifest();
    let listed: std::collections::BTreeSet<_> = entries.iter().map(|e| e.file.clone()).collect();
    let on_disk: std::collections::BTreeSet<_> = std::fs::read_dir(golden_dir())
        .unwrap_or_else(|e| panic!("listing golden dir: {e}"))
        .filter_map(|d| d.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    assert_eq!(listed, on_disk, "manifest.json and the .bin files disagree");
    let has = |pred: &dyn Fn(&Entry) -> bool| entries.iter().any(pred);
    assert!(
        has(&|e| e.version == 2 && e.auth_type == "none"),
        "v2 without auth"
    );
    assert!(has(&|e| e.auth_type == "pass"), "v2 PASS");
    assert!(has(&|e| e.auth_type == "ah"), "v2 AH");
    assert!(has(&|e| e.version == 3 && e.link == "ipv4"), "v3 IPv4");
    assert!(has(&|e| e.version == 3 && e.link == "ipv6"), "v3 IPv6");
    assert!(has(&|e| e.kind == "garp"), "GARP");
    assert!(has(&|e| e.kind == "na"), "NA");
}

#[test]
fn tampered_captures_are_refused() {
    // One flipped bit in each kind of capture must be caught by some check.
    for entry in manifest().iter().filter(|e| e.kind == "advert") {
        let mut data = bytes(entry);
        let last = data.len() - 1;
        data[last] ^= 0x01;
        let refused = match entry.link.as_str() {
            "ipv4" => wire::parse_ipv4_advert(&data, &context(entry)).is_err(),
            _ => {
                let (ip, payload) =
                    Ipv6Header::parse(&data).unwrap_or_else(|e| panic!("{}: {e}", entry.file));
                wire::parse_ipv6_advert(payload, ip.src, ip.dst, ip.hop_limit, &context(entry))
                    .is_err()
            }
        };
        assert!(refused, "{}: a flipped bit went unnoticed", entry.file);
    }
}
