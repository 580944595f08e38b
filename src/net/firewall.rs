//! The nftables table that enforces Accept_Mode off (`no_accept`, `strict_mode`, YAML
//! `accept: false`).
//!
//! RFC 5798 §6.4.3: a master that is not the address owner "MUST NOT accept packets addressed
//! to the IPvX address(es) associated with the virtual router" unless Accept_Mode is True. The
//! kernel accepts packets for any local address, so the VIPs of such a master are listed in a
//! set that an input-hook rule drops. keepalived does the same (its `nftables` table
//! `keepalived`, chain priority -1, which it uses by default under `no_accept`); vigil's table is
//! `inet vigil`, one table for both families:
//!
//! ```text
//! table inet vigil {
//!     set vips4 { type ipv4_addr; }
//!     set vips6 { type ipv6_addr; }
//!     chain input {
//!         type filter hook input priority -1; policy accept;
//!         icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
//!         ip daddr @vips4 counter drop
//!         ip6 daddr @vips6 counter drop
//!     }
//! }
//! ```
//!
//! The same table closes the VMAC interfaces of instances that are not Master (RFC 5798
//! §6.4.2: a Backup "MUST NOT accept packets addressed to the ... virtual router MAC
//! address"). The macvlan driver delivers every frame for the virtual MAC to the VMAC while it
//! is up, and a Backup's VMAC must stay up: the master's adverts carry the virtual MAC as their
//! source, and macvlan hands such a frame to the local VMAC of that MAC alone (a socket on the
//! base interface never sees it while the VMAC is up; one down is not in macvlan's table, and
//! the advert would reach only the base interface, where this instance does not listen). So a
//! closed VMAC keeps VRRP (and AH) and drops every other IP packet at prerouting, forwarded or
//! local alike:
//!
//! ```text
//!     set vmacs_closed { type ifname; }
//!     chain vmac_gate {
//!         type filter hook prerouting priority -1; policy accept;
//!         iifname @vmacs_closed meta l4proto != { 112, 51 } counter drop
//!     }
//! ```
//!
//! ARP is not IP: a closed VMAC holds no virtual address and has `arp_ignore` 1, so it
//! answers none. keepalived leaves a Backup's VMAC open.
//!
//! What is let through, as keepalived lets it through: IPv6 neighbour solicitations and
//! advertisements (a master must answer neighbour discovery for its VIPs, or no client finds
//! it). ARP is not IP and never reaches this hook. VRRP adverts are addressed to the multicast
//! group or to a peer's own address, never to a VIP. keepalived also drops output sourced from
//! a VIP; vigil does not: a reply needs a request, which is dropped here, and the RFC asks only
//! that packets addressed to the VIPs be refused. Traffic from the router itself to its VIP
//! (over `lo`) is dropped like any other, as with keepalived.
//!
//! A link-local IPv6 VIP is matched by its address on every interface (keepalived can match
//! address and interface); a link-local address is rarely reused across a router's links.
//!
//! Driven through the `nft` program (`nft -f -`, no shell, bounded by a timeout): the Rust
//! crates speaking nftables netlink (rustables, nftnl) describe themselves as rough or
//! partial, and every change here is a handful of lines in one atomic `nft` transaction.
//! Element changes are few (one per VIP at each transition), off the core's loop, in the
//! executor's order: the drop is in place before a VIP is added, and taken away only after
//! the VIP is removed.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The table's family and name.
pub const TABLE: &str = "inet vigil";
/// keepalived's default chain priority (`nftables_priority`): just before the usual filter
/// chains (priority 0), so the drop happens whatever another table accepts.
pub const PRIORITY: i32 = -1;
/// An `nft` run longer than this is killed and reported: the executor must not hang.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The `nft` program, found on `PATH` (Debian: /usr/sbin/nft).
const NFT: &str = "nft";

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error(
        "cannot run `nft` (needed to enforce accept mode off: is the nftables package installed?): {0}"
    )]
    Spawn(std::io::Error),
    #[error("`nft` did not finish within {0:?}")]
    Timeout(Duration),
    #[error("`nft` failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
}

