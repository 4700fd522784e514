//! `vetted serve` over HTTP: the registry protocol, only admitted versions, tarballs re-hashed
//! on the way out, bearer token, graceful shutdown, and a bounded load test.
mod serve_support;

use serde_json::json;
use serve_support::{
    Admitted, Server, blob_path, http_get, json_of, npm_tarball, try_http_get, write_store,
};
use std::time::{Duration, Instant};
use vetted::digest::Digests;

struct Fixture {
    _dir: tempfile::TempDir,
    store: std::path::PathBuf,
    index: vetted::store::Index,
    tarballs: Vec<(String, String, Vec<u8>)>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let specs: &[(&str, &str)] = &[
        ("plain", "1.0.0"),
        ("plain", "1.10.0"),
        ("plain", "1.9.0"),
        ("plain", "2.0.0-beta.1"),
        ("@scope/pkg", "0.1.0"),
        ("pre-only", "1.0.0-rc.1"),
        ("pre-only", "1.0.0-rc.2"),
    ];
    let mut admitted = Vec::new();
    let mut tarballs = Vec::new();
    for (name, version) in specs {
        let body = format!("module.exports = {:?};\n", format!("{name}@{version}"));
        let tgz = npm_tarball(
            name,
            version,
            json!({"scripts": {"test": "true"}}),
            &[("index.js", body.as_bytes())],
        );
        tarballs.push((name.to_string(), version.to_string(), tgz.clone()));
        admitted.push(Admitted::new(
            name,
            version,
            tgz,
            json!({"name": name, "version": version, "description": "d", "dist": {"tarball": "http://evil.example/x.tgz"}}),
        ));
    }
    let index = write_store(&store, &admitted);
    Fixture {
        _dir: dir,
        store,
        index,
        tarballs,
    }
}

#[test]
fn packuments_list_only_admitted_versions_with_dist_from_the_index() {
    let f = fixture();
    let s = Server::start(&f.store, &[]);
    let (status, hdrs, body, _) = http_get(&s.base, "/plain", &[]);
    assert_eq!(status, 200);
    assert!(
        hdrs.iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/json"))
    );
    let doc = json_of(&body);
    let mut versions: Vec<&str> = doc["versions"]
        .as_object()
        .expect("versions")
        .keys()
        .map(|k| k.as_str())
        .collect();
    versions.sort();
    assert_eq!(versions, ["1.0.0", "1.10.0", "1.9.0", "2.0.0-beta.1"]);
    assert_eq!(
        doc["dist-tags"]["latest"], "1.10.0",
        "prerelease is not latest"
    );
    let v = &doc["versions"]["1.9.0"];
    let entry = &f.index.packages["plain"].versions["1.9.0"];
    assert_eq!(v["dist"]["integrity"], entry.digests.sha512.sri().as_str());
    assert_eq!(v["dist"]["shasum"], entry.digests.sha1.hex().as_str());
    assert_eq!(
        v["dist"]["tarball"],
        format!("{}/plain/-/plain-1.9.0.tgz", s.base).as_str(),
        "dist.tarball points at this server, not at stored metadata"
    );
    assert_eq!(v["description"], "d");
    assert!(doc["time"]["1.9.0"].is_string());

    // Abbreviated form.
    let (status, hdrs, body, _) = http_get(
        &s.base,
        "/plain",
        &[(
            "Accept",
            "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
        )],
    );
    assert_eq!(status, 200);
    assert!(
        hdrs.iter()
            .any(|(k, v)| k == "content-type" && v == "application/vnd.npm.install-v1+json")
    );
    let doc = json_of(&body);
    assert!(doc["versions"]["1.0.0"].get("description").is_none());
    assert!(doc["versions"]["1.0.0"]["dist"]["integrity"].is_string());

    // Only prereleases: the highest is latest.
    let doc = json_of(&http_get(&s.base, "/pre-only", &[]).2);
    assert_eq!(doc["dist-tags"]["latest"], "1.0.0-rc.2");
}

