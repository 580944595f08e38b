//! `vigil status` for people: one line per instance, aligned; `vigil status NAME`: one
//! instance (or every member of a sync group) in detail, with the fields of FRR's
//! `show vrrp`.

use std::fmt::Write;

use super::status::{InstanceStatus, Status};

pub fn render_human(status: &Status) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "vigil {} (pid {}) config {}",
        status.version, status.pid, status.config
    );
    match &status.router_id {
        Some(id) => {
            let _ = writeln!(out, " router_id {id}");
        }
        None => out.push('\n'),
    }
    if let Some(r) = status.last_reload.as_ref().filter(|r| !r.ok) {
        let why = r
            .error
            .as_deref()
            .and_then(|e| e.lines().next())
            .unwrap_or("");
        let _ = writeln!(
            out,
            "last reload FAILED (unix time {}), still running the previous configuration: {why}",
            r.time
        );
    }
    if status.instances.is_empty() {
        out.push_str("no instances\n");
        return out;
    }
    let rows: Vec<[String; 8]> = status
        .instances
        .iter()
        .map(|i| {
            [
                i.name.clone(),
                format!("{}/{}", i.interface, i.vrid),
                format!("v{} {}", i.version, i.family),
                if i.drained {
                    format!("{} DRAINED", i.state)
                } else {
                    i.state.clone()
                },
                // How long in this state: a flap shows at a glance.
                i.state_since_unix_ms.map_or_else(
                    || "-".into(),
                    |at| duration(status.taken_unix_ms.saturating_sub(at)),
                ),
                if i.base_priority == i.effective_priority {
                    i.effective_priority.to_string()
                } else {
                    format!("{} (base {})", i.effective_priority, i.base_priority)
                },
                i.master.clone().unwrap_or_else(|| "-".into()),
                i.virtual_addresses.join(","),
            ]
        })
        .collect();
    let header = [
        "INSTANCE", "IF/VRID", "PROTO", "STATE", "SINCE", "PRIO", "MASTER", "VIPS",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut line = |cells: &[&str]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// `vigil status NAME`: the instance named `name`, or every member of the sync group named
/// `name`, in detail; `None` when nothing has that name.
pub fn render_detail(status: &Status, name: &str) -> Option<String> {
    let chosen = select(status, name);
    if chosen.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (n, i) in chosen.into_iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        detail(&mut out, status, i);
    }
    Some(out)
}

/// The instance named `name`, or else the members of the sync group named `name`.
pub fn select<'a>(status: &'a Status, name: &str) -> Vec<&'a InstanceStatus> {
    match status.instances.iter().find(|i| i.name == name) {
        Some(one) => vec![one],
        None => status
            .instances
            .iter()
            .filter(|i| i.sync_group.as_deref() == Some(name))
            .collect(),
    }
}

/// The width of the field names in the detail view.
const KEY: usize = 26;

