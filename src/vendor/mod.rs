//! Vendors' own signed release channels. First: Claude Code's release manifests.
//!
//! For every release from 2.1.89 on, Anthropic publishes
//! `https://downloads.claude.ai/claude-code-releases/<V>/manifest.json`, listing each platform's
//! binary with its sha256 and size, and `manifest.json.sig`, a detached OpenPGP signature by the
//! release-signing key pinned in `trust-roots/vendor/claude-code.asc`. This module owns that
//! manifest format (see `docs/vendor-manifest.md`): it verifies the signature over the exact
//! bytes first ([`crate::trust::vendor`]) and only then parses them, and it matches a binary
//! (the native-channel file, or `package/claude` of the npm platform package) against its
//! platform's entry.
use crate::clock::Clock;
use crate::digest::{Algorithm, Digest};
use crate::limits::Limits;
use crate::trust::vendor::{SignatureRejection, VendorKey, VerifiedSignature};
use std::collections::BTreeMap;

pub mod native;
pub mod release;

/// The vendor name used in policies and on the command line.
pub const CLAUDE_CODE: &str = "claude-code";

/// Where Claude Code's signed release manifests are published.
pub const CLAUDE_CODE_RELEASES: &str = "https://downloads.claude.ai/claude-code-releases";

/// The npm scope and name prefix of Claude Code's packages: the wrapper
/// `@anthropic-ai/claude-code` and the per-platform `@anthropic-ai/claude-code-<platform>`.
pub const CLAUDE_CODE_NPM: &str = "@anthropic-ai/claude-code";

/// One platform's entry in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlatformEntry {
    /// File name of the binary (`claude`, `claude.exe`).
    pub binary: String,
    /// Its sha256.
    pub sha256: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// A parsed release manifest (only ever from bytes whose signature verified).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReleaseManifest {
    /// The release version the manifest is for.
    pub version: String,
    /// Build date as the vendor wrote it.
    pub build_date: Option<String>,
    /// Source commit as the vendor wrote it.
    pub commit: Option<String>,
    /// Entries by platform (`linux-x64`, `darwin-arm64`, `win32-x64`, ...).
    pub platforms: BTreeMap<String, PlatformEntry>,
}

/// Why a manifest or a binary was rejected (a verdict: exit 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VendorRejection {
    /// The signature did not verify.
    #[error("vendor signature: {0}")]
    Signature(#[from] SignatureRejection),
    /// The manifest is larger than the limit.
    #[error("the manifest is {actual} bytes; at most {limit} are accepted")]
    TooLarge {
        /// Limit.
        limit: u64,
        /// Size.
        actual: u64,
    },
    /// The signed bytes are not a manifest in the expected format.
    #[error("the signed manifest is not in the expected format: {0}")]
    Format(String),
    /// The manifest is for another version than the one asked for (a replayed manifest).
    #[error("the signed manifest is for version {actual}, expected {expected}")]
    VersionMismatch {
        /// Asked for.
        expected: String,
        /// In the manifest.
        actual: String,
    },
    /// No entry for the platform.
    #[error(
        "the signed manifest for {version} has no entry for platform {platform} (it lists: {listed})"
    )]
    NoPlatform {
        /// Version.
        version: String,
        /// Platform asked for.
        platform: String,
        /// Platforms listed.
        listed: String,
    },
    /// The binary differs from the manifest's entry.
    #[error(
        "{what} does not match the signed manifest's {platform} entry: expected sha256 {expected_sha256} and {expected_size} bytes, got sha256 {actual_sha256} and {actual_size} bytes"
    )]
    BinaryMismatch {
        /// What was checked.
        what: String,
        /// Platform.
        platform: String,
        /// Expected digest.
        expected_sha256: String,
        /// Actual digest.
        actual_sha256: String,
        /// Expected size.
        expected_size: u64,
        /// Actual size.
        actual_size: u64,
    },
    /// The package does not contain the binary the manifest names.
    #[error("{package} has no file {path}, the binary the signed manifest lists for {platform}")]
    BinaryMissing {
        /// Package.
        package: String,
        /// Path looked for.
        path: String,
        /// Platform.
        platform: String,
    },
    /// The package is not one of the vendor's.
    #[error(
        "vendor-manifest = \"claude-code\" applies to {CLAUDE_CODE_NPM} and {CLAUDE_CODE_NPM}-<platform>; {0} is neither"
    )]
    NotVendorPackage(String),
}

