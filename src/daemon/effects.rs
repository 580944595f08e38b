//! `SystemEffects`: the core's decisions carried out on a real system.
//!
//! Adverts are sent at once from the core (a non-blocking raw-socket send, so a Master keeps
//! its schedule whatever else is going on). Address changes and announcements go to one
//! executor task in the order they were decided, so an instance's VIPs are always in place
//! before its gratuitous ARPs leave; consecutive address changes of many instances are sent
//! to the kernel as one batch (an N/N failover moves every VIP in one round trip).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::core::Effects;
use super::plan::{AnnouncePlan, PlannedInstance, TxPlan};
use crate::fsm::InstanceId;
use crate::net::{AddressSpec, Announcer, Netlink, VrrpSocket};
use crate::notify::{Notification, Notifier, NotifyScripts, NotifyState, Scope};
use crate::types::{Family, Priority};
use crate::wire::advert::{Ipv4Tx, emit_ipv4_advert, ipv4_advert_len};

/// Work for the executor task, carried out strictly in order.
#[derive(Debug)]
pub enum Work {
    Install(Vec<AddressSpec>),
    Remove(Vec<AddressSpec>),
    Announce {
        instance: usize,
        ifindex: u32,
        ifname: String,
        frames: Arc<Vec<Vec<u8>>>,
        count: u8,
    },
    /// The instance is leaving Master: its remaining paced announcements are cancelled, so
    /// no gratuitous ARP points clients back at a router that no longer holds the address.
    StopAnnouncing(usize),
    /// Answered once everything queued before it is done.
    Flush(oneshot::Sender<()>),
}

struct InstanceTx {
    plan: TxPlan,
    socket: Arc<VrrpSocket>,
    ip_id: u16,
    ah_sequence: u32,
}

pub struct SystemEffects {
    names: Vec<String>,
    tx: Vec<InstanceTx>,
    vips: Vec<Vec<AddressSpec>>,
    announce: Vec<(AnnouncePlan, Arc<Vec<Vec<u8>>>)>,
    notify: Vec<NotifyScripts>,
    notifier: Notifier,
    work: mpsc::UnboundedSender<Work>,
    /// One send buffer for every instance: adverts are built and sent one at a time.
    buf: Vec<u8>,
}

impl SystemEffects {
    /// `sockets[i]` is the socket instance `i` sends on.
    pub fn new(
        planned: &[PlannedInstance],
        sockets: Vec<Arc<VrrpSocket>>,
        notifier: Notifier,
        work: mpsc::UnboundedSender<Work>,
    ) -> Self {
        let tx = planned
            .iter()
            .zip(sockets)
            .map(|(p, socket)| InstanceTx {
                plan: p.tx.clone(),
                socket,
                // keepalived never sends IPv4 id 0 (the kernel would pick one, breaking AH).
                ip_id: 1,
                ah_sequence: 0,
            })
            .collect();
        Self {
            names: planned.iter().map(|p| p.binding.name.clone()).collect(),
            tx,
            vips: planned.iter().map(|p| p.vips.clone()).collect(),
            announce: planned
                .iter()
                .map(|p| (p.announce.clone(), Arc::new(p.announce.frames.clone())))
                .collect(),
            notify: planned.iter().map(|p| p.notify.clone()).collect(),
            notifier,
            work,
            buf: vec![0u8; 2048],
        }
    }

    /// The effects for a reloaded set of instances. The notifier (with its per-instance
    /// script queues) and the executor stay; an instance carried over from the old set
    /// (`carried_from[new] = Some(old)`) keeps its IPv4 id and AH sequence number, which a
    /// keepalived peer checks for replay (an AH sequence number going back would make it
    /// drop our adverts).
    pub fn reload(
        self,
        planned: &[PlannedInstance],
        sockets: Vec<Arc<VrrpSocket>>,
        carried_from: &[Option<usize>],
    ) -> Self {
        let old_tx = self.tx;
        let mut next = Self::new(planned, sockets, self.notifier, self.work);
        for (new, old) in carried_from.iter().enumerate() {
            if let (Some(t), Some(o)) = (next.tx.get_mut(new), old.and_then(|o| old_tx.get(o))) {
                t.ip_id = o.ip_id;
                t.ah_sequence = o.ah_sequence;
            }
        }
        next
    }

    /// Queues work for the executor directly (a reload's address delta).
    pub fn queue_work(&self, work: Work) {
        self.queue(work);
    }

    /// Waits until every queued address change and announcement is done.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.work.send(Work::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    pub fn into_notifier(self) -> Notifier {
        self.notifier
    }

    fn queue(&self, work: Work) {
        // The executor lives as long as the daemon; a send error means we are exiting.
        let _ = self.work.send(work);
    }
}

