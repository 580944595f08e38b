//! The `vrrp_script` runner: runs the command every `interval` (the first run at once),
//! bounded by `timeout`, and reports OK/KO through the rise/fall hysteresis.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::rise_fall::RiseFall;
use super::update::TrackerUpdate;
use crate::config::model::{RunAs, TrackScript};
use crate::exec::{Credentials, Outcome, credentials, run as run_check};

/// Everything the runner needs, resolved from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCheck {
    pub name: String,
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
    pub run_as: Option<RunAs>,
}

impl ScriptCheck {
    /// `default_user` is the global `script_user`, used when the script names none.
    pub fn from_config(
        s: &TrackScript,
        default_user: Option<&RunAs>,
    ) -> Result<Self, crate::notify::SplitError> {
        let argv = crate::notify::split_command(&s.script)?;
        // keepalived: an interval of 0 would spin; it requires at least 1 s. Keep a floor.
        let interval = s.interval.as_duration().max(Duration::from_millis(10));
        // keepalived: without `timeout` a script may run for the whole interval.
        let timeout = s
            .timeout
            .map(|t| t.as_duration())
            .unwrap_or(interval)
            .max(Duration::from_millis(10));
        Ok(Self {
            name: s.name.clone(),
            argv,
            interval,
            timeout,
            rise: s.rise,
            fall: s.fall,
            init_fail: s.init_fail,
            run_as: s.user.clone().or_else(|| default_user.cloned()),
        })
    }
}

