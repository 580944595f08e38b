//! keepalived's `auth_hmac` on a real segment: two vigil routers sharing a key elect one
//! master, sign every advert (checked on the wire against the key), and fail over when the
//! master is killed; a router with another key refuses the other's adverts (both then
//! master, the drop counter growing) until a reload gives it the right key; a key file open
//! to group or others stops `vigil run` at start and a reload that meets one is rejected.
//!
//! Each assertion fails when its check is a no-op: without signing, the enforcing backup
//! counts `hmac_missing` and becomes master too; without verification, the wrong key would
//! not split the pair; without the file mode check, the 0644 file starts.

mod common;

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil::types::Version;
use vigil::wire::auth_hmac::{AuthHmac, HmacKey, Mode, Secret};
use vigil::wire::{RxContext, parse_ipv4_advert};
use vigil_integration::{Lab, Reload, Vigil, scenario, timed_scenario, wait_until};

const SETTLE: Duration = Duration::from_secs(15);
const VRID: u8 = 93;
/// How late a takeover may come after Master_Down_Interval: the status poll, the scheduler
/// of a machine shared with other builds.
const TAKEOVER_MARGIN: Duration = Duration::from_millis(1500);

const KEY_A: &str = "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY_B: &str = "hex:ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn key_bytes(hex: &str) -> Vec<u8> {
    let h = hex.trim_start_matches("hex:");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A YAML instance `gw` signing with `key` (an inline value or `file:PATH`), advert_int 0.5.
fn conf(priority: u8, key: &str) -> String {
    conf_for(priority, key, IpAddr::V4(Lab::vip4(0)))
}

fn conf_for(priority: u8, key: &str, vip: IpAddr) -> String {
    let mut i = VigilInstance::new("gw", VRID, priority, vip);
    i.advert_int = "0.5";
    i.extra = format!(
        "    auth_hmac:\n      keys:\n        - {{id: 1, key: '{key}'}}\n      active_key: 1\n"
    );
    vigil_yaml(&[i])
}

fn drops(v: &Vigil, reason: &str) -> u64 {
    v.field("gw", "drops")
        .ok()
        .and_then(|d| d[reason].as_u64())
        .unwrap_or(0)
}

fn received(v: &Vigil) -> u64 {
    v.field("gw", "adverts_received")
        .ok()
        .and_then(|n| n.as_u64())
        .unwrap_or(0)
}

/// RFC 5798 §6.1: 3 × Master_Adver_Interval + Skew_Time.
fn master_down_interval(advert_int: Duration, priority: u32) -> Duration {
    advert_int * 3 + advert_int * (256 - priority) / 256
}

fn key_file(dir: &Path, name: &str, value: &str, mode: u32) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    Ok(path)
}

/// Same key (one inline, one from a 0600 file): one master, every advert on the wire carries
/// a trailer that verifies with the key, and kill -9 of the master hands over in time.
#[test]
fn same_key_one_master_signed_adverts_and_failover() -> Result<()> {
    timed_scenario("hmac_same_key", |lab| {
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let file = key_file(lab.dir(), "r2.key", KEY_A, 0o600)?;
        let capture = r2.capture("vrrp", "ip proto 112")?;
        let v1 = Vigil::start(&r1, &conf(200, KEY_A))?;
        let v2 = Vigil::start(&r2, &conf(100, &format!("file:{}", file.display())))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        // The backup stays backup while it hears the master: several adverts accepted, none
        // dropped for auth_hmac, and it is still BACKUP after them.
        let before = received(&v2);
        wait_until(SETTLE, "r2 accepts 4 more of r1's signed adverts", || {
            received(&v2) >= before + 4
        })?;
        ensure!(
            v2.state("gw")?.as_deref() == Some("BACKUP"),
            "r2 left BACKUP"
        );
        for reason in [
            "hmac_missing",
            "hmac_bad_tag",
            "hmac_unknown_key",
            "hmac_stale",
            "hmac_replay",
        ] {
            ensure!(
                drops(&v2, reason) == 0,
                "r2 dropped {} adverts for {reason}",
                drops(&v2, reason)
            );
        }

        // On the wire: r1's adverts are 20 + 12 + 28 bytes and verify with the key.
        capture.stop()?;
        let ctx = RxContext {
            auth_hmac: Some(Arc::new(AuthHmac {
                keys: vec![HmacKey {
                    id: 1,
                    secret: Secret::new(&key_bytes(KEY_A)),
                }],
                active_key: 1,
                mode: Mode::Enforce,
                time_window: None,
            })),
            ..RxContext::new(Version::V3)
        };
        let mut signed = 0;
        for frame in capture.frames()? {
            let Some(ip) = frame.get(14..) else { continue };
            if ip.get(12..16) != Some(&r1.ipv4().octets()[..]) {
                continue;
            }
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            ensure!(
                total == 20 + 12 + 28,
                "r1's advert is {total} bytes, not 60 (no trailer?)"
            );
            let rx = parse_ipv4_advert(&ip[..total], &ctx)
                .map_err(|e| anyhow::anyhow!("r1's advert does not verify with the key: {e}"))?;
            ensure!(rx.hmac.is_some(), "r1's advert carries no trailer");
            signed += 1;
        }
        ensure!(signed >= 4, "only {signed} of r1's adverts captured");

        v1.kill9()?;
        let bound = master_down_interval(Duration::from_millis(500), 100) + TAKEOVER_MARGIN;
        let took = v2.wait_state("gw", "MASTER", bound)?;
        println!(
            "auth_hmac failover: r2 MASTER {} ms after kill -9 (bound {} ms)",
            took.as_millis(),
            bound.as_millis()
        );
        Ok(())
    })
}

