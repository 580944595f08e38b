//! The core with `RecordingEffects`: demultiplexing, the per-instance receive checks, drop
//! counting by reason, notify mapping and the VIP restore rule, with a virtual clock.

use std::net::{IpAddr, Ipv4Addr};

use super::core::{Binding, Core, Dropped, Effects, Event, RxAdvert, SocketKey};
use crate::fsm::{InstanceConfig, InstanceId, Node, Time};
use crate::notify::NotifyState;
use crate::types::{Centis, Family, Priority, Version, Vrid};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    Advert(usize, u8),
    Install(usize),
    Remove(usize),
    Announce(usize, u8),
    Notify(usize, NotifyState, u8),
    Restore(usize, IpAddr),
}

#[derive(Default)]
struct RecordingEffects(Vec<Effect>);

impl Effects for RecordingEffects {
    fn send_advert(&mut self, id: InstanceId, priority: Priority) {
        self.0.push(Effect::Advert(id.0, priority.get()));
    }
    fn install_vips(&mut self, id: InstanceId) {
        self.0.push(Effect::Install(id.0));
    }
    fn remove_vips(&mut self, id: InstanceId) {
        self.0.push(Effect::Remove(id.0));
    }
    fn announce(&mut self, id: InstanceId, count: u8) {
        self.0.push(Effect::Announce(id.0, count));
    }
    fn notify(&mut self, id: InstanceId, state: NotifyState, priority: Priority) {
        self.0.push(Effect::Notify(id.0, state, priority.get()));
    }
    fn restore_vip(&mut self, id: InstanceId, addr: IpAddr) {
        self.0.push(Effect::Restore(id.0, addr));
    }
}

const SOCKET: SocketKey = SocketKey {
    ifindex: 2,
    family: Family::V4,
    protocol: 112,
};
const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));

fn vrid(n: u8) -> Vrid {
    Vrid::new(n).unwrap_or_else(|| unreachable!())
}

/// One instance (VRID 10, `version`, priority 100, 1 s) on SOCKET.
fn core(version: Version) -> Core<RecordingEffects> {
    let mut node = Node::new();
    node.add_instance(InstanceConfig::new("vi", vrid(10), version, ME));
    let binding = Binding {
        name: "vi".into(),
        interface: "eth0".into(),
        ifindex: 2,
        socket: SOCKET,
        vrid: vrid(10),
        version,
        virtual_addresses: vec![VIP],
        virtual_display: vec!["192.0.2.100/24".into()],
    };
    Core::new(node, vec![binding], RecordingEffects::default())
}

fn advert(version: Version, vrid: u8, priority: u8, interval: u32) -> Event {
    Event::Packet {
        socket: SOCKET,
        result: Ok(RxAdvert {
            src: PEER,
            version,
            vrid,
            priority: Priority::new(priority),
            max_advert_int: Centis::new(interval),
            addresses: vec![VIP],
        }),
    }
}

fn secs(s: u64) -> Time {
    Time::from_micros(s * 1_000_000)
}

fn drops(core: &Core<RecordingEffects>) -> std::collections::BTreeMap<String, u64> {
    core.status("test").instances[0].drops.clone()
}

#[test]
fn packets_are_demultiplexed_by_vrid_and_unknown_ones_counted_on_the_socket() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    c.handle(secs(1), advert(Version::V3, 11, 200, 100));
    let status = c.status("test");
    assert_eq!(status.socket_drops.get("unknown_vrid"), Some(&1));
    assert_eq!(status.instances[0].adverts_received, 0);
    c.handle(secs(1), advert(Version::V3, 10, 200, 100));
    assert_eq!(c.status("test").instances[0].adverts_received, 1);
}

