//! Rekor v2 entries the `sigstore-verify` 0.15.1 engine cannot verify, verified here:
//!
//! - `dsse/0.0.2` entries (the engine's bundle type cannot even parse the kind), and
//! - `hashedrekord/0.0.2` entries of a certificate-signed bundle whose logged verifier is the
//!   certificate's bare public key (the engine requires the certificate itself).
//!
//! We verify them in our own module rather than carry a patched engine: the entry check is
//! small, self-contained and spec-shaped, while a patch would have to touch three crates
//! (`sigstore-types` for the kind, `sigstore-rekor` for the body, `sigstore-verify` for the
//! checks) and be re-applied on every engine release. [`split`] takes these entries out of
//! the bundle before the engine parses it; the engine then verifies everything else
//! (certificate chain, SCT, RFC 3161 timestamps, signature, any other log entries) and
//! [`verify`] checks these entries against the verified bundle:
//!
//! 1. The canonicalized body is exactly the canonical form of its JSON: rekor-tiles logs
//!    `protojson` of `rekor.v2.Entry` canonicalised with RFC 8785 (JCS). A body the log would
//!    never have written is rejected even when an inclusion proof covers it.
//! 2. The body is typed (`api/proto/rekor/v2/entry.proto`, `dsse.proto`, `hashedrekord.proto`,
//!    `verifier.proto`; unknown fields rejected) and its `kind`/`apiVersion` are the entry's
//!    `kindVersion`.
//! 3. The logged verifier is the bundle's signer: `x509Certificate.rawBytes` equal to the
//!    signing certificate, or `publicKey.rawBytes` equal to its SubjectPublicKeyInfo (or to
//!    the managed key). The logged signature equals the bundle's.
//! 4. The logged digest is the signed content's: `hashedrekord` `data.digest` = SHA-256 of the
//!    artifact (message signature) or of the DSSE PAE ("hashedrekord-over-DSSE"); `dsse`
//!    `payloadHash.digest` = SHA-256 of the envelope's payload, with exactly one signature.
//! 5. RFC 6962 inclusion: leaf hash = SHA-256(0x00 || body), at the entry's log index, against
//!    the tree size and root hash of the checkpoint, which [`super::evidence`] verifies was
//!    signed by the named log's key under its origin. No SET exists in Rekor v2: a bundle
//!    that carries one for these entries is rejected.
//! 6. The log's key was valid (trusted root `validFor`) at every verified signing time.
use super::SigstoreError;
use crate::trust::PinnedRoot;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use serde::Deserialize;
use sigstore_types::{
    Bundle, CanonicalizedBody, InclusionProof, LogId, LogIndex, Sha256Hash, SignatureContent,
};

/// Which Rekor v2 entry kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `hashedrekord/0.0.2`.
    HashedRekord,
    /// `dsse/0.0.2`.
    Dsse,
}

impl Kind {
    /// `kind/version`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::HashedRekord => "hashedrekord/0.0.2",
            Kind::Dsse => "dsse/0.0.2",
        }
    }
    fn kind(self) -> &'static str {
        match self {
            Kind::HashedRekord => "hashedrekord",
            Kind::Dsse => "dsse",
        }
    }
}

/// A Rekor v2 entry taken out of the bundle for our own verification.
#[derive(Debug, Clone)]
pub struct OwnEntry {
    /// Its position in the bundle's `tlogEntries`.
    pub position: usize,
    /// Its kind.
    pub kind: Kind,
    /// The entry as the bundle gives it.
    pub raw: RawEntry,
}

/// A bundle `TransparencyLogEntry` (protobuf-specs), typed with the engine's field types.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEntry {
    /// Log index.
    #[serde(default)]
    pub log_index: LogIndex,
    /// Log id.
    pub log_id: LogId,
    /// Kind and version (already matched by [`split`]).
    #[allow(dead_code)]
    kind_version: serde_json::Value,
    /// Unsigned in Rekor v2: ignored.
    #[serde(default)]
    #[allow(dead_code)]
    integrated_time: Option<serde_json::Value>,
    /// Must be absent in Rekor v2.
    #[serde(default)]
    pub inclusion_promise: Option<serde_json::Value>,
    /// The inclusion proof and checkpoint.
    #[serde(default)]
    pub inclusion_proof: Option<InclusionProof>,
    /// The logged body.
    pub canonicalized_body: CanonicalizedBody,
}

