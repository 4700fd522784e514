//! The store's records of admitted release assets (`admit https://… --bundle …`; format:
//! docs/release-assets.md). This module owns the format; the index carries it as
//! `assets.<name>.<version>` so that one atomic index write admits an asset as it does an npm
//! version. The asset and its Sigstore bundle are content-addressed blobs; the asset's
//! admission record is `records/<sha512hex>.json`.
use crate::digest::Digests;
use crate::store::{Store, StoreError, blob_key};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of this entry format.
pub const ASSET_FORMAT: u32 = 1;

/// One admitted release asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetEntry {
    /// Entry format ([`ASSET_FORMAT`]).
    pub format: u32,
    /// Where it was fetched from.
    pub url: String,
    /// The asset's digests (sha512 is the blob address).
    pub digests: Digests,
    /// The Sigstore bundle's digests (also a blob, byte for byte as verified).
    pub bundle: Digests,
    /// The certificate identity the bundle verified for.
    pub identity: String,
    /// The admission record's key.
    pub record: String,
    /// When it was admitted.
    pub admitted_at: jiff::Timestamp,
}

/// What admitting one release asset writes.
#[derive(Debug)]
pub struct AssetAdmission<'a> {
    /// Name (the policy and ledger name).
    pub name: &'a str,
    /// Version.
    pub version: &'a str,
    /// Source URL.
    pub url: &'a str,
    /// The verified asset on disk.
    pub path: &'a Path,
    /// Its digests.
    pub digests: &'a Digests,
    /// The bundle bytes.
    pub bundle: &'a [u8],
    /// The verified identity.
    pub identity: &'a str,
    /// The admission record.
    pub record: &'a serde_json::Value,
    /// When.
    pub admitted_at: jiff::Timestamp,
}

/// Write one asset admission into a local store: blobs and record first, the index last. A
/// version already admitted with other bytes is refused (one name and version, one asset).
pub fn admit(store: &Store, a: &AssetAdmission<'_>) -> Result<(), StoreError> {
    let root = store.root().to_path_buf();
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| StoreError::Io { path, source }
    };
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let _lock = crate::atomic::Lock::acquire(&root.join(".lock")).map_err(io(&root))?;
    let mut index = store.index()?;
    if let Some(recorded) = index.assets.get(a.name).and_then(|v| v.get(a.version))
        && recorded.digests != *a.digests
    {
        return Err(StoreError::Io {
            path: root.join("index.json").display().to_string(),
            source: std::io::Error::other(format!(
                "release asset {}@{} is already admitted with sha512 {}; refusing other bytes (sha512 {})",
                a.name,
                a.version,
                recorded.digests.sha512.hex(),
                a.digests.sha512.hex()
            )),
        });
    }
    let bundle = Digests::of_reader(a.bundle).map_err(io(&root))?;
    let bundle_key = blob_key(&bundle.sha512);
    let bundle_path = root.join(&bundle_key);
    if !(bundle_path.exists() && store.check_blob(&bundle_key, &bundle.sha512).is_ok()) {
        crate::atomic::write(&bundle_path, a.bundle).map_err(io(&bundle_path))?;
        store.check_blob(&bundle_key, &bundle.sha512)?;
    }
    let key = blob_key(&a.digests.sha512);
    let blob = root.join(&key);
    if !(blob.exists() && store.check_blob(&key, &a.digests.sha512).is_ok()) {
        crate::atomic::copy(a.path, &blob).map_err(io(&blob))?;
        // What landed is checked before the index can name it.
        store.check_blob(&key, &a.digests.sha512)?;
    }
    let record_key = crate::store::record_key(&a.digests.sha512);
    let record = serde_json::to_vec_pretty(a.record).map_err(|e| StoreError::Io {
        path: record_key.clone(),
        source: std::io::Error::other(e),
    })?;
    let record_path = root.join(&record_key);
    crate::atomic::write(&record_path, &record).map_err(io(&record_path))?;
    index.assets.entry(a.name.to_string()).or_default().insert(
        a.version.to_string(),
        AssetEntry {
            format: ASSET_FORMAT,
            url: a.url.to_string(),
            digests: a.digests.clone(),
            bundle,
            identity: a.identity.to_string(),
            record: record_key,
            admitted_at: a.admitted_at,
        },
    );
    index.generation += 1;
    store.write_index(&index)?;
    Ok(())
}
