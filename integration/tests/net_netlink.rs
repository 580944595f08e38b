//! `vigil::net`'s netlink side against a real kernel, in a lab host: addresses with label,
//! scope, broadcast and nodad (single and batched), VMAC macvlan interfaces with keepalived's
//! sysctls, and link and address notifications on the separate event connection.
//!
//! The code under test runs on a thread inside the host's namespace ([`Host::run_async`]);
//! what it did is read back from outside the process with `ip -j` and `/proc/sys` in the
//! host. Every wait is bounded by [`WAIT`]. The lab (namespaces, skip rules, cleanup) is
//! `vigil_integration`'s.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;
use vigil::net::{AddrScope, AddressSpec, NetEvent, Netlink, NetlinkEvents, VmacSpec};
use vigil::types::{Family, Vrid};
use vigil_integration::{Host, scenario, within};

/// The bound of every wait for a netlink reply or notification.
const WAIT: Duration = Duration::from_secs(10);

/// The addresses of `dev` in `host` as `ip -j addr` reports them (flags, label, scope, ...).
fn ip_addrs(host: &Host, dev: &str) -> Result<Vec<Value>> {
    let v = host.ip_json(["addr", "show", "dev", dev])?;
    Ok(v[0]["addr_info"].as_array().cloned().unwrap_or_default())
}

fn find_addr<'a>(addrs: &'a [Value], local: &str) -> Option<&'a Value> {
    addrs.iter().find(|a| a["local"] == local)
}

#[test]
fn addresses_with_label_scope_brd_and_nodad_are_added_listed_and_removed() -> Result<()> {
    scenario("net_addresses", |lab| {
        let h = lab.host("h")?;
        let host = h.clone();
        let timing = h.run_async(move || async move {
            let nl = Netlink::connect()?;
            let eth0 = nl.link_by_name("eth0").await?;
            assert!(
                eth0.admin_up && eth0.mac.is_some() && eth0.mtu == Some(1500),
                "{eth0:?}"
            );
            assert!(
                nl.link_by_name("nosuch0")
                    .await
                    .is_err_and(|e| e.is_not_found())
            );
            // The lab's address is eth0's only IPv4 address so far.
            assert_eq!(nl.primary_ipv4(eth0.ifindex).await?, Some(host.ipv4()));

            let mut v4 = AddressSpec::new(eth0.ifindex, "10.20.0.5".parse()?, 24);
            v4.label = Some("eth0:vip".into());
            v4.scope = AddrScope::Link;
            v4.broadcast = Some(Ipv4Addr::new(10, 20, 0, 255));
            let mut v6 = AddressSpec::new(eth0.ifindex, "2001:db8:20::5".parse()?, 64);
            v6.nodad = true;
            within(WAIT, "add v4", nl.add_address(&v4)).await??;
            within(WAIT, "add v6", nl.add_address(&v6)).await??;
            let again = within(WAIT, "add v4 again", nl.add_address(&v4)).await?;
            assert!(
                again.is_err_and(|e| e.is_already_exists()),
                "a second add reports EEXIST"
            );

            let addrs = ip_addrs(&host, "eth0")?;
            let a4 = find_addr(&addrs, "10.20.0.5").context("v4 address in ip -j addr")?;
            assert_eq!(a4["prefixlen"], 24);
            assert_eq!(a4["label"], "eth0:vip");
            assert_eq!(a4["scope"], "link");
            assert_eq!(a4["broadcast"], "10.20.0.255");
            let a6 = find_addr(&addrs, "2001:db8:20::5").context("v6 address in ip -j addr")?;
            assert_eq!(a6["nodad"], true, "{a6}");
            // Without the lab's address, the one just added is the primary.
            host.run(
                "ip",
                ["addr", "del", &format!("{}/24", host.ipv4()), "dev", "eth0"],
            )?;
            assert_eq!(
                nl.primary_ipv4(eth0.ifindex).await?,
                Some(Ipv4Addr::new(10, 20, 0, 5))
            );
            let listed = nl.addresses(eth0.ifindex).await?;
            let info = listed
                .iter()
                .find(|a| a.addr == v6.addr)
                .context("v6 listed")?;
            assert!(info.is_nodad() && !info.is_tentative());

            within(WAIT, "del v4", nl.del_address(&v4)).await??;
            within(WAIT, "del v6", nl.del_address(&v6)).await??;
            let addrs = ip_addrs(&host, "eth0")?;
            assert!(
                find_addr(&addrs, "10.20.0.5").is_none()
                    && find_addr(&addrs, "2001:db8:20::5").is_none(),
                "{addrs:?}"
            );
            let gone = nl.del_address(&v4).await;
            assert!(
                gone.is_err_and(|e| e.is_not_found()),
                "deleting twice reports not found"
            );

            // Batch: 1000 /32s issued a window at a time.
            let specs: Vec<AddressSpec> = (0..1000u32)
                .map(|i| {
                    AddressSpec::new(
                        eth0.ifindex,
                        IpAddr::V4(Ipv4Addr::from(0x0a64_0000 + i)),
                        32,
                    )
                })
                .collect();
            let count_32s = || async {
                let listed = nl.addresses(eth0.ifindex).await?;
                anyhow::Ok(listed.iter().filter(|a| a.prefix_len == 32).count())
            };
            let start = Instant::now();
            let added = within(WAIT, "batch add", nl.add_addresses(&specs)).await?;
            let add_time = start.elapsed();
            assert!(
                added.iter().all(Result::is_ok),
                "{:?}",
                added.iter().find(|r| r.is_err())
            );
            assert_eq!(count_32s().await?, 1000);
            let start = Instant::now();
            let removed = within(WAIT, "batch del", nl.del_addresses(&specs)).await?;
            let del_time = start.elapsed();
            assert!(removed.iter().all(Result::is_ok));
            assert_eq!(count_32s().await?, 0);
            // For comparison: the same adds one at a time, each awaited before the next.
            let start = Instant::now();
            for spec in &specs {
                nl.add_address(spec).await.context("serial add")?;
            }
            let serial_time = start.elapsed();
            let removed = within(WAIT, "batch del", nl.del_addresses(&specs)).await?;
            assert!(removed.iter().all(Result::is_ok));
            Ok((add_time, del_time, serial_time))
        })?;
        eprintln!(
            "1000 IPv4 addresses: batched add {:?}, batched delete {:?}, serial add {:?}",
            timing.0, timing.1, timing.2
        );
        Ok(())
    })
}

