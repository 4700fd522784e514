//! Vendors' own OpenPGP release-signing keys, pinned by primary-key fingerprint, and the one
//! verifier of a detached signature made with them.
//!
//! The pitfall this is built to avoid: `gpg --import KEY && gpg --verify SIG FILE` accepts a
//! signature by *any* key in the keyring, so a fingerprint checked only at import time pins
//! nothing. Here the signature names its issuer (the issuer-fingerprint subpacket, RFC 9580
//! §5.2.3.35), and only the pinned primary key, or a signing subkey that the primary key bound
//! with a valid binding and back-signature, may be that issuer. Every other key in the same file
//! or packet stream is ignored. The signature must be a binary-document signature (type 0x00:
//! exactly the bytes, no line-ending normalisation), with a collision-resistant hash (MD5, SHA-1
//! and RIPEMD-160 are refused), made while the key was valid and not in the future; an expired or
//! revoked key, or an expired signature, is a rejection.
//!
//! OpenPGP parsing and the signature mathematics are rPGP's (`pgp`, pure Rust on RustCrypto);
//! the policy above (which key, which hash, which times) is ours, since rPGP leaves it to the
//! caller.
use crate::clock::Clock;
use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::PacketTrait as _;
use pgp::packet::{Packet, PacketParser, Signature, SignatureType, SubpacketData};
use pgp::types::{KeyDetails, Tag};
use std::io::Read as _;

/// A pinned vendor key as embedded: vendor name, file under `trust-roots/vendor/`, armoured text.
pub const PINNED_VENDOR_KEYS: &[(&str, &str, &str)] = &[(
    "claude-code",
    "claude-code.asc",
    include_str!("../../trust-roots/vendor/claude-code.asc"),
)];

/// `trust-roots/vendor/FINGERPRINTS`: `<primary fingerprint>  <file>` per line (the pin).
pub const PINNED_FINGERPRINTS: &str = include_str!("../../trust-roots/vendor/FINGERPRINTS");

/// Why a vendor key could not be loaded (our own configuration: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VendorKeyError {
    /// No pinned key for this vendor.
    #[error("no pinned OpenPGP key for vendor {vendor:?} (known: {known})")]
    UnknownVendor {
        /// The vendor asked for.
        vendor: String,
        /// The vendors with a pinned key.
        known: String,
    },
    /// The FINGERPRINTS file does not pin this key file.
    #[error("trust-roots/vendor/FINGERPRINTS has no valid fingerprint for {file}")]
    NoFingerprint {
        /// The key file.
        file: String,
    },
    /// A fingerprint is not 40 (v4) or 64 (v6) hex digits.
    #[error("invalid OpenPGP fingerprint {0:?}: expected 40 or 64 hex digits")]
    BadFingerprint(String),
    /// The key file does not parse.
    #[error("cannot read OpenPGP key {name}: {detail}")]
    Parse {
        /// Which key.
        name: String,
        /// Why.
        detail: String,
    },
    /// The key file holds no key with the pinned primary fingerprint.
    #[error("{name} holds no key with the pinned primary fingerprint {pinned} (it holds: {found})")]
    PinnedKeyMissing {
        /// Which key.
        name: String,
        /// The pinned fingerprint.
        pinned: String,
        /// The primary fingerprints the file does hold.
        found: String,
    },
    /// The key file holds the pinned key twice.
    #[error("{name} holds the pinned key {pinned} more than once")]
    PinnedKeyTwice {
        /// Which key.
        name: String,
        /// The pinned fingerprint.
        pinned: String,
    },
}

