//! The lab: a switch namespace with one Linux bridge per L2 segment, and host namespaces
//! joined to it by veth pairs. Built on demand, torn down on drop (even on panic).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::{env, fs, thread};

use anyhow::{Context, Result, bail, ensure};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cmd;
use crate::host::{Host, HostInfo, HostKind, Link};
use crate::impair::{Relay, seed_from_env};
use crate::process::Child;

/// Every lab name starts with this, followed by the owning pid, `x` and a per-process counter:
/// `vgl12345x0`. The sweep relies on it to find labs whose process died.
pub const PREFIX: &str = "vgl";

/// IPv4 subnets (all /24, RFC 5737 documentation ranges) of segments 0, 1 and 2.
const SEGMENT_V4: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);
static SWEEP: Once = Once::new();

/// A network-namespace lab for one test. See the crate documentation for an example.
///
/// Dropping the lab kills every process it started (whole process groups), deletes its
/// namespaces (which deletes the veths) and removes its temporary directory. When the lab is
/// dropped during a panic, or [`Lab::mark_failed`] was called, it first prints the tail of
/// every process's output and keeps the directory (pcaps, configs, logs) for inspection.
pub struct Lab {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) id: String,
    pub(crate) test: String,
    pub(crate) dir: PathBuf,
    pub(crate) switch_ns: String,
    state: Mutex<LabState>,
}

#[derive(Default)]
struct LabState {
    namespaces: Vec<String>,
    segments: Vec<String>,
    hosts: Vec<Arc<HostInfo>>,
    children: Vec<Child>,
    labels: HashSet<String>,
    routers: u8,
    clients: u8,
    nft_ready: bool,
    failed: bool,
    /// Segments whose ports left their bridge for a relay ([`Lab::impair`]).
    relays: Vec<(String, Relay)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning only means another thread panicked while registering something; the lab's
    // bookkeeping is still what teardown needs, so keep using it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether lab tests must run (CI=true or VIGIL_LAB=1) rather than skip when impossible.
pub fn lab_required() -> bool {
    env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || env::var("VIGIL_LAB").is_ok_and(|v| v == "1")
}

impl Lab {
    /// Builds an empty lab (the switch namespace) for the test `test_name`, or fails saying
    /// why (not root, no `ip`, namespace creation refused...).
    pub fn new(test_name: &str) -> Result<Lab> {
        ensure!(
            nix::unistd::geteuid().is_root(),
            "lab tests need root (network namespaces); run them with sudo or skip them"
        );
        cmd::run(&mut cmd::ip(["-V"])).context("iproute2's `ip` is needed for the lab")?;
        SWEEP.call_once(sweep_stale_labs);

        let n = LAB_COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{PREFIX}{}x{n}", std::process::id());
        let safe_test: String = test_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect();
        let dir = env::temp_dir().join(format!("{id}-{safe_test}"));
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {dir:?}"))?;
        }
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {dir:?}"))?;
        let lab = Lab {
            shared: Arc::new(Shared {
                switch_ns: format!("{id}-sw"),
                id,
                test: test_name.to_owned(),
                dir,
                state: Mutex::new(LabState::default()),
            }),
        };
        // From here on, a failure drops `lab`, which deletes whatever was created.
        let sw = lab.shared.switch_ns.clone();
        lab.add_netns(&sw)?;
        Ok(lab)
    }

    /// Like [`Lab::new`], but where lab tests are optional (neither `CI=true` nor
    /// `VIGIL_LAB=1`) a lab that cannot be built is a skip: prints `SKIP: <test>: <reason>`
    /// and returns `Ok(None)`. Under CI it fails loudly instead.
    ///
    /// ```no_run
    /// # fn t() -> anyhow::Result<()> {
    /// let Some(lab) = vigil_integration::Lab::new_or_skip("failover")? else { return Ok(()) };
    /// # Ok(()) }
    /// ```
    pub fn new_or_skip(test_name: &str) -> Result<Option<Lab>> {
        match Lab::new(test_name) {
            Ok(lab) => Ok(Some(lab)),
            Err(e) if lab_required() => Err(e.context(format!(
                "{test_name}: cannot build a lab under CI/VIGIL_LAB=1"
            ))),
            Err(e) => {
                // Captured by the test harness like any output; shown with --nocapture.
                println!("SKIP: {test_name}: {e:#}");
                Ok(None)
            }
        }
    }

