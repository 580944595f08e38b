//! The control socket: a client connects, writes one command line (`status`, `metrics`, or a
//! command that changes the daemon: `drain`, `undrain`, `reload`, see `command.rs`),
//! and reads the answer until the server closes the connection. Bounded by
//! [`CONTROL_LIMITS`] (connection cap, deadlines, accept back-off: see `listen.rs`).
//!
//! Who may connect: the socket is mode 0600 (root only), or 0660 with a group chosen by
//! `--control-group`, whatever the umask, and it never exists at its final path with any
//! other mode: it is bound inside a fresh 0700 directory, given its mode and group there,
//! and renamed into place (rename is atomic and moves the inode the listening socket is
//! bound to). A directory vigil creates for it is 0750. Setting the umask around `bind`
//! would do the same for the socket, but the umask is process-wide and other threads (the
//! blocking pool) may create files meanwhile.
//!
//! One daemon per socket: a socket that accepts a connection belongs to a running daemon, so
//! start-up is refused, naming the socket and the other daemon's pid (`SO_PEERCRED`). At exit
//! the socket is removed only if the path still names the socket this daemon bound.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::command::{Command, Commands};
use super::listen::{AcceptLoop, CONTROL_LIMITS, spawn_accept_loop};
use super::snapshot::{Form, StatusSource};

pub const DEFAULT_SOCKET: &str = "/run/vigil/vigil.sock";

/// The control socket when none is given: [`DEFAULT_SOCKET`], or with `net_namespace NAME`
/// /run/vigil/NAME/vigil.sock, as keepalived keeps a namespaced daemon's pid files in
/// /run/keepalived/NAME/: one daemon per namespace, each with its own socket and pid file.
pub fn default_socket(net_namespace: Option<&str>) -> std::path::PathBuf {
    let default = std::path::Path::new(DEFAULT_SOCKET);
    match (net_namespace, default.parent(), default.file_name()) {
        (Some(ns), Some(dir), Some(file)) => dir.join(ns).join(file),
        _ => default.to_path_buf(),
    }
}

/// How long the in-use check waits for a daemon already listening on the path.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("control socket {path}: unknown command {command:?}")]
    Unknown { path: PathBuf, command: String },
    #[error(
        "control socket {path} answers: another vigil (pid {pid}) is running on it; stop it, or give this daemon its own --control-socket"
    )]
    InUse { path: PathBuf, pid: String },
    #[error("control socket {path} exists and is not a socket: refusing to replace it")]
    NotASocket { path: PathBuf },
    #[error("control group {group:?}: no such group")]
    NoSuchGroup { group: String },
}

/// Who may use the socket besides root.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Mode 0660 with this group (`--control-group`); otherwise 0600.
    pub group: Option<String>,
}

/// A bound control socket, served until dropped; dropping it stops serving and removes the
/// socket file if the path still names this socket.
#[derive(Debug)]
pub struct ControlSocket {
    path: PathBuf,
    inode: (u64, u64),
    _accepting: AcceptLoop,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        // Another daemon may have replaced the path meanwhile (it refuses to while we answer,
        // but an operator may have moved things): remove only what we made.
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.inode
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds `path` with the mode `access` asks for (replacing a stale socket, refusing a live
/// one) and serves until the returned guard is dropped.
pub async fn serve(
    path: &Path,
    access: &Access,
    status: StatusSource,
    commands: Commands,
) -> Result<ControlSocket, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let gid = match &access.group {
        Some(name) => Some(
            nix::unistd::Group::from_name(name)
                .ok()
                .flatten()
                .ok_or_else(|| ControlError::NoSuchGroup {
                    group: name.clone(),
                })?
                .gid,
        ),
        None => None,
    };
    refuse_if_answering(path).await?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        if let Some(up) = dir.parent() {
            std::fs::create_dir_all(up).map_err(io)?;
        }
        std::fs::DirBuilder::new()
            .mode(0o750)
            .create(&dir)
            .map_err(io)?;
        // The umask may have taken bits away: set exactly 0750 (group members need x to
        // reach a 0660 socket).
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).map_err(io)?;
        if let Some(gid) = gid {
            nix::unistd::chown(&dir, None, Some(gid)).map_err(|e| io(e.into()))?;
        }
    }
    let listener = bind_private(path, &dir, gid).map_err(io)?;
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    let accepting = spawn_accept_loop("control socket", listener, CONTROL_LIMITS, move |stream| {
        let (status, commands) = (status.clone(), commands.clone());
        async move {
            let _ = answer(stream, status, commands).await;
        }
    })
    .map_err(io)?;
    Ok(ControlSocket {
        path: path.to_path_buf(),
        inode: (meta.dev(), meta.ino()),
        _accepting: accepting,
    })
}

