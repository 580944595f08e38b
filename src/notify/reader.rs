//! `notify_fifo_script` / `vrrp_notify_fifo_script`: the program keepalived starts as its
//! notify FIFO's reader.
//!
//! What keepalived does (keepalived/core/notify.c fifo_open, keepalived/vrrp/vrrp.c; its
//! doc/samples/sample_notify_fifo.sh is written against it), and vigil with it:
//! - argv: the configured command line, split without a shell, with the FIFO's path appended
//!   as the last argument (add_script_param);
//! - user: the script's own `USER [GROUP]` after the command, else `script_user`;
//! - started once the FIFO exists, at start-up and again at every reload that changes it,
//!   with no timeout (TIMER_NEVER); if it exits it is not restarted, only logged ("notify fifo
//!   script terminated");
//! - its own process group, which is signalled at exit and at reload.
//!
//! One order differs, on purpose. keepalived sends SIGTERM to its scripts *before* writing
//! the STOP lines and closing the FIFO, so a reader without a TERM trap dies and never sees
//! STOP (the sample script traps TERM and reads on for this reason). vigil writes the STOP
//! lines, closes the FIFO, and gives the reader [`EOF_GRACE`] to read to the end and exit by
//! itself; only then SIGTERM, and SIGKILL [`TERM_GRACE`] later (keepalived's one second for
//! children it signalled). A reader written for keepalived sees the same lines plus what it
//! used to lose; a plain `while read` loop gets every line.
//!
//! vigil also starts the reader only once the FIFO was accepted (see `fifo`): keepalived
//! starts it before checking what it opened, so a reader could be pointed at a planted path.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::plan::Script;
use crate::exec::{self, GroupGuard};

/// How long a stopping reader may take to drain the closed FIFO and exit by itself.
pub const EOF_GRACE: Duration = Duration::from_secs(1);
/// How long after SIGTERM before SIGKILL (keepalived: child_killed_thread after 1 s).
pub const TERM_GRACE: Duration = Duration::from_secs(1);

/// The reader as configured: its script (user resolved later, at start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSpec {
    pub script: Script,
}

impl ReaderSpec {
    /// keepalived's argv: the script's own, then the FIFO path.
    pub fn argv(&self, fifo: &Path) -> Vec<String> {
        let mut argv = self.script.argv.clone();
        argv.push(fifo.display().to_string());
        argv
    }
}

/// A running reader: a task that owns the process and stops it when told.
pub struct FifoReader {
    spec: ReaderSpec,
    stop: Option<oneshot::Sender<Duration>>,
    task: JoinHandle<()>,
}

