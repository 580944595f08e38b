//! The fault matrix's lab: three vigil routers and a client on one LAN, four VRIDs mastered by
//! different routers (one IPv6, one with `use_vmac`), two of them in a sync group; what every
//! fault test asserts once its fault clears ([`Matrix::assert_converged`],
//! [`Matrix::assert_stable`]); and the outage the client saw meanwhile ([`OutageMeter`]).
//!
//! | instance | VRID | VIP | r1 | r2 | r3 | notes |
//! |---|---|---|---|---|---|---|
//! | VI_1 | 11 | 192.0.2.200 | 200 | 150 | 100 | sync group G |
//! | VI_2 | 12 | 192.0.2.201 | 200 | 150 | 100 | sync group G |
//! | VI_3 | 13 | 192.0.2.202 | 100 | 200 | 150 | `use_vmac vrrp.13` |
//! | VI_4 | 14 | 2001:db8::200 | 150 | 100 | 200 | IPv6 |
//!
//! Every instance is VRRPv3 with a 0.2 s advert interval, preempting (keepalived's default),
//! so a converged lab has the highest-priority live router as master of each VRID.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::signal::Signal;

use crate::host::Host;
use crate::lab::Lab;
use crate::process::Child;
use crate::vigil::Vigil;
use crate::wait::wait_until;

/// The advert interval of every matrix instance, in centiseconds (0.2 s).
pub const ADVERT_CENTIS: u32 = 20;

/// One VRID of the matrix.
#[derive(Debug, Clone)]
pub struct MatrixVrid {
    pub name: &'static str,
    pub vrid: u8,
    pub vip: IpAddr,
    /// Priorities of r1, r2, r3.
    pub priorities: [u8; 3],
    /// The VMAC interface, for an instance with `use_vmac`.
    pub vmac: Option<&'static str>,
}

/// The matrix's VRIDs (see the module documentation).
pub fn matrix_vrids() -> Vec<MatrixVrid> {
    vec![
        MatrixVrid {
            name: "VI_1",
            vrid: 11,
            vip: Lab::vip4(0).into(),
            priorities: [200, 150, 100],
            vmac: None,
        },
        MatrixVrid {
            name: "VI_2",
            vrid: 12,
            vip: Lab::vip4(1).into(),
            priorities: [200, 150, 100],
            vmac: None,
        },
        MatrixVrid {
            name: "VI_3",
            vrid: 13,
            vip: Lab::vip4(2).into(),
            priorities: [100, 200, 150],
            vmac: Some("vrrp.13"),
        },
        MatrixVrid {
            name: "VI_4",
            vrid: 14,
            vip: Lab::vip6(0).into(),
            priorities: [150, 100, 200],
            vmac: None,
        },
    ]
}

/// The sync group's members (indexes in [`matrix_vrids`]).
pub const SYNC_GROUP: [usize; 2] = [0, 1];

/// RFC 5798 §6.1 Master_Down_Interval for a backup of `priority` with an advert interval of
/// `centis`: 3 × Master_Adver_Interval + Skew_Time, where Skew_Time =
/// ((256 − Priority) × Master_Adver_Interval) / 256, computed here in microseconds from the
/// configuration, independently of what vigil reports.
pub fn rfc_master_down_interval(priority: u8, centis: u32) -> Duration {
    let mai_us = u64::from(centis) * 10_000;
    let skew_us = (256 - u64::from(priority)) * mai_us / 256;
    Duration::from_micros(3 * mai_us + skew_us)
}

/// Skew_Time (RFC 5798 §6.1) for `priority` and an advert interval of `centis`.
pub fn rfc_skew_time(priority: u8, centis: u32) -> Duration {
    let mai_us = u64::from(centis) * 10_000;
    Duration::from_micros((256 - u64::from(priority)) * mai_us / 256)
}

/// The matrix: three routers running vigil, a client, the VRIDs.
pub struct Matrix {
    pub routers: Vec<Host>,
    pub client: Host,
    /// The daemons, by router; `None` for a router whose daemon is down (killed).
    pub vigils: Vec<Option<Vigil>>,
    pub vrids: Vec<MatrixVrid>,
}

