//! Daemon-level unit tests that cross modules: planning a VMAC instance and where the core
//! counts a dropped packet. No privileges, no sockets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::core::{Core, Dropped, Effects, Event, SocketKey};
use super::plan::{IfaceFacts, PlannedInstance, plan};
use crate::config::{LoadOptions, load_yaml_str};
use crate::fsm::{InstanceId, Node, Time};
use crate::notify::NotifyState;
use crate::types::Priority;

const BASE_IFINDEX: u32 = 2;
const VMAC_IFINDEX: u32 = 9;

fn facts(name: &str) -> Option<IfaceFacts> {
    (name == "eth0").then(|| IfaceFacts {
        ifindex: BASE_IFINDEX,
        name: "eth0".into(),
        mac: [0x02, 0, 0, 0, 0, 1],
        up: true,
        primary_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
        link_local_v6: Some("fe80::1".parse().unwrap_or(Ipv6Addr::LOCALHOST)),
        ipv6_forwarding: false,
    })
}

fn planned(instance_yaml: &str) -> Vec<PlannedInstance> {
    let text = format!(
        "instances:\n  - name: vi\n    interface: eth0\n    virtual_router_id: 51\n    \
         priority: 100\n{instance_yaml}"
    );
    let loaded = load_yaml_str(&text, Path::new("test.yaml"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config does not load: {e:?}\n{text}"));
    plan(&loaded.model, &facts).unwrap_or_else(|e| panic!("plan failed: {e:?}"))
}

const V4_VMAC: &str = "    family: ipv4\n    use_vmac: vrrp.51\n    virtual_ipaddress:\n      \
                       - {addr: '192.0.2.200', prefix_len: 24}\n";

#[test]
fn a_vmac_instance_sends_and_receives_on_its_vmac() {
    let mut p = planned(V4_VMAC).remove(0);
    assert_eq!(
        p.binding.socket.ifindex, BASE_IFINDEX,
        "unknown before it exists"
    );
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.binding.socket.ifindex, VMAC_IFINDEX);
    assert_eq!(p.ifname, "vrrp.51");
    // The instance still follows the base interface's link state and shows its name.
    assert_eq!(p.binding.ifindex, BASE_IFINDEX);
    assert_eq!(p.binding.interface, "eth0");
    assert!(p.vips.iter().all(|v| v.ifindex == VMAC_IFINDEX));
    assert_eq!(p.announce.ifindex, VMAC_IFINDEX);
    // keepalived: the IP source stays the base interface's primary address.
    assert_eq!(p.tx.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
}

#[test]
fn vmac_xmit_base_keeps_adverts_on_the_base_interface() {
    let mut p = planned(&format!("{V4_VMAC}    vmac_xmit_base: true\n")).remove(0);
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.binding.socket.ifindex, BASE_IFINDEX);
    assert_eq!(p.ifname, "eth0");
    // Addresses and announcements still live on the VMAC.
    assert!(p.vips.iter().all(|v| v.ifindex == VMAC_IFINDEX));
    assert_eq!(p.announce.ifindex, VMAC_IFINDEX);
}

#[test]
fn unicast_forces_vmac_xmit_base_as_keepalived_does() {
    let mut p = planned(&format!(
        "{V4_VMAC}    unicast_src_ip: 192.0.2.1\n    unicast_peer: ['192.0.2.2']\n"
    ))
    .remove(0);
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.binding.socket.ifindex, BASE_IFINDEX);
}

#[test]
fn an_ipv6_vmac_carries_the_advert_source() {
    let mut p = planned(
        "    family: ipv6\n    use_vmac: vrrp6.51\n    virtual_ipaddress:\n      \
         - {addr: '2001:db8::200', prefix_len: 64}\n",
    )
    .remove(0);
    let vmac = p.vmac.clone().expect("a VMAC plan");
    assert_eq!(vmac.source_v6, Some("fe80::1".parse().expect("literal")));
    assert_eq!(p.tx.src, IpAddr::V6("fe80::1".parse().expect("literal")));
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.binding.socket.ifindex, VMAC_IFINDEX);
}

#[test]
fn attach_vmac_is_a_no_op_without_use_vmac() {
    let mut p = planned(
        "    family: ipv4\n    virtual_ipaddress:\n      - {addr: '192.0.2.200', prefix_len: 24}\n",
    )
    .remove(0);
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.binding.socket.ifindex, BASE_IFINDEX);
    assert!(p.vips.iter().all(|v| v.ifindex == BASE_IFINDEX));
}

struct NoEffects;

impl Effects for NoEffects {
    fn send_advert(&mut self, _: InstanceId, _: Priority) {}
    fn install_vips(&mut self, _: InstanceId) {}
    fn remove_vips(&mut self, _: InstanceId) {}
    fn announce(&mut self, _: InstanceId, _: u8) {}
    fn notify(&mut self, _: InstanceId, _: NotifyState, _: Priority) {}
    fn restore_vip(&mut self, _: InstanceId, _: IpAddr) {}
}

fn core_for(p: &[PlannedInstance]) -> (Core<NoEffects>, SocketKey) {
    let mut node = Node::new();
    for i in p {
        node.add_instance(i.fsm.clone());
    }
    let bindings: Vec<_> = p.iter().map(|i| i.binding.clone()).collect();
    let key = bindings[0].socket;
    (Core::new(node, bindings, NoEffects), key)
}

fn drop_event(socket: SocketKey, vrid: Option<u8>, reason: &'static str) -> Event {
    Event::Packet {
        socket,
        result: Err(Dropped { vrid, reason }),
    }
}

#[test]
fn drops_naming_a_configured_vrid_count_against_that_instance() {
    let p = planned(
        "    family: ipv4\n    version: 2\n    authentication: {pass: right}\n    \
         virtual_ipaddress:\n      - {addr: '192.0.2.200', prefix_len: 24}\n",
    );
    let (mut core, key) = core_for(&p);
    let now = Time::ZERO;
    core.start(now);
    for _ in 0..3 {
        core.handle(now, drop_event(key, Some(51), "bad_password"));
    }
    core.handle(now, drop_event(key, Some(51), "bad_ttl"));
    // A VRID no instance on this socket has, or no VRID at all: the socket's.
    core.handle(now, drop_event(key, Some(52), "bad_ttl"));
    core.handle(now, drop_event(key, None, "unknown_vrid"));
    // The same VRID on another socket is not this instance's either.
    let other = SocketKey {
        ifindex: key.ifindex + 1,
        ..key
    };
    core.handle(now, drop_event(other, Some(51), "bad_password"));

    let status = core.status("test");
    let drops = &status.instances[0].drops;
    assert_eq!(drops.get("bad_password"), Some(&3), "{drops:?}");
    assert_eq!(drops.get("bad_ttl"), Some(&1), "{drops:?}");
    assert_eq!(status.socket_drops.get("bad_ttl"), Some(&1));
    assert_eq!(status.socket_drops.get("unknown_vrid"), Some(&1));
    assert_eq!(status.socket_drops.get("bad_password"), Some(&1));
    assert_eq!(status.instances[0].adverts_received, 0);
}
