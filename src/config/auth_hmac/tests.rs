//! The `auth_hmac` block through both loaders, key decoding, key files and `vigil check`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;
use crate::config::{LoadOptions, Severity, load_keepalived_str, load_yaml_str};

const KEY_HEX: &str = "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY_TEXT: &str = "an-ascii-key-of-thirty-two-bytes";

fn conf(block: &str, extra: &str) -> String {
    format!(
        "vrrp_instance V {{\n interface eth0\n virtual_router_id 1\n version 3\n virtual_ipaddress {{\n  10.0.0.1\n }}\n{extra} auth_hmac {{\n{block} }}\n}}\n"
    )
}

fn load(text: &str) -> Result<crate::config::Loaded, crate::config::Diagnostics> {
    load_keepalived_str(text, Path::new("f.conf"), &LoadOptions::default())
}

fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("expected errors, loaded with {:?}", l.warnings),
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_keepalived_block_maps_every_keyword() {
    let text = conf(
        &format!(
            "  key 1 {KEY_HEX}\n  key 2 {KEY_TEXT}\n  active_key 2\n  time_window 12\n  anti_replay monotonic\n  mode permissive\n"
        ),
        "",
    );
    let l = load(&text).expect("loads");
    let ah = l.model.instances[0].auth_hmac.as_ref().expect("auth_hmac");
    assert_eq!(ah.active_key, 2);
    assert_eq!(ah.time_window, Some(12));
    assert_eq!(ah.anti_replay, AntiReplay::Monotonic);
    assert_eq!(ah.mode, Mode::Permissive);
    let ids: Vec<u8> = ah.keys.iter().map(|k| k.id).collect();
    assert_eq!(ids, [1, 2]);
    let secret = |i: usize| {
        ah.keys[i]
            .secret
            .clone()
            .expect("decoded")
            .as_bytes()
            .to_vec()
    };
    assert_eq!(secret(0), (0u8..32).collect::<Vec<_>>());
    assert_eq!(secret(1), KEY_TEXT.as_bytes());
    // With a time window but monotonic anti-replay, the window is said to do nothing.
    assert!(l.warnings.iter().any(|w| w.message.contains("no effect")));
    // The run-time form: monotonic has no window.
    let rt = runtime(ah, 1).expect("runtime");
    assert_eq!(rt.time_window, None);
    assert_eq!(rt.active().map(|k| k.id), Some(2));
}

#[test]
fn defaults_are_keepalived_s() {
    let l = load(&conf(&format!("  key 7 {KEY_HEX}\n  active_key 7\n"), "")).expect("loads");
    let ah = l.model.instances[0].auth_hmac.as_ref().expect("auth_hmac");
    assert_eq!(
        (ah.mode, ah.anti_replay, ah.time_window),
        (Mode::Enforce, AntiReplay::Time, None)
    );
    // 3 intervals, at least 5 and at most 300 seconds.
    assert_eq!(runtime(ah, 1).expect("rt").time_window, Some(5));
    assert_eq!(runtime(ah, 0).expect("rt").time_window, Some(5));
    assert_eq!(runtime(ah, 4).expect("rt").time_window, Some(12));
    assert_eq!(runtime(ah, 200).expect("rt").time_window, Some(300));
}

