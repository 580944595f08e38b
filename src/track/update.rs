//! What a checker reports: the name of the checker, its kind and its new state.
//!
//! Updates cross from the runner tasks into the core, so they are plain serialisable data
//! (DESIGN.md: everything that crosses the core boundary can be recorded and replayed).

use serde::{Deserialize, Serialize};

/// The four kinds of keepalived tracker. Names are unique per kind only (keepalived allows a
/// `vrrp_script` and a `track_file` with the same name), so a tracker is identified by both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackerKind {
    Script,
    File,
    Process,
    Interface,
}

/// A tracker's identity: its kind and its configured name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TrackerId {
    pub kind: TrackerKind,
    pub name: String,
}

impl TrackerId {
    pub fn new(kind: TrackerKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            name: name.into(),
        }
    }
}

/// The last observed state of one tracker.
///
/// Scripts, processes and interfaces are up or down; a tracked file holds a number. A state of
/// the wrong shape for its kind (a `Value` for a script) is treated as "no result yet" by the
/// verdict, never as a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackerState {
    /// Script exited 0 (after `rise`), process quorum held, interface up.
    Up,
    /// Script failed (after `fall`) or timed out, quorum lost, interface down.
    Down,
    /// The integer read from a tracked file, already clamped to -254..=254 as keepalived does.
    Value(i64),
}

/// One tracker changed state. Runners send one when the state changes (and once when it is
/// first known); the core feeds it to `Trackers::update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerUpdate {
    pub name: String,
    pub kind: TrackerKind,
    pub state: TrackerState,
}

impl TrackerUpdate {
    pub fn script(name: impl Into<String>, up: bool) -> Self {
        Self::up_down(TrackerKind::Script, name, up)
    }

    pub fn process(name: impl Into<String>, up: bool) -> Self {
        Self::up_down(TrackerKind::Process, name, up)
    }

    /// For the driver, which learns link state from netlink: `up` is the link's
    /// IFF_UP/running state as keepalived reads it. An interface that does not exist is down.
    pub fn interface(name: impl Into<String>, up: bool) -> Self {
        Self::up_down(TrackerKind::Interface, name, up)
    }

    pub fn file(name: impl Into<String>, value: i64) -> Self {
        Self {
            name: name.into(),
            kind: TrackerKind::File,
            state: TrackerState::Value(value),
        }
    }

    pub fn id(&self) -> TrackerId {
        TrackerId::new(self.kind, self.name.clone())
    }

    fn up_down(kind: TrackerKind, name: impl Into<String>, up: bool) -> Self {
        Self {
            name: name.into(),
            kind,
            state: if up {
                TrackerState::Up
            } else {
                TrackerState::Down
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_kind_and_state() {
        let u = TrackerUpdate::interface("eth1", false);
        assert_eq!(u.kind, TrackerKind::Interface);
        assert_eq!(u.state, TrackerState::Down);
        assert_eq!(u.id(), TrackerId::new(TrackerKind::Interface, "eth1"));
        assert_eq!(TrackerUpdate::file("f", -3).state, TrackerState::Value(-3));
        assert_eq!(TrackerUpdate::script("s", true).state, TrackerState::Up);
        assert_eq!(TrackerUpdate::process("p", true).kind, TrackerKind::Process);
    }

    #[test]
    fn updates_serialise_for_event_recording() {
        let u = TrackerUpdate::file("cfg", 7);
        let text = serde_json::to_string(&u).unwrap();
        assert_eq!(text, r#"{"name":"cfg","kind":"file","state":{"value":7}}"#);
        assert_eq!(serde_json::from_str::<TrackerUpdate>(&text).unwrap(), u);
    }
}
