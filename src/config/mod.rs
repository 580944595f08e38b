//! Configuration: one typed model, the native YAML format and keepalived.conf, reload diffs.

pub mod model;
