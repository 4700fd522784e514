//! `vetted fetch` against a loopback registry that serves good, corrupt, truncated, stalled,
//! oversized and flaky (5xx, then ok) responses.
use base64::Engine as _;
use sha2::Digest as _;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
enum Reply {
    Ok(Vec<u8>),
    /// Content-Length says `declared`, the body is shorter, then the connection closes.
    Truncated {
        body: Vec<u8>,
        declared: usize,
    },
    /// Headers and a little body, then silence.
    Stall,
    /// The body one byte a second (each within the stall timeout).
    Trickle(Vec<u8>),
    /// `n` times 503, then the body.
    FailThenOk {
        failures: usize,
        body: Vec<u8>,
    },
}

struct Server {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

fn handle(
    mut stream: TcpStream,
    routes: &HashMap<String, Reply>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
    }
    let n = {
        let mut hits = hits.lock().unwrap();
        let c = hits.entry(path.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let send = |s: &mut TcpStream, status: &str, body: &[u8], declared: usize| {
        let _ = write!(
            s,
            "HTTP/1.1 {status}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
        );
        let _ = s.write_all(body);
        let _ = s.flush();
    };
    match routes.get(&path) {
        None => send(&mut stream, "404 Not Found", b"", 0),
        Some(Reply::Ok(body)) => send(&mut stream, "200 OK", body, body.len()),
        Some(Reply::Truncated { body, declared }) => send(&mut stream, "200 OK", body, *declared),
        Some(Reply::Stall) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc"
            );
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(30));
        }
        Some(Reply::Trickle(body)) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            for b in body {
                if stream.write_all(&[*b]).is_err() {
                    return;
                }
                let _ = stream.flush();
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Some(Reply::FailThenOk { failures, body }) => {
            if n <= *failures {
                send(&mut stream, "503 Service Unavailable", b"busy", 4);
            } else {
                send(&mut stream, "200 OK", body, body.len());
            }
        }
    }
}

fn npm_tarball(name: &str, version: &str, extra: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let pkg = format!(
        r#"{{"name":"{name}","version":"{version}","scripts":{{"postinstall":"node setup.js"}}}}"#
    );
    for (path, data) in [
        ("package/package.json", pkg.as_bytes()),
        ("package/index.js", extra.as_bytes()),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    }
    let t = b.into_inner().unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&t).unwrap();
    e.finish().unwrap()
}

fn sri1(bytes: &[u8]) -> String {
    format!(
        "sha1-{}",
        base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(bytes))
    )
}

