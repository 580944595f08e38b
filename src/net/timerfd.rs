//! The driver's timer: a `timerfd` on CLOCK_MONOTONIC registered with the reactor.
//!
//! tokio's timer wheel has a resolution of one millisecond and rounds every deadline up to
//! the next tick, so a Master_Down_Timer served through it fires 0.5 ms late on average and
//! up to 1 ms (then the reactor's own wake-up adds to it). A Backup's takeover is due at an
//! exact instant (RFC 5798 §6.4.2: Master_Down_Interval after the last advertisement); a
//! timerfd armed at that absolute instant wakes the loop within microseconds of it.
//!
//! `std::time::Instant` (and tokio's, which wraps it) reads CLOCK_MONOTONIC on Linux, the
//! clock the timerfd runs on, so an `Instant` converts by its distance from a reading of both.
//! The fd is re-armed only when the deadline changes (one syscall per new deadline).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

pub struct PreciseTimer {
    fd: Option<AsyncFd<OwnedFd>>,
    /// The deadline the fd is armed for (None: disarmed, or it fired).
    armed: Option<Instant>,
}

impl Default for PreciseTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl PreciseTimer {
    /// Falls back on tokio's timer if no timerfd can be had (logged): the daemon still works,
    /// a millisecond coarser.
    pub fn new() -> Self {
        let fd = open().inspect_err(|e| {
            tracing::warn!(error = %e, "timerfd unavailable: timers served by the coarse (1 ms) timer");
        });
        Self {
            fd: fd.ok(),
            armed: None,
        }
    }

    /// Completes at `deadline` (never without one). Cancel-safe: dropped and called again,
    /// it re-arms only if the deadline changed.
    pub async fn sleep_until(&mut self, deadline: Option<Instant>) {
        let Some(at) = deadline else {
            if self.armed.is_some() {
                let _ = self.arm(None);
            }
            return std::future::pending().await;
        };
        let armed = self.armed == deadline || self.arm(deadline).is_ok();
        let Some(fd) = self.fd.as_ref().filter(|_| armed) else {
            return tokio::time::sleep_until(at).await;
        };
        loop {
            let Ok(mut guard) = fd.readable().await else {
                return std::future::pending().await;
            };
            let mut expirations = [0u8; 8];
            match guard.try_io(|fd| {
                // SAFETY: reads 8 bytes into a buffer of 8.
                let n = unsafe {
                    libc::read(
                        fd.as_raw_fd(),
                        expirations.as_mut_ptr().cast(),
                        expirations.len(),
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            }) {
                Ok(Ok(())) => {
                    // One-shot: it is disarmed now.
                    self.armed = None;
                    return;
                }
                // Readiness was stale (a re-arm reset the expiration): wait again.
                Ok(Err(_)) | Err(_) => continue,
            }
        }
    }

    fn arm(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        let Some(fd) = &self.fd else {
            return Err(io::Error::from(io::ErrorKind::Unsupported));
        };
        let value = match deadline {
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            Some(at) => monotonic_timespec(at)?,
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not asked for.
        let r = unsafe {
            libc::timerfd_settime(
                fd.get_ref().as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        self.armed = deadline;
        Ok(())
    }
}

fn open() -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: plain syscall; the result is checked before it is used as a descriptor.
    let raw = unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a descriptor we just opened and own. The AsyncFd owns the OwnedFd and
    // never hands out a way to replace or close it, so the fd stays open and refers to this
    // timer for the AsyncFd's whole lifetime, as `register` requires.
    unsafe { AsyncFd::register(OwnedFd::from_raw_fd(raw)) }.map_err(|e| e.into_parts().1)
}

/// `at` on CLOCK_MONOTONIC. A deadline already past becomes the smallest non-zero time (zero
/// would disarm the timer), which an absolute timer treats as expired at once.
fn monotonic_timespec(at: Instant) -> io::Result<libc::timespec> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let reference = Instant::now();
    let now = Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    );
    let target = if at >= reference {
        now.saturating_add(at - reference)
    } else {
        now.saturating_sub(reference - at)
    };
    let target = target.max(Duration::from_nanos(1));
    Ok(libc::timespec {
        tv_sec: libc::time_t::try_from(target.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(i32::try_from(target.subsec_nanos()).unwrap_or(0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A timer armed `after` from now, checked not to fire at once.
    async fn armed_in(after: Duration) -> PreciseTimer {
        let mut t = PreciseTimer::new();
        let at = Instant::now() + after;
        assert!(
            tokio::time::timeout(ms(1), t.sleep_until(Some(at)))
                .await
                .is_err(),
            "a timer armed {after:?} ahead fired at once"
        );
        t
    }

    #[tokio::test]
    async fn fires_at_its_deadline_not_before_and_well_within_a_millisecond_of_it() {
        let mut t = PreciseTimer::new();
        let mut late = Vec::new();
        for _ in 0..20 {
            let due = Instant::now() + ms(3);
            t.sleep_until(Some(due)).await;
            let now = Instant::now();
            assert!(now >= due, "fired {:?} early", due - now);
            late.push(now - due);
        }
        late.sort();
        // The coarse timer is 0.5 ms late on average; on a shared machine a wake-up can
        // still be delayed, so the median is asserted, not every one.
        assert!(
            late[10] < Duration::from_micros(500),
            "median lateness {:?}",
            late[10]
        );
    }

    #[tokio::test]
    async fn a_past_deadline_fires_at_once() {
        let mut t = PreciseTimer::new();
        let start = Instant::now();
        t.sleep_until(Some(start - ms(50))).await;
        assert!(start.elapsed() < ms(50));
    }

    #[tokio::test]
    async fn rearmed_earlier_or_later_fires_at_the_new_deadline() {
        let mut t = PreciseTimer::new();
        let start = Instant::now();
        // Armed for 10 s, abandoned (cancelled by a select), re-armed for 5 ms.
        let far = start + Duration::from_secs(10);
        assert!(
            tokio::time::timeout(ms(5), t.sleep_until(Some(far)))
                .await
                .is_err()
        );
        t.sleep_until(Some(Instant::now() + ms(5))).await;
        assert!(start.elapsed() < Duration::from_secs(1));
        // Armed for 5 ms, abandoned, re-armed later: not fired at the earlier one.
        let soon = Instant::now() + ms(20);
        let later = soon + ms(30);
        assert!(
            tokio::time::timeout(ms(1), t.sleep_until(Some(soon)))
                .await
                .is_err()
        );
        t.sleep_until(Some(later)).await;
        assert!(Instant::now() >= later);
    }

    #[tokio::test]
    async fn disarmed_never_fires() {
        let mut t = armed_in(ms(20)).await;
        // No deadline any more: the earlier arming must not wake it.
        assert!(
            tokio::time::timeout(ms(50), t.sleep_until(None))
                .await
                .is_err()
        );
        // And it works again afterwards.
        t.sleep_until(Some(Instant::now() + ms(2))).await;
    }

    #[tokio::test]
    async fn an_expiry_nobody_read_does_not_fire_the_next_deadline() {
        let mut t = armed_in(ms(20)).await;
        // It expires while nobody waits (the loop was busy elsewhere).
        std::thread::sleep(ms(30));
        let later = Instant::now() + ms(30);
        t.sleep_until(Some(later)).await;
        let now = Instant::now();
        assert!(now >= later, "fired {:?} early", later - now);
    }
}
