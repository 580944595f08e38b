//! `vigil::net`'s packet sockets against a real kernel, in lab hosts: raw VRRP sockets (IPv4
//! with TTL 255, IPv6 with hop limit and destination from control messages), their group and
//! interface filtering, the AH socket (protocol 51), and GARP frames sent through AF_PACKET.
//!
//! The code under test runs on a thread inside a host's namespace ([`Host::spawn_async`]); a
//! receiver signals once its socket is open and the sender starts only then, so nothing
//! waits on a sleep. Every wait is bounded by [`WAIT`]. The lab (namespaces, skip rules,
//! cleanup) is `vigil_integration`'s.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil::net::{
    Announcer, IPPROTO_AH, IPPROTO_VRRP, IpProtocol, Netlink, Received, VRRP_GROUP_V4,
    VRRP_GROUP_V6, VRRP_HOP_LIMIT, VrrpSocket,
};
use vigil_integration::{Host, Lab, scenario, within};

/// The bound of every wait for a packet or a ready signal.
const WAIT: Duration = Duration::from_secs(10);

/// A VRRPv3 advert payload: VRID 42, priority 100, no addresses, interval 1 s (checksum left
/// zero: the sockets do not look at it).
const ADVERT: [u8; 8] = [0x31, 42, 100, 0, 0, 100, 0, 0];

/// A minimal IPv4 datagram for a raw `IP_HDRINCL` socket: the kernel fills in the checksum,
/// the total length and the source. TTL 255, protocol 112, then `payload`.
fn ipv4_datagram(dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x45,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        VRRP_HOP_LIMIT,
        IPPROTO_VRRP,
        0,
        0,
    ];
    d.extend_from_slice(&[0; 4]);
    d.extend_from_slice(&dst.octets());
    d.extend_from_slice(payload);
    d
}

/// Receives `count` packets on `socket`, each within [`WAIT`]: their metadata and bytes.
async fn recv_n(socket: &VrrpSocket, count: usize, what: &str) -> Result<Vec<(Received, Vec<u8>)>> {
    let mut got = Vec::new();
    for _ in 0..count {
        let mut buf = [0u8; 1500];
        let rx = within(WAIT, what, socket.recv(&mut buf)).await??;
        got.push((rx, buf[..rx.len].to_vec()));
    }
    Ok(got)
}

/// The IPv6 link-local address of `eth0` as `vigil::net` finds it, checked against the one
/// the lab derived from the MAC.
async fn link_local(host: &Host) -> Result<(u32, std::net::Ipv6Addr)> {
    let nl = Netlink::connect()?;
    let link = nl.link_by_name("eth0").await?;
    let ll = nl
        .ipv6_link_local(link.ifindex)
        .await?
        .context("eth0 has no link-local address")?;
    ensure!(
        ll == host.link_local(),
        "link-local {ll}, the lab expects {}",
        host.link_local()
    );
    Ok((link.ifindex, ll))
}

#[test]
fn ipv4_multicast_and_unicast_adverts_arrive_with_ttl_255_on_the_right_interface() -> Result<()> {
    scenario("net_ipv4_adverts", |lab| {
        let (h1, h2) = (lab.host("h1")?, lab.host("h2")?);
        let (h1_eth0, h2_eth0) = (h1.ifindex("eth0")?, h2.ifindex("eth0")?);
        let (ready_tx, ready_rx) = mpsc::channel();
        let receiver = h2.spawn_async(move || async move {
            let socket = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Vrrp)?;
            ready_tx.send(())?;
            recv_n(&socket, 2, "an IPv4 advert").await
        });
        let ((), receiver) = receiver.wait_ready(&ready_rx, WAIT, "the receiver on h2")?;
        let peer = h2.ipv4();
        h1.run_async(move || async move {
            let socket = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Vrrp)?;
            let group = ipv4_datagram(VRRP_GROUP_V4, &ADVERT);
            within(WAIT, "send", socket.send_to(&group, VRRP_GROUP_V4.into()))
                .await?
                .context("send multicast")?;
            let unicast = ipv4_datagram(peer, &ADVERT);
            within(WAIT, "send", socket.send_to(&unicast, peer.into()))
                .await?
                .context("send unicast")?;
            Ok(())
        })?;
        let got = receiver.join()?;
        assert_eq!(got.len(), 2);
        for ((rx, bytes), dst) in got.iter().zip([IpAddr::V4(VRRP_GROUP_V4), peer.into()]) {
            assert_eq!(rx.src, IpAddr::V4(h1.ipv4()));
            assert_eq!(rx.dst, Some(dst));
            assert_eq!(rx.hop_limit, Some(255), "TTL as received");
            assert_eq!(rx.ifindex, Some(h2_eth0));
            assert!(!rx.truncated);
            // Raw IPv4 sockets hand over the whole datagram: header (TTL at byte 8), payload.
            assert_eq!(bytes.len(), 20 + ADVERT.len());
            assert_eq!(bytes[8], 255);
            assert_eq!(bytes[9], 112);
            assert_eq!(&bytes[20..], &ADVERT);
        }
        Ok(())
    })
}