/// Why a signature was not accepted (a verdict: exit 1). Each names what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRejection {
    /// The signature file is not one OpenPGP signature packet.
    #[error("the signature is not a single OpenPGP signature: {0}")]
    Malformed(String),
    /// Larger than the `vendor_signature_bytes` limit.
    #[error("the signature file is {actual} bytes; at most {limit} are accepted")]
    TooLarge {
        /// Limit.
        limit: u64,
        /// Size.
        actual: u64,
    },
    /// Not a v4 or v6 signature.
    #[error("signature version {0} is not supported (expected 4 or 6)")]
    Version(String),
    /// Not a binary-document signature.
    #[error(
        "signature type is {0}; only a binary-document signature (0x00) covers the exact bytes"
    )]
    Type(String),
    /// A broken or unsafe hash algorithm.
    #[error(
        "signature uses {0}, which is not accepted (SHA-256, SHA-384, SHA-512, SHA-224, SHA3-256, SHA3-512 are)"
    )]
    WeakHash(String),
    /// No issuer fingerprint in the hashed area.
    #[error(
        "the signature names no issuer fingerprint in its hashed subpackets, so the key that made it cannot be pinned"
    )]
    NoIssuerFingerprint,
    /// Issuer subpackets disagree.
    #[error("the signature's issuer subpackets disagree: {0}")]
    ConflictingIssuer(String),
    /// Made by a key other than the pinned one or its signing subkeys.
    #[error(
        "signature made by key {issuer}; only the pinned {vendor} key {pinned} or a signing subkey it certifies may sign (valid signers: {allowed})"
    )]
    UnpinnedSigner {
        /// The vendor.
        vendor: String,
        /// The issuer the signature names.
        issuer: String,
        /// The pinned primary fingerprint.
        pinned: String,
        /// The signers accepted.
        allowed: String,
    },
    /// A critical subpacket we do not understand (RFC 9580 §5.2.3.7: the signature is invalid).
    #[error("the signature carries a critical subpacket of unknown type {0}")]
    CriticalUnknown(u8),
    /// No signature creation time.
    #[error("the signature has no creation time")]
    NoCreationTime,
    /// Created after now.
    #[error("the signature was made at {signed_at}, after the current time {now}")]
    FromTheFuture {
        /// Creation time.
        signed_at: String,
        /// Now.
        now: String,
    },
    /// The signature expired.
    #[error("the signature expired at {expired_at} (now {now})")]
    SignatureExpired {
        /// When.
        expired_at: String,
        /// Now.
        now: String,
    },
    /// The signing key (primary or subkey) is not valid.
    #[error("signing key {fingerprint} is not valid: {why}")]
    KeyInvalid {
        /// Key.
        fingerprint: String,
        /// Why (expired at, revoked, not for signing, made before the key existed).
        why: String,
    },
    /// The mathematics do not check out: the bytes are not what was signed.
    #[error(
        "BAD signature: the signature by {fingerprint} does not verify over these {bytes} bytes ({detail})"
    )]
    BadSignature {
        /// Key.
        fingerprint: String,
        /// Length of the data checked.
        bytes: usize,
        /// rPGP's reason.
        detail: String,
    },
}

/// What a verified signature established. Only [`VendorKey::verify_detached`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedSignature {
    vendor: String,
    signer_fingerprint: String,
    primary_fingerprint: String,
    signed_at: jiff::Timestamp,
    hash: String,
    public_key_algorithm: String,
}

impl VerifiedSignature {
    /// The vendor whose pinned key verified it.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }
    /// Fingerprint of the key that made the signature (the primary or a signing subkey).
    pub fn signer_fingerprint(&self) -> &str {
        &self.signer_fingerprint
    }
    /// The pinned primary fingerprint.
    pub fn primary_fingerprint(&self) -> &str {
        &self.primary_fingerprint
    }
    /// Signature creation time.
    pub fn signed_at(&self) -> jiff::Timestamp {
        self.signed_at
    }
    /// Hash algorithm.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

/// Facts about a pinned key for `trust-root list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    /// Vendor.
    pub vendor: String,
    /// File name under `trust-roots/vendor/`.
    pub file: String,
    /// Primary fingerprint (the pin).
    pub fingerprint: String,
    /// User IDs.
    pub user_ids: Vec<String>,
    /// Public-key algorithm.
    pub algorithm: String,
    /// Creation time.
    pub created: String,
    /// Expiry from the newest valid self-signature, if any.
    pub expires: Option<String>,
    /// Signing subkeys the primary validly binds.
    pub signing_subkeys: Vec<String>,
}

