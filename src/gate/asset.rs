//! `admit https://…/ASSET --bundle …`: a vendor's release asset (a GitHub release binary, say)
//! signed with Sigstore keyless, e.g. Codex CLI's Linux binaries signed by cosign from its
//! release workflow. The asset is named in the policy and the ledger as
//! `release-asset:<name>@<version>` (docs/release-assets.md); the bytes are bound by digest.
//!
//! Order: the bundle (bounded by `limits.bundle_bytes`), the asset (hashed while it streams),
//! the bundle against the asset's sha256 and the required identity, the cooldown from the
//! verified signing time, the contents, the ledger review; then the store.
use super::{Gate, GateError};
use crate::content::ContentManifest;
use crate::report::{ArtifactReport, Status};
use crate::sigstore::{self, ArtifactRef, IdentityPolicy, Signer};
use crate::source::{self, ArtifactSpec, Fetched};
use serde_json::json;
use std::path::PathBuf;

/// The policy and ledger ecosystem of release assets.
pub const ASSET_ECOSYSTEM: &str = "release-asset";

/// Where the Sigstore bundle comes from.
#[derive(Debug, Clone)]
pub enum BundleSource {
    /// A local file.
    File(PathBuf),
    /// An https URL (or http to loopback), fetched like the asset.
    Url(String),
}

impl BundleSource {
    /// `https://…` or `http://…` is a URL, anything else a file.
    pub fn parse(arg: &str) -> BundleSource {
        if arg.starts_with("https://") || arg.starts_with("http://") {
            BundleSource::Url(arg.to_string())
        } else {
            BundleSource::File(PathBuf::from(arg))
        }
    }

    fn describe(&self) -> String {
        match self {
            BundleSource::File(p) => p.display().to_string(),
            BundleSource::Url(u) => u.clone(),
        }
    }
}

/// One release-asset admission request.
#[derive(Debug, Clone)]
pub struct AssetRequest {
    /// The asset's URL.
    pub url: String,
    /// Its policy and ledger name.
    pub name: String,
    /// Its version.
    pub version: source::Version,
    /// The bundle.
    pub bundle: BundleSource,
    /// Who must have signed (certificate identity and OIDC issuer, both required).
    pub identity: IdentityPolicy,
}

struct AssetChecked {
    fetched: Fetched,
    bundle: Vec<u8>,
    identity: String,
    record: serde_json::Value,
    admitted_at: jiff::Timestamp,
}

