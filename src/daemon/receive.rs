//! From received bytes to a core input: demultiplex by VRID once, then run every check of
//! RFC 5798 §7.1 with that instance's expectations (version, authentication, TTL, our own
//! adverts, the v2 interval), so the core only routes the verdict.
//!
//! Each receive task reads an immutable table for its socket, swapped whole through a `watch`
//! channel when a reload changes it: no lock is shared with the core. Decoding is a pure
//! function, tested from captured bytes; the loop around it only moves buffers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::drop_log::DropDetail;
use super::drops::DropReason;
use super::input::{CoreInput, HmacSeen, Received, Route, RxAdvert, SocketKey};
use crate::fsm::InstanceId;
use crate::types::{Centis, Family};
use crate::wire::{self, RxContext};

/// What a receive task needs to know about one VRID on its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxRoute {
    pub vrid: u8,
    pub id: InstanceId,
    pub ctx: RxContext,
    /// The instance's own source address: an advert from it is our own, looped back.
    pub own: IpAddr,
    /// VRRPv2: the configured interval, which RFC 3768 §7.1 requires adverts to match.
    pub v2_interval: Option<Centis>,
    /// `check_unicast_src`: the sources accepted, with their TTL ranges (`None`: any).
    pub peers: Option<Arc<[PeerFilter]>>,
    /// The configured virtual addresses, which an advert's address list should repeat.
    pub vips: Arc<[IpAddr]>,
}

/// One configured unicast peer as the source check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerFilter {
    pub addr: IpAddr,
    /// The TTL / hop limit range its adverts must arrive with (keepalived: 0-255 unless
    /// `min_ttl` / `max_ttl` narrow it).
    pub min_ttl: u8,
    pub max_ttl: u8,
}

/// One socket's routes, sorted by VRID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketRoutes {
    pub generation: u64,
    pub routes: Vec<RxRoute>,
}

impl SocketRoutes {
    fn find(&self, vrid: u8) -> Option<&RxRoute> {
        self.routes
            .binary_search_by_key(&vrid, |r| r.vrid)
            .ok()
            .and_then(|i| self.routes.get(i))
    }
}

/// What the core hands the effects after a reload: every socket's routes, and the VMACs still
/// in use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RxTable {
    pub generation: u64,
    pub sockets: BTreeMap<SocketKey, Arc<SocketRoutes>>,
    pub vmacs: BTreeSet<String>,
}

/// Packet metadata the socket reports for IPv6 (the kernel strips the IPv6 header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V6Meta {
    pub src: std::net::Ipv6Addr,
    pub dst: std::net::Ipv6Addr,
    pub hop_limit: u8,
}

