//! The daemon on a real kernel: vigil routers (and real keepalived peers) in network
//! namespaces, a client that pings the VIP and reads its neighbour table.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). They run as
//! root; under CI=true or VIGIL_LAB=1 a lab that cannot be built fails the test, elsewhere the
//! test prints why it skips.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Keepalived, Lab, Vigil, VrrpState, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

fn master_down_ms(v: &Vigil, instance: &str) -> Result<u64> {
    v.field(instance, "master_down_interval_ms")?
        .as_u64()
        .context("status has no master_down_interval_ms")
}

/// Two vigil routers for one instance: r1 at priority 200 and r2 at 100, started and settled
/// (r1 MASTER, r2 BACKUP).
fn settled_pair(
    lab: &Lab,
    name: &str,
    vrid: u8,
    vip: IpAddr,
) -> Result<(
    vigil_integration::Host,
    vigil_integration::Host,
    Vigil,
    Vigil,
)> {
    let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
    let conf = |prio| vigil_yaml(&[VigilInstance::new(name, vrid, prio, vip)]);
    let v1 = Vigil::start(&r1, &conf(200))?;
    let v2 = Vigil::start(&r2, &conf(100))?;
    v1.wait_state(name, "MASTER", SETTLE)?;
    v2.wait_state(name, "BACKUP", SETTLE)?;
    Ok((r1, r2, v1, v2))
}

/// a. Three routers: the highest priority owns the VIP; kill -9 it and the next one owns
/// it, and the client's neighbour entry follows to the new master's MAC.
#[test]
fn kill9_master_next_priority_takes_over_and_client_follows() -> Result<()> {
    scenario("kill9_failover", |lab| {
        let vip = IpAddr::V4(Lab::vip4(0));
        let (r1, r2, r3, c) = (
            lab.host("r1")?,
            lab.host("r2")?,
            lab.host("r3")?,
            lab.client("c")?,
        );
        let conf = |prio| {
            let mut i = VigilInstance::new("gw", 51, prio, vip);
            i.advert_int = "0.5";
            vigil_yaml(&[i])
        };
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start(&r2, &conf(150))?;
        let v3 = Vigil::start(&r3, &conf(100))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        v3.wait_state("gw", "BACKUP", SETTLE)?;
        wait_until(SETTLE, "client reaches the VIP", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            c.neigh(vip)?.as_deref() == Some(r1.mac()),
            "client's entry is not r1's MAC"
        );

        let mdi = master_down_ms(&v2, "gw")?;
        let t0 = Instant::now();
        v1.kill9()?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        let failover = t0.elapsed();
        wait_until(SETTLE, "client's neighbour entry points at r2", || {
            c.neigh(vip).ok().flatten().as_deref() == Some(r2.mac())
        })?;
        ensure!(c.ping(vip)?, "the VIP does not answer after failover");
        ensure!(
            v3.state("gw")?.as_deref() == Some("BACKUP"),
            "r3 left BACKUP"
        );
        ensure!(!r3.has_address(vip)?, "r3 holds the VIP too: two masters");
        println!(
            "kill -9 failover (vigil -> vigil): {} ms; Master_Down_Interval of r2: {mdi} ms",
            failover.as_millis()
        );
        // The backup's Master_Down timer runs from the last advert it heard, which left up to
        // one advert interval (500 ms) before the kill: the takeover lands in
        // [MDI - 500 ms, MDI] after the kill, plus the observer's polling.
        let ms = failover.as_millis() as u64;
        ensure!(
            ms + 500 + 40 >= mdi,
            "took over {ms} ms after the kill: before Master_Down_Interval"
        );
        ensure!(
            ms <= mdi + 100,
            "took over {ms} ms after the kill: later than Master_Down_Interval"
        );
        Ok(())
    })
}

