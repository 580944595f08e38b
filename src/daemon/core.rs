//! The core: every decision the daemon makes, in one pure state machine over all instances.
//!
//! `Core::handle(now, CoreInput)` is the only way in. It reads no clock and touches no socket:
//! `now` comes with each input, and every decision leaves through the [`Effects`] trait. The
//! driver supplies real time and `SystemEffects`; tests and `vigil replay` supply a virtual
//! time and `RecordingEffects`, so any recorded incident can be replayed exactly.
//!
//! What the core adds to the RFC state machines (`fsm::Node`): which instance a packet is for
//! (the receive task's route, checked against the current table), per-instance counters and
//! drop reasons, link state with netlink's repeats filtered out, the checkers' verdicts and
//! start gating on them (keepalived keeps an instance whose weight-0 checker has not reported
//! in INIT), restoring a VIP an operator removed, and applying a prepared reload (`reload.rs`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::cause::{Cause, Trigger};
use super::drop_log::{DropLog, DropNote, Topic};
use super::drops::{DropCounts, DropReason};
use super::group_notify::GroupSlot;
use super::input::{CoreInput, GroupPlan, Received, Route, RxAdvert, SocketKey};
use super::link_local::LinkLocals;
use super::plan::{InstancePlan, Routing};
use super::receive::RxTable;
use super::rx_checks;
use super::slot::{Phase, Slot, TransitionRecord, TxState};
use crate::fsm::{Action, AdvertRx, Input, InstanceId, Node, Reason, State, Time};
use crate::net::AddressSpec;
use crate::notify::NotifyState;
use crate::track::{TrackerUpdate, Trackers, Verdict};
use crate::types::Priority;

/// A state change, as the effects log it and notify scripts learn it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: State,
    pub to: State,
    /// The state machine's reason with the names the core knows (`cause.rs`); its Display
    /// is the log's and status's text.
    pub reason: Cause,
    /// The effective priority after the change.
    pub priority: Priority,
}