/// Each live router's state and counters, by (router, instance name).
type States = BTreeMap<(usize, &'static str), (String, Counters)>;

/// One router's counters for one instance, from `vigil status --json`.
#[derive(Debug, Clone)]
struct Counters {
    transitions: u64,
    adverts_received: u64,
    /// The last transition and its reason, for failure messages.
    last: String,
}

impl Matrix {
    /// Builds the hosts, starts vigil on r1, r2, r3 and waits until the lab has converged.
    pub fn start(lab: &Lab) -> Result<Matrix> {
        let routers = vec![lab.host("r1")?, lab.host("r2")?, lab.host("r3")?];
        let client = lab.client("c")?;
        let mut m = Matrix {
            routers,
            client,
            vigils: vec![None, None, None],
            vrids: matrix_vrids(),
        };
        for r in 0..3 {
            m.start_router(r)?;
        }
        m.assert_converged(Duration::from_secs(15))
            .context("the matrix did not converge at start")?;
        Ok(m)
    }

    /// keepalived.conf of router `r` (0-based).
    pub fn config(&self, r: usize) -> String {
        let mut c = String::from("vrrp_sync_group G {\n    group {\n");
        for &i in &SYNC_GROUP {
            let _ = writeln!(c, "        {}", self.vrids[i].name);
        }
        c.push_str("    }\n}\n");
        let secs = format!("{}.{:02}", ADVERT_CENTIS / 100, ADVERT_CENTIS % 100);
        for v in &self.vrids {
            let prefix = if v.vip.is_ipv4() { 24 } else { 64 };
            let vmac = v
                .vmac
                .map(|name| format!("    use_vmac {name}\n"))
                .unwrap_or_default();
            let _ = write!(
                c,
                "vrrp_instance {name} {{\n    interface {ifname}\n    virtual_router_id {vrid}\n    \
                 priority {prio}\n    version 3\n    advert_int {secs}\n{vmac}    \
                 virtual_ipaddress {{\n        {vip}/{prefix}\n    }}\n}}\n",
                name = v.name,
                ifname = self.routers[r].ifname(),
                vrid = v.vrid,
                prio = v.priorities[r],
                vip = v.vip,
            );
        }
        c
    }

    /// Starts (or starts again) vigil on router `r`.
    pub fn start_router(&mut self, r: usize) -> Result<()> {
        let v = Vigil::start_with(&self.routers[r], "keepalived.conf", &self.config(r))?;
        self.vigils[r] = Some(v);
        Ok(())
    }

    /// Router `r`'s daemon (fails if it was killed).
    pub fn vigil(&self, r: usize) -> Result<&Vigil> {
        self.vigils[r]
            .as_ref()
            .with_context(|| format!("r{} has no running daemon", r + 1))
    }

    /// kill -9 of router `r`'s daemon: its VIPs stay in the kernel, as after a crash.
    pub fn kill9(&mut self, r: usize) -> Result<()> {
        if let Some(v) = self.vigils[r].take() {
            v.kill9()?;
        }
        Ok(())
    }

    /// The routers whose daemon runs.
    pub fn live(&self) -> Vec<usize> {
        (0..3).filter(|&r| self.vigils[r].is_some()).collect()
    }

    /// The router that should master VRID `i` among the live ones: the highest priority.
    pub fn expected_master(&self, i: usize) -> Option<usize> {
        self.live()
            .into_iter()
            .max_by_key(|&r| self.vrids[i].priorities[r])
    }

    /// The largest RFC Master_Down_Interval of any backup in the matrix (lowest priority).
    pub fn max_master_down_interval(&self) -> Duration {
        let lowest = self
            .vrids
            .iter()
            .flat_map(|v| v.priorities)
            .min()
            .unwrap_or(1);
        rfc_master_down_interval(lowest, ADVERT_CENTIS)
    }

    /// States by router and instance name, for the live routers.
    fn states(&self) -> Result<States> {
        let mut out = BTreeMap::new();
        for r in self.live() {
            let status = self.vigil(r)?.status()?;
            for v in &self.vrids {
                let entry = status["instances"]
                    .as_array()
                    .and_then(|l| l.iter().find(|i| i["name"] == v.name))
                    .with_context(|| format!("r{} status has no {}", r + 1, v.name))?;
                let state = entry["state"].as_str().unwrap_or("?").to_owned();
                let last = entry["recent_transitions"]
                    .as_array()
                    .and_then(|l| l.last())
                    .map(|t| format!("{} -> {} ({})", t["from"], t["to"], t["reason"]))
                    .unwrap_or_default();
                let counters = Counters {
                    transitions: entry["transitions"].as_u64().unwrap_or(0),
                    adverts_received: entry["adverts_received"].as_u64().unwrap_or(0),
                    last,
                };
                out.insert((r, v.name), (state, counters));
            }
        }
        Ok(out)
    }

    /// Router `r`'s state for instance `name` ("MASTER", "BACKUP", "FAULT", ...).
    pub fn state(&self, r: usize, name: &str) -> Result<String> {
        Ok(self
            .vigil(r)?
            .state(name)?
            .unwrap_or_else(|| "missing".into()))
    }

    /// How many live routers report MASTER for each VRID, in VRID order.
    pub fn master_counts(&self) -> Result<Vec<usize>> {
        let states = self.states()?;
        Ok(self
            .vrids
            .iter()
            .map(|v| {
                states
                    .iter()
                    .filter(|((_, n), (s, _))| *n == v.name && s == "MASTER")
                    .count()
            })
            .collect())
    }

    /// What is wrong with the lab now, checked without the client; `None` if nothing:
    /// exactly one MASTER per VRID among the live routers, and it is the expected one; each
    /// VIP present in no router namespace but its master's (routers in `ignore_addresses`
    /// are not looked at: a killed daemon's VIPs stay in its kernel); the sync group's
    /// members mastered by one router.
    fn problems(&self, ignore_addresses: &[usize]) -> Result<Option<String>> {
        let states = self.states()?;
        let mut wrong = String::new();
        let mut masters = Vec::new();
        for (i, v) in self.vrids.iter().enumerate() {
            let m: Vec<usize> = self
                .live()
                .into_iter()
                .filter(|&r| states.get(&(r, v.name)).is_some_and(|(s, _)| s == "MASTER"))
                .collect();
            let expected = self.expected_master(i);
            if m.len() != 1 || Some(m[0]) != expected {
                let all: Vec<String> = self
                    .live()
                    .into_iter()
                    .map(|r| {
                        let s = states.get(&(r, v.name)).map(|(s, _)| s.as_str());
                        format!("r{}={}", r + 1, s.unwrap_or("?"))
                    })
                    .collect();
                let _ = write!(
                    wrong,
                    "{} (VRID {}): masters {:?}, expected r{} [{}]; ",
                    v.name,
                    v.vrid,
                    m.iter().map(|r| format!("r{}", r + 1)).collect::<Vec<_>>(),
                    expected.map_or(0, |r| r + 1),
                    all.join(" ")
                );
            }
            masters.push(m.first().copied());
        }
        if masters[SYNC_GROUP[0]] != masters[SYNC_GROUP[1]] {
            let _ = write!(
                wrong,
                "sync group G split: {} on {:?}, {} on {:?}; ",
                self.vrids[SYNC_GROUP[0]].name,
                masters[SYNC_GROUP[0]].map(|r| r + 1),
                self.vrids[SYNC_GROUP[1]].name,
                masters[SYNC_GROUP[1]].map(|r| r + 1),
            );
        }
        for r in (0..3).filter(|r| !ignore_addresses.contains(r)) {
            let addrs = self.routers[r].addresses()?;
            for (i, v) in self.vrids.iter().enumerate() {
                let held = addrs.iter().any(|a| a.addr == v.vip);
                let should = masters[i] == Some(r);
                if held != should {
                    let _ = write!(
                        wrong,
                        "r{} {} {} ({}); ",
                        r + 1,
                        if held { "holds" } else { "lacks" },
                        v.vip,
                        v.name
                    );
                }
            }
        }
        Ok((!wrong.is_empty()).then_some(wrong))
    }

    /// Waits at most `timeout` until the lab has converged: exactly one MASTER per VRID (the
    /// highest-priority live router), each VIP only on that master's namespace, the sync
    /// group's members on one router, and the client reaching every VIP. Returns how long it
    /// took.
    pub fn assert_converged(&self, timeout: Duration) -> Result<Duration> {
        self.assert_converged_ignoring(timeout, &[])
    }

    /// Like [`Matrix::assert_converged`], without looking at the addresses of the routers in
    /// `ignore_addresses` (a killed daemon leaves its VIPs in its kernel).
    pub fn assert_converged_ignoring(
        &self,
        timeout: Duration,
        ignore_addresses: &[usize],
    ) -> Result<Duration> {
        let start = Instant::now();
        wait_until(
            timeout,
            "the matrix to converge",
            || -> Result<(bool, String)> {
                if let Some(p) = self.problems(ignore_addresses)? {
                    return Ok((false, p));
                }
                for v in &self.vrids {
                    if !self.client.ping(v.vip)? {
                        return Ok((false, format!("the client gets no reply from {}", v.vip)));
                    }
                }
                Ok((true, String::new()))
            },
        )
        .map_err(|e| {
            let tails: String = self
                .vigils
                .iter()
                .flatten()
                .map(|v| v.child().log_tail(15))
                .collect();
            e.context(tails)
        })?;
        Ok(start.elapsed())
    }

    /// Stability by counters over `window`: no live router's transition counter moves, every
    /// backup's adverts-received counter grows (by at least half the adverts its master
    /// sends in the window), and the lab is still converged at the end (checked without the
    /// client).
    pub fn assert_stable(&self, window: Duration) -> Result<()> {
        self.assert_stable_ignoring(window, &[])
    }

    /// Like [`Matrix::assert_stable`], without looking at the addresses of the routers in
    /// `ignore_addresses`.
    pub fn assert_stable_ignoring(
        &self,
        window: Duration,
        ignore_addresses: &[usize],
    ) -> Result<()> {
        let before = self.states()?;
        thread::sleep(window);
        let after = self.states()?;
        let min_adverts = (window.as_millis() as u64 / (u64::from(ADVERT_CENTIS) * 10)) / 2;
        let mut wrong = String::new();
        for (key, (state, c0)) in &before {
            let Some((state1, c1)) = after.get(key) else {
                let _ = write!(wrong, "r{} {} vanished; ", key.0 + 1, key.1);
                continue;
            };
            if c1.transitions != c0.transitions || state1 != state {
                let _ = write!(
                    wrong,
                    "r{} {}: {} -> {} transitions ({state} -> {state1}, last {}); ",
                    key.0 + 1,
                    key.1,
                    c0.transitions,
                    c1.transitions,
                    c1.last
                );
            }
            if state == "BACKUP" && c1.adverts_received < c0.adverts_received + min_adverts {
                let _ = write!(
                    wrong,
                    "r{} {} (BACKUP) received {} adverts in {window:?}, expected at least {min_adverts}; ",
                    key.0 + 1,
                    key.1,
                    c1.adverts_received - c0.adverts_received.min(c1.adverts_received)
                );
            }
        }
        if let Some(p) = self.problems(ignore_addresses)? {
            wrong.push_str(&p);
        }
        ensure!(wrong.is_empty(), "not stable over {window:?}: {wrong}");
        Ok(())
    }

    /// Starts the client's outage meter on every VIP.
    pub fn outage_meter(&self) -> Result<OutageMeter> {
        OutageMeter::start(
            &self.client,
            &self.vrids.iter().map(|v| v.vip).collect::<Vec<_>>(),
        )
    }
}

/// The client pinging each VIP every 10 ms (`ping -D -i 0.01`, one process per VIP), so the
/// longest time without a reply can be read afterwards.
pub struct OutageMeter {
    pings: Vec<(IpAddr, Child)>,
}

/// What the meter saw for one VIP.
#[derive(Debug, Clone)]
pub struct Outage {
    pub vip: IpAddr,
    /// The longest time between two replies (or from the last reply to the meter's stop).
    pub longest_gap: Duration,
    pub replies: usize,
}

impl OutageMeter {
    /// Starts one `ping -i 0.01` per VIP in `client`; returns once each has had a reply.
    pub fn start(client: &Host, vips: &[IpAddr]) -> Result<OutageMeter> {
        let mut pings = Vec::new();
        for vip in vips {
            let child = client.spawn(
                &format!("ping-{vip}"),
                "ping",
                ["-n", "-D", "-i", "0.01", "-W", "1", &vip.to_string()],
            )?;
            pings.push((*vip, child));
        }
        let meter = OutageMeter { pings };
        for (vip, child) in &meter.pings {
            wait_until(
                Duration::from_secs(5),
                &format!("a first reply from {vip} to the outage meter"),
                || !reply_times(&child.stdout()).is_empty(),
            )?;
        }
        Ok(meter)
    }

    /// Stops the pings and returns the longest gap per VIP.
    pub fn finish(self) -> Result<Vec<Outage>> {
        let stopped = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("clock before 1970")?
            .as_secs_f64();
        let mut out = Vec::new();
        for (vip, child) in &self.pings {
            child.signal(Signal::SIGINT)?;
            child.wait_timeout(Duration::from_secs(5))?;
            let times = reply_times(&child.stdout());
            if times.is_empty() {
                bail!("no reply at all from {vip}");
            }
            let mut longest = stopped - times[times.len() - 1];
            for w in times.windows(2) {
                longest = longest.max(w[1] - w[0]);
            }
            out.push(Outage {
                vip: *vip,
                longest_gap: Duration::from_secs_f64(longest.max(0.0)),
                replies: times.len(),
            });
        }
        Ok(out)
    }

    /// [`OutageMeter::finish`], printing one `OUTAGE <fault> vip=... longest_gap_ms=...` line
    /// per VIP (shown with --nocapture).
    pub fn report(self, fault: &str) -> Result<Vec<Outage>> {
        let outages = self.finish()?;
        for o in &outages {
            println!(
                "OUTAGE {fault} vip={} longest_gap_ms={} replies={}",
                o.vip,
                o.longest_gap.as_millis(),
                o.replies
            );
        }
        Ok(outages)
    }
}

/// The receive times (seconds since the epoch, from `ping -D`) of the replies in `out`, in
/// order (duplicates, marked `DUP!`, are replies too).
fn reply_times(out: &str) -> Vec<f64> {
    let mut times: Vec<f64> = crate::ping_replies(out).iter().map(|r| r.at).collect();
    times.sort_by(f64::total_cmp);
    times
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_down_interval_follows_rfc_5798() {
        // 0.2 s, priority 100: 3 × 200 ms + (156 × 200 / 256) ms = 600 + 121.875 ms.
        assert_eq!(
            rfc_master_down_interval(100, 20),
            Duration::from_micros(721_875)
        );
        // Skew_Time for priority 200 at 1 s: 56/256 s.
        assert_eq!(rfc_skew_time(200, 100), Duration::from_micros(218_750));
    }

    #[test]
    fn reply_times_reads_ping_timestamps() {
        let out = "PING 192.0.2.200 (192.0.2.200) 56(84) bytes of data.\n\
                   [1.500000] 64 bytes from 192.0.2.200: icmp_seq=1 ttl=64 time=0.1 ms\n\
                   [1.510000] 64 bytes from 192.0.2.200: icmp_seq=2 ttl=64 time=0.1 ms\n\
                   [1.900000] From 192.0.2.101 icmp_seq=3 Destination Host Unreachable\n\
                   [2.000000] 64 bytes from 192.0.2.200: icmp_seq=4 ttl=64 time=0.1 ms (DUP!)\n";
        assert_eq!(reply_times(out), vec![1.5, 1.51, 2.0]);
    }

    #[test]
    fn the_matrix_spreads_masters_and_has_ipv6_and_vmac() {
        let vrids = matrix_vrids();
        let winners: std::collections::HashSet<usize> = vrids
            .iter()
            .map(|v| (0..3).max_by_key(|&r| v.priorities[r]).unwrap_or(0))
            .collect();
        assert_eq!(winners.len(), 3, "every router masters some VRID");
        assert!(vrids.iter().any(|v| v.vip.is_ipv6()));
        assert!(vrids.iter().any(|v| v.vmac.is_some()));
        assert_eq!(
            vrids[SYNC_GROUP[0]].priorities,
            vrids[SYNC_GROUP[1]].priorities
        );
    }
}
