//! Raw VRRP sockets: one per (interface, family[, IP protocol]), shared by every VRID on that
//! interface and demultiplexed by VRID above this layer.
//!
//! IPv4 sockets send with `IP_HDRINCL` (the caller hands over a complete datagram whose header
//! the wire module built with TTL 255, so that an AH ICV can cover it) and receive complete
//! datagrams, header included, as raw IPv4 sockets always do. IPv6 sockets send and receive
//! the VRRP payload only: the kernel builds and strips the IPv6 header, so the hop limit and
//! destination of a received packet come from control messages. The VRRP checksum is always the
//! caller's: no `IPV6_CHECKSUM` offset is set, so the kernel never rewrites it.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::error::NetError;
use crate::types::Family;
use crate::wire::constants::{
    IPPROTO_AH, IPPROTO_VRRP, VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_HOP_LIMIT,
};

/// Which IP protocol an IPv4 VRRP socket carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpProtocol {
    /// Plain VRRP, protocol 112 (every v3 instance, v2 without auth or with PASS).
    Vrrp,
    /// VRRPv2 inside an IPsec AH header, protocol 51.
    Ah,
}

impl IpProtocol {
    pub const fn number(self) -> u8 {
        match self {
            IpProtocol::Vrrp => IPPROTO_VRRP,
            IpProtocol::Ah => IPPROTO_AH,
        }
    }
}

/// Metadata of one received packet. The bytes are in the caller's buffer, `buf[..len]`.
///
/// For IPv4 the buffer holds the whole datagram, IPv4 header first; for IPv6 it holds only the
/// VRRP payload. Fields from control messages are `None` only if the kernel did not supply
/// them, which the options set here make it always do; the caller treats `None` as invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes written into the buffer.
    pub len: usize,
    /// The datagram did not fit the buffer and was cut to `len` bytes.
    pub truncated: bool,
    /// The sender's address.
    pub src: IpAddr,
    /// The destination address of the datagram (the group, or our unicast address).
    pub dst: Option<IpAddr>,
    /// TTL (IPv4, `IP_RECVTTL`) or hop limit (IPv6, `IPV6_RECVHOPLIMIT`) as received.
    pub hop_limit: Option<u8>,
    /// The interface the packet arrived on (`IP_PKTINFO` / `IPV6_PKTINFO`).
    pub ifindex: Option<u32>,
    /// When the kernel received it (`SO_TIMESTAMPNS`: the realtime clock, since the epoch).
    pub stamp: Option<std::time::Duration>,
}

/// A raw VRRP socket bound to one interface.
#[derive(Debug)]
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    ifname: String,
    ifindex: u32,
    family: Family,
    protocol: IpProtocol,
    /// IPv6: the address to bind (the source of every advert), and whether it is bound.
    source: Option<SocketAddrV6>,
    bound: AtomicBool,
}

