//! The native format: YAML read with serde-saphyr into the model, unknown keys rejected.
//!
//! The file is read twice, on two threads: once into the model (type errors and unknown keys,
//! with their line and column), and once into a position tree that records where every key
//! is, so that semantic errors found later point at the right line and the loader knows which
//! inherited settings were set explicitly.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::diagnostic::{Diagnostic, Pos, SourceMap, did_you_mean};
use super::model::Config;

/// Parse YAML text into a model (inherited settings resolved, not yet validated), with the
/// map of where each key was.
pub fn parse(text: &str, file: &Path) -> Result<(Config, SourceMap), Vec<Diagnostic>> {
    let file = Arc::new(file.to_path_buf());
    // The two reads are independent: the position tree is read on a second thread while the
    // model is read on this one, which takes the start of a large configuration from the sum
    // of the two to the longer one (10,000 instances: ~1.2 s of parsing on one core).
    let (config, tree) = std::thread::scope(|scope| {
        let tree = std::thread::Builder::new()
            .name("yaml-positions".into())
            .spawn_scoped(scope, || serde_saphyr::from_str::<Spanned<Node>>(text).ok());
        let config = serde_saphyr::from_str::<Config>(text);
        let tree = match tree {
            Ok(handle) => handle.join().ok().flatten(),
            // No thread to be had: read it here.
            Err(_) => serde_saphyr::from_str::<Spanned<Node>>(text).ok(),
        };
        (config, tree)
    });
    let mut config = match config {
        Ok(c) => c,
        Err(e) => return Err(vec![to_diagnostic(&e, &file)]),
    };
    let mut map = SourceMap::new(Pos::new(&file, 1, 1));
    if let Some(tree) = tree {
        record(&tree.value, String::new(), &file, &mut map);
    }
    super::resolve::resolve(&mut config, &map);
    Ok((config, map))
}

/// The YAML form of a model (what `vigil convert` prints).
pub fn to_string(config: &Config) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string(config)
}

fn to_diagnostic(e: &serde_saphyr::Error, file: &Arc<PathBuf>) -> Diagnostic {
    let pos = match e.location() {
        Some(loc) => Pos::new(
            file,
            u32::try_from(loc.line()).unwrap_or(u32::MAX).max(1),
            u32::try_from(loc.column()).unwrap_or(u32::MAX).max(1),
        ),
        None => Pos::new(file, 1, 1),
    };
    let raw = e.without_snippet().to_string();
    Diagnostic::error(pos, explain(&raw))
}

/// Rewrite serde's unknown-field message into ours, with a suggestion.
fn explain(raw: &str) -> String {
    // serde: "unknown field `x`, expected one of `a`, `b`" / "expected `a`" / "there are no fields"
    let first_line = strip_location_suffix(raw.lines().next().unwrap_or(raw));
    let first_line = first_line.as_str();
    let Some(rest) = first_line
        .find("unknown field `")
        .map(|i| &first_line[i + 15..])
    else {
        return first_line.to_string();
    };
    let Some(end) = rest.find('`') else {
        return first_line.to_string();
    };
    let key = &rest[..end];
    // serde-saphyr lists the expected names without backticks; plain serde quotes them.
    let tail = &rest[end + 1..];
    let known: Vec<&str> = match tail
        .find("expected one of ")
        .or_else(|| tail.find("expected "))
    {
        Some(i) => tail[i..]
            .trim_start_matches("expected one of ")
            .trim_start_matches("expected ")
            .split(", ")
            .map(|s| s.trim_matches('`').trim())
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let mut msg = format!(
        "unknown key `{key}`{}",
        did_you_mean(key, known.iter().copied())
    );
    if !known.is_empty() {
        msg.push_str(&format!("; known keys here: {}", known.join(", ")));
    }
    msg
}

fn strip_location_suffix(s: &str) -> String {
    // serde-saphyr appends " at line X column Y"; the position is already in our prefix.
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// A YAML node with the position of every key, for the source map.
enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_u128<E>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

fn record(node: &Node, prefix: String, file: &Arc<PathBuf>, map: &mut SourceMap) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                let path = join(&k.value);
                map.insert(path.clone(), loc_pos(&k.referenced, file));
                record(&v.value, path, file, map);
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let path = join(&i.to_string());
                map.insert(path.clone(), loc_pos(&item.referenced, file));
                record(&item.value, path, file, map);
            }
        }
        Node::Scalar => {}
    }
}

