//! Tampering tests: take the corpus's valid bundles, change one thing at a time, and check each
//! is rejected for the right reason (matched on the error variant, never the message).
mod common;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sigstore_verify::{CertificateError, TransparencyLogError};
use std::path::{Path, PathBuf};
use vetted::limits::Limits;
use vetted::sigstore::{self, ArtifactRef, IdentityPolicy, Signer, SigstoreError, StringMatch};
use vetted::trust::{Instance, PinnedRoot, TrustRoots};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

struct Case {
    dir: PathBuf,
    artifact: Vec<u8>,
    bundle: Value,
}

fn case(corpus: &Path, name: &str) -> Case {
    let cases = corpus.join("sigstore-conformance/bundle-verify");
    let dir = cases.join(name);
    let artifact_path = if dir.join("artifact").exists() {
        dir.join("artifact")
    } else {
        cases.join("a.txt")
    };
    let artifact = std::fs::read(artifact_path).expect("artifact");
    let bundle =
        serde_json::from_slice(&std::fs::read(dir.join("bundle.sigstore.json")).expect("bundle"))
            .expect("json");
    Case {
        dir,
        artifact,
        bundle,
    }
}

fn signer() -> Signer {
    Signer::Certificate(IdentityPolicy {
        identity: Some(StringMatch::Exact(IDENTITY.into())),
        issuer: Some(StringMatch::Exact(ISSUER.into())),
        claims: vec![],
    })
}

fn roots_for(case: &Case) -> TrustRoots {
    let custom = case.dir.join("trusted_root.json");
    if custom.exists() {
        TrustRoots::from_arg(&custom.display().to_string()).expect("root")
    } else {
        TrustRoots::pinned().expect("pinned")
    }
}

fn verify_value(case: &Case, bundle: &Value, roots: &TrustRoots) -> Result<(), SigstoreError> {
    let bytes = serde_json::to_vec(bundle).expect("serialize");
    let parsed = sigstore::parse_bundle(&bytes, &Limits::default())?;
    sigstore::verify(
        &parsed,
        ArtifactRef::Bytes(&case.artifact),
        &signer(),
        roots,
    )
    .map(|_| ())
}

/// Flip one bit in the base64 value at `pointer`.
fn flip_b64(bundle: &mut Value, pointer: &str, byte: usize) {
    let v = bundle
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    let mut raw = B64.decode(v.as_str().expect("string")).expect("base64");
    let i = byte.min(raw.len() - 1);
    raw[i] ^= 0x01;
    *v = Value::String(B64.encode(raw));
}

fn set(bundle: &mut Value, pointer: &str, value: Value) {
    *bundle
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = value;
}

/// Run one tampering: the untouched bundle must verify, the tampered one must fail with `check`.
fn tampered(
    case: &Case,
    change: impl FnOnce(&mut Value),
    check: impl FnOnce(&SigstoreError) -> bool,
    what: &str,
) {
    let roots = roots_for(case);
    verify_value(case, &case.bundle, &roots)
        .unwrap_or_else(|e| panic!("{what}: untouched bundle must verify: {e:?}"));
    let mut b = case.bundle.clone();
    change(&mut b);
    match verify_value(case, &b, &roots) {
        Ok(()) => panic!("{what}: tampered bundle verified"),
        Err(e) => assert!(check(&e), "{what}: rejected for the wrong reason: {e:?}"),
    }
}

const ENTRY: &str = "/verificationMaterial/tlogEntries/0";

#[test]
fn signed_entry_timestamp() {
    let Some(corpus) = common::corpus("signed_entry_timestamp") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| {
            flip_b64(
                b,
                &format!("{ENTRY}/inclusionPromise/signedEntryTimestamp"),
                40,
            )
        },
        |e| {
            matches!(
                e,
                SigstoreError::TransparencyLog(TransparencyLogError::InclusionPromise(_))
            )
        },
        "SET",
    );
}