impl Effects for SystemEffects {
    fn send_advert(&mut self, id: InstanceId, priority: Priority) {
        let Some(t) = self.tx.get_mut(id.0) else {
            return;
        };
        t.plan.repr.priority = priority;
        for &dst in &t.plan.destinations {
            let built = match (t.plan.src, dst) {
                (IpAddr::V4(src), IpAddr::V4(dst4)) => {
                    t.ip_id = t.ip_id.wrapping_add(1).max(1);
                    t.ah_sequence = t.ah_sequence.wrapping_add(1);
                    let len = ipv4_advert_len(&t.plan.repr);
                    if self.buf.len() < len {
                        self.buf.resize(len, 0);
                    }
                    let tx = Ipv4Tx {
                        src,
                        dst: dst4,
                        ttl: t.plan.ttl,
                        id: t.ip_id,
                        ah_sequence: t.ah_sequence,
                        v3_checksum: t.plan.v3_checksum,
                        unicast: t.plan.unicast,
                    };
                    emit_ipv4_advert(&mut self.buf, &t.plan.repr, &tx)
                }
                (src @ IpAddr::V6(_), dst6 @ IpAddr::V6(_)) => {
                    let len = t.plan.repr.buffer_len_for(Family::V6);
                    if self.buf.len() < len {
                        self.buf.resize(len, 0);
                    }
                    t.plan
                        .repr
                        .emit(&mut self.buf, src, dst6, t.plan.v3_checksum)
                }
                _ => continue,
            };
            let result = built
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|len| {
                    t.socket
                        .try_send_to(self.buf.get(..len).unwrap_or(&[]), dst)
                });
            if let Err(e) = result {
                tracing::warn!(instance = %self.names[id.0], %dst, error = %e, "advertisement not sent");
            }
        }
    }

    fn install_vips(&mut self, id: InstanceId) {
        if let Some(v) = self.vips.get(id.0) {
            self.queue(Work::Install(v.clone()));
        }
    }

    fn remove_vips(&mut self, id: InstanceId) {
        self.queue(Work::StopAnnouncing(id.0));
        if let Some(v) = self.vips.get(id.0) {
            self.queue(Work::Remove(v.clone()));
        }
    }

    fn announce(&mut self, id: InstanceId, count: u8) {
        if let Some((plan, frames)) = self.announce.get(id.0)
            && !frames.is_empty()
        {
            self.queue(Work::Announce {
                instance: id.0,
                ifindex: plan.ifindex,
                ifname: plan.ifname.clone(),
                frames: frames.clone(),
                count,
            });
        }
    }

    fn notify(&mut self, id: InstanceId, state: NotifyState, priority: Priority) {
        let (Some(name), Some(scripts)) = (self.names.get(id.0), self.notify.get(id.0)) else {
            return;
        };
        let note = Notification {
            scope: Scope::Instance,
            name: name.clone(),
            state,
            priority: priority.get(),
        };
        self.notifier.notify(scripts, &note);
    }

    fn restore_vip(&mut self, id: InstanceId, addr: IpAddr) {
        if let Some(v) = self.vips.get(id.0) {
            let specs: Vec<AddressSpec> = v.iter().filter(|s| s.addr == addr).cloned().collect();
            self.queue(Work::Install(specs));
        }
    }
}

/// The executor task: runs until every sender is dropped.
pub async fn execute(
    netlink: Arc<Netlink>,
    mut work: mpsc::UnboundedReceiver<Work>,
    gap: Duration,
) {
    let mut announcers: HashMap<u32, Arc<Announcer>> = HashMap::new();
    // Per instance: the flag that cancels its paced announcement repeats.
    let mut repeating: HashMap<usize, Arc<AtomicBool>> = HashMap::new();
    while let Some(first) = work.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = work.try_recv() {
            batch.push(more);
        }
        let mut items = batch.into_iter().peekable();
        while let Some(item) = items.next() {
            match item {
                Work::Install(mut specs) => {
                    while let Some(Work::Install(more)) =
                        items.next_if(|w| matches!(w, Work::Install(_)))
                    {
                        specs.extend(more);
                    }
                    for (spec, r) in specs.iter().zip(netlink.add_addresses(&specs).await) {
                        match r {
                            Ok(()) => tracing::debug!(%spec, "virtual address added"),
                            Err(e) if e.is_already_exists() => {}
                            Err(e) => {
                                tracing::error!(%spec, error = %e, "cannot add virtual address")
                            }
                        }
                    }
                }
                Work::Remove(mut specs) => {
                    while let Some(Work::Remove(more)) =
                        items.next_if(|w| matches!(w, Work::Remove(_)))
                    {
                        specs.extend(more);
                    }
                    for (spec, r) in specs.iter().zip(netlink.del_addresses(&specs).await) {
                        match r {
                            Ok(()) => tracing::debug!(%spec, "virtual address removed"),
                            Err(e) if e.is_not_found() => {}
                            Err(e) => {
                                tracing::warn!(%spec, error = %e, "cannot remove virtual address")
                            }
                        }
                    }
                }
                Work::StopAnnouncing(instance) => {
                    if let Some(cancel) = repeating.remove(&instance) {
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
                Work::Announce {
                    instance,
                    ifindex,
                    ifname,
                    frames,
                    count,
                } => {
                    let announcer = match announcers.entry(ifindex) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            match Announcer::open(&ifname, ifindex) {
                                Ok(a) => e.insert(Arc::new(a)),
                                Err(err) => {
                                    tracing::warn!(interface = %ifname, error = %err, "cannot announce");
                                    continue;
                                }
                            }
                        }
                    };
                    // The first round goes out at once, in order after the addresses it
                    // announces. Spaced repeats (keepalived's vrrp_garp_interval) run on
                    // their own, so they never hold up other instances' address changes.
                    send_round(announcer, &frames, &ifname).await;
                    if count > 1 {
                        let cancel = Arc::new(AtomicBool::new(false));
                        if let Some(older) = repeating.insert(instance, cancel.clone()) {
                            older.store(true, Ordering::Relaxed);
                        }
                        let (announcer, frames, ifname) =
                            (announcer.clone(), frames.clone(), ifname.clone());
                        tokio::spawn(async move {
                            for _ in 1..count {
                                if !gap.is_zero() {
                                    tokio::time::sleep(gap).await;
                                }
                                if cancel.load(Ordering::Relaxed) {
                                    return;
                                }
                                send_round(&announcer, &frames, &ifname).await;
                            }
                        });
                    }
                }
                Work::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}

async fn send_round(announcer: &Announcer, frames: &[Vec<u8>], ifname: &str) {
    for frame in frames {
        if let Err(e) = announcer.send(frame).await {
            tracing::warn!(interface = %ifname, error = %e, "announcement not sent");
        }
    }
}
