//! What an instance asks the daemon to do.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::node::InstanceId;
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

/// Why a transition happened, for logs, status, notify scripts and tests: the trigger with
/// the values that decided it (the peer and both priorities, the interval waited). What only
/// the daemon knows (tracker, interface and member names) it adds when it logs the
/// transition (`daemon::cause`). Small and `Copy`: it lives only in `Action::Transition`.
///
/// An operator's action (`vigil drain`) gets a variant of its own here when the drain input
/// reaches the state machine; `Shutdown` is the operator stopping the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// Startup as a non-owner (RFC 5798 §6.4.1).
    Startup,
    /// Startup or recovery as the address owner, priority 255 (RFC 5798 §6.4.1).
    AddressOwner,
    /// The Master_Down_Timer fired (RFC 5798 §6.4.2): no advertisement for
    /// Master_Down_Interval (`interval_ms`, as it stood when the timer fired) from the last
    /// master heard, if any.
    MasterDown {
        interval_ms: u32,
        last_master: Option<IpAddr>,
    },
    /// The Master_Down_Timer fired while this Backup, preempting, discarded the adverts of a
    /// lower-priority master (RFC 5798 §6.4.2 "Discard the ADVERTISEMENT").
    Preempted {
        master: IpAddr,
        master_priority: Priority,
        ours: Priority,
    },
    /// The master sent priority 0 (it is leaving) and Skew_Time passed (RFC 5798 §6.4.2).
    MasterReleased { master: IpAddr },
    /// A Master heard a higher priority, or an equal one from a higher address (RFC 5798 §6.4.3).
    HigherPriority {
        peer: IpAddr,
        peer_priority: Priority,
        ours: Priority,
    },
    /// The Shutdown event (RFC 5798 §6.4.2, §6.4.3).
    Shutdown,
    /// The interface went down (or the instance's source address is not usable).
    LinkDown,
    /// A weight-0 tracker failed.
    TrackerFault,
    /// Every fault cleared.
    FaultCleared,
    /// Another member of the instance's sync group moved (`member`: which one, when known).
    SyncGroup { member: Option<InstanceId> },
    /// The operator drained the instance (`vigil drain`).
    Drained,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::Startup => f.write_str("startup"),
            Reason::AddressOwner => f.write_str("address owner (priority 255)"),
            Reason::MasterDown {
                interval_ms,
                last_master,
            } => {
                write!(
                    f,
                    "master down: no advertisement for Master_Down_Interval ({interval_ms} ms), "
                )?;
                match last_master {
                    Some(addr) => write!(f, "last master {addr}"),
                    None => f.write_str("no master heard"),
                }
            }
            Reason::Preempted {
                master,
                master_priority,
                ours,
            } => write!(
                f,
                "preempting a lower-priority master {master} (prio {} < ours {})",
                master_priority.get(),
                ours.get()
            ),
            Reason::MasterReleased { master } => {
                write!(
                    f,
                    "master {master} released mastership (priority-0 advertisement)"
                )
            }
            Reason::HigherPriority {
                peer,
                peer_priority,
                ours,
            } if peer_priority == ours => write!(
                f,
                "advertisement from {peer} with our priority {} and a higher address",
                ours.get()
            ),
            Reason::HigherPriority {
                peer,
                peer_priority,
                ours,
            } => write!(
                f,
                "higher-priority advertisement from {peer} (prio {} > ours {})",
                peer_priority.get(),
                ours.get()
            ),
            Reason::Shutdown => f.write_str("shutdown"),
            Reason::LinkDown => f.write_str("interface down"),
            Reason::TrackerFault => f.write_str("tracker failed"),
            Reason::FaultCleared => f.write_str("fault cleared"),
            Reason::SyncGroup { .. } => f.write_str("sync group member moved"),
            Reason::Drained => f.write_str("drained by the operator"),
        }
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
    /// The address owner, Master, discarded an advert that also claims priority 255 (RFC 5798
    /// §6.4.3 with §7.1's note that only the owner may advertise 255): two owners of one
    /// virtual router is a misconfiguration, which the daemon counts and logs as a drop
    /// (`owner_conflict`). keepalived compares the addresses and yields instead.
    OwnerConflict,
}