#[test]
fn inclusion_proof_hash() {
    let Some(corpus) = common::corpus("inclusion_proof_hash") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| flip_b64(b, &format!("{ENTRY}/inclusionProof/hashes/0"), 3),
        |e| {
            matches!(
                e,
                SigstoreError::TransparencyLog(TransparencyLogError::InclusionProof(_))
            )
        },
        "inclusion proof hash",
    );
}

#[test]
fn root_hash() {
    let Some(corpus) = common::corpus("root_hash") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    // Alone: the proof's root hash no longer equals the checkpoint's (our log consistency
    // check, before the engine's own).
    tampered(
        &c,
        |b| flip_b64(b, &format!("{ENTRY}/inclusionProof/rootHash"), 3),
        |e| matches!(e, SigstoreError::LogConsistency(_)),
        "root hash",
    );
    // In both the proof and the checkpoint body: the checkpoint's signature no longer covers it.
    tampered(
        &c,
        |b| {
            let p = format!("{ENTRY}/inclusionProof/rootHash");
            let old = b
                .pointer(&p)
                .and_then(Value::as_str)
                .expect("root")
                .to_string();
            flip_b64(b, &p, 3);
            let new = b
                .pointer(&p)
                .and_then(Value::as_str)
                .expect("root")
                .to_string();
            let cp = format!("{ENTRY}/inclusionProof/checkpoint/envelope");
            let env = b
                .pointer(&cp)
                .and_then(Value::as_str)
                .expect("checkpoint")
                .replace(&old, &new);
            set(b, &cp, Value::String(env));
        },
        |e| {
            matches!(
                e,
                SigstoreError::LogConsistency(_)
                    | SigstoreError::TransparencyLog(
                        TransparencyLogError::Checkpoint(_)
                            | TransparencyLogError::InclusionProof(_)
                    )
            )
        },
        "root hash in proof and checkpoint",
    );
}

#[test]
fn checkpoint_signature() {
    let Some(corpus) = common::corpus("checkpoint_signature") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| {
            let p = format!("{ENTRY}/inclusionProof/checkpoint/envelope");
            let env = b
                .pointer(&p)
                .and_then(Value::as_str)
                .expect("checkpoint")
                .to_string();
            // The note's last line is "— <origin> <base64 signature>"; flip a bit in the signature.
            let (head, sig_line) = env
                .trim_end_matches('\n')
                .rsplit_once('\n')
                .expect("signature line");
            let (prefix, sig) = sig_line.rsplit_once(' ').expect("sig");
            let mut raw = B64.decode(sig).expect("b64");
            let last = raw.len() - 1;
            raw[last] ^= 1;
            set(
                b,
                &p,
                Value::String(format!("{head}\n{prefix} {}\n", B64.encode(raw))),
            );
        },
        // Our check that the log's own key signed the checkpoint fires first.
        |e| matches!(e, SigstoreError::LogConsistency(_)),
        "checkpoint signature",
    );
}

#[test]
fn integrated_time() {
    let Some(corpus) = common::corpus("integrated_time") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| {
            let t: i64 = b
                .pointer(&format!("{ENTRY}/integratedTime"))
                .and_then(Value::as_str)
                .expect("t")
                .parse()
                .expect("n");
            set(
                b,
                &format!("{ENTRY}/integratedTime"),
                Value::String((t + 60).to_string()),
            );
        },
        |e| {
            matches!(
                e,
                SigstoreError::TransparencyLog(TransparencyLogError::InclusionPromise(_))
            )
        },
        "integratedTime",
    );
}

#[test]
fn log_index() {
    let Some(corpus) = common::corpus("log_index") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| {
            let i: i64 = b
                .pointer(&format!("{ENTRY}/logIndex"))
                .and_then(Value::as_str)
                .expect("i")
                .parse()
                .expect("n");
            set(
                b,
                &format!("{ENTRY}/logIndex"),
                Value::String((i + 1).to_string()),
            );
        },
        |e| {
            matches!(
                e,
                SigstoreError::TransparencyLog(TransparencyLogError::InclusionPromise(_))
            )
        },
        "logIndex",
    );
}

