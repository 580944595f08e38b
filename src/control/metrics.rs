//! Prometheus metrics, rendered from the status snapshot at each scrape.
//!
//! Rendering from the snapshot (rather than keeping live metric objects in the core) means
//! the core pays nothing per packet for metrics, and the numbers a scrape shows are exactly
//! the ones `vigil status --json` shows.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::status::Status;

type Labels = Vec<(String, String)>;

/// The OpenMetrics text for `status`.
pub fn render(status: &Status) -> String {
    let mut registry = Registry::with_prefix("vigil");
    let state = Family::<Labels, Gauge>::default();
    let priority = Family::<Labels, Gauge>::default();
    let transitions = Family::<Labels, Counter>::default();
    let sent = Family::<Labels, Counter>::default();
    let received = Family::<Labels, Counter>::default();
    let drops = Family::<Labels, Counter>::default();
    let drained = Family::<Labels, Gauge>::default();
    for i in &status.instances {
        let id = || {
            vec![
                ("instance".to_string(), i.name.clone()),
                ("interface".to_string(), i.interface.clone()),
                ("vrid".to_string(), i.vrid.to_string()),
            ]
        };
        // One series per possible state, 1 for the current one: alerting on
        // `vigil_instance_state{state="MASTER"} == 0` needs no value mapping.
        for s in ["INIT", "BACKUP", "MASTER", "FAULT"] {
            let mut labels = id();
            labels.push(("state".into(), s.into()));
            state.get_or_create(&labels).set(i64::from(i.state == s));
        }
        priority
            .get_or_create(&id())
            .set(i64::from(i.effective_priority));
        drained.get_or_create(&id()).set(i64::from(i.drained));
        transitions.get_or_create(&id()).inc_by(i.transitions);
        sent.get_or_create(&id()).inc_by(i.adverts_sent);
        received.get_or_create(&id()).inc_by(i.adverts_received);
        for (reason, n) in &i.drops {
            let mut labels = id();
            labels.push(("reason".into(), reason.clone()));
            drops.get_or_create(&labels).inc_by(*n);
        }
    }
    for (reason, n) in &status.socket_drops {
        let labels = vec![
            ("instance".to_string(), String::new()),
            ("reason".to_string(), reason.clone()),
        ];
        drops.get_or_create(&labels).inc_by(*n);
    }
    registry.register(
        "instance_state",
        "VRRP state of the instance (1 for the current state)",
        state,
    );
    registry.register(
        "instance_priority",
        "Effective priority (base + tracker weights)",
        priority,
    );
    registry.register(
        "instance_drained",
        "1 while the operator keeps the instance drained (vigil drain)",
        drained,
    );
    registry.register("transitions", "State transitions", transitions);
    registry.register("adverts_sent", "VRRP advertisements sent", sent);
    registry.register(
        "adverts_received",
        "Valid VRRP advertisements received",
        received,
    );
    registry.register(
        "packets_dropped",
        "Received packets dropped, by reason",
        drops,
    );
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::InstanceStatus;

    #[test]
    fn renders_state_priority_counters_and_drops_with_labels() {
        let status = Status {
            instances: vec![InstanceStatus {
                name: "gw".into(),
                interface: "eth0".into(),
                vrid: 51,
                state: "MASTER".into(),
                effective_priority: 150,
                transitions: 2,
                adverts_sent: 40,
                drops: [("bad_ttl".to_string(), 3)].into(),
                ..Default::default()
            }],
            socket_drops: [("unknown_vrid".to_string(), 5)].into(),
            ..Default::default()
        };
        let text = render(&status);
        let has = |needle: &str| assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        has(r#"vigil_instance_state{instance="gw",interface="eth0",vrid="51",state="MASTER"} 1"#);
        has(r#"vigil_instance_state{instance="gw",interface="eth0",vrid="51",state="BACKUP"} 0"#);
        has(r#"vigil_instance_priority{instance="gw",interface="eth0",vrid="51"} 150"#);
        has(r#"vigil_adverts_sent_total{instance="gw",interface="eth0",vrid="51"} 40"#);
        has(
            r#"vigil_packets_dropped_total{instance="gw",interface="eth0",vrid="51",reason="bad_ttl"} 3"#,
        );
        has(r#"vigil_packets_dropped_total{instance="",reason="unknown_vrid"} 5"#);
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn a_drained_instance_is_a_gauge_at_one() {
        let status = Status {
            instances: vec![InstanceStatus {
                name: "gw".into(),
                drained: true,
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = render(&status);
        assert!(
            text.lines()
                .any(|l| l.starts_with("vigil_instance_drained{") && l.ends_with(" 1")),
            "{text}"
        );
    }
}
