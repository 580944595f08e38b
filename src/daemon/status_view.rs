//! The snapshot `vigil status` serves, built from the core's state: what FRR's `show vrrp`
//! shows (state and since when, base and effective priority with each tracker's share, the
//! master's address and priority, the intervals and timers, the modes, counters, drops, the
//! last transitions).
//!
//! The core keeps monotonic [`Time`]; the driver passes the wall clock with the request, so
//! the core still reads no clock and a past instant is shown as `unix_now - (now - then)`.

use std::time::Duration;

use super::core::{Core, Effects};
use crate::control::{InstanceStatus, SCHEMA, Status, TrackerStatus, TransitionStatus};
use crate::fsm::{InstanceId, State, Time};
use crate::track::{Contribution, TrackerKind, TrackerState, contribution};
use crate::types::Family;

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl<E: Effects> Core<E> {
    /// The snapshot `vigil status` serves; `now` is the core's time and `unix_now` the wall
    /// clock (since the Unix epoch) at the same moment.
    pub fn status(&self, config: &str, now: Time, unix_now: Duration) -> Status {
        let unix_ms = |at: Time| millis(unix_now.saturating_sub(now.saturating_sub(at)));
        let instances = self
            .node
            .iter()
            .map(|(id, inst, slot)| {
                let plan = &slot.plan;
                let c = &slot.counters;
                let state = inst.state();
                let since = c.history.last().map(|r| r.at);
                let advertised = &plan.tx.repr.addresses;
                InstanceStatus {
                    name: plan.name().to_owned(),
                    interface: plan.interface.to_string(),
                    vrid: plan.fsm.vrid.get(),
                    version: plan.fsm.version.number(),
                    family: match plan.fsm.family {
                        Family::V4 => "ipv4".into(),
                        Family::V6 => "ipv6".into(),
                    },
                    state: state.to_string(),
                    base_priority: plan.fsm.priority.get(),
                    effective_priority: inst.effective_priority().get(),
                    master: if state == State::Master {
                        Some(plan.fsm.primary_addr.to_string())
                    } else {
                        c.last_master.map(|a| a.to_string())
                    },
                    advert_interval_centis: inst.master_adver_interval().get(),
                    master_down_interval_ms: millis(inst.master_down_interval()),
                    virtual_addresses: plan.vip_display(),
                    transitions: c.transitions,
                    adverts_sent: c.adverts_sent,
                    adverts_received: c.adverts_received,
                    drops: c.drops.by_label(),
                    sync_group: self.group_name(id),
                    primary_address: plan.fsm.primary_addr.to_string(),
                    address_owner: plan.fsm.priority.get() == 255,
                    state_since_unix_ms: since.map(unix_ms),
                    state_duration_ms: since.map(|at| millis(now.saturating_sub(at))),
                    master_priority: if state == State::Master {
                        Some(inst.effective_priority().get())
                    } else {
                        c.last_master.map(|_| c.last_master_priority)
                    },
                    configured_advert_interval_centis: plan.fsm.advert_int.get(),
                    skew_time_us: u64::try_from(inst.skew_time().as_micros()).unwrap_or(u64::MAX),
                    preempt: plan.fsm.preempt,
                    preempt_delay_centis: plan.fsm.preempt_delay.get(),
                    accept: plan.fsm.accept,
                    excluded_addresses: plan
                        .vips
                        .iter()
                        .filter(|v| !advertised.contains(&v.addr))
                        .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                        .collect(),
                    vmac_interface: plan.vmac.as_ref().map(|v| v.name.clone()),
                    // RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4), 00-00-5E-00-02-{VRID} (IPv6).
                    virtual_mac: plan.vmac.as_ref().map(|_| {
                        let family = if plan.fsm.family == Family::V4 { 1 } else { 2 };
                        format!("00:00:5e:00:{family:02x}:{:02x}", plan.fsm.vrid.get())
                    }),
                    trackers: plan
                        .tracking
                        .tracked
                        .iter()
                        .map(|t| {
                            let known = self.trackers.state(&t.id);
                            let (applied, fault) = match contribution(t, known) {
                                Contribution::Add(w) => (w, false),
                                Contribution::Fault | Contribution::Pending => (0, true),
                            };
                            TrackerStatus {
                                kind: tracker_kind(t.id.kind).into(),
                                name: t.id.name.clone(),
                                state: match known {
                                    None => "unknown",
                                    Some(TrackerState::Up) => "up",
                                    Some(TrackerState::Down) => "down",
                                    Some(TrackerState::Value(_)) => "value",
                                }
                                .into(),
                                value: match known {
                                    Some(TrackerState::Value(v)) => Some(v),
                                    _ => None,
                                },
                                weight: t.weight,
                                reverse: t.reverse,
                                applied,
                                fault,
                            }
                        })
                        .collect(),
                    became_master: c.became_master.into(),
                    priority_zero_sent: c.priority_zero_sent.into(),
                    priority_zero_received: c.priority_zero_received.into(),
                    recent_transitions: c
                        .history
                        .records()
                        .iter()
                        .map(|r| TransitionStatus {
                            at_unix_ms: unix_ms(r.at),
                            from: r.from.to_string(),
                            to: r.to.to_string(),
                            reason: r.reason.to_string(),
                            priority: r.priority.get(),
                        })
                        .collect(),
                    drained: inst.drained(),
                }
            })
            .collect();
        Status {
            schema: SCHEMA,
            taken_unix_ms: millis(unix_now),
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            config: config.into(),
            router_id: self.router_id.clone(),
            instances,
            socket_drops: self.socket_drops.by_label(),
            // Known to the driver, which runs the preparations; it fills this in.
            last_reload: None,
        }
    }

    fn group_name(&self, id: InstanceId) -> Option<String> {
        let g = self.group_index(id)?;
        self.groups.get(g).map(|g| g.plan.name.clone())
    }
}

