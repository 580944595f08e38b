//! Whether a script may be run, and whether running it as root is safe: keepalived's
//! `check_script_secure` and `check_security` (lib/notify.c, keepalived 2.2/2.3), rule for
//! rule, so a configuration keepalived disables is disabled here too.
//!
//! - A bare program name is searched in `PATH` for a regular file the run user may execute
//!   (keepalived warns "resolved by path search").
//! - The path is resolved (symlinks, `.`/`..`); a file that cannot be found, or that the run
//!   user cannot execute, is not run (keepalived: "Disabling ... since not found" / "not
//!   executable for uid:gid ... - disabling"), with or without `enable_script_security`.
//! - Only a script that would run with root's powers needs protecting: run as uid 0 or gid 0,
//!   or set-uid/set-gid root. For such a script every component of its path is checked twice,
//!   as written (parent directories resolved, the last name kept, so a symlink itself is
//!   looked at) and fully resolved: it is unsafe when any component is owned by a non-root
//!   user, or is a regular file or a directory without the sticky bit that a non-root group
//!   or everyone may write. An unsafe script is disabled only under `enable_script_security`.
//!
//! The walk reads the filesystem and nothing else: it is tested on files the tests create.

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The default search path when `PATH` is unset (glibc's `_CS_PATH`).
pub const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// Whom a script runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunIds {
    pub uid: u32,
    pub gid: u32,
}

impl RunIds {
    pub const ROOT: RunIds = RunIds { uid: 0, gid: 0 };
}

/// A script that may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runnable {
    /// The file that will run, symlinks resolved.
    pub resolved: PathBuf,
    /// Found by a `PATH` search: keepalived asks for the full path.
    pub searched: Option<PathBuf>,
    /// Why running it as root is unsafe, if it is (disabling it is the caller's decision:
    /// only `enable_script_security` does).
    pub unsafe_path: Option<Unsafe>,
}

/// A component of a script's path that a non-root user could change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsafe permissions found for script {script}: {component} is {why}")]
pub struct Unsafe {
    pub script: PathBuf,
    pub component: PathBuf,
    pub why: String,
}

/// Why a script cannot run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRunnable {
    #[error("cannot find {0:?} in PATH")]
    NotInPath(String),
    #[error("cannot access {path}: {reason}")]
    NotFound { path: PathBuf, reason: String },
    #[error("{path} is not executable for uid:gid {uid}:{gid}")]
    NotExecutable { path: PathBuf, uid: u32, gid: u32 },
    #[error("wrong file type in the path of {script}: {component} is not a {expected}")]
    WrongType {
        script: PathBuf,
        component: PathBuf,
        expected: &'static str,
    },
}

