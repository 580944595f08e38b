//! Simulator properties for `vigil::fsm` (issue 3). Every property runs over
//! `VIGIL_SIM_SEEDS` seeds (default 1,000); `VIGIL_SIM_SEED=n` replays one seed. A failure
//! prints the seed and the full event log.

mod sim;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use sim::{LinkProfile, Rng, RouterSpec, Sim};
use vigil::fsm::{InitialState, Input, InstanceConfig, State, Time, master_down_interval};
use vigil::types::{Centis, Priority, Version, Vrid};

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("VIGIL_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count = std::env::var("VIGIL_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000u64);
    (0..count).collect()
}

fn check_all_seeds(property: &str, run: fn(u64) -> Result<(), String>) {
    let seeds = seeds();
    for &seed in &seeds {
        if let Err(failure) = run(seed) {
            panic!(
                "property {property} failed\n{failure}\nreplay: VIGIL_SIM_SEED={seed} cargo test --test fsm_sim {property}"
            );
        }
    }
    eprintln!("{property}: {} seeds passed", seeds.len());
}

fn addr(router: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        10,
        0,
        0,
        u8::try_from(router + 1).unwrap_or(u8::MAX),
    ))
}

fn vrid(n: u8) -> Vrid {
    Vrid::new(n).unwrap_or_else(|| unreachable!("VRIDs in the simulator start at 1"))
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn at(us: u64) -> Time {
    Time::from_micros(us)
}

/// Skew_Time written out independently of the library, straight from the RFC text:
/// v2 (RFC 3768 §6.1) `(256 - Priority) / 256` s; v3 (RFC 9568 §6.1)
/// `((256 - Priority) * Master_Adver_Interval) / 256`, in µs, floored at the microsecond.
fn oracle_skew_us(version: Version, priority: Priority, interval: Centis) -> u64 {
    let weight = 256 - u64::from(priority.get());
    match version {
        Version::V2 => weight * 1_000_000 / 256,
        Version::V3 => weight * u64::from(interval.get()) * 10_000 / 256,
    }
}

/// `n` different priorities (1..=254), so that who succeeds whom is known.
fn distinct_priorities(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut prios: Vec<u8> = Vec::new();
    while prios.len() < n {
        let p = u8::try_from(rng.range(1, 254)).unwrap_or(1);
        if !prios.contains(&p) {
            prios.push(p);
        }
    }
    prios
}

/// How long after the last advert it heard from `old` router `new` became Master (its first
/// transition to Master after `stop`).
fn takeover_after_last_advert(
    sim: &Sim,
    old: usize,
    new: usize,
    stop: Time,
) -> Result<Duration, String> {
    let Some(take) = sim
        .transitions
        .iter()
        .find(|t| t.router == new && t.to == State::Master && t.at > stop)
    else {
        return Err(sim.failure(&format!("r{new} never took over")));
    };
    let heard = sim
        .received
        .iter()
        .filter(|rx| rx.router == new && rx.advert.src == addr(old) && rx.at <= take.at)
        .map(|rx| rx.at)
        .max();
    let Some(heard) = heard else {
        return Err(sim.failure("no advert from the old master"));
    };
    Ok(take.at.saturating_sub(heard))
}

/// A VRID's shared settings: every router on a VRID uses the same version and interval.
#[derive(Debug, Clone, Copy)]
struct VridPlan {
    vrid: Vrid,
    version: Version,
    interval: Centis,
}

impl VridPlan {
    fn random(rng: &mut Rng, n: u8) -> VridPlan {
        let (version, interval) = if rng.chance(500_000) {
            (
                Version::V2,
                Centis::from_secs(u32::try_from(rng.range(1, 3)).unwrap_or(1)),
            )
        } else {
            (
                Version::V3,
                Centis::new(u32::try_from(rng.range(10, 300)).unwrap_or(100)),
            )
        };
        VridPlan {
            vrid: vrid(n),
            version,
            interval,
        }
    }

    /// The longest Master_Down_Interval any router can have (priority 1 has the largest skew).
    fn worst_mdi_us(&self) -> u64 {
        micros(master_down_interval(
            self.version,
            Priority::MIN_BACKUP,
            self.interval,
        ))
    }

    fn interval_us(&self) -> u64 {
        self.interval.as_micros()
    }

    fn config(&self, router: usize, priority: u8) -> InstanceConfig {
        let mut c = InstanceConfig::new(
            format!("r{router}v{}", self.vrid),
            self.vrid,
            self.version,
            addr(router),
        );
        c.priority = Priority::new(priority);
        c.advert_int = self.interval;
        c
    }
}

fn random_priority(rng: &mut Rng) -> u8 {
    if rng.chance(300_000) {
        // Force ties often enough to exercise the tie rules.
        *rng.pick(&[100u8, 150]).unwrap_or(&100)
    } else {
        u8::try_from(rng.range(1, 254)).unwrap_or(100)
    }
}

/// A random lossy, duplicating, reordering link.
fn chaotic_link(rng: &mut Rng, interval_us: u64) -> LinkProfile {
    let delay_max_us = rng.range(0, interval_us / 2);
    LinkProfile {
        loss: u32::try_from(rng.range(0, 600_000)).unwrap_or(0),
        duplicate: u32::try_from(rng.range(0, 200_000)).unwrap_or(0),
        reorder: u32::try_from(rng.range(0, 200_000)).unwrap_or(0),
        reorder_extra_us: rng.range(0, interval_us),
        delay_min_us: rng.range(0, delay_max_us),
        delay_max_us,
    }
}

/// The healed network: no loss, no partition, but small delays and duplicates remain.
fn healed_link(rng: &mut Rng, min_interval_us: u64) -> LinkProfile {
    let delay_max_us = rng.range(0, (min_interval_us / 8).min(20_000));
    LinkProfile {
        loss: 0,
        duplicate: 50_000,
        reorder: 0,
        reorder_extra_us: 0,
        delay_min_us: rng.range(0, delay_max_us),
        delay_max_us,
    }
}

/// Chaos for `chaos_us`: crashes and restarts, shutdowns, partitions, bad links, tracker and
/// link events. Then heals everything and sets final tracker weights (the same for every
/// instance of a router when `uniform_weights`, as sync groups need).
fn chaos_then_heal(
    sim: &mut Sim,
    rng: &mut Rng,
    plans: &[VridPlan],
    chaos_us: u64,
    uniform_weights: bool,
) -> Result<u64, String> {
    let n = sim.routers();
    let max_interval = plans
        .iter()
        .map(VridPlan::interval_us)
        .max()
        .unwrap_or(1_000_000);
    let min_interval = plans
        .iter()
        .map(VridPlan::interval_us)
        .min()
        .unwrap_or(1_000_000);
    for r in 0..n {
        sim.start_at(at(rng.range(0, chaos_us / 2)), r);
    }
    for _ in 0..rng.range(3, 15) {
        let t = at(rng.range(0, chaos_us));
        let r = usize::try_from(rng.range(0, n as u64 - 1)).unwrap_or(0);
        let v = rng.pick(plans).map(|p| p.vrid);
        match rng.range(0, 7) {
            0 => sim.crash_at(t, r),
            1 => sim.start_at(t, r),
            2 => sim.partition_at(
                t,
                (0..n)
                    .map(|_| u8::try_from(rng.range(0, 1)).unwrap_or(0))
                    .collect(),
            ),
            3 => {
                let to = usize::try_from(rng.range(0, n as u64 - 1)).unwrap_or(0);
                let profile = chaotic_link(rng, max_interval);
                sim.link_at(t, r, to, profile);
            }
            4 => {
                let input = Input::TrackerChanged {
                    weight_sum: i32::try_from(rng.range(0, 120)).unwrap_or(60) - 60,
                    faulted: rng.chance(150_000),
                };
                sim.input_at(t, r, v, input);
            }
            5 => {
                let input = if rng.chance(500_000) {
                    Input::LinkDown
                } else {
                    Input::LinkUp
                };
                sim.input_at(t, r, v, input);
            }
            6 => sim.input_at(t, r, None, Input::Shutdown),
            _ => sim.all_links_at(t, chaotic_link(rng, max_interval)),
        }
    }
    sim.run_until(at(chaos_us))?;

    // Heal: one side, clean links, every router running, faults cleared, final weights.
    let heal = sim.now;
    let healed = healed_link(rng, min_interval);
    sim.partition_at(heal, vec![0; n]);
    sim.all_links_at(heal, healed);
    for r in 0..n {
        if !sim.is_up(r) {
            sim.start_at(heal, r);
        }
        sim.input_at(heal, r, None, Input::Startup);
        sim.input_at(heal, r, None, Input::LinkUp);
        let router_weight = i32::try_from(rng.range(0, 80)).unwrap_or(40) - 40;
        for plan in plans {
            let weight_sum = if uniform_weights {
                router_weight
            } else {
                i32::try_from(rng.range(0, 80)).unwrap_or(40) - 40
            };
            sim.input_at(
                heal,
                r,
                Some(plan.vrid),
                Input::TrackerChanged {
                    weight_sum,
                    faulted: false,
                },
            );
        }
    }
    Ok(healed.max_delay_us())
}

/// The master a VRID must converge to with preempt: the highest effective priority.
fn highest_priority(sim: &Sim, v: Vrid) -> Option<Priority> {
    (0..sim.routers())
        .filter_map(|r| sim.instance(r, v))
        .map(|i| i.effective_priority())
        .max()
}

#[test]
fn after_heal_exactly_one_master_per_vrid_and_the_highest_priority_wins() {
    check_all_seeds(
        "after_heal_exactly_one_master_per_vrid_and_the_highest_priority_wins",
        |seed| {
            let mut rng = Rng::new(seed ^ 0x0a11_ce00);
            let n = usize::try_from(rng.range(2, 4)).unwrap_or(2);
            let plans: Vec<VridPlan> = (1..=u8::try_from(rng.range(1, 2)).unwrap_or(1))
                .map(|v| VridPlan::random(&mut rng, v))
                .collect();
            let owner = if rng.chance(100_000) {
                Some(rng.range(0, n as u64 - 1) as usize)
            } else {
                None
            };
            let mut preempt_delay_us = 0;
            let specs = (0..n)
                .map(|r| {
                    let delay = if rng.chance(200_000) {
                        Centis::new(u32::try_from(rng.range(1, 500)).unwrap_or(0))
                    } else {
                        Centis::ZERO
                    };
                    preempt_delay_us = preempt_delay_us.max(delay.as_micros());
                    let initial = if rng.chance(300_000) {
                        InitialState::Master
                    } else {
                        InitialState::Backup
                    };
                    let configs = plans
                        .iter()
                        .map(|p| {
                            let prio = if owner == Some(r) && p.vrid == vrid(1) {
                                255
                            } else {
                                random_priority(&mut rng)
                            };
                            let mut c = p.config(r, prio);
                            c.preempt_delay = delay;
                            c.initial = initial;
                            c
                        })
                        .collect();
                    RouterSpec {
                        configs,
                        sync_group: false,
                    }
                })
                .collect();
            let worst_mdi = plans.iter().map(VridPlan::worst_mdi_us).max().unwrap_or(0);
            let worst_int = plans.iter().map(VridPlan::interval_us).max().unwrap_or(0);
            let mut sim = Sim::new(seed, specs, LinkProfile::fixed(1_000));
            let chaos_us = rng.range(5, 20) * worst_int;
            let max_delay = chaos_then_heal(&mut sim, &mut rng, &plans, chaos_us, false)?;
            let heal = sim.now;

            // Converged within Master_Down_Interval + one advert interval (+ preempt_delay and
            // the network's delay, for the adverts that carry the news).
            let bound = worst_mdi + worst_int + preempt_delay_us + 2 * max_delay + 1;
            let settled = heal + Duration::from_micros(bound);
            sim.run_until(settled)?;
            let mut winners = Vec::new();
            for plan in &plans {
                let masters = sim.masters(plan.vrid);
                if masters.len() != 1 {
                    return Err(sim.failure(&format!(
                        "vrid {}: masters {masters:?} at {settled} (bound {bound} µs)",
                        plan.vrid
                    )));
                }
                winners.push(masters);
            }
            // Stable network: nothing moves after convergence.
            let end = settled + Duration::from_micros(10 * worst_mdi);
            sim.run_until(end)?;
            if let Some(t) = sim.transitions.iter().find(|t| t.at > settled) {
                return Err(sim.failure(&format!("transition after convergence: {t:?}")));
            }
            for (plan, before) in plans.iter().zip(winners) {
                let masters = sim.masters(plan.vrid);
                if masters != before {
                    return Err(sim.failure(&format!(
                        "vrid {}: masters changed {before:?} -> {masters:?}",
                        plan.vrid
                    )));
                }
                // With preempt, the highest effective priority wins. Equal priorities are decided by
                // the primary address only between simultaneous masters (RFC 5798 §6.4.3): a
                // Backup of equal priority does not preempt (§6.4.2 "greater than or equal").
                let winner = masters
                    .first()
                    .and_then(|&r| sim.instance(r, plan.vrid))
                    .map(|i| i.effective_priority());
                let best = highest_priority(&sim, plan.vrid);
                if winner != best {
                    return Err(sim.failure(&format!(
                        "vrid {}: master priority {winner:?}, highest {best:?}",
                        plan.vrid
                    )));
                }
            }
            Ok(())
        },
    )
}

#[test]
fn without_preempt_the_current_master_keeps_the_role() {
    check_all_seeds(
        "without_preempt_the_current_master_keeps_the_role",
        |seed| {
            let mut rng = Rng::new(seed ^ 0x0b0b_0000);
            let n = usize::try_from(rng.range(2, 4)).unwrap_or(2);
            let plan = VridPlan::random(&mut rng, 1);
            let specs = (0..n)
                .map(|r| {
                    // The address owner always preempts (RFC 5798 §6.1), so it is left out here.
                    let mut c = plan.config(r, random_priority(&mut rng));
                    c.preempt = false;
                    RouterSpec {
                        configs: vec![c],
                        sync_group: false,
                    }
                })
                .collect();
            let d = rng.range(0, plan.interval_us() / 8);
            let link = LinkProfile::duplicating_reordering(d);
            let mut sim = Sim::new(seed, specs, link);
            sim.start_at(Time::ZERO, 0);
            let t1 = plan.worst_mdi_us() + 1;
            sim.run_until(at(t1))?;
            if sim.masters(plan.vrid) != vec![0] {
                return Err(sim.failure("router 0 alone did not become master"));
            }
            // Others join later, some crash and come back, and their trackers raise their priority.
            for r in 1..n {
                let join = t1 + rng.range(0, 5 * plan.interval_us());
                sim.start_at(at(join), r);
                let bump = Input::TrackerChanged {
                    weight_sum: i32::try_from(rng.range(0, 100)).unwrap_or(0),
                    faulted: false,
                };
                sim.input_at(at(join + rng.range(0, plan.interval_us())), r, None, bump);
                if rng.chance(300_000) {
                    let crash = join + rng.range(0, 5 * plan.interval_us());
                    sim.crash_at(at(crash), r);
                    sim.start_at(at(crash + rng.range(0, 5 * plan.interval_us())), r);
                }
            }
            sim.run_until(at(t1 + 20 * plan.worst_mdi_us()))?;
            let takeovers: Vec<_> = sim
                .transitions
                .iter()
                .filter(|t| t.to == State::Master)
                .collect();
            if takeovers.len() != 1 || sim.masters(plan.vrid) != vec![0] {
                return Err(sim.failure(&format!("master changed without cause: {takeovers:?}")));
            }
            Ok(())
        },
    )
}

#[test]
fn takeover_time_matches_the_rfc_formulas() {
    check_all_seeds("takeover_time_matches_the_rfc_formulas", |seed| {
        let mut rng = Rng::new(seed ^ 0x7a4e_0000);
        let n = usize::try_from(rng.range(2, 4)).unwrap_or(2);
        let plan = VridPlan::random(&mut rng, 1);
        // Distinct priorities so the successor is known.
        let prios = distinct_priorities(&mut rng, n);
        let specs = prios
            .iter()
            .enumerate()
            .map(|(r, &p)| RouterSpec {
                configs: vec![plan.config(r, p)],
                sync_group: false,
            })
            .collect();
        let delay = rng.range(0, 1_000);
        let mut sim = Sim::new(seed, specs, LinkProfile::fixed(delay));
        for r in 0..n {
            sim.start_at(Time::ZERO, r);
        }
        let converged = 2 * plan.worst_mdi_us() + 2 * plan.interval_us();
        sim.run_until(at(converged))?;
        let by_prio = |exclude: Option<usize>| {
            (0..n)
                .filter(|&r| Some(r) != exclude)
                .max_by_key(|&r| prios.get(r).copied())
        };
        let old = by_prio(None).unwrap_or(0);
        if sim.masters(plan.vrid) != vec![old] {
            return Err(sim.failure(&format!("expected r{old} master after convergence")));
        }
        let graceful = rng.chance(500_000);
        let stop = converged + rng.range(0, plan.interval_us());
        if graceful {
            sim.input_at(at(stop), old, None, Input::Shutdown);
        } else {
            sim.crash_at(at(stop), old);
        }
        sim.run_until(at(stop + plan.interval_us() + 2 * plan.worst_mdi_us()))?;
        let new = by_prio(Some(old)).unwrap_or(0);
        let measured = takeover_after_last_advert(&sim, old, new, at(stop))?;
        let prio = Priority::new(prios.get(new).copied().unwrap_or(1));
        // RFC 5798 §6.4.2: Master_Down_Interval after the last advert, or Skew_Time after a
        // priority-0 advert.
        let expected = Duration::from_micros(if graceful {
            oracle_skew_us(plan.version, prio, plan.interval)
        } else {
            3 * plan.interval_us() + oracle_skew_us(plan.version, prio, plan.interval)
        });
        if measured != expected || measured.as_millis() / 10 != expected.as_millis() / 10 {
            return Err(sim.failure(&format!("r{new} took over {measured:?} after the last advert, expected {expected:?} (graceful {graceful})")));
        }
        if sim.masters(plan.vrid) != vec![new] {
            return Err(sim.failure(&format!(
                "after takeover masters {:?}, expected [{new}]",
                sim.masters(plan.vrid)
            )));
        }
        Ok(())
    })
}

#[test]
fn sync_group_members_are_never_split_and_converge_together() {
    check_all_seeds(
        "sync_group_members_are_never_split_and_converge_together",
        |seed| {
            let mut rng = Rng::new(seed ^ 0x5c00_0000);
            let n = usize::try_from(rng.range(2, 3)).unwrap_or(2);
            let base = VridPlan::random(&mut rng, 1);
            let plans = [
                base,
                VridPlan {
                    vrid: vrid(2),
                    ..base
                },
            ];
            let mut preempt_delay_us = 0;
            let specs = (0..n)
                .map(|r| {
                    let prio = random_priority(&mut rng);
                    let delay = if rng.chance(200_000) {
                        Centis::new(u32::try_from(rng.range(1, 300)).unwrap_or(0))
                    } else {
                        Centis::ZERO
                    };
                    preempt_delay_us = preempt_delay_us.max(delay.as_micros());
                    let configs = plans
                        .iter()
                        .map(|p| {
                            let mut c = p.config(r, prio);
                            c.preempt_delay = delay;
                            c
                        })
                        .collect();
                    RouterSpec {
                        configs,
                        sync_group: true,
                    }
                })
                .collect();
            let mut sim = Sim::new(seed, specs, LinkProfile::fixed(1_000));
            let chaos_us = rng.range(5, 20) * base.interval_us();
            let max_delay = chaos_then_heal(&mut sim, &mut rng, &plans, chaos_us, true)?;
            let heal = sim.now;
            // A member that is ready waits up to one more Master_Down_Interval for its peers.
            let bound =
                2 * base.worst_mdi_us() + base.interval_us() + preempt_delay_us + 2 * max_delay + 1;
            let settled = heal + Duration::from_micros(bound);
            sim.run_until(settled)?;
            let end = settled + Duration::from_micros(10 * base.worst_mdi_us());
            sim.run_until(end)?;
            if let Some(v) = sim.violations.first() {
                return Err(sim.failure(&format!("sync group split: {v}")));
            }
            if let Some(t) = sim.transitions.iter().find(|t| t.at > settled) {
                return Err(sim.failure(&format!("transition after convergence: {t:?}")));
            }
            let (m1, m2) = (sim.masters(vrid(1)), sim.masters(vrid(2)));
            if m1.len() != 1 || m1 != m2 {
                return Err(sim.failure(&format!(
                    "masters vrid1 {m1:?} vrid2 {m2:?}: want one router mastering both"
                )));
            }
            let winner = m1
                .first()
                .and_then(|&r| sim.instance(r, vrid(1)))
                .map(|i| i.effective_priority());
            if winner != highest_priority(&sim, vrid(1)) {
                return Err(sim.failure(&format!(
                    "group master priority {winner:?} is not the highest"
                )));
            }
            Ok(())
        },
    )
}

/// RFC 5798 §6.4.2 / RFC 9568 §6.4.2: a VRRPv3 Backup learns the Master's Advertisement
/// Interval from its adverts (Master_Adver_Interval) and times the Master out on it, whatever
/// its own configured interval. Routers with different intervals on one VRID: after the
/// master stops, the successor takes over exactly 3 × the *master's* interval + its Skew_Time
/// (computed from the master's interval) after the last advert it heard, or its Skew_Time
/// after a priority-0 advert. Every run also checks cadence, priorities and VIPs
/// (`Sim::run_until`): each router advertises on its own interval while Master.
#[test]
fn with_different_intervals_backups_time_out_on_the_masters_interval() {
    check_all_seeds(
        "with_different_intervals_backups_time_out_on_the_masters_interval",
        |seed| {
            let mut rng = Rng::new(seed ^ 0x1e7e_4a15);
            let n = usize::try_from(rng.range(2, 4)).unwrap_or(2);
            let prios = distinct_priorities(&mut rng, n);
            let intervals: Vec<Centis> = (0..n)
                .map(|_| Centis::new(u32::try_from(rng.range(10, 300)).unwrap_or(100)))
                .collect();
            let v = vrid(1);
            let specs = (0..n)
                .map(|r| {
                    let mut c = InstanceConfig::new(format!("r{r}"), v, Version::V3, addr(r));
                    c.priority = Priority::new(prios[r]);
                    c.advert_int = intervals[r];
                    RouterSpec {
                        configs: vec![c],
                        sync_group: false,
                    }
                })
                .collect();
            let mut sim = Sim::new(seed, specs, LinkProfile::fixed(0));
            for r in 0..n {
                sim.start_at(Time::ZERO, r);
            }
            let longest = intervals.iter().map(|i| i.as_micros()).max().unwrap_or(0);
            let worst_mdi = micros(master_down_interval(
                Version::V3,
                Priority::MIN_BACKUP,
                Centis::new(300),
            ));
            let converged = 2 * worst_mdi + 2 * longest;
            sim.run_until(at(converged))?;
            let by_prio = |exclude: Option<usize>| {
                (0..n)
                    .filter(|&r| Some(r) != exclude)
                    .max_by_key(|&r| prios.get(r).copied())
            };
            let old = by_prio(None).unwrap_or(0);
            if sim.masters(v) != vec![old] {
                return Err(sim.failure(&format!("expected r{old} master after convergence")));
            }
            let master_interval = intervals[old];
            let graceful = rng.chance(500_000);
            let stop = converged + rng.range(0, master_interval.as_micros());
            if graceful {
                sim.input_at(at(stop), old, None, Input::Shutdown);
            } else {
                sim.crash_at(at(stop), old);
            }
            sim.run_until(at(stop + longest + 2 * worst_mdi))?;
            let new = by_prio(Some(old)).unwrap_or(0);
            let measured = takeover_after_last_advert(&sim, old, new, at(stop))?;
            let prio = Priority::new(prios[new]);
            let skew = oracle_skew_us(Version::V3, prio, master_interval);
            let expected = Duration::from_micros(if graceful {
                skew
            } else {
                3 * master_interval.as_micros() + skew
            });
            if measured != expected {
                return Err(sim.failure(&format!(
                    "r{new} (own interval {}, master's {master_interval}) took over {measured:?} after the last advert, expected {expected:?} (graceful {graceful})",
                    intervals[new]
                )));
            }
            Ok(())
        },
    )
}

/// vigil drain: draining the Master hands over to the next priority exactly Skew_Time after
/// its priority-0 advert (as a graceful Shutdown, RFC 5798 §6.4.2), the drained router never
/// becomes Master while drained, however long the others run; undrained, the highest
/// priority (preempt on) takes the role back and exactly one Master remains.
#[test]
fn a_drained_master_hands_over_in_skew_time_stays_out_and_comes_back_when_undrained() {
    check_all_seeds(
        "a_drained_master_hands_over_in_skew_time_stays_out_and_comes_back_when_undrained",
        |seed| {
            let mut rng = Rng::new(seed ^ 0xd4a1_0000);
            let n = usize::try_from(rng.range(2, 4)).unwrap_or(2);
            let plan = VridPlan::random(&mut rng, 1);
            let prios = distinct_priorities(&mut rng, n);
            let specs = prios
                .iter()
                .enumerate()
                .map(|(r, &p)| RouterSpec {
                    configs: vec![plan.config(r, p)],
                    sync_group: false,
                })
                .collect();
            let delay = rng.range(0, 1_000);
            let mut sim = Sim::new(seed, specs, LinkProfile::fixed(delay));
            for r in 0..n {
                sim.start_at(Time::ZERO, r);
            }
            let converged = 2 * plan.worst_mdi_us() + 2 * plan.interval_us();
            sim.run_until(at(converged))?;
            let by_prio = |exclude: Option<usize>| {
                (0..n)
                    .filter(|&r| Some(r) != exclude)
                    .max_by_key(|&r| prios.get(r).copied())
            };
            let old = by_prio(None).unwrap_or(0);
            let new = by_prio(Some(old)).unwrap_or(0);
            let drain = converged + rng.range(0, plan.interval_us());
            sim.input_at(at(drain), old, None, Input::Drain);
            let undrain = drain + 20 * plan.worst_mdi_us();
            sim.run_until(at(undrain))?;
            let Some(take) = sim
                .transitions
                .iter()
                .find(|t| t.router == new && t.to == State::Master && t.at > at(drain))
            else {
                return Err(sim.failure(&format!("r{new} never took over from drained r{old}")));
            };
            let prio = Priority::new(prios.get(new).copied().unwrap_or(1));
            let expected =
                Duration::from_micros(delay + oracle_skew_us(plan.version, prio, plan.interval));
            let measured = take.at.saturating_sub(at(drain));
            if measured != expected {
                return Err(sim.failure(&format!(
                    "r{new} took over {measured:?} after the drain, expected Skew_Time + delay {expected:?}"
                )));
            }
            if sim
                .transitions
                .iter()
                .any(|t| t.router == old && t.to == State::Master && t.at > at(drain))
            {
                return Err(sim.failure(&format!("drained r{old} became master")));
            }
            if sim.masters(plan.vrid) != vec![new] {
                return Err(sim.failure("not exactly the next priority master while drained"));
            }
            sim.input_at(at(undrain), old, None, Input::Undrain);
            sim.run_until(at(undrain + plan.interval_us() + 2 * plan.worst_mdi_us()))?;
            if sim.masters(plan.vrid) != vec![old] {
                return Err(sim.failure(&format!(
                    "after undrain masters {:?}, expected [{old}]",
                    sim.masters(plan.vrid)
                )));
            }
            Ok(())
        },
    )
}

/// RFC 5798 §6.4.3 / §5.2.4: two routers both configured as the address owner (a
/// misconfiguration) never take the role from each other, whichever has the higher address:
/// each goes Master at its start and stays there, discarding the other's priority-255 adverts.
#[test]
fn an_owner_never_yields_to_another_owner() {
    check_all_seeds("an_owner_never_yields_to_another_owner", |seed| {
        let mut rng = Rng::new(seed ^ 0x0255_0000);
        let plan = VridPlan::random(&mut rng, 1);
        let specs = (0..2)
            .map(|r| RouterSpec {
                configs: vec![plan.config(r, 255)],
                sync_group: false,
            })
            .collect();
        let d = rng.range(0, plan.interval_us() / 8);
        let link = LinkProfile::duplicating_reordering(d);
        let mut sim = Sim::new(seed, specs, link);
        // The lower address first, so that the address tie-break would demote it.
        sim.start_at(Time::ZERO, 0);
        sim.start_at(at(rng.range(0, 5 * plan.interval_us())), 1);
        sim.run_until(at(20 * plan.worst_mdi_us()))?;
        let left: Vec<_> = sim
            .transitions
            .iter()
            .filter(|t| t.from == State::Master)
            .collect();
        if !left.is_empty() || sim.masters(plan.vrid) != vec![0, 1] {
            return Err(sim.failure(&format!("an owner left Master: {left:?}")));
        }
        Ok(())
    })
}
