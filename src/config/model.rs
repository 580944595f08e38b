//! The one typed configuration model. Both the native YAML format and keepalived.conf map to
//! it, the validator checks it and the daemon runs from it.
//!
//! Every value here is already resolved: defaults are keepalived 2.2.7's, and the settings an
//! instance inherits from `global` (VRRP version, GARP timers, strict mode, ...) have been
//! copied into the instance by the loader, so the daemon never has to look in two places.
//! YAML field names are keepalived's keyword names (without the `vrrp_` prefix in `global`),
//! so that migration is a matter of reindenting.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::types::{Centis, Family, Priority, Version, Vrid};
use crate::wire::{VRRP_GROUP_V4, VRRP_GROUP_V6};

/// A whole configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub global: Global,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<Instance>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sync_groups: Vec<SyncGroup>,
    /// keepalived's `vrrp_script` blocks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<TrackScript>,
    /// keepalived's `track_file` / `vrrp_track_file` blocks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub track_files: Vec<TrackFile>,
    /// keepalived's `vrrp_track_process` blocks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub track_processes: Vec<TrackProcess>,
    /// keepalived's `static_ipaddress`: installed at startup whatever the VRRP state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_addresses: Vec<VirtualAddress>,
    /// keepalived's `static_routes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_routes: Vec<Route>,
    /// keepalived's `static_rules`: installed at startup whatever the VRRP state.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_rules: Vec<Rule>,
    /// keepalived's top-level `track_group NAME { group { VI_1 ... } }`: the instances that
    /// track a static address, route or rule naming it (`track_group NAME`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub track_groups: Vec<TrackGroup>,
}

/// A static track group (keepalived vrrp_static_track.c): each member instance watches the
/// interface of every static address, route (`dev`) and rule (`iif`) naming the group, as a
/// `track_interface` of weight 0 does: the instance is in FAULT while it is down, since the
/// static item cannot be (re)installed there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackGroup {
    pub name: String,
    /// Instance names (`group { }`).
    pub group: Vec<String>,
}

