//! Effective priority: the configured base priority adjusted by tracker weights.

use crate::types::Priority;

/// The priority an instance advertises and compares with.
///
/// keepalived semantics: base + the sum of the weights of the trackers (each tracker
/// contributes its weight while up or down, per its sign convention; the caller sums them),
/// clamped to 1..=254 so that tracking can neither make a router the address owner nor
/// make it advertise the "master is leaving" priority 0. The address owner (255) is never
/// adjusted: RFC 5798 §5.2.4 reserves 255 for the router that owns the addresses.
pub fn effective_priority(base: Priority, weight_sum: i32) -> Priority {
    if base.is_owner() {
        return Priority::OWNER;
    }
    let sum = i64::from(base.get()) + i64::from(weight_sum);
    let clamped = sum.clamp(
        i64::from(Priority::MIN_BACKUP.get()),
        i64::from(Priority::MAX_BACKUP.get()),
    );
    // The clamp keeps the value in 1..=254, so the conversion cannot fail; fall back to the
    // base priority rather than panic should that ever change.
    u8::try_from(clamped).map(Priority::new).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_priority_adds_weights_and_clamps_to_1_254() {
        assert_eq!(effective_priority(Priority::new(100), 0).get(), 100);
        assert_eq!(effective_priority(Priority::new(100), 20).get(), 120);
        assert_eq!(effective_priority(Priority::new(100), -30).get(), 70);
        assert_eq!(effective_priority(Priority::new(100), 500).get(), 254);
        assert_eq!(effective_priority(Priority::new(100), -500).get(), 1);
        assert_eq!(effective_priority(Priority::new(100), i32::MIN).get(), 1);
        assert_eq!(effective_priority(Priority::new(100), i32::MAX).get(), 254);
    }

    #[test]
    fn effective_priority_never_changes_the_owner() {
        assert_eq!(effective_priority(Priority::OWNER, -100), Priority::OWNER);
        assert_eq!(effective_priority(Priority::OWNER, 100), Priority::OWNER);
    }
}
