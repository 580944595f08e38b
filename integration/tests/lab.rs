//! Tests of the lab library itself, in real network namespaces (root; they skip, saying why,
//! unless run as root or required by CI=true / VIGIL_LAB=1).

use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use vigil_integration::{Keepalived, Lab, VrrpState, scenario, timed_scenario, wait_until};

const SHORT: Duration = Duration::from_secs(5);
const ELECTION: Duration = Duration::from_secs(15);

fn netns_list() -> Result<String> {
    let out = Command::new("ip").args(["netns", "list"]).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn ping_partition_link_down_and_capture() -> Result<()> {
    scenario("ping_partition_link_down_and_capture", |lab| {
        let r1 = lab.host("r1")?;
        let r2 = lab.host("r2")?;
        let c = lab.client("c")?;
        assert_eq!(r1.ipv4().to_string(), "192.0.2.1");
        assert_eq!(c.ipv4().to_string(), "192.0.2.101");
        assert_eq!(r2.mac(), "02:76:6c:00:00:02");
        let ll_present = r1.has_address(IpAddr::V6(r1.link_local()))?;
        assert!(
            ll_present,
            "r1 lacks its EUI-64 link-local {}",
            r1.link_local()
        );

        let capture = c.capture("icmp", "icmp or icmp6")?;
        let t = Instant::now();
        ensure!(c.ping(r1.ipv4().into())?, "c cannot ping r1 over IPv4");
        ensure!(c.ping(r2.ipv6().into())?, "c cannot ping r2 over IPv6");
        println!("first pings answered in {:?}", t.elapsed());
        assert_eq!(c.neigh(r1.ipv4().into())?.as_deref(), Some(r1.mac()));
        assert_eq!(c.arping(r2.ipv4())?.as_deref(), Some(r2.mac()));
        capture.stop()?;
        let frames = capture.frames()?;
        // Two echo requests and two replies at least, all seen from c.
        assert!(
            frames.len() >= 4,
            "captured {} frames: {:?}",
            frames.len(),
            capture.decode()?
        );

        lab.partition(&[&c], &[&r1])?;
        assert!(lab.impairments()?.contains("drop"));
        let t = Instant::now();
        ensure!(
            !c.ping(r1.ipv4().into())?,
            "c still pings r1 across the partition"
        );
        ensure!(
            c.ping(r2.ipv4().into())?,
            "the partition also cut c from r2"
        );
        ensure!(
            r1.ping(r2.ipv4().into())?,
            "the partition also cut r1 from r2"
        );
        lab.heal()?;
        let healed = wait_until(SHORT, "c to ping r1 after heal", || {
            c.ping(r1.ipv4().into())
        })?;
        println!(
            "partition checked and healed in {:?} (heal seen after {:?})",
            t.elapsed(),
            healed.elapsed
        );

        r2.link_down()?;
        ensure!(
            !c.ping(r2.ipv4().into())?,
            "c pings r2 with its cable pulled"
        );
        let carrier = r2.run("cat", [format!("/sys/class/net/{}/carrier", r2.ifname())])?;
        assert_eq!(carrier.trim(), "0", "r2 should see its carrier gone");
        r2.link_up()?;
        wait_until(SHORT, "c to ping r2 after link up", || {
            c.ping(r2.ipv4().into())
        })?;

        lab.drop_vrrp(30)?;
        lab.drop_vrrp_from(&r1, 100)?;
        let rules = lab.impairments()?;
        assert!(rules.contains("numgen random mod 100 < 30"), "{rules}");
        lab.heal()?;
        assert!(!lab.impairments()?.contains("drop"));
        Ok(())
    })
}

fn keepalived_conf(host: &vigil_integration::Host, priority: u8) -> String {
    format!(
        "global_defs {{\n    router_id {name}\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface {ifname}\n    virtual_router_id 51\n\
         \x20   priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n",
        name = host.name(),
        ifname = host.ifname(),
        vip = Lab::vip4(0),
    )
}

#[test]
fn keepalived_election_and_failover() -> Result<()> {
    timed_scenario("keepalived_election_and_failover", |lab| {
        let r1 = lab.host("r1")?;
        let r2 = lab.host("r2")?;
        let c = lab.client("c")?;
        let vip: IpAddr = Lab::vip4(0).into();

        let start = Instant::now();
        let ka1 = Keepalived::start(&r1, &keepalived_conf(&r1, 100))?;
        let ka2 = Keepalived::start(&r2, &keepalived_conf(&r2, 200))?;
        ka2.wait_state("VI_1", VrrpState::Master, ELECTION)?;
        let elected = start.elapsed();
        ka1.wait_state("VI_1", VrrpState::Backup, ELECTION)?;
        wait_until(SHORT, "r2 to hold the VIP", || r2.has_address(vip))?;
        wait_until(SHORT, "r1 not to hold the VIP", || {
            r1.has_address(vip).map(|h| !h)
        })?;
        wait_until(SHORT, "c to ping the VIP", || c.ping(vip))?;
        let neigh = c.neigh(vip)?;
        assert_eq!(
            neigh.as_deref(),
            Some(r2.mac()),
            "c's neighbour entry for the VIP"
        );
        println!("election: r2 MASTER {elected:?} after start");

        // All of r2's adverts dropped at the switch: r1 stops hearing a master and takes over
        // (split brain); healed, r1 hears the higher priority again and backs off.
        lab.drop_vrrp_from(&r2, 100)?;
        let lost = Instant::now();
        ka1.wait_state("VI_1", VrrpState::Master, ELECTION)
            .context("r1 still BACKUP while r2's adverts are dropped")?;
        println!("r2's adverts dropped: r1 MASTER after {:?}", lost.elapsed());
        lab.heal()?;
        let healed = Instant::now();
        ka1.wait_state("VI_1", VrrpState::Backup, ELECTION)
            .context("r1 did not back off after heal")?;
        println!("healed: r1 BACKUP again after {:?}", healed.elapsed());
        wait_until(SHORT, "c's neighbour entry back on r2", || {
            c.neigh(vip).map(|m| (m.as_deref() == Some(r2.mac()), m))
        })?;

        let crash = Instant::now();
        ka2.kill9()?;
        ka1.wait_state("VI_1", VrrpState::Master, ELECTION)
            .context("r1 did not take over after r2's keepalived was killed")?;
        let takeover = crash.elapsed();
        wait_until(SHORT, "r1 to hold the VIP", || r1.has_address(vip))?;
        let moved = wait_until(SHORT, "c's neighbour entry to move to r1", || {
            c.neigh(vip).map(|m| (m.as_deref() == Some(r1.mac()), m))
        })?;
        let neigh_moved = crash.elapsed();
        wait_until(SHORT, "c to ping the VIP after failover", || c.ping(vip))?;
        println!(
            "failover after kill -9: r1 MASTER in {takeover:?}, c's neighbour entry on r1's MAC in {neigh_moved:?} ({:?})",
            moved.value
        );
        // RFC 3768 §6.1: Master_Down_Interval = 3 x 1 s + (256 - 100)/256 s = 3.61 s from the
        // last advert heard, which came 0 to 1 s before the kill.
        assert!(
            (Duration::from_millis(2500)..Duration::from_secs(6)).contains(&takeover),
            "takeover after {takeover:?}, expected about 2.6 to 3.6 s"
        );

        ka1.stop()?;
        assert!(!ka1.child().is_running());
        Ok(())
    })
}

#[test]
fn sweep_deletes_labs_of_dead_processes() -> Result<()> {
    let Some(lab) = Lab::new_or_skip("sweep_deletes_labs_of_dead_processes")? else {
        return Ok(());
    };
    // A pid above any pid_max (2^22) is never alive: this namespace looks like a lab whose
    // test process died before its drop ran.
    let stale = format!(
        "{}4999999x{}-sw",
        vigil_integration::PREFIX,
        std::process::id()
    );
    let live = format!("{}-extra", lab.id());
    for ns in [&stale, &live] {
        let out = Command::new("ip").args(["netns", "add", ns]).output()?;
        ensure!(out.status.success(), "ip netns add {ns}: {:?}", out);
    }
    vigil_integration::sweep_stale_labs();
    let list = netns_list()?;
    let _ = Command::new("ip").args(["netns", "del", &live]).output();
    let _ = Command::new("ip").args(["netns", "del", &stale]).output();
    assert!(!list.contains(&stale), "stale {stale} survived the sweep");
    assert!(
        list.contains(&live),
        "the sweep deleted {live} of a live process"
    );
    Ok(())
}

#[test]
fn drop_removes_namespaces_and_processes_even_on_panic() -> Result<()> {
    let Some(lab) = Lab::new_or_skip("drop_removes_namespaces")? else {
        return Ok(());
    };
    let r1 = lab.host("r1")?;
    let sleeper = r1.spawn("sleep", "sleep", ["600"])?;
    let pid = sleeper.pid();
    let id = lab.id().to_owned();
    let dir = lab.dir().to_path_buf();
    assert!(netns_list()?.contains(&format!("{id}-r1")));
    drop(lab);
    assert!(
        !netns_list()?.contains(&id),
        "namespaces of {id} survived drop"
    );
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "sleep {pid} survived"
    );
    assert!(!dir.exists(), "{dir:?} survived");

    // A panicking test: the lab is dropped during unwinding (and keeps its directory).
    let (tx, rx) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || -> Result<()> {
        let lab = Lab::new("panicking")?;
        let h = lab.host("h")?;
        h.spawn("sleep", "sleep", ["600"])?;
        tx.send((lab.id().to_owned(), lab.dir().to_path_buf()))?;
        panic!("deliberate panic in lab {}", lab.id());
    })
    .join();
    assert!(panicked.is_err(), "the thread should have panicked");
    let (id, dir) = rx.recv().context("the panicking lab was never built")?;
    let _ = std::fs::remove_dir_all(dir);
    assert!(
        !netns_list()?.contains(&id),
        "namespaces of {id} survived a panic"
    );
    Ok(())
}
