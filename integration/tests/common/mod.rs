//! Configuration builders shared by the scenario tests.

#![allow(dead_code)]

use std::fmt::Write;
use std::net::IpAddr;

/// One vigil instance in YAML.
pub struct VigilInstance<'a> {
    pub name: &'a str,
    pub interface: &'a str,
    pub vrid: u8,
    pub priority: u8,
    pub version: u8,
    /// Seconds, e.g. "1" or "0.5".
    pub advert_int: &'a str,
    pub vips: Vec<(IpAddr, u8)>,
    /// Extra YAML lines for the instance, indented by four spaces.
    pub extra: String,
}

impl<'a> VigilInstance<'a> {
    pub fn new(name: &'a str, vrid: u8, priority: u8, vip: IpAddr) -> Self {
        let prefix = if vip.is_ipv4() { 24 } else { 64 };
        Self {
            name,
            interface: "eth0",
            vrid,
            priority,
            version: 3,
            advert_int: "1",
            vips: vec![(vip, prefix)],
            extra: String::new(),
        }
    }
}

pub fn vigil_yaml(instances: &[VigilInstance]) -> String {
    let mut y = String::from("instances:\n");
    for i in instances {
        let family = match i.vips.first() {
            Some((IpAddr::V6(_), _)) => "ipv6",
            _ => "ipv4",
        };
        let _ = write!(
            y,
            "  - name: {}\n    interface: {}\n    virtual_router_id: {}\n    priority: {}\n    \
             version: {}\n    family: {family}\n    advert_int: {}\n    virtual_ipaddress:\n",
            i.name, i.interface, i.vrid, i.priority, i.version, i.advert_int
        );
        for (addr, len) in &i.vips {
            let _ = writeln!(y, "      - {{addr: '{addr}', prefix_len: {len}}}");
        }
        y.push_str(&i.extra);
    }
    y
}