/// Carries out the core's decisions. Implementations must keep per-instance order: the core
/// calls them in the order the state machine emitted the actions.
pub trait Effects {
    /// Sends one advertisement now; `tx` is the instance's transmit state to advance.
    fn send_advert(&mut self, plan: &InstancePlan, tx: &mut TxState, priority: Priority);
    /// Adds the instance's virtual addresses: all of them, or `only` these.
    fn install(&mut self, plan: &Arc<InstancePlan>, only: Option<&[AddressSpec]>);
    /// Removes the instance's virtual addresses (all, or `only` these) and cancels its paced
    /// announcements.
    fn remove(&mut self, plan: &Arc<InstancePlan>, only: Option<&[AddressSpec]>);
    /// Adds (`up`) or removes the instance's virtual routes and rules (keepalived's
    /// `virtual_routes` / `virtual_rules`): all of them, or the `only` delta of a reload.
    /// Called after the VIPs are added and before they are removed, so a route through a
    /// VIP's subnet or from a VIP finds its address in place.
    fn routing(&mut self, plan: &Arc<InstancePlan>, up: bool, only: Option<&Routing>);
    /// A carried Master's Accept_Mode changed at a reload (RFC 5798 §6.4.3): traffic to its
    /// virtual addresses is refused (`refuse`) or accepted from now on. Otherwise `install`
    /// and `remove` carry the refusal with the addresses (the plan says whether it applies).
    fn accept_mode(&mut self, plan: &Arc<InstancePlan>, refuse: bool);
    /// Gratuitous ARPs / unsolicited NAs for every virtual address, `count` rounds.
    fn announce(&mut self, plan: &Arc<InstancePlan>, count: u8);
    /// A state change happened (logged; the notify follows separately).
    fn transition(&mut self, plan: &InstancePlan, transition: Transition);
    fn notify(&mut self, plan: &InstancePlan, state: NotifyState, priority: Priority);
    /// keepalived `notify_priority_changes`: the effective priority changed to `priority`
    /// while the instance was Master (`master`) or not; a FIFO line, no script.
    fn priority_changed(&mut self, plan: &InstancePlan, master: bool, priority: Priority);
    /// A sync group as a whole changed state (see `group_notify`).
    fn notify_group(&mut self, group: &GroupPlan, state: NotifyState);
    /// The instance's source address has become usable (IPv6 DAD over): bind its socket to
    /// it, which the kernel refused while the address was tentative.
    fn source_ready(&mut self, plan: &InstancePlan);
    /// After a reload: the receive tables to publish, the sockets and VMACs still in use (the
    /// others can go, after what is already queued).
    fn bind(&mut self, table: &RxTable);
    /// An interface a plan names appeared, or came back with a new ifindex: plan the running
    /// configuration again against the kernel (sockets reopened, bindings moved), without
    /// reading the file. The answer is a [`CoreInput::Reload`]; asked again on each relevant
    /// event until the plans match the kernel (`resync.rs`).
    fn replan(&mut self, interface: &str);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LinkState {
    pub(super) name: String,
    pub(super) up: bool,
}

pub struct Core<E: Effects> {
    pub(super) node: Node<Slot>,
    /// The sync groups' plans and announced states, at the node's group indices.
    pub(super) groups: Vec<GroupSlot>,
    pub(super) trackers: Trackers,
    /// Every interface the core has heard of, by ifindex (a deleted one stays, down, so that
    /// its name is known when it comes back under another ifindex).
    pub(super) links: BTreeMap<u32, LinkState>,
    /// Which IPv6 link-local addresses are usable (`link_local.rs`).
    pub(super) link_locals: LinkLocals,
    /// The receive table's generation: routes of another generation are stale.
    pub(super) generation: u64,
    /// Drops no instance can be blamed for (unknown VRID, malformed header, stale route).
    pub(super) socket_drops: DropCounts,
    /// keepalived `vrrp_startup_delay` (`startup_delay.rs`).
    pub(super) startup: super::startup_delay::StartupDelay,
    /// keepalived `router_id`, shown by status.
    pub(super) router_id: Option<String>,
    /// keepalived `track_src_ip`: whether each tracked source is on the box.
    pub(super) sources: super::tracked_source::TrackedSources,
    /// A re-plan was asked for and no configuration has been applied since (`resync.rs`): an
    /// address appearing may be what it was missing.
    pub(super) replan_pending: bool,
    pub(super) effects: E,
    /// Set while a reload removes instances: their shutdown is announced as keepalived
    /// announces a deleted instance ([`deleted_note`]), not as STOP.
    pub(super) deleting: bool,
    /// The event being handed to the state machines, named in the transitions and priority
    /// changes it causes (`cause.rs`); set only while it is handled.
    pub(super) trigger: Option<Trigger>,
    /// The rate limit of dropped-packet lines.
    drop_log: DropLog,
    /// Plans a reload was handed and no longer needs (`reload.rs`), for the driver to free
    /// off the loop (`take_discarded`).
    pub(super) discarded: Vec<InstancePlan>,
    /// The time of the input being handled: when a transition it causes happened.
    now: Time,
}

impl<E: Effects> Core<E> {
    /// An empty core: nothing runs until the first [`CoreInput::Reload`].
    pub fn new(effects: E) -> Self {
        Self {
            node: Node::default(),
            groups: Vec::new(),
            trackers: Trackers::new(),
            links: BTreeMap::new(),
            link_locals: LinkLocals::default(),
            generation: 0,
            socket_drops: DropCounts::default(),
            startup: Default::default(),
            router_id: None,
            sources: Default::default(),
            replan_pending: false,
            effects,
            deleting: false,
            trigger: None,
            drop_log: DropLog::default(),
            discarded: Vec::new(),
            now: Time::ZERO,
        }
    }

    pub fn effects(&self) -> &E {
        &self.effects
    }

    pub fn effects_mut(&mut self) -> &mut E {
        &mut self.effects
    }

    pub fn into_effects(self) -> E {
        self.effects
    }

    /// The prepared plans the last reload did not keep (it runs on copies, or on the plans
    /// it had): freeing thousands of them is work for another thread than the loop's.
    pub fn take_discarded(&mut self) -> Vec<InstancePlan> {
        std::mem::take(&mut self.discarded)
    }

