//! A network-namespace lab for vigil's integration tests.
//!
//! A [`Lab`] is a "switch" namespace holding one Linux bridge per L2 segment, and hosts
//! (namespaces) plugged into it by veth pairs with deterministic MACs and addresses from the
//! documentation ranges. Tests run daemons in hosts ([`Host::spawn`], [`Keepalived::start`]),
//! impair the switch with nftables ([`Lab::partition`], [`Lab::drop_vrrp`], [`Lab::heal`]),
//! replace a segment's bridge by a relay that loses, duplicates, delays and reorders frames
//! ([`Lab::impair`], see [`impair`]), pull cables ([`Host::link_down`]) and observe the
//! result ([`Host::addresses`], [`Host::neigh`], [`Host::ping`], [`Host::capture`]) with
//! bounded waits ([`wait_until`], [`within`]). Tests of vigil's library run its code inside a host on a thread of their own
//! ([`Host::spawn_async`], [`Host::run_async`]).
//!
//! Everything a lab creates is removed when it is dropped, also when the test panics: its
//! processes are killed by process group and its namespaces deleted. A lab whose test process
//! died before that is swept by the next lab of any test ([`sweep_stale_labs`]).
//!
//! A [`Station`] crafts VRRP adverts ([`Advert`]) and sends them over AF_PACKET; [`adverts`]
//! reads a daemon's back from a capture with timestamps, and [`Timers`] holds the RFC 5798
//! formulas the conformance suite times them against.
//!
//! ## Names and addresses
//!
//! | what | value |
//! |---|---|
//! | lab id | `vgl<pid>x<n>` |
//! | namespaces | `<id>-sw` (switch), `<id>-<host>` |
//! | host interfaces | `eth0`, `eth1`, ... (one per segment, in the order given) |
//! | switch ports | `s<segment>h<host number>`, on bridge `br<segment>` |
//! | host numbers | routers 1.., clients 101.. |
//! | MAC | `02:76:6c:<segment>:00:<number>` |
//! | segment 0 (`lan`) | `192.0.2.<number>/24`, `2001:db8::<number hex>/64` |
//! | segments 1, 2 | `198.51.100.0/24`, `203.0.113.0/24`; `2001:db8:0:<segment>::/64` |
//! | VIPs | [`Lab::vip4`] = `192.0.2.200+k`, [`Lab::vip6`] = `2001:db8::2xx` |
//!
//! IPv6 duplicate address detection is off in every host, so addresses (and VIPs) are usable
//! at once; bridges have multicast snooping off, so every port sees VRRP multicast.
//!
//! ## Writing a test
//!
//! Lab tests need root. Under `CI=true` or `VIGIL_LAB=1` a lab that cannot be built fails the
//! test; elsewhere the test prints `SKIP: <test>: <reason>` and passes. [`scenario`] does that
//! and, if the body fails, prints every process's output and keeps the lab directory:
//!
//! ```no_run
//! use std::time::Duration;
//! use vigil_integration::{Keepalived, Lab, VrrpState, scenario};
//!
//! #[test]
//! fn higher_priority_wins() -> anyhow::Result<()> {
//!     scenario("higher_priority_wins", |lab| {
//!         let r1 = lab.host("r1")?;
//!         let c = lab.client("c")?;
//!         let vip = Lab::vip4(0);
//!         let conf = format!(
//!             "vrrp_instance VI {{\n interface {}\n virtual_router_id 7\n priority 200\n \
//!              advert_int 1\n virtual_ipaddress {{\n {vip}/24\n }}\n}}\n",
//!             r1.ifname()
//!         );
//!         let ka = Keepalived::start(&r1, &conf)?;
//!         ka.wait_state("VI", VrrpState::Master, Duration::from_secs(10))?;
//!         assert!(c.ping(vip.into())?);
//!         Ok(())
//!     })
//! }
//! ```
//!
//! Without the closure, [`require_lab!`] gives the same skip logic:
//! `let lab = require_lab!("name");` in a test returning `anyhow::Result<()>`.
//!
//! ## Tests with timing bounds
//!
//! A test that asserts a time (a takeover within Master_Down_Interval + 100 ms, an advert
//! cadence within 20 ms) must not run beside another such test: cargo runs the tests of one
//! binary on parallel threads, and other checkouts on the machine may run labs at the same
//! time. Such a test runs its body under [`timed_scenario`] instead of [`scenario`] (or holds
//! `let _timing = timing_critical("name")?;` for its duration, after [`require_lab!`]): both
//! take an exclusive `flock` on [`LOCK_PATH`], shared by every test binary and checkout, and
//! release it when the test ends (or its process dies). Tests without timing bounds keep
//! using [`scenario`] and run in parallel as before.
//!
//! Bounds come from the RFC formulas computed from the configured priority and interval
//! ([`master_down_interval`], [`skew_time`]), never from the daemon's own status, and are
//! measured on the wire: capture with [`VRRP_FILTER`] on the backup's host (it sees both
//! masters' adverts, multicast or unicast), note [`wire_now`] before the event, then
//! [`handover`] over [`Capture::adverts`] gives the old master's last advert (or its
//! priority-0 advert) and the new master's first, and [`first_announce`] over
//! [`Capture::announcements`] its first gratuitous ARP or NA. kill -9 of a master: new
//! master's first advert within [MDI − 20 ms, MDI + 100 ms] of the old one's last; SIGTERM:
//! within [Skew_Time − 20 ms, Skew_Time + 100 ms] of its priority-0 advert.