fn format_err(position: usize, message: impl std::fmt::Display) -> SigstoreError {
    SigstoreError::EntryFormat(format!("transparency log entry {position}: {message}"))
}

fn mismatch(position: usize, message: impl std::fmt::Display) -> SigstoreError {
    SigstoreError::EntryMismatch(format!("transparency log entry {position}: {message}"))
}

/// Take the entries we verify ourselves out of the bundle document `doc` (before the engine
/// parses it). A `hashedrekord/0.0.2` entry is ours only when the bundle has a certificate and
/// the entry logs a public key; every other entry stays with the engine.
pub fn split(doc: &mut serde_json::Value) -> Result<Vec<OwnEntry>, SigstoreError> {
    let material = doc.get("verificationMaterial").and_then(|m| m.as_object());
    let has_certificate = material
        .is_some_and(|m| m.contains_key("certificate") || m.contains_key("x509CertificateChain"));
    let Some(entries) = doc
        .pointer_mut("/verificationMaterial/tlogEntries")
        .and_then(|e| e.as_array_mut())
    else {
        return Ok(Vec::new());
    };
    let mut own = Vec::new();
    let mut keep = Vec::new();
    for (position, entry) in std::mem::take(entries).into_iter().enumerate() {
        let kind = entry.pointer("/kindVersion/kind").and_then(|k| k.as_str());
        let version = entry
            .pointer("/kindVersion/version")
            .and_then(|k| k.as_str());
        let ours = match (kind, version) {
            (Some("dsse"), Some("0.0.2")) => Some(Kind::Dsse),
            (Some("hashedrekord"), Some("0.0.2")) if has_certificate => {
                logs_public_key(&entry).then_some(Kind::HashedRekord)
            }
            _ => None,
        };
        match ours {
            Some(kind) => {
                let raw: RawEntry = serde_json::from_value(entry)
                    .map_err(|e| format_err(position, format!("malformed {}: {e}", kind.name())))?;
                own.push(OwnEntry {
                    position,
                    kind,
                    raw,
                });
            }
            None => keep.push(entry),
        }
    }
    *entries = keep;
    Ok(own)
}

/// Whether a `hashedrekord/0.0.2` entry's body names a `publicKey` verifier.
fn logs_public_key(entry: &serde_json::Value) -> bool {
    let Some(body) = entry
        .get("canonicalizedBody")
        .and_then(|b| b.as_str())
        .and_then(|b| B64.decode(b).ok())
    else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/spec/hashedRekordV002/signature/verifier/publicKey")
                .map(|_| ())
        })
        .is_some()
}

