//! Entering a network namespace from one thread, for lab tests and a future per-namespace
//! daemon mode: a thread's network namespace is its own (`setns` applies to the caller only),
//! so a test can run vigil's code "inside" a namespace on a dedicated thread while the rest
//! of the process stays where it was.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Moves the calling thread into the network namespace at `path` (e.g. /run/netns/NAME).
/// Sockets opened afterwards by this thread, and /proc/sys/net as it sees it, belong to that
/// namespace. Call it before building a tokio runtime on the thread.
pub fn enter_thread_netns(path: &Path) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    // SAFETY: setns only reads the fd, which `file` keeps open for the duration of the call;
    // CLONE_NEWNET restricts it to the network namespace, which affects this thread alone.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
