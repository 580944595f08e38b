//! Recording and replaying the core's input stream.
//!
//! `vigil run --record-events FILE` writes every [`CoreInput`] with the time the core saw it,
//! one JSON object per line. `vigil replay FILE` feeds the same stream to a fresh core with
//! [`RecordingEffects`] and prints what it decided: since the core is pure, that is what the
//! daemon decided, transition for transition.
//!
//! The recording holds the prepared configuration, authentication keys included: it is
//! created with mode 0600.

use std::fmt;
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cause::Cause;
use super::core::{Core, Effects, Transition};
use super::input::{CoreInput, GroupPlan};
use super::plan::{InstancePlan, Routing};
use super::receive::RxTable;
use super::slot::TxState;
use crate::fsm::{State, Time};
use crate::net::AddressSpec;
use crate::notify::NotifyState;
use crate::types::Priority;

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Microseconds since the daemon started.
    pub at: Time,
    pub input: CoreInput,
}

/// Writes the input stream to a file, flushed line by line (a crash loses nothing before it).
pub struct Recorder {
    out: std::io::BufWriter<std::fs::File>,
}

impl Recorder {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        Ok(Self {
            out: std::io::BufWriter::new(file),
        })
    }

    pub fn record(&mut self, at: Time, input: &CoreInput) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct RecordRef<'a> {
            at: Time,
            input: &'a CoreInput,
        }
        serde_json::to_writer(&mut self.out, &RecordRef { at, input })?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// One decision of the core, as a test or a replay sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Advert {
        instance: String,
        priority: u8,
    },
    Install {
        instance: String,
        addresses: Vec<IpAddr>,
    },
    AcceptMode {
        instance: String,
        refuse: bool,
    },
    Remove {
        instance: String,
        addresses: Vec<IpAddr>,
    },
    /// Routes and rules added (`up`) or removed, counted.
    Routing {
        instance: String,
        up: bool,
        routes: usize,
        rules: usize,
    },
    Announce {
        instance: String,
        count: u8,
    },
    Transition {
        instance: String,
        from: State,
        to: State,
        reason: Cause,
        priority: u8,
    },
    Notify {
        instance: String,
        state: NotifyState,
        priority: u8,
    },
    /// keepalived `notify_priority_changes`: the FIFO's `MASTER_PRIORITY` /
    /// `BACKUP_PRIORITY` line.
    PriorityNotify {
        instance: String,
        master: bool,
        priority: u8,
    },
    /// A sync group's notification (keepalived's priority for a group is always 0).
    GroupNotify {
        group: String,
        state: NotifyState,
    },
    Bind {
        generation: u64,
        sockets: usize,
        vmacs: Vec<String>,
    },
    /// The instance's source address became usable: bind its socket to it.
    SourceReady {
        instance: String,
    },
    /// Plan the configuration again: `interface` appeared or has a new index.
    Replan {
        interface: String,
    },
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |a: &[IpAddr]| {
            a.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Effect::Advert { instance, priority } => {
                write!(f, "{instance} advert priority={priority}")
            }
            Effect::Install {
                instance,
                addresses,
            } => write!(f, "{instance} install {}", list(addresses)),
            Effect::Remove {
                instance,
                addresses,
            } => write!(f, "{instance} remove {}", list(addresses)),
            Effect::Announce { instance, count } => write!(f, "{instance} announce count={count}"),
            Effect::Routing {
                instance,
                up,
                routes,
                rules,
            } => write!(
                f,
                "{instance} {} routes={routes} rules={rules}",
                if *up { "add-routing" } else { "remove-routing" }
            ),
            Effect::SourceReady { instance } => write!(f, "{instance} source ready"),
            Effect::AcceptMode { instance, refuse } => {
                write!(f, "{instance} accept mode refuse={refuse}")
            }
            Effect::Replan { interface } => write!(f, "replan interface={interface}"),
            Effect::Transition {
                instance,
                from,
                to,
                reason,
                priority,
            } => write!(
                f,
                "{instance} transition {from} -> {to} reason=\"{reason}\" priority={priority}"
            ),
            Effect::Notify {
                instance,
                state,
                priority,
            } => write!(f, "{instance} notify {state:?} priority={priority}"),
            Effect::PriorityNotify {
                instance,
                master,
                priority,
            } => write!(
                f,
                "{instance} priority notify {} priority={priority}",
                if *master {
                    "MASTER_PRIORITY"
                } else {
                    "BACKUP_PRIORITY"
                }
            ),
            Effect::GroupNotify { group, state } => write!(f, "group {group} notify {state:?}"),
            Effect::Bind {
                generation,
                sockets,
                vmacs,
            } => write!(
                f,
                "bind generation={generation} sockets={sockets} vmacs={}",
                vmacs.join(",")
            ),
        }
    }
}