    pub fn len(&self) -> usize {
        self.node.len()
    }

    pub fn is_empty(&self) -> bool {
        self.node.is_empty()
    }

    /// The instance named `name`, with its state machine and slot.
    pub fn instance(&self, name: &str) -> Option<(&crate::fsm::Instance, &Slot)> {
        self.node
            .iter()
            .find(|(_, _, s)| s.plan.name() == name)
            .map(|(_, i, s)| (i, s))
    }

    /// When the core next needs a [`CoreInput::Tick`].
    pub fn next_deadline(&self) -> Option<Time> {
        let node = self.node.next_deadline();
        match self.startup.until() {
            Some(at) => Some(node.map_or(at, |n| n.min(at))),
            None => node,
        }
    }

    pub fn handle(&mut self, now: Time, input: CoreInput) {
        self.now = now;
        match input {
            CoreInput::Reload(prepared) => {
                self.reload(now, *prepared);
            }
            CoreInput::Tick => {
                self.end_startup_delay(now);
                let actions = self.node.tick(now);
                self.apply(actions);
            }
            CoreInput::Packet {
                socket, received, ..
            } => self.on_packet(now, socket, received),
            CoreInput::Link { ifindex, name, up } => self.on_link(now, ifindex, name, up),
            CoreInput::LinkRemoved { ifindex, name } => self.on_link_removed(now, ifindex, name),
            CoreInput::AddressAdded {
                ifindex,
                addr,
                tentative,
            } => {
                self.on_link_local(now, ifindex, addr, !tentative);
                if !tentative {
                    self.on_tracked_source(now, addr, true);
                }
                // An interface that came back without its address could not be planned yet.
                if !tentative {
                    // Only while a re-plan is outstanding: every address event comes here (a
                    // mass failover's VIPs among them), and the check scans every plan.
                    if self.replan_pending {
                        self.replan_if_stale_index(ifindex);
                    }
                }
            }
            CoreInput::AddressRemoved { ifindex, addr } => {
                self.on_link_local(now, ifindex, addr, false);
                self.on_tracked_source(now, addr, false);
                self.on_address_removed(ifindex, addr);
            }
            CoreInput::Tracker(update) => self.on_tracker(now, &update),
            CoreInput::Resync(snapshot) => self.resync(now, &snapshot),
            CoreInput::Shutdown => {
                // RFC 5798 §6.4.3: a Master sends priority 0 so a Backup takes over after
                // Skew_Time instead of Master_Down_Interval, then removes its addresses.
                let actions = self.node.handle_all(now, Input::Shutdown);
                self.apply(actions);
                // keepalived's notify_shutdown: every group announces STOP after its members.
                self.stop_groups(|_| true);
            }
            CoreInput::Drain { name, drained } => self.on_drain(now, name.as_deref(), drained),
        }
    }

    /// The instance a route names: as it is under the current receive table; under the one a
    /// reload replaced, looked up again by socket and VRID (a scan, for the few packets in
    /// flight across a reload).
    fn resolve(&self, socket: SocketKey, route: Route) -> Option<InstanceId> {
        if route.generation == self.generation {
            return (route.id.0 < self.node.len()).then_some(route.id);
        }
        self.node
            .iter()
            .find(|(_, _, s)| s.plan.socket == socket && s.plan.fsm.vrid.get() == route.vrid)
            .map(|(id, _, _)| id)
    }

