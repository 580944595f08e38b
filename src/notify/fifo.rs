//! keepalived's `notify_fifo`: one line per transition, written to a named pipe that an
//! operator's reader consumes. A missing reader must never block the daemon, so the fifo is
//! opened non-blocking for every write and a full or readerless pipe drops the line.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

pub struct FifoWriter {
    path: PathBuf,
}

impl FifoWriter {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn write_line(&mut self, line: &str) {
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.path);
        match opened.and_then(|mut f| f.write_all(line.as_bytes())) {
            Ok(()) => {}
            Err(e) => {
                tracing::debug!(fifo = %self.path.display(), error = %e, "notify fifo line dropped")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_to_a_plain_file_and_survives_a_missing_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        std::fs::write(&path, "").unwrap();
        FifoWriter::new(path.clone()).write_line("INSTANCE \"a\" MASTER 1\n");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "INSTANCE \"a\" MASTER 1\n"
        );
        // No reader, no file: nothing blocks, nothing panics.
        FifoWriter::new(dir.path().join("missing/fifo")).write_line("x\n");
    }
}
