//! Wiring: the core task, the effects executor, reload, signals, sd_notify.

pub mod core;
pub mod pidfile;
pub mod receive;
pub mod sdnotify;
