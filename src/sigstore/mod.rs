//! Sigstore bundle verification, offline, against pinned trust roots.
//!
//! The engine is the sigstore-rust `sigstore-verify` crate, which checks what the Sigstore client
//! spec requires: the certificate chain to a trusted Fulcio CA valid at the signing time, the SCT,
//! the transparency log inclusion proof and signed checkpoint, the signed entry timestamp, RFC 3161
//! timestamps, the signature over the artifact or the DSSE PAE, and the log entry's consistency
//! with the bundle. This module wraps it: it parses bundles within limits, chooses the trust root
//! the certificate chains to, applies the identity policy, and hands the rest of vetted a
//! [`VerifiedBundle`] with our own types.
use crate::digest::{Algorithm, Digest};
use crate::limits::Limits;
use crate::trust::{Instance, PinnedRoot, TrustError, TrustRoots};
use jiff::Timestamp;
use serde::Serialize;
use sigstore_types::{Bundle, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

pub mod evidence;
pub mod policy;
pub mod rekor_v2;
pub mod tsa;

pub use policy::{Claim, IdentityPolicy, PolicyMismatch, StringMatch};
pub use sigstore_verify::{CertificateError, TimestampError, TransparencyLogError};

/// The bundle media types this client accepts (Sigstore bundle spec: v0.1, v0.2, v0.3 and the
/// newer `application/vnd.dev.sigstore.bundle.v0.3+json` spelling).
pub const BUNDLE_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// A parsed bundle, within limits, of a media type we know.
#[derive(Debug, Clone)]
pub struct ParsedBundle {
    bundle: Bundle,
    /// Rekor v2 entries the engine cannot verify, taken out of `bundle` ([`rekor_v2`]).
    own_entries: Vec<rekor_v2::OwnEntry>,
}

impl ParsedBundle {
    /// The engine's bundle (for the provenance module, which reads the DSSE envelope).
    pub fn inner(&self) -> &Bundle {
        &self.bundle
    }

    /// The DSSE envelope's payload type and payload, if the bundle signs a DSSE envelope.
    pub fn dsse_payload(&self) -> Option<(&str, &[u8])> {
        match &self.bundle.content {
            SignatureContent::DsseEnvelope(env) => {
                Some((env.payload_type.as_str(), env.payload.as_bytes()))
            }
            _ => None,
        }
    }
}

/// What must have signed the bundle.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A keyless (Fulcio certificate) signature by this identity.
    Certificate(IdentityPolicy),
    /// A managed key (PEM SubjectPublicKeyInfo).
    PublicKey(sigstore_types::DerPublicKey),
}

/// The artifact a bundle must describe: its bytes, or a digest of them.
#[derive(Debug, Clone)]
pub enum ArtifactRef<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// A digest (sha256 or sha512) of the artifact.
    Digest(Digest),
}

/// Facts about the transparency log entry that recorded the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Index in the log.
    pub log_index: u64,
    /// The log's id (hex of the key id).
    pub log_id: String,
    /// Entry kind and version, e.g. `hashedrekord/0.0.1`.
    pub kind: String,
    /// When the log integrated the entry: Rekor v1 entries with a verified SET only.
    pub integrated_time: Option<Timestamp>,
}

/// The certificate's claims, flattened for reports and policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CertificateClaims {
    /// SAN: email, URI or Fulcio username (otherName 1.3.6.1.4.1.57264.1.7).
    pub identity: Option<String>,
    /// OIDC issuer.
    pub issuer: Option<String>,
    /// Certificate validity start.
    pub not_before: Option<Timestamp>,
    /// Certificate validity end.
    pub not_after: Option<Timestamp>,
    /// .1.9
    pub build_signer_uri: Option<String>,
    /// .1.10
    pub build_signer_digest: Option<String>,
    /// .1.11
    pub runner_environment: Option<String>,
    /// .1.12
    pub source_repository_uri: Option<String>,
    /// .1.13
    pub source_repository_digest: Option<String>,
    /// .1.14
    pub source_repository_ref: Option<String>,
    /// .1.15
    pub source_repository_identifier: Option<String>,
    /// .1.16
    pub source_repository_owner_uri: Option<String>,
    /// .1.17
    pub source_repository_owner_identifier: Option<String>,
    /// .1.18
    pub build_config_uri: Option<String>,
    /// .1.19
    pub build_config_digest: Option<String>,
    /// .1.20
    pub build_trigger: Option<String>,
    /// .1.21
    pub run_invocation_uri: Option<String>,
    /// .1.22
    pub source_repository_visibility_at_signing: Option<String>,
    /// .1.4 (deprecated, no successor)
    pub github_workflow_name: Option<String>,
    /// .1.5 (deprecated): owner/repo
    pub github_workflow_repository: Option<String>,
}

