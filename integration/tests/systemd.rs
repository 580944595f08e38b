//! systemd's notify protocol, as a service manager sees it: the test plays systemd with a
//! NOTIFY_SOCKET of its own (a unixgram socket in the lab directory) and WATCHDOG_USEC, and
//! checks READY=1, WATCHDOG=1 at half of WATCHDOG_USEC from the main loop (none while the
//! daemon is stopped), RELOADING=1 with a MONOTONIC_USEC stamped after the SIGHUP
//! (`Type=notify-reload`, sd_notify(3)) and READY=1 when the reload ends (one for a burst of
//! SIGHUPs, after the last), and STOPPING=1.

mod common;

use std::net::IpAddr;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use common::{VigilInstance, vigil_yaml};
use nix::sys::signal::Signal;
use vigil_integration::{Lab, Vigil, timed_scenario, wait_until};

/// WATCHDOG_USEC given to the daemon: keep-alives are due every 100 ms.
const WATCHDOG_USEC: u64 = 200_000;
const PERIOD: Duration = Duration::from_micros(WATCHDOG_USEC / 2);

/// The manager's end: every datagram the daemon sends, in order.
struct NotifySocket {
    rx: mpsc::Receiver<String>,
    stop: Arc<AtomicBool>,
}

impl NotifySocket {
    fn bind(path: &Path) -> Result<NotifySocket> {
        let socket = UnixDatagram::bind(path).with_context(|| format!("cannot bind {path:?}"))?;
        // Only so the reader notices the test ended.
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let done = stop.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            while !done.load(Ordering::Relaxed) {
                if let Ok(n) = socket.recv(&mut buf)
                    && tx
                        .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                        .is_err()
                {
                    break;
                }
            }
        });
        Ok(NotifySocket { rx, stop })
    }

    /// Waits for a datagram with the line `tag` (skipping others); returns the datagram.
    fn expect(&self, tag: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(msg) if msg.lines().any(|l| l == tag) => return Ok(msg),
                Ok(msg) => {
                    if !msg.lines().all(|l| l == "WATCHDOG=1") {
                        seen.push(msg);
                    }
                }
                Err(_) => bail!("no {tag} within {timeout:?}; other messages: {seen:?}"),
            }
        }
    }

    /// Discards what has arrived so far.
    fn drain(&self) {
        while self.rx.try_recv().is_ok() {}
    }

    /// Every datagram but keep-alives that arrives during `window`.
    fn collect_for(&self, window: Duration) -> Vec<String> {
        let end = Instant::now() + window;
        let mut got = Vec::new();
        while let Ok(msg) = self
            .rx
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            if !msg.lines().all(|l| l == "WATCHDOG=1") {
                got.push(msg);
            }
        }
        got
    }

    /// How many datagrams with the line `tag` arrive during `window`.
    fn count_for(&self, window: Duration, tag: &str) -> usize {
        let end = Instant::now() + window;
        let mut n = 0;
        while let Ok(msg) = self
            .rx
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            n += usize::from(msg.lines().any(|l| l == tag));
        }
        n
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// CLOCK_MONOTONIC in µs, the clock MONOTONIC_USEC is read from (read here through the
/// sd-notify crate's own clock_gettime call).
fn monotonic_usec() -> Result<i128> {
    match sd_notify::NotifyState::monotonic_usec_now()? {
        sd_notify::NotifyState::MonotonicUsec(usec) => Ok(usec),
        _ => bail!("monotonic_usec_now gave another state"),
    }
}

/// The process's state letter from /proc/PID/stat ('T' when stopped).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

