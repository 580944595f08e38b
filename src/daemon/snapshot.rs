//! The IO half of a resync (the pure half is `resync.rs`): after netlink events were lost,
//! subscribe afresh, then read every link and address, so that nothing changed between the
//! read and the new subscription goes unseen. Runs beside the driver's loop; retries until
//! the kernel answers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::input::{KernelSnapshot, LinkFact, LinkLocalFact, PresentAddress};
use crate::net::{NetError, Netlink, NetlinkEvents};

/// How long to wait before trying again when the kernel refused a subscription or a dump.
const RETRY: Duration = Duration::from_secs(1);

/// A fresh subscription and the state read after it.
pub async fn resubscribe(netlink: Arc<Netlink>) -> (NetlinkEvents, KernelSnapshot) {
    let events = loop {
        match NetlinkEvents::subscribe() {
            Ok(events) => break events,
            Err(e) => {
                tracing::error!(error = %e, "cannot subscribe to netlink events again: retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    loop {
        match read(&netlink).await {
            Ok(snapshot) => return (events, snapshot),
            Err(e) => {
                tracing::error!(error = %e, "cannot read links and addresses: retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

async fn read(netlink: &Netlink) -> Result<KernelSnapshot, NetError> {
    let links = netlink.links().await?;
    let addresses = netlink.all_addresses().await?;
    let mut link_locals: HashMap<u32, Vec<LinkLocalFact>> = HashMap::new();
    for a in &addresses {
        if let IpAddr::V6(v6) = a.addr
            && (v6.segments()[0] & 0xffc0) == 0xfe80
        {
            link_locals
                .entry(a.ifindex)
                .or_default()
                .push(LinkLocalFact {
                    addr: v6,
                    usable: !a.is_tentative() && !a.is_dad_failed(),
                });
        }
    }
    Ok(KernelSnapshot {
        links: links
            .into_iter()
            .map(|l| LinkFact {
                up: l.is_up(),
                link_locals: link_locals.remove(&l.ifindex).unwrap_or_default(),
                ifindex: l.ifindex,
                name: l.name,
            })
            .collect(),
        addresses: addresses
            .iter()
            .map(|a| PresentAddress {
                ifindex: a.ifindex,
                addr: a.addr,
            })
            .collect(),
    })
}