    /// This lab's unique name (`vgl<pid>x<n>`), the prefix of all its namespaces.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The test name given at creation.
    pub fn test_name(&self) -> &str {
        &self.shared.test
    }

    /// The lab's temporary directory: configs, pid files, process logs, pcaps.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The namespace that holds the bridges and the impairment rules.
    pub fn switch_netns(&self) -> &str {
        &self.shared.switch_ns
    }

    /// Adds a router-like host on segment `lan`. Routers are numbered 1, 2, ... in creation
    /// order; number `n` gets `192.0.2.n/24`, `2001:db8::n/64` (n in hex) and MAC
    /// `02:76:6c:00:00:nn` on `eth0`.
    pub fn host(&self, name: &str) -> Result<Host> {
        self.add_host(name, HostKind::Router, &["lan"])
    }

    /// Adds a client host on segment `lan`: numbered from 101, otherwise like [`Lab::host`].
    pub fn client(&self, name: &str) -> Result<Host> {
        self.add_host(name, HostKind::Client, &["lan"])
    }

    /// Adds a host with one interface per segment (`eth0` on `segments[0]`, `eth1` on
    /// `segments[1]`, ...). Segments are created on first use; segment k (in order of
    /// creation, at most 3) uses `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` and
    /// `2001:db8:0:k::/64`.
    pub fn host_on(&self, name: &str, segments: &[&str]) -> Result<Host> {
        self.add_host(name, HostKind::Router, segments)
    }

    /// Like [`Lab::host_on`] for a client.
    pub fn client_on(&self, name: &str, segments: &[&str]) -> Result<Host> {
        self.add_host(name, HostKind::Client, segments)
    }

    /// A free IPv4 address for a VIP on segment `lan`: `192.0.2.(200 + k)`.
    pub fn vip4(k: u8) -> Ipv4Addr {
        let [a, b, c] = SEGMENT_V4[0];
        Ipv4Addr::new(a, b, c, 200u8.saturating_add(k))
    }