/// b. SIGTERM on the master: it sends priority 0, the backup takes over after Skew_Time.
#[test]
fn sigterm_hands_over_within_skew_time() -> Result<()> {
    scenario("sigterm_handover", |lab| {
        let vip = IpAddr::V4(Lab::vip4(1));
        let (r1, r2, v1, _v2) = settled_pair(lab, "gw", 52, vip)?;
        // v3, priority 100, advert_int 1 s: Skew_Time = (256 - 100) * 100 / 256 cs = 609.4 ms.
        let skew_ms = (256 - 100) * 1000 / 256;
        let t0 = Instant::now();
        v1.child().signal(nix::sys::signal::Signal::SIGTERM)?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        let takeover = t0.elapsed();
        let status = v1
            .child()
            .wait_timeout(Duration::from_secs(1))
            .context("vigil did not exit within 1 s of SIGTERM")?;
        ensure!(status.success(), "vigil exited with {status}");
        ensure!(!r1.has_address(vip)?, "r1 kept the VIP after SIGTERM");
        println!(
            "SIGTERM takeover (vigil -> vigil): {} ms; Skew_Time {skew_ms} ms",
            takeover.as_millis()
        );
        ensure!(
            takeover.as_millis() <= skew_ms + 50 + 40,
            "takeover took {takeover:?}, more than Skew_Time + 50 ms (+ polling)"
        );
        Ok(())
    })
}

/// c. Link down on the master: Fault (VIPs removed), the backup takes over; link up: the
/// higher-priority router returns to Backup and then, preempting, to Master.
#[test]
fn link_down_faults_and_link_up_preempts_back() -> Result<()> {
    scenario("link_fault", |lab| {
        let vip = IpAddr::V4(Lab::vip4(2));
        let (r1, r2, v1, v2) = settled_pair(lab, "gw", 53, vip)?;
        // An administrator deletes the VIP under a running master: vigil puts it back.
        r1.run(
            "ip",
            ["addr", "del", &format!("{vip}/24"), "dev", r1.ifname()],
        )?;
        wait_until(SETTLE, "r1 restored the deleted VIP", || {
            r1.has_address(vip).unwrap_or(false)
        })?;
        ensure!(
            v1.log().contains("restoring it"),
            "vigil did not log the VIP restore:\n{}",
            v1.log()
        );
        r1.link_down()?;
        v1.wait_state("gw", "FAULT", SETTLE)?;
        wait_until(SETTLE, "r1 removed the VIP in FAULT", || {
            !r1.has_address(vip).unwrap_or(true)
        })?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        r1.link_up()?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        ensure!(!r2.has_address(vip)?, "r2 kept the VIP after r1 preempted");
        Ok(())
    })
}

/// d. IPv6 VRRPv3: takeover of an IPv6 VIP, announced with an unsolicited NA the client sees.
#[test]
fn ipv6_takeover_sends_unsolicited_na() -> Result<()> {
    scenario("ipv6_takeover", |lab| {
        let vip6 = Lab::vip6(3);
        let vip = IpAddr::V6(vip6);
        let (_r1, r2, v1, _v2) = settled_pair(lab, "gw6", 54, vip)?;
        let c = lab.client("c")?;
        wait_until(SETTLE, "client reaches the IPv6 VIP", || {
            c.ping(vip).unwrap_or(false)
        })?;
        let capture = c.capture("na", "icmp6")?;
        v1.kill9()?;
        wait_until(SETTLE, "r2 holds the IPv6 VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        let r2_mac: vigil::wire::ethernet::MacAddr =
            r2.mac().parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let seen = wait_until(
            SETTLE,
            "client captured r2's unsolicited NA for the VIP",
            || {
                capture.frames().unwrap_or_default().iter().any(|f| {
                    vigil::wire::ndisc::UnsolicitedNa::parse(f)
                        .is_ok_and(|na| na.target == vip6 && na.mac == r2_mac)
                })
            },
        );
        seen?;
        wait_until(SETTLE, "client's neighbour entry points at r2", || {
            c.neigh(vip).ok().flatten().as_deref() == Some(r2.mac())
        })?;
        Ok(())
    })
}

/// f. N/N: two routers, 20 VRIDs, each master for half; kill one and the other owns all 20.
#[test]
fn twenty_vrids_split_then_one_router_owns_all() -> Result<()> {
    scenario("n_n_twenty", |lab| {
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let vips: Vec<IpAddr> = (0..20u8).map(|k| IpAddr::V4(Lab::vip4(k))).collect();
        let names: Vec<String> = (0..20).map(|k| format!("vr{k}")).collect();
        let conf = |first: bool| {
            let instances: Vec<VigilInstance> = (0..20usize)
                .map(|k| {
                    let mine = (k % 2 == 0) == first;
                    let mut i = VigilInstance::new(
                        &names[k],
                        100 + k as u8,
                        if mine { 200 } else { 100 },
                        vips[k],
                    );
                    i.advert_int = "0.5";
                    i
                })
                .collect();
            vigil_yaml(&instances)
        };
        let v1 = Vigil::start(&r1, &conf(true))?;
        let v2 = Vigil::start(&r2, &conf(false))?;
        let count = |h: &vigil_integration::Host| -> usize {
            vips.iter()
                .filter(|v| h.has_address(**v).unwrap_or(false))
                .count()
        };
        wait_until(SETTLE, "each router holds 10 VIPs", || {
            count(&r1) == 10 && count(&r2) == 10
        })?;
        for (k, vip) in vips.iter().enumerate() {
            let owner = if k % 2 == 0 { &r1 } else { &r2 };
            ensure!(
                owner.has_address(*vip)?,
                "VIP {vip} is not on its preferred router"
            );
        }
        let t0 = Instant::now();
        v1.kill9()?;
        wait_until(SETTLE, "r2 holds all 20 VIPs", || count(&r2) == 20)?;
        println!(
            "N/N: r2 took over 10 VRIDs in {} ms",
            t0.elapsed().as_millis()
        );
        let status = v2.status()?;
        let masters = status["instances"]
            .as_array()
            .map_or(0, |l| l.iter().filter(|i| i["state"] == "MASTER").count());
        ensure!(masters == 20, "r2 reports {masters} masters, not 20");
        Ok(())
    })
}

// ---- e. interop with real keepalived -------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Mode {
    V2Pass,
    V2Ah,
    V3Ipv4,
    V3Ipv6,
    Unicast,
}

