//! Accept_Mode off on a real kernel (RFC 5798 §6.4.3): a master that is not the address owner
//! and has `accept: false` holds its VIPs (ARP and neighbour discovery answer for them) but
//! drops the packets addressed to them, through vigil's nftables table `inet vigil`; its own
//! address still answers. `accept: true` and the owner (priority 255) answer on their VIPs.
//! The drop follows mastership, and the table goes at exit; one left by `kill -9` is replaced
//! at the next start.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). Under CI=true or
//! VIGIL_LAB=1 a lab that cannot be built fails the test.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Host, Lab, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

/// The addresses in `host`'s drop set for `addr`'s family; `None` when there is no table.
fn refused(host: &Host, family_of: IpAddr) -> Result<Option<String>> {
    let set = if family_of.is_ipv4() {
        "vips4"
    } else {
        "vips6"
    };
    let out = host.exec("nft", ["list", "set", "inet", "vigil", set])?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn refuses(host: &Host, vip: IpAddr) -> Result<bool> {
    Ok(refused(host, vip)?.is_some_and(|s| s.contains(&vip.to_string())))
}

fn has_table(host: &Host) -> Result<bool> {
    Ok(host
        .exec("nft", ["list", "table", "inet", "vigil"])?
        .status
        .success())
}

/// The client resolves `vip` to `router`'s MAC (ARP / neighbour discovery are answered, and
/// an IPv6 VIP is past duplicate address detection): a ping that then gets no answer was
/// dropped, not lost to an unresolved or tentative address.
fn resolves_to(c: &Host, vip: IpAddr, router: &Host) -> Result<()> {
    wait_until(
        SETTLE,
        &format!("client resolves {vip} to {}", router.name()),
        || {
            let _ = c.ping(vip);
            c.neigh(vip).ok().flatten().as_deref() == Some(router.mac())
        },
    )?;
    Ok(())
}

/// Three pings, none answered.
fn unanswered(c: &Host, vip: IpAddr) -> Result<()> {
    for n in 1..=3 {
        ensure!(
            !c.ping(vip)?,
            "ping {n} to {vip} was answered although accept mode is off (RFC 5798 §6.4.3)"
        );
    }
    Ok(())
}

fn instances(prio: u8, accept: bool) -> String {
    let v4 = IpAddr::V4(Lab::vip4(40));
    let v6 = IpAddr::V6(Lab::vip6(40));
    let mut a = VigilInstance::new("gw4", 140, prio, v4);
    let mut b = VigilInstance::new("gw6", 141, prio, v6);
    for i in [&mut a, &mut b] {
        i.advert_int = "0.5";
        i.extra = format!("    accept: {accept}\n");
    }
    vigil_yaml(&[a, b])
}

/// A no-accept master answers ARP/ND for its VIPs and drops everything else addressed to
/// them, IPv4 and IPv6; its own addresses answer. When r2 takes over (r1 stopped), r2 drops
/// and r1's table is gone; when r1 preempts again, r2's entries go and r1's come back.
#[test]
fn a_no_accept_master_drops_traffic_to_its_vips_and_the_drop_follows_mastership() -> Result<()> {
    scenario("no_accept_drop", |lab| {
        let (r1, r2, c) = (lab.host("r1")?, lab.host("r2")?, lab.client("c")?);
        let vips = [IpAddr::V4(Lab::vip4(40)), IpAddr::V6(Lab::vip6(40))];
        let v1 = Vigil::start(&r1, &instances(200, false))?;
        let v2 = Vigil::start(&r2, &instances(100, false))?;
        for name in ["gw4", "gw6"] {
            v1.wait_state(name, "MASTER", SETTLE)?;
            v2.wait_state(name, "BACKUP", SETTLE)?;
        }
        for vip in vips {
            resolves_to(&c, vip, &r1)?;
            unanswered(&c, vip)?;
            ensure!(refuses(&r1, vip)?, "r1's drop set lacks {vip}");
            ensure!(!refuses(&r2, vip)?, "r2 (backup) drops {vip}");
        }
        ensure!(
            c.ping(IpAddr::V4(r1.ipv4()))? && c.ping(IpAddr::V6(r1.ipv6()))?,
            "r1's own addresses do not answer: the drop is too wide"
        );

        // r1 leaves: r2 is master and drops; r1's table went with it.
        v1.stop()?;
        for name in ["gw4", "gw6"] {
            v2.wait_state(name, "MASTER", SETTLE)?;
        }
        ensure!(
            !has_table(&r1)?,
            "r1's nftables table is left after its exit"
        );
        for vip in vips {
            resolves_to(&c, vip, &r2)?;
            unanswered(&c, vip)?;
            ensure!(refuses(&r2, vip)?, "r2 (new master) does not drop {vip}");
        }

        // r1 comes back and preempts: r2's entries go as it leaves MASTER.
        let v1 = Vigil::start(&r1, &instances(200, false))?;
        for name in ["gw4", "gw6"] {
            v1.wait_state(name, "MASTER", SETTLE)?;
            v2.wait_state(name, "BACKUP", SETTLE)?;
        }
        for vip in vips {
            wait_until(SETTLE, &format!("r2 stops dropping {vip}"), || {
                !refuses(&r2, vip).unwrap_or(true)
            })?;
            ensure!(refuses(&r1, vip)?, "r1 (master again) does not drop {vip}");
            resolves_to(&c, vip, &r1)?;
            unanswered(&c, vip)?;
        }
        ensure!(has_table(&r2)?, "r2's table went while r2 still runs");
        v2.stop()?;
        ensure!(
            !has_table(&r2)?,
            "r2's nftables table is left after its exit"
        );
        Ok(())
    })
}

/// `accept: true`, and the address owner (priority 255) with `accept: false`, answer on
/// their VIPs; neither needs a table, and a table a `kill -9`ed no-accept master left (with
/// its VIPs in it) is deleted at the next start.
#[test]
fn accept_mode_and_the_owner_answer_and_a_stale_table_is_replaced() -> Result<()> {
    scenario("no_accept_stale", |lab| {
        let (r1, c) = (lab.host("r1")?, lab.client("c")?);
        let vip4 = IpAddr::V4(Lab::vip4(40));
        let v1 = Vigil::start(&r1, &instances(200, false))?;
        v1.wait_state("gw4", "MASTER", SETTLE)?;
        resolves_to(&c, vip4, &r1)?;
        unanswered(&c, vip4)?;
        v1.kill9()?;
        ensure!(
            refuses(&r1, vip4)?,
            "a killed daemon cannot delete its table: expected it left with {vip4}"
        );
        // A leftover VIP is removed at start (`residual.rs`), so wait for the new master.
        let v1 = Vigil::start(&r1, &instances(200, true))?;
        for name in ["gw4", "gw6"] {
            v1.wait_state(name, "MASTER", SETTLE)?;
        }
        ensure!(
            !has_table(&r1)?,
            "the table a killed run left is still there"
        );
        for vip in [vip4, IpAddr::V6(Lab::vip6(40))] {
            resolves_to(&c, vip, &r1)?;
            wait_until(SETTLE, &format!("{vip} answers with accept: true"), || {
                c.ping(vip).unwrap_or(false)
            })?;
        }
        v1.stop()?;

        // The owner accepts whatever `accept` says.
        let v1 = Vigil::start(&r1, &instances(255, false))?;
        v1.wait_state("gw4", "MASTER", SETTLE)?;
        resolves_to(&c, vip4, &r1)?;
        wait_until(SETTLE, "the owner's VIP answers", || {
            c.ping(vip4).unwrap_or(false)
        })
        .context("priority 255 with accept: false")?;
        ensure!(!has_table(&r1)?, "the owner made a drop table");
        Ok(())
    })
}
