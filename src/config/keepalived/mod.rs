//! keepalived.conf: a lexer (includes, parameters, conditionals), a block parser, and the
//! mapping of keepalived's VRRP keywords onto the model.

pub mod keywords;
pub mod lexer;
pub mod mapping;
pub mod namespaces;
pub mod parser;

use std::path::Path;

use super::diagnostic::{Diagnostic, Pos, SourceMap};
use super::model::Config;

/// Read a keepalived.conf (and its includes) into a model, with every diagnostic found.
pub fn load_file(path: &Path, config_id: &str) -> (Config, SourceMap, Vec<Diagnostic>) {
    let mut lexer = lexer::Lexer::new(config_id.to_string());
    lexer.lex_file(path, None);
    finish(lexer, path)
}

/// Read keepalived.conf text with includes disabled (fuzzing, tests).
pub fn load_text(text: &str, path: &Path, config_id: &str) -> (Config, SourceMap, Vec<Diagnostic>) {
    let mut lexer = lexer::Lexer::without_files(config_id.to_string());
    lexer.lex_text(text, path, 0);
    finish(lexer, path)
}

fn finish(mut lexer: lexer::Lexer, path: &Path) -> (Config, SourceMap, Vec<Diagnostic>) {
    let mut diagnostics = lexer.take_diagnostics();
    let nodes = parser::parse(&lexer.tokens, &mut diagnostics);
    let mapped = mapping::map(&nodes, Pos::start_of(path));
    diagnostics.extend(mapped.diagnostics);
    let mut config = mapped.config;
    // keepalived (`vrrp_complete_instance`): with `state MASTER` and no `priority`, the
    // instance is the address owner, priority 255 (not the usual default of 100). Before
    // `resolve`, whose defaults (accept) depend on being the owner.
    for (i, inst) in config.instances.iter_mut().enumerate() {
        if inst.initial_state == super::model::InitialState::Master
            && !mapped.map.contains(&format!("instances.{i}.priority"))
        {
            inst.priority = crate::types::Priority::OWNER;
        }
    }
    mapping::finish_vmac_names(&mut config);
    super::resolve::resolve(&mut config, &mapped.map);
    (config, mapped.map, diagnostics)
}

#[cfg(test)]
mod include_tests;
