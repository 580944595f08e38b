//! Running code inside a lab host from the test process itself: a new thread enters the
//! host's network namespace (`setns` applies to the calling thread alone, see
//! [`vigil::net::netns::enter_thread_netns`]) and runs a closure there, blocking
//! ([`Host::spawn_thread`]) or async on a current-thread tokio runtime of its own
//! ([`Host::spawn_async`], [`Host::run_async`]). The test's other threads stay where they
//! are. Sockets and netlink connections the closure opens belong to the host.
//!
//! This is how tests drive `vigil::net` against a real kernel, and inject crafted packets,
//! without starting a daemon.

use std::future::Future;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::host::Host;

/// A thread running in a host's namespace (see [`Host::spawn_thread`]).
#[must_use = "join the thread to see its result and its panic"]
pub struct InHost<T> {
    host: String,
    handle: JoinHandle<Result<T>>,
}

impl<T> InHost<T> {
    /// Waits for the thread and returns what its closure returned. A panic in the thread is
    /// resumed here, so assertions inside it fail the test with their own message.
    pub fn join(self) -> Result<T> {
        match self.handle.join() {
            Ok(result) => result.with_context(|| format!("in host {}", self.host)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits up to `timeout` for the value the thread sends on `ready` once it is set up (a
    /// socket open, a group joined), and returns it with the still-running thread. If the
    /// thread ends without sending, its own error or panic is returned instead; if it just
    /// never sends, the error names `what`.
    pub fn wait_ready<R>(
        self,
        ready: &Receiver<R>,
        timeout: Duration,
        what: &str,
    ) -> Result<(R, Self)> {
        match ready.recv_timeout(timeout) {
            Ok(r) => Ok((r, self)),
            Err(RecvTimeoutError::Disconnected) => {
                self.join()?;
                bail!("{what} ended without becoming ready")
            }
            Err(RecvTimeoutError::Timeout) if self.is_finished() => {
                self.join()?;
                bail!("{what} ended without becoming ready")
            }
            // The thread is left to end on its own bounded waits; the lab goes on without it.
            Err(RecvTimeoutError::Timeout) => {
                bail!("{what} did not become ready within {timeout:?}")
            }
        }
    }
}

impl Host {
    /// Runs `f` on a new thread inside this host's network namespace.
    pub fn spawn_thread<T, F>(&self, f: F) -> InHost<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let path = PathBuf::from("/run/netns").join(self.netns());
        let handle = thread::spawn(move || {
            vigil::net::netns::enter_thread_netns(&path)
                .with_context(|| format!("cannot enter the namespace {path:?}"))?;
            f()
        });
        InHost {
            host: self.name().to_owned(),
            handle,
        }
    }

    /// Runs the future `f` makes on a new thread inside this host's namespace, on a
    /// current-thread tokio runtime (IO and time enabled) built after entering it.
    pub fn spawn_async<T, F, Fut>(&self, f: F) -> InHost<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>>,
    {
        self.spawn_thread(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot build a tokio runtime")?;
            runtime.block_on(f())
        })
    }

    /// [`Host::spawn_async`] and [`InHost::join`]: runs `f` in this host to completion.
    pub fn run_async<T, F, Fut>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>>,
    {
        self.spawn_async(f).join()
    }
}
