//! Configuration: one typed model, the native YAML format and keepalived.conf.
//!
//! [`load`] is the one entry point: the format follows the file extension (`.conf` is
//! keepalived.conf, `.yaml`/`.yml` is vigil's YAML), both map onto [`model::Config`], and the
//! same semantic validation runs on the result. Problems come back all at once, each as
//! `file:line:col: error: ...`.

pub mod cli;
pub mod diagnostic;
pub mod keepalived;
pub mod model;
mod resolve;
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
    /// By extension: `.conf` is keepalived.conf, `.yaml` / `.yml` is YAML.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("conf") => Some(Format::Keepalived),
            Some("yaml" | "yml") => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Load, map and validate a configuration file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Loaded, Diagnostics> {
    let Some(format) = Format::of(path) else {
        return Err(Diagnostics(vec![Diagnostic::error(
            Pos::start_of(path),
            "unknown configuration format: name the file *.conf (keepalived) or *.yaml / *.yml (vigil)",
        )]));
    };
    match format {
        Format::Keepalived => {
            let id = options.config_id.clone().unwrap_or_else(default_config_id);
            let (config, map, diags) = keepalived::load_file(path, &id);
            finish(config, &map, diags, options)
        }
        Format::Yaml => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Diagnostics(vec![Diagnostic::error(
                    Pos::start_of(path),
                    format!("cannot read {}: {e}", path.display()),
                )])
            })?;
            load_yaml_str(&text, path, options)
        }
    }
}

/// Load YAML text as if read from `path`.
pub fn load_yaml_str(
    text: &str,
    path: &Path,
    options: &LoadOptions,
) -> Result<Loaded, Diagnostics> {
    match yaml::parse(text, path) {
        Ok((config, map)) => finish(config, &map, Vec::new(), options),
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
    let (config, map, diags) = keepalived::load_text(text, path, &id);
    finish(config, &map, diags, options)
}

fn finish(
    config: Config,
    map: &diagnostic::SourceMap,
    mut diags: Vec<Diagnostic>,
    options: &LoadOptions,
) -> Result<Loaded, Diagnostics> {
    // Semantic checks only make sense on a model that parsed; parse errors come first.
    if !diags.iter().any(|d| d.severity == Severity::Error) {
        diags.extend(validate::validate(&config, map));
    }
    if options.strict {
        for d in &mut diags {
            d.severity = Severity::Error;
        }
    }
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(Diagnostics(diags));
    }
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
