//! The store on an object store (the `object_store` crate): S3 and S3-compatible services, so
//! that several `vetted serve` replicas share one store; in memory for tests.
//!
//! Same keys as the filesystem store. Admission writes blobs and records first, then the index
//! with a conditional put: `PutMode::Update` with the e-tag/version of the index it read, or
//! `PutMode::Create` when there was none. A writer that lost a race gets
//! [`StoreError::Conflict`] and nothing it wrote is named by the index. See `docs/store-s3.md`.
use super::backend::{BlobStream, StoreBackend, is_blob_key};
use super::{
    INDEX_FORMAT, Index, IndexedVersion, NewVersion, StoreError, admit_in, blob_key, parse_index,
    record_key, withdraw_in,
};
use crate::digest::Digests;
use crate::gate::Admission;
use axum::body::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt as _, StreamExt as _};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload, UpdateVersion};
use std::sync::Arc;

const INDEX_KEY: &str = "index.json";

/// Multipart upload part size (S3's minimum part is 5 MiB, all parts but the last).
pub const UPLOAD_PART_BYTES: usize = crate::limits::OBJECT_UPLOAD_PART_BYTES;
/// Parts uploaded at once; memory is about (this + 1) parts.
pub const UPLOAD_PARTS_IN_FLIGHT: usize = crate::limits::OBJECT_UPLOAD_PARTS_IN_FLIGHT;

/// A store held in an object store.
#[derive(Debug, Clone)]
pub struct ObjectBackend {
    inner: Arc<dyn ObjectStore>,
    label: String,
}

/// One version to admit into an object store: its bytes and what the index says about it.
#[derive(Debug, Clone)]
pub struct StagedVersion {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The artifact's bytes.
    pub bytes: Bytes,
    /// The admission record.
    pub record: serde_json::Value,
    /// The registry version document (without `dist`).
    pub metadata: serde_json::Value,
    /// When it was admitted.
    pub admitted_at: jiff::Timestamp,
    /// Registry publish time.
    pub published: Option<jiff::Timestamp>,
    /// The dist-tags upstream had on this version (`latest`, `next`, ...).
    pub dist_tags: Vec<String>,
}

fn backend_err(key: &str) -> impl FnOnce(object_store::Error) -> StoreError + '_ {
    move |e| StoreError::Backend {
        key: key.to_string(),
        message: e.to_string(),
    }
}

impl ObjectBackend {
    /// A store over any object store (keys are relative to it; wrap it in a
    /// `object_store::prefix::PrefixStore` for a prefix).
    pub fn new(inner: Arc<dyn ObjectStore>, label: impl Into<String>) -> Self {
        ObjectBackend {
            inner,
            label: label.into(),
        }
    }

    /// An empty store in memory (tests).
    pub fn in_memory() -> Self {
        Self::new(Arc::new(object_store::memory::InMemory::new()), "memory://")
    }

