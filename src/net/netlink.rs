//! Commands over rtnetlink: link lookup, interface addresses, virtual IPs (batched) and the
//! macvlan VMAC interfaces of `use_vmac` instances.
//!
//! This connection only sends requests and reads their answers. Link and address
//! notifications come from a separate multicast connection ([`super::events::NetlinkEvents`]):
//! on a shared connection the kernel's IPv4 RTM_NEWADDR notification carries the requester's
//! sequence number and netlink-proto swallows it as a reply.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use futures::TryStreamExt;
use futures::future::join_all;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, CacheInfo,
};
use rtnetlink::packet_route::link::{
    InfoData, InfoKind, InfoVrf, LinkAttribute, LinkFlags, LinkInfo as NlLinkInfo, LinkMessage,
    MacVlanMode,
};
use rtnetlink::sys::AsyncSocket;
use rtnetlink::{Handle, LinkMacVlan, LinkUnspec};

use super::address::{AddrScope, AddressInfo, AddressSpec};
use super::error::NetError;
use super::sysctl;
use crate::types::{Family, Vrid};

/// How many requests one batch keeps in flight. The kernel answers each request with an ack
/// that waits in the socket's receive buffer until netlink-proto reads it; an unbounded burst
/// of thousands of requests could overflow that buffer (ENOBUFS) and lose acks.
pub const BATCH_WINDOW: usize = 256;

/// Receive buffer asked for the command socket, so that a full batch window of acks fits.
const COMMAND_RCVBUF: usize = 1 << 20;

/// What the daemon needs to know about a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub ifindex: u32,
    pub name: String,
    /// The hardware address, when it is an Ethernet-sized one.
    pub mac: Option<[u8; 6]>,
    /// IFF_UP: administratively up.
    pub admin_up: bool,
    /// IFF_RUNNING: operationally up (carrier and oper state).
    pub running: bool,
    pub mtu: Option<u32>,
    /// IFLA_LINK: the lower device (a macvlan's base interface).
    pub parent: Option<u32>,
    pub is_macvlan: bool,
    /// A VRF device (IFLA_INFO_KIND "vrf"): its routing table (IFLA_VRF_TABLE).
    pub vrf_table: Option<u32>,
}

impl LinkInfo {
    /// Usable for VRRP: administratively up and running (RFC 5798 §6.4.1 ties Startup to the
    /// interface being available).
    pub fn is_up(&self) -> bool {
        self.admin_up && self.running
    }

    pub(crate) fn from_message(msg: &LinkMessage) -> Option<Self> {
        let mut info = LinkInfo {
            ifindex: msg.header.index,
            name: String::new(),
            mac: None,
            admin_up: msg.header.flags.contains(LinkFlags::Up),
            running: msg.header.flags.contains(LinkFlags::Running),
            mtu: None,
            parent: None,
            is_macvlan: false,
            vrf_table: None,
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(name) => info.name.clone_from(name),
                LinkAttribute::Address(bytes) => {
                    info.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok()
                }
                LinkAttribute::Mtu(mtu) => info.mtu = Some(*mtu),
                LinkAttribute::Link(parent) => info.parent = Some(*parent),
                LinkAttribute::LinkInfo(infos) => {
                    info.is_macvlan = infos
                        .iter()
                        .any(|i| matches!(i, NlLinkInfo::Kind(InfoKind::MacVlan)));
                    info.vrf_table = infos.iter().find_map(|i| match i {
                        NlLinkInfo::Data(InfoData::Vrf(data)) => {
                            data.iter().find_map(|d| match d {
                                InfoVrf::TableId(t) => Some(*t),
                                _ => None,
                            })
                        }
                        _ => None,
                    });
                }
                _ => {}
            }
        }
        if info.name.is_empty() {
            None
        } else {
            Some(info)
        }
    }
}

