//! Every class of mistake gives a `file:line:col: error: ...` that says what to fix, and all
//! problems are reported, not only the first. Plus: arbitrary input never panics.

use std::path::Path;

use proptest::prelude::*;
use vigil::config::{LoadOptions, load_keepalived_str, load_yaml_str};

fn conf_errors(text: &str) -> Vec<String> {
    conf_errors_with(text, false)
}

/// Under `--strict`: keepalived's fix-ups (warnings otherwise) are errors too.
fn conf_errors_with(text: &str, strict: bool) -> Vec<String> {
    let opts = LoadOptions {
        strict,
        config_id: Some("lab".into()),
        ..Default::default()
    };
    match load_keepalived_str(text, Path::new("k.conf"), &opts) {
        Ok(l) => panic!("expected errors, got a model; warnings: {:?}", l.warnings),
        Err(d) => {
            d.0.iter()
                .filter(|d| d.severity == vigil::config::Severity::Error)
                .map(ToString::to_string)
                .collect()
        }
    }
}

fn inst(body: &str) -> String {
    format!("vrrp_instance A {{\n    interface eth0\n    virtual_router_id 1\n{body}}}\n")
}

#[track_caller]
fn expect(text: &str, wanted: &str) {
    expect_with(text, wanted, false);
}

#[track_caller]
fn expect_with(text: &str, wanted: &str, strict: bool) {
    let errs = conf_errors_with(text, strict);
    assert!(
        errs.iter().any(|e| e == wanted),
        "wanted:\n{wanted}\ngot:\n{}",
        errs.join("\n")
    );
}

#[test]
fn unknown_instance_keyword_suggests_the_right_one() {
    expect(
        &inst("    priorty 5\n"),
        "k.conf:4:5: error: unknown keyword `priorty` in vrrp_instance (did you mean `priority`?)",
    );
}

#[test]
fn priority_out_of_range() {
    expect(
        &inst("    priority 256\n"),
        "k.conf:4:14: error: `priority` must be from 1 to 255 (255 = address owner; 0 is reserved, RFC 5798 §5.2.4), not `256`",
    );
}

#[test]
fn duplicate_vrid_on_the_same_interface_and_family() {
    let text = format!(
        "{}{}",
        inst("    virtual_ipaddress {\n        192.0.2.1\n    }\n"),
        "vrrp_instance B {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        192.0.2.2\n    }\n}\n"
    );
    expect(
        &text,
        "k.conf:10:5: error: instance `B`: virtual_router_id 1 is already used on eth0 (IPv4) by instance `A`: choose another VRID",
    );
}

#[test]
fn ipv6_address_in_an_ipv4_instance() {
    expect(
        &inst("    virtual_ipaddress {\n        192.0.2.1/24\n        2001:db8::1/64\n    }\n"),
        "k.conf:6:9: error: instance `A`: virtual address 2001:db8::1 is not IPv4 like the instance: one instance carries one family (RFC 5798 §7.1); move it to virtual_ipaddress_excluded or to another instance",
    );
}

#[test]
fn version_2_with_ipv6() {
    expect(
        &inst("    version 2\n    virtual_ipaddress {\n        fe80::1/64\n    }\n"),
        "k.conf:4:5: error: instance `A`: VRRPv2 carries only IPv4 (RFC 3768): use `version 3` for IPv6 addresses",
    );
}

#[test]
fn sub_second_advert_int_with_v2() {
    // keepalived rounds it with a warning (fixup.rs); --strict refuses.
    expect_with(
        &inst("    advert_int 0.5\n    virtual_ipaddress {\n        192.0.2.1\n    }\n"),
        "k.conf:4:5: error: instance `A`: VRRPv2 advertisement interval 0.50s must be an integer. rounding (keepalived's fix-up): 1.00s is used; write it, or run with --strict to refuse",
        true,
    );
}

#[test]
fn unicast_peer_of_the_wrong_family() {
    expect(
        &inst(
            "    virtual_ipaddress {\n        192.0.2.1\n    }\n    unicast_peer {\n        2001:db8::2\n    }\n",
        ),
        "k.conf:8:9: error: instance `A`: unicast peer 2001:db8::2 is not IPv4 like the instance's addresses: list peers of the instance's family",
    );
}

