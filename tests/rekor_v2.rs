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

// ---------------------------------------------------------------------------------------------
// Rekor v2 entries vetted verifies itself (src/sigstore/rekor_v2.rs): dsse 0.0.2, and
// hashedrekord 0.0.2 logging a certificate's bare public key. The engine cannot verify these, and
// the corpus has no such bundle, so the tests log the corpus's real staging signatures (real
// Fulcio certificate, real RFC 3161 timestamp, real signature) in a test Rekor v2 log of their
// own: an Ed25519 key added to the case's trusted root, an RFC 6962 tree built here and a C2SP
// checkpoint signed with that key.

use ed25519_dalek::Signer as _;
use sha2::{Digest as _, Sha256};

const TEST_ORIGIN: &str = "log.vetted.test";

struct TestLog {
    key: ed25519_dalek::SigningKey,
    spki: Vec<u8>,
    log_id: Vec<u8>,
}

impl TestLog {
    fn new(seed: u8) -> TestLog {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): fixed prefix + the 32 key bytes.
        let mut spki = hex::decode("302a300506032b6570032100").expect("hex");
        spki.extend_from_slice(key.verifying_key().as_bytes());
        let log_id = Sha256::digest(&spki).to_vec();
        TestLog { key, spki, log_id }
    }

    /// The case's trusted root with this log added, valid from `start`.
    fn trusted_root(&self, base: &Path, start: &str, dir: &Path) -> TrustRoots {
        let mut root: Value =
            serde_json::from_slice(&std::fs::read(base).expect("root")).expect("json");
        root["tlogs"]
            .as_array_mut()
            .expect("tlogs")
            .push(serde_json::json!({
                "baseUrl": format!("https://{TEST_ORIGIN}"),
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(&self.spki),
                    "keyDetails": "PKIX_ED25519",
                    "validFor": {"start": start}
                },
                "logId": {"keyId": B64.encode(&self.log_id)}
            }));
        let path = dir.join("trusted_root.json");
        std::fs::write(&path, serde_json::to_vec(&root).expect("ser")).expect("write");
        TrustRoots::from_arg(&path.display().to_string()).expect("root")
    }

    /// A C2SP checkpoint (signed note) for a tree of `size` with `root`, signed by this log.
    fn checkpoint(&self, size: usize, root: &[u8]) -> String {
        let body = format!("{TEST_ORIGIN}\n{size}\n{}\n", B64.encode(root));
        let sig = self.key.sign(body.as_bytes());
        let mut line = self.log_id[..4].to_vec();
        line.extend_from_slice(&sig.to_bytes());
        format!("{body}\n\u{2014} {TEST_ORIGIN} {}\n", B64.encode(line))
    }
}

fn leaf_hash(data: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().to_vec()
}

fn node_hash(l: &[u8], r: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().to_vec()
}

/// RFC 6962 §2.1 Merkle tree hash of leaf hashes.
fn mth(leaves: &[Vec<u8>]) -> Vec<u8> {
    if leaves.len() == 1 {
        return leaves[0].clone();
    }
    let k = leaves.len().next_power_of_two() / 2;
    node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
}

