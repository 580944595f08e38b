//! What a capture shows of VRRP: adverts (v2 and v3, IPv4 with or without AH, IPv6) and the
//! gratuitous ARPs and unsolicited NAs that announce a VIP, with their capture times; and the
//! RFC's timers computed from the configuration alone.
//!
//! Timing bounds in lab tests come from here, not from the daemon under test: a daemon that
//! computed its own Master_Down_Interval wrongly and reported the wrong value would pass a
//! bound read from its status. Times are the kernel's capture timestamps (`tcpdump -U`), so the
//! test's own polling does not blur them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::capture::{Capture, parse_pcap_timed};

const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];
const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
const PROTO_VRRP: u8 = 112;
const PROTO_AH: u8 = 51;
const PROTO_ICMPV6: u8 = 58;
const ICMPV6_NA: u8 = 136;

/// RFC 5798 §6.1 (v3) / RFC 3768 §6.1 (v2) Skew_Time for a router of `priority` whose
/// Master_Adver_Interval is `interval`: v3 `((256 − Priority) × Master_Adver_Interval) / 256`,
/// v2 `(256 − Priority) / 256` seconds whatever the interval. Exact to the nanosecond.
pub fn skew_time(version: u8, priority: u8, interval: Duration) -> Duration {
    let weight = 256 - u32::from(priority);
    match version {
        2 => Duration::from_secs(1) * weight / 256,
        _ => interval * weight / 256,
    }
}

/// RFC 5798 §6.1 Master_Down_Interval: `3 × Master_Adver_Interval + Skew_Time`.
pub fn master_down_interval(version: u8, priority: u8, interval: Duration) -> Duration {
    interval * 3 + skew_time(version, priority, interval)
}

/// Now, on the capture clock (the realtime clock pcap timestamps use).
pub fn wire_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// One VRRP advertisement seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenAdvert {
    /// Capture time, since the epoch.
    pub at: Duration,
    /// IP source (a host's address, or its link-local address over IPv6).
    pub src: IpAddr,
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    /// The advertised interval (v2: seconds, converted).
    pub interval: Duration,
}

/// A gratuitous ARP or unsolicited NA for an address, seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenAnnounce {
    pub at: Duration,
    /// The address announced (ARP sender / NA target).
    pub ip: IpAddr,
    /// The link-layer address it is announced at.
    pub mac: [u8; 6],
}

impl Capture {
    /// The captured frames so far with their capture times.
    pub fn timed_frames(&self) -> Result<Vec<(Duration, Vec<u8>)>> {
        let data =
            std::fs::read(self.path()).with_context(|| format!("cannot read {:?}", self.path()))?;
        parse_pcap_timed(&data).with_context(|| format!("{:?}", self.path()))
    }

    /// The VRRP adverts captured so far, in capture order.
    pub fn adverts(&self) -> Result<Vec<SeenAdvert>> {
        Ok(self
            .timed_frames()?
            .iter()
            .filter_map(|(at, f)| advert(*at, f))
            .collect())
    }

    /// The gratuitous ARPs and unsolicited NAs captured so far, in capture order.
    pub fn announcements(&self) -> Result<Vec<SeenAnnounce>> {
        Ok(self
            .timed_frames()?
            .iter()
            .filter_map(|(at, f)| announce(*at, f))
            .collect())
    }
}

/// The pcap filter that keeps what [`Capture::adverts`] and [`Capture::announcements`] read.
pub const VRRP_FILTER: &str = "ip proto 112 or ip proto 51 or ip6 proto 112 or arp or icmp6";

