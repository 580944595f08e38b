//! `SystemEffects`: the core's decisions carried out on a real system.
//!
//! Adverts are sent at once from the core (a non-blocking raw-socket send, so a Master keeps
//! its schedule whatever else is going on). Address changes and announcements go to one
//! executor task in the order they were decided, so an instance's VIPs are always in place
//! before its gratuitous ARPs leave; the additions and announcements of many instances are one
//! pipelined run (`pipeline.rs`), so an N/N failover does not pay a round trip per instance.
//!
//! Nothing here is per instance: what an instance needs comes with each call (its plan and
//! transmit state, from its slot). What is kept is per socket and per VMAC: the open sockets
//! with their receive tasks and route tables, and the VMAC interfaces made by `prepare`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;

use super::core::{Effects, Transition};
use super::input::{GroupPlan, SocketKey};
use super::pipeline::{Announcing, pipelines, run_pipelined};
use super::plan::{InstancePlan, Routing, VmacPlan};
use super::receive::{RxTable, SocketRoutes};
use super::slot::TxState;
use crate::net::{AddressSpec, Netlink, VrrpSocket};
use crate::notify::{Notification, Notifier, NotifyState, Scope};
use crate::types::{Family, Priority};
use crate::wire::VrrpRepr;
use crate::wire::advert::{
    HmacTx, Ipv4Tx, emit_ipv4_advert_signed, emit_ipv6_advert, ipv4_advert_len_signed,
};

/// Work for the executor task, carried out strictly in order.
#[derive(Debug)]
pub enum Work {
    Install(Vec<AddressSpec>),
    Remove(Vec<AddressSpec>),
    /// Accept_Mode off (`net::firewall`): the addresses whose traffic is dropped (`refuse`)
    /// or accepted again. Queued before an install and after a removal, so a non-owner
    /// master's VIP never answers, not even for the moment between the two.
    Refuse {
        addrs: Vec<IpAddr>,
        refuse: bool,
    },
    /// A VMAC closed (`close`: only VRRP and AH get in, `net::firewall`) while its instance
    /// is not Master, or opened with its addresses (RFC 5798 §6.4.2: a Backup must not accept
    /// packets addressed to the virtual MAC). Closed before the addresses go, opened after
    /// they are in.
    VmacGate {
        ifname: String,
        close: bool,
    },
    /// Virtual (or static) routes and rules to add (`up`) or delete.
    Routing {
        instance: String,
        routing: Box<Routing>,
        up: bool,
    },
    Announce {
        plan: Arc<InstancePlan>,
        count: u8,
    },
    /// The instance (by name) is leaving Master: its remaining paced announcements are
    /// cancelled, so no gratuitous ARP points clients back at a router that no longer holds
    /// the address.
    StopAnnouncing(String),
    /// A VMAC no instance uses any more, deleted after the work queued before it.
    DeleteVmac {
        name: String,
        ifindex: u32,
    },
    /// Answered once everything queued before it is done.
    Flush(oneshot::Sender<()>),
}

/// An open VRRP socket, its receive task and the route table that task reads.
#[derive(Debug)]
pub struct OpenSocket {
    pub socket: Arc<VrrpSocket>,
    pub routes: watch::Sender<Arc<SocketRoutes>>,
    pub receiver: AbortHandle,
}

/// A VMAC interface `prepare` made, and the plan it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVmac {
    pub plan: VmacPlan,
    pub ifindex: u32,
}

pub struct SystemEffects {
    sockets: HashMap<SocketKey, OpenSocket>,
    vmacs: HashMap<String, OpenVmac>,
    notifier: Notifier,
    work: mpsc::UnboundedSender<Work>,
    /// One send buffer and one advert for every instance: adverts are built and sent one at
    /// a time, with no allocation per advert.
    buf: Vec<u8>,
    scratch: Option<VrrpRepr>,
    /// The core asked for the configuration to be planned again (this interface changed);
    /// the driver takes it after each input.
    replan: Option<String>,
}