/// Decodes one IPv4 datagram (raw IPv4 sockets deliver the IP header) or one IPv6 payload.
/// `now_secs` is the wall clock (UTC seconds) when the packet came, for `auth_hmac`'s window.
pub fn decode(
    family: Family,
    bytes: &[u8],
    v6: Option<V6Meta>,
    table: &SocketRoutes,
    now_secs: u32,
) -> Received {
    // The sender, for the log: IPv4's source field, or what the socket reported for IPv6.
    let peer = match family {
        Family::V4 => bytes
            .get(12..16)
            .and_then(|a| <[u8; 4]>::try_from(a).ok())
            .map(IpAddr::from),
        Family::V6 => v6.map(|m| IpAddr::V6(m.src)),
    };
    let dropped = |route, reason| Received::Dropped {
        route,
        reason,
        peer,
        detail: None,
    };
    let vrid = match family {
        Family::V4 => wire::advert::peek_vrid_ipv4(bytes),
        Family::V6 => wire::advert::peek_vrid_ipv6(bytes),
    };
    let Some(vrid) = vrid else {
        return dropped(None, DropReason::TooShort);
    };
    // RFC 5798 §7.1: a VRID we are not configured for is discarded.
    let Some(r) = table.find(vrid) else {
        return dropped(None, DropReason::UnknownVrid);
    };
    // From here on the drop is the configured instance's: an operator looks there first for
    // a peer with the wrong password or a TTL-decrementing path.
    let route = Some(Route {
        generation: table.generation,
        id: r.id,
        vrid,
    });
    let parsed = match (family, v6) {
        (Family::V4, _) => wire::advert::parse_ipv4_advert(bytes, &r.ctx),
        (Family::V6, Some(m)) => {
            wire::advert::parse_ipv6_advert(bytes, m.src, m.dst, m.hop_limit, &r.ctx)
        }
        (Family::V6, None) => return dropped(route, DropReason::MissingIpv6Metadata),
    };
    // keepalived's auth_hmac checks a trailer's timestamp before its key and HMAC (so a
    // flood of old captures is counted as stale); the wire code reports the timestamp of a
    // trailer it refused, so the stale one is counted first here too.
    let stale = |secs: u32| {
        r.ctx
            .auth_hmac
            .as_ref()
            .is_some_and(|a| a.is_stale(secs, now_secs))
    };
    let received = match parsed {
        Ok(received) => received,
        Err(wire::Error::HmacUnknownKey { secs, .. } | wire::Error::HmacBadTag { secs })
            if stale(secs) =>
        {
            return dropped(route, DropReason::HmacStale);
        }
        Err(e) => {
            return Received::Dropped {
                route,
                reason: DropReason::from(&e),
                peer,
                detail: DropDetail::of(&e),
            };
        }
    };
    if received.hmac.is_some_and(|t| stale(t.sequence.secs())) {
        return dropped(route, DropReason::HmacStale);
    }
    if received.src == r.own {
        return dropped(route, DropReason::OwnAdvert);
    }
    // RFC 3768 §7.1: a v2 advertisement whose interval differs from ours MUST be discarded.
    // v3 backups learn the master's interval instead (RFC 5798 §6.4.2).
    if let Some(ours) = r.v2_interval
        && ours != received.vrrp.max_advert_int
    {
        return Received::Dropped {
            route,
            reason: DropReason::IntervalMismatch,
            peer,
            detail: Some(DropDetail::Interval {
                ours,
                received: received.vrrp.max_advert_int,
            }),
        };
    }
    // keepalived (vrrp.c `vrrp_check_packet`; since 2.3.3 whether or not the address list is
    // checked): with `check_unicast_src`, a unicast advert must come from a configured peer,
    // with a TTL / hop limit inside that peer's `min_ttl`..`max_ttl`. Without it, keepalived
    // takes a unicast advert from anyone (routers may decrement its TTL, so there is no 255).
    if let Some(peers) = &r.peers {
        let Some(peer) = peers.iter().find(|p| p.addr == received.src) else {
            return dropped(route, DropReason::NotAPeer);
        };
        if !(peer.min_ttl..=peer.max_ttl).contains(&received.ttl) {
            return Received::Dropped {
                route,
                reason: DropReason::TtlOutOfRange,
                peer: Some(received.src),
                detail: Some(DropDetail::TtlRange {
                    received: received.ttl,
                    min: peer.min_ttl,
                    max: peer.max_ttl,
                }),
            };
        }
    }
    Received::Advert {
        route: Route {
            generation: table.generation,
            id: r.id,
            vrid,
        },
        advert: RxAdvert {
            src: received.src,
            priority: received.vrrp.priority,
            max_advert_int: received.vrrp.max_advert_int,
            ah_sequence: received.ah.map(|ah| ah.sequence),
            addresses_match: same_addresses(&r.vips, &received.vrrp.addresses),
            hmac: received.hmac.map(|t| HmacSeen {
                sequence: t.sequence,
                now_secs,
            }),
        },
    }
}

/// RFC 3768 / RFC 5798 §7.1 ("MAY verify that the IP address(es) associated with the VRID
/// are valid"), as keepalived compares them: the same count, and every configured address
/// present (in any order). Quadratic, but bounded by the configured count: a longer list
/// fails on the count.
fn same_addresses(configured: &[IpAddr], advertised: &[IpAddr]) -> bool {
    configured.len() == advertised.len() && configured.iter().all(|a| advertised.contains(a))
}

