//! A lossy LAN without netem: a userspace relay that carries a segment's frames between its
//! hosts and loses, duplicates, delays and reorders them on purpose ([`crate::Lab::impair`]).
//!
//! These kernels have no `sch_netem`, and nftables can only drop (`numgen`). So an impaired
//! segment has no bridge in the path at all:
//!
//! ```text
//!   host r1 ── veth ── s0h1 ───┐
//!   host r2 ── veth ── s0h2 ───┼── relay thread in the switch namespace:
//!   host c  ── veth ── s0h101 ─┘   AF_PACKET in, decide per output port, AF_PACKET out
//! ```
//!
//! Every switch port of the segment is taken off its bridge (`nomaster`; the hosts' carrier
//! never drops) and one thread in the switch namespace becomes the switch: a single unbound
//! `AF_PACKET`/`ETH_P_ALL` socket receives what every port receives (the kernel tells the
//! port and whether the frame is one we sent, `PACKET_OUTGOING`, which is skipped), and one
//! send-only socket per port ([`vigil::net::Announcer`]) writes frames out. It learns source
//! MACs like a bridge: a unicast frame to a known MAC goes to that port only, anything else
//! floods every other port.
//!
//! One relay for all ports, rather than one relay per pair of bridges, because then every
//! link is impaired the same way and independently: the fate of a frame is drawn once per
//! *delivery* (frame × output port), from that output port's own RNG stream. So "30 % loss"
//! means each host misses 30 % of what is sent to it, independently of the other hosts (a
//! multicast advert reaches each backup or not on its own draw), and a path between two hosts
//! sees exactly the configured rates, not their compound over two hops.
//!
//! Per delivery, in this order, with [`Impairment`]'s rates:
//! - **loss**: dropped;
//! - **delay**: queued for `delay + uniform(0..=jitter)`. A port's queue stays in order (a
//!   frame never leaves before the one queued ahead of it on the same port, as on a real
//!   link), so jitter alone never reorders and the reordering counted is the next point's;
//! - **reorder**: when its time comes, the frame is held and sent right after the next frame
//!   for the same port (or alone after `reorder_hold` if none comes);
//! - **duplicate**: sent twice, back to back.
//!
//! (netem differs: its jitter reorders. Here each effect has its own knob, so a test can
//! measure each one.) The relay sleeps in `ppoll`, on a high-resolution timer: a frame
//! leaves within a fraction of a millisecond of its time (measured: in-order delay 20.1 to
//! 20.4 ms for a 20 ms delay without jitter, on a loaded 2-core machine).
//!
//! The RNG is SplitMix64 seeded from `VIGIL_IMPAIR_SEED` or else the clock; the seed is
//! printed when the relay starts. A seed reproduces each port's sequence of decisions (which
//! delivery is dropped, duplicated...); which frame meets which decision still depends on
//! timing, as on any real network.
//!
//! Checksums: a tap reads a frame as the sender's kernel left it, and veth offloads TCP and
//! UDP checksums by default (no ethtool here to turn that off): such a packet carries only
//! its pseudo-header sum. The relay completes the TCP or UDP checksum of every unfragmented
//! IPv4 and IPv6 packet it forwards (recomputing a correct one changes nothing), so they
//! cross intact like VRRP, ICMP, ARP and ND, whose checksums are always complete.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::socket::LinkAddr;
use nix::sys::time::TimeSpec;
use socket2::{Domain, Protocol, Socket, Type};
use vigil::net::Announcer;

/// The environment variable that fixes the relay's seed (decimal), to replay a run.
pub const SEED_ENV: &str = "VIGIL_IMPAIR_SEED";

/// `PACKET_OUTGOING` (linux/if_packet.h): a frame this namespace sent, seen by a tap.
const PACKET_OUTGOING: u8 = 4;
/// Largest frame read: a GSO super-packet would not fit a port's MTU anyway (send error).
const FRAME_BUFFER: usize = 65_536;
/// How often the relay looks at its stop flag when idle.
const IDLE_WAKE: Duration = Duration::from_millis(20);

/// What the relay does to each delivery. Percentages are 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Impairment {
    pub loss_percent: u8,
    pub duplicate_percent: u8,
    pub reorder_percent: u8,
    /// Fixed one-way delay added to every delivery.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per delivery.
    pub jitter: Duration,
    /// How long a frame held for reordering waits for a next frame before leaving alone.
    pub reorder_hold: Duration,
}

