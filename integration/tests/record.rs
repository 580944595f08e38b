//! `vigil run --record-events` on a real kernel: a failover recorded by the backup, replayed
//! with `vigil replay`, gives back the transitions the daemon logged, in order and with the
//! same reasons.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use common::{VigilInstance, vigil_yaml};
use vigil_integration::{Lab, Vigil, scenario, vigil_binary};

const SETTLE: Duration = Duration::from_secs(15);

/// (from, to, reason) of every `transition` line the daemon logged for `instance`.
fn logged_transitions(log: &str, instance: &str) -> Vec<(String, String, String)> {
    let field = |line: &str, key: &str| -> Option<String> {
        let start = line.find(&format!(" {key}="))? + key.len() + 2;
        let rest = line.get(start..)?;
        if let Some(quoted) = rest.strip_prefix('"') {
            quoted.split('"').next().map(str::to_owned)
        } else {
            rest.split_whitespace().next().map(str::to_owned)
        }
    };
    // The reason is free text ("master down: no advertisement for ..."), unquoted; `priority` follows it.
    let reason = |line: &str| -> Option<String> {
        let rest = line.split_once(" reason=")?.1;
        Some(
            rest.split_once(" priority=")?
                .0
                .trim_matches('"')
                .to_owned(),
        )
    };
    log.lines()
        .filter(|l| l.contains(" transition") && l.contains(&format!("instance={instance} ")))
        .filter_map(|l| Some((field(l, "from")?, field(l, "to")?, reason(l)?)))
        .collect()
}

/// The same from `vigil replay --transitions`: `<time> <instance> transition A -> B reason="R" ...`.
fn replayed_transitions(out: &str, instance: &str) -> Vec<(String, String, String)> {
    out.lines()
        .filter_map(|l| {
            let rest = l.split_once(&format!(" {instance} transition "))?.1;
            let (from, rest) = rest.split_once(" -> ")?;
            let (to, rest) = rest.split_once(' ')?;
            let reason = rest.strip_prefix("reason=\"")?.split('"').next()?;
            Some((from.to_owned(), to.to_owned(), reason.to_owned()))
        })
        .collect()
}

#[test]
fn a_recorded_failover_replays_to_the_same_transitions() -> Result<()> {
    scenario("record_replay", |lab| {
        let vip = IpAddr::V4(Lab::vip4(0));
        let (r1, r2) = (lab.host("r1")?, lab.host("r2")?);
        let conf = |prio| {
            let mut i = VigilInstance::new("gw", 61, prio, vip);
            i.advert_int = "0.5";
            vigil_yaml(&[i])
        };
        let recording = lab.dir().join("r2-events.jsonl");
        let recording_arg = recording.to_string_lossy().into_owned();
        let v1 = Vigil::start(&r1, &conf(200))?;
        let v2 = Vigil::start_full(
            &r2,
            "vigil.yaml",
            &conf(100),
            &["--record-events", &recording_arg],
        )?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;

        // The master dies: r2 takes over after Master_Down_Interval.
        v1.kill9()?;
        v2.wait_state("gw", "MASTER", SETTLE)?;
        // It comes back and preempts: r2 steps down on its advert.
        let v1 = Vigil::start(&r1, &conf(200))?;
        v1.wait_state("gw", "MASTER", SETTLE)?;
        v2.wait_state("gw", "BACKUP", SETTLE)?;
        // r2 shuts down: its state machine goes back to INIT.
        v2.stop()?;

        let logged = logged_transitions(&v2.log(), "gw");
        let out = std::process::Command::new(vigil_binary()?)
            .args(["replay", "--transitions"])
            .arg(&recording)
            .output()
            .context("cannot run vigil replay")?;
        ensure!(
            out.status.success(),
            "vigil replay failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replayed = replayed_transitions(&String::from_utf8_lossy(&out.stdout), "gw");
        let names: Vec<(&str, &str)> = logged
            .iter()
            .map(|(from, to, _)| (from.as_str(), to.as_str()))
            .collect();
        ensure!(
            names
                == [
                    ("INIT", "BACKUP"),
                    ("BACKUP", "MASTER"),
                    ("MASTER", "BACKUP"),
                    ("BACKUP", "INIT"),
                ],
            "the daemon did not go through the scenario: {logged:?}"
        );
        ensure!(
            replayed == logged,
            "the replay differs from the daemon's log\n  logged:   {logged:?}\n  replayed: {replayed:?}"
        );
        Ok(())
    })
}