/// Checks the program of a script (`argv[0]`) for the user it runs as. `path_env` is the
/// search path for a bare name.
pub fn check(program: &str, ids: RunIds, path_env: &str) -> Result<Runnable, NotRunnable> {
    let (path, searched) = if program.contains('/') {
        (PathBuf::from(program), None)
    } else {
        let found = search_path(program, ids, path_env)
            .ok_or_else(|| NotRunnable::NotInPath(program.to_string()))?;
        (found.clone(), Some(found))
    };
    let resolved = std::fs::canonicalize(&path).map_err(|e| NotRunnable::NotFound {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let meta = std::fs::metadata(&resolved).map_err(|e| NotRunnable::NotFound {
        path: resolved.clone(),
        reason: e.to_string(),
    })?;
    if !is_executable(&meta, ids) {
        return Err(NotRunnable::NotExecutable {
            path: resolved,
            uid: ids.uid,
            gid: ids.gid,
        });
    }
    let mode = meta.permissions().mode();
    let setuid_root = meta.uid() == 0 && mode & 0o100 != 0 && mode & 0o4000 != 0;
    let setgid_root = meta.gid() == 0 && mode & 0o010 != 0 && mode & 0o2000 != 0;
    let needs_protection = ids.uid == 0 || ids.gid == 0 || setuid_root || setgid_root;
    let mut unsafe_path = None;
    if needs_protection {
        // As written (the name itself kept, so a symlink is checked as a link), then as
        // resolved: keepalived checks both when they differ.
        let written = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => std::fs::canonicalize(dir)
                .map(|d| d.join(name))
                .unwrap_or_else(|_| path.clone()),
            _ => resolved.clone(),
        };
        unsafe_path = walk(&written)?;
        if unsafe_path.is_none() && written != resolved {
            unsafe_path = walk(&resolved)?;
        }
    }
    Ok(Runnable {
        resolved,
        searched,
        unsafe_path,
    })
}

/// keepalived's `is_executable`: root needs any execute bit; the owner the user bit; the
/// file's group (the primary group only) the group bit; anyone else the other bit.
pub fn is_executable(meta: &Metadata, ids: RunIds) -> bool {
    let mode = meta.permissions().mode();
    if ids.uid == 0 {
        mode & 0o111 != 0
    } else if ids.uid == meta.uid() {
        mode & 0o100 != 0
    } else if ids.gid == meta.gid() {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

fn search_path(program: &str, ids: RunIds, path_env: &str) -> Option<PathBuf> {
    path_env.split(':').find_map(|dir| {
        // An empty element is the current directory, as execvp reads it.
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(program);
        let meta = std::fs::metadata(&candidate).ok()?;
        (meta.is_file() && is_executable(&meta, ids)).then_some(candidate)
    })
}

/// Every prefix of `script` (`/`, `/a`, `/a/b`, ...), each looked at without following a
/// final symlink. The first unsafe one is returned.
fn walk(script: &Path) -> Result<Option<Unsafe>, NotRunnable> {
    let mut prefix = PathBuf::new();
    let components: Vec<_> = script.components().collect();
    for (n, c) in components.iter().enumerate() {
        prefix.push(c);
        let last = n + 1 == components.len();
        let meta = std::fs::symlink_metadata(&prefix).map_err(|e| NotRunnable::NotFound {
            path: prefix.clone(),
            reason: e.to_string(),
        })?;
        let kind = meta.file_type();
        if !last && !kind.is_dir() {
            return Err(NotRunnable::WrongType {
                script: script.to_path_buf(),
                component: prefix,
                expected: "directory",
            });
        }
        if last && !kind.is_file() && !kind.is_symlink() {
            return Err(NotRunnable::WrongType {
                script: script.to_path_buf(),
                component: prefix,
                expected: "regular file or symbolic link",
            });
        }
        if let Some(why) = unsafe_because(&meta) {
            return Ok(Some(Unsafe {
                script: script.to_path_buf(),
                component: prefix,
                why,
            }));
        }
    }
    Ok(None)
}

/// keepalived's test: owned by a non-root user; or a file, or a directory without the sticky
/// bit, that is writable by a non-root group or by everyone. (A symlink's own mode is
/// meaningless; only its owner counts.)
fn unsafe_because(meta: &Metadata) -> Option<String> {
    let mode = meta.permissions().mode();
    if meta.uid() != 0 {
        return Some(format!("owned by uid {}", meta.uid()));
    }
    let kind = meta.file_type();
    let sticky_dir = kind.is_dir() && mode & 0o1000 != 0;
    if kind.is_file() || (kind.is_dir() && !sticky_dir) {
        if mode & 0o002 != 0 {
            return Some(format!("world-writable (mode {:04o})", mode & 0o7777));
        }
        if meta.gid() != 0 && mode & 0o020 != 0 {
            return Some(format!(
                "writable by group {} (mode {:04o})",
                meta.gid(),
                mode & 0o7777
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn set_mode(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A 0700 directory (root's when the tests run as root) holding `dir/script`.
    fn layout(dir_mode: u32, script_mode: u32) -> (tempfile::TempDir, PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let dir = top.path().join("dir");
        std::fs::create_dir(&dir).unwrap();
        let script = dir.join("script");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        set_mode(&script, script_mode);
        set_mode(&dir, dir_mode);
        (top, script)
    }

    fn assert_unsafe_because(r: &Runnable, want: &str) {
        let u = r.unsafe_path.as_ref().expect("unsafe");
        // Unprivileged, every file the test makes is owned by a non-root user, which is
        // unsafe in itself and is found first.
        if is_root() {
            assert!(u.why.contains(want), "{u}");
        } else {
            assert!(u.why.contains("owned by uid"), "{u}");
        }
    }

    #[test]
    fn a_root_owned_script_in_a_private_directory_is_safe_for_root() {
        let (_top, script) = layout(0o755, 0o755);
        let r = check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        assert_eq!(r.resolved, std::fs::canonicalize(&script).unwrap());
        if is_root() {
            assert_eq!(r.unsafe_path, None);
        } else {
            assert_unsafe_because(&r, "");
        }
    }

    #[test]
    fn a_world_writable_directory_makes_the_script_unsafe() {
        let (_top, script) = layout(0o777, 0o755);
        let r = check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        assert_unsafe_because(&r, "world-writable (mode 0777)");
        if is_root() {
            assert_eq!(r.unsafe_path.unwrap().component, script.parent().unwrap());
        }
    }

    #[test]
    fn a_world_writable_script_is_unsafe() {
        let (_top, script) = layout(0o755, 0o777);
        let r = check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        assert_unsafe_because(&r, "world-writable");
        if is_root() {
            assert_eq!(r.unsafe_path.unwrap().component, script);
        }
    }

    #[test]
    fn a_group_writable_component_is_unsafe_only_for_a_non_root_group() {
        if !is_root() {
            return; // needs chown to set the groups
        }
        let (_top, script) = layout(0o775, 0o755);
        let dir = script.parent().unwrap();
        let check_root = || check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        // Group root may write: root's own group is trusted.
        assert_eq!(check_root().unsafe_path, None);
        std::os::unix::fs::chown(dir, None, Some(65534)).unwrap();
        assert_unsafe_because(&check_root(), "writable by group 65534");
    }

    #[test]
    fn a_directory_owned_by_another_user_is_unsafe_whatever_its_mode() {
        if !is_root() {
            return; // needs chown
        }
        let (_top, script) = layout(0o755, 0o755);
        std::os::unix::fs::chown(script.parent().unwrap(), Some(65534), None).unwrap();
        let r = check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        assert_unsafe_because(&r, "owned by uid 65534");
    }

    #[test]
    fn a_sticky_world_writable_directory_is_safe_like_tmp() {
        let (_top, script) = layout(0o1777, 0o755);
        let r = check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        if is_root() {
            assert_eq!(r.unsafe_path, None);
        }
    }

    #[test]
    fn a_safe_symlink_to_an_unsafe_script_is_unsafe() {
        let (top, script) = layout(0o777, 0o755);
        let link = top.path().join("link");
        std::os::unix::fs::symlink(&script, &link).unwrap();
        let r = check(link.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH).unwrap();
        assert_eq!(r.resolved, std::fs::canonicalize(&script).unwrap());
        assert_unsafe_because(&r, "world-writable");
    }

    #[test]
    fn a_script_run_by_a_non_root_user_is_not_walked() {
        // keepalived protects only scripts that run with root's powers.
        let (_top, script) = layout(0o777, 0o755);
        let r = check(
            script.to_str().unwrap(),
            RunIds {
                uid: 65534,
                gid: 65534,
            },
            DEFAULT_PATH,
        )
        .unwrap();
        assert_eq!(r.unsafe_path, None);
    }

    #[test]
    fn missing_and_non_executable_scripts_cannot_run() {
        let (top, script) = layout(0o755, 0o644);
        assert!(matches!(
            check(script.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH),
            Err(NotRunnable::NotExecutable { .. })
        ));
        let missing = top.path().join("missing");
        assert!(matches!(
            check(missing.to_str().unwrap(), RunIds::ROOT, DEFAULT_PATH),
            Err(NotRunnable::NotFound { .. })
        ));
        // Executable by its owner only: not by another user.
        set_mode(&script, 0o700);
        let other = RunIds {
            uid: 65534,
            gid: 65534,
        };
        assert!(matches!(
            check(script.to_str().unwrap(), other, DEFAULT_PATH),
            Err(NotRunnable::NotExecutable { uid: 65534, .. })
        ));
    }

    #[test]
    fn a_bare_name_is_searched_in_path() {
        let (top, script) = layout(0o755, 0o755);
        let dir = script.parent().unwrap().to_str().unwrap().to_string();
        let search = format!("{}:{dir}", top.path().join("nothing").display());
        let r = check("script", RunIds::ROOT, &search).unwrap();
        assert_eq!(r.searched, Some(script.clone()));
        assert!(matches!(
            check("no-such-program-vigil", RunIds::ROOT, &search),
            Err(NotRunnable::NotInPath(_))
        ));
    }

    #[test]
    fn system_binaries_are_safe_for_root() {
        if !is_root() {
            return;
        }
        let r = check("/bin/sh", RunIds::ROOT, DEFAULT_PATH).unwrap();
        assert_eq!(r.unsafe_path, None, "{r:?}");
    }
}
