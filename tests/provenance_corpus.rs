//! The real provenance corpus (`../shared/corpus/slsa`): every case the slsa-run protocol runs,
//! through the built binary; and the cases it skips that can be checked offline, through the
//! library. Verdicts come from `cases.json`, never from this file.
mod common;

use common::{cases, slsa_corpus, split_command, vetted_in as vetted};
use jiff::Timestamp;
use std::path::Path;
use vetted::digest::{Algorithm, Digest, Digests};
use vetted::limits::Limits;
use vetted::provenance::{self, ProvenancePolicy};
use vetted::sigstore::{self, ArtifactRef, IdentityPolicy, Signer, StringMatch};
use vetted::trust::TrustRoots;
use vetted::trust::npm_keys::NpmRegistryKeys;

/// slsa-run's command mapping: the upstream tool's name swapped for ours.
fn command_for(case: &serde_json::Value) -> Option<Vec<String>> {
    let cmd = case["equivalent_command"].as_str()?;
    if cmd.contains("(see") || cmd.contains("<image>") {
        return None;
    }
    for (prefix, replacement) in [
        ("SLSA_VERIFIER_EXPERIMENTAL=1 slsa-verifier ", ""),
        ("slsa-verifier ", ""),
        ("gh attestation verify ", "verify-attestation "),
    ] {
        if let Some(rest) = cmd.strip_prefix(prefix) {
            return Some(split_command(&format!("{replacement}{rest}")));
        }
    }
    None
}

fn wants_pass(case: &serde_json::Value) -> bool {
    case["expected"]["verdict"].as_str() == Some("pass")
}

#[test]
fn slsa_run_protocol_through_the_binary() {
    let Some(corpus) = slsa_corpus("slsa_run_protocol_through_the_binary") else {
        return;
    };
    let mut ran = 0;
    let mut wrong = Vec::new();
    for case in cases(&corpus) {
        let Some(args) = command_for(&case) else {
            continue;
        };
        ran += 1;
        let run = vetted(&corpus, &args);
        let ok = if wants_pass(&case) {
            run.code == Some(0)
        } else {
            run.code == Some(1)
        };
        if !ok {
            wrong.push(format!(
                "{} expected {}, got {:?}: {}",
                case["id"],
                case["expected"]["verdict"],
                run.code,
                run.stderr.lines().last().unwrap_or("")
            ));
        }
        // A rejection is one line naming the check.
        if run.code == Some(1) {
            let line = run.stderr.lines().last().unwrap_or("");
            assert!(
                line.starts_with("vetted: rejected: "),
                "{}: {line}",
                case["id"]
            );
        }
    }
    assert!(ran >= 61, "only {ran} cases ran");
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

fn digests_of(corpus: &Path, case: &serde_json::Value) -> Digests {
    let path = corpus.join(case["artifact"]["path"].as_str().expect("artifact path"));
    Digests::of(&std::fs::read(path).expect("artifact"))
}

fn read(corpus: &Path, rel: &serde_json::Value) -> Vec<u8> {
    std::fs::read(corpus.join(rel.as_str().expect("path"))).expect("read corpus file")
}

fn roots_for(corpus: &Path, case: &serde_json::Value) -> TrustRoots {
    let trust = match &case["trust_root"] {
        serde_json::Value::Array(a) => a[0].clone(),
        other => other.clone(),
    };
    let path = corpus.join(trust.as_str().expect("trust root"));
    TrustRoots::from_roots(vec![
        TrustRoots::from_file(&path).expect("trust root parses"),
    ])
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// What vetted answers for a skipped case, or `None` when it cannot be checked offline.
fn verdict(corpus: &Path, case: &serde_json::Value) -> Option<Result<(), String>> {
    let limits = Limits::default();
    let kind = case["kind"].as_str().unwrap_or_default();
    let policy = &case["policy"];
    let now = Timestamp::now();
    let keys = NpmRegistryKeys::pinned().expect("npm keys");
    let result = if kind.starts_with("npm/verify-npm-package") {
        let p = ProvenancePolicy {
            source_uri: text(&policy["source_uri"]),
            builder_id: policy["builder_id"].as_str().map(str::to_string),
            ..ProvenancePolicy::default()
        };
        let (tarball, name, version) = (
            digests_of(corpus, case),
            text(&policy["package_name"]),
            text(&policy["package_version"]),
        );
        let package = provenance::NpmPackageRef {
            tarball: &tarball,
            name: &name,
            version: &version,
        };
        provenance::verify_npm_package(
            package,
            &read(corpus, &case["attestation"]["path"]),
            &p,
            &roots_for(corpus, case),
            &keys,
            now,
            &limits,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    } else if kind.starts_with("npm/audit-signatures") {
        let (tarball, name, version) = (
            digests_of(corpus, case),
            text(&policy["package_name"]),
            text(&policy["package_version"]),
        );
        let package = provenance::NpmPackageRef {
            tarball: &tarball,
            name: &name,
            version: &version,
        };
        provenance::verify_npm_attestations(
            package,
            &read(corpus, &case["attestation"]["path"]),
            &roots_for(corpus, case),
            &keys,
            now,
            &limits,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    } else if kind.starts_with("github-attestation/release") {
        let hex = case["artifact"]["digest"]["sha256"].as_str()?;
        let digest = Digest::from_hex(Algorithm::Sha256, hex).expect("digest");
        provenance::verify_release_attestation(
            &digest,
            &read(corpus, &case["attestation"]["path"]),
            &text(&policy["repo"]),
            policy["tag"].as_str(),
            &roots_for(corpus, case),
            &limits,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    } else if kind.starts_with("sigstore-bundle/identity") {
        let digests = digests_of(corpus, case);
        let alg = if policy["digest_alg"].as_str() == Some("sha512") {
            Algorithm::Sha512
        } else {
            Algorithm::Sha256
        };
        let bundle = sigstore::parse_bundle(&read(corpus, &case["attestation"]["path"]), &limits)
            .map_err(|e| e.to_string());
        bundle.and_then(|b| {
            let signer = Signer::Certificate(IdentityPolicy {
                identity: Some(StringMatch::Exact(text(&policy["cert_identity"]))),
                issuer: Some(StringMatch::Exact(text(&policy["cert_oidc_issuer"]))),
                claims: Vec::new(),
            });
            sigstore::verify(
                &b,
                ArtifactRef::Digest(digests.get(alg).clone()),
                &signer,
                &roots_for(corpus, case),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
        })
    } else {
        return None;
    };
    Some(result)
}

#[test]
fn cases_the_runner_skips() {
    let Some(corpus) = slsa_corpus("cases_the_runner_skips") else {
        return;
    };
    let mut checked = 0;
    let mut wrong = Vec::new();
    for case in cases(&corpus) {
        if command_for(&case).is_some() {
            continue;
        }
        match verdict(&corpus, &case) {
            None => eprintln!(
                "{}: not applicable offline ({}: needs the container image from a registry)",
                case["id"], case["kind"]
            ),
            Some(result) => {
                checked += 1;
                eprintln!("{}: {result:?}", case["id"]);
                if result.is_ok() != wants_pass(&case) {
                    wrong.push(format!(
                        "{} expected {}, got {result:?}",
                        case["id"], case["expected"]["verdict"]
                    ));
                }
            }
        }
    }
    assert!(checked >= 9, "only {checked} skipped cases were checked");
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

#[test]
fn command_splitting() {
    assert_eq!(
        split_command("a --k 'x y' --e '' b"),
        vec!["a", "--k", "x y", "--e", "", "b"]
    );
}