/// keepalived's `global_defs`, VRRP side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Global {
    /// A name for this machine, used in notifications. keepalived defaults to the host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router_id: Option<String>,
    /// Default protocol version of instances (`vrrp_version`, default 2; IPv6 instances are
    /// always version 3).
    pub vrrp_version: Version,
    /// `vrrp_mcast_group4`, default 224.0.0.18 (RFC 5798 §5.1.1.2).
    pub mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6`, default ff02::12 (RFC 5798 §5.1.2.2).
    pub mcast_group6: Ipv6Addr,
    /// Defaults for the instances' GARP/NA settings (`vrrp_garp_*`).
    pub garp: Garp,
    /// `vrrp_garp_interval`: delay between gratuitous ARPs sent on one interface.
    #[serde(with = "secs_duration")]
    pub garp_interval: Duration,
    /// `vrrp_gna_interval`: delay between unsolicited neighbour advertisements on one interface.
    #[serde(with = "secs_duration")]
    pub gna_interval: Duration,
    /// `vrrp_min_garp`: one GARP/NA per transition and no second burst.
    #[serde(skip_serializing_if = "is_false")]
    pub min_garp: bool,
    /// `vrrp_skip_check_adv_addr`: default of the instances' `skip_check_adv_addr`.
    #[serde(skip_serializing_if = "is_false")]
    pub skip_check_adv_addr: bool,
    /// `vrrp_strict`: default of the instances' `strict_mode`.
    #[serde(skip_serializing_if = "is_false")]
    pub strict: bool,
    /// `vrrp_check_unicast_src`: default of the instances' `check_unicast_src`.
    #[serde(skip_serializing_if = "is_false")]
    pub check_unicast_src: bool,
    /// `vrrp_lower_prio_no_advert`: default of the instances' `lower_prio_no_advert`.
    #[serde(skip_serializing_if = "is_false")]
    pub lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert`: default of the instances' `higher_prio_send_advert`.
    #[serde(skip_serializing_if = "is_false")]
    pub higher_prio_send_advert: bool,
    /// `vrrp_down_timer_adverts` (1..=100, default 3 as RFC 5798 §6.1 requires).
    pub down_timer_adverts: u8,
    /// `vrrp_notify_priority_changes`: default of the instances' `notify_priority_changes`.
    #[serde(skip_serializing_if = "is_false")]
    pub notify_priority_changes: bool,
    /// `vrrp_startup_delay`: wait this long after startup before running the instances.
    #[serde(with = "secs_centis")]
    pub startup_delay: Centis,
    /// `v3_checksum_as_v2`: default of the instances' `v3_checksum_as_v2`.
    #[serde(skip_serializing_if = "is_false")]
    pub v3_checksum_as_v2: bool,
    /// `vrrp_priority`: the scheduling (nice) priority of the VRRP process, -20..=19.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_priority: Option<i8>,
    /// `max_auto_priority [N]` (keepalived 2.4): the highest realtime (SCHED_RR) priority,
    /// 1..=99, the daemon raises itself to, one step at a time, each time a timer is served
    /// more than `min_auto_priority_delay` late. 0: never (keepalived's default).
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub max_auto_priority: u8,
    /// `min_auto_priority_delay` in microseconds (1..=10_000_000, default 1_000_000).
    #[serde(default = "defaults::min_auto_priority_delay")]
    pub min_auto_priority_delay: u32,
    /// `default_interface`: the interface of static addresses that name none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_interface: Option<String>,
    /// `dynamic_interfaces`: an instance whose interface does not exist waits for it in
    /// FAULT instead of the configuration being refused (keepalived 2.4's `if_get_by_ifname`
    /// with `IF_CREATE_IF_DYNAMIC`).
    #[serde(skip_serializing_if = "is_false")]
    pub dynamic_interfaces: bool,
    /// `script_user USER [GROUP]`: who runs scripts that name no user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script_user: Option<RunAs>,
    /// `enable_script_security`: refuse scripts that a non-root user could modify.
    #[serde(skip_serializing_if = "is_false")]
    pub enable_script_security: bool,
    /// `notify_fifo` (or `vrrp_notify_fifo`): a FIFO that receives one line per transition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_fifo: Option<NotifyFifo>,
    /// `notification_email { ... }`: recipients of SMTP alerts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout`, in seconds (default 30).
    pub smtp_connect_timeout: u32,
    /// `smtp_alert` / `smtp_alert_vrrp`: default of the instances' `smtp_alert`.
    #[serde(skip_serializing_if = "is_false")]
    pub smtp_alert: bool,
    /// keepalived's top-level `net_namespace NAME`: the daemon enters the network namespace
    /// /run/netns/NAME (made by `ip netns add NAME`) after reading the configuration and
    /// before it opens any socket, so every instance runs there (`daemon::netns`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_namespace: Option<String>,
}

impl Default for Global {
    fn default() -> Self {
        Self {
            router_id: None,
            vrrp_version: Version::V2,
            mcast_group4: VRRP_GROUP_V4,
            mcast_group6: VRRP_GROUP_V6,
            garp: Garp::default(),
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            min_garp: false,
            skip_check_adv_addr: false,
            strict: false,
            check_unicast_src: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            down_timer_adverts: 3,
            notify_priority_changes: false,
            startup_delay: Centis::ZERO,
            v3_checksum_as_v2: false,
            process_priority: None,
            max_auto_priority: 0,
            min_auto_priority_delay: defaults::min_auto_priority_delay(),
            default_interface: None,
            dynamic_interfaces: false,
            script_user: None,
            enable_script_security: false,
            notify_fifo: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: 30,
            smtp_alert: false,
            net_namespace: None,
        }
    }
}