fn detail(out: &mut String, status: &Status, i: &InstanceStatus) {
    let mut field = |key: &str, value: String| {
        let _ = writeln!(out, "{key:<KEY$} {value}");
    };
    field("Instance", i.name.clone());
    field("Interface / VRID", format!("{} / {}", i.interface, i.vrid));
    field("Protocol", format!("VRRPv{} {}", i.version, i.family));
    if let Some(g) = &i.sync_group {
        field("Sync group", g.clone());
    }
    field(
        "State",
        match i.state_since_unix_ms {
            Some(at) => format!(
                "{} since {} ({})",
                i.state,
                utc(at),
                duration(status.taken_unix_ms.saturating_sub(at))
            ),
            None => i.state.clone(),
        },
    );
    if let (Some(dev), Some(mac)) = (&i.vmac_interface, &i.virtual_mac) {
        field("VMAC interface", format!("{dev} ({mac})"));
    }
    // FRR's "Shutdown": out of MASTER by the operator's hand.
    field(
        "Drained",
        if i.drained {
            "yes (vigil undrain to return)".into()
        } else {
            "no".into()
        },
    );
    field("Primary address", i.primary_address.clone());
    field("Address owner", yes_no(i.address_owner));
    field(
        "Priority",
        format!(
            "{} effective, {} base",
            i.effective_priority, i.base_priority
        ),
    );
    for t in &i.trackers {
        let state = match t.value {
            Some(v) => format!("value {v}"),
            None => t.state.clone(),
        };
        let effect = if t.fault {
            "FAULT".to_string()
        } else {
            format!("applied {:+}", t.applied)
        };
        let weight = format!(
            "weight {}{}",
            t.weight,
            if t.reverse { " reverse" } else { "" }
        );
        field(
            &format!("  tracker {} {}", t.kind, t.name),
            format!("{state:<10} {weight:<18} {effect}"),
        );
    }
    field(
        "Master",
        match (&i.master, i.master_priority) {
            (Some(addr), Some(p)) if i.state == "MASTER" => {
                format!("{addr} (this router, priority {p})")
            }
            (Some(addr), Some(p)) => format!("{addr} (priority {p})"),
            (Some(addr), None) => addr.clone(),
            (None, _) => "none heard".into(),
        },
    );
    field(
        "Advertisement interval",
        format!(
            "{} configured, {} in use (Master_Adver_Interval)",
            centis(i.configured_advert_interval_centis),
            centis(i.advert_interval_centis)
        ),
    );
    field(
        "Master_Down_Interval",
        format!("{:.3} s", i.master_down_interval_ms as f64 / 1000.0),
    );
    field(
        "Skew_Time",
        format!("{:.3} s", i.skew_time_us as f64 / 1_000_000.0),
    );
    field(
        "Preempt",
        if i.preempt {
            format!("yes, delay {}", centis(i.preempt_delay_centis))
        } else {
            "no (nopreempt)".into()
        },
    );
    field("Accept", yes_no(i.accept));
    field("Virtual addresses", list(&i.virtual_addresses));
    field("Excluded addresses", list(&i.excluded_addresses));
    field(
        "Adverts sent / received",
        format!("{} / {}", i.adverts_sent, i.adverts_received),
    );
    field(
        "Priority 0 sent / received",
        format!("{} / {}", i.priority_zero_sent, i.priority_zero_received),
    );
    field(
        "Transitions",
        format!("{} (became master {})", i.transitions, i.became_master),
    );
    field(
        "Drops",
        if i.drops.is_empty() {
            "none".into()
        } else {
            i.drops
                .iter()
                .map(|(reason, n)| format!("{reason} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    if !i.recent_transitions.is_empty() {
        let _ = writeln!(out, "Last transitions");
        for t in &i.recent_transitions {
            let _ = writeln!(
                out,
                "  {}  {} -> {}  {} (priority {})",
                utc(t.at_unix_ms),
                t.from,
                t.to,
                t.reason,
                t.priority
            );
        }
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Centiseconds as seconds: "1 s", "0.25 s".
fn centis(c: u32) -> String {
    if c % 100 == 0 {
        format!("{} s", c / 100)
    } else {
        format!("{}.{:02} s", c / 100, c % 100)
    }
}

/// A duration as people read it: "3d 2h", "5m 12s", "1.250s".
fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{}.{:03}s", s, ms % 1000),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

/// Milliseconds since the Unix epoch as UTC: "2026-12-01 14:20:03.512 UTC".
fn utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        unix_ms % 1000
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{TrackerStatus, TransitionStatus};

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        // 2000-02-29 (a leap day of a century leap year) 12:34:56.789.
        assert_eq!(utc(951_827_696_789), "2000-02-29 12:34:56.789 UTC");
        assert_eq!(utc(1_796_083_200_000), "2026-12-01 00:00:00.000 UTC");
    }

    fn detailed() -> Status {
        Status {
            taken_unix_ms: 1_796_083_200_000 + 200_000,
            instances: vec![InstanceStatus {
                name: "gw".into(),
                interface: "eth0".into(),
                vrid: 51,
                version: 3,
                family: "ipv4".into(),
                state: "BACKUP".into(),
                base_priority: 150,
                effective_priority: 140,
                master: Some("192.0.2.2".into()),
                master_priority: Some(200),
                advert_interval_centis: 50,
                configured_advert_interval_centis: 100,
                master_down_interval_ms: 1_500,
                skew_time_us: 21_875,
                virtual_addresses: vec!["192.0.2.100/24".into(), "198.51.100.1/32".into()],
                excluded_addresses: vec!["198.51.100.1/32".into()],
                sync_group: Some("G1".into()),
                vmac_interface: Some("vrrp.51".into()),
                virtual_mac: Some("00:00:5e:00:01:33".into()),
                primary_address: "192.0.2.1".into(),
                state_since_unix_ms: Some(1_796_083_200_000 + 80_000),
                state_duration_ms: Some(120_000),
                preempt: true,
                preempt_delay_centis: 250,
                accept: true,
                transitions: 3,
                became_master: 1,
                adverts_sent: 40,
                adverts_received: 12,
                priority_zero_sent: 1,
                priority_zero_received: 2,
                drops: [("interval_mismatch".to_string(), 9)].into(),
                trackers: vec![
                    TrackerStatus {
                        kind: "script".into(),
                        name: "chk_web".into(),
                        state: "down".into(),
                        weight: -10,
                        applied: -10,
                        ..Default::default()
                    },
                    TrackerStatus {
                        kind: "interface".into(),
                        name: "eth1".into(),
                        state: "up".into(),
                        ..Default::default()
                    },
                ],
                recent_transitions: vec![TransitionStatus {
                    at_unix_ms: 1_796_083_200_000 + 80_000,
                    from: "MASTER".into(),
                    to: "BACKUP".into(),
                    reason: "higher priority advertisement".into(),
                    priority: 140,
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn detail_shows_every_field() {
        let status = detailed();
        let text = render_detail(&status, "gw").expect("gw is there");
        let line = |key: &str| -> String {
            text.lines()
                .find(|l| l.starts_with(key))
                .unwrap_or_else(|| panic!("no {key:?} line in:\n{text}"))
                .to_string()
        };
        assert!(line("Instance").ends_with(" gw"), "{text}");
        assert!(line("Interface / VRID").ends_with("eth0 / 51"), "{text}");
        assert!(line("Protocol").ends_with("VRRPv3 ipv4"), "{text}");
        assert!(line("Sync group").ends_with("G1"), "{text}");
        assert!(
            line("State").ends_with("BACKUP since 2026-12-01 00:01:20.000 UTC (2m 0s)"),
            "{text}"
        );
        assert!(line("Primary address").ends_with("192.0.2.1"), "{text}");
        assert!(
            line("VMAC interface").ends_with("vrrp.51 (00:00:5e:00:01:33)"),
            "{text}"
        );
        assert!(line("Address owner").ends_with("no"), "{text}");
        assert!(line("Drained").ends_with("no"), "{text}");
        assert!(
            line("Priority").ends_with("140 effective, 150 base"),
            "{text}"
        );
        let script = line("  tracker script chk_web");
        assert!(script.contains("down"), "{text}");
        assert!(script.contains("weight -10"), "{text}");
        assert!(script.ends_with("applied -10"), "{text}");
        assert!(
            line("  tracker interface eth1").ends_with("applied +0"),
            "{text}"
        );
        assert!(
            line("Master ").ends_with("192.0.2.2 (priority 200)"),
            "{text}"
        );
        assert!(
            line("Advertisement interval")
                .ends_with("1 s configured, 0.50 s in use (Master_Adver_Interval)"),
            "{text}"
        );
        assert!(line("Master_Down_Interval").ends_with("1.500 s"), "{text}");
        assert!(line("Skew_Time").ends_with("0.022 s"), "{text}");
        assert!(line("Preempt").ends_with("yes, delay 2.50 s"), "{text}");
        assert!(line("Accept").ends_with("yes"), "{text}");
        assert!(
            line("Virtual addresses").ends_with("192.0.2.100/24, 198.51.100.1/32"),
            "{text}"
        );
        assert!(
            line("Excluded addresses").ends_with("198.51.100.1/32"),
            "{text}"
        );
        assert!(
            line("Adverts sent / received").ends_with("40 / 12"),
            "{text}"
        );
        assert!(
            line("Priority 0 sent / received").ends_with("1 / 2"),
            "{text}"
        );
        assert!(
            line("Transitions").ends_with("3 (became master 1)"),
            "{text}"
        );
        assert!(line("Drops").ends_with("interval_mismatch 9"), "{text}");
        assert!(
            line("  2026-12-01 00:01:20.000 UTC")
                .ends_with("MASTER -> BACKUP  higher priority advertisement (priority 140)"),
            "{text}"
        );
    }

    #[test]
    fn detail_marks_fault_trackers_and_finds_sync_groups() {
        let mut status = detailed();
        status.instances[0].trackers[1].fault = true;
        status.instances[0].trackers[1].state = "down".into();
        let mut other = status.instances[0].clone();
        other.name = "gw6".into();
        status.instances.push(other);
        let text = render_detail(&status, "G1").expect("the group's members");
        assert_eq!(text.matches("Instance ").count(), 2, "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("  tracker interface eth1") && l.ends_with("FAULT")),
            "{text}"
        );
        assert!(render_detail(&status, "nothing").is_none());
    }

    #[test]
    fn one_aligned_line_per_instance() {
        let status = Status {
            version: "0.1.0".into(),
            pid: 42,
            taken_unix_ms: 10_000_000,
            config: "/etc/vigil.yaml".into(),
            instances: vec![InstanceStatus {
                name: "gw".into(),
                interface: "eth0".into(),
                vrid: 51,
                version: 3,
                family: "ipv4".into(),
                state: "MASTER".into(),
                base_priority: 150,
                effective_priority: 140,
                master: Some("192.0.2.1".into()),
                virtual_addresses: vec!["192.0.2.100/24".into()],
                state_since_unix_ms: Some(10_000_000 - 192_000),
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = render_human(&status);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1].split_whitespace().next(), Some("INSTANCE"));
        assert!(lines[2].starts_with("gw "), "{text}");
        assert!(lines[2].contains("140 (base 150)"), "{text}");
        assert!(lines[2].contains("MASTER  3m 12s  140"), "{text}");
    }

    #[test]
    fn a_drained_instance_and_a_failed_reload_show() {
        let status = Status {
            instances: vec![InstanceStatus {
                name: "gw".into(),
                state: "BACKUP".into(),
                drained: true,
                ..Default::default()
            }],
            last_reload: Some(crate::control::LastReload {
                time: 1_700_000_000,
                ok: false,
                error: Some("a.conf:3:5: error: bad\nmore".into()),
            }),
            ..Default::default()
        };
        let text = render_human(&status);
        assert!(text.contains("BACKUP DRAINED"), "{text}");
        let header = text.lines().nth(1).unwrap_or_default();
        assert!(header.contains("last reload FAILED"), "{text}");
        assert!(header.contains("a.conf:3:5: error: bad"), "{text}");
        assert!(!header.contains("more"), "{text}");
    }
}
