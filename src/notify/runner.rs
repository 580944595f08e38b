//! Runs notify scripts off the core task. Each instance (or sync group) gets its own queue
//! and worker, so its scripts run in the order its transitions happened (a MASTER script
//! never overtakes the BACKUP script before it), while different instances do not wait for
//! each other. A queue is bounded: see `backlog` for the policy (one running, one waiting,
//! the newest wins).
//!
//! STOP at shutdown does not wait in line: `close` kills what is running (unless it is
//! STOP itself), drops what waits, and runs every STOP script at once, all bounded by
//! `STOP_WAIT` (keepalived's default `child_wait_time`), so a busy queue can neither delay
//! the exit nor keep STOP from running.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinSet};

use super::backlog::Backlog;
use super::fifo::{FifoSpec, FifoWriter};
use super::plan::{Notification, NotifyScripts, NotifyState, Script, commands_for};
use super::reader::{FifoReader, ReaderSpec};
use crate::exec::Outcome;

/// How long shutdown waits for STOP scripts (and a STOP already running): keepalived waits
/// `child_wait_time`, 5 s by default, for its children at exit. Scripts still running then
/// are killed with their process groups.
pub const STOP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// A script still running after this long is killed with its whole process group.
    pub script_timeout: Duration,
    /// keepalived's `script_user`: whom scripts without their own user run as.
    pub default_user: Option<String>,
    pub fifo: Option<FifoSpec>,
    /// `notify_fifo_script`: started as the FIFO's reader (see `reader`).
    pub fifo_reader: Option<ReaderSpec>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            script_timeout: Duration::from_secs(30),
            default_user: None,
            fifo: None,
            fifo_reader: None,
        }
    }
}

/// What a queue's owner and its worker share.
#[derive(Default)]
struct Shared {
    backlog: Mutex<Backlog<Vec<Script>>>,
    wake: Notify,
}

impl Shared {
    fn backlog(&self) -> MutexGuard<'_, Backlog<Vec<Script>>> {
        // A worker that panicked while holding the lock left a consistent backlog (every
        // method is a few assignments): keep using it.
        self.backlog.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Queue {
    shared: Arc<Shared>,
    worker: AbortHandle,
}

pub struct Notifier {
    config: NotifierConfig,
    queues: HashMap<String, Queue>,
    workers: JoinSet<()>,
    fifo: Option<FifoWriter>,
    reader: Option<FifoReader>,
}

impl Notifier {
    /// A notifier; a configured FIFO that cannot be used safely is refused here with an
    /// error logged (see `FifoWriter::open`), and the daemon runs without it, as keepalived.
    pub fn new(config: NotifierConfig) -> Self {
        let fifo = config.fifo.as_ref().and_then(FifoSpec::open_or_log);
        Self {
            config,
            queues: HashMap::new(),
            workers: JoinSet::new(),
            fifo,
            reader: None,
        }
    }

    /// Starts the FIFO's reader, if one is configured and the FIFO was accepted. Called by
    /// the driver once capabilities are dropped, so the reader gets what every script gets;
    /// lines written before then wait in the pipe.
    pub fn start_reader(&mut self) {
        if self.reader.is_none()
            && let (Some(fifo), Some(spec)) = (&self.fifo, &self.config.fifo_reader)
        {
            self.reader = FifoReader::start(spec, fifo.path());
        }
    }

    /// Queues the scripts for `n`; returns at once. The FIFO line is written now, so the
    /// FIFO hears of every transition, in order, whatever the scripts' queue drops.
    pub fn notify(&mut self, scripts: &NotifyScripts, n: &Notification) {
        if let Some(fifo) = &mut self.fifo {
            fifo.write_line(&n.fifo_line());
        }
        let commands = commands_for(scripts, n);
        if commands.is_empty() {
            return;
        }
        let key = n.queue_key();
        let queue = self.queues.entry(key).or_insert_with(|| {
            let shared = Arc::new(Shared::default());
            let worker = self
                .workers
                .spawn(run_queue(shared.clone(), self.config.clone()));
            Queue { shared, worker }
        });
        let mut backlog = queue.shared.backlog();
        let dropped = backlog.offer(n.state, commands);
        let total = backlog.superseded();
        drop(backlog);
        if let Some(dropped) = dropped {
            tracing::info!(
                instance = %n.name,
                superseded = dropped.as_keepalived(),
                by = n.state.as_keepalived(),
                superseded_so_far = total,
                "notify: a waiting notification was superseded by a newer state before its scripts ran"
            );
        }
        queue.shared.wake.notify_one();
    }