#[test]
fn ipv6_multicast_and_unicast_adverts_carry_hop_limit_and_destination() -> Result<()> {
    scenario("net_ipv6_adverts", |lab| {
        let (h1, h2) = (lab.host("h1")?, lab.host("h2")?);
        let (ready_tx, ready_rx) = mpsc::channel();
        let host = h2.clone();
        let receiver = h2.spawn_async(move || async move {
            let (ifindex, ll) = link_local(&host).await?;
            let socket = VrrpSocket::open_v6("eth0", ifindex, ll)?;
            ready_tx.send(ll)?;
            Ok((ifindex, recv_n(&socket, 2, "an IPv6 advert").await?))
        });
        let (h2_ll, receiver) = receiver.wait_ready(&ready_rx, WAIT, "the receiver on h2")?;
        let host = h1.clone();
        let h1_ll = h1.run_async(move || async move {
            let (ifindex, ll) = link_local(&host).await?;
            let socket = VrrpSocket::open_v6("eth0", ifindex, ll)?;
            within(WAIT, "send", socket.send_to(&ADVERT, VRRP_GROUP_V6.into()))
                .await?
                .context("send multicast")?;
            within(WAIT, "send", socket.send_to(&ADVERT, h2_ll.into()))
                .await?
                .context("send unicast")?;
            Ok(ll)
        })?;
        let (h2_eth0, got) = receiver.join()?;
        assert_eq!(got.len(), 2);
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
        Ok(())
    })
}

#[test]
fn sockets_ignore_other_groups_and_other_interfaces() -> Result<()> {
    scenario("net_socket_isolation", |lab| {
        // eth0 on segment `lan`, eth1 on segment `b`, for both hosts.
        let h1 = lab.host_on("h1", &["lan", "b"])?;
        let h2 = lab.host_on("h2", &["lan", "b"])?;
        let other_group = Ipv4Addr::new(224, 0, 0, 19);
        let (h2_eth0, h2_eth1) = (h2.ifindex("eth0")?, h2.ifindex("eth1")?);
        let (ready_tx, ready_rx) = mpsc::channel();
        let receiver = h2.spawn_async(move || async move {
            let s0 = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Vrrp)?;
            let s1 = VrrpSocket::open_v4("eth1", h2_eth1, IpProtocol::Vrrp)?;
            // Control: a plain raw 112 socket with the kernel's default IP_MULTICAST_ALL=1
            // that joins only 224.0.0.19. It sees 224.0.0.18 too, because s0 joined it on this
            // host: exactly the leak IP_MULTICAST_ALL=0 prevents on VrrpSocket.
            let vrrp = socket2::Protocol::from(i32::from(IPPROTO_VRRP));
            let control =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::RAW, Some(vrrp))?;
            control.join_multicast_v4_n(
                &other_group,
                &socket2::InterfaceIndexOrAddress::Index(h2_eth0),
            )?;
            control.set_read_timeout(Some(WAIT))?;
            ready_tx.send(())?;
            let first0 = recv_n(&s0, 1, "s0's first packet").await?.remove(0);
            let first1 = recv_n(&s1, 1, "s1's first packet").await?.remove(0);
            let mut control_dsts = Vec::new();
            for _ in 0..2 {
                let mut cbuf = [0u8; 1500];
                let n = std::io::Read::read(&mut &control, &mut cbuf)
                    .context("the control socket saw nothing within the timeout")?;
                ensure!(n >= 20, "short datagram on the control socket");
                let dst = [cbuf[16], cbuf[17], cbuf[18], cbuf[19]];
                control_dsts.push(Ipv4Addr::from(dst));
            }
            Ok((first0, first1, control_dsts))
        });
        let ((), receiver) = receiver.wait_ready(&ready_rx, WAIT, "the receivers on h2")?;
        let (h1_eth0, h1_eth1) = (h1.ifindex("eth0")?, h1.ifindex("eth1")?);
        h1.run_async(move || async move {
            let s0 = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Vrrp)?;
            let s1 = VrrpSocket::open_v4("eth1", h1_eth1, IpProtocol::Vrrp)?;
            // In order: another group on eth0, the VRRP group on eth1, the VRRP group on eth0.
            let to_other = ipv4_datagram(other_group, &[0x19]);
            within(WAIT, "send", s0.send_to(&to_other, other_group.into())).await??;
            let on_eth1 = ipv4_datagram(VRRP_GROUP_V4, &[0x01]);
            within(WAIT, "send", s1.send_to(&on_eth1, VRRP_GROUP_V4.into())).await??;
            let on_eth0 = ipv4_datagram(VRRP_GROUP_V4, &[0x00]);
            within(WAIT, "send", s0.send_to(&on_eth0, VRRP_GROUP_V4.into())).await??;
            Ok(())
        })?;
        let ((first0, payload0), (first1, payload1), control_dsts) = receiver.join()?;
        assert_eq!(
            payload0[20..],
            [0x00],
            "eth0 socket got a packet of another group or interface first"
        );
        assert_eq!(first0.dst, Some(IpAddr::V4(VRRP_GROUP_V4)));
        assert_eq!(first0.ifindex, Some(h2_eth0));
        assert_eq!(payload1[20..], [0x01], "eth1 socket got eth0's packet");
        assert_eq!(first1.ifindex, Some(h2_eth1));
        assert_eq!(
            control_dsts,
            [other_group, VRRP_GROUP_V4],
            "control shows the leak the option prevents"
        );
        Ok(())
    })
}

