//! Checks of a bundle's log and timestamp evidence that the `sigstore-verify` 0.15.1 engine
//! does not make, run on every bundle before the engine:
//!
//! - **Duplicates.** Two transparency-log entries for the same (log, index) or the same
//!   entry body, or two byte-identical RFC 3161 timestamps, are rejected. A duplicate is not
//!   independent evidence: counted twice it would let one log entry or one TSA signature meet
//!   a threshold of two (sigstore-python's `VERIFIED_TIME_THRESHOLD`, cosign's `--tlog-threshold`
//!   style policies); counted once it would be silently ignored input. A well-formed client
//!   never writes one, so we fail closed as the reference clients do rather than deduplicate.
//! - **Log identity and checkpoints.** The engine checks a Rekor v2 inclusion proof against
//!   the checkpoint's tree size and root hash, and accepts a checkpoint signed by *any* log key
//!   of the trusted root under *any* signer name. Here, for every entry with an inclusion proof:
//!   its log id must name a transparency log of the trusted root; the proof's tree size and
//!   root hash must equal the checkpoint's (the engine compares only the root hash, and only
//!   for Rekor v1); the checkpoint must carry a signature by *that* log's key (C2SP signed
//!   note: key hint = first four bytes of the log id) that verifies; and for Rekor v2 entries
//!   (entry version 0.0.2) the proof's log index must equal the entry's, the checkpoint origin
//!   must be the log's origin (its base URL without the scheme) and the verifying signature's
//!   signer name must be the origin (C2SP tlog-checkpoint: "the origin line ... the key name").
use super::SigstoreError;
use crate::trust::PinnedRoot;
use sigstore_types::{Bundle, KindVersion, Sha256Hash};
use std::collections::HashSet;

/// Reject duplicate log entries and duplicate RFC 3161 timestamps.
pub fn check_duplicates(bundle: &Bundle) -> Result<(), SigstoreError> {
    let mut seen_index = HashSet::new();
    let mut seen_body = HashSet::new();
    for (i, e) in bundle.verification_material.tlog_entries.iter().enumerate() {
        let key = (e.log_id.key_id.as_bytes().to_vec(), e.log_index.get());
        if !seen_index.insert(key) {
            return Err(SigstoreError::Duplicate(format!(
                "transparency log entry {i} repeats log index {} of log {}: expected each entry once",
                e.log_index.get(),
                hex::encode(e.log_id.key_id.as_bytes())
            )));
        }
        if !seen_body.insert(e.canonicalized_body.as_bytes().to_vec()) {
            return Err(SigstoreError::Duplicate(format!(
                "transparency log entry {i} repeats the body of an earlier entry: expected each entry once"
            )));
        }
    }
    let mut seen_ts = HashSet::new();
    for (i, t) in bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps
        .iter()
        .enumerate()
    {
        if !seen_ts.insert(t.signed_timestamp.as_bytes().to_vec()) {
            return Err(SigstoreError::Duplicate(format!(
                "RFC 3161 timestamp {i} repeats an earlier one: expected each timestamp once"
            )));
        }
    }
    Ok(())
}

fn is_v2(kind: KindVersion) -> bool {
    kind.version() == "0.0.2" && kind != KindVersion::IntotoV002
}

/// The origin a log's checkpoints carry: its base URL without the scheme or a trailing `/`.
fn origin_of(base_url: &str) -> &str {
    let s = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .unwrap_or(base_url);
    s.trim_end_matches('/')
}

fn inconsistent(message: String) -> SigstoreError {
    SigstoreError::LogConsistency(message)
}

/// Cross-check every entry's inclusion proof and checkpoint against the log it names.
pub fn check_log_consistency(bundle: &Bundle, root: &PinnedRoot) -> Result<(), SigstoreError> {
    let keyring = root
        .root
        .rekor_keys()
        .map_err(|e| SigstoreError::InvalidTrustRoot(e.to_string()))?;
    for (i, e) in bundle.verification_material.tlog_entries.iter().enumerate() {
        let log_id = e.log_id.key_id.as_bytes();
        let Some(log) = root
            .root
            .tlogs
            .iter()
            .find(|t| t.log_id.key_id.as_bytes() == log_id)
        else {
            return Err(inconsistent(format!(
                "entry {i} names log {}, which is not a transparency log of trust root {}",
                hex::encode(log_id),
                root.name
            )));
        };
        let Some(proof) = &e.inclusion_proof else {
            continue;
        };
        let v2 = is_v2(e.kind_version);
        if v2 && proof.log_index.get() != e.log_index.get() {
            return Err(inconsistent(format!(
                "entry {i}: inclusion proof log index {} differs from the entry's log index {}",
                proof.log_index.get(),
                e.log_index.get()
            )));
        }
        let Some(checkpoint) = proof.checkpoint.checkpoint() else {
            if v2 {
                return Err(inconsistent(format!(
                    "entry {i}: Rekor v2 inclusion proof has no checkpoint"
                )));
            }
            continue;
        };
        if proof.tree_size != checkpoint.tree_size() {
            return Err(inconsistent(format!(
                "entry {i}: inclusion proof tree size {} differs from the checkpoint's {}",
                proof.tree_size,
                checkpoint.tree_size()
            )));
        }
        if proof.root_hash.as_bytes() != checkpoint.root_hash().as_bytes() {
            return Err(inconsistent(format!(
                "entry {i}: inclusion proof root hash {} differs from the checkpoint's {}",
                proof.root_hash.to_hex(),
                checkpoint.root_hash().to_hex()
            )));
        }
        let expected_origin = origin_of(&log.base_url);
        if v2 && checkpoint.origin() != expected_origin {
            return Err(inconsistent(format!(
                "entry {i}: checkpoint origin {:?}, expected {expected_origin:?} (log {})",
                checkpoint.origin(),
                log.base_url
            )));
        }
        let key_id = Sha256Hash::try_from(log_id)
            .map_err(|e| inconsistent(format!("entry {i}: log id: {e}")))?;
        let by_log_key = checkpoint.signatures().iter().find(|s| {
            s.key_id.as_bytes()[..] == log_id[..4]
                && (!v2 || s.name == checkpoint.origin())
                && keyring
                    .verify_with_key_id(&key_id, checkpoint.signed_data(), &s.signature)
                    .is_ok()
        });
        if by_log_key.is_none() {
            let names: Vec<&str> = checkpoint
                .signatures()
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            return Err(inconsistent(format!(
                "entry {i}: the checkpoint has no valid signature by log {} under the signer name {:?} (signatures by: {})",
                hex::encode(log_id),
                checkpoint.origin(),
                names.join(", ")
            )));
        }
    }
    Ok(())
}
