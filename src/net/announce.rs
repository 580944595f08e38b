//! Sending gratuitous ARP and unsolicited neighbour advertisements: complete Ethernet frames,
//! built by `wire`, written to one interface through an AF_PACKET socket.
//!
//! The socket is opened with protocol 0, so the kernel delivers it no frames at all (nothing to
//! drain, no copy of every packet on the link), and it never turns promiscuous mode on.

use std::io;
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::error::NetError;

const ETH_HEADER_LEN: usize = 14;

/// A send-only link-layer socket on one interface.
#[derive(Debug)]
pub struct Announcer {
    fd: AsyncFd<Socket>,
    ifname: String,
    ifindex: u32,
}

impl Announcer {
    /// Opens the socket for the interface. Must be called within a tokio runtime with IO.
    pub fn open(ifname: &str, ifindex: u32) -> Result<Self, NetError> {
        let err = |what: &'static str| {
            let ifname = ifname.to_owned();
            move |source: io::Error| NetError::Socket {
                what,
                ifname,
                source,
            }
        };
        // Protocol 0: receive nothing. Only sendto() is ever used.
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0)))
            .map_err(err("creating AF_PACKET socket"))?;
        bind_to_ifindex(&socket, ifindex).map_err(err("binding AF_PACKET socket"))?;
        socket.set_nonblocking(true).map_err(err("O_NONBLOCK"))?;
        let fd = super::socket::register(socket, ifname)?;
        Ok(Self {
            fd,
            ifname: ifname.to_owned(),
            ifindex,
        })
    }

    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one complete Ethernet frame (destination MAC, source MAC, EtherType, payload).
    pub async fn send(&self, frame: &[u8]) -> io::Result<usize> {
        let (dst, ethertype) = match (frame.get(0..6), frame.get(12..14)) {
            (Some(dst), Some(et)) if frame.len() >= ETH_HEADER_LEN => {
                (dst, u16::from_be_bytes([et[0], et[1]]))
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "frame of {} bytes is shorter than an Ethernet header",
                        frame.len()
                    ),
                ));
            }
        };
        let mut addr = link_addr(self.ifindex)?;
        // The protocol in the address is what taps and the qdisc see as skb->protocol.
        addr.sll_protocol = ethertype.to_be();
        addr.sll_halen = 6;
        for (slot, byte) in addr.sll_addr.iter_mut().zip(dst) {
            *slot = *byte;
        }
        // Tried at once: a socket just registered has no readiness yet, and waiting for the
        // reactor to report it writable costs the first announcement of a failover a turn of
        // the event loop (about 0.2 ms measured). A full buffer (EAGAIN) waits as before.
        match send_frame(self.fd.get_ref(), frame, &addr) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return done,
        }
        self.fd
            .async_io(Interest::WRITABLE, |socket| {
                send_frame(socket, frame, &addr)
            })
            .await
    }
}

fn link_addr(ifindex: u32) -> io::Result<libc::sockaddr_ll> {
    let ifindex =
        i32::try_from(ifindex).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    Ok(libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: 0,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    })
}

fn sockaddr_ll_len() -> libc::socklen_t {
    // sockaddr_ll is 20 bytes: always fits a socklen_t.
    std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t
}

fn bind_to_ifindex(socket: &Socket, ifindex: u32) -> io::Result<()> {
    let addr = link_addr(ifindex)?;
    // SAFETY: the fd is a live socket owned by `socket`; the pointer and length describe a fully
    // initialised sockaddr_ll on our stack that outlives the call and is only read.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&raw const addr).cast::<libc::sockaddr>(),
            sockaddr_ll_len(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn send_frame(socket: &Socket, frame: &[u8], addr: &libc::sockaddr_ll) -> io::Result<usize> {
    // SAFETY: the fd is a live socket; `frame` is a valid slice for its whole length and `addr`
    // a fully initialised sockaddr_ll, both borrowed for the duration of the call, read only.
    let sent = unsafe {
        libc::sendto(
            socket.as_raw_fd(),
            frame.as_ptr().cast::<libc::c_void>(),
            frame.len(),
            libc::MSG_DONTWAIT,
            std::ptr::from_ref(addr).cast::<libc::sockaddr>(),
            sockaddr_ll_len(),
        )
    };
    usize::try_from(sent).map_err(|_| io::Error::last_os_error())
}
