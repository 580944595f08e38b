//! Arbitrary keepalived.conf text (includes disabled) must load or fail with diagnostics,
//! never panic or hang.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vigil::config::{LoadOptions, load_keepalived_str};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let options = LoadOptions { strict: false, config_id: Some("fuzz".into()), ..Default::default() };
        let _ = load_keepalived_str(text, Path::new("fuzz.conf"), &options);
    }
});
