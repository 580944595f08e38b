//! Least privilege: once the daemon has started (configuration read, sockets and control
//! socket open, VMACs made, checkers started), it keeps only the capabilities its running
//! life needs and gives up every other one for good.
//!
//! Kept, and why (each proven by a lab test that runs with the drop in place):
//! - `CAP_NET_RAW`: VRRP raw sockets and AF_PACKET (GARP/NA) sockets, which a reload opens
//!   for new interfaces; `SO_BINDTODEVICE` on them.
//! - `CAP_NET_ADMIN`: netlink changes (VIPs, routes, rules, VMAC links) and multicast joins.
//!   The per-interface sysctls a VMAC needs (/proc/sys/net/.../conf/IF/*) need no more: the
//!   kernel lets uid 0 (or CAP_NET_ADMIN) write a net sysctl by its owner bits
//!   (`net_ctl_permissions`), and the daemon stays uid 0.
//! - `CAP_SETUID`, `CAP_SETGID`: running scripts as `script_user` / `keepalived_script`.
//! - `CAP_KILL`: killing the process group of such a script at its timeout or at shutdown.
//!
//! Not kept: `CAP_DAC_OVERRIDE` / `CAP_DAC_READ_SEARCH` (the daemon is uid 0 and owns what it
//! reads and writes: the configuration, /run/vigil), `CAP_SYS_ADMIN` (the daemon never
//! changes namespace; it is started inside one), `CAP_NET_BIND_SERVICE` (the metrics port is
//! bound at start), `CAP_CHOWN`/`CAP_FOWNER` (files are made at start; removing them needs
//! write access to their root-owned directory, which uid 0 has by its owner bits).
//!
//! The sets: bounding, permitted and effective become the kept set; inheritable and ambient
//! are emptied. A script run as root then gets the bounding set at exec (the kernel gives
//! uid 0 its bounding set), i.e. the kept five: enough for `ip`, `iptables`/`nft`, sending
//! signals and talking to systemd, not for writing files other users own or loading kernel
//! modules. keepalived, which drops nothing, gives its root scripts everything; operators
//! whose scripts need that run `vigil run --keep-capabilities`. A script run as another user
//! gets nothing (empty ambient set), as with keepalived.
//!
//! Capabilities are per thread. The drop is made on the thread that runs the daemon's loop,
//! which is the one that forks scripts and whose state /proc/PID/status shows; threads it
//! starts afterwards inherit the reduced sets. Blocking-pool threads started earlier (they
//! parse and plan the first configuration) keep theirs until they end, idle, after tokio's
//! keep-alive (10 s); they run no external program.

use caps::{CapSet, Capability, CapsHashSet};

/// What the daemon keeps after start-up.
pub const KEPT: [Capability; 5] = [
    Capability::CAP_NET_ADMIN,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETUID,
    Capability::CAP_SETGID,
    Capability::CAP_KILL,
];

#[derive(Debug, thiserror::Error)]
#[error("cannot drop capabilities ({step}): {source}")]
pub struct PrivilegeError {
    step: &'static str,
    source: caps::errors::CapsError,
}

fn step<T>(step: &'static str, r: Result<T, caps::errors::CapsError>) -> Result<T, PrivilegeError> {
    r.map_err(|source| PrivilegeError { step, source })
}

/// Reduces the calling thread's capabilities to `kept` (those of them it has). Returns what
/// remains in the effective set.
pub fn drop_all_but(kept: &[Capability]) -> Result<CapsHashSet, PrivilegeError> {
    let permitted = step("read permitted", caps::read(None, CapSet::Permitted))?;
    let keep: CapsHashSet = kept
        .iter()
        .copied()
        .filter(|c| permitted.contains(c))
        .collect();
    // The bounding set first: dropping from it needs CAP_SETPCAP, which goes next. Without
    // it (an unprivileged start, or a unit whose bounding set is already reduced) nothing
    // that is not already unreachable could be dropped.
    if permitted.contains(&Capability::CAP_SETPCAP) {
        for c in caps::runtime::thread_all_supported() {
            if !keep.contains(&c)
                && step("read bounding", caps::has_cap(None, CapSet::Bounding, c))?
            {
                step("bounding", caps::drop(None, CapSet::Bounding, c))?;
            }
        }
    }
    step("ambient", caps::clear(None, CapSet::Ambient))?;
    step("inheritable", caps::clear(None, CapSet::Inheritable))?;
    step("effective", caps::set(None, CapSet::Effective, &keep))?;
    step("permitted", caps::set(None, CapSet::Permitted, &keep))?;
    Ok(keep)
}