/// A manifest whose signature verified, parsed. Only [`verify_manifest`] makes one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifiedManifest {
    signature: VerifiedSignature,
    manifest: ReleaseManifest,
    manifest_sha256: Digest,
    manifest_bytes: u64,
    signature_sha256: Digest,
}

#[derive(serde::Deserialize)]
struct WireManifest {
    version: String,
    #[serde(rename = "buildDate", default)]
    build_date: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    platforms: BTreeMap<String, WirePlatform>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePlatform {
    binary: String,
    checksum: String,
    size: u64,
}

fn parse_manifest(bytes: &[u8]) -> Result<ReleaseManifest, VendorRejection> {
    let wire: WireManifest =
        serde_json::from_slice(bytes).map_err(|e| VendorRejection::Format(e.to_string()))?;
    let version_ok = !wire.version.is_empty()
        && wire
            .version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if !version_ok {
        return Err(VendorRejection::Format(format!(
            "version {:?} is not a release version",
            wire.version
        )));
    }
    if wire.platforms.is_empty() {
        return Err(VendorRejection::Format("no platforms listed".into()));
    }
    let mut platforms = BTreeMap::new();
    for (name, p) in wire.platforms {
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        // The binary is a bare file name: it becomes a path on disk and on the mirror.
        let binary_ok = !p.binary.is_empty()
            && p.binary != "."
            && p.binary != ".."
            && !p.binary.contains(['/', '\\', '\0']);
        if !name_ok || !binary_ok {
            return Err(VendorRejection::Format(format!(
                "platform {name:?} with binary {:?} is not a plain platform name and file name",
                p.binary
            )));
        }
        // Lower-case hex only, as the vendor writes it: one spelling per digest.
        if p.checksum.len() != 64
            || !p
                .checksum
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(VendorRejection::Format(format!(
                "platform {name}: checksum {:?} is not 64 lower-case hex digits",
                p.checksum
            )));
        }
        let sha256 = Digest::from_hex(Algorithm::Sha256, &p.checksum)
            .map_err(|e| VendorRejection::Format(format!("platform {name}: {e}")))?;
        platforms.insert(
            name,
            PlatformEntry {
                binary: p.binary,
                sha256,
                size: p.size,
            },
        );
    }
    Ok(ReleaseManifest {
        version: wire.version,
        build_date: wire.build_date,
        commit: wire.commit,
        platforms,
    })
}

/// Verify `signature` over exactly `manifest` with the vendor's pinned key, then parse it.
/// The bytes are parsed only after the signature verified.
pub fn verify_manifest(
    key: &VendorKey,
    manifest: &[u8],
    signature: &[u8],
    clock: &dyn Clock,
    limits: &Limits,
) -> Result<VerifiedManifest, VendorRejection> {
    if manifest.len() as u64 > limits.vendor_manifest_bytes {
        return Err(VendorRejection::TooLarge {
            limit: limits.vendor_manifest_bytes,
            actual: manifest.len() as u64,
        });
    }
    let verified = key.verify_detached(manifest, signature, clock, limits)?;
    let parsed = parse_manifest(manifest)?;
    Ok(VerifiedManifest {
        signature: verified,
        manifest: parsed,
        manifest_sha256: crate::digest::sha256(manifest),
        manifest_bytes: manifest.len() as u64,
        signature_sha256: crate::digest::sha256(signature),
    })
}

impl VerifiedManifest {
    /// The verified signature.
    pub fn signature(&self) -> &VerifiedSignature {
        &self.signature
    }
    /// The manifest.
    pub fn manifest(&self) -> &ReleaseManifest {
        &self.manifest
    }
    /// sha256 of the manifest bytes.
    pub fn manifest_sha256(&self) -> &Digest {
        &self.manifest_sha256
    }
    /// sha256 of the signature bytes.
    pub fn signature_sha256(&self) -> &Digest {
        &self.signature_sha256
    }

    /// The manifest must be for `version` (else a validly signed manifest of another release
    /// could be replayed for this one).
    pub fn expect_version(&self, version: &str) -> Result<(), VendorRejection> {
        if self.manifest.version != version {
            return Err(VendorRejection::VersionMismatch {
                expected: version.to_string(),
                actual: self.manifest.version.clone(),
            });
        }
        Ok(())
    }

