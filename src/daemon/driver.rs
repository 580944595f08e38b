//! The daemon's driver: sets everything up from a configuration, then feeds the core with
//! packets, netlink events and timer expiries until told to stop; SIGHUP reloads.
//!
//! Shaped like mini-redis: `run(config, options, shutdown)` so tests can drive a daemon
//! in-process and stop it with any future.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::core::{Core, Event, SocketKey};
use super::effects::{SystemEffects, Work, execute};
use super::pidfile::{PidFile, PidFileError};
use super::plan::{IfaceFacts, PlanError, PlannedInstance, plan};
use super::receive::{Contexts, receive_loop};
use super::sdnotify;
use crate::config::LoadOptions;
use crate::config::diff::{Change, ConfigChange};
use crate::config::model::Config;
use crate::control;
use crate::fsm::{InstanceId, Node, Time};
use crate::net::{IpProtocol, NetError, NetEvent, Netlink, NetlinkEvents, VmacSpec, VrrpSocket};
use crate::notify::{Notifier, NotifierConfig};
use crate::track::{TrackerUpdate, Trackers, Verdict};
use crate::types::Family;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The configuration file: shown by `vigil status`, read again on SIGHUP.
    pub config_path: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub control_socket: Option<PathBuf>,
    /// Reject a configuration with warnings (at start and on reload).
    pub strict: bool,
    /// Serve Prometheus metrics over HTTP here (`GET /metrics`).
    pub metrics_listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    PidFile(#[from] PidFileError),
    #[error("netlink: {0}")]
    Net(#[from] NetError),
    #[error("cannot start: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Plan(Vec<PlanError>),
    #[error("sync group {group}: {message}")]
    SyncGroup { group: String, message: String },
    #[error(transparent)]
    Control(#[from] control::ControlError),
    #[error("cannot serve metrics: {0}")]
    Metrics(std::io::Error),
    #[error("cannot install the SIGHUP handler: {0}")]
    Signal(std::io::Error),
}

/// Runs the daemon until `shutdown` completes, then hands mastership over (priority 0),
/// removes every virtual address and VMAC, and returns.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let _pid = options
        .pid_file
        .as_deref()
        .map(PidFile::create)
        .transpose()?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(DaemonError::Signal)?;
    let netlink = Arc::new(Netlink::connect()?);
    // Subscribe before reading state so no change between the two is missed.
    let mut net_events = NetlinkEvents::subscribe()?;
    let (event_tx, mut event_rx) = mpsc::channel::<(Instant, Event)>(4096);
    let (tracker_tx, mut tracker_rx) = mpsc::channel::<TrackerUpdate>(1024);
    let epoch = Instant::now();
    let to_time = |at: Instant| Time::from_duration(at.saturating_duration_since(epoch));
    let to_instant = |t: Time| epoch + t.since_epoch();

    // The control socket and metrics listener bind before anything touches the system, so
    // a busy socket path or port fails the start with nothing to undo.
    let (status_source, mut status_requests) = control::StatusSource::channel();
    let _control = match &options.control_socket {
        Some(path) => Some(control::serve(path, status_source.clone()).await?),
        None => None,
    };
    let _metrics = match options.metrics_listen {
        Some(addr) => Some(
            control::serve_http(addr, status_source)
                .await
                .map_err(DaemonError::Metrics)?,
        ),
        None => None,
    };
    let mut daemon = Daemon::start(config, options, netlink.clone(), event_tx, tracker_tx).await?;
    let config_name = daemon.options.config_path.display().to_string();

    daemon.fault_down_links(to_time(Instant::now()));
    let all: Vec<usize> = (0..daemon.planned.len()).collect();
    daemon.start_when_tracked(to_time(Instant::now()), &all);
    let summary = format!("{} instances running", daemon.core.bindings().len());
    tracing::info!(instances = daemon.core.bindings().len(), "vigil started");
    sdnotify::ready(&summary);

    tokio::pin!(shutdown);
    loop {
        let deadline = daemon.core.next_deadline().map(to_instant);
        tokio::select! {
            // Order matters under load: a due timer is served before any packet, so a flood
            // of (even invalid) packets can never delay a master's advertisements.
            biased;
            () = &mut shutdown => break,
            () = sleep_until(deadline) => daemon.core.tick(to_time(Instant::now())),
            Some((_, event)) = event_rx.recv() => {
                daemon.core.handle(to_time(Instant::now()), event);
            }
            Some(ev) = net_events.next() => daemon.on_net_event(to_time(Instant::now()), ev),
            Some(update) = tracker_rx.recv() => daemon.on_tracker(to_time(Instant::now()), update),
            Some(()) = hangup.recv() => {
                sdnotify::reloading();
                daemon = daemon.reload(to_time(Instant::now()), &to_time).await;
                sdnotify::ready(&format!("{} instances running", daemon.core.bindings().len()));
            }
            Some(reply) = status_requests.recv() => {
                let _ = reply.send(daemon.core.status(&config_name));
            }
        }
    }

    // RFC 5798 §6.4.3 Shutdown: a Master sends priority 0 so a Backup takes over after
    // Skew_Time instead of Master_Down_Interval, then removes its addresses.
    sdnotify::stopping();
    daemon.core.shutdown(to_time(Instant::now()));
    daemon.stop_receivers();
    daemon.tracker_tasks.abort_all();
    let vmacs: Vec<u32> = daemon.vmacs.values().copied().collect();
    let effects = daemon.core.into_effects();
    effects.flush().await;
    for ifindex in vmacs {
        if let Err(e) = netlink.delete_vmac(ifindex).await {
            tracing::warn!(ifindex, error = %e, "cannot delete VMAC interface");
        }
    }
    let notifier = effects.into_notifier();
    // Notify scripts for STOP get a bounded moment to run; exit is not held hostage.
    let _ = tokio::time::timeout(Duration::from_secs(2), notifier.close()).await;
    tracing::info!("vigil stopped");
    Ok(())
}

/// A receive socket, the per-VRID expectations its task checks, and the task.
struct SocketEntry {
    socket: Arc<VrrpSocket>,
    contexts: Contexts,
    receiver: AbortHandle,
}

/// Everything the running daemon holds between events.
struct Daemon {
    config: Config,
    options: RunOptions,
    netlink: Arc<Netlink>,
    event_tx: mpsc::Sender<(Instant, Event)>,
    /// In the core's instance order.
    planned: Vec<PlannedInstance>,
    sockets: HashMap<SocketKey, SocketEntry>,
    /// Instance name → ifindex of the VMAC interface it created.
    vmacs: HashMap<String, u32>,
    link_up: HashMap<u32, bool>,
    core: Core<SystemEffects>,
    /// Kept for `fault_down_links` at start.
    facts: HashMap<String, IfaceFacts>,
    /// keepalived's checkers: their states and each instance's verdict.
    trackers: Trackers,
    tracker_tasks: tokio::task::JoinSet<()>,
    tracker_tx: mpsc::Sender<TrackerUpdate>,
    /// Instances not started yet because a weight-0 checker has not reported: keepalived
    /// keeps them in INIT (no FAULT, no notify) until it does.
    waiting: HashSet<usize>,
}

impl Daemon {
    async fn start(
        config: Config,
        options: RunOptions,
        netlink: Arc<Netlink>,
        event_tx: mpsc::Sender<(Instant, Event)>,
        tracker_tx: mpsc::Sender<TrackerUpdate>,
    ) -> Result<Daemon, DaemonError> {
        let facts = read_facts(&netlink).await?;
        let mut planned =
            plan(&config, &|name| facts.get(name).cloned()).map_err(DaemonError::Plan)?;
        let mut vmacs = HashMap::new();
        let mut sockets = HashMap::new();
        let mut node = Node::new();
        let prepared = async {
            create_vmacs(&netlink, &mut planned, &mut vmacs).await?;
            let per_instance = ensure_sockets(&mut sockets, &planned, &event_tx)?;
            for p in &planned {
                node.add_instance(p.fsm.clone());
            }
            add_sync_groups(&mut node, &config, &planned)?;
            Ok::<_, DaemonError>(per_instance)
        }
        .await;
        let per_instance = match prepared {
            Ok(p) => p,
            Err(e) => {
                // Nothing half-configured stays behind: VMACs made so far go again.
                for ifindex in vmacs.values() {
                    let _ = netlink.delete_vmac(*ifindex).await;
                }
                return Err(e);
            }
        };
        let notifier = Notifier::new(NotifierConfig {
            default_user: config.global.script_user.as_ref().map(|u| u.user.clone()),
            fifo: config
                .global
                .notify_fifo
                .as_ref()
                .map(|f| PathBuf::from(&f.path)),
            ..NotifierConfig::default()
        });
        let (work_tx, work_rx) = mpsc::unbounded_channel::<Work>();
        tokio::spawn(execute(
            netlink.clone(),
            work_rx,
            config.global.garp_interval,
        ));
        let effects = SystemEffects::new(&planned, per_instance, notifier, work_tx);
        let bindings = planned.iter().map(|p| p.binding.clone()).collect();
        let core = Core::new(node, bindings, effects);
        let names: Vec<String> = planned.iter().map(|p| p.binding.name.clone()).collect();
        let trackers = Trackers::new(&config, &names);
        let tracker_tasks = crate::track::spawn_all(&config, tracker_tx.clone());
        let mut daemon = Daemon {
            config,
            options,
            netlink,
            event_tx,
            planned,
            sockets,
            vmacs,
            link_up: HashMap::new(),
            core,
            facts,
            trackers,
            tracker_tasks,
            tracker_tx,
            waiting: HashSet::new(),
        };
        daemon.report_tracked_interfaces();
        Ok(daemon)
    }

    /// Tells the trackers the state of every interface a `track_interface` names (a missing
    /// interface is down). Verdicts are delivered by `start_when_tracked`.
    fn report_tracked_interfaces(&mut self) {
        for name in self.trackers.interfaces() {
            let up = self.facts.get(&name).is_some_and(|f| f.up);
            self.trackers.update(TrackerUpdate::interface(name, up));
        }
    }

    /// Delivers the current tracker verdict to each of `indices` still in INIT, then starts
    /// those whose verdict is known; the others wait for their checkers (see `waiting`).
    fn start_when_tracked(&mut self, now: Time, indices: &[usize]) {
        let mut start = Vec::new();
        for &i in indices {
            let verdict = self.trackers.verdict(i).unwrap_or_default();
            if verdict.pending {
                self.waiting.insert(i);
                continue;
            }
            self.waiting.remove(&i);
            self.deliver(now, i, verdict);
            start.push(InstanceId(i));
        }
        self.core.start_some(now, &start);
    }

    fn deliver(&mut self, now: Time, index: usize, v: Verdict) {
        let event = Event::Tracker {
            instance: InstanceId(index),
            weight_sum: v.weight_sum,
            faulted: v.faulted,
        };
        self.core.handle(now, event);
    }

    fn on_tracker(&mut self, now: Time, update: TrackerUpdate) {
        for (i, verdict) in self.trackers.update(update) {
            if self.waiting.contains(&i) {
                self.start_when_tracked(now, &[i]);
            } else {
                self.deliver(now, i, verdict);
            }
        }
    }

    /// An interface that is already down puts its instances straight into Fault.
    fn fault_down_links(&mut self, now: Time) {
        for b in self.core.bindings().to_vec() {
            let up = self
                .facts
                .values()
                .find(|f| f.ifindex == b.ifindex)
                .is_some_and(|f| f.up);
            self.link_up.insert(b.ifindex, up);
            if !up {
                self.core.handle(
                    now,
                    Event::Link {
                        ifindex: b.ifindex,
                        up,
                    },
                );
            }
        }
    }

    fn on_net_event(&mut self, now: Time, ev: NetEvent) {
        match ev {
            NetEvent::LinkChanged { ifindex, up, name } => {
                self.on_tracker(now, TrackerUpdate::interface(name, up));
                // Netlink repeats a link message on any attribute change: only a change of
                // up/down is an event for the state machines.
                if self.link_up.get(&ifindex).is_some_and(|&was| was != up) {
                    self.link_up.insert(ifindex, up);
                    self.core.handle(now, Event::Link { ifindex, up });
                }
            }
            NetEvent::LinkRemoved { ifindex, name } => {
                self.on_tracker(now, TrackerUpdate::interface(name, false));
                if self.link_up.get(&ifindex) == Some(&true) {
                    self.link_up.insert(ifindex, false);
                    self.core.handle(now, Event::Link { ifindex, up: false });
                }
            }
            NetEvent::AddressRemoved { ifindex, addr, .. } => {
                self.core
                    .handle(now, Event::AddressRemoved { ifindex, addr });
            }
            NetEvent::AddressAdded { .. } => {}
        }
    }

    fn stop_receivers(&self) {
        for entry in self.sockets.values() {
            entry.receiver.abort();
        }
    }

    /// SIGHUP: parse and validate the file first; on any error keep running the old
    /// configuration and say why. Otherwise apply the difference: unchanged instances are
    /// not touched (no VIP removed, no state change, no notify); changed ones are updated
    /// in place (a priority change re-evaluates, a VIP-set change adds or removes only the
    /// delta); removed ones leave gracefully (priority 0); new ones start.
    async fn reload(mut self, now: Time, to_time: &impl Fn(Instant) -> Time) -> Daemon {
        let path = self.options.config_path.clone();
        let options = LoadOptions {
            strict: self.options.strict,
            ..Default::default()
        };
        let new_config = match crate::config::load(&path, &options) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    tracing::warn!("{w}");
                }
                loaded.model
            }
            Err(diagnostics) => {
                for d in &diagnostics.0 {
                    tracing::error!("{d}");
                }
                tracing::error!(config = %path.display(), "reload rejected: still running the previous configuration");
                return self;
            }
        };
        let facts = match read_facts(&self.netlink).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "reload rejected: cannot read interfaces");
                return self;
            }
        };
        let mut planned = match plan(&new_config, &|name| facts.get(name).cloned()) {
            Ok(p) => p,
            Err(errors) => {
                for e in &errors {
                    tracing::error!("{e}");
                }
                tracing::error!("reload rejected: still running the previous configuration");
                return self;
            }
        };

        // An instance whose VMAC plan did not change keeps its VMAC interface; attaching it
        // now makes the new plan's socket key comparable with the old one.
        let mut vmacs = HashMap::new();
        for p in planned.iter_mut() {
            let name = p.binding.name.clone();
            let same_plan = self
                .planned
                .iter()
                .any(|o| o.binding.name == name && o.vmac == p.vmac);
            if let (true, Some(_), Some(&ifindex)) = (same_plan, &p.vmac, self.vmacs.get(&name)) {
                p.attach_vmac(ifindex);
                vmacs.insert(name, ifindex);
            }
        }

        // Which old instance each new one continues, if any.
        let changes = crate::config::diff::diff(&self.config, &new_config);
        let restart: HashSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                ConfigChange::Changed { name, what }
                    if what.iter().any(|w| matches!(w, Change::NeedsRestart(_))) =>
                {
                    Some(name.as_str())
                }
                _ => None,
            })
            .collect();
        let old_index: HashMap<&str, usize> = self
            .planned
            .iter()
            .enumerate()
            .map(|(i, p)| (p.binding.name.as_str(), i))
            .collect();
        let group_of = |config: &Config, name: &str| {
            config
                .sync_groups
                .iter()
                .find(|g| g.group.iter().any(|m| m == name))
                .map(|g| g.name.clone())
        };
        let carried_from: Vec<Option<usize>> = planned
            .iter()
            .map(|p| {
                let name = p.binding.name.as_str();
                let &old = old_index.get(name)?;
                let o = &self.planned[old];
                let same_identity = o.binding.socket == p.binding.socket
                    && o.fsm.vrid == p.fsm.vrid
                    && o.fsm.version == p.fsm.version
                    && o.fsm.family == p.fsm.family
                    && o.fsm.primary_addr == p.fsm.primary_addr
                    && o.vmac == p.vmac
                    && group_of(&self.config, name) == group_of(&new_config, name);
                (same_identity && !restart.contains(name)).then_some(old)
            })
            .collect();
        let kept: HashSet<usize> = carried_from.iter().flatten().copied().collect();

        // Open what the new set needs before touching the running instances, so that a
        // failure here leaves the old configuration running, whole.
        let prepared = match create_vmacs(&self.netlink, &mut planned, &mut vmacs).await {
            Ok(()) => ensure_sockets(&mut self.sockets, &planned, &self.event_tx),
            Err(e) => Err(e.into()),
        };
        let per_instance = match prepared {
            Ok(s) => s,
            Err(e) => {
                for (name, ifindex) in &vmacs {
                    if !self.vmacs.contains_key(name) {
                        let _ = self.netlink.delete_vmac(*ifindex).await;
                    }
                }
                tracing::error!(error = %e, "reload rejected: still running the previous configuration");
                return self;
            }
        };

        // Instances that leave (removed, or restarted with a new identity) hand over first.
        for old in (0..self.planned.len()).filter(|i| !kept.contains(i)) {
            tracing::info!(instance = %self.planned[old].binding.name, "reload: stopping instance");
            self.core.shutdown_one(now, InstanceId(old));
        }
        let (node, counters, socket_drops, effects) = self.core.into_parts();
        let mut old_instances: Vec<Option<crate::fsm::Instance>> =
            node.into_instances().into_iter().map(Some).collect();

        // VMACs: keep those whose plan did not change, delete the others, create new ones.
        for (name, ifindex) in &self.vmacs {
            if !vmacs.contains_key(name) {
                if let Err(e) = self.netlink.delete_vmac(*ifindex).await {
                    tracing::warn!(ifindex, error = %e, "cannot delete VMAC interface");
                }
            }
        }

        let mut node = Node::new();
        let mut reconfigure = Vec::new();
        let mut added = Vec::new();
        let mut new_counters = Vec::new();
        for (new, p) in planned.iter().enumerate() {
            let carried = carried_from[new].and_then(|old| old_instances.get_mut(old)?.take());
            match carried {
                Some(mut inst) => {
                    let actions = inst.reconfigure(now, p.fsm.clone());
                    let id = node.add_existing(inst);
                    reconfigure.extend(actions.into_iter().map(|a| (id, a)));
                    new_counters.push(
                        counters
                            .get(carried_from[new].unwrap_or(usize::MAX))
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
                None => {
                    added.push(node.add_instance(p.fsm.clone()));
                    new_counters.push(Default::default());
                }
            }
        }
        if let Err(e) = add_sync_groups(&mut node, &new_config, &planned) {
            tracing::error!(error = %e, "reload: sync groups not applied");
        }

        // A carried Master whose address set changed installs or removes only the delta.
        let mut deltas = Vec::new();
        for (new, p) in planned.iter().enumerate() {
            let Some(old) = carried_from[new] else {
                continue;
            };
            let is_master = node
                .instance(InstanceId(new))
                .is_some_and(|i| i.state() == crate::fsm::State::Master);
            if !is_master {
                continue;
            }
            let before = &self.planned[old].vips;
            let install: Vec<_> = p
                .vips
                .iter()
                .filter(|v| !before.contains(v))
                .cloned()
                .collect();
            let remove: Vec<_> = before
                .iter()
                .filter(|v| !p.vips.contains(v))
                .cloned()
                .collect();
            if !remove.is_empty() {
                deltas.push(Work::Remove(remove));
            }
            if !install.is_empty() {
                deltas.push(Work::Install(install));
            }
        }

        let effects = effects.reload(&planned, per_instance, &carried_from);
        for work in deltas {
            effects.queue_work(work);
        }
        let bindings = planned.iter().map(|p| p.binding.clone()).collect();
        let core = Core::from_parts(node, bindings, new_counters, socket_drops, effects);

        // Sockets no longer used by any instance are closed.
        let used: HashSet<SocketKey> = planned.iter().map(|p| p.binding.socket).collect();
        self.sockets.retain(|key, entry| {
            let keep = used.contains(key);
            if !keep {
                entry.receiver.abort();
            }
            keep
        });

        tracing::info!(
            instances = planned.len(),
            kept = kept.len(),
            started = added.len(),
            stopped = old_instances.iter().filter(|i| i.is_some()).count(),
            "configuration reloaded"
        );
        // Checkers: known states carry over; tasks restart with the new definitions.
        let mut tracker_tasks = self.tracker_tasks;
        tracker_tasks.abort_all();
        let names: Vec<String> = planned.iter().map(|p| p.binding.name.clone()).collect();
        let trackers = self.trackers.reloaded(&new_config, &names);
        let tracker_tasks = crate::track::spawn_all(&new_config, self.tracker_tx.clone());
        let mut daemon = Daemon {
            config: new_config,
            options: self.options,
            netlink: self.netlink,
            event_tx: self.event_tx,
            planned,
            sockets: self.sockets,
            vmacs,
            link_up: self.link_up,
            core,
            facts,
            trackers,
            tracker_tasks,
            tracker_tx: self.tracker_tx,
            waiting: HashSet::new(),
        };
        daemon.report_tracked_interfaces();
        daemon.core.apply_actions(reconfigure);
        let now = to_time(Instant::now());
        // New instances learn their link state before they start, as at start-up.
        for id in &added {
            let ifindex = daemon.planned[id.0].binding.ifindex;
            let up = daemon
                .facts
                .values()
                .find(|f| f.ifindex == ifindex)
                .is_some_and(|f| f.up);
            daemon.link_up.entry(ifindex).or_insert(up);
            if !up {
                daemon.core.handle(now, Event::Link { ifindex, up });
            }
        }
        // Running instances get their (possibly changed) tracker verdict; those not running
        // yet (new, or still waiting for a checker) start once their verdict is known.
        let mut not_started = Vec::new();
        for i in 0..daemon.planned.len() {
            let running = daemon
                .core
                .node()
                .instance(InstanceId(i))
                .is_some_and(|inst| inst.state() != crate::fsm::State::Initialize);
            if running {
                if let Some(v) = daemon.trackers.verdict(i) {
                    daemon.deliver(now, i, v);
                }
            } else {
                not_started.push(i);
            }
        }
        daemon.start_when_tracked(now, &not_started);
        daemon
    }
}

