//! Network namespaces: keepalived's `net_namespace NAME`, and lab tests running vigil's code
//! "inside" a namespace.
//!
//! A thread's network namespace is its own (`setns` applies to the caller only) and a thread
//! starts in its creator's namespace. So the daemon enters its namespace on the main thread
//! while that is still the process's only thread, before the async runtime or any other
//! thread exists: every thread made afterwards, and every socket, netlink connection and
//! /proc/sys/net file opened afterwards, is in that namespace.

use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Where `ip netns add NAME` puts its namespace files, and where keepalived looks for
/// `net_namespace NAME` (its RUNSTATEDIR "/netns/", /var/run/netns on older systems, which
/// is a link to /run).
pub const NETNS_DIR: &str = "/run/netns";

/// Why a namespace name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the namespace name is empty")]
    Empty,
    /// A name is one file in [`NETNS_DIR`]: `..` or a `/` would reach another file.
    #[error(
        "namespace name {0:?} is not a file name in {NETNS_DIR} (no `/`, not `.` or `..`, as `ip netns add` requires)"
    )]
    NotAName(String),
}

/// The namespace file of `name`: /run/netns/NAME, refusing names that are not one file there.
pub fn netns_path(name: &str) -> Result<PathBuf, NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.contains('/') || name == "." || name == ".." || name.contains('\0') {
        return Err(NameError::NotAName(name.to_owned()));
    }
    Ok(Path::new(NETNS_DIR).join(name))
}

/// Why the daemon could not enter its namespace.
#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    #[error("net_namespace {name:?}: {source}")]
    Name { name: String, source: NameError },
    /// keepalived exits here too ("Unable to set network namespace NAME - exiting").
    #[error(
        "net_namespace {name:?}: cannot open {}: {source} (create it with `ip netns add {name}`; keepalived refuses to start without it too)",
        path.display()
    )]
    Open {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("net_namespace {name:?}: cannot enter {}: {source}", path.display())]
    Setns {
        name: String,
        path: PathBuf,
        source: io::Error,
    },
    /// The daemon was started (as a library call) outside the namespace it is configured for.
    #[error(
        "net_namespace {name:?}: the daemon is not running in {}; it must enter it before it starts",
        path.display()
    )]
    NotEntered { name: String, path: PathBuf },
    /// Entering from a process with other threads would leave them behind.
    #[error(
        "net_namespace {name:?}: the process already has {threads} threads; the namespace must be entered before any other thread starts"
    )]
    Threads { name: String, threads: usize },
}

/// Opens /run/netns/NAME, for `setns`; returns its path with it (for error messages).
fn open_netns(name: &str) -> Result<(PathBuf, std::fs::File), EnterError> {
    let path = netns_path(name).map_err(|source| EnterError::Name {
        name: name.to_owned(),
        source,
    })?;
    let file = std::fs::File::open(&path).map_err(|source| EnterError::Open {
        name: name.to_owned(),
        path: path.clone(),
        source,
    })?;
    Ok((path, file))
}

/// Moves the whole process into the namespace `name` (/run/netns/NAME). Refused unless the
/// caller is the process's only thread: `setns` moves the calling thread alone, and a thread
/// left behind would open its sockets in the old namespace.
pub fn enter_process_netns(name: &str) -> Result<(), EnterError> {
    let (path, file) = open_netns(name)?;
    let threads = only_thread();
    if threads != 1 {
        return Err(EnterError::Threads {
            name: name.to_owned(),
            threads,
        });
    }
    setns_net(&file).map_err(|source| EnterError::Setns {
        name: name.to_owned(),
        path,
        source,
    })
}

/// How many threads the process has, waiting up to 100 ms for threads that were joined
/// just before: a joined thread may still be listed in /proc/self/task for a moment (the
/// kernel wakes the joiner before it releases the exiting task).
fn only_thread() -> usize {
    let count = || std::fs::read_dir("/proc/self/task").map_or(1, |d| d.count());
    let mut n = count();
    for _ in 0..50 {
        if n == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        n = count();
    }
    n
}

/// Whether the calling thread is in the namespace `name`: its /proc namespace file and
/// /run/netns/NAME are the same nsfs inode.
pub fn ensure_current(name: &str) -> Result<(), EnterError> {
    use std::os::unix::fs::MetadataExt;
    let path = netns_path(name).map_err(|source| EnterError::Name {
        name: name.to_owned(),
        source,
    })?;
    let named = std::fs::metadata(&path).map_err(|source| EnterError::Open {
        name: name.to_owned(),
        path: path.clone(),
        source,
    })?;
    let ours =
        std::fs::metadata("/proc/thread-self/ns/net").map_err(|source| EnterError::Setns {
            name: name.to_owned(),
            path: path.clone(),
            source,
        })?;
    if (named.dev(), named.ino()) == (ours.dev(), ours.ino()) {
        Ok(())
    } else {
        Err(EnterError::NotEntered {
            name: name.to_owned(),
            path,
        })
    }
}

/// Moves the calling thread into the network namespace at `path` (e.g. /run/netns/NAME).
/// Sockets opened afterwards by this thread, and /proc/sys/net as it sees it, belong to that
/// namespace. Call it before building a tokio runtime on the thread.
pub fn enter_thread_netns(path: &Path) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    setns_net(&file)
}

fn setns_net(file: &std::fs::File) -> io::Result<()> {
    // SAFETY: setns only reads the fd, which `file` keeps open for the duration of the call;
    // CLONE_NEWNET restricts it to the network namespace, which affects this thread alone.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The names of the interfaces of namespace `name` (all of them, up or down), read from a
/// short-lived thread that enters it, so the caller stays where it is (`vigil check`).
pub fn interfaces_in(name: &str) -> Result<Vec<String>, EnterError> {
    let (path, file) = open_netns(name)?;
    std::thread::scope(|s| {
        s.spawn(|| {
            setns_net(&file)?;
            let names = nix::net::if_::if_nameindex().map_err(io::Error::from)?;
            Ok(names
                .iter()
                .map(|i| i.name().to_string_lossy().into_owned())
                .collect())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the lookup thread panicked")))
    })
    .map_err(|source| EnterError::Setns {
        name: name.to_owned(),
        path,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_file_in_the_netns_directory() {
        assert_eq!(netns_path("blue"), Ok(PathBuf::from("/run/netns/blue")));
        assert_eq!(netns_path(""), Err(NameError::Empty));
        for bad in ["..", ".", "a/b", "../../proc/1/ns/net"] {
            assert_eq!(
                netns_path(bad),
                Err(NameError::NotAName(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_namespace_is_refused_with_the_fix() {
        let e = enter_process_netns("vigil-test-no-such-namespace").expect_err("no such file");
        assert!(
            e.to_string()
                .contains("ip netns add vigil-test-no-such-namespace"),
            "{e}"
        );
        let e = interfaces_in("vigil-test-no-such-namespace").expect_err("no such file");
        assert!(e.to_string().contains("ip netns add"), "{e}");
    }
}
