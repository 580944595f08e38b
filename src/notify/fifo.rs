//! keepalived's `notify_fifo`: one line per transition, written to a named pipe that an
//! operator's reader consumes.
//!
//! The daemon runs as root and the path is often under a world-writable directory (/tmp),
//! so opening it is where an attacker would strike: a symlink planted at the path would have
//! root append lines to any file it names. The FIFO is therefore opened the way keepalived
//! opens it (keepalived/core/notify.c, fifo_open), with one more refusal on top:
//!
//! - created with mkfifo, mode 0600, if absent (keepalived creates it 0644; 0600 keeps other
//!   local users from reading, and so stealing, the lines meant for the operator's reader),
//!   and removed at exit only if vigil created it;
//! - opened with O_NOFOLLOW (a symlink at the path is refused, its target never touched),
//!   O_NONBLOCK (nothing ever blocks the daemon) and O_RDWR: holding a read end ourselves
//!   means the open does not fail with ENXIO while no reader is there, and a write never gets
//!   EPIPE/SIGPIPE when a reader goes away; a reader that comes back reads on, in order;
//! - refused unless fstat says it is a FIFO owned by the daemon's user or by the FIFO's
//!   configured owner (`notify_fifo PATH USER [GROUP]`, else `script_user`), as keepalived;
//!   a FIFO vigil creates is given to that owner (fchown on the opened descriptor), so a
//!   reader running as that user can open it, as with keepalived.
//!
//! At a reload the descriptor is kept when the path still names the FIFO it has open (same
//! device and inode, checked without following a symlink): nothing is reopened, so neither
//! a reader nor a FIFO owned by the reader's user (which the daemon, without
//! CAP_DAC_OVERRIDE after start-up, could not open again) is disturbed. Anything else at the
//! path is opened and checked afresh.
//!
//! It is opened once and kept open: every line goes through one descriptor, in order. While
//! no reader drains it, lines collect in the pipe (64 KiB by default); when that is full a
//! line is dropped (EAGAIN), never waited for. A line is written with one write(2), and
//! lines shorter than PIPE_BUF are atomic, so a reader never sees half a line.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::Mode;

use crate::exec::Credentials;

#[derive(Debug, thiserror::Error)]
pub enum FifoError {
    #[error("notify fifo {0}: is a symbolic link; refusing to follow it")]
    Symlink(PathBuf),
    #[error("notify fifo {0}: exists and is not a FIFO; refusing to write into it")]
    NotFifo(PathBuf),
    #[error("notify fifo {path}: owned by uid {owner}, not by vigil's uid {ours}; refusing it")]
    NotOwned {
        path: PathBuf,
        owner: u32,
        ours: u32,
    },
    #[error("notify fifo {path}: cannot create: {source}")]
    Create { path: PathBuf, source: Errno },
    #[error("notify fifo {path}: cannot give it to its owner: {source}")]
    Chown { path: PathBuf, source: Errno },
    #[error("notify fifo {path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A configured FIFO: its path and who should own it if vigil creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoSpec {
    pub path: PathBuf,
    /// User and optional group (`notify_fifo PATH USER [GROUP]`, else `script_user`).
    pub owner: Option<(String, Option<String>)>,
}

impl FifoSpec {
    /// Opens the FIFO (see [`FifoWriter::open`]); a refusal, or an owner that does not
    /// exist, is logged and the daemon runs on without the FIFO, as keepalived.
    pub fn open_or_log(&self) -> Option<FifoWriter> {
        let owner = match &self.owner {
            Some((user, group)) => match crate::exec::credentials(user, group.as_deref()) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!(fifo = %self.path.display(), error = %e, "notify fifo not used");
                    return None;
                }
            },
            None => None,
        };
        FifoWriter::open_or_log(&self.path, owner)
    }
}

pub struct FifoWriter {
    path: PathBuf,
    file: File,
    /// vigil made it, so vigil removes it at exit (as keepalived does).
    created: bool,
}

