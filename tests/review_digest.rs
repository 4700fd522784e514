//! What the reviewer saw is recorded: a delta audit carries `review = "sha256:..."`, the digest of
//! the canonical diff JSON it was signed off on, and `vetted review` recomputes it (from the stored
//! manifests and the cached artifacts' code) and rejects a build whose delta is not the one signed.
mod review_support;
use review_support::*;
use std::path::Path;
use std::process::{Command, Output};

fn vetted(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vetted")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct World {
    b: Build,
    ledger: String,
    cache: String,
    m1: String,
    m2: String,
}

/// Two builds of @acme/tool (1.0.0 full-audited), their manifests, and a cache holding both.
fn world() -> World {
    let b = Build::new();
    let (a1, a2) = (v1(&b), v2_reminified(&b));
    let cache = b.dir.path().join("cache");
    std::fs::create_dir_all(cache.join("sha512")).expect("cache");
    let mut manifests = Vec::new();
    for (i, a) in [&a1, &a2].into_iter().enumerate() {
        let m = inspect(a);
        std::fs::copy(a, cache.join("sha512").join(m.artifact.sha512.hex())).expect("copy");
        manifests.push(b.write(
            &format!("m{i}.json"),
            serde_json::to_string(&m).expect("json").as_bytes(),
        ));
    }
    let ledger = b.dir.path().join("ledger").to_string_lossy().into_owned();
    let cache = cache.to_string_lossy().into_owned();
    let out = vetted(&[
        "certify",
        "npm:@acme/tool@1.0.0",
        "--manifest",
        &manifests[0],
        "--criteria",
        "safe-to-run",
        "--who",
        "A <a@example.com>",
        "--ledger",
        &ledger,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m2 = manifests.pop().expect("m2");
    let m1 = manifests.pop().expect("m1");
    World {
        b,
        ledger,
        cache,
        m1,
        m2,
    }
}

fn review(w: &World, extra: &[&str]) -> Output {
    let mut args = vec![
        "review",
        "npm:@acme/tool@1.0.1",
        "--manifest",
        &w.m2,
        "--ledger",
        &w.ledger,
        "--cache-dir",
        &w.cache,
    ];
    args.extend_from_slice(extra);
    vetted(&args)
}

fn certify_delta(w: &World, digest: &str) -> Output {
    vetted(&[
        "certify",
        "npm:@acme/tool@1.0.1",
        "--manifest",
        &w.m2,
        "--delta-from",
        "1.0.0",
        "--review",
        digest,
        "--criteria",
        "safe-to-run",
        "--who",
        "B <b@example.com>",
        "--ledger",
        &w.ledger,
    ])
}

/// The digest the Markdown shows for the delta that needs review.
fn shown_digest(w: &World, page: &Path) -> String {
    let out = review(w, &["--markdown", "--html", &page.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let md = text(&out.stdout);
    let d = md
        .split("Review digest: `")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .unwrap_or_else(|| panic!("no digest in:\n{md}"))
        .to_string();
    assert!(
        text(&out.stderr).contains(&format!("--review {d}")),
        "the certify command names it"
    );
    let html = std::fs::read_to_string(page).expect("page");
    assert!(html.contains(&d));
    assert!(html.contains("--delta-from 1.0.0"));
    d
}

#[test]
fn delta_audit_with_the_shown_review_digest_passes() {
    let w = world();
    let d = shown_digest(&w, &w.b.dir.path().join("page.html"));
    let out = certify_delta(&w, &d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = std::fs::read_to_string(Path::new(&w.ledger).join("audits.toml")).expect("ledger");
    assert!(toml.contains(&format!("review = \"{d}\"")), "{toml}");
    let out = review(&w, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _ = &w.m1;
}

#[test]
fn delta_audit_signed_off_on_another_diff_is_rejected() {
    let w = world();
    let wrong = format!("sha256:{}", "ab".repeat(32));
    let out = certify_delta(&w, &wrong);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = review(&w, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("review-digest") && err.contains(&wrong),
        "{err}"
    );
}

#[test]
fn review_digest_must_be_sha256() {
    let w = world();
    let out = certify_delta(&w, "sha512:00");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn review_on_a_full_audit_is_a_ledger_error() {
    let w = world();
    let file = Path::new(&w.ledger).join("audits.toml");
    let toml = std::fs::read_to_string(&file).expect("ledger");
    let bad = toml.replacen(
        "kind = \"full\"\n",
        &format!("kind = \"full\"\nreview = \"sha256:{}\"\n", "00".repeat(32)),
        1,
    );
    assert_ne!(bad, toml);
    std::fs::write(&file, bad).expect("write");
    let out = review(&w, &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("has 'review' but is not a delta audit"),
        "{}",
        text(&out.stderr)
    );
}
