//! One instance's place in the core: its run-time plan, its transmit state, its counters and
//! where it stands in start-up. The state machine itself sits beside it in the same entry of
//! the core's `fsm::Node<Slot>`, so one vector indexed by `InstanceId` holds everything about
//! an instance, and a reload moves an instance by moving one entry.

use std::net::IpAddr;
use std::sync::Arc;

use super::drops::DropCounts;
use super::plan::InstancePlan;
use crate::fsm::{Reason, State, Time};
use crate::track::Verdict;
use crate::types::Priority;

#[derive(Debug, Clone)]
pub struct Slot {
    pub plan: Arc<InstancePlan>,
    pub tx: TxState,
    pub counters: Counters,
    /// The tracker verdict the state machine was last given.
    pub verdict: Verdict,
    pub phase: Phase,
}

impl Slot {
    pub fn new(plan: Arc<InstancePlan>) -> Self {
        Self {
            plan,
            tx: TxState::default(),
            counters: Counters::default(),
            verdict: Verdict::default(),
            phase: Phase::AwaitingCheckers,
        }
    }
}

/// Where an instance stands in start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not started: a weight-0 checker has not reported yet. keepalived keeps such an instance
    /// in INIT (no FAULT, no notify) until it does.
    AwaitingCheckers,
    /// `Startup` delivered.
    Started,
}

/// What one instance's adverts carry from one send to the next. A peer checks the AH sequence
/// number for replay, so it moves with the instance across a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxState {
    pub ip_id: u16,
    pub ah_sequence: u32,
    /// `auth_hmac`: the last sequence sent, and each sender's last sequence accepted. Both
    /// move with the instance across a reload, so a key rotation replays nothing. Boxed on
    /// first use: most instances never sign, and a slot stays small (thousands per router).
    hmac: Option<Box<super::hmac_replay::HmacState>>,
}

impl Default for TxState {
    fn default() -> Self {
        Self {
            // keepalived never sends IPv4 id 0 (the kernel would pick one, breaking AH).
            ip_id: 1,
            ah_sequence: 0,
            hmac: None,
        }
    }
}

impl TxState {
    /// The `auth_hmac` sequences, made on first use.
    pub fn hmac_mut(&mut self) -> &mut super::hmac_replay::HmacState {
        self.hmac.get_or_insert_with(Default::default)
    }

    /// The IPv4 id and AH sequence number of the next IPv4 advert.
    pub fn next_ipv4(&mut self) -> (u16, u32) {
        self.ip_id = self.ip_id.wrapping_add(1).max(1);
        self.ah_sequence = self.ah_sequence.wrapping_add(1);
        (self.ip_id, self.ah_sequence)
    }
}

/// Per-instance counters, carried across a reload with the instance.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub transitions: u64,
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub drops: DropCounts,
    /// The source of the last advert heard with a non-zero priority.
    pub last_master: Option<IpAddr>,
    /// The priority that advert carried (FRR's "Master priority").
    pub last_master_priority: u8,
    /// Transitions to MASTER.
    pub became_master: u32,
    /// Adverts with priority 0 ("the master is leaving", RFC 5798 §6.4.3) sent and received.
    pub priority_zero_sent: u32,
    pub priority_zero_received: u32,
    /// The last transitions, for `vigil status NAME`.
    pub history: History,
}

/// How many transitions `vigil status NAME` shows.
pub const HISTORY: usize = 8;

/// One state change as `vigil status NAME` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionRecord {
    pub at: Time,
    pub from: State,
    pub to: State,
    pub reason: Reason,
    /// The effective priority after the change.
    pub priority: Priority,
}

/// The last [`HISTORY`] transitions, oldest first. A boxed slice sized exactly (16 bytes in
/// the slot, 16 per record on the heap): an instance that changed state twice (the usual
/// INIT -> BACKUP -> MASTER) holds two records, never a full ring; transitions are rare, so
/// reallocating on each is cheaper than memory held by thousands of idle instances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History(Box<[TransitionRecord]>);

impl History {
    pub fn push(&mut self, record: TransitionRecord) {
        let mut v = std::mem::take(&mut self.0).into_vec();
        if v.len() >= HISTORY {
            v.remove(0);
        }
        v.push(record);
        self.0 = v.into_boxed_slice();
    }

    pub fn records(&self) -> &[TransitionRecord] {
        &self.0
    }

    /// The last transition: when the instance entered its current state.
    pub fn last(&self) -> Option<&TransitionRecord> {
        self.0.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_last_transitions_oldest_first() {
        let mut h = History::default();
        assert!(h.last().is_none());
        for n in 0..(HISTORY as u64 + 3) {
            h.push(TransitionRecord {
                at: Time::from_micros(n),
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDown {
                    interval_ms: 3609,
                    last_master: None,
                },
                priority: Priority::DEFAULT,
            });
        }
        let times: Vec<u64> = h.records().iter().map(|r| r.at.as_micros()).collect();
        assert_eq!(times, (3..HISTORY as u64 + 3).collect::<Vec<_>>());
        assert_eq!(
            h.last().map(|r| r.at),
            Some(Time::from_micros(HISTORY as u64 + 2))
        );
    }
}