impl FifoReader {
    /// Starts `spec` reading `fifo` as its user (planning put `script_user` there when the
    /// script names none); a failure is logged and the daemon runs on without a reader, as
    /// keepalived does.
    pub fn start(spec: &ReaderSpec, fifo: &Path) -> Option<Self> {
        let argv = spec.argv(fifo);
        let creds = match spec.script.user.as_deref() {
            Some(u) => match exec::credentials(u, spec.script.group.as_deref()) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!(script = ?argv, error = %e, "notify_fifo_script not started");
                    return None;
                }
            },
            None => None,
        };
        let child = match exec::spawn(&argv, creds) {
            Ok(c) => c,
            Err(why) => {
                tracing::error!(script = ?argv, error = %why, "notify_fifo_script not started");
                return None;
            }
        };
        tracing::info!(script = ?argv, pid = child.id(), "notify_fifo_script started");
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(supervise(child, argv, stopped));
        Some(Self {
            spec: spec.clone(),
            stop: Some(stop),
            task,
        })
    }

    pub fn spec(&self) -> &ReaderSpec {
        &self.spec
    }

    /// Whether the reader still runs (it may have exited by itself).
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }

    /// Stops the reader (see the module doc for the order): `eof_grace` to exit by itself
    /// (the FIFO must already be closed for it to see EOF), then SIGTERM, then SIGKILL.
    /// Returns when the process group is gone, at most `eof_grace + TERM_GRACE` and a
    /// moment later.
    pub async fn stop(mut self, eof_grace: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(eof_grace);
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for FifoReader {
    fn drop(&mut self) {
        // Not stopped through `stop` (a panic, a runtime going away): the task's guard
        // kills the group when the task is dropped.
        if self.stop.is_some() {
            self.task.abort();
        }
    }
}

async fn supervise(
    mut child: tokio::process::Child,
    argv: Vec<String>,
    stopped: oneshot::Receiver<Duration>,
) {
    let group = GroupGuard::of(&child);
    let eof_grace = tokio::select! {
        status = child.wait() => {
            // keepalived only logs this ("notify fifo script terminated") and does not
            // restart it: neither does vigil. Lines then wait in the pipe until it is full.
            tracing::warn!(script = ?argv, status = ?status.ok(), "notify_fifo_script exited; lines wait in the FIFO (not restarted until a reload)");
            // What it left running in its group goes with it (as for every script).
            drop(group);
            return;
        }
        grace = stopped => grace.unwrap_or(EOF_GRACE),
    };
    if tokio::time::timeout(eof_grace, child.wait()).await.is_err() {
        group.signal(Signal::SIGTERM);
        if tokio::time::timeout(TERM_GRACE, child.wait())
            .await
            .is_err()
        {
            tracing::warn!(script = ?argv, "notify_fifo_script ignored SIGTERM: killed");
        }
    }
    // SIGKILL to whatever is left in the group (the guard), then reap the leader.
    drop(group);
    let _ = child.wait().await;
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn spec(script: &str) -> ReaderSpec {
        ReaderSpec {
            script: Script {
                argv: vec!["/bin/sh".into(), "-c".into(), script.into(), "sh".into()],
                user: None,
                group: None,
            },
        }
    }

    #[test]
    fn the_fifo_path_is_the_last_argument() {
        let s = ReaderSpec {
            script: Script {
                argv: vec!["/etc/k/reader.sh".into(), "--log".into()],
                user: None,
                group: None,
            },
        };
        assert_eq!(
            s.argv(Path::new("/run/k.fifo")),
            ["/etc/k/reader.sh", "--log", "/run/k.fifo"]
        );
    }

    #[tokio::test]
    async fn a_reader_gets_the_path_and_is_terminated_with_its_group_when_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        // Records its argument, then ignores SIGTERM's default (a trap) so only SIGKILL ends
        // it: the stop must still return, bounded.
        let reader = FifoReader::start(
            &spec(&format!(
                "echo \"$1\" > {}; trap '' TERM; sleep 30 & wait; sleep 30",
                out.display()
            )),
            Path::new("/the/fifo"),
        )
        .expect("started");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&out).unwrap_or_default().is_empty() {
            assert!(Instant::now() < deadline, "reader never wrote its argument");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "/the/fifo\n");
        let started = Instant::now();
        reader.stop(EOF_GRACE).await;
        let took = started.elapsed();
        assert!(took >= EOF_GRACE, "stopped before the EOF grace: {took:?}");
        assert!(
            took < EOF_GRACE + TERM_GRACE + Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn a_reader_that_exits_on_eof_is_not_signalled() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let out = dir.path().join("out");
        let mut w = super::super::fifo::FifoWriter::open(&fifo, None).unwrap();
        // A plain reader with no TERM handling: it must see the last line, written just
        // before the FIFO is closed, and then exit by itself.
        let reader = FifoReader::start(
            &spec(&format!(
                "while read -r line; do echo \"$line\" >> {}; done < \"$1\"",
                out.display()
            )),
            &fifo,
        )
        .expect("started");
        w.write_line("INSTANCE \"VI_1\" MASTER 100\n");
        // The reader has opened the FIFO once it has copied the first line.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&out).unwrap_or_default().is_empty() {
            assert!(
                Instant::now() < deadline,
                "reader never read the first line"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        w.write_line("INSTANCE \"VI_1\" STOP 100\n");
        w.close();
        let started = Instant::now();
        reader.stop(EOF_GRACE).await;
        assert!(started.elapsed() < EOF_GRACE, "{:?}", started.elapsed());
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" STOP 100\n"
        );
    }
}
