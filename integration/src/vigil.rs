//! Running vigil in a lab host: the counterpart of [`crate::Keepalived`].
//!
//! The daemon's state is read through its own control socket (`vigil status --json`), the
//! same interface an operator uses, so the scenario tests exercise it too.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::host::Host;
use crate::process::Child;
use crate::wait::wait_until;

pub struct Vigil {
    host: Host,
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
    config: PathBuf,
}

/// How a SIGHUP reload ended, as the daemon logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    Applied,
    Rejected,
}

impl Vigil {
    /// Writes `yaml` and starts `vigil run` in `host` with a pid file and a control socket
    /// of its own under the lab directory.
    pub fn start(host: &Host, yaml: &str) -> Result<Vigil> {
        Self::start_with(host, "vigil.yaml", yaml)
    }

    /// Like `start`, with the file name chosen (a `.conf` name makes it a keepalived.conf).
    pub fn start_with(host: &Host, file: &str, text: &str) -> Result<Vigil> {
        Self::start_full(host, file, text, &[])
    }

    /// Like `start_with`, with extra arguments for `vigil run`.
    pub fn start_full(host: &Host, file: &str, text: &str, extra: &[&str]) -> Result<Vigil> {
        Self::start_env(host, file, text, extra, &[])
    }

    /// Like `start_full`, with extra environment variables (e.g. systemd's NOTIFY_SOCKET).
    pub fn start_env(
        host: &Host,
        file: &str,
        text: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Vigil> {
        let label = host.lab.unique_label(&format!("{}-vigil", host.name()));
        let dir = host.lab.dir.join(&label);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {dir:?}"))?;
        let config = dir.join(file);
        fs::write(&config, text).with_context(|| format!("cannot write {config:?}"))?;
        let socket = dir.join("vigil.sock");
        let args = [
            "run".to_owned(),
            "--config".to_owned(),
            config.to_string_lossy().into_owned(),
            "--pid-file".to_owned(),
            dir.join("vigil.pid").to_string_lossy().into_owned(),
            "--control-socket".to_owned(),
            socket.to_string_lossy().into_owned(),
        ];
        let args: Vec<String> = args
            .into_iter()
            .chain(extra.iter().map(|a| a.to_string()))
            .collect();
        let bin = crate::vigil_binary()?;
        let mut cmd = host.command(&bin.to_string_lossy(), &args);
        cmd.env("VIGIL_LOG", "info,vigil=debug")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied());
        let child = Child::spawn(cmd, &label, &dir)?;
        host.lab.register(&child);
        let vigil = Vigil {
            host: host.clone(),
            child,
            dir,
            socket,
            config,
        };
        // Ready means the control socket answers; a daemon that exits instead fails here
        // with its log, not later with a confusing timeout.
        wait_until(
            Duration::from_secs(10),
            "vigil's control socket answers",
            || vigil.status().is_ok() || !vigil.child.is_running(),
        )?;
        if !vigil.child.is_running() {
            bail!("vigil exited at start:\n{}", vigil.child.log_tail(40));
        }
        Ok(vigil)
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn child(&self) -> &Child {
        &self.child
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `vigil status <flag>` (or `vigil status NAME`) against this daemon's control
    /// socket; its stdout.
    fn query(&self, flag: &str) -> Result<Vec<u8>> {
        let out = std::process::Command::new(crate::vigil_binary()?)
            .args(["status", flag, "--control-socket"])
            .arg(&self.socket)
            .output()
            .with_context(|| format!("cannot run vigil status {flag}"))?;
        if !out.status.success() {
            bail!(
                "vigil status {flag}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out.stdout)
    }

    /// Runs `vigil <args> --control-socket <this daemon's>` (e.g. `["drain", "gw"]`): its
    /// exit status and output, whatever the exit status.
    pub fn control(&self, args: &[&str]) -> Result<std::process::Output> {
        std::process::Command::new(crate::vigil_binary()?)
            .args(args)
            .arg("--control-socket")
            .arg(&self.socket)
            .output()
            .with_context(|| format!("cannot run vigil {}", args.join(" ")))
    }

    /// The configuration file the daemon was started with.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// `vigil status --metrics`: the Prometheus text, from the control socket.
    pub fn metrics(&self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.query("--metrics")?).into_owned())
    }

    /// `vigil status NAME`: the detail view of one instance (or sync group), as printed.
    pub fn detail(&self, name: &str) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.query(name)?).into_owned())
    }

    /// `vigil status --json`, parsed.
    pub fn status(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.query("--json")?).context("vigil status printed invalid JSON")
    }

    /// The instance's state as vigil names it: "INIT", "BACKUP", "MASTER" or "FAULT".
    pub fn state(&self, instance: &str) -> Result<Option<String>> {
        let status = self.status()?;
        Ok(status["instances"]
            .as_array()
            .and_then(|list| list.iter().find(|i| i["name"] == instance))
            .and_then(|i| i["state"].as_str())
            .map(str::to_owned))
    }

    /// A number from the instance's status entry (e.g. "master_down_interval_ms").
    pub fn field(&self, instance: &str, key: &str) -> Result<serde_json::Value> {
        let status = self.status()?;
        Ok(status["instances"]
            .as_array()
            .and_then(|list| list.iter().find(|i| i["name"] == instance))
            .map(|i| i[key].clone())
            .unwrap_or(serde_json::Value::Null))
    }

    /// Waits until `instance` is in `state`; returns how long that took.
    pub fn wait_state(&self, instance: &str, state: &str, timeout: Duration) -> Result<Duration> {
        let what = format!("{} {instance} to be {state}", self.child.label());
        let waited = wait_until(timeout, &what, || {
            self.state(instance)
                .ok()
                .flatten()
                .unwrap_or_else(|| "unreachable".into())
                == state
        })
        .with_context(|| self.child.log_tail(30))?;
        Ok(waited.elapsed)
    }

    /// SIGTERM: vigil hands mastership over (priority 0) and exits.
    pub fn stop(&self) -> Result<()> {
        self.child.stop().map(|_| ())
    }

    /// Replaces the configuration file (takes effect at the next `reload`).
    pub fn write_config(&self, text: &str) -> Result<()> {
        fs::write(&self.config, text).with_context(|| format!("cannot write {:?}", self.config))
    }

    /// SIGHUP, then waits until the daemon logs that the reload was applied or rejected.
    pub fn reload(&self) -> Result<Reload> {
        let count = |log: &str, what: &str| log.matches(what).count();
        let log = self.log();
        let (applied, rejected) = (
            count(&log, "configuration reloaded"),
            count(&log, "reload rejected"),
        );
        self.child.signal(nix::sys::signal::Signal::SIGHUP)?;
        let waited = wait_until(
            Duration::from_secs(10),
            "vigil to log the end of its reload",
            || {
                let log = self.log();
                if count(&log, "configuration reloaded") > applied {
                    Some(Reload::Applied)
                } else if count(&log, "reload rejected") > rejected {
                    Some(Reload::Rejected)
                } else {
                    None
                }
            },
        )
        .with_context(|| self.child.log_tail(30))?;
        waited.value.context("reload outcome")
    }

    pub fn kill9(&self) -> Result<()> {
        self.child.kill9().map(|_| ())
    }

    pub fn log(&self) -> String {
        self.child.stderr()
    }
}
