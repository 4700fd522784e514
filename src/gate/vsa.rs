//! SLSA Verification Summary Attestations: what vetted checked, signed with the organisation's key
//! as a DSSE envelope, so downstream consumers (and `vetted verify-vsa`) can rely on the admission
//! without redoing it.
//!
//! SLSA VSA v1 (https://slsa.dev/spec/v1.0/verification_summary): "verifier.id", "timeVerified",
//! "resourceUri", "policy", "inputAttestations", "verificationResult" (PASSED|FAILED),
//! "verifiedLevels", "slsaVersion".
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The predicate type of a VSA v1.
pub const VSA_PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The DSSE payload type of an in-toto statement.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// vetted's verifier id in the VSAs it writes.
pub const VERIFIER_ID: &str = "https://github.com/vetted-dev/vetted/admit/v1";

/// An organisation signing key (PKCS#8 PEM): ECDSA P-256 or Ed25519.
pub enum OrgKey {
    /// ECDSA P-256 with SHA-256 (signatures in ASN.1 DER).
    P256(p256::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OrgKey({})", self.key_id())
    }
}

/// Why a key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(String);

impl OrgKey {
    /// Parse a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`; also SEC1 `EC PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<OrgKey, KeyError> {
        use p256::pkcs8::DecodePrivateKey;
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(OrgKey::P256(k));
        }
        if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
            return Ok(OrgKey::P256(k.into()));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(OrgKey::Ed25519(k));
        }
        Err(KeyError(
            "not an ECDSA P-256 or Ed25519 private key in PKCS#8 (or SEC1) PEM".into(),
        ))
    }

    /// The public key as SPKI PEM (what `vetted verify-vsa --public-key-path` takes).
    pub fn public_key_pem(&self) -> String {
        use p256::pkcs8::EncodePublicKey;
        let pem = match self {
            OrgKey::P256(k) => k.verifying_key().to_public_key_pem(Default::default()),
            OrgKey::Ed25519(k) => k.verifying_key().to_public_key_pem(Default::default()),
        };
        pem.unwrap_or_default()
    }

    fn public_key_der(&self) -> Vec<u8> {
        use p256::pkcs8::EncodePublicKey;
        let der = match self {
            OrgKey::P256(k) => k.verifying_key().to_public_key_der(),
            OrgKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
        };
        der.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The key id written in the envelope: `SHA256:<base64 of sha256(SPKI DER)>` (npm's style).
    pub fn key_id(&self) -> String {
        format!(
            "SHA256:{}",
            B64.encode(crate::digest::sha256(&self.public_key_der()).bytes())
        )
    }

    /// Sign `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            OrgKey::P256(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, message);
                sig.to_der().as_bytes().to_vec()
            }
            OrgKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
        }
    }
}

pub use crate::provenance::dsse::pae;

/// What a VSA states.
#[derive(Debug, Clone)]
pub struct VsaFacts {
    /// Subject name (e.g. `pkg:npm/@anthropic-ai/claude-code@2.1.330`).
    pub subject_name: String,
    /// Subject digests: algorithm name -> hex.
    pub subject_digests: Vec<(String, String)>,
    /// The resource (e.g. the registry tarball URL or the purl).
    pub resource_uri: String,
    /// The policy file's path and sha256.
    pub policy: (String, String),
    /// Attestations that were verified: uri -> sha256.
    pub input_attestations: Vec<(String, String)>,
    /// Levels and vetted properties verified (e.g. `SLSA_BUILD_LEVEL_2`, `VETTED_REVIEWED`).
    pub verified_levels: Vec<String>,
    /// When.
    pub time_verified: Timestamp,
}

/// The in-toto statement of a VSA.
pub fn statement(f: &VsaFacts) -> Value {
    let digest: serde_json::Map<String, Value> = f
        .subject_digests
        .iter()
        .map(|(a, h)| (a.clone(), Value::String(h.clone())))
        .collect();
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": f.subject_name, "digest": digest}],
        "predicateType": VSA_PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"vetted": env!("CARGO_PKG_VERSION")}},
            "timeVerified": f.time_verified.to_string(),
            "resourceUri": f.resource_uri,
            "policy": {"uri": f.policy.0, "digest": {"sha256": f.policy.1}},
            "inputAttestations": f.input_attestations.iter()
                .map(|(uri, sha)| json!({"uri": uri, "digest": {"sha256": sha}})).collect::<Vec<_>>(),
            "verificationResult": "PASSED",
            "verifiedLevels": f.verified_levels,
            "slsaVersion": "1.0",
        }
    })
}

/// Sign a statement as a DSSE envelope.
pub fn sign(statement: &Value, key: &OrgKey) -> Value {
    let payload = serde_json::to_vec(statement).unwrap_or_default();
    let sig = key.sign(&pae(INTOTO_PAYLOAD_TYPE, &payload));
    json!({
        "payloadType": INTOTO_PAYLOAD_TYPE,
        "payload": B64.encode(&payload),
        "signatures": [{"keyid": key.key_id(), "sig": B64.encode(sig)}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_and_ed25519_signatures_verify_and_tampering_does_not() {
        use p256::ecdsa::signature::Verifier as _;
        let p = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("key");
        let key = OrgKey::P256(p.clone());
        let sig = p256::ecdsa::Signature::from_der(&key.sign(b"msg")).expect("der");
        assert!(p.verifying_key().verify(b"msg", &sig).is_ok());
        assert!(p.verifying_key().verify(b"msh", &sig).is_err());
        let e = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let key = OrgKey::Ed25519(e.clone());
        let sig = ed25519_dalek::Signature::from_slice(&key.sign(b"msg")).expect("sig");
        assert!(e.verifying_key().verify_strict(b"msg", &sig).is_ok());
        assert!(e.verifying_key().verify_strict(b"msh", &sig).is_err());
        assert!(key.key_id().starts_with("SHA256:"));
    }

    #[test]
    fn rejects_non_keys() {
        assert!(
            OrgKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        assert!(OrgKey::from_pem("hello").is_err());
    }
}