/// Parses one Ethernet frame as a VRRP advert.
pub fn advert(at: Duration, frame: &[u8]) -> Option<SeenAdvert> {
    let ethertype = frame.get(12..14)?;
    let ip = frame.get(14..)?;
    let (src, vrrp) = if ethertype == ETHERTYPE_IPV4 {
        let ihl = usize::from(ip.first()? & 0x0f) * 4;
        let src = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
        let payload = ip.get(ihl..)?;
        let vrrp = match *ip.get(9)? {
            PROTO_VRRP => payload,
            // RFC 2402 AH (VRRPv2 `auth_type AH`): next header, then length in 32-bit words
            // minus 2.
            PROTO_AH if *payload.first()? == PROTO_VRRP => {
                payload.get((usize::from(*payload.get(1)?) + 2) * 4..)?
            }
            _ => return None,
        };
        (src, vrrp)
    } else if ethertype == ETHERTYPE_IPV6 {
        if *ip.get(6)? != PROTO_VRRP {
            return None;
        }
        let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
        (IpAddr::V6(Ipv6Addr::from(src)), ip.get(40..)?)
    } else {
        return None;
    };
    let head = vrrp.get(..8)?;
    let (version, kind) = (head[0] >> 4, head[0] & 0x0f);
    if kind != 1 || !(version == 2 || version == 3) {
        return None;
    }
    let interval = if version == 2 {
        Duration::from_secs(u64::from(head[5]))
    } else {
        Duration::from_millis(10 * u64::from(u16::from_be_bytes([head[4] & 0x0f, head[5]])))
    };
    Some(SeenAdvert {
        at,
        src,
        version,
        vrid: head[1],
        priority: head[2],
        interval,
    })
}

/// Parses one Ethernet frame as a gratuitous ARP or an unsolicited Neighbor Advertisement.
pub fn announce(at: Duration, frame: &[u8]) -> Option<SeenAnnounce> {
    let ethertype = frame.get(12..14)?;
    if ethertype == ETHERTYPE_ARP {
        let arp = frame.get(14..42)?;
        let mac: [u8; 6] = arp.get(8..14)?.try_into().ok()?;
        let sender = Ipv4Addr::new(arp[14], arp[15], arp[16], arp[17]);
        let target = Ipv4Addr::new(arp[24], arp[25], arp[26], arp[27]);
        // Gratuitous: the sender announces its own address (request or reply).
        return (sender == target).then_some(SeenAnnounce {
            at,
            ip: IpAddr::V4(sender),
            mac,
        });
    }
    if ethertype != ETHERTYPE_IPV6 || *frame.get(14 + 6)? != PROTO_ICMPV6 {
        return None;
    }
    let icmp = frame.get(54..)?;
    // Solicited flag clear (0x40): unsolicited.
    if *icmp.first()? != ICMPV6_NA || icmp.get(4)? & 0x40 != 0 {
        return None;
    }
    let target: [u8; 16] = icmp.get(8..24)?.try_into().ok()?;
    // Target link-layer address option (type 2), the first option in practice; else the
    // Ethernet source.
    let mac: [u8; 6] = match icmp.get(24..32) {
        Some(opt) if opt[0] == 2 => opt[2..8].try_into().ok()?,
        _ => frame.get(6..12)?.try_into().ok()?,
    };
    Some(SeenAnnounce {
        at,
        ip: IpAddr::V6(Ipv6Addr::from(target)),
        mac,
    })
}

/// A change of master measured on the wire.
#[derive(Debug, Clone)]
pub struct Handover {
    /// The old master's last advert before the new master's first (its priority-0 advert for
    /// a SIGTERM handover).
    pub last_old: SeenAdvert,
    /// The new master's first advert.
    pub first_new: SeenAdvert,
    /// Its first announcement of the VIP, if one was asked for and seen.
    pub first_announce: Option<SeenAnnounce>,
}

impl Handover {
    /// From the old master's last advert to the new master's first.
    pub fn gap(&self) -> Duration {
        self.first_new.at.saturating_sub(self.last_old.at)
    }
}

