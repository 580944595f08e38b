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

/// How much nicer than the daemon's main thread (the loop) background work runs.
const BACKGROUND_STEP: i32 = 10;

/// Lowers the calling thread's priority for background work (a reload's parsing and planning)
/// to BACKGROUND_STEP below the main thread's, which runs the loop that sends the adverts: on
/// a machine with few cores such work would otherwise take the CPU from it (10,000
/// instances: a second of parsing per reload). Raising a nice value needs no privilege; a
/// thread already that nice is left alone. Best effort: the work runs anyway if this fails.
pub fn to_background() {
    let (Ok(main), Ok(current)) = (nice_in("/proc/self/stat"), nice()) else {
        return;
    };
    let target = (main + BACKGROUND_STEP).min(19);
    if target > current
        && let Ok(value) = i8::try_from(target)
    {
        let _ = set_nice(value);
    }
}

/// The calling thread's nice value.
pub fn nice() -> std::io::Result<i32> {
    nice_in("/proc/thread-self/stat")
}

/// The nice value in a `stat` file of procfs (a process's: its main thread's).
fn nice_in(stat: &str) -> std::io::Result<i32> {
    std::fs::read_to_string(stat).and_then(|s| {
        // Field 19 (nice), counted after the command name's closing parenthesis.
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(16))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("unreadable {stat}")))
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

    /// Background work runs BACKGROUND_STEP nicer than the main thread, once: a pool thread
    /// that runs it again stays where it is.
    #[test]
    fn background_work_runs_nicer_than_the_main_thread_and_stays_there() {
        std::thread::spawn(|| {
            let main = super::nice_in("/proc/self/stat").expect("main's nice");
            let want = (main + super::BACKGROUND_STEP).min(19);
            super::to_background();
            assert_eq!(super::nice().expect("nice"), want);
            super::to_background();
            assert_eq!(super::nice().expect("nice"), want);
        })
        .join()
        .expect("thread");
    }
}
