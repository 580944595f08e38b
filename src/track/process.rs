//! The `vrrp_track_process` runner: one task for every tracked process, scanning /proc every
//! poll interval (by default 1 s) and counting the processes each matcher accepts.
//!
//! keepalived scans /proc once and then follows the kernel's process-events connector; a
//! periodic scan needs no netlink privileges or connector support and is bounded in cost
//! (one read of `stat`, plus `cmdline` only when some tracker needs the command line).

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::process_match::{Matcher, ProcInfo};
use super::quorum::Quorum;
use super::update::TrackerUpdate;
use crate::config::model::TrackProcess;

#[derive(Debug, Clone)]
pub struct ProcessCheck {
    pub name: String,
    pub matcher: Matcher,
    pub quorum: Quorum,
}

impl ProcessCheck {
    /// `None` when the block names no process (nothing to count).
    pub fn from_config(p: &TrackProcess) -> Option<Self> {
        Some(Self {
            name: p.name.clone(),
            matcher: Matcher::from_config(p)?,
            quorum: Quorum::new(
                p.quorum,
                p.quorum_max,
                p.fork_delay.as_duration(),
                p.terminate_delay.as_duration(),
            ),
        })
    }
}

/// Reads every process from `/proc`. Processes that vanish during the scan are skipped.
pub fn scan_proc(with_cmdline: bool) -> Vec<ProcInfo> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((comm, state)) = parse_stat(&stat) else {
            continue;
        };
        let cmdline = if with_cmdline {
            let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            Some(split_cmdline(&raw))
        } else {
            None
        };
        out.push(ProcInfo {
            comm,
            cmdline,
            zombie: state == 'Z' || state == 'X',
        });
    }
    out
}

/// `PID (COMM) STATE ...`: the name may itself contain spaces and parentheses, so it runs to
/// the last `)`.
fn parse_stat(stat: &str) -> Option<(String, char)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let state = stat.get(close + 1..)?.trim_start().chars().next()?;
    Some((comm, state))
}

fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let trimmed = raw.strip_suffix(&[0]).unwrap_or(raw);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split(|&b| b == 0)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect()
}

/// Runs until `tx` is closed.
pub async fn run(mut checks: Vec<ProcessCheck>, poll: Duration, tx: mpsc::Sender<TrackerUpdate>) {
    if checks.is_empty() {
        return;
    }
    let with_cmdline = checks.iter().any(|c| c.matcher.needs_cmdline());
    loop {
        let procs = match tokio::task::spawn_blocking(move || scan_proc(with_cmdline)).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "process scan failed");
                Vec::new()
            }
        };
        let now = Instant::now();
        let mut wake = now + poll;
        for c in &mut checks {
            let count = procs.iter().filter(|p| c.matcher.matches(p)).count();
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            if let Some(up) = c.quorum.observe(now, count) {
                tracing::info!(track_process = %c.name, count, "Quorum {} for tracked process", if up { "gained" } else { "lost" });
                if tx.send(TrackerUpdate::process(&c.name, up)).await.is_err() {
                    return;
                }
            }
            // Look again when a fork/terminate delay runs out, not a whole poll later.
            if let Some(due) = c.quorum.deadline() {
                wake = wake.min(due);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = tx.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::ParamMatch;
    use crate::track::update::TrackerState;

    #[test]
    fn stat_and_cmdline_parse_awkward_names() {
        assert_eq!(
            parse_stat("42 (a (b) c) S 1 2 3"),
            Some(("a (b) c".to_string(), 'S'))
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(split_cmdline(b"sleep\x00100\x00"), ["sleep", "100"]);
        assert!(split_cmdline(b"").is_empty());
    }

    #[test]
    fn the_scan_sees_this_test_process() {
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        let procs = scan_proc(true);
        assert!(
            procs.iter().any(|p| p.comm == me.trim()),
            "{} not found",
            me.trim()
        );
    }

    async fn next(rx: &mut mpsc::Receiver<TrackerUpdate>, what: &str) -> TrackerUpdate {
        let wait = Duration::from_secs(10);
        match tokio::time::timeout(wait, rx.recv()).await {
            Ok(Some(u)) => u,
            Ok(None) => panic!("process runner ended while waiting for {what}"),
            Err(_) => panic!("no update within {wait:?} while waiting for {what}"),
        }
    }

    #[tokio::test]
    async fn a_sleep_with_a_unique_argument_appears_and_disappears() {
        // A duration no other process on the machine is running with.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let arg = format!("3600.{}{nanos:09}", std::process::id());
        let config = TrackProcess {
            name: "sleeper".into(),
            process: vec!["sleep".into(), arg.clone()],
            param_match: Some(ParamMatch::Exact),
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: crate::types::Centis::ZERO,
            terminate_delay: crate::types::Centis::ZERO,
            full_command: true,
        };
        let check = ProcessCheck::from_config(&config).unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let task = tokio::spawn(run(vec![check], Duration::from_millis(50), tx));
        assert_eq!(
            next(&mut rx, "initial: no sleeper").await.state,
            TrackerState::Down
        );

        let mut child = tokio::process::Command::new("sleep")
            .arg(&arg)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        assert_eq!(
            next(&mut rx, "sleeper started").await,
            TrackerUpdate::process("sleeper", true)
        );
        child.kill().await.unwrap();
        assert_eq!(
            next(&mut rx, "sleeper killed").await.state,
            TrackerState::Down
        );
        task.abort();
    }

    #[tokio::test]
    async fn terminate_delay_holds_the_quorum_through_a_restart() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let arg = format!("3601.{}{nanos:09}", std::process::id());
        let mut first = tokio::process::Command::new("sleep")
            .arg(&arg)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let config = TrackProcess {
            name: "restarting".into(),
            process: vec!["sleep".into(), arg.clone()],
            param_match: None,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: crate::types::Centis::ZERO,
            terminate_delay: crate::types::Centis::from_secs(2),
            full_command: false,
        };
        let (tx, mut rx) = mpsc::channel(8);
        let task = tokio::spawn(run(
            vec![ProcessCheck::from_config(&config).unwrap()],
            Duration::from_millis(50),
            tx,
        ));
        assert_eq!(
            next(&mut rx, "initial: running").await.state,
            TrackerState::Up
        );
        // Restart well within terminate_delay: no update at all.
        first.kill().await.unwrap();
        let started = Instant::now();
        let mut second = tokio::process::Command::new("sleep")
            .arg(&arg)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
        assert!(
            quiet.is_err(),
            "a restart within terminate_delay was reported: {quiet:?}"
        );
        // Stopped for good: reported, but only after terminate_delay.
        second.kill().await.unwrap();
        let stopped = Instant::now();
        assert_eq!(next(&mut rx, "quorum lost").await.state, TrackerState::Down);
        assert!(
            stopped.elapsed() >= Duration::from_secs(2),
            "lost after {:?}, terminate_delay is 2 s (test started {:?} ago)",
            stopped.elapsed(),
            started.elapsed()
        );
        task.abort();
    }
}