/// Finds, in `adverts` for `vrid` captured after `since` (a [`wire_now`] reading taken before
/// the event), the new master's first advert and the old master's last advert before it.
/// With `priority_zero`, the old master's advert must be its priority-0 one (a SIGTERM
/// handover), and the new master's the first after it.
pub fn handover(
    adverts: &[SeenAdvert],
    vrid: u8,
    old: IpAddr,
    new: IpAddr,
    since: Duration,
    priority_zero: bool,
) -> Result<Handover> {
    let mine = |a: &&SeenAdvert| a.vrid == vrid;
    let first_new = adverts
        .iter()
        .filter(mine)
        .find(|a| a.src == new && a.at >= since && a.priority > 0)
        .with_context(|| format!("no advert from {new} for VRID {vrid} since the event"))?;
    let last_old = adverts
        .iter()
        .filter(mine)
        .filter(|a| a.src == old && a.at <= first_new.at && (!priority_zero || a.at >= since))
        .rfind(|a| !priority_zero || a.priority == 0)
        .with_context(|| {
            if priority_zero {
                format!("no priority-0 advert from {old} for VRID {vrid} before {new}'s first")
            } else {
                format!("no advert from {old} for VRID {vrid} before {new}'s first")
            }
        })?;
    if priority_zero {
        // Nothing from the old master after its priority 0: it stopped.
        if let Some(late) = adverts
            .iter()
            .filter(mine)
            .find(|a| a.src == old && a.at > last_old.at && a.priority > 0)
        {
            bail!("{old} advertised again after its priority-0 advert: {late:?}");
        }
    }
    Ok(Handover {
        last_old: last_old.clone(),
        first_new: first_new.clone(),
        first_announce: None,
    })
}

/// The first announcement of `vip` captured at or after `since`, at `mac`.
pub fn first_announce(
    seen: &[SeenAnnounce],
    vip: IpAddr,
    mac: &str,
    since: Duration,
) -> Option<SeenAnnounce> {
    let mac = parse_mac(mac)?;
    seen.iter()
        .find(|a| a.ip == vip && a.mac == mac && a.at >= since)
        .cloned()
}

/// `aa:bb:cc:dd:ee:ff` as bytes.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut out {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_timers_from_the_formula() {
        let second = Duration::from_secs(1);
        // v3, priority 100, 1 s: 156/256 s = 609.375 ms; MDI 3.609375 s.
        assert_eq!(skew_time(3, 100, second), Duration::from_micros(609_375));
        assert_eq!(
            master_down_interval(3, 100, second),
            Duration::from_micros(3_609_375)
        );
        // v3 scales with the interval; v2 does not.
        let half = Duration::from_millis(500);
        assert_eq!(skew_time(3, 150, half), Duration::from_nanos(207_031_250));
        assert_eq!(skew_time(2, 150, half), Duration::from_nanos(414_062_500));
    }

    fn ipv4_vrrp(proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ETHERTYPE_IPV4);
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 255, proto, 0, 0, 192, 0, 2, 1];
        ip.extend_from_slice(&[224, 0, 0, 18]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn parses_v3_v2_and_ah_adverts() {
        let at = Duration::from_secs(5);
        let v3 = ipv4_vrrp(112, &[0x31, 7, 200, 1, 0, 50, 0, 0, 192, 0, 2, 200]);
        let a = advert(at, &v3).expect("v3 advert");
        assert_eq!((a.version, a.vrid, a.priority), (3, 7, 200));
        assert_eq!(a.interval, Duration::from_millis(500));
        assert_eq!(a.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        // AH: next header 112, payload length 4 (24 bytes), then VRRPv2.
        let mut ah = vec![112, 4];
        ah.extend_from_slice(&[0; 22]);
        ah.extend_from_slice(&[0x21, 9, 0, 1, 2, 1, 0, 0]);
        let b = advert(at, &ipv4_vrrp(51, &ah)).expect("AH advert");
        assert_eq!((b.version, b.vrid, b.priority), (2, 9, 0));
        assert_eq!(b.interval, Duration::from_secs(1));
        assert!(advert(at, &ipv4_vrrp(6, &[0; 20])).is_none());
    }

    #[test]
    fn parses_gratuitous_arp() {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0x76, 0x6c, 0, 0, 1]);
        f.extend_from_slice(&ETHERTYPE_ARP);
        f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        f.extend_from_slice(&[2, 0x76, 0x6c, 0, 0, 1, 192, 0, 2, 200]);
        f.extend_from_slice(&[0xff; 6]);
        f.extend_from_slice(&[192, 0, 2, 200]);
        let g = announce(Duration::ZERO, &f).expect("GARP");
        assert_eq!(g.ip, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200)));
        assert_eq!(Some(g.mac), parse_mac("02:76:6c:00:00:01"));
    }
}
