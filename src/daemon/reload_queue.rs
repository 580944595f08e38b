//! `vigil reload` answers and the last reload's outcome, for the driver.
//!
//! A reload asked over the control socket goes through the same preparation as SIGHUP, and is
//! answered when the preparation that covers it ends: one that started after the request
//! (a preparation already running may have read the file before the operator's edit, so a
//! request that arrives meanwhile waits for the next one). Requests are debounced
//! (`reload_debounce.rs`): every request of a burst is answered by the one preparation that
//! starts once the burst is quiet. The outcome of every reload, SIGHUP's included, is kept for `vigil status` and
//! systemd's STATUS= line, so a rejected SIGHUP does not go unnoticed.

use tokio::sync::oneshot;

use super::prepare::PrepareError;
use crate::control::LastReload;

#[derive(Debug, Default)]
pub(super) struct ReloadQueue {
    /// Answered when the running reload preparation ends.
    running: Vec<oneshot::Sender<String>>,
    /// Asked while a preparation ran: answered after the next one.
    next: Vec<oneshot::Sender<String>>,
    last: Option<LastReload>,
}

impl ReloadQueue {
    /// A client waits for the next reload preparation to start and end.
    pub(super) fn ask(&mut self, reply: oneshot::Sender<String>) {
        self.next.push(reply);
    }

    /// A reload preparation starts: it covers every request made so far.
    pub(super) fn started(&mut self) {
        self.running.append(&mut self.next);
    }

    /// The running reload preparation ended: its outcome is recorded and every client it
    /// covers answered.
    pub(super) fn finished(&mut self, outcome: Result<usize, &PrepareError>) {
        let text = answer(outcome);
        self.last = Some(LastReload {
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            ok: outcome.is_ok(),
            error: outcome.err().map(ToString::to_string),
        });
        for reply in self.running.drain(..) {
            let _ = reply.send(text.clone());
        }
    }

    pub(super) fn last(&self) -> Option<&LastReload> {
        self.last.as_ref()
    }

    /// The first line of the last reload's error, if it failed (for STATUS=).
    pub(super) fn last_failure(&self) -> Option<&str> {
        self.last
            .as_ref()
            .filter(|l| !l.ok)
            .and_then(|l| l.error.as_deref())
            .and_then(|e| e.lines().next())
    }
}

/// The control socket's answer. Rejected: the `error:` line, then the diagnostics one per
/// line as `vigil check` prints them (`file:line:col: error: ...`).
fn answer(outcome: Result<usize, &PrepareError>) -> String {
    match outcome {
        Ok(n) => format!("reloaded: {n} instances\n"),
        Err(e) => {
            let mut text =
                String::from("error: reload rejected: still running the previous configuration\n");
            for line in e.to_string().lines() {
                text.push_str(line);
                text.push('\n');
            }
            text
        }
    }
}

/// systemd's STATUS= line: the instance count, and a failed last reload's first error.
pub(super) fn summary(instances: usize, failure: Option<&str>) -> String {
    match failure {
        None => format!("{instances} instances running"),
        Some(why) => format!("{instances} instances running; last reload FAILED: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_made_while_a_preparation_runs_waits_for_the_next_one() {
        let mut q = ReloadQueue::default();
        let (early, mut early_rx) = oneshot::channel();
        q.ask(early);
        q.started();
        let (late, mut late_rx) = oneshot::channel();
        q.ask(late);
        let bad = PrepareError::Config(vec![
            "a.conf:3:5: error: unknown keyword \"x\"".into(),
            "a.conf:4:1: error: y".into(),
        ]);
        q.finished(Err(&bad));
        let text = early_rx.try_recv().expect("answered");
        assert_eq!(
            text,
            "error: reload rejected: still running the previous configuration\n\
             a.conf:3:5: error: unknown keyword \"x\"\na.conf:4:1: error: y\n"
        );
        assert!(
            late_rx.try_recv().is_err(),
            "answered by a reload that ran before it"
        );
        assert_eq!(
            q.last_failure(),
            Some("a.conf:3:5: error: unknown keyword \"x\"")
        );
        assert_eq!(
            summary(2, q.last_failure()),
            "2 instances running; last reload FAILED: a.conf:3:5: error: unknown keyword \"x\""
        );
        q.started();
        q.finished(Ok(3));
        assert_eq!(
            late_rx.try_recv().expect("answered"),
            "reloaded: 3 instances\n"
        );
        assert!(q.last().is_some_and(|l| l.ok && l.error.is_none()));
        assert_eq!(summary(3, q.last_failure()), "3 instances running");
    }
}
