//! keepalived's `use_vmac` on a real kernel: adverts leave the VMAC with the virtual MAC as
//! their Ethernet source (RFC 5798 §7.3), the client's neighbour entry for the VIP is the
//! virtual MAC and does not change on failover, and the VMAC is deleted at exit. Also against
//! a real keepalived using `use_vmac` on the same VRID.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil::wire::IPPROTO_VRRP;
use vigil_integration::{Capture, Host, Keepalived, Lab, Vigil, VrrpState, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

/// One VRRP advert seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SeenAdvert {
    eth_src: String,
    ip_src: IpAddr,
    vrid: u8,
    priority: u8,
}

/// The VRRP adverts (IPv4 or IPv6) among captured Ethernet frames.
fn adverts(capture: &Capture) -> Result<Vec<SeenAdvert>> {
    Ok(capture.frames()?.iter().filter_map(|f| parse(f)).collect())
}

fn parse(frame: &[u8]) -> Option<SeenAdvert> {
    let mac = frame.get(6..12)?;
    let ip = frame.get(14..)?;
    let (ip_src, vrrp) = match frame.get(12..14)? {
        [0x08, 0x00] => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != IPPROTO_VRRP {
                return None;
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            (IpAddr::from(src), ip.get(ihl..)?)
        }
        [0x86, 0xdd] => {
            // No extension headers on VRRP (RFC 5798 §5.1.2).
            if *ip.get(6)? != IPPROTO_VRRP {
                return None;
            }
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            (IpAddr::from(src), ip.get(40..)?)
        }
        _ => return None,
    };
    Some(SeenAdvert {
        eth_src: mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        ip_src,
        vrid: *vrrp.get(1)?,
        priority: *vrrp.get(2)?,
    })
}

/// RFC 5798 §7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
fn vmac_of(vrid: u8) -> String {
    format!("00:00:5e:00:01:{vrid:02x}")
}

fn vmac6_of(vrid: u8) -> String {
    format!("00:00:5e:00:02:{vrid:02x}")
}

fn has_link(host: &Host, name: &str) -> Result<bool> {
    Ok(host
        .exec("ip", ["link", "show", "dev", name])?
        .status
        .success())
}

/// Waits until the client has seen an advert for `vrid` from `from`, and checks that every
/// advert of that VRID so far carries the virtual MAC.
fn wait_vmac_adverts(capture: &Capture, vrid: u8, from: Ipv4Addr) -> Result<()> {
    wait_adverts_from(capture, vrid, IpAddr::V4(from), &vmac_of(vrid))
}

fn wait_adverts_from(capture: &Capture, vrid: u8, from: IpAddr, mac: &str) -> Result<()> {
    wait_until(SETTLE, "client captured an advert from the master", || {
        adverts(capture)
            .unwrap_or_default()
            .iter()
            .any(|a| a.vrid == vrid && a.ip_src == from && a.priority > 0)
    })?;
    let seen: Vec<SeenAdvert> = adverts(capture)?
        .into_iter()
        .filter(|a| a.vrid == vrid)
        .collect();
    let wrong: Vec<&SeenAdvert> = seen.iter().filter(|a| a.eth_src != mac).collect();
    ensure!(
        wrong.is_empty(),
        "adverts of VRID {vrid} not sent from the VMAC {mac}: {wrong:?}"
    );
    Ok(())
}

/// a. Two vigil routers with use_vmac: adverts and the client's neighbour entry carry the
/// virtual MAC, which survives a kill -9 failover; SIGTERM deletes the VMAC.
#[test]
fn vmac_adverts_and_neighbour_entry_survive_failover() -> Result<()> {
    scenario("vmac_failover", |lab| {
        const VRID: u8 = 71;
        let vip = IpAddr::V4(Lab::vip4(11));
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let conf = |prio| {
            let mut i = VigilInstance::new("gw", VRID, prio, vip);
            i.extra = "    use_vmac: vrrp.71\n".into();
            vigil_yaml(&[i])
        };
        let capture = c.capture("vrrp", "ip proto 112")?;
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start(&r2, &conf(100))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        ensure!(has_link(&r1, "vrrp.71")?, "r1 has no VMAC interface");
        wait_vmac_adverts(&capture, VRID, r1.ipv4())?;

        wait_until(SETTLE, "client reaches the VIP", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            c.neigh(vip)?.as_deref() == Some(vmac_of(VRID).as_str()),
            "client's entry for the VIP is {:?}, not the VMAC",
            c.neigh(vip)?
        );
        // The backup hears the master's VMAC-sourced adverts (the macvlan driver delivers them
        // to its own VMAC, not its base interface) and stays BACKUP.
        let received = v2.field("gw", "adverts_received")?.as_u64().unwrap_or(0);
        wait_until(SETTLE, "the backup receives the master's adverts", || {
            v2.field("gw", "adverts_received")
                .ok()
                .and_then(|v| v.as_u64())
                .is_some_and(|n| n >= received + 2)
        })?;
        ensure!(
            v2.state("gw")?.as_deref() == Some("BACKUP"),
            "r2 left BACKUP"
        );

        v1.kill9()?;
        // A crashed box takes its interfaces with it.
        r1.run("ip", ["link", "del", "vrrp.71"])?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        wait_vmac_adverts(&capture, VRID, r2.ipv4())?;
        wait_until(SETTLE, "client reaches the VIP on r2", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            c.neigh(vip)?.as_deref() == Some(vmac_of(VRID).as_str()),
            "client's entry changed on failover: {:?}",
            c.neigh(vip)?
        );

        v2.stop()?;
        ensure!(
            !has_link(&r2, "vrrp.71")?,
            "the VMAC interface is still there after SIGTERM"
        );
        ensure!(!r2.has_address(vip)?, "r2 kept the VIP after SIGTERM");
        Ok(())
    })
}