impl FirewallError {
    /// `nft` is not installed: nothing to clean up when no instance needs it.
    pub fn is_missing_program(&self) -> bool {
        matches!(self, FirewallError::Spawn(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The script that creates the table empty, replacing any table a previous run left (a
/// daemon killed by `kill -9` cannot delete it, and its elements would drop traffic to
/// addresses this run may accept). One transaction: never a moment without the table once
/// it existed. `table` first makes the `delete` valid when there is none.
pub fn setup_script() -> String {
    let mut s = format!("table {TABLE}\ndelete table {TABLE}\n");
    let _ = write!(
        s,
        "table {TABLE} {{\n\
         \tset vips4 {{ type ipv4_addr; }}\n\
         \tset vips6 {{ type ipv6_addr; }}\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority {PRIORITY}; policy accept;\n\
         \t\ticmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} accept\n\
         \t\tip daddr @vips4 counter drop\n\
         \t\tip6 daddr @vips6 counter drop\n\
         \t}}\n\
         \tset vmacs_closed {{ type ifname; }}\n\
         \tchain vmac_gate {{\n\
         \t\ttype filter hook prerouting priority {PRIORITY}; policy accept;\n\
         \t\tiifname @vmacs_closed meta l4proto != {{ {VRRP}, {AH} }} counter drop\n\
         \t}}\n\
         }}\n"
    );
    s
}

/// IP protocol numbers a closed VMAC still takes: VRRP, and IPsec AH for `auth_type AH`.
const VRRP: u8 = crate::wire::IPPROTO_VRRP;
const AH: u8 = crate::wire::IPPROTO_AH;

/// `add element` / `delete element` of one VMAC in `vmacs_closed`.
pub fn vmac_gate_script(ifname: &str, close: bool) -> String {
    let verb = if close { "add" } else { "delete" };
    format!("{verb} element {TABLE} vmacs_closed {{ \"{ifname}\" }}\n")
}

/// The script that deletes the table, whether or not it exists.
pub fn teardown_script() -> String {
    format!("table {TABLE}\ndelete table {TABLE}\n")
}

/// `add element` (idempotent) or `delete element` lines for `addrs`, one per family.
pub fn elements_script(addrs: &[IpAddr], add: bool) -> String {
    let verb = if add { "add" } else { "delete" };
    let mut s = String::new();
    for (set, v4) in [("vips4", true), ("vips6", false)] {
        let list: Vec<String> = addrs
            .iter()
            .filter(|a| a.is_ipv4() == v4)
            .map(|a| a.to_string())
            .collect();
        if !list.is_empty() {
            let _ = writeln!(s, "{verb} element {TABLE} {set} {{ {} }}", list.join(", "));
        }
    }
    s
}

/// Runs `nft -f -` with `script` on its standard input.
pub async fn apply(script: &str) -> Result<(), FirewallError> {
    let mut child = Command::new(NFT)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(FirewallError::Spawn)?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .await
                .map_err(FirewallError::Spawn)?;
        }
        child.wait_with_output().await.map_err(FirewallError::Spawn)
    };
    let out = tokio::time::timeout(TIMEOUT, run)
        .await
        .map_err(|_| FirewallError::Timeout(TIMEOUT))??;
    if out.status.success() {
        return Ok(());
    }
    // nft's messages are a few lines; keep the log line bounded whatever it prints.
    let stderr: String = String::from_utf8_lossy(&out.stderr)
        .trim()
        .chars()
        .take(1024)
        .collect();
    Err(FirewallError::Failed {
        status: out.status.to_string(),
        stderr,
    })
}

/// Adds or deletes the drop entries for `addrs`. A batch of deletions fails as a whole when
/// one entry is already gone (nft 1.0.6 has no `destroy`); it is then retried one address at
/// a time, so every entry still present goes.
pub async fn set_elements(addrs: &[IpAddr], add: bool) -> Result<(), FirewallError> {
    if addrs.is_empty() {
        return Ok(());
    }
    match apply(&elements_script(addrs, add)).await {
        Ok(()) => Ok(()),
        Err(e) if add || addrs.len() == 1 => Err(e),
        Err(_) => {
            let mut last = Ok(());
            for a in addrs {
                if let Err(e) = apply(&elements_script(std::slice::from_ref(a), false)).await {
                    last = Err(e);
                }
            }
            last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_replaces_any_table_and_drops_only_after_neighbour_discovery() {
        let s = setup_script();
        assert!(s.starts_with("table inet vigil\ndelete table inet vigil\n"));
        let nd = s.find("nd-neighbor-solicit").unwrap();
        let drop4 = s.find("ip daddr @vips4 counter drop").unwrap();
        let drop6 = s.find("ip6 daddr @vips6 counter drop").unwrap();
        assert!(nd < drop4 && nd < drop6, "{s}");
        assert!(s.contains("hook input priority -1; policy accept;"), "{s}");
    }

    #[test]
    fn a_closed_vmac_keeps_vrrp_and_ah_only() {
        let s = setup_script();
        assert!(s.contains("set vmacs_closed { type ifname; }"), "{s}");
        assert!(
            s.contains("iifname @vmacs_closed meta l4proto != { 112, 51 } counter drop"),
            "{s}"
        );
        assert!(
            s.contains("hook prerouting priority -1; policy accept;"),
            "{s}"
        );
        assert_eq!(
            vmac_gate_script("vrrp.51", true),
            "add element inet vigil vmacs_closed { \"vrrp.51\" }\n"
        );
        assert_eq!(
            vmac_gate_script("vrrp.51", false),
            "delete element inet vigil vmacs_closed { \"vrrp.51\" }\n"
        );
    }

    #[test]
    fn elements_go_to_their_family_set() {
        let addrs: Vec<IpAddr> = vec![
            "192.0.2.1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
        ];
        assert_eq!(
            elements_script(&addrs, true),
            "add element inet vigil vips4 { 192.0.2.1, 192.0.2.2 }\n\
             add element inet vigil vips6 { 2001:db8::1 }\n"
        );
        assert_eq!(
            elements_script(&addrs[1..2], false),
            "delete element inet vigil vips6 { 2001:db8::1 }\n"
        );
        assert_eq!(elements_script(&[], true), "");
    }
}
