//! Lab tests of `vigil::net` against a real kernel, inside network namespaces this file
//! creates (never the root namespace, never a real interface).
//!
//! Topology per test: a bridge namespace holding `br0` (and `br1` where needed), host namespaces
//! joined to it by veth pairs. Every name carries the pid and a counter, and a guard deletes
//! the namespaces on drop, also when the test panics. The code under test runs on a thread
//! that entered the host namespace, with its own current-thread tokio runtime.
//!
//! Root is needed: with `CI=true` or `VIGIL_LAB=1` the tests run and fail loudly if they cannot;
//! otherwise they skip with a printed reason.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vigil::net::netns::enter_thread_netns;
use vigil::net::{
    AddrScope, AddressSpec, Announcer, IpProtocol, NetEvent, Netlink, NetlinkEvents, VRRP_GROUP_V4,
    VRRP_GROUP_V6, VmacSpec, VrrpSocket,
};
use vigil::types::{Family, Vrid};

const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// The lab

static COUNTER: AtomicUsize = AtomicUsize::new(0);

struct Lab {
    prefix: String,
    namespaces: Vec<String>,
}

fn lab(test: &str) -> Option<Lab> {
    let required = std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("VIGIL_LAB").is_ok_and(|v| v == "1");
    if !required {
        eprintln!("{test}: skipped: lab tests need root and CI=true or VIGIL_LAB=1");
        return None;
    }
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "{test}: lab tests are required (CI/VIGIL_LAB) but we are not root"
    );
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    Some(Lab {
        prefix: format!("vgn{}x{n}", std::process::id()),
        namespaces: Vec::new(),
    })
}

fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("running {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Lab {
    /// Creates a namespace with lo up and IPv6 DAD off (so link-locals are usable at once).
    fn ns(&mut self, role: &str) -> String {
        let name = format!("{}{role}", self.prefix);
        sh(&["ip", "netns", "add", &name]);
        self.namespaces.push(name.clone());
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        for key in ["all", "default"] {
            sh(&[
                "ip",
                "netns",
                "exec",
                &name,
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.{key}.accept_dad=0"),
            ]);
        }
        name
    }

    /// A bridge namespace with `bridges` bridges, multicast snooping off so that the VRRP
    /// groups are flooded like on a plain switch.
    fn switch(&mut self, bridges: &[&str]) -> String {
        let ns = self.ns("sw");
        for br in bridges {
            sh(&[
                "ip",
                "-n",
                &ns,
                "link",
                "add",
                br,
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ]);
            sh(&["ip", "-n", &ns, "link", "set", br, "up"]);
        }
        ns
    }

    /// Plugs `host`'s new interface `ifname` into bridge `br` of `switch`, up, with `addr`.
    fn plug(&self, host: &str, ifname: &str, switch: &str, br: &str, addr: &str) {
        let port = format!("p{}", COUNTER.fetch_add(1, Ordering::SeqCst));
        sh(&[
            "ip", "-n", host, "link", "add", ifname, "type", "veth", "peer", "name", &port,
            "netns", switch,
        ]);
        sh(&["ip", "-n", switch, "link", "set", &port, "master", br, "up"]);
        sh(&["ip", "-n", host, "addr", "add", addr, "dev", ifname]);
        sh(&["ip", "-n", host, "link", "set", ifname, "up"]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Runs `f` on a new thread inside namespace `ns`, on a current-thread runtime.
fn spawn_in<T, F, Fut>(ns: &str, f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    let path = PathBuf::from("/run/netns").join(ns);
    std::thread::spawn(move || {
        enter_thread_netns(&path).unwrap_or_else(|e| panic!("entering {}: {e}", path.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(f())
    })
}

/// Waits for a thread's "ready" signal; if it never comes, surfaces that thread's own panic.
fn wait_ready<R, T>(
    ready: &mpsc::Receiver<R>,
    thread: JoinHandle<T>,
    what: &str,
) -> (R, JoinHandle<T>) {
    match ready.recv_timeout(WAIT) {
        Ok(r) => (r, thread),
        Err(e) => {
            join(thread);
            panic!("{what} never became ready: {e}");
        }
    }
}

fn join<T>(handle: JoinHandle<T>) -> T {
    match handle.join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

fn ifindex_in(ns: &str, ifname: &str) -> u32 {
    let json = sh(&["ip", "-n", ns, "-j", "link", "show", "dev", ifname]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("ip -j link");
    v[0]["ifindex"]
        .as_u64()
        .and_then(|i| u32::try_from(i).ok())
        .expect("ifindex")
}

/// A minimal IPv4 datagram for a raw IP_HDRINCL socket: the kernel fills in the checksum, the
/// total length and the source. TTL 255, protocol 112, then `payload`.
fn ipv4_datagram(dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 255, 112, 0, 0, 0, 0, 0, 0];
    d.extend_from_slice(&dst.octets());
    d.extend_from_slice(payload);
    d
}

const ADVERT: [u8; 8] = [0x31, 42, 100, 0, 0, 100, 0, 0];

// ---------------------------------------------------------------------------------------------
// Raw VRRP sockets

/// Two hosts on br0 (10.9.0.1, 10.9.0.2) and, where asked, on br1 (10.9.1.x).
fn two_hosts(lab: &mut Lab, second_link: bool) -> (String, String) {
    let sw = lab.switch(if second_link {
        &["br0", "br1"]
    } else {
        &["br0"]
    });
    let h1 = lab.ns("h1");
    let h2 = lab.ns("h2");
    lab.plug(&h1, "eth0", &sw, "br0", "10.9.0.1/24");
    lab.plug(&h2, "eth0", &sw, "br0", "10.9.0.2/24");
    if second_link {
        lab.plug(&h1, "eth1", &sw, "br1", "10.9.1.1/24");
        lab.plug(&h2, "eth1", &sw, "br1", "10.9.1.2/24");
    }
    (h1, h2)
}

#[test]
fn ipv4_multicast_and_unicast_adverts_arrive_with_ttl_255_on_the_right_interface() {
    let Some(mut lab) = lab("ipv4_multicast") else {
        return;
    };
    let (h1, h2) = two_hosts(&mut lab, false);
    let h2_eth0 = ifindex_in(&h2, "eth0");
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = spawn_in(&h2, move || async move {
        let socket =
            VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Vrrp).expect("open v4 socket");
        ready_tx.send(()).expect("signal ready");
        let mut got = Vec::new();
        for _ in 0..2 {
            let mut buf = [0u8; 1500];
            let rx = bounded("an IPv4 advert", socket.recv(&mut buf))
                .await
                .expect("recv");
            got.push((rx, buf[..rx.len].to_vec()));
        }
        got
    });
    let ((), receiver) = wait_ready(&ready_rx, receiver, "receiver");
    let h1_eth0 = ifindex_in(&h1, "eth0");
    join(spawn_in(&h1, move || async move {
        let socket =
            VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Vrrp).expect("open v4 socket");
        let group = IpAddr::V4(VRRP_GROUP_V4);
        bounded(
            "send",
            socket.send_to(&ipv4_datagram(VRRP_GROUP_V4, &ADVERT), group),
        )
        .await
        .expect("send mcast");
        let peer = Ipv4Addr::new(10, 9, 0, 2);
        bounded(
            "send",
            socket.send_to(&ipv4_datagram(peer, &ADVERT), IpAddr::V4(peer)),
        )
        .await
        .expect("send unicast");
    }));
    let got = join(receiver);
    let expect_dst = [
        IpAddr::V4(VRRP_GROUP_V4),
        IpAddr::V4(Ipv4Addr::new(10, 9, 0, 2)),
    ];
    for ((rx, bytes), dst) in got.iter().zip(expect_dst) {
        assert_eq!(rx.src, IpAddr::V4(Ipv4Addr::new(10, 9, 0, 1)));
        assert_eq!(rx.dst, Some(dst));
        assert_eq!(rx.hop_limit, Some(255), "TTL as received");
        assert_eq!(rx.ifindex, Some(h2_eth0));
        assert!(!rx.truncated);
        // Raw IPv4 sockets hand over the whole datagram: header (TTL at byte 8), then payload.
        assert_eq!(bytes.len(), 20 + ADVERT.len());
        assert_eq!(bytes[8], 255);
        assert_eq!(bytes[9], 112);
        assert_eq!(&bytes[20..], &ADVERT);
    }
}

#[test]
fn ipv6_multicast_and_unicast_adverts_carry_hop_limit_and_destination() {
    let Some(mut lab) = lab("ipv6_multicast") else {
        return;
    };
    let (h1, h2) = two_hosts(&mut lab, false);
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = spawn_in(&h2, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let link = nl.link_by_name("eth0").await.expect("eth0");
        let ll = nl
            .ipv6_link_local(link.ifindex)
            .await
            .expect("addresses")
            .expect("a link-local");
        let socket = VrrpSocket::open_v6("eth0", link.ifindex, ll).expect("open v6 socket");
        ready_tx.send(ll).expect("signal ready");
        let mut got = Vec::new();
        for _ in 0..2 {
            let mut buf = [0u8; 1500];
            let rx = bounded("an IPv6 advert", socket.recv(&mut buf))
                .await
                .expect("recv");
            got.push((rx, buf[..rx.len].to_vec()));
        }
        (link.ifindex, ll, got)
    });
    let (h2_ll, receiver) = wait_ready(&ready_rx, receiver, "receiver");
    let h1_ll = join(spawn_in(&h1, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let link = nl.link_by_name("eth0").await.expect("eth0");
        let ll = nl
            .ipv6_link_local(link.ifindex)
            .await
            .expect("addresses")
            .expect("a link-local");
        let socket = VrrpSocket::open_v6("eth0", link.ifindex, ll).expect("open v6 socket");
        bounded("send", socket.send_to(&ADVERT, IpAddr::V6(VRRP_GROUP_V6)))
            .await
            .expect("send mcast");
        bounded("send", socket.send_to(&ADVERT, IpAddr::V6(h2_ll)))
            .await
            .expect("send unicast");
        ll
    }));
    let (h2_eth0, _, got) = join(receiver);
    for ((rx, bytes), dst) in got.iter().zip([VRRP_GROUP_V6, h2_ll]) {
        assert_eq!(rx.src, IpAddr::V6(h1_ll));
        assert_eq!(
            rx.dst,
            Some(IpAddr::V6(dst)),
            "destination from IPV6_PKTINFO"
        );
        assert_eq!(rx.hop_limit, Some(255), "hop limit from IPV6_HOPLIMIT");
        assert_eq!(rx.ifindex, Some(h2_eth0));
        // The kernel strips the IPv6 header and leaves the checksum field alone.
        assert_eq!(bytes.as_slice(), &ADVERT);
    }
}

#[test]
fn sockets_ignore_other_groups_and_other_interfaces() {
    let Some(mut lab) = lab("isolation") else {
        return;
    };
    let (h1, h2) = two_hosts(&mut lab, true);
    let other_group = Ipv4Addr::new(224, 0, 0, 19);
    let (h2_eth0, h2_eth1) = (ifindex_in(&h2, "eth0"), ifindex_in(&h2, "eth1"));
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = spawn_in(&h2, move || async move {
        let s0 = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Vrrp).expect("socket on eth0");
        let s1 = VrrpSocket::open_v4("eth1", h2_eth1, IpProtocol::Vrrp).expect("socket on eth1");
        // Control: a plain raw 112 socket with the kernel's default IP_MULTICAST_ALL=1 that
        // joins only 224.0.0.19. It sees 224.0.0.18 too, because s0 joined it on this host:
        // exactly the leak IP_MULTICAST_ALL=0 prevents on VrrpSocket.
        let control =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::RAW, Some(112.into()))
                .expect("control");
        control
            .join_multicast_v4_n(
                &other_group,
                &socket2::InterfaceIndexOrAddress::Index(h2_eth0),
            )
            .expect("join .19");
        control.set_read_timeout(Some(WAIT)).expect("timeout");
        ready_tx.send(()).expect("signal ready");
        let mut buf = [0u8; 1500];
        let first0 = bounded("s0's first packet", s0.recv(&mut buf))
            .await
            .expect("recv s0");
        let payload0 = buf[20..first0.len].to_vec();
        let first1 = bounded("s1's first packet", s1.recv(&mut buf))
            .await
            .expect("recv s1");
        let payload1 = buf[20..first1.len].to_vec();
        let mut control_dsts = Vec::new();
        for _ in 0..2 {
            let mut cbuf = [0u8; 1500];
            let n = std::io::Read::read(&mut &control, &mut cbuf)
                .expect("control socket saw nothing within the timeout");
            assert!(n >= 20, "short datagram on the control socket");
            let dst = [cbuf[16], cbuf[17], cbuf[18], cbuf[19]];
            control_dsts.push(Ipv4Addr::new(dst[0], dst[1], dst[2], dst[3]));
        }
        (first0, payload0, first1, payload1, control_dsts)
    });
    let ((), receiver) = wait_ready(&ready_rx, receiver, "receiver");
    let (h1_eth0, h1_eth1) = (ifindex_in(&h1, "eth0"), ifindex_in(&h1, "eth1"));
    join(spawn_in(&h1, move || async move {
        let s0 = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Vrrp).expect("socket on eth0");
        let s1 = VrrpSocket::open_v4("eth1", h1_eth1, IpProtocol::Vrrp).expect("socket on eth1");
        // In order: another group on eth0, the VRRP group on eth1, then the VRRP group on eth0.
        let to_other = ipv4_datagram(other_group, &[0x19]);
        bounded("send", s0.send_to(&to_other, IpAddr::V4(other_group)))
            .await
            .expect("send .19");
        bounded(
            "send",
            s1.send_to(
                &ipv4_datagram(VRRP_GROUP_V4, &[0x01]),
                IpAddr::V4(VRRP_GROUP_V4),
            ),
        )
        .await
        .expect("send eth1");
        bounded(
            "send",
            s0.send_to(
                &ipv4_datagram(VRRP_GROUP_V4, &[0x00]),
                IpAddr::V4(VRRP_GROUP_V4),
            ),
        )
        .await
        .expect("send eth0");
    }));
    let (first0, payload0, first1, payload1, control_dsts) = join(receiver);
    assert_eq!(
        payload0,
        [0x00],
        "eth0 socket got a packet of another group or interface first"
    );
    assert_eq!(first0.dst, Some(IpAddr::V4(VRRP_GROUP_V4)));
    assert_eq!(first0.ifindex, Some(h2_eth0));
    assert_eq!(payload1, [0x01], "eth1 socket got eth0's packet");
    assert_eq!(first1.ifindex, Some(h2_eth1));
    assert_eq!(
        control_dsts,
        [other_group, VRRP_GROUP_V4],
        "control shows the leak the option prevents"
    );
}

