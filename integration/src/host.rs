//! A host of the lab: one network namespace with a veth on each of its segments.

use std::ffi::OsStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Output};
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::capture::Capture;
use crate::cmd;
use crate::lab::Shared;
use crate::process::Child;

/// Routers and clients differ only in their numbering (1.. and 101..).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Router,
    Client,
}

/// One interface of a host and the switch port it plugs into.
#[derive(Debug, Clone)]
pub struct Link {
    /// The segment's name (`"lan"` for [`crate::Lab::host`]).
    pub segment: String,
    /// The interface in the host namespace: `eth0`, `eth1`, ...
    pub ifname: String,
    /// The other end of the veth, a bridge port in the switch namespace.
    pub port: String,
    /// `02:76:6c:<segment>:00:<host number>`, lower-case hex.
    pub mac: String,
    pub ipv4: Ipv4Addr,
    pub ipv6: Ipv6Addr,
    /// The kernel's EUI-64 link-local address for `mac`.
    pub link_local: Ipv6Addr,
}

#[derive(Debug)]
pub(crate) struct HostInfo {
    pub(crate) name: String,
    pub(crate) ns: String,
    pub(crate) kind: HostKind,
    pub(crate) links: Vec<Link>,
}

/// An address as `ip -j addr` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    pub ifname: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
}

/// A handle on a lab host (cheap to clone). Everything it runs goes through
/// `ip netns exec <its namespace>`.
#[derive(Clone)]
pub struct Host {
    pub(crate) lab: Arc<Shared>,
    pub(crate) info: Arc<HostInfo>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Host({} in {})", self.info.name, self.info.ns)
    }
}

impl Host {
    /// The name given at creation (`"r1"`).
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Its network namespace (`vgl<pid>x<n>-<name>`).
    pub fn netns(&self) -> &str {
        &self.info.ns
    }

    pub fn kind(&self) -> HostKind {
        self.info.kind
    }

    /// All its interfaces, `eth0` first.
    pub fn links(&self) -> &[Link] {
        &self.info.links
    }

    fn first(&self) -> &Link {
        // add_host refuses a host without segments, so links is never empty.
        &self.info.links[0]
    }

    /// `eth0`: the interface to name in daemon configs.
    pub fn ifname(&self) -> &str {
        &self.first().ifname
    }

    /// The MAC address of `eth0`.
    pub fn mac(&self) -> &str {
        &self.first().mac
    }

    /// The IPv4 address of `eth0`.
    pub fn ipv4(&self) -> Ipv4Addr {
        self.first().ipv4
    }

    /// The global IPv6 address of `eth0`.
    pub fn ipv6(&self) -> Ipv6Addr {
        self.first().ipv6
    }

    /// The link-local IPv6 address of `eth0` (the source of its IPv6 VRRP adverts).
    pub fn link_local(&self) -> Ipv6Addr {
        self.first().link_local
    }

    /// The lab's temporary directory (configs, logs and pcaps of every host).
    pub fn lab_dir(&self) -> &std::path::Path {
        &self.lab.dir
    }

    // --- running things ----------------------------------------------------------------------

    /// A `Command` that runs `program args` in this host, for anything the helpers lack.
    pub fn command<I, S>(&self, program: &str, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        cmd::in_netns(&self.info.ns, program, args)
    }

    /// Runs `program args` in this host to completion and returns its output, whatever its
    /// exit status.
    pub fn exec<I, S>(&self, program: &str, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        cmd::output(&mut self.command(program, args))
    }

    /// Runs `program args` in this host and returns its stdout; fails (quoting stderr) on a
    /// non-zero exit.
    pub fn run<I, S>(&self, program: &str, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = cmd::run(&mut self.command(program, args))
            .with_context(|| format!("on host {}", self.info.name))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `program args` in this host in its own process group, stdout and stderr in
    /// `<lab dir>/<host>-<label>.{out,err}`. The lab kills it at drop and prints its output
    /// if the test fails.
    pub fn spawn<I, S>(&self, label: &str, program: &str, args: I) -> Result<Child>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.spawn_command(label, self.command(program, args))
    }

    /// Like [`Host::spawn`] for a prepared command (from [`Host::command`], with env, ...).
    pub fn spawn_command(&self, label: &str, cmd: Command) -> Result<Child> {
        let label = self
            .lab
            .unique_label(&format!("{}-{label}", self.info.name));
        let child = Child::spawn(cmd, &label, &self.lab.dir)?;
        self.lab.register(&child);
        Ok(child)
    }

    // --- link control ------------------------------------------------------------------------

