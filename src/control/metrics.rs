//! Prometheus metrics, rendered from the status snapshot at each scrape.
//!
//! Rendering from the snapshot (rather than keeping live metric objects in the core) means
//! the core pays nothing per packet for metrics, and the numbers a scrape shows are exactly
//! the ones `vigil status --json` shows.
//!
//! Three rules make the exposition easy to use:
//! - an instance is labelled `vrrp_instance`, never `instance`, which Prometheus sets on every
//!   series to the scraped target (a clash renames ours to `exported_instance`);
//! - every drop reason ([`DropReason::ALL`]) is a series from the first scrape, at 0 until it
//!   counts, so `rate()` and alerts see the first drop instead of a series appearing;
//! - series come out in a fixed order (instances by name, drop reasons by label), so two
//!   scrapes of the same state are byte-identical. `prometheus_client`'s `Family` keeps its
//!   series in a hash map, so the families are written by a [`Collector`] in our order.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::status::{InstanceStatus, Status};
use crate::daemon::drops::DropReason;

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone, Copy)]
enum Value {
    Counter(u64),
    Gauge(i64),
    Float(f64),
}

/// One metric family, its series in the order they are written.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    series: Vec<(Labels, Value)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            unit: None,
            series: Vec::new(),
        }
    }

    fn seconds(mut self) -> Self {
        self.unit = Some(Unit::Seconds);
        self
    }

    fn metric_type(&self) -> MetricType {
        match self.series.first() {
            Some((_, Value::Counter(_))) => MetricType::Counter,
            _ => MetricType::Gauge,
        }
    }
}

/// The families of one snapshot, written in order.
#[derive(Debug)]
struct Families(Vec<Family>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for f in &self.0 {
            let mut family =
                encoder.encode_descriptor(f.name, f.help, f.unit.as_ref(), f.metric_type())?;
            for (labels, value) in &f.series {
                let series = family.encode_family(labels)?;
                match *value {
                    Value::Counter(v) => ConstCounter::new(v).encode(series)?,
                    Value::Gauge(v) => ConstGauge::new(v).encode(series)?,
                    Value::Float(v) => ConstGauge::new(v).encode(series)?,
                }
            }
        }
        Ok(())
    }
}

/// Drop reasons sorted by label: the order their series are written in.
fn reasons_by_label() -> Vec<DropReason> {
    let mut reasons = DropReason::ALL.to_vec();
    reasons.sort_by_key(|r| r.label());
    reasons
}