/// What the kernel says about every interface.
async fn read_facts(netlink: &Netlink) -> Result<HashMap<String, IfaceFacts>, NetError> {
    let mut facts = HashMap::new();
    for link in netlink.links().await? {
        let primary_v4 = netlink.primary_ipv4(link.ifindex).await.unwrap_or(None);
        let link_local_v6 = netlink.ipv6_link_local(link.ifindex).await.unwrap_or(None);
        let forwarding =
            std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{}/forwarding", link.name))
                .is_ok_and(|s| s.trim() == "1");
        facts.insert(
            link.name.clone(),
            IfaceFacts {
                ifindex: link.ifindex,
                name: link.name.clone(),
                mac: link.mac.unwrap_or_default(),
                up: link.is_up(),
                primary_v4,
                link_local_v6,
                ipv6_forwarding: forwarding,
            },
        );
    }
    Ok(facts)
}

/// keepalived's use_vmac: a macvlan per instance carrying the virtual MAC; its VIPs,
/// announcements and (unless vmac_xmit_base) adverts live on it. Instances already in
/// `vmacs` keep theirs.
async fn create_vmacs(
    netlink: &Netlink,
    planned: &mut [PlannedInstance],
    vmacs: &mut HashMap<String, u32>,
) -> Result<(), NetError> {
    for p in planned.iter_mut() {
        let Some(v) = &p.vmac else { continue };
        if vmacs.contains_key(&p.binding.name) {
            continue;
        }
        let spec = VmacSpec {
            name: v.name.clone(),
            base_ifindex: v.base_ifindex,
            vrid: p.fsm.vrid,
            family: p.fsm.family,
            source_v6: v.source_v6,
        };
        let link = netlink.create_vmac(&spec).await?;
        vmacs.insert(p.binding.name.clone(), link.ifindex);
        p.attach_vmac(link.ifindex);
    }
    Ok(())
}

