//! RLIMIT_NOFILE raised to its hard limit at start. systemd and most shells start services
//! with a soft limit of 1024, which a few hundred idle connections plus sockets, netlink and
//! script pipes reach; the listeners cap their connections (control/listen.rs), and the room
//! above the caps keeps checkers and notify scripts able to start under a connection flood.
//! vigil never uses `select(2)`, so descriptors above 1024 are safe.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Raises the soft limit on open files to the hard limit; returns the limit now in force.
pub fn raise_nofile_limit() -> nix::Result<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(getrlimit(Resource::RLIMIT_NOFILE)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_limit_ends_at_the_hard_limit() {
        // One below the hard limit first, so doing nothing would fail the test (and no
        // test running beside it loses room).
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        setrlimit(Resource::RLIMIT_NOFILE, hard - 1, hard).unwrap();
        let limit = raise_nofile_limit().unwrap();
        assert_eq!(limit, getrlimit(Resource::RLIMIT_NOFILE).unwrap().1);
    }
}
