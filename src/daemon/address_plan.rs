//! One configured address (`virtual_ipaddress`, `virtual_ipaddress_excluded`,
//! `static_ipaddress`) as the netlink request that installs it, with keepalived's defaults
//! (vrrp_ipaddress.c `netlink_ipaddress`): IPv6 addresses skip duplicate address detection
//! unless `-nodad` asks for it, and a /128 is deprecated unless `preferred_lft` says otherwise.

use std::net::IpAddr;

use crate::config::model::VirtualAddress;
use crate::net::{AddrScope, AddressExtra, AddressFlags, AddressSpec};

use super::plan::scope;

/// The request for `v` on interface `ifindex` (the caller resolved `dev`).
pub fn address_spec(v: &VirtualAddress, ifindex: u32) -> AddressSpec {
    // Every field is named: one added to the model does not compile until it is acted on here
    // or its reader is named.
    let VirtualAddress {
        addr,
        prefix_len,
        brd,
        // Resolved to `ifindex` by the caller.
        dev: _,
        scope: addr_scope,
        ref label,
        peer,
        home,
        dad,
        mngtmpaddr,
        noprefixroute,
        autojoin,
        // The instance's watch on the address: `InstancePlan::vips_no_track` and its trackers.
        no_track: _,
        // Refused by `config::validate` (a VMAC per address is not implemented).
        use_vmac: _,
        preferred_lft,
        // Static addresses only: `statics.rs`.
        track_group: _,
    } = *v;
    let mut spec = AddressSpec::new(ifindex, addr, prefix_len);
    // Linux labels IPv4 addresses only; keepalived drops an IPv6 label with a warning
    // (`config::fixup`).
    spec.label = label.clone().filter(|_| addr.is_ipv4());
    spec.broadcast = brd;
    spec.scope = addr_scope.map_or(AddrScope::Global, scope);
    // A VIP must be usable at once after a takeover: duplicate address detection would hold
    // it tentative for a second or more, and a split brain could leave it DAD-failed for good.
    spec.nodad = addr.is_ipv6() && !dad;
    let mut flags = AddressFlags::empty();
    for (on, flag) in [
        (home, AddressFlags::Homeaddress),
        (mngtmpaddr, AddressFlags::Managetempaddr),
        (noprefixroute, AddressFlags::Noprefixroute),
        (autojoin, AddressFlags::Mcautojoin),
    ] {
        if on {
            flags |= flag;
        }
    }
    let preferred_lft = match addr {
        IpAddr::V6(_) => match preferred_lft {
            Some(u32::MAX) => None,
            Some(secs) => Some(secs),
            // keepalived: deprecate a /128 so that it is not chosen as a source address
            // (health checks would otherwise leave from the VIP).
            None if prefix_len == 128 => Some(0),
            None => None,
        },
        IpAddr::V4(_) => None,
    };
    let extra = AddressExtra {
        peer,
        flags: flags.bits(),
        preferred_lft,
    };
    spec.extra = (extra != AddressExtra::default()).then(|| Box::new(extra));
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str, len: u8) -> VirtualAddress {
        VirtualAddress::new(s.parse().unwrap(), len)
    }

    #[test]
    fn ipv6_skips_dad_unless_minus_nodad_and_a_128_is_deprecated() {
        let lft = |s: &AddressSpec| s.extra.as_ref().and_then(|e| e.preferred_lft);
        let plain = address_spec(&v("2001:db8::1", 64), 3);
        assert!(plain.nodad);
        assert_eq!(plain.extra, None);
        let host = address_spec(&v("2001:db8::1", 128), 3);
        assert_eq!(lft(&host), Some(0));
        let mut forever = v("2001:db8::1", 128);
        forever.preferred_lft = Some(u32::MAX);
        assert_eq!(address_spec(&forever, 3).extra, None);
        let mut dad = v("2001:db8::1", 64);
        dad.dad = true;
        assert!(!address_spec(&dad, 3).nodad);
        let mut v4 = v("192.0.2.1", 32);
        v4.preferred_lft = Some(5);
        let v4 = address_spec(&v4, 3);
        assert!(!v4.nodad);
        assert_eq!(v4.extra, None);
    }

    #[test]
    fn flags_peer_and_label_reach_the_request() {
        let mut a = v("192.0.2.1", 32);
        a.peer = Some("192.0.2.2".parse().unwrap());
        a.home = true;
        a.noprefixroute = true;
        a.label = Some("eth0:1".into());
        let s = address_spec(&a, 4);
        let e = s.extra.clone().unwrap();
        assert_eq!(e.peer, a.peer);
        assert_eq!(
            e.flags,
            (AddressFlags::Homeaddress | AddressFlags::Noprefixroute).bits()
        );
        assert_eq!(s.label.as_deref(), Some("eth0:1"));
        let mut six = v("2001:db8::1", 64);
        six.label = Some("eth0:1".into());
        six.mngtmpaddr = true;
        six.autojoin = true;
        let s = address_spec(&six, 4);
        assert_eq!(s.label, None);
        assert_eq!(
            s.extra.unwrap().flags,
            (AddressFlags::Managetempaddr | AddressFlags::Mcautojoin).bits()
        );
    }
}
