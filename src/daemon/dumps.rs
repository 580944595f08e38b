//! keepalived's dump signals, answered by writing files instead of dying.
//!
//! Runbooks and exporters send keepalived SIGUSR1 (it writes its data dump,
//! `$TMPDIR/keepalived.data`), SIGUSR2 (statistics, `keepalived.stats`), SIGRTMIN+2 (JSON,
//! `keepalived.json`) and SIGRTMAX-1 (statistics, then cleared). Without a handler each of these
//! signals terminates a process on the spot, with no priority-0 handover: a master sent SIGUSR1
//! by habit would leave its backups waiting Master_Down_Interval. vigil handles all four and
//! writes, next to its pid file (`/run/vigil/vigil.pid` by default):
//!
//! | signal | file | content |
//! |---|---|---|
//! | SIGUSR1 | `vigil.data` | `vigil status`'s table, then every instance in full |
//! | SIGUSR2, SIGRTMAX-1 | `vigil.stats` | counters by instance: adverts, transitions, drops |
//! | SIGRTMIN+2 | `vigil.json` | `vigil status --json` |
//!
//! SIGRTMAX-1 does not clear the counters: they are Prometheus counters too, which must never
//! go down (a reset reads as a counter restart and corrupts `rate()`); it is logged.
//!
//! The snapshot comes through the same coalescing [`StatusSource`] as `vigil status`, and the
//! file is rendered and written by a task of its own, never by the loop that runs the core.
//! Each file is written whole or not at all: a temporary file in the same directory, created
//! with `O_EXCL | O_NOFOLLOW` and mode 0600 (the dump names every instance and its addresses),
//! then renamed over the name, which replaces a link there instead of following it. Requests
//! are bounded: one writer, a queue of [`QUEUE`]; a signal finding the queue full is dropped,
//! as a dump of that kind is already waiting and will be taken after it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

use crate::control::{Form, StatusSource};

/// Dump requests waiting for the writer.
const QUEUE: usize = 4;

/// Which dump a signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpKind {
    /// SIGUSR1.
    Data,
    /// SIGUSR2.
    Stats,
    /// SIGRTMAX-1: keepalived's "statistics, then clear".
    StatsClear,
    /// SIGRTMIN+2.
    Json,
}

impl DumpKind {
    fn form(self) -> Form {
        match self {
            DumpKind::Data => Form::Data,
            DumpKind::Stats | DumpKind::StatsClear => Form::Stats,
            DumpKind::Json => Form::Json,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            DumpKind::Data => "data",
            DumpKind::Stats | DumpKind::StatsClear => "stats",
            DumpKind::Json => "json",
        }
    }
}

/// The dump signals' handlers, installed from construction on.
pub struct DumpSignals {
    usr1: Signal,
    usr2: Signal,
    stats_clear: Signal,
    json: Signal,
}

impl DumpSignals {
    pub fn install() -> std::io::Result<Self> {
        // keepalived's numbers (lib/signals.h): SIGJSON is SIGRTMIN+2, SIGSTATS_CLEAR is
        // SIGRTMAX-1, both as the C library numbers its real-time signals.
        Ok(Self {
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
            stats_clear: signal(SignalKind::from_raw(libc::SIGRTMAX() - 1))?,
            json: signal(SignalKind::from_raw(libc::SIGRTMIN() + 2))?,
        })
    }

    /// The next dump asked for.
    pub async fn recv(&mut self) -> Option<DumpKind> {
        tokio::select! {
            Some(()) = self.usr1.recv() => Some(DumpKind::Data),
            Some(()) = self.usr2.recv() => Some(DumpKind::Stats),
            Some(()) = self.stats_clear.recv() => Some(DumpKind::StatsClear),
            Some(()) = self.json.recv() => Some(DumpKind::Json),
            else => None,
        }
    }
}

/// Where the files go: beside the pid file, named like it (`vigil.pid` → `vigil.data`).
pub fn dump_path(pid_file: &Path, kind: DumpKind) -> PathBuf {
    pid_file.with_extension(kind.extension())
}

/// The writer's end: asks for dumps without waiting.
pub struct Dumper {
    requests: mpsc::Sender<DumpKind>,
}

impl Dumper {
    /// Spawns the writer; it ends when the dumper is dropped. `pid_file` names the files
    /// (none: the signals are logged and nothing is written).
    pub fn spawn(pid_file: Option<PathBuf>, source: StatusSource) -> Self {
        let (requests, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(pid_file, source, rx));
        Self { requests }
    }

    pub fn request(&self, kind: DumpKind) {
        if self.requests.try_send(kind).is_err() {
            tracing::debug!(?kind, "dump already queued: this signal is served by it");
        }
    }
}

async fn write_loop(
    pid_file: Option<PathBuf>,
    source: StatusSource,
    mut requests: mpsc::Receiver<DumpKind>,
) {
    while let Some(kind) = requests.recv().await {
        let Some(pid_file) = &pid_file else {
            tracing::warn!(
                ?kind,
                "dump signal: no pid file, so no directory to write it in"
            );
            continue;
        };
        if kind == DumpKind::StatsClear {
            tracing::info!(
                "SIGRTMAX-1: statistics written, not cleared (vigil's counters are also Prometheus counters, which never go down)"
            );
        }
        let Some(snapshot) = source.get(kind.form()).await else {
            return;
        };
        let path = dump_path(pid_file, kind);
        let text = snapshot.text().to_owned();
        let written = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || write_atomic(&path, text.as_bytes())).await
        };
        match written {
            Ok(Ok(())) => tracing::info!(path = %path.display(), "dump written on signal"),
            Ok(Err(e)) => {
                tracing::error!(path = %path.display(), error = %e, "cannot write the dump")
            }
            Err(e) => tracing::error!(error = %e, "dump task failed"),
        }
    }
}

/// Writes `path` whole or not at all, mode 0600, never through a link (see the module doc).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "dump path has no file name",
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    // A temporary left by a crash (or anything planted there) goes: unlinking removes a link
    // itself, never its target.
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)?;
    let result = file.write_all(bytes).and_then(|()| file.flush());
    drop(file);
    if let Err(e) = result.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn files_are_named_after_the_pid_file() {
        let pid = Path::new("/run/vigil/vigil.pid");
        assert_eq!(
            dump_path(pid, DumpKind::Data),
            Path::new("/run/vigil/vigil.data")
        );
        assert_eq!(
            dump_path(pid, DumpKind::StatsClear),
            Path::new("/run/vigil/vigil.stats")
        );
        assert_eq!(
            dump_path(pid, DumpKind::Json),
            Path::new("/run/vigil/vigil.json")
        );
    }

    #[test]
    fn a_dump_replaces_a_link_at_its_name_and_leaves_the_target_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let path = dir.path().join("vigil.data");
        std::os::unix::fs::symlink(&victim, &path).expect("symlink");
        // A link planted at the temporary name is not followed either.
        let tmp = dir.path().join(".vigil.data.tmp");
        std::os::unix::fs::symlink(&victim, &tmp).expect("symlink");
        write_atomic(&path, b"dump\n").expect("write_atomic");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        let meta = std::fs::symlink_metadata(&path).expect("meta");
        assert!(meta.file_type().is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "dump\n");
        assert!(!tmp.exists() && std::fs::symlink_metadata(&tmp).is_err());
    }
}
