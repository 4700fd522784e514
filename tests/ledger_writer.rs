//! The ledger writer (`vetted fmt`, `certify`) writes only TOML that parses back: keys that
//! are not bare are quoted, timestamps TOML cannot hold bare are strings; and the entry count
//! of a ledger is bounded.
use std::path::Path;
use vetted::ledger::{self, Ledger};

const AUDIT: &str = r#"
[[audit]]
ecosystem = "npm"
name = "p"
version = "1.0.0"
kind = "full"
sha512 = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
sha256 = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
manifest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
criteria = ["security+legal"]
who = "A <a@example.com>"
"#;

fn fmt_and_reload(dir: &Path) -> String {
    ledger::fmt(dir, true).unwrap_or_else(|e| panic!("fmt: {e}"));
    let text = std::fs::read_to_string(dir.join("audits.toml")).expect("read");
    if let Err(d) = Ledger::load(dir) {
        panic!(
            "the ledger fmt wrote does not load:\n{text}\n{}",
            d.render()
        );
    }
    text
}

#[test]
fn fmt_keeps_a_criterion_name_that_needs_quoting_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[criteria.\"security+legal\"]\ndescription = \"both\"\nimplies = [\"safe-to-run\"]\n{AUDIT}when = 2026-11-01\n"
    );
    std::fs::write(dir.path().join("audits.toml"), text).expect("write");
    Ledger::load(dir.path()).unwrap_or_else(|d| panic!("{}", d.render()));
    let out = fmt_and_reload(dir.path());
    assert!(out.contains("[criteria.\"security+legal\"]"), "{out}");
    // Passing twin: a bare-safe name stays bare.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[criteria.security-legal]\ndescription = \"both\"\nimplies = [\"safe-to-run\"]\n{}when = 2026-11-01\n",
        AUDIT.replace("security+legal", "security-legal")
    );
    std::fs::write(dir.path().join("audits.toml"), text).expect("write");
    let out = fmt_and_reload(dir.path());
    assert!(out.contains("[criteria.security-legal]"), "{out}");
}

#[test]
fn fmt_writes_a_timestamp_toml_cannot_hold_bare_as_a_string() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[criteria.\"security+legal\"]\ndescription = \"both\"\nimplies = []\n{AUDIT}when = \"-000001-01-01T00:00:00Z\"\n"
    );
    std::fs::write(dir.path().join("audits.toml"), text).expect("write");
    // jiff reads (and writes) years before 0 as `-000001-…`; TOML's date-fullyear cannot.
    Ledger::load(dir.path()).unwrap_or_else(|d| panic!("{}", d.render()));
    let out = fmt_and_reload(dir.path());
    assert!(out.contains("when = \"-000001-01-01T00:00:00Z\""), "{out}");
    // Passing twin: an ordinary timestamp is written bare.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[criteria.\"security+legal\"]\ndescription = \"both\"\nimplies = []\n{AUDIT}when = 2026-11-01T10:00:00Z\n"
    );
    std::fs::write(dir.path().join("audits.toml"), text).expect("write");
    let out = fmt_and_reload(dir.path());
    assert!(out.contains("when = 2026-11-01T10:00:00Z"), "{out}");
}

#[test]
fn a_ledger_with_more_entries_than_the_limit_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = vetted::limits::LEDGER_ENTRIES + 1;
    let mut text = String::with_capacity(n * 12);
    for _ in 0..n {
        text.push_str("[[audit]]\n");
    }
    std::fs::write(dir.path().join("audits.toml"), text).expect("write");
    let err = Ledger::load(dir.path()).expect_err("over the limit");
    assert!(err.render().contains("ledger entries"), "{}", err.render());
    // Passing twin: an empty ledger loads.
    std::fs::write(dir.path().join("audits.toml"), "").expect("write");
    assert!(Ledger::load(dir.path()).is_ok());
}