// The Rekor v2 entry body (rekor-tiles `api/proto/rekor/v2/*.proto`, protojson names).

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Body {
    api_version: String,
    kind: String,
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Spec {
    #[serde(default)]
    hashed_rekord_v002: Option<HashedRekordV002>,
    #[serde(default)]
    dsse_v002: Option<DsseV002>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct HashedRekordV002 {
    data: HashOutput,
    signature: LoggedSignature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DsseV002 {
    payload_hash: HashOutput,
    #[serde(default)]
    signatures: Vec<LoggedSignature>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct HashOutput {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LoggedSignature {
    content: String,
    verifier: Verifier,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Verifier {
    #[serde(default)]
    public_key: Option<RawBytes>,
    #[serde(default)]
    x509_certificate: Option<RawBytes>,
    #[serde(default)]
    #[allow(dead_code)]
    key_details: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

/// RFC 8785 canonical JSON of `v`, for the values a protojson body can hold. Numbers never
/// occur in a Rekor v2 body (64-bit integers are strings in protojson, enums are names), so a
/// number is refused rather than canonicalised by the ECMAScript number rules.
fn canonical(v: &serde_json::Value, out: &mut String) -> Result<(), String> {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => return Err(format!("unexpected number {n}")),
        Value::String(s) => out.push_str(&serde_json::to_string(s).map_err(|e| e.to_string())?),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // JCS sorts member names by their UTF-16 code units.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).map_err(|e| e.to_string())?);
                out.push(':');
                canonical(&map[k], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn decode(position: usize, what: &str, s: &str) -> Result<Vec<u8>, SigstoreError> {
    B64.decode(s)
        .map_err(|e| format_err(position, format!("{what} is not base64: {e}")))
}

/// What the bundle says was signed, and by whom, for comparison with the log.
pub struct Signed<'a> {
    /// The signing certificate (DER), for certificate bundles.
    pub certificate: Option<&'a [u8]>,
    /// The signer's SubjectPublicKeyInfo (DER): the certificate's, or the managed key.
    pub public_key: &'a [u8],
    /// SHA-256 of the artifact, when known (message signatures).
    pub artifact_sha256: Option<&'a [u8]>,
}

/// Verify our entries against the engine-verified `bundle` (its remaining entries removed or
/// not), the trust root and the verified signing `times`.
pub fn verify(
    own: &[OwnEntry],
    bundle: &Bundle,
    signed: &Signed<'_>,
    root: &PinnedRoot,
    times: &[Timestamp],
) -> Result<(), SigstoreError> {
    if own.is_empty() {
        return Ok(());
    }
    let keyring = root
        .root
        .rekor_keys()
        .map_err(|e| SigstoreError::InvalidTrustRoot(e.to_string()))?;
    for e in own {
        let p = e.position;
        let raw = &e.raw;
        if raw.inclusion_promise.is_some() {
            return Err(format_err(
                p,
                "a Rekor v2 entry carries an inclusion promise (SET), which Rekor v2 never issues",
            ));
        }
        let Some(proof) = &raw.inclusion_proof else {
            return Err(SigstoreError::LogConsistency(format!(
                "entry {p}: Rekor v2 entry has no inclusion proof"
            )));
        };
        let body_bytes = raw.canonicalized_body.as_bytes();
        check_body(e, body_bytes, bundle, signed)?;
        // The checkpoint's signature, origin, tree size and root hash were checked by
        // `evidence::check_log_consistency`; the proof is taken against the checkpoint.
        let checkpoint = proof.checkpoint.checkpoint().ok_or_else(|| {
            SigstoreError::LogConsistency(format!(
                "entry {p}: Rekor v2 inclusion proof has no checkpoint"
            ))
        })?;
        let leaf = sigstore_merkle::hash_leaf(body_bytes);
        sigstore_merkle::verify_inclusion_proof(
            &leaf,
            raw.log_index.get(),
            checkpoint.tree_size(),
            &proof.hashes,
            checkpoint.root_hash(),
        )
        .map_err(|err| {
            SigstoreError::LogConsistency(format!(
                "entry {p}: inclusion proof of leaf {} at index {} does not reach the checkpoint's root {} (tree size {}): {err}",
                leaf.to_hex(),
                raw.log_index.get(),
                checkpoint.root_hash().to_hex(),
                checkpoint.tree_size()
            ))
        })?;
        let key_id = Sha256Hash::try_from(raw.log_id.key_id.as_bytes())
            .map_err(|err| format_err(p, format!("log id: {err}")))?;
        for t in times {
            if keyring.key_at(&key_id, *t).is_none() {
                return Err(SigstoreError::LogConsistency(format!(
                    "entry {p}: the key of log {} was not valid at the signing time {t}",
                    hex::encode(raw.log_id.key_id.as_bytes())
                )));
            }
        }
    }
    Ok(())
}

fn check_body(
    e: &OwnEntry,
    body_bytes: &[u8],
    bundle: &Bundle,
    signed: &Signed<'_>,
) -> Result<(), SigstoreError> {
    let p = e.position;
    let value: serde_json::Value = serde_json::from_slice(body_bytes)
        .map_err(|err| format_err(p, format!("body is not JSON: {err}")))?;
    let mut canon = String::new();
    canonical(&value, &mut canon).map_err(|err| format_err(p, format!("body: {err}")))?;
    if canon.as_bytes() != body_bytes {
        return Err(format_err(
            p,
            format!(
                "body is not in canonical (RFC 8785) form: expected {} bytes as the log writes them, got {} bytes serialised otherwise",
                canon.len(),
                body_bytes.len()
            ),
        ));
    }
    let body: Body = serde_json::from_value(value)
        .map_err(|err| format_err(p, format!("body is not a Rekor v2 entry: {err}")))?;
    if body.kind != e.kind.kind() || body.api_version != "0.0.2" {
        return Err(mismatch(
            p,
            format!(
                "body is {}/{}, the entry says {}",
                body.kind,
                body.api_version,
                e.kind.name()
            ),
        ));
    }
    let (digest, signatures) = match (e.kind, body.spec) {
        (
            Kind::HashedRekord,
            Spec {
                hashed_rekord_v002: Some(h),
                dsse_v002: None,
            },
        ) => (h.data, vec![h.signature]),
        (
            Kind::Dsse,
            Spec {
                hashed_rekord_v002: None,
                dsse_v002: Some(d),
            },
        ) => (d.payload_hash, d.signatures),
        _ => {
            return Err(format_err(
                p,
                format!("body spec must hold exactly one {} entry", e.kind.name()),
            ));
        }
    };
    if digest.algorithm != "SHA2_256" {
        return Err(format_err(
            p,
            format!(
                "logged digest algorithm {}: only SHA2_256 is supported",
                digest.algorithm
            ),
        ));
    }
    let logged_digest = decode(p, "logged digest", &digest.digest)?;
    let (expected_digest, what, signature): (Vec<u8>, &str, &[u8]) = match (&bundle.content, e.kind)
    {
        (SignatureContent::MessageSignature(m), Kind::HashedRekord) => {
            let Some(d) = signed.artifact_sha256 else {
                return Err(mismatch(
                    p,
                    "the artifact's SHA-256 is needed to compare with the logged digest, and only another digest was given",
                ));
            };
            (d.to_vec(), "the artifact's SHA-256", m.signature.as_bytes())
        }
        (SignatureContent::DsseEnvelope(env), Kind::HashedRekord) => (
            sigstore_crypto::sha256(&env.pae()).as_bytes().to_vec(),
            "the SHA-256 of the DSSE envelope's PAE",
            env.signature.sig.as_bytes(),
        ),
        (SignatureContent::DsseEnvelope(env), Kind::Dsse) => (
            sigstore_crypto::sha256(env.payload.as_bytes())
                .as_bytes()
                .to_vec(),
            "the SHA-256 of the DSSE payload",
            env.signature.sig.as_bytes(),
        ),
        (SignatureContent::MessageSignature(_), Kind::Dsse) => {
            return Err(mismatch(p, "a dsse entry cannot log a message signature"));
        }
        _ => {
            return Err(SigstoreError::InvalidBundle(
                "unsupported bundle signature content".into(),
            ));
        }
    };
    if logged_digest != expected_digest {
        return Err(mismatch(
            p,
            format!(
                "logged digest {}, expected {what} {}",
                hex::encode(&logged_digest),
                hex::encode(&expected_digest)
            ),
        ));
    }
    // The bundle's DSSE envelope holds exactly one signature (the engine's type enforces it),
    // so the log must hold exactly that one.
    let [logged] = signatures.as_slice() else {
        return Err(mismatch(
            p,
            format!(
                "the entry logs {} signatures, the bundle has 1",
                signatures.len()
            ),
        ));
    };
    if decode(p, "logged signature", &logged.content)? != signature {
        return Err(mismatch(
            p,
            "the logged signature differs from the bundle's signature",
        ));
    }
    match (
        &logged.verifier.public_key,
        &logged.verifier.x509_certificate,
    ) {
        (Some(key), None) => {
            if decode(p, "logged public key", &key.raw_bytes)? != signed.public_key {
                return Err(mismatch(
                    p,
                    "the logged public key is not the bundle signer's key",
                ));
            }
        }
        (None, Some(cert)) => {
            let Some(bundle_cert) = signed.certificate else {
                return Err(mismatch(
                    p,
                    "the entry logs a certificate, the bundle is signed by a managed key",
                ));
            };
            if decode(p, "logged certificate", &cert.raw_bytes)? != bundle_cert {
                return Err(mismatch(
                    p,
                    "the logged certificate is not the bundle's signing certificate",
                ));
            }
        }
        _ => {
            return Err(format_err(
                p,
                "the logged verifier must be exactly one of publicKey and x509Certificate",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn canonical_form_sorts_members_and_drops_whitespace() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{ "spec": {"b": "x\u0001", "a": [true, null]}, "kind": "k" }"#)
                .expect("json");
        let mut out = String::new();
        canonical(&v, &mut out).expect("canonical");
        assert_eq!(
            out,
            r#"{"kind":"k","spec":{"a":[true,null],"b":"x\u0001"}}"#
        );
    }

    #[test]
    fn number_in_a_body_is_refused() {
        let v: serde_json::Value = serde_json::from_str(r#"{"a": 1.0}"#).expect("json");
        assert!(canonical(&v, &mut String::new()).is_err());
    }
}
