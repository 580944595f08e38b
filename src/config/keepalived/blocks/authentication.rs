//! `authentication { auth_type PASS|AH  auth_pass SECRET }` inside a `vrrp_instance`.
//! keepalived refuses an unknown keyword here (vigil: an error).

use crate::config::diagnostic::Pos;
use crate::config::model::Auth;

use super::super::mapping::Mapper;
use super::super::parser::Node;
use super::super::table::{Block, Keyword};

/// What the block said so far.
#[derive(Default)]
pub struct Ctx {
    kind: Option<(String, Pos)>,
    pass: Option<String>,
}

type K = Keyword<Ctx>;

pub static BLOCK: Block<Ctx> = Block {
    name: "authentication",
    list_name: "authentication",
    keywords: KEYWORDS,
    unknown_is_error: true,
};

static KEYWORDS: &[K] = &[
    K::acted(&["auth_type"], "", |m, c, n| {
        if let Ok(a) = m.arg(n) {
            match a.text.to_ascii_uppercase().as_str() {
                "PASS" | "AH" => c.kind = Some((a.text.to_ascii_uppercase(), n.pos.clone())),
                _ => m.err(
                    &a.pos,
                    format!("`auth_type` is PASS or AH, not `{}`", a.text),
                ),
            }
        }
        Ok(())
    }),
    K::acted(&["auth_pass"], "", |m, c, n| {
        if let Ok(a) = m.arg(n) {
            c.pass = Some(a.text.clone());
        }
        Ok(())
    }),
];

/// The instance's authentication, or `None` (with the error reported) if incomplete.
pub fn map(m: &mut Mapper, node: &Node) -> Option<Auth> {
    let mut c = Ctx::default();
    m.run_children(&BLOCK, &mut c, node, "");
    match (c.kind, c.pass) {
        (Some((k, _)), Some(p)) => Some(if k == "AH" {
            Auth::Ah(p)
        } else {
            Auth::Pass(p)
        }),
        (None, _) => {
            m.err(
                &node.pos,
                "`authentication` needs `auth_type PASS` or `auth_type AH`",
            );
            None
        }
        (Some((_, pos)), None) => {
            m.err(&pos, "`authentication` needs an `auth_pass`");
            None
        }
    }
}