fn keepalived_conf(
    mode: Mode,
    vrid: u8,
    prio: u8,
    vip: IpAddr,
    me: &vigil_integration::Host,
    peer: &vigil_integration::Host,
) -> String {
    let prefix = if vip.is_ipv4() { 24 } else { 64 };
    let (version, extra) = match mode {
        Mode::V2Pass => (
            2,
            "    authentication {\n        auth_type PASS\n        auth_pass vigil123\n    }\n"
                .to_string(),
        ),
        Mode::V2Ah => (
            2,
            "    authentication {\n        auth_type AH\n        auth_pass vigilah\n    }\n"
                .to_string(),
        ),
        Mode::V3Ipv4 | Mode::V3Ipv6 => (3, String::new()),
        Mode::Unicast => (
            3,
            format!(
                "    unicast_src_ip {}\n    unicast_peer {{\n        {}\n    }}\n",
                me.ipv4(),
                peer.ipv4()
            ),
        ),
    };
    format!(
        "global_defs {{\n    router_id {name}\n}}\n\
         vrrp_instance VI {{\n    state BACKUP\n    interface {ifname}\n    virtual_router_id {vrid}\n    \
         priority {prio}\n    advert_int 1\n    version {version}\n{extra}    virtual_ipaddress {{\n        {vip}/{prefix}\n    }}\n}}\n",
        name = me.name(),
        ifname = me.ifname(),
    )
}

fn vigil_conf(
    mode: Mode,
    vrid: u8,
    prio: u8,
    vip: IpAddr,
    me: &vigil_integration::Host,
    peer: &vigil_integration::Host,
) -> String {
    let mut i = VigilInstance::new("VI", vrid, prio, vip);
    match mode {
        Mode::V2Pass => {
            i.version = 2;
            i.extra = "    authentication: {pass: vigil123}\n".into();
        }
        Mode::V2Ah => {
            i.version = 2;
            i.extra = "    authentication: {ah: vigilah}\n".into();
        }
        Mode::V3Ipv4 | Mode::V3Ipv6 => {}
        Mode::Unicast => {
            i.extra = format!(
                "    unicast_src_ip: {}\n    unicast_peer: ['{}']\n",
                me.ipv4(),
                peer.ipv4()
            );
        }
    }
    vigil_yaml(&[i])
}

/// How vigil is configured in an interop scenario: its native YAML, or (the drop-in
/// promise) the very keepalived.conf its keepalived peer runs, only the priority differing.
#[derive(Clone, Copy, Debug)]
enum VigilFormat {
    Yaml,
    KeepalivedConf,
}

