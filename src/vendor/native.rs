//! Claude Code's native channel (`claude-native:<V>/<platform>`): the signed manifest for V is
//! fetched and verified against the pinned key first; only then is the binary fetched, checked
//! against the manifest's entry for the platform while it streams (sha256, and the size as the
//! download limit). What comes out is reviewed like any other artifact: its content manifest
//! (one file, with the Bun embedded-module analysis) against the ledger, where a native build
//! is named `claude-native:claude-code@<V>` and bound to the binary's digests (docs/vendor-manifest.md).
use super::{PlatformEntry, VerifiedManifest, verify_manifest};
use crate::clock::Clock;
use crate::limits::Limits;
use crate::source::{
    self, ExpectedBinary, FetchError, FetchOptions, Fetched, VendorManifestFiles, VendorSource,
    Version,
};
use crate::trust::vendor::VendorKey;

/// The ledger ecosystem of native-channel builds.
pub const NATIVE_ECOSYSTEM: &str = "claude-native";
/// The ledger (and policy) name of Claude Code's native builds.
pub const NATIVE_NAME: &str = "claude-code";

/// A native release whose manifest verified and whose binary matched it.
#[derive(Debug, Clone)]
pub struct NativeRelease {
    /// Version.
    pub version: Version,
    /// Platform.
    pub platform: String,
    /// The verified manifest.
    pub verified: VerifiedManifest,
    /// The manifest and signature bytes, with where they came from.
    pub files: VendorManifestFiles,
    /// The platform's entry.
    pub entry: PlatformEntry,
    /// The binary (in the cache for a URL source, in place for a directory).
    pub fetched: Fetched,
    /// Where the binary came from.
    pub binary_uri: String,
}

/// Why a native release was not obtained.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NativeError {
    /// A verdict (exit 1): the check that failed and why.
    #[error("{check}: {reason}")]
    Rejected {
        /// `vendor-signature` (the manifest) or `artifact-integrity` (the binary).
        check: &'static str,
        /// Why, naming expected and actual.
        reason: String,
    },
    /// Could not be carried out (exit 2): network, disk.
    #[error("{0}")]
    Operational(String),
}

impl NativeError {
    fn from_fetch(check: &'static str, e: FetchError, context: &str) -> NativeError {
        match e {
            e @ (FetchError::NotFound { .. } | FetchError::TooLarge { .. }) => {
                NativeError::Rejected {
                    check,
                    reason: format!("{context}: {e}"),
                }
            }
            e if e.is_rejection() => NativeError::Rejected {
                check,
                reason: e.to_string(),
            },
            e => NativeError::Operational(e.to_string()),
        }
    }
}

/// Fetch and verify `version`/`platform` from `source`: manifest and signature, the signature
/// with `key`, the manifest's version, its entry for the platform, then the binary against it.
pub fn fetch(
    source: &VendorSource,
    key: &VendorKey,
    version: &Version,
    platform: &str,
    opts: &FetchOptions,
    clock: &dyn Clock,
    limits: &Limits,
) -> Result<NativeRelease, NativeError> {
    const SIG: &str = "vendor-signature";
    let files = source::fetch_vendor_manifest(source, version, opts)
        .map_err(|e| NativeError::from_fetch(SIG, e, "no signed release manifest"))?;
    let verified =
        verify_manifest(key, &files.manifest, &files.signature, clock, limits).map_err(|e| {
            NativeError::Rejected {
                check: SIG,
                reason: format!("{}: {e}", files.manifest_uri),
            }
        })?;
    let entry = verified
        .expect_version(version.as_str())
        .and_then(|()| verified.entry(platform).cloned())
        .map_err(|e| NativeError::Rejected {
            check: SIG,
            reason: e.to_string(),
        })?;
    let want = ExpectedBinary {
        platform,
        binary: &entry.binary,
        sha256: &entry.sha256,
        size: entry.size,
    };
    let binary_uri = source::binary_uri(source, version, &want);
    let fetched = source::fetch_vendor_binary(source, version, &want, opts).map_err(|e| {
        NativeError::from_fetch(
            "artifact-integrity",
            e,
            &format!("the {platform} binary the signed manifest lists"),
        )
    })?;
    // sha256 was checked while streaming; the size is compared here too (a body shorter than
    // the manifest says cannot have its sha256, but the rule is stated, not inferred).
    verified
        .check_binary(
            &binary_uri,
            platform,
            &fetched.digests.sha256,
            fetched.digests.size,
        )
        .map_err(|e| NativeError::Rejected {
            check: "artifact-integrity",
            reason: e.to_string(),
        })?;
    Ok(NativeRelease {
        version: version.clone(),
        platform: platform.to_string(),
        verified,
        files,
        entry,
        fetched,
        binary_uri,
    })
}
