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

/// What a registry key signs. The npm keys target (`registry.npmjs.org/keys.json`) states a
/// `keyUsage` per key entry, each with its own `validFor` window: a key is accepted only for a
/// usage it is listed with, and only inside that usage's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// `npm:signatures`: the registry's ECDSA signatures in a packument's `dist.signatures`.
    Signatures,
    /// `npm:attestations`: the registry's publish attestation (a Sigstore bundle).
    Attestations,
}

impl KeyUsage {
    /// The usage as the key file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::Signatures => "npm:signatures",
            KeyUsage::Attestations => "npm:attestations",
        }
    }
}

impl std::fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// The key exists but is not listed for this usage.
    #[error("npm registry key {keyid} is not a key for {expected}: it is listed for {actual}")]
    WrongUsage {
        /// Key id.
        keyid: String,
        /// The usage the signature needs.
        expected: KeyUsage,
        /// The usages the key is listed with.
        actual: String,
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

    /// The first entry of key `keyid` listed for `usage`, whatever its window.
    pub fn key_for_usage(&self, keyid: &str, usage: KeyUsage) -> Result<&NpmKey, NpmKeyError> {
        let with_id: Vec<&NpmKey> = self.keys.iter().filter(|k| k.keyid == keyid).collect();
        if with_id.is_empty() {
            return Err(NpmKeyError::UnknownKey {
                keyid: keyid.to_string(),
                known: self
                    .keys
                    .iter()
                    .map(|k| k.keyid.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        with_id
            .iter()
            .copied()
            .find(|k| k.usage.iter().any(|u| u == usage.as_str()))
            .ok_or_else(|| {
                let mut actual: Vec<&str> = with_id
                    .iter()
                    .flat_map(|k| k.usage.iter().map(String::as_str))
                    .collect();
                actual.sort_unstable();
                actual.dedup();
                NpmKeyError::WrongUsage {
                    keyid: keyid.to_string(),
                    expected: usage,
                    actual: if actual.is_empty() {
                        "no usage".into()
                    } else {
                        actual.join(", ")
                    },
                }
            })
    }

    /// The key with this id, listed for `usage`, valid for it at `time` (start inclusive, end
    /// exclusive). An entry listed for another usage never lends its window to this one.
    pub fn key_at(
        &self,
        keyid: &str,
        usage: KeyUsage,
        time: Timestamp,
    ) -> Result<&NpmKey, NpmKeyError> {
        let first = self.key_for_usage(keyid, usage)?;
        let valid = |k: &&NpmKey| {
            k.valid_from.is_none_or(|from| time >= from) && k.valid_until.is_none_or(|u| time < u)
        };
        if let Some(k) = self
            .keys
            .iter()
            .filter(|k| k.keyid == keyid && k.usage.iter().any(|u| u == usage.as_str()))
            .find(valid)
        {
            return Ok(k);
        }
        Err(NpmKeyError::OutsideValidity {
            keyid: keyid.to_string(),
            time,
            from: first
                .valid_from
                .map_or("(unbounded)".into(), |t| t.to_string()),
            until: first
                .valid_until
                .map_or("(unbounded)".into(), |t| t.to_string()),
        })
    }

    /// Verify an ECDSA P-256/SHA-256 signature over `message` by key `keyid`, listed for
    /// `usage` and valid for it at `time`. The signature may be DER or raw 64-byte r||s.
    pub fn verify(
        &self,
        keyid: &str,
        usage: KeyUsage,
        time: Timestamp,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), NpmKeyError> {
        let key = self.key_at(keyid, usage, time)?;
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
        let a = KeyUsage::Attestations;
        assert!(keys.key_at(old, a, inside).is_ok());
        assert!(matches!(
            keys.key_at(old, a, after),
            Err(NpmKeyError::OutsideValidity { .. })
        ));
        assert!(matches!(
            keys.key_at("SHA256:nope", a, inside),
            Err(NpmKeyError::UnknownKey { .. })
        ));
    }

    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::EncodePublicKey;

    fn test_key(seed: u8) -> (SigningKey, String) {
        let sk = SigningKey::from_slice(&[seed; 32]).expect("key");
        let der = sk
            .verifying_key()
            .to_public_key_der()
            .expect("der")
            .into_vec();
        (sk, B64.encode(der))
    }

    /// A keys target (TUF `registry.npmjs.org/keys.json` form): one entry per (usage, window).
    /// (key id, usage, SPKI base64, validFor start, validFor end)
    type TargetEntry<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);

    fn target(entries: &[TargetEntry<'_>]) -> NpmRegistryKeys {
        let keys: Vec<serde_json::Value> = entries
            .iter()
            .map(|(id, usage, raw, start, end)| {
                let mut valid = serde_json::Map::new();
                if let Some(s) = start {
                    valid.insert("start".into(), (*s).into());
                }
                if let Some(e) = end {
                    valid.insert("end".into(), (*e).into());
                }
                serde_json::json!({
                    "keyId": id,
                    "keyUsage": usage,
                    "publicKey": {
                        "rawBytes": raw,
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                        "validFor": valid
                    }
                })
            })
            .collect();
        NpmRegistryKeys::parse(&serde_json::json!({ "keys": keys }).to_string()).expect("parse")
    }

    fn t(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn key_listed_only_for_registry_signatures_cannot_sign_an_attestation() {
        let (sk, raw) = test_key(3);
        let keys = target(&[("SHA256:k", "npm:signatures", &raw, None, None)]);
        let msg = b"pkg@1.0.0:sha512-xyz";
        let sig: Signature = sk.sign(msg);
        let now = t("2026-01-01T00:00:00Z");
        keys.verify(
            "SHA256:k",
            KeyUsage::Signatures,
            now,
            msg,
            &sig.to_der().to_bytes(),
        )
        .expect("registry signature");
        let err = keys
            .verify(
                "SHA256:k",
                KeyUsage::Attestations,
                now,
                msg,
                &sig.to_der().to_bytes(),
            )
            .expect_err("wrong usage");
        assert!(
            matches!(&err, NpmKeyError::WrongUsage { expected: KeyUsage::Attestations, actual, .. } if actual == "npm:signatures"),
            "{err:?}"
        );
    }

    #[test]
    fn key_listed_only_for_attestations_cannot_sign_registry_signatures() {
        let (_, raw) = test_key(4);
        let keys = target(&[("SHA256:k", "npm:attestations", &raw, None, None)]);
        assert!(
            keys.key_for_usage("SHA256:k", KeyUsage::Attestations)
                .is_ok()
        );
        assert!(matches!(
            keys.key_for_usage("SHA256:k", KeyUsage::Signatures),
            Err(NpmKeyError::WrongUsage { .. })
        ));
    }

    #[test]
    fn signature_after_the_keys_expiry_is_rejected() {
        let (sk, raw) = test_key(5);
        let keys = target(&[(
            "SHA256:k",
            "npm:attestations",
            &raw,
            Some("2022-12-01T00:00:00Z"),
            Some("2025-01-29T00:00:00Z"),
        )]);
        let msg = b"pae";
        let sig: Signature = sk.sign(msg);
        let der = sig.to_der().to_bytes();
        let a = KeyUsage::Attestations;
        keys.verify("SHA256:k", a, t("2024-06-01T00:00:00Z"), msg, &der)
            .expect("inside");
        // The end is exclusive; the start inclusive.
        for outside in [
            "2025-01-29T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "2022-11-30T23:59:59Z",
        ] {
            assert!(
                matches!(
                    keys.verify("SHA256:k", a, t(outside), msg, &der),
                    Err(NpmKeyError::OutsideValidity { .. })
                ),
                "{outside}"
            );
        }
        keys.verify("SHA256:k", a, t("2022-12-01T00:00:00Z"), msg, &der)
            .expect("start inclusive");
    }

    #[test]
    fn window_of_one_usage_does_not_extend_another() {
        // The real target lists the 2022 key for signatures from 1999 but for attestations only
        // from 2022-12-01: an attestation dated 2000 is outside its window.
        let corpus = std::env::var_os("VETTED_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
            });
        let path = corpus.join("tuf/sigstore-root-signing/targets/registry.npmjs.org/160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d.keys.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!(
                "SKIPPED window_of_one_usage_does_not_extend_another: no {}",
                path.display()
            );
            return;
        };
        let keys = NpmRegistryKeys::parse(&text).expect("target parses");
        let old = "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA";
        let y2000 = t("2000-01-01T00:00:00Z");
        assert!(keys.key_at(old, KeyUsage::Signatures, y2000).is_ok());
        assert!(matches!(
            keys.key_at(old, KeyUsage::Attestations, y2000),
            Err(NpmKeyError::OutsideValidity { .. })
        ));
        // Both usages of the old key expired on 2025-01-29; the new key has no end.
        let later = t("2026-01-01T00:00:00Z");
        for u in [KeyUsage::Signatures, KeyUsage::Attestations] {
            assert!(matches!(
                keys.key_at(old, u, later),
                Err(NpmKeyError::OutsideValidity { .. })
            ));
            assert!(
                keys.key_at(
                    "SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U",
                    u,
                    later
                )
                .is_ok()
            );
        }
    }
}