fn sri(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

struct Registry {
    server: Server,
    good: Vec<u8>,
}

/// Versions: 1.0.0 good (latest), 1.0.1 corrupt, 1.0.2 truncated, 1.0.3 stalled,
/// 1.0.4 5xx-then-ok, 1.0.5 shasum only, 1.0.6 with attestations, 1.0.7 corrupt shasum only.
fn registry() -> Registry {
    let listener_port_placeholder = "PORT"; // replaced once the server is bound
    let good = npm_tarball(
        "p",
        "1.0.0",
        "module.exports = 'https://example.com/api';\n",
    );
    let other = npm_tarball("p", "1.0.1", "tampered");
    let flaky = npm_tarball("p", "1.0.4", "flaky");
    let legacy = npm_tarball("p", "1.0.5", "legacy");
    let attested = npm_tarball("p", "1.0.6", "attested");
    let sha1 = |b: &[u8]| hex::encode(sha1::Sha1::digest(b));
    let version = |v: &str, file: &str, integrity: Option<String>, shasum: String, att: bool| {
        let mut dist = serde_json::json!({
            "tarball": format!("http://127.0.0.1:{listener_port_placeholder}/tarballs/{file}"),
            "shasum": shasum,
        });
        if let Some(i) = integrity {
            dist["integrity"] = i.into();
        }
        if att {
            dist["attestations"] = serde_json::json!({
                "url": format!("http://127.0.0.1:{listener_port_placeholder}/attestations/p@{v}"),
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
            });
        }
        (
            v.to_string(),
            serde_json::json!({"name": "p", "version": v, "dist": dist,
            "dependencies": {"dep-a": "^1.2.3"}}),
        )
    };
    let versions: serde_json::Map<_, _> = [
        version("1.0.0", "p-1.0.0.tgz", Some(sri(&good)), sha1(&good), false),
        // The registry promises `good`, serves `other`.
        version("1.0.1", "p-1.0.1.tgz", Some(sri(&good)), sha1(&good), false),
        version("1.0.2", "p-1.0.2.tgz", Some(sri(&good)), sha1(&good), false),
        version("1.0.3", "p-1.0.3.tgz", Some(sri(&good)), sha1(&good), false),
        version(
            "1.0.4",
            "p-1.0.4.tgz",
            Some(sri(&flaky)),
            sha1(&flaky),
            false,
        ),
        version("1.0.5", "p-1.0.5.tgz", None, sha1(&legacy), false),
        version(
            "1.0.6",
            "p-1.0.6.tgz",
            Some(sri(&attested)),
            sha1(&attested),
            true,
        ),
        version("1.0.7", "p-1.0.1.tgz", None, sha1(&good), false),
        // A malformed sha512 beside a valid sha1: must not fall back to the sha1.
        version(
            "1.0.8",
            "p-1.0.0.tgz",
            Some(format!("sha512-AAAA {}", sri1(&good))),
            sha1(&good),
            false,
        ),
        // Only a sha1 SRI.
        version(
            "1.0.9",
            "p-1.0.0.tgz",
            Some(sri1(&good)),
            sha1(&good),
            false,
        ),
        version(
            "1.0.12",
            "p-trickle.tgz",
            Some(sri(&good)),
            sha1(&good),
            false,
        ),
    ]
    .into_iter()
    .collect();
    let packument = serde_json::json!({
        "name": "p",
        "dist-tags": {"latest": "1.0.0", "next": "1.0.4"},
        "time": {"1.0.0": "2025-06-01T12:00:00.000Z"},
        "versions": versions,
    });
    let mut routes = HashMap::new();
    routes.insert("/tarballs/p-1.0.0.tgz".into(), Reply::Ok(good.clone()));
    routes.insert("/tarballs/p-1.0.1.tgz".into(), Reply::Ok(other));
    routes.insert(
        "/tarballs/p-1.0.2.tgz".into(),
        Reply::Truncated {
            body: good[..good.len() / 2].to_vec(),
            declared: good.len(),
        },
    );
    routes.insert("/tarballs/p-1.0.3.tgz".into(), Reply::Stall);
    routes.insert(
        "/tarballs/p-1.0.4.tgz".into(),
        Reply::FailThenOk {
            failures: 2,
            body: flaky,
        },
    );
    routes.insert("/tarballs/p-1.0.5.tgz".into(), Reply::Ok(legacy));
    routes.insert(
        "/tarballs/p-trickle.tgz".into(),
        Reply::Trickle(good.clone()),
    );
    routes.insert("/tarballs/p-1.0.6.tgz".into(), Reply::Ok(attested));
    routes.insert(
        "/attestations/p@1.0.6".into(),
        Reply::Ok(br#"{"attestations":[]}"#.to_vec()),
    );
    let routes = Arc::new(Mutex::new(routes));
    // The packument mentions the port, so it is added once the server is bound.
    let server = serve_dynamic(routes.clone());
    let text = packument
        .to_string()
        .replace(listener_port_placeholder, &server.port.to_string());
    routes
        .lock()
        .unwrap()
        .insert("/p".into(), Reply::Ok(text.into_bytes()));
    Registry { server, good }
}

fn serve_dynamic(routes: Arc<Mutex<HashMap<String, Reply>>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let h = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let snapshot = routes.lock().unwrap().clone();
            let hits = h.clone();
            std::thread::spawn(move || handle(stream, &snapshot, &hits));
        }
    });
    Server { port, hits }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn vetted(reg: &Registry, cache: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .arg("--registry")
        .arg(format!("http://127.0.0.1:{}", reg.server.port))
        .arg("--cache-dir")
        .arg(cache)
        // These tests look at what the tarball cache holds: no packument cache beside it.
        .args(["--packument-max-age", "0"])
        .env_remove("npm_config_registry")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every regular file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn good_tarball_is_cached_verified_and_rechecked() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let r = vetted(
        &reg,
        cache.path(),
        &[
            "fetch",
            "npm:p@1.0.0",
            "--json",
            "-o",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("lists no attestations"), "{}", r.stderr);
    let j = json(&r);
    assert_eq!(j["from_cache"], false);
    assert_eq!(j["sha512_sri"], sri(&reg.good));
    assert_eq!(j["npm"]["publish_time"], "2025-06-01T12:00:00Z");
    assert_eq!(j["npm"]["dependencies"]["dep-a"], "^1.2.3");
    let cached = PathBuf::from(j["path"].as_str().unwrap());
    assert_eq!(std::fs::read(&cached).unwrap(), reg.good);
    assert_eq!(
        std::fs::read(out.path().join("p-1.0.0.tgz")).unwrap(),
        reg.good
    );
    // A second fetch is a cache hit (re-hashed), no tarball request.
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@latest", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["from_cache"], true);
    assert_eq!(reg.server.hits.lock().unwrap()["/tarballs/p-1.0.0.tgz"], 1);
    // A corrupted cache entry is detected, dropped and fetched again.
    std::fs::write(&cached, b"rotten").unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.0", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["from_cache"], false);
    assert_eq!(std::fs::read(&cached).unwrap(), reg.good);
}

#[test]
fn integrity_mismatch_is_rejected_and_nothing_is_cached() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("artifact-integrity"), "{}", r.stderr);
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
    // shasum-only version whose shasum does not match: also rejected.
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.7"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
}