/// Refuses a path where a daemon answers, or that is something other than a socket.
async fn refuse_if_answering(path: &Path) -> Result<(), ControlError> {
    match std::fs::symlink_metadata(path) {
        Err(_) => return Ok(()),
        Ok(meta) if !std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => {
            return Err(ControlError::NotASocket {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => {}
    }
    let in_use = |pid: String| ControlError::InUse {
        path: path.to_path_buf(),
        pid,
    };
    match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(path)).await {
        Ok(Ok(stream)) => Err(in_use(
            stream
                .peer_cred()
                .ok()
                .and_then(|c| c.pid())
                .map_or_else(|| "unknown".into(), |p| p.to_string()),
        )),
        // Nobody listens: a stale socket left by a daemon that died, replaced below.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        // A listener whose backlog is full is still a running daemon.
        Ok(Err(e)) => Err(in_use(format!("unknown: connect failed: {e}"))),
        Err(_) => Err(in_use("unknown: connect did not complete".into())),
    }
}

/// Binds in a fresh 0700 directory beside `path`, sets the socket's mode and group there,
/// and renames it to `path` (see the module doc).
fn bind_private(
    path: &Path,
    dir: &Path,
    gid: Option<nix::unistd::Gid>,
) -> std::io::Result<UnixListener> {
    let private = dir.join(format!(
        ".vigil-bind-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&private)?;
    let result = (|| {
        let staged = private.join("s");
        let listener = UnixListener::bind(&staged)?;
        let mode = if gid.is_some() { 0o660 } else { 0o600 };
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode))?;
        if let Some(gid) = gid {
            nix::unistd::chown(&staged, None, Some(gid))?;
        }
        std::fs::rename(&staged, path)?;
        Ok(listener)
    })();
    let _ = std::fs::remove_dir_all(&private);
    result
}

async fn answer(
    stream: UnixStream,
    status: StatusSource,
    commands: Commands,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut request = BufReader::new(read).take(256);
    let read_request = request.read_line(&mut line);
    tokio::time::timeout(CONTROL_LIMITS.request_deadline, read_request)
        .await
        .map_err(|_| std::io::ErrorKind::TimedOut)??;
    // drain, undrain, reload: answered by the loop (`command.rs`).
    if let Some(command) = Command::parse(&line) {
        let text = match command {
            Ok(command) => commands.run(command).await,
            Err(usage) => format!("error: {usage}\n"),
        };
        write.write_all(text.as_bytes()).await?;
        return write.shutdown().await;
    }
    let form = match line.trim() {
        "status" => Some(Form::Json),
        "metrics" => Some(Form::Metrics),
        _ => None,
    };
    let reply = match form {
        Some(form) => match status.get(form).await {
            Some(s) => write.write_all(s.text().as_bytes()).await,
            None => write.write_all(b"error: vigil is stopping\n").await,
        },
        None => {
            let other = line.trim();
            write
                .write_all(format!("error: unknown command {other:?}\n").as_bytes())
                .await
        }
    };
    reply?;
    write.shutdown().await
}

/// Sends `command` to the daemon at `path` and returns its whole answer.
pub async fn query(path: &Path, command: &str) -> Result<String, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut stream = UnixStream::connect(path).await.map_err(io)?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .await
        .map_err(io)?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await.map_err(io)?;
    if let Some(rest) = out.strip_prefix("error: unknown command") {
        return Err(ControlError::Unknown {
            path: path.to_path_buf(),
            command: rest.trim().trim_matches('"').to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Status;

    #[test]
    fn a_namespaced_daemon_has_its_own_default_socket() {
        assert_eq!(default_socket(None), std::path::Path::new(DEFAULT_SOCKET));
        assert_eq!(
            default_socket(Some("blue")),
            std::path::Path::new("/run/vigil/blue/vigil.sock")
        );
    }

    /// A loop that answers every command with its debug form.
    fn fake_loop() -> Commands {
        let (commands, mut requests) = Commands::channel();
        tokio::spawn(async move {
            while let Some(r) = requests.recv().await {
                let _ = r.reply.send(format!("did {:?}\n", r.command));
            }
        });
        commands
    }

    fn fake_core() -> StatusSource {
        let (source, mut requests) = StatusSource::channel();
        tokio::spawn(async move {
            while let Some(reply) = requests.recv().await {
                let _ = reply.send(Status {
                    pid: 7,
                    ..Default::default()
                });
            }
        });
        source
    }

    #[tokio::test]
    async fn serves_the_latest_snapshot_and_metrics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        let server = serve(&path, &Access::default(), fake_core(), fake_loop())
            .await
            .unwrap();
        let json = query(&path, "status").await.unwrap();
        let got: Status = serde_json::from_str(&json).unwrap();
        assert_eq!(got.pid, 7);
        assert!(query(&path, "metrics").await.unwrap().ends_with("# EOF\n"));
        assert!(matches!(
            query(&path, "bogus").await,
            Err(ControlError::Unknown { .. })
        ));
        assert_eq!(
            query(&path, "drain VI_1").await.unwrap(),
            "did Drain { name: Some(\"VI_1\"), drained: true }\n"
        );
        assert_eq!(query(&path, "reload").await.unwrap(), "did Reload\n");
        assert!(
            query(&path, "undrain")
                .await
                .unwrap()
                .starts_with("error: usage")
        );
        drop(server);
    }

    /// Mode 0600 in a new 0750 directory; no staging directory left; the socket removed at
    /// drop. (The umask is process-wide, so a unit test running beside others does not
    /// change it: the lab test `security_listeners` starts the daemon under umask 000.)
    #[tokio::test]
    async fn socket_0600_in_a_0750_directory_and_removed_at_exit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/vigil/ctl.sock");
        let server = serve(&path, &Access::default(), fake_core(), fake_loop())
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o750);
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("ctl.sock")]);
        drop(server);
        assert!(!path.exists(), "the socket outlived its daemon");
    }

    #[tokio::test]
    async fn a_group_gets_0660_and_an_unknown_group_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl/ctl.sock");
        // Group 0 exists everywhere; its name varies ("root" on Linux).
        let root = nix::unistd::Group::from_gid(0.into()).unwrap().unwrap();
        let access = Access {
            group: Some(root.name.clone()),
        };
        let server = serve(&path, &access, fake_core(), fake_loop())
            .await
            .unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
        assert_eq!(meta.gid(), 0);
        drop(server);
        let nobody = Access {
            group: Some("no-such-group-vigil".into()),
        };
        assert!(matches!(
            serve(&path, &nobody, fake_core(), fake_loop()).await,
            Err(ControlError::NoSuchGroup { .. })
        ));
    }

    #[tokio::test]
    async fn a_live_socket_is_refused_a_stale_one_replaced_a_foreign_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        let first = serve(&path, &Access::default(), fake_core(), fake_loop())
            .await
            .unwrap();
        let err = serve(&path, &Access::default(), fake_core(), fake_loop())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&std::process::id().to_string()) && text.contains("ctl.sock"),
            "{text}"
        );
        // The refused start left the first one serving.
        assert!(query(&path, "status").await.is_ok());
        drop(first);
        // A stale socket (nobody listening) is replaced.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let second = serve(&path, &Access::default(), fake_core(), fake_loop())
            .await
            .unwrap();
        assert!(query(&path, "status").await.is_ok());
        // A path now naming somebody else's socket is not removed at exit.
        std::fs::remove_file(&path).unwrap();
        let foreign = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(second);
        assert!(path.exists(), "removed a socket it did not make");
        drop(foreign);
        // A regular file at the path is not replaced.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, "keep me").unwrap();
        assert!(matches!(
            serve(&path, &Access::default(), fake_core(), fake_loop()).await,
            Err(ControlError::NotASocket { .. })
        ));
    }
}
