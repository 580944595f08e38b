//! The daemon on a real kernel: vigil routers (and real keepalived peers) in network
//! namespaces, a client that pings the VIP and reads its neighbour table.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). They run as
//! root; under CI=true or VIGIL_LAB=1 a lab that cannot be built fails the test, elsewhere the
//! test prints why it skips.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{
    Capture, Handover, Host, Keepalived, Lab, VRRP_FILTER, Vigil, VrrpState, first_announce,
    handover, master_down_interval, scenario, skew_time, timed_scenario, wait_until, wire_now,
};

const SETTLE: Duration = Duration::from_secs(15);

/// Issue 11's bounds around a takeover time computed from the RFC: a takeover more than 20 ms
/// early means the backup did not wait the RFC's timer; more than 100 ms late is too slow.
const EARLY: Duration = Duration::from_millis(20);
const LATE: Duration = Duration::from_millis(100);

/// The IP source of a router's VRRP adverts for `vip`'s family: its address, or its
/// link-local address over IPv6 (RFC 5798 §5.1.2.1).
fn vrrp_src(host: &Host, vip: IpAddr) -> IpAddr {
    match vip {
        IpAddr::V4(_) => IpAddr::V4(host.ipv4()),
        IpAddr::V6(_) => IpAddr::V6(host.link_local()),
    }
}

/// Waits until `capture` shows `new`'s first advert for `vrid` since `since` (and the old
/// master's last advert, or its priority-0 advert with `sigterm`) and its first gratuitous
/// ARP / unsolicited NA for `vip`; asserts the gap in [expected − 20 ms, expected + 100 ms]
/// and the announcement within 100 ms of the first advert; prints the figures.
#[allow(clippy::too_many_arguments)]
fn assert_handover(
    what: &str,
    capture: &Capture,
    vrid: u8,
    vip: IpAddr,
    (old, new): (&Host, &Host),
    since: Duration,
    sigterm: bool,
    expected: Duration,
) -> Result<Handover> {
    let (old_src, new_src) = (vrrp_src(old, vip), vrrp_src(new, vip));
    let waited = wait_until(SETTLE, &format!("{what}: the handover on the wire"), || {
        let mut h = handover(&capture.adverts()?, vrid, old_src, new_src, since, sigterm)?;
        h.first_announce = first_announce(&capture.announcements()?, vip, new.mac(), since);
        anyhow::Ok((h.first_announce.is_some(), h))
    })?;
    let h = waited.value?.1;
    let gap = h.gap();
    let announce = h.first_announce.as_ref().context("announcement")?;
    let garp_after = announce.at.as_secs_f64() - h.first_new.at.as_secs_f64();
    let from = if sigterm {
        "priority-0 advert"
    } else {
        "last advert"
    };
    println!(
        "{what}: on the wire, {:.1} ms from {}'s {from} to {}'s first advert (RFC: {:.1} ms, \
         accepted [{:.1}, {:.1}]); first GARP/NA {:+.1} ms after that advert",
        gap.as_secs_f64() * 1e3,
        old.name(),
        new.name(),
        expected.as_secs_f64() * 1e3,
        (expected - EARLY).as_secs_f64() * 1e3,
        (expected + LATE).as_secs_f64() * 1e3,
        garp_after * 1e3,
    );
    let outside = if gap + EARLY < expected {
        Some("more than 20 ms before")
    } else if gap > expected + LATE {
        Some("more than 100 ms after")
    } else {
        None
    };
    if let Some(outside) = outside {
        bail!(
            "{what}: {} took over {:.1} ms after {}'s {from}: {outside} the RFC's {:.1} ms",
            new.name(),
            gap.as_secs_f64() * 1e3,
            old.name(),
            expected.as_secs_f64() * 1e3
        );
    }
    ensure!(
        garp_after.abs() <= LATE.as_secs_f64(),
        "{what}: {}'s first announcement of {vip} is {:.1} ms from its first advert",
        new.name(),
        garp_after * 1e3
    );
    Ok(h)
}

