//! Address lines of `virtual_ipaddress`, `virtual_ipaddress_excluded` and `static_ipaddress`:
//! keepalived's `ip address add`-style words, with its fix-ups.

use std::net::{IpAddr, Ipv4Addr};

use crate::config::diagnostic::did_you_mean;
use crate::config::model::VirtualAddress;

use super::mapping::Mapper;
use super::parser::{Arg, Node};
use super::table::R;

impl Mapper {
    /// `<ip>[/<len>] [brd X] [dev X] [scope X] [label X] [peer X] [home] [-nodad] ...`
    /// keepalived's fix-ups of an address line: an address that does not parse is skipped
    /// ("VRRP parsed invalid IP X. skipping IP..."); returns false then.
    pub(crate) fn address_is_usable(&mut self, line: &Node) -> bool {
        let addr = line
            .keyword
            .split_once('/')
            .map_or(line.keyword.as_str(), |(a, _)| a);
        if addr.parse::<IpAddr>().is_ok() {
            return true;
        }
        self.warn(
            &line.pos,
            format!(
                "VRRP parsed invalid IP {}. skipping IP... (keepalived's fix-up): the address is not used; write an IP address with an optional /prefix length, or run with --strict to refuse",
                line.keyword
            ),
        );
        false
    }

    pub(crate) fn address(&mut self, line: &Node) -> R<VirtualAddress> {
        let mut first = Arg {
            text: line.keyword.clone(),
            pos: line.pos.clone(),
        };
        // keepalived: a prefix length beyond the family's is replaced by the full length.
        if let Some((ad, l)) = first.text.split_once('/')
            && let Ok(ip) = ad.parse::<IpAddr>()
        {
            let max: u32 = if ip.is_ipv4() { 32 } else { 128 };
            if l.parse::<u32>().is_ok_and(|n| n > max) {
                self.warn(&first.pos, format!("Invalid address prefix len {l} for address {} - using {max} (keepalived's fix-up); write /{max} or less, or run with --strict to refuse", first.text));
                first.text = ad.to_string();
            }
        }
        let prefix = self.prefix(&first, "virtual address")?;
        let mut a = VirtualAddress::new(prefix.addr, prefix.len);
        let mut it = line.args.iter();
        while let Some(opt) = it.next() {
            let brd_sign = matches!(it.clone().next(), Some(v) if v.text == "+" || v.text == "-");
            let mut value = |m: &mut Self| -> R<&Arg> {
                it.next()
                    .ok_or_else(|| m.err(&opt.pos, format!("`{}` needs a value", opt.text)))
            };
            match opt.text.as_str() {
                "brd" | "broadcast" if brd_sign => {
                    let v = value(self)?;
                    // `ip address`'s `brd +` / `brd -`: the subnet's last / first address.
                    match broadcast_of(a.addr, a.prefix_len, v.text == "+") {
                        Some(b) => a.brd = Some(b),
                        None => self.warn(&v.pos, format!("Address prefix length {} too long for broadcast (keepalived's fix-up): no broadcast address is set; drop `brd {}`, or run with --strict to refuse", a.prefix_len, v.text)),
                    }
                }
                "brd" | "broadcast" => {
                    let v = value(self)?;
                    a.brd = Some(v.text.parse().map_err(|_| {
                        self.err(
                            &v.pos,
                            format!("`brd` needs an IPv4 address, not `{}`", v.text),
                        )
                    })?);
                }
                "dev" => a.dev = Some(value(self)?.text.clone()),
                "scope" => {
                    let v = value(self)?;
                    a.scope = Some(self.scope(v)?);
                }
                "label" => a.label = Some(value(self)?.text.clone()),
                "peer" => {
                    let v = value(self)?;
                    a.peer = Some(self.ip(v, "peer")?);
                }
                "preferred_lft" => {
                    let v = value(self)?;
                    a.preferred_lft = Some(if v.text == "forever" {
                        u32::MAX
                    } else {
                        self.int_word("preferred_lft", v, 0u32, u32::MAX - 1)?
                    });
                }
                "track_group" => {
                    let g = value(self)?.clone();
                    a.track_group = self.track_group_ref(&g);
                }
                "home" => a.home = true,
                "-nodad" => a.dad = true,
                "mngtmpaddr" => a.mngtmpaddr = true,
                "noprefixroute" => a.noprefixroute = true,
                "autojoin" => a.autojoin = true,
                "no_track" => a.no_track = true,
                "use_vmac" => a.use_vmac = true,
                other => {
                    let known = [
                        "brd",
                        "dev",
                        "scope",
                        "label",
                        "peer",
                        "preferred_lft",
                        "track_group",
                        "home",
                        "-nodad",
                        "mngtmpaddr",
                        "noprefixroute",
                        "autojoin",
                        "no_track",
                        "use_vmac",
                    ];
                    self.err(
                        &opt.pos,
                        format!(
                            "unknown address option `{other}`{}",
                            did_you_mean(other, known)
                        ),
                    );
                    return Err(());
                }
            }
        }
        if a.addr.is_ipv6() {
            // keepalived: "Cannot specify scope / label for IPv6 addresses ... - ignoring".
            if a.scope.take().is_some() {
                self.warn(&line.pos, format!("Cannot specify scope for IPv6 addresses ({}) - ignoring scope (keepalived's fix-up); drop `scope`, or run with --strict to refuse", a.addr));
            }
            if a.label.take().is_some() {
                self.warn(&line.pos, format!("Cannot specify label for IPv6 addresses ({}) - ignoring label (keepalived's fix-up); drop `label`, or run with --strict to refuse", a.addr));
            }
        }
        Ok(a)
    }
}

/// The broadcast address `brd +` (`last`) or `brd -` sets: the subnet's last or first
/// address; `None` for a non-IPv4 address or a prefix longer than /30 (keepalived's limit).
fn broadcast_of(addr: IpAddr, prefix_len: u8, last: bool) -> Option<Ipv4Addr> {
    let IpAddr::V4(v4) = addr else { return None };
    if prefix_len > 30 {
        return None;
    }
    let host_mask = u32::MAX >> prefix_len;
    let bits = u32::from(v4);
    Some(Ipv4Addr::from(if last {
        bits | host_mask
    } else {
        bits & !host_mask
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brd_plus_and_minus_are_the_subnet_s_ends() {
        let a: IpAddr = "192.0.2.77".parse().unwrap();
        assert_eq!(
            broadcast_of(a, 24, true),
            Some(Ipv4Addr::new(192, 0, 2, 255))
        );
        assert_eq!(
            broadcast_of(a, 24, false),
            Some(Ipv4Addr::new(192, 0, 2, 0))
        );
        assert_eq!(broadcast_of(a, 31, true), None);
        assert_eq!(broadcast_of("2001:db8::1".parse().unwrap(), 64, true), None);
    }
}
