//! Include cycles and budgets: a config that includes itself must fail fast, once, with
//! bounded memory; legal shapes (a file included twice side by side) keep working.

use std::path::Path;
use std::time::{Duration, Instant};

use super::lexer::{Lexer, MAX_DIAGNOSTICS, MAX_FILES, TokKind};
use crate::config::diagnostic::Diagnostic;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Lexes `main` from `dir`: the words, the diagnostics, and how long it took.
fn lex(dir: &Path, main: &str) -> (Vec<String>, Vec<Diagnostic>, Duration) {
    let started = Instant::now();
    let mut l = Lexer::new("x".into());
    l.lex_file(&dir.join(main), None);
    let diags = l.take_diagnostics();
    let words = l
        .tokens
        .iter()
        .filter_map(|t| match &t.kind {
            TokKind::Word(w) => Some(w.clone()),
            _ => None,
        })
        .collect();
    (words, diags, started.elapsed())
}

#[test]
fn a_file_including_itself_is_one_error_per_include_and_fast() {
    for times in 1..=3 {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{}global_defs {{\n}}\n",
            "include self.conf\n".repeat(times)
        );
        write(dir.path(), "self.conf", &text);
        let (words, diags, took) = lex(dir.path(), "self.conf");
        assert_eq!(diags.len(), times, "{times} self-includes: {diags:?}");
        assert!(
            took < Duration::from_secs(1),
            "{times} self-includes took {took:?}"
        );
        let path = std::fs::canonicalize(dir.path().join("self.conf")).unwrap();
        let want = format!(
            "{}:1:9: error: include cycle: {p} -> {p}",
            dir.path().join("self.conf").display(),
            p = path.display()
        );
        assert!(diags[0].to_string().starts_with(&want), "{}", diags[0]);
        // The rest of the file is still read once.
        assert_eq!(words, ["global_defs"]);
    }
}

#[test]
fn a_mutual_include_names_the_whole_cycle() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", "include b.conf\n");
    write(dir.path(), "b.conf", "b_word\ninclude a.conf\n");
    let (words, diags, _) = lex(dir.path(), "a.conf");
    assert_eq!(diags.len(), 1, "{diags:?}");
    let canon = |n: &str| {
        std::fs::canonicalize(dir.path().join(n))
            .unwrap()
            .display()
            .to_string()
    };
    let msg = diags[0].to_string();
    assert!(
        msg.contains(&format!(
            "include cycle: {} -> {} -> {}",
            canon("a.conf"),
            canon("b.conf"),
            canon("a.conf")
        )),
        "{msg}"
    );
    // Reported where b.conf includes a.conf (line 2, the pattern's column).
    assert!(
        msg.starts_with(&format!("{}:2:9:", dir.path().join("b.conf").display())),
        "{msg}"
    );
    assert_eq!(words, ["b_word"]);
}

#[test]
fn a_cycle_through_a_glob_and_a_symlink_is_found() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    write(dir.path(), "main.conf", "include conf.d/*.conf\n");
    std::os::unix::fs::symlink(
        dir.path().join("main.conf"),
        dir.path().join("conf.d/x.conf"),
    )
    .unwrap();
    let (_, diags, _) = lex(dir.path(), "main.conf");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].message.contains("include cycle"), "{}", diags[0]);
}

#[test]
fn a_diamond_is_legal_and_reads_the_shared_file_twice() {
    // keepalived has no notion of "already included": A including B and C, which both
    // include D, reads D twice. Only re-entering a file still open is a cycle.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", "include b.conf\ninclude c.conf\n");
    write(dir.path(), "b.conf", "b\ninclude d.conf\n");
    write(dir.path(), "c.conf", "c\ninclude d.conf\n");
    write(dir.path(), "d.conf", "d\n");
    let (words, diags, _) = lex(dir.path(), "a.conf");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(words, ["b", "d", "c", "d"]);
}

#[test]
fn an_include_explosion_stops_at_the_file_budget() {
    // f0 includes f1 twice, f1 includes f2 twice, ...: no cycle, but 2^15 files to read.
    let dir = tempfile::tempdir().unwrap();
    for k in 0..15 {
        let next = format!("include f{}.conf\n", k + 1);
        write(dir.path(), &format!("f{k}.conf"), &next.repeat(2));
    }
    write(dir.path(), "f15.conf", "leaf\n");
    let (words, diags, took) = lex(dir.path(), "f0.conf");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0]
            .message
            .contains(&format!("more than {MAX_FILES} files")),
        "{}",
        diags[0]
    );
    assert!(words.len() < MAX_FILES, "{} leaves read", words.len());
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn an_oversized_include_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.conf", "include big.conf\nafter\n");
    // Sparse: 65 MiB on paper, nothing on disk.
    let big = std::fs::File::create(dir.path().join("big.conf")).unwrap();
    big.set_len(65 << 20).unwrap();
    let (words, diags, _) = lex(dir.path(), "main.conf");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].message.contains("larger than 64 MiB"),
        "{}",
        diags[0]
    );
    assert_eq!(words, ["after"]);
}

#[test]
fn an_include_that_is_a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.conf", "include pipe\n");
    nix::unistd::mkfifo(
        &dir.path().join("pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    // No writer ever comes: a lexer that opened it for a blocking read would hang here.
    let (_, diags, took) = lex(dir.path(), "main.conf");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].message.contains("not a regular file"),
        "{}",
        diags[0]
    );
    assert!(took < Duration::from_secs(1));
}

#[test]
fn diagnostics_stop_at_the_cap_with_a_count_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.conf", &"a \"unterminated\n".repeat(250));
    let (_, diags, _) = lex(dir.path(), "main.conf");
    assert_eq!(diags.len(), MAX_DIAGNOSTICS + 1);
    assert!(
        diags[MAX_DIAGNOSTICS]
            .message
            .starts_with("and 150 more problems"),
        "{}",
        diags[MAX_DIAGNOSTICS]
    );
}
