//! keepalived's runtime habits, on a real kernel: residual VIPs removed at start-up after a
//! `kill -9`, and the dump signals (SIGUSR1, SIGUSR2, SIGRTMIN+2, SIGRTMAX-1) answered with
//! files while the daemon keeps its mastership.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). They run as
//! root; under CI=true or VIGIL_LAB=1 a lab that cannot be built fails the test, elsewhere the
//! test prints why it skips.

mod common;

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use nix::sys::signal::Signal;
use vigil_integration::{Lab, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

/// kill -9 the master, restart it as a backup (lower priority): the VIP it left behind is
/// removed at start, so exactly one router holds it, and the client still reaches it.
#[test]
fn a_restart_after_kill9_removes_the_residual_vip() -> Result<()> {
    scenario("residual_vip", |lab| {
        let vip = IpAddr::V4(Lab::vip4(0));
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let conf = |prio| vigil_yaml(&[VigilInstance::new("gw", 61, prio, vip)]);
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start(&r2, &conf(100))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        wait_until(SETTLE, "r1 holds the VIP", || {
            r1.has_address(vip).unwrap_or(false)
        })?;

        v1.kill9()?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        // The situation the start-up cleanup exists for: nobody removed r1's copy.
        ensure!(
            r1.has_address(vip)?,
            "r1 lost the VIP after kill -9: the test cannot show its removal"
        );

        let v1 = Vigil::start(&r1, &conf(50))?;
        wait_until(SETTLE, "restarted r1 removed the residual VIP", || {
            !r1.has_address(vip).unwrap_or(true)
        })
        .with_context(|| {
            format!(
                "r1 kept the residual VIP; its log:\n{}",
                v1.child().log_tail(30)
            )
        })?;
        v1.wait_state("gw", "BACKUP", SETTLE)?;
        ensure!(
            v1.log().contains("left on the interface by a previous run"),
            "no log line for the removed address:\n{}",
            v1.log()
        );
        // Exactly one router holds it, and it answers.
        ensure!(r2.has_address(vip)?, "r2 lost the VIP");
        ensure!(!r1.has_address(vip)?, "r1 holds the VIP again");
        ensure!(
            v2.state("gw")?.as_deref() == Some("MASTER"),
            "r2 left MASTER"
        );
        wait_until(SETTLE, "the client reaches the VIP", || {
            c.ping(vip).unwrap_or(false)
        })?;
        ensure!(
            c.neigh(vip)?.as_deref() == Some(r2.mac()),
            "the client's entry is not r2's MAC"
        );
        Ok(())
    })
}

/// Sends signal number `signo` with kill(1): the real-time ones have no `nix::Signal`
/// variant, and they are numbered as the C library numbers them (as keepalived and vigil do).
fn send(pid: u32, signo: i32) -> Result<()> {
    let name = signo.to_string();
    let out = std::process::Command::new("kill")
        .args(["-s", &name, &pid.to_string()])
        .output()
        .context("cannot run kill")?;
    ensure!(
        out.status.success(),
        "kill -s {name} {pid}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// Waits until `path` exists and satisfies `ok`; returns its text.
fn wait_file(path: &Path, what: &str, ok: impl Fn(&str) -> bool) -> Result<String> {
    let waited = wait_until(SETTLE, what, || {
        std::fs::read_to_string(path).ok().filter(|t| ok(t))
    })?;
    waited.value.context("file text")
}

fn mode(path: &Path) -> Result<u32> {
    Ok(std::fs::symlink_metadata(path)
        .with_context(|| format!("{path:?}"))?
        .permissions()
        .mode()
        & 0o777)
}

/// SIGUSR1, SIGUSR2, SIGRTMIN+2 and SIGRTMAX-1 to a running master: each writes its file
/// beside the pid file, and the master stays master (no transition, VIP in place, alive).
#[test]
fn dump_signals_write_files_and_the_master_stays() -> Result<()> {
    scenario("dump_signals", |lab| {
        let vip = IpAddr::V4(Lab::vip4(1));
        let r1 = lab.host("r1")?;
        let v1 = Vigil::start(&r1, &vigil_yaml(&[VigilInstance::new("gw", 62, 200, vip)]))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        let transitions = v1.field("gw", "transitions")?;
        let pid = v1.child().pid();
        let (data, stats, json) = (
            v1.dir().join("vigil.data"),
            v1.dir().join("vigil.stats"),
            v1.dir().join("vigil.json"),
        );
        // A link planted at a dump's name is replaced, never written through.
        let victim = v1.dir().join("victim");
        std::fs::write(&victim, "precious")?;
        std::os::unix::fs::symlink(&victim, &data)?;

        v1.child().signal(Signal::SIGUSR1)?;
        let text = wait_file(&data, "SIGUSR1 wrote vigil.data", |t| {
            t.contains("VRRP Instance: gw")
        })?;
        ensure!(
            text.lines().any(|l| l == "  State: MASTER"),
            "vigil.data:\n{text}"
        );
        ensure!(text.contains(&vip.to_string()), "vigil.data:\n{text}");
        ensure!(
            std::fs::read_to_string(&victim)? == "precious",
            "the dump was written through a link"
        );

        v1.child().signal(Signal::SIGUSR2)?;
        let text = wait_file(&stats, "SIGUSR2 wrote vigil.stats", |t| {
            t.contains("VRRP Instance: gw")
        })?;
        let sent: u64 = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Sent: "))
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no Sent: line in vigil.stats:\n{text}"))?;
        ensure!(sent > 0, "a master has sent adverts:\n{text}");
        ensure!(
            text.lines().any(|l| l == "  State: MASTER"),
            "vigil.stats:\n{text}"
        );

        send(pid, nix::libc::SIGRTMIN() + 2)?;
        let text = wait_file(&json, "SIGRTMIN+2 wrote vigil.json", |t| t.ends_with('\n'))?;
        let parsed: serde_json::Value = serde_json::from_str(&text).context("vigil.json")?;
        ensure!(
            parsed["instances"][0]["state"] == "MASTER",
            "vigil.json: {text}"
        );

        // keepalived's "stats and clear" signal: written again, the counters kept.
        std::fs::remove_file(&stats)?;
        send(pid, nix::libc::SIGRTMAX() - 1)?;
        wait_file(&stats, "SIGRTMAX-1 wrote vigil.stats", |t| {
            t.contains("VRRP Instance: gw")
        })?;

        for path in [&data, &stats, &json] {
            ensure!(mode(path)? == 0o600, "{path:?} is not mode 0600");
        }
        ensure!(v1.child().is_running(), "vigil died of a dump signal");
        ensure!(
            v1.state("gw")?.as_deref() == Some("MASTER"),
            "no longer MASTER"
        );
        ensure!(
            v1.field("gw", "transitions")? == transitions,
            "a dump signal caused a transition"
        );
        ensure!(r1.has_address(vip)?, "the VIP went away");
        Ok(())
    })
}