/// Gratuitous ARP / unsolicited NA timing, per instance (defaults from `global`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Garp {
    /// `garp_master_delay`: delay before the second burst after becoming master (default
    /// 5 s; 0 = no second burst).
    #[serde(with = "secs_centis")]
    pub master_delay: Centis,
    /// `garp_master_repeat`: messages per burst after becoming master (default 5).
    pub master_repeat: u32,
    /// `garp_master_refresh`: period of refresh bursts while master (default 0 = none).
    #[serde(with = "secs_centis")]
    pub master_refresh: Centis,
    /// `garp_master_refresh_repeat`: messages per refresh burst (default 1).
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`: delay of the second burst after a lower-priority advert is
    /// received while master (default: `master_delay`).
    #[serde(with = "secs_centis")]
    pub lower_prio_delay: Centis,
    /// `garp_lower_prio_repeat`: messages per burst after a lower-priority advert is received
    /// while master (default: `master_repeat`).
    pub lower_prio_repeat: u32,
}

impl Default for Garp {
    fn default() -> Self {
        Self {
            master_delay: Centis::from_secs(5),
            master_repeat: 5,
            master_refresh: Centis::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: Centis::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// One virtual router: one VRID on one interface for one address family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// The `vrrp_instance NAME`.
    pub name: String,
    /// The interface adverts are sent and received on.
    pub interface: String,
    /// `virtual_router_id`.
    #[serde(rename = "virtual_router_id")]
    pub vrid: Vrid,
    /// `version` (default: `global.vrrp_version`, 3 for IPv6).
    #[serde(default = "defaults::version")]
    pub version: Version,
    /// The address family (default: that of the first virtual address, IPv4 if none).
    #[serde(default = "defaults::family")]
    pub family: Family,
    /// `priority` (default 100; 255 = address owner).
    #[serde(default = "defaults::priority")]
    pub priority: Priority,
    /// `advert_int` (default 1 s). A whole number of seconds with VRRPv2.
    #[serde(default = "defaults::advert_int", with = "secs_centis")]
    pub advert_int: Centis,
    /// `state`: the state the instance starts in.
    #[serde(default, rename = "state")]
    pub initial_state: InitialState,
    /// `preempt` (default on; keepalived's `nopreempt` sets it off).
    #[serde(default = "defaults::yes")]
    pub preempt: bool,
    /// `preempt_delay` (0..=1000 s, default 0).
    #[serde(default, with = "secs_centis")]
    pub preempt_delay: Centis,
    /// Accept Mode (RFC 5798 §6.1): answer packets addressed to the VIPs when not owner.
    /// Default on, off under `strict_mode` unless the instance is the address owner.
    #[serde(default = "defaults::yes")]
    pub accept: bool,
    /// `virtual_ipaddress`: the addresses carried in adverts.
    #[serde(default, rename = "virtual_ipaddress")]
    pub virtual_addresses: Vec<VirtualAddress>,
    /// `no_virtual_ipaddress` (keepalived 2.4): the instance has no `virtual_ipaddress` on
    /// purpose. Without it, keepalived refuses a VRRPv3 or strict instance without one and
    /// warns about a VRRPv2 one; with it, it says nothing (strict mode clears it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_virtual_ipaddress: bool,
    /// `virtual_ipaddress_excluded`: installed with the VIPs but not advertised.
    #[serde(
        default,
        rename = "virtual_ipaddress_excluded",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub excluded_addresses: Vec<VirtualAddress>,
    /// `virtual_routes`: installed while master.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_routes: Vec<Route>,
    /// `virtual_rules`: installed while master.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_rules: Vec<Rule>,
    /// `authentication` (VRRPv2 only, RFC 3768 §5.3.6 / RFC 2338).
    #[serde(
        default,
        rename = "authentication",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth: Option<Auth>,
    /// `auth_hmac { ... }` (keepalived 2.4.1+): HMAC-SHA-256 trailers on adverts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_hmac: Option<super::auth_hmac::AuthHmac>,
    /// `unicast_src_ip`: source of unicast adverts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer { ... }`: send adverts to these addresses instead of multicast.
    #[serde(
        default,
        rename = "unicast_peer",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unicast_peers: Vec<UnicastPeer>,
    /// `unicast_ttl`: TTL / hop limit of unicast adverts (default 255,
    /// [`crate::wire::VRRP_HOP_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unicast_ttl: Option<u8>,
    /// `unicast_fault_no_peer`: go to FAULT instead of multicasting when no peer is left.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unicast_fault_no_peer: bool,
    /// `check_unicast_src`: drop unicast adverts whose source is not a configured peer.
    /// A peer with `min_ttl` or `max_ttl` turns it on too, as in keepalived.
    #[serde(default)]
    pub check_unicast_src: bool,
    /// `mcast_src_ip`: source of multicast adverts (default: the interface's primary address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcast_src_ip: Option<IpAddr>,
    /// `mcast_dst_ip`: an alternative multicast group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcast_dst_ip: Option<IpAddr>,
    /// `track_src_ip`: FAULT when the configured source address disappears.
    #[serde(default, skip_serializing_if = "is_false")]
    pub track_src_ip: bool,
    /// `use_vmac [NAME]`: the macvlan interface carrying the virtual MAC (RFC 5798 §7.3).
    /// keepalived's default name is `vrrp.<vrid>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_vmac: Option<String>,
    /// `vmac_xmit_base`: send and receive adverts on the base interface, not the macvlan.
    #[serde(default, skip_serializing_if = "is_false")]
    pub vmac_xmit_base: bool,
    /// `track_interface { ... }`.
    #[serde(
        default,
        rename = "track_interface",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script { ... }`: names of `scripts`.
    #[serde(
        default,
        rename = "track_script",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub track_scripts: Vec<TrackRef>,
    /// `track_file { ... }`: names of `track_files`.
    #[serde(default, rename = "track_file", skip_serializing_if = "Vec::is_empty")]
    pub track_files: Vec<TrackRef>,
    /// `track_process { ... }`: names of `track_processes`.
    #[serde(
        default,
        rename = "track_process",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub track_processes: Vec<TrackRef>,
    /// GARP/NA timing (default: `global.garp`).
    #[serde(default)]
    pub garp: Garp,
    /// Notify scripts.
    #[serde(default, skip_serializing_if = "Notify::is_empty")]
    pub notify: Notify,
    /// `notify_priority_changes`: also report priority changes on the notify FIFO.
    #[serde(default)]
    pub notify_priority_changes: bool,
    /// `smtp_alert`: mail `global.notification_email` on transitions.
    #[serde(default)]
    pub smtp_alert: bool,
    /// `dont_track_primary`: ignore the state of `interface` itself.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dont_track_primary: bool,
    /// `skip_check_adv_addr`: don't re-check the address list of adverts from the same master.
    #[serde(default)]
    pub skip_check_adv_addr: bool,
    /// `strict_mode` (default: `global.strict`): enforce the RFC to the letter.
    #[serde(default)]
    pub strict_mode: bool,
    /// `lower_prio_no_advert`: don't answer a lower-priority advert with an advert.
    #[serde(default)]
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: send one advert before yielding to a higher priority.
    #[serde(default)]
    pub higher_prio_send_advert: bool,
    /// `down_timer_adverts` (1..=100, default 3, RFC 5798 §6.1 Master_Down_Interval).
    #[serde(default = "defaults::down_timer_adverts")]
    pub down_timer_adverts: u8,
    /// `v3_checksum_as_v2`: checksum VRRPv3 over IPv4 without the pseudo-header, as VRRPv2
    /// does (keepalived 2.2.8+), on send and receive. Always written: it is inherited.
    #[serde(default)]
    pub v3_checksum_as_v2: bool,
    /// `promote_secondaries`: set the interface flag so removing one VIP keeps its siblings.
    #[serde(default, skip_serializing_if = "is_false")]
    pub promote_secondaries: bool,
}

/// The state an instance starts in (`state MASTER|BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialState {
    #[default]
    Backup,
    Master,
}

