//! The text of the dump files keepalived's signals ask for (`daemon/dumps.rs` writes them):
//! SIGUSR1's data dump and SIGUSR2's statistics, from one status snapshot. keepalived writes
//! `keepalived.data` (its configuration and state, instance by instance) and
//! `keepalived.stats` (per instance: adverts received and sent, mastership changes, packet
//! errors by kind); vigil's files have the same shape, with vigil's own counters.

use std::fmt::Write;

use super::render::render_human;
use super::status::Status;

/// SIGUSR1: `vigil status`'s table, then every instance in full.
pub fn render_data(status: &Status) -> String {
    let mut out = render_human(status);
    for i in &status.instances {
        let _ = writeln!(out, "\nVRRP Instance: {}", i.name);
        let _ = writeln!(out, "  State: {}", i.state);
        let _ = writeln!(out, "  Interface: {}", i.interface);
        let _ = writeln!(out, "  Virtual Router ID: {}", i.vrid);
        let _ = writeln!(out, "  Version: {} ({})", i.version, i.family);
        let _ = writeln!(out, "  Base priority: {}", i.base_priority);
        let _ = writeln!(out, "  Effective priority: {}", i.effective_priority);
        let _ = writeln!(
            out,
            "  Master: {}",
            i.master.as_deref().unwrap_or("unknown")
        );
        let _ = writeln!(
            out,
            "  Advertisement interval: {} cs",
            i.advert_interval_centis
        );
        let _ = writeln!(
            out,
            "  Master down interval: {} ms",
            i.master_down_interval_ms
        );
        let _ = writeln!(out, "  Virtual addresses:");
        for a in &i.virtual_addresses {
            let _ = writeln!(out, "    {a}");
        }
    }
    out
}

/// SIGUSR2: the counters, per instance, then the drops no instance could be blamed for.
pub fn render_stats(status: &Status) -> String {
    let mut out = String::new();
    for i in &status.instances {
        let _ = writeln!(out, "VRRP Instance: {}", i.name);
        let _ = writeln!(out, "  State: {}", i.state);
        let _ = writeln!(out, "  Advertisements:");
        let _ = writeln!(out, "    Received: {}", i.adverts_received);
        let _ = writeln!(out, "    Sent: {}", i.adverts_sent);
        let _ = writeln!(out, "  Transitions: {}", i.transitions);
        let _ = writeln!(out, "  Dropped:");
        for (reason, n) in &i.drops {
            let _ = writeln!(out, "    {reason}: {n}");
        }
    }
    let _ = writeln!(out, "Unrouted packets dropped:");
    for (reason, n) in &status.socket_drops {
        let _ = writeln!(out, "  {reason}: {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::control::InstanceStatus;

    fn status() -> Status {
        Status {
            instances: vec![InstanceStatus {
                name: "gw".into(),
                interface: "eth0".into(),
                vrid: 51,
                state: "MASTER".into(),
                virtual_addresses: vec!["192.0.2.100/24".into()],
                adverts_sent: 7,
                adverts_received: 3,
                transitions: 2,
                drops: BTreeMap::from([("bad_ttl".into(), 4)]),
                ..Default::default()
            }],
            socket_drops: BTreeMap::from([("unknown_vrid".into(), 5)]),
            ..Default::default()
        }
    }

    #[test]
    fn stats_show_every_counter_by_instance() {
        let text = render_stats(&status());
        for line in [
            "VRRP Instance: gw",
            "  State: MASTER",
            "    Received: 3",
            "    Sent: 7",
            "  Transitions: 2",
            "    bad_ttl: 4",
            "  unknown_vrid: 5",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }

    #[test]
    fn data_has_the_table_and_each_instance_in_full() {
        let text = render_data(&status());
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("INSTANCE"))
        );
        for line in ["VRRP Instance: gw", "  State: MASTER", "    192.0.2.100/24"] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }
}
