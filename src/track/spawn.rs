//! Starting the runners: one task per script and per file that some instance or sync group
//! references, and one task for all referenced processes (they share a /proc scan).

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::file::{self, FileCheck};
use super::process::{self, ProcessCheck};
use super::script::{self, ScriptCheck};
use super::update::{TrackerKind, TrackerUpdate};
use crate::config::Config;
use crate::config::model::TrackRef;

/// How often the polling runners look. Scripts run at their own `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollIntervals {
    pub file: Duration,
    pub process: Duration,
}

impl Default for PollIntervals {
    fn default() -> Self {
        Self {
            file: Duration::from_millis(500),
            process: Duration::from_secs(1),
        }
    }
}

/// The names of the checkers of `kind` that some instance or sync group references:
/// keepalived neither runs nor watches a checker nobody uses.
pub fn referenced(config: &Config, kind: TrackerKind) -> BTreeSet<String> {
    let pick =
        |refs_i: &dyn Fn(&crate::config::model::Instance) -> &Vec<TrackRef>,
         refs_g: &dyn Fn(&crate::config::model::SyncGroup) -> &Vec<TrackRef>| {
            let mut names = BTreeSet::new();
            for i in &config.instances {
                names.extend(refs_i(i).iter().map(|r| r.name.clone()));
            }
            for g in &config.sync_groups {
                names.extend(refs_g(g).iter().map(|r| r.name.clone()));
            }
            names
        };
    match kind {
        TrackerKind::Script => pick(&|i| &i.track_scripts, &|g| &g.track_scripts),
        TrackerKind::File => pick(&|i| &i.track_files, &|g| &g.track_files),
        TrackerKind::Process => pick(&|i| &i.track_processes, &|g| &g.track_processes),
        TrackerKind::Interface => {
            let mut names = BTreeSet::new();
            for i in &config.instances {
                names.extend(i.track_interfaces.iter().map(|t| t.name.clone()));
            }
            for g in &config.sync_groups {
                names.extend(g.track_interfaces.iter().map(|t| t.name.clone()));
            }
            names
        }
    }
}

/// Spawns the runners with the default poll intervals. Must be called inside a tokio runtime.
pub fn spawn_all(config: &Config, tx: mpsc::Sender<TrackerUpdate>) -> JoinSet<()> {
    spawn_all_with(config, tx, PollIntervals::default())
}

/// Spawns the runners. Every task ends when the receiver of `tx` is dropped; dropping or
/// aborting the `JoinSet` stops them at once (a script being run is killed with its group).
pub fn spawn_all_with(
    config: &Config,
    tx: mpsc::Sender<TrackerUpdate>,
    poll: PollIntervals,
) -> JoinSet<()> {
    let mut set = JoinSet::new();
    let scripts = referenced(config, TrackerKind::Script);
    for s in config.scripts.iter().filter(|s| scripts.contains(&s.name)) {
        match ScriptCheck::from_config(s, config.global.script_user.as_ref()) {
            Ok(check) => {
                set.spawn(script::run(check, tx.clone()));
            }
            Err(e) => {
                // A script that cannot even be split never succeeds: report it failed once.
                tracing::error!(script = %s.name, error = %e, "track script is not runnable");
                let tx = tx.clone();
                let name = s.name.clone();
                set.spawn(async move {
                    let _ = tx.send(TrackerUpdate::script(name, false)).await;
                });
            }
        }
    }
    let files = referenced(config, TrackerKind::File);
    for f in config
        .track_files
        .iter()
        .filter(|f| files.contains(&f.name))
    {
        set.spawn(file::run(FileCheck::from_config(f, poll.file), tx.clone()));
    }
    let processes = referenced(config, TrackerKind::Process);
    let checks: Vec<ProcessCheck> = config
        .track_processes
        .iter()
        .filter(|p| processes.contains(&p.name))
        .filter_map(ProcessCheck::from_config)
        .collect();
    if !checks.is_empty() {
        set.spawn(process::run(checks, poll.process, tx.clone()));
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::update::TrackerState;
    use crate::track::verdict_tests::parse;
    use crate::track::{Trackers, Verdict};

    #[test]
    fn only_referenced_checkers_count() {
        let config = parse(
            r#"
vrrp_script used { script "/bin/true" }
vrrp_script unused { script "/bin/true" }
vrrp_sync_group G {
    group { VI_1 }
    track_script { by_group }
}
vrrp_script by_group { script "/bin/true" }
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress { 192.0.2.1/24 }
    track_script { used }
    track_interface { eth1 }
}
"#,
        );
        assert_eq!(
            referenced(&config, TrackerKind::Script)
                .into_iter()
                .collect::<Vec<_>>(),
            ["by_group", "used"]
        );
        assert_eq!(
            referenced(&config, TrackerKind::Interface)
                .into_iter()
                .collect::<Vec<_>>(),
            ["eth1"]
        );
    }

    /// The whole path: config -> runners -> updates -> Trackers -> verdicts.
    #[tokio::test]
    async fn runners_feed_trackers_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weight");
        let text = format!(
            r#"
vrrp_script ok_check {{
    script "/bin/true"
    interval 1
}}
vrrp_track_file tf {{
    file "{}"
    weight 2
    init_file 5
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 1
    priority 100
    virtual_ipaddress {{ 192.0.2.1/24 }}
    track_script {{ ok_check }}
    track_file {{ tf }}
}}
"#,
            file.display()
        );
        let config = parse(&text);
        let tracking = crate::track::InstanceTrackers::for_instance(&config, "VI_1");
        let mut trackers = Trackers::new();
        trackers.rewire([(0, &tracking)], &[]);
        assert!(trackers.verdict(&tracking).pending);
        let (tx, mut rx) = mpsc::channel(16);
        let mut set = spawn_all_with(
            &config,
            tx,
            PollIntervals {
                file: Duration::from_millis(20),
                process: Duration::from_millis(20),
            },
        );
        let want = Verdict {
            weight_sum: 10,
            faulted: false,
            pending: false,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut seen = Vec::new();
        while trackers.verdict(&tracking) != want {
            let u = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no verdict {want:?} within 10 s; updates: {seen:?}"))
                .expect("runners ended early");
            seen.push(u.clone());
            trackers.update(&u);
        }
        assert!(seen.iter().any(|u| u.state == TrackerState::Value(5)));
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
}
