//! Wiring: the core task, the effects executor, reload, signals, sd_notify.
//!
//! - [`core`]: one `fsm::Node` for every instance, pure, behind the [`core::Effects`] trait.
//! - [`plan`]: configuration + interface facts → what each instance needs at run time.
//! - [`receive`]: bytes → core events (VRID demultiplexing, packet-level checks).
//! - [`effects`]: `SystemEffects` and the ordered executor (netlink, GARP/NA, notify).
//! - [`driver`]: `run(config, options, shutdown)`, the event loop.

pub mod core;
#[cfg(test)]
mod core_tests;
pub mod driver;
pub mod effects;
pub mod pidfile;
pub mod plan;
pub mod receive;
pub mod sdnotify;

pub use driver::{DaemonError, RunOptions, run};

#[cfg(test)]
mod tests;
