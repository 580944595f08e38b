//! Starting the runners: one task per script and per file that some instance or sync group
//! references, and one task for all referenced processes (they share a /proc scan). A reload
//! keeps the runners whose definition did not change ([`Checkers::reload`]): a SIGHUP storm
//! must not restart every check (a script with `interval 5` ran 302 times under 300 SIGHUPs
//! when every reload restarted it, since a new runner runs its script at once).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::file::{self, FileCheck};
use super::process::{self, ProcessCheck};
use super::script::{self, ScriptCheck};
use super::update::{TrackerKind, TrackerUpdate};
use crate::config::Config;
use crate::config::model::{TrackProcess, TrackRef};

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

/// Which runner: one per script and per file, one for all processes (they share a /proc
/// scan).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RunnerKey {
    Script(String),
    File(String),
    Processes,
}

/// What a runner was started with. A runner whose definition is equal after a reload is
/// kept, and with it what only the runner knows: a script's rise/fall count and the time of
/// its next run, a file's last value, a process count's fork/terminate delays. The
/// checker's `weight` and `reverse` are not part of it (the core applies them), so changing
/// a weight does not restart the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Definition {
    Script(ScriptCheck),
    /// A command that cannot be split never runs: reported failed once.
    Unrunnable {
        name: String,
        script: String,
        error: String,
    },
    File(FileCheck),
    Processes(Vec<TrackProcess>),
}

/// The runners `config` needs: only checkers that some instance or sync group references.
pub fn definitions(config: &Config, poll: PollIntervals) -> BTreeMap<RunnerKey, Definition> {
    let mut out = BTreeMap::new();
    let scripts = referenced(config, TrackerKind::Script);
    for s in config.scripts.iter().filter(|s| scripts.contains(&s.name)) {
        let def = match ScriptCheck::from_config(s, config.global.script_user.as_ref()) {
            Ok(check) => Definition::Script(check),
            Err(e) => Definition::Unrunnable {
                name: s.name.clone(),
                script: s.script.clone(),
                error: e.to_string(),
            },
        };
        out.insert(RunnerKey::Script(s.name.clone()), def);
    }
    let files = referenced(config, TrackerKind::File);
    for f in config
        .track_files
        .iter()
        .filter(|f| files.contains(&f.name))
    {
        out.insert(
            RunnerKey::File(f.name.clone()),
            Definition::File(FileCheck::from_config(f, poll.file)),
        );
    }
    let processes = referenced(config, TrackerKind::Process);
    let tracked: Vec<TrackProcess> = config
        .track_processes
        .iter()
        .filter(|p| processes.contains(&p.name) && ProcessCheck::from_config(p).is_some())
        // The core applies weights: a weight change keeps the runner.
        .map(|p| TrackProcess {
            weight: 0,
            reverse: false,
            ..p.clone()
        })
        .collect();
    if !tracked.is_empty() {
        out.insert(RunnerKey::Processes, Definition::Processes(tracked));
    }
    out
}

/// What a reload does to the runners: a changed definition is a stop and a start.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub keep: Vec<RunnerKey>,
    pub stop: Vec<RunnerKey>,
    pub start: Vec<RunnerKey>,
}

/// Decides which runners are kept, stopped and started (pure).
pub fn changes(
    old: &BTreeMap<RunnerKey, Definition>,
    new: &BTreeMap<RunnerKey, Definition>,
) -> Changes {
    let mut c = Changes::default();
    for (key, def) in old {
        match new.get(key) {
            Some(d) if d == def => c.keep.push(key.clone()),
            _ => c.stop.push(key.clone()),
        }
    }
    for (key, def) in new {
        if old.get(key) != Some(def) {
            c.start.push(key.clone());
        }
    }
    c
}

/// A runner task, aborted when dropped (a script being run is killed with its group).
#[derive(Debug)]
struct Runner(JoinHandle<()>);

impl Drop for Runner {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The running checkers, keyed by what they run. Every task ends when the receiver of `tx`
/// is dropped; dropping `Checkers` stops them at once.
#[derive(Debug)]
pub struct Checkers {
    tx: mpsc::Sender<TrackerUpdate>,
    poll: PollIntervals,
    running: BTreeMap<RunnerKey, (Definition, Runner)>,
}

impl Checkers {
    /// Starts the runners `config` needs, with the default poll intervals. Must be called
    /// inside a tokio runtime.
    pub fn start(config: &Config, tx: mpsc::Sender<TrackerUpdate>) -> Checkers {
        Self::start_with(config, tx, PollIntervals::default())
    }

    pub fn start_with(
        config: &Config,
        tx: mpsc::Sender<TrackerUpdate>,
        poll: PollIntervals,
    ) -> Checkers {
        let mut checkers = Checkers {
            tx,
            poll,
            running: BTreeMap::new(),
        };
        checkers.reload(config);
        checkers
    }

    /// Follows a new configuration: runners whose definition did not change keep running,
    /// removed or changed ones stop, new ones start. The core keeps the last state of every
    /// tracker still watched, so a kept or restarted checker does not make a priority blink.
    pub fn reload(&mut self, config: &Config) -> Changes {
        let mut wanted = definitions(config, self.poll);
        let old: BTreeMap<RunnerKey, Definition> = self
            .running
            .iter()
            .map(|(k, (d, _))| (k.clone(), d.clone()))
            .collect();
        let c = changes(&old, &wanted);
        for key in &c.stop {
            self.running.remove(key);
        }
        for key in &c.start {
            if let Some(def) = wanted.remove(key) {
                let task = self.spawn(&def);
                self.running.insert(key.clone(), (def, task));
            }
        }
        c
    }

