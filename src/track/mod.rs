//! Checker tasks: keepalived's trackers (`vrrp_script`, `track_interface`, `track_file`,
//! `vrrp_track_process`), split as the rest of vigil is: pure decisions, IO at the edge.
//!
//! # Shape
//!
//! - **Runners** ([`Checkers`]) are tokio tasks that observe the world and send a
//!   [`TrackerUpdate`] `{ name, kind, state }` when a checker's state changes (and once when
//!   it is first known). Interfaces have no runner: the core already follows links (netlink
//!   events) and reports the names in [`Trackers::interfaces`] as [`TrackerUpdate::interface`].
//! - **[`InstanceTrackers`]** is resolved once per instance at planning (its own references
//!   plus its sync group's, weights resolved) and lives in the instance's plan.
//! - **[`Trackers`]** is owned by the core: the last state of every tracker and who watches
//!   it. An update names the instances whose [`Verdict`] may have changed; the core compares
//!   with the verdict it keeps in the instance's slot and feeds
//!   `fsm::Input::TrackerChanged { weight_sum, faulted }`.
//!
//! # How each checker behaves (and where it follows keepalived 2.2)
//!
//! - **Weights** (all kinds, `verdict.rs`): a positive weight is added while the checker is
//!   OK, a negative one while it is KO; `reverse` negates what is added; weight 0 means KO
//!   puts the instance in FAULT (`weight 0 reverse`: OK does). A reference's `weight` overrides
//!   the checker's, with its own `reverse`. Members of a sync group have their own trackers'
//!   weights forced to 0 unless `sync_group_tracking_weight`, as keepalived does; the group's
//!   trackers keep theirs. Priority clamping (1..=254, owner untouched) is the state machine's.
//! - **Start**: a checker with no result yet adds nothing; a weight-0 one holds the instance in
//!   FAULT with `Verdict::pending` set. keepalived instead keeps such an instance in INIT until
//!   the first result; the core uses `pending` to delay `Startup` and match it exactly.
//!   `init_fail` scripts start KO.
//! - **vrrp_script** (`script.rs`): run at once, then every `interval`; argv split with
//!   `notify::split_command` (no shell); in its own process group, as `user` (else the global
//!   `script_user`); stdin/stdout/stderr to /dev/null; after `timeout` (default: `interval`)
//!   the whole group is SIGKILLed and the run is a failure; children left behind by a
//!   finished run are killed too. Exit 0 is success; anything else, a signal, a timeout or a
//!   failure to start is failure. `rise`/`fall` use keepalived's counter (`rise_fall.rs`): the
//!   first result decides, later `rise` successes / `fall` failures in a row flip the state.
//! - **track_file** (`file.rs`): `init_file VALUE [overwrite]` writes the file at start if
//!   missing (always with `overwrite`); then the file is read at start and polled (500 ms;
//!   keepalived uses inotify). The value is read like keepalived's `strtol(.., 0)`, missing
//!   or unparsable is 0, clamped to -254..=254. value × weight (negated by `reverse`) is added,
//!   capped at 253; -254 or below is FAULT; with weight 0 a non-zero value is FAULT.
//! - **vrrp_track_process** (`process*.rs`, `quorum.rs`): one task scans /proc for all
//!   tracked processes every second (keepalived follows the proc connector). Matching is
//!   exact on the process name (comm, 15 bytes), or on the command line with parameters,
//!   `param_match` (exact/partial/initial) or `full_command`; zombies never count. OK while
//!   `quorum <= count <= quorum_max`; a change is reported only once it has held for
//!   `fork_delay` (gained) or `terminate_delay` (lost).
//! - **track_interface**: up/down from the driver; a missing interface is down (keepalived
//!   tracks it as a dynamic interface that is down).

mod file;
mod process;
mod process_match;
mod quorum;
mod rise_fall;
mod script;
mod spawn;
mod trackers;
mod update;
mod verdict;

#[cfg(test)]
mod verdict_tests;

pub use spawn::{
    Changes, Checkers, Definition, PollIntervals, RunnerKey, changes, definitions, referenced,
};
pub use trackers::Trackers;
pub use update::{TrackerId, TrackerKind, TrackerState, TrackerUpdate};
pub use verdict::{
    Contribution, InstanceTrackers, Tracked, TrackerStates, Verdict, contribution, verdict,
};