#[test]
fn bad_blocks_are_refused_without_quoting_a_key() {
    let cases: [(&str, &str); 8] = [
        ("  key 1 hex:0011\n  active_key 1\n", "2 bytes long"),
        (
            &format!("  key 1 {}\n  active_key 1\n", "x".repeat(65)),
            "65 bytes long",
        ),
        (
            "  key 1 hex:zz00112233\n  active_key 1\n",
            "not a hex digit",
        ),
        (
            &format!("  key 0 {KEY_HEX}\n  active_key 1\n"),
            "between 1 and 255",
        ),
        (
            &format!("  key 1 {KEY_HEX}\n  key 1 {KEY_TEXT}\n  active_key 1\n"),
            "duplicate auth_hmac key id 1",
        ),
        (
            &format!("  key 1 {KEY_HEX}\n  active_key 2\n"),
            "active_key 2 is not defined",
        ),
        (
            &format!("  key 1 {KEY_HEX}\n"),
            "active_key 0 is not defined",
        ),
        (
            &format!("  key 1 {KEY_HEX}\n  active_key 1\n  time_window 301\n"),
            "between 1 and 300",
        ),
    ];
    for (block, want) in cases {
        let errs = errors(&conf(block, ""));
        assert!(errs.iter().any(|e| e.contains(want)), "{want}: {errs:?}");
        for e in &errs {
            assert!(
                !e.contains("000102") && !e.contains("thirty-two") && !e.contains("xxxx"),
                "{e}"
            );
        }
    }
    let errs = errors(&conf(
        &format!("  key 1 {KEY_HEX}\n  active_key 1\n  mode lax\n"),
        "",
    ));
    assert!(
        errs.iter()
            .any(|e| e.contains("enforce, permissive or receive-only")),
        "{errs:?}"
    );
    let errs = errors(&conf(
        &format!("  key 1 {KEY_HEX}\n  active_key 1\n  keys 2\n"),
        "",
    ));
    assert!(
        errs.iter()
            .any(|e| e.contains("unknown keyword `keys` in auth_hmac")),
        "{errs:?}"
    );
}

#[test]
fn legacy_authentication_is_dropped_as_keepalived_does() {
    let text = format!(
        "vrrp_instance V {{\n interface eth0\n virtual_router_id 1\n version 2\n virtual_ipaddress {{\n  10.0.0.1\n }}\n authentication {{\n  auth_type PASS\n  auth_pass secret\n }}\n auth_hmac {{\n  key 1 {KEY_HEX}\n  active_key 1\n }}\n}}\n"
    );
    let l = load(&text).expect("loads");
    let inst = &l.model.instances[0];
    assert_eq!(inst.auth, None);
    assert!(inst.auth_hmac.is_some());
    assert!(
        l.warnings
            .iter()
            .any(|w| w.to_string().starts_with("f.conf:8:2: warning:")
                && w.message
                    .contains("auth_hmac cannot be combined with authentication")),
        "{:?}",
        l.warnings
    );
    let strict = LoadOptions {
        strict: true,
        ..Default::default()
    };
    assert!(load_keepalived_str(&text, Path::new("f.conf"), &strict).is_err());
}

#[test]
fn strict_mode_forces_enforce() {
    let text = conf(
        &format!("  key 1 {KEY_HEX}\n  active_key 1\n  mode receive-only\n"),
        " strict_mode on\n",
    );
    let l = load(&text).expect("loads");
    let ah = l.model.instances[0].auth_hmac.as_ref().expect("auth_hmac");
    assert_eq!(ah.mode, Mode::Enforce);
    assert!(l.warnings.iter().any(|w| {
        w.message
            .contains("strict mode requires auth_hmac mode enforce")
    }));
}

#[test]
fn yaml_takes_the_same_block() {
    let yaml = format!(
        "instances:\n  - name: V\n    interface: eth0\n    virtual_router_id: 1\n    version: 3\n    virtual_ipaddress: [{{addr: 10.0.0.1, prefix_len: 32}}]\n    auth_hmac:\n      keys:\n        - id: 3\n          key: \"{KEY_HEX}\"\n      active_key: 3\n      mode: receive-only\n"
    );
    let l = load_yaml_str(&yaml, Path::new("v.yaml"), &LoadOptions::default()).expect("loads");
    let ah = l.model.instances[0].auth_hmac.as_ref().expect("auth_hmac");
    assert_eq!(ah.mode, Mode::ReceiveOnly);
    assert!(ah.keys[0].secret.is_some());
    // Legacy authentication beside it is an error in vigil's own format.
    let both = yaml
        .replace(
            "    auth_hmac:",
            "    authentication: {pass: secret}\n    version: 2\n    auth_hmac:",
        )
        .replace("    version: 3\n", "");
    let e =
        load_yaml_str(&both, Path::new("v.yaml"), &LoadOptions::default()).expect_err("refused");
    assert!(
        e.0.iter()
            .any(|d| d.severity == Severity::Error
                && d.message.contains("replaces `authentication`")),
        "{e:?}"
    );
}

