//! keepalived 2.4's VRRP-side keywords against vigil's keyword tables, and docs/config.md's
//! keyword table against the tables.
//!
//! - Every keyword of `src/config/keepalived/keepalived-2.4-keywords.txt` (written from
//!   keepalived's parser source, tag recorded in the file) is in exactly one entry of its
//!   block's table, so it has exactly one class: acted on, warned about with a reason, or
//!   refused. A table keyword not in the list must be marked vigil-only.
//! - The reason "being implemented" is allowed only for the keywords named in `PENDING`.
//! - Each generically warned or refused keyword gets its warning or error, with its reason.
//! - docs/config.md's keyword table is what `blocks::docs::markdown()` generates; to rewrite
//!   it after changing a table: `VIGIL_BLESS=1 cargo test --test keyword_docs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use vigil::config::keepalived::blocks::{self, docs};
use vigil::config::keepalived::table::{Class, Origin, Why};
use vigil::config::{LoadOptions, load_keepalived_str};

/// Keywords whose implementation is under way (issue 9, item 3): the only ones that may carry
/// `Why::Pending`. A keyword leaves this list when it starts acting.
const PENDING: &[&str] = &[];

fn list() -> (String, Vec<(String, String)>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/config/keepalived/keepalived-2.4-keywords.txt");
    let text = std::fs::read_to_string(&path).expect("keyword list");
    let tag = text
        .lines()
        .find_map(|l| l.strip_prefix("# tag: "))
        .expect("the list records the keepalived tag it was read from")
        .to_string();
    let entries = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (b, k) = l.split_once(' ').expect("`BLOCK KEYWORD`");
            (b.to_string(), k.trim().to_string())
        })
        .collect();
    (tag, entries)
}

