//! The unix-socket control API (`vigil status`) and Prometheus metrics.
//!
//! The control socket asks the core for a [`Status`] snapshot through a [`StatusSource`];
//! the core answers between two events, so snapshots cost nothing until requested and a slow
//! or stuck client can never delay the state machines.

mod metrics;
mod render;
mod socket;
mod status;

pub use metrics::render as render_metrics;
pub use render::render_human;
pub use socket::{
    ControlError, DEFAULT_SOCKET, StatusRequests, StatusSource, query, serve, serve_http,
};
pub use status::{InstanceStatus, Status};