impl VrrpSocket {
    /// Opens the IPv4 socket of an interface for `protocol` (112, or 51 for v2 AH).
    ///
    /// Must be called within a tokio runtime with IO enabled. Joins 224.0.0.18 on that
    /// interface only, turns `IP_MULTICAST_ALL` and loopback off, and sends with `IP_HDRINCL`.
    pub fn open_v4(ifname: &str, ifindex: u32, protocol: IpProtocol) -> Result<Self, NetError> {
        let err = |what: &'static str| {
            let ifname = ifname.to_owned();
            move |source: io::Error| NetError::Socket {
                what,
                ifname,
                source,
            }
        };
        let proto = Protocol::from(i32::from(protocol.number()));
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(proto))
            .map_err(err("creating raw IPv4 socket"))?;
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(err("SO_BINDTODEVICE"))?;
        // RFC 5798 §5.1.1.2: adverts go to 224.0.0.18; join it on this interface only (ip_mreqn
        // by index), so an address change on the interface does not affect membership.
        socket
            .join_multicast_v4_n(&VRRP_GROUP_V4, &InterfaceIndexOrAddress::Index(ifindex))
            .map_err(err("IP_ADD_MEMBERSHIP 224.0.0.18"))?;
        // Linux otherwise delivers every group any socket of the host joined on any interface.
        socket
            .set_multicast_all_v4(false)
            .map_err(err("IP_MULTICAST_ALL"))?;
        socket
            .set_multicast_loop_v4(false)
            .map_err(err("IP_MULTICAST_LOOP"))?;
        set_multicast_if_v4_index(&socket, ifindex).map_err(err("IP_MULTICAST_IF"))?;
        // The caller builds the IPv4 header itself (TTL 255 per RFC 5798 §5.1.1.3, covered by
        // the AH ICV for v2 AH).
        socket
            .set_header_included_v4(true)
            .map_err(err("IP_HDRINCL"))?;
        setsockopt(&socket, sockopt::Ipv4PacketInfo, &true)
            .map_err(|e| err("IP_PKTINFO")(io::Error::from(e)))?;
        setsockopt(&socket, sockopt::Ipv4RecvTtl, &true)
            .map_err(|e| err("IP_RECVTTL")(io::Error::from(e)))?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)
            .map_err(|e| err("SO_TIMESTAMPNS")(io::Error::from(e)))?;
        socket.set_nonblocking(true).map_err(err("O_NONBLOCK"))?;
        Self::register(socket, ifname, ifindex, Family::V4, protocol)
    }

    /// Opens the IPv6 socket of an interface, bound to `source` (its link-local address for
    /// multicast operation, RFC 5798 §5.1.2.1, or the configured unicast source).
    ///
    /// A raw IPv6 socket bound to an address receives multicast for the groups it joined and
    /// unicast to that address only. Must be called within a tokio runtime with IO enabled.
    /// The kernel refuses to bind a tentative address (DAD still running): that comes back as
    /// a `NetError::Socket` with errno `EADDRNOTAVAIL`, which the caller may retry.
    pub fn open_v6(ifname: &str, ifindex: u32, source: Ipv6Addr) -> Result<Self, NetError> {
        let socket = Self::open_v6_unbound(ifname, ifindex, source)?;
        socket.bind_source()?;
        Ok(socket)
    }

    /// Opens the IPv6 socket of an interface whose source address is not usable yet (DAD
    /// still running: the kernel refuses to bind a tentative address). It receives from the
    /// group at once; [`VrrpSocket::bind_source`] binds it once the address is usable, and
    /// nothing is sent before.
    pub fn open_v6_unbound(ifname: &str, ifindex: u32, source: Ipv6Addr) -> Result<Self, NetError> {
        let err = |what: &'static str| {
            let ifname = ifname.to_owned();
            move |source: io::Error| NetError::Socket {
                what,
                ifname,
                source,
            }
        };
        let proto = Protocol::from(i32::from(IPPROTO_VRRP));
        let socket = Socket::new(Domain::IPV6, Type::RAW, Some(proto))
            .map_err(err("creating raw IPv6 socket"))?;
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(err("SO_BINDTODEVICE"))?;
        // RFC 5798 §5.1.2.3: sent with hop limit 255, unicast (to peers) as well as multicast.
        let hops = u32::from(VRRP_HOP_LIMIT);
        socket
            .set_multicast_hops_v6(hops)
            .map_err(err("IPV6_MULTICAST_HOPS"))?;
        socket
            .set_unicast_hops_v6(hops)
            .map_err(err("IPV6_UNICAST_HOPS"))?;
        socket
            .set_multicast_loop_v6(false)
            .map_err(err("IPV6_MULTICAST_LOOP"))?;
        socket
            .set_multicast_if_v6(ifindex)
            .map_err(err("IPV6_MULTICAST_IF"))?;
        // Not every kernel has IPV6_MULTICAST_ALL (4.20+); without it the bound device and
        // address still filter what arrives.
        if let Err(e) = socket.set_multicast_all_v6(false)
            && e.raw_os_error() != Some(libc::ENOPROTOOPT)
        {
            return Err(err("IPV6_MULTICAST_ALL")(e));
        }
        // RFC 5798 §5.1.2.2: adverts go to ff02::12.
        socket
            .join_multicast_v6(&VRRP_GROUP_V6, ifindex)
            .map_err(err("IPV6_JOIN_GROUP ff02::12"))?;
        socket
            .set_recv_hoplimit_v6(true)
            .map_err(err("IPV6_RECVHOPLIMIT"))?;
        setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)
            .map_err(|e| err("IPV6_RECVPKTINFO")(io::Error::from(e)))?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)
            .map_err(|e| err("SO_TIMESTAMPNS")(io::Error::from(e)))?;
        socket.set_nonblocking(true).map_err(err("O_NONBLOCK"))?;
        let mut opened = Self::register(socket, ifname, ifindex, Family::V6, IpProtocol::Vrrp)?;
        let scope = if is_unicast_link_local(source) {
            ifindex
        } else {
            0
        };
        opened.source = Some(SocketAddrV6::new(source, 0, 0, scope));
        Ok(opened)
    }

    /// Binds an IPv6 socket to its source address if it is not bound yet (a no-op for IPv4
    /// and once bound). Fails with `EADDRNOTAVAIL` while the address is tentative.
    pub fn bind_source(&self) -> Result<(), NetError> {
        let Some(source) = self.source else {
            return Ok(());
        };
        if self.bound.load(Ordering::Acquire) {
            return Ok(());
        }
        self.fd
            .get_ref()
            .bind(&SockAddr::from(source))
            .map_err(|source| NetError::Socket {
                what: "binding the source address",
                ifname: self.ifname.clone(),
                source,
            })?;
        self.bound.store(true, Ordering::Release);
        Ok(())
    }

    fn register(
        socket: Socket,
        ifname: &str,
        ifindex: u32,
        family: Family,
        protocol: IpProtocol,
    ) -> Result<Self, NetError> {
        let fd = register(socket, ifname)?;
        Ok(Self {
            fd,
            ifname: ifname.to_owned(),
            ifindex,
            family,
            protocol,
            source: None,
            bound: AtomicBool::new(false),
        })
    }

    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn family(&self) -> Family {
        self.family
    }

    pub fn protocol(&self) -> IpProtocol {
        self.protocol
    }

    /// Waits for the next packet and writes it into `buf` (IPv4: whole datagram; IPv6: payload).
    /// Cancel-safe: dropping the future loses no packet, so it can sit in a `select!`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Received> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|inner| recv_once(inner.get_ref(), buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Sends one packet to `dst`: for IPv4 `bytes` is a complete datagram whose header names
    /// the same destination; for IPv6 it is the VRRP payload. The destination may be the VRRP
    /// group or a unicast peer. Link-local IPv6 destinations are scoped to this interface.
    pub async fn send_to(&self, bytes: &[u8], dst: IpAddr) -> io::Result<usize> {
        let addr = self.dest_addr(dst)?;
        self.fd
            .async_io(Interest::WRITABLE, |inner| inner.send_to(bytes, &addr))
            .await
    }

    /// Like `send_to` but without waiting: the core sends adverts from synchronous code, and a
    /// raw socket whose send buffer is full (WouldBlock) is better dropped than queued late.
    pub fn try_send_to(&self, bytes: &[u8], dst: IpAddr) -> io::Result<usize> {
        let addr = self.dest_addr(dst)?;
        self.fd.get_ref().send_to(bytes, &addr)
    }

    fn dest_addr(&self, dst: IpAddr) -> io::Result<SockAddr> {
        match (self.family, dst) {
            (Family::V4, IpAddr::V4(v4)) => Ok(SockAddr::from(SocketAddrV4::new(v4, 0))),
            (Family::V6, IpAddr::V6(v6)) => {
                let scoped = v6.is_multicast() || is_unicast_link_local(v6);
                let scope = if scoped { self.ifindex } else { 0 };
                Ok(SockAddr::from(SocketAddrV6::new(v6, 0, 0, scope)))
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{dst} is not of this socket's family ({:?}, {})",
                    self.family, self.ifname
                ),
            )),
        }
    }
}

