//! Checker tasks: track scripts, interfaces, files and processes.

mod trackers;
mod update;
mod verdict;

#[cfg(test)]
mod verdict_tests;

pub use trackers::Trackers;
pub use update::{TrackerId, TrackerKind, TrackerState, TrackerUpdate};
pub use verdict::{InstanceTrackers, Tracked, TrackerStates, Verdict, verdict};
