//! From received bytes to a core [`Event`]: demultiplex by VRID, then run the packet-level
//! checks of RFC 5798 §7.1 with that VRID's expectations (version, authentication).
//!
//! Decoding is a pure function so it is tested from captured bytes; the receive loop around
//! it only moves buffers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;

use super::core::{Dropped, Event, RxAdvert, SocketKey};
use crate::types::Family;
use crate::wire::{self, RxContext};

/// What a receive task knows about the VRIDs on its socket; swapped whole on reload.
pub type Contexts = Arc<RwLock<HashMap<u8, RxContext>>>;

/// Packet metadata the socket reports for IPv6 (the kernel strips the IPv6 header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V6Meta {
    pub src: std::net::Ipv6Addr,
    pub dst: std::net::Ipv6Addr,
    pub hop_limit: u8,
}

/// Decodes one IPv4 datagram (raw IPv4 sockets deliver the IP header) or one IPv6 payload.
pub fn decode(
    family: Family,
    bytes: &[u8],
    v6: Option<V6Meta>,
    contexts: &HashMap<u8, RxContext>,
) -> Result<RxAdvert, Dropped> {
    let vrid = match family {
        Family::V4 => wire::advert::peek_vrid_ipv4(bytes),
        Family::V6 => wire::advert::peek_vrid_ipv6(bytes),
    }
    .ok_or(Dropped::socket("too_short"))?;
    // RFC 5798 §7.1: a VRID we are not configured for is discarded.
    let ctx = contexts.get(&vrid).ok_or(Dropped::socket("unknown_vrid"))?;
    // From here on the drop is the configured instance's: an operator looks there first for
    // a peer with the wrong password or a TTL-decrementing path.
    let for_vrid = |reason| Dropped {
        vrid: Some(vrid),
        reason,
    };
    let received = match (family, v6) {
        (Family::V4, _) => wire::advert::parse_ipv4_advert(bytes, ctx),
        (Family::V6, Some(m)) => {
            wire::advert::parse_ipv6_advert(bytes, m.src, m.dst, m.hop_limit, ctx)
        }
        (Family::V6, None) => return Err(for_vrid("missing_ipv6_metadata")),
    }
    .map_err(|e| for_vrid(e.reason()))?;
    Ok(RxAdvert {
        src: received.src,
        version: received.vrrp.version,
        vrid,
        priority: received.vrrp.priority,
        max_advert_int: received.vrrp.max_advert_int,
        addresses: received.vrrp.addresses.clone(),
    })
}

/// Reads `socket` until the channel closes, sending every packet (or its drop reason) to the
/// core. An error from the socket itself is logged and retried: a transient ENOBUFS must not
/// stop an interface from being heard.
pub async fn receive_loop(
    socket: Arc<crate::net::VrrpSocket>,
    key: SocketKey,
    contexts: Contexts,
    events: mpsc::Sender<(tokio::time::Instant, Event)>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let meta = match socket.recv(&mut buf).await {
            Ok(meta) => meta,
            Err(e) => {
                tracing::warn!(interface = socket.ifname(), error = %e, "receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let at = tokio::time::Instant::now();
        let bytes = buf.get(..meta.len).unwrap_or(&[]);
        let result = if meta.truncated {
            Err(Dropped::socket("truncated"))
        } else {
            let v6 = match (meta.src, meta.dst, meta.hop_limit) {
                (IpAddr::V6(src), Some(IpAddr::V6(dst)), Some(hop_limit)) => Some(V6Meta {
                    src,
                    dst,
                    hop_limit,
                }),
                _ => None,
            };
            let guard = contexts.read().unwrap_or_else(|e| e.into_inner());
            decode(key.family, bytes, v6, &guard)
        };
        if events
            .send((
                at,
                Event::Packet {
                    socket: key,
                    result,
                },
            ))
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
    use crate::types::{Centis, Priority, Version};

    fn golden(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/data/golden/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn only(vrid: u8, ctx: RxContext) -> HashMap<u8, RxContext> {
        HashMap::from([(vrid, ctx)])
    }

    #[test]
    fn keepalived_v3_ipv4_advert_decodes_for_its_vrid() {
        let bytes = golden("v3_ipv4.bin");
        let vrid = bytes[21];
        let advert = decode(
            Family::V4,
            &bytes,
            None,
            &only(vrid, RxContext::new(Version::V3)),
        )
        .expect("a real keepalived advert must pass");
        assert_eq!(advert.vrid, vrid);
        assert_eq!(advert.version, Version::V3);
        assert!(advert.priority > Priority::STOP);
        assert!(advert.max_advert_int > Centis::ZERO);
    }

    #[test]
    fn unknown_vrid_and_wrong_version_are_dropped_by_reason() {
        let bytes = golden("v3_ipv4.bin");
        let vrid = bytes[21];
        assert_eq!(
            decode(
                Family::V4,
                &bytes,
                None,
                &only(vrid.wrapping_add(1), RxContext::new(Version::V3))
            ),
            Err(Dropped::socket("unknown_vrid"))
        );
        let err = decode(
            Family::V4,
            &bytes,
            None,
            &only(vrid, RxContext::new(Version::V2)),
        );
        let err = err.expect_err("a v3 packet for a v2 instance must be dropped");
        assert_eq!(
            err.vrid,
            Some(vrid),
            "counted against the configured instance"
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
        let err = decode(
            Family::V4,
            &bytes,
            None,
            &only(vrid, RxContext::new(Version::V3)),
        );
        assert_eq!(
            err,
            Err(Dropped {
                vrid: Some(vrid),
                reason: "bad_ttl"
            })
        );
    }

    #[test]
    fn ipv6_needs_socket_metadata() {
        let ctx = only(1, RxContext::new(Version::V3));
        assert_eq!(
            decode(Family::V6, &[0x31, 1, 100, 1, 0, 100, 0, 0], None, &ctx).map_err(|d| d.reason),
            Err("missing_ipv6_metadata")
        );
        assert_eq!(
            decode(Family::V6, &[0x31], None, &ctx),
            Err(Dropped::socket("too_short"))
        );
    }

    #[test]
    fn a_wrong_password_is_dropped_for_its_vrid() {
        let bytes = golden("v2_pass.bin");
        let vrid = bytes[21];
        let mut ctx = RxContext::new(Version::V2);
        ctx.auth = wire::Auth::Password(wire::AuthKey::from_password(b"not-the-one"));
        assert_eq!(
            decode(Family::V4, &bytes, None, &only(vrid, ctx)),
            Err(Dropped {
                vrid: Some(vrid),
                reason: "bad_password"
            })
        );
    }
}