impl SystemEffects {
    pub fn new(notifier: Notifier, work: mpsc::UnboundedSender<Work>) -> Self {
        Self {
            sockets: HashMap::new(),
            vmacs: HashMap::new(),
            notifier,
            work,
            buf: vec![0u8; 1024],
            scratch: None,
            replan: None,
        }
    }

    /// Whether the core asked for a re-plan since the last call, and for which interface.
    pub fn take_replan(&mut self) -> Option<String> {
        self.replan.take()
    }

    /// Takes over what a `prepare` opened, before its configuration is applied.
    pub fn adopt(
        &mut self,
        sockets: impl IntoIterator<Item = (SocketKey, OpenSocket)>,
        vmacs: impl IntoIterator<Item = (String, OpenVmac)>,
    ) {
        self.sockets.extend(sockets);
        for (name, v) in vmacs {
            // Made up by `prepare`, before its instance is anything: closed until Master.
            self.queue(Work::VmacGate {
                ifname: name.clone(),
                close: true,
            });
            self.vmacs.insert(name, v);
        }
    }

    /// The sockets open now, for the next `prepare`.
    pub fn open_sockets(&self) -> Vec<SocketKey> {
        self.sockets.keys().copied().collect()
    }

    /// The VMACs that exist now, for the next `prepare` to reuse.
    pub fn open_vmacs(&self) -> HashMap<String, OpenVmac> {
        self.vmacs.clone()
    }

    /// Waits until every queued address change and announcement is done.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.work.send(Work::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Stops every receive task and queues the deletion of every VMAC (at exit): binding to
    /// an empty table, which uses none of them.
    pub fn close_all(&mut self) {
        self.bind(&RxTable::default());
    }

    pub fn notifier_mut(&mut self) -> &mut Notifier {
        &mut self.notifier
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
    fn send_advert(&mut self, plan: &InstancePlan, tx: &mut TxState, priority: Priority) {
        let Self {
            sockets,
            buf,
            scratch,
            ..
        } = self;
        let Some(socket) = sockets.get(&plan.socket).map(|s| &s.socket) else {
            tracing::warn!(instance = %plan.name(), "advertisement not sent: its socket is not open");
            return;
        };
        // An IPv6 socket opened while its source was tentative is bound when the core says the
        // address is usable; if that failed, nothing goes out from a source the kernel picks.
        if let Err(e) = socket.bind_source() {
            tracing::warn!(instance = %plan.name(), error = %e, "advertisement not sent");
            return;
        }
        let t = &plan.tx;
        let repr = match scratch {
            Some(r) => {
                r.version = t.repr.version;
                r.vrid = t.repr.vrid;
                r.max_advert_int = t.repr.max_advert_int;
                r.addresses.clear();
                r.addresses.extend_from_slice(&t.repr.addresses);
                r.auth.clone_from(&t.repr.auth);
                r
            }
            None => scratch.insert(t.repr.clone()),
        };
        repr.priority = priority;
        let repr = &*repr;
        // keepalived signs once per advertisement: every unicast copy carries the same
        // sequence and HMAC (the HMAC does not cover the destination).
        let hmac = plan
            .rx
            .auth_hmac
            .as_deref()
            .filter(|a| a.mode.signs())
            .and_then(|a| {
                let key = a.active()?;
                let sequence = tx.hmac_mut().next_sent(wall_clock(), a.time_window);
                Some(HmacTx { key, sequence })
            });
        for &dst in &t.destinations {
            let built = match (t.src, dst) {
                (IpAddr::V4(src), IpAddr::V4(dst4)) => {
                    let (id, ah_sequence) = tx.next_ipv4();
                    let len = ipv4_advert_len_signed(repr, hmac.is_some());
                    if buf.len() < len {
                        buf.resize(len, 0);
                    }
                    let ip = Ipv4Tx {
                        src,
                        dst: dst4,
                        ttl: t.ttl,
                        id,
                        ah_sequence,
                        v3_checksum: t.v3_checksum,
                        unicast: t.unicast,
                    };
                    emit_ipv4_advert_signed(buf, repr, &ip, hmac.as_ref())
                }
                (IpAddr::V6(src), IpAddr::V6(dst6)) => {
                    let len = repr.buffer_len_for(Family::V6)
                        + if hmac.is_some() {
                            crate::wire::auth_hmac::TRAILER_LEN
                        } else {
                            0
                        };
                    if buf.len() < len {
                        buf.resize(len, 0);
                    }
                    emit_ipv6_advert(buf, repr, src, dst6, t.v3_checksum, hmac.as_ref())
                }
                _ => continue,
            };
            let result = built
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|len| socket.try_send_to(buf.get(..len).unwrap_or(&[]), dst));
            if let Err(e) = result {
                tracing::warn!(instance = %plan.name(), %dst, error = %e, "advertisement not sent");
            }
        }
    }