    /// `s3://bucket[/prefix]`, configured from the standard AWS environment variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, ...).
    /// Conditional puts use `If-Match`/`If-None-Match` (AWS S3, MinIO, R2 support them).
    pub fn from_s3_url(url: &str) -> Result<Self, StoreError> {
        let bad = |reason: &str| StoreError::BadLocation {
            location: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_conditional_put(object_store::aws::S3ConditionalPut::ETagMatch)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        let prefix = prefix.trim_matches('/');
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                s3,
                ObjectPath::from(prefix),
            ))
        };
        Ok(Self::new(inner, url))
    }

    /// The current index and the version to pass to [`ObjectBackend::commit_index`]
    /// (`None` when there is no index yet).
    pub async fn index_versioned(&self) -> Result<(Index, Option<UpdateVersion>), StoreError> {
        match self.inner.get(&ObjectPath::from(INDEX_KEY)).await {
            Ok(got) => {
                let version = UpdateVersion {
                    e_tag: got.meta.e_tag.clone(),
                    version: got.meta.version.clone(),
                };
                let bytes = got.bytes().await.map_err(backend_err(INDEX_KEY))?;
                let label = format!("{}/{INDEX_KEY}", self.label);
                Ok((parse_index(&label, &bytes)?, Some(version)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok((
                Index {
                    format: INDEX_FORMAT,
                    ..Index::default()
                },
                None,
            )),
            Err(e) => Err(backend_err(INDEX_KEY)(e)),
        }
    }

    /// Write `index` only if the stored index is still the one read with `previous` (or, for
    /// `None`, only if there is still no index). A lost race is [`StoreError::Conflict`].
    pub async fn commit_index(
        &self,
        index: &Index,
        previous: Option<UpdateVersion>,
    ) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| StoreError::Backend {
            key: INDEX_KEY.into(),
            message: e.to_string(),
        })?;
        let mode = match previous {
            Some(v) => PutMode::Update(v),
            None => PutMode::Create,
        };
        let result = self
            .inner
            .put_opts(
                &ObjectPath::from(INDEX_KEY),
                PutPayload::from(bytes),
                PutOptions::from(mode),
            )
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(object_store::Error::Precondition { .. })
            | Err(object_store::Error::AlreadyExists { .. }) => {
                let (current, _) = self.index_versioned().await?;
                Err(StoreError::Conflict {
                    expected: index.generation.saturating_sub(1),
                    actual: current.generation,
                })
            }
            Err(e) => Err(backend_err(INDEX_KEY)(e)),
        }
    }

    async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.inner
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(backend_err(key))
    }

    /// Admit versions, all or nothing: blobs and records first (content-addressed, so a
    /// rewrite is harmless), then the index, conditionally on the index read before.
    pub async fn admit_staged(&self, staged: &[StagedVersion]) -> Result<Index, StoreError> {
        let (mut index, previous) = self.index_versioned().await?;
        let mut entries = Vec::with_capacity(staged.len());
        for s in staged {
            let digests = Digests::of(&s.bytes);
            let key = blob_key(&digests.sha512);
            self.put(&key, s.bytes.clone()).await?;
            let record = record_key(&digests.sha512);
            let record_bytes =
                serde_json::to_vec_pretty(&s.record).map_err(|e| StoreError::Backend {
                    key: record.clone(),
                    message: e.to_string(),
                })?;
            self.put(&record, Bytes::from(record_bytes)).await?;
            entries.push(NewVersion {
                name: s.name.clone(),
                version: s.version.clone(),
                entry: IndexedVersion {
                    digests,
                    record,
                    admitted_at: s.admitted_at,
                    metadata: s.metadata.clone(),
                    published: s.published,
                },
                dist_tags: s.dist_tags.clone(),
            });
        }
        admit_in(&mut index, entries);
        self.commit_index(&index, previous).await?;
        Ok(index)
    }

    /// Admit gate admissions (the same contract as [`super::Store::admit`]). Each artifact is
    /// streamed from its file into the store (multipart upload in parts of
    /// [`UPLOAD_PART_BYTES`], at most [`UPLOAD_PARTS_IN_FLIGHT`] at once), hashed on the way,
    /// and the upload is completed only when its digest is the admission's: memory stays a few
    /// parts whatever the artifact's size, and a mismatch leaves no object behind.
    pub async fn admit(&self, admissions: &[Admission]) -> Result<Index, StoreError> {
        let (mut index, previous) = self.index_versioned().await?;
        let mut entries = Vec::with_capacity(admissions.len());
        for a in admissions {
            let digests = self.upload_blob(a.artifact_path(), a.digests()).await?;
            let record = record_key(&digests.sha512);
            let record_bytes =
                serde_json::to_vec_pretty(a.record()).map_err(|e| StoreError::Backend {
                    key: record.clone(),
                    message: e.to_string(),
                })?;
            self.put(&record, Bytes::from(record_bytes)).await?;
            let mut v = NewVersion::of(a);
            v.entry.digests = digests;
            v.entry.record = record;
            entries.push(v);
        }
        admit_in(&mut index, entries);
        self.commit_index(&index, previous).await?;
        Ok(index)
    }

    /// Whether there is a store here: an index that parses. An empty bucket or prefix is not
    /// a store (a typo in `--store s3://...` must not look like a store with nothing in it).
    pub async fn check_is_store(&self) -> Result<(), StoreError> {
        match self.index_versioned().await? {
            (_, Some(_)) => Ok(()),
            (_, None) => Err(StoreError::BadLocation {
                location: self.label.clone(),
                reason: format!(
                    "not a vetted store (no {INDEX_KEY}; `vetted admit --store {}` creates one)",
                    self.label
                ),
            }),
        }
    }

    /// Withdraw versions from the served index (see [`super::Store::withdraw`]): the index is
    /// read, changed and written back conditionally on the e-tag read. A concurrent writer
    /// makes the write fail; then the withdrawal is applied again to the index that won, up
    /// to [`crate::limits::OBJECT_INDEX_WRITE_ATTEMPTS`] times (withdrawing is idempotent, and
    /// a concurrent admission must not undo it). Blobs and records are kept.
    pub async fn withdraw(
        &self,
        targets: &[(String, String)],
        why: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let attempts = crate::limits::OBJECT_INDEX_WRITE_ATTEMPTS;
        let mut attempt = 1;
        loop {
            let (mut index, previous) = self.index_versioned().await?;
            let done = withdraw_in(&mut index, targets, why, now);
            if done.is_empty() {
                return Ok(done);
            }
            index.generation += 1;
            match self.commit_index(&index, previous).await {
                Ok(()) => return Ok(done),
                Err(StoreError::Conflict { .. }) if attempt < attempts => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Stream the file at `path` to `blobs/sha512/<expected>`, checking it is those bytes.
    pub async fn upload_blob(
        &self,
        path: &std::path::Path,
        expected: &Digests,
    ) -> Result<Digests, StoreError> {
        use tokio::io::AsyncReadExt as _;
        let io = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let key = blob_key(&expected.sha512);
        let mut file = tokio::fs::File::open(path).await.map_err(io)?;
        let len = file.metadata().await.map_err(io)?.len();
        let mismatch = |actual: &Digests| StoreError::CorruptBlob {
            key: path.display().to_string(),
            expected: expected.sha512.to_string(),
            actual: actual.sha512.to_string(),
        };
        if len <= UPLOAD_PART_BYTES as u64 {
            // One part: a single PUT of bytes already in memory (at most one part).
            let mut buf = Vec::with_capacity(len as usize);
            (&mut file)
                .take(UPLOAD_PART_BYTES as u64 + 1)
                .read_to_end(&mut buf)
                .await
                .map_err(io)?;
            let actual = Digests::of(&buf);
            if actual.sha512 != expected.sha512 {
                return Err(mismatch(&actual));
            }
            self.put(&key, Bytes::from(buf)).await?;
            return Ok(actual);
        }
        let upload = self
            .inner
            .put_multipart(&ObjectPath::from(key.as_str()))
            .await
            .map_err(backend_err(&key))?;
        let mut writer =
            object_store::WriteMultipart::new_with_chunk_size(upload, UPLOAD_PART_BYTES);
        let mut hasher = crate::digest::MultiHasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let result: Result<(), StoreError> = async {
            loop {
                let n = file.read(&mut buf).await.map_err(io)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                writer
                    .wait_for_capacity(UPLOAD_PARTS_IN_FLIGHT)
                    .await
                    .map_err(backend_err(&key))?;
                writer.write(&buf[..n]);
            }
            Ok(())
        }
        .await;
        let actual = hasher.finish();
        if let Err(e) = result {
            let _ = writer.abort().await;
            return Err(e);
        }
        if actual.sha512 != expected.sha512 {
            // Never completed: the object store discards the parts.
            let _ = writer.abort().await;
            return Err(mismatch(&actual));
        }
        writer.finish().await.map_err(backend_err(&key))?;
        Ok(actual)
    }

    /// Replace an object's bytes without touching the index (tests: a blob altered at rest).
    pub async fn overwrite_raw(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        self.put(key, bytes).await
    }
}

impl StoreBackend for ObjectBackend {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn read_index(&self) -> BoxFuture<'_, Result<Index, StoreError>> {
        async move { self.index_versioned().await.map(|(i, _)| i) }.boxed()
    }

    fn read_blob(&self, key: &str) -> BoxFuture<'_, Result<BlobStream, StoreError>> {
        let key = key.to_string();
        async move {
            if !is_blob_key(&key) {
                return Err(StoreError::BadLocation {
                    location: key,
                    reason: "not a blob key".into(),
                });
            }
            let got = self
                .inner
                .get(&ObjectPath::from(key.as_str()))
                .await
                .map_err(backend_err(&key))?;
            let stream = got.into_stream().map(move |r| {
                r.map_err(|e| StoreError::Backend {
                    key: key.clone(),
                    message: e.to_string(),
                })
            });
            Ok(stream.boxed())
        }
        .boxed()
    }

    fn blob_identity(&self, key: &str) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        let key = key.to_string();
        async move {
            if !is_blob_key(&key) {
                return Ok(None);
            }
            let meta = self
                .inner
                .head(&ObjectPath::from(key.as_str()))
                .await
                .map_err(backend_err(&key))?;
            // Without an e-tag nothing tells one upload of the key from the next: not cached.
            Ok(meta.e_tag.map(|tag| {
                format!(
                    "etag={tag} version={} size={} modified={}",
                    meta.version.unwrap_or_default(),
                    meta.size,
                    meta.last_modified.timestamp_nanos_opt().unwrap_or_default()
                )
            }))
        }
        .boxed()
    }
}