fn loc_pos(loc: &serde_saphyr::Location, file: &Arc<PathBuf>) -> Pos {
    Pos::new(
        file,
        u32::try_from(loc.line()).unwrap_or(u32::MAX).max(1),
        u32::try_from(loc.column()).unwrap_or(u32::MAX).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Family, Version};

    fn p(text: &str) -> Result<(Config, SourceMap), Vec<Diagnostic>> {
        parse(text, Path::new("t.yaml"))
    }

    #[test]
    fn a_unicast_peer_is_an_address_or_a_map_with_a_ttl_range() {
        use crate::config::model::UnicastPeer;
        let text = "instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    unicast_peer:\n      - '192.0.2.2'\n      - {address: '192.0.2.3', min_ttl: 250}\n      - {address: '192.0.2.4', min_ttl: 1, max_ttl: 64}\n";
        let (c, _) = p(text).expect("valid");
        let peers = &c.instances[0].unicast_peers;
        let ip = |s: &str| s.parse().expect("literal");
        assert_eq!(peers[0], UnicastPeer::new(ip("192.0.2.2")));
        assert_eq!(
            (peers[1].address, peers[1].ttl_range()),
            (ip("192.0.2.3"), (250, 255))
        );
        assert_eq!(peers[2].ttl_range(), (1, 64));
        // Written back, a plain peer stays plain and the others keep their range.
        let again = to_string(&c).expect("serialises");
        assert!(again.contains("- \"192.0.2.2\"\n"), "{again}");
        let (back, _) = p(&again).expect("reparses");
        assert_eq!(back.instances[0].unicast_peers, *peers);
        assert!(p("instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    unicast_peer:\n      - {address: '192.0.2.3', min_tll: 250}\n").is_err());
    }

    #[test]
    fn minimal_instance_gets_keepalived_defaults() {
        let (c, _) = p("instances:\n  - name: VI_1\n    interface: eth0\n    virtual_router_id: 51\n    virtual_ipaddress:\n      - {addr: 192.0.2.1, prefix_len: 24}\n")
            .expect("valid");
        let i = &c.instances[0];
        assert_eq!(i.priority.get(), 100);
        assert_eq!(i.advert_int.get(), 100);
        assert_eq!(i.version, Version::V2);
        assert!(i.preempt);
        assert_eq!(i.garp.master_delay.get(), 500);
    }

    #[test]
    fn a_track_process_without_weight_has_keepalived_default_zero() {
        let (c, _) = p("track_processes:\n  - name: P\n    process: [nginx]\n").expect("valid");
        assert_eq!(c.track_processes[0].weight, 0);
    }

    #[test]
    fn ipv6_instance_is_v3_and_v6() {
        let (c, _) = p("instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    virtual_ipaddress:\n      - {addr: 'fe80::1', prefix_len: 64}\n").expect("valid");
        assert_eq!(c.instances[0].family, Family::V6);
        assert_eq!(c.instances[0].version, Version::V3);
    }

    /// The values docs/config.md gives for `version`, `vrrp_version` and `family` are the
    /// ones the parser takes (they once said `V2|V3` and `V4|V6`, which it refuses), and a
    /// wrong spelling is told what to write.
    #[test]
    fn the_documented_version_and_family_values_parse() {
        let docs = include_str!("../../docs/config.md");
        let row = |key: &str| {
            docs.lines()
                .find(|l| l.starts_with(&format!("| `{key}` |")))
                .unwrap_or_else(|| panic!("no docs row for {key}"))
                .to_owned()
        };
        let instance = |extra: &str| {
            format!(
                "instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n{extra}"
            )
        };
        for (key, values) in [("version", ["2", "3"]), ("family", ["ipv4", "ipv6"])] {
            let row = row(key);
            for v in values {
                assert!(row.contains(&format!("`{v}`")), "docs row for {key}: {row}");
                p(&instance(&format!("    {key}: {v}\n")))
                    .unwrap_or_else(|e| panic!("{key}: {v} refused: {e:?}"));
            }
        }
        assert!(row("vrrp_version").contains("`2` or `3`"));
        let err = p(&instance("    version: V3\n")).expect_err("V3 is not a version");
        assert!(
            err[0].to_string().contains("write `version: 3`"),
            "{}",
            err[0]
        );
        let err = p(&instance("    version: 4\n")).expect_err("4 is not a version");
        assert!(err[0].to_string().contains("2 or 3, not 4"), "{}", err[0]);
    }

    #[test]
    fn unknown_key_is_reported_with_position_and_suggestion() {
        let err = p("instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    priorty: 5\n").expect_err("unknown key");
        let text = err[0].to_string();
        assert!(text.starts_with("t.yaml:5:"), "{text}");
        assert!(
            text.contains("unknown key `priorty` (did you mean `priority`?)"),
            "{text}"
        );
    }

    #[test]
    fn global_garp_is_inherited_unless_set() {
        let (c, _) = p("global:\n  garp:\n    master_delay: 2\ninstances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n  - name: b\n    interface: eth0\n    virtual_router_id: 2\n    garp:\n      master_delay: 7\n").expect("valid");
        assert_eq!(c.instances[0].garp.master_delay.get(), 200);
        assert_eq!(c.instances[0].garp.lower_prio_delay.get(), 200);
        assert_eq!(c.instances[1].garp.master_delay.get(), 700);
        assert_eq!(c.instances[1].garp.lower_prio_delay.get(), 700);
    }
}
