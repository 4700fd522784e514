//! The content-addressed store of admitted artifacts.
//!
//! Layout (local filesystem backend):
//!
//! ```text
//! STORE/blobs/sha512/<hex>          the admitted bytes, named by their sha512
//! STORE/records/<sha512hex>.json    one admission record per artifact (checks, evidence, ledger entries, VSA)
//! STORE/index.json                  every admitted version of every package, with registry metadata
//! STORE/.lock                       serialises writers
//! ```
//!
//! Atomicity: blobs and records are written first (temp file, fsync, rename), the index last, in
//! one rename. Until the index names a version, nothing serves it; so a crash at any point leaves
//! the previous index, which only names blobs that were complete before it was written. Blobs
//! without an index entry are garbage, never served.
use crate::digest::{Algorithm, Digest, Digests};
use crate::gate::Admission;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod asset;
mod backend;
mod object;
pub use backend::{BlobStream, StoreBackend, open_backend};
pub use object::{ObjectBackend, StagedVersion};

/// Version of the index format.
pub const INDEX_FORMAT: u32 = 1;

/// The store index: every admitted version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Format version.
    pub format: u32,
    /// Increases by one with every admission (lets replicas and conditional writes detect races).
    pub generation: u64,
    /// Package name -> admitted versions.
    pub packages: BTreeMap<String, PackageIndex>,
    /// Package name -> version -> a version withdrawn after admission (revoked in the ledger).
    /// Its blob and record are kept for forensics; nothing serves it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub withdrawn: BTreeMap<String, BTreeMap<String, Withdrawn>>,
    /// Vendor -> admitted native-channel releases (format owned by [`crate::vendor::release`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub native: BTreeMap<String, crate::vendor::release::NativeChannel>,
    /// Name -> version -> an admitted release asset (format owned by [`asset`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub assets: BTreeMap<String, BTreeMap<String, asset::AssetEntry>>,
}

/// A version taken out of the served index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withdrawn {
    /// The index entry it had.
    pub entry: IndexedVersion,
    /// When it was withdrawn.
    pub withdrawn_at: jiff::Timestamp,
    /// Why (the violation's notes, or the text given to `vetted revoke`).
    pub why: String,
}

/// The admitted versions of one package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PackageIndex {
    /// Version -> entry.
    pub versions: BTreeMap<String, IndexedVersion>,
    /// Dist-tag -> version: the tags upstream had for the versions admitted, as they were when
    /// each was admitted (a tag names a version only if upstream's tag named it). `None` in an
    /// index written before tags were recorded: then `latest` is the highest release admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// One admitted version: what the registry protocol needs, and where the evidence is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedVersion {
    /// The artifact's digests (sha512 is the blob address and the npm integrity).
    pub digests: Digests,
    /// The admission record's key (`records/<sha512hex>.json`).
    pub record: String,
    /// When it was admitted.
    pub admitted_at: jiff::Timestamp,
    /// The registry version document (whitelisted fields: name, version, dependencies, bin, os,
    /// cpu, engines, ...), without `dist`, which the server writes from `digests`.
    pub metadata: serde_json::Value,
    /// Registry publish time, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<jiff::Timestamp>,
}

impl IndexedVersion {
    /// The blob key of this version.
    pub fn blob_key(&self) -> String {
        blob_key(&self.digests.sha512)
    }
}

/// The blob key for a sha512 digest.
pub fn blob_key(sha512: &Digest) -> String {
    format!("blobs/sha512/{}", sha512.hex())
}