#[test]
fn scoped_names_in_all_three_spellings_and_version_documents() {
    let f = fixture();
    let s = Server::start(&f.store, &[]);
    for path in ["/@scope%2fpkg", "/@scope%2Fpkg", "/@scope/pkg"] {
        let (status, _, body, _) = http_get(&s.base, path, &[]);
        assert_eq!(status, 200, "{path}");
        let doc = json_of(&body);
        assert_eq!(doc["name"], "@scope/pkg");
        assert_eq!(
            doc["versions"]["0.1.0"]["dist"]["tarball"],
            format!("{}/@scope/pkg/-/pkg-0.1.0.tgz", s.base).as_str()
        );
    }
    let (status, _, body, _) = http_get(&s.base, "/@scope/pkg/0.1.0", &[]);
    assert_eq!(status, 200);
    assert_eq!(json_of(&body)["_id"], "@scope/pkg@0.1.0");
    let (status, _, body, _) = http_get(&s.base, "/plain/latest", &[]);
    assert_eq!(status, 200);
    assert_eq!(json_of(&body)["version"], "1.10.0");
    // --public-url wins over the Host header.
    drop(s);
    let s = Server::start(&f.store, &["--public-url", "https://npm.example.org/"]);
    let doc = json_of(&http_get(&s.base, "/@scope%2fpkg", &[]).2);
    assert_eq!(
        doc["versions"]["0.1.0"]["dist"]["tarball"],
        "https://npm.example.org/@scope/pkg/-/pkg-0.1.0.tgz"
    );
}

#[test]
fn what_is_not_admitted_is_404_with_a_json_error() {
    let f = fixture();
    let s = Server::start(&f.store, &[]);
    for path in [
        "/not-admitted",
        "/plain/3.0.0",
        "/plain/-/plain-3.0.0.tgz",
        "/plain/-/other-1.0.0.tgz",
        "/@scope/other",
        "/-/npm/v1/security/advisories/bulk",
        "/-/whoami",
        "/%zz",
        "/../index.json",
        "/index.json",
    ] {
        let (status, _, body, _) = http_get(&s.base, path, &[]);
        assert_eq!(status, 404, "{path}");
        assert_eq!(json_of(&body), json!({"error": "not found"}), "{path}");
    }
    let (status, _, body, _) = http_get(&s.base, "/-/ping", &[]);
    assert_eq!(status, 200);
    assert_eq!(json_of(&body), json!({}));
    assert!(
        s.wait_log("path=/plain/3.0.0 status=404"),
        "access log: {}",
        s.log()
    );
}

#[test]
fn tarballs_are_served_byte_identical_and_logged() {
    let f = fixture();
    let s = Server::start(&f.store, &[]);
    for (name, version, tgz) in &f.tarballs {
        let base = name.rsplit('/').next().expect("base");
        let (status, _, body, complete) =
            http_get(&s.base, &format!("/{name}/-/{base}-{version}.tgz"), &[]);
        assert_eq!(status, 200, "{name}@{version}");
        assert!(complete);
        assert_eq!(&body, tgz, "{name}@{version}");
    }
    let len = f.tarballs[0].2.len();
    assert!(
        s.wait_log(&format!(
            "method=GET path=/plain/-/plain-1.0.0.tgz status=200 bytes={len}"
        )),
        "{}",
        s.log()
    );
    assert!(s.log().contains("duration_ms="));
}

#[test]
fn a_blob_altered_on_disk_is_never_served_small_blob_hashed_first() {
    let f = fixture();
    let blob = blob_path(&f.store, &f.index, "plain", "1.0.0");
    let mut bytes = std::fs::read(&blob).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&blob, &bytes).expect("write");
    let s = Server::start(&f.store, &[]);
    let (status, _, body, _) = http_get(&s.base, "/plain/-/plain-1.0.0.tgz", &[]);
    assert_eq!(status, 500);
    assert_eq!(json_of(&body), json!({"error": "integrity check failed"}));
    assert!(s.wait_log("INTEGRITY FAILURE"), "{}", s.log());
    assert!(s.log().contains("ERROR"));
    // The other versions are still served.
    assert_eq!(http_get(&s.base, "/plain/-/plain-1.9.0.tgz", &[]).0, 200);
}

