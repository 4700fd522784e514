//! The gate's vendor-signature check (`vendor-manifest = "claude-code"` in the policy): for
//! `@anthropic-ai/claude-code-<platform>@V`, the vendor's signed release manifest for V is
//! fetched from the vendor source, verified against the pinned vendor key, and the package's
//! binary (`package/claude`, or `claude.exe` on Windows) must be the one the manifest lists for
//! that platform, byte for byte (sha256 and size from the content manifest, which hashed every
//! file while the tarball streamed).
use super::{Gate, GateError};
use crate::content::ContentManifest;
use crate::content::manifest::EntryKind;
use crate::report::{ArtifactReport, Status};
use crate::source::{self, NpmVersionMeta, VendorSource};
use crate::trust::vendor::VendorKey;
use crate::vendor::{self, ClaudePackage};
use serde_json::json;

const CHECK: &str = "vendor-signature";

/// Where vendor manifests come from and which key verifies them, for one gate run.
#[derive(Debug, Clone)]
pub struct VendorOptions {
    /// The release URL or an air-gapped directory.
    pub source: VendorSource,
    /// A key to trust instead of the pinned one (`--insecure-vendor-key`), else `None`.
    pub key_override: Option<VendorKey>,
}

impl Default for VendorOptions {
    fn default() -> Self {
        VendorOptions {
            source: VendorSource::Url(vendor::CLAUDE_CODE_RELEASES.to_string()),
            key_override: None,
        }
    }
}

/// What the vendor-signature check established, for the admission record and the VSA.
#[derive(Debug, Clone)]
pub struct VendorEvidence {
    facts: serde_json::Value,
    inputs: Vec<(String, String)>,
}

impl VendorEvidence {
    /// The record's `vendor_signature` object.
    pub fn record(&self) -> serde_json::Value {
        self.facts.clone()
    }
    /// The VSA's input attestations (uri, sha256): the manifest and its signature.
    pub fn inputs(&self) -> &[(String, String)] {
        &self.inputs
    }
}

/// The check, when the candidate's policy entry asks for it. `None` when not asked, skipped
/// (the wrapper carries no binary), or failed (the failure is in `r`).
pub(super) fn check(
    gate: &Gate<'_>,
    vendor_name: Option<&str>,
    meta: &NpmVersionMeta,
    manifest: Option<&ContentManifest>,
    r: &mut ArtifactReport,
) -> Result<Option<VendorEvidence>, GateError> {
    let Some(vendor_name) = vendor_name else {
        return Ok(None);
    };
    let platform = match vendor::claude_package(meta.name.as_str()) {
        Ok(ClaudePackage::Platform(p)) => p,
        Ok(ClaudePackage::Wrapper) => {
            r.push(
                CHECK,
                Status::Skipped,
                format!(
                    "{} carries no platform binary; the binaries of its platform packages are matched against the vendor-signed manifest",
                    meta.name
                ),
            );
            return Ok(None);
        }
        Err(e) => {
            r.push(CHECK, Status::Fail, e.to_string());
            return Ok(None);
        }
    };
    // Without a content manifest (the contents check failed) there is no binary to match.
    let Some(manifest) = manifest else {
        return Ok(None);
    };
    let key = match &gate.vendor.key_override {
        Some(k) => k.clone(),
        None => {
            VendorKey::pinned(vendor_name).map_err(|e| GateError::Operational(e.to_string()))?
        }
    };
    let files = match source::fetch_vendor_manifest(&gate.vendor.source, &meta.version, gate.fetch)
    {
        Ok(f) => f,
        // No signed manifest for this version, or one over the limit: the release lacks the
        // evidence the policy requires.
        Err(e @ (source::FetchError::NotFound { .. } | source::FetchError::TooLarge { .. })) => {
            r.push(
                CHECK,
                Status::Fail,
                format!("no signed release manifest: {e}"),
            );
            return Ok(None);
        }
        Err(e) if e.is_rejection() => {
            r.push(CHECK, Status::Fail, e.to_string());
            return Ok(None);
        }
        Err(e) => return Err(GateError::Operational(e.to_string())),
    };
    let verified = match vendor::verify_manifest(
        &key,
        &files.manifest,
        &files.signature,
        gate.clock,
        &gate.limits,
    ) {
        Ok(v) => v,
        Err(e) => {
            r.push(CHECK, Status::Fail, format!("{}: {e}", files.manifest_uri));
            return Ok(None);
        }
    };
    let checked = verified
        .expect_version(meta.version.as_str())
        .and_then(|()| verified.entry(&platform).cloned())
        .and_then(|entry| {
            let found = binary_entry(manifest, &entry.binary).ok_or_else(|| {
                vendor::VendorRejection::BinaryMissing {
                    package: format!("{}@{}", meta.name, meta.version),
                    path: format!("package/{}", entry.binary),
                    platform: platform.clone(),
                }
            })?;
            let (path, sha256, size) = found;
            verified
                .check_binary(
                    &format!("{}@{} {path}", meta.name, meta.version),
                    &platform,
                    &sha256,
                    size,
                )
                .map(|e| (path, e.clone()))
        });
    let (path, entry) = match checked {
        Ok(x) => x,
        Err(e) => {
            r.push(CHECK, Status::Fail, e.to_string());
            return Ok(None);
        }
    };
    let s = verified.signature();
    r.push(
        CHECK,
        Status::Pass,
        format!(
            "{path} matches the {platform} entry of the {vendor_name} {} manifest signed {} by {} (sha256 {}, {} bytes)",
            verified.manifest().version,
            s.signed_at(),
            s.signer_fingerprint(),
            entry.sha256.hex(),
            entry.size
        ),
    );
    let mut facts = verified.facts();
    facts["manifest_uri"] = json!(files.manifest_uri);
    facts["signature_uri"] = json!(files.signature_uri);
    facts["binary"] = json!({
        "path": path, "platform": platform, "sha256": entry.sha256.hex(), "size": entry.size, "matches": true,
    });
    Ok(Some(VendorEvidence {
        inputs: vec![
            (files.manifest_uri.clone(), verified.manifest_sha256().hex()),
            (
                files.signature_uri.clone(),
                verified.signature_sha256().hex(),
            ),
        ],
        facts,
    }))
}