/// A VMAC interface to create: a macvlan on `base_ifindex` carrying the virtual router MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    /// Its name (keepalived's default is `vrrp.<VRID>`).
    pub name: String,
    pub base_ifindex: u32,
    pub vrid: Vrid,
    pub family: Family,
    /// IPv6: the address the instance sends adverts from, added to the VMAC so a socket there
    /// can bind to it (keepalived adds its configured source address the same way). `None`:
    /// the base interface's link-local address.
    pub source_v6: Option<Ipv6Addr>,
}

/// The virtual router MAC address (RFC 5798 §7.3): 00-00-5E-00-01-{VRID} for IPv4,
/// 00-00-5E-00-02-{VRID} for IPv6.
pub fn virtual_mac(vrid: Vrid, family: Family) -> [u8; 6] {
    let kind = match family {
        Family::V4 => 0x01,
        Family::V6 => 0x02,
    };
    [0x00, 0x00, 0x5e, 0x00, kind, vrid.get()]
}

/// The base interface's ARP settings before the first VMAC on it changed them.
#[derive(Debug, Clone, Copy)]
struct SavedArp {
    users: u32,
    arp_ignore: i64,
    arp_filter: i64,
    arp_announce: i64,
}

/// The command connection. Dropping it stops its background task.
#[derive(Debug)]
pub struct Netlink {
    pub(super) handle: Handle,
    connection: tokio::task::JoinHandle<()>,
    saved_arp: Mutex<HashMap<u32, SavedArp>>,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl Netlink {
    /// Opens the command connection and spawns its IO task on the current tokio runtime.
    pub fn connect() -> Result<Self, NetError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| NetError::Connect {
            purpose: "commands",
            source: std::io::Error::other(e),
        })?;
        let (mut connection, handle, _unsolicited) =
            rtnetlink::new_connection().map_err(|source| NetError::Connect {
                purpose: "commands",
                source,
            })?;
        // Best effort: the kernel caps it at net.core.rmem_max, and BATCH_WINDOW keeps bursts
        // small enough for the default size anyway.
        let _ = connection
            .socket_mut()
            .socket_mut()
            .set_rx_buf_sz(COMMAND_RCVBUF);
        let connection = runtime.spawn(connection);
        Ok(Self {
            handle,
            connection,
            saved_arp: Mutex::new(HashMap::new()),
        })
    }

    /// Looks a link up by name.
    pub async fn link_by_name(&self, name: &str) -> Result<LinkInfo, NetError> {
        sysctl::validate_ifname(name)?;
        let request = self.handle.link().get().match_name(name).execute();
        self.first_link(request, name.to_owned()).await
    }

    /// Looks a link up by index.
    pub async fn link_by_index(&self, ifindex: u32) -> Result<LinkInfo, NetError> {
        let request = self.handle.link().get().match_index(ifindex).execute();
        self.first_link(request, format!("ifindex {ifindex}")).await
    }

    async fn first_link(
        &self,
        request: impl futures::Stream<Item = Result<LinkMessage, rtnetlink::Error>>,
        target: String,
    ) -> Result<LinkInfo, NetError> {
        let mut stream = std::pin::pin!(request);
        match stream.try_next().await {
            Ok(Some(msg)) => LinkInfo::from_message(&msg).ok_or(NetError::NoSuchLink(target)),
            Ok(None) => Err(NetError::NoSuchLink(target)),
            Err(e) => {
                let err = NetError::netlink("get link", target.clone(), e);
                if err.errno() == Some(libc::ENODEV) {
                    Err(NetError::NoSuchLink(target))
                } else {
                    Err(err)
                }
            }
        }
    }

    /// All links of the namespace.
    pub async fn links(&self) -> Result<Vec<LinkInfo>, NetError> {
        let msgs: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetError::netlink("dump links", "all", e))?;
        Ok(msgs.iter().filter_map(LinkInfo::from_message).collect())
    }

    /// Every address of one interface, both families, in the kernel's order.
    pub async fn addresses(&self, ifindex: u32) -> Result<Vec<AddressInfo>, NetError> {
        self.dump_addresses(Some(ifindex)).await
    }

    /// Every address of every interface, in one dump (the kernel dumps them all even when
    /// asked for one interface, so one dump beats one per interface).
    pub async fn all_addresses(&self) -> Result<Vec<AddressInfo>, NetError> {
        self.dump_addresses(None).await
    }

    async fn dump_addresses(&self, ifindex: Option<u32>) -> Result<Vec<AddressInfo>, NetError> {
        let mut request = self.handle.address().get();
        if let Some(ifindex) = ifindex {
            request = request.set_link_index_filter(ifindex);
        }
        let which = ifindex.map_or_else(|| "all".to_owned(), |i| format!("ifindex {i}"));
        let msgs: Vec<AddressMessage> = request
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetError::netlink("dump addresses", which, e))?;
        Ok(msgs.iter().filter_map(AddressInfo::from_message).collect())
    }

    /// The interface's primary IPv4 address: the first one that is not secondary. This is the
    /// source of VRRPv2/v3 IPv4 adverts (RFC 5798 §5.1.1.1).
    pub async fn primary_ipv4(&self, ifindex: u32) -> Result<Option<Ipv4Addr>, NetError> {
        Ok(primary_ipv4_of(&self.addresses(ifindex).await?))
    }

    /// The interface's IPv6 link-local address, the source of IPv6 adverts (RFC 5798
    /// §5.1.2.1); see [`ipv6_link_local_of`].
    pub async fn ipv6_link_local(&self, ifindex: u32) -> Result<Option<Ipv6Addr>, NetError> {
        Ok(ipv6_link_local_of(&self.addresses(ifindex).await?))
    }

    /// Adds one address.
    pub async fn add_address(&self, spec: &AddressSpec) -> Result<(), NetError> {
        let mut request = self
            .handle
            .address()
            .add(spec.ifindex, spec.addr, spec.prefix_len);
        *request.message_mut() = spec.to_message(true)?;
        request
            .execute()
            .await
            .map_err(|e| NetError::netlink("add address", spec.to_string(), e))
    }

    /// Deletes one address (matched by interface, address and prefix length).
    pub async fn del_address(&self, spec: &AddressSpec) -> Result<(), NetError> {
        let message = spec.to_message(false)?;
        self.handle
            .address()
            .del(message)
            .execute()
            .await
            .map_err(|e| NetError::netlink("delete address", spec.to_string(), e))
    }

    /// Adds many addresses quickly: every request of a window is issued before any answer is
    /// awaited. One result per spec, in order; `is_already_exists()` tells a present address.
    pub async fn add_addresses(&self, specs: &[AddressSpec]) -> Vec<Result<(), NetError>> {
        let mut results = Vec::with_capacity(specs.len());
        for window in specs.chunks(BATCH_WINDOW) {
            // join_all polls every future once before awaiting any: each one queues its request
            // on the connection at its first poll, so the window goes out back to back.
            results.extend(join_all(window.iter().map(|s| self.add_address(s))).await);
        }
        results
    }

    /// Deletes many addresses, batched like [`Netlink::add_addresses`].
    pub async fn del_addresses(&self, specs: &[AddressSpec]) -> Vec<Result<(), NetError>> {
        let mut results = Vec::with_capacity(specs.len());
        for window in specs.chunks(BATCH_WINDOW) {
            results.extend(join_all(window.iter().map(|s| self.del_address(s))).await);
        }
        results
    }

    /// Sets a link administratively up or down.
    pub async fn set_link_up(&self, ifindex: u32, up: bool) -> Result<(), NetError> {
        let builder = LinkUnspec::new_with_index(ifindex);
        let message = if up { builder.up() } else { builder.down() }.build();
        self.handle
            .link()
            .set(message)
            .execute()
            .await
            .map_err(|e| NetError::netlink("set link state", format!("ifindex {ifindex}"), e))
    }

    /// Creates (or adopts) the VMAC interface of an instance, configured as keepalived does,
    /// and brings it up. If a step after the creation fails the macvlan is left in place;
    /// [`Netlink::delete_vmac`] removes it.
    ///
    /// A macvlan of that name left over with the right MAC and base is adopted; one with a
    /// different MAC or base is replaced; a non-macvlan link of that name is an error (a real
    /// interface is never deleted). Mode private, like keepalived: the VMAC only exchanges
    /// frames with the outside, not with sibling macvlans.
    ///
    /// IPv4: on the VMAC arp_ignore=1, accept_local=1, rp_filter=0, promote_secondaries=1 and
    /// IPv6 disabled; on the base interface arp_ignore=1, arp_filter=1 and arp_announce=2
    /// (the last one beyond keepalived; restored, like the others, when its
    /// last VMAC is deleted through [`Netlink::delete_vmac`]), so that only the VMAC answers
    /// ARP for the virtual addresses. IPv6: no address is generated from the virtual MAC (RFC
    /// 5798 §7.4: the source stays the router's own link-local); the instance's source address
    /// (`spec.source_v6`, else the base interface's link-local) is added to the VMAC instead,
    /// without DAD since the base owns it, so adverts can leave the VMAC from it.
    pub async fn create_vmac(&self, spec: &VmacSpec) -> Result<LinkInfo, NetError> {
        sysctl::validate_ifname(&spec.name)?;
        let mac = virtual_mac(spec.vrid, spec.family);
        let base = self.link_by_index(spec.base_ifindex).await?;
        let created = match self.link_by_name(&spec.name).await {
            Ok(existing)
                if existing.is_macvlan
                    && existing.mac == Some(mac)
                    && existing.parent == Some(base.ifindex) =>
            {
                false
            }
            Ok(existing) if existing.is_macvlan => {
                self.delete_link(existing.ifindex, &existing.name).await?;
                self.add_macvlan(spec, mac).await?;
                true
            }
            Ok(existing) => {
                return Err(NetError::InvalidName {
                    name: existing.name,
                    reason: "an interface of that name exists and is not a macvlan",
                });
            }
            Err(NetError::NoSuchLink(_)) => {
                self.add_macvlan(spec, mac).await?;
                true
            }
            Err(e) => return Err(e),
        };
        let vmac = self.link_by_name(&spec.name).await?;
        match spec.family {
            Family::V4 => {
                for (key, value) in [
                    ("arp_ignore", 1),
                    ("accept_local", 1),
                    ("rp_filter", 0),
                    ("promote_secondaries", 1),
                ] {
                    sysctl::write_conf(Family::V4, &vmac.name, key, value)?;
                }
                // An IPv4 instance has no use for IPv6 on its VMAC (keepalived does the same).
                // Best effort when the kernel runs without IPv6 (no ipv6/conf directory).
                match sysctl::write_conf(Family::V6, &vmac.name, "disable_ipv6", 1) {
                    Err(NetError::Sysctl { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound => {}
                    other => other?,
                }
                if created {
                    self.take_base_arp(&base)?;
                }
            }
            Family::V6 => {
                // 1 = IN6_ADDR_GEN_MODE_NONE; must be set before the link goes up.
                sysctl::write_conf(Family::V6, &vmac.name, "addr_gen_mode", 1)?;
                let known = match spec.source_v6 {
                    Some(a) => Some(a),
                    None => self.ipv6_link_local(base.ifindex).await?,
                };
                let source = match known {
                    Some(ll) => ll,
                    None => base
                        .mac
                        .map(eui64_link_local)
                        .ok_or(NetError::NoSuchLink(format!(
                            "{}: no IPv6 link-local address and no MAC to derive one",
                            base.name
                        )))?,
                };
                let mut ll = AddressSpec::new(vmac.ifindex, IpAddr::V6(source), 64);
                ll.nodad = true;
                ll.scope = if source.is_unicast_link_local() {
                    AddrScope::Link
                } else {
                    AddrScope::Global
                };
                match self.add_address(&ll).await {
                    Err(e) if !e.is_already_exists() => return Err(e),
                    _ => {}
                }
            }
        }
        self.set_link_up(vmac.ifindex, true).await?;
        self.link_by_index(vmac.ifindex).await
    }

    /// Deletes a VMAC interface created by [`Netlink::create_vmac`] and, for the last IPv4 VMAC
    /// on a base interface, restores the base's arp_ignore and arp_filter. Refuses to delete a
    /// link that is not a macvlan.
    pub async fn delete_vmac(&self, ifindex: u32) -> Result<(), NetError> {
        let link = self.link_by_index(ifindex).await?;
        if !link.is_macvlan {
            return Err(NetError::InvalidName {
                name: link.name,
                reason: "not a macvlan: refusing to delete it",
            });
        }
        self.delete_link(link.ifindex, &link.name).await?;
        if let Some(parent) = link.parent {
            self.release_base_arp(parent).await?;
        }
        Ok(())
    }

    async fn add_macvlan(&self, spec: &VmacSpec, mac: [u8; 6]) -> Result<(), NetError> {
        let message = LinkMacVlan::new(&spec.name, spec.base_ifindex, MacVlanMode::Private)
            .address(mac.to_vec())
            .build();
        self.handle
            .link()
            .add(message)
            .execute()
            .await
            .map_err(|e| NetError::netlink("create macvlan", spec.name.clone(), e))
    }

    async fn delete_link(&self, ifindex: u32, name: &str) -> Result<(), NetError> {
        self.handle
            .link()
            .del(ifindex)
            .execute()
            .await
            .map_err(|e| NetError::netlink("delete link", name.to_owned(), e))
    }

    fn take_base_arp(&self, base: &LinkInfo) -> Result<(), NetError> {
        let mut saved = self
            .saved_arp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(entry) = saved.get_mut(&base.ifindex) {
            entry.users = entry.users.saturating_add(1);
            return Ok(());
        }
        let arp_ignore = sysctl::read_conf(Family::V4, &base.name, "arp_ignore")?;
        let arp_filter = sysctl::read_conf(Family::V4, &base.name, "arp_filter")?;
        let arp_announce = sysctl::read_conf(Family::V4, &base.name, "arp_announce")?;
        // The base must not answer ARP for the virtual addresses the VMAC carries.
        sysctl::write_conf(Family::V4, &base.name, "arp_ignore", 1)?;
        sysctl::write_conf(Family::V4, &base.name, "arp_filter", 1)?;
        // Nor name them in its own ARP requests. Replies from a VIP leave through the base
        // (its connected route comes first); resolving the next hop there, the kernel would
        // by default ask "who-has X tell VIP" from the base MAC, and every host on the segment
        // would repoint the VIP at the base MAC, undoing the VMAC. 2 = use the base's own
        // address. keepalived 2.2.7 leaves arp_announce alone (and has that flux); we differ.
        sysctl::write_conf(Family::V4, &base.name, "arp_announce", 2)?;
        saved.insert(
            base.ifindex,
            SavedArp {
                users: 1,
                arp_ignore,
                arp_filter,
                arp_announce,
            },
        );
        Ok(())
    }

    async fn release_base_arp(&self, base_ifindex: u32) -> Result<(), NetError> {
        let restore = {
            let mut saved = self
                .saved_arp
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match saved.get_mut(&base_ifindex) {
                Some(entry) if entry.users > 1 => {
                    entry.users -= 1;
                    None
                }
                Some(_) => saved.remove(&base_ifindex),
                None => None,
            }
        };
        if let Some(old) = restore {
            let base = self.link_by_index(base_ifindex).await?;
            sysctl::write_conf(Family::V4, &base.name, "arp_ignore", old.arp_ignore)?;
            sysctl::write_conf(Family::V4, &base.name, "arp_filter", old.arp_filter)?;
            sysctl::write_conf(Family::V4, &base.name, "arp_announce", old.arp_announce)?;
        }
        Ok(())
    }
}

/// The modified-EUI-64 link-local address of a MAC (RFC 4291 §2.5.6, appendix A).
pub fn eui64_link_local(mac: [u8; 6]) -> Ipv6Addr {
    let [m0, m1, m2, m3, m4, m5] = mac;
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        m0 ^ 0x02,
        m1,
        m2,
        0xff,
        0xfe,
        m3,
        m4,
        m5,
    ])
}

