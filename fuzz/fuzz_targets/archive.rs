//! tar / tgz / zip walk and the content manifest: `inspect_file` on arbitrary bytes, once as
//! an unnamed file and once expected to be an archive. Small limits keep each run fast.
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
    let limits = vetted::limits::Limits {
        artifact_bytes: 1 << 20,
        unpacked_bytes: 8 << 20,
        file_bytes: 4 << 20,
        archive_entries: 1000,
        ratio_grace_bytes: 1 << 20,
        embedded_graph_bytes: 1 << 20,
        ..Default::default()
    };
    for expect_archive in [false, true] {
        let opts = vetted::content::InspectOptions {
            limits,
            expect_archive,
        };
        let _ = vetted::content::inspect_file(tmp.path(), &opts);
    }
});
