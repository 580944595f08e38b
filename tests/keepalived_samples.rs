//! keepalived's own sample configurations and its stock /etc/keepalived/keepalived.conf.sample,
//! read in place where the Debian package installs them (nothing of keepalived's is copied
//! into this repository). Every sample is classified below; a sample that is not is a test
//! failure, so a new one in a new keepalived package is looked at rather than skipped.
//!
//! - VRRP samples load under their own file name (keepalived.conf.vrrp is keepalived.conf
//!   syntax although it is not named *.conf), with exactly the fix-up warnings keepalived
//!   prints for them (`keepalived -t -f FILE`, 2.2.7), each at its file:line:col.
//! - LVS-only samples load with no instance, each LVS block warned about.
//! - A sample keepalived itself reports errors in is refused by vigil, with those errors.
//!
//! No privileges are needed. Without the package (and outside CI) the tests say why they
//! skip; under CI=true the package is installed by scripts/setup, and absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use vigil::config::model::{Auth, InitialState};
use vigil::config::{Diagnostic, LoadOptions, Loaded, Severity, load, load_keepalived_str};

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";
const STOCK: &str = "/etc/keepalived/keepalived.conf.sample";

/// What a sample is, and what vigil must do with it.
enum Class {
    /// VRRP configuration: loads with `instances` instances, and keepalived's fix-up warnings
    /// `(line, col, text)` (plus any "no effect in vigil" warning, listed likewise); other
    /// warnings only for LVS blocks.
    Vrrp {
        instances: usize,
        fixups: &'static [(u32, u32, &'static str)],
    },
    /// LVS / checker configuration only: no instance; every warning is an LVS block.
    LvsOnly,
    /// keepalived reports errors in it; vigil refuses with these `(line, col, text)`.
    KeepalivedReportsErrors {
        why: &'static str,
        errors: &'static [(u32, u32, &'static str)],
    },
}