// ---------------------------------------------------------------------------------------------
// Netlink: addresses, VMAC, events

/// One host whose eth0 is a veth to eth1 in the same namespace (both up).
fn one_host(lab: &mut Lab) -> String {
    let h = lab.ns("h");
    sh(&[
        "ip", "-n", &h, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    sh(&["ip", "-n", &h, "link", "set", "eth1", "up"]);
    sh(&["ip", "-n", &h, "link", "set", "eth0", "up"]);
    h
}

fn ip_addrs(ns: &str, dev: &str) -> Vec<serde_json::Value> {
    let json = sh(&["ip", "-n", ns, "-j", "addr", "show", "dev", dev]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("ip -j addr");
    v[0]["addr_info"].as_array().cloned().unwrap_or_default()
}

fn find_addr<'a>(addrs: &'a [serde_json::Value], local: &str) -> Option<&'a serde_json::Value> {
    addrs.iter().find(|a| a["local"] == local)
}

#[test]
fn addresses_with_label_scope_brd_and_nodad_are_added_listed_and_removed() {
    let Some(mut lab) = lab("addresses") else {
        return;
    };
    let h = one_host(&mut lab);
    let ns = h.clone();
    let timing = join(spawn_in(&h, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let eth0 = nl.link_by_name("eth0").await.expect("eth0");
        assert!(
            eth0.admin_up && eth0.mac.is_some() && eth0.mtu == Some(1500),
            "{eth0:?}"
        );
        assert!(
            nl.link_by_name("nosuch0")
                .await
                .is_err_and(|e| e.is_not_found())
        );

        let mut v4 = AddressSpec::new(eth0.ifindex, "10.20.0.5".parse().unwrap(), 24);
        v4.label = Some("eth0:vip".into());
        v4.scope = AddrScope::Link;
        v4.broadcast = Some(Ipv4Addr::new(10, 20, 0, 255));
        let mut v6 = AddressSpec::new(eth0.ifindex, "2001:db8::5".parse().unwrap(), 64);
        v6.nodad = true;
        bounded("add v4", nl.add_address(&v4))
            .await
            .expect("add v4");
        bounded("add v6", nl.add_address(&v6))
            .await
            .expect("add v6");
        let again = bounded("add v4 again", nl.add_address(&v4)).await;
        assert!(
            again.is_err_and(|e| e.is_already_exists()),
            "a second add reports EEXIST"
        );

        let addrs = ip_addrs(&ns, "eth0");
        let a4 = find_addr(&addrs, "10.20.0.5").expect("v4 address in ip -j addr");
        assert_eq!(a4["prefixlen"], 24);
        assert_eq!(a4["label"], "eth0:vip");
        assert_eq!(a4["scope"], "link");
        assert_eq!(a4["broadcast"], "10.20.0.255");
        let a6 = find_addr(&addrs, "2001:db8::5").expect("v6 address in ip -j addr");
        assert_eq!(a6["nodad"], true, "{a6}");
        assert_eq!(
            nl.primary_ipv4(eth0.ifindex).await.expect("primary"),
            Some(Ipv4Addr::new(10, 20, 0, 5))
        );
        let listed = nl.addresses(eth0.ifindex).await.expect("list");
        let info = listed
            .iter()
            .find(|a| a.addr == v6.addr)
            .expect("v6 listed");
        assert!(info.is_nodad() && !info.is_tentative());

        bounded("del v4", nl.del_address(&v4))
            .await
            .expect("del v4");
        bounded("del v6", nl.del_address(&v6))
            .await
            .expect("del v6");
        let addrs = ip_addrs(&ns, "eth0");
        assert!(
            find_addr(&addrs, "10.20.0.5").is_none() && find_addr(&addrs, "2001:db8::5").is_none()
        );
        let gone = nl.del_address(&v4).await;
        assert!(
            gone.is_err_and(|e| e.is_not_found()),
            "deleting twice reports not found"
        );

        // Batch: 1000 /32s issued a window at a time.
        let specs: Vec<AddressSpec> = (0..1000u32)
            .map(|i| {
                AddressSpec::new(
                    eth0.ifindex,
                    IpAddr::V4(Ipv4Addr::from(0x0a64_0000 + i)),
                    32,
                )
            })
            .collect();
        let start = Instant::now();
        let added = bounded("batch add", nl.add_addresses(&specs)).await;
        let add_time = start.elapsed();
        assert!(
            added.iter().all(Result::is_ok),
            "{:?}",
            added.iter().find(|r| r.is_err())
        );
        let count = nl
            .addresses(eth0.ifindex)
            .await
            .expect("list")
            .iter()
            .filter(|a| a.prefix_len == 32)
            .count();
        assert_eq!(count, 1000);
        let start = Instant::now();
        let removed = bounded("batch del", nl.del_addresses(&specs)).await;
        let del_time = start.elapsed();
        assert!(removed.iter().all(Result::is_ok));
        let count = nl
            .addresses(eth0.ifindex)
            .await
            .expect("list")
            .iter()
            .filter(|a| a.prefix_len == 32)
            .count();
        assert_eq!(count, 0);
        // For comparison: the same adds one at a time, each awaited before the next.
        let start = Instant::now();
        for spec in &specs {
            nl.add_address(spec).await.expect("serial add");
        }
        let serial_time = start.elapsed();
        let removed = bounded("batch del", nl.del_addresses(&specs)).await;
        assert!(removed.iter().all(Result::is_ok));
        (add_time, del_time, serial_time)
    }));
    eprintln!(
        "1000 IPv4 addresses: batched add {:?}, batched delete {:?}, serial add {:?}",
        timing.0, timing.1, timing.2
    );
}

