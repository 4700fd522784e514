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
