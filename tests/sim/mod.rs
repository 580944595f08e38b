//! A deterministic simulator for `vigil::fsm`: routers each holding one `fsm::Node`, a virtual
//! clock, and a virtual LAN with per-link loss, delay, duplication, reordering and partitions,
//! all driven by one seeded PRNG. No threads, no real time: a run is a pure function of its
//! seed and scenario, so a failing seed replays exactly.

#![allow(dead_code)] // each test binary uses a different part of the support code

pub mod link;
pub mod rng;
pub mod trace;

use std::collections::BTreeMap;
use std::time::Duration;

use vigil::fsm::{Action, AdvertRx, Input, InstanceConfig, InstanceId, Node, State, Time};
use vigil::types::Vrid;

pub use link::LinkProfile;
pub use rng::Rng;
pub use trace::{AdvertRec, RxRec, TraceLine, TransitionRec};

/// What a router runs. With `sync_group`, all its instances form one sync group.
#[derive(Debug, Clone)]
pub struct RouterSpec {
    pub configs: Vec<InstanceConfig>,
    pub sync_group: bool,
}

struct Router {
    spec: RouterSpec,
    node: Node,
    up: bool,
    partition: u8,
}

#[derive(Debug, Clone)]
enum Event {
    Deliver {
        to: usize,
        vrid: Vrid,
        advert: AdvertRx,
    },
    Start(usize),
    Crash(usize),
    Input {
        router: usize,
        vrid: Option<Vrid>,
        input: Input,
    },
    Partition(Vec<u8>),
    Link {
        from: usize,
        to: usize,
        profile: LinkProfile,
    },
}

/// What made a node act: its own timer, a priority-0 advert for a VRID, or anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Timer,
    StopAdvert(Vrid),
    Event,
}

fn humantime(d: Duration) -> String {
    format!("{d:?}")
}

/// Bounds a run so a bug that re-arms a timer in the past fails instead of hanging.
const MAX_STEPS: u64 = 2_000_000;

pub struct Sim {
    pub seed: u64,
    pub now: Time,
    pub rng: Rng,
    routers: Vec<Router>,
    links: Vec<Vec<LinkProfile>>,
    queue: BTreeMap<(Time, u64), Event>,
    seq: u64,
    steps: u64,
    pub transitions: Vec<TransitionRec>,
    pub adverts: Vec<AdvertRec>,
    pub received: Vec<RxRec>,
    pub trace: Vec<TraceLine>,
    /// Broken invariants seen while running, checked after every node call: sync-group
    /// members split, a master's advert off its cadence or carrying another priority than
    /// its effective one, virtual addresses held in a state other than Master.
    pub violations: Vec<String>,
    /// Per (router, VRID) while it is Master: when its Adver_Timer was last set (its last
    /// timed advert, or the one it sent on becoming Master or answering a priority 0).
    adver_anchor: BTreeMap<(usize, Vrid), Time>,
    /// Per (router, VRID): whether its virtual addresses are installed, as the node's
    /// InstallVips / RemoveVips actions left them.
    holds_vips: BTreeMap<(usize, Vrid), bool>,
}

impl Sim {
    pub fn new(seed: u64, specs: Vec<RouterSpec>, link: LinkProfile) -> Sim {
        let n = specs.len();
        let routers = specs
            .into_iter()
            .map(|spec| Router {
                node: build_node(&spec),
                spec,
                up: false,
                partition: 0,
            })
            .collect();
        Sim {
            seed,
            now: Time::ZERO,
            rng: Rng::new(seed),
            routers,
            links: vec![vec![link; n]; n],
            queue: BTreeMap::new(),
            seq: 0,
            steps: 0,
            transitions: Vec::new(),
            adverts: Vec::new(),
            received: Vec::new(),
            trace: Vec::new(),
            violations: Vec::new(),
            adver_anchor: BTreeMap::new(),
            holds_vips: BTreeMap::new(),
        }
    }

    pub fn routers(&self) -> usize {
        self.routers.len()
    }

