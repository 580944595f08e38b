//! Configuration: one typed model, the native YAML format and keepalived.conf.
//!
//! [`load`] is the one entry point: the format follows the file name (`*.yaml`/`*.yml` is
//! vigil's YAML, any other name is keepalived.conf, as keepalived's own samples are named
//! `keepalived.conf.vrrp` and the like) unless [`LoadOptions::format`] says otherwise; both
//! map onto [`model::Config`], keepalived's fix-ups are applied to a keepalived.conf
//! ([`fixup`]), and the same semantic validation runs on the result. Problems come back all
//! at once, each as `file:line:col: error: ...`.

pub mod auth_hmac;
pub mod cli;
mod compact;
pub mod diagnostic;
pub mod fixup;
mod inert;
pub mod interfaces;
pub mod keepalived;
pub mod model;
mod resolve;
pub mod script_security;
pub mod static_track;
pub mod validate;
pub mod yaml;

use std::path::Path;

pub use diagnostic::{Diagnostic, Diagnostics, Pos, Severity};
pub use model::Config;

/// How to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Turn warnings (unimplemented keywords, ...) into errors.
    pub strict: bool,
    /// keepalived's config id for `@id` conditional lines (`keepalived -i`); default: the
    /// first label of the host name.
    pub config_id: Option<String>,
    /// The file's format; default: by its name ([`Format::of`]).
    pub format: Option<Format>,
}

/// A usable configuration and the warnings seen while loading it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub model: Config,
    pub warnings: Vec<Diagnostic>,
}

/// The file formats vigil reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Keepalived,
    Yaml,
}

impl Format {
    /// By name: `*.yaml` / `*.yml` is YAML, anything else keepalived.conf. keepalived reads
    /// whatever file it is given (its samples are `keepalived.conf.vrrp`, `...sample`), so a
    /// migrated file keeps its name.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            _ => Format::Keepalived,
        }
    }
}

/// vigil's own configuration file, used when no `--config` is given and it exists.
pub const DEFAULT_YAML_PATH: &str = "/etc/vigil/vigil.yaml";
/// keepalived's default configuration file (keepalived's `-f` default), used otherwise.
pub const DEFAULT_KEEPALIVED_PATH: &str = "/etc/keepalived/keepalived.conf";

/// The configuration file to read when none is named: vigil's YAML if present, else
/// keepalived's, so that vigil started in keepalived's place reads keepalived's file.
pub fn default_path() -> std::path::PathBuf {
    default_path_with(|p| p.exists())
}

fn default_path_with(exists: impl Fn(&Path) -> bool) -> std::path::PathBuf {
    let yaml = Path::new(DEFAULT_YAML_PATH);
    if exists(yaml) {
        yaml.to_path_buf()
    } else {
        std::path::PathBuf::from(DEFAULT_KEEPALIVED_PATH)
    }
}

/// Load, map and validate a configuration file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, Diagnostics> {
    load_with(path, options, Scripts::AsWritten)
}

/// [`load`], then audit every script against this system as keepalived does
/// (`enable_script_security`, `script_user`; see [`script_security`]): scripts that must not
/// run are removed from the model, each with a warning. What `vigil run` loads at start and
/// at every reload, and what `vigil check` reports. (`vigil convert` translates a file and
/// keeps every script: it uses [`load`].)
pub fn load_for_run(path: &Path, options: &LoadOptions) -> Result<Loaded, Diagnostics> {
    load_with(path, options, Scripts::Audited)
}

/// Whether loading looks at the scripts on this system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scripts {
    AsWritten,
    Audited,
}

fn load_with(path: &Path, options: &LoadOptions, scripts: Scripts) -> Result<Loaded, Diagnostics> {
    refuse_empty(path)?;
    match options.format.unwrap_or_else(|| Format::of(path)) {
        Format::Keepalived => {
            let id = options.config_id.clone().unwrap_or_else(default_config_id);
            let (mut config, mut map, mut diags) = keepalived::load_file(path, &id);
            fixup_if_parsed(&mut config, &mut map, &mut diags);
            finish(config, &map, diags, options, scripts)
        }
        Format::Yaml => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Diagnostics(vec![Diagnostic::error(
                    Pos::start_of(path),
                    format!("cannot read {}: {e}", path.display()),
                )])
            })?;
            match yaml::parse(&text, path) {
                Ok((config, map)) => finish(config, &map, Vec::new(), options, scripts),
                Err(diags) => Err(Diagnostics(diags)),
            }
        }
    }
}

