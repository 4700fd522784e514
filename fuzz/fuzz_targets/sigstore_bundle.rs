//! Sigstore bundle JSON (v0.1-v0.3): parsing and the structural checks before any crypto.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vetted::sigstore::parse_bundle(data, &vetted::limits::Limits::default());
});