    /// Stops every runner.
    pub fn stop_all(&mut self) {
        self.running.clear();
    }

    fn spawn(&self, def: &Definition) -> Runner {
        let tx = self.tx.clone();
        Runner(match def.clone() {
            Definition::Script(check) => tokio::spawn(script::run(check, tx)),
            Definition::Unrunnable { name, error, .. } => {
                tracing::error!(script = %name, %error, "track script is not runnable");
                tokio::spawn(async move {
                    let _ = tx.send(TrackerUpdate::script(name, false)).await;
                })
            }
            Definition::File(check) => tokio::spawn(file::run(check, tx)),
            Definition::Processes(tracked) => {
                let checks = tracked
                    .iter()
                    .filter_map(ProcessCheck::from_config)
                    .collect();
                tokio::spawn(process::run(checks, self.poll.process, tx))
            }
        })
    }
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
        let mut checkers = Checkers::start_with(
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
        checkers.stop_all();
    }

    const BASE: &str = r#"
vrrp_script kept {
    script "/bin/true"
    interval 5
    weight 10
}
vrrp_script changed {
    script "/bin/true"
    interval 5
}
vrrp_script removed {
    script "/bin/true"
}
vrrp_track_file tf {
    file "/nonexistent/vigil-tf"
    weight 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress { 192.0.2.1/24 }
    track_script {
        kept
        changed
        removed
    }
    track_file { tf }
}
"#;

    fn defs(text: &str) -> BTreeMap<RunnerKey, Definition> {
        definitions(&parse(text), PollIntervals::default())
    }

    fn script(name: &str) -> RunnerKey {
        RunnerKey::Script(name.into())
    }

    #[test]
    fn a_reload_keeps_unchanged_runners_and_restarts_only_changed_ones() {
        let old = defs(BASE);
        // The same file again: nothing stops, nothing starts.
        assert_eq!(
            changes(&old, &defs(BASE)),
            Changes {
                keep: old.keys().cloned().collect(),
                stop: vec![],
                start: vec![],
            }
        );
        let new = BASE
            // A weight is the core's business: the runner is kept.
            .replace("weight 10", "weight 20")
            .replace(
                "changed {\n    script \"/bin/true\"\n    interval 5",
                "changed {\n    script \"/bin/true\"\n    interval 6",
            )
            .replace("        removed\n    }", "        added\n    }")
            .replace(
                r#"vrrp_script removed"#,
                "vrrp_script added {\n    script \"/bin/false\"\n}\nvrrp_script removed",
            );
        assert_eq!(
            changes(&old, &defs(&new)),
            Changes {
                keep: vec![script("kept"), RunnerKey::File("tf".into())],
                stop: vec![script("changed"), script("removed")],
                start: vec![script("added"), script("changed")],
            }
        );
    }

    #[test]
    fn what_a_runner_uses_is_its_definition() {
        let old = defs(BASE);
        let restarted = |new: String| changes(&old, &defs(&new)).start;
        // The global script_user is the script's user: changing it restarts every script.
        let with_user = format!("global_defs {{ script_user nobody }}\n{BASE}");
        assert_eq!(
            restarted(with_user),
            vec![script("changed"), script("kept"), script("removed")]
        );
        assert_eq!(
            restarted(BASE.replace("/nonexistent/vigil-tf", "/nonexistent/other")),
            vec![RunnerKey::File("tf".into())]
        );
        // A process tracker's weight is the core's business too.
        let procs = |weight: i32| {
            defs(&format!(
                "vrrp_track_process tp {{\n    process sshd\n    weight {weight}\n}}\n\
                 vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 1\n    \
                 virtual_ipaddress {{ 192.0.2.1/24 }}\n    track_process {{ tp }}\n}}\n"
            ))
        };
        assert_eq!(
            changes(&procs(5), &procs(-5)).keep,
            vec![RunnerKey::Processes]
        );
        // An unreferenced checker has no runner.
        assert_eq!(
            changes(
                &old,
                &defs(&BASE.replace("        changed\n        removed\n", ""))
            )
            .stop,
            vec![script("changed"), script("removed")]
        );
    }

    /// Applied to running tasks: a kept runner is the same task (not run again at once: a
    /// new script runner runs its command immediately), a stopped one ends.
    #[tokio::test]
    async fn reload_keeps_the_task_of_an_unchanged_runner() {
        let (tx, _rx) = mpsc::channel(16);
        let config = parse(BASE);
        let mut checkers = Checkers::start(&config, tx);
        let id = |c: &Checkers, name: &str| c.running.get(&script(name)).map(|(_, r)| r.0.id());
        let (kept, changed) = (id(&checkers, "kept"), id(&checkers, "changed"));
        let c = checkers.reload(&parse(&BASE.replace("interval 5\n}", "interval 7\n}")));
        assert_eq!(c.start, vec![script("changed")]);
        assert_eq!(
            id(&checkers, "kept"),
            kept,
            "an unchanged runner was restarted"
        );
        assert_ne!(id(&checkers, "changed"), changed);
        let without = BASE.replace("        kept\n        changed\n        removed\n", "");
        let c = checkers.reload(&parse(&without.replace("    track_file { tf }\n", "")));
        assert_eq!(c.stop.len(), 4);
        assert!(checkers.running.is_empty());
    }
}
