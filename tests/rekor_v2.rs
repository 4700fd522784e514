//! Rekor v2 and duplicate evidence: the corpus's Rekor v2 conformance bundles (staging log
//! `log2025-alpha1`, hashedrekord 0.0.2, RFC 3161 timestamps, C2SP checkpoints) verify, and
//! each change the `sigstore-verify` engine alone would let through is rejected by vetted's
//! own checks (`src/sigstore/evidence.rs`). Matched on error variants, never messages.
mod common;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use std::path::Path;
use vetted::limits::Limits;
use vetted::sigstore::{
    self, ArtifactRef, IdentityPolicy, Signer, SigstoreError, StringMatch, VerifiedBundle,
};
use vetted::trust::TrustRoots;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const ENTRY: &str = "/verificationMaterial/tlogEntries/0";
const PROOF: &str = "/verificationMaterial/tlogEntries/0/inclusionProof";

struct Case {
    artifact: Vec<u8>,
    bundle: Value,
    roots: TrustRoots,
}

fn case(corpus: &Path, name: &str) -> Case {
    let cases = corpus.join("sigstore-conformance/bundle-verify");
    let dir = cases.join(name);
    let artifact = std::fs::read(cases.join("a.txt")).expect("artifact");
    let bundle =
        serde_json::from_slice(&std::fs::read(dir.join("bundle.sigstore.json")).expect("bundle"))
            .expect("json");
    let custom = dir.join("trusted_root.json");
    let roots = if custom.exists() {
        TrustRoots::from_arg(&custom.display().to_string()).expect("root")
    } else {
        TrustRoots::pinned().expect("pinned")
    };
    Case {
        artifact,
        bundle,
        roots,
    }
}

fn verify(c: &Case, bundle: &Value) -> Result<VerifiedBundle, SigstoreError> {
    let bytes = serde_json::to_vec(bundle).expect("serialize");
    let parsed = sigstore::parse_bundle(&bytes, &Limits::default())?;
    let signer = Signer::Certificate(IdentityPolicy {
        identity: Some(StringMatch::Exact(IDENTITY.into())),
        issuer: Some(StringMatch::Exact(ISSUER.into())),
        claims: vec![],
    });
    sigstore::verify(&parsed, ArtifactRef::Bytes(&c.artifact), &signer, &c.roots)
}

fn set(b: &mut Value, pointer: &str, v: Value) {
    *b.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = v;
}

fn get_str(b: &Value, pointer: &str) -> String {
    b.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer}"))
        .to_string()
}

fn rejected_with(c: &Case, b: &Value, what: &str, ok: impl Fn(&SigstoreError) -> bool) {
    match verify(c, b) {
        Ok(_) => panic!("{what}: changed bundle verified"),
        Err(e) => assert!(ok(&e), "{what}: rejected for the wrong reason: {e:?}"),
    }
}

fn is_consistency(e: &SigstoreError) -> bool {
    matches!(e, SigstoreError::LogConsistency(_))
}

#[test]
fn rekor_v2_hashedrekord_bundle_verifies_with_its_tsa_time_and_no_integrated_time() {
    let Some(corpus) = common::corpus("rekor_v2_hashedrekord_bundle_verifies") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let v = verify(&c, &c.bundle).expect("verifies");
    let entry = v.log_entry().expect("entry");
    assert_eq!(entry.kind, "hashedrekord/0.0.2");
    assert_eq!(entry.integrated_time, None);
    assert!(
        v.signing_time().is_some(),
        "the RFC 3161 timestamp is the signing time"
    );
}

#[test]
fn integrated_time_in_a_rekor_v2_entry_is_ignored() {
    let Some(corpus) = common::corpus("integrated_time_in_a_rekor_v2_entry_is_ignored") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let untouched = verify(&c, &c.bundle).expect("verifies");
    for t in ["0", "1600000000"] {
        let mut b = c.bundle.clone();
        b.pointer_mut(ENTRY)
            .and_then(Value::as_object_mut)
            .expect("entry")
            .insert("integratedTime".into(), Value::from(t));
        let v = verify(&c, &b).expect("an unsigned integratedTime does not change the verdict");
        assert_eq!(v.log_entry().and_then(|e| e.integrated_time), None, "{t}");
        assert_eq!(v.signing_time(), untouched.signing_time(), "{t}");
    }
}

#[test]
fn rekor_v2_bundle_without_timestamp_is_rejected() {
    // No SET in Rekor v2: an RFC 3161 timestamp is then the only time evidence and required.
    let Some(corpus) = common::corpus("rekor_v2_bundle_without_timestamp_is_rejected") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    set(
        &mut b,
        "/verificationMaterial/timestampVerificationData",
        serde_json::json!({"rfc3161Timestamps": []}),
    );
    rejected_with(&c, &b, "no timestamp", |e| {
        matches!(
            e,
            SigstoreError::Timestamp(_) | SigstoreError::InvalidBundle(_)
        )
    });
}

#[test]
fn duplicated_tlog_entry_is_rejected() {
    let Some(corpus) = common::corpus("duplicated_tlog_entry_is_rejected") else {
        return;
    };
    for name in ["happy-path-v0.3", "rekor2-happy-path"] {
        let c = case(&corpus, name);
        verify(&c, &c.bundle).expect("verifies");
        let mut b = c.bundle.clone();
        let entries = b
            .pointer_mut("/verificationMaterial/tlogEntries")
            .and_then(Value::as_array_mut)
            .expect("entries");
        let first = entries[0].clone();
        entries.push(first);
        rejected_with(&c, &b, name, |e| matches!(e, SigstoreError::Duplicate(_)));
    }
}

