//! One keyword table per keepalived.conf block (see `table.rs`), each in its own file.
//!
//! To make a keyword act: change its entry to
//! `K::acted(&["keyword", "alias"], "model.path", parser)`, where `parser` is a
//! `fn(&mut Mapper, &mut Ctx, &Node) -> R<()>` (a closure or a function in its own file) that
//! parses the value with the shared parsers of `values.rs` and sets the field; `model.path`
//! is recorded in the SourceMap (under the block's base) when it returns `Ok`. Then regenerate
//! docs/config.md's table: `VIGIL_BLESS=1 cargo test --test keyword_docs`, and take the
//! keyword out of `PENDING` in tests/keyword_docs.rs if it was there.

pub mod authentication;
pub mod docs;
pub mod global_defs;
pub mod top;
pub mod track_file;
pub mod track_group;
pub mod vrrp_instance;
pub mod vrrp_script;
pub mod vrrp_sync_group;
pub mod vrrp_track_process;

use super::table::{Block, Info};

/// A block's name in the keyword list and the docs, and its entries.
pub struct BlockInfo {
    pub name: &'static str,
    pub entries: Vec<Info>,
}

fn info<C>(b: &Block<C>) -> BlockInfo {
    BlockInfo {
        name: b.list_name,
        entries: b.infos(),
    }
}

/// Every table, in the order the docs list them.
pub fn all() -> Vec<BlockInfo> {
    vec![
        info(&top::BLOCK),
        info(&global_defs::BLOCK),
        info(&vrrp_instance::BLOCK),
        info(&authentication::BLOCK),
        info(&vrrp_sync_group::BLOCK),
        info(&vrrp_script::BLOCK),
        info(&track_file::BLOCK),
        info(&track_group::BLOCK),
        info(&vrrp_track_process::BLOCK),
    ]
}
