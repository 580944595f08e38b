//! `enable_script_security` and `script_user`, as keepalived 2.2+ applies them: every script
//! a configuration could run is looked at when it is loaded (at start and at every reload,
//! and by `vigil check`), and the ones keepalived would not run are removed from the model,
//! each with a warning at its `file:line`. What runs afterwards never sees them.
//!
//! Who runs a script (keepalived's `set_default_script_user` / `notify_script_init`,
//! lib/notify.c): its own `user`, else `script_user`, else the user `keepalived_script` if it
//! exists. Otherwise root, with a warning; but under `enable_script_security` keepalived
//! refuses that fallback and ignores every script without a user of its own. A user or group
//! that does not exist disables the scripts that name it.
//!
//! What a disabled script means (keepalived's `check_vrrp_script_security`, vrrp/vrrp.c): a
//! notify script simply does not run; a `vrrp_script` is marked insecure, removed from the
//! `track_script` list of every instance and sync group, and freed. The instances carry on
//! as if they did not track it: no weight, no FAULT. vigil follows that rule.
//!
//! The file checks themselves are in [`crate::script_perms`].

use super::diagnostic::{Diagnostic, SourceMap};
use super::model::{Config, Notify, NotifyScript, RunAs};
use crate::script_perms::{self, NotRunnable, RunIds, Runnable};

/// keepalived's default script user.
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// User and group look-ups (the system's, or a test's).
pub trait Accounts {
    /// Uid and primary gid of `name`.
    fn user(&self, name: &str) -> Option<RunIds>;
    fn group(&self, name: &str) -> Option<u32>;
}

/// The system's users and groups (NSS).
pub struct SystemAccounts;

impl Accounts for SystemAccounts {
    fn user(&self, name: &str) -> Option<RunIds> {
        nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .map(|u| RunIds {
                uid: u.uid.as_raw(),
                gid: u.gid.as_raw(),
            })
    }

    fn group(&self, name: &str) -> Option<u32> {
        nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    }
}

/// How a script's program is checked (the filesystem's walk, or a test's).
pub type Checker<'a> = &'a dyn Fn(&str, RunIds) -> Result<Runnable, NotRunnable>;

/// The real check: [`script_perms::check`] with the daemon's `PATH`.
pub fn system_check(program: &str, ids: RunIds) -> Result<Runnable, NotRunnable> {
    let path = std::env::var("PATH").unwrap_or_else(|_| script_perms::DEFAULT_PATH.to_string());
    script_perms::check(program, ids, &path)
}

/// Audits every script of `config` against the system, removing those that must not run.
pub fn secure(config: &mut Config, map: &SourceMap) -> Vec<Diagnostic> {
    audit(config, map, &SystemAccounts, &system_check)
}