/// Notify scripts (instances and sync groups alike). keepalived's `notify_X` is `notify.X`
/// here, and its plain `notify` is `notify.any`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    /// `notify_master`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<NotifyScript>,
    /// `notify_backup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<NotifyScript>,
    /// `notify_fault`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<NotifyScript>,
    /// `notify_stop`: run when the instance stops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<NotifyScript>,
    /// `notify_deleted SCRIPT` (instances only): run when a reload removes the instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<NotifyScript>,
    /// keepalived's `notify_deleted` with or without a script (instances only): a reload's
    /// removal is announced as DELETED (to `notify` and the FIFO) instead of FAULT.
    /// Implied by `deleted`.
    #[serde(skip_serializing_if = "is_false")]
    pub report_deleted: bool,
    /// `notify`: run on every transition with keepalived's 4 extra arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub any: Option<NotifyScript>,
    /// `notify_master_rx_lower_pri` (instances only): run, with its own arguments, each time
    /// the Master receives a lower-priority advert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_rx_lower_pri: Option<NotifyScript>,
}

impl Notify {
    pub fn is_empty(&self) -> bool {
        *self == Notify::default()
    }
}

/// A script to run: the command line as keepalived takes it (program and arguments in one
/// string, split like a shell without expansion), and optionally who runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyScript {
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// A user and optional group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunAs {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// `notify_fifo PATH [USER [GROUP]]` and its optional reader script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFifo {
    pub path: String,
    /// `notify_fifo PATH USER [GROUP]`: who owns the FIFO vigil creates (keepalived chowns
    /// it so a reader running as that user can open it); default `script_user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<NotifyScript>,
}

