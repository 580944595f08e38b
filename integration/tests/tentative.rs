//! The boot case of an IPv6 instance: vigil starts right after its link came up, while the
//! link-local address (the source of IPv6 adverts, RFC 5798 §5.1.2.1) is still tentative
//! because duplicate address detection runs (RFC 4862 §5.4). keepalived waits in FAULT; vigil
//! used to exit with "Cannot assign requested address". Now the instance waits in FAULT
//! (logged once) and becomes MASTER when DAD is over, and the daemon never exits.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil_integration::{Host, Lab, Vigil, scenario, wait_until};

/// DAD probes and their spacing: the address stays tentative for about
/// `DAD_TRANSMITS * RETRANS_MS` (plus up to 1 s of initial delay), long enough to see FAULT.
const DAD_TRANSMITS: u32 = 6;
const RETRANS_MS: u32 = 1000;

const WAITING: &str = "waiting for a usable IPv6 link-local address on eth0";

/// Whether eth0's link-local address is present and tentative.
fn link_local_tentative(host: &Host) -> Result<Option<bool>> {
    let v = host.ip_json(["-6", "addr", "show", "dev", "eth0", "scope", "link"])?;
    let addr = v[0]["addr_info"]
        .as_array()
        .and_then(|list| list.iter().find(|a| a["scope"] == "link"));
    Ok(addr.map(|a| a["tentative"].as_bool().unwrap_or(false)))
}

