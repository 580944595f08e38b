//! Receive-side checks the configuration asks for, each attacked on a real segment and shown
//! to hold (issue 10, item 2): `check_unicast_src` against a host that is not a peer, a
//! peer's `min_ttl`/`max_ttl` against a TTL a router would leave, and the IPsec AH sequence
//! number against a captured advert replayed after the master died. Each attack has its
//! control: the same packet, made acceptable, does what the attack would have done.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use common::{VigilInstance, vigil_yaml};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vigil::types::{Centis, Priority, Version, Vrid};
use vigil::wire::advert::{Ipv4Tx, emit_ipv4_advert, ipv4_advert_len};
use vigil::wire::{
    Auth, IPPROTO_AH, IPPROTO_VRRP, V3Checksum, VRRP_GROUP_V4, VRRP_HOP_LIMIT, VrrpRepr,
};
use vigil_integration::{Host, Lab, Vigil, scenario, timed_scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);
const VRID: u8 = 91;
const PACED: Duration = Duration::from_millis(20);
/// How late a takeover may come after Master_Down_Interval: the status poll, the scheduler.
const TAKEOVER_MARGIN: Duration = Duration::from_millis(1500);

fn drops(v: &Vigil, reason: &str) -> u64 {
    v.field("VI", "drops")
        .ok()
        .and_then(|d| d[reason].as_u64())
        .unwrap_or(0)
}

fn accepted(v: &Vigil) -> u64 {
    v.field("VI", "adverts_received")
        .ok()
        .and_then(|n| n.as_u64())
        .unwrap_or(0)
}

/// Sends `datagrams` (whole IPv4 datagrams, headers included, source as written) to `dst`
/// from `host`'s eth0, `gap` apart, for at most `budget`; returns how many went out.
fn send_raw(
    host: &Host,
    protocol: u8,
    dst: Ipv4Addr,
    datagrams: Vec<Vec<u8>>,
    gap: Duration,
    budget: Duration,
) -> Result<usize> {
    let ifname = host.ifname().to_owned();
    // A thread of our own enters the host's namespace; the test's threads stay where they are.
    host.spawn_thread(move || {
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(protocol))),
        )?;
        socket.set_header_included_v4(true)?;
        socket.bind_device(Some(ifname.as_bytes()))?;
        let to = SockAddr::from(SocketAddrV4::new(dst, 0));
        let started = Instant::now();
        let mut sent = 0;
        for d in &datagrams {
            if started.elapsed() >= budget {
                break;
            }
            socket.send_to(d, &to)?;
            sent += 1;
            std::thread::sleep(gap);
        }
        Ok(sent)
    })
    .join()
}

/// `count` unicast VRRPv3 adverts for `VRID` at priority 254 with the right address list,
/// from `src` to `dst` with IPv4 TTL `ttl`, built by vigil's own encoder.
fn unicast_adverts(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    vip: Ipv4Addr,
    count: u16,
) -> Result<Vec<Vec<u8>>> {
    let repr = VrrpRepr {
        version: Version::V3,
        vrid: Vrid::new(VRID).context("VRID")?,
        priority: Priority::new(254),
        max_advert_int: Centis::from_secs(1),
        addresses: vec![IpAddr::V4(vip)],
        auth: Auth::None,
    };
    (1..=count)
        .map(|id| {
            let mut buf = vec![0u8; ipv4_advert_len(&repr)];
            let tx = Ipv4Tx {
                src,
                dst,
                ttl,
                id,
                ah_sequence: 0,
                v3_checksum: V3Checksum::PseudoHeader,
                unicast: true,
            };
            let len = emit_ipv4_advert(&mut buf, &repr, &tx).map_err(|e| anyhow!("{e}"))?;
            buf.truncate(len);
            Ok(buf)
        })
        .collect()
}

