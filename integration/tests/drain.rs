//! `vigil drain` / `vigil undrain` / `vigil reload` on a real kernel.
//!
//! Two vigil routers and a client on one bridge, one VRID with a VIP, preempt on (vigil's
//! default, as keepalived's). The client pings the VIP every 10 ms; replies are matched by
//! icmp_seq and timed (`ping -D`), so the outage is measured, not guessed.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). They run as
//! root; under CI=true or VIGIL_LAB=1 a lab that cannot be built fails the test, elsewhere the
//! test prints why it skips.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use nix::sys::signal::Signal;
use vigil_integration::{Child, Host, Lab, Vigil, scenario, timed_scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);
/// The client's ping interval.
const PING_EVERY: Duration = Duration::from_millis(10);
/// vigil's advert_int in these tests, in centiseconds (0.5 s).
const ADVERT_CS: u64 = 50;

/// RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256.
fn skew(priority: u8) -> Duration {
    Duration::from_micros((256 - u64::from(priority)) * ADVERT_CS * 10_000 / 256)
}

/// RFC 5798 §6.1: Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time.
fn master_down(priority: u8) -> Duration {
    Duration::from_millis(3 * ADVERT_CS * 10) + skew(priority)
}

/// `ping -D -i 0.01` from the client to the VIP, until [`Pinger::stop`].
struct Pinger {
    child: Child,
}

/// What a ping run saw: the replies by icmp_seq with their time, in seconds.
struct Replies(Vec<(u64, f64)>);

impl Pinger {
    fn start(client: &Host, vip: IpAddr) -> Result<Pinger> {
        let child = client.spawn(
            "ping",
            "ping",
            ["-n", "-D", "-i", "0.01", "-W", "1", &vip.to_string()],
        )?;
        let pinger = Pinger { child };
        // Running and answered: the measurement starts from a working path.
        wait_until(SETTLE, "the first ping replies", || {
            pinger.replies().0.len() >= 10
        })?;
        Ok(pinger)
    }

    fn replies(&self) -> Replies {
        Replies(
            vigil_integration::ping_replies(&self.child.stdout())
                .iter()
                .map(|r| (r.seq, r.at))
                .collect(),
        )
    }

    /// Waits for `more` replies beyond those seen so far, then stops ping.
    fn stop_after(self, more: usize) -> Result<Replies> {
        let seen = self.replies().0.len();
        wait_until(SETTLE, "more ping replies", || {
            self.replies().0.len() >= seen + more
        })?;
        self.child.signal(Signal::SIGINT)?;
        self.child
            .wait_timeout(Duration::from_secs(5))
            .context("ping did not stop")?;
        Ok(self.replies())
    }
}

impl Replies {
    /// Sequence numbers never answered, up to the last answered one (later ones may be in
    /// flight when ping stops).
    fn lost(&self) -> Vec<u64> {
        let got: std::collections::BTreeSet<u64> = self.0.iter().map(|(s, _)| *s).collect();
        let (Some(&first), Some(&last)) = (got.first(), got.last()) else {
            return Vec::new();
        };
        (first..=last).filter(|s| !got.contains(s)).collect()
    }

    /// The longest time without a reply: the outage plus at most one ping interval.
    fn longest_gap(&self) -> Duration {
        let mut times: Vec<f64> = self.0.iter().map(|(_, t)| *t).collect();
        times.sort_by(f64::total_cmp);
        let gap = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(0.0_f64, f64::max);
        Duration::from_secs_f64(gap.max(0.0))
    }

    /// The interval ping actually kept (the median time between replies): `-i 0.01` is a
    /// floor, and a loaded machine stretches it.
    fn interval(&self) -> Duration {
        let mut times: Vec<f64> = self.0.iter().map(|(_, t)| *t).collect();
        times.sort_by(f64::total_cmp);
        let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let median = gaps.get(gaps.len() / 2).copied().unwrap_or(0.0);
        Duration::from_secs_f64(median.max(0.0)).max(PING_EVERY)
    }
}

fn counter(v: &Vigil, instance: &str, key: &str) -> Result<u64> {
    v.field(instance, key)?
        .as_u64()
        .with_context(|| format!("no {key} for {instance}"))
}

