//! Provenance documents as they arrive: a Sigstore bundle, a bare DSSE envelope, or JSON lines
//! of either (`.intoto.jsonl`, `.build.slsa`). Splitting and parsing happen here, once, within
//! limits; everything after works on [`Document`].
//!
//! DSSE protocol (github.com/secure-systems-lab/dsse, `protocol.md`): the signature is over
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
use super::ProvenanceError;
use crate::limits::{LimitExceeded, Limits};
use crate::sigstore::{self, ParsedBundle};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::Deserialize;

/// The one payload type vetted accepts in an envelope: an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A bare DSSE envelope (no Sigstore verification material), parsed.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The payload type.
    pub payload_type: String,
    /// The decoded payload.
    pub payload: Vec<u8>,
    /// The one signature's key id (may be empty).
    pub keyid: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl Envelope {
    /// The bytes the signature covers (DSSE v1 pre-authentication encoding).
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE v1 pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// One document of a provenance file.
#[derive(Debug, Clone)]
pub enum Document {
    /// A Sigstore bundle (certificate or key, with log or timestamp evidence).
    Bundle(Box<ParsedBundle>),
    /// A bare DSSE envelope.
    Envelope(Envelope),
}

#[derive(Deserialize)]
struct WireEnvelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    signatures: Vec<WireSignature>,
}

#[derive(Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: Option<String>,
    sig: String,
}

/// Decode standard or URL-safe base64 (DSSE allows either), rejecting anything else.
pub fn decode_base64(what: &str, text: &str) -> Result<Vec<u8>, ProvenanceError> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(|e| ProvenanceError::Malformed(format!("{what} is not base64: {e}")))
}

/// Parse a bare DSSE envelope. DSSE allows several signatures; vetted requires exactly one,
/// as the Sigstore bundle format does: with two, which one the policy trusted is ambiguous.
pub fn parse_envelope(value: serde_json::Value) -> Result<Envelope, ProvenanceError> {
    let wire: WireEnvelope = serde_json::from_value(value)
        .map_err(|e| ProvenanceError::Malformed(format!("not a DSSE envelope: {e}")))?;
    let [sig] = <[WireSignature; 1]>::try_from(wire.signatures).map_err(|s| {
        ProvenanceError::Malformed(format!(
            "DSSE envelope must carry exactly one signature, it has {}",
            s.len()
        ))
    })?;
    Ok(Envelope {
        payload: decode_base64("DSSE payload", &wire.payload)?,
        payload_type: wire.payload_type,
        keyid: sig.keyid.unwrap_or_default(),
        signature: decode_base64("DSSE signature", &sig.sig)?,
    })
}

/// Split a provenance file into documents: one JSON document, or JSON lines (blank lines
/// ignored). Every line must parse; a truncated line rejects the whole file.
pub fn split_documents(
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<serde_json::Value>, ProvenanceError> {
    LimitExceeded::check(
        "provenance document size",
        limits.bundle_bytes,
        bytes.len() as u64,
    )?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ProvenanceError::Malformed("provenance file is not UTF-8".into()))?;
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        return Ok(vec![value]);
    }
    let mut docs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        LimitExceeded::check(
            "JSON-lines documents",
            limits.jsonl_documents as u64,
            docs.len() as u64 + 1,
        )?;
        let value = serde_json::from_str(line).map_err(|e| {
            ProvenanceError::Malformed(format!("line {} is not a JSON document: {e}", n + 1))
        })?;
        docs.push(value);
    }
    if docs.is_empty() {
        return Err(ProvenanceError::Malformed(
            "provenance file holds no document".into(),
        ));
    }
    Ok(docs)
}

/// Classify and parse one document.
pub fn parse_document(
    value: serde_json::Value,
    limits: &Limits,
) -> Result<Document, ProvenanceError> {
    if value.get("mediaType").is_some() {
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| ProvenanceError::Malformed(format!("bundle: {e}")))?;
        let bundle = sigstore::parse_bundle(&bytes, limits)?;
        return Ok(Document::Bundle(Box::new(bundle)));
    }
    if value.get("payload").is_some() && value.get("signatures").is_some() {
        return Ok(Document::Envelope(parse_envelope(value)?));
    }
    Err(ProvenanceError::Malformed(
        "document is neither a Sigstore bundle nor a DSSE envelope".into(),
    ))
}

/// Read a provenance file into documents.
pub fn parse_documents(bytes: &[u8], limits: &Limits) -> Result<Vec<Document>, ProvenanceError> {
    split_documents(bytes, limits)?
        .into_iter()
        .map(|v| parse_document(v, limits))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // protocol.md: PAE("http://example.com/HelloWorld", "hello world")
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn envelope_needs_exactly_one_signature() {
        let two = serde_json::json!({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": "e30=",
            "signatures": [{"sig": "AA=="}, {"sig": "AA=="}]});
        assert!(matches!(
            parse_envelope(two),
            Err(ProvenanceError::Malformed(_))
        ));
        let none = serde_json::json!({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": "e30=",
            "signatures": []});
        assert!(parse_envelope(none).is_err());
        let one = serde_json::json!({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": "e30=",
            "signatures": [{"keyid": "k", "sig": "AA=="}]});
        let env = parse_envelope(one).expect("one signature parses");
        assert_eq!(env.payload, b"{}");
        assert_eq!(env.keyid, "k");
    }

    #[test]
    fn payload_must_be_base64() {
        let bad = serde_json::json!({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": "not base64!",
            "signatures": [{"sig": "AA=="}]});
        assert!(matches!(
            parse_envelope(bad),
            Err(ProvenanceError::Malformed(_))
        ));
    }

    #[test]
    fn truncated_json_lines_are_rejected() {
        let limits = Limits::default();
        let text = b"{\"a\":1}\n{\"b\":";
        assert!(matches!(
            split_documents(text, &limits),
            Err(ProvenanceError::Malformed(_))
        ));
        assert_eq!(
            split_documents(b"{\"a\":1}\n\n{\"b\":2}\n", &limits)
                .expect("two lines")
                .len(),
            2
        );
        assert!(split_documents(b"\n\n", &limits).is_err());
    }

    #[test]
    fn too_many_json_lines_are_rejected() {
        let limits = Limits {
            jsonl_documents: 2,
            ..Limits::default()
        };
        assert!(matches!(
            split_documents(b"{}\n{}\n{}\n", &limits),
            Err(ProvenanceError::Limit(_))
        ));
    }
}
