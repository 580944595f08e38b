//! One VRRP instance: the RFC 5798 §6.4 state machine (with RFC 9568's clarifications and
//! keepalived's Fault state, preempt_delay and gratuitous-announcement schedule).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::action::{Action, AnnounceReason, Reason, State};
use super::config::{InitialState, InstanceConfig};
use super::input::{AdvertRx, Input};
use super::priority::effective_priority;
use super::time::Time;
use super::timers::{Timers, master_down_interval_n, skew_time, take_if_due};
use crate::types::{Centis, Priority, Version};

/// One VRRP instance. Feed it [`Input`]s with the current time; carry out the [`Action`]s it
/// returns; deliver [`Input::TimerTick`] once `now >= next_deadline()`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    /// Shared with the daemon's runtime plan: the configuration is held once.
    config: Arc<InstanceConfig>,
    state: State,
    effective_priority: Priority,
    /// Master_Adver_Interval (RFC 5798 §6.1): learned from the Master in v3.
    master_adver_interval: Centis,
    timers: Timers,
    weight_sum: i32,
    tracker_faulted: bool,
    link_down: bool,
    /// Set by the node while another member of this instance's sync group is faulted.
    group_fault: bool,
    /// Whether the instance belongs to a sync group (then it may only become Master together).
    grouped: bool,
    /// In a sync group: the Master_Down_Timer fired and this member is ready to become Master.
    wants_master: bool,
    /// keepalived preempt_delay: until this time a Backup does not preempt.
    preempt_allowed_at: Option<Time>,
    /// Drained by the operator (`vigil drain`, vigil only): never Master until undrained.
    /// Defaulted so that states serialised before drain existed still load.
    #[serde(default)]
    drained: bool,
    /// The last advert a Backup took in, to name what its Master_Down_Timer firing means.
    #[serde(default)]
    last_heard: Option<Heard>,
}

/// The last advertisement a Backup heard, and what it did with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Heard {
    src: IpAddr,
    priority: Priority,
    /// Discarded: a lower priority, and this Backup preempts (RFC 5798 §6.4.2).
    preempting: bool,
}

impl Instance {
    pub fn new(config: impl Into<Arc<InstanceConfig>>) -> Instance {
        let config = config.into();
        let effective = effective_priority(config.priority, 0);
        let interval = Centis::new(config.advert_int.get().max(1));
        Instance {
            config,
            state: State::Initialize,
            effective_priority: effective,
            master_adver_interval: interval,
            timers: Timers::default(),
            weight_sum: 0,
            tracker_faulted: false,
            link_down: false,
            group_fault: false,
            grouped: false,
            wants_master: false,
            preempt_allowed_at: None,
            last_heard: None,
            drained: false,
        }
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn effective_priority(&self) -> Priority {
        self.effective_priority
    }

    pub fn master_adver_interval(&self) -> Centis {
        self.master_adver_interval
    }

    /// Skew_Time for the current priority and Master_Adver_Interval (RFC 5798 §6.1).
    pub fn skew_time(&self) -> Duration {
        skew_time(
            self.config.version,
            self.effective_priority,
            self.master_adver_interval,
        )
    }

    /// Master_Down_Interval for the current priority and Master_Adver_Interval (RFC 5798 §6.1),
    /// with keepalived's `down_timer_adverts` as the multiplier (3 by default).
    pub fn master_down_interval(&self) -> Duration {
        master_down_interval_n(
            self.config.version,
            self.effective_priority,
            self.master_adver_interval,
            self.config.down_timer_adverts,
        )
    }

    /// The earliest time at which the instance needs a [`Input::TimerTick`].
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next()
    }

    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Whether the operator drained it (`Input::Drain`): it stays out of Master until
    /// `Input::Undrain`.
    pub fn drained(&self) -> bool {
        self.drained
    }

    /// Whether the instance's own conditions (link, trackers) hold it in Fault.
    pub fn own_fault(&self) -> bool {
        self.link_down || self.tracker_faulted
    }