    fn on_packet(&mut self, now: Time, socket: SocketKey, received: Received) {
        match received {
            Received::Dropped {
                route,
                reason,
                peer,
                detail,
            } => {
                let id = route.and_then(|r| self.resolve(socket, r));
                match id {
                    Some(id) => {
                        if let Some(slot) = self.node.data_mut(id) {
                            slot.counters.drops.count(reason);
                        }
                    }
                    None => self.socket_drops.count(reason),
                }
                self.log_drop(
                    now,
                    id,
                    DropNote {
                        reason,
                        peer,
                        detail,
                    },
                );
            }
            Received::Advert { route, advert } => {
                let Some(id) = self.resolve(socket, route) else {
                    // Its instance is gone with the reload.
                    self.socket_drops.count(DropReason::StaleRoute);
                    return;
                };
                let state = self
                    .node
                    .instance(id)
                    .map_or(State::Initialize, |i| i.state());
                let Some(slot) = self.node.data_mut(id) else {
                    return;
                };
                // The checks that need the instance's state: AH replay, the address list.
                // Dropped, or taken with a warning (an address list that differs, RFC 5798
                // §7.1, on an advert that is taken anyway): either way logged the same way.
                let (note, dropped) = match rx_checks::check(slot, state, now, &advert) {
                    Err((reason, detail)) => {
                        slot.counters.drops.count(reason);
                        (Some((reason, detail)), true)
                    }
                    Ok(Some(d)) => (Some((DropReason::AddressListMismatch, Some(d))), false),
                    Ok(None) => (None, false),
                };
                if let Some((reason, detail)) = note {
                    let peer = Some(advert.src);
                    let note = DropNote {
                        reason,
                        peer,
                        detail,
                    };
                    self.log_drop(now, Some(id), note);
                }
                if dropped {
                    return;
                }
                let Some(slot) = self.node.data_mut(id) else {
                    return;
                };
                let RxAdvert {
                    src,
                    priority,
                    max_advert_int,
                    ah_sequence: _,
                    addresses_match: _,
                    hmac: _,
                } = advert;
                slot.counters.adverts_received += 1;
                if priority == Priority::STOP {
                    slot.counters.priority_zero_received += 1;
                } else {
                    slot.counters.last_master = Some(src);
                    slot.counters.last_master_priority = priority.get();
                }
                let rx = AdvertRx {
                    src,
                    priority,
                    max_advert_int,
                };
                let actions = self.node.handle(now, id, Input::Advert(rx));
                if actions
                    .iter()
                    .any(|(i, a)| *i == id && *a == Action::HeardLowerPriority)
                {
                    self.log_lower_priority(now, id, src, priority);
                }
                if actions
                    .iter()
                    .any(|(i, a)| *i == id && *a == Action::OwnerConflict)
                {
                    self.owner_conflict(now, id, src);
                }
                self.apply(actions);
            }
        }
    }

    /// keepalived logs every lower-priority advert a Master hears ("Received advert from X
    /// with lower priority Y, ours Z"): two masters, a split brain healing or not. Once a
    /// minute per instance here, with the count of the others (`drop_log.rs`).
    fn log_lower_priority(&mut self, now: Time, id: InstanceId, src: IpAddr, priority: Priority) {
        let Some(suppressed) =
            self.drop_log
                .admit(now, self.generation, Some(id), Topic::LowerPriority)
        else {
            return;
        };
        let (Some(inst), Some(slot)) = (self.node.instance(id), self.node.data(id)) else {
            return;
        };
        tracing::warn!(
            instance = %slot.plan.name(),
            suppressed,
            "master heard an advertisement from {src} with lower priority {}, ours {}{}",
            priority.get(),
            inst.effective_priority().get(),
            if slot.plan.fsm.lower_prio_no_advert {
                ""
            } else {
                ": advertising at once to make it step down"
            }
        );
    }

    /// The owner discarded another router's priority-255 advert (`fsm::Action::OwnerConflict`):
    /// counted and logged as a drop, rate-limited like the others.
    fn owner_conflict(&mut self, now: Time, id: InstanceId, src: IpAddr) {
        let reason = DropReason::OwnerConflict;
        if let Some(slot) = self.node.data_mut(id) {
            slot.counters.drops.count(reason);
        }
        let note = DropNote {
            reason,
            peer: Some(src),
            detail: None,
        };
        self.log_drop(now, Some(id), note);
    }

