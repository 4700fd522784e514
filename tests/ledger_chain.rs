//! Delta chains are resolved in linear time and memory: a review at the end of a chain of
//! 10,000 deltas (before: O(N²), 2.5 GB and 23 s at N = 2,000) takes well under a second.
mod audit_support;
use audit_support::Pkg;
use std::fmt::Write as _;
use std::time::Instant;
use vetted::clock::FixedClock;
use vetted::digest::Digests;
use vetted::ledger::{CriterionName, Ledger, PackageId, ReviewOutcome};

/// A ledger: a full audit of 1.0.0, then deltas 1.0.1 .. 1.0.{n}, each from the previous. The
/// last build's bytes are `last`; `break_at` names a link whose `from` digest is wrong.
fn chain_ledger(n: usize, last: &Digests, manifest: &str, break_at: Option<usize>) -> String {
    let digests = |i: usize| {
        if i == n {
            last.clone()
        } else {
            Digests::of(format!("build {i}").as_bytes())
        }
    };
    let mut t = String::with_capacity(n * 600);
    let mut prev = digests(0);
    for i in 0..=n {
        let d = if i == 0 { prev.clone() } else { digests(i) };
        let _ = writeln!(
            t,
            "[[audit]]\necosystem = \"npm\"\nname = \"chain\"\nversion = \"1.0.{i}\""
        );
        if i == 0 {
            t.push_str("kind = \"full\"\n");
        } else {
            let from = if break_at == Some(i) {
                Digests::of(b"somewhere else").sha512
            } else {
                prev.sha512.clone()
            };
            let _ = writeln!(
                t,
                "kind = \"delta\"\nfrom = {{ version = \"1.0.{}\", sha512 = \"{}\" }}",
                i - 1,
                from.sri()
            );
        }
        let _ = writeln!(
            t,
            "sha512 = \"{}\"\nsha256 = \"{}\"\nmanifest = \"{manifest}\"\ncriteria = [\"safe-to-run\"]\nwho = \"A <a@example.com>\"\nwhen = 2026-11-01\n",
            d.sha512.sri(),
            d.sha256
        );
        prev = d;
    }
    t
}

fn review_last(n: usize, break_at: Option<usize>) -> (ReviewOutcome, f64) {
    let pkg = Pkg::new("chain", &format!("1.0.{n}"), &[("index.js", b"1;\n")]);
    let manifest = pkg.manifest();
    let digests = Digests {
        sha256: manifest.artifact.sha256.clone(),
        sha512: manifest.artifact.sha512.clone(),
        sha1: Digests::of(b"").sha1,
        size: manifest.artifact.size,
    };
    let mdigest = vetted::digest::sha256(b"manifest");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("audits.toml"),
        chain_ledger(n, &digests, &mdigest.to_string(), break_at),
    )
    .expect("write");
    let start = Instant::now();
    let ledger = Ledger::load(dir.path()).unwrap_or_else(|d| panic!("{}", d.render()));
    let loaded = start.elapsed().as_secs_f64();
    let id = PackageId::parse_spec(&format!("npm:chain@1.0.{n}")).expect("id");
    let crit = CriterionName::new("safe-to-run").expect("criterion");
    let clock = FixedClock("2026-11-20T00:00:00Z".parse().expect("ts"));
    let outcome = ledger
        .review(&id, &digests, &manifest, &crit, &clock)
        .expect("review");
    let total = start.elapsed().as_secs_f64();
    eprintln!(
        "{n} links: ledger load {loaded:.3} s, review {:.3} s",
        total - loaded
    );
    (outcome, total)
}

#[test]
fn a_delta_chain_of_10000_links_is_reviewed_in_linear_time() {
    let n: usize = std::env::var("CHAIN_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (outcome, secs) = review_last(n, None);
    eprintln!("ledger load + review at the end of a 10,000-link delta chain: {secs:.3} s");
    match &outcome {
        ReviewOutcome::CoveredByDelta(r) => match r.basis() {
            vetted::ledger::ReviewBasis::DeltaChain(c) => assert_eq!(c.len(), n + 1),
            other => panic!("{other:?}"),
        },
        other => panic!("expected covered by delta, got {other:?}"),
    }
    // Release builds take a fraction of a second (see bench/ledger-chain.sh); an unoptimised
    // test build is slower, but an O(N²) resolution would take minutes.
    let bound = if cfg!(debug_assertions) { 20.0 } else { 1.0 };
    assert!(secs < bound, "{secs:.2} s for 10,000 links");
}

#[test]
fn a_chain_broken_by_one_wrong_from_digest_does_not_cover_the_end() {
    let (outcome, _) = review_last(50, Some(25));
    assert!(
        matches!(outcome, ReviewOutcome::NeedsReview(_)),
        "{outcome:?}"
    );
    // Passing twin: the same chain intact covers it.
    let (outcome, _) = review_last(50, None);
    assert!(matches!(outcome, ReviewOutcome::CoveredByDelta(_)));
}

/// `limits::DELTA_CHAIN_LINKS` bounds the deltas followed from a full audit. At the limit a
/// chain still covers its end; one link more covers nothing past the limit, and the review
/// says so, naming the limit (instead of silently needing review, or following an unbounded
/// chain). One ledger of DELTA_CHAIN_LINKS + 1 deltas holds both halves.
#[test]
fn a_delta_chain_longer_than_the_limit_is_rejected_naming_it() {
    let limit = vetted::limits::DELTA_CHAIN_LINKS;
    let n = limit + 1;
    let pkg = Pkg::new("chain", &format!("1.0.{n}"), &[("index.js", b"1;\n")]);
    let manifest = pkg.manifest();
    let last = Digests {
        sha256: manifest.artifact.sha256.clone(),
        sha512: manifest.artifact.sha512.clone(),
        sha1: Digests::of(b"").sha1,
        size: manifest.artifact.size,
    };
    let mdigest = vetted::digest::sha256(b"manifest");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("audits.toml"),
        chain_ledger(n, &last, &mdigest.to_string(), None),
    )
    .expect("write");
    let ledger = Ledger::load(dir.path()).unwrap_or_else(|d| panic!("{}", d.render()));
    let crit = CriterionName::new("safe-to-run").expect("criterion");
    let clock = FixedClock("2026-11-20T00:00:00Z".parse().expect("ts"));

    // Passing half: the build `limit` deltas from the full audit is covered.
    let at_limit = Digests::of(format!("build {limit}").as_bytes());
    let mut m = manifest.clone();
    m.artifact = at_limit.clone();
    let id = PackageId::parse_spec(&format!("npm:chain@1.0.{limit}")).expect("id");
    match ledger
        .review(&id, &at_limit, &m, &crit, &clock)
        .expect("review")
    {
        ReviewOutcome::CoveredByDelta(r) => match r.basis() {
            vetted::ledger::ReviewBasis::DeltaChain(c) => assert_eq!(c.len(), limit + 1),
            other => panic!("{other:?}"),
        },
        other => panic!("at the limit: expected covered by delta, got {other:?}"),
    }

    // Failing half: one delta more is not covered, and the reason names the limit.
    let id = PackageId::parse_spec(&format!("npm:chain@1.0.{n}")).expect("id");
    match ledger
        .review(&id, &last, &manifest, &crit, &clock)
        .expect("review")
    {
        ReviewOutcome::NeedsReview(nr) => {
            let why = nr.chain_limit.as_deref().unwrap_or("");
            assert!(why.contains("limits::DELTA_CHAIN_LINKS"), "{why}");
            assert!(why.contains(&limit.to_string()), "{why}");
        }
        other => panic!("past the limit: expected needs review, got {other:?}"),
    }
}
