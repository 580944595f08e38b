//! Link and address notifications from the kernel, on their own multicast netlink connection.
//!
//! A separate connection from the command one ([`super::netlink::Netlink`]) is deliberate: on
//! a shared connection the kernel's IPv4 RTM_NEWADDR notification for an address we added
//! carries our request's sequence number, and netlink-proto takes it for a reply and drops it.

use std::net::IpAddr;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::{AsyncSocket, SocketAddr};
use rtnetlink::{MulticastGroup, new_multicast_connection};

use super::address::AddressInfo;
use super::error::NetError;
use super::netlink::LinkInfo;

/// Receive buffer asked for the event socket: a link flap with many addresses produces a burst.
const EVENTS_RCVBUF: usize = 4 << 20;

/// A change the daemon reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// A link appeared or changed; `up` is IFF_UP && IFF_RUNNING (administratively and
    /// operationally up).
    LinkChanged {
        ifindex: u32,
        name: String,
        up: bool,
    },
    /// A link was deleted.
    LinkRemoved { ifindex: u32, name: String },
    /// An address appeared, or its flags changed: the kernel repeats RTM_NEWADDR when an
    /// IPv6 address's duplicate address detection ends (IFA_F_TENTATIVE cleared).
    AddressAdded {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
        /// DAD still running (or failed: a duplicate stays tentative): not usable as a source.
        tentative: bool,
    },
    AddressRemoved {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    /// The kernel dropped notifications: the socket's receive buffer was full (ENOBUFS, which
    /// netlink-proto reports as an NLMSG_OVERRUN message). Every state learned from events
    /// may be stale: subscribe again and read the state afresh.
    Overrun,
}

impl NetEvent {
    /// Translates one notification; `None` for kinds the daemon does not follow.
    pub(crate) fn from_message(msg: &NetlinkMessage<RouteNetlinkMessage>) -> Option<Self> {
        let inner = match &msg.payload {
            NetlinkPayload::InnerMessage(inner) => inner,
            NetlinkPayload::Overrun(_) => return Some(NetEvent::Overrun),
            _ => return None,
        };
        match inner {
            RouteNetlinkMessage::NewLink(link) => {
                LinkInfo::from_message(link).map(|l| NetEvent::LinkChanged {
                    up: l.is_up(),
                    ifindex: l.ifindex,
                    name: l.name,
                })
            }
            RouteNetlinkMessage::DelLink(link) => {
                LinkInfo::from_message(link).map(|l| NetEvent::LinkRemoved {
                    ifindex: l.ifindex,
                    name: l.name,
                })
            }
            RouteNetlinkMessage::NewAddress(addr) => {
                AddressInfo::from_message(addr).map(|a| NetEvent::AddressAdded {
                    tentative: a.is_tentative() || a.is_dad_failed(),
                    ifindex: a.ifindex,
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                })
            }
            RouteNetlinkMessage::DelAddress(addr) => {
                AddressInfo::from_message(addr).map(|a| NetEvent::AddressRemoved {
                    ifindex: a.ifindex,
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                })
            }
            _ => None,
        }
    }
}

/// The subscription to RTMGRP_LINK, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR. Dropping it
/// stops its background task.
#[derive(Debug)]
pub struct NetlinkEvents {
    messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    connection: tokio::task::JoinHandle<()>,
}

impl Drop for NetlinkEvents {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl NetlinkEvents {
    /// Subscribes, spawning the connection's IO task on the current tokio runtime. Events that
    /// happen after this returns are delivered; the caller reads the current state (links,
    /// addresses) after subscribing so that nothing falls between the two.
    pub fn subscribe() -> Result<Self, NetError> {
        let err = |source| NetError::Connect {
            purpose: "link and address events",
            source,
        };
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|e| err(std::io::Error::other(e)))?;
        let groups = [
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ];
        let (mut connection, _handle, messages) = new_multicast_connection(&groups).map_err(err)?;
        // Best effort (capped by net.core.rmem_max): a larger buffer makes an overrun rarer.
        let _ = connection
            .socket_mut()
            .socket_mut()
            .set_rx_buf_sz(EVENTS_RCVBUF);
        let connection = runtime.spawn(connection);
        Ok(Self {
            messages,
            connection,
        })
    }

