//! The RFC 5798 / RFC 9568 state machine (and RFC 3768 for VRRPv2), pure: events in, actions
//! out, no IO and no clock.
//!
//! - [`Instance`]: one VRID on one interface. `handle(now, Input) -> Vec<Action>`,
//!   `next_deadline()`; the caller delivers [`Input::TimerTick`] when a deadline passes.
//! - [`Node`]: everything one router runs (instances plus sync groups); the daemon's core task
//!   owns one, the simulator in `tests/sim` one per virtual router.
//! - [`Time`]: microseconds on the caller's timeline; the fsm never reads a clock.
//!
//! Decisions where the RFCs are silent or keepalived differs (each is cited at the code):
//! - **Fault** (keepalived): interface down, a failed weight-0 tracker, or a faulted sync-group
//!   peer. A Master entering Fault sends a priority-0 advert if its link is up, removes its
//!   addresses, and goes silent. Leaving Fault is a restart: Backup with a full
//!   Master_Down_Interval (an owner outside a sync group goes straight to Master).
//! - **`state MASTER`** ([`InitialState::Master`]): a non-owner still starts in Backup, with a
//!   first Master_Down timer of one Advertisement_Interval + the skew of priority 255
//!   (keepalived 2.2.7 `vrrp_init_state`). An owner goes to Master whatever the hint.
//! - **`preempt_delay`**: for that long after startup or leaving Fault, a Backup defers to
//!   lower-priority adverts as if preempt were off; afterwards it discards them and takes
//!   over when its Master_Down_Timer runs out.
//! - **Lower-priority advert to a Master**: discarded (RFC 9568 §6.4.3); keepalived also answers
//!   with an advert (unless `lower_prio_no_advert`) and a `garp_lower_prio_repeat` burst,
//!   repeated after `garp_lower_prio_delay`.
//! - **Own adverts looped back** (source = `primary_addr`) never reach an instance: the
//!   daemon's receive step drops and counts them, once per packet.
//! - **Tie-break**: the primary address decides only between two Masters (RFC 5798 §6.4.3); a
//!   Backup of equal priority does not preempt (§6.4.2 "greater than or equal").
//! - **Sync groups**: see `group.rs`.

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
pub use config::{GarpConfig, InitialState, InstanceConfig, refuses_vip_traffic};
pub use group::SyncGroup;
pub use input::{AdvertRx, Input};
pub use instance::Instance;
pub use node::{InstanceId, Node, NodeError};
pub use priority::effective_priority;
pub use time::Time;
pub use timers::{Timers, master_down_interval, skew_time};

#[cfg(test)]
mod tests;
