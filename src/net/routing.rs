//! Routes and policy rules (keepalived's `virtual_routes` / `virtual_rules` /
//! `static_routes` / `static_rules`) as rtnetlink requests on the command connection.
//!
//! What keepalived's vrrp_iproute.c / vrrp_iprule.c put in the request, vigil puts too: a
//! route's protocol is `keepalived` (18) unless the configuration names one, so `ip route
//! show proto keepalived` lists what vigil added, as it lists keepalived's; a deletion
//! matches on what was configured and leaves the kernel to fill in the rest (scope "nowhere"
//! is the kernel's wildcard for RTM_DELROUTE).

use std::fmt::Write as _;
use std::net::IpAddr;

use rtnetlink::RouteMessageBuilder;
use rtnetlink::packet_route::AddressFamily;
use rtnetlink::packet_route::route::{
    RouteAttribute, RouteMessage, RouteMetric, RouteNextHop, RouteProtocol, RouteScope, RouteType,
};
use rtnetlink::packet_route::rule::RuleMessage;
use rtnetlink::{RouteNextHopBuilder, RuleAddRequest};

use super::error::NetError;
use super::netlink::Netlink;
use crate::config::model::{Route, RouteKind, Rule, Scope};
use crate::types::Family;

/// keepalived's RTPROT_KEEPALIVED, its routes' protocol unless one is configured.
pub const RTPROT_KEEPALIVED: u8 = 18;

/// A one-line rendering of a route for logs (`198.51.100.0/24 via 192.0.2.1 dev eth0`).
pub fn describe_route(r: &Route) -> String {
    let mut s = format!("{}/{}", r.to.addr, r.to.len);
    if r.kind != RouteKind::Unicast {
        s = format!("{:?} {s}", r.kind).to_lowercase();
    }
    if let Some(v) = r.via {
        let _ = write!(s, " via {v}");
    }
    if let Some(d) = &r.dev {
        let _ = write!(s, " dev {d}");
    }
    for n in &r.nexthops {
        s.push_str(" nexthop");
        if let Some(v) = n.via {
            let _ = write!(s, " via {v}");
        }
        if let Some(d) = &n.dev {
            let _ = write!(s, " dev {d}");
        }
    }
    if let Some(t) = r.table {
        let _ = write!(s, " table {t}");
    }
    if let Some(v) = &r.vrf {
        let _ = write!(s, " vrf {v}");
    }
    s
}

/// A one-line rendering of a rule for logs.
pub fn describe_rule(r: &Rule) -> String {
    let mut s = String::new();
    if let Some(p) = r.from {
        let _ = write!(s, "from {}/{} ", p.addr, p.len);
    }
    if let Some(p) = r.to {
        let _ = write!(s, "to {}/{} ", p.addr, p.len);
    }
    if let Some(t) = r.table {
        let _ = write!(s, "lookup {t} ");
    }
    if let Some(p) = r.priority {
        let _ = write!(s, "pref {p}");
    }
    s.trim_end().to_owned()
}

fn family_of(addr: IpAddr) -> Family {
    if addr.is_ipv4() {
        Family::V4
    } else {
        Family::V6
    }
}

fn address_family(f: Family) -> AddressFamily {
    match f {
        Family::V4 => AddressFamily::Inet,
        Family::V6 => AddressFamily::Inet6,
    }
}

fn scope(s: Scope) -> RouteScope {
    match s {
        Scope::Global => RouteScope::Universe,
        Scope::Site => RouteScope::Site,
        Scope::Link => RouteScope::Link,
        Scope::Host => RouteScope::Host,
        Scope::Nowhere => RouteScope::NoWhere,
    }
}

fn kind(k: RouteKind) -> RouteType {
    match k {
        RouteKind::Unicast => RouteType::Unicast,
        RouteKind::Blackhole => RouteType::BlackHole,
        RouteKind::Unreachable => RouteType::Unreachable,
        RouteKind::Prohibit => RouteType::Prohibit,
        RouteKind::Throw => RouteType::Throw,
    }
}

/// The table a route goes in. With `vrf NAME` it is that VRF device's table, whatever
/// `table` says (keepalived's route parser sets the table from the VRF); `vrf_table` is the
/// named device's table, `None` if it is not a VRF ("Route specified VRF NAME is not a VRF").
pub fn route_table(r: &Route, vrf_table: Option<Option<u32>>) -> Result<Option<u32>, String> {
    match (&r.vrf, vrf_table) {
        (Some(name), Some(None)) => Err(format!("vrf {name} is not a VRF device")),
        (Some(_), Some(Some(t))) => Ok(Some(t)),
        (Some(name), None) => Err(format!("vrf {name} was not looked up")),
        (None, _) => Ok(r.table),
    }
}

impl Netlink {
    async fn ifindex(&self, name: &str) -> Result<u32, NetError> {
        Ok(self.link_by_name(name).await?.ifindex)
    }

