//! Virtual routes and rules follow mastership, static routes are there from the start, on a
//! real kernel: two vigil routers read a keepalived.conf with `virtual_routes` (a single-path
//! route via a client-side address and a multipath route), `virtual_rules` (from the VIP,
//! lookup table 100), `static_routes` and `static_rules`.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). They run as
//! root; under CI=true or VIGIL_LAB=1 a lab that cannot be built fails the test, elsewhere the
//! test prints why it skips.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use vigil_integration::{Host, Lab, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);
const VIRTUAL: &str = "198.51.100.0/24";
const MULTIPATH: &str = "10.99.0.0/16";
const STATIC: &str = "203.0.113.0/24";

fn conf(host: &Host, priority: u8, vip: Ipv4Addr, gateway: Ipv4Addr) -> String {
    let ifname = host.ifname();
    format!(
        "static_routes {{\n  {STATIC} dev {ifname}\n}}\n\
         static_rules {{\n  to {STATIC} table 101\n}}\n\
         vrrp_instance gw {{\n  interface {ifname}\n  state BACKUP\n  virtual_router_id 63\n  \
         priority {priority}\n  advert_int 1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n  \
         virtual_routes {{\n    {VIRTUAL} via {gateway} dev {ifname}\n    \
         {MULTIPATH} nexthop via 192.0.2.251 dev {ifname} nexthop via 192.0.2.252 dev {ifname}\n  }}\n  \
         virtual_rules {{\n    from {vip} table 100\n  }}\n}}\n"
    )
}

/// What `ip route` / `ip rule` show of our routes and rule on `host`.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    virtual_route: bool,
    multipath: bool,
    rule: bool,
    static_route: bool,
    static_rule: bool,
}

fn seen(host: &Host, vip: Ipv4Addr) -> Result<Seen> {
    let route =
        |prefix: &str| -> Result<String> { host.run("ip", ["-4", "route", "show", prefix]) };
    let virtual_route = route(VIRTUAL)?;
    let multipath = route(MULTIPATH)?;
    let rules = host.run("ip", ["-4", "rule", "show"])?;
    Ok(Seen {
        virtual_route: !virtual_route.trim().is_empty(),
        multipath: multipath.matches("nexthop").count() == 2,
        rule: rules
            .lines()
            .any(|l| l.contains(&format!("from {vip} lookup 100"))),
        static_route: !route(STATIC)?.trim().is_empty(),
        static_rule: rules
            .lines()
            .any(|l| l.contains(&format!("to {STATIC} lookup 101"))),
    })
}

const MASTER: Seen = Seen {
    virtual_route: true,
    multipath: true,
    rule: true,
    static_route: true,
    static_rule: true,
};
const BACKUP: Seen = Seen {
    virtual_route: false,
    multipath: false,
    rule: false,
    static_route: true,
    static_rule: true,
};
const NOTHING: Seen = Seen {
    virtual_route: false,
    multipath: false,
    rule: false,
    static_route: false,
    static_rule: false,
};

fn wait_seen(host: &Host, vip: Ipv4Addr, want: &Seen, what: &str) -> Result<()> {
    wait_until(SETTLE, what, || {
        seen(host, vip).map(|s| s == *want).unwrap_or(false)
    })
    .with_context(|| format!("{what}: {} shows {:?}", host.name(), seen(host, vip)))?;
    Ok(())
}

#[test]
fn virtual_routes_and_rules_follow_mastership_and_static_routes_stay() -> Result<()> {
    scenario("routes_follow_master", |lab| {
        let vip = Lab::vip4(3);
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let v1 = Vigil::start_with(&r1, "keepalived.conf", &conf(&r1, 200, vip, c.ipv4()))?;
        let v2 = Vigil::start_with(&r2, "keepalived.conf", &conf(&r2, 100, vip, c.ipv4()))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        wait_seen(
            &r1,
            vip,
            &MASTER,
            "the master holds the routes and the rule",
        )?;
        wait_seen(
            &r2,
            vip,
            &BACKUP,
            "the backup holds the static route and rule only",
        )?;
        ensure!(r1.has_address(IpAddr::V4(vip))?, "the master has no VIP");
        // keepalived's protocol for the routes it adds, unless one is configured.
        let ours = r1.run("ip", ["-4", "route", "show", "proto", "18"])?;
        ensure!(
            ours.contains(VIRTUAL) && ours.contains(STATIC),
            "routes are not proto 18 (keepalived):\n{ours}"
        );

        v1.kill9()?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        wait_seen(
            &r2,
            vip,
            &MASTER,
            "the new master took the routes and the rule",
        )?;
        // Nobody removed r1's: restarted as a backup, it deletes them with its residual VIP.
        ensure!(
            seen(&r1, vip)? == MASTER,
            "r1 lost its routes at kill -9: the test cannot show their removal"
        );
        let v1 = Vigil::start_with(&r1, "keepalived.conf", &conf(&r1, 50, vip, c.ipv4()))?;
        wait_seen(
            &r1,
            vip,
            &BACKUP,
            "the restarted backup removed its residual routes",
        )?;
        v1.wait_state("gw", "BACKUP", SETTLE)?;
        ensure!(
            !r1.has_address(IpAddr::V4(vip))?,
            "r1 kept its residual VIP"
        );

        // A clean stop takes away the virtual routes and rule, and the static ones.
        v2.stop()?;
        wait_seen(&r2, vip, &NOTHING, "a stopped vigil left nothing behind")?;
        Ok(())
    })
}
