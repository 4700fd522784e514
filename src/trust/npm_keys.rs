//! The npm registry's public signing keys (`trust-roots/npm-registry-keys.json`, our own format):
//! which key id, which ECDSA P-256 key, for what, and when it is valid.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;

/// One registry key.
#[derive(Debug, Clone)]
pub struct NpmKey {
    /// Key id as npm writes it (`SHA256:<base64>`).
    pub keyid: String,
    /// The P-256 verifying key.
    pub key: VerifyingKey,
    /// What the key is used for (`npm:signatures`, `npm:attestations`).
    pub usage: Vec<String>,
    /// Start of validity (inclusive), if stated.
    pub valid_from: Option<Timestamp>,
    /// End of validity (exclusive), if the key has expired or been scheduled to.
    pub valid_until: Option<Timestamp>,
}

/// The key set.
#[derive(Debug, Clone)]
pub struct NpmRegistryKeys {
    keys: Vec<NpmKey>,
}

/// Why a registry signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpmKeyError {
    /// The key file is malformed.
    #[error("invalid npm registry key file: {0}")]
    InvalidFile(String),
    /// No pinned key has this id.
    #[error("unknown npm registry key id: expected one of {known}, got {keyid}")]
    UnknownKey {
        /// The key id in the signature.
        keyid: String,
        /// The pinned key ids.
        known: String,
    },
    /// The key exists but was not valid at the time.
    #[error("npm registry key {keyid} is not valid at {time} (valid {from} to {until})")]
    OutsideValidity {
        /// Key id.
        keyid: String,
        /// When the signature claims to have been made.
        time: Timestamp,
        /// Start of validity.
        from: String,
        /// End of validity.
        until: String,
    },
    /// The signature bytes are neither DER nor raw r||s.
    #[error("npm registry signature is malformed: {0}")]
    MalformedSignature(String),
    /// The signature does not verify with the key.
    #[error("npm registry signature does not verify with key {keyid}")]
    BadSignature {
        /// Key id.
        keyid: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFile {
    format: String,
    #[allow(dead_code)]
    source: String,
    keys: Vec<WireKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireKey {
    keyid: String,
    algorithm: String,
    public_key: String,
    usage: Vec<String>,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
}

/// The npm keys target of Sigstore's TUF repository (`registry.npmjs.org/keys.json`),
/// protobuf-specs JSON: one entry per (key, usage), each with its own validity window.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TufKeysFile {
    keys: Vec<TufKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TufKey {
    key_id: String,
    key_usage: String,
    public_key: TufPublicKey,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TufPublicKey {
    raw_bytes: String,
    key_details: String,
    valid_for: Option<TufValidity>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TufValidity {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

fn decode_key(keyid: &str, b64: &str) -> Result<VerifyingKey, NpmKeyError> {
    let der = B64
        .decode(b64)
        .map_err(|e| NpmKeyError::InvalidFile(format!("key {keyid}: {e}")))?;
    VerifyingKey::from_public_key_der(&der)
        .map_err(|e| NpmKeyError::InvalidFile(format!("key {keyid}: {e}")))
}

impl NpmRegistryKeys {
    /// The key set in force: the one installed in `trust_dir` by `trust-root update` when there
    /// is one, else the pinned one.
    pub fn for_trust_dir(
        trust_dir: Option<&super::dir::TrustDir>,
    ) -> Result<NpmRegistryKeys, NpmKeyError> {
        match trust_dir.and_then(|d| d.npm_keys.as_deref()) {
            Some(text) => Self::parse(text),
            None => Self::pinned(),
        }
    }

    /// The pinned key set.
    pub fn pinned() -> Result<NpmRegistryKeys, NpmKeyError> {
        let text = super::PINNED_FILES
            .iter()
            .find(|(n, _)| *n == "npm-registry-keys.json")
            .map(|(_, t)| *t)
            .unwrap_or("");
        Self::parse(text)
    }

    /// Parse a key file: vetted's own format (`trust-roots/npm-registry-keys.json`), or the
    /// `registry.npmjs.org/keys.json` target of Sigstore's TUF repository (one entry per key
    /// and usage, windows kept per usage).
    pub fn parse(text: &str) -> Result<NpmRegistryKeys, NpmKeyError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| NpmKeyError::InvalidFile(e.to_string()))?;
        if value.get("format").is_none() {
            return Self::parse_tuf_target(value);
        }
        let wire: WireFile =
            serde_json::from_str(text).map_err(|e| NpmKeyError::InvalidFile(e.to_string()))?;
        if wire.format != "vetted/npm-registry-keys/v1" {
            return Err(NpmKeyError::InvalidFile(format!(
                "format: expected vetted/npm-registry-keys/v1, got {}",
                wire.format
            )));
        }
        let mut keys = Vec::new();
        for k in wire.keys {
            if k.algorithm != "ecdsa-p256-sha256" {
                return Err(NpmKeyError::InvalidFile(format!(
                    "key {}: unsupported algorithm {}",
                    k.keyid, k.algorithm
                )));
            }
            let key = decode_key(&k.keyid, &k.public_key)?;
            keys.push(NpmKey {
                keyid: k.keyid,
                key,
                usage: k.usage,
                valid_from: k.valid_from,
                valid_until: k.valid_until,
            });
        }
        Ok(NpmRegistryKeys { keys })
    }

    fn parse_tuf_target(value: serde_json::Value) -> Result<NpmRegistryKeys, NpmKeyError> {
        let wire: TufKeysFile = serde_json::from_value(value)
            .map_err(|e| NpmKeyError::InvalidFile(format!("npm keys target: {e}")))?;
        let mut keys = Vec::new();
        for k in wire.keys {
            if k.public_key.key_details != "PKIX_ECDSA_P256_SHA_256" {
                return Err(NpmKeyError::InvalidFile(format!(
                    "key {}: unsupported key details: expected PKIX_ECDSA_P256_SHA_256, got {}",
                    k.key_id, k.public_key.key_details
                )));
            }
            let key = decode_key(&k.key_id, &k.public_key.raw_bytes)?;
            let (valid_from, valid_until) = match k.public_key.valid_for {
                Some(v) => (v.start, v.end),
                None => (None, None),
            };
            keys.push(NpmKey {
                keyid: k.key_id,
                key,
                usage: vec![k.key_usage],
                valid_from,
                valid_until,
            });
        }
        if keys.is_empty() {
            return Err(NpmKeyError::InvalidFile(
                "npm keys target lists no keys".into(),
            ));
        }
        Ok(NpmRegistryKeys { keys })
    }

    /// All keys.
    pub fn keys(&self) -> &[NpmKey] {
        &self.keys
    }

    /// The key with this id, valid at `time`.
    pub fn key_at(&self, keyid: &str, time: Timestamp) -> Result<&NpmKey, NpmKeyError> {
        let valid = |k: &&NpmKey| {
            k.valid_from.is_none_or(|from| time >= from) && k.valid_until.is_none_or(|u| time < u)
        };
        if let Some(k) = self.keys.iter().filter(|k| k.keyid == keyid).find(valid) {
            return Ok(k);
        }
        let key =
            self.keys
                .iter()
                .find(|k| k.keyid == keyid)
                .ok_or_else(|| NpmKeyError::UnknownKey {
                    keyid: keyid.to_string(),
                    known: self
                        .keys
                        .iter()
                        .map(|k| k.keyid.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let after_start = key.valid_from.is_none_or(|from| time >= from);
        let before_end = key.valid_until.is_none_or(|until| time < until);
        if !(after_start && before_end) {
            return Err(NpmKeyError::OutsideValidity {
                keyid: keyid.to_string(),
                time,
                from: key
                    .valid_from
                    .map_or("(unbounded)".into(), |t| t.to_string()),
                until: key
                    .valid_until
                    .map_or("(unbounded)".into(), |t| t.to_string()),
            });
        }
        Ok(key)
    }

    /// Verify an ECDSA P-256/SHA-256 signature over `message` by key `keyid` valid at `time`.
    /// The signature may be DER or raw 64-byte r||s.
    pub fn verify(
        &self,
        keyid: &str,
        time: Timestamp,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), NpmKeyError> {
        let key = self.key_at(keyid, time)?;
        let sig = Signature::from_der(signature)
            .or_else(|_| Signature::from_slice(signature))
            .map_err(|e| NpmKeyError::MalformedSignature(e.to_string()))?;
        key.key
            .verify(message, &sig)
            .map_err(|_| NpmKeyError::BadSignature {
                keyid: keyid.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_keys_parse_with_windows() {
        let keys = NpmRegistryKeys::pinned().expect("pinned keys parse");
        assert_eq!(keys.keys().len(), 2);
        let old = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
        let inside: Timestamp = "2024-01-01T00:00:00Z".parse().expect("time");
        let after: Timestamp = "2025-06-01T00:00:00Z".parse().expect("time");
        assert!(keys.key_at(old, inside).is_ok());
        assert!(matches!(
            keys.key_at(old, after),
            Err(NpmKeyError::OutsideValidity { .. })
        ));
        assert!(matches!(
            keys.key_at("SHA256:nope", inside),
            Err(NpmKeyError::UnknownKey { .. })
        ));
    }
}