/// What went wrong in the store (always operational: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// I/O on a store path.
    #[error("store {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The index is not valid JSON of the expected format.
    #[error("store index {path} is corrupt: {message}")]
    CorruptIndex {
        /// Path.
        path: String,
        /// Why.
        message: String,
    },
    /// A blob's bytes do not match its name.
    #[error("store blob {key} is corrupt: expected {expected}, found {actual}")]
    CorruptBlob {
        /// Key.
        key: String,
        /// The digest it is named by.
        expected: String,
        /// What its bytes hash to.
        actual: String,
    },
    /// An object-store operation failed (S3 and compatible backends).
    #[error("object store {key}: {message}")]
    Backend {
        /// The object key.
        key: String,
        /// The backend's error.
        message: String,
    },
    /// A `--store` argument that names no backend vetted knows.
    #[error("store location {location:?} is not usable: {reason}")]
    BadLocation {
        /// What was given.
        location: String,
        /// Why.
        reason: String,
    },
    /// A native release is recorded with another signed manifest than the one just verified
    /// (see [`crate::vendor::release`]: one version, one signed manifest).
    #[error(
        "native release {vendor} {version} is recorded with manifest sha512 {recorded}, this admission verified {verified}: one version, one signed manifest (withdraw the old release first)"
    )]
    NativeManifestConflict {
        /// Vendor.
        vendor: String,
        /// Version.
        version: String,
        /// The recorded manifest's sha512 (hex).
        recorded: String,
        /// The verified manifest's sha512 (hex).
        verified: String,
    },
    /// The index changed under us (a concurrent writer on a backend without locks).
    #[error("store index changed during admission: expected generation {expected}, found {actual}")]
    Conflict {
        /// Generation we read.
        expected: u64,
        /// Generation found.
        actual: u64,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A store on the local filesystem.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// A store rooted at `root` (created on first admission).
    pub fn open(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The current index (empty when the store is new).
    pub fn index(&self) -> Result<Index, StoreError> {
        let path = self.path("index.json");
        match std::fs::read(&path) {
            Ok(bytes) => parse_index(&path.display().to_string(), &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index {
                format: INDEX_FORMAT,
                ..Index::default()
            }),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Open a blob for reading (the caller re-hashes while streaming).
    pub fn open_blob(&self, key: &str) -> Result<std::fs::File, StoreError> {
        let path = self.path(key);
        std::fs::File::open(&path).map_err(io_err(&path))
    }

    /// Read an admission record.
    pub fn record(&self, key: &str) -> Result<serde_json::Value, StoreError> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).map_err(io_err(&path))?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::CorruptIndex {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Check a stored blob against its name, streaming.
    pub fn check_blob(&self, key: &str, expected: &Digest) -> Result<(), StoreError> {
        let path = self.path(key);
        let file = std::fs::File::open(&path).map_err(io_err(&path))?;
        let digests = Digests::of_reader(file).map_err(io_err(&path))?;
        if digests.get(expected.algorithm()) != expected {
            return Err(StoreError::CorruptBlob {
                key: key.to_string(),
                expected: expected.to_string(),
                actual: digests.get(expected.algorithm()).to_string(),
            });
        }
        Ok(())
    }

    /// Admit every artifact of a closure, all or nothing. Blobs and records first, index last.
    pub fn admit(&self, admissions: &[Admission]) -> Result<Index, StoreError> {
        std::fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let _lock =
            crate::atomic::Lock::acquire(&self.path(".lock")).map_err(io_err(&self.root))?;
        for a in admissions {
            let key = blob_key(&a.digests().sha512);
            let blob = self.path(&key);
            // An existing blob is re-checked rather than trusted: a corrupt one is replaced.
            let present = blob.exists() && self.check_blob(&key, &a.digests().sha512).is_ok();
            if !present {
                // Copy, then check what landed before it can be named by the index.
                crate::atomic::copy(a.artifact_path(), &blob).map_err(io_err(&blob))?;
                self.check_blob(&key, &a.digests().sha512)?;
            }
            let record_key = record_key(&a.digests().sha512);
            let record = serde_json::to_vec_pretty(a.record()).map_err(|e| StoreError::Io {
                path: record_key.clone(),
                source: std::io::Error::other(e),
            })?;
            let path = self.path(&record_key);
            crate::atomic::write(&path, &record).map_err(io_err(&path))?;
        }
        let mut index = self.index()?;
        admit_in(&mut index, admissions.iter().map(NewVersion::of));
        self.write_index(&index)?;
        Ok(index)
    }

    pub(crate) fn write_index(&self, index: &Index) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| StoreError::Io {
            path: "index.json".into(),
            source: std::io::Error::other(e),
        })?;
        let path = self.path("index.json");
        crate::atomic::write(&path, &bytes).map_err(io_err(&path))
    }

    /// Whether `root` holds a store: a directory with an `index.json` that parses, or an empty
    /// directory (a store nothing was admitted into yet is refused too: `serve` of a path that
    /// is not a store is a configuration error, not an empty registry).
    pub fn check_is_store(&self) -> Result<(), StoreError> {
        let bad = |reason: &str| StoreError::BadLocation {
            location: self.root.display().to_string(),
            reason: reason.to_string(),
        };
        match std::fs::metadata(&self.root) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad("no such directory"));
            }
            Err(e) => return Err(io_err(&self.root)(e)),
            Ok(m) if !m.is_dir() => return Err(bad("not a directory")),
            Ok(_) => {}
        }
        if !self.path("index.json").is_file() {
            return Err(bad(
                "not a vetted store (no index.json; `vetted admit --store DIR` creates one)",
            ));
        }
        self.index().map(|_| ())
    }

    /// Withdraw versions from the served index, in one atomic index write: each named version
    /// moves to `withdrawn` (blob and record stay, for forensics). Versions not in the index
    /// are skipped. Returns the versions withdrawn now.
    pub fn withdraw(
        &self,
        targets: &[(String, String)],
        why: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let _lock =
            crate::atomic::Lock::acquire(&self.path(".lock")).map_err(io_err(&self.root))?;
        let mut index = self.index()?;
        let done = withdraw_in(&mut index, targets, why, now);
        if !done.is_empty() {
            index.generation += 1;
            self.write_index(&index)?;
        }
        Ok(done)
    }

    /// Check the whole store: the index parses and every blob it names exists and matches.
    pub fn verify(&self) -> Result<usize, StoreError> {
        let index = self.index()?;
        let mut n = 0;
        for pkg in index.packages.values() {
            for v in pkg.versions.values() {
                self.check_blob(&v.blob_key(), &v.digests.sha512)?;
                self.record(&v.record)?;
                n += 1;
            }
        }
        // Native releases: the signed pair and every admitted binary.
        for channel in index.native.values() {
            for rel in channel.releases.values() {
                self.check_blob(&blob_key(&rel.manifest.sha512), &rel.manifest.sha512)?;
                self.check_blob(&blob_key(&rel.signature.sha512), &rel.signature.sha512)?;
                for p in rel.platforms.values() {
                    self.check_blob(&blob_key(&p.digests.sha512), &p.digests.sha512)?;
                    self.record(&p.record)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// One version to name in the index: where it is, and the upstream dist-tags it had.
#[derive(Debug, Clone)]
pub(crate) struct NewVersion {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) entry: IndexedVersion,
    pub(crate) dist_tags: Vec<String>,
}

impl NewVersion {
    fn of(a: &Admission) -> NewVersion {
        NewVersion {
            name: a.name().to_string(),
            version: a.version().to_string(),
            entry: IndexedVersion {
                digests: a.digests().clone(),
                record: record_key(&a.digests().sha512),
                admitted_at: a.admitted_at(),
                metadata: a.registry_metadata().clone(),
                published: a.published(),
            },
            dist_tags: a.dist_tags().to_vec(),
        }
    }
}

/// Name `versions` in `index` (one generation more): each version with the dist-tags upstream
/// gave it, and back in service if it had been withdrawn (admitted again: the ledger allows it
/// now). The one index update of every backend, so a local and an S3 store agree.
pub(crate) fn admit_in(index: &mut Index, versions: impl IntoIterator<Item = NewVersion>) {
    index.generation += 1;
    for v in versions {
        let pkg = index.packages.entry(v.name.clone()).or_default();
        let tags = pkg.tags.get_or_insert_with(BTreeMap::new);
        for t in &v.dist_tags {
            tags.insert(t.clone(), v.version.clone());
        }
        pkg.versions.insert(v.version.clone(), v.entry);
        if let Some(w) = index.withdrawn.get_mut(&v.name) {
            w.remove(&v.version);
        }
        index.withdrawn.retain(|_, w| !w.is_empty());
    }
}

/// Move `targets` (name, version) from `packages` to `withdrawn` in `index`; a dist-tag that
/// named a withdrawn version is dropped. Returns what moved.
pub fn withdraw_in(
    index: &mut Index,
    targets: &[(String, String)],
    why: &str,
    now: jiff::Timestamp,
) -> Vec<(String, String)> {
    let mut done = Vec::new();
    for (name, version) in targets {
        let Some(pkg) = index.packages.get_mut(name) else {
            continue;
        };
        let Some(entry) = pkg.versions.remove(version) else {
            continue;
        };
        if let Some(tags) = pkg.tags.as_mut() {
            tags.retain(|_, v| v != version);
        }
        if pkg.versions.is_empty() {
            index.packages.remove(name);
        }
        index.withdrawn.entry(name.clone()).or_default().insert(
            version.clone(),
            Withdrawn {
                entry,
                withdrawn_at: now,
                why: why.to_string(),
            },
        );
        done.push((name.clone(), version.clone()));
    }
    done
}

/// Parse index bytes read from `label` (a path or an object key), checking the format version.
pub fn parse_index(label: &str, bytes: &[u8]) -> Result<Index, StoreError> {
    let i = serde_json::from_slice::<Index>(bytes).map_err(|e| StoreError::CorruptIndex {
        path: label.to_string(),
        message: e.to_string(),
    })?;
    if i.format != INDEX_FORMAT {
        return Err(StoreError::CorruptIndex {
            path: label.to_string(),
            message: format!("format: expected {INDEX_FORMAT}, got {}", i.format),
        });
    }
    Ok(i)
}

/// The record key for an artifact.
pub fn record_key(sha512: &Digest) -> String {
    debug_assert_eq!(sha512.algorithm(), Algorithm::Sha512);
    format!("records/{}.json", sha512.hex())
}

/// Where `vetted admit` writes: a local directory, or an object store shared by several `serve`
/// replicas (`s3://bucket/prefix`; blobs and records first, then the index with a conditional
/// write, see docs/store-s3.md).
#[derive(Debug)]
pub enum AdmitTarget {
    /// A directory on the local filesystem.
    Local(Store),
    /// An S3-compatible object store.
    Object(ObjectBackend),
}

impl AdmitTarget {
    /// Open a `--store` location: `s3://bucket[/prefix]` or a directory.
    pub fn open(location: &str) -> Result<AdmitTarget, StoreError> {
        if location.starts_with("s3://") {
            Ok(AdmitTarget::Object(ObjectBackend::from_s3_url(location)?))
        } else if location.contains("://") {
            Err(StoreError::BadLocation {
                location: location.to_string(),
                reason: "admit writes to a directory or s3://bucket/prefix".into(),
            })
        } else {
            Ok(AdmitTarget::Local(Store::open(Path::new(location))))
        }
    }

    /// Admit every artifact of a closure, all or nothing (see [`Store::admit`]).
    pub fn admit(&self, admissions: &[Admission]) -> Result<Index, StoreError> {
        match self {
            AdmitTarget::Local(store) => store.admit(admissions),
            AdmitTarget::Object(backend) => block_on(backend.admit(admissions)),
        }
    }

    /// The current index (empty when nothing was admitted yet).
    pub fn index(&self) -> Result<Index, StoreError> {
        match self {
            AdmitTarget::Local(store) => store.index(),
            AdmitTarget::Object(backend) => {
                block_on(async { Ok(backend.index_versioned().await?.0) })
            }
        }
    }

    /// Whether a store exists here (`revoke` refuses to "withdraw" from a store that is not one).
    pub fn check_is_store(&self) -> Result<(), StoreError> {
        match self {
            AdmitTarget::Local(store) => store.check_is_store(),
            AdmitTarget::Object(backend) => block_on(backend.check_is_store()),
        }
    }

    /// Withdraw versions from the served index in one atomic index write (a rename locally, a
    /// conditional put on an object store); see [`Store::withdraw`].
    pub fn withdraw(
        &self,
        targets: &[(String, String)],
        why: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<(String, String)>, StoreError> {
        match self {
            AdmitTarget::Local(store) => store.withdraw(targets, why, now),
            AdmitTarget::Object(backend) => block_on(backend.withdraw(targets, why, now)),
        }
    }

    /// Where it is, for messages.
    pub fn describe(&self) -> String {
        match self {
            AdmitTarget::Local(store) => store.root().display().to_string(),
            AdmitTarget::Object(backend) => StoreBackend::describe(backend),
        }
    }
}

/// Run an object-store operation from synchronous code (admit and revoke are not async).
fn block_on<T>(
    fut: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Io {
            path: "(runtime)".into(),
            source: e,
        })?;
    rt.block_on(fut)
}