/// RFC 6962 §2.1.1 audit path of leaf `m`.
fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<Vec<u8>> {
    if leaves.len() == 1 {
        return vec![];
    }
    let k = leaves.len().next_power_of_two() / 2;
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

const TREE_SIZE: usize = 6;
const LEAF_INDEX: usize = 4;

/// A tlog entry logging `body` at `LEAF_INDEX` of a tree of `TREE_SIZE`, checkpoint signed by `log`.
fn logged_entry(log: &TestLog, kind: &str, body: &[u8]) -> Value {
    let leaves: Vec<Vec<u8>> = (0..TREE_SIZE)
        .map(|i| {
            if i == LEAF_INDEX {
                leaf_hash(body)
            } else {
                leaf_hash(format!("other entry {i}").as_bytes())
            }
        })
        .collect();
    let root = mth(&leaves);
    serde_json::json!({
        "logIndex": LEAF_INDEX.to_string(),
        "logId": {"keyId": B64.encode(&log.log_id)},
        "kindVersion": {"kind": kind, "version": "0.0.2"},
        "inclusionProof": {
            "logIndex": LEAF_INDEX.to_string(),
            "rootHash": B64.encode(&root),
            "treeSize": TREE_SIZE.to_string(),
            "hashes": path(LEAF_INDEX, &leaves).iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": log.checkpoint(TREE_SIZE, &root)}
        },
        "canonicalizedBody": B64.encode(body)
    })
}

/// The logged verifier, in protojson with its members in canonical order.
enum Logged<'a> {
    PublicKey(&'a [u8]),
    Certificate(&'a [u8]),
}

fn verifier_json(v: &Logged<'_>) -> String {
    match v {
        Logged::PublicKey(k) => format!(
            r#"{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}}}"#,
            B64.encode(k)
        ),
        Logged::Certificate(c) => format!(
            r#"{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{{"rawBytes":"{}"}}}}"#,
            B64.encode(c)
        ),
    }
}

/// A canonical hashedrekord 0.0.2 body (members sorted, no whitespace: RFC 8785).
fn hashedrekord_body(digest: &[u8], sig: &[u8], v: &Logged<'_>) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":{{"data":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":{{"content":"{}","verifier":{}}}}}}}}}"#,
        B64.encode(digest),
        B64.encode(sig),
        verifier_json(v)
    )
    .into_bytes()
}

/// A canonical dsse 0.0.2 body.
fn dsse_body(payload_hash: &[u8], sig: &[u8], v: &Logged<'_>) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"0.0.2","kind":"dsse","spec":{{"dsseV002":{{"payloadHash":{{"algorithm":"SHA2_256","digest":"{}"}},"signatures":[{{"content":"{}","verifier":{}}}]}}}}}}"#,
        B64.encode(payload_hash),
        B64.encode(sig),
        verifier_json(v)
    )
    .into_bytes()
}

/// What a corpus bundle signed: its certificate, the certificate's SPKI and its signature.
struct Material {
    cert: Vec<u8>,
    spki: Vec<u8>,
    sig: Vec<u8>,
    /// DSSE bundles: payload type and payload.
    dsse: Option<(String, Vec<u8>)>,
}

fn material(bundle: &Value) -> Material {
    use der::{Decode as _, Encode as _};
    let cert = B64
        .decode(get_str(
            bundle,
            "/verificationMaterial/certificate/rawBytes",
        ))
        .expect("cert");
    let parsed = x509_cert::Certificate::from_der(&cert).expect("x509");
    let spki = parsed
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .expect("spki");
    let (sig, dsse) = if bundle.get("dsseEnvelope").is_some() {
        let sig = B64
            .decode(get_str(bundle, "/dsseEnvelope/signatures/0/sig"))
            .expect("sig");
        let payload = B64
            .decode(get_str(bundle, "/dsseEnvelope/payload"))
            .expect("payload");
        (
            sig,
            Some((get_str(bundle, "/dsseEnvelope/payloadType"), payload)),
        )
    } else {
        let sig = B64
            .decode(get_str(bundle, "/messageSignature/signature"))
            .expect("sig");
        (sig, None)
    };
    Material {
        cert,
        spki,
        sig,
        dsse,
    }
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}

fn with_entry(c: &Case, entry: Value) -> Value {
    let mut b = c.bundle.clone();
    set(
        &mut b,
        "/verificationMaterial/tlogEntries",
        Value::Array(vec![entry]),
    );
    b
}

/// A corpus case whose trusted root also holds the test log.
fn own_log_case(
    corpus: &Path,
    name: &str,
    log: &TestLog,
    start: &str,
) -> (Case, tempfile::TempDir) {
    let mut c = case(corpus, name);
    let dir = tempfile::tempdir().expect("tmp");
    let base = corpus
        .join("sigstore-conformance/bundle-verify")
        .join(name)
        .join("trusted_root.json");
    c.roots = log.trusted_root(&base, start, dir.path());
    (c, dir)
}

const LOG_START: &str = "2020-01-01T00:00:00Z";

