//! The pid file: one daemon per configuration. The file is locked with `flock` for the
//! daemon's lifetime and the pid written after the lock is taken; the lock, not the number in
//! the file, is what says a daemon runs. So a pid file left by a crash never blocks a start,
//! even when its number now names an unrelated process (keepalived reads the pid and probes
//! it, and is fooled by pid reuse), and two daemons started at the same moment cannot both
//! win (a read-then-write check can). The lock goes with the process, also on SIGKILL.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// The pid file when `--pid-file` is not given and the control socket is the default one
/// (keepalived's is /run/keepalived.pid; vigil keeps its files in one directory).
pub const DEFAULT_PID_FILE: &str = "/run/vigil/vigil.pid";

/// The pid file that goes with a control socket: the socket's path with the extension
/// `.pid` (`/run/vigil/vigil.sock` gives [`DEFAULT_PID_FILE`]). Daemons given different
/// sockets get different pid files without more options; daemons sharing a socket share the
/// lock that keeps the second one out.
pub fn default_for_socket(socket: &Path) -> PathBuf {
    let pid = socket.with_extension("pid");
    if pid == socket {
        let mut name = socket.as_os_str().to_owned();
        name.push(".pid");
        PathBuf::from(name)
    } else {
        pid
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error(
        "pid file {path} is locked by another vigil (pid {pid}) running on this configuration: stop it, or give this daemon its own --pid-file and --control-socket"
    )]
    Running { path: PathBuf, pid: String },
    #[error("pid file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The locked pid file; dropping it removes the file (if the path still names it) and
/// releases the lock.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    inode: (u64, u64),
    _lock: Flock<File>,
}

/// Attempts at opening and locking when the file is replaced under us.
const ATTEMPTS: usize = 3;

impl PidFile {
    pub fn create(path: &Path) -> Result<Self, PidFileError> {
        let io = |source| PidFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            if let Some(up) = dir.parent() {
                std::fs::create_dir_all(up).map_err(io)?;
            }
            // The directory it shares with the control socket by default: 0750 whatever
            // the umask (the socket's module explains why).
            std::fs::DirBuilder::new()
                .mode(0o750)
                .create(dir)
                .or_else(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => Ok(()),
                    _ => Err(e),
                })
                .map_err(io)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750)).map_err(io)?;
        }
        for _ in 0..ATTEMPTS {
            // O_NOFOLLOW: a symlink planted at the path must not make root truncate the
            // file it points to.
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .map_err(io)?;
            let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => lock,
                Err((mut file, Errno::EWOULDBLOCK)) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    let pid = match text.trim() {
                        "" => "unknown".to_string(),
                        pid => pid.to_string(),
                    };
                    return Err(PidFileError::Running {
                        path: path.to_path_buf(),
                        pid,
                    });
                }
                Err((_, e)) => return Err(io(e.into())),
            };
            // The daemon that held the lock may have removed the file between our open and
            // our lock: then we hold a lock on a file nobody else will see. Lock what the
            // path names now, or try again.
            let ours = lock.metadata().map_err(io)?;
            let named = match std::fs::symlink_metadata(path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(e)),
            };
            if (ours.dev(), ours.ino()) != (named.dev(), named.ino()) {
                continue;
            }
            lock.set_len(0).map_err(io)?;
            lock.rewind().map_err(io)?;
            lock.write_all(format!("{}\n", std::process::id()).as_bytes())
                .map_err(io)?;
            return Ok(Self {
                path: path.to_path_buf(),
                inode: (ours.dev(), ours.ino()),
                _lock: lock,
            });
        }
        Err(io(std::io::Error::other(
            "the file kept being replaced while locking it",
        )))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Removed while still locked, and only if the path still names our file.
        if let Ok(meta) = std::fs::symlink_metadata(&self.path)
            && (meta.dev(), meta.ino()) == self.inode
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_not_the_number_decides_and_the_file_goes_at_exit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/vigil.pid");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // pid 1 is always alive, and a pid far above pid_max never is: neither blocks.
        for stale in ["1\n", "999999999\n", "garbage"] {
            std::fs::write(&path, stale).unwrap();
            let pf = PidFile::create(&path).unwrap();
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                format!("{}\n", std::process::id())
            );
            drop(pf);
            assert!(!path.exists());
        }
        // A held lock refuses a second daemon and names the first one's pid (flock locks
        // belong to the open file, so this process can play both daemons).
        let first = PidFile::create(&path).unwrap();
        match PidFile::create(&path) {
            Err(PidFileError::Running { pid, .. }) => {
                assert_eq!(pid, std::process::id().to_string())
            }
            other => panic!("second daemon not refused: {other:?}"),
        }
        assert!(path.exists(), "the refused daemon removed the pid file");
        drop(first);
        assert!(!path.exists());
    }

    #[test]
    fn a_missing_directory_is_made_0750_and_a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/vigil/vigil.pid");
        let pf = PidFile::create(&path).unwrap();
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o750);
        drop(pf);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        assert!(PidFile::create(&path).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn default_pid_file_follows_the_socket() {
        assert_eq!(
            default_for_socket(Path::new(crate::control::DEFAULT_SOCKET)),
            Path::new(DEFAULT_PID_FILE)
        );
        assert_eq!(
            default_for_socket(Path::new("/run/vigil/b.sock")),
            Path::new("/run/vigil/b.pid")
        );
        assert_eq!(
            default_for_socket(Path::new("/x/ctl.pid")),
            Path::new("/x/ctl.pid.pid")
        );
    }
}