    /// A line for the FIFO alone (no script runs for it), e.g. a priority change.
    pub fn fifo_only(&mut self, line: &str) {
        if let Some(fifo) = &mut self.fifo {
            fifo.write_line(line);
        }
    }

    /// At reload: the FIFO the new configuration names, and its reader.
    ///
    /// The same FIFO (path and owner) still at its path (same inode, not followed) is kept
    /// open as it is: no line is lost and nothing needs reopening (a FIFO owned by the
    /// reader's user could not be reopened without CAP_DAC_OVERRIDE, which the daemon gave
    /// up after start-up). Anything else is opened and checked afresh (a path replaced by a
    /// symlink since the start is refused now), the old FIFO closed (removed if vigil made
    /// it), so its reader sees EOF.
    ///
    /// An unchanged reader (same script, FIFO kept, still running) reads on undisturbed.
    /// Otherwise the old one is stopped beside the loop and the new one started, as
    /// keepalived restarts its reader at every reload; a reader that exited by itself is
    /// started again.
    pub fn set_fifo(&mut self, fifo: Option<FifoSpec>, reader: Option<ReaderSpec>) {
        let old = self.fifo.take();
        let old_spec = self.config.fifo.take();
        let keep_fifo = old_spec.is_some()
            && old_spec == fifo
            && old
                .as_ref()
                .zip(fifo.as_ref())
                .is_some_and(|(w, f)| w.is_at(&f.path));
        let keep_reader = keep_fifo
            && reader.is_some()
            && self
                .reader
                .as_ref()
                .is_some_and(|r| r.is_running() && Some(r.spec()) == reader.as_ref());
        self.config.fifo = fifo;
        self.config.fifo_reader = reader;
        if keep_fifo {
            self.fifo = old;
        } else {
            if let Some(old) = old {
                old.close();
            }
            self.fifo = self.config.fifo.as_ref().and_then(FifoSpec::open_or_log);
        }
        if !keep_reader && let Some(r) = self.reader.take() {
            // A reader of a FIFO that was closed reads to EOF first; one of a FIFO kept open
            // would only take lines meant for its successor: it is terminated at once.
            let grace = if keep_fifo {
                Duration::ZERO
            } else {
                super::reader::EOF_GRACE
            };
            tokio::spawn(r.stop(grace));
        }
        self.start_reader();
    }