/// `smtp_server HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpServer {
    pub host: String,
    #[serde(default = "defaults::smtp_port")]
    pub port: u16,
}

/// VRRPv2 authentication (RFC 2338 §5.3.6; removed by RFC 3768 but still spoken by keepalived).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Auth {
    /// Simple text password, at most 8 octets on the wire.
    Pass(String),
    /// IPsec AH with keepalived's HMAC-MD5-96.
    Ah(String),
}

/// One `unicast_peer` line: an address, and with `min_ttl` / `max_ttl` the TTL (hop limit)
/// range its adverts must arrive with. keepalived's defaults are 0 and 255; giving either
/// turns `check_unicast_src` on for the instance (keepalived's `alloc_vrrp_unicast_peer`).
///
/// In YAML a peer is either a plain address (the original form, still accepted) or a map
/// `{address, min_ttl, max_ttl}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "UnicastPeerYaml", into = "UnicastPeerYaml")]
pub struct UnicastPeer {
    pub address: IpAddr,
    pub min_ttl: Option<u8>,
    pub max_ttl: Option<u8>,
}

impl UnicastPeer {
    /// A peer with no TTL range.
    pub const fn new(address: IpAddr) -> Self {
        Self {
            address,
            min_ttl: None,
            max_ttl: None,
        }
    }

    /// Whether `min_ttl` or `max_ttl` was given.
    pub const fn has_ttl_range(&self) -> bool {
        self.min_ttl.is_some() || self.max_ttl.is_some()
    }

    /// The accepted TTL range, keepalived's defaults filled in.
    pub fn ttl_range(&self) -> (u8, u8) {
        (self.min_ttl.unwrap_or(0), self.max_ttl.unwrap_or(u8::MAX))
    }
}

/// The two YAML spellings of a unicast peer.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
enum UnicastPeerYaml {
    Address(IpAddr),
    Full(UnicastPeerMap),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnicastPeerMap {
    address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_ttl: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_ttl: Option<u8>,
}

impl From<UnicastPeerYaml> for UnicastPeer {
    fn from(y: UnicastPeerYaml) -> Self {
        match y {
            UnicastPeerYaml::Address(address) => Self::new(address),
            UnicastPeerYaml::Full(m) => Self {
                address: m.address,
                min_ttl: m.min_ttl,
                max_ttl: m.max_ttl,
            },
        }
    }
}

impl From<UnicastPeer> for UnicastPeerYaml {
    fn from(p: UnicastPeer) -> Self {
        if p.has_ttl_range() {
            Self::Full(UnicastPeerMap {
                address: p.address,
                min_ttl: p.min_ttl,
                max_ttl: p.max_ttl,
            })
        } else {
            Self::Address(p.address)
        }
    }
}

/// An address installed by an instance (or statically), with `ip address add`'s options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualAddress {
    pub addr: IpAddr,
    /// Default: 32 for IPv4, 128 for IPv6 (keepalived's default when no `/len` is given).
    pub prefix_len: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brd: Option<Ipv4Addr>,
    /// Interface to install on (default: the instance's, or its VMAC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<IpAddr>,
    /// `home`, `mngtmpaddr`, `noprefixroute`, `autojoin`: the address flags of the same names
    /// (`ip address add`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub home: bool,
    /// keepalived's `-nodad`: let the kernel run duplicate address detection on this IPv6
    /// address. By default a virtual IPv6 address skips it (IFA_F_NODAD), as keepalived's do,
    /// so that it is usable at once after a takeover.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dad: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub mngtmpaddr: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub noprefixroute: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub autojoin: bool,
    /// `no_track`: the instance does not watch this address (nor its interface): deleting it
    /// does not bring it back, and its interface going down is no fault.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_track: bool,
    /// Put this address on a VMAC created on `dev`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_vmac: bool,
    /// `preferred_lft N|forever` in seconds; `forever` is `u32::MAX`. IPv6 only; unset, a /128
    /// is deprecated (0) and any other prefix is forever, keepalived's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_lft: Option<u32>,
    /// `track_group` (static addresses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_group: Option<String>,
}