impl CertificateClaims {
    fn from_info(info: &sigstore_crypto::CertificateInfo) -> Self {
        let c = &info.ci_claims;
        CertificateClaims {
            identity: info.identity.as_ref().map(|s| s.as_str().to_string()),
            issuer: info.issuer.clone(),
            not_before: Some(info.not_before),
            not_after: Some(info.not_after),
            build_signer_uri: c.build_signer_uri.clone(),
            build_signer_digest: c.build_signer_digest.clone(),
            runner_environment: c.runner_environment.clone(),
            source_repository_uri: c.source_repository_uri.clone(),
            source_repository_digest: c.source_repository_digest.clone(),
            source_repository_ref: c.source_repository_ref.clone(),
            source_repository_identifier: c.source_repository_identifier.clone(),
            source_repository_owner_uri: c.source_repository_owner_uri.clone(),
            source_repository_owner_identifier: c.source_repository_owner_identifier.clone(),
            build_config_uri: c.build_config_uri.clone(),
            build_config_digest: c.build_config_digest.clone(),
            build_trigger: c.build_trigger.clone(),
            run_invocation_uri: c.run_invocation_uri.clone(),
            source_repository_visibility_at_signing: c
                .source_repository_visibility_at_signing
                .clone(),
            github_workflow_name: c.deprecated_github.workflow_name.clone(),
            github_workflow_repository: c.deprecated_github.workflow_repository.clone(),
        }
    }
}

/// Proof that a bundle verified: only [`verify`] constructs it.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedBundle {
    trust_root: String,
    instance: Instance,
    media_type: String,
    artifact_digest: Digest,
    signer: &'static str,
    certificate: Option<CertificateClaims>,
    signing_time: Option<Timestamp>,
    log_entry: Option<LogEntry>,
    tlog_verified: bool,
    timestamps: Vec<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dsse_payload_type: Option<String>,
    #[serde(skip)]
    dsse_payload: Option<Vec<u8>>,
}

impl VerifiedBundle {
    /// The trust root that verified it.
    pub fn trust_root(&self) -> &str {
        &self.trust_root
    }
    /// Its instance.
    pub fn instance(&self) -> Instance {
        self.instance
    }
    /// The certificate's claims (keyless bundles).
    pub fn certificate(&self) -> Option<&CertificateClaims> {
        self.certificate.as_ref()
    }
    /// The earliest verified signing time (log integration or RFC 3161 timestamp).
    pub fn signing_time(&self) -> Option<Timestamp> {
        self.signing_time
    }
    /// The log entry, if any.
    pub fn log_entry(&self) -> Option<&LogEntry> {
        self.log_entry.as_ref()
    }
    /// Whether inclusion in a transparency log was verified.
    pub fn tlog_verified(&self) -> bool {
        self.tlog_verified
    }
    /// The verified DSSE payload type and bytes (DSSE bundles only).
    pub fn dsse_payload(&self) -> Option<(&str, &[u8])> {
        match (&self.dsse_payload_type, &self.dsse_payload) {
            (Some(t), Some(p)) => Some((t.as_str(), p.as_slice())),
            _ => None,
        }
    }
    /// The artifact digest the bundle was verified against.
    pub fn artifact_digest(&self) -> &Digest {
        &self.artifact_digest
    }
}

