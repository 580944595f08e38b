//! The status snapshot, as served to `vigil status --json`. Field names are a public
//! interface: scripts parse them, so they only ever gain fields. Every field is listed with
//! its type and meaning in docs/status-schema.md, which a test holds equal to what is
//! serialised; [`SCHEMA`] changes only if a field changes meaning or goes away.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The schema version `Status::schema` carries.
pub const SCHEMA: u32 = 1;

/// Every field defaults when absent, so a client reads what an older daemon sends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// [`SCHEMA`]: fields are only ever added within one schema version.
    pub schema: u32,
    /// When the snapshot was taken, in milliseconds since the Unix epoch.
    pub taken_unix_ms: u64,
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
#[serde(default)]
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
    // Schema 1: the detail `vigil status NAME` shows (FRR's `show vrrp` level).
    /// The `vrrp_sync_group` the instance belongs to.
    pub sync_group: Option<String>,
    /// This router's own address on the link: the adverts' source.
    pub primary_address: String,
    /// Base priority 255: the router owns the virtual addresses (RFC 5798 §6.4.1).
    pub address_owner: bool,
    /// When the instance entered its current state (ms since the Unix epoch), and how long
    /// ago that was; absent before its first transition.
    pub state_since_unix_ms: Option<u64>,
    pub state_duration_ms: Option<u64>,
    /// The priority the current master advertises (this router's effective priority when it
    /// is master); absent when no master has been heard.
    pub master_priority: Option<u8>,
    /// The configured Advertisement_Interval (`advert_interval_centis` is the one in use:
    /// Master_Adver_Interval, learned from the master in VRRPv3).
    pub configured_advert_interval_centis: u32,
    /// Skew_Time (RFC 5798 §6.1) for the current priority and interval.
    pub skew_time_us: u64,
    /// Preempt_Mode (false: keepalived's `nopreempt`) and keepalived's `preempt_delay`.
    pub preempt: bool,
    pub preempt_delay_centis: u32,
    /// Accept_Mode (RFC 5798 §6.1; keepalived `accept` / `no_accept`).
    pub accept: bool,
    /// Installed but not advertised (keepalived `virtual_ipaddress_excluded`); also listed
    /// in `virtual_addresses`.
    pub excluded_addresses: Vec<String>,
    /// keepalived `use_vmac`: the macvlan interface the instance runs on, and its virtual
    /// MAC (RFC 5798 §7.3).
    pub vmac_interface: Option<String>,
    pub virtual_mac: Option<String>,
    /// The trackers that set the effective priority or hold the instance in FAULT.
    pub trackers: Vec<TrackerStatus>,
    pub became_master: u64,
    /// Adverts with priority 0 ("master leaving", RFC 5798 §6.4.3) sent and received.
    pub priority_zero_sent: u64,
    pub priority_zero_received: u64,
    /// The last transitions (at most 8), oldest first.
    pub recent_transitions: Vec<TransitionStatus>,
    /// Drained by the operator (`vigil drain`): stays out of MASTER until undrained.
    #[serde(default)]
    pub drained: bool,
}

/// One tracker as one instance sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackerStatus {
    /// "script", "file", "process" or "interface".
    pub kind: String,
    pub name: String,
    /// "up", "down", "unknown" (no result yet), or a tracked file's value ("value").
    pub state: String,
    /// A tracked file's last value.
    pub value: Option<i64>,
    /// The weight as this instance applies it (a sync group member's own trackers weigh 0
    /// unless `sync_group_tracking_weight`), and whether `reverse` is set.
    pub weight: i32,
    pub reverse: bool,
    /// What the tracker adds to the base priority now.
    pub applied: i32,
    /// The tracker holds the instance in FAULT (a weight-0 tracker down or not reported yet,
    /// a file value at or below -254).
    pub fault: bool,
}