/// Opens the sockets `planned` needs that are not open yet (one per interface, family and
/// protocol, shared by every VRID on it), replaces every socket's per-VRID expectations, and
/// returns the socket each instance sends on.
fn ensure_sockets(
    sockets: &mut HashMap<SocketKey, SocketEntry>,
    planned: &[PlannedInstance],
    event_tx: &mpsc::Sender<(Instant, Event)>,
) -> Result<Vec<Arc<VrrpSocket>>, DaemonError> {
    let mut contexts: HashMap<SocketKey, HashMap<u8, crate::wire::RxContext>> = HashMap::new();
    let mut per_instance = Vec::new();
    for p in planned {
        let key = p.binding.socket;
        if let std::collections::hash_map::Entry::Vacant(slot) = sockets.entry(key) {
            let socket = Arc::new(open_socket(p, key)?);
            let ctx: Contexts = Arc::new(RwLock::new(HashMap::new()));
            let receiver = tokio::spawn(receive_loop(
                socket.clone(),
                key,
                ctx.clone(),
                event_tx.clone(),
            ))
            .abort_handle();
            slot.insert(SocketEntry {
                socket,
                contexts: ctx,
                receiver,
            });
        }
        contexts
            .entry(key)
            .or_default()
            .insert(p.fsm.vrid.get(), p.rx.clone());
        per_instance.push(sockets[&key].socket.clone());
    }
    for (key, entry) in sockets.iter() {
        let new = contexts.remove(key).unwrap_or_default();
        *entry.contexts.write().unwrap_or_else(|e| e.into_inner()) = new;
    }
    Ok(per_instance)
}

