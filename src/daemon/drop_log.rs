//! Dropped packets in the log: one line for the first drop of each (instance, reason), then
//! at most one a minute with the count of those not logged meanwhile, naming the sender and
//! the values that disagree ("advert interval mismatch: ours 100 cs, received 200 cs from
//! 10.0.0.2"). keepalived logs every such packet; a flood must not flood the journal, and the
//! counters (`vigil status`) count every one. The limit runs on the core's clock, so it is
//! as testable and replayable as every other decision.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::drops::DropReason;
use crate::fsm::{InstanceId, Time};
use crate::types::{Centis, Priority};
use crate::wire;

/// At most one line per (instance, reason) in this time.
pub const DROP_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// The values behind a drop, when they say more than its reason: what we expect and what
/// came. Plain `Copy` data: it travels with every dropped packet and costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropDetail {
    /// RFC 3768 §7.1: the v2 advert interval differs from ours.
    Interval {
        ours: Centis,
        received: Centis,
    },
    /// RFC 5798 §7.1: TTL / hop limit must be 255.
    Ttl {
        received: u8,
    },
    /// A unicast peer's `min_ttl`..`max_ttl`.
    TtlRange {
        received: u8,
        min: u8,
        max: u8,
    },
    Version {
        ours: u8,
        received: u8,
    },
    AuthType {
        ours: u8,
        received: u8,
    },
    Checksum {
        found: u16,
        computed: u16,
    },
    /// The advert's address list differs; `accepted` when the sender is the owner or leaving.
    Addresses {
        priority: Priority,
        accepted: bool,
    },
}

impl DropDetail {
    /// The values a wire error carries that an operator compares with the configuration.
    pub fn of(e: &wire::Error) -> Option<Self> {
        use wire::Error as E;
        Some(match *e {
            E::BadTtl(received) => Self::Ttl { received },
            E::BadVersion { found, expected } => Self::Version {
                ours: expected,
                received: found,
            },
            E::AuthTypeMismatch { found, expected } => Self::AuthType {
                ours: expected,
                received: found,
            },
            E::BadChecksum { found, computed } => Self::Checksum { found, computed },
            _ => return None,
        })
    }
}

/// One drop as a log line says it: "<what>[: <values>] from <peer>".
pub struct DropNote {
    pub reason: DropReason,
    pub peer: Option<IpAddr>,
    pub detail: Option<DropDetail>,
}

impl fmt::Display for DropNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail {
            Some(DropDetail::Interval { ours, received }) => write!(
                f,
                "advert interval mismatch: ours {} cs, received {} cs",
                ours.get(),
                received.get()
            )?,
            Some(DropDetail::Ttl { received }) => {
                write!(f, "TTL/hop limit {received}, not 255 (RFC 5798 §7.1)")?;
            }
            Some(DropDetail::TtlRange { received, min, max }) => {
                write!(
                    f,
                    "TTL/hop limit {received} outside the peer's {min}..{max}"
                )?;
            }
            Some(DropDetail::Version { ours, received }) => {
                write!(f, "VRRP version mismatch: ours {ours}, received {received}")?;
            }
            Some(DropDetail::AuthType { ours, received }) => write!(
                f,
                "authentication type mismatch: ours {ours}, received {received}"
            )?,
            Some(DropDetail::Checksum { found, computed }) => write!(
                f,
                "bad VRRP checksum: {found:#06x}, computed {computed:#06x}"
            )?,
            Some(DropDetail::Addresses { priority, accepted }) => write!(
                f,
                "advert's address list differs from the configured virtual addresses \
                 (priority {}){}",
                priority.get(),
                if !accepted {
                    ", dropped"
                } else if priority == Priority::OWNER {
                    ", accepted: the sender is the address owner"
                } else {
                    ", accepted: priority 0, the master is leaving"
                }
            )?,
            None => f.write_str(describe(self.reason))?,
        }
        if let Some(peer) = self.peer {
            write!(f, " from {peer}")?;
        }
        Ok(())
    }
}

/// A reason in words, for drops whose values say nothing more.
fn describe(reason: DropReason) -> &'static str {
    use DropReason as R;
    match reason {
        R::BadPassword => "authentication password mismatch",
        R::BadAhIcv => "IPsec AH authentication (HMAC-MD5-96) mismatch",
        R::HmacBadTag => "auth_hmac: HMAC does not verify (another key?)",
        R::HmacMissing => "auth_hmac: no authentication trailer",
        R::HmacStale => "auth_hmac: timestamp outside time_window",
        R::HmacUnknownKey => "auth_hmac: unknown key id",
        R::HmacReplay | R::ReplayedAh => "replayed sequence number",
        R::NotAPeer => "unicast source is not a unicast_peer",
        R::UnknownVrid => "advert for a VRID not configured on this interface",
        R::AddressCountMismatch => "address count does not match the packet's length",
        R::WrongFamily => "address family differs from the instance's",
        R::OwnerConflict => {
            "priority-255 advert while we are the address owner: two routers configured as \
             owner (RFC 5798 §6.4.3), discarded"
        }
        other => other.label(),
    }
}

/// How loud a drop is: a peer that disagrees with us is a configuration problem worth a
/// warning; our own advert looped back is normal; VRIDs of other routers on the LAN are
/// everyday traffic.
pub fn level(reason: DropReason) -> Option<tracing::Level> {
    match reason {
        DropReason::OwnAdvert => None,
        DropReason::UnknownVrid | DropReason::StaleRoute => Some(tracing::Level::DEBUG),
        _ => Some(tracing::Level::WARN),
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    logged_at: Time,
    suppressed: u64,
}

/// What a rate-limited line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Drop(DropReason),
    /// A Master heard a lower priority: another router believes itself Master.
    LowerPriority,
}

/// The rate limit's memory: one entry per (instance, reason) that has dropped something,
/// forgotten at a reload (instance indices change).
#[derive(Debug, Default)]
pub struct DropLog {
    generation: u64,
    entries: HashMap<(Option<InstanceId>, Topic), Entry>,
}

impl DropLog {
    /// Whether this drop gets a line now; if so, how many drops of the same key were left
    /// out since the last line.
    pub fn admit(
        &mut self,
        now: Time,
        generation: u64,
        instance: Option<InstanceId>,
        topic: Topic,
    ) -> Option<u64> {
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        match self.entries.get_mut(&(instance, topic)) {
            Some(e) if now.saturating_sub(e.logged_at) < DROP_LOG_INTERVAL => {
                e.suppressed += 1;
                None
            }
            Some(e) => {
                let suppressed = e.suppressed;
                *e = Entry {
                    logged_at: now,
                    suppressed: 0,
                };
                Some(suppressed)
            }
            None => {
                self.entries.insert(
                    (instance, topic),
                    Entry {
                        logged_at: now,
                        suppressed: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

/// Logs one admitted drop.
pub fn log(instance: Option<&str>, note: &DropNote, suppressed: u64) {
    let Some(level) = level(note.reason) else {
        return;
    };
    let instance = instance.unwrap_or("-");
    let reason = note.reason.label();
    // `tracing`'s macros take the level as a constant.
    if let Some(DropDetail::Addresses { accepted: true, .. }) = note.detail {
        tracing::warn!(%instance, %reason, suppressed, "advertisement: {note}");
    } else if level == tracing::Level::DEBUG {
        tracing::debug!(
            %instance,
            %reason,
            suppressed,
            "dropped advertisement: {note}"
        );
    } else {
        tracing::warn!(
            %instance,
            %reason,
            suppressed,
            "dropped advertisement: {note}"
        );
    }
}