impl Impairment {
    /// A perfect switch: every frame delivered once, at once, in order.
    pub fn none() -> Self {
        Self {
            loss_percent: 0,
            duplicate_percent: 0,
            reorder_percent: 0,
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            reorder_hold: Duration::from_millis(200),
        }
    }
}

impl Default for Impairment {
    fn default() -> Self {
        Self::none()
    }
}

/// What the relay did since it started, counted per delivery (frame × output port).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Frames read from the ports.
    pub frames_in: u64,
    /// Deliveries considered (a flooded frame counts once per output port).
    pub deliveries: u64,
    pub dropped: u64,
    /// Deliveries sent twice.
    pub duplicated: u64,
    /// Held frames sent after the frame that followed them.
    pub reordered: u64,
    /// Held frames that no later frame overtook within `reorder_hold`: sent alone, in order.
    pub hold_expired: u64,
    /// Frames written (duplicates count twice).
    pub sent: u64,
    pub send_errors: u64,
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, and good enough to draw percentages.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u8) -> bool {
        // The modulo bias of 2^64 mod 100 is below 1e-17.
        self.next_u64() % 100 < u64::from(percent)
    }

    /// A duration drawn uniformly from `0..=max` (microsecond steps).
    pub fn up_to(&mut self, max: Duration) -> Duration {
        let us = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        if us == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(self.next_u64() % (us + 1))
    }
}

/// The seed from [`SEED_ENV`], or one from the clock and the pid.
pub fn seed_from_env() -> Result<u64> {
    match std::env::var(SEED_ENV) {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("{SEED_ENV}={v:?} is not a decimal u64")),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default();
            Ok(SplitMix64::new(nanos ^ u64::from(std::process::id())).next_u64())
        }
    }
}

/// A frame on its way out of one port.
struct Pending {
    release: Instant,
    frame: Arc<[u8]>,
    duplicate: bool,
    reorder: bool,
}

struct Port {
    name: String,
    ifindex: u32,
    tx: Announcer,
    rng: SplitMix64,
    queue: VecDeque<Pending>,
    /// A frame held for reordering and when it leaves alone if nothing overtakes it.
    held: Option<(Pending, Instant)>,
}

struct Control {
    impairment: Mutex<Impairment>,
    stats: Mutex<RelayStats>,
    stop: AtomicBool,
    thread: Mutex<Option<JoinHandle<Result<()>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running relay (cheap to clone). The lab stops it before tearing down; [`Relay::stop`]
/// stops it earlier (the segment then carries nothing).
#[derive(Clone)]
pub struct Relay {
    control: Arc<Control>,
    seed: u64,
    segment: String,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Relay({}, seed {})", self.segment, self.seed)
    }
}