/// keepalived ignores the block with a warning and runs (fixup.rs); --strict refuses.
#[test]
fn authentication_with_v3() {
    expect_with(
        &inst(
            "    version 3\n    authentication {\n        auth_type PASS\n        auth_pass x\n    }\n    virtual_ipaddress {\n        192.0.2.1\n    }\n",
        ),
        "k.conf:5:5: error: instance `A`: VRRP version 3 does not support authentication. Ignoring. (keepalived's fix-up): adverts are sent and accepted WITHOUT authentication; remove the authentication block, or run with --strict to refuse",
        true,
    );
}

#[test]
fn sync_group_with_an_unknown_instance() {
    let text = format!(
        "{}vrrp_sync_group G {{\n    group {{\n        A\n        B_typo\n    }}\n}}\n",
        inst("    virtual_ipaddress {\n        192.0.2.1\n    }\n")
    );
    // keepalived ignores the member with a warning (fixup.rs); --strict refuses.
    expect_with(
        &text,
        "k.conf:11:9: error: Virtual router B_typo specified in sync group G doesn't exist - ignoring (keepalived's fix-up): define the vrrp_instance or remove it from the group, or run with --strict to refuse",
        true,
    );
}

#[test]
fn track_script_naming_an_unknown_script() {
    let text = format!(
        "vrrp_script chk_web {{\n    script /bin/true\n}}\n{}",
        inst(
            "    virtual_ipaddress {\n        192.0.2.1\n    }\n    track_script {\n        chk_wbe\n    }\n"
        )
    );
    // keepalived ignores the reference with a warning and runs (fixup.rs); --strict refuses.
    expect_with(
        &text,
        "k.conf:11:9: error: instance `A`: track script `chk_wbe` not found, ignoring (keepalived's fix-up) (did you mean `chk_web`?): define `vrrp_script chk_wbe { script ... }`, or run with --strict to refuse",
        true,
    );
}

#[test]
fn missing_interface_and_vrid() {
    let errs = conf_errors("vrrp_instance X {\n    priority 10\n}\n");
    assert_eq!(
        errs,
        [
            "k.conf:1:1: error: vrrp_instance `X` has no `interface`: add e.g. `interface eth0`",
            "k.conf:1:1: error: vrrp_instance `X` has no `virtual_router_id`: add one from 1 to 255, the same on every router of this virtual router",
        ]
    );
}

#[test]
fn bad_values_are_all_reported_at_once() {
    // Under --strict, keepalived's fix-ups (a bad address skipped, a long prefix shortened)
    // are errors among the others.
    let errs = conf_errors_with(
        &inst(
            "    advert_int fast\n    state LEADER\n    virtual_ipaddress {\n        192.0.2.300/24\n        192.0.2.1/33\n        192.0.2.2 dve eth0\n    }\n",
        ),
        true,
    );
    assert_eq!(
        errs,
        [
            "k.conf:4:16: error: `advert_int` must be a number of seconds with at most 2 decimals (e.g. 1 or 0.25), not `fast`",
            "k.conf:5:11: error: `state` is MASTER or BACKUP, not `LEADER`",
            "k.conf:7:9: error: VRRP parsed invalid IP 192.0.2.300/24. skipping IP... (keepalived's fix-up): the address is not used; write an IP address with an optional /prefix length, or run with --strict to refuse",
            "k.conf:8:9: error: Invalid address prefix len 33 for address 192.0.2.1/33 - using 32 (keepalived's fix-up); write /32 or less, or run with --strict to refuse",
            "k.conf:9:19: error: unknown address option `dve` (did you mean `dev`?)",
        ]
    );
}

#[test]
fn unbalanced_braces() {
    expect(
        "vrrp_instance A {\n    interface eth0\n",
        "k.conf:1:17: error: block opened here is never closed: add a `}`",
    );
}

#[test]
fn unknown_top_level_keyword_is_a_warning_unless_strict() {
    let text = format!(
        "vrrp_instnace B {{\n}}\n{}",
        inst("    virtual_ipaddress {\n        192.0.2.1\n    }\n")
    );
    let ok = load_keepalived_str(&text, Path::new("k.conf"), &LoadOptions::default())
        .expect("warning only");
    assert_eq!(
        ok.warnings[0].to_string(),
        "k.conf:1:1: warning: unknown keyword `vrrp_instnace` in the top level (did you mean `vrrp_instance`?); ignored"
    );
    let strict = LoadOptions {
        strict: true,
        config_id: None,
        ..Default::default()
    };
    let err = load_keepalived_str(&text, Path::new("k.conf"), &strict).expect_err("strict");
    assert!(
        err.0[0]
            .to_string()
            .starts_with("k.conf:1:1: error: unknown keyword")
    );
}