fn tracker_kind(kind: TrackerKind) -> &'static str {
    match kind {
        TrackerKind::Script => "script",
        TrackerKind::File => "file",
        TrackerKind::Process => "process",
        TrackerKind::Interface => "interface",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::core_tests::{advert_from_peer, instance, run_until, secs, started};
    use crate::daemon::input::CoreInput;
    use crate::track::TrackerUpdate;

    /// 1,000,000 s after the Unix epoch when the core's clock reads 20 s.
    const UNIX_AT_20S: Duration = Duration::from_secs(1_000_000);

    #[test]
    fn status_shows_trackers_the_master_transitions_and_timers() {
        let conf = format!(
            "vrrp_script chk {{\n script \"/bin/true\"\n weight -20\n}}\n{}",
            instance(
                "VI_1",
                1,
                150,
                " track_script {\n  chk\n }\n preempt_delay 2\n \
                 virtual_ipaddress_excluded {\n  198.51.100.7/32\n }\n"
            )
        );
        let mut core = started(&conf);
        core.handle(
            secs(0.5),
            CoreInput::Tracker(TrackerUpdate::script("chk", false)),
        );
        // Nobody else advertises: MASTER after Master_Down_Interval.
        run_until(&mut core, secs(5.0));
        let master_at = core.status("t", secs(20.0), UNIX_AT_20S).instances[0]
            .state_since_unix_ms
            .expect("a transition");
        let peer = advert_from_peer(&core, "VI_1", 200);
        core.handle(secs(6.0), peer);
        let leaving = advert_from_peer(&core, "VI_1", 0);
        core.handle(secs(7.0), leaving);

        let status = core.status("t", secs(20.0), UNIX_AT_20S);
        assert_eq!(status.schema, crate::control::SCHEMA);
        assert_eq!(status.taken_unix_ms, 1_000_000_000);
        let i = &status.instances[0];
        assert_eq!((i.base_priority, i.effective_priority), (150, 130));
        assert_eq!(i.trackers.len(), 1);
        let t = &i.trackers[0];
        assert_eq!(
            (t.kind.as_str(), t.name.as_str(), t.state.as_str()),
            ("script", "chk", "down")
        );
        assert_eq!((t.weight, t.applied, t.fault), (-20, -20, false));
        // The peer at 200 took over; its priority 0 later does not make it forget who it was.
        assert_eq!(i.state, "BACKUP");
        assert_eq!(i.master.as_deref(), Some("192.0.2.2"));
        assert_eq!(i.master_priority, Some(200));
        assert_eq!((i.priority_zero_received, i.priority_zero_sent), (1, 0));
        assert_eq!(i.became_master, 1);
        assert_eq!(i.primary_address, "192.0.1.1");
        assert!(!i.address_owner);
        assert_eq!(i.configured_advert_interval_centis, 100);
        assert_eq!(i.advert_interval_centis, 100);
        // RFC 5798 §6.1 (v2: whole seconds): Skew_Time = (256 - 130) / 256 s.
        assert_eq!(i.skew_time_us, 492_187);
        assert_eq!(i.master_down_interval_ms, 3_492);
        // keepalived accepts by default unless `vrrp_strict`.
        assert_eq!(
            (i.preempt, i.preempt_delay_centis, i.accept),
            (true, 200, true)
        );
        assert_eq!(i.excluded_addresses, vec!["198.51.100.7/32".to_string()]);
        assert_eq!(i.virtual_addresses.len(), 2);
        assert_eq!(
            (i.vmac_interface.as_deref(), i.virtual_mac.as_deref()),
            (None, None)
        );
        // BACKUP since 6 s: 14 s before the snapshot.
        assert_eq!(i.state_since_unix_ms, Some(1_000_000_000 - 14_000));
        assert_eq!(i.state_duration_ms, Some(14_000));
        let history: Vec<(&str, &str, &str, u8)> = i
            .recent_transitions
            .iter()
            .map(|t| {
                (
                    t.from.as_str(),
                    t.to.as_str(),
                    t.reason.as_str(),
                    t.priority,
                )
            })
            .collect();
        assert_eq!(
            history,
            vec![
                ("INIT", "BACKUP", "startup", 150),
                (
                    "BACKUP",
                    "MASTER",
                    "master down: no advertisement for Master_Down_Interval (3492 ms), no master heard",
                    130
                ),
                (
                    "MASTER",
                    "BACKUP",
                    "higher-priority advertisement from 192.0.2.2 (prio 200 > ours 130)",
                    130
                ),
            ]
        );
        assert_eq!(i.recent_transitions[1].at_unix_ms, master_at);
        assert_eq!(i.transitions, 3);
    }

    #[test]
    fn status_names_the_vmac_and_its_virtual_mac() {
        let core = started(&instance("VI_7", 7, 100, " use_vmac vrrp.7\n"));
        let status = core.status("t", secs(1.0), UNIX_AT_20S);
        let i = &status.instances[0];
        assert_eq!(i.vmac_interface.as_deref(), Some("vrrp.7"));
        assert_eq!(i.virtual_mac.as_deref(), Some("00:00:5e:00:01:07"));
    }
}