    /// Pulls the cable: sets the switch end of `eth0`'s veth down, so the host sees its link
    /// lose carrier (NO-CARRIER, operstate down) while it stays administratively up.
    pub fn link_down(&self) -> Result<()> {
        self.set_port(&self.first().port, "down")
    }

    /// Plugs the cable back in (see [`Host::link_down`]).
    pub fn link_up(&self) -> Result<()> {
        self.set_port(&self.first().port, "up")
    }

    /// `ip link set eth0 down` inside the host (an administrative down).
    pub fn admin_down(&self) -> Result<()> {
        self.run("ip", ["link", "set", self.ifname(), "down"])
            .map(|_| ())
    }

    /// `ip link set eth0 up` inside the host.
    pub fn admin_up(&self) -> Result<()> {
        self.run("ip", ["link", "set", self.ifname(), "up"])
            .map(|_| ())
    }

    /// Deletes `eth0`'s veth pair and creates it again under the same names, on the same
    /// bridge, with the same MAC and addresses: what an administrator (or a driver reload)
    /// does to an interface. The kernel gives the host's end a new ifindex.
    pub fn recreate_link(&self) -> Result<()> {
        let l = self.first();
        let br = self
            .lab
            .bridge_of(&l.segment)
            .with_context(|| format!("no bridge for segment {}", l.segment))?;
        let sw = &self.lab.switch_ns;
        // Deleting one end of a veth deletes its peer in the host namespace too.
        cmd::run(&mut cmd::ip(["-n", sw, "link", "del", &l.port]))?;
        let switch_side = format!(
            "link add {port} type veth peer name {ifname} netns {ns}\nlink set {port} master {br} up\n",
            port = l.port,
            ifname = l.ifname,
            ns = self.info.ns,
        );
        cmd::run_with_input(&mut cmd::ip(["-n", sw, "-batch", "-"]), &switch_side)?;
        // The new interface inherits net.ipv6.conf.default.accept_dad=0 set at creation.
        let host_side = format!(
            "link set {if} address {mac}\naddr add {v4}/24 dev {if}\n\
             addr add {v6}/64 dev {if} nodad\nlink set {if} up\n",
            if = l.ifname,
            mac = l.mac,
            v4 = l.ipv4,
            v6 = l.ipv6,
        );
        cmd::run_with_input(
            &mut cmd::ip(["-n", &self.info.ns, "-batch", "-"]),
            &host_side,
        )?;
        Ok(())
    }

    fn set_port(&self, port: &str, state: &str) -> Result<()> {
        cmd::run(&mut cmd::ip([
            "-n",
            &self.lab.switch_ns,
            "link",
            "set",
            port,
            state,
        ]))?;
        Ok(())
    }

    // --- observation -------------------------------------------------------------------------

    /// Floods this namespace with address changes, enough to overflow a stopped daemon's
    /// netlink event socket: its receive buffer is 4 MiB asked, capped by
    /// net.core.rmem_max and doubled by the kernel, and each notification costs its skb's
    /// truesize (under 1 KiB), so at most about ten thousand fit. One address on the scratch
    /// interface `dev` is added and deleted again 15,000 times, so each change is cheap for
    /// the kernel (many distinct addresses make each deletion a walk of the list). Returns
    /// how long the 30,000 changes took.
    pub fn flood_address_changes(&self, dev: &str, label: &str) -> Result<std::time::Duration> {
        const PAIRS: usize = 15_000;
        let path = self.lab_dir().join(format!("flood-{label}.batch"));
        let mut batch = String::with_capacity(PAIRS * 80);
        for _ in 0..PAIRS {
            batch.push_str(&format!(
                "addr add 10.100.0.1/32 dev {dev}\naddr del 10.100.0.1/32 dev {dev}\n"
            ));
        }
        std::fs::write(&path, batch).with_context(|| format!("cannot write {path:?}"))?;
        let t = std::time::Instant::now();
        self.run("ip", ["-batch", &path.to_string_lossy()])?;
        Ok(t.elapsed())
    }

