//! Interface addresses as the daemon sees them: what to configure ([`AddressSpec`]) and what
//! the kernel reports ([`AddressInfo`]), free of rtnetlink's types.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use rtnetlink::packet_route::address::{
    AddressAttribute, AddressFlags, AddressMessage, AddressScope,
};

/// Address scope (`ip addr ... scope`), as keepalived's VIP `scope` keyword names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AddrScope {
    #[default]
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    Other(u8),
}

impl From<AddrScope> for AddressScope {
    fn from(s: AddrScope) -> Self {
        match s {
            AddrScope::Global => AddressScope::Universe,
            AddrScope::Site => AddressScope::Site,
            AddrScope::Link => AddressScope::Link,
            AddrScope::Host => AddressScope::Host,
            AddrScope::Nowhere => AddressScope::Nowhere,
            AddrScope::Other(n) => AddressScope::Other(n),
        }
    }
}

impl From<AddressScope> for AddrScope {
    fn from(s: AddressScope) -> Self {
        match s {
            AddressScope::Universe => AddrScope::Global,
            AddressScope::Site => AddrScope::Site,
            AddressScope::Link => AddrScope::Link,
            AddressScope::Host => AddrScope::Host,
            AddressScope::Nowhere => AddrScope::Nowhere,
            AddressScope::Other(n) => AddrScope::Other(n),
            _ => AddrScope::Other(u8::from(s)),
        }
    }
}

/// An address to add to (or delete from) an interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddressSpec {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IPv4 label (`eth0:1`); ignored for IPv6, which Linux does not label.
    pub label: Option<String>,
    pub scope: AddrScope,
    /// IPv4 broadcast address; `None` sets none (keepalived sets one only when `brd` is given).
    pub broadcast: Option<Ipv4Addr>,
    /// IFA_F_NODAD: skip IPv6 duplicate address detection, so a virtual IPv6 address is
    /// usable at once after a failover.
    pub nodad: bool,
    /// What few addresses ask for beyond the above; boxed, as a router holds thousands of
    /// plain addresses.
    pub extra: Option<Box<AddressExtra>>,
}

/// The rarely used parts of an [`AddressSpec`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddressExtra {
    /// The point-to-point peer (IFA_ADDRESS; keepalived's `peer`).
    pub peer: Option<IpAddr>,
    /// Further IFA_F_* flags asked for: HOMEADDRESS, MANAGETEMPADDR, NOPREFIXROUTE,
    /// MCAUTOJOIN (keepalived's `home`, `mngtmpaddr`, `noprefixroute`, `autojoin`).
    pub flags: u32,
    /// IPv6 preferred lifetime in seconds (IFA_CACHEINFO, valid lifetime forever); `None`
    /// is forever, and sends no cache info.
    pub preferred_lft: Option<u32>,
}

impl AddressSpec {
    /// A global-scope address with no label, no broadcast, DAD as the kernel defaults.
    pub fn new(ifindex: u32, addr: IpAddr, prefix_len: u8) -> Self {
        Self {
            ifindex,
            addr,
            prefix_len,
            label: None,
            scope: AddrScope::Global,
            broadcast: None,
            nodad: false,
            extra: None,
        }
    }
}

impl fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} on ifindex {}",
            self.addr, self.prefix_len, self.ifindex
        )
    }
}

/// An address the kernel reports on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressInfo {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub label: Option<String>,
    pub scope: AddrScope,
    pub broadcast: Option<Ipv4Addr>,
    /// Raw IFA_F_* flags (the 32-bit IFA_FLAGS attribute when present).
    pub flags: u32,
}

impl AddressInfo {
    pub fn is_secondary(&self) -> bool {
        self.flags & AddressFlags::Secondary.bits() != 0
    }

    pub fn is_tentative(&self) -> bool {
        self.flags & AddressFlags::Tentative.bits() != 0
    }

    pub fn is_dad_failed(&self) -> bool {
        self.flags & AddressFlags::Dadfailed.bits() != 0
    }

    pub fn is_nodad(&self) -> bool {
        self.flags & AddressFlags::Nodad.bits() != 0
    }

    /// Reads an RTM_NEWADDR / RTM_DELADDR message; `None` if it names no address.
    pub(crate) fn from_message(msg: &AddressMessage) -> Option<Self> {
        let mut local = None;
        let mut address = None;
        let mut label = None;
        let mut broadcast = None;
        let mut flags = u32::from(msg.header.flags.bits());
        for attr in &msg.attributes {
            match attr {
                AddressAttribute::Local(a) => local = Some(*a),
                AddressAttribute::Address(a) => address = Some(*a),
                AddressAttribute::Label(l) => label = Some(l.clone()),
                AddressAttribute::Broadcast(b) => broadcast = Some(*b),
                AddressAttribute::Flags(f) => flags = f.bits(),
                _ => {}
            }
        }
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point
        // links and the only one IPv6 sends otherwise.
        let addr = local.or(address)?;
        Some(Self {
            ifindex: msg.header.index,
            addr,
            prefix_len: msg.header.prefix_len,
            label,
            scope: msg.header.scope.into(),
            broadcast,
            flags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_wins_over_peer_address() {
        let mut msg = AddressMessage::default();
        msg.header.index = 4;
        msg.header.prefix_len = 32;
        msg.attributes
            .push(AddressAttribute::Address("10.0.0.2".parse().unwrap()));
        msg.attributes
            .push(AddressAttribute::Local("10.0.0.1".parse().unwrap()));
        msg.attributes.push(AddressAttribute::Flags(
            AddressFlags::Secondary | AddressFlags::Nodad,
        ));
        let info = AddressInfo::from_message(&msg).unwrap();
        assert_eq!(info.addr, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert!(info.is_secondary() && info.is_nodad() && !info.is_tentative());
        assert_eq!(info.ifindex, 4);
    }

    #[test]
    fn message_without_address_is_skipped() {
        assert_eq!(AddressInfo::from_message(&AddressMessage::default()), None);
    }

    #[test]
    fn scopes_round_trip() {
        for s in [
            AddrScope::Global,
            AddrScope::Site,
            AddrScope::Link,
            AddrScope::Host,
            AddrScope::Nowhere,
        ] {
            assert_eq!(AddrScope::from(AddressScope::from(s)), s);
        }
    }
}