/// Two vigil routers for one instance: r1 at priority 200 and r2 at 100, started and settled
/// (r1 MASTER, r2 BACKUP).
fn settled_pair(
    (r1, r2): (&Host, &Host),
    name: &str,
    vrid: u8,
    vip: IpAddr,
) -> Result<(Vigil, Vigil)> {
    let conf = |prio| vigil_yaml(&[VigilInstance::new(name, vrid, prio, vip)]);
    let v1 = Vigil::start(r1, &conf(200))?;
    let v2 = Vigil::start(r2, &conf(100))?;
    v1.wait_state(name, "MASTER", SETTLE)?;
    v2.wait_state(name, "BACKUP", SETTLE)?;
    Ok((v1, v2))
}

/// Routers r1 and r2 of `lab`.
fn pair(lab: &Lab) -> Result<(Host, Host)> {
    Ok((lab.host("r1")?, lab.host("r2")?))
}

/// a. Three routers: the highest priority owns the VIP; kill -9 it and the next one owns
/// it, and the client's neighbour entry follows to the new master's MAC. Timed on the wire at
/// r2: its first advert lands Master_Down_Interval (RFC formula, r2's priority and interval)
/// after r1's last.
#[test]
fn kill9_master_next_priority_takes_over_and_client_follows() -> Result<()> {
    timed_scenario("kill9_failover", |lab| {
        const VRID: u8 = 51;
        const INTERVAL: Duration = Duration::from_millis(500);
        let vip = IpAddr::V4(Lab::vip4(0));
        let (r1, r2, r3, c) = (
            lab.host("r1")?,
            lab.host("r2")?,
            lab.host("r3")?,
            lab.client("c")?,
        );
        let capture = r2.capture("vrrp", VRRP_FILTER)?;
        let conf = |prio| {
            let mut i = VigilInstance::new("gw", VRID, prio, vip);
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

        // RFC 5798 §6.1 for r2: 3 × 500 ms + (256 − 150) × 500 ms / 256 = 1707.0 ms (r3's is
        // 1804.7 ms: r2's first advert reaches it first).
        let mdi = master_down_interval(3, 150, INTERVAL);
        let since = wire_now();
        v1.kill9()?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        assert_handover(
            "kill -9 (vigil -> vigil)",
            &capture,
            VRID,
            vip,
            (&r1, &r2),
            since,
            false,
            mdi,
        )?;
        wait_until(SETTLE, "client's neighbour entry points at r2", || {
            c.neigh(vip).ok().flatten().as_deref() == Some(r2.mac())
        })?;
        ensure!(c.ping(vip)?, "the VIP does not answer after failover");
        ensure!(
            v3.state("gw")?.as_deref() == Some("BACKUP"),
            "r3 left BACKUP"
        );
        ensure!(!r3.has_address(vip)?, "r3 holds the VIP too: two masters");
        let r3_src = vrrp_src(&r3, vip);
        ensure!(
            !capture.adverts()?.iter().any(|a| a.src == r3_src),
            "r3 advertised: it was master for a while"
        );
        Ok(())
    })
}

/// b. SIGTERM on the master: it sends priority 0, the backup takes over after Skew_Time,
/// timed on the wire at r2 from r1's priority-0 advert.
#[test]
fn sigterm_hands_over_within_skew_time() -> Result<()> {
    timed_scenario("sigterm_handover", |lab| {
        const VRID: u8 = 52;
        let vip = IpAddr::V4(Lab::vip4(1));
        let (r1, r2) = pair(lab)?;
        let capture = r2.capture("vrrp", VRRP_FILTER)?;
        let (v1, _v2) = settled_pair((&r1, &r2), "gw", VRID, vip)?;
        // RFC 5798 §6.1 for r2 (v3, priority 100, 1 s): (256 − 100) × 1000 ms / 256 = 609.4 ms.
        let skew = skew_time(3, 100, Duration::from_secs(1));
        let since = wire_now();
        v1.child().signal(nix::sys::signal::Signal::SIGTERM)?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        let status = v1
            .child()
            .wait_timeout(Duration::from_secs(1))
            .context("vigil did not exit within 1 s of SIGTERM")?;
        ensure!(status.success(), "vigil exited with {status}");
        ensure!(!r1.has_address(vip)?, "r1 kept the VIP after SIGTERM");
        assert_handover(
            "SIGTERM (vigil -> vigil)",
            &capture,
            VRID,
            vip,
            (&r1, &r2),
            since,
            true,
            skew,
        )?;
        Ok(())
    })
}

/// c. Link down on the master: Fault (VIPs removed), the backup takes over; link up: the
/// higher-priority router returns to Backup and then, preempting, to Master.
#[test]
fn link_down_faults_and_link_up_preempts_back() -> Result<()> {
    scenario("link_fault", |lab| {
        let vip = IpAddr::V4(Lab::vip4(2));
        let (r1, r2) = pair(lab)?;
        let (v1, v2) = settled_pair((&r1, &r2), "gw", 53, vip)?;
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
        let (r1, r2) = pair(lab)?;
        let (v1, _v2) = settled_pair((&r1, &r2), "gw6", 54, vip)?;
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

impl Mode {
    fn version(self) -> u8 {
        match self {
            Mode::V2Pass | Mode::V2Ah => 2,
            Mode::V3Ipv4 | Mode::V3Ipv6 | Mode::Unicast => 3,
        }
    }

    /// `advert_int`: VRRPv2 carries whole seconds; v3 runs at 0.5 s, which keeps the interop
    /// sequence (five takeovers, two windows) short and exercises centisecond intervals.
    fn advert_int(self) -> &'static str {
        if self.version() == 2 { "1" } else { "0.5" }
    }

    fn interval(self) -> Duration {
        if self.version() == 2 {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(500)
        }
    }
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
         priority {prio}\n    advert_int {advert_int}\n    version {version}\n{extra}    virtual_ipaddress {{\n        {vip}/{prefix}\n    }}\n}}\n",
        name = me.name(),
        ifname = me.ifname(),
        advert_int = mode.advert_int(),
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
    i.advert_int = mode.advert_int();
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

/// One interop lab: vigil on `rv`, keepalived on `rk`, a client, and a capture on `rv` that
/// sees both routers' adverts (multicast or unicast) and announcements.
struct Interop {
    mode: Mode,
    format: VigilFormat,
    vrid: u8,
    vip: IpAddr,
    rv: Host,
    rk: Host,
    c: Host,
    capture: Capture,
}

/// vigil's counters for the instance: (transitions, adverts sent, adverts received).
fn vigil_counters(v: &Vigil) -> Result<(u64, u64, u64)> {
    let status = v.status()?;
    let i = status["instances"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == "VI"))
        .context("no instance VI in vigil's status")?;
    let n = |k: &str| i[k].as_u64().with_context(|| format!("status has no {k}"));
    Ok((
        n("transitions")?,
        n("adverts_sent")?,
        n("adverts_received")?,
    ))
}

/// How many state transitions keepalived has logged for VI.
fn keepalived_transitions(ka: &Keepalived) -> usize {
    ka.log().matches("(VI) Entering ").count()
}

impl Interop {
    fn keepalived(&self, prio: u8) -> Result<Keepalived> {
        let conf = keepalived_conf(self.mode, self.vrid, prio, self.vip, &self.rk, &self.rv);
        Keepalived::start(&self.rk, &conf)
    }

    fn vigil(&self, prio: u8) -> Result<Vigil> {
        start_vigil(
            self.format,
            self.mode,
            self.vrid,
            prio,
            self.vip,
            &self.rv,
            &self.rk,
        )
    }

    fn name(host: &Host) -> &'static str {
        if host.name() == "rv" {
            "vigil"
        } else {
            "keepalived"
        }
    }

    /// After a change of master: the VIP on `master`'s host and (when the other router still
    /// runs) not on `backup`'s; the client reaches the VIP at the master's MAC.
    fn assert_roles(&self, what: &str, master: &Host, backup: Option<&Host>) -> Result<()> {
        let vip = self.vip;
        let m = Self::name(master);
        wait_until(SETTLE, &format!("{what}: {m} holds the VIP"), || {
            master.has_address(vip)
        })?;
        if let Some(backup) = backup {
            let b = Self::name(backup);
            // Removing the VIP is part of leaving Master: done by the time the new master
            // has announced itself, give or take the netlink round trip.
            wait_until(
                Duration::from_secs(2),
                &format!("{what}: {b} (backup) drops the VIP"),
                || backup.has_address(vip).map(|held| !held),
            )?;
        }
        // Ping first: a client without an entry for the VIP creates none from a gratuitous
        // ARP (arp_accept 0); one that has an entry updates it to the new master's MAC.
        wait_until(SETTLE, &format!("{what}: client reaches the VIP"), || {
            self.c.ping(vip)
        })?;
        wait_until(
            SETTLE,
            &format!("{what}: client's entry for the VIP is {m}'s MAC"),
            || {
                self.c
                    .neigh(vip)
                    .map(|mac| (mac.as_deref() == Some(master.mac()), mac))
            },
        )?;
        Ok(())
    }

    /// A stability window with `vigil_master` (else keepalived) master and the other router,
    /// of `backup_priority`, backup. It lasts 3.5 advert intervals, and at least the backup's
    /// Master_Down_Interval plus half an interval, so that a backup that rejects the master's
    /// adverts takes over inside it even if it just started. Sampled all along, the master holds the VIP and the backup does not; over the
    /// window, no transition on either side (vigil's counter, keepalived's log), the backup's
    /// received adverts (vigil's counter, or keepalived's peer's adverts on the wire) grow by
    /// at least 3, and the backup sends no advert.
    fn stable_window(
        &self,
        what: &str,
        v: &Vigil,
        ka: &Keepalived,
        vigil_master: bool,
        backup_priority: u8,
    ) -> Result<()> {
        let interval = self.mode.interval();
        let window = (interval * 7 / 2).max(
            master_down_interval(self.mode.version(), backup_priority, interval) + interval / 2,
        );
        let (master, backup) = if vigil_master {
            (&self.rv, &self.rk)
        } else {
            (&self.rk, &self.rv)
        };
        let (mv, bv) = (Self::name(master), Self::name(backup));
        let before = vigil_counters(v)?;
        let ka_before = keepalived_transitions(ka);
        let t0 = wire_now();
        let started = Instant::now();
        let mut samples = 0;
        while started.elapsed() < window {
            let at = started.elapsed().as_millis();
            ensure!(
                master.has_address(self.vip)?,
                "{what}: {at} ms into the window, {mv} (master) does not hold the VIP"
            );
            ensure!(
                !backup.has_address(self.vip)?,
                "{what}: {at} ms into the window, {bv} (backup) holds the VIP"
            );
            ensure!(
                v.child().is_running() && ka.child().is_running(),
                "{what}: a daemon exited inside the window"
            );
            samples += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        let t1 = wire_now();
        // The capture has caught up with t1 once it holds a frame captured after it.
        wait_until(
            SETTLE,
            &format!("{what}: the capture to reach the window's end"),
            || {
                self.capture
                    .timed_frames()
                    .map(|f| f.last().is_some_and(|(at, _)| *at >= t1))
            },
        )?;
        let after = vigil_counters(v)?;
        let ka_after = keepalived_transitions(ka);
        let adverts: Vec<_> = capture_window(&self.capture, self.vrid, t0, t1)?;
        let from = |h: &Host| {
            let src = vrrp_src(h, self.vip);
            adverts.iter().filter(|a| a.src == src).count()
        };
        let (from_master, from_backup) = (from(master), from(backup));
        let vigil_grew = if vigil_master {
            after.1 - before.1
        } else {
            after.2 - before.2
        };
        println!(
            "{what}: {:.1} s window, {samples} VIP samples; {mv} (master) sent {from_master} \
             adverts on the wire, {bv} (backup) {from_backup}; vigil transitions {} -> {}, \
             vigil adverts {} +{vigil_grew}; keepalived transitions {ka_before} -> {ka_after}",
            window.as_secs_f64(),
            before.0,
            after.0,
            if vigil_master { "sent" } else { "received" },
        );
        ensure!(
            after.0 == before.0,
            "{what}: vigil changed state inside the window ({} -> {} transitions)\n{}",
            before.0,
            after.0,
            v.log()
        );
        ensure!(
            ka_after == ka_before,
            "{what}: keepalived changed state inside the window\n{}",
            ka.log()
        );
        ensure!(
            vigil_grew >= 3,
            "{what}: vigil's adverts {} grew by {vigil_grew} in {window:?}",
            if vigil_master { "sent" } else { "received" }
        );
        ensure!(
            from_master >= 3,
            "{what}: {mv} sent {from_master} adverts in {window:?}"
        );
        ensure!(
            from_backup == 0,
            "{what}: {bv}, the backup, sent {from_backup} adverts inside the window"
        );
        Ok(())
    }
}

/// The adverts for `vrid` captured between `t0` and `t1` (wire clock).
fn capture_window(
    capture: &Capture,
    vrid: u8,
    t0: Duration,
    t1: Duration,
) -> Result<Vec<vigil_integration::SeenAdvert>> {
    Ok(capture
        .adverts()?
        .into_iter()
        .filter(|a| a.vrid == vrid && a.at >= t0 && a.at <= t1)
        .collect())
}

/// vigil and keepalived on one link, through every change of master, each asserted on both
/// routers and at the client, and timed on the wire against the RFC formulas:
/// 1. vigil (200) wins the election; a stability window (keepalived accepts vigil's adverts);
/// 2. SIGTERM vigil: keepalived (100) takes over after its Skew_Time from vigil's priority 0;
/// 3. vigil (50) joins as backup; a stability window (vigil accepts keepalived's adverts);
/// 4. SIGTERM keepalived: vigil (50) takes over after its Skew_Time;
/// 5. keepalived (100) starts and preempts vigil (50);
/// 6. vigil restarted at 200 preempts keepalived (100);
/// 7. kill -9 vigil: keepalived takes over after its Master_Down_Interval from vigil's last
///    advert.
fn interop(mode: Mode, vrid: u8, format: VigilFormat) -> Result<()> {
    timed_scenario(&format!("interop_{mode:?}_{format:?}"), |lab| {
        let vip = match mode {
            Mode::V3Ipv6 => IpAddr::V6(Lab::vip6(vrid % 50)),
            _ => IpAddr::V4(Lab::vip4(vrid % 50)),
        };
        let (rv, rk, c) = (lab.host("rv")?, lab.host("rk")?, lab.client("c")?);
        let capture = rv.capture("vrrp", VRRP_FILTER)?;
        let t = Interop {
            mode,
            format,
            vrid,
            vip,
            rv,
            rk,
            c,
            capture,
        };
        let (rv, rk) = (&t.rv, &t.rk);
        let (version, interval) = (mode.version(), mode.interval());
        let step = |s: &str| format!("{mode:?}/{format:?}: {s}");

        let ka = t.keepalived(100)?;
        let v = t.vigil(200)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        ka.wait_state("VI", VrrpState::Backup, SETTLE)?;
        t.assert_roles(&step("vigil elected"), rv, Some(rk))?;
        t.stable_window(&step("keepalived backup under vigil"), &v, &ka, true, 100)?;

        let since = wire_now();
        v.stop()?;
        ka.wait_state("VI", VrrpState::Master, SETTLE)?;
        assert_handover(
            &step("SIGTERM vigil -> keepalived"),
            &t.capture,
            vrid,
            vip,
            (rv, rk),
            since,
            true,
            skew_time(version, 100, interval),
        )?;
        t.assert_roles(&step("keepalived after vigil's SIGTERM"), rk, Some(rv))?;

        let v = t.vigil(50)?;
        v.wait_state("VI", "BACKUP", SETTLE)?;
        t.stable_window(&step("vigil backup under keepalived"), &v, &ka, false, 50)?;

        let since = wire_now();
        ka.stop()?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        assert_handover(
            &step("SIGTERM keepalived -> vigil"),
            &t.capture,
            vrid,
            vip,
            (rk, rv),
            since,
            true,
            skew_time(version, 50, interval),
        )?;
        t.assert_roles(&step("vigil after keepalived's SIGTERM"), rv, Some(rk))?;

        let ka = t.keepalived(100)?;
        ka.wait_state("VI", VrrpState::Master, SETTLE)?;
        v.wait_state("VI", "BACKUP", SETTLE)?;
        t.assert_roles(&step("keepalived (100) preempts vigil (50)"), rk, Some(rv))?;

        v.stop()?;
        let v = t.vigil(200)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        ka.wait_state("VI", VrrpState::Backup, SETTLE)?;
        t.assert_roles(&step("vigil (200) preempts keepalived (100)"), rv, Some(rk))?;

        let since = wire_now();
        v.kill9()?;
        ka.wait_state("VI", VrrpState::Master, SETTLE)?;
        assert_handover(
            &step("kill -9 vigil -> keepalived"),
            &t.capture,
            vrid,
            vip,
            (rv, rk),
            since,
            false,
            master_down_interval(version, 100, interval),
        )?;
        // vigil, killed, left its VIP behind: only keepalived's side and the client count.
        t.assert_roles(&step("keepalived after kill -9 of vigil"), rk, None)?;
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