/// Runs `vigil args...` against `v`'s control socket; (exit code, stdout, stderr).
fn control(v: &Vigil, args: &[&str]) -> Result<(i32, String, String)> {
    let out = v.control(args)?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Drain the master under a 10 ms ping: the backup takes over within its Skew_Time (the
/// drained master's priority-0 advert), the drained router holds no VIP and stays BACKUP
/// through many advert intervals; undrain: mastership comes back (preempt, higher priority)
/// with no lost ping.
#[test]
fn drain_hands_over_within_skew_time_and_undrain_takes_it_back_without_loss() -> Result<()> {
    timed_scenario("drain_undrain", |lab| {
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let vip = IpAddr::V4(Lab::vip4(20));
        let conf = |prio| {
            let mut i = VigilInstance::new("gw", 70, prio, vip);
            i.advert_int = "0.5";
            vigil_yaml(&[i])
        };
        let (p1, p2) = (200, 100);
        let v1 = Vigil::start(&r1, &conf(p1))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        let v2 = Vigil::start(&r2, &conf(p2))?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;

        // An unknown name: refused, exit 1, nothing changed.
        let (code, _, err) = control(&v1, &["drain", "nope"])?;
        ensure!(code == 1, "drain of an unknown name exited {code}: {err}");
        ensure!(err.contains("nothing changed"), "{err}");
        ensure!(v1.state("gw")?.as_deref() == Some("MASTER"), "r1 moved");

        let ping = Pinger::start(&c, vip)?;
        let (code, out, err) = control(&v1, &["drain", "gw"])?;
        ensure!(code == 0, "vigil drain exited {code}: {err}");
        ensure!(out.trim() == "drained: gw", "vigil drain printed {out:?}");
        v2.wait_state("gw", "MASTER", SETTLE)?;
        let replies = ping.stop_after(50)?;
        let gap = replies.longest_gap();
        // The backup waits Skew_Time after the priority-0 advert (RFC 5798 §6.4.2), then
        // installs the VIP and announces it; a few ping intervals for the rest (one of them
        // is in the gap by construction: a reply comes only when a ping was sent). Without
        // the priority-0 advert the gap is Master_Down_Interval, 1.8 s here.
        let bound = skew(p2) + 4 * replies.interval();
        println!(
            "drain: longest gap {gap:?}, {} lost (Skew_Time {:?}, ping interval {:?}, bound {bound:?})",
            replies.lost().len(),
            skew(p2),
            replies.interval()
        );
        ensure!(
            gap <= bound,
            "outage {gap:?} exceeds the backup's Skew_Time + margin ({bound:?}): the drained \
             master did not hand over with priority 0?\n{}",
            v1.log()
        );

        // Drained: BACKUP, no VIP, silent, through many advert intervals (counted by the
        // adverts r1 hears from the new master, not one sample).
        let transitions = counter(&v1, "gw", "transitions")?;
        let sent = counter(&v1, "gw", "adverts_sent")?;
        let heard = counter(&v1, "gw", "adverts_received")?;
        let intervals = 2 * master_down(p1).as_millis() / u128::from(ADVERT_CS * 10) + 1;
        let intervals = u64::try_from(intervals).unwrap_or(u64::MAX);
        wait_until(
            SETTLE,
            "r1 hears two Master_Down_Intervals of adverts",
            || counter(&v1, "gw", "adverts_received").unwrap_or(0) >= heard + intervals,
        )?;
        ensure!(
            v1.state("gw")?.as_deref() == Some("BACKUP"),
            "the drained router left BACKUP"
        );
        ensure!(
            counter(&v1, "gw", "transitions")? == transitions,
            "the drained router changed state while drained:\n{}",
            v1.log()
        );
        ensure!(
            counter(&v1, "gw", "adverts_sent")? == sent,
            "the drained router advertised"
        );
        ensure!(!r1.has_address(vip)?, "the drained router holds the VIP");
        ensure!(r2.has_address(vip)?, "the new master lacks the VIP");
        ensure!(
            v1.field("gw", "drained")? == serde_json::Value::Bool(true),
            "status does not say drained"
        );
        let human = String::from_utf8_lossy(&v1.control(&["status"])?.stdout).into_owned();
        ensure!(human.contains("BACKUP DRAINED"), "{human}");
        let metrics = v1.metrics()?;
        ensure!(
            metrics
                .lines()
                .any(|l| l.starts_with("vigil_instance_drained{") && l.ends_with(" 1")),
            "no drained gauge at 1:\n{metrics}"
        );

        // Undrain: r1 (priority 200, preempt) takes the role back when its
        // Master_Down_Timer runs out; the client loses at most the sub-millisecond switch.
        let ping = Pinger::start(&c, vip)?;
        let (code, out, err) = control(&v1, &["undrain", "gw"])?;
        ensure!(code == 0, "vigil undrain exited {code}: {err}");
        ensure!(
            out.trim() == "undrained: gw",
            "vigil undrain printed {out:?}"
        );
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        let replies = ping.stop_after(50)?;
        let lost = replies.lost();
        println!(
            "undrain: {} lost {lost:?}, longest gap {:?}",
            lost.len(),
            replies.longest_gap()
        );
        ensure!(
            lost.len() <= 1,
            "undrain lost {} pings: {lost:?}",
            lost.len()
        );
        ensure!(r1.has_address(vip)?, "r1 is master without the VIP");
        ensure!(
            v1.field("gw", "drained")? == serde_json::Value::Bool(false),
            "still drained"
        );
        Ok(())
    })
}

/// `vigil reload`: a good file is applied ("reloaded: N instances", exit 0) and keeps the
/// drained instance drained; a broken one prints `file:line:col: error:` like `vigil check`,
/// exits 1, and leaves the daemon running the previous configuration, which `vigil status`
/// then reports; no daemon: exit 2.
#[test]
fn vigil_reload_applies_reports_errors_and_keeps_drained() -> Result<()> {
    scenario("vigil_reload", |lab| {
        let r1 = lab.host("r1")?;
        let (vip, vip2) = (IpAddr::V4(Lab::vip4(21)), IpAddr::V4(Lab::vip4(22)));
        let gw = || VigilInstance::new("gw", 71, 150, vip);
        let v = Vigil::start(&r1, &vigil_yaml(&[gw()]))?;
        v.wait_state("gw", "MASTER", SETTLE)?;
        let (code, _, err) = control(&v, &["drain", "--all"])?;
        ensure!(code == 0, "drain --all: {err}");
        v.wait_state("gw", "BACKUP", SETTLE)?;

        v.write_config(&vigil_yaml(&[
            gw(),
            VigilInstance::new("extra", 72, 150, vip2),
        ]))?;
        let (code, out, err) = control(&v, &["reload"])?;
        ensure!(code == 0, "vigil reload exited {code}: {err}\n{}", v.log());
        ensure!(out.trim() == "reloaded: 2 instances", "printed {out:?}");
        v.wait_state("extra", "MASTER", SETTLE)?;
        ensure!(
            v.field("gw", "drained")? == serde_json::Value::Bool(true),
            "the reload forgot that gw is drained"
        );
        ensure!(
            v.state("gw")?.as_deref() == Some("BACKUP"),
            "gw left BACKUP"
        );
        ensure!(
            v.status()?["last_reload"]["ok"] == serde_json::Value::Bool(true),
            "{}",
            v.status()?
        );

        // Line 5, column 15: `priority: 300` does not fit a u8.
        let broken = "instances:\n  - name: gw\n    interface: eth0\n    virtual_router_id: 71\n    \
                      priority: 300\n";
        v.write_config(broken)?;
        let (code, out, err) = control(&v, &["reload"])?;
        let file = v.config_path().display().to_string();
        ensure!(code == 1, "a rejected reload exited {code}: {out}{err}");
        ensure!(
            out.lines()
                .any(|l| l.starts_with(&format!("{file}:5:15: error:"))),
            "no file:line:col diagnostic on stdout: {out:?} (stderr {err:?})"
        );
        ensure!(err.contains("reload rejected"), "{err}");
        // `vigil check` prints the same lines.
        let check = std::process::Command::new(vigil_integration::vigil_binary()?)
            .args(["check", "--config", &file])
            .output()?;
        ensure!(
            String::from_utf8_lossy(&check.stdout) == out,
            "vigil check printed {:?}, vigil reload {out:?}",
            String::from_utf8_lossy(&check.stdout)
        );
        ensure!(v.child().is_running(), "the daemon died on a bad reload");
        ensure!(
            v.state("extra")?.as_deref() == Some("MASTER"),
            "extra moved"
        );
        let status = v.status()?;
        ensure!(
            status["last_reload"]["ok"] == serde_json::Value::Bool(false)
                && status["last_reload"]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains(":5:15: error:")),
            "status does not show the failed reload: {status}"
        );
        let human = String::from_utf8_lossy(&v.control(&["status"])?.stdout).into_owned();
        ensure!(
            human
                .lines()
                .nth(1)
                .is_some_and(|l| l.contains("last reload FAILED")),
            "{human}"
        );

        // No daemon: exit 2.
        let out = std::process::Command::new(vigil_integration::vigil_binary()?)
            .args(["reload", "--control-socket"])
            .arg(lab.dir().join("nobody.sock"))
            .output()?;
        ensure!(
            out.status.code() == Some(2),
            "unreachable daemon: exit {:?}",
            out.status.code()
        );
        Ok(())
    })
}

/// Every datagram the daemon sends to the NOTIFY_SOCKET the test made, until one contains
/// all of `wanted` (bounded).
fn notified(socket: &std::os::unix::net::UnixDatagram, wanted: &[&str]) -> Result<String> {
    let deadline = std::time::Instant::now() + SETTLE;
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        ensure!(
            !left.is_zero(),
            "no sd_notify message with {wanted:?}; got {seen:?}"
        );
        socket.set_read_timeout(Some(left))?;
        let Ok(n) = socket.recv(&mut buf) else {
            continue;
        };
        let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
        if wanted.iter().all(|w| text.contains(w)) {
            return Ok(text);
        }
        seen.push(text);
    }
}

