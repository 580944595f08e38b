//! The keepalived.conf corpus: every file loads, covers every keyword vigil lists, converts
//! to YAML that loads back to the same model; etc/ examples pass `vigil check`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vigil::config::keepalived::table::Class;
use vigil::config::keepalived::{blocks, lexer::Lexer, parser};
use vigil::config::{LoadOptions, Severity, cli, load, load_yaml_str, yaml};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "corpus is too small: {files:?}");
    files
}

fn lab1() -> LoadOptions {
    LoadOptions {
        strict: false,
        config_id: Some("lab1".into()),
        ..Default::default()
    }
}

#[test]
fn every_corpus_file_loads() {
    for f in corpus() {
        let loaded = load(&f, &lab1()).unwrap_or_else(|e| panic!("{}:\n{e}", f.display()));
        assert!(!loaded.model.instances.is_empty(), "{}", f.display());
    }
}

#[test]
fn corpus_covers_every_known_keyword() {
    let mut seen = BTreeSet::new();
    fn walk(nodes: &[parser::Node], seen: &mut BTreeSet<String>) {
        for n in nodes {
            seen.insert(n.keyword.clone());
            if let Some(b) = &n.block {
                walk(b, seen);
            }
        }
    }
    let mut dirs = corpus();
    dirs.extend(
        std::fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived/conf.d"),
        )
        .expect("conf.d")
        .filter_map(Result::ok)
        .map(|e| e.path()),
    );
    for f in dirs {
        let mut l = Lexer::new("lab1".into());
        l.lex_file(&f, None);
        let mut d = Vec::new();
        walk(&parser::parse(&l.tokens, &mut d), &mut seen);
    }
    // Every keyword that maps into the model (acted on, or mapped and warned about by
    // config/inert.rs); the ones only warned about take one generic path through the tables.
    let missing: Vec<&str> = blocks::all()
        .iter()
        .flat_map(|b| b.entries.iter())
        .filter(|e| e.class == Class::Acted || (e.parsed && !e.path.is_empty()))
        .flat_map(|e| e.names.iter().copied())
        .filter(|k| !seen.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "keywords missing from the corpus: {missing:?}"
    );
}

#[test]
fn conf_to_yaml_to_model_round_trips() {
    for f in corpus() {
        let model = load(&f, &lab1()).expect("corpus loads").model;
        let text = yaml::to_string(&model).expect("serialises");
        let back = load_yaml_str(&text, Path::new("converted.yaml"), &LoadOptions::default())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: converted YAML does not load:\n{e}\n{text}",
                    f.display()
                )
            })
            .model;
        assert_eq!(
            model,
            back,
            "{}: round trip changed the model\n{text}",
            f.display()
        );
    }
}

#[test]
fn unimplemented_keywords_warn_with_file_and_line() {
    let f = corpus()
        .into_iter()
        .find(|p| p.ends_with("everything.conf"))
        .expect("everything.conf");
    let loaded = load(&f, &lab1()).expect("loads");
    let w: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        w.iter().any(|w| w.contains("everything.conf:")
            && w.contains("`virtual_server` in the top level is accepted but has no effect")),
        "{w:#?}"
    );
    assert!(w.iter().any(|w| w.contains("`lvs_flush`")), "{w:#?}");
    assert!(
        loaded
            .warnings
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    // --strict: the same warnings are errors.
    let strict = LoadOptions {
        strict: true,
        config_id: Some("lab1".into()),
        ..Default::default()
    };
    let err = load(&f, &strict).expect_err("strict turns warnings into errors");
    assert!(err.0.iter().any(|d| {
        d.to_string()
            .contains(": error: `virtual_server` in the top level")
    }));
}

#[test]
fn includes_parameters_and_conditionals_apply() {
    let f = corpus()
        .into_iter()
        .find(|p| p.ends_with("with_includes.conf"))
        .expect("file");
    let m = load(&f, &lab1()).expect("loads").model;
    assert_eq!(m.global.router_id.as_deref(), Some("main_router"));
    assert!(m.global.strict);
    assert_eq!(m.scripts[0].name, "chk_included");
    let names: Vec<&str> = m.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["VI_61", "VI_62", "VI_long"]);
    assert_eq!(m.instances[0].priority.get(), 200);
    assert_eq!(
        m.instances[1].virtual_addresses[0].addr.to_string(),
        "192.0.2.62"
    );
    assert_eq!(
        m.instances[2].virtual_addresses[0].label.as_deref(),
        Some("eth0:63")
    );
    assert_eq!(
        m.instances[2]
            .notify
            .master
            .as_ref()
            .map(|s| s.command.as_str()),
        Some("/bin/echo # not a comment")
    );
    let other = LoadOptions {
        strict: false,
        config_id: Some("other".into()),
        ..Default::default()
    };
    let m = load(&f, &other).expect("loads").model;
    assert_eq!(m.global.router_id.as_deref(), Some("other_router"));
    assert_eq!(m.instances[0].priority.get(), 100);
}

#[test]
fn examples_in_etc_pass_check() {
    let etc = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc");
    for name in ["vigil.yaml", "keepalived.conf"] {
        let mut out = Vec::new();
        // The examples name the interfaces of the machine they are written for.
        let code = cli::check_on(
            &etc.join(name),
            &LoadOptions::default(),
            &|_| true,
            &mut out,
        );
        let text = String::from_utf8_lossy(&out);
        assert_eq!(code, 0, "{name}:\n{text}");
        assert!(text.contains(": ok ("), "{text}");
    }
}

#[test]
fn convert_prints_yaml_that_checks() {
    let etc = Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/keepalived.conf");
    let mut out = Vec::new();
    cli::convert(&etc, &LoadOptions::default(), &mut out).expect("converts");
    let text = String::from_utf8(out).expect("utf-8");
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml_path = dir.path().join("converted.yaml");
    std::fs::write(&yaml_path, &text).expect("write");
    let mut report = Vec::new();
    assert_eq!(
        cli::check_on(&yaml_path, &LoadOptions::default(), &|_| true, &mut report),
        0,
        "{}",
        String::from_utf8_lossy(&report)
    );
    let a = load(&etc, &LoadOptions::default()).expect("loads").model;
    let b = load(&yaml_path, &LoadOptions::default())
        .expect("loads")
        .model;
    assert_eq!(a, b);
}

/// Every key the model can serialise is documented in docs/config.md.
#[test]
fn every_model_key_is_documented() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md"))
            .expect("docs/config.md exists");
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived/everything.conf");
    let model = load(&f, &lab1()).expect("loads").model;
    let value = serde_json::to_value(&model).expect("serialises");
    let mut keys = BTreeSet::new();
    fn walk(v: &serde_json::Value, keys: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    keys.insert(k.clone());
                    walk(v, keys);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    walk(&value, &mut keys);
    // The example must be rich enough to exercise the model's optional parts.
    assert!(keys.len() > 120, "only {} keys serialised", keys.len());
    let undocumented: Vec<&String> = keys
        .iter()
        .filter(|k| !docs.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "keys missing from docs/config.md: {undocumented:?}"
    );
}