/// Every sample of keepalived 2.2.7's doc/samples, by file name (without a `.gz`).
const CLASSES: &[(&str, Class)] = &[
    ("keepalived.conf.HTTP_GET.port", Class::LvsOnly),
    ("keepalived.conf.IPv6", Class::LvsOnly),
    ("keepalived.conf.PING_CHECK", Class::LvsOnly),
    ("keepalived.conf.SMTP_CHECK", Class::LvsOnly),
    ("keepalived.conf.UDP_CHECK", Class::LvsOnly),
    ("keepalived.conf.fwmark", Class::LvsOnly),
    ("keepalived.conf.inhibit", Class::LvsOnly),
    ("keepalived.conf.misc_check", Class::LvsOnly),
    ("keepalived.conf.misc_check_arg", Class::LvsOnly),
    ("keepalived.conf.quorum", Class::LvsOnly),
    ("keepalived.conf.status_code", Class::LvsOnly),
    ("keepalived.conf.virtual_server_group", Class::LvsOnly),
    ("keepalived.conf.virtualhost", Class::LvsOnly),
    (
        "keepalived.conf.SSL_GET",
        Class::Vrrp {
            instances: 1,
            fixups: &[(
                14,
                5,
                "Initial state master is incompatible with AH authentication - clearing",
            )],
        },
    ),
    (
        // Under the default config id (the host name) neither `@high` nor `@low` lines
        // apply: the script has no command (config_id_picks_the_conditional_lines covers
        // the ids the sample is written for).
        "keepalived.conf.conditional_conf",
        Class::Vrrp {
            instances: 1,
            fixups: &[
                (
                    6,
                    1,
                    "No script set for vrrp_script `check_VI_0` - removing",
                ),
                (25, 3, "track script `check_VI_0` not found, ignoring"),
            ],
        },
    ),
    (
        "keepalived.conf.sample",
        Class::Vrrp {
            instances: 1,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.track_interface",
        Class::Vrrp {
            instances: 1,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.vrrp",
        Class::Vrrp {
            instances: 4,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.vrrp.localcheck",
        Class::Vrrp {
            instances: 9,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.vrrp.routes",
        Class::Vrrp {
            instances: 1,
            fixups: &[
                (
                    30,
                    46,
                    "\"or\" for routes is deprecated. Please use \"nexthop\"",
                ),
                (
                    32,
                    19,
                    "\"gw\" for routes is deprecated. Please use \"via\"",
                ),
            ],
        },
    ),
    (
        // keepalived: "Invalid rule to address 192.168.200./24", the rule skipped, in
        // static_rules (line 11) and in virtual_rules (line 26).
        "keepalived.conf.vrrp.rules",
        Class::Vrrp {
            instances: 1,
            fixups: &[
                (11, 8, "the rule is skipped (keepalived's fix-up"),
                (26, 12, "the rule is skipped (keepalived's fix-up"),
            ],
        },
    ),
    (
        "keepalived.conf.vrrp.scripts",
        Class::Vrrp {
            instances: 3,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.vrrp.static_ipaddress",
        Class::Vrrp {
            instances: 1,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.vrrp.sync",
        Class::Vrrp {
            instances: 9,
            fixups: &[],
        },
    ),
    (
        "keepalived.conf.vrrp.lvs_syncd",
        Class::KeepalivedReportsErrors {
            why: "the sync group lists its members without `group { }`: keepalived 2.2.7 \
                  reports \"Unknown keyword 'VI_2'\" and 'VI_3' and runs an empty group; \
                  vigil refuses unknown keywords (a misspelt keyword is never dropped silently)",
            errors: &[
                (4, 3, "unknown keyword `VI_2` in vrrp_sync_group"),
                (5, 3, "unknown keyword `VI_3` in vrrp_sync_group"),
            ],
        },
    ),
];

/// The samples present, or None (with the reason printed) when the package is absent and
/// this is not CI.
fn samples() -> Option<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(SAMPLES)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("keepalived.conf."))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if found.is_empty() || !Path::new(STOCK).exists() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "keepalived's samples ({SAMPLES}/keepalived.conf.*) or {STOCK} are missing under CI=true: scripts/setup installs the keepalived package"
        );
        eprintln!(
            "skipped: keepalived's samples ({SAMPLES}) or {STOCK} are absent (install the keepalived package)"
        );
        return None;
    }
    Some(found)
}

/// A sample's name without a compression suffix.
fn sample_name(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.strip_suffix(".gz").unwrap_or(name).to_string()
}

/// Loads a sample in place, under its own name; a gzipped one is decompressed with `gzip
/// -dc` and loaded as text under its own name (includes are not followed then; keepalived's
/// samples have none).
fn load_sample(path: &Path, options: &LoadOptions) -> Result<Loaded, Vec<Diagnostic>> {
    if path.extension().is_some_and(|e| e == "gz") {
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .output()
            .expect("gzip runs");
        assert!(out.status.success(), "gzip -dc {}", path.display());
        let text = String::from_utf8(out.stdout).expect("UTF-8 sample");
        load_keepalived_str(&text, &path.with_extension(""), options).map_err(|d| d.0)
    } else {
        load(path, options).map_err(|d| d.0)
    }
}

/// Warnings vigil adds where keepalived acts and vigil does not: LVS blocks and e-mail.
fn is_vigil_no_effect_warning(w: &Diagnostic) -> bool {
    w.severity == Severity::Warning
        && (w.message.starts_with("`virtual_server` in the top level")
            || w.message
                .starts_with("`virtual_server_group` in the top level")
            || w.message
                .starts_with("`lvs_sync_daemon_interface` is deprecated")
            // keepalived mails; vigil says once per keyword that it does not.
            || w.message.contains("vigil sends no e-mail"))
}

/// `diags` holds exactly `wanted` besides the LVS and e-mail warnings, each at its line and column.
#[track_caller]
fn assert_exactly(name: &str, diags: &[Diagnostic], wanted: &[(u32, u32, &str)]) {
    let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
    for (line, col, text) in wanted {
        assert!(
            diags
                .iter()
                .any(|d| d.pos.line == *line && d.pos.col == *col && d.message.contains(text)),
            "{name}: wanted `{text}` at {line}:{col}; got:\n{}",
            shown.join("\n")
        );
        assert!(
            diags.iter().all(|d| d.pos.file.ends_with(name)),
            "{name}: every diagnostic names the file: {shown:?}"
        );
    }
    let others: Vec<&String> = diags
        .iter()
        .zip(&shown)
        .filter(|(d, _)| {
            !is_vigil_no_effect_warning(d)
                && !wanted.iter().any(|(line, col, text)| {
                    d.pos.line == *line && d.pos.col == *col && d.message.contains(text)
                })
        })
        .map(|(_, s)| s)
        .collect();
    assert!(
        others.is_empty(),
        "{name}: diagnostics keepalived does not print: {others:?}"
    );
}

#[test]
fn every_sample_is_classified_and_behaves_as_keepalived() {
    let Some(found) = samples() else { return };
    let options = LoadOptions::default();
    let mut unclassified = Vec::new();
    for path in &found {
        let name = sample_name(path);
        let Some((_, class)) = CLASSES.iter().find(|(n, _)| *n == name) else {
            unclassified.push(name);
            continue;
        };
        match class {
            Class::Vrrp { instances, fixups } => {
                let loaded = load_sample(path, &options).unwrap_or_else(|e| {
                    panic!(
                        "{name}: keepalived runs it, vigil refuses:\n{}",
                        e.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                });
                assert_eq!(loaded.model.instances.len(), *instances, "{name}");
                assert_exactly(&name, &loaded.warnings, fixups);
                // keepalived's fix-ups are refused under --strict.
                if !fixups.is_empty() {
                    let strict = LoadOptions {
                        strict: true,
                        ..Default::default()
                    };
                    let errors = load_sample(path, &strict).expect_err("--strict refuses");
                    assert!(errors.iter().all(|d| d.severity == Severity::Error));
                }
            }
            Class::LvsOnly => {
                let loaded = load_sample(path, &options).unwrap_or_else(|e| {
                    panic!("{name}: an LVS-only sample loads (with warnings): {e:?}")
                });
                assert!(loaded.model.instances.is_empty(), "{name}");
                assert!(
                    !loaded.warnings.is_empty()
                        && loaded.warnings.iter().all(is_vigil_no_effect_warning),
                    "{name}: each LVS block is warned about, nothing else: {:?}",
                    loaded.warnings
                );
            }
            Class::KeepalivedReportsErrors { why, errors } => {
                let diags = match load_sample(path, &options) {
                    Ok(l) => panic!("{name}: loads, but {why}: {:?}", l.warnings),
                    Err(d) => d,
                };
                let errs: Vec<Diagnostic> = diags
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error)
                    .collect();
                assert_exactly(&name, &errs, errors);
            }
        }
    }
    assert!(
        unclassified.is_empty(),
        "samples not classified in tests/keepalived_samples.rs (run `keepalived -t -f FILE` and `vigil check -c FILE`, and add each to CLASSES): {unclassified:?}"
    );
    // A list entry with no sample behind it is a package change to look at, too.
    for (name, _) in CLASSES {
        assert!(
            found.iter().any(|p| sample_name(p) == *name),
            "{name} is classified but not installed in {SAMPLES}"
        );
    }
}

/// The stock file: keepalived runs it with four fix-ups, and so does vigil, at the same
/// lines, with the model keepalived ends up with.
#[test]
fn the_stock_sample_loads_with_keepalived_s_fix_ups() {
    if samples().is_none() {
        return;
    }
    let loaded = load(Path::new(STOCK), &LoadOptions::default()).unwrap_or_else(|e| {
        panic!("{STOCK} is refused:\n{e}");
    });
    assert_exactly(
        "keepalived.conf.sample",
        &loaded.warnings,
        &[
            (15, 23, "vrrp_garp_interval '0' is invalid"),
            (16, 22, "vrrp_gna_interval '0' is invalid"),
            (20, 5, "State MASTER must match being address owner"),
            (
                25,
                5,
                "Strict mode does not support authentication. Ignoring.",
            ),
        ],
    );
    let inst = &loaded.model.instances[0];
    assert_eq!(inst.name, "VI_1");
    assert!(inst.strict_mode);
    assert_eq!(inst.auth, None::<Auth>, "authentication is ignored");
    assert_eq!(inst.initial_state, InitialState::Backup, "state reset");
    assert_eq!(inst.priority.get(), 100);
    assert_eq!(loaded.model.global.garp_interval, std::time::Duration::ZERO);
}

/// The command line: `vigil check` takes the file under its own name and prints the fix-ups
/// with file:line:col; `--strict` refuses them; `--format yaml` reads it as YAML.
#[test]
fn vigil_check_on_the_stock_sample() {
    if samples().is_none() {
        return;
    }
    let vigil = env!("CARGO_BIN_EXE_vigil");
    let run = |args: &[&str]| {
        let out = Command::new(vigil).args(args).output().expect("vigil runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, text) = run(&["check", "--config", STOCK]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "{STOCK}:25:5: warning: instance `VI_1`: Strict mode does not support authentication. Ignoring."
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{STOCK}:20:5: warning: instance `VI_1`: State MASTER must match being address owner"
        )),
        "{text}"
    );
    let (code, text) = run(&["check", "--strict", "--config", STOCK]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("{STOCK}:25:5: error:")), "{text}");
    let (code, text) = run(&["check", "--format", "yaml", "--config", STOCK]);
    assert_eq!(code, Some(1), "keepalived syntax is not YAML: {text}");
}

/// keepalived's `-i`: the conditional sample is written for the ids `high` and `low`.
#[test]
fn config_id_picks_the_conditional_lines() {
    let Some(found) = samples() else { return };
    let path = found
        .iter()
        .find(|p| sample_name(p) == "keepalived.conf.conditional_conf")
        .expect("the conditional sample");
    for (id, priority, script) in [
        ("high", 170, "/etc/keepalived/scripts/check_high_VI_0.sh"),
        ("low", 85, "/etc/keepalived/scripts/check_low_VI_0.sh"),
    ] {
        let options = LoadOptions {
            config_id: Some(id.into()),
            ..Default::default()
        };
        let loaded = load_sample(path, &options).expect("loads");
        assert_eq!(loaded.model.instances[0].priority.get(), priority, "{id}");
        assert_eq!(loaded.model.scripts[0].script, script, "{id}");
        assert_eq!(loaded.model.instances[0].track_scripts.len(), 1, "{id}");
    }
    // And from the command line.
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["convert", "--config-id", "low"])
        .arg(path)
        .output()
        .expect("vigil runs");
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{yaml}");
    assert!(yaml.contains("priority: 85"), "{yaml}");
}