    /// A free IPv6 address for a VIP on segment `lan`: `2001:db8::2xx` (0x200 + k).
    pub fn vip6(k: u8) -> Ipv6Addr {
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x200 + u16::from(k))
    }

    /// Every host created so far, in creation order.
    pub fn hosts(&self) -> Vec<Host> {
        lock(&self.shared.state)
            .hosts
            .iter()
            .map(|info| Host {
                lab: Arc::clone(&self.shared),
                info: Arc::clone(info),
            })
            .collect()
    }

    /// Marks the test as failed: on drop the lab prints process logs and keeps its directory.
    /// [`crate::scenario`] calls this when the test body returns an error.
    pub fn mark_failed(&self) {
        lock(&self.shared.state).failed = true;
    }

    // --- impairment (nftables, bridge family, in the switch namespace) ---------------------

    /// Drops every frame between the hosts of `side_a` and those of `side_b`, both ways, on
    /// every segment they share. Undo with [`Lab::heal`].
    pub fn partition(&self, side_a: &[&Host], side_b: &[&Host]) -> Result<()> {
        let mut rules = String::new();
        for a in side_a {
            for b in side_b {
                for la in &a.info.links {
                    for lb in b.info.links.iter().filter(|l| l.segment == la.segment) {
                        for (i, o) in [(&la.port, &lb.port), (&lb.port, &la.port)] {
                            let _ = writeln!(
                                rules,
                                "add rule bridge vigil_lab forward iifname \"{i}\" oifname \"{o}\" drop"
                            );
                        }
                    }
                }
            }
        }
        ensure!(
            !rules.is_empty(),
            "partition: the two sides share no segment"
        );
        self.nft(&rules)
    }

    /// Cuts `host` off every segment without touching its link state (its carrier stays up,
    /// unlike [`Host::link_down`]).
    pub fn isolate(&self, host: &Host) -> Result<()> {
        let mut rules = String::new();
        for l in &host.info.links {
            let _ = writeln!(
                rules,
                "add rule bridge vigil_lab forward iifname \"{}\" drop",
                l.port
            );
            let _ = writeln!(
                rules,
                "add rule bridge vigil_lab forward oifname \"{}\" drop",
                l.port
            );
        }
        self.nft(&rules)
    }

    /// Drops `percent`% of VRRP packets (IPv4 protocol 112 and 51/AH, IPv6 next header 112)
    /// crossing the switch, independently per receiving port.
    pub fn drop_vrrp(&self, percent: u8) -> Result<()> {
        self.drop_vrrp_matching("", percent)
    }

    /// Drops `percent`% of the VRRP packets sent by `from`.
    pub fn drop_vrrp_from(&self, from: &Host, percent: u8) -> Result<()> {
        let mut rules = String::new();
        for l in &from.info.links {
            rules.push_str(&self.vrrp_drop_rules(&format!("iifname \"{}\" ", l.port), percent)?);
        }
        self.nft(&rules)
    }

    fn drop_vrrp_matching(&self, matcher: &str, percent: u8) -> Result<()> {
        let rules = self.vrrp_drop_rules(matcher, percent)?;
        self.nft(&rules)
    }

    fn vrrp_drop_rules(&self, matcher: &str, percent: u8) -> Result<String> {
        ensure!(percent <= 100, "drop percentage {percent} is over 100");
        // numgen draws 0..99 per packet: `< percent` drops that share of them.
        let chance = if percent >= 100 {
            String::new()
        } else {
            format!("numgen random mod 100 < {percent} ")
        };
        Ok(format!(
            "add rule bridge vigil_lab forward {matcher}ether type ip ip protocol {{ 51, 112 }} {chance}drop\n\
             add rule bridge vigil_lab forward {matcher}ether type ip6 ip6 nexthdr 112 {chance}drop\n"
        ))
    }

    /// Removes every impairment rule (partitions, isolation, VRRP loss).
    pub fn heal(&self) -> Result<()> {
        if !lock(&self.shared.state).nft_ready {
            return Ok(());
        }
        self.nft("flush chain bridge vigil_lab forward\n")
    }

    /// The impairment rules in force, as `nft list chain` prints them.
    pub fn impairments(&self) -> Result<String> {
        if !lock(&self.shared.state).nft_ready {
            return Ok(String::new());
        }
        let out = cmd::run(&mut cmd::in_netns(
            &self.shared.switch_ns,
            "nft",
            ["list", "chain", "bridge", "vigil_lab", "forward"],
        ))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn nft(&self, rules: &str) -> Result<()> {
        let mut script = String::new();
        {
            let mut st = lock(&self.shared.state);
            if !st.nft_ready {
                // The bridge family sees every frame the bridge forwards, once per output
                // port, so a rule can cut one direction between two ports.
                script.push_str(
                    "add table bridge vigil_lab\n\
                     add chain bridge vigil_lab forward { type filter hook forward priority 0; policy accept; }\n",
                );
                st.nft_ready = true;
            }
        }
        script.push_str(rules);
        let run = cmd::run_with_input(
            &mut cmd::in_netns(&self.shared.switch_ns, "nft", ["-f", "-"]),
            &script,
        );
        if run.is_err() && script.contains("add table") {
            lock(&self.shared.state).nft_ready = false;
        }
        run.map(|_| ())
    }

    /// Replaces the bridge of `segment` by a userspace relay that can lose, duplicate, delay
    /// and reorder frames (see [`crate::impair`]); it starts as a perfect switch, impair it
    /// with [`Relay::set`]. Call it once every host of the segment exists: a host added to
    /// the segment later is refused. The seed is `$VIGIL_IMPAIR_SEED` or else random, and is
    /// printed.
    pub fn impair(&self, segment: &str) -> Result<Relay> {
        let idx = {
            let st = lock(&self.shared.state);
            ensure!(
                st.relays.iter().all(|(s, _)| s != segment),
                "segment {segment} already has a relay"
            );
            st.segments
                .iter()
                .position(|s| s == segment)
                .with_context(|| format!("no segment {segment} in this lab"))?
        };
        let ports: Vec<String> = lock(&self.shared.state)
            .hosts
            .iter()
            .flat_map(|h| h.links.iter())
            .filter(|l| l.segment == segment)
            .map(|l| l.port.clone())
            .collect();
        ensure!(
            ports.len() >= 2,
            "segment {segment}: a relay needs two hosts"
        );
        let mut batch = String::new();
        for p in &ports {
            // Off the bridge, still up: the hosts' carrier never drops. Done before the relay
            // opens its socket, so that no frame is both bridged and relayed.
            let _ = writeln!(batch, "link set {p} nomaster");
        }
        cmd::run_with_input(
            &mut cmd::ip(["-n", &self.shared.switch_ns, "-batch", "-"]),
            &batch,
        )?;
        let relay = Relay::start(
            &self.shared.switch_ns,
            &format!("{segment} (br{idx})"),
            ports,
            seed_from_env()?,
        )?;
        lock(&self.shared.state)
            .relays
            .push((segment.to_owned(), relay.clone()));
        Ok(relay)
    }

    // --- building --------------------------------------------------------------------------

    fn add_netns(&self, ns: &str) -> Result<()> {
        // Registered before it exists so that teardown tries to delete it whatever happens.
        lock(&self.shared.state).namespaces.push(ns.to_owned());
        cmd::run(&mut cmd::ip(["netns", "add", ns]))?;
        cmd::run(&mut cmd::ip(["-n", ns, "link", "set", "lo", "up"]))?;
        Ok(())
    }

    /// The bridge of `segment` in the switch namespace, created on first use.
    fn segment(&self, segment: &str) -> Result<usize> {
        let idx = {
            let st = lock(&self.shared.state);
            if let Some(i) = st.segments.iter().position(|s| s == segment) {
                return Ok(i);
            }
            st.segments.len()
        };
        ensure!(
            idx < SEGMENT_V4.len(),
            "a lab has at most {} segments (documentation address ranges)",
            SEGMENT_V4.len()
        );
        let br = format!("br{idx}");
        // Multicast snooping off: every port sees 224.0.0.18 and ff02::12 whether or not the
        // bridge has seen a membership report, as on a plain switch.
        cmd::run(&mut cmd::ip([
            "-n",
            &self.shared.switch_ns,
            "link",
            "add",
            &br,
            "type",
            "bridge",
            "mcast_snooping",
            "0",
            "forward_delay",
            "0",
        ]))?;
        cmd::run(&mut cmd::ip([
            "-n",
            &self.shared.switch_ns,
            "link",
            "set",
            &br,
            "up",
        ]))?;
        lock(&self.shared.state).segments.push(segment.to_owned());
        Ok(idx)
    }

    fn add_host(&self, name: &str, kind: HostKind, segments: &[&str]) -> Result<Host> {
        ensure!(
            !name.is_empty()
                && name.len() <= 20
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "host name {name:?}: use 1 to 20 of [a-z0-9-]"
        );
        ensure!(!segments.is_empty(), "host {name}: at least one segment");
        let number = {
            let mut st = lock(&self.shared.state);
            ensure!(
                st.hosts.iter().all(|h| h.name != name),
                "host {name} already exists in this lab"
            );
            match kind {
                HostKind::Router => {
                    ensure!(st.routers < 99, "too many routers");
                    st.routers += 1;
                    st.routers
                }
                HostKind::Client => {
                    ensure!(st.clients < 99, "too many clients");
                    st.clients += 1;
                    100 + st.clients
                }
            }
        };
        {
            let st = lock(&self.shared.state);
            if let Some((s, _)) = st
                .relays
                .iter()
                .find(|(s, _)| segments.contains(&s.as_str()))
            {
                bail!("host {name}: segment {s} is relayed (Lab::impair); add hosts before");
            }
        }
        let ns = format!("{}-{name}", self.shared.id);
        let sw = self.shared.switch_ns.clone();
        let mut links = Vec::new();
        for (k, segment) in segments.iter().enumerate() {
            let s = self.segment(segment)?;
            let [a, b, c] = SEGMENT_V4[s];
            let seg16 = u16::try_from(s).unwrap_or(0);
            let mac = [0x02, 0x76, 0x6c, s as u8, 0x00, number];
            links.push(Link {
                segment: (*segment).to_owned(),
                ifname: format!("eth{k}"),
                // Switch-side names only need to be unique in the switch namespace.
                port: format!("s{s}h{number}"),
                mac: mac
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
                ipv4: Ipv4Addr::new(a, b, c, number),
                ipv6: Ipv6Addr::new(0x2001, 0xdb8, 0, seg16, 0, 0, 0, u16::from(number)),
                link_local: eui64_link_local(mac),
            });
        }
        self.add_netns(&ns)?;
        // Both veth ends are created directly in their namespaces: nothing ever appears in the
        // root namespace.
        let mut switch_side = String::new();
        for l in &links {
            let br = format!("br{}", self.segment(&l.segment)?);
            let _ = writeln!(
                switch_side,
                "link add {} type veth peer name {} netns {ns}\nlink set {} master {br} up",
                l.port, l.ifname, l.port
            );
        }
        cmd::run_with_input(&mut cmd::ip(["-n", &sw, "-batch", "-"]), &switch_side)?;
        // No duplicate address detection in the lab: addresses (and VIPs) are usable at once,
        // and the link-local source of IPv6 adverts exists as soon as the link is up.
        let mut sysctl = vec![
            "-qw".to_owned(),
            "net.ipv6.conf.all.accept_dad=0".to_owned(),
            "net.ipv6.conf.default.accept_dad=0".to_owned(),
        ];
        for l in &links {
            sysctl.push(format!("net.ipv6.conf.{}.accept_dad=0", l.ifname));
        }
        cmd::run(&mut cmd::in_netns(&ns, "sysctl", &sysctl))?;
        let mut host_side = String::new();
        for l in &links {
            let _ = writeln!(
                host_side,
                "link set {if} address {mac}\naddr add {v4}/24 dev {if}\n\
                 addr add {v6}/64 dev {if} nodad\nlink set {if} up",
                if = l.ifname,
                mac = l.mac,
                v4 = l.ipv4,
                v6 = l.ipv6,
            );
        }
        cmd::run_with_input(&mut cmd::ip(["-n", &ns, "-batch", "-"]), &host_side)?;
        let info = Arc::new(HostInfo {
            name: name.to_owned(),
            ns,
            kind,
            links,
        });
        lock(&self.shared.state).hosts.push(Arc::clone(&info));
        Ok(Host {
            lab: Arc::clone(&self.shared),
            info,
        })
    }
}

