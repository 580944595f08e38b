//! keepalived's checkers, from an unmodified keepalived.conf: a failing `vrrp_script` with a
//! negative weight hands mastership to the peer and back; a `vrrp_track_file` with weight 0
//! puts the instance in FAULT while the file holds a non-zero value.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Result, ensure};
use vigil_integration::{Lab, Vigil, scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);

fn conf(vrid: u8, priority: u8, vip: IpAddr, trackers: &str, track: &str) -> String {
    format!(
        "{trackers}\nvrrp_instance VI {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
         priority {priority}\n    advert_int 1\n    version 3\n{track}    virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
    )
}

#[test]
fn failing_track_script_lowers_priority_and_hands_over_then_back() -> Result<()> {
    scenario("track_script", |lab| {
        let vip = IpAddr::V4(Lab::vip4(40));
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let ok = lab.dir().join("r1-healthy");
        std::fs::write(&ok, "")?;
        let script = format!(
            "vrrp_script chk {{\n    script \"/usr/bin/test -f {}\"\n    interval 0.5\n    weight -150\n    \
             fall 1\n    rise 1\n}}\n",
            ok.display()
        );
        let v1 = Vigil::start_with(
            &r1,
            "keepalived.conf",
            &conf(
                90,
                200,
                vip,
                &script,
                "    track_script {\n        chk\n    }\n",
            ),
        )?;
        let v2 = Vigil::start_with(&r2, "keepalived.conf", &conf(90, 100, vip, "", ""))?;
        v1.wait_state("VI", "MASTER", SETTLE)?;
        v2.wait_state("VI", "BACKUP", SETTLE)?;

        std::fs::remove_file(&ok)?;
        wait_until(SETTLE, "r1's effective priority drops to 50", || {
            v1.field("VI", "effective_priority")
                .ok()
                .and_then(|v| v.as_u64())
                == Some(50)
        })?;
        v2.wait_state("VI", "MASTER", SETTLE)?;
        v1.wait_state("VI", "BACKUP", SETTLE)?;
        wait_until(SETTLE, "r2 holds the VIP", || {
            r2.has_address(vip).unwrap_or(false)
        })?;
        // `vigil status VI` on r1 names the master and its priority, the tracker's share and
        // why r1 stepped down.
        let detail = v1.detail("VI")?;
        println!("vigil status VI on r1:\n{detail}");
        let line = |key: &str| {
            detail
                .lines()
                .find(|l| l.starts_with(key))
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        ensure!(
            line("Master ") == format!("Master {} (priority 100)", r2.ipv4()),
            "r1's detail does not name r2 at priority 100 as master:\n{detail}"
        );
        ensure!(
            line("Priority") == "Priority 50 effective, 200 base",
            "r1's detail does not show its priorities:\n{detail}"
        );
        ensure!(
            line("  tracker script chk") == "tracker script chk down weight -150 applied -150",
            "r1's detail does not show chk's share:\n{detail}"
        );
        ensure!(
            detail.lines().any(|l| l.contains("MASTER -> BACKUP")
                && l.contains("higher-priority advertisement from")),
            "r1's detail does not show why it stepped down:\n{detail}"
        );

        std::fs::write(&ok, "")?;
        v1.wait_state("VI", "MASTER", SETTLE)?;
        v2.wait_state("VI", "BACKUP", SETTLE)?;
        ensure!(!r2.has_address(vip)?, "r2 kept the VIP after r1 recovered");
        Ok(())
    })
}

#[test]
fn track_file_with_weight_zero_faults_while_non_zero() -> Result<()> {
    scenario("track_file", |lab| {
        let vip = IpAddr::V4(Lab::vip4(41));
        let r1 = lab.host("r1")?;
        let file = lab.dir().join("r1-maintenance");
        std::fs::write(&file, "0\n")?;
        let tracker = format!(
            "vrrp_track_file maint {{\n    file \"{}\"\n    weight 0\n}}\n",
            file.display()
        );
        let v = Vigil::start_with(
            &r1,
            "keepalived.conf",
            &conf(
                91,
                150,
                vip,
                &tracker,
                "    track_file {\n        maint\n    }\n",
            ),
        )?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        std::fs::write(&file, "1\n")?;
        v.wait_state("VI", "FAULT", SETTLE)?;
        wait_until(SETTLE, "the VIP is removed in FAULT", || {
            !r1.has_address(vip).unwrap_or(true)
        })?;
        std::fs::write(&file, "0\n")?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        Ok(())
    })
}
