//! Wiring: the core task, the effects executor, reload, signals, sd_notify.

pub mod pidfile;
pub mod sdnotify;
