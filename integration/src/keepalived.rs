//! Running the real keepalived in a lab host, and reading its VRRP states from its log.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use crate::host::Host;
use crate::process::Child;
use crate::wait::wait_until;

/// A VRRP state as keepalived logs it (`(VI_1) Entering MASTER STATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpState {
    Backup,
    Master,
    Fault,
}

impl FromStr for VrrpState {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "BACKUP" => VrrpState::Backup,
            "MASTER" => VrrpState::Master,
            "FAULT" => VrrpState::Fault,
            other => bail!("unknown VRRP state {other:?}"),
        })
    }
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VrrpState::Backup => "BACKUP",
            VrrpState::Master => "MASTER",
            VrrpState::Fault => "FAULT",
        })
    }
}

/// The keepalived binary: `$KEEPALIVED`, else /usr/sbin/keepalived, else from `PATH`.
fn binary() -> String {
    std::env::var("KEEPALIVED").unwrap_or_else(|_| {
        if Path::new("/usr/sbin/keepalived").exists() {
            "/usr/sbin/keepalived".to_owned()
        } else {
            "keepalived".to_owned()
        }
    })
}

/// A keepalived (VRRP subsystem only) running in a lab host.
///
/// Its configuration, pid files and log live in `<lab dir>/<host>-keepalived[.n]/`. States
/// are read from its console log (`-l -D`), which keepalived writes at each transition.
pub struct Keepalived {
    host: Host,
    child: Child,
    dir: PathBuf,
}

impl Keepalived {
    /// Writes `conf` (a complete keepalived.conf; interfaces are named `eth0`, ...) and starts
    /// `keepalived -n -l -D -P` with pid files of its own, removing stale ones first
    /// (keepalived refuses to start while a pid file names a live process).
    pub fn start(host: &Host, conf: &str) -> Result<Keepalived> {
        let label = host
            .lab
            .unique_label(&format!("{}-keepalived", host.name()));
        let dir = host.lab.dir.join(&label);
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {dir:?}"))?;
        }
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {dir:?}"))?;
        let conf_path = dir.join("keepalived.conf");
        fs::write(&conf_path, conf).with_context(|| format!("cannot write {conf_path:?}"))?;
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let args = [
            "-n".to_owned(), // stay in the foreground: the lab owns the process
            "-l".to_owned(), // log to the console (our log files)
            "-D".to_owned(), // detailed: every state transition
            "-G".to_owned(), // not to the machine's syslog
            "-P".to_owned(), // VRRP only
            "-f".to_owned(),
            path("keepalived.conf"),
            "-p".to_owned(),
            path("keepalived.pid"),
            "-r".to_owned(),
            path("vrrp.pid"),
            "-c".to_owned(),
            path("checkers.pid"),
            "-b".to_owned(),
            path("bfd.pid"),
        ];
        let cmd = host.command(&binary(), &args);
        let child = Child::spawn(cmd, &label, &dir)?;
        host.lab.register(&child);
        Ok(Keepalived {
            host: host.clone(),
            child,
            dir,
        })
    }

    /// The host it runs in.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The process (for its pid, exit status, raw output).
    pub fn child(&self) -> &Child {
        &self.child
    }

    /// Its directory: keepalived.conf, pid files, log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its whole log so far.
    pub fn log(&self) -> String {
        let mut log = self.child.stdout();
        log.push_str(&self.child.stderr());
        log
    }

    /// The last state keepalived logged for VRRP instance `instance`, `None` before its first
    /// transition. A stopped or killed keepalived keeps its last logged state.
    pub fn state(&self, instance: &str) -> Result<Option<VrrpState>> {
        let needle = format!("({instance}) Entering ");
        let log = self.log();
        let mut last = None;
        for line in log.lines() {
            if let Some(rest) = line.split_once(&needle).map(|(_, r)| r)
                && let Some(word) = rest.split_whitespace().next()
            {
                last = Some(word.parse()?);
            }
        }
        Ok(last)
    }

    /// Waits until `instance` is in `state`; returns how long that took.
    pub fn wait_state(
        &self,
        instance: &str,
        state: VrrpState,
        timeout: Duration,
    ) -> Result<Duration> {
        let what = format!("{instance} on {} to be {state}", self.host.name());
        let waited = wait_until(timeout, &what, || {
            if !self.child.is_running() {
                bail!("keepalived exited; log:\n{}", self.child.log_tail(30));
            }
            let now = self.state(instance)?;
            Ok((now == Some(state), now))
        })?;
        Ok(waited.elapsed)
    }

    /// SIGTERM (keepalived then sends priority-0 adverts and removes its VIPs) and waits for
    /// it to exit.
    pub fn stop(&self) -> Result<()> {
        self.child.stop().map(|_| ())
    }

    /// SIGKILL to keepalived and its VRRP child: a crash. VIPs stay configured and no
    /// priority-0 advert is sent.
    pub fn kill9(&self) -> Result<()> {
        self.child.kill9().map(|_| ())
    }

    /// SIGHUP: reload the configuration (after rewriting `dir()/keepalived.conf`).
    pub fn reload(&self) -> Result<()> {
        self.child.signal(Signal::SIGHUP)
    }

    /// Rewrites the configuration file (then call [`Keepalived::reload`]).
    pub fn write_conf(&self, conf: &str) -> Result<()> {
        let path = self.dir.join("keepalived.conf");
        fs::write(&path, conf).with_context(|| format!("cannot write {path:?}"))
    }
}