#[test]
fn vmac_is_a_private_macvlan_with_the_virtual_mac_and_is_deleted() -> Result<()> {
    scenario("net_vmac", |lab| {
        let h = lab.host("h")?;
        let host = h.clone();
        h.run_async(move || async move {
            let sysctl = |key: &str| host.sysctl(&format!("net/ipv4/conf/{key}"));
            let nl = Netlink::connect()?;
            let eth0 = nl.link_by_name("eth0").await?;
            let spec = VmacSpec {
                name: "vrrp.42".into(),
                base_ifindex: eth0.ifindex,
                vrid: Vrid::new(42).context("VRID 42")?,
                family: Family::V4,
                source_v6: None,
            };
            let vmac = within(WAIT, "create vmac", nl.create_vmac(&spec)).await??;
            assert_eq!(vmac.mac, Some([0, 0, 0x5e, 0, 1, 42]));
            assert!(
                vmac.is_macvlan && vmac.admin_up && vmac.parent == Some(eth0.ifindex),
                "{vmac:?}"
            );
            let v = host.ip_json(["-d", "link", "show", "dev", "vrrp.42"])?;
            assert_eq!(v[0]["address"], "00:00:5e:00:01:2a");
            assert_eq!(v[0]["linkinfo"]["info_kind"], "macvlan");
            assert_eq!(v[0]["linkinfo"]["info_data"]["mode"], "private");
            // keepalived's settings, seen from outside the process.
            assert_eq!(sysctl("vrrp.42/arp_ignore")?, "1");
            assert_eq!(sysctl("vrrp.42/accept_local")?, "1");
            assert_eq!(sysctl("vrrp.42/rp_filter")?, "0");
            assert_eq!(sysctl("eth0/arp_ignore")?, "1");
            assert_eq!(sysctl("eth0/arp_filter")?, "1");
            assert_eq!(sysctl("eth0/arp_announce")?, "2");
            // A second create adopts the existing interface.
            let again = nl.create_vmac(&spec).await.context("adopt vmac")?;
            assert_eq!(again.ifindex, vmac.ifindex);
            // Deleting a real interface through delete_vmac is refused.
            assert!(nl.delete_vmac(eth0.ifindex).await.is_err());

            within(WAIT, "delete vmac", nl.delete_vmac(vmac.ifindex)).await??;
            assert!(
                nl.link_by_name("vrrp.42")
                    .await
                    .is_err_and(|e| e.is_not_found())
            );
            assert_eq!(sysctl("eth0/arp_ignore")?, "0", "restored");
            assert_eq!(sysctl("eth0/arp_filter")?, "0", "restored");
            assert_eq!(sysctl("eth0/arp_announce")?, "0", "restored");

            // IPv6: MAC 00:00:5e:00:02:VRID and the base's link-local, no MAC-derived address.
            let spec6 = VmacSpec {
                name: "vrrp6.42".into(),
                family: Family::V6,
                ..spec
            };
            let vmac6 = within(WAIT, "create v6 vmac", nl.create_vmac(&spec6)).await??;
            assert_eq!(vmac6.mac, Some([0, 0, 0x5e, 0, 2, 42]));
            let base_ll = nl
                .ipv6_link_local(eth0.ifindex)
                .await?
                .context("base link-local")?;
            let on_vmac: Vec<IpAddr> = nl
                .addresses(vmac6.ifindex)
                .await?
                .iter()
                .map(|a| a.addr)
                .collect();
            assert_eq!(
                on_vmac,
                [IpAddr::V6(base_ll)],
                "only the base's link-local on the VMAC"
            );
            within(WAIT, "delete v6 vmac", nl.delete_vmac(vmac6.ifindex)).await??;
            Ok(())
        })
    })
}

