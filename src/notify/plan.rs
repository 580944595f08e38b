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
    /// Removed by a reload, with keepalived's `notify_deleted` set (without it, the removal
    /// is announced as FAULT).
    Deleted,
    /// Not a state: a Master heard a lower priority (keepalived's `MASTER_RX_LOWER_PRI`
    /// event). Only `notify_master_rx_lower_pri` runs for it, with its own arguments.
    MasterRxLowerPri,
}

impl NotifyState {
    pub const fn as_keepalived(self) -> &'static str {
        match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
            NotifyState::Deleted => "DELETED",
            NotifyState::MasterRxLowerPri => "MASTER_RX_LOWER_PRI",
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
    /// `notify_deleted SCRIPT`: run when a reload removes the instance.
    pub deleted: Option<Script>,
    /// keepalived's `notify_deleted` (with or without a script): a reload's removal is
    /// announced as DELETED instead of FAULT.
    pub notify_deleted: bool,
    /// `notify_master_rx_lower_pri`: run, with its own arguments only, each time the Master
    /// hears a lower priority.
    pub master_rx_lower_pri: Option<Script>,
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
        deleted: None,
        notify_deleted: false,
        master_rx_lower_pri: None,
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
    /// The queue its scripts wait in. keepalived forks each script at once; vigil queues
    /// per instance so that they run in order, and keeps the lower-priority event (which a
    /// rogue Master may cause every advert interval) in a queue of its own, so that it can
    /// never supersede a waiting MASTER or BACKUP script.
    pub fn queue_key(&self) -> String {
        match self.state {
            NotifyState::MasterRxLowerPri => format!(
                "{}:{}:{}",
                self.scope.as_keepalived(),
                self.name,
                self.state.as_keepalived()
            ),
            _ => format!("{}:{}", self.scope.as_keepalived(), self.name),
        }
    }

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
        NotifyState::Fault => scripts.fault.as_ref(),
        NotifyState::Stop => scripts.stop.as_ref(),
        // Announced only with notify_deleted set (the core announces FAULT otherwise, as
        // keepalived's vrrp_notify.c `send_instance_notifies` does).
        NotifyState::Deleted => scripts.deleted.as_ref(),
        // keepalived's `send_event_notify`: the event's own script, and no generic `notify`.
        NotifyState::MasterRxLowerPri => {
            return scripts.master_rx_lower_pri.iter().cloned().collect();
        }
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
    fn deleted_runs_the_deleted_script_then_generic_with_deleted() {
        let scripts = NotifyScripts {
            fault: Some(script(&["/f"])),
            deleted: Some(script(&["/d", "x"])),
            notify_deleted: true,
            any: Some(script(&["/n"])),
            ..Default::default()
        };
        let cmds = commands_for(&scripts, &note(NotifyState::Deleted));
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].argv, ["/d", "x"]);
        assert_eq!(cmds[1].argv, ["/n", "INSTANCE", "VI_1", "DELETED", "150"]);
    }

    #[test]
    fn master_rx_lower_pri_runs_its_script_alone_in_its_own_queue() {
        let scripts = NotifyScripts {
            master: Some(script(&["/m"])),
            master_rx_lower_pri: Some(script(&["/low", "a b"])),
            any: Some(script(&["/n"])),
            ..Default::default()
        };
        let n = note(NotifyState::MasterRxLowerPri);
        let cmds = commands_for(&scripts, &n);
        assert_eq!(cmds.len(), 1);
        assert_eq!(cmds[0].argv, ["/low", "a b"]);
        assert_eq!(n.fifo_line(), "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150\n");
        assert_ne!(n.queue_key(), note(NotifyState::Master).queue_key());
        assert!(commands_for(&NotifyScripts::default(), &n).is_empty());
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
