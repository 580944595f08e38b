//! The logic of `vigil check` and `vigil convert`, as library calls so that tests drive them.

use std::io::Write;
use std::path::Path;

use super::{LoadOptions, load, load_for_run, yaml};

/// `vigil check --config PATH [--strict] [--format F] [--config-id ID]`: print every problem
/// as `file:line:col: ...`, and return the exit code: 0 when the configuration is usable, 1
/// otherwise.
pub fn check(path: &Path, options: &LoadOptions, out: &mut impl Write) -> i32 {
    check_with(path, options, &host_interfaces, out)
}

/// `vigil check --offline`: everything `check` verifies but the interfaces, which belong to
/// the host the configuration is for, not the one linting it (a CI job, a laptop). The
/// verdict line says so, so that an offline "ok" is never read as a full one.
pub fn check_offline(path: &Path, options: &LoadOptions, out: &mut impl Write) -> i32 {
    let code = check_with(path, options, &|_| Ok(Box::new(|_: &str| true)), out);
    if code == 0 {
        let _ = writeln!(
            out,
            "{}: note: interfaces not checked (--offline)",
            path.display()
        );
    }
    code
}

/// Which interfaces exist where the configuration's instances would run: this host, or with
/// `net_namespace NAME` that namespace (looked at from a thread that enters it). A namespace
/// that cannot be entered is an error, as `vigil run` and keepalived refuse to start then.
fn host_interfaces(config: &super::Config) -> Result<Interfaces<'static>, String> {
    match &config.global.net_namespace {
        None => Ok(Box::new(super::interfaces::host_has_interface)),
        Some(name) => {
            let names = crate::net::netns::interfaces_in(name).map_err(|e| e.to_string())?;
            Ok(Box::new(move |n: &str| names.iter().any(|x| x == n)))
        }
    }
}

/// `check` against the interfaces `exists` knows: a configuration naming one this host lacks
/// is refused, as `vigil run` and keepalived (`-t` included) refuse it.
pub fn check_on(
    path: &Path,
    options: &LoadOptions,
    exists: &dyn Fn(&str) -> bool,
    out: &mut impl Write,
) -> i32 {
    check_with(
        path,
        options,
        &|_| Ok(Box::new(|n: &str| exists(n)) as Box<dyn Fn(&str) -> bool + '_>),
        out,
    )
}

type Interfaces<'a> = Box<dyn Fn(&str) -> bool + 'a>;

fn check_with<'a>(
    path: &Path,
    options: &LoadOptions,
    interfaces: &dyn Fn(&super::Config) -> Result<Interfaces<'a>, String>,
    out: &mut impl Write,
) -> i32 {
    // A failed write to the terminal must not change the verdict.
    match load_for_run(path, options) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                let _ = writeln!(out, "{w}");
            }
            let exists = match interfaces(&loaded.model) {
                Ok(exists) => exists,
                Err(e) => {
                    let _ = writeln!(out, "{}: error: {e}", path.display());
                    return 1;
                }
            };
            let missing = super::interfaces::missing_interfaces(&loaded.model, &*exists);
            if loaded.model.global.dynamic_interfaces {
                // keepalived's `dynamic_interfaces`: the run waits for them in FAULT.
                for m in &missing {
                    let _ = writeln!(
                        out,
                        "{}: note: interface {:?} ({}) does not exist yet: with \
                         dynamic_interfaces its instances wait for it in FAULT",
                        path.display(),
                        m.name,
                        m.named_by
                    );
                }
            } else if !missing.is_empty() {
                for m in &missing {
                    let _ = writeln!(out, "{}: error: {m}", path.display());
                }
                return 1;
            }
            let n = loaded.model.instances.len();
            let _ = writeln!(
                out,
                "{}: ok ({n} instance{}, {} warning{})",
                path.display(),
                if n == 1 { "" } else { "s" },
                loaded.warnings.len(),
                if loaded.warnings.len() == 1 { "" } else { "s" }
            );
            0
        }
        Err(diags) => {
            for d in &diags.0 {
                let _ = writeln!(out, "{d}");
            }
            1
        }
    }
}

/// Why `convert` failed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Invalid(#[from] super::Diagnostics),
    #[error("cannot write YAML: {0}")]
    Serialize(#[from] serde_saphyr::SerializeError),
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

/// `vigil convert PATH`: print the YAML equivalent of a configuration (any format). Warnings
/// (keywords with no effect in vigil) are written as YAML comments at the top, so that
/// nothing is dropped without a trace.
pub fn convert(
    path: &Path,
    options: &LoadOptions,
    out: &mut impl Write,
) -> Result<(), ConvertError> {
    let loaded = load(path, options)?;
    writeln!(
        out,
        "# vigil configuration converted from {}",
        path.display()
    )?;
    for w in &loaded.warnings {
        writeln!(out, "# {w}")?;
    }
    out.write_all(yaml::to_string(&loaded.model)?.as_bytes())?;
    Ok(())
}