mod capture;
mod cmd;
mod host;
pub mod impair;
mod inside;
mod keepalived;
mod lab;
mod matrix;
mod on_wire;
mod ping;
mod process;
mod station;
mod timing;
mod vigil;
mod wait;

pub use capture::{Capture, parse_pcap, parse_pcap_timed};
pub use host::{Host, HostAddr, HostKind, Link};
pub use impair::{Impairment, Relay, RelayStats};
pub use inside::InHost;
pub use keepalived::{Keepalived, VrrpState};
pub use lab::{Lab, PREFIX, lab_required, sweep_stale_labs};
pub use matrix::{
    ADVERT_CENTIS, Matrix, MatrixVrid, Outage, OutageMeter, SYNC_GROUP, matrix_vrids,
    rfc_master_down_interval, rfc_skew_time,
};
pub use on_wire::{
    Handover, SeenAdvert, SeenAnnounce, VRRP_FILTER, first_announce, handover,
    master_down_interval, parse_mac, skew_time, wire_now,
};
pub use ping::{PingReply, ping_replies};
pub use process::{Child, STOP_TIMEOUT};
pub use station::{
    Advert, Advertiser, Seen, Station, Timers, VRRP_GROUP_V4, VRRP_GROUP_V6, adverts,
    announcements, mac_bytes, parse_advert, virtual_mac, within_tolerance,
};
pub use timing::{LOCK_PATH, LOCK_WAIT, TimingGuard, timed_scenario, timing_critical};
pub use vigil::{Reload, Vigil};
pub use wait::{Check, POLL_INTERVAL, Waited, wait_for, wait_until, within};

/// Builds a lab for a test that returns `anyhow::Result<()>`, or returns `Ok(())` from it
/// after printing `SKIP: <name>: <reason>` where lab tests are optional (see
/// [`Lab::new_or_skip`]).
#[macro_export]
macro_rules! require_lab {
    ($name:expr) => {
        match $crate::Lab::new_or_skip($name)? {
            Some(lab) => lab,
            None => return Ok(()),
        }
    };
}

/// Runs `body` in a fresh lab named `test_name`, or skips (see [`Lab::new_or_skip`]).
///
/// If `body` returns an error (or panics), the lab prints the output of every process it
/// started and keeps its directory before tearing down; the error is returned.
pub fn scenario(
    test_name: &str,
    body: impl FnOnce(&Lab) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some(lab) = Lab::new_or_skip(test_name)? else {
        return Ok(());
    };
    let result = body(&lab);
    if let Err(e) = &result {
        eprintln!("{test_name}: failed: {e:#}");
        lab.mark_failed();
    }
    drop(lab);
    result
}

/// The vigil binary for scenario tests: `$VIGIL_BIN`, else `vigil` in the workspace's target
/// directory (`$CARGO_TARGET_DIR` or `target/`, debug profile). It must have been built
/// (`cargo test --workspace` and `cargo build` do).
pub fn vigil_binary() -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    if let Ok(path) = std::env::var("VIGIL_BIN") {
        return Ok(path.into());
    }
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("integration/ has no parent directory")?;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| workspace.join("target"));
    let bin = target.join("debug").join("vigil");
    anyhow::ensure!(
        bin.exists(),
        "{bin:?} does not exist: build it first (cargo build -p vigil) or set VIGIL_BIN"
    );
    Ok(bin)
}
