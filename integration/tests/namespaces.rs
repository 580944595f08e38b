//! keepalived's `net_namespace NAME` on a real kernel: vigil is started inside one lab
//! namespace (A) with a configuration naming another (B, made by `ip netns add` like every lab
//! host): its instance, VIP and adverts must be in B, on B's interface, and nothing in A. A
//! namespace that does not exist refuses the start (as keepalived exits), a reload may not
//! change the namespace, and `vigil check` looks for the interfaces in the namespace.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). They run as
//! root; under CI=true or VIGIL_LAB=1 a lab that cannot be built fails the test, elsewhere the
//! test prints why it skips.
//!
//! `vrf` is not tested here: this kernel is built without CONFIG_NET_VRF (`ip link add v1 type
//! vrf table 10` answers "Unknown device type"), see docs/config.md.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil_integration::{Host, Lab, Reload, Vigil, scenario, wait_until};

/// Master_Down_Interval for advert_int 1 and priority 100 is 3 + 156/256 s (RFC 5798 §6.1);
/// the margin covers a loaded machine.
const SETTLE: Duration = Duration::from_secs(15);
const IPPROTO_VRRP: u8 = 112;
const METRICS_PORT: u16 = 9652;

fn conf(netns: Option<&str>, ifname: &str, vip: Ipv4Addr) -> String {
    let ns = netns.map_or(String::new(), |n| format!("net_namespace {n}\n"));
    format!(
        "{ns}vrrp_instance ns {{\n  interface {ifname}\n  state BACKUP\n  virtual_router_id 71\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// The IPv4 sources of the VRRP packets in a pcap of Ethernet frames.
fn advert_sources(pcap: &[u8]) -> Result<Vec<Ipv4Addr>> {
    let mut out = Vec::new();
    for frame in vigil_integration::parse_pcap(pcap)? {
        if frame.get(12..14) != Some(&[0x08, 0x00][..]) {
            continue;
        }
        let ip = &frame[14..];
        if ip.len() < 20 || ip[9] != IPPROTO_VRRP {
            continue;
        }
        out.push(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
    }
    Ok(out)
}

/// `vigil check --config PATH` run in `host`: exit success and output.
fn check(host: &Host, path: &std::path::Path) -> Result<(bool, String)> {
    let bin = vigil_integration::vigil_binary()?;
    let out = host.exec(
        &bin.to_string_lossy(),
        ["check".as_ref(), "--config".as_ref(), path.as_os_str()],
    )?;
    Ok((
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

#[test]
fn net_namespace_runs_the_instances_in_the_named_namespace() -> Result<()> {
    scenario("net_namespace_runs_instances_there", |lab| {
        let vip = Lab::vip4(7);
        // A on a segment of its own: whatever A sent would be on A's wire only.
        let a = lab.host_on("a", &["elsewhere"])?;
        let b = lab.host("b")?;
        let in_a = a.capture("vrrp", "ip proto 112")?;
        let in_b = b.capture("vrrp", "ip proto 112")?;
        // Started in A (`ip netns exec A vigil run`), configured for B.
        let v = Vigil::start_full(
            &a,
            "keepalived.conf",
            &conf(Some(b.netns()), "eth0", vip),
            &["--metrics-listen", &format!("127.0.0.1:{METRICS_PORT}")],
        )?;
        v.wait_state("ns", "MASTER", SETTLE)?;
        // The metrics listener is a network socket like the others: it is in B.
        let fetch = format!(
            "exec 3<>/dev/tcp/127.0.0.1/{METRICS_PORT}; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"
        );
        let http = b.run("bash", ["-c", &fetch])?;
        ensure!(
            http.starts_with("HTTP/1.0 200 OK"),
            "no metrics in B:\n{http}"
        );
        ensure!(
            !a.exec("bash", ["-c", &fetch])?.status.success(),
            "the metrics listener answers in A, where vigil was started"
        );
        wait_until(SETTLE, "the VIP on B's eth0", || {
            b.has_address(IpAddr::V4(vip))
        })?;
        wait_until(SETTLE, "three adverts from B's address on B's wire", || {
            Ok::<bool, anyhow::Error>(
                advert_sources(&std::fs::read(in_b.path())?)?
                    .iter()
                    .filter(|s| **s == b.ipv4())
                    .count()
                    >= 3,
            )
        })?;
        in_a.stop()?;
        let seen_in_a = advert_sources(&std::fs::read(in_a.path())?)?;
        ensure!(
            seen_in_a.is_empty(),
            "adverts on A's wire, where vigil was started: {seen_in_a:?}"
        );
        ensure!(
            !a.has_address(IpAddr::V4(vip))?,
            "the VIP is in A, the namespace vigil was started in"
        );
        let b_addrs = b.run("ip", ["-4", "-o", "addr", "show", "dev", "eth0"])?;
        ensure!(
            b_addrs.contains(&format!("{vip}/24")),
            "the VIP is not on B's eth0:\n{b_addrs}"
        );

        // keepalived refuses to change the namespace at a reload and runs on as before.
        v.write_config(&conf(Some(a.netns()), "eth0", vip))?;
        ensure!(
            v.reload()? == Reload::Rejected,
            "a reload moving the daemon to another namespace was applied"
        );
        ensure!(
            v.log().contains("net_namespace cannot change at a reload"),
            "the rejection does not say why:\n{}",
            v.child().log_tail(20)
        );
        v.write_config(&conf(None, "eth0", vip))?;
        ensure!(
            v.reload()? == Reload::Rejected,
            "a reload dropping net_namespace was applied"
        );
        ensure!(
            b.has_address(IpAddr::V4(vip))? && !a.has_address(IpAddr::V4(vip))?,
            "a rejected reload moved the VIP"
        );
        v.write_config(&conf(Some(b.netns()), "eth0", vip))?;
        ensure!(
            v.reload()? == Reload::Applied,
            "a reload keeping the namespace was rejected:\n{}",
            v.child().log_tail(20)
        );
        v.wait_state("ns", "MASTER", SETTLE)?;

        // A clean stop removes the VIP from B.
        v.stop()?;
        ensure!(
            !b.has_address(IpAddr::V4(vip))?,
            "the VIP stayed in B after a clean stop"
        );
        Ok(())
    })
}

#[test]
fn a_missing_net_namespace_refuses_the_start_and_check() -> Result<()> {
    scenario("net_namespace_missing", |lab| {
        let a = lab.host("a")?;
        let missing = format!("{}-nosuch", lab.id());
        let text = conf(Some(&missing), "eth0", Lab::vip4(8));
        let err = match Vigil::start_with(&a, "keepalived.conf", &text) {
            Ok(_) => {
                anyhow::bail!("vigil started with net_namespace {missing}, which does not exist")
            }
            Err(e) => format!("{e:#}"),
        };
        ensure!(
            err.contains(&format!("ip netns add {missing}")),
            "the refusal does not say how to fix it:\n{err}"
        );
        ensure!(
            !a.has_address(IpAddr::V4(Lab::vip4(8)))?,
            "a refused start left the VIP in A"
        );
        let path = lab.dir().join("missing.conf");
        std::fs::write(&path, &text)?;
        let (ok, out) = check(&a, &path)?;
        ensure!(!ok, "vigil check accepted a missing namespace:\n{out}");
        ensure!(
            out.contains("ip netns add"),
            "vigil check does not say why:\n{out}"
        );
        Ok(())
    })
}

#[test]
fn vigil_check_looks_for_interfaces_in_the_namespace() -> Result<()> {
    scenario("net_namespace_check", |lab| {
        let a = lab.host("a")?;
        let b = lab.host("b")?;
        // An interface only B has.
        b.run(
            "ip",
            [
                "link", "add", "nsonly0", "type", "veth", "peer", "name", "nsonly1",
            ],
        )?;
        let in_b = lab.dir().join("in-b.conf");
        std::fs::write(&in_b, conf(Some(b.netns()), "nsonly0", Lab::vip4(9)))?;
        let (ok, out) = check(&a, &in_b)?;
        ensure!(ok, "vigil check did not find B's interface from A:\n{out}");
        let here = lab.dir().join("here.conf");
        std::fs::write(&here, conf(None, "nsonly0", Lab::vip4(9)))?;
        let (ok, out) = check(&a, &here)?;
        ensure!(
            !ok && out.contains("nsonly0"),
            "without net_namespace, vigil check in A found B's interface:\n{out}"
        );
        Ok(())
    })
    .context("vigil check and net_namespace")
}

/// A route's `vrf` names the VRF device whose table the route goes in. This kernel has no
/// VRF support (CONFIG_NET_VRF is off), so only the refusals can run here: a device that is
/// not a VRF, and one that does not exist.
#[test]
fn a_route_vrf_that_is_not_a_vrf_device_refuses_the_start() -> Result<()> {
    scenario("route_vrf_refused", |lab| {
        let a = lab.host("a")?;
        let vip = Lab::vip4(10);
        let with_vrf = |vrf: &str| {
            format!(
                "vrrp_instance vrf {{\n  interface eth0\n  virtual_router_id 72\n  priority 100\n  \
                 advert_int 1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n  virtual_routes {{\n    \
                 198.51.100.0/24 dev eth0 vrf {vrf}\n  }}\n}}\n"
            )
        };
        for (vrf, why) in [
            ("eth0", "\"eth0\" is not a VRF device"),
            (
                "novrf0",
                "interface \"novrf0\" (vrrp_instance vrf route vrf) does not exist",
            ),
        ] {
            let err = match Vigil::start_with(&a, "keepalived.conf", &with_vrf(vrf)) {
                Ok(_) => anyhow::bail!("vigil started with a route in `vrf {vrf}`"),
                Err(e) => format!("{e:#}"),
            };
            ensure!(
                err.contains(why),
                "`vrf {vrf}`: the refusal does not say {why:?}:\n{err}"
            );
            ensure!(
                !a.has_address(IpAddr::V4(vip))?,
                "a refused start left the VIP behind"
            );
        }
        Ok(())
    })
}