/// b. vigil and keepalived, both with use_vmac (VRRPv3, IPv4): vigil higher wins and
/// keepalived stays BACKUP; kill vigil, keepalived takes over.
#[test]
fn vmac_interop_with_keepalived() -> Result<()> {
    scenario("vmac_interop", |lab| {
        const VRID: u8 = 72;
        let vip = IpAddr::V4(Lab::vip4(12));
        let (rv, rk, c) = (lab.host("rv")?, lab.host("rk")?, lab.client("c")?);
        let ka_conf = format!(
            "global_defs {{\n    router_id rk\n}}\n\
             vrrp_instance VI {{\n    state BACKUP\n    interface {ifname}\n    \
             virtual_router_id {VRID}\n    priority 100\n    advert_int 1\n    version 3\n    \
             use_vmac vrrp.72\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n",
            ifname = rk.ifname(),
        );
        let mut i = VigilInstance::new("VI", VRID, 200, vip);
        i.extra = "    use_vmac: vrrp.72\n".into();
        let capture = c.capture("vrrp", "ip proto 112")?;
        let ka = Keepalived::start(&rk, &ka_conf)?;
        let v = Vigil::start(&rv, &vigil_yaml(&[i]))?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        ka.wait_state("VI", VrrpState::Backup, SETTLE)?;
        wait_vmac_adverts(&capture, VRID, rv.ipv4())?;
        wait_until(SETTLE, "client reaches the VIP on vigil", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            c.neigh(vip)?.as_deref() == Some(vmac_of(VRID).as_str()),
            "client's entry for the VIP is not the VMAC"
        );
        // Stable: keepalived must accept our VMAC-sourced adverts and stay BACKUP. Three
        // advert intervals, which is Master_Down_Interval's order.
        let until = std::time::Instant::now() + Duration::from_secs(4);
        while std::time::Instant::now() < until {
            ensure!(
                ka.state("VI")? == Some(VrrpState::Backup),
                "keepalived left BACKUP: it does not hear vigil's VMAC adverts\n{}",
                ka.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        ensure!(!rk.has_address(vip)?, "keepalived holds the VIP too");

        v.kill9()?;
        rv.run("ip", ["link", "del", "vrrp.72"])?;
        ka.wait_state("VI", VrrpState::Master, SETTLE)?;
        wait_until(SETTLE, "keepalived holds the VIP", || {
            rk.has_address(vip).unwrap_or(false)
        })?;
        wait_vmac_adverts(&capture, VRID, rk.ipv4())
            .context("keepalived's own adverts (VMAC source) after the takeover")?;
        wait_until(SETTLE, "client reaches the VIP on keepalived", || {
            c.ping(vip).unwrap_or(false)
        })?;
        // Not asserted: keepalived 2.2.7 leaves arp_announce at 0 on the base, so its first ARP
        // request from the base for the client ("tell <VIP>") repoints the client at the base
        // MAC. vigil sets arp_announce=2 there (net::Netlink::create_vmac); test a covers it.
        println!(
            "vmac interop: after keepalived's takeover the client maps the VIP to {:?}",
            c.neigh(vip)?
        );
        Ok(())
    })
}

/// IPv6: adverts leave the VMAC with 00:00:5e:00:02:VRID but the router's own link-local
/// source (RFC 5798 §5.1.2.1, §7.4), which the VMAC carries without DAD; the backup hears
/// them; SIGTERM hands over and deletes the VMAC.
#[test]
fn ipv6_vmac_adverts_keep_the_base_link_local_source() -> Result<()> {
    scenario("vmac_ipv6", |lab| {
        const VRID: u8 = 73;
        let vip = IpAddr::V6(Lab::vip6(13));
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let conf = |prio| {
            let mut i = VigilInstance::new("gw6", VRID, prio, vip);
            i.extra = "    use_vmac: vrrp6.73\n".into();
            vigil_yaml(&[i])
        };
        let capture = c.capture("vrrp6", "ip6 proto 112")?;
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start(&r2, &conf(100))?;
        v1.wait_state("gw6", "MASTER", SETTLE)?;
        v2.wait_state("gw6", "BACKUP", SETTLE)?;
        wait_adverts_from(&capture, VRID, IpAddr::V6(r1.link_local()), &vmac6_of(VRID))?;
        wait_until(SETTLE, "the backup receives the master's adverts", || {
            v2.field("gw6", "adverts_received")
                .ok()
                .and_then(|v| v.as_u64())
                .is_some_and(|n| n >= 2)
        })?;
        wait_until(SETTLE, "client reaches the IPv6 VIP", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            c.neigh(vip)?.as_deref() == Some(vmac6_of(VRID).as_str()),
            "client's entry for the IPv6 VIP is {:?}, not the VMAC",
            c.neigh(vip)?
        );
        v1.stop()?;
        ensure!(
            !has_link(&r1, "vrrp6.73")?,
            "the VMAC interface is still there after SIGTERM"
        );
        v2.wait_state("gw6", "MASTER", SETTLE)?;
        wait_adverts_from(&capture, VRID, IpAddr::V6(r2.link_local()), &vmac6_of(VRID))?;
        Ok(())
    })
}