impl VirtualAddress {
    /// An address with no options.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Self {
        Self {
            addr,
            prefix_len,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            home: false,
            dad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            use_vmac: false,
            preferred_lft: None,
            track_group: None,
        }
    }

    pub fn family(&self) -> Family {
        family_of(self.addr)
    }
}

/// The family of an address.
pub fn family_of(addr: IpAddr) -> Family {
    match addr {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    }
}

/// Address and route scope, as `ip` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
}

/// A network prefix `addr/len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

/// A route (`virtual_routes`, `static_routes`), with the `ip route` options vigil supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub to: Prefix,
    /// `blackhole`, `unreachable`, `prohibit`, `throw` (default: unicast).
    #[serde(default, skip_serializing_if = "is_default")]
    pub kind: RouteKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    /// `via` / `gw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// `vrf NAME`: the route goes in that VRF device's table (keepalived sets the table from
    /// the VRF; it wins over `table`). Looked up when the route is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrf: Option<String>,
    /// `metric` / `priority` / `preference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// `protocol` / `proto`, as a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub onlink: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_track: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_group: Option<String>,
    /// A multipath route's next hops (keepalived's `nexthop via IP dev IF weight N onlink`,
    /// and its deprecated `via A or B`); empty for a single-path route (`via`, `dev`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nexthops: Vec<NextHop>,
}

/// One next hop of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextHop {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// `weight` 1 to 256, as `ip route` takes it (the kernel stores weight - 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub onlink: bool,
}

/// The type of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    #[default]
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
}

/// A policy-routing rule (`virtual_rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Prefix>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Prefix>,
    /// `inet6` on a rule with neither `from` nor `to`.
    #[serde(default = "defaults::family")]
    pub family: Family,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// `priority` / `preference` / `pref`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oif: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_track: bool,
    /// `track_group` (static rules only): the group's instances watch `iif`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_group: Option<String>,
}

/// An interface an instance watches; down means FAULT unless a weight is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackInterface {
    pub name: String,
    /// -253..=253; 0 means "down is FAULT".
    #[serde(default, skip_serializing_if = "is_default")]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
}

/// A reference to a script, file or process checker, with an optional weight override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackRef {
    pub name: String,
    /// Overrides the checker's own weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
}

/// A `vrrp_sync_group`: members move between states together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncGroup {
    pub name: String,
    /// Names of member instances.
    pub group: Vec<String>,
    #[serde(
        default,
        rename = "track_interface",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub track_interfaces: Vec<TrackInterface>,
    #[serde(
        default,
        rename = "track_script",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub track_scripts: Vec<TrackRef>,
    #[serde(default, rename = "track_file", skip_serializing_if = "Vec::is_empty")]
    pub track_files: Vec<TrackRef>,
    #[serde(
        default,
        rename = "track_process",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub track_processes: Vec<TrackRef>,
    #[serde(default, skip_serializing_if = "Notify::is_empty")]
    pub notify: Notify,
    /// `notify_priority_changes`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub notify_priority_changes: bool,
    /// `smtp_alert`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub smtp_alert: bool,
    /// `sync_group_tracking_weight`: allow members' trackers to keep their weights.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sync_group_tracking_weight: bool,
}

/// A `vrrp_script`: a command run periodically; its exit status adjusts priority or faults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackScript {
    pub name: String,
    pub script: String,
    /// Default 1 s.
    #[serde(default = "defaults::one_second", with = "secs_centis")]
    pub interval: Centis,
    /// Default: `interval`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "opt_secs_centis"
    )]
    pub timeout: Option<Centis>,
    /// -253..=253, default 0 (failure is FAULT).
    #[serde(default, skip_serializing_if = "is_default")]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
    /// Successes needed to go OK (default 1).
    #[serde(default = "defaults::one")]
    pub rise: u32,
    /// Failures needed to go KO (default 1).
    #[serde(default = "defaults::one")]
    pub fall: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<RunAs>,
    /// `init_fail`: start in the failed state.
    #[serde(default, skip_serializing_if = "is_false")]
    pub init_fail: bool,
}