/// The file npm installs as `<package root>/<binary>`: an entry `<top>/<binary>` (npm strips
/// the first path component, normally `package/`). Exactly one such regular file, or none.
fn binary_entry(
    manifest: &ContentManifest,
    binary: &str,
) -> Option<(String, crate::digest::Digest, u64)> {
    let mut found = manifest.entries.iter().filter(|(path, e)| {
        e.kind == EntryKind::File && path.split_once('/').is_some_and(|(_, rest)| rest == binary)
    });
    let (path, e) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some((path.clone(), e.sha256.clone()?, e.size))
}

/// The key the vendor's manifests must be signed with: the pinned one, or the test override.
fn vendor_key(gate: &Gate<'_>, vendor_name: &str) -> Result<VendorKey, GateError> {
    match &gate.vendor.key_override {
        Some(k) => Ok(k.clone()),
        None => VendorKey::pinned(vendor_name).map_err(|e| GateError::Operational(e.to_string())),
    }
}

/// What a native admission leaves for the store.
struct NativeAdmitted {
    release: vendor::native::NativeRelease,
    record: serde_json::Value,
    stable: bool,
    admitted_at: jiff::Timestamp,
}

impl Gate<'_> {
    /// `admit claude-native:<V>/<platform>`: the policy entry (`ecosystem = "claude-native"`,
    /// `name = "claude-code"`), the signed manifest, the binary against it, the cooldown from
    /// the signed `buildDate`, the contents, the ledger review of `claude-native:claude-code@V`
    /// bound to the binary's digests. Written to a local store when all pass.
    pub fn admit_native(
        &self,
        spec: &str,
        version: &source::Version,
        platform: &str,
        store: Option<&crate::store::AdmitTarget>,
    ) -> Result<crate::report::AdmitReport, GateError> {
        use vendor::native::{NATIVE_ECOSYSTEM, NATIVE_NAME};
        let label = format!("{NATIVE_ECOSYSTEM}:{NATIVE_NAME}@{version}/{platform}");
        let mut r = ArtifactReport::new(label, "requested");
        let mut notes = Vec::new();
        let admitted = self.check_native(version, platform, &mut r)?;
        if self.signing_key.is_none() {
            notes.push(
                "no --signing-key: no verification summary attestation (VSA) was signed"
                    .to_string(),
            );
        }
        let mut written = Vec::new();
        match (admitted, store) {
            (Some(a), Some(crate::store::AdmitTarget::Local(local))) if r.passed() => {
                let rel = &a.release;
                vendor::release::admit(
                    local,
                    &vendor::release::NativeAdmission {
                        vendor: vendor::CLAUDE_CODE,
                        version: rel.version.as_str(),
                        platform: &rel.platform,
                        binary: &rel.entry.binary,
                        binary_path: &rel.fetched.path,
                        binary_digests: &rel.fetched.digests,
                        manifest: &rel.files.manifest,
                        signature: &rel.files.signature,
                        signer_fingerprint: rel.verified.signature().signer_fingerprint(),
                        stable: a.stable,
                        record: &a.record,
                        admitted_at: a.admitted_at,
                    },
                )?;
                written.push(format!(
                    "{NATIVE_ECOSYSTEM}:{}/{}",
                    rel.version, rel.platform
                ));
            }
            (Some(_), Some(crate::store::AdmitTarget::Object(_))) if r.passed() => {
                return Err(GateError::Operational(
                    "native releases can be admitted into a local store directory only (not implemented for s3:// stores)".into(),
                ));
            }
            (_, Some(_)) if !r.passed() => {
                notes.push("nothing was admitted".to_string());
            }
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

    fn check_native(
        &self,
        version: &source::Version,
        platform: &str,
        r: &mut ArtifactReport,
    ) -> Result<Option<NativeAdmitted>, GateError> {
        use vendor::native::{NATIVE_ECOSYSTEM, NATIVE_NAME, NativeError};
        let Some(policy) = self.policy.for_package(NATIVE_ECOSYSTEM, NATIVE_NAME) else {
            r.push(
                "policy",
                Status::Fail,
                format!(
                    "{} has no [[package]] entry with ecosystem = \"{NATIVE_ECOSYSTEM}\" and name = \"{NATIVE_NAME}\"",
                    self.policy.path.display()
                ),
            );
            return Ok(None);
        };
        if !policy.platforms.is_empty() && !policy.platforms.iter().any(|p| p == platform) {
            r.push(
                "policy",
                Status::Fail,
                format!(
                    "platform {platform} is not in the entry's platforms ({}) at line {}",
                    policy.platforms.join(", "),
                    policy.line
                ),
            );
            return Ok(None);
        }
        r.push(
            "policy",
            Status::Pass,
            format!(
                "{} entry at line {}",
                self.policy.path.display(),
                policy.line
            ),
        );
        let key = vendor_key(self, vendor::CLAUDE_CODE)?;
        let release = match vendor::native::fetch(
            &self.vendor.source,
            &key,
            version,
            platform,
            self.fetch,
            self.clock,
            &self.limits,
        ) {
            Ok(rel) => rel,
            Err(NativeError::Rejected { check, reason }) => {
                r.push(check, Status::Fail, reason);
                return Ok(None);
            }
            Err(NativeError::Operational(e)) => return Err(GateError::Operational(e)),
        };
        let s = release.verified.signature();
        r.push(
            CHECK,
            Status::Pass,
            format!(
                "{} verified: {} manifest signed {} by {}",
                release.files.manifest_uri,
                version,
                s.signed_at(),
                s.signer_fingerprint()
            ),
        );
        r.integrity = Some(release.fetched.digests.sha512.sri());
        r.push(
            "artifact-integrity",
            Status::Pass,
            format!(
                "{} matches the signed {platform} entry (sha256 {}, {} bytes), checked while it streamed",
                release.binary_uri,
                release.entry.sha256.hex(),
                release.entry.size
            ),
        );
        // Cooldown: the native channel has no registry publish time; the signed `buildDate` is
        // the vendor's own statement of when the release was built.
        let now = self.clock.now();
        if let Some(min_age) = policy.min_age {
            let built = release
                .verified
                .manifest()
                .build_date
                .as_deref()
                .and_then(|d| d.parse::<jiff::Timestamp>().ok());
            super::check_min_age(
                r,
                min_age,
                now,
                built,
                "the signed manifest has no usable buildDate, so the cooldown cannot be checked",
                |t| format!("built {t} (signed buildDate)"),
            );
        }
        match policy.provenance {
            crate::policy::ProvenanceRequirement::Required => r.push(
                "provenance",
                Status::Fail,
                "policy requires provenance; the native channel publishes none (the vendor's signature is checked instead: set provenance = \"not-required\" or \"if-present\")",
            ),
            _ => r.push(
                "provenance",
                Status::Skipped,
                "the native channel publishes no provenance; the vendor signature stands for origin",
            ),
        }
        let Some(manifest) = self.contents(r, &release.fetched.path, false)? else {
            return Ok(None);
        };
        let id = native_id(version)?;
        let reviewed = self.review_criteria(
            r,
            &id,
            &release.fetched.digests,
            &manifest,
            &policy.criteria,
        );
        if !r.passed() || reviewed.is_empty() {
            return Ok(None);
        }
        let stable = match source::fetch_vendor_pointer(&self.vendor.source, "stable", self.fetch) {
            Ok(p) => p.as_deref() == Some(version.as_str()),
            Err(e) => {
                tracing::warn!("cannot read the vendor's stable pointer: {e}");
                false
            }
        };
        let record = native_record(self, &release, &manifest, &reviewed, r, now);
        Ok(Some(NativeAdmitted {
            release,
            record,
            stable,
            admitted_at: now,
        }))
    }
}

/// The ledger name of a native build: `claude-native:claude-code@V` (the digests bind the
/// platform binary).
pub fn native_id(version: &source::Version) -> Result<crate::ledger::PackageId, GateError> {
    crate::ledger::PackageId::parse_spec(&format!(
        "{}:{}@{}",
        vendor::native::NATIVE_ECOSYSTEM,
        vendor::native::NATIVE_NAME,
        version
    ))
    .map_err(|e| GateError::Operational(e.to_string()))
}

fn native_record(
    gate: &Gate<'_>,
    rel: &vendor::native::NativeRelease,
    manifest: &ContentManifest,
    reviewed: &[crate::ledger::ReviewedBuild],
    checks: &ArtifactReport,
    now: jiff::Timestamp,
) -> serde_json::Value {
    let reviews: Vec<_> = reviewed
        .iter()
        .map(|r| json!({"criterion": r.criterion().as_str(), "basis": r.basis().describe()}))
        .collect();
    let manifest_digest = crate::ledger::canonical_manifest(manifest)
        .map(|(_, d)| d.to_string())
        .ok();
    let mut vs = rel.verified.facts();
    vs["manifest_uri"] = json!(rel.files.manifest_uri);
    vs["signature_uri"] = json!(rel.files.signature_uri);
    vs["binary"] = json!({
        "path": rel.binary_uri, "platform": rel.platform, "sha256": rel.entry.sha256.hex(),
        "size": rel.entry.size, "matches": true,
    });
    let mut record = json!({
        "format": 1,
        "package": {
            "ecosystem": vendor::native::NATIVE_ECOSYSTEM,
            "name": vendor::native::NATIVE_NAME,
            "version": rel.version.as_str(),
            "platform": rel.platform,
        },
        "reason": "requested",
        "artifact": rel.fetched.digests,
        "binary_url": rel.binary_uri,
        "manifest": manifest_digest,
        "policy": {"path": gate.policy.path.display().to_string(), "sha256": gate.policy.sha256.to_string()},
        "provenance": {"status": "none published on the native channel"},
        "vendor_signature": vs,
        "reviews": reviews,
        "checks": checks.checks,
        "tool": {"name": "vetted", "version": env!("CARGO_PKG_VERSION")},
        "admitted_at": now.to_string(),
    });
    if let Some(key) = gate.signing_key {
        let statement = super::vsa::statement(&super::vsa::VsaFacts {
            subject_name: format!(
                "pkg:generic/{}@{}?platform={}",
                vendor::native::NATIVE_NAME,
                rel.version,
                rel.platform
            ),
            subject_digests: vec![
                ("sha256".into(), rel.fetched.digests.sha256.hex()),
                ("sha512".into(), rel.fetched.digests.sha512.hex()),
            ],
            resource_uri: rel.binary_uri.clone(),
            policy: (
                gate.policy.path.display().to_string(),
                gate.policy.sha256.hex(),
            ),
            input_attestations: vec![
                (
                    rel.files.manifest_uri.clone(),
                    rel.verified.manifest_sha256().hex(),
                ),
                (
                    rel.files.signature_uri.clone(),
                    rel.verified.signature_sha256().hex(),
                ),
            ],
            verified_levels: vec![
                "VETTED_REVIEWED".to_string(),
                "VETTED_VENDOR_SIGNATURE".to_string(),
            ],
            time_verified: now,
        });
        record["vsa"] = super::vsa::sign(&statement, key);
        record["vsa_key"] = json!({"keyid": key.key_id(), "public_key": key.public_key_pem()});
    }
    record
}
