//! keepalived's address options on a real kernel: what `ip address` shows for each option of a
//! `virtual_ipaddress` line, `no_track` against a tracked address when an administrator
//! deletes them, the other interfaces an instance's addresses name being watched, and
//! `track_src_ip` / `dont_track_primary`.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). Under CI=true or
//! VIGIL_LAB=1 a lab that cannot be built fails the test.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use vigil_integration::{Host, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

/// `ip -j address show` for one address of `host`, if it holds it.
fn addr_info(host: &Host, addr: &str) -> Result<Option<Value>> {
    let v = host.ip_json(["address", "show"])?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
        .find(|a| a["local"].as_str() == Some(addr)))
}

fn held(host: &Host, addr: &str) -> Result<bool> {
    Ok(addr_info(host, addr)?.is_some())
}

fn instance(name: &str, vrid: u8, interface: &str, body: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    interface {interface}\n    virtual_router_id {vrid}\n    \
         priority 200\n    advert_int 0.5\n    version 3\n{body}}}\n"
    )
}

/// Each option of an address line reaches the kernel as `ip address add` would set it, and
/// keepalived's IPv6 defaults hold: no duplicate address detection unless `-nodad`, a /128
/// deprecated unless `preferred_lft` says otherwise.
#[test]
fn address_options_reach_the_kernel() -> Result<()> {
    scenario("addr_options", |lab| {
        let r1 = lab.host("r1")?;
        let conf = instance(
            "VI",
            71,
            "eth0",
            "    virtual_ipaddress {\n        192.0.2.201/24 brd + noprefixroute\n        \
             192.0.2.202 peer 192.0.2.203\n    }\n    virtual_ipaddress_excluded {\n        \
             2001:db8::201/128\n        2001:db8::202/64 -nodad\n        \
             2001:db8::203/64 home mngtmpaddr\n        2001:db8::204/128 preferred_lft forever\n    }\n",
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        wait_until(SETTLE, "every address installed", || -> Result<bool> {
            for a in [
                "192.0.2.201",
                "192.0.2.202",
                "2001:db8::201",
                "2001:db8::202",
                "2001:db8::203",
                "2001:db8::204",
            ] {
                if !held(&r1, a)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        let info = |a: &str| -> Result<Value> {
            addr_info(&r1, a)?.with_context(|| format!("{a} is gone"))
        };
        let flag = |v: &Value, k: &str| v[k].as_bool() == Some(true);

        let brd = info("192.0.2.201")?;
        ensure!(
            brd["broadcast"] == "192.0.2.255",
            "`brd +` gave {brd}: expected broadcast 192.0.2.255"
        );
        ensure!(
            flag(&brd, "noprefixroute"),
            "`noprefixroute` not set: {brd}"
        );

        let peer = info("192.0.2.202")?;
        ensure!(
            peer["address"] == "192.0.2.203",
            "`peer 192.0.2.203` not set: {peer}"
        );

        let host128 = info("2001:db8::201")?;
        ensure!(
            flag(&host128, "nodad") && host128["preferred_life_time"] == 0,
            "an IPv6 /128 must skip DAD and be deprecated (preferred_lft 0), as keepalived's: {host128}"
        );
        let dad = info("2001:db8::202")?;
        ensure!(!flag(&dad, "nodad"), "`-nodad` must leave DAD on: {dad}");
        let flags = info("2001:db8::203")?;
        ensure!(
            flag(&flags, "home") && flag(&flags, "mngtmpaddr") && flag(&flags, "nodad"),
            "`home mngtmpaddr` not set (or DAD not skipped): {flags}"
        );
        ensure!(
            flags["preferred_life_time"] == u64::from(u32::MAX),
            "a /64 stays preferred forever: {flags}"
        );
        let forever = info("2001:db8::204")?;
        ensure!(
            forever["preferred_life_time"] == u64::from(u32::MAX),
            "`preferred_lft forever` on a /128: {forever}"
        );
        Ok(())
    })
}

/// An administrator deletes two of a master's addresses: the tracked one is put back, the
/// `no_track` one is not (keepalived restores it only at the next transition to master).
#[test]
fn a_deleted_no_track_address_stays_deleted_a_tracked_one_returns() -> Result<()> {
    scenario("addr_no_track", |lab| {
        let r1 = lab.host("r1")?;
        let conf = instance(
            "VI",
            72,
            "eth0",
            "    virtual_ipaddress {\n        192.0.2.211/24\n        192.0.2.212/24 no_track\n    }\n",
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        wait_until(SETTLE, "both addresses installed", || -> Result<bool> {
            Ok(held(&r1, "192.0.2.211")? && held(&r1, "192.0.2.212")?)
        })?;
        // The untracked one first, so the tracked one's return comes after it.
        r1.run("ip", ["address", "del", "192.0.2.212/24", "dev", "eth0"])?;
        r1.run("ip", ["address", "del", "192.0.2.211/24", "dev", "eth0"])?;
        let deleted = Instant::now();
        wait_until(SETTLE, "the tracked address put back", || {
            held(&r1, "192.0.2.211")
        })?;
        println!("tracked address back after {:?}", deleted.elapsed());
        // Two more advert intervals: anything restoring the untracked one would have by now.
        std::thread::sleep(Duration::from_secs(1));
        ensure!(
            !held(&r1, "192.0.2.212")?,
            "the `no_track` address was put back"
        );
        ensure!(
            v.state("VI")?.as_deref() == Some("MASTER"),
            "the instance left MASTER"
        );
        Ok(())
    })
}

/// An address on another interface (`dev eth1`) makes the instance watch that interface:
/// it going down is a FAULT, and its return brings the instance back. The same address line
/// with `no_track` leaves its instance alone.
#[test]
fn the_interface_of_an_address_is_watched_unless_no_track() -> Result<()> {
    scenario("addr_watch_dev", |lab| {
        let r1 = lab.host_on("r1", &["lan", "side"])?;
        let conf = format!(
            "{}{}",
            instance(
                "WATCHED",
                73,
                "eth0",
                "    virtual_ipaddress {\n        192.0.2.221/24\n        198.51.100.221/24 dev eth1\n    }\n",
            ),
            instance(
                "UNWATCHED",
                74,
                "eth0",
                "    virtual_ipaddress {\n        192.0.2.222/24\n        198.51.100.222/24 dev eth1 no_track\n    }\n",
            ),
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        v.wait_state("WATCHED", "MASTER", SETTLE)?;
        v.wait_state("UNWATCHED", "MASTER", SETTLE)?;
        let transitions = v.field("UNWATCHED", "transitions")?;
        r1.run("ip", ["link", "set", "eth1", "down"])?;
        v.wait_state("WATCHED", "FAULT", SETTLE)
            .context("eth1, which a VIP names, went down")?;
        r1.run("ip", ["link", "set", "eth1", "up"])?;
        v.wait_state("WATCHED", "MASTER", SETTLE)?;
        ensure!(
            v.field("UNWATCHED", "transitions")? == transitions,
            "the instance whose eth1 address says no_track changed state"
        );
        ensure!(
            held(&r1, "192.0.2.222")?,
            "the no_track instance lost its VIP"
        );
        Ok(())
    })
}

/// `track_src_ip`: the instance sends from a configured address; deleting that address puts
/// it in FAULT, adding it back brings it back. `dont_track_primary`: an instance ignores its
/// own interface going down, while one without it goes to FAULT.
#[test]
fn track_src_ip_and_dont_track_primary() -> Result<()> {
    scenario("addr_track_src", |lab| {
        let r1 = lab.host("r1")?;
        r1.run("ip", ["address", "add", "192.0.2.231/24", "dev", "eth0"])?;
        let conf = format!(
            "{}{}{}",
            instance(
                "SRC",
                75,
                "eth0",
                "    mcast_src_ip 192.0.2.231\n    track_src_ip\n    virtual_ipaddress {\n        192.0.2.232/24\n    }\n",
            ),
            instance(
                "FOLLOWS",
                76,
                "eth0",
                "    virtual_ipaddress {\n        192.0.2.233/24\n    }\n",
            ),
            instance(
                "IGNORES",
                77,
                "eth0",
                "    dont_track_primary\n    virtual_ipaddress {\n        192.0.2.234/24\n    }\n",
            ),
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        for name in ["SRC", "FOLLOWS", "IGNORES"] {
            v.wait_state(name, "MASTER", SETTLE)?;
        }
        r1.run("ip", ["address", "del", "192.0.2.231/24", "dev", "eth0"])?;
        v.wait_state("SRC", "FAULT", SETTLE)
            .context("its configured source address was deleted")?;
        r1.run("ip", ["address", "add", "192.0.2.231/24", "dev", "eth0"])?;
        v.wait_state("SRC", "MASTER", SETTLE)?;

        let transitions = v.field("IGNORES", "transitions")?;
        r1.run("ip", ["link", "set", "eth0", "down"])?;
        v.wait_state("FOLLOWS", "FAULT", SETTLE)?;
        r1.run("ip", ["link", "set", "eth0", "up"])?;
        v.wait_state("FOLLOWS", "MASTER", SETTLE)?;
        ensure!(
            v.field("IGNORES", "transitions")? == transitions,
            "the dont_track_primary instance followed its interface down"
        );
        Ok(())
    })
}
