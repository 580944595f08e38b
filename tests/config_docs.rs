//! docs/config.md documents every YAML key the parser takes, and no key it refuses.
//!
//! The parser answers a misspelt key with the list of keys known at that place. Each table of
//! the reference is matched with the place it documents: a probe key is put there, and the
//! keys the error lists must be exactly the keys in the table's first column. A key added to
//! the model without a line in the reference, or a documented key the parser does not take,
//! fails here, naming the table and the key.

use std::collections::BTreeSet;
use std::path::Path;

use vigil::config::{LoadOptions, load_yaml_str};

const DOCS: &str = include_str!("../docs/config.md");

const INSTANCE: &str = "instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n";

/// Each table: the heading it follows, and a YAML text with `__probe` where it documents.
fn places() -> Vec<(&'static str, String)> {
    let i = INSTANCE;
    vec![
        ("## Top level", "__probe: 1\n".into()),
        ("## `global`", "global:\n  __probe: 1\n".into()),
        (
            "### `garp` (in `global` and in each instance)",
            "global:\n  garp:\n    __probe: 1\n".into(),
        ),
        ("## `instances[]`", format!("{i}    __probe: 1\n")),
        ("### Notify", format!("{i}    notify:\n      __probe: 1\n")),
        (
            "### Addresses (`virtual_ipaddress`, `virtual_ipaddress_excluded`, `static_addresses`)",
            format!("{i}    virtual_ipaddress:\n      - {{addr: 192.0.2.1, __probe: 1}}\n"),
        ),
        (
            "### Routes (`virtual_routes`, `static_routes`)",
            format!("{i}    virtual_routes:\n      - {{__probe: 1}}\n"),
        ),
        (
            "### Rules (`virtual_rules`, `static_rules`)",
            format!("{i}    virtual_rules:\n      - {{__probe: 1}}\n"),
        ),
        (
            "## `sync_groups[]`",
            "sync_groups:\n  - {name: g, __probe: 1}\n".into(),
        ),
        (
            "## `scripts[]` (`vrrp_script`)",
            "scripts:\n  - {name: g, __probe: 1}\n".into(),
        ),
        (
            "## `track_files[]` (`track_file`, `vrrp_track_file`)",
            "track_files:\n  - {name: g, __probe: 1}\n".into(),
        ),
        (
            "## `track_processes[]` (`vrrp_track_process`)",
            "track_processes:\n  - {name: g, __probe: 1}\n".into(),
        ),
    ]
}

/// The keys in the first column of the first `| YAML key |` table after `heading`.
fn documented(heading: &str) -> BTreeSet<String> {
    let mut lines = DOCS.lines().skip_while(|l| *l != heading);
    assert!(
        lines.next().is_some(),
        "docs/config.md has no heading {heading:?}"
    );
    let table = lines
        .skip_while(|l| !l.starts_with("| YAML key |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'));
    let mut keys = BTreeSet::new();
    for row in table {
        let first = row.split('|').nth(1).unwrap_or_default();
        // "`a`, `b`" or "`a`": every backticked word of the first cell is a key.
        for (n, part) in first.split('`').enumerate() {
            if n % 2 == 1 {
                keys.insert(part.to_owned());
            }
        }
    }
    assert!(!keys.is_empty(), "no YAML key table after {heading:?}");
    keys
}

/// The keys the parser knows where `__probe` stands in `yaml`.
fn known(yaml: &str) -> BTreeSet<String> {
    let err = load_yaml_str(yaml, Path::new("t.yaml"), &LoadOptions::default())
        .err()
        .unwrap_or_else(|| panic!("the probe key was accepted in:\n{yaml}"));
    let text = err
        .0
        .iter()
        .map(ToString::to_string)
        .find(|d| d.contains("unknown key `__probe`"))
        .unwrap_or_else(|| panic!("no unknown-key error for the probe: {err:?}"));
    let list = text
        .split("known keys here: ")
        .nth(1)
        .unwrap_or_else(|| panic!("the error lists no known keys: {text}"));
    list.split(", ").map(|k| k.trim().to_owned()).collect()
}

#[test]
fn every_yaml_key_is_documented_and_every_documented_key_parses() {
    let mut problems = Vec::new();
    for (heading, yaml) in places() {
        let docs = documented(heading);
        let parser = known(&yaml);
        for k in parser.difference(&docs) {
            problems.push(format!(
                "{heading}: key `{k}` is taken by the parser but not documented"
            ));
        }
        for k in docs.difference(&parser) {
            problems.push(format!(
                "{heading}: documented key `{k}` is refused by the parser"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
