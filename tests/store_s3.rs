//! The object-store backend against a real S3-protocol server on loopback (moto's server:
//! `pip install 'moto[server]'`; `.ci/run` installs and starts it and sets
//! VETTED_S3_ENDPOINT). Without one, the tests skip with a note, except under CI=true.
mod gate_support;
mod serve_support;
use object_store::ObjectStore as _;
use std::sync::Arc;
use vetted::digest::Digests;
use vetted::store::{ObjectBackend, StagedVersion, StoreBackend, StoreError};

/// The endpoint and a fresh bucket on it, or `None` (skip) when there is no server.
fn bucket(test: &str) -> Option<(String, String)> {
    let endpoint = match std::env::var("VETTED_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no VETTED_S3_ENDPOINT: .ci/run must start moto_server"
            );
            eprintln!("note: VETTED_S3_ENDPOINT is not set (no S3 server); {test} skipped");
            return None;
        }
    };
    let name = format!(
        "vetted-{}-{}",
        test.replace('_', "-").chars().take(30).collect::<String>(),
        std::process::id()
    );
    // moto creates a bucket on an unsigned PUT.
    let hostport = endpoint.trim_start_matches("http://").to_string();
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&hostport).expect("connect to the S3 server");
    write!(
        s,
        "PUT /{name} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 200"), "create bucket: {resp}");
    Some((endpoint, name))
}

fn backend(endpoint: &str, bucket: &str) -> ObjectBackend {
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name(bucket)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_conditional_put(object_store::aws::S3ConditionalPut::ETagMatch)
        .build()
        .expect("s3 client");
    ObjectBackend::new(Arc::new(s3), format!("s3://{bucket}"))
}