fn start_vigil(
    format: VigilFormat,
    mode: Mode,
    vrid: u8,
    prio: u8,
    vip: IpAddr,
    me: &vigil_integration::Host,
    peer: &vigil_integration::Host,
) -> Result<Vigil> {
    match format {
        VigilFormat::Yaml => Vigil::start(me, &vigil_conf(mode, vrid, prio, vip, me, peer)),
        VigilFormat::KeepalivedConf => Vigil::start_with(
            me,
            "keepalived.conf",
            &keepalived_conf(mode, vrid, prio, vip, me, peer),
        ),
    }
}

/// vigil higher wins and keepalived stays BACKUP; kill vigil, keepalived takes over; vigil
/// back with a lower priority stays BACKUP under keepalived; kill keepalived, vigil takes over.
fn interop(mode: Mode, vrid: u8, format: VigilFormat) -> Result<()> {
    scenario(&format!("interop_{mode:?}_{format:?}"), |lab| {
        let vip = match mode {
            Mode::V3Ipv6 => IpAddr::V6(Lab::vip6(vrid % 50)),
            _ => IpAddr::V4(Lab::vip4(vrid % 50)),
        };
        let (rv, rk, c) = (lab.host("rv")?, lab.host("rk")?, lab.client("c")?);
        let ka = Keepalived::start(&rk, &keepalived_conf(mode, vrid, 100, vip, &rk, &rv))?;
        let v = start_vigil(format, mode, vrid, 200, vip, &rv, &rk)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        ka.wait_state("VI", VrrpState::Backup, SETTLE)?;
        wait_until(SETTLE, "client reaches the VIP on vigil", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            !rk.has_address(vip)?,
            "keepalived holds the VIP while vigil is master"
        );
        // Stable: keepalived must stay BACKUP while vigil advertises (it accepts our adverts).
        std::thread::sleep(Duration::from_secs(3));
        ensure!(
            ka.state("VI")? == Some(VrrpState::Backup),
            "keepalived left BACKUP: it rejects vigil's adverts\n{}",
            ka.log()
        );

        let t0 = Instant::now();
        v.kill9()?;
        ka.wait_state("VI", VrrpState::Master, SETTLE)?;
        println!(
            "{mode:?}: kill -9 vigil -> keepalived master in {} ms",
            t0.elapsed().as_millis()
        );
        wait_until(SETTLE, "keepalived holds the VIP", || {
            rk.has_address(vip).unwrap_or(false)
        })?;
        // vigil left its VIP behind when killed; clear it as a reboot would.
        let prefix = if vip.is_ipv4() { "24" } else { "64" };
        let _ = rv.exec(
            "ip",
            [
                "addr",
                "del",
                &format!("{vip}/{prefix}"),
                "dev",
                rv.ifname(),
            ],
        );

        let v = start_vigil(format, mode, vrid, 50, vip, &rv, &rk)?;
        v.wait_state("VI", "BACKUP", SETTLE)?;
        std::thread::sleep(Duration::from_secs(4));
        ensure!(
            v.state("VI")?.as_deref() == Some("BACKUP"),
            "vigil left BACKUP under keepalived: it rejects keepalived's adverts\n{}",
            v.log()
        );
        ensure!(
            ka.state("VI")? == Some(VrrpState::Master),
            "keepalived lost MASTER"
        );
        let mdi = master_down_ms(&v, "VI")?;
        let t0 = Instant::now();
        ka.kill9()?;
        wait_until(SETTLE, "vigil holds the VIP", || {
            rv.has_address(vip).unwrap_or(false)
        })?;
        println!(
            "{mode:?}: kill -9 keepalived -> vigil holds the VIP in {} ms (Master_Down_Interval {mdi} ms)",
            t0.elapsed().as_millis()
        );
        v.wait_state("VI", "MASTER", SETTLE)?;
        Ok(())
    })
}

#[test]
fn interop_keepalived_v2_pass() -> Result<()> {
    interop(Mode::V2Pass, 61, VigilFormat::Yaml)
}

#[test]
fn interop_keepalived_v2_ah() -> Result<()> {
    interop(Mode::V2Ah, 62, VigilFormat::Yaml)
}

#[test]
fn interop_keepalived_v3_ipv4() -> Result<()> {
    interop(Mode::V3Ipv4, 63, VigilFormat::Yaml)
}

#[test]
fn interop_keepalived_v3_ipv6() -> Result<()> {
    interop(Mode::V3Ipv6, 64, VigilFormat::Yaml)
}

#[test]
fn interop_keepalived_v3_unicast() -> Result<()> {
    interop(Mode::Unicast, 65, VigilFormat::Yaml)
}

