//! Status snapshots for the listeners, coalesced so that a flood of clients costs the core
//! one snapshot at a time, and rendered off the core's thread.
//!
//! The core answers a request between two events (a due timer is always served first). Every
//! client asks a [`StatusSource`]; one coalescing task stands between them and the core:
//! it collects every waiting client into a round, asks the core once for the round, renders
//! the text the round needs (JSON, metrics, or both) once on a blocking thread, and hands the
//! same text to every client of the round. Rounds start at least [`MIN_GAP`] apart, so N
//! concurrent scrapes cost the core one snapshot, and a scrape flood at most one snapshot
//! per [`MIN_GAP`]. A snapshot is never older than the request it answers: a client that
//! arrives while a round is under way waits for the next round.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::status::Status;

/// The least time between two snapshots the core is asked for.
pub const MIN_GAP: Duration = Duration::from_millis(100);

/// Clients waiting for the next round (beyond it, `get` waits for room: the listeners' caps
/// bound the number of clients anyway).
const WAITERS: usize = 64;

/// What a client wants rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `vigil status --json`: one line of JSON.
    Json,
    /// Prometheus/OpenMetrics text.
    Metrics,
    /// The SIGUSR1 data dump (`dump.rs`).
    Data,
    /// The SIGUSR2 statistics dump (`dump.rs`).
    Stats,
}

/// One round's rendering, shared by every client of the round.
#[derive(Debug, Default)]
struct Rendered {
    json: Option<String>,
    metrics: Option<String>,
    data: Option<String>,
    stats: Option<String>,
}

/// Above this much rendered text, freeing a round hands the heap back to the kernel.
const TRIM_ABOVE: usize = 256 << 10;

/// A large round (thousands of instances: megabytes of status and text, allocated on the
/// core's thread and a blocking thread) is freed on a blocking thread that then trims the
/// heap: glibc keeps freed memory mapped otherwise, and each scrape or `vigil status` would
/// leave the daemon's RSS megabytes higher for good (10 status calls at 10,000 instances
/// took it from 40 to 73 MiB).
impl Drop for Rendered {
    fn drop(&mut self) {
        let texts = [&self.json, &self.metrics, &self.data, &self.stats];
        let size: usize = texts
            .iter()
            .filter_map(|t| t.as_ref())
            .map(String::len)
            .sum();
        if size < TRIM_ABOVE {
            return;
        }
        let texts = (
            self.json.take(),
            self.metrics.take(),
            self.data.take(),
            self.stats.take(),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn_blocking(move || {
                drop(texts);
                crate::net::heap::release_free_memory();
            });
        }
    }
}

/// A rendered snapshot in the form that was asked for.
#[derive(Debug, Clone)]
pub struct Snapshot {
    rendered: Arc<Rendered>,
    form: Form,
}

impl Snapshot {
    pub fn text(&self) -> &str {
        let text = match self.form {
            Form::Json => &self.rendered.json,
            Form::Metrics => &self.rendered.metrics,
            Form::Data => &self.rendered.data,
            Form::Stats => &self.rendered.stats,
        };
        // The round renders every form one of its clients asked for.
        text.as_deref().unwrap_or_default()
    }
}

struct Waiter {
    form: Form,
    reply: oneshot::Sender<Snapshot>,
}

/// Asks for a rendered snapshot (cheap to clone: one per listener).
#[derive(Debug, Clone)]
pub struct StatusSource(mpsc::Sender<Waiter>);

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter").field("form", &self.form).finish()
    }
}

/// The core's end: answer each request with a fresh snapshot (one request per round).
pub type StatusRequests = mpsc::Receiver<oneshot::Sender<Status>>;

impl StatusSource {
    /// The source, and the requests the core answers; spawns the coalescing task, which ends
    /// when every source is dropped or the core stops answering. Needs a tokio runtime.
    pub fn channel() -> (StatusSource, StatusRequests) {
        Self::with_gap(MIN_GAP)
    }

    fn with_gap(gap: Duration) -> (StatusSource, StatusRequests) {
        let (waiters_tx, waiters_rx) = mpsc::channel(WAITERS);
        // One request per round, and one round at a time.
        let (core_tx, core_rx) = mpsc::channel(1);
        tokio::spawn(coalesce(waiters_rx, core_tx, gap));
        (StatusSource(waiters_tx), core_rx)
    }