impl Gate<'_> {
    /// Check a release asset and, when every check passes and `store` is a local directory,
    /// admit it.
    pub fn admit_asset(
        &self,
        spec: &str,
        req: &AssetRequest,
        store: Option<&crate::store::AdmitTarget>,
    ) -> Result<crate::report::AdmitReport, GateError> {
        let label = format!("{ASSET_ECOSYSTEM}:{}@{}", req.name, req.version);
        let mut r = ArtifactReport::new(label.clone(), "requested");
        let mut notes = Vec::new();
        let checked = self.check_asset(req, &mut r)?;
        if self.signing_key.is_none() {
            notes.push(
                "no --signing-key: no verification summary attestation (VSA) was signed"
                    .to_string(),
            );
        }
        let mut written = Vec::new();
        match (checked, store) {
            (Some(c), Some(crate::store::AdmitTarget::Local(local))) if r.passed() => {
                crate::store::asset::admit(
                    local,
                    &crate::store::asset::AssetAdmission {
                        name: &req.name,
                        version: req.version.as_str(),
                        url: &req.url,
                        path: &c.fetched.path,
                        digests: &c.fetched.digests,
                        bundle: &c.bundle,
                        identity: &c.identity,
                        record: &c.record,
                        admitted_at: c.admitted_at,
                    },
                )?;
                written.push(label);
            }
            (Some(_), Some(crate::store::AdmitTarget::Object(_))) if r.passed() => {
                return Err(GateError::Operational(
                    "release assets can be admitted into a local store directory only (not implemented for s3:// stores)".into(),
                ));
            }
            (_, Some(_)) if !r.passed() => notes.push("nothing was admitted".to_string()),
            _ => {}
        }
        let passed = r.passed();
        Ok(crate::report::AdmitReport {
            schema: crate::report::ADMIT_SCHEMA,
            spec: spec.to_string(),
            verdict: if passed { "admitted" } else { "rejected" },
            artifacts: vec![r],
            admitted: written,
            notes,
        })
    }

    fn check_asset(
        &self,
        req: &AssetRequest,
        r: &mut ArtifactReport,
    ) -> Result<Option<AssetChecked>, GateError> {
        let Some(policy) = self.policy.for_package(ASSET_ECOSYSTEM, &req.name) else {
            r.push(
                "policy",
                Status::Fail,
                format!(
                    "{} has no [[package]] entry with ecosystem = \"{ASSET_ECOSYSTEM}\" and name = \"{}\"",
                    self.policy.path.display(),
                    req.name
                ),
            );
            return Ok(None);
        };
        r.push(
            "policy",
            Status::Pass,
            format!(
                "{} entry at line {}",
                self.policy.path.display(),
                policy.line
            ),
        );
        // The bundle first: it is small and bounded, and without it the asset is not fetched.
        let bundle_bytes = match &req.bundle {
            BundleSource::File(p) => {
                match crate::limits::read_file_limited(p, "bundle size", self.limits.bundle_bytes) {
                    Ok(b) => b,
                    Err(crate::limits::ReadLimitedError::Limit(l)) => {
                        r.push("bundle-size", Status::Fail, l.to_string());
                        return Ok(None);
                    }
                    Err(e) => {
                        return Err(GateError::Operational(format!(
                            "cannot read the bundle {}: {e}",
                            p.display()
                        )));
                    }
                }
            }
            BundleSource::Url(u) => match source::fetch_document(
                u,
                "application/json",
                self.limits.bundle_bytes,
                self.fetch,
            ) {
                Ok(b) => b,
                Err(
                    e @ (source::FetchError::NotFound { .. } | source::FetchError::TooLarge { .. }),
                ) => {
                    r.push(
                        "sigstore-bundle",
                        Status::Fail,
                        format!("no usable bundle: {e}"),
                    );
                    return Ok(None);
                }
                Err(e) if e.is_rejection() => {
                    r.push("sigstore-bundle", Status::Fail, e.to_string());
                    return Ok(None);
                }
                Err(e) => return Err(GateError::Operational(e.to_string())),
            },
        };
        let bundle = match sigstore::parse_bundle(&bundle_bytes, &self.limits) {
            Ok(b) => b,
            Err(e) => {
                r.push(
                    e.check(),
                    Status::Fail,
                    format!("{}: {e}", req.bundle.describe()),
                );
                return Ok(None);
            }
        };
        let fetched = match source::fetch(&ArtifactSpec::Url(req.url.clone()), self.fetch) {
            Ok(f) => f,
            Err(e) if e.is_rejection() => {
                r.push(e.check(), Status::Fail, e.to_string());
                return Ok(None);
            }
            Err(e) => return Err(GateError::Operational(e.to_string())),
        };
        r.integrity = Some(fetched.digests.sha512.sri());
        // The bundle's signature covers the sha256 of the asset's bytes (a hashedrekord's
        // messageDigest, or the DSSE subject): the digest computed while the asset streamed.
        let verified = match sigstore::verify(
            &bundle,
            ArtifactRef::Digest(fetched.digests.sha256.clone()),
            &Signer::Certificate(req.identity.clone()),
            self.roots,
        ) {
            Ok(v) => v,
            Err(e) => {
                r.push(
                    e.check(),
                    Status::Fail,
                    format!(
                        "{} for {} (sha256 {}): {e}",
                        req.bundle.describe(),
                        req.url,
                        fetched.digests.sha256.hex()
                    ),
                );
                return Ok(None);
            }
        };
        let cert = verified.certificate();
        let identity = cert.and_then(|c| c.identity.clone()).unwrap_or_default();
        let issuer = cert.and_then(|c| c.issuer.clone()).unwrap_or_default();
        let signed_at = verified.signing_time();
        r.push(
            "sigstore-identity",
            Status::Pass,
            format!(
                "{} (sha256 {}) signed by {identity} (issuer {issuer}) at {}, trust root {}",
                req.url,
                fetched.digests.sha256.hex(),
                signed_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "(no time)".into()),
                verified.trust_root()
            ),
        );
        let now = self.clock.now();
        if let Some(min_age) = policy.min_age {
            // No registry publish time: the verified signing time (log integration or RFC 3161
            // timestamp) is the earliest the asset provably existed.
            super::check_min_age(
                r,
                min_age,
                now,
                signed_at,
                "the bundle has no verified signing time, so the cooldown cannot be checked",
                |t| format!("signed {t}"),
            );
        }
        match policy.provenance {
            crate::policy::ProvenanceRequirement::Required => r.push(
                "provenance",
                Status::Fail,
                "policy requires provenance; a release asset's Sigstore signature is not SLSA provenance (not implemented for release assets: set provenance = \"not-required\" or \"if-present\")",
            ),
            _ => r.push(
                "provenance",
                Status::Skipped,
                "no SLSA provenance is read for release assets; the Sigstore identity stands for origin",
            ),
        }
        let Some(manifest) = self.contents(r, &fetched.path, false)? else {
            return Ok(None);
        };
        let id = asset_id(&req.name, &req.version)?;
        let reviewed = self.review_criteria(r, &id, &fetched.digests, &manifest, &policy.criteria);
        if !r.passed() || reviewed.is_empty() {
            return Ok(None);
        }
        let bundle_sha256 = crate::digest::sha256(&bundle_bytes).hex();
        let record = asset_record(
            self,
            req,
            &fetched,
            &manifest,
            &reviewed,
            r,
            json!({
                "verified": true,
                "bundle": req.bundle.describe(),
                "bundle_sha256": bundle_sha256,
                "facts": verified,
            }),
            now,
        );
        Ok(Some(AssetChecked {
            fetched,
            bundle: bundle_bytes,
            identity,
            record,
            admitted_at: now,
        }))
    }
}

