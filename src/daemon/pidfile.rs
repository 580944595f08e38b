//! The pid file: written at start, removed at exit. Like keepalived, vigil refuses to start
//! while the file names a live process, and replaces a stale one.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error(
        "pid file {path} names running process {pid}: another vigil is running (stop it, or use --pid-file)"
    )]
    Running { path: PathBuf, pid: i32 },
    #[error("pid file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Removes the file when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    pub fn create(path: &Path) -> Result<Self, PidFileError> {
        let io = |source| PidFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse::<i32>()
            && pid > 0
            && pid != std::process::id() as i32
            && is_alive(pid)
        {
            return Err(PidFileError::Running {
                path: path.to_path_buf(),
                pid,
            });
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }
}

/// A zombie still has a pid but is not running: /proc says so in its state field.
fn is_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_live_pid_replaces_a_stale_one_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/vigil.pid");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // pid 1 is always alive.
        std::fs::write(&path, "1\n").unwrap();
        assert!(matches!(
            PidFile::create(&path),
            Err(PidFileError::Running { pid: 1, .. })
        ));
        // A pid far above pid_max cannot be alive.
        std::fs::write(&path, "999999999\n").unwrap();
        let pf = PidFile::create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        drop(pf);
        assert!(!path.exists());
    }
}
