//! Protocol values shared by every layer, as newtypes that make bad values unrepresentable.
//!
//! `wire`, `fsm` and `config` all speak in these types, so a priority can never be confused
//! with a VRID, and an advertisement interval is never a float.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Virtual Router Identifier, 1..=255 (RFC 5798 §5.2.3). VRID 0 is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Vrid(u8);

impl Vrid {
    /// Returns `None` for 0, which RFC 5798 §5.2.3 does not allow.
    pub const fn new(value: u8) -> Option<Self> {
        if value == 0 { None } else { Some(Self(value)) }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Vrid {
    type Error = InvalidVrid;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value).ok_or(InvalidVrid)
    }
}

impl From<Vrid> for u8 {
    fn from(v: Vrid) -> u8 {
        v.0
    }
}

impl fmt::Display for Vrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("VRID must be between 1 and 255")]
pub struct InvalidVrid;

/// A VRRP priority (RFC 5798 §5.2.4). 255 is the address owner, 0 means "master is
/// leaving"; 1..=254 are ordinary backups. Any u8 is representable because any u8 can
/// arrive on the wire; the constructors for configured priorities live in `config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Priority(u8);

impl Priority {
    /// The address owner's priority: goes to Master at once and is never adjusted.
    pub const OWNER: Priority = Priority(255);
    /// Sent by a master that stops being master (RFC 5798 §6.4.3 Shutdown).
    pub const STOP: Priority = Priority(0);
    /// The RFC's default for a backup (RFC 5798 §5.2.4).
    pub const DEFAULT: Priority = Priority(100);
    /// The highest priority a non-owner may have.
    pub const MAX_BACKUP: Priority = Priority(254);
    /// The lowest priority a running (non-stopping) router may advertise.
    pub const MIN_BACKUP: Priority = Priority(1);

    pub const fn new(value: u8) -> Self {
        Self(value)
    }

    pub const fn get(self) -> u8 {
        self.0
    }

    pub const fn is_owner(self) -> bool {
        self.0 == 255
    }
}

impl From<u8> for Priority {
    fn from(v: u8) -> Self {
        Self(v)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A duration in integer centiseconds, the unit of VRRPv3's Max Adver Int (RFC 5798 §5.2.7).
/// VRRPv2 advertises whole seconds; those are converted to centiseconds at the codec edge so
/// that the state machine does all its arithmetic in one exact unit, never in floats.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Centis(u32);

impl Centis {
    pub const ZERO: Centis = Centis(0);

    pub const fn new(centiseconds: u32) -> Self {
        Self(centiseconds)
    }

    pub const fn from_secs(secs: u32) -> Self {
        Self(secs.saturating_mul(100))
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    pub const fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0 as u64 * 10)
    }

    /// The duration in microseconds; used where Skew_Time needs sub-centisecond precision.
    pub const fn as_micros(self) -> u64 {
        self.0 as u64 * 10_000
    }
}

impl fmt::Display for Centis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}s", self.0 / 100, self.0 % 100)
    }
}

/// The VRRP protocol version an instance speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "u8")]
pub enum Version {
    /// RFC 3768: IPv4 only, intervals in seconds, optional authentication.
    V2,
    /// RFC 5798 / RFC 9568: IPv4 or IPv6, intervals in centiseconds, no authentication.
    V3,
}

impl Version {
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

impl TryFrom<u8> for Version {
    type Error = InvalidVersion;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            2 => Ok(Version::V2),
            3 => Ok(Version::V3),
            _ => Err(InvalidVersion(value)),
        }
    }
}

impl From<Version> for u8 {
    fn from(v: Version) -> u8 {
        v.number()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("VRRP version must be 2 or 3, not {0}")]
pub struct InvalidVersion(pub u8);

/// `version: 2` or `version: 3`. Anything else (`V3`, `"3"`, `4`) is refused with what to
/// write instead: serde's own message for a string where a number belongs ("invalid u8")
/// says nothing an operator can act on.
impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Version;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the VRRP version, 2 or 3")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Version, E> {
                u8::try_from(v)
                    .ok()
                    .and_then(|v| Version::try_from(v).ok())
                    .ok_or_else(|| E::custom(format!("VRRP version must be 2 or 3, not {v}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Version, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("VRRP version must be 2 or 3, not {v}")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Version, E> {
                Err(E::custom(format!(
                    "VRRP version must be the number 2 or 3, not {v:?} (write `version: 3`)"
                )))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VRRPv{}", self.number())
    }
}

/// The address family of an instance: one instance carries addresses of one family only
/// (RFC 5798 §7.1 rejects a mix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrid_zero_is_rejected() {
        assert_eq!(Vrid::new(0), None);
        assert_eq!(Vrid::new(1).map(Vrid::get), Some(1));
        assert!(Vrid::try_from(0u8).is_err());
    }

    #[test]
    fn version_and_family_serialise_as_operators_write_them() {
        assert_eq!(serde_json::to_string(&Version::V3).unwrap(), "3");
        assert_eq!(serde_json::from_str::<Version>("2").unwrap(), Version::V2);
        assert!(serde_json::from_str::<Version>("4").is_err());
        assert_eq!(serde_json::to_string(&Family::V6).unwrap(), "\"ipv6\"");
    }

    #[test]
    fn centis_convert_exactly() {
        assert_eq!(Centis::from_secs(3).get(), 300);
        assert_eq!(
            Centis::new(105).as_duration(),
            std::time::Duration::from_millis(1050)
        );
        assert_eq!(Centis::new(105).to_string(), "1.05s");
    }
}
