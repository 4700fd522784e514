//! The ledger directory on disk: `audits.toml`, `manifests/<sha256>.json`, `imports/`, and the
//! `.lock` file that serializes writers. Every write is atomic (temp file, fsync, rename, fsync
//! of the directory).
use crate::content::ContentManifest;
use crate::digest::{self, Digest};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The ledger file inside the ledger directory.
pub const AUDITS_FILE: &str = "audits.toml";
/// Stored manifests, named by their own SHA-256.
pub const MANIFESTS_DIR: &str = "manifests";
/// Cached copies of imported ledgers fetched from a URL (`imports/<NAME>.toml`).
pub const IMPORTS_DIR: &str = "imports";
/// The lock file writers hold.
pub const LOCK_FILE: &str = ".lock";
/// Largest ledger or imported ledger file read.
pub const LEDGER_FILE_BYTES: u64 = 64 << 20;
/// Largest stored manifest read.
pub const MANIFEST_FILE_BYTES: u64 = 256 << 20;

/// A filesystem operation on the ledger failed.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct StoreError {
    /// What was being done ("write", "lock", ...).
    pub action: &'static str,
    /// The path.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

fn err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive lock on the ledger directory, released on drop.
pub struct LedgerLock {
    file: File,
}

impl LedgerLock {
    /// Block until this process holds the ledger's write lock.
    pub fn acquire(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(err("create directory", dir))?;
        let path = dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(err("open lock file", &path))?;
        file.lock().map_err(err("lock", &path))?;
        Ok(LedgerLock { file })
    }
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    crate::atomic::write(path, bytes).map_err(err("write", path))
}

/// The canonical JSON of a manifest (pretty, so that git diffs of stored manifests are
/// readable; serde's field order and BTreeMap key order make it deterministic), and its SHA-256.
pub fn canonical_manifest(m: &ContentManifest) -> Result<(Vec<u8>, Digest), serde_json::Error> {
    let mut bytes = serde_json::to_vec_pretty(m)?;
    bytes.push(b'\n');
    let d = digest::sha256(&bytes);
    Ok((bytes, d))
}

/// Path of a stored manifest.
pub fn manifest_path(dir: &Path, d: &Digest) -> PathBuf {
    dir.join(MANIFESTS_DIR).join(format!("{}.json", d.hex()))
}

/// Why a stored manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestLoadError {
    /// Missing or unreadable.
    #[error("cannot read stored manifest {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The bytes do not have the digest the file is named by.
    #[error("stored manifest {path} has been altered: expected {expected}, actual {actual}")]
    DigestMismatch {
        /// The file.
        path: PathBuf,
        /// Its name.
        expected: Digest,
        /// Its bytes' digest.
        actual: Digest,
    },
    /// Not a manifest.
    #[error("stored manifest {path} is not a content manifest: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Load a stored manifest and check that its bytes match its name.
pub fn load_manifest(dir: &Path, d: &Digest) -> Result<ContentManifest, ManifestLoadError> {
    let path = manifest_path(dir, d);
    let bytes = crate::limits::read_file_limited(&path, "stored manifest", MANIFEST_FILE_BYTES)
        .map_err(|e| ManifestLoadError::Read {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    let actual = digest::sha256(&bytes);
    if &actual != d {
        return Err(ManifestLoadError::DigestMismatch {
            path,
            expected: d.clone(),
            actual,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ManifestLoadError::Parse {
        path,
        reason: e.to_string(),
    })
}

/// Store a manifest (atomically; an existing file with the same name has the same bytes).
pub fn store_manifest(dir: &Path, m: &ContentManifest) -> Result<Digest, StoreError> {
    let (bytes, d) = canonical_manifest(m).map_err(|e| StoreError {
        action: "serialize manifest for",
        path: dir.join(MANIFESTS_DIR),
        source: std::io::Error::other(e),
    })?;
    let path = manifest_path(dir, &d);
    if !path.exists() {
        write_atomic(&path, &bytes)?;
    }
    Ok(d)
}
