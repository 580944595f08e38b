//! `vigil status` for people: one line per instance, aligned.

use std::fmt::Write;

use super::status::Status;

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
    let rows: Vec<[String; 7]> = status
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
        "INSTANCE", "IF/VRID", "PROTO", "STATE", "PRIO", "MASTER", "VIPS",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::InstanceStatus;

    #[test]
    fn one_aligned_line_per_instance() {
        let status = Status {
            version: "0.1.0".into(),
            pid: 42,
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
                ..Default::default()
            }],
            ..Default::default()
        };
        let text = render_human(&status);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1].split_whitespace().next(), Some("INSTANCE"));
        assert!(lines[2].starts_with("gw "), "{text}");
        assert!(lines[2].contains("140 (base 150)"), "{text}");
        assert!(lines[2].contains("MASTER"), "{text}");
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
