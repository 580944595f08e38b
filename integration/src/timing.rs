//! Timing-critical lab tests run one at a time, machine-wide.
//!
//! cargo runs test binaries one after another but the tests of one binary on parallel
//! threads, and other checkouts on the same machine may run their own lab tests at the same
//! time. A test that asserts a bound of tens of milliseconds (Master_Down_Interval − 20 ms,
//! advert jitter) measures the scheduler instead of the daemon when another lab's daemons,
//! tcpdumps and pings run beside it. [`timing_critical`] takes an exclusive `flock` on
//! [`LOCK_PATH`] (one file for every test binary and checkout) and holds it until the returned
//! guard is dropped; [`timed_scenario`] is [`crate::scenario`] holding it for the whole body.
//!
//! The lock is released by the kernel when the holding process dies, so a crashed test never
//! leaves it behind. Waiting is bounded ([`LOCK_WAIT`]) and prints who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};

use crate::lab::Lab;

/// The lock file: under /run/lock (tmpfs, root-only, one per machine), else /run, else the
/// temporary directory.
pub const LOCK_PATH: &str = "/run/lock/vigil-lab-timing.lock";

/// How long a timing-critical test waits for the others before failing. Every holder is one
/// test, which finishes in well under a minute; ten minutes means something is stuck.
pub const LOCK_WAIT: Duration = Duration::from_secs(600);

/// How often the lock is tried again while another test holds it.
const RETRY: Duration = Duration::from_millis(50);

/// Holds the machine-wide timing lock; dropping it releases the lock.
#[must_use = "the lock is released when the guard is dropped"]
pub struct TimingGuard {
    _lock: Flock<File>,
    test: String,
    since: Instant,
}

impl Drop for TimingGuard {
    fn drop(&mut self) {
        println!(
            "timing lock released by {} after {:.1} s",
            self.test,
            self.since.elapsed().as_secs_f64()
        );
    }
}

fn lock_path() -> std::path::PathBuf {
    let path = Path::new(LOCK_PATH);
    match path.parent() {
        Some(dir) if dir.is_dir() => path.to_path_buf(),
        _ if Path::new("/run").is_dir() => Path::new("/run").join("vigil-lab-timing.lock"),
        _ => std::env::temp_dir().join("vigil-lab-timing.lock"),
    }
}

/// Takes the machine-wide timing lock for `test` (waiting up to [`LOCK_WAIT`] for other
/// timing-critical tests, in this binary or any other, to finish) and returns its guard.
pub fn timing_critical(test: &str) -> Result<TimingGuard> {
    let path = lock_path();
    let started = Instant::now();
    let mut announced = false;
    let lock = loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the timing lock {path:?}"))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => break lock,
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                if started.elapsed() > LOCK_WAIT {
                    bail!(
                        "{test}: the timing lock {path:?} is still held after {LOCK_WAIT:?} by {}",
                        holder(&mut file)
                    );
                }
                if !announced {
                    println!(
                        "{test}: waiting for the timing lock {path:?}, held by {}",
                        holder(&mut file)
                    );
                    announced = true;
                }
                std::thread::sleep(RETRY);
            }
            Err((_, e)) => bail!("cannot lock {path:?}: {e}"),
        }
    };
    let mut lock = lock;
    // Who holds it, for the message of the next one to wait.
    let _ = lock.set_len(0).and_then(|()| {
        lock.rewind()?;
        write!(lock, "{} (pid {})", test, std::process::id())
    });
    if announced {
        println!(
            "{test}: took the timing lock after {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(TimingGuard {
        _lock: lock,
        test: test.to_owned(),
        since: Instant::now(),
    })
}

fn holder(file: &mut File) -> String {
    let mut who = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut who));
    if who.is_empty() {
        "another test".to_owned()
    } else {
        who
    }
}

/// [`crate::scenario`] for a test with timing bounds: builds the lab (or skips), then holds the
/// timing lock ([`timing_critical`]) while `body` runs.
pub fn timed_scenario(test_name: &str, body: impl FnOnce(&Lab) -> Result<()>) -> Result<()> {
    crate::scenario(test_name, |lab| {
        let _guard = timing_critical(test_name)?;
        body(lab)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_between_open_files() -> Result<()> {
        // Two guards in one process are two open file descriptions: flock excludes them
        // just as it excludes two processes. Uses a private path so it needs no root.
        let path = std::env::temp_dir().join(format!("vigil-timing-{}.lock", std::process::id()));
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let first = Flock::lock(open()?, FlockArg::LockExclusiveNonblock)
            .map_err(|(_, e)| anyhow::anyhow!("{e}"))?;
        assert!(Flock::lock(open()?, FlockArg::LockExclusiveNonblock).is_err());
        drop(first);
        assert!(Flock::lock(open()?, FlockArg::LockExclusiveNonblock).is_ok());
        let _ = std::fs::remove_file(&path);
        Ok(())
    }
}
