//! DSSE envelopes / JSON-lines provenance documents and in-toto statements.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = vetted::limits::Limits::default();
    let _ = vetted::provenance::dsse::parse_documents(data, &limits);
    let _ = vetted::provenance::statement::Statement::parse(data, &limits);
});
