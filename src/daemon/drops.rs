//! Why a received packet was dropped, and the counters that count it.
//!
//! A drop is data, not a log line: a flood of bad packets costs one array increment each, never
//! an allocation. The labels are the stable names `vigil status` and the metrics show.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::wire;

macro_rules! drop_reasons {
    ($($(#[$doc:meta])* $variant:ident => $label:literal,)*) => {
        /// Every reason a received packet can be dropped for (RFC 5798 §7.1 and keepalived's
        /// extra checks), in the order a packet meets them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum DropReason {
            $($(#[$doc])* $variant,)*
        }

        impl DropReason {
            pub const ALL: &[DropReason] = &[$(DropReason::$variant,)*];
            pub const COUNT: usize = Self::ALL.len();

            /// The stable label for status and metrics.
            pub const fn label(self) -> &'static str {
                match self {
                    $(DropReason::$variant => $label,)*
                }
            }
        }
    };
}

drop_reasons! {
    /// The datagram was larger than the receive buffer.
    Truncated => "truncated",
    /// Too short to hold the headers it claims.
    TooShort => "too_short",
    /// IPv6 without the socket's source/destination/hop-limit metadata.
    MissingIpv6Metadata => "missing_ipv6_metadata",
    /// RFC 5798 §7.1: a VRID this router is not configured for on this interface.
    UnknownVrid => "unknown_vrid",
    /// Routed by a receive table that a reload has replaced since, to an instance that is gone.
    StaleRoute => "stale_route",
    BadIpVersion => "bad_ip_version",
    BadIpHeaderLength => "bad_ip_header_length",
    BadIpTotalLength => "bad_ip_total_length",
    BadIpChecksum => "bad_ip_checksum",
    Fragmented => "fragmented",
    BadProtocol => "bad_protocol",
    /// RFC 5798 §7.1: TTL / hop limit not 255.
    BadTtl => "bad_ttl",
    /// RFC 5798 §7.1: a VRRP version this instance does not run.
    BadVersion => "bad_version",
    BadType => "bad_type",
    ZeroVrid => "zero_vrid",
    BadChecksum => "bad_checksum",
    AddressCountMismatch => "address_count_mismatch",
    WrongFamily => "wrong_family",
    UnknownAuthType => "unknown_auth_type",
    AuthTypeMismatch => "auth_type_mismatch",
    BadPassword => "bad_password",
    BadAhHeader => "bad_ah_header",
    BadAhIcv => "bad_ah_icv",
    BadAhSpi => "bad_ah_spi",
    /// keepalived's `auth_hmac` (its stat in parentheses): no trailer under `mode enforce`
    /// (auth_ext_missing).
    HmacMissing => "hmac_missing",
    /// A trailer of an unknown type or with a non-zero reserved field (auth_ext_malformed).
    HmacMalformed => "hmac_malformed",
    /// A trailer whose timestamp is outside `time_window` of our clock (auth_ext_stale).
    HmacStale => "hmac_stale",
    /// A trailer naming a key id this instance does not have (auth_ext_unknown_key).
    HmacUnknownKey => "hmac_unknown_key",
    /// A trailer whose HMAC does not verify: another key, or a forged or altered advert
    /// (auth_ext_invalid_hmac).
    HmacBadTag => "hmac_bad_tag",
    /// A valid trailer whose sequence does not grow past the sender's last (auth_ext_replay).
    HmacReplay => "hmac_replay",
    /// Our own advertisement, looped back (unicast to ourselves, or a bridge echo).
    OwnAdvert => "own_advert",
    /// RFC 3768 §7.1: a VRRPv2 advert whose interval differs from ours.
    IntervalMismatch => "interval_mismatch",
    /// `check_unicast_src`: a unicast advert from an address that is not a `unicast_peer`
    /// (keepalived: "unicast source address ... not a unicast peer").
    NotAPeer => "not_a_peer",
    /// A unicast peer's advert whose TTL / hop limit is outside that peer's
    /// `min_ttl`..`max_ttl` (keepalived: "TTL/HL ... not in range").
    TtlOutOfRange => "ttl_out_of_range",
    /// IPsec AH (RFC 2402 §3.4.3, keepalived's anti-replay): a sequence number not greater
    /// than the last one this instance accepted or sent.
    ReplayedAh => "replayed_ah",
    /// RFC 3768 / RFC 5798 §7.1: the advert's address list is not the configured one, and the
    /// sender is not the address owner (priority 255).
    AddressListMismatch => "address_list_mismatch",
    /// RFC 5798 §6.4.3 / §5.2.4: this router owns the addresses (priority 255) and another
    /// router advertises 255 too: a misconfiguration; the owner keeps its role (counted when the
    /// state machine discards the advert, `fsm::Action::OwnerConflict`).
    OwnerConflict => "owner_conflict",
    /// A wire error that only encoding produces; parsing never returns one.
    Unexpected => "unexpected",
}

impl From<&wire::Error> for DropReason {
    fn from(e: &wire::Error) -> Self {
        use wire::Error as E;
        match e {
            E::TooShort { .. } => Self::TooShort,
            E::BadIpVersion(_) => Self::BadIpVersion,
            E::BadIpHeaderLength(_) => Self::BadIpHeaderLength,
            E::BadIpTotalLength { .. } => Self::BadIpTotalLength,
            E::BadIpChecksum { .. } => Self::BadIpChecksum,
            E::Fragmented(_) => Self::Fragmented,
            E::BadProtocol(_) => Self::BadProtocol,
            E::BadTtl(_) => Self::BadTtl,
            E::BadVersion { .. } => Self::BadVersion,
            E::BadType(_) => Self::BadType,
            E::ZeroVrid => Self::ZeroVrid,
            E::BadChecksum { .. } => Self::BadChecksum,
            E::AddressCountMismatch { .. } => Self::AddressCountMismatch,
            E::WrongFamily(_) => Self::WrongFamily,
            E::UnknownAuthType(_) => Self::UnknownAuthType,
            E::AuthTypeMismatch { .. } => Self::AuthTypeMismatch,
            E::BadPassword => Self::BadPassword,
            E::BadAhHeader(_) => Self::BadAhHeader,
            E::BadAhIcv => Self::BadAhIcv,
            E::BadAhSpi { .. } => Self::BadAhSpi,
            E::HmacMissing => Self::HmacMissing,
            E::HmacMalformed { .. } => Self::HmacMalformed,
            E::HmacUnknownKey { .. } => Self::HmacUnknownKey,
            E::HmacBadTag { .. } => Self::HmacBadTag,
            E::NotAnnouncement { .. }
            | E::BadIcmpChecksum { .. }
            | E::BufferTooSmall { .. }
            | E::TooManyAddresses(_)
            | E::IntervalNotWholeSeconds(_)
            | E::IntervalTooLarge(_)
            | E::AuthOnV3
            | E::HmacWithLegacyAuth => Self::Unexpected,
        }
    }
}

/// One counter per reason. Boxed and allocated at the first drop: most instances never see
/// one, and an instance's slot stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounts(Option<Box<[u64; DropReason::COUNT]>>);

impl DropCounts {
    pub fn count(&mut self, reason: DropReason) {
        let counts = self
            .0
            .get_or_insert_with(|| Box::new([0; DropReason::COUNT]));
        if let Some(n) = counts.get_mut(reason as usize) {
            *n += 1;
        }
    }

    pub fn get(&self, reason: DropReason) -> u64 {
        self.0
            .as_ref()
            .and_then(|c| c.get(reason as usize).copied())
            .unwrap_or(0)
    }

    /// The non-zero counters by label, for status.
    pub fn by_label(&self) -> BTreeMap<String, u64> {
        DropReason::ALL
            .iter()
            .filter(|&&r| self.get(r) > 0)
            .map(|&r| (r.label().to_owned(), self.get(r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_and_the_index_is_the_discriminant() {
        let labels: std::collections::BTreeSet<_> =
            DropReason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), DropReason::COUNT);
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
    }

    #[test]
    fn counts_start_unallocated_and_count_per_reason() {
        let mut c = DropCounts::default();
        assert!(c.by_label().is_empty());
        c.count(DropReason::BadTtl);
        c.count(DropReason::BadTtl);
        c.count(DropReason::UnknownVrid);
        assert_eq!(c.get(DropReason::BadTtl), 2);
        assert_eq!(
            c.by_label(),
            BTreeMap::from([("bad_ttl".into(), 2), ("unknown_vrid".into(), 1)])
        );
    }
}
