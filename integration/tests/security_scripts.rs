//! Script security and least privilege, as an attacker on the host would try them:
//! - a world-writable check script and notify script in a world-writable directory, under
//!   `enable_script_security`: neither runs (while safe siblings do), the daemon logs why, and
//!   `vigil check` reports both at their lines;
//! - the running daemon holds only the documented capabilities (CapEff/CapPrm/CapBnd), and a
//!   reload still applies a VIP change with them; `--keep-capabilities` keeps them all.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil_integration::{Lab, Reload, Vigil, scenario, wait_until};

mod common;
use common::{VigilInstance, vigil_yaml};

const SETTLE: Duration = Duration::from_secs(15);

/// CAP_KILL (5), CAP_SETGID (6), CAP_SETUID (7), CAP_NET_ADMIN (12), CAP_NET_RAW (13): the
/// set `vigil run` keeps after start-up (src/daemon/privilege.rs).
const KEPT_MASK: u64 = 1 << 5 | 1 << 6 | 1 << 7 | 1 << 12 | 1 << 13;

/// A shell script that appends a line to `marker` each time it runs.
fn script(path: &Path, marker: &Path, mode: u32) -> Result<()> {
    std::fs::write(
        path,
        format!("#!/bin/sh\necho ran >> '{}'\nexit 0\n", marker.display()),
    )?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn runs(marker: &Path) -> usize {
    std::fs::read_to_string(marker)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn dir(path: PathBuf, mode: u32) -> Result<PathBuf> {
    std::fs::create_dir_all(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    Ok(path)
}

#[test]
fn world_writable_scripts_do_not_run_are_logged_and_reported_by_check() -> Result<()> {
    scenario("script_security", |lab| {
        let r1 = lab.host("r1")?;
        // The lab directory is root's, 0755, under the sticky /tmp: safe. `open` is not.
        let open = dir(lab.dir().join("open"), 0o777)?;
        let safe = dir(lab.dir().join("safe"), 0o755)?;
        let marks = dir(lab.dir().join("marks"), 0o755)?;
        let mark = |name: &str| marks.join(name);
        script(&open.join("check.sh"), &mark("evil-check"), 0o777)?;
        script(&open.join("notify.sh"), &mark("evil-notify"), 0o777)?;
        script(&safe.join("check.sh"), &mark("good-check"), 0o755)?;
        script(&safe.join("notify.sh"), &mark("good-notify"), 0o755)?;
        let vip = IpAddr::V4(Lab::vip4(50));
        let conf = format!(
            "global_defs {{\n    script_user root\n    enable_script_security\n}}\n\
             vrrp_script chk_evil {{\n    script \"{open}/check.sh\"\n    interval 0.2\n}}\n\
             vrrp_script chk_good {{\n    script \"{safe}/check.sh\"\n    interval 0.2\n}}\n\
             vrrp_instance VI {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 50\n    \
             priority 150\n    advert_int 1\n    version 3\n    track_script {{\n        chk_evil\n        \
             chk_good\n    }}\n    notify_master \"{open}/notify.sh\"\n    notify \"{safe}/notify.sh\"\n    \
             virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n",
            open = open.display(),
            safe = safe.display(),
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        // The generic notify runs after notify_master for the same transition, in order: once
        // it has run, the unsafe notify_master would have run before it.
        wait_until(SETTLE, "the safe notify script runs for MASTER", || {
            runs(&mark("good-notify")) >= 1
        })?;
        // Both checkers start together at 0.2 s: after several runs of the safe one, the
        // unsafe one would have run too.
        wait_until(SETTLE, "the safe check script runs five times", || {
            runs(&mark("good-check")) >= 5
        })?;
        ensure!(
            runs(&mark("evil-check")) == 0,
            "the world-writable check script ran"
        );
        ensure!(
            runs(&mark("evil-notify")) == 0,
            "the world-writable notify script ran"
        );
        // A disabled check script is untracked, as keepalived does: the instance stays MASTER.
        ensure!(
            v.state("VI")?.as_deref() == Some("MASTER"),
            "VI left MASTER"
        );

        let log = v.child().stderr();
        for name in ["vrrp_script `chk_evil`", "notify_master of instance `VI`"] {
            ensure!(
                log.lines().any(|l| l.contains(name)
                    && l.contains("unsafe permissions found for script")
                    && l.contains(&format!("{} is world-writable (mode 0777)", open.display()))
                    && l.contains("disabled by enable_script_security")),
                "the daemon did not log why {name} is disabled:\n{log}"
            );
        }

        // `vigil check` on the same file: both reported at their lines, a usable file with
        // warnings (exit 0), refused under --strict.
        let config = v.dir().join("keepalived.conf");
        let check = |strict: bool| -> Result<(i32, String)> {
            let mut args = vec!["check".to_string(), "--config".into()];
            args.push(config.display().to_string());
            if strict {
                args.push("--strict".into());
            }
            let out = r1.exec(&vigil_integration::vigil_binary()?.to_string_lossy(), &args)?;
            Ok((
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            ))
        };
        let (code, text) = check(false)?;
        ensure!(code == 0, "vigil check failed ({code}):\n{text}");
        let at = |line: usize, what: &str| {
            text.lines().any(|l| {
                l.starts_with(&format!("{}:{line}:", config.display()))
                    && l.contains("warning:")
                    && l.contains(what)
                    && l.contains("unsafe permissions")
            })
        };
        // Line 6: chk_evil's `script`; line 24: notify_master.
        ensure!(
            at(6, "chk_evil"),
            "check did not report chk_evil at line 6:\n{text}"
        );
        ensure!(
            at(24, "notify_master"),
            "check did not report notify_master at line 24:\n{text}"
        );
        ensure!(
            !text.contains(" 0 warnings"),
            "check counted no warnings:\n{text}"
        );
        let (code, text) = check(true)?;
        ensure!(code != 0, "vigil check --strict accepted it:\n{text}");
        Ok(())
    })
}

/// `(CapInh, CapPrm, CapEff, CapBnd, CapAmb)` of a process.
fn capabilities(pid: u32) -> Result<[u64; 5]> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?;
        Ok(u64::from_str_radix(line[name.len() + 1..].trim(), 16)?)
    };
    Ok([
        field("CapInh")?,
        field("CapPrm")?,
        field("CapEff")?,
        field("CapBnd")?,
        field("CapAmb")?,
    ])
}

/// The nice value of a process's main thread (the one running the state machines).
fn main_thread_nice(pid: u32) -> Result<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/stat"))?;
    let (_, rest) = stat.rsplit_once(')').context("unreadable stat")?;
    // Field 19 (nice), the 17th after the command name.
    Ok(rest
        .split_whitespace()
        .nth(16)
        .context("short stat")?
        .parse()?)
}

fn daemon_pid(v: &Vigil) -> Result<u32> {
    let text = std::fs::read_to_string(v.dir().join("vigil.pid"))?;
    Ok(text.trim().parse()?)
}

#[test]
fn the_daemon_keeps_only_the_documented_capabilities_and_still_reloads() -> Result<()> {
    scenario("capabilities", |lab| {
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let (a, b) = (IpAddr::V4(Lab::vip4(51)), IpAddr::V4(Lab::vip4(52)));
        let conf = |vips: &[IpAddr]| {
            let mut i = VigilInstance::new("gw", 51, 150, a);
            i.vips = vips.iter().map(|v| (*v, 24)).collect();
            // keepalived's vrrp_priority, set at start while CAP_SYS_NICE is still held.
            format!("global:\n  process_priority: -5\n{}", vigil_yaml(&[i]))
        };
        let v = Vigil::start(&r1, &conf(&[a]))?;
        v.wait_state("gw", "MASTER", SETTLE)?;
        let pid = daemon_pid(&v)?;
        let nice = main_thread_nice(pid)?;
        ensure!(
            nice == -5,
            "vigil {pid}: nice {nice}, want -5 (process_priority)"
        );
        let [inh, prm, eff, bnd, amb] = capabilities(pid)?;
        ensure!(
            (inh, prm, eff, bnd, amb) == (0, KEPT_MASK, KEPT_MASK, KEPT_MASK, 0),
            "vigil {pid}: CapInh {inh:x} CapPrm {prm:x} CapEff {eff:x} CapBnd {bnd:x} CapAmb {amb:x}, \
             want permitted/effective/bounding {KEPT_MASK:x} and nothing inheritable or ambient"
        );

        // A reload with the drop in place: read the file again, add a VIP by netlink.
        v.write_config(&conf(&[a, b]))?;
        ensure!(
            v.reload()? == Reload::Applied,
            "reload rejected:\n{}",
            v.child().log_tail(20)
        );
        wait_until(SETTLE, "the reload's added VIP is installed", || {
            r1.has_address(b).unwrap_or(false)
        })?;
        ensure!(r1.has_address(a)?, "the unchanged VIP was dropped");

        // A reload that makes a VMAC: netlink link creation and the VMAC's sysctls under
        // /proc/sys/net (arp_ignore, arp_filter, ...) with the kept capabilities only.
        let c = IpAddr::V4(Lab::vip4(54));
        let mut mac = VigilInstance::new("mac", 54, 150, c);
        mac.extra = "    use_vmac: vrrp.54\n".into();
        let mut gw = VigilInstance::new("gw", 51, 150, a);
        gw.vips = vec![(a, 24), (b, 24)];
        v.write_config(&vigil_yaml(&[gw, mac]))?;
        ensure!(
            v.reload()? == Reload::Applied,
            "VMAC reload rejected:\n{}",
            v.child().log_tail(20)
        );
        v.wait_state("mac", "MASTER", SETTLE)?;
        ensure!(r1.ifindex("vrrp.54").is_ok(), "the VMAC was not created");
        ensure!(
            r1.sysctl("net/ipv4/conf/eth0/arp_ignore")?.trim() == "1",
            "the base interface's arp_ignore was not set for the VMAC"
        );
        ensure!(
            capabilities(pid)?[2] == KEPT_MASK,
            "a reload changed the capabilities"
        );

        // --keep-capabilities: the escape hatch keeps what the daemon started with (all of
        // the test's own, as it runs as root).
        let own = capabilities(std::process::id())?;
        let k = Vigil::start_full(
            &r2,
            "vigil.yaml",
            &vigil_yaml(&[VigilInstance::new(
                "other",
                53,
                100,
                IpAddr::V4(Lab::vip4(53)),
            )]),
            &["--keep-capabilities"],
        )?;
        k.wait_state("other", "MASTER", SETTLE)?;
        let kept = capabilities(daemon_pid(&k)?)?;
        ensure!(
            kept[2] == own[2] && kept[3] == own[3] && kept[2] != KEPT_MASK,
            "--keep-capabilities: CapEff {:x} CapBnd {:x}, the test's own {:x} {:x}",
            kept[2],
            kept[3],
            own[2],
            own[3]
        );
        Ok(())
    })
}