impl Shared {
    /// Registers a started process so that teardown kills it; makes its label unique.
    pub(crate) fn unique_label(&self, wanted: &str) -> String {
        let mut st = lock(&self.state);
        let mut label = wanted.to_owned();
        let mut n = 1;
        while st.labels.contains(&label) {
            n += 1;
            label = format!("{wanted}.{n}");
        }
        st.labels.insert(label.clone());
        label
    }

    /// The bridge (in the switch namespace) of the segment named `segment`, if it exists.
    pub(crate) fn bridge_of(&self, segment: &str) -> Option<String> {
        lock(&self.state)
            .segments
            .iter()
            .position(|s| s == segment)
            .map(|i| format!("br{i}"))
    }

    pub(crate) fn register(&self, child: &Child) {
        lock(&self.state).children.push(child.clone());
    }
}

/// The link-local address the kernel derives from `mac` (EUI-64, RFC 4291 appendix A).
fn eui64_link_local(mac: [u8; 6]) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac;
    let w = |hi: u8, lo: u8| u16::from_be_bytes([hi, lo]);
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        w(a ^ 0x02, b),
        w(c, 0xff),
        w(0xfe, d),
        w(e, f),
    )
}

impl Drop for Lab {
    fn drop(&mut self) {
        let (children, namespaces, failed, relays) = {
            let st = lock(&self.shared.state);
            (
                st.children.clone(),
                st.namespaces.clone(),
                st.failed,
                st.relays.clone(),
            )
        };
        // Relay threads hold sockets in the switch namespace: end them before deleting it.
        for (segment, relay) in &relays {
            if let Err(e) = relay.stop() {
                eprintln!("lab {}: relay on {segment}: {e:#}", self.shared.id);
            }
        }
        let failing = failed || thread::panicking();
        if failing {
            eprintln!(
                "===== lab {} ({}) failed: process output",
                self.shared.id, self.shared.test
            );
            for c in &children {
                eprint!("{}", c.log_tail(60));
            }
        }
        for c in &children {
            if let Err(e) = c.kill9() {
                eprintln!("lab {}: {e:#}", self.shared.id);
            }
        }
        for ns in namespaces.iter().rev() {
            if let Err(e) = delete_netns(ns) {
                eprintln!("lab {}: {e:#}", self.shared.id);
            }
        }
        let keep = failing || env::var("VIGIL_LAB_KEEP").is_ok_and(|v| v == "1");
        if keep {
            eprintln!(
                "lab {}: files kept in {:?}",
                self.shared.id, self.shared.dir
            );
        } else {
            let _ = fs::remove_dir_all(&self.shared.dir);
        }
    }
}