impl Relay {
    /// Starts the relay thread in the namespace `netns` between the interfaces `ports`, and
    /// returns once its sockets are open. Frames are carried unimpaired until
    /// [`Relay::set`].
    pub(crate) fn start(netns: &str, segment: &str, ports: Vec<String>, seed: u64) -> Result<Self> {
        let control = Arc::new(Control {
            impairment: Mutex::new(Impairment::none()),
            stats: Mutex::new(RelayStats::default()),
            stop: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        let path = PathBuf::from("/run/netns").join(netns);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let ctl = Arc::clone(&control);
        let handle = thread::Builder::new()
            .name(format!("relay-{segment}"))
            .spawn(move || -> Result<()> {
                vigil::net::netns::enter_thread_netns(&path)
                    .with_context(|| format!("cannot enter {path:?}"))?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("cannot build a tokio runtime")?;
                let opened = open(&runtime, &ports, seed);
                let (rx, ports) = match opened {
                    Ok(v) => {
                        let _ = ready_tx.send(Ok(()));
                        v
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("{e:#}")));
                        return Err(e);
                    }
                };
                run(&runtime, &rx, ports, &ctl)
            })
            .context("cannot spawn the relay thread")?;
        *lock(&control.thread) = Some(handle);
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("relay on {segment}: {e}"),
            Err(_) => bail!("relay on {segment} did not open its sockets within 10 s"),
        }
        println!("impair: relay on segment {segment}: seed {seed} (replay with {SEED_ENV}={seed})");
        Ok(Self {
            control,
            seed,
            segment: segment.to_owned(),
        })
    }

    /// The seed of this relay's RNG streams.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Applies `impairment` to every delivery from now on (frames already queued keep
    /// their fate).
    pub fn set(&self, impairment: Impairment) {
        *lock(&self.control.impairment) = impairment;
    }

    /// Back to a perfect switch ([`Impairment::none`]).
    pub fn heal(&self) {
        self.set(Impairment::none());
    }

    pub fn impairment(&self) -> Impairment {
        *lock(&self.control.impairment)
    }

    /// The counters so far.
    pub fn stats(&self) -> RelayStats {
        *lock(&self.control.stats)
    }

    /// Whether the relay thread still runs (it ends only on [`Relay::stop`] or an error).
    pub fn is_running(&self) -> bool {
        lock(&self.control.thread)
            .as_ref()
            .is_some_and(|h| !h.is_finished())
    }

    /// Stops the relay and returns its thread's result (an IO error that ended it).
    pub fn stop(&self) -> Result<()> {
        self.control.stop.store(true, Ordering::Relaxed);
        let handle = lock(&self.control.thread).take();
        match handle.map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result.with_context(|| format!("relay on {}", self.segment)),
            // Not resumed: the lab stops relays in its drop, maybe while already panicking.
            Some(Err(_)) => bail!("relay on {}: its thread panicked", self.segment),
        }
    }
}

fn open(
    runtime: &tokio::runtime::Runtime,
    names: &[String],
    seed: u64,
) -> Result<(Socket, Vec<Port>)> {
    // ETH_P_ALL, unbound: one socket sees every frame every port of the namespace receives.
    let all = Protocol::from(i32::from((libc::ETH_P_ALL as u16).to_be()));
    let rx = Socket::new(Domain::PACKET, Type::RAW, Some(all)).context("AF_PACKET socket")?;
    // Bursts (a flood of pings, adverts of many VRIDs) must not overflow while we sleep.
    rx.set_recv_buffer_size(4 << 20)
        .context("SO_RCVBUF on the relay socket")?;
    rx.set_nonblocking(true)
        .context("O_NONBLOCK on the relay socket")?;
    let mut ports = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let ifindex = nix::net::if_::if_nametoindex(name.as_str())
            .with_context(|| format!("no interface {name} in the switch namespace"))?;
        let tx = {
            let _guard = runtime.enter();
            Announcer::open(name, ifindex).with_context(|| format!("send socket on {name}"))?
        };
        ports.push(Port {
            name: name.clone(),
            ifindex,
            tx,
            // One stream per port: its decisions do not depend on the other ports' traffic.
            rng: SplitMix64::new(seed ^ (k as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f)),
            queue: VecDeque::new(),
            held: None,
        });
    }
    Ok((rx, ports))
}