/// What `vigil run` cannot start without: raw sockets and netlink changes. Checked once before
/// anything is opened, so that an unprivileged start says what it lacks in one line instead
/// of failing at the first socket with "Operation not permitted".
pub const NEEDED_TO_RUN: [Capability; 2] = [Capability::CAP_NET_RAW, Capability::CAP_NET_ADMIN];

#[derive(Debug, thiserror::Error)]
#[error(
    "vigil run needs root, or the capabilities CAP_NET_RAW and CAP_NET_ADMIN; this process lacks {missing}: run it as root (sudo, or the systemd unit)"
)]
pub struct MissingPrivilege {
    /// The missing ones, comma-separated.
    pub missing: String,
}

/// Refuses to go on unless this thread's effective set holds [`NEEDED_TO_RUN`].
pub fn require_run_privilege() -> Result<(), MissingPrivilege> {
    // A set that cannot be read is treated as empty: the error then names both.
    let effective = caps::read(None, CapSet::Effective).unwrap_or_default();
    missing_to_run(&effective)
}

fn missing_to_run(effective: &CapsHashSet) -> Result<(), MissingPrivilege> {
    let missing: Vec<String> = NEEDED_TO_RUN
        .iter()
        .filter(|c| !effective.contains(c))
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MissingPrivilege {
            missing: missing.join(" and "),
        })
    }
}

/// Names for the log, in a stable order.
pub fn names(set: &CapsHashSet) -> String {
    let mut v: Vec<String> = set.iter().map(ToString::to_string).collect();
    v.sort();
    v.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drop is irreversible for the calling thread: each test runs it on a thread of its
    /// own so the rest of the test binary keeps its privileges.
    fn on_own_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().expect("thread")
    }

    #[test]
    fn only_the_kept_capabilities_remain_in_every_set() {
        let (kept, effective, permitted, inheritable, ambient, bounding) = on_own_thread(|| {
            let kept = drop_all_but(&KEPT).expect("drop");
            (
                kept,
                caps::read(None, CapSet::Effective).unwrap(),
                caps::read(None, CapSet::Permitted).unwrap(),
                caps::read(None, CapSet::Inheritable).unwrap(),
                caps::read(None, CapSet::Ambient).unwrap(),
                caps::read(None, CapSet::Bounding).unwrap(),
            )
        });
        assert!(inheritable.is_empty() && ambient.is_empty());
        assert_eq!(effective, kept);
        assert_eq!(permitted, kept);
        if nix::unistd::geteuid().is_root() {
            let want: CapsHashSet = KEPT.into_iter().collect();
            assert_eq!(kept, want, "root keeps all five");
            assert_eq!(bounding, want);
        } else {
            // Unprivileged: nothing was held, nothing remains.
            assert!(kept.is_empty());
        }
    }

    #[test]
    fn an_unprivileged_start_names_what_it_lacks() {
        let none = CapsHashSet::default();
        let text = missing_to_run(&none).unwrap_err().to_string();
        assert!(
            text.contains("lacks CAP_NET_RAW and CAP_NET_ADMIN") && text.contains("root"),
            "{text}"
        );
        let raw_only: CapsHashSet = [Capability::CAP_NET_RAW].into_iter().collect();
        let text = missing_to_run(&raw_only).unwrap_err().to_string();
        assert!(text.contains("lacks CAP_NET_ADMIN:"), "{text}");
        let both: CapsHashSet = NEEDED_TO_RUN.into_iter().collect();
        assert!(missing_to_run(&both).is_ok());
    }

    #[test]
    fn a_dropped_capability_cannot_be_raised_again() {
        if !nix::unistd::geteuid().is_root() {
            return; // nothing to drop
        }
        let raised = on_own_thread(|| {
            drop_all_but(&KEPT).expect("drop");
            caps::raise(None, CapSet::Effective, Capability::CAP_SYS_ADMIN).is_ok()
        });
        assert!(!raised);
    }

    /// The shipped unit's bounding set is what the daemon keeps, plus CAP_SYS_NICE (taken
    /// at start for vrrp_priority, kept for max_auto_priority): a capability added to KEPT
    /// and not to the unit would fail only under systemd.
    #[test]
    fn the_systemd_unit_bounds_what_the_daemon_keeps() {
        let unit = include_str!("../../etc/vigil.service");
        let line = unit
            .lines()
            .find_map(|l| l.strip_prefix("CapabilityBoundingSet="))
            .expect("etc/vigil.service has a CapabilityBoundingSet= line");
        let mut bounded: Vec<&str> = line.split_whitespace().collect();
        bounded.sort_unstable();
        let mut want: Vec<String> = KEPT
            .iter()
            .chain([&Capability::CAP_SYS_NICE])
            .map(ToString::to_string)
            .collect();
        want.sort_unstable();
        assert_eq!(bounded, want);
    }
}
