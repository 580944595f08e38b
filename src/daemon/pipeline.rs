//! A run of address additions and announcements, carried out as one pipelined batch.
//!
//! When many instances become Master at once (a mass failover: one Master_Down_Timer per
//! instance, all due within a few milliseconds), the executor's queue holds Install, Announce,
//! Install, Announce, ... Carried out one item at a time that is one netlink round trip per
//! instance before its gratuitous ARP, and the last instance waits for every other's. Here the
//! run's additions go to the kernel in small windows, each one datagram handled inside its
//! `sendmsg` (`net/address_batch.rs`), and after each window the first announcement round of
//! every instance whose addresses are now in: never before (RFC 5798 §6.4.1 and keepalived
//! alike announce an address the kernel already answers ARP for), and soon after. The
//! repeats of the announcements start once the run is over (`Announcing::start_repeats`).
//!
//! Only additions and announcements (and refusal changes emptied by `coalesce_refusals`) join a
//! run; anything else (a removal, a refusal, routes, a VMAC gate, a flush) ends it and waits
//! for the whole run, so an instance whose removal follows its installation in the same batch
//! ends removed, and a flush still means "everything before me is done".

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::effects::{AnnounceGaps, Work};
use super::plan::InstancePlan;
use crate::net::address_batch::AddressBatcher;
use crate::net::{AddressSpec, Announcer, Netlink};
use crate::types::Family;

/// Whether `w` can join a run that is being pipelined.
pub(super) fn pipelines(w: &Work) -> bool {
    match w {
        Work::Install(_) | Work::Announce { .. } => true,
        // Emptied by `coalesce_refusals` (its addresses moved into an earlier change).
        Work::Refuse { addrs, .. } => addrs.is_empty(),
        _ => false,
    }
}

