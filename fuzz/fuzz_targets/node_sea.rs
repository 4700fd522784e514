//! Node single-executable-application extraction (`content::sea`): the `NODE_SEA_BLOB` scan,
//! the blob's lengths and flags, and the analysis of the main script and assets it lists.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vetted::content::fuzz_sea(data);
});