/// vigil on r1 as the master of a unicast instance whose only peer is `peer`, with the
/// source check and `extra_peer_yaml` (e.g. a TTL range) on that peer.
fn unicast_master(r1: &Host, peer: &Host, vip: Ipv4Addr, peer_yaml: &str) -> Result<Vigil> {
    let mut i = VigilInstance::new("VI", VRID, 200, IpAddr::V4(vip));
    i.extra = format!(
        "    unicast_src_ip: '{}'\n    unicast_peer:\n      - {peer_yaml}\n    check_unicast_src: true\n",
        r1.ipv4()
    )
    .replace("PEER", &peer.ipv4().to_string());
    let v = Vigil::start(r1, &vigil_yaml(&[i]))?;
    v.wait_state("VI", "MASTER", SETTLE)?;
    wait_until(SETTLE, "r1 to hold its VIP", || {
        r1.has_address(IpAddr::V4(vip)).unwrap_or(false)
    })?;
    Ok(v)
}

/// The attack: a host that is not a peer sends unicast adverts at priority 254 with
/// TTL 64 (as if from beyond a router). keepalived (check_unicast_src) drops them as "not a
/// unicast peer"; before, one such advert demoted vigil's master and removed its VIP.
#[test]
fn a_unicast_advert_from_a_host_that_is_not_a_peer_is_dropped() -> Result<()> {
    scenario("sec_not_a_peer", |lab| {
        let (r1, p, x) = (lab.host("r1")?, lab.host("p")?, lab.client("x")?);
        let vip = Lab::vip4(31);
        let v = unicast_master(&r1, &p, vip, "'PEER'")?;

        let attack = unicast_adverts(x.ipv4(), r1.ipv4(), 64, vip, 5)?;
        send_raw(&x, IPPROTO_VRRP, r1.ipv4(), attack, PACED, SETTLE)?;
        wait_until(SETTLE, "r1 to count 5 not_a_peer drops", || {
            drops(&v, "not_a_peer") >= 5
        })?;
        ensure!(
            v.state("VI")?.as_deref() == Some("MASTER"),
            "r1 lost MASTER to a non-peer"
        );
        ensure!(
            r1.has_address(IpAddr::V4(vip))?,
            "r1 lost its VIP to a non-peer"
        );
        ensure!(accepted(&v) == 0, "r1 accepted {} adverts", accepted(&v));
        let metrics = v.metrics()?;
        ensure!(
            metrics.contains("reason=\"not_a_peer\"} 5"),
            "the metrics do not show the drops:\n{metrics}"
        );

        // The control: the very same adverts from the configured peer demote the master
        // (no TTL range: a unicast peer's TTL is not required to be 255).
        let control = unicast_adverts(p.ipv4(), r1.ipv4(), 64, vip, 5)?;
        send_raw(&p, IPPROTO_VRRP, r1.ipv4(), control, PACED, SETTLE)?;
        v.wait_state("VI", "BACKUP", SETTLE)
            .context("the peer's adverts did not demote r1: the attack proves nothing")?;
        ensure!(
            drops(&v, "not_a_peer") == 5,
            "the peer's adverts counted as not_a_peer"
        );
        Ok(())
    })
}

/// A peer with `min_ttl 250`: its adverts arriving with TTL 64 (a router between, or a
/// spoofer further away) are dropped as `ttl_out_of_range`; with TTL 255 they are taken.
#[test]
fn a_peer_s_advert_outside_its_ttl_range_is_dropped() -> Result<()> {
    scenario("sec_peer_ttl", |lab| {
        let (r1, p) = (lab.host("r1")?, lab.host("p")?);
        let vip = Lab::vip4(32);
        let v = unicast_master(
            &r1,
            &p,
            vip,
            "{address: 'PEER', min_ttl: 250, max_ttl: 255}",
        )?;

        let attack = unicast_adverts(p.ipv4(), r1.ipv4(), 64, vip, 5)?;
        send_raw(&p, IPPROTO_VRRP, r1.ipv4(), attack, PACED, SETTLE)?;
        wait_until(SETTLE, "r1 to count 5 ttl_out_of_range drops", || {
            drops(&v, "ttl_out_of_range") >= 5
        })?;
        ensure!(
            v.state("VI")?.as_deref() == Some("MASTER"),
            "r1 lost MASTER to TTL 64"
        );
        ensure!(accepted(&v) == 0, "r1 accepted {} adverts", accepted(&v));

        let control = unicast_adverts(p.ipv4(), r1.ipv4(), VRRP_HOP_LIMIT, vip, 5)?;
        send_raw(&p, IPPROTO_VRRP, r1.ipv4(), control, PACED, SETTLE)?;
        v.wait_state("VI", "BACKUP", SETTLE)
            .context("the peer's TTL-255 adverts did not demote r1: the attack proves nothing")?;
        ensure!(
            drops(&v, "ttl_out_of_range") == 5,
            "TTL 255 counted as out of range"
        );
        Ok(())
    })
}