/// One vendor's pinned key: the primary fingerprint and the certificate that carries it.
#[derive(Debug, Clone)]
pub struct VendorKey {
    vendor: String,
    file: String,
    pinned: String,
    cert: SignedPublicKey,
}

/// Upper-case hex of a fingerprint.
fn fpr_hex(f: &pgp::types::Fingerprint) -> String {
    hex::encode_upper(f.as_bytes())
}

fn normalise_fingerprint(s: &str) -> Result<String, VendorKeyError> {
    let hex: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if (hex.len() == 40 || hex.len() == 64) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_uppercase())
    } else {
        Err(VendorKeyError::BadFingerprint(s.to_string()))
    }
}

fn ts(t: pgp::types::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(i64::from(t.as_secs())).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Hashes a signature may use. RFC 9580 §9.5: MD5, SHA-1 and RIPEMD-160 MUST NOT be used for
/// new signatures, and SHA-1 collisions are practical (SHAttered, SHA-1 is a Shambles).
fn strong_hash(h: HashAlgorithm) -> bool {
    matches!(
        h,
        HashAlgorithm::Sha256
            | HashAlgorithm::Sha384
            | HashAlgorithm::Sha512
            | HashAlgorithm::Sha224
            | HashAlgorithm::Sha3_256
            | HashAlgorithm::Sha3_512
    )
}

/// A self-signature (certification, direct-key or binding) that counts at `now`: it verifies,
/// uses a strong hash, is not from the future and has not expired.
fn sig_current(sig: &Signature, now: jiff::Timestamp) -> bool {
    let Some(created) = sig.created() else {
        return false;
    };
    let created = ts(created);
    if created > now || !sig.hash_alg().is_some_and(strong_hash) {
        return false;
    }
    match sig.signature_expiration_time() {
        Some(d) if d.as_secs() > 0 => {
            created.as_second() + i64::from(d.as_secs()) > now.as_second()
        }
        _ => true,
    }
}

fn critical_unknown(sig: &Signature) -> Option<u8> {
    let config = sig.config()?;
    config.hashed_subpackets().find_map(|p| match &p.data {
        SubpacketData::Experimental(t, _) | SubpacketData::Other(t, _) if p.is_critical => Some(*t),
        _ => None,
    })
}

/// The validity of one key (primary or subkey) at `now`, from its newest current binding.
struct Validity {
    can_sign: bool,
    /// Key creation + key expiration time, when the binding sets one.
    expires: Option<jiff::Timestamp>,
    revoked: Option<String>,
    bound: bool,
}

impl Validity {
    fn problem(&self, now: jiff::Timestamp) -> Option<String> {
        if let Some(why) = &self.revoked {
            return Some(format!("revoked ({why})"));
        }
        if !self.bound {
            return Some("no valid self-signature or binding signature by the pinned primary key (SHA-256 or stronger) binds it".into());
        }
        if let Some(e) = self.expires
            && e <= now
        {
            return Some(format!("expired at {e} (now {now})"));
        }
        if !self.can_sign {
            return Some("its key flags do not allow signing data".into());
        }
        None
    }
}

fn expiry(created: pgp::types::Timestamp, sig: &Signature) -> Option<jiff::Timestamp> {
    sig.key_expiration_time()
        .filter(|d| d.as_secs() > 0)
        .and_then(|d| {
            jiff::Timestamp::from_second(i64::from(created.as_secs()) + i64::from(d.as_secs())).ok()
        })
}

fn revocation_reason(sig: &Signature) -> String {
    let code = sig
        .revocation_reason_code()
        .map(|c| format!("{c:?}"))
        .unwrap_or_else(|| "no reason given".into());
    let text = sig
        .revocation_reason_string()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .filter(|s| !s.is_empty());
    match text {
        Some(t) => format!("{code}: {t}"),
        None => code,
    }
}

impl VendorKey {
    /// The pinned key of `vendor` (`claude-code`), from the embedded `trust-roots/vendor/`.
    pub fn pinned(vendor: &str) -> Result<VendorKey, VendorKeyError> {
        let Some((_, file, armored)) = PINNED_VENDOR_KEYS.iter().find(|(v, _, _)| *v == vendor)
        else {
            return Err(VendorKeyError::UnknownVendor {
                vendor: vendor.to_string(),
                known: PINNED_VENDOR_KEYS
                    .iter()
                    .map(|(v, _, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let pinned = PINNED_FINGERPRINTS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .find_map(|l| {
                let (fpr, name) = l.split_once("  ")?;
                (name.trim() == *file).then(|| fpr.trim().to_string())
            })
            .ok_or_else(|| VendorKeyError::NoFingerprint {
                file: (*file).to_string(),
            })?;
        Self::from_armored(vendor, file, &pinned, armored.as_bytes())
    }

    /// The names of the vendors with a pinned key.
    pub fn vendors() -> Vec<&'static str> {
        PINNED_VENDOR_KEYS.iter().map(|(v, _, _)| *v).collect()
    }

    /// A key from OpenPGP data (armoured or binary) that must hold a primary key with fingerprint
    /// `pinned`. Any other key in the data is ignored: it can never verify anything.
    pub fn from_armored(
        vendor: &str,
        name: &str,
        pinned: &str,
        data: &[u8],
    ) -> Result<VendorKey, VendorKeyError> {
        let pinned = normalise_fingerprint(pinned)?;
        let parse_err = |detail: String| VendorKeyError::Parse {
            name: name.to_string(),
            detail,
        };
        let (keys, _) =
            SignedPublicKey::from_reader_many(data).map_err(|e| parse_err(e.to_string()))?;
        let mut found = Vec::new();
        let mut matching = Vec::new();
        for key in keys {
            // A key the parser cannot read is skipped, like any other key that is not the pinned
            // one; if the pinned key is among the unreadable, it is reported missing below.
            let Ok(key) = key else { continue };
            let fpr = fpr_hex(&key.primary_key.fingerprint());
            if fpr == pinned {
                matching.push(key);
            } else {
                found.push(fpr);
            }
        }
        let cert = match matching.len() {
            0 => {
                return Err(VendorKeyError::PinnedKeyMissing {
                    name: name.to_string(),
                    pinned,
                    found: if found.is_empty() {
                        "no readable key".into()
                    } else {
                        found.join(", ")
                    },
                });
            }
            1 => matching.remove(0),
            _ => {
                return Err(VendorKeyError::PinnedKeyTwice {
                    name: name.to_string(),
                    pinned,
                });
            }
        };
        Ok(VendorKey {
            vendor: vendor.to_string(),
            file: name.to_string(),
            pinned,
            cert,
        })
    }

    /// The pinned primary fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.pinned
    }

    /// The vendor.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    fn primary_validity(&self, now: jiff::Timestamp) -> Validity {
        let primary = &self.cert.primary_key;
        let mut newest: Option<&Signature> = None;
        for user in &self.cert.details.users {
            for sig in &user.signatures {
                if sig_current(sig, now)
                    && sig.is_certification()
                    && sig
                        .verify_certification(primary, Tag::UserId, &user.id)
                        .is_ok()
                    && newest.is_none_or(|n| n.created() < sig.created())
                {
                    newest = Some(sig);
                }
            }
        }
        let mut direct: Option<&Signature> = None;
        for sig in &self.cert.details.direct_signatures {
            if sig_current(sig, now)
                && sig.typ() == Some(SignatureType::Key)
                && sig.verify_key(primary).is_ok()
                && direct.is_none_or(|n| n.created() < sig.created())
            {
                direct = Some(sig);
            }
        }
        let revoked = self
            .cert
            .details
            .revocation_signatures
            .iter()
            .find(|s| {
                s.typ() == Some(SignatureType::KeyRevocation) && s.verify_key(primary).is_ok()
            })
            .map(revocation_reason);
        // RFC 9580 §5.2.3.10: key flags and expiry come from the direct-key signature if it has
        // them, else from the primary User ID's self-signature; we take the newest binding, and
        // an expiry set on either applies.
        let flags_from = direct
            .filter(|d| {
                d.config().is_some_and(|c| {
                    c.hashed_subpackets()
                        .any(|p| matches!(p.data, SubpacketData::KeyFlags(_)))
                })
            })
            .or(newest);
        let can_sign = flags_from.is_some_and(|s| s.key_flags().sign());
        let expires = [direct, newest]
            .into_iter()
            .flatten()
            .filter_map(|s| expiry(primary.created_at(), s))
            .min();
        Validity {
            can_sign,
            expires,
            revoked,
            bound: newest.is_some() || direct.is_some(),
        }
    }

    /// Signing subkeys the primary key binds, with their validity.
    fn subkeys(&self, now: jiff::Timestamp) -> Vec<(String, &pgp::packet::PublicSubkey, Validity)> {
        let primary = &self.cert.primary_key;
        let mut out = Vec::new();
        for sub in &self.cert.public_subkeys {
            let key = &sub.key;
            let mut newest: Option<&Signature> = None;
            let mut revoked = None;
            for sig in &sub.signatures {
                let typ = sig.typ();
                if typ == Some(SignatureType::SubkeyRevocation)
                    && sig.verify_subkey_binding(primary, key).is_ok()
                {
                    revoked = Some(revocation_reason(sig));
                } else if typ == Some(SignatureType::SubkeyBinding)
                    && sig_current(sig, now)
                    && sig.verify_subkey_binding(primary, key).is_ok()
                    && newest.is_none_or(|n| n.created() < sig.created())
                {
                    newest = Some(sig);
                }
            }
            // RFC 9580 §5.2.1: a signing subkey's binding MUST carry a primary key binding
            // ("back") signature made by the subkey, or anyone could claim someone else's key.
            let can_sign = newest.is_some_and(|b| {
                b.key_flags().sign()
                    && b.embedded_signature().is_some_and(|back| {
                        back.hash_alg().is_some_and(strong_hash)
                            && back.verify_primary_key_binding(key, primary).is_ok()
                    })
            });
            let validity = Validity {
                can_sign,
                expires: newest.and_then(|b| expiry(key.created_at(), b)),
                revoked,
                bound: newest.is_some(),
            };
            out.push((fpr_hex(&key.fingerprint()), key, validity));
        }
        out
    }

    /// What `trust-root list` shows.
    pub fn info(&self, now: jiff::Timestamp) -> KeyInfo {
        let primary = &self.cert.primary_key;
        let validity = self.primary_validity(now);
        KeyInfo {
            vendor: self.vendor.clone(),
            file: self.file.clone(),
            fingerprint: self.pinned.clone(),
            user_ids: self
                .cert
                .details
                .users
                .iter()
                .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
                .collect(),
            algorithm: format!("{:?}", primary.algorithm()),
            created: ts(primary.created_at()).to_string(),
            expires: validity.expires.map(|e| e.to_string()),
            signing_subkeys: self
                .subkeys(now)
                .into_iter()
                .filter(|(_, _, v)| v.problem(now).is_none())
                .map(|(f, _, _)| f)
                .collect(),
        }
    }

    /// Verify a detached signature over exactly `data`, made by the pinned key or one of its
    /// signing subkeys, valid at the clock's time.
    pub fn verify_detached(
        &self,
        data: &[u8],
        signature: &[u8],
        clock: &dyn Clock,
        limits: &crate::limits::Limits,
    ) -> Result<VerifiedSignature, SignatureRejection> {
        let now = clock.now();
        if signature.len() as u64 > limits.vendor_signature_bytes {
            return Err(SignatureRejection::TooLarge {
                limit: limits.vendor_signature_bytes,
                actual: signature.len() as u64,
            });
        }
        let sig = parse_one_signature(signature)?;
        let config = sig
            .config()
            .ok_or_else(|| SignatureRejection::Version(format!("{:?}", sig.version())))?;
        let version = format!("{:?}", config.version());
        if !matches!(version.as_str(), "V4" | "V6") {
            return Err(SignatureRejection::Version(version));
        }
        match sig.typ() {
            Some(SignatureType::Binary) => {}
            other => {
                return Err(SignatureRejection::Type(
                    other
                        .map(|t| format!("{t:?} (0x{:02x})", u8::from(t)))
                        .unwrap_or_else(|| "unknown".into()),
                ));
            }
        }
        let hash = sig.hash_alg().unwrap_or(HashAlgorithm::None);
        if !strong_hash(hash) {
            return Err(SignatureRejection::WeakHash(hash.to_string()));
        }
        if let Some(t) = critical_unknown(&sig) {
            return Err(SignatureRejection::CriticalUnknown(t));
        }
        // The issuer: the hashed issuer-fingerprint subpacket. Any other issuer subpacket
        // (hashed or not, fingerprint or key ID) must name the same key.
        let hashed_fprs: Vec<String> = config
            .hashed_subpackets()
            .filter_map(|p| match &p.data {
                SubpacketData::IssuerFingerprint(f) => Some(fpr_hex(f)),
                _ => None,
            })
            .collect();
        let issuer = match hashed_fprs.as_slice() {
            [] => return Err(SignatureRejection::NoIssuerFingerprint),
            [one] => one.clone(),
            many => {
                if many.iter().any(|f| f != &many[0]) {
                    return Err(SignatureRejection::ConflictingIssuer(many.join(" vs ")));
                }
                many[0].clone()
            }
        };
        for f in sig.issuer_fingerprint() {
            if fpr_hex(f) != issuer {
                return Err(SignatureRejection::ConflictingIssuer(format!(
                    "issuer fingerprint {issuer} vs {}",
                    fpr_hex(f)
                )));
            }
        }
        for id in sig.issuer_key_id() {
            let id = hex::encode_upper(id.as_ref());
            // A v4 key ID is the low 64 bits of the fingerprint; a v6 one its high 64 bits.
            if !issuer.ends_with(&id) && !issuer.starts_with(&id) {
                return Err(SignatureRejection::ConflictingIssuer(format!(
                    "issuer fingerprint {issuer} vs issuer key ID {id}"
                )));
            }
        }
        let signed_at = ts(sig.created().ok_or(SignatureRejection::NoCreationTime)?);
        if signed_at > now {
            return Err(SignatureRejection::FromTheFuture {
                signed_at: signed_at.to_string(),
                now: now.to_string(),
            });
        }
        if let Some(d) = sig.signature_expiration_time().filter(|d| d.as_secs() > 0) {
            let end = jiff::Timestamp::from_second(signed_at.as_second() + i64::from(d.as_secs()))
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            if end <= now {
                return Err(SignatureRejection::SignatureExpired {
                    expired_at: end.to_string(),
                    now: now.to_string(),
                });
            }
        }

        // Which key: the pinned primary, or one of its bound signing subkeys. Nothing else.
        let primary = &self.cert.primary_key;
        let primary_validity = self.primary_validity(now);
        let subkeys = self.subkeys(now);
        let allowed: Vec<String> = std::iter::once(self.pinned.clone())
            .chain(
                subkeys
                    .iter()
                    .filter(|(_, _, v)| v.problem(now).is_none())
                    .map(|(f, _, _)| format!("subkey {f}")),
            )
            .collect();
        let unpinned = || SignatureRejection::UnpinnedSigner {
            vendor: self.vendor.clone(),
            issuer: issuer.clone(),
            pinned: self.pinned.clone(),
            allowed: allowed.join(", "),
        };
        let key_invalid = |why: String| SignatureRejection::KeyInvalid {
            fingerprint: issuer.clone(),
            why,
        };
        // The primary key itself must be valid even when a subkey signed: a revoked or expired
        // primary takes its subkeys with it.
        if let Some(why) = primary_validity.problem(now) {
            if issuer == self.pinned || subkeys.iter().any(|(f, _, _)| *f == issuer) {
                return Err(SignatureRejection::KeyInvalid {
                    fingerprint: self.pinned.clone(),
                    why: format!("the pinned primary key is {why}"),
                });
            }
            return Err(unpinned());
        }
        // rPGP's messages span lines; a report line must not.
        let bad = |e: pgp::errors::Error| SignatureRejection::BadSignature {
            fingerprint: issuer.clone(),
            bytes: data.len(),
            detail: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        };
        let created_at = if issuer == self.pinned {
            sig.verify(primary, data).map_err(bad)?;
            primary.created_at()
        } else if let Some((_, key, v)) = subkeys.iter().find(|(f, _, _)| *f == issuer) {
            if let Some(why) = v.problem(now) {
                return Err(key_invalid(why));
            }
            sig.verify(*key, data).map_err(bad)?;
            key.created_at()
        } else {
            return Err(unpinned());
        };
        if signed_at < ts(created_at) {
            return Err(key_invalid(format!(
                "the signature ({signed_at}) is older than the key ({})",
                ts(created_at)
            )));
        }
        Ok(VerifiedSignature {
            vendor: self.vendor.clone(),
            signer_fingerprint: issuer.clone(),
            primary_fingerprint: self.pinned.clone(),
            signed_at,
            hash: hash.to_string(),
            public_key_algorithm: format!("{:?}", config.pub_alg),
        })
    }
}

/// Exactly one signature packet, armoured (`-----BEGIN PGP SIGNATURE-----`) or binary, and
/// nothing else: no second signature, no key or literal-data packets, no trailing bytes.
fn parse_one_signature(bytes: &[u8]) -> Result<Signature, SignatureRejection> {
    let malformed = |s: String| SignatureRejection::Malformed(s);
    let first = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| malformed("the file is empty".into()))?;
    let binary: Vec<u8> = if first & 0x80 != 0 {
        bytes.to_vec()
    } else {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| malformed("armoured signature is not UTF-8".into()))?;
        let begin = "-----BEGIN PGP SIGNATURE-----";
        let end = "-----END PGP SIGNATURE-----";
        let trimmed = text.trim();
        if !trimmed.starts_with(begin) || !trimmed.ends_with(end) {
            return Err(malformed(format!(
                "expected one armoured block from {begin} to {end}"
            )));
        }
        if trimmed.matches("-----BEGIN ").count() != 1 || trimmed.matches("-----END ").count() != 1
        {
            return Err(malformed("more than one armoured block".into()));
        }
        let mut dearmor = pgp::armor::Dearmor::new(trimmed.as_bytes());
        let mut out = Vec::new();
        dearmor
            .read_to_end(&mut out)
            .map_err(|e| malformed(format!("armour: {e}")))?;
        out
    };
    let mut packets = PacketParser::new(&binary[..]);
    let sig = match packets.next() {
        Some(Ok(Packet::Signature(s))) => s,
        Some(Ok(other)) => {
            return Err(malformed(format!(
                "expected a signature packet, found {:?}",
                other.tag()
            )));
        }
        Some(Err(e)) => return Err(malformed(e.to_string())),
        None => return Err(malformed("no packets".into())),
    };
    match packets.next() {
        None => Ok(sig),
        Some(Ok(p)) => Err(malformed(format!(
            "expected exactly one signature packet, found another packet ({:?})",
            p.tag()
        ))),
        Some(Err(e)) => Err(malformed(format!("trailing data: {e}"))),
    }
}