fn read_sysctl(ns: &str, path: &str) -> String {
    sh(&["ip", "netns", "exec", ns, "cat", path])
        .trim()
        .to_owned()
}

#[test]
fn vmac_is_a_private_macvlan_with_the_virtual_mac_and_is_deleted() {
    let Some(mut lab) = lab("vmac") else { return };
    let h = one_host(&mut lab);
    let ns = h.clone();
    join(spawn_in(&h, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let eth0 = nl.link_by_name("eth0").await.expect("eth0");
        let vrid = Vrid::new(42).unwrap();
        let spec = VmacSpec {
            name: "vrrp.42".into(),
            base_ifindex: eth0.ifindex,
            vrid,
            family: Family::V4,
            source_v6: None,
        };
        let vmac = bounded("create vmac", nl.create_vmac(&spec))
            .await
            .expect("create vmac");
        assert_eq!(vmac.mac, Some([0, 0, 0x5e, 0, 1, 42]));
        assert!(
            vmac.is_macvlan && vmac.admin_up && vmac.parent == Some(eth0.ifindex),
            "{vmac:?}"
        );
        let json = sh(&[
            "ip", "-n", &ns, "-j", "-d", "link", "show", "dev", "vrrp.42",
        ]);
        let v: serde_json::Value = serde_json::from_str(&json).expect("ip -j -d link");
        assert_eq!(v[0]["address"], "00:00:5e:00:01:2a");
        assert_eq!(v[0]["linkinfo"]["info_kind"], "macvlan");
        assert_eq!(v[0]["linkinfo"]["info_data"]["mode"], "private");
        // keepalived's settings, seen from outside the process.
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/vrrp.42/arp_ignore"),
            "1"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/vrrp.42/accept_local"),
            "1"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/vrrp.42/rp_filter"),
            "0"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_ignore"),
            "1"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_filter"),
            "1"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_announce"),
            "2"
        );
        // A second create adopts the existing interface.
        let again = nl.create_vmac(&spec).await.expect("adopt vmac");
        assert_eq!(again.ifindex, vmac.ifindex);
        // Deleting a real interface through delete_vmac is refused.
        assert!(nl.delete_vmac(eth0.ifindex).await.is_err());

        bounded("delete vmac", nl.delete_vmac(vmac.ifindex))
            .await
            .expect("delete vmac");
        assert!(
            nl.link_by_name("vrrp.42")
                .await
                .is_err_and(|e| e.is_not_found())
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_ignore"),
            "0",
            "restored"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_filter"),
            "0",
            "restored"
        );
        assert_eq!(
            read_sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_announce"),
            "0",
            "restored"
        );

        // IPv6: MAC 00:00:5e:00:02:VRID and the base's link-local, no MAC-derived address.
        let spec6 = VmacSpec {
            name: "vrrp6.42".into(),
            family: Family::V6,
            ..spec
        };
        let vmac6 = bounded("create v6 vmac", nl.create_vmac(&spec6))
            .await
            .expect("create v6 vmac");
        assert_eq!(vmac6.mac, Some([0, 0, 0x5e, 0, 2, 42]));
        let base_ll = nl
            .ipv6_link_local(eth0.ifindex)
            .await
            .expect("addrs")
            .expect("base link-local");
        let on_vmac: Vec<IpAddr> = nl
            .addresses(vmac6.ifindex)
            .await
            .expect("addrs")
            .iter()
            .map(|a| a.addr)
            .collect();
        assert_eq!(
            on_vmac,
            [IpAddr::V6(base_ll)],
            "only the base's link-local on the VMAC"
        );
        bounded("delete v6 vmac", nl.delete_vmac(vmac6.ifindex))
            .await
            .expect("delete v6 vmac");
    }));
}

