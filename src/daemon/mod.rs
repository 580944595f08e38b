//! The daemon: a pure core that decides, IO at the edges that carries out. See
//! `docs/architecture.md` for one advert's and one reload's path through these files.
//!
//! - [`input`]: [`CoreInput`], everything the core is told (serialisable, recordable).
//! - [`core`]: `Core::handle(now, CoreInput)`, every decision, behind the [`core::Effects`]
//!   trait; [`slot`]: one entry per instance (plan, transmit state, counters, start phase);
//!   [`netns`]: `net_namespace` at reload, route `vrf` checks; [`reload`]: the pure apply of a prepared configuration, with `residual`: the VIPs a
//!   previous run left, removed at start; [`drops`]: drop reasons; `link_local`: IPv6
//!   instances wait in Fault while their link-local source is tentative.
//! - [`plan`]: configuration + interface facts → each instance's immutable run-time plan.
//! - [`prepare`]: the async half of a reload (file, kernel facts, VMACs, sockets).
//! - [`receive`]: bytes → [`input::Received`] (VRID routing and every §7.1 check, once);
//!   [`rx_checks`]: the checks that need the instance's state (AH replay, address list).
//! - [`effects`]: `SystemEffects` and the ordered executor (netlink, GARP/NA, notify).
//! - [`record`]: `--record-events` and `vigil replay`, with `RecordingEffects`.
//! - [`driver`]: `run(config, options, shutdown)`, the loop that feeds the core;
//!   [`dumps`]: keepalived's dump signals (SIGUSR1, SIGUSR2, ...) answered with files.

pub mod accept_mode;
mod address_plan;
mod auto_priority;
pub mod cause;
pub mod core;
#[cfg(test)]
mod core_tests;
pub mod drain;
#[cfg(test)]
mod drain_tests;
pub mod driver;
pub mod drop_log;
pub mod drops;
pub mod dumps;
pub mod effects;
pub mod fdlimit;
pub mod group_notify;
pub mod hmac_replay;
pub mod input;
#[cfg(test)]
mod keyword_tests;
mod link_local;
#[cfg(test)]
mod log_tests;
pub mod netns;
pub mod pidfile;
mod pipeline;
pub mod plan;
pub mod prepare;
pub mod privilege;
pub mod receive;
pub mod record;
pub mod reload;
mod reload_debounce;
mod reload_queue;
#[cfg(test)]
mod reload_tests;
mod residual;
mod resync;
#[cfg(test)]
mod resync_tests;
#[cfg(test)]
mod routing_tests;
pub mod rx_checks;
pub mod sdnotify;
pub mod slot;
mod snapshot;
mod startup_delay;
pub mod statics;
mod status_view;
mod tracked_source;

pub use driver::{DaemonError, RunOptions, run};
pub use input::CoreInput;

#[cfg(test)]
mod tests;