    /// A snapshot taken after this call, rendered as `form`; `None` when the daemon stops.
    pub async fn get(&self, form: Form) -> Option<Snapshot> {
        let (reply, rx) = oneshot::channel();
        self.0.send(Waiter { form, reply }).await.ok()?;
        rx.await.ok()
    }
}

async fn coalesce(
    mut waiters: mpsc::Receiver<Waiter>,
    core: mpsc::Sender<oneshot::Sender<Status>>,
    gap: Duration,
) {
    let mut last: Option<Instant> = None;
    while let Some(first) = waiters.recv().await {
        if let Some(last) = last {
            tokio::time::sleep_until(last + gap).await;
        }
        // Everyone who asked before the core is asked joins this round.
        let mut round = vec![first];
        while let Ok(w) = waiters.try_recv() {
            round.push(w);
        }
        let (tx, rx) = oneshot::channel();
        if core.send(tx).await.is_err() {
            return;
        }
        let Ok(status) = rx.await else { return };
        last = Some(Instant::now());
        let wants = |form| round.iter().any(|w| w.form == form);
        let (json, metrics) = (wants(Form::Json), wants(Form::Metrics));
        let (data, stats) = (wants(Form::Data), wants(Form::Stats));
        // Rendering thousands of instances is real work: not on the thread the core runs on.
        let rendered = tokio::task::spawn_blocking(move || Rendered {
            json: json.then(|| serde_json::to_string(&status).unwrap_or_default() + "\n"),
            metrics: metrics.then(|| super::metrics::render(&status)),
            data: data.then(|| super::dump::render_data(&status)),
            stats: stats.then(|| super::dump::render_stats(&status)),
        })
        .await
        .unwrap_or_default();
        let rendered = Arc::new(rendered);
        for w in round {
            let _ = w.reply.send(Snapshot {
                rendered: rendered.clone(),
                form: w.form,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A stand-in core that counts the snapshots it is asked for and numbers them.
    fn core(mut requests: StatusRequests, asked: Arc<AtomicU32>) {
        tokio::spawn(async move {
            while let Some(reply) = requests.recv().await {
                let n = asked.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = reply.send(Status {
                    pid: n,
                    ..Default::default()
                });
            }
        });
    }

    #[tokio::test]
    async fn many_concurrent_clients_cost_the_core_one_snapshot() {
        let (source, requests) = StatusSource::with_gap(Duration::from_millis(200));
        let asked = Arc::new(AtomicU32::new(0));
        // The first round starts at once: let it be a round of its own.
        core(requests, asked.clone());
        let first = source.get(Form::Json).await.unwrap();
        assert!(first.text().contains("\"pid\":1"), "{}", first.text());
        // 50 clients arrive within the gap: one round, one snapshot, both forms rendered.
        let clients: Vec<_> = (0..50)
            .map(|i| {
                let source = source.clone();
                let form = if i % 2 == 0 {
                    Form::Json
                } else {
                    Form::Metrics
                };
                tokio::spawn(async move { source.get(form).await.unwrap() })
            })
            .collect();
        for (i, c) in clients.into_iter().enumerate() {
            let snap = c.await.unwrap();
            if i % 2 == 0 {
                assert!(snap.text().contains("\"pid\":2"), "{}", snap.text());
            } else {
                assert!(snap.text().ends_with("# EOF\n"), "{}", snap.text());
            }
        }
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn rounds_are_at_least_the_gap_apart_and_never_stale() {
        let gap = Duration::from_millis(150);
        let (source, requests) = StatusSource::with_gap(gap);
        let asked = Arc::new(AtomicU32::new(0));
        core(requests, asked.clone());
        let start = Instant::now();
        for n in 1..=3 {
            let snap = source.get(Form::Json).await.unwrap();
            // Each sequential request gets a snapshot of its own, taken after it asked.
            assert!(
                snap.text().contains(&format!("\"pid\":{n}")),
                "{}",
                snap.text()
            );
        }
        assert!(start.elapsed() >= gap * 2, "{:?}", start.elapsed());
    }

    #[tokio::test]
    async fn a_stopped_core_answers_none() {
        let (source, requests) = StatusSource::channel();
        drop(requests);
        assert!(source.get(Form::Json).await.is_none());
    }
}
