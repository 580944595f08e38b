//! The accept loop both listeners share (control socket and metrics port), bounded three ways
//! so that no client, however many connections it opens, can take the daemon's file
//! descriptors, CPU or core time:
//!
//! - **A cap on concurrent connections** (a semaphore per listener). Overflow policy: a
//!   connection beyond the cap is accepted and closed at once. Waiting instead would leave the
//!   newcomers in the kernel's backlog behind idle connections, each taking a full read
//!   deadline to evict, so a flood of 2,000 idle connections would keep an honest scrape
//!   waiting for minutes; closing at once costs the daemon one descriptor for a moment and
//!   tells the client to retry, which it can do as soon as the deadline below frees a slot.
//! - **A deadline per request** (reading it) and **per connection** (the whole exchange,
//!   answer included), so an idle or slow client holds its slot for seconds, not forever.
//! - **Back-off when `accept` fails** (EMFILE/ENFILE above all): 100 ms, doubling to 1 s, and
//!   one log line per streak. Retrying at once is what made the loop spin at 100 % CPU at the
//!   descriptor limit: the pending connection stays in the backlog, so `accept` fails again
//!   immediately.
//!
//! And the loops run on **a thread of their own** (one current-thread runtime, started with
//! the first listener), not on the core's: accepting, reading and answering thousands of
//! connections is then the kernel scheduler's business beside the core's thread, which sleeps
//! until its next timer and so wins the CPU when that timer fires. Only the coalesced
//! snapshot request (at most one per `MIN_GAP`) reaches the core.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How much one listener may hold, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more are closed at once (see the module doc).
    pub max_connections: usize,
    /// Reading the request, from accept to its last byte.
    pub request_deadline: Duration,
    /// The whole exchange: request, snapshot, and writing the answer to a slow reader.
    pub connection_deadline: Duration,
}

/// The control socket: a handful of operators and scripts.
pub const CONTROL_LIMITS: Limits = Limits {
    max_connections: 16,
    request_deadline: Duration::from_secs(2),
    // `vigil reload` is answered when its preparation ends (reading the file and the
    // kernel, opening sockets), which may queue behind another one.
    connection_deadline: Duration::from_secs(60),
};

/// The metrics port: a few Prometheus servers scraping every few seconds.
pub const METRICS_LIMITS: Limits = Limits {
    max_connections: 32,
    request_deadline: Duration::from_secs(2),
    connection_deadline: Duration::from_secs(10),
};

/// The first pause after a failed `accept`, and the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Connections closed for being over the cap are logged at most this often.
const OVERFLOW_LOG_EVERY: Duration = Duration::from_secs(10);

/// The pause before the next `accept` after consecutive failures: exponential, capped.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            next: BACKOFF_FIRST,
        }
    }
}

impl Backoff {
    /// The pause to take now; the following one is twice as long, up to [`BACKOFF_MAX`].
    pub fn next_pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        pause
    }

    /// Whether this is the first failure of a streak (the one worth a log line).
    pub fn is_fresh(&self) -> bool {
        self.next == BACKOFF_FIRST
    }

    pub fn reset(&mut self) {
        self.next = BACKOFF_FIRST;
    }
}

/// A listener the loop can accept from (Unix or TCP).
pub trait Accept: Send + Sized + 'static {
    type Conn: Send + 'static;
    /// The listening socket, detached from its runtime's reactor.
    type Detached: Send + 'static;
    fn accept_one(&self) -> impl Future<Output = std::io::Result<Self::Conn>> + Send;
    /// A listener is bound on the caller's runtime, detached there, and attached again on
    /// the listeners' thread (registered with that runtime's reactor).
    fn detach(self) -> std::io::Result<Self::Detached>;
    fn attach(detached: Self::Detached) -> std::io::Result<Self>;
}

impl Accept for UnixListener {
    type Conn = UnixStream;
    async fn accept_one(&self) -> std::io::Result<UnixStream> {
        self.accept().await.map(|(s, _)| s)
    }
    type Detached = std::os::unix::net::UnixListener;
    fn detach(self) -> std::io::Result<Self::Detached> {
        self.into_std()
    }
    fn attach(detached: Self::Detached) -> std::io::Result<Self> {
        UnixListener::from_std(detached)
    }
}

impl Accept for TcpListener {
    type Conn = TcpStream;
    async fn accept_one(&self) -> std::io::Result<TcpStream> {
        self.accept().await.map(|(s, _)| s)
    }
    type Detached = std::net::TcpListener;
    fn detach(self) -> std::io::Result<Self::Detached> {
        self.into_std()
    }
    fn attach(detached: Self::Detached) -> std::io::Result<Self> {
        TcpListener::from_std(detached)
    }
}

/// How much nicer than the thread that starts it the listeners' thread runs.
pub const LISTENER_NICE_OFFSET: i32 = 10;

