//! The RFC 5798 / RFC 9568 state machine (and RFC 3768 for VRRPv2), pure: events in, actions
//! out, no IO and no clock.
//!
//! - [`Instance`]: one VRID on one interface. `handle(now, Input) -> Vec<Action>`,
//!   `next_deadline()`; the caller delivers [`Input::TimerTick`] when a deadline passes.
//! - [`Node`]: everything one router runs (instances plus sync groups); the daemon's core task
//!   owns one, the simulator in `tests/sim` one per virtual router.
//! - [`Time`]: microseconds on the caller's timeline; the fsm never reads a clock.
//!
//! keepalived extensions modelled here: the Fault state (interface down, failed weight-0
//! tracker, faulted sync-group peer), tracker weights, `preempt_delay`, `state MASTER` at
//! startup, the `garp_*` announcement schedule and the answer to a lower-priority advert.

mod action;
mod config;
mod group;
mod input;
mod instance;
mod node;
mod priority;
mod time;
mod timers;

pub use action::{Action, AnnounceReason, Reason, State};
pub use config::{GarpConfig, InitialState, InstanceConfig};
pub use group::SyncGroup;
pub use input::{AdvertRx, Input};
pub use instance::Instance;
pub use node::{InstanceId, Node, NodeError};
pub use priority::effective_priority;
pub use time::Time;
pub use timers::{Timers, master_down_interval, skew_time};

#[cfg(test)]
mod tests;
