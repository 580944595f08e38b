//! The unix-socket control API (`vigil status`) and Prometheus metrics.
//!
//! The core task publishes a [`Status`] snapshot after every change through a
//! `tokio::sync::watch`; the control socket only ever reads the latest snapshot, so a slow
//! or stuck client can never delay the state machines.

mod metrics;
mod render;
mod socket;
mod status;

pub use metrics::render as render_metrics;
pub use render::render_human;
pub use socket::{ControlError, DEFAULT_SOCKET, query, serve, serve_http};
pub use status::{InstanceStatus, Status};
