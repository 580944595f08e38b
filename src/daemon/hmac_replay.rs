//! `auth_hmac`'s per-instance state: the sequence this router last sent, and each sender's
//! last sequence accepted (keepalived's replay marks). Pure: the wall clock comes in as data,
//! read by the receive task and the executor at the edge.
//!
//! keepalived keeps one mark per configured unicast peer, and for multicast a table of four
//! senders per instance, the least recently used one evicted: more than a few legitimate
//! senders only exist during an election, and a mark is only taken after the HMAC verified,
//! so forged sources cannot churn the table. Here one table serves both, sized to the peer
//! count for a unicast instance (whose sources are restricted to its peers beforehand).

use std::net::IpAddr;

use crate::wire::auth_hmac::{Sequence, next_sequence, skew};

/// Multicast senders remembered per instance (keepalived's `VRRP_AUTH_HMAC_MCAST_SENDERS`).
pub const MULTICAST_SENDERS: usize = 4;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HmacState {
    /// The last sequence sent.
    pub sent: Sequence,
    marks: Vec<Mark>,
    /// A rank source for least-recently-used eviction.
    clock: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    src: IpAddr,
    /// The last sequence accepted from `src`; `None` after an eviction or an expiry.
    last: Option<Sequence>,
    used: u64,
}

impl HmacState {
    /// The sequence of the next advert, given the wall clock's reading.
    pub fn next_sent(&mut self, clock: Sequence, window: Option<u16>) -> Sequence {
        self.sent = next_sequence(self.sent, clock, window);
        self.sent
    }

    /// The replay check of a verified trailer from `src` with `sequence`, received when the
    /// wall clock read `now_secs`: the sequence must come after the sender's last one, which
    /// it then becomes. With a time window, a mark older (or newer) than the window is
    /// forgotten first: the window already refuses anything it would order, and forgetting it
    /// lets a sender whose clock was stepped back recover (keepalived 2.4.3).
    pub fn accept(
        &mut self,
        src: IpAddr,
        sequence: Sequence,
        now_secs: u32,
        window: Option<u16>,
        capacity: usize,
    ) -> bool {
        self.clock += 1;
        let rank = self.clock;
        let i = match self.marks.iter().position(|m| m.src == src) {
            Some(i) => i,
            None if self.marks.len() < capacity.max(1) => {
                self.marks.push(Mark {
                    src,
                    last: None,
                    used: rank,
                });
                self.marks.len() - 1
            }
            None => {
                let victim = self
                    .marks
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, m)| m.used)
                    .map_or(0, |(i, _)| i);
                self.marks[victim] = Mark {
                    src,
                    last: None,
                    used: rank,
                };
                victim
            }
        };
        let Some(mark) = self.marks.get_mut(i) else {
            return false;
        };
        mark.used = rank;
        if let (Some(last), Some(w)) = (mark.last, window)
            && skew(now_secs, last.secs()).unsigned_abs() > u32::from(w)
        {
            mark.last = None;
        }
        if mark.last.is_some_and(|last| !sequence.after(last)) {
            return false;
        }
        mark.last = Some(sequence);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

    fn addr(n: u8) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, n))
    }

    fn at(secs: u32, low: u32) -> Sequence {
        Sequence(u64::from(secs) << 32 | u64::from(low))
    }

    #[test]
    fn a_sequence_must_grow_per_sender() {
        let mut s = HmacState::default();
        assert!(s.accept(A, at(1000, 5), 1000, Some(5), 4));
        assert!(
            !s.accept(A, at(1000, 5), 1000, Some(5), 4),
            "the same again is a replay"
        );
        assert!(
            !s.accept(A, at(1000, 4), 1000, Some(5), 4),
            "an older one too"
        );
        assert!(s.accept(A, at(1000, 6), 1000, Some(5), 4));
        // Another sender has its own mark.
        assert!(s.accept(addr(2), at(999, 0), 1000, Some(5), 4));
    }

    #[test]
    fn a_mark_outside_the_window_is_forgotten() {
        let mut s = HmacState::default();
        assert!(s.accept(A, at(2010, 0), 2005, Some(5), 4));
        assert!(
            !s.accept(A, at(2004, 0), 2006, Some(5), 4),
            "the mark is within the window"
        );
        // Our clock was stepped back: the old mark is now outside the window, so it no longer
        // orders anything and a sequence fresh for the new clock is taken.
        assert!(s.accept(A, at(2001, 0), 2000, Some(5), 4));
        // Monotonic mode never forgets.
        let mut m = HmacState::default();
        assert!(m.accept(A, at(2010, 0), 2005, None, 4));
        assert!(!m.accept(A, at(2001, 0), 2000, None, 4));
    }

    #[test]
    fn the_least_recently_used_sender_is_evicted() {
        let mut s = HmacState::default();
        for n in 1..=4 {
            assert!(s.accept(addr(n), at(100, 1), 100, None, 4));
        }
        // Sender 1 is used again; sender 2 is now the oldest and is evicted by sender 5.
        assert!(s.accept(addr(1), at(100, 2), 100, None, 4));
        assert!(s.accept(addr(5), at(100, 1), 100, None, 4));
        assert!(
            !s.accept(addr(1), at(100, 2), 100, None, 4),
            "sender 1 was kept"
        );
        assert!(
            s.accept(addr(2), at(100, 1), 100, None, 4),
            "sender 2 was forgotten"
        );
    }

    #[test]
    fn the_sent_sequence_follows_the_clock_and_always_grows() {
        let mut s = HmacState::default();
        let first = s.next_sent(at(500, 0x8000_0000), Some(5));
        assert_eq!(first, at(500, 0x8000_0000));
        // The clock has not moved: one more.
        assert_eq!(
            s.next_sent(at(500, 0x8000_0000), Some(5)),
            at(500, 0x8000_0001)
        );
        // The clock went back a little: still one more.
        assert_eq!(s.next_sent(at(498, 0), Some(5)), at(500, 0x8000_0002));
        // Back more than a window: restart from the clock (receivers would call it stale).
        assert_eq!(s.next_sent(at(400, 0), Some(5)), at(400, 0));
        // Monotonic mode keeps growing whatever the clock says.
        let mut m = HmacState::default();
        m.next_sent(at(500, 0), None);
        assert_eq!(m.next_sent(at(400, 0), None), at(500, 1));
    }
}