#[test]
fn every_keepalived_keyword_has_exactly_one_class() {
    let (tag, listed) = list();
    assert!(tag.starts_with("v2.4."), "{tag}");
    let tables = blocks::all();
    let by_name: BTreeMap<&str, _> = tables.iter().map(|b| (b.name, b)).collect();
    let mut problems = Vec::new();
    let mut listed_set = BTreeSet::new();
    for (block, kw) in &listed {
        assert!(
            listed_set.insert((block.clone(), kw.clone())),
            "listed twice: {block} {kw}"
        );
        let Some(table) = by_name.get(block.as_str()) else {
            problems.push(format!("block `{block}` has no table (for `{kw}`)"));
            continue;
        };
        let n = table
            .entries
            .iter()
            .filter(|e| e.names.contains(&kw.as_str()))
            .count();
        if n != 1 {
            problems.push(format!("{block} {kw}: in {n} table entries, not 1"));
        }
    }
    for table in &tables {
        let mut names = BTreeSet::new();
        for e in &table.entries {
            for name in e.names {
                if !names.insert(*name) {
                    problems.push(format!("{} {name}: in the table twice", table.name));
                }
                let listed = listed_set.contains(&(table.name.to_string(), name.to_string()));
                match (listed, e.origin) {
                    (true, Origin::VigilOnly(_)) => problems.push(format!(
                        "{} {name}: marked vigil-only but keepalived has it",
                        table.name
                    )),
                    (false, Origin::Keepalived) => problems.push(format!(
                        "{} {name}: not a keepalived 2.4 keyword (list) and not marked vigil-only",
                        table.name
                    )),
                    _ => {}
                }
            }
            if e.class.why() == Some(Why::Pending) && !e.names.iter().all(|n| PENDING.contains(n)) {
                problems.push(format!(
                    "{} {:?}: `Pending` is not a reason outside the keywords being implemented",
                    table.name, e.names
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Where a keyword of `block` can be put in a minimal file, as `(before, after)`.
fn surround(block: &str) -> Option<(&'static str, &'static str)> {
    const INSTANCE: &str = "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n";
    Some(match block {
        "top" => ("", "\n"),
        "global_defs" => ("global_defs {\n", "\n}\n"),
        "vrrp_instance" => (INSTANCE, "\n}\n"),
        "vrrp_sync_group" => ("vrrp_sync_group G {\n group {\n  VI\n }\n", "\n}\n"),
        _ => return None,
    })
}

#[test]
fn warned_and_refused_keywords_say_why_at_their_line() {
    let mut checked = 0;
    for table in blocks::all() {
        let Some((before, after)) = surround(table.name) else {
            continue;
        };
        for e in table.entries.iter().filter(|e| !e.parsed) {
            let Some(why) = e.class.why() else { continue };
            for name in e.names {
                let line = before.lines().count() + 1;
                let text = format!("{before}{name} 1{after}");
                let text = if table.name == "vrrp_instance" {
                    text
                } else {
                    format!(
                        "{text}vrrp_instance VI {{\n interface eth0\n virtual_router_id 1\n}}\n"
                    )
                };
                let at = format!("k.conf:{line}:");
                let r = load_keepalived_str(&text, Path::new("k.conf"), &LoadOptions::default());
                match (e.class, r) {
                    (Class::Warned(_), Ok(loaded)) => assert!(
                        loaded.warnings.iter().any(|w| {
                            let w = w.to_string();
                            w.starts_with(&at) && w.contains(name) && w.contains(why.text())
                        }),
                        "{} {name}: no warning with its reason at line {line}: {:?}",
                        table.name,
                        loaded.warnings
                    ),
                    (Class::Refused(_), Err(d)) => assert!(
                        d.0.iter().any(|x| {
                            let x = x.to_string();
                            x.starts_with(&at) && x.contains(name) && x.contains(why.text())
                        }),
                        "{} {name}: no error with its reason at line {line}: {d:?}",
                        table.name
                    ),
                    (class, r) => panic!(
                        "{} {name}: {} but loading gave {:?}",
                        table.name,
                        class.label(),
                        r.map(|l| l.warnings)
                    ),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} keywords checked");
}

/// A value that parses for a warned keyword with its own parser.
fn sample_value(name: &str) -> &'static str {
    match name {
        "notification_email" => "{\n  ops@example.com\n }",
        "smtp_server" => "192.0.2.25",
        "notification_email_from" | "smtp_helo_name" => "vigil@example.com",
        "smtp_connect_timeout" => "30",
        "notify_deleted" | "notify_master_rx_lower_pri" => "/bin/true",
        "lvs_sync_daemon_interface" => "eth0",
        _ => "",
    }
}

#[test]
fn warned_keywords_with_their_own_parser_warn_at_their_line() {
    let mut checked = 0;
    for table in blocks::all() {
        let Some((before, after)) = surround(table.name) else {
            continue;
        };
        for e in table.entries.iter().filter(|e| e.parsed) {
            if !matches!(e.class, Class::Warned(_)) {
                continue;
            }
            for name in e.names {
                let line = before.lines().count() + 1;
                let mut text = format!("{before}{name} {}{after}", sample_value(name));
                if table.name != "vrrp_instance" {
                    text.push_str("vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n}\n");
                }
                let loaded =
                    load_keepalived_str(&text, Path::new("k.conf"), &LoadOptions::default())
                        .unwrap_or_else(|d| {
                            panic!("{} {name}: refused: {d:?}\n{text}", table.name)
                        });
                let at = format!("k.conf:{line}:");
                let key = name.replace("smtp_alert_vrrp", "smtp_alert");
                assert!(
                    loaded.warnings.iter().any(|w| {
                        let w = w.to_string();
                        w.starts_with(&at) && w.contains(&format!("`{key}`"))
                    }),
                    "{} {name}: no warning at line {line}: {:?}",
                    table.name,
                    loaded.warnings
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} keywords checked");
}

#[test]
fn docs_keyword_table_is_generated_from_the_tables() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md");
    let text = std::fs::read_to_string(&path).expect("docs/config.md");
    let (Some(b), Some(e)) = (text.find(docs::BEGIN), text.find(docs::END)) else {
        panic!(
            "docs/config.md has no `{}` ... `{}` section",
            docs::BEGIN,
            docs::END
        );
    };
    let current = &text[b + docs::BEGIN.len()..e];
    let wanted = format!("\n\n{}\n\n", docs::markdown().trim());
    if current == wanted {
        return;
    }
    if std::env::var_os("VIGIL_BLESS").is_some() {
        let new = format!("{}{}{}", &text[..b + docs::BEGIN.len()], wanted, &text[e..]);
        std::fs::write(&path, new).expect("rewrite docs/config.md");
        return;
    }
    panic!(
        "docs/config.md's keyword table differs from the keyword tables: run \
         `VIGIL_BLESS=1 cargo test --test keyword_docs` and commit docs/config.md"
    );
}