/// The OpenMetrics text for `status`.
pub fn render(status: &Status) -> String {
    let mut instances: Vec<&InstanceStatus> = status.instances.iter().collect();
    instances.sort_by(|a, b| a.name.cmp(&b.name));
    let reasons = reasons_by_label();

    let mut build = Family::new("build_info", "vigil's version (always 1)");
    build
        .series
        .push((vec![("version", status.version.clone())], Value::Gauge(1)));
    let mut state = Family::new(
        "instance_state",
        "VRRP state of the instance (1 for the current state)",
    );
    let mut priority = Family::new(
        "instance_priority",
        "Effective priority (base + tracker weights)",
    );
    let mut drained = Family::new(
        "instance_drained",
        "1 while the operator keeps the instance drained (vigil drain)",
    );
    let mut base = Family::new("instance_base_priority", "Configured priority");
    let mut master_priority = Family::new(
        "instance_master_priority",
        "Priority the current master advertises (this router's when it is master)",
    );
    let mut interval = Family::new(
        "instance_advert_interval",
        "Configured advertisement interval",
    )
    .seconds();
    let mut master_interval = Family::new(
        "instance_master_advert_interval",
        "Master_Adver_Interval: the interval in use (learned from the master in VRRPv3)",
    )
    .seconds();
    let mut last_transition = Family::new(
        "instance_last_transition_timestamp",
        "When the instance entered its current state (Unix time)",
    )
    .seconds();
    let mut transitions = Family::new("transitions", "State transitions");
    let mut became_master = Family::new("became_master", "Transitions to MASTER");
    let mut sent = Family::new("adverts_sent", "VRRP advertisements sent");
    let mut received = Family::new("adverts_received", "Valid VRRP advertisements received");
    let mut zero_sent = Family::new(
        "priority_zero_adverts_sent",
        "Advertisements with priority 0 (master leaving) sent",
    );
    let mut zero_received = Family::new(
        "priority_zero_adverts_received",
        "Advertisements with priority 0 (master leaving) received",
    );
    let mut drops = Family::new("packets_dropped", "Received packets dropped, by reason");
    let mut socket_drops = Family::new(
        "socket_packets_dropped",
        "Received packets dropped before they could be tied to an instance, by reason",
    );

    for i in instances {
        let id = || {
            vec![
                ("vrrp_instance", i.name.clone()),
                ("interface", i.interface.clone()),
                ("vrid", i.vrid.to_string()),
            ]
        };
        // One series per possible state, 1 for the current one: alerting on
        // `vigil_instance_state{state="MASTER"} == 0` needs no value mapping.
        for s in ["INIT", "BACKUP", "MASTER", "FAULT"] {
            let mut labels = id();
            labels.push(("state", s.into()));
            state
                .series
                .push((labels, Value::Gauge(i64::from(i.state == s))));
        }
        let gauge = |f: &mut Family, v: i64| f.series.push((id(), Value::Gauge(v)));
        gauge(&mut priority, i64::from(i.effective_priority));
        gauge(&mut drained, i64::from(i.drained));
        gauge(&mut base, i64::from(i.base_priority));
        if let Some(p) = i.master_priority {
            gauge(&mut master_priority, i64::from(p));
        }
        let float = |f: &mut Family, v: f64| f.series.push((id(), Value::Float(v)));
        float(
            &mut interval,
            f64::from(i.configured_advert_interval_centis) / 100.0,
        );
        float(
            &mut master_interval,
            f64::from(i.advert_interval_centis) / 100.0,
        );
        if let Some(at) = i.state_since_unix_ms {
            float(&mut last_transition, at as f64 / 1000.0);
        }
        let counter = |f: &mut Family, v: u64| f.series.push((id(), Value::Counter(v)));
        counter(&mut transitions, i.transitions);
        counter(&mut became_master, i.became_master);
        counter(&mut sent, i.adverts_sent);
        counter(&mut received, i.adverts_received);
        counter(&mut zero_sent, i.priority_zero_sent);
        counter(&mut zero_received, i.priority_zero_received);
        for r in &reasons {
            let mut labels = id();
            labels.push(("reason", r.label().into()));
            let n = i.drops.get(r.label()).copied().unwrap_or(0);
            drops.series.push((labels, Value::Counter(n)));
        }
    }
    for r in &reasons {
        let n = status.socket_drops.get(r.label()).copied().unwrap_or(0);
        socket_drops
            .series
            .push((vec![("reason", r.label().into())], Value::Counter(n)));
    }

    let families: Vec<Family> = [
        build,
        state,
        priority,
        drained,
        base,
        master_priority,
        interval,
        master_interval,
        last_transition,
        transitions,
        became_master,
        sent,
        received,
        zero_sent,
        zero_received,
        drops,
        socket_drops,
    ]
    .into_iter()
    // A family with no series would be written as a bare descriptor; its type is unknown.
    .filter(|f| !f.series.is_empty())
    .collect();
    let mut registry = Registry::with_prefix("vigil");
    registry.register_collector(Box::new(Families(families)));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut out, &registry);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use openmetrics_parser::openmetrics::parse_openmetrics;
    use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};

    use super::*;

    fn instance(name: &str, state: &str) -> InstanceStatus {
        InstanceStatus {
            name: name.into(),
            interface: "eth0".into(),
            vrid: 51,
            state: state.into(),
            base_priority: 150,
            effective_priority: 140,
            master_priority: Some(200),
            advert_interval_centis: 50,
            configured_advert_interval_centis: 100,
            state_since_unix_ms: Some(1_796_083_200_250),
            transitions: 2,
            became_master: 1,
            adverts_sent: 40,
            priority_zero_received: 1,
            drops: [("bad_ttl".to_string(), 3)].into(),
            ..Default::default()
        }
    }

    fn status() -> Status {
        Status {
            version: "1.2.3".into(),
            instances: vec![
                InstanceStatus {
                    drained: true,
                    ..instance("gw", "MASTER")
                },
                instance("app", "BACKUP"),
            ],
            socket_drops: [("unknown_vrid".to_string(), 5)].into(),
            ..Default::default()
        }
    }

    type Exposition = MetricsExposition<OpenMetricsType, OpenMetricsValue>;

    fn parse(text: &str) -> Exposition {
        parse_openmetrics(text).unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{text}"))
    }

    /// The value of `family`'s series with exactly `labels`, and the family's type.
    fn value(e: &Exposition, family: &str, labels: &[(&str, &str)]) -> (OpenMetricsType, f64) {
        let f = e
            .families
            .get(family)
            .unwrap_or_else(|| panic!("no family {family}"));
        // The parser keeps label names sorted; values go in its order.
        let names: Vec<&str> = f.get_label_names().iter().map(String::as_str).collect();
        let mut want: Vec<&str> = labels.iter().map(|(k, _)| *k).collect();
        want.sort_unstable();
        assert_eq!(names, want, "{family}'s labels");
        let values: Vec<String> = names
            .iter()
            .map(|n| {
                labels
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.to_string())
            })
            .collect::<Option<_>>()
            .unwrap_or_default();
        let sample = f
            .get_sample_by_label_values(&values)
            .unwrap_or_else(|| panic!("no {family}{labels:?}"));
        let v = match &sample.value {
            OpenMetricsValue::Counter(c) => c.value.as_f64(),
            OpenMetricsValue::Gauge(g) => g.as_f64(),
            other => panic!("{family}: unexpected {other:?}"),
        };
        (f.family_type, v)
    }

    #[test]
    fn an_openmetrics_parser_reads_names_types_labels_and_values() {
        let e = parse(&render(&status()));
        let gw = |extra: &[(&'static str, &'static str)]| {
            let mut l = vec![
                ("vrrp_instance", "gw"),
                ("interface", "eth0"),
                ("vrid", "51"),
            ];
            l.extend_from_slice(extra);
            l
        };
        use OpenMetricsType::{Counter, Gauge};
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, OpenMetricsType, f64);
        let cases: Vec<Case> = vec![
            ("vigil_build_info", vec![("version", "1.2.3")], Gauge, 1.0),
            (
                "vigil_instance_state",
                gw(&[("state", "MASTER")]),
                Gauge,
                1.0,
            ),
            (
                "vigil_instance_state",
                gw(&[("state", "BACKUP")]),
                Gauge,
                0.0,
            ),
            ("vigil_instance_priority", gw(&[]), Gauge, 140.0),
            ("vigil_instance_base_priority", gw(&[]), Gauge, 150.0),
            ("vigil_instance_drained", gw(&[]), Gauge, 1.0),
            ("vigil_instance_master_priority", gw(&[]), Gauge, 200.0),
            (
                "vigil_instance_advert_interval_seconds",
                gw(&[]),
                Gauge,
                1.0,
            ),
            (
                "vigil_instance_master_advert_interval_seconds",
                gw(&[]),
                Gauge,
                0.5,
            ),
            (
                "vigil_instance_last_transition_timestamp_seconds",
                gw(&[]),
                Gauge,
                1_796_083_200.25,
            ),
            ("vigil_transitions", gw(&[]), Counter, 2.0),
            ("vigil_became_master", gw(&[]), Counter, 1.0),
            ("vigil_adverts_sent", gw(&[]), Counter, 40.0),
            ("vigil_adverts_received", gw(&[]), Counter, 0.0),
            ("vigil_priority_zero_adverts_sent", gw(&[]), Counter, 0.0),
            (
                "vigil_priority_zero_adverts_received",
                gw(&[]),
                Counter,
                1.0,
            ),
            (
                "vigil_packets_dropped",
                gw(&[("reason", "bad_ttl")]),
                Counter,
                3.0,
            ),
            (
                "vigil_socket_packets_dropped",
                vec![("reason", "unknown_vrid")],
                Counter,
                5.0,
            ),
        ];
        for (family, labels, kind, want) in cases {
            let (got_kind, got) = value(&e, family, &labels);
            assert_eq!(got_kind, kind, "{family}");
            assert_eq!(got, want, "{family}{labels:?}");
        }
    }

    #[test]
    fn every_drop_reason_is_a_series_from_the_start() {
        let e = parse(&render(&status()));
        for r in DropReason::ALL {
            for name in ["gw", "app"] {
                let labels = [
                    ("vrrp_instance", name),
                    ("interface", "eth0"),
                    ("vrid", "51"),
                    ("reason", r.label()),
                ];
                let want = if *r == DropReason::BadTtl { 3.0 } else { 0.0 };
                assert_eq!(value(&e, "vigil_packets_dropped", &labels).1, want);
            }
            let want = if *r == DropReason::UnknownVrid {
                5.0
            } else {
                0.0
            };
            let labels = [("reason", r.label())];
            assert_eq!(value(&e, "vigil_socket_packets_dropped", &labels).1, want);
        }
        let per_instance = e.families["vigil_packets_dropped"].iter_samples().count();
        assert_eq!(per_instance, 2 * DropReason::COUNT);
    }

    #[test]
    fn no_label_is_called_instance() {
        let e = parse(&render(&status()));
        for f in e.families.values() {
            assert!(
                !f.get_label_names().iter().any(|l| l == "instance"),
                "{} has an `instance` label",
                f.family_name
            );
        }
    }

    #[test]
    fn the_same_state_renders_byte_identical_in_a_stable_order() {
        let a = status();
        let mut b = status();
        // Another order of the same instances and drop maps built in another order.
        b.instances.reverse();
        b.instances[0].drops = BTreeMap::from([("bad_ttl".to_string(), 3)]);
        let (first, second) = (render(&a), render(&b));
        assert_eq!(first, second);
        // Many renders: a hash map's order would show across them.
        for _ in 0..20 {
            assert_eq!(render(&a), first);
        }
        // Instances by name, reasons by label.
        let app = first.find(r#"vrrp_instance="app""#).unwrap();
        let gw = first.find(r#"vrrp_instance="gw""#).unwrap();
        assert!(app < gw);
        let lines: Vec<&str> = first
            .lines()
            .filter(|l| l.starts_with("vigil_socket_packets_dropped_total{"))
            .collect();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        assert!(first.ends_with("# EOF\n"));
    }
}