#[test]
fn log_id() {
    let Some(corpus) = common::corpus("log_id") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| flip_b64(b, &format!("{ENTRY}/logId/keyId"), 0),
        // An id that names no log of the trust root (our log consistency check).
        |e| matches!(e, SigstoreError::LogConsistency(_)),
        "logID",
    );
}

#[test]
fn certificate() {
    let Some(corpus) = common::corpus("certificate") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        // The last bytes are the CA's signature over the certificate: still parses, no longer chains.
        |b| flip_b64(b, "/verificationMaterial/certificate/rawBytes", usize::MAX),
        |e| {
            matches!(
                e,
                SigstoreError::Certificate(CertificateError::ChainInvalid(_))
            )
        },
        "certificate",
    );
}

#[test]
fn signature() {
    let Some(corpus) = common::corpus("signature") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    tampered(
        &c,
        |b| flip_b64(b, "/messageSignature/signature", 20),
        |e| {
            matches!(
                e,
                SigstoreError::Signature(_)
                    | SigstoreError::TransparencyLog(TransparencyLogError::EntryMismatch(_))
            )
        },
        "signature",
    );
}

#[test]
fn dsse_payload() {
    let Some(corpus) = common::corpus("dsse_payload") else {
        return;
    };
    let c = case(&corpus, "happy-path-intoto-in-dsse-v3");
    tampered(
        &c,
        |b| {
            let p = "/dsseEnvelope/payload";
            let raw = B64
                .decode(b.pointer(p).and_then(Value::as_str).expect("payload"))
                .expect("b64");
            // Change the statement but keep it valid JSON naming the same subject, so only the
            // signature can catch it.
            let mut stmt: Value = serde_json::from_slice(&raw).expect("statement");
            stmt["predicate"] = serde_json::json!({"tampered": true});
            set(
                b,
                p,
                Value::String(B64.encode(serde_json::to_vec(&stmt).expect("ser"))),
            );
        },
        |e| {
            matches!(
                e,
                SigstoreError::Signature(_)
                    | SigstoreError::TransparencyLog(TransparencyLogError::EntryMismatch(_))
            )
        },
        "DSSE payload",
    );
}

fn public_good_with(change: impl FnOnce(&mut Value)) -> TrustRoots {
    let text = vetted::trust::PINNED_FILES
        .iter()
        .find(|(n, _)| *n == "public-good.trusted_root.json")
        .map(|(_, t)| *t)
        .expect("pinned");
    let mut v: Value = serde_json::from_str(text).expect("json");
    change(&mut v);
    let root = sigstore_trust_root::TrustedRoot::from_json(&v.to_string()).expect("root");
    TrustRoots::from_roots(vec![PinnedRoot {
        name: "tampered".into(),
        instance: Instance::Custom,
        root,
    }])
}

#[test]
fn trusted_root_ca_validity_window() {
    let Some(corpus) = common::corpus("trusted_root_ca_validity_window") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    assert!(
        verify_value(&c, &c.bundle, &public_good_with(|_| {})).is_ok(),
        "unchanged root verifies"
    );
    // Signed 2024-03-19; end every Fulcio CA's window in 2023.
    let roots = public_good_with(|v| {
        for ca in v["certificateAuthorities"].as_array_mut().expect("cas") {
            ca["validFor"]["end"] = Value::String("2023-01-01T00:00:00Z".into());
        }
    });
    let e = verify_value(&c, &c.bundle, &roots).expect_err("CA window closed before signing");
    assert!(
        matches!(
            e,
            SigstoreError::Certificate(
                CertificateError::NoValidAuthority { .. } | CertificateError::ChainInvalid(_)
            )
        ),
        "{e:?}"
    );
}

