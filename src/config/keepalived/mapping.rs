//! keepalived's statements onto the model: runs each block's keyword table (`blocks/`) over
//! the statement tree. Every statement is either mapped, accepted with a warning naming it
//! and why, or reported as an error: nothing is silently dropped.

use crate::config::diagnostic::{Diagnostic, Pos, Severity, SourceMap, did_you_mean};
use crate::config::model::{Config, NotifyScript};

use super::blocks;
use super::parser::Node;
use super::table::{Block, Class, R};

pub use super::values::{parse_centis, parse_micros};

/// The model built from a statement tree, where each field came from, and the problems seen.
pub struct Mapped {
    pub config: Config,
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn map(nodes: &[Node], fallback: Pos) -> Mapped {
    let mut m = Mapper {
        config: Config::default(),
        map: SourceMap::new(fallback),
        diags: Vec::new(),
        fifo_script: None,
        fifo_keyword: None,
        hints_left: UNKNOWN_KEYWORD_HINTS,
    };
    for node in nodes {
        m.run(&blocks::top::BLOCK, &mut (), node, "");
    }
    blocks::global_defs::finish(&mut m);
    Mapped {
        config: m.config,
        map: m.map,
        diagnostics: m.diags,
    }
}

/// The state of one mapping: the model so far, where its fields came from, the problems.
pub struct Mapper {
    pub config: Config,
    pub map: SourceMap,
    pub diags: Vec<Diagnostic>,
    /// A `notify_fifo_script` seen before any `notify_fifo` (keepalived takes them in either
    /// order), kept until the FIFO comes.
    pub fifo_script: Option<(String, NotifyScript, Pos)>,
    /// The keyword that named the notify FIFO (`notify_fifo` or `vrrp_notify_fifo`).
    pub fifo_keyword: Option<String>,
    /// "Did you mean" hints still to give for unknown keywords.
    hints_left: usize,
}

/// Unknown keywords that get a "did you mean" hint, per file: every one is still reported,
/// but a file of thousands (not a keepalived.conf at all) no longer spends its time comparing
/// each against a block's keywords (the fuzz target spent most of each run there).
const UNKNOWN_KEYWORD_HINTS: usize = 32;

impl Mapper {
    pub(crate) fn err(&mut self, pos: &Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(pos.clone(), msg));
    }

    pub(crate) fn warn(&mut self, pos: &Pos, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(pos.clone(), msg));
    }

    /// Records where the model path `path` came from.
    pub(crate) fn record(&mut self, path: String, pos: &Pos) {
        self.map.insert(path, pos.clone());
    }

    /// Runs one statement through `block`'s table: its parser sets the model (and on success
    /// the entry's path is recorded under `base`), or it is warned about or refused.
    pub(crate) fn run<C>(&mut self, block: &Block<C>, ctx: &mut C, node: &Node, base: &str) {
        let Some(entry) = block.find(&node.keyword) else {
            self.unknown(node, block);
            return;
        };
        let ok = match (entry.set, entry.class) {
            (Some(set), _) => set(self, ctx, node).is_ok(),
            (None, Class::Warned(why)) => {
                self.warn(
                    &node.pos,
                    format!(
                        "`{}` in {} is accepted but has no effect in vigil: {}",
                        node.keyword,
                        block.name,
                        why.text()
                    ),
                );
                false
            }
            (None, Class::Refused(why)) => {
                self.err(
                    &node.pos,
                    format!(
                        "`{}` in {} is refused: {}",
                        node.keyword,
                        block.name,
                        why.text()
                    ),
                );
                false
            }
            (None, Class::Acted) => false,
        };
        if ok && !entry.path.is_empty() {
            let path = if base.is_empty() {
                entry.path.to_string()
            } else {
                format!("{base}.{}", entry.path)
            };
            self.record(path, &node.pos);
        }
    }

    /// Runs every statement of `node`'s block through `block`'s table.
    pub(crate) fn run_children<C>(
        &mut self,
        block: &Block<C>,
        ctx: &mut C,
        node: &Node,
        base: &str,
    ) {
        for n in self.children(node) {
            self.run(block, ctx, &n, base);
        }
    }

    fn unknown<C>(&mut self, node: &Node, block: &Block<C>) {
        let hint = if self.hints_left > 0 {
            self.hints_left -= 1;
            did_you_mean(&node.keyword, block.names())
        } else {
            String::new()
        };
        let msg = format!("unknown keyword `{}` in {}{hint}", node.keyword, block.name);
        if block.unknown_is_error {
            self.err(&node.pos, msg);
        } else {
            self.warn(&node.pos, format!("{msg}; ignored"));
        }
    }

    /// Runs `parse` on one line of a route or rule list; if it fails, keepalived skips that
    /// line and goes on ("Invalid rule to address ...", "unknown route keyword ..."), so its
    /// errors become warnings that say the line is skipped (`--strict` refuses them again).
    pub(crate) fn skip_bad_line<T>(
        &mut self,
        what: &str,
        parse: impl FnOnce(&mut Self) -> R<T>,
    ) -> Option<T> {
        let before = self.diags.len();
        match parse(self) {
            Ok(v) => Some(v),
            Err(()) => {
                for d in &mut self.diags[before..] {
                    if d.severity == Severity::Error {
                        d.severity = Severity::Warning;
                        d.message = format!(
                            "{}; the {what} is skipped (keepalived's fix-up: it skips an invalid {what} and goes on), or run with --strict to refuse",
                            d.message
                        );
                    }
                }
                None
            }
        }
    }
}

/// Replace the `{vrid}` placeholder in default VMAC names: `use_vmac` may come before
/// `virtual_router_id` in the block.
pub fn finish_vmac_names(config: &mut Config) {
    blocks::vrrp_instance::finish_vmac_names(config);
}
