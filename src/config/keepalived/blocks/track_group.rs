//! keepalived's top-level `track_group NAME { group { VI_1 VI_2 } }` (see
//! `model::TrackGroup`), and the `track_group NAME` option of static addresses, routes and
//! rules that names one. keepalived skips an unknown keyword here with a message (vigil: a
//! warning).

use crate::config::model::TrackGroup;

use super::super::mapping::Mapper;
use super::super::parser::{Arg, Node};
use super::super::table::{Block, Keyword};

type K = Keyword<Vec<String>>;

pub static BLOCK: Block<Vec<String>> = Block {
    name: "track_group",
    list_name: "track_group",
    keywords: KEYWORDS,
    unknown_is_error: false,
};

static KEYWORDS: &[K] = &[K::acted(&["group"], "", |m, g, n| {
    g.extend(m.lines(n).into_iter().flatten().map(|a| a.text));
    Ok(())
})];

/// `track_group NAME { ... }` at the top level; a second block of the same name is skipped,
/// as keepalived does.
pub fn map(m: &mut Mapper, node: &Node) {
    let name = m.name(node);
    if m.config.track_groups.iter().any(|g| g.name == name) {
        m.warn(&node.pos, format!("track_group {name} already defined - ignoring (keepalived's fix-up): give each track_group its own name"));
        return;
    }
    let i = m.config.track_groups.len();
    m.record(format!("track_groups.{i}"), &node.pos);
    let mut group = Vec::new();
    m.run_children(&BLOCK, &mut group, node, "");
    m.config.track_groups.push(TrackGroup { name, group });
}

impl Mapper {
    /// A static item's `track_group NAME`: keepalived looks the group up while it parses, so
    /// a group defined further down is "not found" and the option is dropped.
    pub(crate) fn track_group_ref(&mut self, arg: &Arg) -> Option<String> {
        if self.config.track_groups.iter().any(|g| g.name == arg.text) {
            return Some(arg.text.clone());
        }
        self.warn(&arg.pos, format!("track_group {} not found - ignored (keepalived's fix-up): define the track_group block before the lines that name it", arg.text));
        None
    }
}
