//! The status snapshot, as served to `vigil status --json`. Field names are a public
//! interface: scripts parse them, so they only ever gain fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub pid: u32,
    pub config: String,
    /// keepalived's `router_id`, when the configuration sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_id: Option<String>,
    pub instances: Vec<InstanceStatus>,
    /// Packets dropped before they could be tied to an instance (malformed, bad TTL,
    /// unknown VRID), by reason.
    pub socket_drops: BTreeMap<String, u64>,
    /// The last reload's outcome (SIGHUP or `vigil reload`); absent before the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reload: Option<LastReload>,
}

/// How the last reload went: a rejected one leaves the previous configuration running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastReload {
    /// When its outcome was known, in seconds since the Unix epoch.
    pub time: u64,
    pub ok: bool,
    /// Why it was rejected (the diagnostics, one per line); absent when it was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    /// 2 or 3.
    pub version: u8,
    /// "ipv4" or "ipv6".
    pub family: String,
    /// "INIT", "BACKUP", "MASTER" or "FAULT", as keepalived names them.
    pub state: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// The current master's address as last seen in an advertisement (this router's own
    /// address when it is master).
    pub master: Option<String>,
    pub advert_interval_centis: u32,
    pub master_down_interval_ms: u64,
    pub virtual_addresses: Vec<String>,
    pub transitions: u64,
    pub adverts_sent: u64,
    pub adverts_received: u64,
    /// Received packets dropped, by reason (e.g. "bad_ttl", "auth_mismatch").
    pub drops: BTreeMap<String, u64>,
    /// Drained by the operator (`vigil drain`): stays out of MASTER until undrained.
    #[serde(default)]
    pub drained: bool,
}