fn run(
    runtime: &tokio::runtime::Runtime,
    rx: &Socket,
    mut ports: Vec<Port>,
    ctl: &Control,
) -> Result<()> {
    let mut macs: HashMap<[u8; 6], usize> = HashMap::new();
    let mut buf = vec![0u8; FRAME_BUFFER];
    while !ctl.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        flush(runtime, &mut ports, now, ctl);
        let next = ports
            .iter()
            .flat_map(|p| {
                p.queue
                    .front()
                    .map(|f| f.release)
                    .into_iter()
                    .chain(p.held.as_ref().map(|h| h.1))
            })
            .min();
        let wait = next.map_or(IDLE_WAKE, |t| {
            t.saturating_duration_since(Instant::now())
                .clamp(Duration::from_micros(100), IDLE_WAKE)
        });
        // ppoll sleeps on a high-resolution timer; a socket's SO_RCVTIMEO counts in jiffies
        // (4 ms here), which delayed a frame due while no other frame arrived by up to that.
        let mut fds = [PollFd::new(rx.as_fd(), PollFlags::POLLIN)];
        match ppoll(&mut fds, Some(TimeSpec::from_duration(wait)), None) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => bail!("relay poll: {e}"),
        }
        let (len, from) = match nix::sys::socket::recvfrom::<LinkAddr>(rx.as_raw_fd(), &mut buf) {
            Ok((len, Some(from))) => (len, from),
            Ok((_, None)) => continue,
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => continue,
            Err(e) => bail!("relay receive: {e}"),
        };
        if from.pkttype() == PACKET_OUTGOING || len < 14 {
            continue;
        }
        let Some(inport) = ports
            .iter()
            .position(|p| p.ifindex as usize == from.ifindex())
        else {
            continue;
        };
        let now = Instant::now();
        complete_l4_checksum(&mut buf[..len]);
        let frame: Arc<[u8]> = Arc::from(&buf[..len]);
        let (dst, src) = (mac_at(&frame, 0), mac_at(&frame, 6));
        if src[0] & 1 == 0 {
            macs.insert(src, inport);
        }
        let known = (dst[0] & 1 == 0).then(|| macs.get(&dst).copied()).flatten();
        let imp = *lock(&ctl.impairment);
        let mut stats = lock(&ctl.stats);
        stats.frames_in += 1;
        for (k, port) in ports.iter_mut().enumerate() {
            if k == inport || known.is_some_and(|j| j != k) {
                continue;
            }
            stats.deliveries += 1;
            // Every draw is made whatever the earlier ones gave, so a port's stream of
            // decisions advances by a fixed step per delivery.
            let lost = port.rng.chance(imp.loss_percent);
            let duplicate = port.rng.chance(imp.duplicate_percent);
            let reorder = port.rng.chance(imp.reorder_percent);
            let jitter = port.rng.up_to(imp.jitter);
            if lost {
                stats.dropped += 1;
                continue;
            }
            let mut release = now + imp.delay + jitter;
            // A link keeps its order: never ahead of what is already queued on this port.
            if let Some(last) = port.queue.back() {
                release = release.max(last.release);
            }
            port.queue.push_back(Pending {
                release,
                frame: Arc::clone(&frame),
                duplicate,
                reorder,
            });
        }
    }
    Ok(())
}

/// The ones' complement sum of `data` (RFC 1071), folded to 16 bits, not complemented.
fn ones_sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// Writes the full TCP or UDP checksum (RFC 793, RFC 768, RFC 8200 §8.1) of an unfragmented
/// IPv4 packet or an IPv6 packet without extension headers; leaves anything else alone.
fn complete_l4_checksum(frame: &mut [u8]) {
    let Some(ethertype) = frame.get(12..14).map(|e| u16::from_be_bytes([e[0], e[1]])) else {
        return;
    };
    let (pseudo, proto, l4) = match ethertype {
        0x0800 if frame.len() >= 34 => {
            let ihl = usize::from(frame[14] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
            let fragment = u16::from_be_bytes([frame[20], frame[21]]) & 0x3fff != 0;
            if ihl < 20 || total < ihl || fragment || 14 + total > frame.len() {
                return;
            }
            let proto = frame[23];
            let len = (total - ihl) as u32;
            let sum = ones_sum(ones_sum(0, &frame[26..34]), &[0, proto]) + len;
            (sum, proto, 14 + ihl..14 + total)
        }
        0x86dd if frame.len() >= 54 => {
            let payload = usize::from(u16::from_be_bytes([frame[18], frame[19]]));
            if 54 + payload > frame.len() {
                return;
            }
            let proto = frame[20];
            let sum = ones_sum(ones_sum(0, &frame[22..54]), &[0, proto]) + payload as u32;
            (sum, proto, 54..54 + payload)
        }
        _ => return,
    };
    let at = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    let segment = &mut frame[l4];
    if segment.len() < at + 2 {
        return;
    }
    segment[at..at + 2].fill(0);
    let mut sum = !(ones_sum(pseudo, segment) as u16);
    // RFC 768: a computed UDP checksum of zero is sent as all ones (zero means "none").
    if proto == 17 && sum == 0 {
        sum = 0xffff;
    }
    segment[at..at + 2].copy_from_slice(&sum.to_be_bytes());
}

fn mac_at(frame: &[u8], at: usize) -> [u8; 6] {
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&frame[at..at + 6]);
    mac
}

