//! The daemon's driver: turns IO into [`CoreInput`]s and hands them to the core, which decides
//! everything; `SystemEffects` carries the decisions out. It decides nothing itself: it
//! serves a due timer before anything else, records the inputs when asked, and runs reload
//! preparation beside the loop so no timer waits for netlink. Reload requests are debounced
//! (`reload_debounce.rs`) and a reload keeps the checkers it did not change (`track::Checkers`).
//!
//! Shaped like mini-redis: `run(config, options, shutdown)` so tests can drive a daemon
//! in-process and stop it with any future.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::core::Core;
use super::dumps::{DumpSignals, Dumper};
use super::effects::{AnnounceGaps, SystemEffects, Work, execute};
use super::input::CoreInput;
use super::pidfile::{PidFile, PidFileError};
use super::plan::fifo_reader;
use super::prepare::{Context, PrepareError, Ready, Source, prepare};
use super::privilege;
use super::record::Recorder;
use super::reload_debounce::Debounce;
use super::reload_queue::{self, ReloadQueue};
use super::sdnotify;
use super::statics::Statics;
use crate::config::model::Config;
use crate::control;
use crate::fsm::Time;
use crate::net::{NetError, NetEvent, Netlink, NetlinkEvents};
use crate::notify::{Notifier, NotifierConfig};
use crate::track::TrackerUpdate;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The configuration file: shown by `vigil status`, read again on SIGHUP.
    pub config_path: PathBuf,
    pub pid_file: Option<PathBuf>,
    pub control_socket: Option<PathBuf>,
    /// Mode 0660 with this group for the control socket (0600 without).
    pub control_group: Option<String>,
    /// How the configuration file is read again on reload: `--strict` (reject a
    /// configuration with warnings), `--format`, `--config-id`; the same as at start.
    pub load: crate::config::LoadOptions,
    /// Serve Prometheus metrics over HTTP here (`GET /metrics`).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Write every core input here, for `vigil replay`.
    pub record_events: Option<PathBuf>,
    /// Keep every capability after start-up (by default all but those in
    /// [`privilege::KEPT`] are dropped; see there).
    pub keep_capabilities: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    PidFile(#[from] PidFileError),
    /// NetError names its operation (a socket option, a netlink request) itself.
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot start: {0}")]
    Prepare(#[from] PrepareError),
    #[error(transparent)]
    Control(#[from] control::ControlError),
    #[error("cannot serve metrics: {0}")]
    Metrics(std::io::Error),
    #[error("cannot install a signal handler: {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Privilege(#[from] privilege::PrivilegeError),
    #[error(transparent)]
    Netns(#[from] crate::net::netns::EnterError),
    #[error("cannot enforce accept mode off: {0}")]
    Firewall(#[from] crate::net::firewall::FirewallError),
    #[error("cannot record events to {path}: {source}")]
    Record {
        path: String,
        source: std::io::Error,
    },
}

/// The core, and what feeding it takes: the clock's epoch and the recorder.
struct Feeder {
    core: Core<SystemEffects>,
    epoch: Instant,
    recorder: Option<Recorder>,
    /// `net_namespace` at start: a reload may not change it.
    net_namespace: Option<String>,
    /// The core asked for the configuration to be planned again (for this interface).
    replan: Option<String>,
    /// The time the core was last given: it never goes back.
    last: Time,
}

/// What a preparation running beside the loop is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Preparation {
    /// SIGHUP: the file read again; checkers and the FIFO follow the new configuration.
    Reload,
    /// An interface appeared or came back under a new index: the running configuration
    /// planned again against the kernel (`resync.rs`); nothing else changes.
    Replan(String),
}

impl Feeder {
    fn now(&self) -> Time {
        Time::from_duration(Instant::now().saturating_duration_since(self.epoch))
    }

    fn instant(&self, t: Time) -> Instant {
        self.epoch + t.since_epoch()
    }

    /// The time the core is given for `input`: now, or for a packet the time the kernel
    /// received it (input.rs: `arrived`), never before the time last given, so the core's
    /// clock never goes back.
    fn time_for(&mut self, input: &CoreInput) -> Time {
        let now = self.now();
        let at = match input {
            CoreInput::Packet {
                arrived: Some(at), ..
            } => Time::from_duration(
                tokio::time::Instant::from_std(*at).saturating_duration_since(self.epoch),
            )
            .min(now),
            _ => now,
        };
        self.last = self.last.max(at);
        self.last
    }

    fn feed(&mut self, input: CoreInput) {
        let now = self.time_for(&input);
        if let Some(r) = &mut self.recorder
            && let Err(e) = r.record(now, &input)
        {
            tracing::error!(error = %e, "cannot record events: recording stops");
            self.recorder = None;
        }
        self.core.handle(now, input);
        if let Some(interface) = self.core.effects_mut().take_replan() {
            self.replan.get_or_insert(interface);
        }
    }

    /// Hands a prepared configuration to the core with what was opened for it.
    fn install(&mut self, ready: Ready) -> Config {
        let Ready {
            prepared,
            sockets,
            vmacs,
            config,
        } = ready;
        self.core.effects_mut().adopt(sockets, vmacs);
        let started = Instant::now();
        self.feed(CoreInput::Reload(Box::new(prepared)));
        // The prepared plans were allocated beside the parsed model: freed the same way (the
        // core runs on copies, or on the plans it had when nothing changed).
        free_beside_loop(self.core.take_discarded());
        tracing::debug!(elapsed = ?started.elapsed(), "configuration handed to the core");
        config
    }

    fn context(&self, netlink: &Arc<Netlink>, events: &mpsc::Sender<CoreInput>) -> Context {
        Context {
            netlink: netlink.clone(),
            events: events.clone(),
            open_sockets: self.core.effects().open_sockets(),
            open_vmacs: self.core.effects().open_vmacs(),
            net_namespace: self.net_namespace.clone(),
        }
    }
}

/// Runs the daemon until `shutdown` completes, then hands mastership over (priority 0),
/// removes every virtual address and VMAC, and returns.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    // `main` entered the namespace before any thread existed; a daemon started anywhere
    // else would run its instances in the wrong network.
    if let Some(name) = &config.global.net_namespace {
        crate::net::netns::ensure_current(name)?;
    }
    match super::fdlimit::raise_nofile_limit() {
        Ok(limit) => tracing::info!(limit, "open files limit (RLIMIT_NOFILE)"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let _pid = options
        .pid_file
        .as_deref()
        .map(PidFile::create)
        .transpose()?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(DaemonError::Signal)?;
    // From here on keepalived's dump signals write files instead of killing the daemon.
    let mut dump_signals = DumpSignals::install().map_err(DaemonError::Signal)?;
    let netlink = Arc::new(Netlink::connect()?);
    // Subscribe before reading state so no change between the two is missed.
    let mut net_events = NetlinkEvents::subscribe()?;
    // Receive tasks: bounded, so a flood waits in the socket buffers (and is dropped by the
    // kernel) instead of growing here.
    let (input_tx, mut input_rx) = mpsc::channel::<CoreInput>(4096);
    // Checkers: bounded; a full queue makes the checker wait before its next result (its
    // next run is late, none is lost), so a stuck loop cannot grow it.
    let (tracker_tx, mut tracker_rx) = mpsc::channel::<TrackerUpdate>(1024);
    // One preparation at a time; its result comes back here.
    let (ready_tx, mut ready_rx) = mpsc::channel::<(Preparation, Result<Ready, PrepareError>)>(1);
    // One resync at a time (`snapshot.rs`): the new subscription and what was read after it.
    let (resync_tx, mut resync_rx) =
        mpsc::channel::<(NetlinkEvents, super::input::KernelSnapshot)>(1);

    // The control socket and metrics listener bind before anything touches the system, so
    // a busy socket path or port fails the start with nothing to undo.
    let (status_source, mut status_requests) = control::StatusSource::channel();
    // drain / undrain / reload from the control socket (`control/command.rs`).
    let (commands, mut command_requests) = control::Commands::channel();
    let mut reloads = ReloadQueue::default();
    let _control = match &options.control_socket {
        Some(path) => {
            let access = control::Access {
                group: options.control_group.clone(),
            };
            Some(control::serve(path, &access, status_source.clone(), commands).await?)
        }
        None => None,
    };
    let dumper = Dumper::spawn(options.pid_file.clone(), status_source.clone());
    let _metrics = match options.metrics_listen {
        Some(addr) => Some(
            control::serve_http(addr, status_source)
                .await
                .map_err(DaemonError::Metrics)?,
        ),
        None => None,
    };
    let recorder = options
        .record_events
        .as_deref()
        .map(|path| {
            Recorder::create(path).map_err(|source| DaemonError::Record {
                path: path.display().to_string(),
                source,
            })
        })
        .transpose()?;

    // Checked by `prepare` below as well; refused here before anything is made.
    let (fifo, reader) = fifo_reader(&config)
        .map_err(|e| DaemonError::Prepare(PrepareError::Plan(vec![e])))?
        .map_or((None, None), |(path, reader)| (Some(path), reader));
    let notifier = Notifier::new(NotifierConfig {
        default_user: config.global.script_user.as_ref().map(|u| u.user.clone()),
        fifo,
        fifo_reader: reader,
        ..NotifierConfig::default()
    });
    // Before any instance can be master (`accept_mode.rs`).
    let refusing = super::accept_mode::start(super::accept_mode::needed(&config)).await?;
    // The kernel work the core has decided (VIPs, routes, announcements). Not bounded by a
    // capacity, on purpose: every item is a change the state machine already made, so
    // dropping one would leave the kernel out of step with it, and waiting for room would
    // stall the loop that sends the adverts. Its length is bounded by the core instead: an
    // instance queues a fixed handful of items per transition, and transitions come from
    // adverts and timers the loop handles one at a time, while the executor needs one
    // netlink round trip per item (tens of microseconds). The soak lab (`integration/tests/
    // soak.rs`) holds the daemon's memory flat under a flood.
    let (work_tx, work_rx) = mpsc::unbounded_channel::<Work>();
    tokio::spawn(execute(
        netlink.clone(),
        work_rx,
        AnnounceGaps {
            garp: config.global.garp_interval,
            gna: config.global.gna_interval,
        },
        refusing,
    ));
    let mut feeder = Feeder {
        core: Core::new(SystemEffects::new(notifier, work_tx)),
        epoch: Instant::now(),
        recorder,
        net_namespace: config.global.net_namespace.clone(),
        replan: None,
        last: Time::default(),
    };
    let config_name = options.config_path.display().to_string();

    // keepalived adds its static addresses and routes when the VRRP process starts, before
    // any instance runs, and takes them away in stop_vrrp.
    let statics = Statics::resolve(&config, &netlink).await;
    statics.install(&netlink).await;
    let ready = prepare(
        Source::Loaded(Box::new(config)),
        feeder.context(&netlink, &input_tx),
    )
    .await;
    let ready = match ready {
        Ok(ready) => ready,
        Err(e) => {
            // A start that fails leaves nothing behind.
            statics.remove(&netlink).await;
            super::accept_mode::stop().await;
            return Err(e.into());
        }
    };
    let config = feeder.install(ready);
    let statics_worker = super::statics::spawn_worker(statics, netlink.clone());
    let config_max_auto_priority = config.global.max_auto_priority;
    let mut auto_priority = super::auto_priority::AutoPriority::new(
        config.global.max_auto_priority,
        config.global.min_auto_priority_delay,
    );
    // keepalived's `vrrp_priority`: the nice value of the thread running the state machines,
    // set at start as keepalived sets it when its VRRP process starts (before the capability
    // drop: a negative value needs CAP_SYS_NICE).
    if let Some(nice) = config.global.process_priority {
        match crate::net::sched::set_nice(nice) {
            Ok(()) => tracing::info!(nice, "vrrp_priority: scheduling priority set"),
            Err(e) => {
                tracing::warn!(nice, error = %e, "vrrp_priority: cannot set the scheduling priority")
            }
        }
    }
    let mut checkers = crate::track::Checkers::start(&config, tracker_tx.clone());
    // Kept: an interface that appears or comes back is planned against it again.
    let mut running = config;
    // Everything that needs more than the kept capabilities is done: give the rest up before
    // the first packet is read.
    if options.keep_capabilities {
        tracing::warn!(
            "--keep-capabilities: the daemon and its root scripts keep every capability"
        );
    } else {
        // `max_auto_priority` needs CAP_SYS_NICE later, when the loop falls behind.
        let mut keep = privilege::KEPT.to_vec();
        if config_max_auto_priority > 0 {
            keep.push(caps::Capability::CAP_SYS_NICE);
        }
        let kept = privilege::drop_all_but(&keep)?;
        tracing::info!(kept = %privilege::names(&kept), "capabilities dropped");
    }
    // The FIFO's reader runs with what every script gets, so it starts after the drop.
    feeder.core.effects_mut().notifier_mut().start_reader();
    let summary = format!("{} instances running", feeder.core.len());
    tracing::info!(instances = feeder.core.len(), "vigil started");
    sdnotify::ready(&summary);
    let mut watchdog = sdnotify::Watchdog::from_env();
    if let Some(period) = watchdog.period() {
        tracing::info!(period = ?period, "systemd watchdog: keep-alives from the main loop");
    }

    let mut preparing = false;
    // Reload requests wait for a quiet period (`reload_debounce.rs`): a burst is one reload.
    let mut debounce = Debounce::default();
    // An interface changed under the plans; planned again once no preparation runs.
    let mut replan: Option<String> = None;
    let mut resyncing = false;
    // Sub-millisecond deadlines (`net/timerfd.rs`): tokio's wheel rounds up to 1 ms.
    let mut timer = crate::net::timerfd::PreciseTimer::new();
    tokio::pin!(shutdown);
    loop {
        if let Some(interface) = feeder.replan.take() {
            replan.get_or_insert(interface);
        }
        if !preparing && let Some(interface) = replan.take() {
            preparing = true;
            tracing::info!(%interface, "interface appeared or re-created: planning the configuration again");
            spawn_replan(
                interface,
                &running,
                feeder.context(&netlink, &input_tx),
                &ready_tx,
            );
        }
        let deadline = feeder.core.next_deadline().map(|t| feeder.instant(t));
        tokio::select! {
            // Order matters under load: a due timer is served before any packet, so a flood
            // of (even invalid) packets can never delay a master's advertisements.
            biased;
            () = &mut shutdown => break,
            () = timer.sleep_until(deadline) => {
                // keepalived's `max_auto_priority`: a timer served this late means the
                // machine starves the daemon: move to realtime scheduling, a step at a time.
                if let Some(due) = deadline.filter(|_| auto_priority.is_on()) {
                    let late = Instant::now().saturating_duration_since(due);
                    if let Some(rt) = auto_priority.timer_served(late) {
                        tracing::info!(late = ?late, "a timer expired late");
                        match crate::net::sched::set_realtime(rt) {
                            Ok(()) => tracing::info!(priority = rt, "max_auto_priority: set realtime priority"),
                            Err(e) => tracing::warn!(priority = rt, error = %e, "max_auto_priority: cannot set realtime priority"),
                        }
                    }
                }
                // A timer served this late means the daemon was stopped (SIGSTOP, a frozen
                // VM) or starved: the packets that arrived meanwhile may answer it (a
                // master's adverts, queued while a Backup's Master_Down_Timer ran out), so
                // they are read first, for a bounded time, rather than taking over from a
                // master that never went away and announcing the virtual addresses over it.
                if stalled(deadline, Instant::now()) {
                    let until = tokio::time::Instant::now() + STALL_DRAIN;
                    while let Ok(Some(input)) = tokio::time::timeout_at(until, input_rx.recv()).await {
                        feeder.feed(input);
                    }
                }
                feeder.feed(CoreInput::Tick)
            }
            // After the timers, before any IO: a flood cannot starve it, and only a loop
            // that stops turning (or spends all its time on due timers) misses it.
            () = watchdog.due() => watchdog.keep_alive(),
            // The burst of reload requests is over: one preparation covers them all.
            () = sleep_until(debounce.deadline()), if !preparing => {
                debounce.take();
                preparing = true;
                spawn_prepare(&options, feeder.context(&netlink, &input_tx), &ready_tx);
                reloads.started();
            }
            Some(input) = input_rx.recv() => feeder.feed(input),
            // Not read while a resync runs: it replaces this subscription.
            ev = net_events.next(), if !resyncing => match ev {
                Some(NetEvent::Overrun) | None => {
                    let why = if ev.is_some() { "event socket overrun (ENOBUFS)" } else { "event stream ended" };
                    tracing::warn!(reason = why, "netlink events lost: subscribing again and re-reading links and addresses");
                    resyncing = true;
                    let (netlink, done) = (netlink.clone(), resync_tx.clone());
                    tokio::spawn(async move {
                        let _ = done.send(super::snapshot::resubscribe(netlink).await).await;
                    });
                }
                Some(ev) => {
                    if let NetEvent::AddressRemoved { ifindex, addr, .. } = &ev {
                        // A static address deleted by someone else goes back (`statics.rs`).
                        let _ = statics_worker.removed.try_send((*ifindex, *addr));
                    }
                    if let Some(input) = from_net_event(ev) {
                        feeder.feed(input);
                    }
                }
            },
            Some((events, snapshot)) = resync_rx.recv() => {
                net_events = events;
                resyncing = false;
                feeder.feed(CoreInput::Resync(Box::new(snapshot)));
            }
            Some(update) = tracker_rx.recv() => feeder.feed(CoreInput::Tracker(update)),
            Some(()) = hangup.recv() => request_reload(&mut debounce),
            Some(request) = command_requests.recv() => match request.command {
                control::Command::Drain { name, drained } => {
                    // Checked before it is fed: an unknown name changes nothing and is
                    // not recorded.
                    let answer = match feeder.core.drain_names(name.as_deref()) {
                        Ok(names) => {
                            feeder.feed(CoreInput::Drain { name, drained });
                            super::drain::answer(drained, &names)
                        }
                        Err(e) => format!("error: {e}; nothing changed\n"),
                    };
                    let _ = request.reply.send(answer);
                }
                // Answered when the preparation that covers it ends (`reload_queue.rs`).
                control::Command::Reload => {
                    reloads.ask(request.reply);
                    request_reload(&mut debounce);
                }
            },
            Some((kind, result)) = ready_rx.recv() => {
                preparing = false;
                match (kind.clone(), result) {
                    (Preparation::Replan(interface), Ok(ready)) => {
                        let config = feeder.install(ready);
                        tracing::info!(%interface, instances = feeder.core.len(), "configuration planned again for the interface");
                        free_beside_loop(std::mem::replace(&mut running, config));
                    }
                    (Preparation::Replan(interface), Err(e)) => {
                        // Asked again by the interface's next change (an address, its link).
                        tracing::warn!(%interface, error = %e, "cannot plan for the interface yet: waiting for its next change");
                    }
                    (Preparation::Reload, Ok(ready)) => {
                        let config = feeder.install(ready);
                        // The FIFO is opened and checked again, as keepalived reopens it.
                        // (and its reader restarted if it changed). `prepare` refused a
                        // reader command that does not split, so this does not fail.
                        let (path, reader) = fifo_reader(&config)
                            .ok()
                            .flatten()
                            .map_or((None, None), |(p, r)| (Some(p), r));
                        feeder
                            .core
                            .effects_mut()
                            .notifier_mut()
                            .set_fifo(path, reader);
                        // keepalived applies the static entries' changes at reload.
                        statics_worker
                            .reload
                            .send_replace(super::statics::StaticSpec::of(&config));
                        let g = &config.global;
                        if !auto_priority.is_configured(g.max_auto_priority, g.min_auto_priority_delay) {
                            tracing::warn!(
                                max_auto_priority = g.max_auto_priority,
                                min_auto_priority_delay = g.min_auto_priority_delay,
                                "reload: max_auto_priority / min_auto_priority_delay changed; they take effect at the next restart (the capability they need is kept or dropped at start)"
                            );
                        }
                        tracing::info!(instances = feeder.core.len(), "configuration reloaded");
                        reloads.finished(Ok(feeder.core.len()));
                        // Only checkers whose definition changed restart; the core keeps
                        // the known states of those still watched.
                        let c = checkers.reload(&config);
                        tracing::info!(kept = c.keep.len(), stopped = c.stop.len(), started = c.start.len(), "reload: checkers");
                        free_beside_loop(std::mem::replace(&mut running, config));
                    }
                    (Preparation::Reload, Err(e)) => {
                        tracing::error!(error = %e, config = %config_name, "reload rejected: still running the previous configuration");
                        reloads.finished(Err(&e));
                    }
                }
                // READY=1 once no request waits: systemd sees one reload for the burst.
                if kind == Preparation::Reload && !debounce.pending() {
                    sdnotify::ready(&reload_queue::summary(
                        feeder.core.len(),
                        reloads.last_failure(),
                    ));
                }
            }
            Some(kind) = dump_signals.recv() => dumper.request(kind),
            Some(reply) = status_requests.recv() => {
                let unix_now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let mut status = feeder.core.status(&config_name, feeder.now(), unix_now);
                status.last_reload = reloads.last().cloned();
                let _ = reply.send(status);
            }
        }
    }

    sdnotify::stopping();
    feeder.feed(CoreInput::Shutdown);
    checkers.stop_all();
    let mut effects = feeder.core.into_effects();
    // A preparation still running may have made VMACs and sockets: wait for it (bounded) so
    // they are removed with the others instead of left behind.
    if preparing
        && let Ok(Some((_, Ok(ready)))) =
            tokio::time::timeout(Duration::from_secs(5), ready_rx.recv()).await
    {
        effects.adopt(ready.sockets, ready.vmacs);
    }
    free_beside_loop(running);
    effects.close_all();
    effects.flush().await;
    let super::statics::StaticsWorker {
        reload,
        removed,
        done,
    } = statics_worker;
    drop((reload, removed));
    match done.await {
        Ok(statics) => statics.remove(&netlink).await,
        Err(e) => tracing::error!(error = %e, "static entries worker failed: not removed"),
    }
    // Every VIP is gone (flushed above): nothing is left to drop traffic for.
    super::accept_mode::stop().await;
    // STOP scripts run outside the notify queues, bounded by notify::STOP_WAIT: exit is
    // neither held hostage by a busy queue nor taken before STOP has run.
    effects.into_notifier().close().await;
    tracing::info!("vigil stopped");
    Ok(())
}

/// Drops `value` on a blocking thread, then hands the freed heap back to the kernel: freeing a
/// parsed model or a set of plans is thousands of frees, not work for the loop.
fn free_beside_loop<T: Send + 'static>(value: T) {
    tokio::task::spawn_blocking(move || {
        drop(value);
        crate::net::heap::release_free_memory();
    });
}

/// SIGHUP or `vigil reload`: acknowledged at once with RELOADING=1 (`Type=notify-reload`
/// waits for one stamped after its SIGHUP, so each request gets its own, also while one
/// waits or runs); prepared once the burst is quiet; READY=1 follows that preparation.
fn request_reload(debounce: &mut Debounce) {
    sdnotify::reloading();
    debounce.request(Instant::now());
}

type ReadySender = mpsc::Sender<(Preparation, Result<Ready, PrepareError>)>;

fn spawn_prepare(options: &RunOptions, context: Context, done: &ReadySender) {
    let source = Source::File {
        path: options.config_path.clone(),
        options: options.load.clone(),
    };
    let done = done.clone();
    tokio::spawn(async move {
        let _ = done
            .send((Preparation::Reload, prepare(source, context).await))
            .await;
    });
}

/// Plans the running configuration again (a copy: the file is not read).
fn spawn_replan(interface: String, running: &Config, context: Context, done: &ReadySender) {
    let source = Source::Loaded(Box::new(running.clone()));
    let done = done.clone();
    tokio::spawn(async move {
        let result = prepare(source, context).await;
        let _ = done.send((Preparation::Replan(interface), result)).await;
    });
}

fn from_net_event(ev: NetEvent) -> Option<CoreInput> {
    match ev {
        NetEvent::LinkChanged { ifindex, name, up } => Some(CoreInput::Link { ifindex, name, up }),
        NetEvent::LinkRemoved { ifindex, name } => Some(CoreInput::LinkRemoved { ifindex, name }),
        NetEvent::AddressRemoved { ifindex, addr, .. } => {
            Some(CoreInput::AddressRemoved { ifindex, addr })
        }
        NetEvent::AddressAdded {
            ifindex,
            addr,
            tentative,
            ..
        } => Some(CoreInput::AddressAdded {
            ifindex,
            addr,
            tentative,
        }),
        // The driver resyncs on it before it gets here.
        NetEvent::Overrun => None,
    }
}

/// How late a timer must be served for the driver to read queued packets before it: longer
/// than any scheduling hiccup on a loaded machine, shorter than a Master_Down_Interval.
const STALL: Duration = Duration::from_millis(250);
/// How long it reads them at most (the receive tasks need a turn of the runtime to read
/// their sockets, so the wait ends on a quiet channel, not on an empty one).
const STALL_DRAIN: Duration = Duration::from_millis(20);

/// Whether a timer due at `deadline` and served at `now` is served after a stall.
fn stalled(deadline: Option<Instant>, now: Instant) -> bool {
    deadline.is_some_and(|due| now.saturating_duration_since(due) > STALL)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_timer_served_after_a_stall_reads_queued_packets_first() {
        let due = Instant::now();
        // On time or late by a scheduling hiccup: the timer is served at once.
        assert!(!stalled(Some(due), due));
        assert!(!stalled(Some(due), due + Duration::from_millis(100)));
        // After SIGSTOP/SIGCONT (or a frozen VM): packets first.
        assert!(stalled(Some(due), due + Duration::from_secs(10)));
        assert!(!stalled(None, due + Duration::from_secs(10)));
    }
}