/// The drop-in promise: vigil runs from the keepalived.conf its keepalived peer runs.
#[test]
fn drop_in_keepalived_conf_v2_pass() -> Result<()> {
    interop(Mode::V2Pass, 66, VigilFormat::KeepalivedConf)
}

#[test]
fn drop_in_keepalived_conf_v3_unicast() -> Result<()> {
    interop(Mode::Unicast, 67, VigilFormat::KeepalivedConf)
}

/// Prometheus metrics: from the control socket (`vigil status --metrics`) and over HTTP
/// (`--metrics-listen`), fetched inside the router's own namespace.
#[test]
fn metrics_show_state_and_counters() -> Result<()> {
    scenario("metrics", |lab| {
        let vip = IpAddr::V4(Lab::vip4(30));
        let r1 = lab.host("r1")?;
        let yaml = vigil_yaml(&[VigilInstance::new("gw", 80, 150, vip)]);
        let v = Vigil::start_full(
            &r1,
            "vigil.yaml",
            &yaml,
            &["--metrics-listen", "127.0.0.1:9650"],
        )?;
        v.wait_state("gw", "MASTER", SETTLE)?;
        let master = r#"vigil_instance_state{vrrp_instance="gw",interface="eth0",vrid="80",state="MASTER"} 1"#;
        let text = v.metrics()?;
        ensure!(
            text.contains(master),
            "control-socket metrics lack the MASTER state:\n{text}"
        );
        ensure!(
            text.contains("vigil_adverts_sent_total"),
            "no advert counter:\n{text}"
        );
        ensure!(
            text.lines()
                .any(|l| l.starts_with("vigil_build_info{version=\"") && l.ends_with("} 1")),
            "no build_info:\n{text}"
        );
        let http = r1.run(
            "bash",
            ["-c", "exec 3<>/dev/tcp/127.0.0.1/9650; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"],
        )?;
        ensure!(http.starts_with("HTTP/1.0 200 OK"), "HTTP answer:\n{http}");
        ensure!(
            http.contains(master),
            "HTTP metrics lack the MASTER state:\n{http}"
        );
        Ok(())
    })
}

/// Paced gratuitous ARPs (`vrrp_garp_interval`) stop when the instance stops being master:
/// r1 becomes master and starts 5 rounds 1 s apart; r2, the address owner (priority 255),
/// takes over at once; none of r1's remaining rounds may point clients back at r1.
#[test]
fn paced_garp_repeats_stop_when_mastership_is_lost() -> Result<()> {
    scenario("garp_cancel", |lab| {
        let vip4 = Lab::vip4(31);
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let conf = |prio: u8| {
            format!(
                "global_defs {{\n    vrrp_garp_interval 1\n}}\nvrrp_instance VI {{\n    interface eth0\n    \
                 virtual_router_id 92\n    priority {prio}\n    advert_int 1\n    version 3\n    \
                 garp_master_repeat 5\n    garp_master_delay 0\n    virtual_ipaddress {{\n        {vip4}/24\n    }}\n}}\n"
            )
        };
        let capture = c.capture("garp", "arp")?;
        let v1 = Vigil::start_with(&r1, "keepalived.conf", &conf(200))?;
        v1.wait_state("VI", "MASTER", SETTLE)?;
        let v2 = Vigil::start_with(&r2, "keepalived.conf", &conf(255))?;
        v2.wait_state("VI", "MASTER", SETTLE)?;
        v1.wait_state("VI", "BACKUP", SETTLE)?;
        let r1_mac: vigil::wire::ethernet::MacAddr =
            r1.mac().parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let from_r1 = || -> usize {
            capture
                .frames()
                .unwrap_or_default()
                .iter()
                .filter(|f| {
                    vigil::wire::arp::GratuitousArp::parse(f)
                        .is_ok_and(|g| g.ip == vip4 && g.mac == r1_mac)
                })
                .count()
        };
        // Observation window: r1's uncancelled rounds would have gone out at +1 s .. +4 s.
        std::thread::sleep(Duration::from_secs(5));
        let sent = from_r1();
        println!("GARPs from r1 for the VIP: {sent} (5 rounds were scheduled)");
        ensure!(sent >= 1, "r1 never announced the VIP it held");
        ensure!(
            sent <= 2,
            "r1 kept announcing after losing mastership: {sent} GARPs"
        );
        Ok(())
    })
}
