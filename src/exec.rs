//! Running an external command the way keepalived runs its scripts: its own process group,
//! optionally as another user, no stdin, output discarded, bounded by a timeout after which
//! the whole group is killed. Checkers (`track`) and notify scripts (`notify`) both use it:
//! a check reads the outcome as data, a notify script logs a failure.

use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;

/// Whom a check runs as, resolved once when the runner starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
}

/// Resolves `user` (and `group`, else the user's primary group).
pub fn credentials(user: &str, group: Option<&str>) -> Result<Credentials, CheckError> {
    let found = nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .ok_or_else(|| CheckError::UnknownUser(user.to_string()))?;
    let gid = match group {
        Some(g) => nix::unistd::Group::from_name(g)
            .ok()
            .flatten()
            .ok_or_else(|| CheckError::UnknownGroup(g.to_string()))?
            .gid
            .as_raw(),
        None => found.gid.as_raw(),
    };
    Ok(Credentials {
        uid: found.uid.as_raw(),
        gid,
    })
}

/// How one run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status 0.
    Success,
    /// Non-zero exit or killed by a signal.
    Failed(std::process::ExitStatus),
    /// Still running at the timeout: the group was killed.
    TimedOut,
    /// Could not be started (missing program, permission).
    NotStarted(String),
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// Kills the process group when dropped unless disarmed, so that a runner task aborted in the
/// middle of a check (shutdown, reload) does not leave the script's children behind.
pub struct GroupGuard(Option<Pid>);

impl GroupGuard {
    /// Guards the group `child` leads (it was spawned by [`spawn`]).
    pub fn of(child: &tokio::process::Child) -> Self {
        // process_group(0): the child leads a group whose id is its pid.
        Self(
            child
                .id()
                .and_then(|p| i32::try_from(p).ok())
                .map(Pid::from_raw),
        )
    }

    /// Sends `signal` to the whole group (nothing once disarmed).
    pub fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.0 {
            let _ = killpg(pgid, signal);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

/// Starts `argv` the way every script is started: no shell, its own process group, as
/// `creds`, no stdin, output discarded, killed if the handle is dropped.
pub fn spawn(argv: &[String], creds: Option<Credentials>) -> Result<tokio::process::Child, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".into());
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .process_group(0)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(c) = creds {
        cmd.uid(c.uid).gid(c.gid);
    }
    cmd.spawn().map_err(|e| e.to_string())
}

/// Runs `argv` once and reports how it ended.
pub async fn run(argv: &[String], timeout: Duration, creds: Option<Credentials>) -> Outcome {
    let mut child = match spawn(argv, creds) {
        Ok(child) => child,
        Err(why) => return Outcome::NotStarted(why),
    };
    let mut guard = GroupGuard::of(&child);
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => {
            // The leader has exited; kill what it left running in its group (keepalived
            // does not wait for a check's background children, and neither do we).
            drop(guard);
            if status.success() {
                Outcome::Success
            } else {
                Outcome::Failed(status)
            }
        }
        Ok(Err(e)) => {
            drop(guard);
            Outcome::NotStarted(e.to_string())
        }
        Err(_) => {
            if let Some(pgid) = guard.0.take() {
                let _ = killpg(pgid, Signal::SIGKILL);
            }
            // Reap the leader so it does not linger as a zombie.
            let _ = child.wait().await;
            Outcome::TimedOut
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    #[tokio::test]
    async fn exit_status_decides() {
        let t = Duration::from_secs(10);
        assert_eq!(run(&sh("exit 0"), t, None).await, Outcome::Success);
        assert!(matches!(
            run(&sh("exit 2"), t, None).await,
            Outcome::Failed(s) if s.code() == Some(2)
        ));
        assert!(matches!(
            run(&["/nonexistent/check".to_string()], t, None).await,
            Outcome::NotStarted(_)
        ));
    }

    #[tokio::test]
    async fn a_hanging_check_is_killed_with_its_group_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("child.pid");
        let started = std::time::Instant::now();
        let outcome = run(
            &sh(&format!("sleep 30 & echo $! > {}; wait", pidfile.display())),
            Duration::from_millis(300),
            None,
        )
        .await;
        assert_eq!(outcome, Outcome::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
        // The background sleep was in the group and must be gone (or a zombie being reaped
        // by init): signal 0 to it fails, or its state is Z.
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            if stat.is_empty() || state == Some("Z") || state == Some("X") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "child {pid} of a timed-out check still alive: {stat}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_check_runs_as_its_user() {
        // Changing user needs root; without it this behaviour cannot be observed here.
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let nobody = credentials("nobody", None).unwrap();
        let check = sh(&format!("test \"$(id -u)\" = {}", nobody.uid));
        let t = Duration::from_secs(10);
        assert_eq!(run(&check, t, Some(nobody)).await, Outcome::Success);
        assert!(matches!(run(&check, t, None).await, Outcome::Failed(_)));
    }

    #[test]
    fn root_resolves_and_nonsense_does_not() {
        let root = credentials("root", None).unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert!(matches!(
            credentials("no-such-user-vigil", None),
            Err(CheckError::UnknownUser(_))
        ));
        assert!(matches!(
            credentials("root", Some("no-such-group-vigil")),
            Err(CheckError::UnknownGroup(_))
        ));
    }
}