fn is_entry_mismatch(e: &SigstoreError) -> bool {
    matches!(e, SigstoreError::EntryMismatch(_))
}

fn is_entry_format(e: &SigstoreError) -> bool {
    matches!(e, SigstoreError::EntryFormat(_))
}

#[test]
fn hashedrekord_v2_logging_the_certificates_public_key_verifies() {
    let Some(corpus) = common::corpus("hashedrekord_v2_public_key") else {
        return;
    };
    let log = TestLog::new(7);
    let (c, _dir) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m = material(&c.bundle);
    let digest = Sha256::digest(&c.artifact).to_vec();
    let body = hashedrekord_body(&digest, &m.sig, &Logged::PublicKey(&m.spki));
    let b = with_entry(&c, logged_entry(&log, "hashedrekord", &body));
    let v = verify(&c, &b).expect("verifies");
    assert!(v.tlog_verified());
    let entry = v.log_entry().expect("entry");
    assert_eq!(entry.kind, "hashedrekord/0.0.2");
    assert_eq!(entry.log_id, hex::encode(&log.log_id));
    assert_eq!(entry.log_index, LEAF_INDEX as u64);
    assert_eq!(entry.integrated_time, None);
    // The same entry by digest: the logged digest is compared with the given sha256.
    let bytes = serde_json::to_vec(&b).expect("ser");
    let parsed = sigstore::parse_bundle(&bytes, &Limits::default()).expect("parse");
    let signer = Signer::Certificate(IdentityPolicy {
        identity: Some(StringMatch::Exact(IDENTITY.into())),
        issuer: Some(StringMatch::Exact(ISSUER.into())),
        claims: vec![],
    });
    let d = vetted::digest::Digest::new(vetted::digest::Algorithm::Sha256, digest).expect("d");
    sigstore::verify(&parsed, ArtifactRef::Digest(d), &signer, &c.roots).expect("by digest");
}

#[test]
fn hashedrekord_v2_logging_the_certificate_verifies_in_a_second_log() {
    // The certificate form is the engine's; logged in the test log it still verifies, with our
    // log checks (key id, origin, signer name) applied to it.
    let Some(corpus) = common::corpus("hashedrekord_v2_certificate") else {
        return;
    };
    let log = TestLog::new(7);
    let (c, _dir) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m = material(&c.bundle);
    let digest = Sha256::digest(&c.artifact).to_vec();
    let body = hashedrekord_body(&digest, &m.sig, &Logged::Certificate(&m.cert));
    let b = with_entry(&c, logged_entry(&log, "hashedrekord", &body));
    verify(&c, &b).expect("verifies");
}

#[test]
fn hashedrekord_v2_logging_another_public_key_is_rejected() {
    let Some(corpus) = common::corpus("hashedrekord_v2_wrong_key") else {
        return;
    };
    let log = TestLog::new(7);
    let (c, _dir) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m = material(&c.bundle);
    let other = material(&case(&corpus, "rekor2-dsse-happy-path").bundle);
    assert_ne!(other.spki, m.spki);
    let digest = Sha256::digest(&c.artifact).to_vec();
    let body = hashedrekord_body(&digest, &m.sig, &Logged::PublicKey(&other.spki));
    let b = with_entry(&c, logged_entry(&log, "hashedrekord", &body));
    rejected_with(&c, &b, "other key logged", is_entry_mismatch);
}

#[test]
fn hashedrekord_v2_logging_another_digest_is_rejected() {
    let Some(corpus) = common::corpus("hashedrekord_v2_wrong_digest") else {
        return;
    };
    let log = TestLog::new(7);
    let (c, _dir) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m = material(&c.bundle);
    let mut digest = Sha256::digest(&c.artifact).to_vec();
    digest[0] ^= 1;
    let body = hashedrekord_body(&digest, &m.sig, &Logged::PublicKey(&m.spki));
    let b = with_entry(&c, logged_entry(&log, "hashedrekord", &body));
    rejected_with(&c, &b, "other digest logged", is_entry_mismatch);
}