    /// At shutdown: runs STOP outside the queues and returns when every STOP script has
    /// finished or `STOP_WAIT` has passed; nothing else queued runs (see the module doc).
    pub async fn close(mut self) {
        let stop_config = NotifierConfig {
            script_timeout: self.config.script_timeout.min(STOP_WAIT),
            ..self.config.clone()
        };
        let mut stops = JoinSet::new();
        // Every line, STOP included, is in the FIFO by now: close it so the reader reads to
        // the end and sees EOF, then stop the reader beside the STOP scripts.
        if let Some(fifo) = self.fifo.take() {
            fifo.close();
        }
        if let Some(reader) = self.reader.take() {
            stops.spawn(reader.stop(super::reader::EOF_GRACE));
        }
        for (key, queue) in self.queues.drain() {
            let (waiting, running) = {
                let mut backlog = queue.shared.backlog();
                (backlog.close(), backlog.running())
            };
            // The worker exits after what it runs now; a STOP already running is let finish.
            queue.shared.wake.notify_one();
            if running.is_some_and(|s| s != NotifyState::Stop) {
                // Dropping the running script kills its process group (crate::exec).
                queue.worker.abort();
            }
            match waiting {
                Some((NotifyState::Stop, commands)) => {
                    stops.spawn(run_all(commands, stop_config.clone()));
                }
                Some((state, _)) => tracing::info!(
                    queue = %key,
                    state = state.as_keepalived(),
                    "notify: shutting down, a queued notification is not run"
                ),
                None => {}
            }
        }
        let all = async {
            while stops.join_next().await.is_some() {}
            while self.workers.join_next().await.is_some() {}
        };
        if tokio::time::timeout(STOP_WAIT, all).await.is_err() {
            tracing::warn!(
                wait = ?STOP_WAIT,
                "notify: STOP scripts still running at exit are killed"
            );
        }
        // Dropping the sets aborts what is left, which kills the scripts' process groups.
    }
}

async fn run_queue(shared: Arc<Shared>, config: NotifierConfig) {
    loop {
        let next = {
            let mut backlog = shared.backlog();
            if backlog.is_closed() {
                return;
            }
            backlog.start_next()
        };
        match next {
            Some((_, commands)) => {
                run_all(commands, config.clone()).await;
                shared.backlog().finish();
            }
            // notify_one stores a permit when nobody waits, so an offer made between the
            // check above and this wait is not missed.
            None => shared.wake.notified().await,
        }
    }
}

/// Runs one notification's commands in order (the specific script, then `notify`).
async fn run_all(commands: Vec<Script>, config: NotifierConfig) {
    for script in commands {
        if let Err(e) = run_script(&script, &config).await {
            tracing::warn!(script = ?script.argv, error = %e, "notify script failed");
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

    fn note(state: NotifyState) -> Notification {
        Notification {
            scope: Scope::Instance,
            name: "VI_1".into(),
            state,
            priority: 100,
        }
    }

    /// Waits (bounded) until `log` holds `lines` lines; returns them.
    async fn lines_of(log: &std::path::Path, lines: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let got: Vec<String> = text.lines().map(str::to_string).collect();
            if got.len() >= lines {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{log:?} has {got:?} after 10 s, want {lines} lines"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
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
                "echo master-start >> {0}; sleep 0.2; echo master-end >> {0}",
                log.display()
            ))),
            any: Some(sh(&format!("echo \"$3\" >> {}", log.display()))),
            ..Default::default()
        };
        let mut n = Notifier::new(NotifierConfig::default());
        n.notify(&scripts, &note(NotifyState::Master));
        lines_of(&log, 1).await;
        n.notify(&scripts, &note(NotifyState::Backup));
        assert_eq!(
            lines_of(&log, 4).await,
            ["master-start", "master-end", "MASTER", "BACKUP"]
        );
    }

    #[tokio::test]
    async fn a_storm_runs_few_scripts_and_delivers_the_last_state_last() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let scripts = NotifyScripts {
            any: Some(sh(&format!("echo \"$3\" >> {}; sleep 0.3", log.display()))),
            ..Default::default()
        };
        let mut n = Notifier::new(NotifierConfig::default());
        n.notify(&scripts, &note(NotifyState::Fault));
        lines_of(&log, 1).await;
        for k in 0..200 {
            let state = if k % 2 == 0 {
                NotifyState::Backup
            } else {
                NotifyState::Fault
            };
            n.notify(&scripts, &note(state));
        }
        n.notify(&scripts, &note(NotifyState::Master));
        // FAULT was running, MASTER waited last; the 200 between were superseded.
        assert_eq!(lines_of(&log, 2).await, ["FAULT", "MASTER"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
    }

    #[tokio::test]
    async fn stop_runs_at_close_even_behind_a_busy_queue() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let scripts = NotifyScripts {
            master: Some(sh(&format!(
                "echo master >> {0}; sleep 30; echo never >> {0}",
                log.display()
            ))),
            stop: Some(sh(&format!("echo stop >> {}", log.display()))),
            ..Default::default()
        };
        let mut n = Notifier::new(NotifierConfig::default());
        n.notify(&scripts, &note(NotifyState::Master));
        lines_of(&log, 1).await;
        n.notify(&scripts, &note(NotifyState::Backup));
        n.notify(&scripts, &note(NotifyState::Stop));
        let started = std::time::Instant::now();
        n.close().await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(lines_of(&log, 2).await, ["master", "stop"]);
    }