/// One script of the configuration: where it is and how to remove it.
enum Slot {
    Track(usize),
    InstanceNotify(usize, &'static str),
    GroupNotify(usize, &'static str),
    Fifo,
}

struct Found {
    slot: Slot,
    /// The model path of the keyword, for its file:line.
    path: String,
    /// How the warning names it: "vrrp_script `chk`", "notify_master of instance `VI_1`".
    what: String,
    command: String,
    user: Option<RunAs>,
}

/// [`secure`] with the look-ups and the file check given.
pub fn audit(
    config: &mut Config,
    map: &SourceMap,
    accounts: &dyn Accounts,
    check: Checker<'_>,
) -> Vec<Diagnostic> {
    let security = config.global.enable_script_security;
    let mut out = Vec::new();
    let scripts = collect(config);
    if scripts.is_empty() {
        return out;
    }
    let global_pos = |key: &str| map.locate(&format!("global.{key}"));

    // The default user, resolved once (keepalived: set_default_script_user).
    let default: Result<RunIds, String> = match &config.global.script_user {
        Some(u) => resolve(u, accounts),
        None => match accounts.user(DEFAULT_SCRIPT_USER) {
            Some(ids) => {
                // Those runners read `script_user`: make the default explicit for them.
                config.global.script_user = Some(RunAs {
                    user: DEFAULT_SCRIPT_USER.into(),
                    group: None,
                });
                Ok(ids)
            }
            None if security => Err(format!(
                "user `{DEFAULT_SCRIPT_USER}` does not exist and `script_user` is not set: enable_script_security refuses to run scripts as root"
            )),
            None => Ok(RunIds::ROOT),
        },
    };
    let mut uses_root_fallback = false;
    let mut disabled: Vec<Slot> = Vec::new();
    for s in scripts {
        let pos = map.locate(&s.path);
        let ids = match &s.user {
            Some(u) => resolve(u, accounts),
            None => {
                if config.global.script_user.is_none() && default.is_ok() {
                    uses_root_fallback = true;
                }
                default.clone()
            }
        };
        let ids = match ids {
            Ok(ids) => ids,
            Err(why) => {
                out.push(Diagnostic::warning(
                    pos,
                    format!("{}: {why}; the script is disabled", s.what),
                ));
                disabled.push(s.slot);
                continue;
            }
        };
        // A command that does not split is reported by planning; nothing to look at here.
        let Some(program) = crate::notify::split_command(&s.command)
            .ok()
            .and_then(|argv| argv.into_iter().next())
        else {
            continue;
        };
        match check(&program, ids) {
            Ok(r) => {
                if let Some(found) = &r.searched {
                    out.push(Diagnostic::warning(
                        pos.clone(),
                        format!(
                            "{}: `{program}` resolved by PATH search to {}: give the full path",
                            s.what,
                            found.display()
                        ),
                    ));
                }
                if let Some(u) = r.unsafe_path {
                    let verdict = if security {
                        disabled.push(s.slot);
                        "disabled by enable_script_security"
                    } else {
                        "enable_script_security would disable it"
                    };
                    out.push(Diagnostic::warning(
                        pos,
                        format!("{}: {u}; {verdict}", s.what),
                    ));
                }
            }
            Err(e) => {
                out.push(Diagnostic::warning(
                    pos,
                    format!("{}: {e}; the script is disabled", s.what),
                ));
                disabled.push(s.slot);
            }
        }
    }
    if uses_root_fallback {
        out.push(Diagnostic::warning(
            global_pos("script_user"),
            format!("scripts without a user run as root: user `{DEFAULT_SCRIPT_USER}` does not exist and `script_user` is not set (create the user or set script_user)"),
        ));
    }
    if !security {
        // keepalived: "SECURITY VIOLATION - scripts are being executed but script_security
        // not enabled".
        out.push(Diagnostic::warning(
            global_pos("enable_script_security"),
            "scripts are run but enable_script_security is not set: a script that a non-root user can modify would run with the daemon's privileges",
        ));
    }
    remove(config, disabled);
    out
}

fn resolve(u: &RunAs, accounts: &dyn Accounts) -> Result<RunIds, String> {
    let mut ids = accounts
        .user(&u.user)
        .ok_or_else(|| format!("script user `{}` does not exist", u.user))?;
    if let Some(g) = &u.group {
        ids.gid = accounts
            .group(g)
            .ok_or_else(|| format!("script group `{g}` does not exist"))?;
    }
    Ok(ids)
}

const NOTIFY_FIELDS: [&str; 7] = [
    "master",
    "backup",
    "fault",
    "stop",
    "deleted",
    "any",
    "master_rx_lower_pri",
];

fn notify_field<'a>(n: &'a mut Notify, field: &str) -> Option<&'a mut Option<NotifyScript>> {
    Some(match field {
        "master" => &mut n.master,
        "backup" => &mut n.backup,
        "fault" => &mut n.fault,
        "stop" => &mut n.stop,
        "deleted" => &mut n.deleted,
        "any" => &mut n.any,
        "master_rx_lower_pri" => &mut n.master_rx_lower_pri,
        _ => return None,
    })
}

/// keepalived's keyword for a notify field.
fn keyword(field: &str) -> String {
    if field == "any" {
        "notify".into()
    } else {
        format!("notify_{field}")
    }
}

fn notify_user(s: &NotifyScript) -> Option<RunAs> {
    s.user.clone().map(|user| RunAs {
        user,
        group: s.group.clone(),
    })
}

fn collect(config: &mut Config) -> Vec<Found> {
    let mut found = Vec::new();
    for (k, s) in config.scripts.iter().enumerate() {
        found.push(Found {
            slot: Slot::Track(k),
            path: format!("scripts.{k}.script"),
            what: format!("vrrp_script `{}`", s.name),
            command: s.script.clone(),
            user: s.user.clone(),
        });
    }
    for (i, inst) in config.instances.iter_mut().enumerate() {
        for field in NOTIFY_FIELDS {
            if let Some(Some(s)) = notify_field(&mut inst.notify, field).map(|f| &*f) {
                found.push(Found {
                    slot: Slot::InstanceNotify(i, field),
                    path: format!("instances.{i}.notify.{field}"),
                    what: format!("{} of instance `{}`", keyword(field), inst.name),
                    command: s.command.clone(),
                    user: notify_user(s),
                });
            }
        }
    }
    for (g, group) in config.sync_groups.iter_mut().enumerate() {
        for field in NOTIFY_FIELDS {
            if let Some(Some(s)) = notify_field(&mut group.notify, field).map(|f| &*f) {
                found.push(Found {
                    slot: Slot::GroupNotify(g, field),
                    path: format!("sync_groups.{g}.notify.{field}"),
                    what: format!("{} of vrrp_sync_group `{}`", keyword(field), group.name),
                    command: s.command.clone(),
                    user: notify_user(s),
                });
            }
        }
    }
    if let Some(s) = config
        .global
        .notify_fifo
        .as_ref()
        .and_then(|f| f.script.as_ref())
    {
        found.push(Found {
            slot: Slot::Fifo,
            path: "global.notify_fifo.script".into(),
            what: "notify_fifo_script".into(),
            command: s.command.clone(),
            user: notify_user(s),
        });
    }
    found
}

