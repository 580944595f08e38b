//! Configuration: one typed model, the native YAML format and keepalived.conf, reload diffs.

pub mod diagnostic;
pub mod keepalived;
pub mod model;
mod resolve;
pub mod yaml;
