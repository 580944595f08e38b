//! What the daemon's log says on a real LAN: two VRRPv2 routers whose advert intervals
//! differ both drop each other's adverts (RFC 3768 §7.1), so both are Master (a split brain).
//! keepalived logs "advertisement interval mismatch"; vigil must say it too, naming the
//! sender and both intervals, once (then once a minute), not once per packet.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Lab, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

#[test]
fn an_interval_mismatch_is_logged_with_the_peer_and_both_intervals() -> Result<()> {
    scenario("log_interval_mismatch", |lab| {
        let vip = IpAddr::V4(Lab::vip4(0));
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let conf = |prio, interval| {
            let mut i = VigilInstance::new("gw", 62, prio, vip);
            i.version = 2;
            i.advert_int = interval;
            vigil_yaml(&[i])
        };
        let v1 = Vigil::start(&r1, &conf(200, "1"))?;
        let v2 = Vigil::start(&r2, &conf(100, "2"))?;
        // Neither accepts the other's adverts: both end up Master.
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        let expected = format!(
            "advert interval mismatch: ours 200 cs, received 100 cs from {}",
            r1.ipv4()
        );
        wait_until(SETTLE, "r2 to log the interval mismatch", || {
            v2.log().contains(&expected)
        })?;
        // Four more of r1's adverts dropped (one a second): still one line.
        let dropped = || -> u64 {
            v2.field("gw", "drops")
                .ok()
                .and_then(|d| d.get("interval_mismatch").and_then(|n| n.as_u64()))
                .unwrap_or(0)
        };
        let first = dropped();
        wait_until(SETTLE, "four more dropped adverts on r2", || {
            dropped() >= first + 4
        })?;
        let log = v2.log();
        let lines = log
            .lines()
            .filter(|l| l.contains("interval mismatch"))
            .count();
        ensure!(lines == 1, "{lines} lines, expected 1 a minute:\n{log}");
        Ok(())
    })
}