impl AddressSpec {
    /// The RTM_NEWADDR / RTM_DELADDR message; `full` adds the attributes only an add carries.
    pub(crate) fn to_message(&self, full: bool) -> Result<AddressMessage, NetError> {
        let invalid = |reason| NetError::InvalidAddress {
            ifindex: self.ifindex,
            addr: self.addr,
            prefix_len: self.prefix_len,
            reason,
        };
        let (family, max) = match self.addr {
            IpAddr::V4(_) => (AddressFamily::Inet, 32),
            IpAddr::V6(_) => (AddressFamily::Inet6, 128),
        };
        if self.prefix_len > max {
            return Err(invalid("prefix length too long for the family"));
        }
        if self.addr.is_multicast() || self.addr.is_unspecified() {
            return Err(invalid("not a unicast address"));
        }
        if self.broadcast.is_some() && family == AddressFamily::Inet6 {
            return Err(invalid("IPv6 has no broadcast address"));
        }
        let mut msg = AddressMessage::default();
        msg.header.family = family;
        msg.header.prefix_len = self.prefix_len;
        msg.header.index = self.ifindex;
        msg.header.scope = self.scope.into();
        let extra = self.extra.as_deref().cloned().unwrap_or_default();
        if let Some(peer) = extra.peer
            && peer.is_ipv4() != self.addr.is_ipv4()
        {
            return Err(invalid("the peer is not of the address's family"));
        }
        msg.attributes.push(AddressAttribute::Local(self.addr));
        // IFA_ADDRESS is the peer of a point-to-point address, in a delete too: the kernel
        // matches it against the address it holds.
        msg.attributes
            .push(AddressAttribute::Address(extra.peer.unwrap_or(self.addr)));
        if full {
            if let (IpAddr::V4(_), Some(label)) = (self.addr, &self.label) {
                // Linux addresses IPv6 without labels; for IPv4 the label is what `ip addr`
                // shows and what keepalived's `label` keyword sets.
                sysctl::validate_ifname(label)
                    .map_err(|_| invalid("label is not a valid interface alias"))?;
                msg.attributes.push(AddressAttribute::Label(label.clone()));
            }
            if let Some(brd) = self.broadcast {
                msg.attributes.push(AddressAttribute::Broadcast(brd));
            }
            let mut flags = AddressFlags::from_bits_retain(extra.flags);
            if self.nodad {
                // Only IPv6 runs DAD; the flag is harmless on IPv4 and keeps the code uniform.
                flags |= AddressFlags::Nodad;
            }
            if !flags.is_empty() {
                // The header carries the low byte (older kernels read only that); IFA_FLAGS
                // carries all 32 bits (MANAGETEMPADDR and above live only there).
                msg.header.flags |= AddressHeaderFlags::from_bits_retain(flags.bits() as u8);
                msg.attributes.push(AddressAttribute::Flags(flags));
            }
            if let (IpAddr::V6(_), Some(preferred)) = (self.addr, extra.preferred_lft) {
                // keepalived: a preferred lifetime of 0 deprecates the address (RFC 4862
                // §5.5.4), so it is not chosen as a source; the valid lifetime stays forever.
                let mut info = CacheInfo::default();
                info.ifa_preferred = preferred;
                info.ifa_valid = u32::MAX;
                msg.attributes.push(AddressAttribute::CacheInfo(info));
            }
        }
        Ok(msg)
    }
}