    fn install(&mut self, plan: &Arc<InstancePlan>, only: Option<&[AddressSpec]>) {
        let specs = only.unwrap_or(&plan.vips);
        if !specs.is_empty() {
            if plan.fsm.refuses_vip_traffic() {
                self.queue(Work::Refuse {
                    addrs: specs.iter().map(|s| s.addr).collect(),
                    refuse: true,
                });
            }
            self.queue(Work::Install(specs.to_vec()));
        }
        if let (None, Some(vmac)) = (only, plan.vmac.as_deref()) {
            self.queue(Work::VmacGate {
                ifname: vmac.name.clone(),
                close: false,
            });
        }
    }

    fn remove(&mut self, plan: &Arc<InstancePlan>, only: Option<&[AddressSpec]>) {
        if only.is_none() {
            self.queue(Work::StopAnnouncing(plan.name().to_owned()));
            if let Some(vmac) = plan.vmac.as_deref() {
                self.queue(Work::VmacGate {
                    ifname: vmac.name.clone(),
                    close: true,
                });
            }
        }
        let specs = only.unwrap_or(&plan.vips);
        if !specs.is_empty() {
            self.queue(Work::Remove(specs.to_vec()));
            // Whatever the plan says now: the executor deletes only entries it added.
            self.queue(Work::Refuse {
                addrs: specs.iter().map(|s| s.addr).collect(),
                refuse: false,
            });
        }
    }

    fn routing(&mut self, plan: &Arc<InstancePlan>, up: bool, only: Option<&Routing>) {
        if let Some(routing) = only.or(plan.routing.as_deref()) {
            self.queue(Work::Routing {
                instance: plan.name().to_owned(),
                routing: Box::new(routing.clone()),
                up,
            });
        }
    }

    fn accept_mode(&mut self, plan: &Arc<InstancePlan>, refuse: bool) {
        if !plan.vips.is_empty() {
            self.queue(Work::Refuse {
                addrs: plan.vips.iter().map(|s| s.addr).collect(),
                refuse,
            });
        }
    }

    fn announce(&mut self, plan: &Arc<InstancePlan>, count: u8) {
        if !plan.announce.frames.is_empty() {
            self.queue(Work::Announce {
                plan: plan.clone(),
                count,
            });
        }
    }

    fn transition(&mut self, plan: &InstancePlan, t: Transition) {
        tracing::info!(
            instance = %plan.name(),
            interface = %plan.interface,
            vrid = plan.fsm.vrid.get(),
            from = %t.from,
            to = %t.to,
            reason = %t.reason,
            priority = t.priority.get(),
            "transition"
        );
    }

    fn notify(&mut self, plan: &InstancePlan, state: NotifyState, priority: Priority) {
        let note = Notification {
            scope: Scope::Instance,
            name: plan.name().to_owned(),
            state,
            priority: priority.get(),
        };
        self.notifier.notify(plan.notify_scripts(), &note);
    }