#[test]
fn hashedrekord_v2_logging_another_signature_is_rejected() {
    let Some(corpus) = common::corpus("hashedrekord_v2_wrong_signature") else {
        return;
    };
    let log = TestLog::new(7);
    let (c, _dir) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m = material(&c.bundle);
    let other = material(&case(&corpus, "rekor2-dsse-happy-path").bundle);
    let digest = Sha256::digest(&c.artifact).to_vec();
    let body = hashedrekord_body(&digest, &other.sig, &Logged::PublicKey(&m.spki));
    let b = with_entry(&c, logged_entry(&log, "hashedrekord", &body));
    rejected_with(&c, &b, "other signature logged", is_entry_mismatch);
}

/// The dsse case's material, and the DSSE payload's hash.
fn dsse_case(corpus: &Path, log: &TestLog) -> (Case, tempfile::TempDir, Material, Vec<u8>) {
    let (c, dir) = own_log_case(corpus, "rekor2-dsse-happy-path", log, LOG_START);
    let m = material(&c.bundle);
    let (_, payload) = m.dsse.clone().expect("dsse bundle");
    let payload_hash = Sha256::digest(&payload).to_vec();
    (c, dir, m, payload_hash)
}

#[test]
fn dsse_v2_entry_logging_the_public_key_verifies() {
    let Some(corpus) = common::corpus("dsse_v2_public_key") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let b = with_entry(&c, logged_entry(&log, "dsse", &body));
    let v = verify(&c, &b).expect("verifies");
    assert!(v.tlog_verified());
    assert_eq!(v.log_entry().expect("entry").kind, "dsse/0.0.2");
    assert!(v.dsse_payload().is_some());
}

#[test]
fn dsse_v2_entry_logging_the_certificate_verifies() {
    let Some(corpus) = common::corpus("dsse_v2_certificate") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::Certificate(&m.cert));
    let b = with_entry(&c, logged_entry(&log, "dsse", &body));
    verify(&c, &b).expect("verifies");
}

#[test]
fn dsse_v2_entry_logging_another_certificate_or_key_is_rejected() {
    let Some(corpus) = common::corpus("dsse_v2_wrong_verifier") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let other = material(&case(&corpus, "rekor2-happy-path").bundle);
    for v in [
        Logged::Certificate(&other.cert),
        Logged::PublicKey(&other.spki),
    ] {
        let body = dsse_body(&payload_hash, &m.sig, &v);
        let b = with_entry(&c, logged_entry(&log, "dsse", &body));
        rejected_with(&c, &b, "other verifier logged", is_entry_mismatch);
    }
}

#[test]
fn dsse_v2_entry_logging_another_payload_hash_is_rejected() {
    let Some(corpus) = common::corpus("dsse_v2_wrong_digest") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let (payload_type, payload) = m.dsse.clone().expect("dsse");
    // Neither a flipped hash nor the PAE's hash (the hashedrekord-over-DSSE digest) is the
    // payload hash a dsse entry logs.
    let mut flipped = payload_hash.clone();
    flipped[31] ^= 0x80;
    let pae_hash = Sha256::digest(pae(&payload_type, &payload)).to_vec();
    for digest in [flipped, pae_hash] {
        let body = dsse_body(&digest, &m.sig, &Logged::PublicKey(&m.spki));
        let b = with_entry(&c, logged_entry(&log, "dsse", &body));
        rejected_with(&c, &b, "other payload hash", is_entry_mismatch);
    }
}

#[test]
fn dsse_v2_entry_logging_two_signatures_is_rejected() {
    let Some(corpus) = common::corpus("dsse_v2_two_signatures") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let one = format!(
        r#"{{"content":"{}","verifier":{}}}"#,
        B64.encode(&m.sig),
        verifier_json(&Logged::PublicKey(&m.spki))
    );
    let body = format!(
        r#"{{"apiVersion":"0.0.2","kind":"dsse","spec":{{"dsseV002":{{"payloadHash":{{"algorithm":"SHA2_256","digest":"{}"}},"signatures":[{one},{one}]}}}}}}"#,
        B64.encode(&payload_hash)
    );
    let b = with_entry(&c, logged_entry(&log, "dsse", body.as_bytes()));
    rejected_with(&c, &b, "two signatures", is_entry_mismatch);
}

