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
use super::rekor_v2::OwnEntry;
use crate::trust::PinnedRoot;
use sigstore_types::{Bundle, InclusionProof, KindVersion, Sha256Hash};
use std::collections::HashSet;

/// One transparency log entry as these checks see it: the engine's, or one of ours
/// ([`super::rekor_v2`]).
pub struct EntryView<'a> {
    /// Position in the bundle's `tlogEntries`.
    pub position: usize,
    /// The log's id.
    pub log_id: &'a [u8],
    /// The entry's log index.
    pub log_index: u64,
    /// A Rekor v2 entry (version 0.0.2, not intoto).
    pub v2: bool,
    /// The logged body.
    pub body: &'a [u8],
    /// The inclusion proof.
    pub proof: Option<&'a InclusionProof>,
}

/// The views of all of a bundle's entries: the engine's and ours, in bundle order.
pub fn entry_views<'a>(bundle: &'a Bundle, own: &'a [OwnEntry]) -> Vec<EntryView<'a>> {
    let own_positions: HashSet<usize> = own.iter().map(|o| o.position).collect();
    let mut engine_positions = (0..).filter(|p| !own_positions.contains(p));
    let mut views: Vec<EntryView<'a>> = bundle
        .verification_material
        .tlog_entries
        .iter()
        .map(|e| EntryView {
            position: engine_positions.next().unwrap_or(usize::MAX),
            log_id: e.log_id.key_id.as_bytes(),
            log_index: e.log_index.get(),
            v2: is_v2(e.kind_version),
            body: e.canonicalized_body.as_bytes(),
            proof: e.inclusion_proof.as_ref(),
        })
        .collect();
    views.extend(own.iter().map(|o| EntryView {
        position: o.position,
        log_id: o.raw.log_id.key_id.as_bytes(),
        log_index: o.raw.log_index.get(),
        v2: true,
        body: o.raw.canonicalized_body.as_bytes(),
        proof: o.raw.inclusion_proof.as_ref(),
    }));
    views.sort_by_key(|v| v.position);
    views
}

/// Reject duplicate log entries and duplicate RFC 3161 timestamps.
pub fn check_duplicates(bundle: &Bundle, entries: &[EntryView<'_>]) -> Result<(), SigstoreError> {
    let mut seen_index = HashSet::new();
    let mut seen_body = HashSet::new();
    for e in entries {
        let i = e.position;
        let key = (e.log_id.to_vec(), e.log_index);
        if !seen_index.insert(key) {
            return Err(SigstoreError::Duplicate(format!(
                "transparency log entry {i} repeats log index {} of log {}: expected each entry once",
                e.log_index,
                hex::encode(e.log_id)
            )));
        }
        if !seen_body.insert(e.body.to_vec()) {
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
pub fn check_log_consistency(
    entries: &[EntryView<'_>],
    root: &PinnedRoot,
) -> Result<(), SigstoreError> {
    let keyring = root
        .root
        .rekor_keys()
        .map_err(|e| SigstoreError::InvalidTrustRoot(e.to_string()))?;
    for e in entries {
        let i = e.position;
        let log_id = e.log_id;
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
        let Some(proof) = e.proof else {
            continue;
        };
        let v2 = e.v2;
        if v2 && proof.log_index.get() != e.log_index {
            return Err(inconsistent(format!(
                "entry {i}: inclusion proof log index {} differs from the entry's log index {}",
                proof.log_index.get(),
                e.log_index
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
