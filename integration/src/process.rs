//! Processes started in a lab host: each in its own process group, output in files, killed
//! with the lab.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::wait::POLL_INTERVAL;

/// How long [`Child::stop`] waits after SIGTERM before it gives up.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct ChildInner {
    pub(crate) label: String,
    pid: u32,
    stdout: PathBuf,
    stderr: PathBuf,
    proc: Mutex<std::process::Child>,
    status: Mutex<Option<ExitStatus>>,
}

/// A process running in a lab host (see [`crate::Host::spawn`]).
///
/// Cloning gives another handle to the same process. The lab kills the process group and
/// reaps the process when it is dropped, so a test never leaks it, even when it panics.
#[derive(Clone)]
pub struct Child {
    pub(crate) inner: Arc<ChildInner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave the data inconsistent (they guard a
    // process handle and an exit status), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Child {
    /// Spawns `cmd` in a new process group, its stdout and stderr in `dir/<label>.{out,err}`.
    pub(crate) fn spawn(mut cmd: std::process::Command, label: &str, dir: &Path) -> Result<Child> {
        use std::os::unix::process::CommandExt;
        let stdout = dir.join(format!("{label}.out"));
        let stderr = dir.join(format!("{label}.err"));
        let out = File::create(&stdout).with_context(|| format!("cannot create {stdout:?}"))?;
        let err = File::create(&stderr).with_context(|| format!("cannot create {stderr:?}"))?;
        // A group of its own: the lab can signal the process and everything it forks (for
        // keepalived, its VRRP child) at once, and a Ctrl-C on the test does not reach it.
        cmd.process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err);
        let line = crate::cmd::describe(&cmd);
        let proc = cmd
            .spawn()
            .with_context(|| format!("cannot start `{line}`"))?;
        Ok(Child {
            inner: Arc::new(ChildInner {
                label: label.to_owned(),
                pid: proc.id(),
                stdout,
                stderr,
                proc: Mutex::new(proc),
                status: Mutex::new(None),
            }),
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// The name given at spawn, unique in the lab; also the stem of its log files.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// Where its stdout goes.
    pub fn stdout_path(&self) -> &Path {
        &self.inner.stdout
    }

    /// Where its stderr goes.
    pub fn stderr_path(&self) -> &Path {
        &self.inner.stderr
    }

    /// Everything it has written to stdout so far.
    pub fn stdout(&self) -> String {
        fs::read_to_string(&self.inner.stdout).unwrap_or_default()
    }

    /// Everything it has written to stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.inner.stderr).unwrap_or_default()
    }

    /// Its exit status if it has exited (reaping it), `None` while it runs.
    pub fn try_status(&self) -> Result<Option<ExitStatus>> {
        let mut status = lock(&self.inner.status);
        if status.is_none() {
            let polled = lock(&self.inner.proc)
                .try_wait()
                .with_context(|| format!("cannot poll {}", self.inner.label))?;
            *status = polled;
        }
        Ok(*status)
    }

    /// Whether it is still running.
    pub fn is_running(&self) -> bool {
        matches!(self.try_status(), Ok(None))
    }

    /// Sends `signal` to the process itself (not its group).
    pub fn signal(&self, signal: Signal) -> Result<()> {
        if self.try_status()?.is_some() {
            return Ok(());
        }
        kill(self.pgid(), signal)
            .with_context(|| format!("cannot send {signal} to {}", self.inner.label))
    }

    /// Sends `signal` to its whole process group.
    pub fn signal_group(&self, signal: Signal) -> Result<()> {
        match killpg(self.pgid(), signal) {
            // ESRCH: the group is already empty, which is what a kill wants.
            Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
            Err(e) => Err(e)
                .with_context(|| format!("cannot send {signal} to group of {}", self.inner.label)),
        }
    }

    /// Waits at most `timeout` for it to exit.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_status()? {
                return Ok(status);
            }
            if start.elapsed() >= timeout {
                bail!(
                    "{} (pid {}) still running after {timeout:?}",
                    self.inner.label,
                    self.inner.pid
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// SIGTERM to the process (as a service manager would), then waits for it to exit.
    pub fn stop(&self) -> Result<ExitStatus> {
        self.signal(Signal::SIGTERM)?;
        self.wait_timeout(STOP_TIMEOUT)
    }

    /// SIGKILL to the whole group, then reaps the process: a crash, nothing cleaned up.
    pub fn kill9(&self) -> Result<ExitStatus> {
        self.signal_group(Signal::SIGKILL)?;
        self.wait_timeout(STOP_TIMEOUT)
    }

    fn pgid(&self) -> Pid {
        // Pids fit in i32 on Linux (pid_max is at most 2^22).
        Pid::from_raw(i32::try_from(self.inner.pid).unwrap_or(i32::MAX))
    }

    /// The last `lines` lines of stdout and stderr, labelled, for failure reports.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut text = String::new();
        for (name, body) in [("stdout", self.stdout()), ("stderr", self.stderr())] {
            if body.trim().is_empty() {
                continue;
            }
            let all: Vec<&str> = body.lines().collect();
            let from = all.len().saturating_sub(lines);
            text.push_str(&format!(
                "----- {} {name} (last {} of {} lines)\n",
                self.inner.label,
                all.len() - from,
                all.len()
            ));
            for line in all.iter().skip(from) {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }
}