    /// Logs a drop, at most once a minute per instance and reason (`drop_log.rs`).
    fn log_drop(&mut self, now: Time, id: Option<InstanceId>, note: DropNote) {
        if super::drop_log::level(note.reason).is_none() {
            return;
        }
        let topic = Topic::Drop(note.reason);
        if let Some(suppressed) = self.drop_log.admit(now, self.generation, id, topic) {
            let name = id.and_then(|id| self.node.data(id)).map(|s| s.plan.name());
            super::drop_log::log(name, &note, suppressed);
        }
    }

    /// Interfaces: tracked ones are checkers; the instances on one follow its up/down, and
    /// only a change is an event (netlink repeats a link message on any attribute change).
    pub(super) fn on_link(&mut self, now: Time, ifindex: u32, name: String, up: bool) {
        self.on_tracker(now, &TrackerUpdate::interface(name.clone(), up));
        self.replan_if_stale(ifindex, &name);
        let before = self.links.insert(
            ifindex,
            LinkState {
                name: name.clone(),
                up,
            },
        );
        if before.is_none_or(|b| b.up == up) {
            return;
        }
        let on_link: Vec<InstanceId> = self
            .node
            .iter()
            // keepalived `dont_track_primary`: the link is not the instance's to follow.
            .filter(|(_, _, s)| {
                !s.plan.dont_track_primary
                    && (s.plan.ifindex == ifindex
                        || s.plan.vmac.as_ref().is_some_and(|v| v.name == name))
            })
            .map(|(id, _, _)| id)
            .collect();
        let outer = self.trigger.replace(Trigger::Link { name, up });
        for id in on_link {
            // An IPv6 instance whose link-local source is still tentative waits in Fault
            // (`link_local.rs`), as does one whose tracked source is gone.
            if let Some(plan) = self.node.data(id).map(|s| s.plan.clone()) {
                self.follow_usability(now, id, &plan);
            }
        }
        self.trigger = outer;
    }

    pub(super) fn link_up(&self, ifindex: u32) -> bool {
        self.links.get(&ifindex).is_some_and(|l| l.up)
    }

    /// Whether the instance's VMAC, if it has one, is up: keepalived runs a `use_vmac`
    /// instance on the VMAC, so one set down (by an administrator) puts it in FAULT until it
    /// is up again, rather than leaving a Master whose virtual addresses nobody can reach
    /// beside the Backup that took over. A VMAC not seen yet (being created) does not count.
    pub(super) fn vmac_up(&self, plan: &InstancePlan) -> bool {
        let Some(vmac) = &plan.vmac else {
            return true;
        };
        let mut seen = self
            .links
            .values()
            .filter(|l| l.name == vmac.name)
            .peekable();
        seen.peek().is_none() || seen.any(|l| l.up)
    }

    /// Records the interfaces a prepared configuration saw, keeping what the core has heard
    /// since for the ones it knows.
    pub(super) fn learn_links(&mut self, facts: &[super::input::LinkFact]) {
        self.link_locals.learn(facts);
        for f in facts {
            self.links.entry(f.ifindex).or_insert_with(|| LinkState {
                name: f.name.clone(),
                up: f.up,
            });
        }
    }

    /// Reports every tracked interface's state to the trackers (a missing one is down).
    pub(super) fn report_tracked_interfaces(&mut self) {
        let updates: Vec<TrackerUpdate> = self
            .trackers
            .interfaces()
            .map(|name| {
                let up = self.links.values().any(|l| l.name == name && l.up);
                TrackerUpdate::interface(name.to_owned(), up)
            })
            .collect();
        for u in updates {
            self.trackers.update(&u);
        }
    }

    pub(super) fn on_address_removed(&mut self, ifindex: u32, addr: IpAddr) {
        for (_, inst, slot) in self.node.iter() {
            if inst.state() != State::Master {
                continue;
            }
            let Some(spec) = slot
                .plan
                .vips
                .iter()
                .find(|v| v.ifindex == ifindex && v.addr == addr)
            else {
                continue;
            };
            if slot
                .plan
                .vips_no_track
                .as_ref()
                .is_some_and(|u| u.contains(&addr))
            {
                // keepalived's `no_track`: not watched; back at the next transition to master.
                tracing::info!(
                    instance = %slot.plan.name(),
                    %addr,
                    "virtual address removed from the interface while master: not restored (no_track)"
                );
                return;
            }
            tracing::warn!(
                instance = %slot.plan.name(),
                %addr,
                "virtual address removed from the interface while master: restoring it"
            );
            let (plan, spec) = (slot.plan.clone(), spec.clone());
            self.effects
                .install(&plan, Some(std::slice::from_ref(&spec)));
            return;
        }
    }

