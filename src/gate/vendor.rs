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