/// Kills whatever still runs in `ns` (something that left our process groups), then deletes
/// it. A namespace with live processes would survive its deletion from /run/netns.
fn delete_netns(ns: &str) -> Result<()> {
    if let Ok(out) = cmd::output(&mut cmd::ip(["netns", "pids", ns])) {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
    let out = cmd::output(&mut cmd::ip(["netns", "del", ns]))?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !err.contains("No such file") {
        bail!("cannot delete namespace {ns}: {}", err.trim());
    }
    Ok(())
}

/// The pid that owns a lab namespace or directory name `vgl<pid>x<n>...`.
fn owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, _) = rest.split_once('x')?;
    pid.parse().ok()
}

/// Deletes the namespaces and directories of labs whose owning process is gone (a test
/// killed before its drop ran). Labs of live processes (parallel test binaries) are left.
pub fn sweep_stale_labs() {
    let alive = |pid: i32| Path::new(&format!("/proc/{pid}")).exists();
    if let Ok(out) = cmd::output(&mut cmd::ip(["netns", "list"])) {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let ns = line.split_whitespace().next().unwrap_or_default();
            if let Some(pid) = owner_pid(ns).filter(|p| !alive(*p)) {
                eprintln!("lab sweep: deleting stale namespace {ns} (pid {pid} is gone)");
                if let Err(e) = delete_netns(ns) {
                    eprintln!("lab sweep: {e:#}");
                }
            }
        }
    }
    if let Ok(entries) = fs::read_dir(env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if owner_pid(&name).is_some_and(|p| !alive(p)) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_reads_only_our_names() {
        assert_eq!(owner_pid("vgl1234x0-sw"), Some(1234));
        assert_eq!(owner_pid("vgl1234x12-r1"), Some(1234));
        assert_eq!(owner_pid("vgcap-1234-sw"), None);
        assert_eq!(owner_pid("vglx0"), None);
        assert_eq!(owner_pid("other"), None);
    }

    #[test]
    fn link_local_matches_the_kernel_eui64() {
        // The capture lab saw fe80::5eff:fe10:a for MAC 02:00:5e:10:00:0a.
        let ll = eui64_link_local([0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a]);
        assert_eq!(
            ll,
            "fe80::5eff:fe10:a"
                .parse::<Ipv6Addr>()
                .unwrap_or(Ipv6Addr::UNSPECIFIED)
        );
    }

    #[test]
    fn vips_are_outside_host_ranges() {
        assert_eq!(Lab::vip4(0), Ipv4Addr::new(192, 0, 2, 200));
        assert_eq!(Lab::vip6(1).to_string(), "2001:db8::201");
    }
}