    fn on_tracker(&mut self, now: Time, update: &TrackerUpdate) {
        let watchers = self.trackers.update(update);
        if watchers.is_empty() {
            return;
        }
        let outer = self.trigger.replace(Trigger::Tracker(update.clone()));
        for index in watchers {
            self.refresh_verdict(now, InstanceId(index));
        }
        self.trigger = outer;
    }

    /// Gives an instance its checkers' current verdict if it changed, and starts an instance
    /// that was waiting for it.
    pub(super) fn refresh_verdict(&mut self, now: Time, id: InstanceId) {
        let Some(slot) = self.node.data(id) else {
            return;
        };
        let mut verdict = self.trackers.verdict(&slot.plan.tracking);
        // A configuration fault (`InstancePlan::config_fault`) is a checker that never recovers.
        verdict.faulted |= slot.plan.config_fault.is_some();
        match slot.phase {
            Phase::AwaitingCheckers => {
                if !verdict.pending && !self.startup.holds(now) {
                    self.start(now, id, verdict);
                }
            }
            Phase::Started => {
                if verdict == slot.verdict {
                    return;
                }
                if let Some(slot) = self.node.data_mut(id) {
                    slot.verdict = verdict;
                }
                let before = self
                    .node
                    .instance(id)
                    .map(|i| (i.effective_priority(), i.state()));
                let actions = self.node.handle(now, id, tracker_input(verdict));
                self.report_priority(id, before);
                self.apply(actions);
            }
        }
    }

    /// keepalived `notify_priority_changes` (vrrp_track.c): a changed effective priority is
    /// reported with the state the instance had when it changed, before what follows from it.
    fn report_priority(&mut self, id: InstanceId, before: Option<(Priority, State)>) {
        let Some((old, state)) = before else { return };
        let Some(after) = self.node.instance(id).map(|i| i.effective_priority()) else {
            return;
        };
        let Some(slot) = self.node.data(id) else {
            return;
        };
        if after != old {
            let line = super::cause::priority_change(
                &slot.plan.tracking,
                old,
                after,
                self.trigger.as_ref(),
            );
            tracing::info!(instance = %slot.plan.name(), "{line}");
        }
        if after != old && slot.plan.notify_priority_changes {
            let plan = slot.plan.clone();
            self.effects
                .priority_changed(&plan, state == State::Master, after);
        }
    }

    /// RFC 5798 §6.4.1 Startup, once the instance's checkers allow it: first what holds it
    /// (its link, its checkers), so a down link starts it in Fault.
    fn start(&mut self, now: Time, id: InstanceId, verdict: Verdict) {
        let Some(slot) = self.node.data_mut(id) else {
            return;
        };
        slot.verdict = verdict;
        slot.phase = Phase::Started;
        let plan = slot.plan.clone();
        if let Some(why) = &plan.config_fault {
            tracing::warn!(instance = %plan.name(), "{why}");
        }
        let mut inputs = Vec::with_capacity(3);
        // A down link, or an IPv6 source still tentative (`link_local.rs`), starts it in Fault.
        if !self.usable(&plan) {
            self.log_waiting(&plan);
            inputs.push(Input::LinkDown);
        }
        if verdict != Verdict::default() {
            inputs.push(tracker_input(verdict));
        }
        inputs.push(Input::Startup);
        for input in inputs {
            let actions = self.node.handle(now, id, input);
            self.apply(actions);
        }
    }