    #[tokio::test]
    async fn reload_checks_the_fifo_again_and_refuses_a_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let mut n = Notifier::new(NotifierConfig {
            fifo: Some(fifo_at(&fifo)),
            ..Default::default()
        });
        assert!(n.fifo.is_some(), "created and opened at start");
        // Between start and reload, the path is swapped for a symlink to a precious file.
        let target = dir.path().join("precious");
        std::fs::write(&target, "x\n").unwrap();
        std::fs::remove_file(&fifo).unwrap();
        std::os::unix::fs::symlink(&target, &fifo).unwrap();
        n.set_fifo(Some(fifo_at(&fifo)), None);
        assert!(n.fifo.is_none(), "refused at reload");
        n.notify(&NotifyScripts::default(), &note(NotifyState::Master));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "x\n");
    }

    fn fifo_at(path: &std::path::Path) -> FifoSpec {
        FifoSpec {
            path: path.to_path_buf(),
            owner: None,
        }
    }

    fn reader(script: &str) -> ReaderSpec {
        ReaderSpec { script: sh(script) }
    }

    #[tokio::test]
    async fn the_fifo_reader_gets_every_line_stop_included_and_exits_at_close() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let log = dir.path().join("log");
        // A plain reader: no TERM trap, it reads until EOF.
        let spec = reader(&format!(
            "while read -r l; do echo \"$l\" >> {}; done < \"$1\"",
            log.display()
        ));
        let mut n = Notifier::new(NotifierConfig {
            fifo: Some(fifo_at(&fifo)),
            fifo_reader: Some(spec),
            ..Default::default()
        });
        // Lines before the reader starts wait in the pipe.
        n.notify(&NotifyScripts::default(), &note(NotifyState::Backup));
        n.start_reader();
        n.notify(&NotifyScripts::default(), &note(NotifyState::Master));
        lines_of(&log, 2).await;
        n.notify(&NotifyScripts::default(), &note(NotifyState::Stop));
        let started = std::time::Instant::now();
        n.close().await;
        assert!(started.elapsed() < STOP_WAIT, "{:?}", started.elapsed());
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "INSTANCE \"VI_1\" BACKUP 100\nINSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" STOP 100\n"
        );
        assert!(!fifo.exists(), "vigil made the FIFO and removes it");
    }

    #[tokio::test]
    async fn a_reload_keeps_an_unchanged_reader_and_restarts_a_changed_one() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let pids = dir.path().join("pids");
        let script = |tag: &str| {
            reader(&format!(
                "echo {tag} >> {}; while read -r l; do :; done < \"$1\"",
                pids.display()
            ))
        };
        let mut n = Notifier::new(NotifierConfig {
            fifo: Some(fifo_at(&fifo)),
            fifo_reader: Some(script("a")),
            ..Default::default()
        });
        n.start_reader();
        assert_eq!(lines_of(&pids, 1).await, ["a"]);
        n.set_fifo(Some(fifo_at(&fifo)), Some(script("a")));
        // An absence: a restarted reader would have written again within this time.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(std::fs::read_to_string(&pids).unwrap(), "a\n");
        n.set_fifo(Some(fifo_at(&fifo)), Some(script("b")));
        assert_eq!(lines_of(&pids, 2).await, ["a", "b"]);
        assert!(n.reader.as_ref().is_some_and(FifoReader::is_running));
        n.set_fifo(None, None);
        assert!(n.reader.is_none() && n.fifo.is_none());
        n.close().await;
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
