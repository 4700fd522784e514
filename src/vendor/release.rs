//! The store's records of admitted native releases (format: docs/vendor-manifest.md, "Native
//! releases in the store"). This module owns the format; the store's index carries it as
//! `native.<vendor>` so that one atomic index write admits a native release as it does an npm
//! one, and `vetted serve` reads both from the same index.
//!
//! Every file is a content-addressed blob (`blobs/sha512/<hex>`): the binary, and the vendor's
//! manifest and signature byte for byte (served again exactly as signed, so a client can verify
//! them itself). The binary's admission record is `records/<sha512hex>.json`.
use crate::digest::Digests;
use crate::store::{Index, Store, StoreError, blob_key};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of this record format.
pub const NATIVE_FORMAT: u32 = 1;

/// One vendor's admitted native releases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeChannel {
    /// Format of these records ([`NATIVE_FORMAT`]).
    pub format: u32,
    /// Version -> release.
    pub releases: BTreeMap<String, NativeReleaseEntry>,
}

/// One admitted release: the signed manifest pair and the platforms admitted so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeReleaseEntry {
    /// `manifest.json`, byte for byte.
    pub manifest: Digests,
    /// `manifest.json.sig`, byte for byte.
    pub signature: Digests,
    /// The signer's fingerprint (the pinned key or its certified subkey).
    pub signer_fingerprint: String,
    /// Platform -> the admitted binary.
    pub platforms: BTreeMap<String, NativeBinaryEntry>,
    /// The vendor's `stable` pointer named this version when a platform of it was admitted.
    #[serde(default)]
    pub stable: bool,
}

/// One admitted platform binary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeBinaryEntry {
    /// File name (`claude`, `claude.exe`).
    pub binary: String,
    /// Its digests (sha512: blob key; sha256 and size: the signed manifest's).
    pub digests: Digests,
    /// Its admission record (`records/<sha512hex>.json`).
    pub record: String,
    /// When.
    pub admitted_at: jiff::Timestamp,
}

impl NativeChannel {
    /// The highest admitted version (semver order), if any.
    pub fn latest(&self) -> Option<&str> {
        self.releases
            .keys()
            .max_by_key(|v| crate::ledger::Version::new(v).ok())
            .map(String::as_str)
    }

    /// The highest admitted version the vendor's `stable` pointer named at admission.
    pub fn stable(&self) -> Option<&str> {
        self.releases
            .iter()
            .filter(|(_, r)| r.stable)
            .map(|(v, _)| v)
            .max_by_key(|v| crate::ledger::Version::new(v).ok())
            .map(String::as_str)
    }
}

/// What admitting one native binary writes.
#[derive(Debug)]
pub struct NativeAdmission<'a> {
    /// Vendor (`claude-code`).
    pub vendor: &'a str,
    /// Version.
    pub version: &'a str,
    /// Platform.
    pub platform: &'a str,
    /// File name of the binary.
    pub binary: &'a str,
    /// The verified binary.
    pub binary_path: &'a Path,
    /// Its digests.
    pub binary_digests: &'a Digests,
    /// Manifest bytes.
    pub manifest: &'a [u8],
    /// Signature bytes.
    pub signature: &'a [u8],
    /// Signer fingerprint.
    pub signer_fingerprint: &'a str,
    /// The vendor's `stable` pointer names this version.
    pub stable: bool,
    /// The admission record.
    pub record: &'a serde_json::Value,
    /// When.
    pub admitted_at: jiff::Timestamp,
}

/// Write one native admission into a local store: the blobs (binary, manifest, signature) and
/// the record first, the index last (see [`crate::store`]: until the index names a release,
/// nothing serves it). A manifest already recorded for the version must be the same bytes.
pub fn admit(store: &Store, a: &NativeAdmission<'_>) -> Result<Index, StoreError> {
    let root = store.root().to_path_buf();
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| StoreError::Io { path, source }
    };
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let _lock = crate::atomic::Lock::acquire(&root.join(".lock")).map_err(io(&root))?;
    let put_bytes = |bytes: &[u8]| -> Result<Digests, StoreError> {
        let d = Digests::of_reader(bytes).map_err(io(&root))?;
        let key = blob_key(&d.sha512);
        let path = root.join(&key);
        if !(path.exists() && store.check_blob(&key, &d.sha512).is_ok()) {
            crate::atomic::write(&path, bytes).map_err(io(&path))?;
            store.check_blob(&key, &d.sha512)?;
        }
        Ok(d)
    };
    // One version, one signed manifest: a second, different pair for the same version (the
    // vendor re-signed, or someone replays another pair) is not mixed into the record. Checked
    // before anything is written, so an existing record is never overwritten by a refused one.
    let manifest_digests = Digests::of_reader(a.manifest).map_err(io(&root))?;
    if let Some(recorded) = store
        .index()?
        .native
        .get(a.vendor)
        .and_then(|c| c.releases.get(a.version))
        && recorded.manifest != manifest_digests
    {
        return Err(StoreError::NativeManifestConflict {
            vendor: a.vendor.to_string(),
            version: a.version.to_string(),
            recorded: recorded.manifest.sha512.hex(),
            verified: manifest_digests.sha512.hex(),
        });
    }
    let manifest = put_bytes(a.manifest)?;
    let signature = put_bytes(a.signature)?;
    let key = blob_key(&a.binary_digests.sha512);
    let blob = root.join(&key);
    if !(blob.exists() && store.check_blob(&key, &a.binary_digests.sha512).is_ok()) {
        crate::atomic::copy(a.binary_path, &blob).map_err(io(&blob))?;
        // What landed is checked before the index can name it.
        store.check_blob(&key, &a.binary_digests.sha512)?;
    }
    let record_key = crate::store::record_key(&a.binary_digests.sha512);
    let record = serde_json::to_vec_pretty(a.record).map_err(|e| StoreError::Io {
        path: record_key.clone(),
        source: std::io::Error::other(e),
    })?;
    let record_path = root.join(&record_key);
    crate::atomic::write(&record_path, &record).map_err(io(&record_path))?;

    let mut index = store.index()?;
    let channel = index.native.entry(a.vendor.to_string()).or_default();
    channel.format = NATIVE_FORMAT;
    let entry = channel
        .releases
        .entry(a.version.to_string())
        .or_insert_with(|| NativeReleaseEntry {
            manifest: manifest.clone(),
            signature: signature.clone(),
            signer_fingerprint: a.signer_fingerprint.to_string(),
            platforms: BTreeMap::new(),
            stable: false,
        });
    // Re-checked on the index read under the lock (the check above read the same index).
    if entry.manifest != manifest {
        return Err(StoreError::NativeManifestConflict {
            vendor: a.vendor.to_string(),
            version: a.version.to_string(),
            recorded: entry.manifest.sha512.hex(),
            verified: manifest.sha512.hex(),
        });
    }
    entry.signature = signature;
    entry.signer_fingerprint = a.signer_fingerprint.to_string();
    entry.stable |= a.stable;
    entry.platforms.insert(
        a.platform.to_string(),
        NativeBinaryEntry {
            binary: a.binary.to_string(),
            digests: a.binary_digests.clone(),
            record: record_key,
            admitted_at: a.admitted_at,
        },
    );
    index.generation += 1;
    store.write_index(&index)?;
    Ok(index)
}