#[test]
fn trusted_root_tlog_validity_window() {
    let Some(corpus) = common::corpus("trusted_root_tlog_validity_window") else {
        return;
    };
    let c = case(&corpus, "happy-path-v0.3");
    let roots = public_good_with(|v| {
        for log in v["tlogs"].as_array_mut().expect("tlogs") {
            log["publicKey"]["validFor"]["start"] = Value::String("2025-01-01T00:00:00Z".into());
        }
    });
    let e = verify_value(&c, &c.bundle, &roots).expect_err("log key not yet valid at integration");
    assert!(matches!(e, SigstoreError::TransparencyLog(_)), "{e:?}");
}

#[test]
fn wrong_instance_root_is_never_tried() {
    let Some(corpus) = common::corpus("wrong_instance_root_is_never_tried") else {
        return;
    };
    // A public-good bundle against GitHub's root only: rejected, and with both pinned roots the
    // issuer picks public-good (never GitHub's).
    let c = case(&corpus, "happy-path-v0.3");
    let github = TrustRoots::from_arg("github").expect("github root");
    assert!(verify_value(&c, &c.bundle, &github).is_err());
    let bytes = serde_json::to_vec(&c.bundle).expect("ser");
    let parsed = sigstore::parse_bundle(&bytes, &Limits::default()).expect("parse");
    let v = sigstore::verify(
        &parsed,
        ArtifactRef::Bytes(&c.artifact),
        &signer(),
        &TrustRoots::pinned().expect("pinned"),
    )
    .expect("verifies");
    assert_eq!(v.trust_root(), "public-good");
}

#[test]
fn github_instance_bundle_uses_githubs_root_only() {
    let Some(corpus) = common::corpus("github_instance_bundle_uses_githubs_root_only") else {
        return;
    };
    let dir = corpus.join("slsa/gh-cli");
    let jsonl = std::fs::read_to_string(
        dir.join("github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"),
    )
    .expect("jsonl");
    let line = jsonl.lines().next().expect("one bundle");
    let artifact = std::fs::read(dir.join("github_provenance_demo-0.0.12-py3-none-any.whl"))
        .expect("artifact");
    let parsed = sigstore::parse_bundle(line.as_bytes(), &Limits::default()).expect("parse");
    let any = Signer::Certificate(IdentityPolicy {
        identity: Some(
            StringMatch::regex("https://github\\.com/actions/attest-demo/.*").expect("re"),
        ),
        issuer: Some(StringMatch::Exact(ISSUER.into())),
        claims: vec![],
    });
    let v = sigstore::verify(
        &parsed,
        ArtifactRef::Bytes(&artifact),
        &any,
        &TrustRoots::pinned().expect("pinned"),
    )
    .expect("GitHub-instance bundle verifies against the pinned set");
    assert_eq!(v.trust_root(), "github");
    assert!(!v.tlog_verified(), "GitHub's instance has no log");
    assert!(
        v.signing_time().is_some(),
        "its time comes from a verified RFC 3161 timestamp"
    );
    // Against public-good alone it must fail: no inclusion proof, and not public-good's CA.
    let public_good = TrustRoots::public_good().expect("root");
    assert!(sigstore::verify(&parsed, ArtifactRef::Bytes(&artifact), &any, &public_good).is_err());
    // Its timestamp is the only time evidence: strip it and the bundle must be rejected.
    let mut b: Value = serde_json::from_str(line).expect("json");
    b["verificationMaterial"]["timestampVerificationData"] =
        serde_json::json!({"rfc3161Timestamps": []});
    let parsed = sigstore::parse_bundle(&serde_json::to_vec(&b).expect("ser"), &Limits::default())
        .expect("parse");
    let e = sigstore::verify(
        &parsed,
        ArtifactRef::Bytes(&artifact),
        &any,
        &TrustRoots::pinned().expect("pinned"),
    )
    .expect_err("no timestamp, no log: nothing proves when it was signed");
    assert!(!matches!(e, SigstoreError::Policy(_)), "{e:?}");
}
