//! SIGHUP reload on a real kernel: unchanged instances are not touched (not one ping to their
//! VIP is lost), changes are applied minimally, a bad file is rejected whole.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Lab, Reload, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

fn transitions(v: &Vigil, instance: &str) -> Result<u64> {
    v.field(instance, "transitions")?
        .as_u64()
        .context("no transitions counter")
}

/// keepalived's and vigil's promise to operators: `systemctl reload` never drops a VIP
/// of an instance whose configuration did not change.
#[test]
fn twenty_reloads_lose_no_ping_to_an_unchanged_vip() -> Result<()> {
    scenario("reload_no_loss", |lab| {
        let (r1, c) = (lab.host("r1")?, lab.client("c")?);
        let vip = IpAddr::V4(Lab::vip4(10));
        let extra_vip = IpAddr::V4(Lab::vip4(11));
        let gw = || {
            let mut i = VigilInstance::new("gw", 60, 200, vip);
            i.advert_int = "0.5";
            i
        };
        // The variants a reload cycles through; `gw` is identical in all of them.
        let variants = [
            vigil_yaml(&[gw()]),
            vigil_yaml(&[gw(), VigilInstance::new("extra", 61, 150, extra_vip)]),
            vigil_yaml(&[gw(), VigilInstance::new("extra", 61, 120, extra_vip)]),
            vigil_yaml(&[gw()]),
        ];
        let v = Vigil::start(&r1, &variants[0])?;
        v.wait_state("gw", "MASTER", SETTLE)?;
        wait_until(SETTLE, "client reaches the VIP", || {
            c.ping(vip).unwrap_or(false)
        })?;
        let transitions_before = transitions(&v, "gw")?;

        // 1200 pings 10 ms apart: 12 s, enough for 20 reloads spread over the window.
        let ping = c.spawn(
            "ping",
            "ping",
            [
                "-n",
                "-i",
                "0.01",
                "-c",
                "1200",
                "-W",
                "1",
                &vip.to_string(),
            ],
        )?;
        for round in 1..=20 {
            v.write_config(&variants[round % variants.len()])?;
            ensure!(
                v.reload()? == Reload::Applied,
                "reload {round} was rejected:\n{}",
                v.log()
            );
            // Pacing, not synchronisation: spread the reloads over the ping window.
            std::thread::sleep(Duration::from_millis(300));
        }
        ping.wait_timeout(Duration::from_secs(30))
            .context("ping did not finish")?;
        let out = ping.stdout();
        let summary = out
            .lines()
            .find(|l| l.contains("packets transmitted"))
            .with_context(|| format!("no ping summary in:\n{out}"))?;
        println!("reload under ping: {summary}");
        ensure!(
            summary.starts_with("1200 packets transmitted, 1200 received"),
            "replies were lost during reloads: {summary}"
        );
        ensure!(
            v.state("gw")?.as_deref() == Some("MASTER"),
            "gw left MASTER"
        );
        ensure!(
            transitions(&v, "gw")? == transitions_before,
            "the unchanged instance went through a transition during reloads"
        );
        Ok(())
    })
}

/// A priority change re-evaluates (the backup that now outranks the master preempts), a
/// VIP-set change installs and removes only the delta, a broken file leaves everything as it
/// was, and a removed instance hands over with priority 0.
#[test]
fn reload_applies_each_kind_of_change_and_rejects_a_broken_file() -> Result<()> {
    scenario("reload_changes", |lab| {
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let (a, b) = (IpAddr::V4(Lab::vip4(20)), IpAddr::V4(Lab::vip4(21)));
        let conf = |prio: u8, vips: &[IpAddr]| {
            let mut i = VigilInstance::new("gw", 70, prio, a);
            i.vips = vips.iter().map(|v| (*v, 24)).collect();
            vigil_yaml(&[i])
        };
        let v1 = Vigil::start(&r1, &conf(200, &[a]))?;
        let v2 = Vigil::start(&r2, &conf(100, &[a]))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;

        // Priority: r2 now outranks r1 and preempts it.
        v2.write_config(&conf(250, &[a]))?;
        ensure!(v2.reload()? == Reload::Applied, "priority reload rejected");
        v2.wait_state("gw", "MASTER", SETTLE)?;
        v1.wait_state("gw", "BACKUP", SETTLE)?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(a).unwrap_or(false)
        })?;
        let transitions_before = transitions(&v2, "gw")?;

        // VIP set: add b, then drop a; each time only the delta moves.
        v2.write_config(&conf(250, &[a, b]))?;
        ensure!(v2.reload()? == Reload::Applied, "VIP reload rejected");
        wait_until(SETTLE, "r2 installs the added VIP", || {
            r2.has_address(b).unwrap_or(false)
        })?;
        ensure!(r2.has_address(a)?, "r2 dropped the VIP that stayed");
        v2.write_config(&conf(250, &[b]))?;
        ensure!(v2.reload()? == Reload::Applied, "VIP reload rejected");
        wait_until(SETTLE, "r2 removes the dropped VIP", || {
            !r2.has_address(a).unwrap_or(true)
        })?;
        ensure!(r2.has_address(b)?, "r2 dropped the VIP that stayed");
        ensure!(
            transitions(&v2, "gw")? == transitions_before,
            "a VIP change caused a transition"
        );

        // A broken file: rejected, nothing changes.
        v2.write_config("instances:\n  - name: gw\n    interface: eth0\n    virtual_router_id: 70\n    priorty: 5\n")?;
        ensure!(
            v2.reload()? == Reload::Rejected,
            "a broken configuration was accepted"
        );
        ensure!(
            v2.log().contains("priorty"),
            "the rejection does not name the bad key"
        );
        ensure!(
            v2.state("gw")?.as_deref() == Some("MASTER"),
            "a rejected reload changed the state"
        );
        ensure!(r2.has_address(b)?, "a rejected reload removed a VIP");

        // Removal: the instance leaves with priority 0, so r1 takes over after Skew_Time.
        v2.write_config("instances: []\n")?;
        ensure!(v2.reload()? == Reload::Applied, "removal reload rejected");
        v1.wait_state("gw", "MASTER", Duration::from_secs(2))?;
        wait_until(SETTLE, "r2 removed its VIPs", || {
            !r2.has_address(b).unwrap_or(true)
        })?;
        Ok(())
    })
}