async fn expect_event(
    events: &mut NetlinkEvents,
    what: &str,
    want: impl Fn(&NetEvent) -> bool,
) -> NetEvent {
    bounded(what, async {
        loop {
            let event = events.next().await.expect("event stream ended");
            if want(&event) {
                return event;
            }
        }
    })
    .await
}

#[test]
fn link_and_address_changes_arrive_as_events() {
    let Some(mut lab) = lab("events") else { return };
    let h = one_host(&mut lab);
    let ns = h.clone();
    join(spawn_in(&h, move || async move {
        let mut events = NetlinkEvents::subscribe().expect("subscribe");
        let nl = Netlink::connect().expect("netlink");
        let eth0 = nl.link_by_name("eth0").await.expect("eth0");

        sh(&["ip", "-n", &ns, "link", "set", "eth0", "down"]);
        let down = |e: &NetEvent| matches!(e, NetEvent::LinkChanged { name, up: false, .. } if name == "eth0");
        expect_event(&mut events, "eth0 down", down).await;
        sh(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        let up = |e: &NetEvent| matches!(e, NetEvent::LinkChanged { name, up: true, .. } if name == "eth0");
        let event = expect_event(&mut events, "eth0 up", up).await;
        assert_eq!(
            event,
            NetEvent::LinkChanged {
                ifindex: eth0.ifindex,
                name: "eth0".into(),
                up: true
            }
        );
        // Carrier loss (the veth peer going down) is a LinkChanged with up = false too.
        sh(&["ip", "-n", &ns, "link", "set", "eth1", "down"]);
        expect_event(&mut events, "eth0 carrier loss", down).await;
        sh(&["ip", "-n", &ns, "link", "set", "eth1", "up"]);
        expect_event(&mut events, "eth0 carrier back", up).await;

        // An IPv4 address added through our own command connection is still seen: the event
        // connection is separate, so the notification is not swallowed as a reply.
        let vip: IpAddr = "10.30.0.9".parse().unwrap();
        nl.add_address(&AddressSpec::new(eth0.ifindex, vip, 24))
            .await
            .expect("add");
        let added = NetEvent::AddressAdded {
            ifindex: eth0.ifindex,
            addr: vip,
            prefix_len: 24,
        };
        expect_event(&mut events, "AddressAdded", |e| *e == added).await;

        sh(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "del",
            "10.30.0.9/24",
            "dev",
            "eth0",
        ]);
        let removed = NetEvent::AddressRemoved {
            ifindex: eth0.ifindex,
            addr: vip,
            prefix_len: 24,
        };
        expect_event(&mut events, "AddressRemoved", |e| *e == removed).await;

        sh(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "add",
            "2001:db8::9/64",
            "dev",
            "eth0",
            "nodad",
        ]);
        let v6: IpAddr = "2001:db8::9".parse().unwrap();
        let added6 = NetEvent::AddressAdded {
            ifindex: eth0.ifindex,
            addr: v6,
            prefix_len: 64,
        };
        expect_event(&mut events, "IPv6 AddressAdded", |e| *e == added6).await;
    }));
}

