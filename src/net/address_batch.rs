//! Virtual addresses added with no round trip through the netlink connection task.
//!
//! The kernel handles a request to NETLINK_ROUTE inside the `sendmsg` that carries it: when
//! the call returns the address is installed (or refused), and a datagram may carry many
//! requests, handled in order. So a batch is one `sendmsg` and one non-blocking `recv`: the
//! requests ask for no acknowledgement, the kernel answers only the ones it refused, and those
//! answers are queued before `sendmsg` returns. Through rtnetlink's connection the same
//! addition costs two task hops and an epoll wake-up of the connection before the executor
//! learns the address is in: a few hundred microseconds under load, on the path of every
//! failover's first gratuitous ARP.

use std::io;

use rtnetlink::packet_core::{
    NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload,
};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{Socket, protocols::NETLINK_ROUTE};

use super::address::AddressSpec;
use super::error::NetError;

/// Refusals of one batch fit easily: a refusal echoes the request's header only (16 bytes
/// plus 20), and batches are small (`add`'s callers send a window at a time).
const RCVBUF: usize = 1 << 20;

pub struct AddressBatcher {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
    rx: Vec<u8>,
}

impl AddressBatcher {
    pub fn open() -> Result<Self, NetError> {
        let err = |what: &'static str| {
            move |source: io::Error| NetError::Socket {
                what,
                ifname: String::new(),
                source,
            }
        };
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(err("opening a netlink socket"))?;
        socket
            .bind_auto()
            .map_err(err("binding a netlink socket"))?;
        socket
            .set_non_blocking(true)
            .map_err(err("O_NONBLOCK on a netlink socket"))?;
        // Best effort: capped by net.core.rmem_max.
        let _ = socket.set_rx_buf_sz(RCVBUF);
        Ok(Self {
            socket,
            seq: 0,
            buf: Vec::new(),
            rx: vec![0; 64 * 1024],
        })
    }

    /// Adds `specs` in one datagram; when it returns each is in the kernel or refused. One
    /// result per spec, in order; `is_already_exists()` tells an address that was there.
    pub fn add(&mut self, specs: &[AddressSpec]) -> Vec<Result<(), NetError>> {
        let mut results: Vec<Result<(), NetError>> = Vec::with_capacity(specs.len());
        self.buf.clear();
        let first_seq = self.seq.wrapping_add(1);
        let mut sent = Vec::with_capacity(specs.len());
        for spec in specs {
            self.seq = self.seq.wrapping_add(1);
            let message = match spec.to_message(true) {
                Ok(m) => m,
                Err(e) => {
                    results.push(Err(e));
                    sent.push(false);
                    continue;
                }
            };
            let mut req = NetlinkMessage::from(RouteNetlinkMessage::NewAddress(message));
            // What `ip address add` asks (and rtnetlink), without NLM_F_ACK: silence is success.
            req.header.flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
            req.header.sequence_number = self.seq;
            req.finalize();
            let at = self.buf.len();
            self.buf.resize(at + req.buffer_len(), 0);
            req.serialize(&mut self.buf[at..]);
            results.push(Ok(()));
            sent.push(true);
        }
        if self.buf.is_empty() {
            return results;
        }
        if let Err(e) = self.socket.send(&self.buf, 0) {
            for (r, s) in results.iter_mut().zip(&sent) {
                if *s {
                    *r = Err(NetError::Socket {
                        what: "sending address requests",
                        ifname: String::new(),
                        source: io::Error::new(e.kind(), e.to_string()),
                    });
                }
            }
            return results;
        }
        // The refusals were queued during `send`: read until the socket is empty.
        loop {
            let n = match self.socket.recv(&mut &mut self.rx[..], 0) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ENOBUFS: answers were lost. Not expected with batches this small.
                    tracing::warn!(error = %e, "address batch: answers lost; some refusals may go unreported");
                    break;
                }
            };
            let mut off = 0;
            while let Some(data) = self.rx.get(off..n).filter(|d| d.len() >= 16) {
                let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(data) else {
                    break;
                };
                let len = usize::try_from(msg.header.length).unwrap_or(0).max(16);
                off += (len + 3) & !3;
                let index = msg.header.sequence_number.wrapping_sub(first_seq) as usize;
                if let NetlinkPayload::Error(e) = msg.payload
                    && e.code.is_some()
                    && let (Some(r), Some(spec)) = (results.get_mut(index), specs.get(index))
                {
                    *r = Err(NetError::netlink(
                        "add address",
                        spec.to_string(),
                        rtnetlink::Error::NetlinkError(e),
                    ));
                }
            }
        }
        results
    }
}
