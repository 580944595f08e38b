//! Attacks on vigil's listeners and on its one-daemon-per-configuration rule (issue 10,
//! items 3 and 4), each asserting the door is shut:
//!
//! - 2,000 idle connections to the metrics port and 2,000 to the control socket, held open:
//!   adverts keep their interval within 20 ms, a `vrrp_script` keeps running, a scrape and
//!   `vigil status` still answer, the instance stays MASTER with its VIP, and the daemon's
//!   descriptors stay bounded;
//! - a second daemon on the same pid file, or on the same control socket, refuses to start
//!   and the first keeps its socket and its mastership;
//! - the control socket is 0600 in a 0750 directory when the daemon starts under umask 000;
//! - a stale pid file naming PID 1 or a dead pid does not block start-up.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use vigil_integration::{
    Child, Host, Lab, Vigil, scenario, timed_scenario, vigil_binary, wait_until,
};

const SETTLE: Duration = Duration::from_secs(15);
/// How long a client under attack may take to get an answer (it retries: a connection over
/// a listener's cap is closed at once, and idle ones are evicted after 2 s).
const ANSWER_WITHIN: Duration = Duration::from_secs(6);
const FLOOD: usize = 2000;
const METRICS_PORT: u16 = 9650;

/// The flood test measures advert timing to 20 ms: the other tests of this file start daemons
/// of their own, so they take turns with it instead of stealing its CPU (the lab's rule that
/// timing-critical tests do not run beside others).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn conf(vip: IpAddr, advert_int: &str, script: Option<&Path>) -> String {
    let (defs, track) = match script {
        Some(s) => (
            format!(
                "vrrp_script tick {{\n    script \"{}\"\n    interval 0.5\n    fall 1\n    rise 1\n}}\n",
                s.display()
            ),
            "    track_script {\n        tick\n    }\n",
        ),
        None => (String::new(), ""),
    };
    format!(
        "{defs}vrrp_instance VI {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 61\n    \
         priority 200\n    advert_int {advert_int}\n    version 3\n{track}    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

/// `vigil status --json` against `socket`, parsed.
fn status(socket: &Path) -> Result<serde_json::Value> {
    let out = std::process::Command::new(vigil_binary()?)
        .args(["status", "--json", "--control-socket"])
        .arg(socket)
        .output()?;
    ensure!(
        out.status.success(),
        "vigil status: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn state_of(status: &serde_json::Value) -> Option<String> {
    status["instances"][0]["state"].as_str().map(str::to_owned)
}

/// Starts `vigil run` in `host` with explicit paths (the library's `Vigil` picks its own),
/// optionally under `umask 000`; waits until its control socket answers.
fn start_raw(
    host: &Host,
    label: &str,
    config: &Path,
    pid_file: &Path,
    socket: &Path,
    umask_000: bool,
) -> Result<Child> {
    let line = format!(
        "{}exec {} run --config {} --pid-file {} --control-socket {}",
        if umask_000 { "umask 000; " } else { "" },
        vigil_binary()?.display(),
        config.display(),
        pid_file.display(),
        socket.display()
    );
    let child = host.spawn(label, "sh", ["-c", &line])?;
    wait_until(SETTLE, "vigil's control socket answers", || {
        status(socket).is_ok() || !child.is_running()
    })?;
    if !child.is_running() {
        bail!("vigil exited at start:\n{}", child.log_tail(30));
    }
    Ok(child)
}

/// Times of the captured packets (seconds since midnight), from tcpdump's own decoding.
fn packet_times(lines: &[String]) -> Vec<f64> {
    lines
        .iter()
        .filter_map(|l| {
            let stamp = l.split_whitespace().next()?;
            let mut parts = stamp.split(':');
            let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
            let h: f64 = h.parse().ok()?;
            let m: f64 = m.parse().ok()?;
            let s: f64 = s.parse().ok()?;
            Some(h * 3600.0 + m * 60.0 + s)
        })
        .collect()
}

/// `GET /metrics` from inside `host`, retried until it answers 200 or `ANSWER_WITHIN` ends.
fn scrape(host: &Host, addr: SocketAddr) -> Result<(String, Duration)> {
    host.spawn_thread(move || {
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < ANSWER_WITHIN {
            let attempt = (|| -> std::io::Result<String> {
                let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
                s.set_read_timeout(Some(Duration::from_secs(3)))?;
                s.write_all(b"GET /metrics HTTP/1.1\r\nHost: vigil\r\n\r\n")?;
                let mut text = String::new();
                s.read_to_string(&mut text)?;
                Ok(text)
            })();
            match attempt {
                Ok(text) if text.starts_with("HTTP/1.0 200 OK") => {
                    return Ok((text, start.elapsed()));
                }
                Ok(text) => last = format!("answer {:?}", text.lines().next()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("no scrape answered within {ANSWER_WITHIN:?} (last: {last})")
    })
    .join()
}

fn open_fds(pid: u32) -> Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("cannot list the descriptors of pid {pid}"))?
        .count())
}

/// The nice value of each thread of `pid`, by thread name.
fn thread_nices(pid: u32) -> Result<Vec<(String, i32)>> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("stat"))?;
        let (head, rest) = stat
            .rsplit_once(')')
            .context("unreadable /proc stat line")?;
        let name = head.split_once('(').map(|x| x.1).unwrap_or_default();
        // After the name: state is field 3; nice is field 19.
        let nice = rest
            .split_whitespace()
            .nth(16)
            .and_then(|n| n.parse().ok())
            .context("no nice field")?;
        out.push((name.to_owned(), nice));
    }
    Ok(out)
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn idle_connection_floods_delay_no_advert_tracker_scrape_or_status() -> Result<()> {
    let _turn = one_at_a_time();
    timed_scenario("listener_flood", |lab| {
        let vip = IpAddr::V4(Lab::vip4(60));
        let r1 = lab.host("r1")?;
        // The tracker appends a line per run: its count shows it keeps running.
        let marker = lab.dir().join("tick.log");
        let script = lab.dir().join("tick.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho x >> {}\n", marker.display()),
        )?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        let interval = 0.5;
        let v = Vigil::start_full(
            &r1,
            "keepalived.conf",
            &conf(vip, "0.5", Some(&script)),
            &["--metrics-listen", &format!("127.0.0.1:{METRICS_PORT}")],
        )?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        ensure!(
            v.log().contains("open files limit"),
            "the daemon did not log its RLIMIT_NOFILE"
        );
        let pid = v.child().pid();
        // The accepting thread ranks below the state machines' (control/listen.rs).
        let nices = thread_nices(pid)?;
        let main = nices.iter().find(|(n, _)| n == "vigil").map(|x| x.1);
        let listen = nices.iter().find(|(n, _)| n == "vigil-listen").map(|x| x.1);
        ensure!(
            matches!((main, listen), (Some(m), Some(l)) if l >= m + 10),
            "the listeners' thread is not nicer than the main thread: {nices:?}"
        );
        let transitions_before = v.field("VI", "transitions")?;
        let capture = r1.capture("adverts", "ip proto 112")?;
        std::thread::sleep(Duration::from_secs(2)); // adverts before the flood, for comparison
        let before_flood = capture.frames()?.len();

        // The attack: this process's own limit raised first (2 x 2,000 descriptors).
        vigil::daemon::fdlimit::raise_nofile_limit().context("cannot raise our own limit")?;
        // The attacker's own work (4,000 connects) runs at nice 19: on a real box it is on
        // another machine, and here it must not take the daemon's two cores from it, so
        // that what is measured is the daemon's own isolation of its state machines.
        let socket = v.dir().join("vigil.sock");
        let unix_socket = socket.clone();
        let held_unix = std::thread::spawn(move || {
            let _ = vigil::net::sched::set_nice(19);
            (0..FLOOD)
                .map(|i| {
                    UnixStream::connect(&unix_socket)
                        .with_context(|| format!("control-socket connection {i}"))
                })
                .collect::<Result<Vec<_>>>()
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the unix flood thread panicked"))??;
        let addr = SocketAddr::from(([127, 0, 0, 1], METRICS_PORT));
        let held_tcp = r1
            .spawn_thread(move || {
                let _ = vigil::net::sched::set_nice(19);
                (0..FLOOD)
                    .map(|i| {
                        TcpStream::connect_timeout(&addr, Duration::from_secs(10))
                            .with_context(|| format!("metrics connection {i}"))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .join()?;
        let flood_start = Instant::now();
        let ticks_before = lines_in(&marker);

        // While 4,000 connections are held open: the daemon holds a bounded number of them,
        // and a normal client still gets answers.
        let fds = open_fds(pid)?;
        ensure!(
            fds < 200,
            "the daemon holds {fds} descriptors under the flood: connections are not capped"
        );
        let (text, took) = scrape(&r1, addr)?;
        ensure!(
            text.contains(r#"state="MASTER"} 1"#),
            "scrape under attack lacks MASTER:\n{text}"
        );
        eprintln!("scrape answered in {took:?} under the flood");
        let waited = wait_until(
            ANSWER_WITHIN,
            "vigil status to answer under the flood",
            || status(&socket).ok().and_then(|s| state_of(&s)),
        )?;
        ensure!(
            waited.value.as_deref() == Some("MASTER"),
            "state under the flood: {:?}",
            waited.value
        );
        eprintln!(
            "vigil status answered in {:?} under the flood",
            waited.elapsed
        );
        // Hold the flood for 6 s in all.
        std::thread::sleep(Duration::from_secs(6).saturating_sub(flood_start.elapsed()));
        let ticks = lines_in(&marker) - ticks_before;
        let held_for = flood_start.elapsed();
        ensure!(
            r1.has_address(vip)?,
            "r1 lost its VIP under the flood:\n{}",
            v.child().log_tail(30)
        );
        ensure!(
            v.state("VI")?.as_deref() == Some("MASTER"),
            "not MASTER after the flood"
        );
        drop(held_unix);
        drop(held_tcp);
        capture.stop()?;

        // A 0.5 s checker runs about 12 times in 6 s; half of that is kept as the bar.
        let expected = (held_for.as_secs_f64() / interval) as usize / 2;
        ensure!(
            ticks >= expected,
            "the vrrp_script ran {ticks} times in {held_for:?} under the flood (expected >= {expected})"
        );
        let log = v.log();
        ensure!(
            !log.contains("Too many open files"),
            "descriptors ran out:\n{}",
            v.child().log_tail(30)
        );
        let transitions_after = v.field("VI", "transitions")?;
        ensure!(
            transitions_after == transitions_before,
            "the instance changed state under the flood ({transitions_before} -> {transitions_after} transitions):\n{}",
            v.child().log_tail(30)
        );

        let times = packet_times(&capture.decode()?);
        ensure!(
            times.len() >= 14,
            "only {} adverts captured over ~{:?}",
            times.len(),
            held_for + Duration::from_secs(2)
        );
        let worst_of = |times: &[f64]| {
            times
                .windows(2)
                .map(|w| ((w[1] - w[0]) - interval).abs())
                .fold(0.0, f64::max)
        };
        let worst = worst_of(&times);
        let split = before_flood.clamp(1, times.len());
        eprintln!(
            "{} adverts, worst deviation from {interval} s: {:.2} ms ({:.2} ms in the {} before the flood)",
            times.len(),
            worst * 1e3,
            worst_of(&times[..split]) * 1e3,
            split
        );
        ensure!(
            // 20 ms: the tolerance issue 11 sets for intervals timed from wire captures.
            // It was 5 ms, which this 2-core VM's own scheduling noise exceeds in quiet
            // periods (8.8 ms seen mid-hold, with nothing else running); a loop that the
            // flood blocked would miss by a whole accept storm, hundreds of ms.
            worst <= 0.020,
            "an advert gap deviated {:.2} ms from the {interval} s interval; gaps: {:?}",
            worst * 1e3,
            times.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
        );
        Ok(())
    })
}

#[test]
fn a_second_daemon_on_the_same_config_refuses_to_start() -> Result<()> {
    let _turn = one_at_a_time();
    scenario("second_daemon", |lab| {
        let vip = IpAddr::V4(Lab::vip4(61));
        let r1 = lab.host("r1")?;
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf(vip, "1", None))?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        let dir = v.dir().to_path_buf();
        let (config, socket) = (dir.join("keepalived.conf"), dir.join("vigil.sock"));
        let first_pid = v.child().pid().to_string();

        // Same pid file (the lock refuses it), then another pid file on the same socket (the
        // socket answering refuses it).
        for (pid_file, names) in [
            (dir.join("vigil.pid"), "vigil.pid"),
            (dir.join("other.pid"), "vigil.sock"),
        ] {
            let args: Vec<String> = vec![
                "run".into(),
                "--config".into(),
                config.display().to_string(),
                "--pid-file".into(),
                pid_file.display().to_string(),
                "--control-socket".into(),
                socket.display().to_string(),
            ];
            let second = r1.spawn("vigil-second", &vigil_binary()?.to_string_lossy(), &args)?;
            let exit = second
                .wait_timeout(Duration::from_secs(10))
                .with_context(|| {
                    format!("the second daemon did not exit: {}", second.log_tail(20))
                })?;
            let err = second.stderr();
            ensure!(!exit.success(), "the second daemon exited 0:\n{err}");
            ensure!(
                err.contains("another vigil") && err.contains(&first_pid) && err.contains(names),
                "the refusal does not name {names} and pid {first_pid}:\n{err}"
            );
            // The first keeps its socket, its pid file and its mastership.
            ensure!(socket.exists(), "the first daemon's socket is gone");
            let text = std::fs::read_to_string(dir.join("vigil.pid"))?;
            ensure!(text.trim() == first_pid, "pid file now says {text:?}");
            ensure!(
                state_of(&status(&socket)?).as_deref() == Some("MASTER"),
                "the first daemon is no longer MASTER"
            );
            ensure!(r1.has_address(vip)?, "the first daemon lost its VIP");
        }
        ensure!(
            !dir.join("other.pid").exists(),
            "the refused daemon left its pid file"
        );
        Ok(())
    })
}

#[test]
fn control_socket_is_0600_in_a_0750_directory_under_umask_000() -> Result<()> {
    let _turn = one_at_a_time();
    scenario("socket_mode", |lab| {
        let vip = IpAddr::V4(Lab::vip4(62));
        let r1 = lab.host("r1")?;
        let dir = lab.dir().join("umask");
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("keepalived.conf");
        std::fs::write(&config, conf(vip, "1", None))?;
        // Directories that do not exist yet: vigil makes them.
        let socket = dir.join("ctl/vigil.sock");
        let pid_file = dir.join("pid/vigil.pid");
        let child = start_raw(&r1, "vigil-umask", &config, &pid_file, &socket, true)?;
        let mode = |p: &Path| -> Result<u32> {
            Ok(std::fs::metadata(p)
                .with_context(|| format!("{p:?}"))?
                .permissions()
                .mode()
                & 0o7777)
        };
        let parent = |p: &Path| p.parent().map(PathBuf::from).unwrap_or_default();
        ensure!(mode(&socket)? == 0o600, "socket mode {:o}", mode(&socket)?);
        ensure!(
            mode(&parent(&socket))? == 0o750,
            "socket directory mode {:o}",
            mode(&parent(&socket))?
        );
        ensure!(
            mode(&parent(&pid_file))? == 0o750,
            "pid directory mode {:o}",
            mode(&parent(&pid_file))?
        );
        ensure!(
            mode(&pid_file)? == 0o644,
            "pid file mode {:o}",
            mode(&pid_file)?
        );
        let stray: Vec<_> = std::fs::read_dir(parent(&socket))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| n != "vigil.sock")
            .collect();
        ensure!(stray.is_empty(), "left in the socket directory: {stray:?}");
        // At exit the daemon removes what it made.
        child.stop()?;
        ensure!(!socket.exists(), "the socket outlived the daemon");
        ensure!(!pid_file.exists(), "the pid file outlived the daemon");
        Ok(())
    })
}

#[test]
fn a_stale_pid_file_naming_pid_1_or_a_dead_pid_does_not_block_start() -> Result<()> {
    let _turn = one_at_a_time();
    scenario("stale_pid", |lab| {
        let vip = IpAddr::V4(Lab::vip4(63));
        let r1 = lab.host("r1")?;
        let dir = lab.dir().join("stale");
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("keepalived.conf");
        std::fs::write(&config, conf(vip, "1", None))?;
        let (pid_file, socket) = (dir.join("vigil.pid"), dir.join("vigil.sock"));
        let mut dead = std::process::Command::new("true").spawn()?;
        dead.wait()?;
        for stale in [1, dead.id()] {
            std::fs::write(&pid_file, format!("{stale}\n"))?;
            let child = start_raw(&r1, "vigil-stale", &config, &pid_file, &socket, false)
                .with_context(|| format!("a pid file naming {stale} blocked the start"))?;
            let text = std::fs::read_to_string(&pid_file)?;
            ensure!(
                text.trim() == child.pid().to_string(),
                "pid file says {text:?}, the daemon is {}",
                child.pid()
            );
            child.stop()?;
            ensure!(!pid_file.exists(), "the pid file outlived the daemon");
        }
        Ok(())
    })
}