#[test]
fn duplicated_rfc3161_timestamp_is_rejected() {
    let Some(corpus) = common::corpus("duplicated_rfc3161_timestamp_is_rejected") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    let ts = b
        .pointer_mut("/verificationMaterial/timestampVerificationData/rfc3161Timestamps")
        .and_then(Value::as_array_mut)
        .expect("timestamps");
    assert_eq!(ts.len(), 1);
    let first = ts[0].clone();
    ts.push(first);
    rejected_with(&c, &b, "duplicate timestamp", |e| {
        matches!(e, SigstoreError::Duplicate(_))
    });
}

#[test]
fn inclusion_proof_log_index_other_than_the_entrys_is_rejected() {
    let Some(corpus) = common::corpus("inclusion_proof_log_index") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    let i: u64 = get_str(&b, &format!("{PROOF}/logIndex"))
        .parse()
        .expect("n");
    set(
        &mut b,
        &format!("{PROOF}/logIndex"),
        Value::from((i + 1).to_string()),
    );
    rejected_with(&c, &b, "proof log index", is_consistency);
}

#[test]
fn inclusion_proof_tree_size_other_than_the_checkpoints_is_rejected() {
    let Some(corpus) = common::corpus("inclusion_proof_tree_size") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    let n: u64 = get_str(&b, &format!("{PROOF}/treeSize"))
        .parse()
        .expect("n");
    set(
        &mut b,
        &format!("{PROOF}/treeSize"),
        Value::from((n + 1).to_string()),
    );
    rejected_with(&c, &b, "proof tree size", is_consistency);
}

#[test]
fn inclusion_proof_root_hash_other_than_the_checkpoints_is_rejected() {
    let Some(corpus) = common::corpus("inclusion_proof_root_hash") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    let p = format!("{PROOF}/rootHash");
    let mut raw = B64.decode(get_str(&b, &p)).expect("b64");
    raw[0] ^= 1;
    set(&mut b, &p, Value::from(B64.encode(raw)));
    rejected_with(&c, &b, "proof root hash", is_consistency);
}

#[test]
fn entry_naming_another_log_of_the_trust_root_is_rejected() {
    // The checkpoint is log2025-alpha1's; the entry claims the staging Rekor v1 log, which is
    // in the same trusted root. The engine finds the checkpoint key by its hint and accepts.
    let Some(corpus) = common::corpus("entry_naming_another_log") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let root: Value = serde_json::from_slice(
        &std::fs::read(
            corpus.join("sigstore-conformance/bundle-verify/rekor2-happy-path/trusted_root.json"),
        )
        .expect("root"),
    )
    .expect("json");
    let own = get_str(&c.bundle, &format!("{ENTRY}/logId/keyId"));
    let other = root["tlogs"]
        .as_array()
        .expect("tlogs")
        .iter()
        .filter_map(|t| t["logId"]["keyId"].as_str())
        .find(|id| *id != own)
        .expect("another log")
        .to_string();
    let mut b = c.bundle.clone();
    set(&mut b, &format!("{ENTRY}/logId/keyId"), Value::from(other));
    rejected_with(&c, &b, "other log id", is_consistency);
}

fn edit_checkpoint(b: &mut Value, f: impl Fn(&str) -> String) {
    let p = format!("{PROOF}/checkpoint/envelope");
    let env = get_str(b, &p);
    set(b, &p, Value::from(f(&env)));
}

#[test]
fn checkpoint_signed_under_another_signer_name_is_rejected() {
    // Signature lines are outside the signed note body: renaming the signer keeps the
    // signature valid, but the key name must be the log's origin.
    let Some(corpus) = common::corpus("checkpoint_signer_name") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    edit_checkpoint(&mut b, |env| {
        env.replace(
            "\u{2014} log2025-alpha1.rekor.sigstage.dev ",
            "\u{2014} someone-else.example ",
        )
    });
    assert_ne!(b, c.bundle);
    rejected_with(&c, &b, "signer name", is_consistency);
}

#[test]
fn checkpoint_origin_other_than_the_logs_is_rejected() {
    let Some(corpus) = common::corpus("checkpoint_origin") else {
        return;
    };
    let c = case(&corpus, "rekor2-happy-path");
    let mut b = c.bundle.clone();
    edit_checkpoint(&mut b, |env| {
        env.replacen(
            "log2025-alpha1.rekor.sigstage.dev\n",
            "log2025-beta.rekor.sigstage.dev\n",
            1,
        )
    });
    assert_ne!(b, c.bundle);
    rejected_with(&c, &b, "origin", is_consistency);
}

#[test]
fn checkpoints_with_several_signatures_verify_by_the_logs_key_and_origin() {
    let Some(corpus) = common::corpus("checkpoints_with_several_signatures") else {
        return;
    };
    for name in [
        "rekor2-checkpoint-cosigned",
        "rekor2-checkpoint-multiple-cosigs",
        "rekor2-checkpoint-two-sigs-cosigned",
        "rekor2-checkpoint-two-sigs-from-origin",
        "rekor2-checkpoint-origin-not-first",
    ] {
        let c = case(&corpus, name);
        verify(&c, &c.bundle).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        // Without the log's own signature line only the witnesses remain: rejected.
        let mut b = c.bundle.clone();
        edit_checkpoint(&mut b, |env| {
            env.lines()
                .filter(|l| !l.starts_with("\u{2014} log2025-alpha1.rekor.sigstage.dev "))
                .map(|l| format!("{l}\n"))
                .collect()
        });
        if b != c.bundle {
            assert!(verify(&c, &b).is_err(), "{name}: witnesses alone verified");
        }
    }
}