#[test]
fn yaml_semantic_errors_point_at_the_yaml_line() {
    let text = "instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 1\n    priority: 0\n    virtual_ipaddress:\n      - {addr: 192.0.2.1, prefix_len: 24}\n      - {addr: '2001:db8::1', prefix_len: 64}\n";
    let err =
        load_yaml_str(text, Path::new("v.yaml"), &LoadOptions::default()).expect_err("invalid");
    let lines: Vec<String> = err.0.iter().map(ToString::to_string).collect();
    assert!(lines.contains(&"v.yaml:5:5: error: instance `a`: priority 0 is reserved (RFC 5798 §5.2.4): use 1 to 254, or 255 for the address owner".to_string()), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with(
            "v.yaml:8:9: error: instance `a`: virtual address 2001:db8::1 is not IPv4"
        )),
        "{lines:#?}"
    );
}

#[test]
fn yaml_type_errors_have_positions() {
    let err = load_yaml_str(
        "instances:\n  - name: a\n    interface: eth0\n    virtual_router_id: 0\n",
        Path::new("v.yaml"),
        &LoadOptions::default(),
    )
    .expect_err("vrid 0");
    assert!(
        err.0[0].to_string().starts_with("v.yaml:4:"),
        "{}",
        err.0[0]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_keepalived_text_never_panics(text in "(\\PC|[{}\\n\"'$@#!\\\\ ]){0,400}") {
        let _ = load_keepalived_str(&text, Path::new("p.conf"), &LoadOptions::default());
    }

    #[test]
    fn keyword_soup_never_panics(words in proptest::collection::vec(prop_oneof![
        Just("vrrp_instance"), Just("{"), Just("}"), Just("\n"), Just("interface"), Just("eth0"),
        Just("virtual_router_id"), Just("1"), Just("256"), Just("virtual_ipaddress"),
        Just("192.0.2.1/24"), Just("fe80::1"), Just("$X=${X}${X}"), Just("$X"), Just("@lab"),
        Just("track_script"), Just("vrrp_sync_group"), Just("group"), Just("advert_int"), Just("0.5"),
        Just("authentication"), Just("auth_type"), Just("AH"), Just("virtual_routes"), Just("src"),
        Just("blackhole"), Just("via"), Just("use_vmac"), Just("\\\n"), Just("\"q"),
    ], 0..120)) {
        let text = words.join(" ");
        let _ = load_keepalived_str(&text, Path::new("p.conf"), &LoadOptions::default());
    }

    #[test]
    fn arbitrary_yaml_never_panics(text in "(\\PC|[:\\-\\n\\[\\]{} ]){0,300}") {
        let _ = load_yaml_str(&text, Path::new("p.yaml"), &LoadOptions::default());
    }
}

/// A file read while it is being rewritten in place is empty: refused, in both formats, with
/// the way to avoid it, instead of becoming a configuration without instances.
#[test]
fn an_empty_file_is_refused_with_the_rename_advice() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [("vigil.yaml", ""), ("keepalived.conf", " \n\t\n")] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = vigil::config::load(&path, &LoadOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name}: an empty file loaded"));
        let text = err.0[0].to_string();
        assert!(
            text.contains("is empty") && text.contains("rename"),
            "{name}: {text}"
        );
    }
}

/// Every unknown keyword is reported; the first 32 of a file get a "did you mean" hint, so
/// a file of thousands is not spent comparing each against a block's keywords.
#[test]
fn unknown_keywords_are_all_reported_and_the_first_32_get_a_hint() {
    let text = format!("global_defs {{\n{}}}\n", "    router_idd lab\n".repeat(40));
    let opts = LoadOptions {
        config_id: Some("lab".into()),
        ..Default::default()
    };
    let messages: Vec<String> = match load_keepalived_str(&text, Path::new("k.conf"), &opts) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(d) => d.0.iter().map(ToString::to_string).collect(),
    };
    let unknown = messages
        .iter()
        .filter(|m| m.contains("unknown keyword `router_idd`"));
    assert_eq!(unknown.clone().count(), 40, "{messages:#?}");
    assert_eq!(
        unknown
            .filter(|m| m.contains("did you mean `router_id`"))
            .count(),
        32,
        "{messages:#?}"
    );
}
