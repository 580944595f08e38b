//! Which processes a `vrrp_track_process` counts, decided purely from what /proc shows.
//!
//! keepalived's rules: without parameters and without `full_command` the configured name is
//! compared exactly with the process name (`/proc/PID/comm`, which the kernel truncates to
//! 15 bytes, so a longer configured name is compared on its first 15 bytes). With parameters,
//! `param_match`, or `full_command`, the command line is compared instead: argv[0] exactly,
//! then the parameters by `param_match` — `exact` (the default): the same parameters and no
//! others; `partial`: the configured ones come first, more may follow; `initial`: like
//! partial, but the last configured parameter only needs to begin the process's one. With
//! `full_command` and neither parameters nor `param_match`, only argv[0] is compared.
//! Zombies and kernel threads (empty command line) never count.

use crate::config::model::{ParamMatch, TrackProcess};

/// keepalived's TASK_COMM_LEN - 1: the longest name the kernel keeps in `comm`.
const COMM_MAX: usize = 15;

/// What the matcher needs to know about one process.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcInfo {
    pub comm: String,
    /// `/proc/PID/cmdline` split at NULs; only read when some matcher needs it.
    pub cmdline: Option<Vec<String>>,
    pub zombie: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Comm(String),
    Cmdline {
        argv0: String,
        params: Vec<String>,
        /// `None`: parameters are not compared at all.
        mode: Option<ParamMatch>,
    },
}

impl Matcher {
    pub fn from_config(p: &TrackProcess) -> Option<Self> {
        let (argv0, params) = p.process.split_first()?;
        if params.is_empty() && p.param_match.is_none() && !p.full_command {
            let name: String = truncate_bytes(argv0, COMM_MAX).to_string();
            return Some(Matcher::Comm(name));
        }
        let mode = if params.is_empty() && p.param_match.is_none() {
            None
        } else {
            Some(p.param_match.unwrap_or(ParamMatch::Exact))
        };
        Some(Matcher::Cmdline {
            argv0: argv0.clone(),
            params: params.to_vec(),
            mode,
        })
    }

    pub fn needs_cmdline(&self) -> bool {
        matches!(self, Matcher::Cmdline { .. })
    }

    pub fn matches(&self, p: &ProcInfo) -> bool {
        if p.zombie {
            return false;
        }
        match self {
            Matcher::Comm(name) => p.comm == *name,
            Matcher::Cmdline {
                argv0,
                params,
                mode,
            } => {
                let Some((first, rest)) = p.cmdline.as_deref().and_then(|c| c.split_first()) else {
                    return false;
                };
                first == argv0 && params_match(params, rest, *mode)
            }
        }
    }
}

fn params_match(want: &[String], have: &[String], mode: Option<ParamMatch>) -> bool {
    match mode {
        None => true,
        Some(ParamMatch::Exact) => want == have,
        Some(ParamMatch::Partial) => {
            have.len() >= want.len() && want.iter().zip(have).all(|(w, h)| w == h)
        }
        Some(ParamMatch::Initial) => {
            let Some((last, init)) = want.split_last() else {
                return true;
            };
            have.len() >= want.len()
                && init.iter().zip(have).all(|(w, h)| w == h)
                && have
                    .get(init.len())
                    .is_some_and(|h| h.starts_with(last.as_str()))
        }
    }
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(process: &[&str], param_match: Option<ParamMatch>, full_command: bool) -> TrackProcess {
        TrackProcess {
            name: "p".into(),
            process: process.iter().map(|s| s.to_string()).collect(),
            param_match,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: crate::types::Centis::ZERO,
            terminate_delay: crate::types::Centis::ZERO,
            full_command,
        }
    }

    fn proc_(comm: &str, cmdline: &[&str]) -> ProcInfo {
        ProcInfo {
            comm: comm.into(),
            cmdline: Some(cmdline.iter().map(|s| s.to_string()).collect()),
            zombie: false,
        }
    }

    fn m(process: &[&str], pm: Option<ParamMatch>, full: bool) -> Matcher {
        Matcher::from_config(&tp(process, pm, full)).unwrap()
    }

    #[test]
    fn a_bare_name_matches_comm_exactly_not_as_a_pattern() {
        let ssh = m(&["ssh"], None, false);
        assert!(!ssh.needs_cmdline());
        assert!(ssh.matches(&proc_("ssh", &["ssh", "host"])));
        assert!(!ssh.matches(&proc_("sshd", &["/usr/sbin/sshd"])));
        let mut zombie = proc_("ssh", &[]);
        zombie.zombie = true;
        assert!(!ssh.matches(&zombie));
    }

    #[test]
    fn long_names_compare_on_the_fifteen_bytes_comm_keeps() {
        let long = m(&["a-very-long-process-name"], None, false);
        assert!(long.matches(&proc_("a-very-long-pro", &[])));
    }

    #[test]
    fn parameters_match_exact_partial_and_initial() {
        let exact = m(&["sleep", "100"], None, false);
        assert!(exact.matches(&proc_("sleep", &["sleep", "100"])));
        assert!(!exact.matches(&proc_("sleep", &["sleep", "100", "x"])));
        assert!(!exact.matches(&proc_("sleep", &["sleep", "1000"])));
        assert!(!exact.matches(&proc_("sleep", &["/bin/sleep", "100"])));

        let partial = m(&["sleep", "100"], Some(ParamMatch::Partial), false);
        assert!(partial.matches(&proc_("sleep", &["sleep", "100", "x"])));
        assert!(!partial.matches(&proc_("sleep", &["sleep", "1000"])));

        let initial = m(&["sleep", "100"], Some(ParamMatch::Initial), false);
        assert!(initial.matches(&proc_("sleep", &["sleep", "1000"])));
        assert!(initial.matches(&proc_("sleep", &["sleep", "100", "x"])));
        assert!(!initial.matches(&proc_("sleep", &["sleep", "200"])));
        assert!(!initial.matches(&proc_("sleep", &["sleep"])));
    }

    #[test]
    fn param_match_without_parameters_requires_none() {
        let none = m(&["sleep"], Some(ParamMatch::Exact), false);
        assert!(none.matches(&proc_("sleep", &["sleep"])));
        assert!(!none.matches(&proc_("sleep", &["sleep", "1"])));
    }

    #[test]
    fn full_command_compares_argv0_of_the_command_line() {
        let full = m(&["/usr/sbin/haproxy"], None, true);
        assert!(full.needs_cmdline());
        assert!(full.matches(&proc_("haproxy", &["/usr/sbin/haproxy", "-f", "x"])));
        assert!(!full.matches(&proc_("haproxy", &["haproxy"])));
        // Kernel threads have no command line.
        assert!(!full.matches(&ProcInfo {
            comm: "kworker".into(),
            cmdline: Some(vec![]),
            zombie: false
        }));
    }

    #[test]
    fn empty_process_list_is_no_matcher() {
        assert_eq!(Matcher::from_config(&tp(&[], None, false)), None);
    }
}
