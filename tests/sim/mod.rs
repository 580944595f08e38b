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
    /// Broken invariants seen while running (sync-group members split after a node call).
    pub violations: Vec<String>,
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
                        self.carry_out(r, actions);
                    }
                }
            }
        }
        self.now = self.now.max(end);
        Ok(())
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
                self.carry_out(to, actions);
            }
            Event::Start(r) => {
                let Some(router) = self.routers.get_mut(r) else {
                    return;
                };
                router.node = build_node(&router.spec);
                router.up = true;
                let actions = router.node.handle_all(now, Input::Startup);
                self.trace.push(TraceLine::Start { at: now, router: r });
                self.carry_out(r, actions);
            }
            Event::Crash(r) => {
                if let Some(router) = self.routers.get_mut(r) {
                    router.up = false;
                }
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
                | Action::HeardLowerPriority => {}
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