/// What an item of a run adds or announces (the pure view `announce_waits` works on).
#[derive(Debug, Clone, Copy)]
enum Shape<'a> {
    Adds(&'a [AddressSpec]),
    Announces(&'a [AddressSpec]),
}

/// For each announcement of a run, in order: the additions it waits for, as indices into the
/// run's additions concatenated in order. Those are the earlier additions of one of its
/// addresses; an announcement whose addresses were added before the run waits for nothing.
fn announce_waits(run: &[Shape<'_>]) -> Vec<Vec<usize>> {
    // Every earlier addition of an address, by address (the same address may be added twice
    // in a run: both are waited for).
    let mut added: HashMap<IpAddr, Vec<usize>> = HashMap::new();
    let mut next = 0usize;
    let mut waits = Vec::new();
    for shape in run {
        match shape {
            Shape::Adds(specs) => {
                for s in *specs {
                    added.entry(s.addr).or_default().push(next);
                    next += 1;
                }
            }
            Shape::Announces(vips) => {
                let mut w: Vec<usize> = vips
                    .iter()
                    .filter_map(|v| added.get(&v.addr))
                    .flatten()
                    .copied()
                    .collect();
                w.sort_unstable();
                w.dedup();
                waits.push(w);
            }
        }
    }
    waits
}

/// The announcement side of the executor: one AF_PACKET socket per interface, and the flag
/// that cancels an instance's paced repeats.
pub(super) struct Announcing {
    announcers: HashMap<u32, Arc<Announcer>>,
    /// Per instance name: the flag that cancels its paced announcement repeats.
    repeating: HashMap<String, Arc<AtomicBool>>,
    gaps: AnnounceGaps,
    /// Repeats of the run in progress, started when it is over (`start_repeats`).
    deferred: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
}

impl Announcing {
    pub(super) fn new(gaps: AnnounceGaps) -> Self {
        Self {
            announcers: HashMap::new(),
            repeating: HashMap::new(),
            gaps,
            deferred: Vec::new(),
        }
    }

    /// The instance is leaving Master: its remaining paced announcements are cancelled.
    pub(super) fn stop(&mut self, instance: &str) {
        if let Some(cancel) = self.repeating.remove(instance) {
            cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Sends the first round at once; spaced repeats (keepalived's vrrp_garp_interval) run
    /// on their own, so they never hold up other instances' address changes.
    async fn announce(&mut self, plan: Arc<InstancePlan>, count: u8) {
        let (ifindex, ifname) = (plan.announce.ifindex, &plan.announce.ifname);
        let announcer = match self.announcers.entry(ifindex) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                match Announcer::open(ifname, ifindex) {
                    Ok(a) => e.insert(Arc::new(a)),
                    Err(err) => {
                        tracing::warn!(interface = %ifname, error = %err, "cannot announce");
                        return;
                    }
                }
            }
        };
        send_round(announcer, &plan.announce.frames, ifname).await;
        if count > 1 {
            let cancel = Arc::new(AtomicBool::new(false));
            if let Some(older) = self
                .repeating
                .insert(plan.name().to_owned(), cancel.clone())
            {
                older.store(true, Ordering::Relaxed);
            }
            let announcer = announcer.clone();
            let gap = match plan.fsm.family {
                Family::V4 => self.gaps.garp,
                Family::V6 => self.gaps.gna,
            };
            let first = tokio::time::Instant::now();
            self.deferred.push(Box::pin(async move {
                let mut next = first;
                for _ in 1..count {
                    if !gap.is_zero() {
                        next += gap;
                        tokio::time::sleep_until(next).await;
                    }
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let a = &plan.announce;
                    send_round(&announcer, &a.frames, &a.ifname).await;
                }
            }));
        }
    }

    /// Starts the repeats of the announcements made since the last call. Held until a run is
    /// over: with `vrrp_garp_interval` 0 (the default) they would go at once, and a mass
    /// failover's later instances would wait behind every earlier one's repeats (four more
    /// rounds each by default) for their addresses and first round. Each keeps its spacing
    /// from its own first round.
    pub(super) fn start_repeats(&mut self) {
        for repeats in self.deferred.drain(..) {
            tokio::spawn(repeats);
        }
    }
}

/// How many additions go to the kernel in one datagram before the announcements they release
/// are sent: small, so an instance's first gratuitous ARP follows its own address closely
/// (a window costs one `sendmsg` and one empty `recv`).
const WINDOW: usize = 8;

/// Carries out a run (items for which [`pipelines`] holds): the additions in windows of
/// [`WINDOW`] (one datagram each through `batcher`, else pipelined through the connection),
/// and after each window the first announcement round of every instance whose additions are
/// all done. A refused addition is logged and its announcement still goes, as it did when the
/// two were sequential (the address may have been there already).
pub(super) async fn run_pipelined(
    netlink: &Netlink,
    batcher: Option<&mut AddressBatcher>,
    run: Vec<Work>,
    announcing: &mut Announcing,
) {
    let mut specs: Vec<AddressSpec> = Vec::new();
    let mut announces: Vec<(Arc<InstancePlan>, u8)> = Vec::new();
    let mut shapes_of: Vec<(bool, usize, usize)> = Vec::with_capacity(run.len());
    for item in run {
        match item {
            Work::Install(s) => {
                shapes_of.push((true, specs.len(), specs.len() + s.len()));
                specs.extend(s);
            }
            Work::Announce { plan, count } => {
                shapes_of.push((false, announces.len(), 0));
                announces.push((plan, count));
            }
            _ => {}
        }
    }
    let shapes: Vec<Shape<'_>> = shapes_of
        .iter()
        .map(|&(adds, a, b)| match adds {
            true => Shape::Adds(specs.get(a..b).unwrap_or(&[])),
            false => Shape::Announces(announces.get(a).map_or(&[][..], |(p, _)| &p.vips)),
        })
        .collect();
    let ready = ready_after(&announce_waits(&shapes));
    let mut announces = announces.into_iter().zip(ready).peekable();
    let mut batcher = batcher;
    let mut done = 0usize;
    loop {
        // Everything the additions so far release, in order.
        while let Some(((plan, count), _)) = announces.next_if(|(_, r)| *r <= done) {
            announcing.announce(plan, count).await;
        }
        let Some(rest) = specs.get(done..).filter(|w| !w.is_empty()) else {
            break;
        };
        let window = rest.get(..WINDOW).unwrap_or(rest);
        let results = match batcher.as_deref_mut() {
            Some(b) => b.add(window),
            None => netlink.add_addresses(window).await,
        };
        for (spec, r) in window.iter().zip(results) {
            match r {
                Ok(()) => tracing::debug!(%spec, "virtual address added"),
                Err(e) if e.is_already_exists() => {}
                Err(e) => tracing::error!(%spec, error = %e, "cannot add virtual address"),
            }
        }
        done += window.len();
    }
    // Nothing is left here: `ready_after` never exceeds the number of additions.
    for ((plan, count), _) in announces {
        announcing.announce(plan, count).await;
    }
    announcing.start_repeats();
}

/// For each announcement, how many of the run's additions must be done before it goes: one
/// past the last it waits for, and no fewer than for the announcement before it (the executor
/// keeps the order it was given).
fn ready_after(waits: &[Vec<usize>]) -> Vec<usize> {
    let mut floor = 0;
    waits
        .iter()
        .map(|w| {
            floor = floor.max(w.iter().max().map_or(0, |m| m + 1));
            floor
        })
        .collect()
}

async fn send_round(announcer: &Announcer, frames: &[Vec<u8>], ifname: &str) {
    for frame in frames {
        if let Err(e) = announcer.send(frame).await {
            tracing::warn!(interface = %ifname, error = %e, "announcement not sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::AddrScope;

    fn spec(last: u8) -> AddressSpec {
        AddressSpec {
            ifindex: 2,
            addr: IpAddr::from([192, 0, 2, last]),
            prefix_len: 32,
            label: None,
            scope: AddrScope::Global,
            broadcast: None,
            nodad: false,
            extra: None,
        }
    }

    #[test]
    fn in_a_failover_each_announcement_waits_for_its_own_addresses_only() {
        let (a, b, c) = ([spec(1)], [spec(2)], [spec(3), spec(4)]);
        let run = [
            Shape::Adds(&a),
            Shape::Announces(&a),
            Shape::Adds(&b),
            Shape::Announces(&b),
            Shape::Adds(&c),
            Shape::Announces(&c),
        ];
        assert_eq!(announce_waits(&run), vec![vec![0], vec![1], vec![2, 3]]);
    }

    #[test]
    fn an_announcement_never_waits_for_nor_goes_before_an_addition_of_its_address() {
        let (a, b) = ([spec(1)], [spec(2)]);
        let both = [spec(1), spec(2)];
        let run = [
            // Announced before the run added it (it was there already): at once, as before.
            Shape::Announces(&a),
            Shape::Adds(&b),
            Shape::Adds(&a),
            // Added twice in the run (a partial install, then the whole): waits for both.
            Shape::Adds(&both),
            Shape::Announces(&both),
            // Another instance's announcement does not wait for these.
            Shape::Announces(&[]),
        ];
        assert_eq!(announce_waits(&run), vec![vec![], vec![0, 1, 2, 3], vec![]]);
    }

    #[test]
    fn an_announcement_goes_once_its_additions_and_every_earlier_announcement_are_done() {
        // Announcements keep their order: the second waits for nothing itself but follows
        // the first, which waits for additions 0 and 1.
        let waits = vec![vec![0, 1], vec![], vec![2], vec![4, 3]];
        assert_eq!(ready_after(&waits), vec![2, 2, 3, 5]);
        assert_eq!(ready_after(&[vec![], vec![]]), vec![0, 0]);
    }

    #[test]
    fn only_additions_announcements_and_emptied_refusals_join_a_run() {
        let refuse = |addrs: Vec<IpAddr>| Work::Refuse {
            addrs,
            refuse: true,
        };
        assert!(pipelines(&Work::Install(vec![spec(1)])));
        assert!(pipelines(&refuse(Vec::new())));
        // A real refusal keeps its place: it must precede the additions it covers.
        assert!(!pipelines(&refuse(vec![spec(1).addr])));
        // A removal after an installation in the same batch must end with the address gone.
        assert!(!pipelines(&Work::Remove(vec![spec(1)])));
        assert!(!pipelines(&Work::StopAnnouncing("vi_1".into())));
        let (tx, _rx) = tokio::sync::oneshot::channel();
        assert!(!pipelines(&Work::Flush(tx)));
    }
}
