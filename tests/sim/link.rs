//! The virtual LAN's per-link behaviour.

/// How one direction of one link treats a packet. Probabilities are per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkProfile {
    pub loss: u32,
    pub duplicate: u32,
    /// Chance that a packet is held back by up to `reorder_extra_us`, overtaking later ones.
    pub reorder: u32,
    pub reorder_extra_us: u64,
    pub delay_min_us: u64,
    pub delay_max_us: u64,
}

impl LinkProfile {
    /// A perfect link with a fixed delay.
    pub const fn fixed(delay_us: u64) -> LinkProfile {
        LinkProfile {
            loss: 0,
            duplicate: 0,
            reorder: 0,
            reorder_extra_us: 0,
            delay_min_us: delay_us,
            delay_max_us: delay_us,
        }
    }

    /// Every packet duplicated and every one reordered (held up to `d`), each delayed up to
    /// `d`, none lost: the link that tests ordering assumptions hardest.
    pub const fn duplicating_reordering(d: u64) -> LinkProfile {
        LinkProfile {
            loss: 0,
            duplicate: 100_000,
            reorder: 100_000,
            reorder_extra_us: d,
            delay_min_us: 0,
            delay_max_us: d,
        }
    }

    /// The longest a delivered packet can take.
    pub fn max_delay_us(&self) -> u64 {
        self.delay_max_us
            + if self.reorder > 0 {
                self.reorder_extra_us
            } else {
                0
            }
    }
}