fn staged(version: &str) -> StagedVersion {
    let body = format!("module.exports = {version:?};\n");
    StagedVersion {
        name: "s3-pkg".into(),
        version: version.into(),
        bytes: serve_support::npm_tarball(
            "s3-pkg",
            version,
            serde_json::json!({}),
            &[("index.js", body.as_bytes())],
        )
        .into(),
        record: serde_json::json!({"test": true}),
        metadata: serde_json::json!({"name": "s3-pkg", "version": version}),
        admitted_at: "2026-11-01T00:00:00Z".parse().expect("ts"),
        published: None,
        dist_tags: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_two_concurrent_admitters_the_stale_one_loses_the_conditional_index_write() {
    let Some((endpoint, b)) = bucket("concurrent_admitters") else {
        return;
    };
    let store = backend(&endpoint, &b);
    store.admit_staged(&[staged("1.0.0")]).await.expect("first");
    // Two admitters read generation 1; the first to commit wins, the other conflicts.
    let a = backend(&endpoint, &b);
    let c = backend(&endpoint, &b);
    let (mut ia, va) = a.index_versioned().await.expect("read a");
    let (mut ic, vc) = c.index_versioned().await.expect("read c");
    ia.generation += 1;
    ic.generation += 1;
    ic.packages.clear();
    a.commit_index(&ia, va).await.expect("a commits");
    let lost = c.commit_index(&ic, vc).await;
    assert!(
        matches!(
            lost,
            Err(StoreError::Conflict {
                expected: 1,
                actual: 2
            })
        ),
        "{lost:?}"
    );
    let now = store.read_index().await.expect("index");
    assert_eq!(now.generation, 2);
    assert!(
        now.packages.contains_key("s3-pkg"),
        "the loser changed nothing"
    );
    // A second create of an index that exists loses too.
    let fresh = vetted::store::Index {
        format: vetted::store::INDEX_FORMAT,
        generation: 1,
        ..Default::default()
    };
    assert!(matches!(
        store.commit_index(&fresh, None).await,
        Err(StoreError::Conflict { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_blob_upload_streams_multipart_and_a_wrong_digest_leaves_no_object() {
    let Some((endpoint, b)) = bucket("multipart") else {
        return;
    };
    let store = backend(&endpoint, &b);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.tgz");
    let mut big = Vec::with_capacity(20 << 20);
    let mut x: u64 = 0x1234_5678_9abc_def1;
    while big.len() < (20 << 20) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        big.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&path, &big).expect("write");
    let want = Digests::of(&big);
    // The attack: the file is not the bytes the admission verified. Nothing is stored.
    let other = Digests::of(b"something else");
    let err = store
        .upload_blob(&path, &other)
        .await
        .expect_err("mismatch");
    assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err:?}");
    let key = vetted::store::blob_key(&other.sha512);
    assert!(
        store.read_blob(&key).await.is_err(),
        "no object for the wrong digest"
    );
    // Passing twin: the right digest streams in three parts and reads back identical.
    let got = store.upload_blob(&path, &want).await.expect("upload");
    assert_eq!(got, want);
    let key = vetted::store::blob_key(&want.sha512);
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_bucket_name(&b)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .build()
        .expect("s3");
    let bytes = s3
        .get(&object_store::path::Path::from(key.as_str()))
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(Digests::of(&bytes), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_two_serve_replicas_serve_the_same_generation_and_never_altered_bytes() {
    let Some((endpoint, b)) = bucket("replicas") else {
        return;
    };
    let store = backend(&endpoint, &b);
    let one = staged("1.0.0");
    store
        .admit_staged(std::slice::from_ref(&one))
        .await
        .expect("admit");
    let mut bases = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..2 {
        let listener = vetted::serve::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let backend: Arc<dyn StoreBackend> = Arc::new(backend(&endpoint, &b));
        let config = vetted::serve::Config {
            index_refresh: std::time::Duration::ZERO,
            ..Default::default()
        };
        tokio::spawn(async move {
            let _ = vetted::serve::serve(listener, backend, config, async {
                let _ = rx.await;
            })
            .await;
        });
        bases.push(format!("http://{addr}"));
        stops.push(tx);
    }
    let get = |base: String, path: &'static str| {
        tokio::task::spawn_blocking(move || serve_support::http_get(&base, path, &[]))
    };
    for base in &bases {
        let (status, _, body, complete) = get(base.clone(), "/s3-pkg/-/s3-pkg-1.0.0.tgz")
            .await
            .expect("join");
        assert_eq!((status, complete), (200, true));
        assert_eq!(body, one.bytes.to_vec());
    }
    // A new admission is visible on both replicas.
    store
        .admit_staged(&[staged("1.1.0")])
        .await
        .expect("admit 2");
    for base in &bases {
        let (status, _, _, _) = get(base.clone(), "/s3-pkg/-/s3-pkg-1.1.0.tgz")
            .await
            .expect("join");
        assert_eq!(status, 200);
    }
    // Altered at rest: both refuse it before the first byte.
    let key = vetted::store::blob_key(&Digests::of(&one.bytes).sha512);
    store
        .overwrite_raw(&key, axum::body::Bytes::from_static(b"tampered"))
        .await
        .expect("overwrite");
    for base in &bases {
        let (status, _, body, _) = get(base.clone(), "/s3-pkg/-/s3-pkg-1.0.0.tgz")
            .await
            .expect("join");
        assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    }
    for s in stops {
        let _ = s.send(());
    }
}

/// An unsigned request to the S3 server (moto accepts them): the status line and body.
fn s3_raw(endpoint: &str, request_line: &str) -> String {
    use std::io::{Read, Write};
    let hostport = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(hostport).expect("connect to the S3 server");
    write!(
        s,
        "{request_line} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp
}

/// The attack on crash safety: an admitting process dies (`kill -9`, OOM killer, node
/// preemption) in the middle of a multipart upload into S3. The previous state must stay
/// intact and readable: the index unchanged (same generation, same versions), every indexed
/// blob reads back with its digest, and the half-uploaded blob is not an object at all (an
/// incomplete multipart upload is invisible to GET until completed), so nothing can serve it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_kill_9_during_an_admission_upload_leaves_the_previous_state_readable() {
    let Some((endpoint, b)) = bucket("kill_9_admission") else {
        return;
    };
    const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "@acme/s3agent"
criteria = ["safe-to-run"]
provenance = "not-required"
"#;
    // Incompressible, so the tarball stays large: several 8 MiB parts, a window to kill in.
    let noise = |len: usize, mut x: u64| {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.extend_from_slice(&x.to_le_bytes());
        }
        out
    };
    let up = gate_support::Upstream::start();
    for (v, seed) in [("1.0.0", 1u64), ("2.0.0", 2)] {
        let mut p = gate_support::Published::new("@acme/s3agent", v, &gate_support::days_ago(10));
        p.files = vec![("blob.bin".into(), noise(48 << 20, seed))];
        up.publish(p);
    }
    let ws = gate_support::Workspace::new(up, POLICY);
    ws.certify("npm:@acme/s3agent@1.0.0");
    ws.certify("npm:@acme/s3agent@2.0.0");
    let policy = ws.path("vetted.toml").display().to_string();
    let ledger = ws.path("ledger").display().to_string();
    let store_url = format!("s3://{b}/store");
    let admit = |version: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args(["admit", &format!("npm:@acme/s3agent@{version}")])
            .args([
                "--policy", &policy, "--ledger", &ledger, "--store", &store_url,
            ])
            .args(["--registry", &ws.upstream.url(), "--retries", "0"])
            .args([
                "--cache-dir",
                &ws.path(&format!("cache-{version}")).display().to_string(),
            ])
            .env("AWS_ENDPOINT", &endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn vetted admit")
    };
    // The state before: 1.0.0 admitted into the bucket.
    let first = admit("1.0.0").wait_with_output().expect("admit 1.0.0");
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let store = {
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_bucket_name(&b)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_conditional_put(object_store::aws::S3ConditionalPut::ETagMatch)
            .build()
            .expect("s3 client");
        let prefixed = object_store::prefix::PrefixStore::new(s3, "store");
        ObjectBackend::new(Arc::new(prefixed), store_url.clone())
    };
    let before = store.read_index().await.expect("index after 1.0.0");
    assert!(before.packages.contains_key("@acme/s3agent"));

    // Admit 2.0.0 and kill it once its blob's multipart upload is in progress.
    let mut child = admit("2.0.0");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = false;
    while std::time::Instant::now() < deadline {
        if s3_raw(&endpoint, &format!("GET /{b}?uploads")).contains("<UploadId>") {
            seen = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the admission ended ({status}) before its upload was seen");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    assert!(seen, "no multipart upload in progress within 120 s");

    // The previous state: the same index, every indexed blob intact.
    let after = store.read_index().await.expect("index after the kill");
    assert_eq!(after.generation, before.generation, "the index changed");
    assert_eq!(
        serde_json::to_value(&after.packages).expect("json"),
        serde_json::to_value(&before.packages).expect("json")
    );
    for p in after.packages.values() {
        for v in p.versions.values() {
            let key = vetted::store::blob_key(&v.digests.sha512);
            let mut stream = store.read_blob(&key).await.expect("indexed blob readable");
            let mut bytes = Vec::new();
            while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                bytes.extend_from_slice(&chunk.expect("blob chunk"));
            }
            assert_eq!(Digests::of(&bytes).sha512, v.digests.sha512);
        }
    }
    // The interrupted upload is no object: nothing under blobs/ but the indexed ones.
    let listed = s3_raw(
        &endpoint,
        &format!("GET /{b}?list-type=2&prefix=store/blobs/"),
    );
    let blobs = listed.matches("<Key>").count();
    assert_eq!(blobs, 1, "only 1.0.0's blob is an object: {listed}");
}

/// The `vetted` binary against the S3 server, with the standard AWS environment.
fn vetted_s3(endpoint: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .env("AWS_ENDPOINT", endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("run vetted")
}

/// `vetted revoke --store s3://…` records the violation and withdraws the version from the
/// bucket's index (conditional write); the blob stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_revoke_cli_withdraws_the_version_from_the_bucket_index() {
    let Some((endpoint, b)) = bucket("revoke_cli") else {
        return;
    };
    let store = backend(&endpoint, &b);
    let bad = staged("1.1.0");
    store
        .admit_staged(&[staged("1.0.0"), bad.clone()])
        .await
        .expect("admit");
    let ledger = tempfile::tempdir().expect("tmp");
    let location = format!("s3://{b}");
    let out = tokio::task::spawn_blocking({
        let (endpoint, ledger, location) = (
            endpoint.clone(),
            ledger.path().to_path_buf(),
            location.clone(),
        );
        move || {
            vetted_s3(
                &endpoint,
                &[
                    "revoke",
                    "npm:s3-pkg@1.1.0",
                    "--ledger",
                    ledger.to_str().expect("utf-8"),
                    "--store",
                    &location,
                    "--why",
                    "compromised",
                    "--who",
                    "sec <sec@example.com>",
                ],
            )
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("withdrew s3-pkg@1.1.0"), "{stdout}");
    let index = store.read_index().await.expect("index");
    assert_eq!(index.generation, 2);
    assert!(!index.packages["s3-pkg"].versions.contains_key("1.1.0"));
    assert!(index.withdrawn["s3-pkg"].contains_key("1.1.0"));
    let key = vetted::store::blob_key(&Digests::of(&bad.bytes).sha512);
    assert!(
        store.read_blob(&key).await.is_ok(),
        "the blob is kept for forensics"
    );
    let audits = std::fs::read_to_string(ledger.path().join("audits.toml")).expect("ledger");
    assert!(audits.contains("[[violation]]"), "{audits}");
}

/// A bucket with no index is not a store: `revoke` refuses it (exit 2) instead of reporting
/// "nothing to withdraw" from a typo'd location.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_revoke_into_a_bucket_that_is_not_a_store_is_refused() {
    let Some((endpoint, b)) = bucket("revoke_not_store") else {
        return;
    };
    let ledger = tempfile::tempdir().expect("tmp");
    let location = format!("s3://{b}/nothing-here");
    let out = tokio::task::spawn_blocking({
        let ledger = ledger.path().to_path_buf();
        move || {
            vetted_s3(
                &endpoint,
                &[
                    "revoke",
                    "npm:s3-pkg@1.1.0",
                    "--ledger",
                    ledger.to_str().expect("utf-8"),
                    "--store",
                    &location,
                    "--why",
                    "compromised",
                    "--who",
                    "sec",
                ],
            )
        }
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a vetted store"), "{stderr}");
}