/// The first event that `want` accepts, skipping others, within [`WAIT`].
async fn expect_event(
    events: &mut NetlinkEvents,
    what: &str,
    want: impl Fn(&NetEvent) -> bool,
) -> Result<NetEvent> {
    within(WAIT, what, async {
        loop {
            let event = events.next().await.context("the event stream ended")?;
            if want(&event) {
                return Ok(event);
            }
        }
    })
    .await?
}

#[test]
fn link_and_address_changes_arrive_as_events() -> Result<()> {
    scenario("net_events", |lab| {
        let h = lab.host("h")?;
        let host = h.clone();
        h.run_async(move || async move {
            let mut events = NetlinkEvents::subscribe()?;
            let nl = Netlink::connect()?;
            let eth0 = nl.link_by_name("eth0").await?;

            host.admin_down()?;
            let down = |e: &NetEvent| matches!(e, NetEvent::LinkChanged { name, up: false, .. } if name == "eth0");
            expect_event(&mut events, "eth0 down", down).await?;
            host.admin_up()?;
            let up = |e: &NetEvent| matches!(e, NetEvent::LinkChanged { name, up: true, .. } if name == "eth0");
            let event = expect_event(&mut events, "eth0 up", up).await?;
            assert_eq!(
                event,
                NetEvent::LinkChanged {
                    ifindex: eth0.ifindex,
                    name: "eth0".into(),
                    up: true
                }
            );
            // Carrier loss (the switch end of the veth going down) is a LinkChanged with
            // up = false too.
            host.link_down()?;
            expect_event(&mut events, "eth0 carrier loss", down).await?;
            host.link_up()?;
            expect_event(&mut events, "eth0 carrier back", up).await?;

            // An IPv4 address added through our own command connection is still seen: the
            // event connection is separate, so the notification is not swallowed as a reply.
            let vip: IpAddr = "10.30.0.9".parse()?;
            nl.add_address(&AddressSpec::new(eth0.ifindex, vip, 24))
                .await?;
            let added = NetEvent::AddressAdded {
                ifindex: eth0.ifindex,
                addr: vip,
                prefix_len: 24,
                tentative: false,
            };
            expect_event(&mut events, "AddressAdded", |e| *e == added).await?;

            host.run("ip", ["addr", "del", "10.30.0.9/24", "dev", "eth0"])?;
            let removed = NetEvent::AddressRemoved {
                ifindex: eth0.ifindex,
                addr: vip,
                prefix_len: 24,
            };
            expect_event(&mut events, "AddressRemoved", |e| *e == removed).await?;

            host.run(
                "ip",
                ["addr", "add", "2001:db8:30::9/64", "dev", "eth0", "nodad"],
            )?;
            let v6: IpAddr = "2001:db8:30::9".parse()?;
            let added6 = NetEvent::AddressAdded {
                ifindex: eth0.ifindex,
                addr: v6,
                prefix_len: 64,
                tentative: false,
            };
            expect_event(&mut events, "IPv6 AddressAdded", |e| *e == added6).await?;
            Ok(())
        })
    })
}
