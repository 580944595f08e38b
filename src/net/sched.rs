//! The daemon's scheduling priority: keepalived's `vrrp_priority` (a nice value), and the
//! realtime priority `max_auto_priority` raises it to.

/// `sched_get_priority_max(SCHED_RR)` on Linux: keepalived's `max_auto_priority` without a
/// value.
pub const MAX_RT_PRIORITY: u8 = 99;

/// Puts the calling thread under SCHED_RR at `priority` (1..=99), with SCHED_RESET_ON_FORK
/// so that scripts started from it run at normal priority, as keepalived does. Needs
/// CAP_SYS_NICE (or an RLIMIT_RTPRIO allowing it).
pub fn set_realtime(priority: u8) -> std::io::Result<()> {
    let param = libc::sched_param {
        sched_priority: libc::c_int::from(priority),
    };
    // SAFETY: `param` is a valid sched_param that outlives the call; pid 0 is the caller.
    let r =
        unsafe { libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Sets the calling thread's nice value (Linux keeps nice per thread: call it on the thread
/// that runs the state machines). Lowering it below the current value needs CAP_SYS_NICE,
/// which the daemon holds only at start.
pub fn set_nice(value: i8) -> std::io::Result<()> {
    // SAFETY: setpriority takes three integers and no pointer; with `who` 0 it changes only
    // the calling thread.
    let r = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, libc::c_int::from(value)) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
pub fn nice() -> std::io::Result<i32> {
    std::fs::read_to_string("/proc/thread-self/stat").and_then(|s| {
        // Field 19 (nice), counted after the command name's closing parenthesis.
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(16))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| std::io::Error::other("unreadable /proc/thread-self/stat"))
    })
}

#[cfg(test)]
mod tests {
    /// Raising the nice value needs no privilege; done on a thread of its own so the test
    /// runner's threads keep theirs.
    #[test]
    fn a_higher_nice_value_is_set_on_the_calling_thread() {
        std::thread::spawn(|| {
            let before = super::nice().expect("nice");
            let wanted = (before + 3).min(19);
            super::set_nice(wanted as i8).expect("setpriority");
            assert_eq!(super::nice().expect("nice"), wanted);
        })
        .join()
        .expect("thread");
    }
}