    /// Carries out the state machines' actions, in order.
    pub(super) fn apply(&mut self, actions: Vec<(InstanceId, Action)>) {
        // The sync groups whose members changed state: announced once the batch is done.
        let mut touched: Vec<usize> = Vec::new();
        for (id, action) in actions {
            if matches!(action, Action::Transition { .. })
                && let Some(g) = self.group_index(id)
                && !touched.contains(&g)
            {
                touched.push(g);
            }
            let priority = self
                .node
                .instance(id)
                .map_or(Priority::STOP, |i| i.effective_priority());
            let Some(slot) = self.node.data_mut(id) else {
                continue;
            };
            match action {
                Action::SendAdvert { priority } => {
                    slot.counters.adverts_sent += 1;
                    if priority == Priority::STOP {
                        slot.counters.priority_zero_sent += 1;
                    }
                    self.effects.send_advert(&slot.plan, &mut slot.tx, priority);
                }
                // keepalived's vrrp_state_become_master adds addresses, then routes, then
                // rules; vrrp_restore_interface takes them away in the reverse order.
                Action::InstallVips => {
                    self.effects.install(&slot.plan, None);
                    if slot.plan.routing.is_some() {
                        self.effects.routing(&slot.plan, true, None);
                    }
                }
                Action::RemoveVips => {
                    if slot.plan.routing.is_some() {
                        self.effects.routing(&slot.plan, false, None);
                    }
                    self.effects.remove(&slot.plan, None);
                }
                Action::Announce { count, .. } => self.effects.announce(&slot.plan, count),
                // keepalived's `send_event_notify`: the FIFO line always, the script if set.
                Action::HeardLowerPriority => {
                    self.effects
                        .notify(&slot.plan, NotifyState::MasterRxLowerPri, priority);
                }
                // Counted and logged by `on_packet`, which sees the sender.
                Action::OwnerConflict => {}
                Action::Transition { from, to, reason } => {
                    slot.counters.transitions += 1;
                    if to == State::Master {
                        slot.counters.became_master += 1;
                    }
                    slot.counters.history.push(TransitionRecord {
                        at: self.now,
                        from,
                        to,
                        reason,
                        priority,
                    });
                    let detail = match reason {
                        Reason::SyncGroup { member: Some(m) } => {
                            self.node.data(m).map(|s| Box::from(s.plan.name()))
                        }
                        Reason::LinkDown | Reason::TrackerFault | Reason::FaultCleared => {
                            self.trigger.as_ref().map(|t| t.to_string().into())
                        }
                        _ => None,
                    };
                    let Some(slot) = self.node.data_mut(id) else {
                        continue;
                    };
                    self.effects.transition(
                        &slot.plan,
                        Transition {
                            from,
                            to,
                            reason: Cause { reason, detail },
                            priority,
                        },
                    );
                    let note = match (to, reason) {
                        (State::Master, _) => Some(NotifyState::Master),
                        (State::Backup, _) => Some(NotifyState::Backup),
                        (State::Fault, _) => Some(NotifyState::Fault),
                        (State::Initialize, Reason::Shutdown) if self.deleting => {
                            deleted_note(slot.plan.notify_scripts().notify_deleted, from)
                        }
                        (State::Initialize, Reason::Shutdown) => Some(NotifyState::Stop),
                        (State::Initialize, _) => None,
                    };
                    if let Some(state) = note {
                        self.effects.notify(&slot.plan, state, priority);
                    }
                }
            }
        }
        self.announce_groups(&touched);
    }
}

/// How the removal of an instance by a reload is announced, leaving state `from`
/// (keepalived vrrp.c `clear_diff_vrrp` and vrrp_notify.c `send_instance_notifies`): DELETED
/// with `notify_deleted`; otherwise FAULT, as keepalived did before `notify_deleted`
/// existed, and nothing at all for an instance already in FAULT.
pub(super) fn deleted_note(notify_deleted: bool, from: State) -> Option<NotifyState> {
    if notify_deleted {
        Some(NotifyState::Deleted)
    } else if from == State::Fault {
        None
    } else {
        Some(NotifyState::Fault)
    }
}

/// A checkers' verdict as the state machine takes it.
fn tracker_input(v: Verdict) -> Input {
    Input::TrackerChanged {
        weight_sum: v.weight_sum,
        faulted: v.faulted,
    }
}
