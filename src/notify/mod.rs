//! Notify scripts and the notify fifo, with keepalived's argument convention, so that an
//! operator's existing `notify_master` / `notify` scripts keep working unchanged.
//!
//! What to run for a transition is decided purely (`plan`); running it is `runner`'s job,
//! which keeps each instance's notifications in order and bounds each script's run time.

mod argv;
mod backlog;
mod fifo;
mod plan;
mod reader;
mod runner;

pub use argv::{SplitError, split_command};
pub use fifo::{FifoSpec, FifoWriter};
pub use plan::{
    Notification, NotifyScripts, NotifyState, Scope, Script, commands_for, priority_fifo_line,
};
pub use reader::{EOF_GRACE, FifoReader, ReaderSpec, TERM_GRACE};
pub use runner::{Notifier, NotifierConfig, STOP_WAIT};
