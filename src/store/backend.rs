//! The store behind a trait, for readers (`vetted serve`): the local filesystem ([`Store`]) or
//! an object store ([`ObjectBackend`]: S3 and compatible, or in memory for tests). Both hold the
//! same keys (`index.json`, `blobs/sha512/<hex>`, `records/<hex>.json`).
use super::{Index, ObjectBackend, Store, StoreError};
use axum::body::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt as _, StreamExt as _};
use std::path::Path;
use std::sync::Arc;

/// The bytes of a blob, in chunks, as the backend reads them.
pub type BlobStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// Read access to a store, shared by concurrent requests.
pub trait StoreBackend: Send + Sync + std::fmt::Debug {
    /// Where the store is, for log lines (`/srv/store`, `s3://bucket/prefix`).
    fn describe(&self) -> String;
    /// The current index (empty when there is none yet).
    fn read_index(&self) -> BoxFuture<'_, Result<Index, StoreError>>;
    /// Stream a blob (`blobs/sha512/<hex>`). The caller checks the bytes against the index.
    fn read_blob(&self, key: &str) -> BoxFuture<'_, Result<BlobStream, StoreError>>;
    /// What identifies this blob's current bytes without reading them (file: device, inode,
    /// size, mtime, ctime; object: e-tag, size, last-modified), so `serve` can remember that
    /// it verified them. `None`: do not remember (unknown, or changed too recently to tell).
    fn blob_identity(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        let _ = key;
        async { Ok(None) }.boxed()
    }
}

/// A file modified less than this long before it was verified is not remembered as verified:
/// timestamps have coarse granularity, so a write in the same tick after the check would leave
/// the identity unchanged (git's "racy git" problem, solved the same way).
const RACY_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

#[cfg(unix)]
fn file_identity(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let modified = meta.modified().ok()?;
    let age = std::time::SystemTime::now().duration_since(modified).ok()?;
    let changed = std::time::UNIX_EPOCH + std::time::Duration::new(meta.ctime().max(0) as u64, 0);
    let changed_age = std::time::SystemTime::now()
        .duration_since(changed)
        .unwrap_or_default();
    if age < RACY_WINDOW || changed_age < RACY_WINDOW {
        return None;
    }
    Some(format!(
        "dev={} ino={} size={} mtime={}.{} ctime={}.{}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    ))
}

#[cfg(not(unix))]
fn file_identity(_meta: &std::fs::Metadata) -> Option<String> {
    None
}

/// Whether a key is a well-formed blob key (so a key never names another file).
pub(crate) fn is_blob_key(key: &str) -> bool {
    key.strip_prefix("blobs/sha512/").is_some_and(|hex| {
        hex.len() == 128
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

const CHUNK: usize = 256 * 1024;

impl StoreBackend for Store {
    fn describe(&self) -> String {
        self.root().display().to_string()
    }

    fn read_index(&self) -> BoxFuture<'_, Result<Index, StoreError>> {
        let store = self.clone();
        async move {
            tokio::task::spawn_blocking(move || store.index())
                .await
                .map_err(|e| StoreError::Io {
                    path: "index.json".into(),
                    source: std::io::Error::other(e),
                })?
        }
        .boxed()
    }

    fn read_blob(&self, key: &str) -> BoxFuture<'_, Result<BlobStream, StoreError>> {
        let key = key.to_string();
        let path = self.root().join(&key);
        async move {
            if !is_blob_key(&key) {
                return Err(StoreError::BadLocation {
                    location: key,
                    reason: "not a blob key".into(),
                });
            }
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|source| StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            let label = path.display().to_string();
            let stream = futures_util::stream::unfold(Some(file), move |file| {
                let label = label.clone();
                async move {
                    use tokio::io::AsyncReadExt as _;
                    let mut file = file?;
                    let mut buf = vec![0u8; CHUNK];
                    match file.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(Bytes::from(buf)), Some(file)))
                        }
                        Err(source) => Some((
                            Err(StoreError::Io {
                                path: label,
                                source,
                            }),
                            None,
                        )),
                    }
                }
            });
            Ok(stream.boxed())
        }
        .boxed()
    }

    fn blob_identity(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        let path = self.root().join(key);
        let ok = is_blob_key(key);
        async move {
            if !ok {
                return Ok(None);
            }
            let meta = tokio::fs::metadata(&path)
                .await
                .map_err(|source| StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            Ok(file_identity(&meta))
        }
        .boxed()
    }
}

/// Open the store a `--store` argument names: `s3://bucket[/prefix]` (credentials and region
/// from the standard AWS environment variables), `memory://` (an empty in-memory store, for
/// tests), or a local directory.
pub fn open_backend(location: &str) -> Result<Arc<dyn StoreBackend>, StoreError> {
    if location.starts_with("s3://") {
        Ok(Arc::new(ObjectBackend::from_s3_url(location)?))
    } else if location == "memory://" {
        Ok(Arc::new(ObjectBackend::in_memory()))
    } else if location.contains("://") {
        Err(StoreError::BadLocation {
            location: location.to_string(),
            reason: "expected a directory, s3://bucket/prefix or memory://".into(),
        })
    } else {
        Ok(Arc::new(Store::open(Path::new(location))))
    }
}