    /// The next event. Cancel-safe (usable in `select!`). Every RTM_NEWLINK is reported, also
    /// when nothing the daemon cares about changed: compare `up` with the previous value.
    /// `None` means the connection ended (the socket failed, e.g. on a
    /// receive-buffer overrun): the caller must subscribe again and re-read the state, since
    /// events may have been lost.
    pub async fn next(&mut self) -> Option<NetEvent> {
        loop {
            let (msg, _from) = self.messages.next().await?;
            if let Some(event) = NetEvent::from_message(&msg) {
                return Some(event);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtnetlink::packet_route::address::{AddressAttribute, AddressMessage};
    use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};

    fn link(flags: LinkFlags) -> LinkMessage {
        let mut msg = LinkMessage::default();
        msg.header.index = 9;
        msg.header.flags = flags;
        msg.attributes.push(LinkAttribute::IfName("eth9".into()));
        msg
    }

    #[test]
    fn link_is_up_only_when_admin_up_and_running() {
        let cases = [
            (LinkFlags::Up | LinkFlags::Running, true),
            (LinkFlags::Up, false),
            (LinkFlags::Running, false),
            (LinkFlags::empty(), false),
        ];
        for (flags, up) in cases {
            let msg = NetlinkMessage::from(RouteNetlinkMessage::NewLink(link(flags)));
            assert_eq!(
                NetEvent::from_message(&msg),
                Some(NetEvent::LinkChanged {
                    ifindex: 9,
                    name: "eth9".into(),
                    up
                }),
                "{flags:?}"
            );
        }
    }

    #[test]
    fn tentative_address_is_reported_as_such() {
        use rtnetlink::packet_route::address::AddressFlags;
        let ll: std::net::Ipv6Addr = "fe80::1".parse().unwrap();
        for (tentative, expected) in [(true, true), (false, false)] {
            let mut addr = AddressMessage::default();
            addr.header.index = 3;
            addr.header.prefix_len = 64;
            // IFA_FLAGS, as the kernel sends it for IPv6.
            let flags = if tentative {
                AddressFlags::Tentative
            } else {
                AddressFlags::Permanent
            };
            addr.attributes.push(AddressAttribute::Flags(flags));
            addr.attributes.push(AddressAttribute::Address(ll.into()));
            let msg = NetlinkMessage::from(RouteNetlinkMessage::NewAddress(addr));
            assert_eq!(
                NetEvent::from_message(&msg),
                Some(NetEvent::AddressAdded {
                    ifindex: 3,
                    addr: ll.into(),
                    prefix_len: 64,
                    tentative: expected,
                })
            );
        }
    }

    #[test]
    fn an_overrun_is_reported() {
        // What netlink-proto's framed reader makes of ENOBUFS.
        let msg: NetlinkMessage<RouteNetlinkMessage> = NetlinkMessage::new(
            rtnetlink::packet_core::NetlinkHeader::default(),
            NetlinkPayload::Overrun(Vec::new()),
        );
        assert_eq!(NetEvent::from_message(&msg), Some(NetEvent::Overrun));
    }

    #[test]
    fn address_removal_is_reported() {
        let mut addr = AddressMessage::default();
        addr.header.index = 2;
        addr.header.prefix_len = 24;
        addr.attributes
            .push(AddressAttribute::Local("192.0.2.7".parse().unwrap()));
        let msg = NetlinkMessage::from(RouteNetlinkMessage::DelAddress(addr));
        assert_eq!(
            NetEvent::from_message(&msg),
            Some(NetEvent::AddressRemoved {
                ifindex: 2,
                addr: "192.0.2.7".parse().unwrap(),
                prefix_len: 24
            })
        );
    }
}
