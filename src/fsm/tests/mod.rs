//! Unit tests, one per rule, named after the rule they pin down.

mod drain;
mod fault;
mod garp;
mod keepalived_keywords;
mod reload;
mod rfc_backup;
mod rfc_master;
mod rfc_startup;
mod serde_boundary;
mod sync_group;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::*;
use crate::types::{Centis, Priority, Version, Vrid};

pub(super) fn addr(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

pub(super) fn config(version: Version, priority: u8, last: u8) -> InstanceConfig {
    let mut c = InstanceConfig::new(
        "vi_test",
        Vrid::new(7).unwrap_or_else(|| unreachable!()),
        version,
        addr(last),
    );
    c.priority = Priority::new(priority);
    c
}

pub(super) fn ms(millis: u64) -> Time {
    Time::from_micros(millis * 1_000)
}

pub(super) fn us(micros: u64) -> Duration {
    Duration::from_micros(micros)
}

pub(super) fn advert(last: u8, priority: u8, interval_cs: u32) -> Input {
    Input::Advert(AdvertRx {
        src: addr(last),
        priority: Priority::new(priority),
        max_advert_int: Centis::new(interval_cs),
    })
}

pub(super) fn transitions(actions: &[Action]) -> Vec<(State, State, Reason)> {
    actions
        .iter()
        .filter_map(|a| match *a {
            Action::Transition { from, to, reason } => Some((from, to, reason)),
            _ => None,
        })
        .collect()
}

pub(super) fn adverts(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match *a {
            Action::SendAdvert { priority } => Some(priority.get()),
            _ => None,
        })
        .collect()
}

pub(super) fn announces(actions: &[Action]) -> Vec<(u8, AnnounceReason)> {
    actions
        .iter()
        .filter_map(|a| match *a {
            Action::Announce { count, reason } => Some((count, reason)),
            _ => None,
        })
        .collect()
}

/// An instance started at time 0 and driven to Master by its Master_Down_Timer.
pub(super) fn master(version: Version, priority: u8, last: u8) -> (Instance, Time) {
    let mut inst = Instance::new(config(version, priority, last));
    inst.handle(Time::ZERO, Input::Startup);
    let at = inst
        .next_deadline()
        .unwrap_or_else(|| unreachable!("backup arms its timer"));
    inst.handle(at, Input::TimerTick);
    assert_eq!(inst.state(), State::Master);
    (inst, at)
}