/// Sends every frame whose time has come, applying reorder and duplication.
fn flush(runtime: &tokio::runtime::Runtime, ports: &mut [Port], now: Instant, ctl: &Control) {
    let mut stats = lock(&ctl.stats);
    for port in ports.iter_mut() {
        while port.queue.front().is_some_and(|f| f.release <= now) {
            let Some(next) = port.queue.pop_front() else {
                break;
            };
            if next.reorder && port.held.is_none() {
                let hold = lock(&ctl.impairment).reorder_hold;
                port.held = Some((next, now + hold));
                continue;
            }
            send(runtime, port, &next, &mut stats);
            if let Some((held, _)) = port.held.take() {
                send(runtime, port, &held, &mut stats);
                stats.reordered += 1;
            }
        }
        if port.held.as_ref().is_some_and(|h| h.1 <= now)
            && let Some((held, _)) = port.held.take()
        {
            send(runtime, port, &held, &mut stats);
            stats.hold_expired += 1;
        }
    }
}

fn send(runtime: &tokio::runtime::Runtime, port: &Port, p: &Pending, stats: &mut RelayStats) {
    let copies = if p.duplicate { 2 } else { 1 };
    if p.duplicate {
        stats.duplicated += 1;
    }
    for _ in 0..copies {
        // The socket is non-blocking and sends with MSG_DONTWAIT: this returns at once
        // unless the port's queue is full, when it waits for room.
        match runtime.block_on(port.tx.send(&p.frame)) {
            Ok(_) => stats.sent += 1,
            Err(e) => {
                stats.send_errors += 1;
                if stats.send_errors <= 5 {
                    eprintln!("impair: relay send on {}: {e}", port.name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_decisions() {
        let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
        let da: Vec<bool> = (0..100).map(|_| a.chance(30)).collect();
        let db: Vec<bool> = (0..100).map(|_| b.chance(30)).collect();
        assert_eq!(da, db);
        let mut c = SplitMix64::new(43);
        assert_ne!(da, (0..100).map(|_| c.chance(30)).collect::<Vec<_>>());
    }

    #[test]
    fn chance_is_near_its_percentage() {
        let mut rng = SplitMix64::new(7);
        let n = 100_000;
        let hits = (0..n).filter(|_| rng.chance(30)).count();
        // 30 000 expected, standard deviation 145: 5 sigma either side.
        assert!((29_275..=30_725).contains(&hits), "{hits}");
        assert!((0..1000).all(|_| !rng.chance(0)));
        assert!((0..1000).all(|_| rng.chance(100)));
    }

    /// A UDP-in-IPv4 frame from 192.0.2.1:5000 to 192.0.2.2:6000 with payload "hi!" and
    /// the checksum field set to `sum`.
    fn udp4(sum: [u8; 2]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[0x45, 0, 0, 31, 0, 0, 0x40, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        f.extend_from_slice(&[0x13, 0x88, 0x17, 0x70, 0, 11, sum[0], sum[1]]);
        f.extend_from_slice(b"hi!");
        f
    }

    #[test]
    fn completes_an_offloaded_udp_checksum() {
        // By hand: pseudo header c000+0201+c000+0202+0011+000b = 0x1841f, UDP header and
        // data 1388+1770+000b+6869+2100 = 0xb46c; 0x2388b folds to 0x388d, complement 0xc772.
        let mut partial = udp4([0x12, 0x34]);
        complete_l4_checksum(&mut partial);
        assert_eq!(partial, udp4([0xc7, 0x72]));
        // A complete checksum is left as it was; an ARP frame is not touched.
        let mut done = udp4([0xc7, 0x72]);
        complete_l4_checksum(&mut done);
        assert_eq!(done, udp4([0xc7, 0x72]));
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.resize(42, 0x5a);
        let before = arp.clone();
        complete_l4_checksum(&mut arp);
        assert_eq!(arp, before);
    }

    #[test]
    fn jitter_stays_within_its_bound() {
        let mut rng = SplitMix64::new(1);
        let max = Duration::from_millis(3);
        let draws: Vec<Duration> = (0..10_000).map(|_| rng.up_to(max)).collect();
        assert!(draws.iter().all(|d| *d <= max));
        assert!(draws.iter().any(|d| *d > Duration::from_micros(2900)));
        assert!(draws.iter().any(|d| *d < Duration::from_micros(100)));
        assert_eq!(rng.up_to(Duration::ZERO), Duration::ZERO);
    }
}