/// Runs until `tx` is closed.
pub async fn run(check: ScriptCheck, tx: mpsc::Sender<TrackerUpdate>) {
    let creds: Option<Credentials> = match &check.run_as {
        None => None,
        Some(r) => match credentials(&r.user, r.group.as_deref()) {
            Ok(c) => Some(c),
            Err(e) => {
                // keepalived refuses to run such a script; a check that cannot run is failing.
                tracing::error!(script = %check.name, error = %e, "track script cannot run");
                let _ = tx.send(TrackerUpdate::script(&check.name, false)).await;
                return;
            }
        },
    };
    let mut hysteresis = RiseFall::new(check.rise, check.fall, check.init_fail);
    let mut ticker = tokio::time::interval(check.interval);
    // A slow script delays the next run rather than causing a burst of catch-up runs.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tx.closed() => return,
        }
        let outcome = tokio::select! {
            o = run_check(&check.argv, check.timeout, creds) => o,
            _ = tx.closed() => return,
        };
        match &outcome {
            Outcome::Success => {}
            Outcome::Failed(status) => {
                tracing::debug!(script = %check.name, %status, "track script failed")
            }
            Outcome::TimedOut => {
                tracing::warn!(script = %check.name, timeout = ?check.timeout, "track script timed out, killed")
            }
            Outcome::NotStarted(e) => {
                tracing::warn!(script = %check.name, error = %e, "track script could not start")
            }
        }
        if let Some(ok) = hysteresis.record(outcome.is_success()) {
            tracing::info!(script = %check.name, ok, "VRRP_Script {}", if ok { "succeeded" } else { "failed" });
            if tx
                .send(TrackerUpdate::script(&check.name, ok))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::update::TrackerState;

    const WAIT: Duration = Duration::from_secs(10);

    async fn next(rx: &mut mpsc::Receiver<TrackerUpdate>, what: &str) -> TrackerUpdate {
        match tokio::time::timeout(WAIT, rx.recv()).await {
            Ok(Some(u)) => u,
            Ok(None) => panic!("runner ended while waiting for {what}"),
            Err(_) => panic!("no update within {WAIT:?} while waiting for {what}"),
        }
    }

    fn check(script: &str, interval_ms: u64, rise: u32, fall: u32) -> ScriptCheck {
        ScriptCheck {
            name: "chk".into(),
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_secs(5),
            rise,
            fall,
            init_fail: false,
            run_as: None,
        }
    }

    /// The script succeeds while `flag` holds "0" and counts its runs in `runs`, so the test
    /// can tell how many runs each transition took.
    fn flip_script(dir: &std::path::Path) -> String {
        format!(
            "echo x >> {runs}; exit $(cat {flag})",
            runs = dir.join("runs").display(),
            flag = dir.join("flag").display()
        )
    }

    /// Replaces the flag atomically so a run never reads a half-written file.
    fn set_flag(dir: &std::path::Path, value: &str) {
        let tmp = dir.join("flag.tmp");
        std::fs::write(&tmp, value).unwrap();
        std::fs::rename(&tmp, dir.join("flag")).unwrap();
    }

    fn runs(dir: &std::path::Path) -> usize {
        std::fs::read_to_string(dir.join("runs"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    #[tokio::test]
    async fn rise_and_fall_are_counted_in_runs() {
        let dir = tempfile::tempdir().unwrap();
        set_flag(dir.path(), "0");
        let (tx, mut rx) = mpsc::channel(8);
        let task = tokio::spawn(run(check(&flip_script(dir.path()), 50, 2, 3), tx));

        // The first result decides (keepalived starts one success away from OK).
        let u = next(&mut rx, "first OK").await;
        assert_eq!(u, TrackerUpdate::script("chk", true));
        assert_eq!(runs(dir.path()), 1);

        set_flag(dir.path(), "1");
        let before = runs(dir.path());
        let u = next(&mut rx, "KO after fall 3").await;
        assert_eq!(u.state, TrackerState::Down);
        let failing_runs = runs(dir.path()) - before;
        // Three failures needed; one run may have read the flag before the write and one
        // more may have started before we counted.
        assert!(
            (3..=5).contains(&failing_runs),
            "KO after {failing_runs} runs, fall is 3"
        );

        set_flag(dir.path(), "0");
        let before = runs(dir.path());
        let u = next(&mut rx, "OK after rise 2").await;
        assert_eq!(u.state, TrackerState::Up);
        let rising_runs = runs(dir.path()) - before;
        assert!(
            (2..=4).contains(&rising_runs),
            "OK after {rising_runs} runs, rise is 2"
        );
        task.abort();
    }

    #[tokio::test]
    async fn a_hanging_script_times_out_and_counts_as_a_failure() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut c = check("sleep 30", 50, 1, 1);
        c.timeout = Duration::from_millis(200);
        let started = std::time::Instant::now();
        let task = tokio::spawn(run(c, tx));
        let u = next(&mut rx, "KO from the timeout").await;
        assert_eq!(u, TrackerUpdate::script("chk", false));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(5),
            "KO after {took:?}, timeout is 200 ms"
        );
        task.abort();
    }

    #[tokio::test]
    async fn init_fail_reports_only_the_rise_to_ok() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut c = check("exit 0", 20, 2, 1);
        c.init_fail = true;
        let task = tokio::spawn(run(c, tx));
        // Already known to be down: the first message is the rise to OK.
        assert_eq!(next(&mut rx, "OK").await.state, TrackerState::Up);
        task.abort();
    }

    #[tokio::test]
    async fn the_runner_stops_when_the_receiver_is_gone() {
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(run(check("exit 0", 20, 1, 1), tx));
        drop(rx);
        tokio::time::timeout(WAIT, task)
            .await
            .expect("runner did not stop within 10 s of its receiver closing")
            .unwrap();
    }

    #[test]
    fn from_config_splits_the_command_and_defaults_timeout_to_interval() {
        let config = crate::track::verdict_tests::parse(
            r#"
global_defs {
    script_user nobody
}
vrrp_script chk {
    script "/usr/bin/test -f '/tmp/a b'"
    interval 2
}
"#,
        );
        let s = config.scripts.first().unwrap();
        let c = ScriptCheck::from_config(s, config.global.script_user.as_ref()).unwrap();
        assert_eq!(c.argv, ["/usr/bin/test", "-f", "/tmp/a b"]);
        assert_eq!(c.interval, Duration::from_secs(2));
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.run_as.map(|r| r.user), Some("nobody".to_string()));
    }
}