/// The largest VRRP datagram: an IPv4 header with options, AH, 255 IPv6 addresses and an
/// `auth_hmac` trailer.
const RECEIVE_BUFFER: usize = 60 + 24 + 8 + 255 * 16 + wire::auth_hmac::TRAILER_LEN;

/// The wall clock in UTC seconds, modulo 2^32 as `auth_hmac` trailers carry it.
pub fn wall_secs() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// The monotonic instant of a kernel receive stamp (realtime), given the two clocks read
/// together: `mono` minus how long ago the stamp was. None for a stamp in the future or more
/// than a second old: the realtime clock was stepped in between, and the time the packet was
/// read is the better guess.
fn arrival(stamp: Option<Duration>, mono: Instant, real: SystemTime) -> Option<Instant> {
    let ago = real.duration_since(UNIX_EPOCH).ok()?.checked_sub(stamp?)?;
    if ago > MAX_RECEIVE_LAG {
        return None;
    }
    mono.checked_sub(ago)
}

/// How old a receive stamp may be and still be trusted (see [`arrival`]).
const MAX_RECEIVE_LAG: Duration = Duration::from_secs(1);

/// Reads `socket` until the channel closes, sending every packet (or its drop reason) to the
/// core. An error from the socket itself is logged and retried: a transient ENOBUFS must not
/// stop an interface from being heard.
pub async fn receive_loop(
    socket: Arc<crate::net::VrrpSocket>,
    key: SocketKey,
    mut routes: watch::Receiver<Arc<SocketRoutes>>,
    events: mpsc::Sender<CoreInput>,
) {
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    let mut table = routes.borrow_and_update().clone();
    loop {
        let meta = match socket.recv(&mut buf).await {
            Ok(meta) => meta,
            Err(e) => {
                tracing::warn!(interface = socket.ifname(), error = %e, "receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        if routes.has_changed().unwrap_or(false) {
            table = routes.borrow_and_update().clone();
        }
        let bytes = buf.get(..meta.len).unwrap_or(&[]);
        let received = if meta.truncated {
            Received::Dropped {
                route: None,
                reason: DropReason::Truncated,
                peer: Some(meta.src),
                detail: None,
            }
        } else {
            let v6 = match (meta.src, meta.dst, meta.hop_limit) {
                (IpAddr::V6(src), Some(IpAddr::V6(dst)), Some(hop_limit)) => Some(V6Meta {
                    src,
                    dst,
                    hop_limit,
                }),
                _ => None,
            };
            decode(key.family, bytes, v6, &table, wall_secs())
        };
        if events
            .send(CoreInput::Packet {
                socket: key,
                received,
                arrived: arrival(meta.stamp, Instant::now(), SystemTime::now()),
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receive_stamp_moves_the_packet_back_by_how_long_ago_the_kernel_took_it() {
        let (mono, real) = (Instant::now(), SystemTime::now());
        let since_epoch = real.duration_since(UNIX_EPOCH).unwrap();
        let ago = Duration::from_micros(300);
        assert_eq!(
            arrival(Some(since_epoch - ago), mono, real),
            Some(mono - ago)
        );
        // No stamp, one from the future or from a clock step ago: the time it was read.
        assert_eq!(arrival(None, mono, real), None);
        let later = since_epoch + Duration::from_millis(5);
        assert_eq!(arrival(Some(later), mono, real), None);
        let stepped = since_epoch - Duration::from_secs(30);
        assert_eq!(arrival(Some(stepped), mono, real), None);
    }
    use crate::types::{Priority, Version};

    fn golden(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/data/golden/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    const OWN: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 250));
    const GENERATION: u64 = 7;

    fn only(vrid: u8, ctx: RxContext) -> SocketRoutes {
        SocketRoutes {
            generation: GENERATION,
            routes: vec![RxRoute {
                vrid,
                id: InstanceId(3),
                ctx,
                own: OWN,
                v2_interval: None,
                peers: None,
                vips: Arc::from([]),
            }],
        }
    }

    fn route(vrid: u8) -> Option<Route> {
        Some(Route {
            generation: GENERATION,
            id: InstanceId(3),
            vrid,
        })
    }

    fn reason(r: Received) -> (Option<Route>, DropReason) {
        match r {
            Received::Dropped { route, reason, .. } => (route, reason),
            other => panic!("expected a drop, got {other:?}"),
        }
    }

    #[test]
    fn keepalived_v3_ipv4_advert_is_routed_to_its_instance() {
        let bytes = golden("v3_ipv4.bin");
        let vrid = bytes[21];
        let Received::Advert { route: r, advert } = decode(
            Family::V4,
            &bytes,
            None,
            &only(vrid, RxContext::new(Version::V3)),
            0,
        ) else {
            panic!("a real keepalived advert must pass");
        };
        assert_eq!(Some(r), route(vrid));
        assert!(advert.priority > Priority::STOP);
        assert!(advert.max_advert_int > Centis::ZERO);
    }

    #[test]
    fn unknown_vrid_and_wrong_version_are_dropped_by_reason() {
        let bytes = golden("v3_ipv4.bin");
        let vrid = bytes[21];
        assert_eq!(
            reason(decode(
                Family::V4,
                &bytes,
                None,
                &only(vrid.wrapping_add(1), RxContext::new(Version::V3)),
                0
            )),
            (None, DropReason::UnknownVrid)
        );
        // Counted against the configured instance.
        assert_eq!(
            reason(decode(
                Family::V4,
                &bytes,
                None,
                &only(vrid, RxContext::new(Version::V2)),
                0
            )),
            (route(vrid), DropReason::BadVersion)
        );
    }

    #[test]
    fn a_ttl_below_255_is_dropped() {
        let mut bytes = golden("v3_ipv4.bin");
        let vrid = bytes[21];
        bytes[8] = 254;
        // Fix the IPv4 header checksum so only the TTL is wrong.
        bytes[10] = 0;
        bytes[11] = 0;
        let sum = wire::checksum::checksum(&bytes[..20]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(
            reason(decode(
                Family::V4,
                &bytes,
                None,
                &only(vrid, RxContext::new(Version::V3)),
                0
            )),
            (route(vrid), DropReason::BadTtl)
        );
    }

    #[test]
    fn our_own_advert_and_a_v2_interval_mismatch_are_dropped() {
        let bytes = golden("v3_ipv4.bin");
        let vrid = bytes[21];
        let src = IpAddr::V4(std::net::Ipv4Addr::new(
            bytes[12], bytes[13], bytes[14], bytes[15],
        ));
        let mut table = only(vrid, RxContext::new(Version::V3));
        table.routes[0].own = src;
        assert_eq!(
            reason(decode(Family::V4, &bytes, None, &table, 0)),
            (route(vrid), DropReason::OwnAdvert)
        );

        let bytes = golden("v2_noauth.bin");
        let vrid = bytes[21];
        let mut table = only(vrid, RxContext::new(Version::V2));
        table.routes[0].v2_interval = Some(Centis::from_secs(7));
        assert_eq!(
            reason(decode(Family::V4, &bytes, None, &table, 0)),
            (route(vrid), DropReason::IntervalMismatch)
        );
        // The log names the sender and both intervals.
        assert!(matches!(
            decode(Family::V4, &bytes, None, &table, 0),
            Received::Dropped {
                peer: Some(IpAddr::V4(p)),
                detail: Some(DropDetail::Interval { ours, received }),
                ..
            } if p.octets() == [bytes[12], bytes[13], bytes[14], bytes[15]]
                && ours == Centis::from_secs(7)
                && received == Centis::from_secs(u32::from(bytes[25]))
        ));
        table.routes[0].v2_interval = Some(Centis::from_secs(u32::from(bytes[25])));
        assert!(matches!(
            decode(Family::V4, &bytes, None, &table, 0),
            Received::Advert { .. }
        ));
    }

    #[test]
    fn ipv6_needs_socket_metadata() {
        let table = only(1, RxContext::new(Version::V3));
        assert_eq!(
            reason(decode(
                Family::V6,
                &[0x31, 1, 100, 1, 0, 100, 0, 0],
                None,
                &table,
                0
            )),
            (route(1), DropReason::MissingIpv6Metadata)
        );
        assert_eq!(
            reason(decode(Family::V6, &[0x31], None, &table, 0)),
            (None, DropReason::TooShort)
        );
    }

    #[test]
    fn a_wrong_password_is_dropped_for_its_vrid() {
        let bytes = golden("v2_pass.bin");
        let vrid = bytes[21];
        let mut ctx = RxContext::new(Version::V2);
        ctx.auth = wire::Auth::Password(wire::AuthKey::from_password(b"not-the-one"));
        assert_eq!(
            reason(decode(Family::V4, &bytes, None, &only(vrid, ctx), 0)),
            (route(vrid), DropReason::BadPassword)
        );
    }

    const GOLDEN_SRC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    /// keepalived's unicast advert (v3, 192.0.2.1 to 192.0.2.2, VIP 192.0.2.41) for an
    /// instance that expects `vips` and filters sources by `peers`; the TTL rewritten.
    fn unicast(ttl: u8, peers: Option<&[PeerFilter]>, vips: &[IpAddr]) -> Received {
        let mut bytes = golden("v3_unicast_ipv4.bin");
        let vrid = bytes[21];
        bytes[8] = ttl;
        bytes[10..12].copy_from_slice(&[0, 0]);
        let sum = wire::checksum::checksum(&bytes[..20]);
        bytes[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut ctx = RxContext::new(Version::V3);
        ctx.unicast = true;
        let mut table = only(vrid, ctx);
        table.routes[0].peers = peers.map(Arc::from);
        table.routes[0].vips = vips.into();
        decode(Family::V4, &bytes, None, &table, 0)
    }

    fn peer(addr: IpAddr, min_ttl: u8, max_ttl: u8) -> PeerFilter {
        PeerFilter {
            addr,
            min_ttl,
            max_ttl,
        }
    }

    const OTHER_PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 3));

    #[test]
    fn check_unicast_src_drops_an_advert_from_a_host_that_is_not_a_peer() {
        let vrid = golden("v3_unicast_ipv4.bin")[21];
        // Without check_unicast_src, keepalived takes a unicast advert from anyone, at any TTL.
        assert!(matches!(unicast(64, None, &[]), Received::Advert { .. }));
        assert_eq!(
            reason(unicast(255, Some(&[peer(OTHER_PEER, 0, 255)]), &[])),
            (route(vrid), DropReason::NotAPeer)
        );
        let peers = [peer(OTHER_PEER, 0, 255), peer(GOLDEN_SRC, 0, 255)];
        assert!(matches!(
            unicast(64, Some(&peers), &[]),
            Received::Advert { .. }
        ));
    }

    #[test]
    fn a_peer_s_advert_outside_its_ttl_range_is_dropped() {
        let vrid = golden("v3_unicast_ipv4.bin")[21];
        let peers = [peer(GOLDEN_SRC, 60, 64)];
        for ttl in [59, 65, 255] {
            assert_eq!(
                reason(unicast(ttl, Some(&peers), &[])),
                (route(vrid), DropReason::TtlOutOfRange),
                "TTL {ttl}"
            );
        }
        for ttl in [60, 64] {
            assert!(
                matches!(unicast(ttl, Some(&peers), &[]), Received::Advert { .. }),
                "TTL {ttl}"
            );
        }
    }

    #[test]
    fn the_address_list_is_compared_with_the_configured_one() {
        let vip: IpAddr = "192.0.2.41".parse().expect("literal");
        let other: IpAddr = "192.0.2.42".parse().expect("literal");
        let matches = |vips: &[IpAddr]| match unicast(255, None, vips) {
            Received::Advert { advert, .. } => advert.addresses_match,
            other => panic!("expected an advert, got {other:?}"),
        };
        assert!(matches(&[vip]));
        assert!(!matches(&[other]));
        assert!(!matches(&[vip, other]));
        assert!(!matches(&[]));
    }

    #[test]
    fn the_ah_sequence_number_travels_to_the_core() {
        let bytes = golden("v2_ah.bin");
        let vrid = bytes[21 + wire::auth::AH_HEADER_LEN];
        let mut ctx = RxContext::new(Version::V2);
        ctx.auth = wire::Auth::Ah(wire::AuthKey::from_password(b"vigilah"));
        let Received::Advert { advert, .. } = decode(Family::V4, &bytes, None, &only(vrid, ctx), 0)
        else {
            panic!("keepalived's AH advert must pass");
        };
        // The manifest: the second advert captured, sequence number 2.
        assert_eq!(advert.ah_sequence, Some(2));
    }

    /// A v3 advert from 192.0.2.1 for VRID 9 signed with `key` at `secs`, and a table whose
    /// instance verifies with `config`.
    fn signed(key_id: u8, secret: &[u8], secs: u32) -> Vec<u8> {
        use wire::auth_hmac::{HmacKey, Secret, Sequence};
        let repr = wire::VrrpRepr {
            version: Version::V3,
            vrid: crate::types::Vrid::new(9).expect("9"),
            priority: Priority::new(150),
            max_advert_int: Centis::from_secs(1),
            addresses: vec![],
            auth: wire::Auth::None,
        };
        let tx = wire::Ipv4Tx {
            src: std::net::Ipv4Addr::new(192, 0, 2, 1),
            dst: wire::VRRP_GROUP_V4,
            ttl: 255,
            id: 1,
            ah_sequence: 0,
            v3_checksum: wire::V3Checksum::PseudoHeader,
            unicast: false,
        };
        let key = HmacKey {
            id: key_id,
            secret: Secret::new(secret),
        };
        let hmac = wire::advert::HmacTx {
            key: &key,
            sequence: Sequence(u64::from(secs) << 32),
        };
        let mut buf = vec![0; wire::advert::ipv4_advert_len_signed(&repr, true)];
        wire::advert::emit_ipv4_advert_signed(&mut buf, &repr, &tx, Some(&hmac)).expect("emit");
        buf
    }

    fn hmac_table() -> SocketRoutes {
        use wire::auth_hmac::{AuthHmac, HmacKey, Mode, Secret};
        let mut ctx = RxContext::new(Version::V3);
        ctx.auth_hmac = Some(Arc::new(AuthHmac {
            keys: vec![HmacKey {
                id: 1,
                secret: Secret::new(&[1; 32]),
            }],
            active_key: 1,
            mode: Mode::Enforce,
            time_window: Some(5),
        }));
        only(9, ctx)
    }

    #[test]
    fn auth_hmac_drops_are_counted_by_reason_stale_first() {
        let table = hmac_table();
        let Received::Advert { advert, .. } =
            decode(Family::V4, &signed(1, &[1; 32], 1000), None, &table, 1003)
        else {
            panic!("a valid signed advert must pass");
        };
        assert_eq!(
            advert.hmac.map(|h| (h.sequence.secs(), h.now_secs)),
            Some((1000, 1003))
        );
        let drop = |bytes: Vec<u8>, now| reason(decode(Family::V4, &bytes, None, &table, now)).1;
        assert_eq!(drop(signed(1, &[1; 32], 1000), 1006), DropReason::HmacStale);
        assert_eq!(drop(signed(1, &[1; 32], 1000), 994), DropReason::HmacStale);
        assert_eq!(
            drop(signed(1, &[2; 32], 1000), 1000),
            DropReason::HmacBadTag
        );
        assert_eq!(
            drop(signed(2, &[1; 32], 1000), 1000),
            DropReason::HmacUnknownKey
        );
        // keepalived looks at the timestamp before the key: a stale forgery counts as stale.
        assert_eq!(drop(signed(2, &[2; 32], 1000), 2000), DropReason::HmacStale);
        assert_eq!(drop(signed(1, &[2; 32], 1000), 2000), DropReason::HmacStale);
        // No trailer under enforce.
        let mut plain = signed(1, &[1; 32], 1000);
        plain.truncate(plain.len() - wire::auth_hmac::TRAILER_LEN);
        let total = u16::try_from(plain.len()).expect("short").to_be_bytes();
        plain[2..4].copy_from_slice(&total);
        plain[10..12].copy_from_slice(&[0, 0]);
        let sum = wire::checksum::checksum(&plain[..20]);
        plain[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(drop(plain, 1000), DropReason::HmacMissing);
    }
}