#[test]
fn notify_socket_gets_ready_watchdog_reloading_and_stopping() -> Result<()> {
    timed_scenario("sd_notify", |lab| {
        let r1 = lab.host("r1")?;
        let path = lab.dir().join("notify.sock");
        let notify = NotifySocket::bind(&path)?;
        let yaml = vigil_yaml(&[VigilInstance::new("gw", 62, 200, IpAddr::V4(Lab::vip4(0)))]);
        let v = Vigil::start_env(
            &r1,
            "vigil.yaml",
            &yaml,
            &[],
            &[
                ("NOTIFY_SOCKET", &path.to_string_lossy()),
                ("WATCHDOG_USEC", &WATCHDOG_USEC.to_string()),
            ],
        )?;
        let pid = v.child().pid();
        notify.expect("READY=1", Duration::from_secs(10))?;

        // Keep-alives at half of WATCHDOG_USEC: about 15 in 1.5 s. The lower bound leaves
        // room for a loaded machine; the upper one catches keep-alives sent per loop turn.
        notify.drain();
        let window = Duration::from_millis(1500);
        let pings = notify.count_for(window, "WATCHDOG=1");
        let expected = (window.as_millis() / PERIOD.as_millis()) as usize;
        println!("{pings} WATCHDOG=1 in {window:?} (period {PERIOD:?})");
        ensure!(
            (8..=expected + 3).contains(&pings),
            "{pings} WATCHDOG=1 in {window:?}, expected about {expected}:\n{}",
            v.child().log_tail(20)
        );

        // A daemon that does not run sends none: systemd's watchdog then fires.
        v.child().signal(Signal::SIGSTOP)?;
        let stopped = wait_until(Duration::from_secs(5), "vigil to be stopped", || {
            proc_state(pid) == Some('T')
        });
        notify.drain();
        let while_stopped = notify.count_for(Duration::from_secs(1), "WATCHDOG=1");
        v.child().signal(Signal::SIGCONT)?;
        stopped?;
        ensure!(
            while_stopped == 0,
            "{while_stopped} WATCHDOG=1 while the daemon was stopped"
        );
        notify.expect("WATCHDOG=1", Duration::from_secs(2))?;

        // Type=notify-reload: RELOADING=1 stamped after the manager's SIGHUP, then READY=1.
        for (config, outcome) in [
            (yaml.as_str(), "configuration reloaded"),
            ("instances: [", "reload rejected"),
        ] {
            v.write_config(config)?;
            let before = monotonic_usec()?;
            v.child().signal(Signal::SIGHUP)?;
            let msg = notify.expect("RELOADING=1", Duration::from_secs(10))?;
            let after = monotonic_usec()?;
            let stamp: i128 = msg
                .lines()
                .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
                .with_context(|| format!("RELOADING=1 without MONOTONIC_USEC: {msg:?}"))?
                .parse()
                .with_context(|| format!("MONOTONIC_USEC not a number: {msg:?}"))?;
            ensure!(
                (before..=after).contains(&stamp),
                "MONOTONIC_USEC={stamp} is not between the SIGHUP ({before}) and its receipt ({after})"
            );
            // READY=1 also after a rejected reload: the daemon runs on, with its old
            // configuration.
            notify.expect("READY=1", Duration::from_secs(10))?;
            ensure!(
                v.log().contains(outcome),
                "the reload did not end with {outcome:?}:\n{}",
                v.child().log_tail(20)
            );
        }

        // A burst of SIGHUPs: each is acknowledged with RELOADING=1 (a manager waits for one
        // stamped after its own signal), and one reload after the last ends with one READY=1.
        v.write_config(&yaml)?;
        notify.drain();
        let reloads_before = v.log().matches("configuration reloaded").count();
        for _ in 0..10 {
            v.child().signal(Signal::SIGHUP)?;
            // Pacing the burst (below the daemon's 200 ms quiet period), not synchronisation.
            std::thread::sleep(Duration::from_millis(20));
        }
        notify.expect("READY=1", Duration::from_secs(10))?;
        let after = notify.collect_for(Duration::from_secs(2));
        let has = |tag: &str| after.iter().filter(|m| m.lines().any(|l| l == tag)).count();
        ensure!(
            has("RELOADING=1") == 0 && has("READY=1") == 0,
            "after the burst's READY=1 came {after:?}: READY=1 before the last request was served, or more than one"
        );
        let reloads = v.log().matches("configuration reloaded").count() - reloads_before;
        ensure!(
            reloads == 1,
            "a burst of 10 SIGHUPs in 200 ms made {reloads} reloads"
        );

        v.stop()?;
        notify.expect("STOPPING=1", Duration::from_secs(2))?;
        Ok(())
    })
}
