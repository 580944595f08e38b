//! keepalived's state-machine keywords on a real kernel: `down_timer_adverts` stretches the
//! takeover after a master dies; `virtual_ipaddress_excluded` is installed but never
//! advertised.
//!
//! Each test builds its own lab (unique names, deleted on drop and on panic). Under CI=true or
//! VIGIL_LAB=1 a lab that cannot be built fails the test.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Lab, Vigil, scenario, timed_scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);
const IPPROTO_VRRP: u8 = 112;

/// One captured VRRP-over-IPv4 packet: when, from whom, and the addresses it lists.
struct Advert {
    at: Duration,
    src: Ipv4Addr,
    priority: u8,
    addresses: Vec<Ipv4Addr>,
}

/// The untagged IPv4 VRRP packets of a classic pcap of Ethernet frames, with their times.
fn adverts(pcap: &[u8]) -> Result<Vec<Advert>> {
    let mut out = Vec::new();
    for (at, frame) in vigil_integration::parse_pcap_timed(pcap)? {
        // Ethernet II, IPv4 (0x0800), protocol 112.
        if frame.get(12..14) != Some(&[0x08, 0x00][..]) {
            continue;
        }
        let ip = &frame[14..];
        let Some(&vihl) = ip.first() else { continue };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if ip.get(9) != Some(&IPPROTO_VRRP) || ip.len() < ihl + 8 {
            continue;
        }
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let vrrp = &ip[ihl..];
        let count = usize::from(vrrp[3]);
        let addresses = (0..count)
            .filter_map(|k| {
                let a = vrrp.get(8 + 4 * k..12 + 4 * k)?;
                Some(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
            })
            .collect();
        out.push(Advert {
            at,
            src,
            priority: vrrp[2],
            addresses,
        });
    }
    Ok(out)
}

/// RFC 5798 §6.1 Master_Down_Interval with `n` in place of 3 (keepalived
/// `down_timer_adverts`): n × Master_Adver_Interval + (256 - Priority) × Master_Adver_Interval
/// / 256.
fn master_down_interval(n: u32, advert_int: Duration, priority: u32) -> Duration {
    advert_int * n + advert_int * (256 - priority) / 256
}

/// `down_timer_adverts 6` with `advert_int 0.5`: after the master is killed, the backup
/// waits 6 × 0.5 s + Skew_Time from the master's last advert, not 3 × 0.5 s + Skew_Time.
/// Measured on the wire at the backup: from the last advert of r1 to the first of r2.
#[test]
fn down_timer_adverts_stretches_master_down_interval() -> Result<()> {
    timed_scenario("kw_down_timer", |lab| {
        let vip = IpAddr::V4(Lab::vip4(0));
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let conf = |prio| {
            let mut i = VigilInstance::new("gw", 61, prio, vip);
            i.advert_int = "0.5";
            i.extra = "    down_timer_adverts: 6\n".into();
            vigil_yaml(&[i])
        };
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start(&r2, &conf(100))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        let capture = r2.capture("vrrp", "ip proto 112")?;
        // Two of r1's adverts on the wire before the kill.
        wait_until(SETTLE, "r1's adverts at r2", || -> Result<bool> {
            let pcap = std::fs::read(capture.path())?;
            Ok(adverts(&pcap)?
                .iter()
                .filter(|a| a.src == r1.ipv4())
                .count()
                >= 2)
        })?;
        v1.kill9()?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        wait_until(SETTLE, "r2's first advert captured", || -> Result<bool> {
            let pcap = std::fs::read(capture.path())?;
            Ok(adverts(&pcap)?.iter().any(|a| a.src == r2.ipv4()))
        })?;
        capture.stop()?;
        let seen = adverts(&std::fs::read(capture.path())?)?;
        let first_r2 = seen
            .iter()
            .find(|a| a.src == r2.ipv4() && a.priority == 100)
            .context("no advert from r2")?;
        let last_r1 = seen
            .iter()
            .rfind(|a| a.src == r1.ipv4() && a.at <= first_r2.at)
            .context("no advert from r1 before r2's")?;
        let gap = first_r2.at - last_r1.at;
        let mdi = master_down_interval(6, Duration::from_millis(500), 100);
        let rfc = master_down_interval(3, Duration::from_millis(500), 100);
        println!(
            "down_timer_adverts 6: r2's first advert {} ms after r1's last; \
             expected {} ms (the RFC's 3 would give {} ms)",
            gap.as_millis(),
            mdi.as_millis(),
            rfc.as_millis()
        );
        ensure!(
            gap + Duration::from_millis(20) >= mdi,
            "r2 took over {gap:?} after r1's last advert: sooner than {mdi:?}"
        );
        ensure!(
            gap <= mdi + Duration::from_millis(200),
            "r2 took over {gap:?} after r1's last advert: much later than {mdi:?}"
        );
        Ok(())
    })
}

/// `virtual_ipaddress_excluded`: the master holds the excluded address with its VIP, but its
/// adverts list the VIP alone (keepalived's evips).
#[test]
fn excluded_addresses_are_installed_but_not_advertised() -> Result<()> {
    scenario("kw_excluded", |lab| {
        let vip = IpAddr::V4(Lab::vip4(0));
        let excluded = IpAddr::V4(Lab::vip4(1));
        let r1 = lab.host("r1")?;
        let mut i = VigilInstance::new("gw", 62, 200, vip);
        i.advert_int = "0.5";
        i.extra = format!(
            "    virtual_ipaddress_excluded:\n      - {{addr: '{excluded}', prefix_len: 24}}\n"
        );
        let capture = r1.capture("vrrp", "ip proto 112")?;
        let v1 = Vigil::start(&r1, &vigil_yaml(&[i]))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        wait_until(SETTLE, "r1 holds the VIP and the excluded address", || {
            Ok::<bool, anyhow::Error>(r1.has_address(vip)? && r1.has_address(excluded)?)
        })?;
        wait_until(SETTLE, "three adverts captured", || -> Result<bool> {
            Ok(adverts(&std::fs::read(capture.path())?)?.len() >= 3)
        })?;
        capture.stop()?;
        let seen = adverts(&std::fs::read(capture.path())?)?;
        let vip4 = Lab::vip4(0);
        for a in seen.iter().filter(|a| a.src == r1.ipv4()) {
            ensure!(
                a.addresses == vec![vip4],
                "an advert lists {:?}: expected the VIP {vip4} alone",
                a.addresses
            );
        }
        // Leaving: the excluded address goes with the VIP.
        v1.stop()?;
        ensure!(
            !r1.has_address(excluded)?,
            "the excluded address stayed after vigil stopped"
        );
        Ok(())
    })
}

/// `notify_priority_changes`: a tracked file's weight moves the effective priority, and the
/// notify FIFO's reader reads keepalived's `INSTANCE "VI" MASTER_PRIORITY <p>` line.
#[test]
fn notify_priority_changes_writes_the_fifo_line() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    scenario("kw_prio_fifo", |lab| {
        let vip = Lab::vip4(3);
        let r1 = lab.host("r1")?;
        let dir = lab.dir().join("kw_prio");
        std::fs::create_dir_all(&dir)?;
        let (file, fifo, log, reader) = (
            dir.join("weight"),
            dir.join("notify.fifo"),
            dir.join("fifo.log"),
            dir.join("reader.sh"),
        );
        std::fs::write(&file, "0\n")?;
        std::fs::write(
            &reader,
            format!(
                "#!/bin/sh\nwhile IFS= read -r line; do echo \"$line\" >> {}; done < \"$1\"\n",
                log.display()
            ),
        )?;
        std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755))?;
        let conf = format!(
            "global_defs {{\n    notify_fifo {fifo}\n    notify_fifo_script {reader}\n}}\n\
             vrrp_track_file tf {{\n    file \"{file}\"\n    weight 1\n}}\n\
             vrrp_instance VI {{\n    interface eth0\n    virtual_router_id 63\n    \
             priority 100\n    advert_int 1\n    virtual_ipaddress {{\n        {vip}/24\n    }}\n    \
             track_file {{\n        tf\n    }}\n    notify_priority_changes\n}}\n",
            fifo = fifo.display(),
            reader = reader.display(),
            file = file.display(),
        );
        let v = Vigil::start_with(&r1, "keepalived.conf", &conf)?;
        v.wait_state("VI", "MASTER", SETTLE)?;
        let lines = || -> Vec<String> {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        wait_until(SETTLE, "the FIFO's MASTER line", || {
            lines().iter().any(|l| l == "INSTANCE \"VI\" MASTER 100")
        })
        .with_context(|| format!("{:?}", lines()))?;
        std::fs::write(&file, "10\n")?;
        wait_until(SETTLE, "the FIFO's MASTER_PRIORITY 110 line", || {
            lines()
                .iter()
                .any(|l| l == "INSTANCE \"VI\" MASTER_PRIORITY 110")
        })
        .with_context(|| format!("{:?}", lines()))?;
        Ok(())
    })
}