/// Why a bundle was rejected, by check. Tests match on these variants.
#[derive(Debug, thiserror::Error)]
pub enum SigstoreError {
    /// The bundle is larger than the limit.
    #[error(transparent)]
    TooLarge(#[from] crate::limits::LimitExceeded),
    /// The bundle is not JSON, or not a bundle.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// The media type is not one we know.
    #[error("unsupported bundle media type: expected one of {}, got {actual:?}", BUNDLE_MEDIA_TYPES.join(", "))]
    MediaType {
        /// The bundle's media type.
        actual: String,
    },
    /// Too many transparency log entries.
    #[error("bundle has {actual} transparency log entries, limit {limit}")]
    TooManyLogEntries {
        /// Count.
        actual: usize,
        /// Limit.
        limit: usize,
    },
    /// The trust root could not be chosen or used.
    #[error("trust root: {0}")]
    Trust(#[from] TrustError),
    /// A keyless bundle was given to a key policy or the other way round.
    #[error("signer mismatch: expected {expected}, bundle has {actual}")]
    SignerKind {
        /// What the policy wanted.
        expected: &'static str,
        /// What the bundle has.
        actual: &'static str,
    },
    /// The certificate failed (chain, validity, SCT).
    #[error("certificate: {0}")]
    Certificate(CertificateError),
    /// The transparency log evidence failed.
    #[error("transparency log: {0}")]
    TransparencyLog(TransparencyLogError),
    /// A timestamp failed.
    #[error("timestamp: {0}")]
    Timestamp(TimestampError),
    /// The signature does not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// The bundle does not describe this artifact.
    #[error("artifact mismatch: {0}")]
    ArtifactMismatch(String),
    /// An RFC 3161 token's fields outside TSTInfo are wrong ([`tsa`]).
    #[error("timestamp token: {0}")]
    TimestampToken(String),
    /// A Rekor v2 entry's body is not the canonical, typed form the log writes.
    #[error("transparency log entry format: {0}")]
    EntryFormat(String),
    /// A Rekor v2 entry does not describe this bundle (verifier, signature or digest).
    #[error("transparency log entry mismatch: {0}")]
    EntryMismatch(String),
    /// The bundle is internally inconsistent or uses something we cannot verify.
    #[error("invalid bundle: {0}")]
    InvalidBundle(String),
    /// The trust root cannot be used for verification.
    #[error("invalid trusted root: {0}")]
    InvalidTrustRoot(String),
    /// The certificate's identity or claims do not match the policy.
    #[error(transparent)]
    Policy(#[from] PolicyMismatch),
    /// A log entry or a timestamp appears twice ([`evidence::check_duplicates`]).
    #[error("duplicate evidence: {0}")]
    Duplicate(String),
    /// An inclusion proof, checkpoint and log disagree ([`evidence::check_log_consistency`]).
    #[error("transparency log: {0}")]
    LogConsistency(String),
}

impl SigstoreError {
    /// A short stable name of the failed check, for reports and JSON.
    pub fn check(&self) -> &'static str {
        match self {
            SigstoreError::TooLarge(_) => "bundle-size",
            SigstoreError::Malformed(_) => "bundle-format",
            SigstoreError::MediaType { .. } => "bundle-media-type",
            SigstoreError::TooManyLogEntries { .. } => "tlog-entries",
            SigstoreError::Trust(_) => "trust-root",
            SigstoreError::SignerKind { .. } => "signer-kind",
            SigstoreError::Certificate(_) => "certificate",
            SigstoreError::TransparencyLog(_) => "transparency-log",
            SigstoreError::Timestamp(_) => "timestamp",
            SigstoreError::Signature(_) => "signature",
            SigstoreError::ArtifactMismatch(_) => "artifact-digest",
            SigstoreError::InvalidBundle(_) => "bundle-consistency",
            SigstoreError::InvalidTrustRoot(_) => "trust-root",
            SigstoreError::Policy(p) => p.claim,
            SigstoreError::Duplicate(_) => "duplicate-evidence",
            SigstoreError::LogConsistency(_) => "transparency-log",
            SigstoreError::TimestampToken(_) => "timestamp",
            SigstoreError::EntryFormat(_) => "tlog-entry-format",
            SigstoreError::EntryMismatch(_) => "tlog-entry-mismatch",
        }
    }
}

impl From<sigstore_verify::Error> for SigstoreError {
    fn from(e: sigstore_verify::Error) -> Self {
        use sigstore_verify::Error as E;
        match e {
            E::Certificate(c) => SigstoreError::Certificate(c),
            E::TransparencyLog(t) => SigstoreError::TransparencyLog(t),
            E::Timestamp(t) => SigstoreError::Timestamp(t),
            E::SignatureInvalid(s) => SigstoreError::Signature(s),
            E::ArtifactMismatch(s) => SigstoreError::ArtifactMismatch(s),
            E::InvalidTrustRoot(s) => SigstoreError::InvalidTrustRoot(s),
            E::TrustRoot(s) => SigstoreError::InvalidTrustRoot(s.to_string()),
            E::TrustedCertificate(s) => SigstoreError::InvalidTrustRoot(s.to_string()),
            E::IdentityMismatch { expected, actual } => SigstoreError::Policy(PolicyMismatch {
                claim: "certificate-identity",
                expected: expected.to_string(),
                actual: actual.map(|a| a.to_string()),
            }),
            E::IssuerMismatch { expected, actual } => SigstoreError::Policy(PolicyMismatch {
                claim: "certificate-oidc-issuer",
                expected,
                actual,
            }),
            other => SigstoreError::InvalidBundle(other.to_string()),
        }
    }
}

/// Parse a bundle document, enforcing the size limit, the media type and the log entry count.
pub fn parse_bundle(bytes: &[u8], limits: &Limits) -> Result<ParsedBundle, SigstoreError> {
    crate::limits::LimitExceeded::check("bundle size", limits.bundle_bytes, bytes.len() as u64)?;
    let text =
        std::str::from_utf8(bytes).map_err(|_| SigstoreError::Malformed("not UTF-8".into()))?;
    let mut value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| SigstoreError::Malformed(format!("not JSON: {e}")))?;
    // Check the media type ourselves first, so an unknown version is reported as such rather than
    // as a parse failure.
    let media_type = value
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or("");
    if !BUNDLE_MEDIA_TYPES.contains(&media_type) {
        return Err(SigstoreError::MediaType {
            actual: media_type.to_string(),
        });
    }
    let entries = value
        .pointer("/verificationMaterial/tlogEntries")
        .and_then(|e| e.as_array())
        .map_or(0, Vec::len);
    if entries > limits.tlog_entries {
        return Err(SigstoreError::TooManyLogEntries {
            actual: entries,
            limit: limits.tlog_entries,
        });
    }
    // Entries the engine cannot verify come out before it parses the bundle.
    let own_entries = rekor_v2::split(&mut value)?;
    let bundle = if own_entries.is_empty() {
        Bundle::from_json(text)
    } else {
        serde_json::from_value::<Bundle>(value).map_err(sigstore_types::Error::from)
    }
    .map_err(|e| SigstoreError::Malformed(e.to_string()))?;
    Ok(ParsedBundle {
        bundle,
        own_entries,
    })
}

/// Verify `bundle` for `artifact`, signed as `signer` says, against the root among `roots` that
/// the bundle's certificate chains to.
pub fn verify(
    bundle: &ParsedBundle,
    artifact: ArtifactRef<'_>,
    signer: &Signer,
    roots: &TrustRoots,
) -> Result<VerifiedBundle, SigstoreError> {
    let b = &bundle.bundle;
    let cert = b.signing_certificate();
    let root: &PinnedRoot = match (signer, cert) {
        (Signer::Certificate(_), Some(cert)) => roots.for_certificate(cert.as_bytes())?,
        (Signer::Certificate(_), None) => {
            return Err(SigstoreError::SignerKind {
                expected: "a signing certificate",
                actual: "a public key hint",
            });
        }
        (Signer::PublicKey(_), Some(_)) => {
            return Err(SigstoreError::SignerKind {
                expected: "a public key hint",
                actual: "a signing certificate",
            });
        }
        (Signer::PublicKey(_), None) => roots.for_public_key().ok_or_else(|| {
            SigstoreError::Trust(TrustError::Invalid {
                name: "(none)".into(),
                message: "no trusted root".into(),
            })
        })?,
    };
    let own = &bundle.own_entries;
    let views = evidence::entry_views(b, own);
    evidence::check_duplicates(b, &views)?;
    evidence::check_log_consistency(&views, root)?;
    // With only our own entries left, the engine has no log entry to check; `rekor_v2::verify`
    // checks ours (inclusion, checkpoint, body) below. This is not a weakened check.
    let own_only = !own.is_empty() && b.verification_material.tlog_entries.is_empty();
    let verifier = Verifier::new(&root.root)?;
    let engine_artifact = match &artifact {
        ArtifactRef::Bytes(bytes) => sigstore_types::Artifact::Blob(bytes),
        ArtifactRef::Digest(d) => {
            let alg = match d.algorithm() {
                Algorithm::Sha256 => sigstore_types::HashAlgorithm::Sha2256,
                Algorithm::Sha512 => sigstore_types::HashAlgorithm::Sha2512,
                Algorithm::Sha1 => {
                    return Err(SigstoreError::ArtifactMismatch(
                        "a sha1 digest cannot identify an artifact".into(),
                    ));
                }
            };
            let digest = sigstore_types::ArtifactDigest::new(alg, d.bytes().to_vec())
                .map_err(|e| SigstoreError::ArtifactMismatch(e.to_string()))?;
            sigstore_types::Artifact::Digest(digest)
        }
    };
    let artifact_digest = match &artifact {
        ArtifactRef::Bytes(bytes) => crate::digest::sha256(bytes),
        ArtifactRef::Digest(d) => d.clone(),
    };
    let mut sans: Vec<policy::San> = Vec::new();
    let result = match signer {
        Signer::Certificate(identity) => {
            // Identity and claims are matched below, on the verified certificate, so that regular
            // expressions and GitHub claims go through one policy check.
            let mut policy = VerificationPolicy::any_identity();
            if own_only {
                policy = policy.skip_tlog_unsafe();
            }
            if root.instance == Instance::GitHub {
                // GitHub's instance has no transparency log and no CT log: its bundles carry RFC
                // 3161 timestamps instead, which the engine still requires and verifies. This is
                // a property of that pinned root, not a user's choice to weaken a check.
                policy = policy.skip_tlog_unsafe().skip_sct();
            }
            let result = verifier.verify(engine_artifact, b, &policy)?;
            let info = result.certificate().ok_or_else(|| {
                SigstoreError::InvalidBundle("verified bundle has no certificate".into())
            })?;
            if let Some(c) = cert {
                sans = policy::certificate_sans(c.as_bytes())
                    .map_err(|e| SigstoreError::Certificate(CertificateError::Malformed(e)))?;
            }
            identity.check(info, &sans)?;
            result
        }
        Signer::PublicKey(key) => {
            let mut policy = PublicKeyVerificationPolicy::new(key.clone());
            if own_only {
                policy = policy.skip_tlog_unsafe();
            }
            verifier.verify(engine_artifact, b, &policy)?
        }
    };
    let artifact_sha256 = match artifact_digest.algorithm() {
        Algorithm::Sha256 => Some(artifact_digest.bytes()),
        _ => None,
    };
    let signed = match (signer, result.certificate(), cert) {
        (Signer::Certificate(_), Some(info), Some(c)) => rekor_v2::Signed {
            certificate: Some(c.as_bytes()),
            public_key: info.public_key.as_bytes(),
            artifact_sha256,
        },
        (Signer::PublicKey(key), _, _) => rekor_v2::Signed {
            certificate: None,
            public_key: key.as_bytes(),
            artifact_sha256,
        },
        _ => {
            return Err(SigstoreError::InvalidBundle(
                "verified bundle has no certificate".into(),
            ));
        }
    };
    rekor_v2::verify(own, b, &signed, root, result.verified_timestamps())?;
    tsa::check_tokens(b, root)?;
    let own_first = own.iter().find(|o| o.position == 0).map(|o| LogEntry {
        log_index: o.raw.log_index.get(),
        log_id: hex::encode(o.raw.log_id.key_id.as_bytes()),
        kind: o.kind.name().to_string(),
        integrated_time: None,
    });
    let log_entry = own_first.or_else(|| {
        b.verification_material
            .tlog_entries
            .first()
            .map(|e| LogEntry {
                log_index: u64::from(e.log_index),
                log_id: hex::encode(e.log_id.key_id.as_bytes()),
                kind: format!("{}/{}", e.kind_version.kind(), e.kind_version.version()),
                // Only a time the log signed (Rekor v1, inside the verified SET) is a fact; Rekor v2
                // entries have none, and an `integratedTime` there is unauthenticated input.
                integrated_time: e.integrated_time.filter(|_| {
                    e.inclusion_promise.is_some()
                        && !matches!(
                            e.kind_version,
                            sigstore_types::KindVersion::HashedRekordV002
                        )
                }),
            })
    });
    let signing_time = result
        .integrated_time()
        .or_else(|| result.verified_timestamps().iter().min().copied());
    let (dsse_payload_type, dsse_payload) = match bundle.dsse_payload() {
        Some((t, p)) => (Some(t.to_string()), Some(p.to_vec())),
        None => (None, None),
    };
    Ok(VerifiedBundle {
        trust_root: root.name.clone(),
        instance: root.instance,
        media_type: b.media_type().as_str().to_string(),
        artifact_digest,
        signer: match signer {
            Signer::Certificate(_) => "certificate",
            Signer::PublicKey(_) => "public-key",
        },
        certificate: result.certificate().map(|info| {
            let mut claims = CertificateClaims::from_info(info);
            // The engine reads only email and URI SANs; a Fulcio username is ours to read.
            if claims.identity.is_none() {
                claims.identity = sans.first().map(|s| s.value.clone());
            }
            claims
        }),
        signing_time,
        log_entry,
        // Ours were verified above, or verification failed.
        tlog_verified: result.tlog_verified() || own_only,
        timestamps: result.verified_timestamps().to_vec(),
        dsse_payload_type,
        dsse_payload,
    })
}
