//! `vigil run` without the privilege it needs says so once, naming what is missing, and
//! touches nothing: as a plain user, and as root whose capability bounding set lacks
//! CAP_NET_ADMIN (a unit with a too narrow `CapabilityBoundingSet=`).
//!
//! Each run happens inside a lab namespace, so that even a daemon that wrongly went on could
//! not send anything on a real interface.

mod common;

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Lab, scenario, vigil_binary};

/// Runs `vigil run` in r1 under `setpriv PRIV...`; returns (exit code, stderr).
fn run_as(lab: &Lab, setpriv: &[&str]) -> Result<(Option<i32>, String)> {
    let r1 = lab.host("r1")?;
    let conf = lab.dir().join("unprivileged.yaml");
    let vip = IpAddr::V4(Lab::vip4(0));
    std::fs::write(&conf, vigil_yaml(&[VigilInstance::new("gw", 91, 100, vip)]))?;
    // Readable by the plain user too: the refusal must come from the privilege check, not
    // from an unreadable file.
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644))?;
    let socket = lab.dir().join("unprivileged.sock");
    let bin = vigil_binary()?;
    // Bounded: a daemon that wrongly went on would otherwise run until the test is killed.
    let mut args: Vec<String> = vec!["20".into(), "setpriv".into()];
    args.extend(setpriv.iter().map(|s| (*s).to_owned()));
    args.extend([
        bin.display().to_string(),
        "run".into(),
        "--config".into(),
        conf.display().to_string(),
        "--control-socket".into(),
        socket.display().to_string(),
        "--pid-file".into(),
        lab.dir().join("unprivileged.pid").display().to_string(),
    ]);
    let out = r1.exec("timeout", &args).context("running setpriv")?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn assert_refused(code: Option<i32>, stderr: &str, lacks: &str) -> Result<()> {
    ensure!(
        code == Some(1),
        "exit code {code:?}, want 1; stderr:\n{stderr}"
    );
    let needle = "needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN";
    ensure!(
        stderr.matches(needle).count() == 1,
        "the missing privilege is not named exactly once:\n{stderr}"
    );
    ensure!(
        stderr.contains(&format!("lacks {lacks}:")),
        "does not say it lacks {lacks}:\n{stderr}"
    );
    ensure!(
        !stderr.contains("Operation not permitted") && !stderr.contains("raw IPv4 socket"),
        "failed at a socket instead of refusing first:\n{stderr}"
    );
    Ok(())
}

#[test]
fn a_plain_user_is_told_it_needs_root_or_the_two_capabilities() -> Result<()> {
    scenario("unprivileged_user", |lab| {
        let (code, stderr) = run_as(
            lab,
            &["--reuid=65534", "--regid=65534", "--clear-groups", "--"],
        )?;
        assert_refused(code, &stderr, "CAP_NET_RAW and CAP_NET_ADMIN")?;
        // Nothing was made: no pid file, no socket.
        ensure!(
            !lab.dir().join("unprivileged.pid").exists(),
            "pid file made"
        );
        ensure!(!lab.dir().join("unprivileged.sock").exists(), "socket made");
        Ok(())
    })
}

#[test]
fn root_without_cap_net_admin_is_told_which_one_it_lacks() -> Result<()> {
    scenario("unprivileged_bounding", |lab| {
        let (code, stderr) = run_as(lab, &["--bounding-set=-net_admin", "--inh-caps=-all", "--"])?;
        assert_refused(code, &stderr, "CAP_NET_ADMIN")?;
        Ok(())
    })
}
