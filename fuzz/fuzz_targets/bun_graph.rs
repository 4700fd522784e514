//! The Bun standalone-executable module graph reader (trailer, offsets, module table).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vetted::content::fuzz_bun_graph(data);
});