    /// The entry for `platform`.
    pub fn entry(&self, platform: &str) -> Result<&PlatformEntry, VendorRejection> {
        self.manifest
            .platforms
            .get(platform)
            .ok_or_else(|| VendorRejection::NoPlatform {
                version: self.manifest.version.clone(),
                platform: platform.to_string(),
                listed: self
                    .manifest
                    .platforms
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// A binary with this sha256 and size must be `platform`'s entry.
    pub fn check_binary(
        &self,
        what: &str,
        platform: &str,
        sha256: &Digest,
        size: u64,
    ) -> Result<&PlatformEntry, VendorRejection> {
        let entry = self.entry(platform)?;
        if &entry.sha256 != sha256 || entry.size != size {
            return Err(VendorRejection::BinaryMismatch {
                what: what.to_string(),
                platform: platform.to_string(),
                expected_sha256: entry.sha256.hex(),
                actual_sha256: sha256.hex(),
                expected_size: entry.size,
                actual_size: size,
            });
        }
        Ok(entry)
    }

    /// The facts, for `--json`, reports and admission records.
    pub fn facts(&self) -> serde_json::Value {
        serde_json::json!({
            "vendor": self.signature.vendor(),
            "version": self.manifest.version,
            "build_date": self.manifest.build_date,
            "commit": self.manifest.commit,
            "manifest_sha256": self.manifest_sha256.hex(),
            "manifest_bytes": self.manifest_bytes,
            "signature_sha256": self.signature_sha256.hex(),
            "signer_fingerprint": self.signature.signer_fingerprint(),
            "primary_fingerprint": self.signature.primary_fingerprint(),
            "signed_at": self.signature.signed_at().to_string(),
            "hash": self.signature.hash(),
            "platforms": self.manifest.platforms.iter().map(|(k, v)| (k.clone(), serde_json::json!({
                "binary": v.binary, "sha256": v.sha256.hex(), "size": v.size,
            }))).collect::<serde_json::Map<_, _>>(),
        })
    }
}

/// What an npm package name means for Claude Code's vendor channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaudePackage {
    /// `@anthropic-ai/claude-code`: the wrapper, which carries no platform binary.
    Wrapper,
    /// `@anthropic-ai/claude-code-<platform>`.
    Platform(String),
}

/// Classify an npm package name.
pub fn claude_package(name: &str) -> Result<ClaudePackage, VendorRejection> {
    if name == CLAUDE_CODE_NPM {
        return Ok(ClaudePackage::Wrapper);
    }
    match name
        .strip_prefix(CLAUDE_CODE_NPM)
        .and_then(|r| r.strip_prefix('-'))
    {
        Some(p)
            if !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            Ok(ClaudePackage::Platform(p.to_string()))
        }
        _ => Err(VendorRejection::NotVendorPackage(name.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_classify_or_are_refused() {
        assert_eq!(
            claude_package("@anthropic-ai/claude-code"),
            Ok(ClaudePackage::Wrapper)
        );
        assert_eq!(
            claude_package("@anthropic-ai/claude-code-linux-x64-musl"),
            Ok(ClaudePackage::Platform("linux-x64-musl".into()))
        );
        for bad in [
            "@anthropic-ai/claude-codex",
            "@anthropic-ai/claude-code-",
            "left-pad",
            "@anthropic-ai/claude-code-Linux",
        ] {
            assert!(claude_package(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn manifest_with_path_in_binary_name_is_rejected() {
        let m = br#"{"version":"1.0.0","platforms":{"linux-x64":{"binary":"../claude","checksum":"0000000000000000000000000000000000000000000000000000000000000000","size":1}}}"#;
        assert!(matches!(parse_manifest(m), Err(VendorRejection::Format(_))));
    }

    #[test]
    fn manifest_with_upper_case_or_short_checksum_is_rejected() {
        for c in ["AB".repeat(32), "ab".repeat(31)] {
            let m = format!(
                r#"{{"version":"1.0.0","platforms":{{"linux-x64":{{"binary":"claude","checksum":"{c}","size":1}}}}}}"#
            );
            assert!(
                matches!(
                    parse_manifest(m.as_bytes()),
                    Err(VendorRejection::Format(_))
                ),
                "{c}"
            );
        }
    }

    #[test]
    fn manifest_without_platforms_or_with_odd_version_is_rejected() {
        assert!(parse_manifest(br#"{"version":"1.0.0","platforms":{}}"#).is_err());
        assert!(
            parse_manifest(
                br#"{"version":"../1","platforms":{"a":{"binary":"c","checksum":"00","size":1}}}"#
            )
            .is_err()
        );
        assert!(parse_manifest(b"not json").is_err());
    }
}