fn is_unicast_link_local(addr: Ipv6Addr) -> bool {
    (addr.segments()[0] & 0xffc0) == 0xfe80
}

fn recv_once(socket: &Socket, buf: &mut [u8]) -> io::Result<Received> {
    let mut cmsg_space = nix::cmsg_space!(
        libc::in6_pktinfo,
        libc::c_int,
        libc::in_pktinfo,
        libc::c_int,
        libc::timespec
    );
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg_space),
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    let src = msg.address.as_ref().and_then(sockaddr_ip).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "raw socket gave no source address",
        )
    })?;
    let mut received = Received {
        len: msg.bytes,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        src,
        dst: None,
        hop_limit: None,
        ifindex: None,
        stamp: None,
    };
    for cmsg in msg.cmsgs().map_err(io::Error::from)? {
        match cmsg {
            ControlMessageOwned::Ipv4PacketInfo(info) => {
                received.dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    info.ipi_addr.s_addr,
                ))));
                received.ifindex = u32::try_from(info.ipi_ifindex).ok();
            }
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                received.dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                received.ifindex = Some(info.ipi6_ifindex);
            }
            ControlMessageOwned::Ipv4Ttl(ttl) | ControlMessageOwned::Ipv6HopLimit(ttl) => {
                received.hop_limit = u8::try_from(ttl).ok();
            }
            ControlMessageOwned::ScmTimestampns(ts) => {
                received.stamp = u64::try_from(ts.tv_sec())
                    .ok()
                    .zip(u32::try_from(ts.tv_nsec()).ok())
                    .map(|(secs, nanos)| std::time::Duration::new(secs, nanos));
            }
            _ => {}
        }
    }
    Ok(received)
}