#[test]
fn an_ipv6_instance_waits_in_fault_for_dad_then_becomes_master() -> Result<()> {
    scenario("tentative_link_local", |lab| {
        let r1 = lab.host("r1")?;
        // The lab turns DAD off everywhere; turn it on, slow, for eth0 (the kernel uses the
        // larger of `all` and the interface's accept_dad).
        r1.run(
            "sysctl",
            [
                "-qw".to_owned(),
                "net.ipv6.conf.eth0.accept_dad=1".to_owned(),
                format!("net.ipv6.conf.eth0.dad_transmits={DAD_TRANSMITS}"),
                format!("net.ipv6.neigh.eth0.retrans_time_ms={RETRANS_MS}"),
            ],
        )?;
        // Down and up: the kernel drops eth0's IPv6 addresses and makes the link-local one
        // again, tentative while its DAD runs.
        r1.admin_down()?;
        r1.admin_up()?;
        let tentative = link_local_tentative(&r1)?;
        ensure!(
            tentative == Some(true),
            "precondition: eth0's link-local address should be tentative right after link up \
             (got {tentative:?})"
        );

        let vip = Lab::vip6(61);
        let conf = format!(
            "vrrp_instance V6 {{\n    interface eth0\n    virtual_router_id 61\n    \
             priority 100\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/64\n    }}\n}}\n"
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        let first = v.state("V6")?;
        // Seen while DAD still runs: FAULT is the wait, not a later failure.
        let still_tentative = link_local_tentative(&r1)?;
        ensure!(
            first.as_deref() == Some("FAULT"),
            "the instance should wait in FAULT while the link-local address is tentative \
             (state {first:?}):\n{}",
            v.log()
        );
        ensure!(
            still_tentative == Some(true),
            "DAD ended before FAULT was observed: the test saw nothing (make DAD slower)"
        );

        v.wait_state("V6", "MASTER", Duration::from_secs(30))?;
        ensure!(
            link_local_tentative(&r1)? == Some(false),
            "MASTER before DAD was over"
        );
        wait_until(Duration::from_secs(10), "r1 holds the IPv6 VIP", || {
            r1.has_address(vip.into()).unwrap_or(false)
        })?;
        let sent = v.field("V6", "adverts_sent")?;
        ensure!(
            sent.as_u64().is_some_and(|n| n > 0),
            "the master sends adverts from its link-local address (adverts_sent {sent})"
        );
        ensure!(v.child().is_running(), "vigil exited:\n{}", v.log());

        let log = v.log();
        let waits = log.matches(WAITING).count();
        ensure!(
            waits == 1,
            "the wait should be logged once, it was logged {waits} times:\n{log}"
        );
        ensure!(
            !log.contains("Cannot assign requested address"),
            "a bind failure was logged:\n{log}"
        );

        // A link flap: the kernel deletes the link-local address with the link and makes it
        // again, tentative, when the link comes back. The instance waits once more, then is
        // MASTER again on the same socket.
        r1.admin_down()?;
        v.wait_state("V6", "FAULT", Duration::from_secs(10))?;
        r1.admin_up()?;
        ensure!(
            link_local_tentative(&r1)? == Some(true),
            "precondition: tentative again after link up"
        );
        ensure!(
            v.state("V6")?.as_deref() == Some("FAULT"),
            "the instance should wait in FAULT while DAD runs after a link flap"
        );
        v.wait_state("V6", "MASTER", Duration::from_secs(30))?;
        ensure!(
            link_local_tentative(&r1)? == Some(false),
            "MASTER before DAD was over (after the flap)"
        );
        let log = v.log();
        ensure!(
            log.matches(WAITING).count() == 2,
            "each wait should be logged once:\n{log}"
        );
        ensure!(v.child().is_running(), "vigil exited:\n{log}");
        v.stop().context("vigil stops cleanly")?;
        Ok(())
    })
}

/// A start that does fail (a configured source address the host does not have: the kernel
/// refuses to bind it, and no event will make it usable) says why once, not once per layer
/// of the error chain.
#[test]
fn a_failed_start_prints_its_error_chain_once() -> Result<()> {
    scenario("error_chain_once", |lab| {
        let r1 = lab.host("r1")?;
        let conf = format!(
            "vrrp_instance V6 {{\n    interface eth0\n    virtual_router_id 62\n    \
             mcast_src_ip 2001:db8::99\n    priority 100\n    advert_int 1\n    \
             virtual_ipaddress {{\n        {}/64\n    }}\n}}\n",
            Lab::vip6(62)
        );
        let Err(e) = Vigil::start_with(&r1, "keepalived.conf", &conf) else {
            anyhow::bail!("vigil started with a source address the host does not have");
        };
        let text = format!("{e:#}");
        let line = text
            .lines()
            .find(|l| l.starts_with("vigil: "))
            .with_context(|| format!("no error line in:\n{text}"))?;
        ensure!(
            line.matches("Cannot assign requested address").count() == 1
                && line.matches("binding the source address").count() == 1,
            "the error should be said once: {line}"
        );
        Ok(())
    })
}

/// keepalived refuses a configuration naming an interface that does not exist (here a
/// `track_interface`, which vigil used to take as "down"): `vigil check` and `vigil run`
/// refuse it alike, with the same words, inside the host whose interfaces they are.
#[test]
fn a_missing_interface_is_refused_by_check_and_run_alike() -> Result<()> {
    scenario("missing_interface", |lab| {
        let r1 = lab.host("r1")?;
        let conf = format!(
            "vrrp_instance VI {{\n    interface eth0\n    virtual_router_id 63\n    \
             priority 100\n    advert_int 1\n    track_interface {{\n        nosuch0\n    }}\n    \
             virtual_ipaddress {{\n        {}/24\n    }}\n}}\n",
            Lab::vip4(63)
        );
        let said = "interface \"nosuch0\" (vrrp_instance VI track_interface) does not exist";

        let path = lab.dir().join("missing-interface.conf");
        std::fs::write(&path, &conf)?;
        let bin = vigil_integration::vigil_binary()?;
        let out = r1.exec(
            &bin.to_string_lossy(),
            [
                "check".to_owned(),
                "--config".into(),
                path.display().to_string(),
            ],
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        ensure!(
            out.status.code() == Some(1) && text.contains(said),
            "vigil check should refuse it ({:?}):\n{text}",
            out.status
        );

        let Err(e) = Vigil::start_with(&r1, "keepalived.conf", &conf) else {
            anyhow::bail!("vigil run started with a track_interface that does not exist");
        };
        let text = format!("{e:#}");
        ensure!(
            text.contains(said),
            "vigil run should refuse it alike:\n{text}"
        );

        // The same file runs once the interface exists.
        r1.run(
            "ip",
            [
                "link", "add", "nosuch0", "type", "veth", "peer", "name", "nosuch1",
            ],
        )?;
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        v.wait_state("VI", "FAULT", Duration::from_secs(10))?;
        Ok(())
    })
}