    async fn route_message(&self, r: &Route, add: bool) -> Result<RouteMessage, NetError> {
        // rtnetlink does not export its error type: carry its text.
        let invalid = |e: &dyn std::fmt::Display| NetError::InvalidRoute {
            target: describe_route(r),
            reason: e.to_string(),
        };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(r.to.addr, r.to.len)
            .map_err(|e| invalid(&e))?
            .kind(kind(r.kind))
            .protocol(RouteProtocol::from(r.protocol.unwrap_or(RTPROT_KEEPALIVED)));
        if let Some(via) = r.via {
            b = b.gateway(via).map_err(|e| invalid(&e))?;
        }
        if let Some(src) = r.src {
            b = b.pref_source(src).map_err(|e| invalid(&e))?;
        }
        if let Some(dev) = &r.dev {
            b = b.output_interface(self.ifindex(dev).await?);
        }
        let vrf_table = match &r.vrf {
            Some(name) => Some(self.link_by_name(name).await?.vrf_table),
            None => None,
        };
        if let Some(t) = route_table(r, vrf_table).map_err(|e| invalid(&e))? {
            b = b.table_id(t);
        }
        if let Some(m) = r.metric {
            b = b.priority(m);
        }
        if r.onlink {
            b = b.onlink();
        }
        b = b.scope(match (r.scope, add) {
            (Some(s), _) => scope(s),
            (None, true) => RouteScope::Universe,
            // RT_SCOPE_NOWHERE matches any scope on deletion, as keepalived asks.
            (None, false) => RouteScope::NoWhere,
        });
        if !r.nexthops.is_empty() {
            let family = address_family(family_of(r.to.addr));
            let mut hops: Vec<RouteNextHop> = Vec::with_capacity(r.nexthops.len());
            for n in &r.nexthops {
                let mut h = RouteNextHopBuilder::new(family);
                if let Some(dev) = &n.dev {
                    h = h.interface(self.ifindex(dev).await?);
                }
                if let Some(via) = n.via {
                    h = h.via(via).map_err(|e| invalid(&e))?;
                }
                if let Some(w) = n.weight {
                    // `ip route` takes 1..=256; the kernel stores weight - 1 (rtnh_hops).
                    h = h.weight(u8::try_from(w.saturating_sub(1)).unwrap_or(u8::MAX));
                }
                if n.onlink {
                    h = h.onlink();
                }
                hops.push(h.build());
            }
            b = b.multipath(hops);
        }
        let mut message = b.build();
        if let Some(mtu) = r.mtu {
            message
                .attributes
                .push(RouteAttribute::Metrics(vec![RouteMetric::Mtu(mtu)]));
        }
        Ok(message)
    }

    /// Adds (`add`) or deletes one route.
    pub async fn route(&self, r: &Route, add: bool) -> Result<(), NetError> {
        let message = self.route_message(r, add).await?;
        let result = if add {
            self.handle.route().add(message).execute().await
        } else {
            self.handle.route().del(message).execute().await
        };
        let op = if add { "add route" } else { "delete route" };
        result.map_err(|e| NetError::netlink(op, describe_route(r), e))
    }

    fn rule_message(&self, r: &Rule) -> RuleMessage {
        let mut req: RuleAddRequest = self.handle.rule().add();
        if let Some(t) = r.table {
            req = req.table_id(t);
        }
        if let Some(p) = r.priority {
            req = req.priority(p);
        }
        if let Some(m) = r.fwmark {
            req = req.fw_mark(m);
        }
        if let Some(i) = &r.iif {
            req = req.input_interface(i.clone());
        }
        if let Some(o) = &r.oif {
            req = req.output_interface(o.clone());
        }
        let family = r.from.or(r.to).map_or(r.family, |p| family_of(p.addr));
        macro_rules! prefixes {
            ($req:expr, $ty:ident) => {{
                let mut req = $req;
                if let Some(p) = r.from
                    && let IpAddr::$ty(a) = p.addr
                {
                    req = req.source_prefix(a, p.len);
                }
                if let Some(p) = r.to
                    && let IpAddr::$ty(a) = p.addr
                {
                    req = req.destination_prefix(a, p.len);
                }
                req.message_mut().clone()
            }};
        }
        match family {
            Family::V4 => prefixes!(req.v4(), V4),
            Family::V6 => prefixes!(req.v6(), V6),
        }
    }

    /// Adds (`add`) or deletes one policy rule.
    pub async fn rule(&self, r: &Rule, add: bool) -> Result<(), NetError> {
        let message = self.rule_message(r);
        let result = if add {
            let mut req = self.handle.rule().add();
            *req.message_mut() = message;
            req.execute().await
        } else {
            self.handle.rule().del(message).execute().await
        };
        let op = if add { "add rule" } else { "delete rule" };
        result.map_err(|e| NetError::netlink(op, describe_rule(r), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Prefix;

    fn route(table: Option<u32>, vrf: Option<&str>) -> Route {
        Route {
            to: Prefix {
                addr: "198.51.100.0".parse().expect("addr"),
                len: 24,
            },
            kind: RouteKind::Unicast,
            src: None,
            via: None,
            dev: None,
            scope: None,
            table,
            vrf: vrf.map(str::to_owned),
            metric: None,
            protocol: None,
            mtu: None,
            onlink: false,
            no_track: false,
            track_group: None,
            nexthops: Vec::new(),
        }
    }

    #[test]
    fn a_vrf_route_goes_in_the_vrfs_table_whatever_table_says() {
        assert_eq!(
            route_table(&route(None, Some("red")), Some(Some(10))),
            Ok(Some(10))
        );
        assert_eq!(
            route_table(&route(Some(254), Some("red")), Some(Some(10))),
            Ok(Some(10))
        );
        assert_eq!(route_table(&route(Some(100), None), None), Ok(Some(100)));
        assert_eq!(route_table(&route(None, None), None), Ok(None));
    }

    #[test]
    fn a_vrf_that_is_not_a_vrf_device_is_refused() {
        let e = route_table(&route(None, Some("eth0")), Some(None)).expect_err("not a VRF");
        assert!(e.contains("eth0 is not a VRF device"), "{e}");
        assert!(route_table(&route(None, Some("red")), None).is_err());
    }

    #[test]
    fn describe_route_names_the_vrf() {
        assert_eq!(
            describe_route(&route(None, Some("red"))),
            "198.51.100.0/24 vrf red"
        );
    }
}