// ---------------------------------------------------------------------------------------------
// GARP through AF_PACKET

/// A gratuitous ARP request for `ip` from `mac` (RFC 5227 §3 / RFC 5798 §8.1.2 announcement).
fn garp(mac: [u8; 6], ip: Ipv4Addr) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&mac);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ip.octets());
    f.extend_from_slice(&[0xff; 6]);
    f.extend_from_slice(&ip.octets());
    f
}

#[test]
fn garp_frame_is_seen_by_the_peer() {
    let Some(mut lab) = lab("garp") else { return };
    let (h1, h2) = two_hosts(&mut lab, false);
    let h2_eth0 = ifindex_in(&h2, "eth0");
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = std::thread::spawn(move || {
        enter_thread_netns(&PathBuf::from("/run/netns").join(&h2)).expect("enter h2");
        let arp = socket2::Protocol::from(i32::from(0x0806u16.to_be()));
        let sock = socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, Some(arp))
            .expect("packet socket");
        sock.set_read_timeout(Some(WAIT)).expect("timeout");
        ready_tx.send(()).expect("ready");
        let vip = Ipv4Addr::new(10, 9, 0, 100);
        loop {
            let mut buf = [0u8; 1600];
            let n =
                std::io::Read::read(&mut &sock, &mut buf).expect("no ARP frame within the timeout");
            // Skip anything else (e.g. ARP for the hosts' own addresses).
            if n >= 42 && buf[28..32] == vip.octets() {
                return buf[..n].to_vec();
            }
        }
    });
    let ((), receiver) = wait_ready(&ready_rx, receiver, "packet receiver");
    let h1_eth0 = ifindex_in(&h1, "eth0");
    let sent = join(spawn_in(&h1, move || async move {
        let nl = Netlink::connect().expect("netlink");
        let mac = nl
            .link_by_index(h1_eth0)
            .await
            .expect("eth0")
            .mac
            .expect("mac");
        let frame = garp(mac, Ipv4Addr::new(10, 9, 0, 100));
        let announcer = Announcer::open("eth0", h1_eth0).expect("announcer");
        let n = bounded("send GARP", announcer.send(&frame))
            .await
            .expect("send");
        assert_eq!(n, frame.len());
        assert!(
            announcer.send(&frame[..10]).await.is_err(),
            "a runt frame is refused"
        );
        frame
    }));
    let got = join(receiver);
    assert_eq!(got, sent, "the peer sees the frame byte for byte");
    let _ = h2_eth0;
}

