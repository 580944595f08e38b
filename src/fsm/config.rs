//! What one instance needs to know, as plain data the daemon builds from the config model.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::types::{Centis, Family, Priority, Version, Vrid};

/// keepalived's `state MASTER|BACKUP` hint.
///
/// It only matters at startup (keepalived 2.2.7 `vrrp_init_state`): an address owner goes to
/// Master at once whatever the hint (RFC 5798 §6.4.1 requires it); a non-owner always enters
/// Backup first, but with `Master` its first Master_Down timer is one Advertisement_Interval
/// plus the minimum skew (the skew of priority 255) instead of the full Master_Down_Interval,
/// so it takes over quickly when nobody else is advertising.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum InitialState {
    #[default]
    Backup,
    Master,
}

/// keepalived's gratuitous ARP / unsolicited NA schedule (keepalived.conf(5) `garp_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GarpConfig {
    /// Delay of the second burst after becoming Master; zero means no second burst (default 5 s).
    pub master_delay: Centis,
    /// Messages per burst after becoming Master (default 5).
    pub master_repeat: u8,
    /// Period of the refresh while Master; `None` means no refresh (keepalived default 0).
    pub master_refresh: Option<Centis>,
    /// Messages per refresh (default 1).
    pub master_refresh_repeat: u8,
    /// Delay of the second burst after a lower-priority advert; `None` means `master_delay`.
    pub lower_prio_delay: Option<Centis>,
    /// Messages per burst after a lower-priority advert; `None` means `master_repeat`.
    pub lower_prio_repeat: Option<u8>,
}

impl Default for GarpConfig {
    fn default() -> Self {
        Self {
            master_delay: Centis::from_secs(5),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_delay: None,
            lower_prio_repeat: None,
        }
    }
}

impl GarpConfig {
    pub fn lower_prio_delay(&self) -> Centis {
        self.lower_prio_delay.unwrap_or(self.master_delay)
    }

    pub fn lower_prio_repeat(&self) -> u8 {
        self.lower_prio_repeat.unwrap_or(self.master_repeat)
    }
}

/// RFC 5798 §6.4.3: whether a Master with this Accept_Mode and configured priority refuses
/// packets addressed to its virtual addresses (see [`InstanceConfig::refuses_vip_traffic`]).
pub fn refuses_vip_traffic(accept: bool, priority: Priority) -> bool {
    !accept && !priority.is_owner()
}

/// One VRRP instance (one VRID on one interface, one address family).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// The instance's name, for logs and notify scripts.
    pub name: String,
    pub vrid: Vrid,
    pub version: Version,
    pub family: Family,
    /// The configured (base) priority; trackers adjust it (see `priority.rs`).
    pub priority: Priority,
    /// Advertisement_Interval (RFC 5798 §6.1). For v2 a whole number of seconds in centis.
    pub advert_int: Centis,
    /// Preempt_Mode (RFC 5798 §6.1), default true. The address owner always preempts.
    pub preempt: bool,
    /// keepalived `preempt_delay`: after startup (or leaving Fault), a higher-priority Backup
    /// waits this long before it preempts a lower-priority Master.
    pub preempt_delay: Centis,
    /// Accept_Mode (RFC 5798 §6.1): carried for the daemon, which decides whether to accept
    /// packets addressed to the virtual addresses while Master. The state machine ignores it.
    pub accept: bool,
    /// This router's primary address on the interface: the advert source and the tie-break
    /// of equal priorities (RFC 5798 §6.4.3).
    pub primary_addr: std::net::IpAddr,
    pub initial: InitialState,
    #[serde(default)]
    pub garp: GarpConfig,
    /// keepalived `lower_prio_no_advert`: when true, a Master does not answer a lower-priority
    /// advert with an advert of its own (RFC behaviour; keepalived's default is to answer).
    #[serde(default)]
    pub lower_prio_no_advert: bool,
    /// keepalived `higher_prio_send_advert`: a Master that yields to a higher-priority advert
    /// (or an equal one from a higher address) first sends one advert of its own, so that the
    /// new Master's neighbours hear the old one step aside (keepalived vrrp.c
    /// `vrrp_state_master_rx`).
    #[serde(default)]
    pub higher_prio_send_advert: bool,
    /// keepalived `down_timer_adverts`: the multiplier of Master_Adver_Interval in
    /// Master_Down_Interval, 3 in RFC 5798 §6.1 (keepalived `VRRP_MS_DOWN_TIMER`).
    #[serde(default = "default_down_timer_adverts")]
    pub down_timer_adverts: u8,
}

fn default_down_timer_adverts() -> u8 {
    DEFAULT_DOWN_TIMER_ADVERTS
}

/// RFC 5798 §6.1: Master_Down_Interval is three Master_Adver_Intervals plus the skew.
pub const DEFAULT_DOWN_TIMER_ADVERTS: u8 = 3;

impl InstanceConfig {
    /// Whether packets addressed to the virtual addresses must be refused while Master:
    /// RFC 5798 §6.4.3, a non-owner Master MUST NOT accept them unless Accept_Mode is True;
    /// the address owner (configured priority 255) always accepts them (they are its own).
    /// keepalived decides it the same way (base priority, not the effective one).
    pub fn refuses_vip_traffic(&self) -> bool {
        refuses_vip_traffic(self.accept, self.priority)
    }

    /// A configuration with the RFC and keepalived defaults for everything but identity.
    pub fn new(
        name: impl Into<String>,
        vrid: Vrid,
        version: Version,
        primary_addr: IpAddr,
    ) -> Self {
        let family = if primary_addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        };
        Self {
            name: name.into(),
            vrid,
            version,
            family,
            priority: Priority::DEFAULT,
            advert_int: Centis::from_secs(1),
            preempt: true,
            preempt_delay: Centis::ZERO,
            accept: false,
            primary_addr,
            initial: InitialState::Backup,
            garp: GarpConfig::default(),
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            down_timer_adverts: DEFAULT_DOWN_TIMER_ADVERTS,
        }
    }
}
