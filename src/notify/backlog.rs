//! The overflow policy of one instance's (or sync group's) notify queue, kept pure so that it
//! can be tested without running anything.
//!
//! ## Policy: one running, one waiting, the newest wins
//!
//! At most one notification runs and at most one waits, per instance. A notification that
//! arrives while another is waiting replaces it: the waiting one is *superseded* (its state
//! no longer holds, so running its script now would only tell the script something false).
//!
//! - The queue holds at most two entries whatever the transition rate: 500 forced
//!   transitions cost at most two script runs beyond the one in progress, not 500.
//! - The last state is always delivered, and last: the final state a script sees equals the
//!   instance's current state.
//! - Deliveries stay in transition order (a BACKUP script never overtakes the MASTER one
//!   before it), because one worker takes them one at a time.
//! - Intermediate states may be skipped. MASTER (running), BACKUP, MASTER delivers MASTER then
//!   MASTER: the second is kept, not dropped as a duplicate, because the instance really did
//!   leave and re-enter the state (its addresses were removed and added again) and a script
//!   that re-asserts what MASTER needs is right to run again.
//!
//! keepalived does not queue at all: it forks every notify script at once, so under a storm
//! its scripts run concurrently and may finish in any order. Ordered, bounded and
//! last-state-wins keeps scripts consistent with the daemon instead.

use super::plan::NotifyState;

/// One queue's entries: what runs and what waits.
#[derive(Debug)]
pub struct Backlog<T> {
    running: Option<NotifyState>,
    waiting: Option<(NotifyState, T)>,
    superseded: u64,
    closed: bool,
}

impl<T> Default for Backlog<T> {
    fn default() -> Self {
        Self {
            running: None,
            waiting: None,
            superseded: 0,
            closed: false,
        }
    }
}

impl<T> Backlog<T> {
    /// Queues `item` for `state`; returns the state of the waiting entry it superseded.
    pub fn offer(&mut self, state: NotifyState, item: T) -> Option<NotifyState> {
        let dropped = self.waiting.replace((state, item)).map(|(s, _)| s);
        if dropped.is_some() {
            self.superseded += 1;
        }
        dropped
    }

    /// Takes the waiting entry to run it (none once closed: the queue is shutting down).
    pub fn start_next(&mut self) -> Option<(NotifyState, T)> {
        if self.closed {
            return None;
        }
        let next = self.waiting.take()?;
        self.running = Some(next.0);
        Some(next)
    }

    /// The running entry has finished.
    pub fn finish(&mut self) {
        self.running = None;
    }

    /// Closes the queue: nothing more starts; returns what was waiting.
    pub fn close(&mut self) -> Option<(NotifyState, T)> {
        self.closed = true;
        self.waiting.take()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The state whose scripts run now.
    pub fn running(&self) -> Option<NotifyState> {
        self.running
    }

    /// How many entries were superseded so far.
    pub fn superseded(&self) -> u64 {
        self.superseded
    }

    /// Entries held now (running and waiting): never more than two.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        usize::from(self.running.is_some()) + usize::from(self.waiting.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::NotifyState::{Backup, Fault, Master, Stop};
    use super::*;

    /// Runs `arrivals` through a backlog whose worker finishes one entry every `per_run`
    /// arrivals; returns the delivered states in order.
    fn deliver(arrivals: &[NotifyState], per_run: usize) -> Vec<NotifyState> {
        let mut b = Backlog::default();
        let mut delivered = Vec::new();
        for (k, s) in arrivals.iter().enumerate() {
            b.offer(*s, ());
            assert!(b.len() <= 2);
            if b.running().is_none()
                && let Some((s, ())) = b.start_next()
            {
                delivered.push(s);
            }
            if (k + 1) % per_run == 0 {
                b.finish();
                if let Some((s, ())) = b.start_next() {
                    delivered.push(s);
                }
            }
        }
        b.finish();
        while let Some((s, ())) = b.start_next() {
            delivered.push(s);
            b.finish();
        }
        delivered
    }

    #[test]
    fn a_fast_worker_delivers_every_state_in_order() {
        let states = [Backup, Master, Backup, Fault, Backup];
        assert_eq!(deliver(&states, 1), states);
    }

    #[test]
    fn a_storm_collapses_and_the_last_state_is_delivered_last() {
        let storm: Vec<NotifyState> = (0..500)
            .map(|k| if k % 2 == 0 { Fault } else { Backup })
            .collect();
        let got = deliver(&storm, 50);
        assert!(got.len() <= 12, "{} deliveries", got.len());
        assert_eq!(got.first(), Some(&Fault), "the first one starts at once");
        assert_eq!(
            got.last(),
            storm.last(),
            "the final state is delivered last"
        );
    }

    #[test]
    fn a_new_state_replaces_only_the_waiting_one() {
        let mut b = Backlog::default();
        b.offer(Master, 1);
        assert_eq!(b.start_next(), Some((Master, 1)));
        assert_eq!(b.offer(Backup, 2), None);
        assert_eq!(b.offer(Master, 3), Some(Backup));
        assert_eq!(b.superseded(), 1);
        assert_eq!(
            b.running(),
            Some(Master),
            "the running one is never touched"
        );
        b.finish();
        // Re-entering MASTER after a skipped BACKUP is delivered again.
        assert_eq!(b.start_next(), Some((Master, 3)));
        b.finish();
        assert_eq!(b.start_next(), None);
    }

    #[test]
    fn closing_hands_back_the_waiting_entry_and_starts_nothing_more() {
        let mut b = Backlog::default();
        b.offer(Master, 1);
        b.start_next();
        b.offer(Stop, 2);
        assert_eq!(b.close(), Some((Stop, 2)));
        assert!(b.is_closed());
        b.offer(Backup, 3);
        assert_eq!(b.start_next(), None);
    }
}
