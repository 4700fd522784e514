//! The policy file (`vetted.toml`): TOML syntax, schema, diagnostics, canonical text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let Ok(mut tmp) = tempfile::NamedTempFile::new() else {
        return;
    };
    if tmp.write_all(data).is_err() {
        return;
    }
    if let Ok(policy) = vetted::policy::Policy::load(tmp.path()) {
        let _ = vetted::policy::canonical_text(&policy, "");
    }
});