#[test]
fn missing_integrity_is_rejected_not_downgraded_to_sha1() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.5"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no dist.integrity"), "{}", r.stderr);
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
    // Passing twin: the explicit insecure flag accepts the SHA-1 shasum.
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", "npm:p@1.0.5", "--insecure-allow-sha1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn malformed_sha512_integrity_is_rejected_not_downgraded_to_sha1() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.8"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("unusable dist.integrity"), "{}", r.stderr);
    assert!(!r.stderr.contains("matches"), "{}", r.stderr);
    // Passing twin: a well-formed sha512 for the same bytes.
    assert_eq!(
        vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.0"]).code,
        0
    );
}

#[test]
fn sha1_only_integrity_is_rejected() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.9"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("only sha1"), "{}", r.stderr);
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", "npm:p@1.0.9", "--insecure-allow-sha1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn upstream_trickling_one_byte_a_second_hits_the_fetch_deadline() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let r = vetted(
        &reg,
        cache.path(),
        &[
            "fetch",
            "npm:p@1.0.12",
            "--fetch-deadline",
            "3",
            "--retries",
            "0",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("deadline"), "{}", r.stderr);
    assert!(start.elapsed() < Duration::from_secs(15));
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
    // Passing twin: the same deadline is plenty for a normal transfer.
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", "npm:p@1.0.0", "--fetch-deadline", "3"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A registry whose packuments are wrong in the ways an upstream can be wrong.
fn faulty_registry(good: &[u8]) -> Server {
    let mut routes = HashMap::new();
    let version = |tarball: &str| {
        serde_json::json!({"name": "f", "version": "1.0.0",
            "dist": {"tarball": tarball, "integrity": sri(good)}})
    };
    let doc = |name: &str, tarball: &str| {
        serde_json::json!({"name": name, "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": version(tarball)}})
        .to_string()
        .into_bytes()
    };
    routes.insert(
        "/file-url".into(),
        Reply::Ok(doc("file-url", "file:///etc/passwd")),
    );
    routes.insert(
        "/http-url".into(),
        Reply::Ok(doc(
            "http-url",
            "http://registry.example.invalid/f-1.0.0.tgz",
        )),
    );
    routes.insert(
        "/other-name".into(),
        Reply::Ok(doc("someone-else", "https://x.invalid/a.tgz")),
    );
    routes.insert(
        "/garbage".into(),
        Reply::Ok(b"<html>not a packument".to_vec()),
    );
    serve_dynamic(Arc::new(Mutex::new(routes)))
}