/// A `track_file`: the integer in a file times `weight` adjusts priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackFile {
    pub name: String,
    pub file: String,
    /// Default 1.
    #[serde(default = "defaults::one_i32")]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_file: Option<InitFile>,
}

/// Create (or overwrite) a tracked file at startup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitFile {
    #[serde(default)]
    pub value: i64,
    #[serde(default)]
    pub overwrite: bool,
}

/// A `vrrp_track_process`: the number of matching processes adjusts priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackProcess {
    pub name: String,
    /// Process name, or the command and parameters to match.
    pub process: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_match: Option<ParamMatch>,
    /// Default 0, as keepalived (alloc_vrrp_process leaves it zero): fewer processes than
    /// `quorum` (or more than `quorum_max`) is then FAULT, not a priority change.
    #[serde(default)]
    pub weight: i32,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
    /// Minimum number of processes (default 1).
    #[serde(default = "defaults::one")]
    pub quorum: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_max: Option<u32>,
    #[serde(default, with = "secs_centis")]
    pub fork_delay: Centis,
    #[serde(default, with = "secs_centis")]
    pub terminate_delay: Centis,
    /// `full_command`: match against the full command line.
    #[serde(default, skip_serializing_if = "is_false")]
    pub full_command: bool,
}

/// How a tracked process's parameters are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamMatch {
    Exact,
    Partial,
    Initial,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Field defaults that are not the type's `Default`.
pub(crate) mod defaults {
    use super::*;
    /// keepalived's `min_auto_priority_delay` default: one second, in microseconds.
    pub fn min_auto_priority_delay() -> u32 {
        1_000_000
    }
    pub fn version() -> Version {
        Version::V2
    }
    pub fn family() -> Family {
        Family::V4
    }
    pub fn priority() -> Priority {
        Priority::DEFAULT
    }
    pub fn advert_int() -> Centis {
        Centis::from_secs(1)
    }
    pub fn one_second() -> Centis {
        Centis::from_secs(1)
    }
    pub fn yes() -> bool {
        true
    }
    pub fn down_timer_adverts() -> u8 {
        3
    }
    pub fn smtp_port() -> u16 {
        25
    }
    pub fn one() -> u32 {
        1
    }
    pub fn one_i32() -> i32 {
        1
    }
}

/// Durations in YAML are decimal seconds (`advert_int: 0.5`), as in keepalived.conf, held
/// exactly as centiseconds.
pub(crate) mod secs_centis {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::types::Centis;

    pub fn serialize<S: Serializer>(v: &Centis, s: S) -> Result<S::Ok, S::Error> {
        let c = v.get();
        if c % 100 == 0 {
            s.serialize_u32(c / 100)
        } else {
            s.serialize_f64(f64::from(c) / 100.0)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Centis, D::Error> {
        let secs = f64::deserialize(d)?;
        from_secs_f64(secs).map_err(serde::de::Error::custom)
    }

    pub fn from_secs_f64(secs: f64) -> Result<Centis, String> {
        let centis = secs * 100.0;
        if !centis.is_finite() || centis < 0.0 || centis > f64::from(u32::MAX) {
            return Err(format!("{secs} is not a duration in seconds"));
        }
        let rounded = centis.round();
        if (centis - rounded).abs() > 1e-6 {
            return Err(format!("{secs} s is not a whole number of centiseconds"));
        }
        // In range and integral: the cast is exact.
        Ok(Centis::new(rounded as u32))
    }
}

pub(crate) mod opt_secs_centis {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::types::Centis;

    pub fn serialize<S: Serializer>(v: &Option<Centis>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(c) => super::secs_centis::serialize(c, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Centis>, D::Error> {
        let secs = Option::<f64>::deserialize(d)?;
        secs.map(super::secs_centis::from_secs_f64)
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

/// Sub-centisecond intervals (GARP pacing) as decimal seconds with microsecond resolution.
pub(crate) mod secs_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        let us = v.as_micros();
        if us % 1_000_000 == 0 {
            s.serialize_u64(v.as_secs())
        } else {
            s.serialize_f64(v.as_secs_f64())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
            return Err(serde::de::Error::custom(format!(
                "{secs} is not a duration between 0 and 86400 seconds"
            )));
        }
        Ok(Duration::from_micros((secs * 1e6).round() as u64))
    }
}