    fn priority_changed(&mut self, plan: &InstancePlan, master: bool, priority: Priority) {
        self.notifier.fifo_only(&crate::notify::priority_fifo_line(
            plan.name(),
            master,
            priority.get(),
        ));
    }

    fn notify_group(&mut self, group: &GroupPlan, state: NotifyState) {
        tracing::info!(group = %group.name, state = state.as_keepalived(), "sync group state");
        // keepalived gives a group priority 0, in the script's arguments and the FIFO line.
        let note = Notification {
            scope: Scope::Group,
            name: group.name.clone(),
            state,
            priority: 0,
        };
        self.notifier.notify(group.notify_scripts(), &note);
    }

    fn source_ready(&mut self, plan: &InstancePlan) {
        if let Some(open) = self.sockets.get(&plan.socket)
            && let Err(e) = open.socket.bind_source()
        {
            tracing::warn!(instance = %plan.name(), error = %e, "source address still not usable");
        }
    }

    fn replan(&mut self, interface: &str) {
        if self.replan.is_none() {
            self.replan = Some(interface.to_owned());
        }
    }

    fn bind(&mut self, table: &RxTable) {
        self.sockets
            .retain(|key, open| match table.sockets.get(key) {
                Some(routes) => {
                    open.routes.send_replace(routes.clone());
                    true
                }
                None => {
                    open.receiver.abort();
                    false
                }
            });
        let unused: Vec<String> = self
            .vmacs
            .keys()
            .filter(|name| !table.vmacs.contains(*name))
            .cloned()
            .collect();
        for name in unused {
            if let Some(v) = self.vmacs.remove(&name) {
                self.queue(Work::DeleteVmac {
                    name,
                    ifindex: v.ifindex,
                });
            }
        }
    }
}

/// The spacing of repeated announcements: keepalived's `vrrp_garp_interval` for gratuitous
/// ARP (IPv4 instances), `vrrp_gna_interval` for unsolicited neighbour advertisements (IPv6).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnnounceGaps {
    pub garp: Duration,
    pub gna: Duration,
}

