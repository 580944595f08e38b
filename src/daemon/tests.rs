//! Planning tests that cross modules (VMAC instances, plan identity). No privileges, no sockets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use super::plan::{IfaceFacts, InstancePlan, plan};
use crate::config::{LoadOptions, load_yaml_str};

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

fn planned(instance_yaml: &str) -> Vec<InstancePlan> {
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
    assert_eq!(p.socket.ifindex, BASE_IFINDEX, "unknown before it exists");
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.socket.ifindex, VMAC_IFINDEX);
    assert_eq!(&*p.socket_ifname, "vrrp.51");
    // The instance still follows the base interface's link state and shows its name.
    assert_eq!(p.ifindex, BASE_IFINDEX);
    assert_eq!(&*p.interface, "eth0");
    assert!(p.vips.iter().all(|v| v.ifindex == VMAC_IFINDEX));
    assert_eq!(p.announce.ifindex, VMAC_IFINDEX);
    // keepalived: the IP source stays the base interface's primary address.
    assert_eq!(p.tx.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
}

#[test]
fn vmac_xmit_base_keeps_adverts_on_the_base_interface() {
    let mut p = planned(&format!("{V4_VMAC}    vmac_xmit_base: true\n")).remove(0);
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.socket.ifindex, BASE_IFINDEX);
    assert_eq!(&*p.socket_ifname, "eth0");
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
    assert_eq!(p.socket.ifindex, BASE_IFINDEX);
}

#[test]
fn an_ipv6_vmac_carries_the_advert_source() {
    let mut p = planned(
        "    family: ipv6\n    use_vmac: vrrp6.51\n    virtual_ipaddress:\n      \
         - {addr: '2001:db8::200', prefix_len: 64}\n",
    )
    .remove(0);
    let vmac = p.vmac.as_deref().cloned().expect("a VMAC plan");
    assert_eq!(vmac.source_v6, Some("fe80::1".parse().expect("literal")));
    assert_eq!(p.tx.src, IpAddr::V6("fe80::1".parse().expect("literal")));
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.socket.ifindex, VMAC_IFINDEX);
}

#[test]
fn attach_vmac_is_a_no_op_without_use_vmac() {
    let mut p = planned(
        "    family: ipv4\n    virtual_ipaddress:\n      - {addr: '192.0.2.200', prefix_len: 24}\n",
    )
    .remove(0);
    p.attach_vmac(VMAC_IFINDEX);
    assert_eq!(p.socket.ifindex, BASE_IFINDEX);
    assert!(p.vips.iter().all(|v| v.ifindex == BASE_IFINDEX));
}

#[test]
fn same_router_ignores_what_a_running_instance_can_take_in_place() {
    let base =
        "    family: ipv4\n    virtual_ipaddress:\n      - {addr: '192.0.2.200', prefix_len: 24}\n";
    let a = planned(base).remove(0);
    let priority = planned(&base.replace("family", "advert_int: 2\n    family")).remove(0);
    assert!(a.same_router(&priority), "timers are taken in place");
    let more_vips = planned(&format!(
        "{base}      - {{addr: '192.0.2.201', prefix_len: 24}}\n"
    ))
    .remove(0);
    assert!(a.same_router(&more_vips), "addresses are taken in place");
    let unicast = planned(&format!(
        "{base}    unicast_src_ip: 192.0.2.1\n    unicast_peer: ['192.0.2.2']\n"
    ))
    .remove(0);
    assert!(!a.same_router(&unicast), "peers change the router");
    let vmac = planned(V4_VMAC).remove(0);
    assert!(!a.same_router(&vmac));
}

fn planned_conf(conf: &str) -> InstancePlan {
    let loaded =
        crate::config::load_keepalived_str(conf, Path::new("k.conf"), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("config does not load: {e:?}\n{conf}"));
    plan(&loaded.model, &facts)
        .unwrap_or_else(|e| panic!("plan failed: {e:?}"))
        .remove(0)
}

fn unicast_conf(global: &str, instance: &str, peers: &str) -> String {
    format!(
        "global_defs {{\n{global}}}\nvrrp_instance vi {{\n interface eth0\n virtual_router_id 51\n \
         virtual_ipaddress {{\n  192.0.2.200/24\n }}\n{instance} unicast_peer {{\n{peers} }}\n}}\n"
    )
}

#[test]
fn the_source_check_is_planned_as_keepalived_turns_it_on() {
    use super::receive::PeerFilter;
    let peer = |a: [u8; 4], min_ttl, max_ttl| PeerFilter {
        addr: IpAddr::V4(Ipv4Addr::from(a)),
        min_ttl,
        max_ttl,
    };
    let peers = |p: &InstancePlan| p.rx_checks.peers.as_deref().map(<[_]>::to_vec);
    // Off by default: any source.
    let p = planned_conf(&unicast_conf("", "", "  192.0.2.2\n"));
    assert_eq!(peers(&p), None);
    // The instance keyword, or the global one.
    for (global, instance) in [
        ("", " check_unicast_src\n"),
        (" vrrp_check_unicast_src\n", ""),
    ] {
        let p = planned_conf(&unicast_conf(global, instance, "  192.0.2.2\n"));
        assert_eq!(peers(&p), Some(vec![peer([192, 0, 2, 2], 0, 255)]));
    }
    // keepalived's alloc_vrrp_unicast_peer: a TTL range turns the check on by itself.
    let p = planned_conf(&unicast_conf(
        "",
        "",
        "  192.0.2.2\n  192.0.2.3 min_ttl 60 max_ttl 64\n",
    ));
    assert_eq!(
        peers(&p),
        Some(vec![
            peer([192, 0, 2, 2], 0, 255),
            peer([192, 0, 2, 3], 60, 64)
        ])
    );
    // A multicast instance is not filtered by source, whatever the global says.
    let conf = "global_defs {\n vrrp_check_unicast_src\n}\nvrrp_instance vi {\n interface eth0\n \
                virtual_router_id 51\n virtual_ipaddress {\n  192.0.2.200/24\n }\n}\n";
    assert_eq!(peers(&planned_conf(conf)), None);
}

