//! The unix-socket control API (`vigil status`) and Prometheus metrics.
//!
//! Both listeners share one bounded accept loop (`listen.rs`: connection cap, deadlines,
//! accept back-off) and ask for snapshots through a [`StatusSource`], which coalesces
//! concurrent requests into one snapshot from the core and renders text off the core's
//! thread (`snapshot.rs`): a flood of clients can never delay the state machines.

mod command;
mod dump;
mod http;
mod listen;
mod metrics;
mod render;
mod snapshot;
mod socket;
mod status;

pub use command::{COMMAND_QUEUE, Command, CommandRequest, CommandRequests, Commands};
pub use dump::{render_data, render_stats};
pub use http::serve_http;
pub use listen::{Backoff, CONTROL_LIMITS, Limits, METRICS_LIMITS};
pub use metrics::render as render_metrics;
pub use render::{render_detail, render_human, select};
pub use snapshot::{Form, MIN_GAP, Snapshot, StatusRequests, StatusSource};
pub use socket::{
    Access, ControlError, ControlSocket, DEFAULT_SOCKET, default_socket, query, serve,
};
pub use status::{InstanceStatus, LastReload, SCHEMA, Status, TrackerStatus, TransitionStatus};
