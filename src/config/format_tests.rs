//! Which format a file is read in, and which file is read when none is named.

use std::io::Write;
use std::path::Path;

use super::{Format, LoadOptions, default_path_with, load};

const CONF: &str = "vrrp_instance V {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n";
const YAML: &str = "instances:\n  - name: V\n    interface: eth0\n    virtual_router_id: 7\n    virtual_ipaddress:\n      - addr: 10.0.0.1\n        prefix_len: 32\n";

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    path
}

#[test]
fn any_name_but_yaml_is_keepalived() {
    for (name, format) in [
        ("keepalived.conf", Format::Keepalived),
        ("keepalived.conf.vrrp", Format::Keepalived),
        ("keepalived.conf.sample", Format::Keepalived),
        ("keepalived", Format::Keepalived),
        ("vigil.yaml", Format::Yaml),
        ("vigil.yml", Format::Yaml),
    ] {
        assert_eq!(Format::of(Path::new(name)), format, "{name}");
    }
}

#[test]
fn a_sample_name_loads_as_keepalived_and_format_overrides_the_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = file(&dir, "keepalived.conf.vrrp", CONF);
    let loaded = load(&sample, &LoadOptions::default()).expect("keepalived syntax");
    assert_eq!(loaded.model.instances[0].vrid.get(), 7);
    // YAML text in a file named like keepalived's: --format yaml.
    let yaml_named_conf = file(&dir, "vigil.conf", YAML);
    // Read as keepalived.conf it holds no instance, only unknown top-level keywords (which
    // keepalived, and vigil at the top level, warn about and skip).
    let misread = load(&yaml_named_conf, &LoadOptions::default()).expect("warnings only");
    assert!(misread.model.instances.is_empty());
    assert!(
        misread
            .warnings
            .iter()
            .any(|w| w.message.contains("`instances:`")),
        "{:?}",
        misread.warnings
    );
    let yaml = LoadOptions {
        format: Some(Format::Yaml),
        ..Default::default()
    };
    let loaded = load(&yaml_named_conf, &yaml).expect("read as YAML");
    assert_eq!(loaded.model.instances[0].vrid.get(), 7);
    // keepalived text named *.yaml: --format keepalived.
    let conf_named_yaml = file(&dir, "k.yaml", CONF);
    assert!(load(&conf_named_yaml, &LoadOptions::default()).is_err());
    let keepalived = LoadOptions {
        format: Some(Format::Keepalived),
        ..Default::default()
    };
    assert!(load(&conf_named_yaml, &keepalived).is_ok());
}

#[test]
fn default_file_is_vigil_yaml_if_present_else_keepalived_conf() {
    assert_eq!(
        default_path_with(|_| true),
        Path::new("/etc/vigil/vigil.yaml")
    );
    assert_eq!(
        default_path_with(|_| false),
        Path::new("/etc/keepalived/keepalived.conf")
    );
}
