//! keepalived 2.4 instance keywords as the loader takes them: `no_virtual_ipaddress`, and
//! `notify_deleted` / `notify_master_rx_lower_pri` (instance keywords only).

use std::path::Path;

use crate::config::{LoadOptions, load_keepalived_str, load_yaml_str};

/// The messages of loading `text`, and whether it loaded.
fn load(text: &str) -> (bool, Vec<String>) {
    match load_keepalived_str(text, Path::new("k.conf"), &LoadOptions::default()) {
        Ok(l) => (true, l.warnings.iter().map(ToString::to_string).collect()),
        Err(e) => (false, e.0.iter().map(ToString::to_string).collect()),
    }
}

fn no_vips(extra: &str) -> String {
    format!("vrrp_instance V {{\n interface eth0\n virtual_router_id 1\n{extra}}}\n")
}

#[test]
fn without_addresses_v2_is_warned_v3_and_strict_refused_as_keepalived_does() {
    let (ok, msgs) = load(&no_vips(" version 2\n"));
    assert!(ok, "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("at least one is sensible") && m.contains("no_virtual_ipaddress")),
        "{msgs:?}"
    );
    for extra in [" version 3\n", " version 2\n strict_mode\n"] {
        let (ok, msgs) = load(&no_vips(extra));
        assert!(!ok, "{extra:?} loaded: {msgs:?}");
        assert!(
            msgs.iter().any(|m| m.contains("at least one is required")),
            "{msgs:?}"
        );
    }
}

#[test]
fn no_virtual_ipaddress_accepts_an_instance_without_addresses_silently() {
    for extra in [" version 2\n", " version 3\n"] {
        let (ok, msgs) = load(&no_vips(&format!("{extra} no_virtual_ipaddress\n")));
        assert!(ok, "{extra:?}: {msgs:?}");
        assert!(
            !msgs.iter().any(|m| m.contains("virtual_ipaddress")),
            "{extra:?}: {msgs:?}"
        );
    }
}

#[test]
fn strict_mode_clears_no_virtual_ipaddress_then_refuses_the_instance() {
    let (ok, msgs) = load(&no_vips(" strict_mode\n no_virtual_ipaddress\n"));
    assert!(!ok, "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.starts_with("k.conf:5:2: warning:")
            && m.contains("no_virtual_ipaddress and strict mode incompatible")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("at least one is required")),
        "{msgs:?}"
    );
}

#[test]
fn yaml_no_virtual_ipaddress_and_strict_mode_is_refused() {
    let y = "instances:\n  - name: V\n    interface: eth0\n    virtual_router_id: 1\n    version: 3\n    no_virtual_ipaddress: true\n";
    assert!(load_yaml_str(y, Path::new("v.yaml"), &LoadOptions::default()).is_ok());
    let strict = format!("{y}    strict_mode: true\n");
    let e =
        load_yaml_str(&strict, Path::new("v.yaml"), &LoadOptions::default()).expect_err("refused");
    assert!(
        e.0.iter()
            .any(|d| d.to_string().contains("incompatible with strict mode")),
        "{e:?}"
    );
}

#[test]
fn notify_deleted_alone_or_with_a_script_reaches_the_model() {
    let inst = "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n";
    let l = load_keepalived_str(
        &format!("{inst} notify_deleted\n}}\n"),
        Path::new("k.conf"),
        &LoadOptions::default(),
    )
    .expect("loads");
    let n = &l.model.instances[0].notify;
    assert!(n.report_deleted && n.deleted.is_none());
    let l = load_keepalived_str(
        &format!(
            "{inst} notify_deleted \"/bin/echo gone\"\n notify_master_rx_lower_pri /bin/true\n}}\n"
        ),
        Path::new("k.conf"),
        &LoadOptions::default(),
    )
    .expect("loads");
    let n = &l.model.instances[0].notify;
    assert_eq!(
        n.deleted.as_ref().map(|s| s.command.as_str()),
        Some("/bin/echo gone")
    );
    assert!(n.master_rx_lower_pri.is_some());
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn instance_only_notify_keywords_in_a_sync_group_are_warned_and_ignored() {
    let conf = "vrrp_sync_group G {\n group {\n  V\n }\n notify_deleted /bin/true\n notify_master_rx_lower_pri /bin/true\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n";
    let (ok, msgs) = load(conf);
    assert!(ok, "{msgs:?}");
    for (kw, line) in [("notify_deleted", 5), ("notify_master_rx_lower_pri", 6)] {
        assert!(
            msgs.iter()
                .any(|m| m.starts_with(&format!("k.conf:{line}:"))
                    && m.contains(kw)
                    && m.contains("vrrp_instance keyword")),
            "{kw}: {msgs:?}"
        );
    }
}

#[test]
fn use_vmac_addr_and_an_address_use_vmac_are_warned_with_the_reason() {
    let conf = "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n use_vmac_addr\n virtual_ipaddress {\n  10.0.0.1\n  10.0.1.1/24 dev eth1 use_vmac\n }\n}\n";
    let (ok, msgs) = load(conf);
    assert!(ok, "{msgs:?}");
    for (line, what) in [
        (4, "`use_vmac_addr` is not implemented"),
        (7, "`use_vmac` on an address has no effect"),
    ] {
        assert!(
            msgs.iter()
                .any(|m| m.starts_with(&format!("k.conf:{line}:")) && m.contains(what)),
            "{what} at {line}: {msgs:?}"
        );
    }
}
