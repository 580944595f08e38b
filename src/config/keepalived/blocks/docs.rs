//! The keyword table of docs/config.md, generated from the keyword tables themselves
//! (tests/keyword_docs.rs compares it with the file; `VIGIL_BLESS=1 cargo test --test
//! keyword_docs` rewrites it).

use std::fmt::Write as _;

use super::super::table::{Class, Origin};
use super::all;

/// The line before the generated table in docs/config.md.
pub const BEGIN: &str =
    "<!-- keyword-table:begin (generated: VIGIL_BLESS=1 cargo test --test keyword_docs) -->";
/// The line after it.
pub const END: &str = "<!-- keyword-table:end -->";

/// One Markdown table per block: each keyword (aliases after it), its class, and the model
/// path it sets or the reason it is warned about or refused.
pub fn markdown() -> String {
    let mut out = String::new();
    for block in all() {
        let _ = writeln!(out, "\n#### `{}`\n", block.name);
        out.push_str("| keyword | class | sets / why |\n|---|---|---|\n");
        for e in &block.entries {
            let names: Vec<String> = e.names.iter().map(|n| format!("`{n}`")).collect();
            let what = match e.class {
                Class::Acted if e.path.is_empty() => "(block)".to_string(),
                Class::Acted => format!("`{}`", e.path),
                Class::Warned(why) | Class::Refused(why) => why.text().to_string(),
            };
            let note = match e.origin {
                Origin::Keepalived => String::new(),
                Origin::VigilOnly(why) => format!(" (not a keepalived 2.4 keyword here: {why})"),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {what}{note} |",
                names.join(", "),
                e.class.label()
            );
        }
    }
    out
}