fn sockaddr_ip(addr: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// `IP_MULTICAST_IF` by interface index (`struct ip_mreqn`), which socket2 only offers by address.
fn set_multicast_if_v4_index(socket: &Socket, ifindex: u32) -> io::Result<()> {
    let index = i32::try_from(ifindex).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mreqn = libc::ip_mreqn {
        imr_multiaddr: libc::in_addr { s_addr: 0 },
        imr_address: libc::in_addr { s_addr: 0 },
        imr_ifindex: index,
    };
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::ip_mreqn>())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: the fd is a live socket owned by `socket`; the pointer and length describe a fully
    // initialised `ip_mreqn` on our stack that outlives the call, and the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&raw const mreqn).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Hands a non-blocking socket to tokio's reactor (every socket of this module goes through
/// here, so the one `unsafe` registration is in one place).
pub(crate) fn register(socket: Socket, ifname: &str) -> Result<AsyncFd<Socket>, NetError> {
    // SAFETY: `Socket` owns its file descriptor and closes it only on drop; the AsyncFd owns
    // the Socket and never hands out a way to replace or close it, so the fd stays open and
    // refers to the same socket for the AsyncFd's whole lifetime, as `register` requires.
    unsafe { AsyncFd::register(socket) }.map_err(|e| NetError::Socket {
        what: "registering with the tokio reactor",
        ifname: ifname.to_owned(),
        source: e.into_parts().1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_detection() {
        assert!(is_unicast_link_local("fe80::1".parse().unwrap()));
        assert!(is_unicast_link_local("febf::1".parse().unwrap()));
        assert!(!is_unicast_link_local("fec0::1".parse().unwrap()));
        assert!(!is_unicast_link_local("2001:db8::1".parse().unwrap()));
        assert!(!is_unicast_link_local(VRRP_GROUP_V6));
    }

    #[test]
    fn protocol_numbers() {
        assert_eq!(IpProtocol::Vrrp.number(), 112);
        assert_eq!(IpProtocol::Ah.number(), 51);
    }
}