/// A SIGHUP whose file is rejected: READY=1 comes back with a STATUS= line that says the
/// reload FAILED and why (file:line:col), and `vigil status` says so too; the next good
/// reload clears it.
#[test]
fn a_rejected_sighup_shows_in_systemd_status_and_vigil_status() -> Result<()> {
    scenario("sighup_status", |lab| {
        let r1 = lab.host("r1")?;
        let dir = lab.dir().join("sighup-status");
        std::fs::create_dir_all(&dir)?;
        let notify = std::os::unix::net::UnixDatagram::bind(dir.join("notify.sock"))?;
        let config = dir.join("vigil.yaml");
        let good = vigil_yaml(&[VigilInstance::new("gw", 73, 150, IpAddr::V4(Lab::vip4(23)))]);
        std::fs::write(&config, &good)?;
        let socket = dir.join("vigil.sock");
        let bin = vigil_integration::vigil_binary()?;
        let mut cmd = r1.command(
            &bin.to_string_lossy(),
            [
                "run".as_ref(),
                "--config".as_ref(),
                config.as_os_str(),
                "--pid-file".as_ref(),
                dir.join("vigil.pid").as_os_str(),
                "--control-socket".as_ref(),
                socket.as_os_str(),
            ],
        );
        cmd.env("NOTIFY_SOCKET", dir.join("notify.sock"))
            .env("NO_COLOR", "1");
        let daemon = r1.spawn_command("vigil", cmd)?;
        notified(&notify, &["READY=1", "STATUS=1 instances running"])?;
        let status = |flag: Option<&str>| -> Result<String> {
            let out = std::process::Command::new(&bin)
                .arg("status")
                .args(flag)
                .arg("--control-socket")
                .arg(&socket)
                .output()?;
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };

        std::fs::write(
            &config,
            "instances:\n  - name: gw\n    interface: eth0\n    \
                                 virtual_router_id: 73\n    priority: 300\n",
        )?;
        daemon.signal(Signal::SIGHUP)?;
        let file = config.display().to_string();
        let line = notified(
            &notify,
            &[
                "READY=1",
                &format!("STATUS=1 instances running; last reload FAILED: {file}:5:15: error:"),
            ],
        )
        .with_context(|| daemon.log_tail(20))?;
        println!("sd_notify after a rejected SIGHUP: {line:?}");
        let human = status(None)?;
        ensure!(
            human
                .lines()
                .nth(1)
                .is_some_and(|l| l.contains("last reload FAILED") && l.contains(":5:15: error:")),
            "{human}"
        );
        ensure!(daemon.is_running(), "the daemon died on a bad reload");

        std::fs::write(&config, &good)?;
        daemon.signal(Signal::SIGHUP)?;
        let line = notified(&notify, &["READY=1", "STATUS=1 instances running"])?;
        ensure!(
            !line.contains("FAILED"),
            "still FAILED after a good reload: {line:?}"
        );
        let json: serde_json::Value = serde_json::from_str(&status(Some("--json"))?)?;
        ensure!(
            json["last_reload"]["ok"] == serde_json::Value::Bool(true),
            "{json}"
        );
        Ok(())
    })
}
