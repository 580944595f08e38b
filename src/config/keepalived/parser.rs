//! keepalived.conf structure: statements `keyword args... [{ statements }]`, one per line.

use crate::config::diagnostic::{Diagnostic, Pos};

use super::lexer::{Tok, TokKind};

/// One statement: a keyword, its arguments, and its block if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub keyword: String,
    pub pos: Pos,
    pub args: Vec<Arg>,
    pub block: Option<Vec<Node>>,
}

/// A word after the keyword, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub pos: Pos,
}

/// Blocks nest at most this deep; keepalived's deepest VRRP block is two levels.
const MAX_DEPTH: usize = 64;

/// Build the statement tree, reporting unbalanced braces.
pub fn parse(tokens: &[Tok], diagnostics: &mut Vec<Diagnostic>) -> Vec<Node> {
    let mut i = 0;
    let nodes = parse_block(tokens, &mut i, 0, None, diagnostics);
    // Top-level `}` without a block are reported by parse_block; nothing is left over.
    nodes
}

fn parse_block(
    tokens: &[Tok],
    i: &mut usize,
    depth: usize,
    opened_at: Option<&Pos>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut current: Option<Node> = None;
    while let Some(tok) = tokens.get(*i) {
        *i += 1;
        match &tok.kind {
            TokKind::Word(w) => match current.as_mut() {
                Some(node) => node.args.push(Arg {
                    text: w.clone(),
                    pos: tok.pos.clone(),
                }),
                None => {
                    current = Some(Node {
                        keyword: w.clone(),
                        pos: tok.pos.clone(),
                        args: Vec::new(),
                        block: None,
                    })
                }
            },
            TokKind::Eol => {
                if let Some(node) = current.take() {
                    nodes.push(node);
                }
            }
            TokKind::Open => {
                if depth >= MAX_DEPTH {
                    diagnostics.push(Diagnostic::error(
                        tok.pos.clone(),
                        format!("blocks nest deeper than {MAX_DEPTH}"),
                    ));
                    return nodes;
                }
                let children = parse_block(tokens, i, depth + 1, Some(&tok.pos), diagnostics);
                // keepalived also takes a block whose `{` begins the line after its keyword
                // (blank and comment lines between are skipped, as keepalived's reader does).
                let opens_line = *i >= 2 && matches!(tokens[*i - 2].kind, TokKind::Eol);
                let previous = nodes.last_mut().filter(|n| opens_line && n.block.is_none());
                match (current.take(), previous) {
                    (Some(mut node), _) => {
                        node.block = Some(children);
                        nodes.push(node);
                    }
                    (None, Some(node)) => node.block = Some(children),
                    (None, None) => diagnostics.push(Diagnostic::error(
                        tok.pos.clone(),
                        "`{` without a keyword before it".to_string(),
                    )),
                }
            }
            TokKind::Close => {
                if let Some(node) = current.take() {
                    nodes.push(node);
                }
                if opened_at.is_some() {
                    return nodes;
                }
                diagnostics.push(Diagnostic::error(
                    tok.pos.clone(),
                    "`}` without a matching `{`: remove it or open the block".to_string(),
                ));
            }
        }
    }
    if let Some(node) = current.take() {
        nodes.push(node);
    }
    if let Some(open) = opened_at {
        diagnostics.push(Diagnostic::error(
            open.clone(),
            "block opened here is never closed: add a `}`".to_string(),
        ));
    }
    nodes
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::lexer::Lexer;
    use super::*;

    fn tree(text: &str) -> (Vec<Node>, Vec<Diagnostic>) {
        let mut l = Lexer::without_files("x".into());
        l.lex_text(text, Path::new("k.conf"), 0);
        let mut d = l.diagnostics;
        let nodes = parse(&l.tokens, &mut d);
        (nodes, d)
    }

    #[test]
    fn nested_blocks_and_one_line_blocks() {
        let (n, d) = tree("a x {\n b 1\n c { d }\n}\ne\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].keyword, "a");
        assert_eq!(n[0].args[0].text, "x");
        let inner = n[0].block.as_ref().expect("block");
        assert_eq!(inner[1].block.as_ref().expect("c block")[0].keyword, "d");
        assert_eq!(n[1].keyword, "e");
    }

    #[test]
    fn opening_brace_on_the_next_line() {
        let (n, d) = tree(
            "vrrp_instance V\n\n# c\n{\n state MASTER\n virtual_ipaddress\n {\n  10.0.0.1\n }\n}\nnext\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(n.len(), 2);
        let inner = n[0].block.as_ref().expect("block on the next line");
        assert_eq!(inner[0].keyword, "state");
        assert_eq!(
            inner[1].block.as_ref().expect("nested")[0].keyword,
            "10.0.0.1"
        );
        assert_eq!(n[1].keyword, "next");
        // A `{` after a statement that already has a block opens nothing.
        let (_, d) = tree("a {\n}\n{\n}\n");
        assert!(d[0].message.contains("without a keyword"), "{d:?}");
    }

    #[test]
    fn unbalanced_braces_are_reported() {
        let (_, d) = tree("a {\n b\n");
        assert_eq!(
            d[0].to_string(),
            "k.conf:1:3: error: block opened here is never closed: add a `}`"
        );
        let (_, d) = tree("}\n");
        assert!(d[0].message.contains("without a matching"));
    }
}