#[test]
fn ah_socket_receives_protocol_51_and_the_vrrp_socket_does_not() -> Result<()> {
    scenario("net_ah_socket", |lab| {
        let (h1, h2) = (lab.host("h1")?, lab.host("h2")?);
        let (h1_eth0, h2_eth0) = (h1.ifindex("eth0")?, h2.ifindex("eth0")?);
        let (ready_tx, ready_rx) = mpsc::channel();
        let receiver = h2.spawn_async(move || async move {
            let ah = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Ah)?;
            let vrrp = VrrpSocket::open_v4("eth0", h2_eth0, IpProtocol::Vrrp)?;
            ready_tx.send(())?;
            let from_ah = recv_n(&ah, 1, "an AH datagram").await?.remove(0);
            let from_vrrp = recv_n(&vrrp, 1, "a VRRP datagram").await?.remove(0);
            Ok((from_ah, from_vrrp))
        });
        let ((), receiver) = receiver.wait_ready(&ready_rx, WAIT, "the receivers on h2")?;
        h1.run_async(move || async move {
            let ah = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Ah)?;
            let vrrp = VrrpSocket::open_v4("eth0", h1_eth0, IpProtocol::Vrrp)?;
            let group = IpAddr::V4(VRRP_GROUP_V4);
            let mut ah_datagram = ipv4_datagram(VRRP_GROUP_V4, &[0x70; 24]);
            ah_datagram[9] = IPPROTO_AH;
            within(WAIT, "send AH", ah.send_to(&ah_datagram, group)).await??;
            let plain = ipv4_datagram(VRRP_GROUP_V4, &[0x2a]);
            within(WAIT, "send 112", vrrp.send_to(&plain, group)).await??;
            Ok(())
        })?;
        let ((rx, ah_bytes), (rx112, bytes112)) = receiver.join()?;
        assert_eq!(
            (ah_bytes[9], rx.len, rx.hop_limit),
            (51, 20 + 24, Some(255))
        );
        // The 112 socket's first packet is the plain advert, not the AH one sent before it.
        assert_eq!((bytes112[9], bytes112[20], rx112.len), (112, 0x2a, 21));
        Ok(())
    })
}

/// A gratuitous ARP request for `ip` from `mac` (RFC 5227 §3 / RFC 5798 §8.1.2
/// announcement), written out by hand rather than by `vigil::wire`.
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
fn garp_frame_is_seen_by_the_peer() -> Result<()> {
    scenario("net_garp", |lab| {
        let (h1, h2) = (lab.host("h1")?, lab.host("h2")?);
        let vip = Lab::vip4(0);
        let (ready_tx, ready_rx) = mpsc::channel();
        let receiver = h2.spawn_thread(move || {
            let arp = socket2::Protocol::from(i32::from(0x0806u16.to_be()));
            let sock =
                socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, Some(arp))?;
            sock.set_read_timeout(Some(WAIT))?;
            ready_tx.send(())?;
            loop {
                let mut buf = [0u8; 1600];
                let n = std::io::Read::read(&mut &sock, &mut buf)
                    .context("no ARP frame for the VIP within the timeout")?;
                // Skip anything else (e.g. ARP for the hosts' own addresses).
                if n >= 42 && buf[28..32] == vip.octets() {
                    return Ok(buf[..n].to_vec());
                }
            }
        });
        let ((), receiver) = receiver.wait_ready(&ready_rx, WAIT, "the packet receiver on h2")?;
        let h1_eth0 = h1.ifindex("eth0")?;
        let sent = h1.run_async(move || async move {
            let nl = Netlink::connect()?;
            let mac = nl.link_by_index(h1_eth0).await?.mac.context("eth0's MAC")?;
            let frame = garp(mac, vip);
            let announcer = Announcer::open("eth0", h1_eth0)?;
            let n = within(WAIT, "send GARP", announcer.send(&frame)).await??;
            assert_eq!(n, frame.len());
            assert!(
                announcer.send(&frame[..10]).await.is_err(),
                "a runt frame is refused"
            );
            Ok(frame)
        })?;
        let got = receiver.join()?;
        assert_eq!(got, sent, "the peer sees the frame byte for byte");
        Ok(())
    })
}
