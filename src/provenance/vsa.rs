//! Verification summary attestations (SLSA VSA v1, slsa.dev/spec/v1.0/verification_summary):
//! a verifier's signed statement that a resource passed verification at some levels.
//!
//! slsa-verifier `verify-vsa`: the envelope must be signed by the given public key under the
//! given key id; "verifier.id" must equal the expected verifier, "resourceUri" the expected
//! resource, the subjects must carry every expected digest, "verificationResult" must be
//! PASSED, and "verifiedLevels" must include every expected level (a SLSA track level is met
//! by the same or a higher level of that track).
use super::dsse;
use super::statement::Statement;
use super::{ProvenanceAccepted, ProvenanceError, ProvenanceFacts, subject_facts};
use crate::limits::Limits;
use p256::pkcs8::DecodePublicKey;

/// The VSA v1 predicate type.
pub const PREDICATE_VSA_V1: &str = "https://slsa.dev/verification_summary/v1";

/// What a VSA must say.
#[derive(Debug, Clone, Default)]
pub struct VsaPolicy {
    /// The verifier's public key, PEM (ECDSA P-256 or Ed25519).
    pub public_key_pem: String,
    /// The key id the signature must carry.
    pub public_key_id: String,
    /// `verifier.id`.
    pub verifier_id: String,
    /// `resourceUri`.
    pub resource_uri: String,
    /// Subject digests, `alg:value`.
    pub subject_digests: Vec<String>,
    /// Levels that must have been verified.
    pub verified_levels: Vec<String>,
}

enum Key {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

fn parse_key(pem: &str) -> Result<Key, ProvenanceError> {
    // The `pem` crate (through sigstore-types) accepts PEM as tools write it, including base64
    // lines longer than RFC 7468's 64 characters; the key itself is then parsed strictly.
    let unusable = || {
        ProvenanceError::Usage(
            "the public key is not a PEM ECDSA P-256 or Ed25519 public key".into(),
        )
    };
    let der = sigstore_types::DerPublicKey::from_pem(pem).map_err(|_| unusable())?;
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der.as_bytes()) {
        return Ok(Key::P256(k));
    }
    ed25519_dalek::pkcs8::DecodePublicKey::from_public_key_der(der.as_bytes())
        .map(Key::Ed25519)
        .map_err(|_| unusable())
}

fn verify_signature(key: &Key, message: &[u8], sig: &[u8]) -> Result<(), ProvenanceError> {
    let ok = match key {
        Key::P256(k) => {
            use p256::ecdsa::signature::Verifier as _;
            p256::ecdsa::Signature::from_der(sig)
                .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
                .is_ok_and(|s| k.verify(message, &s).is_ok())
        }
        Key::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
            .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
    };
    if ok {
        Ok(())
    } else {
        Err(ProvenanceError::Signature(
            "the VSA envelope's signature does not verify with the given public key".into(),
        ))
    }
}

/// `SLSA_BUILD_LEVEL_2` -> (`SLSA_BUILD`, 2).
fn track_level(level: &str) -> Option<(&str, u32)> {
    let (track, n) = level.rsplit_once("_LEVEL_")?;
    if !track.starts_with("SLSA_") {
        return None;
    }
    Some((track, n.parse().ok()?))
}

fn level_met(expected: &str, verified: &[String]) -> bool {
    match track_level(expected) {
        Some((track, want)) => verified
            .iter()
            .filter_map(|v| track_level(v))
            .any(|(t, have)| t == track && have >= want),
        None => verified.iter().any(|v| v == expected),
    }
}

/// slsa-verifier `verify-vsa`.
pub fn verify_vsa(
    attestation: &[u8],
    policy: &VsaPolicy,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    let key = parse_key(&policy.public_key_pem)?;
    let documents = dsse::parse_documents(attestation, limits)?;
    super::first_accepted_envelope(documents, |envelope| {
        if envelope.keyid != policy.public_key_id {
            return Err(ProvenanceError::mismatch(
                "public-key-id",
                format!("{:?}", policy.public_key_id),
                format!("{:?}", envelope.keyid),
            ));
        }
        verify_signature(&key, &envelope.pae(), &envelope.signature)?;
        if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(ProvenanceError::mismatch(
                "payload-type",
                dsse::IN_TOTO_PAYLOAD_TYPE,
                &envelope.payload_type,
            ));
        }
        let statement = Statement::parse(&envelope.payload, limits)?;
        statement.require_predicate_type(PREDICATE_VSA_V1)?;
        let p = &statement.predicate;
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(p, |v, k| v.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or("(absent)")
                .to_string()
        };
        let result = field(&["verificationResult"]);
        if result != "PASSED" {
            return Err(ProvenanceError::mismatch(
                "verification-result",
                "PASSED",
                result,
            ));
        }
        let verifier = field(&["verifier", "id"]);
        if verifier != policy.verifier_id {
            return Err(ProvenanceError::mismatch(
                "verifier-id",
                &policy.verifier_id,
                verifier,
            ));
        }
        let resource = field(&["resourceUri"]);
        if resource != policy.resource_uri {
            return Err(ProvenanceError::mismatch(
                "resource-uri",
                &policy.resource_uri,
                resource,
            ));
        }
        for expected in &policy.subject_digests {
            let (alg, value) = expected.split_once(':').ok_or_else(|| {
                ProvenanceError::Usage(format!("--subject-digest {expected:?} is not alg:value"))
            })?;
            let found = statement
                .subjects
                .iter()
                .any(|s| s.digest.get(alg).is_some_and(|v| v == value));
            if !found {
                let listed: Vec<String> = statement
                    .subjects
                    .iter()
                    .flat_map(|s| s.digest.iter().map(|(a, v)| format!("{a}:{v}")))
                    .take(8)
                    .collect();
                return Err(ProvenanceError::mismatch(
                    "subject-digest",
                    expected,
                    format!("[{}]", listed.join(", ")),
                ));
            }
        }
        let levels: Vec<String> = p
            .get("verifiedLevels")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for expected in &policy.verified_levels {
            if !level_met(expected, &levels) {
                return Err(ProvenanceError::mismatch(
                    "verified-levels",
                    expected,
                    format!("[{}]", levels.join(", ")),
                ));
            }
        }
        let facts = ProvenanceFacts {
            predicate_type: statement.predicate_type.clone(),
            builder: Some(verifier),
            signer: Some(envelope.keyid.clone()),
            issuer: None,
            verified_by: format!("public key {}", policy.public_key_id),
            subjects: subject_facts(&statement),
            ..ProvenanceFacts::default()
        };
        Ok(ProvenanceAccepted::new(facts, &statement))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slsa_track_levels_are_ordered() {
        let have = vec!["BCID_L1".to_string(), "SLSA_BUILD_LEVEL_2".to_string()];
        assert!(level_met("SLSA_BUILD_LEVEL_2", &have));
        assert!(level_met("SLSA_BUILD_LEVEL_1", &have));
        assert!(!level_met("SLSA_BUILD_LEVEL_3", &have));
        assert!(!level_met("SLSA_SOURCE_LEVEL_1", &have));
        assert!(level_met("BCID_L1", &have));
        assert!(!level_met("BCID_L2", &have));
    }
}
