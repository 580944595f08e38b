//! Under systemd, stderr is the journal and `JOURNAL_STREAM` names it: every line vigil
//! writes then starts with its syslog priority (sd-daemon(3)) so that `journalctl -p err`
//! filters, with no colour codes and no timestamp. The stream here is a plain file whose
//! device and inode the test puts in `JOURNAL_STREAM`, as systemd would for its socket.

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

/// Runs `vigil run` on an invalid configuration (it logs that it starts, then refuses the
/// file: info then errors, and no daemon), stderr into a file; returns what it wrote.
fn run_with_stderr(journal: bool, extra: &[&str]) -> String {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("vigil-journal-log-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("bad.conf");
    std::fs::write(&config, "vrrp_instance VI_1 {\n  no_such_keyword 1\n}\n").expect("config");
    let err_path = dir.join(if journal { "journal" } else { "plain" });
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let meta = err.metadata().expect("fstat");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.args(extra)
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env_remove("VIGIL_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
    if journal {
        cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
    }
    let status = cmd.status().expect("run vigil");
    assert!(!status.success(), "an invalid configuration must fail");
    let text = std::fs::read_to_string(&err_path).expect("read stderr");
    let _ = std::fs::remove_dir_all(&dir);
    text
}

#[test]
fn journal_lines_carry_syslog_priorities_and_no_escape_codes() {
    let text = run_with_stderr(true, &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>") && l.contains("starting")),
        "no <6> start-up line:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<3>") && l.contains("no_such_keyword")),
        "no <3> diagnostic:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<3>vigil: ") && l.contains("nothing was started")),
        "no <3> final error:\n{text}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "every line has a priority:\n{text}"
    );
    assert!(
        !text.contains('\x1b'),
        "escape codes in the journal:\n{text}"
    );
    // journald stamps lines itself: no RFC 3339 timestamp (2026-12-01T...).
    assert!(
        !lines.iter().any(|l| l
            .get(3..7)
            .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))),
        "timestamp under journald:\n{text}"
    );
}

#[test]
fn a_plain_file_gets_no_prefix_and_no_colour() {
    let text = run_with_stderr(false, &[]);
    assert!(text.contains("starting"), "{text}");
    assert!(!text.contains("<3>") && !text.contains("<6>"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");
}

#[test]
fn log_level_and_json_flags_apply() {
    // --log-level error hides the start-up line; the errors stay.
    let text = run_with_stderr(true, &["--log-level", "error"]);
    assert!(!text.contains("starting"), "{text}");
    assert!(text.contains("<3>vigil: "), "{text}");
    // JSON: one object per line after the prefix.
    let text = run_with_stderr(true, &["--log-format", "json"]);
    let start = text
        .lines()
        .find_map(|l| l.strip_prefix("<6>"))
        .unwrap_or_else(|| panic!("no <6> line:\n{text}"));
    let value: serde_json::Value = serde_json::from_str(start).expect("JSON line");
    assert_eq!(value["level"], "INFO", "{text}");
    // Diagnostics and the final error are JSON too, with their priority.
    for line in text.lines() {
        let json = line.get(3..).unwrap_or_default();
        assert!(
            serde_json::from_str::<serde_json::Value>(json).is_ok(),
            "not JSON: {line}"
        );
    }
    assert!(text.lines().any(|l| l.starts_with("<3>{")), "{text}");
    assert!(
        value["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("starting"))
    );
}