fn remove(config: &mut Config, slots: Vec<Slot>) {
    let mut dead_scripts = Vec::new();
    for slot in slots {
        match slot {
            Slot::Track(k) => {
                if let Some(s) = config.scripts.get(k) {
                    dead_scripts.push(s.name.clone());
                }
            }
            Slot::InstanceNotify(i, field) => {
                if let Some(f) = config
                    .instances
                    .get_mut(i)
                    .and_then(|inst| notify_field(&mut inst.notify, field))
                {
                    *f = None;
                }
            }
            Slot::GroupNotify(g, field) => {
                if let Some(f) = config
                    .sync_groups
                    .get_mut(g)
                    .and_then(|grp| notify_field(&mut grp.notify, field))
                {
                    *f = None;
                }
            }
            Slot::Fifo => {
                if let Some(f) = config.global.notify_fifo.as_mut() {
                    f.script = None;
                }
            }
        }
    }
    // keepalived frees the script and removes it from every track_script list naming it.
    config.scripts.retain(|s| !dead_scripts.contains(&s.name));
    for inst in &mut config.instances {
        inst.track_scripts
            .retain(|t| !dead_scripts.contains(&t.name));
    }
    for g in &mut config.sync_groups {
        g.track_scripts.retain(|t| !dead_scripts.contains(&t.name));
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::script_perms::Unsafe;

    /// Users: root, nobody (65534) and, when asked, keepalived_script (999).
    struct Fake {
        keepalived_script: bool,
    }

    impl Accounts for Fake {
        fn user(&self, name: &str) -> Option<RunIds> {
            match name {
                "root" => Some(RunIds::ROOT),
                "nobody" => Some(RunIds {
                    uid: 65534,
                    gid: 65534,
                }),
                DEFAULT_SCRIPT_USER if self.keepalived_script => {
                    Some(RunIds { uid: 999, gid: 999 })
                }
                _ => None,
            }
        }
        fn group(&self, name: &str) -> Option<u32> {
            (name == "nogroup").then_some(65534)
        }
    }

    /// Programs under /unsafe/ are unsafe for root, /missing/ do not exist, anything else is
    /// fine. Every call is recorded with the ids it was made for.
    fn fake_check(
        calls: &std::cell::RefCell<Vec<(String, RunIds)>>,
    ) -> impl Fn(&str, RunIds) -> Result<Runnable, NotRunnable> + '_ {
        move |program, ids| {
            calls.borrow_mut().push((program.to_string(), ids));
            if program.starts_with("/missing/") {
                return Err(NotRunnable::NotFound {
                    path: program.into(),
                    reason: "No such file or directory".into(),
                });
            }
            let unsafe_path = (program.starts_with("/unsafe/") && ids.uid == 0).then(|| Unsafe {
                script: program.into(),
                component: PathBuf::from("/unsafe"),
                why: "world-writable (mode 0777)".into(),
            });
            Ok(Runnable {
                resolved: program.into(),
                searched: None,
                unsafe_path,
            })
        }
    }

    const INSTANCE: &str = r#"
vrrp_script chk_bad {
    script "/unsafe/check.sh"
}
vrrp_script chk_good {
    script "/safe/check.sh"
}
vrrp_sync_group G {
    group { VI_1 }
    track_script { chk_bad }
    notify_master /unsafe/group.sh
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress { 192.0.2.1/24 }
    track_script {
        chk_bad
        chk_good
    }
    notify_master /unsafe/master.sh
    notify_backup /safe/backup.sh
}
"#;

    fn run(global: &str, keepalived_script: bool) -> (Config, Vec<String>, Vec<(String, RunIds)>) {
        let text = format!("global_defs {{\n{global}\n}}\n{INSTANCE}");
        let (mut config, map, diags) =
            crate::config::keepalived::load_text(&text, Path::new("k.conf"), "x");
        assert!(diags.is_empty(), "{diags:?}");
        let calls = std::cell::RefCell::new(Vec::new());
        let out = audit(
            &mut config,
            &map,
            &Fake { keepalived_script },
            &fake_check(&calls),
        );
        let out = out.iter().map(ToString::to_string).collect();
        (config, out, calls.into_inner())
    }

    fn names(config: &Config) -> (Vec<&str>, Vec<&str>, Vec<&str>) {
        (
            config.scripts.iter().map(|s| s.name.as_str()).collect(),
            config.instances[0]
                .track_scripts
                .iter()
                .map(|t| t.name.as_str())
                .collect(),
            config.sync_groups[0]
                .track_scripts
                .iter()
                .map(|t| t.name.as_str())
                .collect(),
        )
    }

    #[test]
    fn security_disables_unsafe_scripts_and_untracks_them_with_their_line() {
        let (config, out, _) = run("    script_user root\n    enable_script_security", false);
        // The check script is gone from the model and from every list that tracked it.
        assert_eq!(names(&config), (vec!["chk_good"], vec!["chk_good"], vec![]));
        let n = &config.instances[0].notify;
        assert_eq!(n.master, None);
        assert!(n.backup.is_some());
        assert_eq!(config.sync_groups[0].notify.master, None);
        let bad = out
            .iter()
            .find(|w| w.contains("vrrp_script `chk_bad`"))
            .expect("chk_bad reported");
        // Line 7 is chk_bad's `script` line (4 lines of global_defs, then a blank one).
        assert!(bad.starts_with("k.conf:7:"), "{bad}");
        assert!(bad.contains("unsafe permissions found for script /unsafe/check.sh: /unsafe is world-writable (mode 0777); disabled by enable_script_security"), "{bad}");
        assert!(
            out.iter()
                .any(|w| w.contains("notify_master of instance `VI_1`") && w.contains("disabled")),
            "{out:#?}"
        );
        assert!(
            out.iter()
                .any(|w| w.contains("notify_master of vrrp_sync_group `G`")),
            "{out:#?}"
        );
        assert_eq!(out.len(), 3, "{out:#?}");
    }

    #[test]
    fn without_security_unsafe_scripts_run_and_are_warned_about() {
        let (config, out, _) = run("    script_user root", false);
        assert_eq!(
            names(&config),
            (
                vec!["chk_bad", "chk_good"],
                vec!["chk_bad", "chk_good"],
                vec!["chk_bad"]
            )
        );
        assert!(config.instances[0].notify.master.is_some());
        assert!(
            out.iter()
                .any(|w| w.contains("enable_script_security would disable it"))
        );
        assert!(
            out.iter()
                .any(|w| w.contains("enable_script_security is not set"))
        );
    }

    #[test]
    fn security_without_a_script_user_refuses_root() {
        // keepalived: set_default_script_user fails, every script without its own user is
        // ignored ("Failed to set default user").
        let (config, out, calls) = run("    enable_script_security", false);
        assert_eq!(names(&config), (vec![], vec![], vec![]));
        assert_eq!(config.instances[0].notify, Notify::default());
        assert!(calls.is_empty(), "nothing to check: {calls:?}");
        assert!(
            out.iter()
                .all(|w| w.contains("refuses to run scripts as root")),
            "{out:#?}"
        );
    }

    #[test]
    fn without_security_and_without_a_user_scripts_run_as_root_with_a_warning() {
        let (config, out, calls) = run("", false);
        assert_eq!(config.global.script_user, None);
        assert!(calls.iter().all(|(_, ids)| *ids == RunIds::ROOT));
        assert!(
            out.iter()
                .any(|w| w.contains("scripts without a user run as root"))
        );
    }

    #[test]
    fn keepalived_script_is_the_default_user_when_it_exists() {
        let (config, out, calls) = run("    enable_script_security", true);
        assert_eq!(
            config.global.script_user.as_ref().map(|u| u.user.as_str()),
            Some(DEFAULT_SCRIPT_USER)
        );
        assert!(calls.iter().all(|(_, ids)| ids.uid == 999), "{calls:?}");
        // Not root: keepalived does not walk the path of a script that runs unprivileged.
        assert_eq!(names(&config).0, vec!["chk_bad", "chk_good"]);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn a_missing_user_or_script_disables_only_that_script() {
        let text = format!(
            "global_defs {{\n    script_user nobody\n}}\n{}",
            INSTANCE
                .replace(
                    "/safe/check.sh\"",
                    "/safe/check.sh\"\n    user no-such-user"
                )
                .replace("/safe/backup.sh", "/missing/backup.sh")
        );
        let (mut config, map, _) =
            crate::config::keepalived::load_text(&text, Path::new("k.conf"), "x");
        let calls = std::cell::RefCell::new(Vec::new());
        let out = audit(
            &mut config,
            &map,
            &Fake {
                keepalived_script: false,
            },
            &fake_check(&calls),
        );
        let out: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(names(&config).0, vec!["chk_bad"]);
        assert_eq!(config.instances[0].notify.backup, None);
        assert!(
            out.iter()
                .any(|w| w.contains("script user `no-such-user` does not exist"))
        );
        assert!(
            out.iter()
                .any(|w| w.contains("cannot access /missing/backup.sh"))
        );
    }
}