    fn schedule(&mut self, at: Time, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Starts (or restarts, with fresh state) a router at `at`.
    pub fn start_at(&mut self, at: Time, router: usize) {
        self.schedule(at, Event::Start(router));
    }

    /// The router stops dead: no Shutdown, no more packets.
    pub fn crash_at(&mut self, at: Time, router: usize) {
        self.schedule(at, Event::Crash(router));
    }

    pub fn input_at(&mut self, at: Time, router: usize, vrid: Option<Vrid>, input: Input) {
        self.schedule(
            at,
            Event::Input {
                router,
                vrid,
                input,
            },
        );
    }

    /// Routers only hear each other when they are on the same side.
    pub fn partition_at(&mut self, at: Time, sides: Vec<u8>) {
        self.schedule(at, Event::Partition(sides));
    }

    pub fn link_at(&mut self, at: Time, from: usize, to: usize, profile: LinkProfile) {
        self.schedule(at, Event::Link { from, to, profile });
    }

    pub fn all_links_at(&mut self, at: Time, profile: LinkProfile) {
        for from in 0..self.routers.len() {
            for to in 0..self.routers.len() {
                if from != to {
                    self.link_at(at, from, to, profile);
                }
            }
        }
    }

    /// Runs every event and timer up to and including `end`.
    pub fn run_until(&mut self, end: Time) -> Result<(), String> {
        loop {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(self.failure(&format!(
                    "no progress after {MAX_STEPS} steps (a timer in the past?)"
                )));
            }
            let event_at = self.queue.first_key_value().map(|(k, _)| k.0);
            let tick_at = self
                .routers
                .iter()
                .filter(|r| r.up)
                .filter_map(|r| r.node.next_deadline())
                .min();
            let next = match (event_at, tick_at) {
                (Some(e), Some(t)) => e.min(t),
                (Some(e), None) => e,
                (None, Some(t)) => t,
                (None, None) => break,
            };
            if next > end {
                break;
            }
            if next < self.now {
                return Err(self.failure(&format!("time went backwards: {next} < {}", self.now)));
            }
            self.check_silent_masters(next);
            self.now = next;
            // Packets and scripted events at an instant go before the timers due then.
            if event_at == Some(next) {
                if let Some((_, event)) = self.queue.pop_first() {
                    self.apply(event);
                }
            } else {
                for r in 0..self.routers.len() {
                    let due = self
                        .routers
                        .get(r)
                        .is_some_and(|x| x.up && x.node.next_deadline().is_some_and(|d| d <= next));
                    if due {
                        let actions = self
                            .routers
                            .get_mut(r)
                            .map(|x| x.node.tick(next))
                            .unwrap_or_default();
                        self.carry_out_from(r, actions, Cause::Timer);
                    }
                }
            }
        }
        self.now = self.now.max(end);
        // Every run checks the invariants, whatever its test asserts besides.
        match self.violations.first() {
            Some(v) => Err(self.failure(&format!("invariant broken: {v}"))),
            None => Ok(()),
        }
    }

    fn apply(&mut self, event: Event) {
        let now = self.now;
        match event {
            Event::Deliver { to, vrid, advert } => {
                let Some(id) = self.instance_id(to, vrid) else {
                    return;
                };
                let Some(router) = self.routers.get_mut(to).filter(|r| r.up) else {
                    return;
                };
                let actions = router.node.handle(now, id, Input::Advert(advert));
                self.received.push(RxRec {
                    at: now,
                    router: to,
                    vrid,
                    advert,
                });
                let cause = if advert.priority == vigil::types::Priority::STOP {
                    Cause::StopAdvert(vrid)
                } else {
                    Cause::Event
                };
                self.carry_out_from(to, actions, cause);
            }
            Event::Start(r) => {
                let Some(router) = self.routers.get_mut(r) else {
                    return;
                };
                router.node = build_node(&router.spec);
                router.up = true;
                // A fresh daemon: nothing installed (residual addresses are removed at
                // start, daemon/residual.rs), no advert timer.
                self.holds_vips.retain(|k, _| k.0 != r);
                self.adver_anchor.retain(|k, _| k.0 != r);
                let actions = router.node.handle_all(now, Input::Startup);
                self.trace.push(TraceLine::Start { at: now, router: r });
                self.carry_out(r, actions);
            }
            Event::Crash(r) => {
                if let Some(router) = self.routers.get_mut(r) {
                    router.up = false;
                }
                // A dead router sends nothing: its cadence is no longer checked.
                self.adver_anchor.retain(|k, _| k.0 != r);
                self.trace.push(TraceLine::Crash { at: now, router: r });
            }
            Event::Input {
                router: r,
                vrid,
                input,
            } => {
                let id = vrid.and_then(|v| self.instance_id(r, v));
                let Some(router) = self.routers.get_mut(r).filter(|x| x.up) else {
                    return;
                };
                let actions = match id {
                    Some(id) => router.node.handle(now, id, input),
                    None => router.node.handle_all(now, input),
                };
                self.trace.push(TraceLine::Input {
                    at: now,
                    router: r,
                    vrid,
                    input,
                });
                self.carry_out(r, actions);
            }
            Event::Partition(sides) => {
                for (router, side) in self.routers.iter_mut().zip(sides.iter()) {
                    router.partition = *side;
                }
                self.trace.push(TraceLine::Partition { at: now, sides });
            }
            Event::Link { from, to, profile } => {
                if let Some(slot) = self.links.get_mut(from).and_then(|row| row.get_mut(to)) {
                    *slot = profile;
                }
                self.trace.push(TraceLine::Link {
                    at: now,
                    from,
                    to,
                    profile,
                });
            }
        }
    }