/// The ledger name of a release asset: `release-asset:<name>@<version>`.
pub fn asset_id(
    name: &str,
    version: &source::Version,
) -> Result<crate::ledger::PackageId, GateError> {
    crate::ledger::PackageId::parse_spec(&format!("{ASSET_ECOSYSTEM}:{name}@{version}"))
        .map_err(|e| GateError::Operational(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
fn asset_record(
    gate: &Gate<'_>,
    req: &AssetRequest,
    fetched: &Fetched,
    manifest: &ContentManifest,
    reviewed: &[crate::ledger::ReviewedBuild],
    checks: &ArtifactReport,
    sigstore_facts: serde_json::Value,
    now: jiff::Timestamp,
) -> serde_json::Value {
    let reviews: Vec<_> = reviewed
        .iter()
        .map(|r| json!({"criterion": r.criterion().as_str(), "basis": r.basis().describe()}))
        .collect();
    let manifest_digest = crate::ledger::canonical_manifest(manifest)
        .map(|(_, d)| d.to_string())
        .ok();
    let bundle_uri = req.bundle.describe();
    let bundle_sha256 = sigstore_facts["bundle_sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut record = json!({
        "format": 1,
        "package": {"ecosystem": ASSET_ECOSYSTEM, "name": req.name, "version": req.version.as_str()},
        "reason": "requested",
        "artifact": fetched.digests,
        "url": req.url,
        "manifest": manifest_digest,
        "policy": {"path": gate.policy.path.display().to_string(), "sha256": gate.policy.sha256.to_string()},
        "provenance": {"status": "not read for release assets"},
        "sigstore": sigstore_facts,
        "reviews": reviews,
        "checks": checks.checks,
        "tool": {"name": "vetted", "version": env!("CARGO_PKG_VERSION")},
        "admitted_at": now.to_string(),
    });
    if let Some(key) = gate.signing_key {
        let statement = super::vsa::statement(&super::vsa::VsaFacts {
            subject_name: format!("pkg:generic/{}@{}", req.name, req.version),
            subject_digests: vec![
                ("sha256".into(), fetched.digests.sha256.hex()),
                ("sha512".into(), fetched.digests.sha512.hex()),
            ],
            resource_uri: req.url.clone(),
            policy: (
                gate.policy.path.display().to_string(),
                gate.policy.sha256.hex(),
            ),
            input_attestations: vec![(bundle_uri, bundle_sha256)],
            verified_levels: vec![
                "VETTED_REVIEWED".to_string(),
                "VETTED_SIGSTORE_IDENTITY".to_string(),
            ],
            time_verified: now,
        });
        record["vsa"] = super::vsa::sign(&statement, key);
        record["vsa_key"] = json!({"keyid": key.key_id(), "public_key": key.public_key_pem()});
    }
    record
}
