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
//! - refused unless fstat says it is a FIFO owned by the daemon's user.
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
    #[error("notify fifo {path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct FifoWriter {
    path: PathBuf,
    file: File,
    /// vigil made it, so vigil removes it at exit (as keepalived does).
    created: bool,
}

impl FifoWriter {
    /// Creates the FIFO if absent, opens it and checks it (see the module doc).
    pub fn open(path: &Path) -> Result<Self, FifoError> {
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
        if meta.uid() != ours {
            return refuse(FifoError::NotOwned {
                path: path.to_path_buf(),
                owner: meta.uid(),
                ours,
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
    pub fn open_or_log(path: &Path) -> Option<Self> {
        match Self::open(path) {
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

    /// Takes over `old`'s duty to remove the FIFO at exit when both name the same path.
    pub fn inherit(&mut self, old: FifoWriter) {
        if old.path == self.path {
            self.created |= old.created;
        } else {
            old.close();
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
        if self.created {
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
        let mut w = FifoWriter::open(&path).unwrap();
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
    fn a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("passwd");
        std::fs::write(&target, "root:x:0:0\n").unwrap();
        let link = dir.path().join("fifo");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = FifoWriter::open(&link).err().expect("refused");
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
        let err = FifoWriter::open(&path).err().expect("refused");
        assert!(matches!(err, FifoError::NotFifo(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "data\n");
    }

    #[test]
    fn a_full_pipe_drops_lines_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = FifoWriter::open(&dir.path().join("fifo")).unwrap();
        // No reader: far more than a pipe holds must return at once.
        for _ in 0..100_000 {
            w.write_line("INSTANCE \"a\" MASTER 100\n");
        }
    }
}