/// One past transition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TransitionStatus {
    pub at_unix_ms: u64,
    pub from: String,
    pub to: String,
    pub reason: String,
    /// The effective priority after the transition.
    pub priority: u8,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::*;

    const DOC: &str = include_str!("../../docs/status-schema.md");

    /// The doc's tables: section name -> field -> type.
    fn documented() -> BTreeMap<String, BTreeMap<String, String>> {
        let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut current = None;
        for line in DOC.lines() {
            if let Some(name) = line.strip_prefix("## ") {
                current = Some(name.trim().to_string());
                continue;
            }
            let (Some(section), Some(row)) = (&current, line.strip_prefix("| `")) else {
                continue;
            };
            let mut cells = row.split(" | ");
            let field = cells.next().unwrap_or_default().trim_end_matches('`');
            let ty = cells.next().unwrap_or_default().trim();
            let fields = sections.entry(section.clone()).or_default();
            assert!(
                fields.insert(field.to_string(), ty.to_string()).is_none(),
                "{section}.{field} documented twice"
            );
        }
        sections
    }

    /// Checks `value` (an object of section `section`) against the doc, recursing into the
    /// sections its fields name.
    fn check(doc: &BTreeMap<String, BTreeMap<String, String>>, section: &str, value: &Value) {
        let fields = &doc[section];
        let object = value
            .as_object()
            .unwrap_or_else(|| panic!("{section} is not an object: {value}"));
        let serialised: Vec<&String> = object.keys().collect();
        // A field left out when unset may be missing.
        let listed: Vec<&String> = fields
            .iter()
            .filter(|(name, ty)| !ty.ends_with(" or absent") || object.contains_key(*name))
            .map(|(name, _)| name)
            .collect();
        let mut serialised_sorted = serialised.clone();
        serialised_sorted.sort();
        assert_eq!(
            serialised_sorted, listed,
            "docs/status-schema.md section {section} does not list exactly the serialised fields"
        );
        for (name, ty) in fields {
            let Some(v) = object.get(name) else { continue };
            let ty = ty.strip_suffix(" or absent").unwrap_or(ty);
            let (base, nullable) = match ty.strip_suffix(" or null") {
                Some(base) => (base, true),
                None => (ty, false),
            };
            if v.is_null() {
                assert!(nullable, "{section}.{name} is null but documented as {ty}");
                continue;
            }
            let type_ok = |base: &str, v: &Value| match base {
                "string" => v.is_string(),
                "integer" => v.is_u64() || v.is_i64(),
                "boolean" => v.is_boolean(),
                "object" => v.is_object(),
                other if doc.contains_key(other) => {
                    check(doc, other, v);
                    true
                }
                other => panic!("{section}.{name}: unknown type {other:?}"),
            };
            match base.strip_prefix("array of ") {
                Some(elem) => {
                    let items = v
                        .as_array()
                        .unwrap_or_else(|| panic!("{section}.{name} is not an array"));
                    assert!(
                        !items.is_empty(),
                        "{section}.{name}: the example must fill it"
                    );
                    for item in items {
                        assert!(type_ok(elem, item), "{section}.{name}: not {ty}: {item}");
                    }
                }
                None => assert!(type_ok(base, v), "{section}.{name}: not {ty}: {v}"),
            }
        }
    }

    /// A status with every optional field set and every list filled.
    fn full() -> Status {
        Status {
            schema: SCHEMA,
            router_id: Some("lb1".into()),
            last_reload: Some(LastReload {
                time: 1,
                ok: false,
                error: Some("vigil.yaml:3:1: error: ...".into()),
            }),
            socket_drops: [("unknown_vrid".to_string(), 1)].into(),
            instances: vec![InstanceStatus {
                master: Some("192.0.2.2".into()),
                virtual_addresses: vec!["192.0.2.100/24".into()],
                drops: [("bad_ttl".to_string(), 1)].into(),
                sync_group: Some("G1".into()),
                state_since_unix_ms: Some(1),
                state_duration_ms: Some(1),
                master_priority: Some(200),
                excluded_addresses: vec!["198.51.100.1/32".into()],
                vmac_interface: Some("vrrp.51".into()),
                virtual_mac: Some("00:00:5e:00:01:33".into()),
                trackers: vec![TrackerStatus {
                    value: Some(4),
                    ..Default::default()
                }],
                recent_transitions: vec![TransitionStatus::default()],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_documented_fields_are_the_serialised_fields() {
        let doc = documented();
        for section in [
            "Status",
            "InstanceStatus",
            "TrackerStatus",
            "TransitionStatus",
        ] {
            assert!(doc.contains_key(section), "no {section} section");
        }
        check(&doc, "Status", &serde_json::to_value(full()).unwrap());
        // Unset optional fields are null only where the doc says so.
        let mut empty = full();
        (empty.router_id, empty.last_reload) = (None, None);
        let i = &mut empty.instances[0];
        (i.master, i.sync_group, i.master_priority) = (None, None, None);
        (i.vmac_interface, i.virtual_mac) = (None, None);
        (i.state_since_unix_ms, i.state_duration_ms) = (None, None);
        i.trackers[0].value = None;
        check(
            &doc,
            "Status",
            &serde_json::to_value(&empty).unwrap_or_default(),
        );
    }

    #[test]
    fn a_status_without_the_new_fields_still_reads() {
        // What a daemon of schema 0 sent.
        let old = r#"{"version":"0.1.0","pid":7,"config":"/etc/vigil.yaml","instances":[
            {"name":"gw","interface":"eth0","vrid":51,"version":3,"family":"ipv4",
             "state":"MASTER","base_priority":150,"effective_priority":150,
             "master":"192.0.2.1","advert_interval_centis":100,"master_down_interval_ms":3414,
             "virtual_addresses":["192.0.2.100/24"],"transitions":2,"adverts_sent":9,
             "adverts_received":0,"drops":{}}],"socket_drops":{}}"#;
        let status: Status = serde_json::from_str(old).expect("reads");
        assert_eq!(status.schema, 0);
        assert_eq!(status.instances[0].name, "gw");
        assert!(status.instances[0].trackers.is_empty());
    }
}
