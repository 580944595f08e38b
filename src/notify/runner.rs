//! Runs notify scripts off the core task. Each instance (or group) gets its own queue, so its
//! scripts run in the order its transitions happened (a MASTER script never overtakes the
//! BACKUP script before it), while different instances do not wait for each other.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::fifo::FifoWriter;
use super::plan::{Notification, NotifyScripts, Script, commands_for};
use crate::exec::Outcome;

#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// A script still running after this long is killed with its whole process group.
    pub script_timeout: Duration,
    /// keepalived's `script_user`: whom scripts without their own user run as.
    pub default_user: Option<String>,
    pub fifo: Option<std::path::PathBuf>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            script_timeout: Duration::from_secs(30),
            default_user: None,
            fifo: None,
        }
    }
}

pub struct Notifier {
    config: NotifierConfig,
    queues: HashMap<String, mpsc::UnboundedSender<Vec<Script>>>,
    workers: JoinSet<()>,
    fifo: Option<FifoWriter>,
}

impl Notifier {
    pub fn new(config: NotifierConfig) -> Self {
        let fifo = config.fifo.clone().map(FifoWriter::new);
        Self {
            config,
            queues: HashMap::new(),
            workers: JoinSet::new(),
            fifo,
        }
    }

    /// Queues the scripts for `n`; returns at once.
    pub fn notify(&mut self, scripts: &NotifyScripts, n: &Notification) {
        if let Some(fifo) = &mut self.fifo {
            fifo.write_line(&n.fifo_line());
        }
        let commands = commands_for(scripts, n);
        if commands.is_empty() {
            return;
        }
        let key = format!("{}:{}", n.scope.as_keepalived(), n.name);
        let tx = self.queues.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            self.workers.spawn(run_queue(rx, self.config.clone()));
            tx
        });
        // The worker only ends when its sender is dropped, so a send cannot fail here.
        let _ = tx.send(commands);
    }

    /// Lets every queued script finish (each bounded by the script timeout), then returns.
    pub async fn close(mut self) {
        self.queues.clear();
        while self.workers.join_next().await.is_some() {}
    }
}

async fn run_queue(mut rx: mpsc::UnboundedReceiver<Vec<Script>>, config: NotifierConfig) {
    while let Some(commands) = rx.recv().await {
        for script in commands {
            if let Err(e) = run_script(&script, &config).await {
                tracing::warn!(script = ?script.argv, error = %e, "notify script failed");
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot start: {0}")]
    Spawn(String),
    #[error(transparent)]
    UnknownUser(#[from] crate::exec::CheckError),
    #[error("killed after {0:?} without finishing")]
    Timeout(Duration),
    #[error("exited with {0}")]
    Exit(std::process::ExitStatus),
}

/// Runs one script (see `crate::exec`: its own process group, as its configured user, the
/// group killed if it outlives the timeout, so a notify script that forks leaks nothing).
pub async fn run_script(script: &Script, config: &NotifierConfig) -> Result<(), ScriptError> {
    let creds = match script.user.as_ref().or(config.default_user.as_ref()) {
        Some(user) => Some(crate::exec::credentials(user, script.group.as_deref())?),
        None => None,
    };
    match crate::exec::run(&script.argv, config.script_timeout, creds).await {
        Outcome::Success => Ok(()),
        Outcome::Failed(status) => Err(ScriptError::Exit(status)),
        Outcome::TimedOut => Err(ScriptError::Timeout(config.script_timeout)),
        Outcome::NotStarted(why) => Err(ScriptError::Spawn(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{NotifyState, Scope};

    fn sh(script: &str) -> Script {
        Script {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into(), "sh".into()],
            user: None,
            group: None,
        }
    }

    #[tokio::test]
    async fn scripts_of_one_instance_run_in_transition_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let scripts = NotifyScripts {
            // The generic script appends "$3" (the state); the master script is slow, so a
            // runner that did not keep order would log BACKUP before MASTER.
            master: Some(sh(&format!(
                "sleep 0.2; echo master-script >> {}",
                log.display()
            ))),
            any: Some(sh(&format!("echo \"$3\" >> {}", log.display()))),
            ..Default::default()
        };
        let mut n = Notifier::new(NotifierConfig::default());
        for state in [NotifyState::Master, NotifyState::Backup] {
            let note = Notification {
                scope: Scope::Instance,
                name: "VI_1".into(),
                state,
                priority: 100,
            };
            n.notify(&scripts, &note);
        }
        n.close().await;
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(text, "master-script\nMASTER\nBACKUP\n");
    }

    #[tokio::test]
    async fn a_hanging_script_is_killed_with_its_children() {
        let config = NotifierConfig {
            script_timeout: Duration::from_millis(200),
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let err = run_script(&sh("sleep 30 & sleep 30"), &config)
            .await
            .unwrap_err();
        assert!(matches!(err, ScriptError::Timeout(_)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn failing_script_reports_its_exit_status() {
        let err = run_script(&sh("exit 3"), &NotifierConfig::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("exit status: 3"), "{err}");
    }
}