    /// `ip -j <args>` in this host, parsed: for what the helpers below do not extract
    /// (address flags and labels, link details with `-d`, ...).
    pub fn ip_json<I, S>(&self, args: I) -> Result<Value>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut full: Vec<std::ffi::OsString> = vec!["-j".into()];
        full.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        let json = self.run("ip", &full)?;
        serde_json::from_str(&json).with_context(|| {
            let line: Vec<_> = full.iter().map(|a| a.to_string_lossy()).collect();
            format!("ip {}: not JSON: {json}", line.join(" "))
        })
    }

    /// The interface index of `ifname` in this host.
    pub fn ifindex(&self, ifname: &str) -> Result<u32> {
        let v = self.ip_json(["link", "show", "dev", ifname])?;
        v[0]["ifindex"]
            .as_u64()
            .and_then(|i| u32::try_from(i).ok())
            .with_context(|| format!("no ifindex for {ifname} on host {}: {v}", self.info.name))
    }

    /// The value of `/proc/sys/<key>` as this host sees it, e.g.
    /// `net/ipv4/conf/eth0/arp_ignore` (the slash form, since interface names may hold dots).
    pub fn sysctl(&self, key: &str) -> Result<String> {
        let path = format!("/proc/sys/{}", key.trim_start_matches('/'));
        Ok(self.run("cat", [&path])?.trim().to_owned())
    }

    /// Every address on every interface but `lo` (VIPs included, also on VMAC interfaces).
    pub fn addresses(&self) -> Result<Vec<HostAddr>> {
        let v = self.ip_json(["addr", "show"])?;
        let mut addrs = Vec::new();
        for link in v.as_array().into_iter().flatten() {
            let ifname = link["ifname"].as_str().unwrap_or_default();
            if ifname == "lo" {
                continue;
            }
            for a in link["addr_info"].as_array().into_iter().flatten() {
                let addr = a["local"].as_str().and_then(|s| s.parse().ok());
                let prefix_len = a["prefixlen"].as_u64().and_then(|p| u8::try_from(p).ok());
                if let (Some(addr), Some(prefix_len)) = (addr, prefix_len) {
                    addrs.push(HostAddr {
                        ifname: ifname.to_owned(),
                        addr,
                        prefix_len,
                    });
                }
            }
        }
        Ok(addrs)
    }

    /// Whether the host holds `addr` on some interface.
    pub fn has_address(&self, addr: IpAddr) -> Result<bool> {
        Ok(self.addresses()?.iter().any(|a| a.addr == addr))
    }

    /// The MAC this host's neighbour table maps `ip` to, if it has a usable entry (not
    /// INCOMPLETE or FAILED).
    pub fn neigh(&self, ip: IpAddr) -> Result<Option<String>> {
        let v = self.ip_json(["neigh", "show", &ip.to_string()])?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter(|n| {
                !n["state"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| matches!(s.as_str(), Some("FAILED" | "INCOMPLETE")))
            })
            .find_map(|n| n["lladdr"].as_str().map(str::to_owned)))
    }

    /// One ping (1 s deadline): whether `ip` answered.
    pub fn ping(&self, ip: IpAddr) -> Result<bool> {
        let out = self.exec("ping", ["-n", "-q", "-c", "1", "-w", "1", &ip.to_string()])?;
        Ok(out.status.success())
    }

    /// One ARP request for `ip` on `eth0` (1 s deadline): the MAC that answered first.
    pub fn arping(&self, ip: Ipv4Addr) -> Result<Option<String>> {
        // -r: raw output, one MAC per reply line.
        let out = self.exec(
            "arping",
            [
                "-r",
                "-c",
                "1",
                "-w",
                "1",
                "-i",
                self.ifname(),
                &ip.to_string(),
            ],
        )?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .find(|l| l.len() == 17 && l.matches(':').count() == 5)
            .map(str::to_ascii_lowercase))
    }

    /// Starts tcpdump on `eth0` with the pcap filter `filter` (may be empty), writing
    /// `<lab dir>/<host>-<label>.pcap`; returns once tcpdump is listening.
    pub fn capture(&self, label: &str, filter: &str) -> Result<Capture> {
        self.capture_on(self.ifname(), label, filter)
    }

    /// Like [`Host::capture`] on another interface of the host.
    pub fn capture_on(&self, ifname: &str, label: &str, filter: &str) -> Result<Capture> {
        let label = self
            .lab
            .unique_label(&format!("{}-{label}", self.info.name));
        let pcap = self.lab.dir.join(format!("{label}.pcap"));
        // --immediate-mode: each packet reaches the file as it is captured, not when the
        // kernel's ring block fills or times out (up to a second later), so a test reading
        // the pcap during a run sees what has happened so far.
        let mut args: Vec<String> = ["-i", ifname, "-n", "-U", "--immediate-mode", "-w"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        args.push(pcap.to_string_lossy().into_owned());
        args.extend(filter.split_whitespace().map(str::to_owned));
        let child = Child::spawn(self.command("tcpdump", &args), &label, &self.lab.dir)?;
        self.lab.register(&child);
        Capture::start(child, pcap)
    }
}