    fn carry_out(&mut self, r: usize, actions: Vec<(InstanceId, Action)>) {
        self.carry_out_from(r, actions, Cause::Event);
    }

    fn carry_out_from(&mut self, r: usize, actions: Vec<(InstanceId, Action)>, cause: Cause) {
        self.check_adverts_and_vips(r, &actions, cause);
        let now = self.now;
        for (id, action) in actions {
            let Some(config) = self.routers.get(r).and_then(|x| x.spec.configs.get(id.0)) else {
                continue;
            };
            let (vrid, src) = (config.vrid, config.primary_addr);
            let interval = config.advert_int;
            match action {
                Action::SendAdvert { priority } => {
                    self.adverts.push(AdvertRec {
                        at: now,
                        router: r,
                        vrid,
                        priority,
                    });
                    self.trace.push(TraceLine::Tx {
                        at: now,
                        router: r,
                        vrid,
                        priority,
                    });
                    let advert = AdvertRx {
                        src,
                        priority,
                        max_advert_int: interval,
                    };
                    self.broadcast(r, vrid, advert);
                }
                Action::Transition { from, to, reason } => {
                    let rec = TransitionRec {
                        at: now,
                        router: r,
                        vrid,
                        from,
                        to,
                        reason,
                    };
                    self.transitions.push(rec);
                    self.trace.push(TraceLine::Transition(rec));
                }
                Action::InstallVips
                | Action::RemoveVips
                | Action::Announce { .. }
                | Action::HeardLowerPriority
                | Action::OwnerConflict => {}
            }
        }
        self.check_sync_group(r);
    }