    pub fn handle(&mut self, now: Time, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Startup => self.on_startup(now, &mut out),
            Input::Shutdown => self.on_shutdown(&mut out),
            Input::Advert(advert) => self.on_advert(now, advert, &mut out),
            Input::TimerTick => self.on_tick(now, &mut out),
            Input::TrackerChanged {
                weight_sum,
                faulted,
            } => {
                self.weight_sum = weight_sum;
                self.set_effective_priority(effective_priority(self.config.priority, weight_sum));
                self.tracker_faulted = faulted;
                self.reevaluate_fault(now, &mut out);
            }
            Input::LinkDown => {
                self.link_down = true;
                self.reevaluate_fault(now, &mut out);
            }
            Input::LinkUp => {
                self.link_down = false;
                self.reevaluate_fault(now, &mut out);
            }
            Input::Drain => self.on_drain(now, &mut out),
            // Nothing moves at once: the Master_Down_Timer, which a drained Backup kept
            // running, decides as for any Backup (RFC 5798 §6.4.2), so with preempt and a
            // higher priority the next lower-priority advert is discarded and the timer
            // takes mastership back; without, it waits for the Master to go.
            Input::Undrain => self.drained = false,
        }
        out
    }

    /// Applies a reloaded configuration in place, keeping the state, its timers and what was
    /// learned from the Master. Identity (name, VRID, version, family, source address) must
    /// be unchanged; the daemon restarts an instance whose identity changed.
    ///
    /// A Master whose priority changed advertises the new value at once, so that a Backup
    /// that now outranks it preempts within one Master_Down_Interval (RFC 5798 §6.4.2)
    /// instead of waiting for the next Adver_Timer.
    pub fn reconfigure(
        &mut self,
        now: Time,
        config: impl Into<Arc<InstanceConfig>>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let old_priority = self.effective_priority;
        let grouped = self.grouped;
        self.config = config.into();
        self.grouped = grouped;
        self.set_effective_priority(effective_priority(self.config.priority, self.weight_sum));
        if self.state == State::Master && self.effective_priority != old_priority {
            out.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
            self.timers.adver = Some(now + self.advert_interval());
        }
        out
    }

    fn is_owner(&self) -> bool {
        self.config.priority.is_owner()
    }

    fn faulted(&self) -> bool {
        self.own_fault() || self.group_fault
    }

    /// Why the instance is in Fault: its own conditions first, else its sync group's
    /// (`member`: the member that is faulted, when known).
    fn fault_reason(&self, member: Option<super::node::InstanceId>) -> Reason {
        if self.link_down {
            Reason::LinkDown
        } else if self.tracker_faulted {
            Reason::TrackerFault
        } else {
            Reason::SyncGroup { member }
        }
    }

    /// What the Master_Down_Timer firing means, from the last advert heard.
    fn master_down_reason(&self) -> Reason {
        match self.last_heard {
            Some(h) if h.priority == Priority::STOP => Reason::MasterReleased { master: h.src },
            Some(h) if h.preempting => Reason::Preempted {
                master: h.src,
                master_priority: h.priority,
                ours: self.effective_priority,
            },
            heard => Reason::MasterDown {
                interval_ms: u32::try_from(self.master_down_interval().as_millis())
                    .unwrap_or(u32::MAX),
                last_master: heard.map(|h| h.src),
            },
        }
    }

    /// RFC 5798 §6.1 Preempt_Mode, with its note: the address owner always preempts.
    fn preempts(&self) -> bool {
        self.config.preempt || self.is_owner()
    }

    fn in_preempt_delay(&self, now: Time) -> bool {
        self.preempt_allowed_at.is_some_and(|at| now < at)
    }

    fn set_effective_priority(&mut self, priority: Priority) {
        // RFC 5798 §6.1: Skew_Time and Master_Down_Interval are functions of the priority;
        // they are recomputed on demand from it, and a running Master_Down_Timer keeps its
        // deadline until the next advert resets it (the RFC recomputes only on receipt).
        self.effective_priority = priority;
    }

    fn advert_interval(&self) -> Duration {
        self.configured_interval().as_duration()
    }

    /// Advertisement_Interval as configured, floored at one centisecond: config validation
    /// rejects 0, but a zero interval reaching here must not become a busy loop.
    fn configured_interval(&self) -> Centis {
        Centis::new(self.config.advert_int.get().max(1))
    }

    /// v3 adverts carry the Master's interval; 0 is not a usable interval (it would make the
    /// Master_Down_Interval collapse to the skew), so it is floored at one centisecond.
    fn learn_master_adver_interval(&mut self, advert: &AdvertRx) {
        // RFC 5798 §6.4.2 / §6.4.3: "Set Master_Adver_Interval to Adver Interval contained in
        // the ADVERTISEMENT". RFC 3768 (v2) has no such rule: a v2 backup keeps its own
        // interval (the daemon drops v2 adverts whose interval differs, RFC 3768 §7.1).
        if self.config.version == Version::V3 {
            self.master_adver_interval = Centis::new(advert.max_advert_int.get().max(1));
        }
    }

    fn on_startup(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.state != State::Initialize {
            return;
        }
        self.restart_preempt_delay(now);
        self.master_adver_interval = self.configured_interval();
        if self.faulted() {
            self.enter_fault(self.fault_reason(None), out);
        } else if self.is_owner() && !self.grouped && !self.drained {
            // RFC 5798 §6.4.1: "If the Priority = 255 ... transition to the {Master} state".
            self.become_master(now, Reason::AddressOwner, out);
        } else {
            // RFC 5798 §6.4.1: "Set Master_Adver_Interval to Advertisement_Interval; set the
            // Master_Down_Timer to Master_Down_Interval; transition to {Backup}".
            let down = self.startup_master_down();
            self.enter_backup(now, down, Reason::Startup, out);
        }
    }

    /// The first Master_Down timer after startup.
    fn startup_master_down(&self) -> Duration {
        if self.is_owner() {
            // Only reached for an owner inside a sync group: it is ready at once, and the
            // group decides when to move (see `group.rs`).
            return Duration::ZERO;
        }
        match self.config.initial {
            InitialState::Backup => self.master_down_interval(),
            // keepalived 2.2.7 vrrp_init_state: `state MASTER` shortens the first wait to one
            // interval plus the smallest skew.
            InitialState::Master => {
                self.advert_interval()
                    + skew_time(
                        self.config.version,
                        Priority::OWNER,
                        self.configured_interval(),
                    )
            }
        }
    }

    fn restart_preempt_delay(&mut self, now: Time) {
        self.preempt_allowed_at = if self.config.preempt_delay == Centis::ZERO {
            None
        } else {
            Some(now + self.config.preempt_delay.as_duration())
        };
    }

    fn on_shutdown(&mut self, out: &mut Vec<Action>) {
        let from = self.state;
        match from {
            State::Initialize => return,
            State::Master => {
                // RFC 5798 §6.4.3 Shutdown: cancel the Adver_Timer, send an advert with
                // priority 0, transition to Initialize. The addresses go too.
                out.push(Action::SendAdvert {
                    priority: Priority::STOP,
                });
                out.push(Action::RemoveVips);
            }
            // RFC 5798 §6.4.2 Shutdown: cancel the Master_Down_Timer, go to Initialize.
            State::Backup | State::Fault => {}
        }
        self.timers.clear();
        self.wants_master = false;
        self.state = State::Initialize;
        out.push(Action::Transition {
            from,
            to: State::Initialize,
            reason: Reason::Shutdown,
        });
    }

    /// The caller has dropped our own adverts looped back (`daemon/receive.rs` counts them as
    /// `own_advert`): answering one would be a feedback loop.
    fn on_advert(&mut self, now: Time, advert: AdvertRx, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => self.backup_rx(now, advert),
            State::Master => self.master_rx(now, advert, out),
            // Initialize and Fault ignore adverts (RFC 5798 §6.4.1; keepalived's Fault is silent).
            State::Initialize | State::Fault => {}
        }
    }

    fn backup_rx(&mut self, now: Time, advert: AdvertRx) {
        let mut heard = Heard {
            src: advert.src,
            priority: advert.priority,
            preempting: false,
        };
        if advert.priority == Priority::STOP {
            self.last_heard = Some(heard);
            // RFC 9568 §6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the
            // Active_Down_Timer to Skew_Time."
            self.timers.master_down = Some(now + self.skew_time());
            return;
        }
        let defers = !self.preempts()
            || advert.priority >= self.effective_priority
            // keepalived preempt_delay: while it runs, a higher-priority Backup behaves as if
            // it did not preempt.
            || self.in_preempt_delay(now);
        if defers {
            // RFC 5798 §6.4.2: "If Preempt_Mode is False, or if the Priority in the
            // ADVERTISEMENT is greater than or equal to the local Priority, then: Set
            // Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT,
            // Recompute the Master_Down_Interval, Reset the Master_Down_Timer to
            // Master_Down_Interval."
            self.learn_master_adver_interval(&advert);
            self.timers.master_down = Some(now + self.master_down_interval());
            self.wants_master = false;
        }
        // RFC 5798 §6.4.2: "else (Priority in the ADVERTISEMENT is less than the local Priority
        // and Preempt_Mode is True): Discard the ADVERTISEMENT."
        heard.preempting = !defers;
        self.last_heard = Some(heard);
    }

    fn master_rx(&mut self, now: Time, advert: AdvertRx, out: &mut Vec<Action>) {
        if advert.priority == Priority::STOP {
            // RFC 5798 §6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an
            // ADVERTISEMENT; Reset the Adver_Timer to Advertisement_Interval."
            out.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
            self.timers.adver = Some(now + self.advert_interval());
            return;
        }
        if self.is_owner() && advert.priority == Priority::OWNER {
            // RFC 5798 §6.4.3: the owner never yields; "the priority value 255 is reserved for
            // the router that owns the IPvX address(es)" (§5.2.4), so a second 255 is another
            // router misconfigured as owner. The address tie-break below would hand the
            // addresses to it; the owner discards the advert instead and the daemon logs it.
            out.push(Action::OwnerConflict);
            return;
        }
        // RFC 5798 §6.4.3 / RFC 9568 §6.4.3: the addresses compare as unsigned integers in
        // network byte order, which is `IpAddr`'s ordering within one family.
        let yields = advert.priority > self.effective_priority
            || (advert.priority == self.effective_priority
                && advert.src > self.config.primary_addr);
        if yields {
            // keepalived `higher_prio_send_advert` (vrrp.c `vrrp_state_master_rx`): one advert
            // at our own priority before stepping down, not in the RFC.
            if self.config.higher_prio_send_advert {
                out.push(Action::SendAdvert {
                    priority: self.effective_priority,
                });
            }
            // RFC 9568 §6.4.3: "Cancel Adver_Timer; Set Active_Adver_Interval to Adver
            // Interval contained in the ADVERTISEMENT; Recompute the Skew_Time and
            // Active_Down_Interval; Set Active_Down_Timer to Active_Down_Interval; Transition
            // to the {Backup} state."
            self.learn_master_adver_interval(&advert);
            let down = self.master_down_interval();
            let reason = Reason::HigherPriority {
                peer: advert.src,
                peer_priority: advert.priority,
                ours: self.effective_priority,
            };
            self.enter_backup(now, down, reason, out);
            self.last_heard = Some(Heard {
                src: advert.src,
                priority: advert.priority,
                preempting: false,
            });
            return;
        }
        // RFC 9568 §6.4.3: a lower priority (or an equal one from a lower address) is
        // discarded. keepalived additionally re-asserts itself at once, so that a second
        // master (e.g. after a partition heals) steps down within one network delay, and
        // refreshes the neighbours' caches, which may have learnt the other master's MAC.
        if !self.config.lower_prio_no_advert {
            out.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
        }
        let repeat = self.config.garp.lower_prio_repeat();
        if repeat > 0 {
            out.push(Action::Announce {
                count: repeat,
                reason: AnnounceReason::LowerPriority,
            });
            let delay = self.config.garp.lower_prio_delay();
            if delay != Centis::ZERO {
                self.timers.garp_lower_prio = Some(now + delay.as_duration());
            }
        }
        // keepalived reports the event after answering it (vrrp.c `send_event_notify`).
        out.push(Action::HeardLowerPriority);
    }

    fn on_tick(&mut self, now: Time, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => {
                if take_if_due(&mut self.timers.master_down, now) {
                    if self.drained {
                        // vigil drain: no Master_Down takeover. The timer is re-armed, not
                        // left off, so that an undrain finds it running as RFC 5798 §6.4.2
                        // expects of every Backup.
                        self.timers.master_down = Some(now + self.master_down_interval());
                    } else if self.grouped {
                        // keepalived vrrp_sync_can_goto_master: a sync-group member only
                        // becomes Master with the whole group; until the node promotes it,
                        // it stays ready and re-arms its timer.
                        self.wants_master = true;
                        self.timers.master_down = Some(now + self.master_down_interval());
                    } else {
                        // RFC 5798 §6.4.2: "If the Master_Down_Timer fires, then: Send an
                        // ADVERTISEMENT, broadcast gratuitous ARP / send unsolicited NAs, set
                        // the Adver_Timer, transition to {Master}."
                        let reason = self.master_down_reason();
                        self.become_master(now, reason, out);
                    }
                }
            }
            State::Master => {
                if take_if_due(&mut self.timers.adver, now) {
                    // RFC 5798 §6.4.3: "If the Adver_Timer fires, then: Send an ADVERTISEMENT;
                    // Reset the Adver_Timer to Advertisement_Interval."
                    out.push(Action::SendAdvert {
                        priority: self.effective_priority,
                    });
                    self.timers.adver = Some(now + self.advert_interval());
                }
                if take_if_due(&mut self.timers.garp_master_delay, now)
                    && self.config.garp.master_repeat > 0
                {
                    out.push(Action::Announce {
                        count: self.config.garp.master_repeat,
                        reason: AnnounceReason::MasterDelay,
                    });
                }
                if take_if_due(&mut self.timers.garp_refresh, now) {
                    if let Some(refresh) = self
                        .config
                        .garp
                        .master_refresh
                        .filter(|r| *r != Centis::ZERO)
                    {
                        out.push(Action::Announce {
                            count: self.config.garp.master_refresh_repeat,
                            reason: AnnounceReason::Refresh,
                        });
                        self.timers.garp_refresh = Some(now + refresh.as_duration());
                    }
                }
                if take_if_due(&mut self.timers.garp_lower_prio, now) {
                    out.push(Action::Announce {
                        count: self.config.garp.lower_prio_repeat(),
                        reason: AnnounceReason::LowerPriorityDelay,
                    });
                }
            }
            // No timers run in these states; a stray tick is harmless.
            State::Initialize | State::Fault => {}
        }
    }

    /// vigil drain: a Master hands over at once as at Shutdown (RFC 5798 §6.4.3: a
    /// priority-0 advert, so a Backup takes over after its Skew_Time instead of
    /// Master_Down_Interval) but stays in the protocol as a Backup, its Master_Down_Timer
    /// running; a Backup or a faulted instance only remembers it is drained.
    fn on_drain(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.drained {
            return;
        }
        self.drained = true;
        self.wants_master = false;
        if self.state == State::Master {
            out.push(Action::SendAdvert {
                priority: Priority::STOP,
            });
            let down = self.master_down_interval();
            self.enter_backup(now, down, Reason::Drained, out);
        }
    }

    fn reevaluate_fault(&mut self, now: Time, out: &mut Vec<Action>) {
        self.reevaluate_fault_for(now, None, out);
    }

    /// `member`: the sync group member whose fault this may be.
    fn reevaluate_fault_for(
        &mut self,
        now: Time,
        member: Option<super::node::InstanceId>,
        out: &mut Vec<Action>,
    ) {
        match (self.state, self.faulted()) {
            (State::Initialize, _) => {}
            (State::Fault, false) => self.leave_fault(now, out),
            (State::Fault, true) => {}
            (_, true) => self.enter_fault(self.fault_reason(member), out),
            (_, false) => {}
        }
    }

    fn enter_fault(&mut self, reason: Reason, out: &mut Vec<Action>) {
        let from = self.state;
        if from == State::Master {
            // keepalived leaves Master for Fault with a priority-0 advert when it still can
            // (the link is up), so the Backups take over after Skew_Time instead of
            // Master_Down_Interval (RFC 5798 §6.4.2's handling of priority 0).
            if !self.link_down {
                out.push(Action::SendAdvert {
                    priority: Priority::STOP,
                });
            }
            out.push(Action::RemoveVips);
        }
        self.timers.clear();
        self.wants_master = false;
        self.last_heard = None;
        self.state = State::Fault;
        out.push(Action::Transition {
            from,
            to: State::Fault,
            reason,
        });
    }

    fn leave_fault(&mut self, now: Time, out: &mut Vec<Action>) {
        // Leaving Fault is a restart in keepalived's terms (RFC 5798 §6.4.1 once more).
        self.restart_preempt_delay(now);
        self.master_adver_interval = self.configured_interval();
        if self.is_owner() && !self.grouped && !self.drained {
            self.become_master(now, Reason::FaultCleared, out);
        } else {
            let down = if self.is_owner() {
                Duration::ZERO
            } else {
                self.master_down_interval()
            };
            self.enter_backup(now, down, Reason::FaultCleared, out);
        }
    }

    fn enter_backup(
        &mut self,
        now: Time,
        master_down: Duration,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        let from = self.state;
        if from == State::Master {
            out.push(Action::RemoveVips);
        }
        self.timers.clear();
        self.timers.master_down = Some(now + master_down);
        self.wants_master = false;
        self.last_heard = None;
        self.state = State::Backup;
        out.push(Action::Transition {
            from,
            to: State::Backup,
            reason,
        });
    }

    fn become_master(&mut self, now: Time, reason: Reason, out: &mut Vec<Action>) {
        let from = self.state;
        let garp = &self.config.garp;
        // RFC 5798 §6.4.1 / §6.4.2: send an ADVERTISEMENT, announce the addresses
        // (gratuitous ARP for IPv4, RFC 5798 §8.1.1 unsolicited NA for IPv6), set the
        // Adver_Timer to Advertisement_Interval. The addresses are installed first so that
        // replies to the announcements can be served.
        out.push(Action::InstallVips);
        out.push(Action::SendAdvert {
            priority: self.effective_priority,
        });
        if garp.master_repeat > 0 {
            out.push(Action::Announce {
                count: garp.master_repeat,
                reason: AnnounceReason::BecameMaster,
            });
        }
        self.timers.clear();
        self.timers.adver = Some(now + self.advert_interval());
        if garp.master_delay != Centis::ZERO {
            self.timers.garp_master_delay = Some(now + garp.master_delay.as_duration());
        }
        if let Some(refresh) = garp.master_refresh.filter(|r| *r != Centis::ZERO) {
            self.timers.garp_refresh = Some(now + refresh.as_duration());
        }
        self.wants_master = false;
        self.last_heard = None;
        self.state = State::Master;
        out.push(Action::Transition {
            from,
            to: State::Master,
            reason,
        });
    }

    // ---- sync-group hooks, used by `Node` (group.rs) ----

    pub(crate) fn set_grouped(&mut self, grouped: bool) {
        self.grouped = grouped;
    }

    pub(crate) fn wants_master(&self) -> bool {
        self.state == State::Backup && self.wants_master && !self.drained
    }

    /// The group lets this Backup become Master (its Master_Down_Timer fired, so the reason
    /// is that timer's).
    pub(crate) fn promote(&mut self, now: Time) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == State::Backup && !self.drained {
            let reason = self.master_down_reason();
            self.become_master(now, reason, &mut out);
        }
        out
    }

    /// Another member (`member`) left Master: this one follows to Backup.
    pub(crate) fn demote(
        &mut self,
        now: Time,
        member: Option<super::node::InstanceId>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == State::Master {
            let down = self.master_down_interval();
            self.enter_backup(now, down, Reason::SyncGroup { member }, &mut out);
        }
        out
    }

    /// Another member (`member`, when one is) is faulted, or none is any more.
    pub(crate) fn set_group_fault(
        &mut self,
        now: Time,
        member: Option<super::node::InstanceId>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let faulted = member.is_some();
        if self.group_fault != faulted {
            self.group_fault = faulted;
            self.reevaluate_fault_for(now, member, &mut out);
        }
        out
    }
}