#[test]
fn a_large_blob_changed_on_disk_between_two_requests_is_never_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    // Incompressible content, several read chunks long.
    let mut big = Vec::with_capacity(3 << 20);
    let mut x: u64 = 0x9e3779b97f4a7c15;
    while big.len() < (3 << 20) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        big.extend_from_slice(&x.to_le_bytes());
    }
    let tgz = npm_tarball("big", "1.0.0", json!({}), &[("blob.bin", &big)]);
    let index = write_store(
        &store,
        &[Admitted::new("big", "1.0.0", tgz.clone(), json!({}))],
    );
    // Everything is "large" with a buffer limit of 1 KiB: verified in a streaming pass first.
    let s = Server::start(&store, &["--buffer-limit", "1024"]);
    let (status, _, body, complete) = http_get(&s.base, "/big/-/big-1.0.0.tgz", &[]);
    assert_eq!(status, 200);
    assert!(complete);
    assert_eq!(body, tgz);

    // Same length, one byte changed near the end: refused before the first byte (500, no
    // blob bytes), not a 200 cut short.
    let blob = blob_path(&store, &index, "big", "1.0.0");
    let mut bad = tgz.clone();
    let at = bad.len() - 10;
    bad[at] ^= 0x55;
    std::fs::write(&blob, &bad).expect("write");
    let (status, _, body, _) = http_get(&s.base, "/big/-/big-1.0.0.tgz", &[]);
    assert_eq!(
        status, 500,
        "a changed blob is caught before the head is sent"
    );
    assert_eq!(json_of(&body), json!({"error": "integrity check failed"}));
    assert!(s.wait_log("INTEGRITY FAILURE"), "{}", s.log());

    // Longer than the index says: refused too.
    let mut longer = tgz.clone();
    longer.extend_from_slice(b"tail");
    std::fs::write(&blob, &longer).expect("write");
    let (status, _, _, _) = http_get(&s.base, "/big/-/big-1.0.0.tgz", &[]);
    assert_eq!(status, 500);

    // Restored: served again (the failure is not remembered as a verdict on the key).
    std::fs::write(&blob, &tgz).expect("write");
    let (status, _, body, complete) = http_get(&s.base, "/big/-/big-1.0.0.tgz", &[]);
    assert_eq!(status, 200);
    assert!(complete);
    assert_eq!(body, tgz);
}

#[test]
fn a_large_blob_changed_long_after_it_was_verified_is_caught_by_its_new_identity() {
    // Verification is remembered per (device, inode, size, mtime, ctime); a rewrite that keeps
    // the size still changes mtime/ctime, so the next request verifies again.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let big: Vec<u8> = (0..(2u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let index = write_store(
        &store,
        &[Admitted::new("big", "1.0.0", big.clone(), json!({}))],
    );
    let blob = blob_path(&store, &index, "big", "1.0.0");
    // Older than the racy window, so the first verification is remembered.
    std::thread::sleep(Duration::from_millis(2100));
    let s = Server::start(&store, &["--buffer-limit", "1024"]);
    for _ in 0..2 {
        let (status, _, body, complete) = http_get(&s.base, "/big/-/big-1.0.0.tgz", &[]);
        assert_eq!((status, complete), (200, true));
        assert_eq!(body, big);
    }
    let mut bad = big.clone();
    bad[7] ^= 1;
    std::fs::write(&blob, &bad).expect("write");
    let (status, _, body, _) = http_get(&s.base, "/big/-/big-1.0.0.tgz", &[]);
    assert_eq!(status, 500);
    assert!(body.len() < 200, "no blob bytes were sent");
}

#[test]
fn bearer_token_is_required_when_configured() {
    let f = fixture();
    let tf = f._dir.path().join("token");
    std::fs::write(&tf, "s3cret-token\n").expect("token");
    let s = Server::start(&f.store, &["--token-file", tf.to_str().expect("utf8")]);
    let (status, hdrs, body, _) = http_get(&s.base, "/plain", &[]);
    assert_eq!(status, 401);
    assert!(
        hdrs.iter()
            .any(|(k, v)| k == "www-authenticate" && v == "Bearer")
    );
    assert_eq!(json_of(&body), json!({"error": "unauthorized"}));
    assert_eq!(
        http_get(&s.base, "/plain", &[("Authorization", "Bearer wrong")]).0,
        401
    );
    assert_eq!(
        http_get(
            &s.base,
            "/plain/-/plain-1.0.0.tgz",
            &[("Authorization", "Bearer s3cret-tok")]
        )
        .0,
        401
    );
    assert_eq!(
        http_get(
            &s.base,
            "/plain",
            &[("Authorization", "Bearer s3cret-token")]
        )
        .0,
        200
    );
    assert_eq!(
        http_get(&s.base, "/-/ping", &[]).0,
        200,
        "health checks need no token"
    );
    drop(s);
    // The environment variable works too.
    let s = Server::start_with_env(&f.store, &[], &[("VETTED_SERVE_TOKEN", "from-env")]);
    assert_eq!(http_get(&s.base, "/plain", &[]).0, 401);
    assert_eq!(
        http_get(&s.base, "/plain", &[("Authorization", "Bearer from-env")]).0,
        200
    );
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let f = fixture();
    let mut s = Server::start(&f.store, &[]);
    assert_eq!(http_get(&s.base, "/-/ping", &[]).0, 200);
    let pid = s.child.id().to_string();
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(ok.success());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().expect("wait") {
            break st;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    assert!(s.wait_log("shutting down"), "{}", s.log());
}

#[test]
fn an_unreadable_store_fails_at_start_with_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("index.json"), b"{not json").expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupt"));
}