/// Effects that only remember what they were asked to do.
#[derive(Debug, Clone, Default)]
pub struct RecordingEffects {
    pub effects: Vec<Effect>,
}

impl RecordingEffects {
    /// Takes what was recorded so far.
    pub fn take(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}

fn addrs(plan: &InstancePlan, only: Option<&[AddressSpec]>) -> Vec<IpAddr> {
    only.unwrap_or(&plan.vips).iter().map(|s| s.addr).collect()
}

impl Effects for RecordingEffects {
    fn send_advert(&mut self, plan: &InstancePlan, tx: &mut TxState, priority: Priority) {
        tx.next_ipv4();
        self.effects.push(Effect::Advert {
            instance: plan.name().to_owned(),
            priority: priority.get(),
        });
    }

    fn install(&mut self, plan: &Arc<InstancePlan>, only: Option<&[AddressSpec]>) {
        self.effects.push(Effect::Install {
            instance: plan.name().to_owned(),
            addresses: addrs(plan, only),
        });
    }

    fn routing(&mut self, plan: &Arc<InstancePlan>, up: bool, only: Option<&Routing>) {
        let r = only.or(plan.routing.as_deref());
        self.effects.push(Effect::Routing {
            instance: plan.name().to_owned(),
            up,
            routes: r.map_or(0, |r| r.routes.len()),
            rules: r.map_or(0, |r| r.rules.len()),
        });
    }

    fn remove(&mut self, plan: &Arc<InstancePlan>, only: Option<&[AddressSpec]>) {
        self.effects.push(Effect::Remove {
            instance: plan.name().to_owned(),
            addresses: addrs(plan, only),
        });
    }

    fn accept_mode(&mut self, plan: &Arc<InstancePlan>, refuse: bool) {
        self.effects.push(Effect::AcceptMode {
            instance: plan.name().to_owned(),
            refuse,
        });
    }

    fn announce(&mut self, plan: &Arc<InstancePlan>, count: u8) {
        self.effects.push(Effect::Announce {
            instance: plan.name().to_owned(),
            count,
        });
    }

    fn transition(&mut self, plan: &InstancePlan, t: Transition) {
        self.effects.push(Effect::Transition {
            instance: plan.name().to_owned(),
            from: t.from,
            to: t.to,
            reason: t.reason,
            priority: t.priority.get(),
        });
    }

    fn notify(&mut self, plan: &InstancePlan, state: NotifyState, priority: Priority) {
        self.effects.push(Effect::Notify {
            instance: plan.name().to_owned(),
            state,
            priority: priority.get(),
        });
    }

    fn priority_changed(&mut self, plan: &InstancePlan, master: bool, priority: Priority) {
        self.effects.push(Effect::PriorityNotify {
            instance: plan.name().to_owned(),
            master,
            priority: priority.get(),
        });
    }

    fn notify_group(&mut self, group: &GroupPlan, state: NotifyState) {
        self.effects.push(Effect::GroupNotify {
            group: group.name.clone(),
            state,
        });
    }

    fn source_ready(&mut self, plan: &InstancePlan) {
        self.effects.push(Effect::SourceReady {
            instance: plan.name().to_owned(),
        });
    }

    fn replan(&mut self, interface: &str) {
        self.effects.push(Effect::Replan {
            interface: interface.to_owned(),
        });
    }

    fn bind(&mut self, table: &RxTable) {
        self.effects.push(Effect::Bind {
            generation: table.generation,
            sockets: table.sockets.len(),
            vmacs: table.vmacs.iter().cloned().collect(),
        });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a recorded input: {source}")]
    Parse {
        path: String,
        line: usize,
        source: serde_json::Error,
    },
}

/// Feeds a recording to a fresh core and writes one line per decision, each with the time of
/// the input that caused it (seconds since the daemon started). With `transitions_only`, only
/// state changes are written.
pub fn replay(path: &Path, transitions_only: bool, out: &mut dyn Write) -> Result<(), ReplayError> {
    let shown = path.display().to_string();
    let read_err = |source| ReplayError::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut core = Core::new(RecordingEffects::default());
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(read_err)?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line).map_err(|source| ReplayError::Parse {
            path: shown.clone(),
            line: n + 1,
            source,
        })?;
        core.handle(record.at, record.input);
        for effect in core.effects_mut().take() {
            if transitions_only && !matches!(effect, Effect::Transition { .. }) {
                continue;
            }
            let at = record.at.since_epoch().as_secs_f64();
            writeln!(out, "{at:.6} {effect}").map_err(read_err)?;
        }
    }
    Ok(())
}
