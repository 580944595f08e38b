//! Arbitrary YAML must load or fail with diagnostics, never panic; what loads must survive
//! a YAML round trip unchanged.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vigil::config::{LoadOptions, load_yaml_str, yaml};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let options = LoadOptions::default();
        if let Ok(loaded) = load_yaml_str(text, Path::new("fuzz.yaml"), &options)
            && let Ok(out) = yaml::to_string(&loaded.model)
        {
            let back = load_yaml_str(&out, Path::new("fuzz.yaml"), &options);
            assert_eq!(back.map(|l| l.model).ok(), Some(loaded.model), "round trip changed the model");
        }
    }
});