#[test]
fn rekor_v2_entry_proved_against_another_tree_is_rejected() {
    // A valid checkpoint of the same log, but for a tree the entry is not in.
    let Some(corpus) = common::corpus("rekor_v2_proof_other_root") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let mut entry = logged_entry(&log, "dsse", &body);
    let other_root = mth(&(0..TREE_SIZE)
        .map(|i| leaf_hash(format!("unrelated {i}").as_bytes()))
        .collect::<Vec<_>>());
    entry["inclusionProof"]["rootHash"] = Value::from(B64.encode(&other_root));
    entry["inclusionProof"]["checkpoint"]["envelope"] =
        Value::from(log.checkpoint(TREE_SIZE, &other_root));
    let b = with_entry(&c, entry);
    rejected_with(&c, &b, "proof against another root", is_consistency);
    // Same for the hashedrekord form.
    let (c2, _dir2) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m2 = material(&c2.bundle);
    let digest = Sha256::digest(&c2.artifact).to_vec();
    let body = hashedrekord_body(&digest, &m2.sig, &Logged::PublicKey(&m2.spki));
    let mut entry = logged_entry(&log, "hashedrekord", &body);
    entry["inclusionProof"]["rootHash"] = Value::from(B64.encode(&other_root));
    entry["inclusionProof"]["checkpoint"]["envelope"] =
        Value::from(log.checkpoint(TREE_SIZE, &other_root));
    rejected_with(
        &c2,
        &with_entry(&c2, entry),
        "hashedrekord other root",
        is_consistency,
    );
}

#[test]
fn rekor_v2_entry_checkpoint_signed_by_an_untrusted_key_is_rejected() {
    let Some(corpus) = common::corpus("rekor_v2_untrusted_checkpoint") else {
        return;
    };
    let log = TestLog::new(9);
    let impostor = TestLog::new(10);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let mut entry = logged_entry(&log, "dsse", &body);
    let root = B64
        .decode(entry["inclusionProof"]["rootHash"].as_str().expect("root"))
        .expect("b64");
    // The impostor signs under the trusted log's key hint.
    let body_text = format!("{TEST_ORIGIN}\n{TREE_SIZE}\n{}\n", B64.encode(&root));
    let mut line = log.log_id[..4].to_vec();
    line.extend_from_slice(&impostor.key.sign(body_text.as_bytes()).to_bytes());
    entry["inclusionProof"]["checkpoint"]["envelope"] = Value::from(format!(
        "{body_text}\n\u{2014} {TEST_ORIGIN} {}\n",
        B64.encode(line)
    ));
    rejected_with(
        &c,
        &with_entry(&c, entry),
        "impostor checkpoint",
        is_consistency,
    );
}