#[test]
fn ah_socket_receives_protocol_51_and_the_vrrp_socket_does_not() {
    let Some(mut lab) = lab("ah") else { return };
    let (h1, h2) = two_hosts(&mut lab, false);
    let h2_eth0 = ifindex_in(&h2, "eth0");
    let (ready_tx, ready_rx) = mpsc::channel();
    let receiver = spawn_in(&h2, move || async move {
        let ah = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Ah).expect("AH socket");
        let vrrp = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Vrrp).expect("VRRP socket");
        ready_tx.send(()).expect("ready");
        let mut buf = [0u8; 1500];
        let rx = bounded("an AH datagram", ah.recv(&mut buf))
            .await
            .expect("recv AH");
        let ah_proto = buf[9];
        let rx112 = bounded("a VRRP datagram", vrrp.recv(&mut buf))
            .await
            .expect("recv 112");
        (rx, ah_proto, rx112, buf[9], buf[20])
    });
    let ((), receiver) = wait_ready(&ready_rx, receiver, "receiver");
    let h1_eth0 = ifindex_in(&h1, "eth0");
    join(spawn_in(&h1, move || async move {
        let ah = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Ah).expect("AH socket");
        let vrrp = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Vrrp).expect("VRRP socket");
        let group = IpAddr::V4(VRRP_GROUP_V4);
        let mut ah_datagram = ipv4_datagram(VRRP_GROUP_V4, &[0x70; 24]);
        ah_datagram[9] = 51;
        bounded("send AH", ah.send_to(&ah_datagram, group))
            .await
            .expect("send AH");
        bounded(
            "send 112",
            vrrp.send_to(&ipv4_datagram(VRRP_GROUP_V4, &[0x2a]), group),
        )
        .await
        .expect("send 112");
    }));
    let (rx, ah_proto, rx112, proto112, first112) = join(receiver);
    assert_eq!((ah_proto, rx.len, rx.hop_limit), (51, 20 + 24, Some(255)));
    // The 112 socket's first packet is the plain advert, not the AH one sent before it.
    assert_eq!((proto112, first112, rx112.len), (112, 0x2a, 21));
}