/// Concurrent tarball downloads over loopback; every body is checked against its sha512.
/// Returns (requests, seconds, failures).
fn load(
    base: &str,
    tarballs: &[(String, String, Vec<u8>)],
    clients: usize,
    total: usize,
    cap: Duration,
) -> (usize, f64, usize) {
    let wanted: Vec<(String, vetted::digest::Digest)> = tarballs
        .iter()
        .map(|(n, v, t)| {
            let b = n.rsplit('/').next().unwrap_or(n);
            (format!("/{n}/-/{b}-{v}.tgz"), Digests::of(t).sha512)
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= total || start.elapsed() > cap {
                        break;
                    }
                    let (path, digest) = &wanted[i % wanted.len()];
                    let ok = match try_http_get(base, path, &[]) {
                        Ok((status, _, body, complete)) => {
                            status == 200 && complete && &vetted::digest::sha512(&body) == digest
                        }
                        Err(e) => {
                            eprintln!("GET {path}: {e}");
                            false
                        }
                    };
                    if !ok {
                        failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let done = next.load(std::sync::atomic::Ordering::Relaxed).min(total);
    (done, start.elapsed().as_secs_f64(), failures.into_inner())
}

#[test]
fn load_short_concurrent_downloads_all_match_their_digests() {
    let f = fixture();
    let s = Server::start_with_env(&f.store, &[], &[("RUST_LOG", "warn")]);
    let (n, secs, failures) = load(&s.base, &f.tarballs, 16, 400, Duration::from_secs(20));
    eprintln!(
        "load (short): {n} requests, 16 clients, {secs:.2}s, {:.0} req/s, {failures} failures",
        n as f64 / secs
    );
    assert_eq!(failures, 0);
    assert!(n > 0);
}

/// The full load test: `cargo test --release --test serve_http -- --ignored --nocapture load_full`.
#[test]
#[ignore]
fn load_full_64_clients_2000_requests() {
    let f = fixture();
    let s = Server::start_with_env(&f.store, &[], &[("RUST_LOG", "warn")]);
    let (n, secs, failures) = load(&s.base, &f.tarballs, 64, 2000, Duration::from_secs(30));
    eprintln!(
        "load (full): {n} requests, 64 clients, {secs:.2}s, {:.0} req/s, {failures} failures",
        n as f64 / secs
    );
    assert_eq!(failures, 0);
    assert_eq!(n, 2000, "stopped at the 30 s cap");
}

/// Large tarballs (4 MiB, incompressible), half of them over the buffer limit so both serving
/// paths run: `cargo test --release --test serve_http -- --ignored --nocapture load_large`.
#[test]
#[ignore]
fn load_large_tarballs_both_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    let mut admitted = Vec::new();
    let mut tarballs = Vec::new();
    let mut x: u64 = 0x243f6a8885a308d3;
    for (i, size) in [
        (0, 4usize << 20),
        (1, 4 << 20),
        (2, 512 << 10),
        (3, 512 << 10),
    ] {
        let mut data = Vec::with_capacity(size);
        while data.len() < size {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data.extend_from_slice(&x.to_le_bytes());
        }
        let version = format!("1.0.{i}");
        let tgz = npm_tarball("large", &version, json!({}), &[("data.bin", &data)]);
        tarballs.push(("large".to_string(), version.clone(), tgz.clone()));
        admitted.push(Admitted::new("large", &version, tgz, json!({})));
    }
    write_store(&store, &admitted);
    // 1 MiB: the 4 MiB tarballs are streamed while hashing, the 512 KiB ones hashed first.
    let s = Server::start_with_env(
        &store,
        &["--buffer-limit", "1048576"],
        &[("RUST_LOG", "warn")],
    );
    let (n, secs, failures) = load(&s.base, &tarballs, 64, 1000, Duration::from_secs(30));
    let bytes: usize = (0..n).map(|i| tarballs[i % tarballs.len()].2.len()).sum();
    eprintln!(
        "load (large): {n} requests, 64 clients, {secs:.2}s, {:.0} req/s, {:.0} MiB/s, {failures} failures",
        n as f64 / secs,
        bytes as f64 / secs / (1 << 20) as f64
    );
    assert_eq!(failures, 0);
}