#[test]
fn upstream_faults_are_rejections_exit_1_not_operational() {
    let reg = registry();
    let bad = faulty_registry(&reg.good);
    let cache = tempfile::tempdir().unwrap();
    for (spec, says) in [
        ("npm:file-url@1.0.0", "expected an https URL"),
        ("npm:http-url@1.0.0", "expected an https URL"),
        ("npm:other-name@1.0.0", "packument names"),
        ("npm:garbage@1.0.0", "not a packument"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args(["fetch", spec, "--registry"])
            .arg(format!("http://127.0.0.1:{}", bad.port))
            .arg("--cache-dir")
            .arg(cache.path())
            .env_remove("npm_config_registry")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{spec}: {err}");
        assert!(err.contains(says), "{spec}: {err}");
    }
    // Passing twin: network down stays operational (exit 2), see network_down_is_exit_2.
}

#[test]
fn truncated_download_fails_after_retries_and_nothing_is_cached() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", "npm:p@1.0.2", "--retries", "1"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("network failure after 2 attempt"),
        "{}",
        r.stderr
    );
    assert_eq!(reg.server.hits.lock().unwrap()["/tarballs/p-1.0.2.tgz"], 2);
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
}

#[test]
fn stalled_download_times_out() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let r = vetted(
        &reg,
        cache.path(),
        &[
            "fetch",
            "npm:p@1.0.3",
            "--retries",
            "0",
            "--stall-timeout",
            "1",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("stalled"), "{}", r.stderr);
    assert!(start.elapsed() < Duration::from_secs(15));
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
}

#[test]
fn oversized_download_is_rejected() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", "npm:p@1.0.0", "--max-artifact-size", "100"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("artifact-size"), "{}", r.stderr);
    assert_eq!(files(cache.path()), Vec::<PathBuf>::new());
}

#[test]
fn server_errors_are_retried() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@next", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r)["npm"]["version"], "1.0.4");
    assert_eq!(reg.server.hits.lock().unwrap()["/tarballs/p-1.0.4.tgz"], 3);
    // With too few retries the same server is a network failure.
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", "npm:p@1.0.4", "--retries", "1"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn attestations_are_kept_next_to_the_tarball() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.6", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("lists no attestations"));
    let j = json(&r);
    let att = PathBuf::from(j["npm"]["attestations_path"].as_str().unwrap());
    assert_eq!(std::fs::read(&att).unwrap(), br#"{"attestations":[]}"#);
    assert_eq!(
        att.parent(),
        PathBuf::from(j["path"].as_str().unwrap()).parent()
    );
}

#[test]
fn unknown_version_and_package_are_operational_errors() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        vetted(&reg, cache.path(), &["fetch", "npm:p@9.9.9"]).code,
        2
    );
    assert_eq!(
        vetted(&reg, cache.path(), &["fetch", "npm:nope@1.0.0"]).code,
        2
    );
}