#[test]
fn drops_from_the_receive_task_are_counted_by_reason_on_their_instance_or_socket() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    let ours = |reason| Dropped {
        vrid: Some(10),
        reason,
    };
    for dropped in [
        ours("bad_ttl"),
        ours("bad_ttl"),
        ours("bad_checksum"),
        Dropped::socket("too_short"),
    ] {
        c.handle(
            secs(1),
            Event::Packet {
                socket: SOCKET,
                result: Err(dropped),
            },
        );
    }
    let status = c.status("test");
    assert_eq!(status.instances[0].drops.get("bad_ttl"), Some(&2));
    assert_eq!(status.instances[0].drops.get("bad_checksum"), Some(&1));
    assert_eq!(status.socket_drops.get("too_short"), Some(&1));
    assert_eq!(status.instances[0].adverts_received, 0);
}

#[test]
fn v2_advert_with_another_interval_is_dropped_rfc3768_7_1() {
    let mut c = core(Version::V2);
    c.start(secs(0));
    c.handle(secs(1), advert(Version::V2, 10, 200, 200));
    assert_eq!(drops(&c).get("interval_mismatch"), Some(&1));
    // The dropped advert did not reset the Master_Down_Timer: the instance still takes over
    // at 3 × 1 s + skew after startup.
    c.tick(secs(4));
    assert_eq!(c.status("test").instances[0].state, "MASTER");
}

#[test]
fn advert_of_the_other_version_is_dropped() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    c.handle(secs(1), advert(Version::V2, 10, 200, 100));
    assert_eq!(drops(&c).get("version_mismatch"), Some(&1));
}

#[test]
fn becoming_master_installs_before_announcing_and_notifies_last() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    c.tick(secs(4));
    let effects = &c.effects().0;
    let pos = |f: &dyn Fn(&Effect) -> bool| effects.iter().position(f);
    let install = pos(&|e| matches!(e, Effect::Install(0))).expect("VIPs installed");
    let announce = pos(&|e| matches!(e, Effect::Announce(0, _))).expect("VIPs announced");
    let notify =
        pos(&|e| matches!(e, Effect::Notify(0, NotifyState::Master, 100))).expect("notify MASTER");
    assert!(install < announce && announce < notify, "{effects:?}");
}

#[test]
fn a_deleted_vip_is_restored_only_by_a_master() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    c.handle(
        secs(1),
        Event::AddressRemoved {
            ifindex: 2,
            addr: VIP,
        },
    );
    assert!(
        !c.effects()
            .0
            .iter()
            .any(|e| matches!(e, Effect::Restore(..))),
        "a backup restored a VIP"
    );
    c.tick(secs(4));
    c.handle(
        secs(5),
        Event::AddressRemoved {
            ifindex: 2,
            addr: VIP,
        },
    );
    assert!(c.effects().0.contains(&Effect::Restore(0, VIP)));
    // An address that is not ours is left alone.
    let other = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    c.handle(
        secs(5),
        Event::AddressRemoved {
            ifindex: 2,
            addr: other,
        },
    );
    assert!(!c.effects().0.contains(&Effect::Restore(0, other)));
}

#[test]
fn shutdown_of_a_master_sends_priority_zero_removes_vips_and_notifies_stop() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    c.tick(secs(4));
    let before = c.effects().0.len();
    c.shutdown(secs(5));
    let after = &c.effects().0[before..];
    assert_eq!(after.first(), Some(&Effect::Advert(0, 0)), "{after:?}");
    assert!(after.contains(&Effect::Remove(0)));
    assert!(
        after
            .iter()
            .any(|e| matches!(e, Effect::Notify(0, NotifyState::Stop, _)))
    );
}

#[test]
fn link_down_faults_the_instances_on_that_interface_only() {
    let mut c = core(Version::V3);
    c.start(secs(0));
    c.handle(
        secs(1),
        Event::Link {
            ifindex: 3,
            up: false,
        },
    );
    assert_eq!(c.status("test").instances[0].state, "BACKUP");
    c.handle(
        secs(1),
        Event::Link {
            ifindex: 2,
            up: false,
        },
    );
    assert_eq!(c.status("test").instances[0].state, "FAULT");
    assert!(
        c.effects()
            .0
            .iter()
            .any(|e| matches!(e, Effect::Notify(0, NotifyState::Fault, _)))
    );
}