/// An empty file (or one of blanks only) is refused rather than read as a configuration
/// with no instance: it is what a reload sees of a file an editor or a deployment tool is
/// rewriting in place (truncated, not yet written), and applying it would remove every
/// instance and its addresses. A file that cannot be read is left to the parsers, which
/// report it with their own context.
fn refuse_empty(path: &Path) -> Result<(), Diagnostics> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
            Err(Diagnostics(vec![Diagnostic::error(
                Pos::start_of(path),
                format!(
                    "{} is empty; a configuration with no instance is refused (a file being \
                     rewritten in place reads empty: write the new file beside it and rename \
                     it into place)",
                    path.display()
                ),
            )]))
        }
        _ => Ok(()),
    }
}

/// Load YAML text as if read from `path`.
pub fn load_yaml_str(
    text: &str,
    path: &Path,
    options: &LoadOptions,
) -> Result<Loaded, Diagnostics> {
    match yaml::parse(text, path) {
        Ok((config, map)) => finish(config, &map, Vec::new(), options, Scripts::AsWritten),
        Err(diags) => Err(Diagnostics(diags)),
    }
}

/// Load keepalived.conf text as if read from `path` (includes are not followed).
pub fn load_keepalived_str(
    text: &str,
    path: &Path,
    options: &LoadOptions,
) -> Result<Loaded, Diagnostics> {
    let id = options.config_id.clone().unwrap_or_else(default_config_id);
    let (mut config, mut map, mut diags) = keepalived::load_text(text, path, &id);
    fixup_if_parsed(&mut config, &mut map, &mut diags);
    finish(config, &map, diags, options, Scripts::AsWritten)
}

/// keepalived's fix-ups, on a keepalived.conf that parsed (a model with parse errors is
/// refused anyway, and fixing it up could only add noise).
fn fixup_if_parsed(
    config: &mut Config,
    map: &mut diagnostic::SourceMap,
    diags: &mut Vec<Diagnostic>,
) {
    if !diags.iter().any(|d| d.severity == Severity::Error) {
        diags.extend(fixup::fix_up(config, map));
    }
}

fn finish(
    mut config: Config,
    map: &diagnostic::SourceMap,
    mut diags: Vec<Diagnostic>,
    options: &LoadOptions,
    scripts: Scripts,
) -> Result<Loaded, Diagnostics> {
    // Semantic checks only make sense on a model that parsed; parse errors come first.
    if !diags.iter().any(|d| d.severity == Severity::Error) {
        diags.extend(validate::validate(&config, map));
        diags.extend(inert::inert(&config, map));
        diags.extend(static_track::diagnostics(&config, map));
        diags.extend(auth_hmac::validate(&mut config, map));
    }
    // Scripts are looked at on a valid model only: removing one must not hide an error.
    if scripts == Scripts::Audited && !diags.iter().any(|d| d.severity == Severity::Error) {
        diags.extend(script_security::secure(&mut config, map));
        // auth_hmac key files, read and permission-checked where the daemon would use them.
        diags.extend(auth_hmac::load_key_files(&mut config, map));
    }
    if options.strict {
        for d in &mut diags {
            d.severity = Severity::Error;
        }
    }
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(Diagnostics(diags));
    }
    compact::shrink(&mut config);
    Ok(Loaded {
        model: config,
        warnings: diags,
    })
}

/// keepalived's default config id: the host name up to its first dot.
pub fn default_config_id() -> String {
    // nix's gethostname needs a feature we do not enable; the kernel's copy is equivalent.
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().split('.').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod fixup_tests;
#[cfg(test)]
mod format_tests;
#[cfg(test)]
mod instance_keyword_tests;
