//! What the core adds to a state machine's transition reason when it logs it: the names only
//! the daemon knows (the tracker, the interface, the sync group member), so that one line
//! says what happened ("tracker failed: chk_nginx down"). The state machine's
//! [`Reason`] already carries the values it decided on (peer, priorities, interval).

use std::fmt;

use crate::fsm::Reason;
use crate::track::{InstanceTrackers, TrackerState, TrackerUpdate};
use crate::types::Priority;

/// A transition's reason with the daemon's detail, as the log, status and replay show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: Reason,
    /// What the core was handling when the state machine moved (a tracker's new state, a
    /// link event), or the name of the sync group member a `SyncGroup` reason names.
    pub detail: Option<Box<str>>,
}

impl Cause {
    pub fn new(reason: Reason) -> Self {
        Self {
            reason,
            detail: None,
        }
    }
}

impl From<Reason> for Cause {
    fn from(reason: Reason) -> Self {
        Self::new(reason)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.reason, &self.detail) {
            // The event says it all: "tracker chk_nginx down", "interface eth0 down".
            (Reason::LinkDown | Reason::TrackerFault, Some(detail)) => f.write_str(detail),
            (Reason::SyncGroup { .. }, Some(member)) => {
                write!(f, "sync group member {member} moved")
            }
            (reason, Some(detail)) => write!(f, "{reason}: {detail}"),
            (reason, None) => write!(f, "{reason}"),
        }
    }
}

/// The event the core is handling, while it hands it to the state machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Tracker(TrackerUpdate),
    Link {
        name: String,
        up: bool,
    },
    /// A reload changed the configured priority.
    Reload,
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Tracker(u) => {
                // keepalived's words for a script: "VRRP_Script(chk) failed / succeeded".
                let kind = match u.kind {
                    crate::track::TrackerKind::Script => "tracker",
                    crate::track::TrackerKind::File => "tracked file",
                    crate::track::TrackerKind::Process => "tracked process",
                    crate::track::TrackerKind::Interface => "tracked interface",
                };
                match u.state {
                    TrackerState::Up => write!(f, "{kind} {} up", u.name),
                    TrackerState::Down => write!(f, "{kind} {} down", u.name),
                    TrackerState::Value(v) => write!(f, "{kind} {} value {v}", u.name),
                }
            }
            Trigger::Link { name, up } => {
                write!(f, "interface {name} {}", if *up { "up" } else { "down" })
            }
            Trigger::Reload => f.write_str("configuration reloaded"),
        }
    }
}

/// The line for an effective priority change, naming the tracker that moved it and the
/// weight it carries for this instance (keepalived: "Changing effective priority from X to Y").
pub fn priority_change(
    tracking: &InstanceTrackers,
    old: Priority,
    new: Priority,
    trigger: Option<&Trigger>,
) -> String {
    let mut line = format!("priority {} \u{2192} {}", old.get(), new.get());
    match trigger {
        Some(t @ Trigger::Tracker(u)) => {
            line.push_str(&format!(": {t}"));
            let id = u.id();
            if let Some(tracked) = tracking.tracked.iter().find(|k| k.id == id) {
                line.push_str(&format!(
                    " (weight {}{})",
                    tracked.weight,
                    if tracked.reverse { " reverse" } else { "" }
                ));
            }
        }
        Some(t) => line.push_str(&format!(": {t}")),
        None => line.push_str(": trackers re-evaluated"),
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_reads_as_one_phrase() {
        let c = Cause {
            reason: Reason::TrackerFault,
            detail: Some(
                Trigger::Tracker(TrackerUpdate::script("chk_nginx", false))
                    .to_string()
                    .into(),
            ),
        };
        assert_eq!(c.to_string(), "tracker chk_nginx down");
        let c = Cause {
            reason: Reason::LinkDown,
            detail: Some(
                Trigger::Link {
                    name: "eth0".into(),
                    up: false,
                }
                .to_string()
                .into(),
            ),
        };
        assert_eq!(c.to_string(), "interface eth0 down");
        let c = Cause {
            reason: Reason::FaultCleared,
            detail: Some("interface eth0 up".into()),
        };
        assert_eq!(c.to_string(), "fault cleared: interface eth0 up");
        assert_eq!(Cause::new(Reason::Startup).to_string(), "startup");
    }
}