fn plain_conf(global: &str, instance: &str) -> String {
    format!(
        "global_defs {{\n{global}}}\nvrrp_instance vi {{\n interface eth0\n virtual_router_id 51\n \
         virtual_ipaddress {{\n  192.0.2.200/24\n }}\n{instance}}}\n"
    )
}

#[test]
fn excluded_addresses_are_installed_and_announced_but_not_advertised() {
    let p = planned_conf(&plain_conf(
        "",
        " virtual_ipaddress_excluded {\n  192.0.2.201/24\n  2001:db8::9/64\n }\n",
    ));
    let installed: Vec<IpAddr> = p.vips.iter().map(|v| v.addr).collect();
    assert_eq!(
        installed,
        vec![
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 201)),
            "2001:db8::9"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ]
    );
    assert_eq!(p.announce.frames.len(), 3, "announced like the VIPs");
    // The advert (and so the received address-list check, built from it) lists the VIP only.
    assert_eq!(
        p.tx.repr.addresses,
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200))]
    );
}

#[test]
fn state_machine_keywords_reach_the_state_machine() {
    let p = planned_conf(&plain_conf("", ""));
    assert_eq!(p.fsm.down_timer_adverts, 3);
    assert!(!p.fsm.higher_prio_send_advert);
    let p = planned_conf(&plain_conf(
        "",
        " down_timer_adverts 6\n higher_prio_send_advert\n",
    ));
    assert_eq!(p.fsm.down_timer_adverts, 6);
    assert!(p.fsm.higher_prio_send_advert);
    // The global defaults.
    let p = planned_conf(&plain_conf(
        " vrrp_down_timer_adverts 5\n vrrp_higher_prio_send_advert\n",
        "",
    ));
    assert_eq!(p.fsm.down_timer_adverts, 5);
    assert!(p.fsm.higher_prio_send_advert);
}

#[test]
fn v3_checksum_as_v2_reaches_send_and_receive() {
    use crate::wire::{V3Checksum, VRRP_GROUP_V4, vrrp::VrrpRepr};
    let v3 = " version 3\n";
    let rfc = planned_conf(&plain_conf("", v3));
    let as_v2 = planned_conf(&plain_conf("", &format!("{v3} v3_checksum_as_v2\n")));
    let global = planned_conf(&plain_conf(" v3_checksum_as_v2\n", v3));
    assert_eq!(rfc.tx.v3_checksum, V3Checksum::PseudoHeader);
    assert_eq!(rfc.rx.v3_checksum, V3Checksum::PseudoHeader);
    for p in [&as_v2, &global] {
        assert_eq!(p.tx.v3_checksum, V3Checksum::WithoutPseudoHeader);
        assert_eq!(p.rx.v3_checksum, V3Checksum::WithoutPseudoHeader);
    }
    // On the wire: what one sends, the other refuses (the checksums differ).
    let (src, dst) = (rfc.tx.src, IpAddr::V4(VRRP_GROUP_V4));
    let emit = |p: &InstancePlan| {
        let mut buf = vec![0u8; p.tx.repr.buffer_len_for(crate::types::Family::V4)];
        p.tx.repr
            .emit(&mut buf, src, dst, p.tx.v3_checksum)
            .unwrap_or_else(|e| panic!("emit: {e}"));
        buf
    };
    let (a, b) = (emit(&rfc), emit(&as_v2));
    assert_ne!(a, b);
    assert!(VrrpRepr::parse(&b, src, dst, &as_v2.rx).is_ok());
    assert!(VrrpRepr::parse(&b, src, dst, &rfc.rx).is_err());
    assert!(VrrpRepr::parse(&a, src, dst, &as_v2.rx).is_err());
}

#[test]
fn notify_priority_changes_comes_from_the_instance_its_sync_group_or_global() {
    assert!(!planned_conf(&plain_conf("", "")).notify_priority_changes);
    assert!(planned_conf(&plain_conf("", " notify_priority_changes\n")).notify_priority_changes);
    assert!(
        planned_conf(&plain_conf(" vrrp_notify_priority_changes\n", "")).notify_priority_changes
    );
    // keepalived: an instance that does not set it takes its sync group's first.
    let group = |g: &str, i: &str| {
        format!(
            "{}vrrp_sync_group G {{\n group {{\n  vi\n }}\n{g}}}\n",
            plain_conf(" vrrp_notify_priority_changes\n", i)
        )
    };
    assert!(!planned_conf(&group(" notify_priority_changes off\n", "")).notify_priority_changes);
    assert!(
        planned_conf(&group(
            " notify_priority_changes off\n",
            " notify_priority_changes on\n"
        ))
        .notify_priority_changes
    );
}
