//! What an instance asks the daemon to do.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::types::Priority;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// RFC 5798 §6.4.1: not started (or shut down).
    Initialize,
    /// RFC 5798 §6.4.2.
    Backup,
    /// RFC 5798 §6.4.3 (RFC 9568's "Active").
    Master,
    /// keepalived's extension: the interface is down or a tracker failed; silent, no VIPs.
    Fault,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// Why a transition happened, for logs, notify scripts and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// Startup as a non-owner (RFC 5798 §6.4.1).
    Startup,
    /// Startup or recovery as the address owner, priority 255 (RFC 5798 §6.4.1).
    AddressOwner,
    /// The Master_Down_Timer fired (RFC 5798 §6.4.2).
    MasterDown,
    /// A Master heard a higher priority, or an equal one from a higher address (RFC 5798 §6.4.3).
    HigherPriority,
    /// The Shutdown event (RFC 5798 §6.4.2, §6.4.3).
    Shutdown,
    /// The interface went down.
    LinkDown,
    /// A weight-0 tracker failed.
    TrackerFault,
    /// Every fault cleared.
    FaultCleared,
    /// Another member of the instance's sync group moved.
    SyncGroup,
    /// The operator drained the instance (`vigil drain`).
    Drained,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Startup => "startup",
            Reason::AddressOwner => "address owner",
            Reason::MasterDown => "master down timer expired",
            Reason::HigherPriority => "higher priority advertisement",
            Reason::Shutdown => "shutdown",
            Reason::LinkDown => "interface down",
            Reason::TrackerFault => "tracker failed",
            Reason::FaultCleared => "fault cleared",
            Reason::SyncGroup => "sync group",
            Reason::Drained => "drained by the operator",
        })
    }
}

/// Why gratuitous announcements are sent (all are keepalived behaviour except `BecameMaster`,
/// which RFC 5798 §6.4.1/§6.4.2 requires).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnnounceReason {
    BecameMaster,
    MasterDelay,
    Refresh,
    LowerPriority,
    LowerPriorityDelay,
}

/// Actions are emitted in the order the daemon must carry them out for one instance
/// (addresses before announcements; a `Transition` after the effects it summarises, so a
/// notify script for MASTER runs when the addresses are in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Send one advertisement with this priority (0 = "master is leaving").
    SendAdvert { priority: Priority },
    /// Add the virtual addresses (and VMAC, routes, rules) to the system.
    InstallVips,
    /// Remove them.
    RemoveVips,
    /// Send `count` gratuitous ARPs / unsolicited NAs for every virtual address, spaced by
    /// the daemon's `garp_interval`/`gna_interval`.
    Announce { count: u8, reason: AnnounceReason },
    Transition {
        from: State,
        to: State,
        reason: Reason,
    },
    /// A Master heard an advert of lower priority (or an equal one from a lower address),
    /// which it discards (RFC 5798 §6.4.3). keepalived reports it to
    /// `notify_master_rx_lower_pri` and the notify FIFO (vrrp.c `vrrp_state_master_rx`):
    /// another router believed itself Master, and may have taken the addresses elsewhere.
    HeardLowerPriority,
}
