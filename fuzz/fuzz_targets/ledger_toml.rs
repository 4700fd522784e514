//! The ledger (`audits.toml`): TOML syntax, schema, chain resolution, and the writer (a ledger
//! that loads must re-serialise to text that loads again).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    if std::fs::write(dir.path().join("audits.toml"), data).is_err() {
        return;
    }
    if vetted::ledger::Ledger::load(dir.path()).is_ok()
        && let Ok(text) = vetted::ledger::canonical_text(dir.path())
    {
        let again = tempfile::tempdir().expect("tempdir");
        std::fs::write(again.path().join("audits.toml"), &text).expect("write");
        if let Err(d) = vetted::ledger::Ledger::load(again.path()) {
            panic!(
                "canonical text does not load again:\n{text}\n{}",
                d.render()
            );
        }
    }
});