#[test]
fn network_down_is_exit_2() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(["fetch", "npm:p@1.0.0", "--retries", "1", "--registry"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--cache-dir")
        .arg(cache.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("network failure"));
}

#[test]
fn plain_http_to_other_hosts_needs_the_insecure_flag() {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args([
            "fetch",
            "npm:p@1.0.0",
            "--registry",
            "http://registry.example.invalid",
            "--cache-dir",
        ])
        .arg(cache.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing plain http"), "{err}");
}

#[test]
fn url_and_file_specs_check_the_given_digest() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/tarballs/p-1.0.0.tgz", reg.server.port);
    let good256 = hex::encode(sha2::Sha256::digest(&reg.good));
    let r = vetted(&reg, cache.path(), &["fetch", &url, "--sha256", &good256]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let wrong = hex::encode(sha2::Sha256::digest(b"other"));
    let cache2 = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache2.path(), &["fetch", &url, "--sha256", &wrong]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(files(cache2.path()), Vec::<PathBuf>::new());
    let r = vetted(
        &reg,
        cache2.path(),
        &["fetch", &url, "--integrity", &sri(&reg.good)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = cache.path().join("local.tgz");
    std::fs::write(&f, &reg.good).unwrap();
    let r = vetted(
        &reg,
        cache.path(),
        &["fetch", f.to_str().unwrap(), "--sha256", &wrong],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn inspect_fetches_an_npm_spec() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["inspect", "npm:p@1.0.0", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = json(&r);
    assert_eq!(j["package"]["name"], "p");
    assert_eq!(
        j["package"]["lifecycle_scripts"]["postinstall"],
        "node setup.js"
    );
    // index.js parses: its URL is a behaviour with evidence (the byte scan is for non-JS files).
    let urls: Vec<&str> = j["entries"]["package/index.js"]["behaviours"]
        .as_array()
        .expect("behaviours")
        .iter()
        .filter(|b| b["kind"] == "url")
        .filter_map(|b| b["value"].as_str())
        .collect();
    assert_eq!(urls, ["https://example.com/api"]);
    assert_eq!(
        j["entries"]["package/package.json"]["behaviours"][0]["kind"],
        "install-script"
    );
    let sha512 = sha2::Sha512::digest(&reg.good);
    assert_eq!(
        j["artifact"]["sha512"],
        format!("sha512:{}", hex::encode(sha512))
    );
}

fn lib_opts(reg: &Registry, cache: &Path) -> vetted::source::FetchOptions {
    vetted::source::FetchOptions {
        registry: format!("http://127.0.0.1:{}", reg.server.port),
        cache_dir: cache.to_path_buf(),
        retries: 0,
        ..Default::default()
    }
}

#[test]
fn library_api_fetch_and_packument() {
    use vetted::source::{self, ArtifactSpec, FetchError};
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let opts = lib_opts(&reg, cache.path());
    let doc = source::fetch_packument(&"p".parse().unwrap(), &opts).unwrap();
    assert_eq!(doc.dist_tags["latest"], "1.0.0");
    let v = &doc.versions["1.0.0"];
    assert_eq!(
        v.publish_time.map(|t| t.to_string()).as_deref(),
        Some("2025-06-01T12:00:00Z")
    );
    assert!(doc.versions["1.0.6"].attestations_url.is_some());

    let spec: ArtifactSpec = "npm:p@1.0.0".parse().unwrap();
    let f = source::fetch(&spec, &opts).unwrap();
    assert_eq!(f.digests.sha512.sri(), sri(&reg.good));
    let meta = f.npm.unwrap();
    assert_eq!(meta.version.as_str(), "1.0.0");
    assert_eq!(meta.integrity.map(|d| d.sri()), Some(sri(&reg.good)));
    assert!(meta.attestations_path.is_none());

    // 1.0.1 promises 1.0.0's integrity: with 1.0.0 cached, the cache answers (content
    // addressed, re-hashed); with an empty cache, the served bytes are checked and refused.
    let bad: ArtifactSpec = "npm:p@1.0.1".parse().unwrap();
    assert!(source::fetch(&bad, &opts).unwrap().from_cache);
    let empty = tempfile::tempdir().unwrap();
    let opts = lib_opts(&reg, empty.path());
    let e = source::fetch(&bad, &opts).unwrap_err();
    assert!(matches!(e, FetchError::IntegrityMismatch { .. }), "{e:?}");
    assert!(e.is_rejection());
    let e = source::fetch(&"npm:p@1.0.2".parse().unwrap(), &opts).unwrap_err();
    assert!(
        matches!(e, FetchError::Network { attempts: 1, .. }),
        "{e:?}"
    );
    assert!(!e.is_rejection());
    let small = vetted::source::FetchOptions {
        limits: vetted::limits::Limits {
            artifact_bytes: 10,
            ..Default::default()
        },
        allow_insecure_sha1: true,
        ..lib_opts(&reg, cache.path())
    };
    let e = source::fetch(&"npm:p@1.0.5".parse().unwrap(), &small).unwrap_err();
    assert!(matches!(e, FetchError::TooLarge { .. }), "{e:?}");
}

/// A cache hit is not hashed before it is inspected (the inspection hashes what it reads): a
/// rotten entry must still never be reviewed as the release. Rotten two ways: another valid
/// tarball under the good one's name (it inspects fine; only its digest tells), and garbage
/// (the inspection stops early; the file's digest tells it from a rejected release).
#[test]
fn rotten_cache_entry_is_not_reviewed_as_the_release() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let r = vetted(&reg, cache.path(), &["fetch", "npm:p@1.0.0", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cached = PathBuf::from(json(&r)["path"].as_str().unwrap());
    let local = tempfile::tempdir().unwrap();
    let new = local.path().join("p-1.0.0.tgz");
    std::fs::write(&new, &reg.good).unwrap();
    let hex = hex::encode(sha2::Sha512::digest(&reg.good));
    let evil = npm_tarball("p", "1.0.0", "module.exports = eval(process.env.X);\n");
    for (i, rot) in [evil, b"rotten".to_vec()].into_iter().enumerate() {
        std::fs::write(&cached, &rot).unwrap();
        let r = vetted(
            &reg,
            cache.path(),
            &["diff", "npm:p@1.0.0", new.to_str().unwrap(), "--json"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = json(&r);
        assert_eq!(j["old"]["sha512"], format!("sha512:{hex}"), "{j}");
        assert_eq!(j["identical"], true, "{j}");
        assert_eq!(std::fs::read(&cached).unwrap(), reg.good);
        assert_eq!(
            reg.server.hits.lock().unwrap()["/tarballs/p-1.0.0.tgz"],
            2 + i,
            "the rotten entry is fetched again"
        );
    }
    // Passing twin: a sound entry is used as it is, with no download.
    let r = vetted(
        &reg,
        cache.path(),
        &["diff", "npm:p@1.0.0", new.to_str().unwrap(), "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(reg.server.hits.lock().unwrap()["/tarballs/p-1.0.0.tgz"], 3);
}

/// A local file named with `--sha512` is checked against the digest of the bytes inspected.
#[test]
fn local_file_not_matching_its_sha512_is_rejected_by_diff() {
    let reg = registry();
    let cache = tempfile::tempdir().unwrap();
    let local = tempfile::tempdir().unwrap();
    let a = local.path().join("a.tgz");
    std::fs::write(&a, &reg.good).unwrap();
    let good = hex::encode(sha2::Sha512::digest(&reg.good));
    let bad = hex::encode(sha2::Sha512::digest(b"other"));
    for (want, code) in [(&bad, 1), (&good, 0)] {
        let r = vetted(
            &reg,
            cache.path(),
            &[
                "diff",
                a.to_str().unwrap(),
                a.to_str().unwrap(),
                "--json",
                "--sha512",
                want,
            ],
        );
        assert_eq!(r.code, code, "{}", r.stderr);
        if code == 1 {
            assert!(
                r.stderr.contains(&good[..16]),
                "names the actual digest: {}",
                r.stderr
            );
        }
    }
}