impl FifoWriter {
    /// Creates the FIFO if absent, opens it and checks it (see the module doc); a FIFO it
    /// creates is given to `owner`.
    pub fn open(path: &Path, owner: Option<Credentials>) -> Result<Self, FifoError> {
        let created = match nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR) {
            Ok(()) => true,
            Err(Errno::EEXIST) => false,
            Err(source) => {
                return Err(FifoError::Create {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let refuse = |e: FifoError| {
            if created {
                let _ = std::fs::remove_file(path);
            }
            Err(e)
        };
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return refuse(FifoError::Symlink(path.to_path_buf()));
            }
            Err(source) => {
                return refuse(FifoError::Open {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        // Checked on the descriptor, not the path: what was opened is what is checked.
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(source) => {
                return refuse(FifoError::Open {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        if !std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
            return refuse(FifoError::NotFifo(path.to_path_buf()));
        }
        let ours = nix::unistd::geteuid().as_raw();
        if meta.uid() != ours && owner.is_none_or(|o| o.uid != meta.uid()) {
            return refuse(FifoError::NotOwned {
                path: path.to_path_buf(),
                owner: meta.uid(),
                ours,
            });
        }
        if created
            && let Some(o) = owner
            && (o.uid, o.gid) != (meta.uid(), meta.gid())
            && let Err(source) = nix::unistd::fchown(
                &file,
                Some(nix::unistd::Uid::from_raw(o.uid)),
                Some(nix::unistd::Gid::from_raw(o.gid)),
            )
        {
            return refuse(FifoError::Chown {
                path: path.to_path_buf(),
                source,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            created,
        })
    }

    /// `open`, with a refusal logged as an error: the daemon runs on without the FIFO, as
    /// keepalived does ("is not a fifo we own - not using").
    pub fn open_or_log(path: &Path, owner: Option<Credentials>) -> Option<Self> {
        match Self::open(path, owner) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(error = %e, "notify fifo not used");
                None
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether `path` names, without following a symlink, the FIFO this writer has open.
    pub fn is_at(&self, path: &Path) -> bool {
        match (std::fs::symlink_metadata(path), self.file.metadata()) {
            (Ok(at), Ok(open)) => (at.dev(), at.ino()) == (open.dev(), open.ino()),
            _ => false,
        }
    }

    pub fn write_line(&mut self, line: &str) {
        match self.file.write(line.as_bytes()) {
            Ok(n) if n == line.len() => {}
            Ok(n) => {
                tracing::warn!(fifo = %self.path.display(), written = n, len = line.len(), "notify fifo: line cut short")
            }
            Err(e) => {
                tracing::warn!(fifo = %self.path.display(), error = %e, "notify fifo: line dropped (no reader is draining the fifo?)")
            }
        }
    }

    /// Closes the FIFO, removing it first if vigil created it, so a reader looping on
    /// reopen cannot reopen it (keepalived's order).
    pub fn close(self) {
        // Only the FIFO vigil made: whatever has replaced it at the path since is not ours.
        if self.created && self.is_at(&self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};

    use super::*;

    #[test]
    fn creates_a_private_fifo_and_a_reader_gets_every_line_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let mut w = FifoWriter::open(&path, None).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()));
        assert_eq!(meta.mode() & 0o777, 0o600);
        // Lines written before any reader are kept in the pipe, not lost.
        w.write_line("INSTANCE \"a\" BACKUP 100\n");
        let reader = BufReader::new(File::open(&path).unwrap());
        w.write_line("INSTANCE \"a\" MASTER 100\n");
        w.write_line("INSTANCE \"a\" STOP 100\n");
        w.close();
        assert!(!path.exists(), "created by the writer, removed by it");
        let lines: Vec<String> = reader.lines().take(3).map(Result::unwrap).collect();
        assert_eq!(
            lines,
            [
                "INSTANCE \"a\" BACKUP 100",
                "INSTANCE \"a\" MASTER 100",
                "INSTANCE \"a\" STOP 100"
            ]
        );
    }

    #[test]
    fn a_created_fifo_goes_to_its_owner_and_an_owned_one_is_accepted() {
        // Changing owner needs root; without it this cannot be observed here.
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let nobody = crate::exec::credentials("nobody", None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let w = FifoWriter::open(&path, Some(nobody)).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (nobody.uid, nobody.gid));
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(w.is_at(&path));
        // Owned by the configured owner: accepted; without that owner: refused.
        let again = FifoWriter::open(&path, Some(nobody)).unwrap();
        drop(again);
        let err = FifoWriter::open(&path, None).err().expect("refused");
        assert!(matches!(err, FifoError::NotOwned { .. }), "{err}");
        // Another FIFO put at the path is not the one open.
        std::fs::remove_file(&path).unwrap();
        nix::unistd::mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
        assert!(!w.is_at(&path));
    }

    #[test]
    fn a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("passwd");
        std::fs::write(&target, "root:x:0:0\n").unwrap();
        let link = dir.path().join("fifo");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = FifoWriter::open(&link, None).err().expect("refused");
        assert!(matches!(err, FifoError::Symlink(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "root:x:0:0\n");
        assert!(
            std::fs::symlink_metadata(&link).is_ok(),
            "not removed: not ours"
        );
    }

    #[test]
    fn a_regular_file_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        std::fs::write(&path, "data\n").unwrap();
        let err = FifoWriter::open(&path, None).err().expect("refused");
        assert!(matches!(err, FifoError::NotFifo(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "data\n");
    }

    #[test]
    fn a_full_pipe_drops_lines_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FifoWriter::open(&dir.path().join("fifo"), None).unwrap();
        // No reader: far more than a pipe holds must return at once.
        for _ in 0..100_000 {
            w.write_line("INSTANCE \"a\" MASTER 100\n");
        }
    }
}