#[test]
fn hex_keys_decode_as_keepalived_reads_them() {
    assert_eq!(decode_key("hex:0a0B ff"), Ok(vec![0x0a, 0x0b, 0xff]));
    assert_eq!(
        decode_key("hex:1 2"),
        Ok(vec![1, 2]),
        "a lone digit is a byte"
    );
    assert_eq!(decode_key("plain"), Ok(b"plain".to_vec()));
    assert!(decode_key("hex:").is_err());
    assert!(decode_key("hex:0g").is_err());
}

fn key_file(dir: &Path, mode: u32, content: &str) -> std::path::PathBuf {
    let path = dir.join("hmac.key");
    std::fs::write(&path, content).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path
}

#[test]
fn a_key_file_open_to_group_or_others_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = key_file(dir.path(), 0o600, &format!("{KEY_HEX}\n"));
    assert_eq!(
        read_key_file(&path).expect("0600 is fine").as_bytes(),
        (0u8..32).collect::<Vec<_>>()
    );
    for mode in [0o644, 0o640, 0o604, 0o620, 0o610, 0o601] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let e = read_key_file(&path).expect_err("refused");
        assert!(e.contains(&format!("mode {mode:04o}")), "{e}");
        assert!(!e.contains("000102"), "{e}");
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).expect("chmod");
    assert!(read_key_file(&path).is_ok());
    // Too short, too long, missing, a directory.
    let short = key_file(dir.path(), 0o600, "hex:0011");
    assert!(
        read_key_file(&short)
            .expect_err("short")
            .contains("2 bytes")
    );
    let long = key_file(dir.path(), 0o600, &"a".repeat(200));
    assert!(
        read_key_file(&long)
            .expect_err("long")
            .contains("too large")
    );
    assert!(read_key_file(&dir.path().join("none")).is_err());
    assert!(
        read_key_file(dir.path())
            .expect_err("dir")
            .contains("not a regular file")
    );
}

#[test]
fn vigil_check_refuses_a_0644_key_file_and_never_prints_a_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = key_file(dir.path(), 0o644, KEY_TEXT);
    let text = conf(
        &format!(
            "  key 1 file:{}\n  key 2 {KEY_HEX}\n  active_key 1\n",
            path.display()
        ),
        "",
    );
    let cfg = dir.path().join("keepalived.conf");
    std::fs::write(&cfg, &text).expect("write");
    let exists = |_: &str| true;
    let mut out = Vec::new();
    let code = crate::config::cli::check_on(&cfg, &LoadOptions::default(), &exists, &mut out);
    let out = String::from_utf8(out).expect("utf8");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(":9:") && out.contains("open to group or others"),
        "{out}"
    );
    assert!(
        !out.contains("thirty-two") && !out.contains("000102"),
        "{out}"
    );

    // 0600: accepted, and still nothing secret in the output.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut out = Vec::new();
    let code = crate::config::cli::check_on(&cfg, &LoadOptions::default(), &exists, &mut out);
    let out = String::from_utf8(out).expect("utf8");
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("thirty-two") && !out.contains("000102"),
        "{out}"
    );
    // A model loaded for `convert` does not read files; planning would refuse it.
    let l = crate::config::load(&cfg, &LoadOptions::default()).expect("loads");
    let ah = l.model.instances[0].auth_hmac.as_ref().expect("auth_hmac");
    assert!(ah.keys[0].secret.is_none());
    assert!(runtime(ah, 1).is_err());
}

#[test]
fn debug_output_hides_inline_keys() {
    let l = load(&conf(&format!("  key 1 {KEY_HEX}\n  active_key 1\n"), "")).expect("loads");
    let shown = format!("{:?}", l.model);
    assert!(!shown.contains("000102"), "{shown}");
}