/// The primary IPv4 address among one interface's addresses (in the kernel's order): the
/// first one that is not secondary.
pub fn primary_ipv4_of(addrs: &[AddressInfo]) -> Option<Ipv4Addr> {
    addrs.iter().find_map(|a| match a.addr {
        IpAddr::V4(v4) if !a.is_secondary() => Some(v4),
        _ => None,
    })
}

/// The IPv6 link-local address among one interface's addresses. One whose duplicate address
/// detection is over is preferred; a tentative one is returned only if there is no other
/// (binding it fails until DAD ends).
pub fn ipv6_link_local_of(addrs: &[AddressInfo]) -> Option<Ipv6Addr> {
    let link_locals = || {
        addrs.iter().filter_map(|a| match a.addr {
            IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 && !a.is_dad_failed() => {
                Some((v6, a))
            }
            _ => None,
        })
    };
    let ready = link_locals()
        .find(|(_, a)| !a.is_tentative())
        .map(|(v6, _)| v6);
    ready.or_else(|| link_locals().next().map(|(v6, _)| v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_mac_follows_rfc_5798_section_7_3() {
        let vrid = Vrid::new(0x2a).unwrap();
        assert_eq!(virtual_mac(vrid, Family::V4), [0, 0, 0x5e, 0, 1, 0x2a]);
        assert_eq!(virtual_mac(vrid, Family::V6), [0, 0, 0x5e, 0, 2, 0x2a]);
    }

    #[test]
    fn eui64_flips_the_universal_bit() {
        let ll = eui64_link_local([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
        assert_eq!(ll, "fe80::5054:ff:fe12:3456".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn address_message_carries_label_scope_brd_and_nodad() {
        let mut spec = AddressSpec::new(7, "192.0.2.10".parse().unwrap(), 24);
        spec.label = Some("eth0:vip".into());
        spec.scope = AddrScope::Link;
        spec.broadcast = Some(Ipv4Addr::new(192, 0, 2, 255));
        let msg = spec.to_message(true).unwrap();
        assert_eq!(msg.header.index, 7);
        assert_eq!(msg.header.prefix_len, 24);
        assert_eq!(u8::from(msg.header.scope), 253);
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Label("eth0:vip".into()))
        );
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Broadcast(Ipv4Addr::new(192, 0, 2, 255)))
        );
        // A delete names the address only.
        let del = spec.to_message(false).unwrap();
        assert!(
            !del.attributes
                .iter()
                .any(|a| matches!(a, AddressAttribute::Label(_)))
        );
    }

    #[test]
    fn bad_address_specs_are_refused_before_the_kernel_sees_them() {
        let too_long = AddressSpec::new(1, "192.0.2.1".parse().unwrap(), 33);
        assert!(matches!(
            too_long.to_message(true),
            Err(NetError::InvalidAddress { .. })
        ));
        let mut v6_brd = AddressSpec::new(1, "2001:db8::1".parse().unwrap(), 64);
        v6_brd.broadcast = Some(Ipv4Addr::BROADCAST);
        assert!(v6_brd.to_message(true).is_err());
        let mcast = AddressSpec::new(1, "224.0.0.18".parse().unwrap(), 32);
        assert!(mcast.to_message(true).is_err());
        let mut bad_label = AddressSpec::new(1, "192.0.2.1".parse().unwrap(), 32);
        bad_label.label = Some("far-too-long-label-here".into());
        assert!(bad_label.to_message(true).is_err());
    }

    #[test]
    fn nodad_sets_both_flag_fields() {
        let mut spec = AddressSpec::new(3, "2001:db8::5".parse().unwrap(), 64);
        spec.nodad = true;
        let msg = spec.to_message(true).unwrap();
        assert!(msg.header.flags.contains(AddressHeaderFlags::Nodad));
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Flags(AddressFlags::Nodad))
        );
    }
}
