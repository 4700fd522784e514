//! Hostile or broken input: exit 1 with a reason, never a panic, never exit 0. The envelopes
//! are signed by a project-owned test key (a fixed P-256 key), so the signature check passes
//! and the check under test is the one that decides.
mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::vetted_in as vetted;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use std::path::Path;

const KEY_ID: &str = "test-key";
const VERIFIER: &str = "https://vetted.test/verifier";
const RESOURCE: &str = "file://artifact";
const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32].into()).expect("fixed test key")
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

fn vsa_statement(subjects: usize) -> Vec<u8> {
    let subject: Vec<serde_json::Value> = (0..subjects.max(1))
        .map(|i| {
            serde_json::json!({"name": format!("s{i}"),
                "digest": {"sha256": format!("{:064x}", i + 1)}})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/verification_summary/v1",
        "subject": subject,
        "predicate": {"verifier": {"id": VERIFIER}, "verificationResult": "PASSED",
            "verifiedLevels": ["SLSA_BUILD_LEVEL_2"], "resourceUri": RESOURCE}
    }))
    .expect("json")
}

fn envelope(payload: &[u8], signatures: usize) -> serde_json::Value {
    let t = "application/vnd.in-toto+json";
    let sig: Signature = key().sign(&pae(t, payload));
    let one = serde_json::json!({"keyid": KEY_ID, "sig": B64.encode(sig.to_der().as_bytes())});
    serde_json::json!({"payloadType": t, "payload": B64.encode(payload),
        "signatures": vec![one; signatures]})
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = tempfile::tempdir().expect("tempdir");
        let pem = key()
            .verifying_key()
            .to_public_key_pem(Default::default())
            .expect("pem");
        std::fs::write(d.path().join("key.pem"), pem).expect("write key");
        std::fs::write(d.path().join("artifact"), b"artifact").expect("write artifact");
        Dir(d)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path().join(name), bytes).expect("write");
    }
}

fn vsa_args(file: &str) -> Vec<String> {
    [
        "verify-vsa",
        "--attestation-path",
        file,
        "--public-key-path",
        "key.pem",
        "--public-key-id",
        KEY_ID,
        "--verifier-id",
        VERIFIER,
        "--resource-uri",
        RESOURCE,
        "--subject-digest",
        DIGEST,
        "--verified-level",
        "SLSA_BUILD_LEVEL_2",
    ]
    .map(String::from)
    .to_vec()
}

fn artifact_args(file: &str) -> Vec<String> {
    [
        "verify-artifact",
        "--provenance-path",
        file,
        "--source-uri",
        "github.com/a/b",
        "--builder-id",
        "https://github.com/actions/runner/github-hosted",
        "artifact",
    ]
    .map(String::from)
    .to_vec()
}

/// Exit 1, one rejection line naming `check`.
fn assert_rejected(dir: &Dir, args: &[String], check: &str) {
    let run = vetted(dir.path(), args);
    let line = run.stderr.lines().last().unwrap_or("");
    assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
    assert!(
        line.starts_with(&format!("vetted: rejected: {check}: ")),
        "{args:?}: {line}"
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn the_test_signer_is_accepted_when_nothing_is_wrong() {
    let dir = Dir::new();
    dir.write(
        "ok.json",
        &serde_json::to_vec(&envelope(&vsa_statement(1), 1)).expect("json"),
    );
    let run = vetted(dir.path(), &vsa_args("ok.json"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn ten_thousand_subjects() {
    let dir = Dir::new();
    dir.write(
        "big.json",
        &serde_json::to_vec(&envelope(&vsa_statement(10_000), 1)).expect("json"),
    );
    assert_rejected(&dir, &vsa_args("big.json"), "limits");
}

#[test]
fn envelope_with_two_signatures() {
    let dir = Dir::new();
    let two = serde_json::to_vec(&envelope(&vsa_statement(1), 2)).expect("json");
    dir.write("two.json", &two);
    assert_rejected(&dir, &vsa_args("two.json"), "provenance-format");
    assert_rejected(&dir, &artifact_args("two.json"), "provenance-format");
}

#[test]
fn payload_not_base64() {
    let dir = Dir::new();
    let mut env = envelope(&vsa_statement(1), 1);
    env["payload"] = serde_json::Value::String("this is not base64!".into());
    let bytes = serde_json::to_vec(&env).expect("json");
    dir.write("b64.json", &bytes);
    assert_rejected(&dir, &vsa_args("b64.json"), "provenance-format");
    assert_rejected(&dir, &artifact_args("b64.json"), "provenance-format");
}

#[test]
fn truncated_json_lines() {
    let dir = Dir::new();
    let line = serde_json::to_string(&envelope(&vsa_statement(1), 1)).expect("json");
    let truncated = format!("{line}\n{}", &line[..line.len() / 2]);
    dir.write("cut.jsonl", truncated.as_bytes());
    assert_rejected(&dir, &vsa_args("cut.jsonl"), "provenance-format");
    assert_rejected(&dir, &artifact_args("cut.jsonl"), "provenance-format");
    dir.write("empty.jsonl", b"\n\n");
    assert_rejected(&dir, &artifact_args("empty.jsonl"), "provenance-format");
}

#[test]
fn tampered_payload_fails_the_signature() {
    let dir = Dir::new();
    let mut env = envelope(&vsa_statement(1), 1);
    let mut other = vsa_statement(1);
    other.push(b' ');
    env["payload"] = serde_json::Value::String(B64.encode(other));
    dir.write("tampered.json", &serde_json::to_vec(&env).expect("json"));
    assert_rejected(&dir, &vsa_args("tampered.json"), "signature");
}

#[test]
fn bare_envelope_has_no_transparency_log_evidence() {
    let dir = Dir::new();
    let env = serde_json::to_vec(&envelope(&vsa_statement(1), 1)).expect("json");
    dir.write("env.json", &env);
    assert_rejected(&dir, &artifact_args("env.json"), "transparency-log");
}

#[test]
fn not_json_and_not_a_document() {
    let dir = Dir::new();
    dir.write("garbage", b"\x00\x01garbage");
    assert_rejected(&dir, &artifact_args("garbage"), "provenance-format");
    dir.write("other.json", br#"{"hello": "world"}"#);
    assert_rejected(&dir, &artifact_args("other.json"), "provenance-format");
    dir.write("npm.json", br#"{"attestations": [{"predicateType": 1}]}"#);
    let args: Vec<String> = [
        "verify-npm-package",
        "--attestations-path",
        "npm.json",
        "--package-name",
        "x",
        "--package-version",
        "1.0.0",
        "--source-uri",
        "github.com/a/b",
        "--builder-id",
        "https://github.com/actions/runner/github-hosted",
        "artifact",
    ]
    .map(String::from)
    .to_vec();
    assert_rejected(&dir, &args, "provenance-format");
}

#[test]
fn missing_files_are_operational_errors() {
    let dir = Dir::new();
    let run = vetted(dir.path(), &artifact_args("does-not-exist.jsonl"));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}
