//! What the daemon tells an instance.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::types::{Centis, Priority};

/// An advertisement already validated by the daemon (RFC 5798 §7.1: TTL, checksum, version,
/// authentication, VRID, address list) and addressed to this instance's VRID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvertRx {
    /// The IP source address: the sender's primary address.
    pub src: IpAddr,
    pub priority: Priority,
    /// The advertised interval. v2 packets carry seconds: the codec converts them.
    pub max_advert_int: Centis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// RFC 5798 §6.4.1: the Startup event.
    Startup,
    /// RFC 5798 §6.4.2/§6.4.3: the Shutdown event.
    Shutdown,
    Advert(AdvertRx),
    /// Delivered whenever `now >= next_deadline()`; the instance works out which timers expired.
    TimerTick,
    /// The trackers' combined verdict: the sum of the weights currently applied and whether a
    /// weight-0 tracker has failed (which puts the instance in Fault).
    TrackerChanged {
        weight_sum: i32,
        faulted: bool,
    },
    /// The instance's interface went down: Fault until it comes back.
    LinkDown,
    LinkUp,
    /// The operator drained the instance (`vigil drain`, which no other VRRP daemon has): a
    /// Master hands over at once with a priority-0 advert and becomes Backup; a drained
    /// instance never becomes Master (neither by its Master_Down_Timer nor as the address
    /// owner) until [`Input::Undrain`].
    Drain,
    /// The operator undrained it: it behaves as any Backup again.
    Undrain,
}