fn open_socket(p: &PlannedInstance, key: SocketKey) -> Result<VrrpSocket, DaemonError> {
    Ok(match key.family {
        Family::V4 => {
            let proto = if key.protocol == IpProtocol::Ah.number() {
                IpProtocol::Ah
            } else {
                IpProtocol::Vrrp
            };
            VrrpSocket::open_v4(&p.ifname, key.ifindex, proto)?
        }
        Family::V6 => {
            let IpAddr::V6(src) = p.tx.src else {
                return Err(DaemonError::Plan(vec![PlanError {
                    instance: p.binding.name.clone(),
                    message: "an IPv6 instance needs an IPv6 source address".into(),
                }]));
            };
            VrrpSocket::open_v6(&p.ifname, key.ifindex, src)?
        }
    })
}

fn add_sync_groups(
    node: &mut Node,
    config: &Config,
    planned: &[PlannedInstance],
) -> Result<(), DaemonError> {
    for g in &config.sync_groups {
        let ids: Result<Vec<InstanceId>, String> = g
            .group
            .iter()
            .map(|name| {
                planned
                    .iter()
                    .position(|p| &p.binding.name == name)
                    .map(InstanceId)
                    .ok_or_else(|| format!("no instance named {name:?}"))
            })
            .collect();
        let ids = ids.map_err(|message| DaemonError::SyncGroup {
            group: g.name.clone(),
            message,
        })?;
        node.add_sync_group(&g.name, &ids)
            .map_err(|e| DaemonError::SyncGroup {
                group: g.name.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
