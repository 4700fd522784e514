//! The object-store backend (the `object_store` crate's InMemory store, through the same
//! `StoreBackend` trait `vetted serve` uses for S3): serving, re-hashing, and the conditional
//! index write that rejects a stale generation.
mod serve_support;

use serde_json::json;
use serve_support::{http_get, json_of, npm_tarball};
use std::sync::Arc;
use vetted::digest::Digests;
use vetted::serve::Config;
use vetted::store::{ObjectBackend, StagedVersion, StoreBackend, StoreError, blob_key};

fn staged(name: &str, version: &str) -> StagedVersion {
    let body = format!("module.exports = {:?};\n", format!("{name}@{version}"));
    StagedVersion {
        name: name.into(),
        version: version.into(),
        bytes: npm_tarball(name, version, json!({}), &[("index.js", body.as_bytes())]).into(),
        record: json!({"test": true}),
        metadata: json!({"name": name, "version": version}),
        admitted_at: "2026-11-01T00:00:00Z".parse().expect("ts"),
        published: None,
        dist_tags: Vec::new(),
    }
}

async fn start(
    backend: ObjectBackend,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = vetted::serve::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let backend: Arc<dyn StoreBackend> = Arc::new(backend);
    let config = Config {
        index_refresh: std::time::Duration::ZERO,
        ..Config::default()
    };
    let task = tokio::spawn(async move {
        vetted::serve::serve(listener, backend, config, async {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    (format!("http://{addr}"), tx, task)
}

async fn get(base: &str, path: &str) -> (u16, Vec<u8>) {
    let (base, path) = (base.to_string(), path.to_string());
    tokio::task::spawn_blocking(move || {
        let (s, _, b, _) = http_get(&base, &path, &[]);
        (s, b)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_over_an_in_memory_object_store() {
    let backend = ObjectBackend::in_memory();
    let one = staged("obj-pkg", "1.0.0");
    let two = staged("@obj/scoped", "2.0.0");
    let index = backend
        .admit_staged(&[one.clone(), two.clone()])
        .await
        .expect("admit");
    assert_eq!(index.generation, 1);
    let (base, stop, task) = start(backend.clone()).await;

    let (status, body) = get(&base, "/obj-pkg").await;
    assert_eq!(status, 200);
    let doc = json_of(&body);
    assert_eq!(
        doc["versions"]["1.0.0"]["dist"]["integrity"],
        Digests::of(&one.bytes).sha512.sri().as_str()
    );
    let (status, body) = get(&base, "/obj-pkg/-/obj-pkg-1.0.0.tgz").await;
    assert_eq!(status, 200);
    assert_eq!(body, one.bytes.to_vec());
    let (status, body) = get(&base, "/@obj%2fscoped").await;
    assert_eq!(status, 200);
    assert_eq!(json_of(&body)["dist-tags"]["latest"], "2.0.0");
    assert_eq!(get(&base, "/obj-pkg/9.9.9").await.0, 404);

    // A second admission is visible (the index is re-read).
    backend
        .admit_staged(&[staged("obj-pkg", "1.1.0")])
        .await
        .expect("admit");
    let doc = json_of(&get(&base, "/obj-pkg").await.1);
    assert_eq!(doc["dist-tags"]["latest"], "1.1.0");

    // A blob altered at rest is not served.
    let key = blob_key(&Digests::of(&one.bytes).sha512);
    let mut bad = one.bytes.to_vec();
    bad[10] ^= 1;
    backend
        .overwrite_raw(&key, bad.into())
        .await
        .expect("overwrite");
    let (status, body) = get(&base, "/obj-pkg/-/obj-pkg-1.0.0.tgz").await;
    assert_eq!(status, 500);
    assert_eq!(json_of(&body), json!({"error": "integrity check failed"}));

    let _ = stop.send(());
    task.await.expect("graceful shutdown");
}

#[tokio::test]
async fn the_conditional_index_write_rejects_a_stale_generation() {
    let backend = ObjectBackend::in_memory();
    // First index: created only if there is none.
    let (empty, none) = backend.index_versioned().await.expect("read");
    assert!(none.is_none());
    let mut first = empty.clone();
    first.generation = 1;
    backend.commit_index(&first, None).await.expect("create");
    // A second writer that also saw "no index" loses.
    let err = backend
        .commit_index(&first, None)
        .await
        .expect_err("stale create");
    assert!(
        matches!(err, StoreError::Conflict { actual: 1, .. }),
        "{err:?}"
    );

    // Two writers read generation 1; the first to commit wins, the other is rejected.
    let (a_index, a_version) = backend.index_versioned().await.expect("read");
    let (b_index, b_version) = backend.index_versioned().await.expect("read");
    let mut a_next = a_index.clone();
    a_next.generation = 2;
    backend
        .commit_index(&a_next, a_version)
        .await
        .expect("a commits");
    let mut b_next = b_index.clone();
    b_next.generation = 2;
    let err = backend
        .commit_index(&b_next, b_version)
        .await
        .expect_err("b is stale");
    match err {
        StoreError::Conflict { expected, actual } => {
            assert_eq!(expected, 1);
            assert_eq!(actual, 2);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Nothing of b's reached the index.
    let (now, _) = backend.index_versioned().await.expect("read");
    assert_eq!(now, a_next);

    // admit_staged retries nothing on its own: it reads, writes, and commits conditionally.
    let idx = backend
        .admit_staged(&[staged("x", "1.0.0")])
        .await
        .expect("admit");
    assert_eq!(idx.generation, 3);
}

#[test]
fn store_locations_are_parsed() {
    assert!(vetted::store::open_backend("memory://").is_ok());
    assert!(vetted::store::open_backend("/tmp/some/dir").is_ok());
    assert!(matches!(
        vetted::store::open_backend("ftp://x/y"),
        Err(StoreError::BadLocation { .. })
    ));
    assert!(matches!(
        vetted::store::open_backend("s3://"),
        Err(StoreError::BadLocation { .. })
    ));
}

fn tagged(name: &str, version: &str, tags: &[&str]) -> StagedVersion {
    StagedVersion {
        dist_tags: tags.iter().map(|t| t.to_string()).collect(),
        ..staged(name, version)
    }
}

/// Upstream's `latest` is 1.0.0 and 1.1.0 is only `next`: an object store must keep the tags
/// admission recorded, or its registry would call the higher 1.1.0 `latest` (and a platform
/// build, admitted on its own, could become `latest` just by being higher).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_keeps_upstream_dist_tags_so_a_higher_version_is_not_made_latest() {
    let backend = ObjectBackend::in_memory();
    backend
        .admit_staged(&[
            tagged("tags-pkg", "1.0.0", &["latest"]),
            tagged("tags-pkg", "1.1.0", &["next"]),
            tagged("tags-pkg", "1.2.0-linux-x64", &[]),
        ])
        .await
        .expect("admit");
    let index = backend.read_index().await.expect("index");
    let tags = index.packages["tags-pkg"]
        .tags
        .clone()
        .expect("tags recorded");
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        vec![
            ("latest".to_string(), "1.0.0".to_string()),
            ("next".to_string(), "1.1.0".to_string())
        ]
    );
    let (base, stop, task) = start(backend).await;
    let (status, body) = get(&base, "/tags-pkg").await;
    assert_eq!(status, 200);
    let doc = json_of(&body);
    assert_eq!(
        doc["dist-tags"],
        json!({"latest": "1.0.0", "next": "1.1.0"})
    );
    let _ = stop.send(());
    let _ = task.await;
}

/// `vetted revoke --store s3://…`: the version leaves the served index in one conditional
/// write (its tags with it), is no longer served, and its blob stays for forensics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_revoke_withdraws_the_version_from_serving_and_keeps_its_blob() {
    let backend = ObjectBackend::in_memory();
    let bad = tagged("rv-pkg", "1.1.0", &["latest"]);
    backend
        .admit_staged(&[tagged("rv-pkg", "1.0.0", &[]), bad.clone()])
        .await
        .expect("admit");
    let now: jiff::Timestamp = "2026-11-02T00:00:00Z".parse().expect("ts");
    let targets = [("rv-pkg".to_string(), "1.1.0".to_string())];
    let done = backend
        .withdraw(&targets, "revoked by sec on 2026-11-02: compromised", now)
        .await
        .expect("withdraw");
    assert_eq!(done, targets.to_vec());
    let index = backend.read_index().await.expect("index");
    assert_eq!(index.generation, 2);
    let pkg = &index.packages["rv-pkg"];
    assert!(!pkg.versions.contains_key("1.1.0"));
    assert!(pkg.versions.contains_key("1.0.0"));
    assert_eq!(pkg.tags.as_ref().and_then(|t| t.get("latest")), None);
    let w = &index.withdrawn["rv-pkg"]["1.1.0"];
    assert!(w.why.contains("compromised"), "{}", w.why);
    // Kept at rest, byte for byte.
    let key = blob_key(&Digests::of(&bad.bytes).sha512);
    use futures_util::TryStreamExt as _;
    let chunks: Vec<_> = backend
        .read_blob(&key)
        .await
        .expect("blob kept")
        .try_collect()
        .await
        .expect("bytes");
    let kept: Vec<u8> = chunks.concat();
    assert_eq!(kept, bad.bytes.to_vec());
    // Withdrawing again changes nothing (no new generation).
    let again = backend
        .withdraw(&targets, "again", now)
        .await
        .expect("again");
    assert!(again.is_empty());
    assert_eq!(backend.read_index().await.expect("index").generation, 2);
    // Never served.
    let (base, stop, task) = start(backend).await;
    let (status, body) = get(&base, "/rv-pkg").await;
    assert_eq!(status, 200);
    let doc = json_of(&body);
    assert!(doc["versions"].get("1.1.0").is_none(), "{doc}");
    assert!(doc["versions"].get("1.0.0").is_some(), "{doc}");
    let (status, _) = get(&base, "/rv-pkg/-/rv-pkg-1.1.0.tgz").await;
    assert_eq!(status, 404);
    let _ = stop.send(());
    let _ = task.await;
}

/// An object store whose next conditional write of `index.json` first lets another writer
/// admit a version (a concurrent `vetted admit` on another machine).
#[derive(Debug)]
struct RacingStore {
    inner: Arc<object_store::memory::InMemory>,
    racer: std::sync::Mutex<Option<StagedVersion>>,
}

impl std::fmt::Display for RacingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RacingStore")
    }
}

#[async_trait::async_trait]
impl object_store::ObjectStore for RacingStore {
    async fn put_opts(
        &self,
        location: &object_store::path::Path,
        payload: object_store::PutPayload,
        opts: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        let racer = if location.as_ref() == "index.json"
            && matches!(opts.mode, object_store::PutMode::Update(_))
        {
            self.racer.lock().expect("lock").take()
        } else {
            None
        };
        if let Some(r) = racer {
            ObjectBackend::new(self.inner.clone(), "racer")
                .admit_staged(&[r])
                .await
                .expect("the racer admits");
        }
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &object_store::path::Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &object_store::path::Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        self.inner.get_opts(location, options).await
    }
    async fn delete(&self, location: &object_store::path::Path) -> object_store::Result<()> {
        self.inner.delete(location).await
    }
    fn list(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
    {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy(
        &self,
        from: &object_store::path::Path,
        to: &object_store::path::Path,
    ) -> object_store::Result<()> {
        self.inner.copy(from, to).await
    }
    async fn copy_if_not_exists(
        &self,
        from: &object_store::path::Path,
        to: &object_store::path::Path,
    ) -> object_store::Result<()> {
        self.inner.copy_if_not_exists(from, to).await
    }
}

/// A revoke that races an admission loses the conditional write once, then applies the
/// withdrawal to the index that won: the version stays withdrawn and the racer's admission
/// stays admitted (neither writer undoes the other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_store_revoke_racing_an_admission_is_reapplied_to_the_index_that_won() {
    let inner = Arc::new(object_store::memory::InMemory::new());
    ObjectBackend::new(inner.clone(), "setup")
        .admit_staged(&[staged("race-pkg", "1.0.0"), staged("race-pkg", "1.1.0")])
        .await
        .expect("admit");
    let racing = Arc::new(RacingStore {
        inner: inner.clone(),
        racer: std::sync::Mutex::new(Some(staged("race-pkg", "1.2.0"))),
    });
    let revoker = ObjectBackend::new(racing.clone(), "revoker");
    let now: jiff::Timestamp = "2026-11-02T00:00:00Z".parse().expect("ts");
    let targets = [("race-pkg".to_string(), "1.1.0".to_string())];
    let done = revoker
        .withdraw(&targets, "compromised", now)
        .await
        .expect("withdraw after one lost race");
    assert_eq!(done, targets.to_vec());
    assert!(racing.racer.lock().expect("lock").is_none(), "the race ran");
    let index = ObjectBackend::new(inner, "check")
        .read_index()
        .await
        .expect("index");
    // setup (1), racer (2), revoke (3).
    assert_eq!(index.generation, 3);
    let versions: Vec<_> = index.packages["race-pkg"]
        .versions
        .keys()
        .cloned()
        .collect();
    assert_eq!(versions, vec!["1.0.0".to_string(), "1.2.0".to_string()]);
    assert!(index.withdrawn["race-pkg"].contains_key("1.1.0"));
}