/// The executor task: runs until every sender is dropped.
pub async fn execute(
    netlink: Arc<Netlink>,
    mut work: mpsc::UnboundedReceiver<Work>,
    gaps: AnnounceGaps,
    firewall_table: bool,
) {
    let mut announcing = Announcing::new(gaps);
    // Additions in one datagram per batch (`net/address_batch.rs`); without it they go
    // through the connection, a round trip slower.
    let mut batcher = crate::net::address_batch::AddressBatcher::open()
        .inspect_err(|e| tracing::warn!(error = %e, "address batches unavailable: virtual addresses added through the netlink connection"))
        .ok();
    let mut refusing = Refusing {
        table: firewall_table,
        ..Refusing::default()
    };
    while let Some(first) = work.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = work.try_recv() {
            batch.push(more);
        }
        coalesce_refusals(&mut batch);
        let mut items = batch.into_iter().peekable();
        while let Some(item) = items.next() {
            match item {
                Work::Install(_) | Work::Announce { .. } => {
                    // A failover of many instances queues Install, Announce, Install, ...:
                    // the whole run goes to the kernel at once (`pipeline.rs`).
                    let mut run = vec![item];
                    while let Some(more) = items.next_if(pipelines) {
                        run.push(more);
                    }
                    run_pipelined(&netlink, batcher.as_mut(), run, &mut announcing).await;
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
                Work::Refuse { addrs, refuse } => refusing.change(&addrs, refuse).await,
                Work::VmacGate { ifname, close } => refusing.gate(&ifname, close).await,
                Work::Routing {
                    instance,
                    routing,
                    up,
                } => apply_routing(&netlink, &instance, &routing, up).await,
                Work::StopAnnouncing(instance) => announcing.stop(&instance),
                Work::DeleteVmac { name, ifindex } => {
                    if let Err(e) = netlink.delete_vmac(ifindex).await {
                        tracing::warn!(interface = %name, ifindex, error = %e, "cannot delete VMAC interface");
                    }
                    refusing.gate(&name, false).await;
                }
                Work::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}

/// Merges the drop-entry changes of a batch so a mass failover of no-accept instances costs
/// one `nft` run, not one per instance. An addition moves earlier (a drop entry for an
/// address not yet added does nothing), a deletion moves later (the address is gone by
/// then); neither moves past a change in the other direction, so an address that flaps
/// within one batch keeps its order.
fn coalesce_refusals(batch: &mut [Work]) {
    let mut open_add: Option<usize> = None;
    let mut open_del: Option<usize> = None;
    for i in 0..batch.len() {
        let Work::Refuse { refuse, .. } = batch[i] else {
            continue;
        };
        if refuse {
            open_del = None;
            match open_add {
                Some(first) => {
                    let moved = take_addrs(&mut batch[i]);
                    if let Work::Refuse { addrs, .. } = &mut batch[first] {
                        addrs.extend(moved);
                    }
                }
                None => open_add = Some(i),
            }
        } else {
            open_add = None;
            if let Some(earlier) = open_del {
                let moved = take_addrs(&mut batch[earlier]);
                if let Work::Refuse { addrs, .. } = &mut batch[i] {
                    addrs.splice(0..0, moved);
                }
            }
            open_del = Some(i);
        }
    }
}

fn take_addrs(w: &mut Work) -> Vec<IpAddr> {
    match w {
        Work::Refuse { addrs, .. } => std::mem::take(addrs),
        _ => Vec::new(),
    }
}

/// The executor's view of the `net::firewall` table: whether this run made it, and the
/// addresses it put in. Only those are deleted, so removing residual or never-refused VIPs
/// costs no `nft` run.
#[derive(Debug, Default)]
struct Refusing {
    table: bool,
    addrs: std::collections::HashSet<IpAddr>,
    /// The VMACs this run closed (`Work::VmacGate`).
    closed: std::collections::HashSet<String>,
}

impl Refusing {
    /// Makes the table if this run has not (at start it is made only for Accept_Mode off).
    async fn ensure_table(&mut self, what: &str) -> bool {
        use crate::net::firewall;
        if !self.table {
            match firewall::apply(&firewall::setup_script()).await {
                Ok(()) => self.table = true,
                Err(e) => {
                    tracing::error!(error = %e, table = firewall::TABLE, "cannot create the nftables table: {what}");
                }
            }
        }
        self.table
    }

    /// Closes or opens a VMAC (`net::firewall`, `vmac_gate`); nothing when it already is.
    async fn gate(&mut self, ifname: &str, close: bool) {
        use crate::net::firewall;
        if self.closed.contains(ifname) == close {
            return;
        }
        if close
            && !self
                .ensure_table("a Backup's VMAC ACCEPTS packets addressed to the virtual MAC")
                .await
        {
            return;
        }
        match firewall::apply(&firewall::vmac_gate_script(ifname, close)).await {
            Ok(()) => {
                if close {
                    self.closed.insert(ifname.to_owned());
                } else {
                    self.closed.remove(ifname);
                }
                tracing::debug!(interface = %ifname, close, "VMAC gate changed");
            }
            Err(e) if close => {
                tracing::error!(interface = %ifname, error = %e, "cannot close the VMAC: as a Backup it ACCEPTS packets addressed to the virtual MAC")
            }
            Err(e) => {
                tracing::error!(interface = %ifname, error = %e, "cannot open the VMAC: as Master it drops traffic to the virtual MAC")
            }
        }
    }

    async fn change(&mut self, addrs: &[IpAddr], refuse: bool) {
        use crate::net::firewall;
        let addrs: Vec<IpAddr> = addrs
            .iter()
            .copied()
            .filter(|a| self.addrs.contains(a) != refuse)
            .collect();
        if addrs.is_empty() {
            return;
        }
        // Made at start when the configuration needs it (`driver`); a reload that adds the
        // first no-accept instance gets it here.
        if refuse && !self.table {
            match firewall::apply(&firewall::setup_script()).await {
                Ok(()) => self.table = true,
                Err(e) => {
                    tracing::error!(error = %e, table = firewall::TABLE, "cannot create the nftables table: traffic to these virtual addresses is ACCEPTED although accept mode is off");
                    return;
                }
            }
        }
        match firewall::set_elements(&addrs, refuse).await {
            Ok(()) => {
                for a in &addrs {
                    if refuse {
                        self.addrs.insert(*a);
                    } else {
                        self.addrs.remove(a);
                    }
                }
                tracing::debug!(?addrs, refuse, "accept mode off: drop entries changed");
            }
            Err(e) if refuse => {
                tracing::error!(?addrs, error = %e, "cannot add nftables drop entries: traffic to these virtual addresses is ACCEPTED although accept mode is off")
            }
            Err(e) => {
                tracing::warn!(?addrs, error = %e, "cannot delete nftables drop entries")
            }
        }
    }
}

/// Adds routes then rules, or deletes rules then routes (keepalived's order: a rule may
/// point at a table the routes fill). A route already there (adding) or already gone
/// (deleting) is what was wanted; anything else is logged with the route, and the others
/// still go in: one bad route does not cost an instance the rest.
pub async fn apply_routing(netlink: &Netlink, instance: &str, routing: &Routing, up: bool) {
    use crate::net::routing::{describe_route, describe_rule};
    let benign = |e: &crate::net::NetError| {
        if up {
            e.is_already_exists()
        } else {
            e.is_not_found() || e.errno() == Some(libc::ESRCH)
        }
    };
    let routes = async {
        for r in &routing.routes {
            match netlink.route(r, up).await {
                Ok(()) => {
                    tracing::debug!(instance, route = %describe_route(r), up, "route changed")
                }
                Err(e) if benign(&e) => {}
                Err(e) => tracing::error!(instance, error = %e, "cannot change route"),
            }
        }
    };
    let rules = async {
        for r in &routing.rules {
            match netlink.rule(r, up).await {
                Ok(()) => tracing::debug!(instance, rule = %describe_rule(r), up, "rule changed"),
                Err(e) if benign(&e) => {}
                Err(e) => tracing::error!(instance, error = %e, "cannot change rule"),
            }
        }
    };
    if up {
        routes.await;
        rules.await;
    } else {
        rules.await;
        routes.await;
    }
}

/// The wall clock as an `auth_hmac` sequence (read at the edge: the core never reads a clock).
fn wall_clock() -> crate::wire::auth_hmac::Sequence {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::wire::auth_hmac::Sequence::from_clock(now.as_secs(), now.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse(a: u8, refuse: bool) -> Work {
        Work::Refuse {
            addrs: vec![IpAddr::from([192, 0, 2, a])],
            refuse,
        }
    }

    fn shape(batch: &[Work]) -> Vec<String> {
        batch
            .iter()
            .map(|w| match w {
                Work::Refuse { addrs, refuse } => format!(
                    "{}{:?}",
                    if *refuse { "+" } else { "-" },
                    addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>()
                ),
                Work::StopAnnouncing(n) => format!("stop {n}"),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn drop_entries_merge_additions_earlier_and_deletions_later_never_across_each_other() {
        let stop = |n: &str| Work::StopAnnouncing(n.into());
        let mut batch = vec![
            refuse(1, true),
            stop("a"),
            refuse(2, true),
            stop("b"),
            refuse(1, false),
            stop("c"),
            refuse(2, false),
            refuse(1, true),
        ];
        coalesce_refusals(&mut batch);
        assert_eq!(
            shape(&batch),
            vec![
                "+[\"192.0.2.1\", \"192.0.2.2\"]",
                "stop a",
                "+[]",
                "stop b",
                "-[]",
                "stop c",
                "-[\"192.0.2.1\", \"192.0.2.2\"]",
                "+[\"192.0.2.1\"]",
            ]
        );
    }
}