/// IPv6: the trailer follows the addresses and the checksum covers it (keepalived has the
/// kernel checksum the whole payload); the backup accepts the master's signed adverts.
#[test]
fn ipv6_signed_adverts_elect_one_master() -> Result<()> {
    scenario("hmac_ipv6", |lab| {
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let vip = IpAddr::V6(Lab::vip6(0));
        let v1 = Vigil::start(&r1, &conf_for(200, KEY_A, vip))?;
        let v2 = Vigil::start(&r2, &conf_for(100, KEY_A, vip))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        let before = received(&v2);
        wait_until(
            SETTLE,
            "r2 accepts 4 more of r1's signed IPv6 adverts",
            || received(&v2) >= before + 4,
        )?;
        ensure!(
            v2.state("gw")?.as_deref() == Some("BACKUP"),
            "r2 left BACKUP"
        );
        for reason in ["hmac_missing", "hmac_bad_tag", "bad_checksum"] {
            ensure!(
                drops(&v2, reason) == 0,
                "r2 dropped {} adverts for {reason}",
                drops(&v2, reason)
            );
        }
        Ok(())
    })
}

/// Another key: each router refuses the other's adverts (hmac_bad_tag grows) and both are
/// master; a reload giving r2 the right key makes it a backup again.
#[test]
fn a_wrong_key_is_refused_until_the_right_one_is_loaded() -> Result<()> {
    scenario("hmac_wrong_key", |lab| {
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let v1 = Vigil::start(&r1, &conf(200, KEY_A))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        let v2 = Vigil::start(&r2, &conf(100, KEY_B))?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        wait_until(
            SETTLE,
            "each router counts the other's adverts as hmac_bad_tag",
            || drops(&v1, "hmac_bad_tag") >= 3 && drops(&v2, "hmac_bad_tag") >= 3,
        )?;
        let bad = drops(&v2, "hmac_bad_tag");
        wait_until(SETTLE, "r2's hmac_bad_tag keeps growing", || {
            drops(&v2, "hmac_bad_tag") >= bad + 3
        })?;
        ensure!(
            v1.state("gw")?.as_deref() == Some("MASTER"),
            "r1 is not master"
        );
        ensure!(
            v2.state("gw")?.as_deref() == Some("MASTER"),
            "r2 is not master"
        );
        ensure!(
            received(&v2) == 0,
            "r2 accepted {} adverts signed with another key",
            received(&v2)
        );
        // Every reason is exported from the start: the count must have moved.
        let metrics = v2.metrics()?;
        let bad_tag = metrics
            .lines()
            .find(|l| l.contains(r#"vrrp_instance="gw""#) && l.contains(r#"reason="hmac_bad_tag""#))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok());
        ensure!(
            bad_tag.is_some_and(|n| n > 0),
            "metrics do not count hmac_bad_tag drops for gw:\n{metrics}"
        );

        // The right key, by reload: r2 hears r1 (priority 200) and steps down.
        v2.write_config(&conf(100, KEY_A))?;
        ensure!(
            matches!(v2.reload()?, Reload::Applied),
            "reload with the right key was rejected"
        );
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        ensure!(
            v1.state("gw")?.as_deref() == Some("MASTER"),
            "r1 is not master"
        );
        Ok(())
    })
}

/// A 0644 key file: `vigil run` refuses to start, naming the file and never the key; with
/// 0600 it starts, and a reload after `chmod 644` is rejected while the instance runs on.
#[test]
fn a_key_file_open_to_others_is_refused_at_start_and_reload() -> Result<()> {
    scenario("hmac_key_mode", |lab| {
        let r1 = lab.host("r1")?;
        let file = key_file(lab.dir(), "r1.key", KEY_A, 0o644)?;
        let text = conf(200, &format!("file:{}", file.display()));
        let err = match Vigil::start(&r1, &text) {
            Ok(_) => anyhow::bail!("vigil started with a key file of mode 0644"),
            Err(e) => format!("{e:#}"),
        };
        ensure!(
            err.contains("open to group or others"),
            "no mode error in:\n{err}"
        );
        ensure!(!err.contains("0102030405"), "the key was printed:\n{err}");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        let v1 = Vigil::start(&r1, &text)?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
        ensure!(
            matches!(v1.reload()?, Reload::Rejected),
            "a reload with a 0644 key file was applied"
        );
        let log = v1.log();
        ensure!(
            log.contains("open to group or others"),
            "the rejection does not say why"
        );
        ensure!(!log.contains("0102030405"), "the key was logged");
        ensure!(
            v1.state("gw")?.as_deref() == Some("MASTER"),
            "the instance stopped"
        );
        Ok(())
    })
    .context("key file mode")
}