/// The listeners' runtime, on its own thread for the life of the process (module doc).
fn listeners_runtime() -> std::io::Result<&'static tokio::runtime::Handle> {
    static HANDLE: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    // Two first listeners at once (parallel tests) must not both start a thread.
    static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let _one = STARTING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    // The runtime is built, run and (never) dropped on its own thread: dropping a runtime on
    // an async caller's thread would panic.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("vigil-listen".into())
        .spawn(move || {
            // Under a connection flood this is the daemon's busiest thread: accepting and
            // closing thousands of connections is real CPU, on the cores the state machines
            // need. Ranked below them (nice is per thread on Linux; raising it needs no
            // privilege), it can never take a timeslice an advertisement is waiting for.
            if let Ok(current) = crate::net::sched::nice() {
                let lower = (current + LISTENER_NICE_OFFSET).min(19);
                let _ = crate::net::sched::set_nice(i8::try_from(lower).unwrap_or(19));
            }
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let _ = tx.send(Ok(runtime.handle().clone()));
                    runtime.block_on(std::future::pending::<()>());
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })?;
    let handle = rx
        .recv()
        .map_err(|_| std::io::Error::other("the listeners' thread ended at start"))??;
    Ok(HANDLE.get_or_init(|| handle))
}

/// A running accept loop; dropping it stops accepting (connections being served finish
/// within their deadline).
#[derive(Debug)]
pub struct AcceptLoop(JoinHandle<()>);

impl Drop for AcceptLoop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Accepts on `listener`, on the listeners' thread, until the returned loop is dropped,
/// serving each connection with `serve` under `limits`. `what` names the listener in logs.
pub fn spawn_accept_loop<L, S, F>(
    what: &'static str,
    listener: L,
    limits: Limits,
    serve: S,
) -> std::io::Result<AcceptLoop>
where
    L: Accept,
    S: Fn(L::Conn) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = listeners_runtime()?;
    // Deregistered from the caller's reactor here, registered with the listeners' there.
    let listener = listener.detach()?;
    Ok(AcceptLoop(runtime.spawn(async move {
        let listener = match L::attach(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(listener = what, error = %e, "cannot serve: registering the listener failed");
                return;
            }
        };
        let permits = Arc::new(Semaphore::new(limits.max_connections));
        let mut backoff = Backoff::default();
        let mut overflow = 0u64;
        let mut overflow_logged: Option<Instant> = None;
        loop {
            let conn = match listener.accept_one().await {
                Ok(conn) => {
                    backoff.reset();
                    conn
                }
                Err(e) => {
                    if backoff.is_fresh() {
                        tracing::warn!(listener = what, error = %e, "accept failed: backing off (100 ms, doubling to 1 s)");
                    }
                    tokio::time::sleep(backoff.next_pause()).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                // Over the cap: closed at once (module doc).
                drop(conn);
                overflow += 1;
                if overflow_logged.is_none_or(|t| t.elapsed() >= OVERFLOW_LOG_EVERY) {
                    tracing::warn!(
                        listener = what,
                        cap = limits.max_connections,
                        closed = overflow,
                        "connection limit reached: closing new connections at once"
                    );
                    overflow_logged = Some(Instant::now());
                    overflow = 0;
                }
                continue;
            };
            let exchange = serve(conn);
            tokio::spawn(async move {
                let _ = tokio::time::timeout(limits.connection_deadline, exchange).await;
                drop(permit);
            });
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn backoff_doubles_to_one_second_and_resets() {
        let mut b = Backoff::default();
        let pauses: Vec<u64> = (0..6).map(|_| b.next_pause().as_millis() as u64).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000]);
        assert!(!b.is_fresh());
        b.reset();
        assert!(b.is_fresh());
        assert_eq!(b.next_pause(), Duration::from_millis(100));
    }

    /// Two idle connections fill a cap of two; a third is closed at once (EOF without an
    /// answer); once the connection deadline frees a slot, a new connection is served.
    #[tokio::test]
    async fn closes_over_the_cap_and_frees_slots_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let listener = UnixListener::bind(&path).unwrap();
        let limits = Limits {
            max_connections: 2,
            request_deadline: Duration::from_millis(300),
            connection_deadline: Duration::from_millis(300),
        };
        // Each served connection answers "hi" only after the client has written a byte,
        // so an idle client holds its slot until the deadline.
        let server = spawn_accept_loop("test", listener, limits, |mut s: UnixStream| async move {
            let mut b = [0u8; 1];
            if s.read(&mut b).await.unwrap_or(0) == 1 {
                let _ = s.write_all(b"hi").await;
            }
        })
        .unwrap();
        let idle1 = UnixStream::connect(&path).await.unwrap();
        let idle2 = UnixStream::connect(&path).await.unwrap();
        let mut third = UnixStream::connect(&path).await.unwrap();
        let mut got = Vec::new();
        let start = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), third.read_to_end(&mut got))
            .await
            .expect("the connection over the cap was not closed")
            .unwrap();
        assert!(got.is_empty());
        assert!(
            start.elapsed() < Duration::from_millis(250),
            "closed only after {:?}",
            start.elapsed()
        );
        // The idle ones are closed by the deadline, which frees their slots.
        for mut idle in [idle1, idle2] {
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest))
                .await
                .expect("an idle connection outlived its deadline")
                .unwrap();
        }
        // The permit is released just after the connection closes: allow for that moment.
        let answered = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let mut s = UnixStream::connect(&path).await.unwrap();
                s.write_all(b"x").await.unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.unwrap();
                if got == b"hi" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(answered.is_ok(), "no slot was freed after the deadline");
        drop(server);
    }
}