/// The attack: one AH advert captured from the master, replayed every 200 ms after
/// the master was killed. Its ICV is valid, so only the sequence number tells it apart;
/// before, it held the backup in BACKUP for as long as the replay lasted.
#[test]
fn a_replayed_ah_advert_does_not_hold_the_backup_after_the_master_died() -> Result<()> {
    timed_scenario("sec_ah_replay", |lab| {
        let (r1, r2, x) = (lab.host("r1")?, lab.host("r2")?, lab.client("x")?);
        let vip = Lab::vip4(33);
        let conf = |prio| {
            let mut i = VigilInstance::new("VI", VRID, prio, IpAddr::V4(vip));
            i.version = 2;
            i.extra = "    authentication: {ah: secret}\n".into();
            vigil_yaml(&[i])
        };
        let capture = x.capture("ah", "ip proto 51")?;
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start(&r2, &conf(100))?;
        v1.wait_state("VI", "MASTER", SETTLE)?;
        v2.wait_state("VI", "BACKUP", SETTLE)?;
        wait_until(SETTLE, "r2 to accept two of r1's adverts", || {
            accepted(&v2) >= 2
        })?;

        // One of r1's adverts, as the wire carried it (Ethernet header off).
        let r1_src = r1.ipv4().octets();
        let captured = wait_until(SETTLE, "an AH advert from r1 in the capture", || {
            capture.frames().ok().and_then(|frames| {
                frames
                    .into_iter()
                    .filter_map(|f| f.get(14..).map(<[u8]>::to_vec))
                    .find(|d| d.get(9) == Some(&IPPROTO_AH) && d.get(12..16) == Some(&r1_src[..]))
            })
        })?
        .value
        .context("captured advert")?;
        let down = Duration::from_millis(
            v2.field("VI", "master_down_interval_ms")?
                .as_u64()
                .context("master_down_interval_ms")?,
        );

        v1.kill9()?;
        let killed = Instant::now();
        // Replay for longer than the takeover may take, every 200 ms, beside the wait.
        let budget = down + TAKEOVER_MARGIN * 2;
        let replays = (0..(budget.as_millis() / 200 + 1))
            .map(|_| captured.clone())
            .collect();
        let replay = {
            let x = x.clone();
            std::thread::spawn(move || {
                send_raw(
                    &x,
                    IPPROTO_AH,
                    VRRP_GROUP_V4,
                    replays,
                    Duration::from_millis(200),
                    budget,
                )
            })
        };
        let waited = v2.wait_state("VI", "MASTER", down + TAKEOVER_MARGIN);
        let took = killed.elapsed();
        let sent = replay
            .join()
            .map_err(|_| anyhow!("the replay thread panicked"))??;
        waited.context("the replayed advert held r2 in BACKUP")?;
        println!(
            "AH replay: r2 master {took:?} after the kill (Master_Down_Interval {down:?}); \
             {sent} replays sent, r2 drops {}",
            v2.field("VI", "drops")?
        );
        ensure!(
            drops(&v2, "replayed_ah") >= 5,
            "the replays did not reach r2 as valid AH adverts: {}",
            v2.field("VI", "drops")?
        );
        ensure!(
            v2.state("VI")?.as_deref() == Some("MASTER"),
            "r2 left MASTER during the replay"
        );
        Ok(())
    })
}