#[test]
fn rekor_v2_entry_body_reserialised_differently_is_rejected() {
    // The body is logged (the proof covers it) but is not the canonical form the log writes.
    let Some(corpus) = common::corpus("rekor_v2_noncanonical_body") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let canonical_body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let value: Value = serde_json::from_slice(&canonical_body).expect("json");
    let pretty = serde_json::to_vec_pretty(&value).expect("pretty");
    let reordered = String::from_utf8(canonical_body.clone())
        .expect("utf8")
        .replacen(
            r#"{"apiVersion":"0.0.2","kind":"dsse","#,
            r#"{"kind":"dsse","apiVersion":"0.0.2","#,
            1,
        )
        .into_bytes();
    let escaped = String::from_utf8(canonical_body.clone())
        .expect("utf8")
        .replacen(r#""kind":"dsse""#, r#""kind":"\u0064sse""#, 1)
        .into_bytes();
    for body in [pretty, reordered, escaped] {
        assert_ne!(body, canonical_body);
        let b = with_entry(&c, logged_entry(&log, "dsse", &body));
        rejected_with(&c, &b, "re-serialised body", is_entry_format);
    }
    // The hashedrekord form: a body with an unknown member is refused too.
    let (c2, _dir2) = own_log_case(&corpus, "rekor2-happy-path", &log, LOG_START);
    let m2 = material(&c2.bundle);
    let digest = Sha256::digest(&c2.artifact).to_vec();
    let body = String::from_utf8(hashedrekord_body(
        &digest,
        &m2.sig,
        &Logged::PublicKey(&m2.spki),
    ))
    .expect("utf8")
    .replacen(r#"{"apiVersion""#, r#"{"a":"x","apiVersion""#, 1);
    let b = with_entry(&c2, logged_entry(&log, "hashedrekord", body.as_bytes()));
    rejected_with(&c2, &b, "unknown member", is_entry_format);
}

#[test]
fn rekor_v2_entry_whose_kind_differs_from_its_body_is_rejected() {
    let Some(corpus) = common::corpus("rekor_v2_kind_mismatch") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    // A hashedrekord body (with a public key) under a dsse kindVersion.
    let (payload_type, payload) = m.dsse.clone().expect("dsse");
    let _ = payload_hash;
    let pae_hash = Sha256::digest(pae(&payload_type, &payload)).to_vec();
    let body = hashedrekord_body(&pae_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let b = with_entry(&c, logged_entry(&log, "dsse", &body));
    rejected_with(&c, &b, "kind mismatch", |e| {
        is_entry_mismatch(e) || is_entry_format(e)
    });
}

#[test]
fn rekor_v2_entry_with_an_inclusion_promise_is_rejected() {
    let Some(corpus) = common::corpus("rekor_v2_set") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let mut entry = logged_entry(&log, "dsse", &body);
    entry["inclusionPromise"] = serde_json::json!({"signedEntryTimestamp": B64.encode([1u8; 8])});
    rejected_with(&c, &with_entry(&c, entry), "SET on v2", is_entry_format);
}

#[test]
fn rekor_v2_entry_without_inclusion_proof_is_rejected() {
    let Some(corpus) = common::corpus("rekor_v2_no_proof") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let mut entry = logged_entry(&log, "dsse", &body);
    entry
        .as_object_mut()
        .expect("entry")
        .remove("inclusionProof");
    rejected_with(&c, &with_entry(&c, entry), "no proof", is_consistency);
}

#[test]
fn rekor_v2_entry_of_a_log_not_yet_valid_at_the_signing_time_is_rejected() {
    let Some(corpus) = common::corpus("rekor_v2_log_validity") else {
        return;
    };
    let log = TestLog::new(9);
    // The RFC 3161 time of the corpus signature is in 2026; the log starts in 2030.
    let (c, _dir) = own_log_case(
        &corpus,
        "rekor2-dsse-happy-path",
        &log,
        "2030-01-01T00:00:00Z",
    );
    let m = material(&c.bundle);
    let (_, payload) = m.dsse.clone().expect("dsse");
    let body = dsse_body(
        &Sha256::digest(&payload),
        &m.sig,
        &Logged::PublicKey(&m.spki),
    );
    let b = with_entry(&c, logged_entry(&log, "dsse", &body));
    rejected_with(&c, &b, "log not valid yet", |e| {
        is_consistency(e) || matches!(e, SigstoreError::TransparencyLog(_))
    });
}

#[test]
fn rekor_v2_entry_duplicated_in_our_own_entries_is_rejected() {
    let Some(corpus) = common::corpus("rekor_v2_own_duplicate") else {
        return;
    };
    let log = TestLog::new(9);
    let (c, _dir, m, payload_hash) = dsse_case(&corpus, &log);
    let body = dsse_body(&payload_hash, &m.sig, &Logged::PublicKey(&m.spki));
    let entry = logged_entry(&log, "dsse", &body);
    let mut b = c.bundle.clone();
    set(
        &mut b,
        "/verificationMaterial/tlogEntries",
        Value::Array(vec![entry.clone(), entry]),
    );
    rejected_with(&c, &b, "own duplicate", |e| {
        matches!(e, SigstoreError::Duplicate(_))
    });
}