    fn broadcast(&mut self, from: usize, vrid: Vrid, advert: AdvertRx) {
        let side = self.routers.get(from).map(|r| r.partition);
        for to in 0..self.routers.len() {
            if to == from {
                continue;
            }
            let profile = self
                .links
                .get(from)
                .and_then(|row| row.get(to))
                .copied()
                .unwrap_or(LinkProfile::fixed(0));
            let same_side = self.routers.get(to).map(|r| r.partition) == side;
            if !same_side || self.rng.chance(profile.loss) {
                self.trace.push(TraceLine::Lost {
                    at: self.now,
                    from,
                    to,
                    vrid,
                });
                continue;
            }
            let copies = if self.rng.chance(profile.duplicate) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let mut delay = self.rng.range(profile.delay_min_us, profile.delay_max_us);
                if self.rng.chance(profile.reorder) {
                    delay += self.rng.range(0, profile.reorder_extra_us);
                }
                let at = self.now + Duration::from_micros(delay);
                self.schedule(at, Event::Deliver { to, vrid, advert });
            }
        }
    }

    /// A master's adverts (RFC 5798 §6.4.3): one when it becomes Master, then one each time
    /// the Adver_Timer fires, exactly Advertisement_Interval after it was last set (by the
    /// previous timed advert, by becoming Master, or by answering a priority-0 advert); extra
    /// adverts answer a lower priority (keepalived) or precede stepping down
    /// (`higher_prio_send_advert`) and do not move the timer. Every advert carries the
    /// effective priority, except the priority-0 one sent when leaving Master. Virtual
    /// addresses are installed exactly while Master.
    fn check_adverts_and_vips(&mut self, r: usize, actions: &[(InstanceId, Action)], cause: Cause) {
        let now = self.now;
        let Some(router) = self.routers.get(r) else {
            return;
        };
        let mut seen: Vec<InstanceId> = actions.iter().map(|(id, _)| *id).collect();
        seen.dedup();
        for id in seen {
            let Some(config) = router.spec.configs.get(id.0) else {
                continue;
            };
            let Some(inst) = router.node.instance(id) else {
                continue;
            };
            let vrid = config.vrid;
            let key = (r, vrid);
            let mine = actions.iter().filter(|(i, _)| *i == id).map(|(_, a)| a);
            let became = mine.clone().any(|a| {
                matches!(
                    a,
                    Action::Transition {
                        to: State::Master,
                        ..
                    }
                )
            });
            let left = mine
                .clone()
                .any(|a| matches!(a, Action::Transition { from: State::Master, to, .. } if *to != State::Master));
            let interval = config.advert_int.as_duration();
            for a in mine.clone() {
                match a {
                    Action::SendAdvert { priority } if priority.get() == 0 && !left => {
                        self.violations.push(format!(
                            "{now} r{r} vrid {vrid}: priority-0 advert without leaving Master"
                        ));
                    }
                    Action::SendAdvert { priority } if priority.get() == 0 => {}
                    Action::SendAdvert { priority } => {
                        if *priority != inst.effective_priority() {
                            self.violations.push(format!(
                                "{now} r{r} vrid {vrid}: advert carries priority {priority}, effective priority is {}",
                                inst.effective_priority()
                            ));
                        }
                        let timed = matches!(cause, Cause::Timer) && !became;
                        let answers_stop = matches!(cause, Cause::StopAdvert(v) if v == vrid);
                        if became || answers_stop {
                            self.adver_anchor.insert(key, now);
                        } else if timed {
                            match self.adver_anchor.get(&key) {
                                Some(&anchor) if anchor + interval == now => {
                                    self.adver_anchor.insert(key, now);
                                }
                                Some(&anchor) => self.violations.push(format!(
                                    "{now} r{r} vrid {vrid}: timed advert {} after the Adver_Timer was set, want {interval:?}",
                                    humantime(now.saturating_sub(anchor))
                                )),
                                None => self.violations.push(format!(
                                    "{now} r{r} vrid {vrid}: timed advert while not Master"
                                )),
                            }
                        }
                    }
                    Action::InstallVips => {
                        self.holds_vips.insert(key, true);
                    }
                    Action::RemoveVips => {
                        self.holds_vips.insert(key, false);
                    }
                    _ => {}
                }
            }
            if left || inst.state() != State::Master {
                self.adver_anchor.remove(&key);
            }
            let holds = self.holds_vips.get(&key).copied().unwrap_or(false);
            if holds != (inst.state() == State::Master) {
                self.violations.push(format!(
                    "{now} r{r} vrid {vrid}: state {} but virtual addresses {}",
                    inst.state(),
                    if holds { "installed" } else { "not installed" }
                ));
            }
        }
    }

    /// Before time moves to `next`: every running master's Adver_Timer fires on time, so no
    /// master goes a whole Advertisement_Interval without a timed advert.
    fn check_silent_masters(&mut self, next: Time) {
        let mut late = Vec::new();
        for (&(r, vrid), &anchor) in &self.adver_anchor {
            let interval = self
                .routers
                .get(r)
                .and_then(|x| x.spec.configs.iter().find(|c| c.vrid == vrid))
                .map(|c| c.advert_int.as_duration());
            if let Some(interval) = interval
                && next > anchor + interval
            {
                late.push(format!(
                    "{next} r{r} vrid {vrid}: Master silent since {anchor}, past its interval {interval:?}"
                ));
            }
        }
        self.violations.extend(late);
    }

    /// Sync-group invariant, checked after every node call: no member is Master while another
    /// is Backup.
    fn check_sync_group(&mut self, r: usize) {
        let Some(router) = self.routers.get(r) else {
            return;
        };
        if !router.spec.sync_group {
            return;
        }
        let states: Vec<State> = router.node.instances().map(|(_, i)| i.state()).collect();
        if states.contains(&State::Master) && states.contains(&State::Backup) {
            self.violations
                .push(format!("{} r{r}: sync group split {states:?}", self.now));
        }
    }

    fn instance_id(&self, r: usize, vrid: Vrid) -> Option<InstanceId> {
        let router = self.routers.get(r)?;
        router
            .spec
            .configs
            .iter()
            .position(|c| c.vrid == vrid)
            .map(InstanceId)
    }

    pub fn instance(&self, r: usize, vrid: Vrid) -> Option<&vigil::fsm::Instance> {
        let id = self.instance_id(r, vrid)?;
        self.routers.get(r).filter(|x| x.up)?.node.instance(id)
    }

    pub fn state(&self, r: usize, vrid: Vrid) -> Option<State> {
        self.instance(r, vrid).map(|i| i.state())
    }

    pub fn is_up(&self, r: usize) -> bool {
        self.routers.get(r).is_some_and(|x| x.up)
    }

    /// The running routers that are Master for `vrid` now.
    pub fn masters(&self, vrid: Vrid) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&r| self.state(r, vrid) == Some(State::Master))
            .collect()
    }

    /// Formats a failure: the message, the seed, how to replay it and the event log.
    pub fn failure(&self, message: &str) -> String {
        format!(
            "{message}\nseed {seed} (replay with VIGIL_SIM_SEED={seed})\n--- trace ({} lines) ---\n{}",
            self.trace.len(),
            trace::format(&self.trace),
            seed = self.seed,
        )
    }
}

fn build_node(spec: &RouterSpec) -> Node {
    let mut node = Node::new();
    let ids: Vec<InstanceId> = spec
        .configs
        .iter()
        .cloned()
        .map(|c| node.add_instance(c))
        .collect();
    if spec.sync_group && ids.len() > 1 {
        // Fresh node, distinct fresh ids: this cannot fail.
        let _ = node.add_sync_group("sim", &ids);
    }
    node
}
