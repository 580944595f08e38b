//! Which commands a transition runs, and with which arguments: keepalived's convention.
//!
//! keepalived runs the state-specific script (`notify_master`, `notify_backup`,
//! `notify_fault`, `notify_stop`) with exactly its configured arguments, and then the generic
//! `notify` script with four arguments appended: `INSTANCE|GROUP`, the name, the target state
//! in upper case, and the priority (keepalived.conf(5), "notify" under vrrp_instance).

use serde::{Deserialize, Serialize};

/// The state a notification announces, spelled as keepalived spells it to scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotifyState {
    Master,
    Backup,
    Fault,
    Stop,
    Deleted,
}

impl NotifyState {
    pub const fn as_keepalived(self) -> &'static str {
        match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
            NotifyState::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Instance,
    Group,
}

impl Scope {
    pub const fn as_keepalived(self) -> &'static str {
        match self {
            Scope::Instance => "INSTANCE",
            Scope::Group => "GROUP",
        }
    }
}

/// One configured script: its argv (already split) and the user/group to run it as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    pub argv: Vec<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// The scripts configured for one instance or sync group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyScripts {
    pub master: Option<Script>,
    pub backup: Option<Script>,
    pub fault: Option<Script>,
    pub stop: Option<Script>,
    /// Run on every transition, after the state-specific script, with four extra arguments.
    pub any: Option<Script>,
}

impl NotifyScripts {
    /// No script at all (what an instance or group without scripts runs).
    pub const NONE: NotifyScripts = NotifyScripts {
        master: None,
        backup: None,
        fault: None,
        stop: None,
        any: None,
    };
}

/// A transition to announce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub scope: Scope,
    pub name: String,
    pub state: NotifyState,
    pub priority: u8,
}

impl Notification {
    /// The line keepalived writes to its notify fifo: `INSTANCE "VI_1" MASTER 100`.
    pub fn fifo_line(&self) -> String {
        format!(
            "{} \"{}\" {} {}\n",
            self.scope.as_keepalived(),
            self.name,
            self.state.as_keepalived(),
            self.priority
        )
    }
}

/// The line keepalived writes to its notify fifo when `notify_priority_changes` is on and an
/// instance's effective priority changes (vrrp_notify.c `send_instance_priority_notifies`):
/// `INSTANCE "VI_1" MASTER_PRIORITY 90` while Master, `BACKUP_PRIORITY` in any other state.
/// No notify script runs for it.
pub fn priority_fifo_line(name: &str, master: bool, priority: u8) -> String {
    let event = if master {
        "MASTER_PRIORITY"
    } else {
        "BACKUP_PRIORITY"
    };
    format!("INSTANCE \"{name}\" {event} {priority}\n")
}

/// The commands to run, in order, for `n`.
pub fn commands_for(scripts: &NotifyScripts, n: &Notification) -> Vec<Script> {
    let specific = match n.state {
        NotifyState::Master => scripts.master.as_ref(),
        NotifyState::Backup => scripts.backup.as_ref(),
        // keepalived reports a deleted instance through the fault script unless
        // notify_deleted is set; vigil follows the default.
        NotifyState::Fault | NotifyState::Deleted => scripts.fault.as_ref(),
        NotifyState::Stop => scripts.stop.as_ref(),
    };
    let mut out: Vec<Script> = specific.cloned().into_iter().collect();
    if let Some(any) = &scripts.any {
        let mut generic = any.clone();
        generic.argv.extend([
            n.scope.as_keepalived().to_string(),
            n.name.clone(),
            n.state.as_keepalived().to_string(),
            n.priority.to_string(),
        ]);
        out.push(generic);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(argv: &[&str]) -> Script {
        Script {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            user: None,
            group: None,
        }
    }

    fn note(state: NotifyState) -> Notification {
        Notification {
            scope: Scope::Instance,
            name: "VI_1".into(),
            state,
            priority: 150,
        }
    }

    #[test]
    fn specific_script_runs_with_its_own_arguments_then_generic_gets_four_more() {
        let scripts = NotifyScripts {
            master: Some(script(&["/etc/k/master.sh", "arg"])),
            any: Some(script(&["/etc/k/notify.sh", "x"])),
            ..Default::default()
        };
        let cmds = commands_for(&scripts, &note(NotifyState::Master));
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].argv, ["/etc/k/master.sh", "arg"]);
        assert_eq!(
            cmds[1].argv,
            ["/etc/k/notify.sh", "x", "INSTANCE", "VI_1", "MASTER", "150"]
        );
    }

    #[test]
    fn states_without_a_script_run_only_the_generic_one() {
        let scripts = NotifyScripts {
            any: Some(script(&["/n"])),
            ..Default::default()
        };
        let cmds = commands_for(&scripts, &note(NotifyState::Backup));
        assert_eq!(cmds.len(), 1);
        assert_eq!(cmds[0].argv[3], "BACKUP");
    }

    #[test]
    fn deleted_instance_runs_the_fault_script() {
        let scripts = NotifyScripts {
            fault: Some(script(&["/f"])),
            ..Default::default()
        };
        assert_eq!(
            commands_for(&scripts, &note(NotifyState::Deleted))[0].argv,
            ["/f"]
        );
    }

    #[test]
    fn fifo_line_matches_keepalived() {
        assert_eq!(
            note(NotifyState::Fault).fifo_line(),
            "INSTANCE \"VI_1\" FAULT 150\n"
        );
    }

    #[test]
    fn priority_change_fifo_lines_are_keepaliveds() {
        // keepalived vrrp_notify.c: MASTER_PRIORITY while Master, BACKUP_PRIORITY otherwise.
        assert_eq!(
            super::priority_fifo_line("VI_1", true, 90),
            "INSTANCE \"VI_1\" MASTER_PRIORITY 90\n"
        );
        assert_eq!(
            super::priority_fifo_line("VI_1", false, 150),
            "INSTANCE \"VI_1\" BACKUP_PRIORITY 150\n"
        );
    }
}
