//! Shared by the serve tests: generated npm tarballs, a store written directly in its documented
//! format (`blobs/sha512/<hex>`, `records/<hex>.json`, `index.json` last), and a running
//! `vetted serve` child process.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vetted::digest::Digests;
use vetted::store::{INDEX_FORMAT, Index, IndexedVersion, blob_key, record_key};

/// A gzipped npm tarball: `package/package.json` (name, version, extra fields) plus `files`.
pub fn npm_tarball(
    name: &str,
    version: &str,
    extra: serde_json::Value,
    files: &[(&str, &[u8])],
) -> Vec<u8> {
    let mut pj = serde_json::json!({"name": name, "version": version});
    if let (Some(o), Some(e)) = (pj.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    let pj = serde_json::to_vec_pretty(&pj).expect("json");
    let mut all: Vec<(String, Vec<u8>)> = vec![("package.json".into(), pj)];
    for (p, b) in files {
        all.push((p.to_string(), b.to_vec()));
    }
    tarball_of(&all)
}

/// A gzipped tarball of exactly these files under `package/`, with `mode`s 0o644 (0o755 for
/// paths under `bin/`).
pub fn tarball_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let all: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, b)| (format!("package/{p}"), b.clone()))
        .collect();
    let enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(enc);
    for (p, b) in &all {
        let mut h = tar::Header::new_ustar();
        h.set_size(b.len() as u64);
        h.set_mode(if p.starts_with("package/bin/") {
            0o755
        } else {
            0o644
        });
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, p, b.as_slice()).expect("append");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

/// One admitted version for [`write_store`].
pub struct Admitted {
    pub name: String,
    pub version: String,
    pub tarball: Vec<u8>,
    pub metadata: serde_json::Value,
}

impl Admitted {
    pub fn new(name: &str, version: &str, tarball: Vec<u8>, metadata: serde_json::Value) -> Self {
        Admitted {
            name: name.into(),
            version: version.into(),
            tarball,
            metadata,
        }
    }
}

/// Write a store in the documented on-disk format: blobs and records first, the index last.
pub fn write_store(root: &Path, admitted: &[Admitted]) -> Index {
    let mut index = Index {
        format: INDEX_FORMAT,
        generation: 1,
        ..Index::default()
    };
    let at: jiff::Timestamp = "2026-11-01T00:00:00Z".parse().expect("ts");
    for a in admitted {
        let digests = Digests::of(&a.tarball);
        let blob = root.join(blob_key(&digests.sha512));
        std::fs::create_dir_all(blob.parent().expect("parent")).expect("mkdir");
        std::fs::write(&blob, &a.tarball).expect("blob");
        let record = record_key(&digests.sha512);
        let rp = root.join(&record);
        std::fs::create_dir_all(rp.parent().expect("parent")).expect("mkdir");
        std::fs::write(&rp, serde_json::json!({"test": true}).to_string()).expect("record");
        index
            .packages
            .entry(a.name.clone())
            .or_default()
            .versions
            .insert(
                a.version.clone(),
                IndexedVersion {
                    digests,
                    record,
                    admitted_at: at,
                    metadata: a.metadata.clone(),
                    published: None,
                },
            );
    }
    std::fs::write(
        root.join("index.json"),
        serde_json::to_vec_pretty(&index).expect("json"),
    )
    .expect("index");
    index
}

/// The path of a version's blob.
pub fn blob_path(root: &Path, index: &Index, name: &str, version: &str) -> PathBuf {
    let v = &index.packages[name].versions[version];
    root.join(v.blob_key())
}

/// A running `vetted serve`; killed on drop.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    /// Everything the server wrote on stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(store: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(store, extra, &[])
    }

    pub fn start_with_env(store: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vetted"));
        cmd.arg("serve")
            .arg("--store")
            .arg(store)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("VETTED_SERVE_TOKEN")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn vetted serve");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .map(|s| s.trim_end_matches('/').to_string())
            .unwrap_or_else(|| {
                let log = log.lock().map(|l| l.clone()).unwrap_or_default();
                panic!("no address printed: {line:?}; stderr: {log}")
            });
        Server { child, base, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Wait until the log contains `needle` (the log thread may lag a little).
    pub fn wait_log(&self, needle: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET over loopback: (status, headers lower-cased, body, complete).
/// `complete` is false when the connection ended before Content-Length bytes arrived.
pub fn http_get(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>, bool) {
    try_http_get(base, path, headers).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// A response: status, headers (names lower-cased), body, whether the body is complete.
pub type HttpResponse = (u16, Vec<(String, String)>, Vec<u8>, bool);

/// [`http_get`], with connection failures and malformed responses as errors.
pub fn try_http_get(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<HttpResponse, String> {
    let hostport = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(hostport).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no response head in {} bytes", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let hdrs: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = hdrs
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let (body, complete) = if chunked {
        dechunk(&body)
    } else {
        let len = hdrs
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok());
        let complete = len.is_none_or(|l| body.len() == l);
        (body, complete)
    };
    Ok((status, hdrs, body, complete))
}

fn dechunk(mut b: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return (out, false);
        };
        let size = std::str::from_utf8(&b[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size else {
            return (out, false);
        };
        if size == 0 {
            return (out, true);
        }
        let start = eol + 2;
        if b.len() < start + size {
            return (out, false);
        }
        out.extend_from_slice(&b[start..start + size]);
        b = b.get(start + size + 2..).unwrap_or(&[]);
    }
}

pub fn json_of(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// Whether the npm client is on PATH (npm tests skip with a message when it is not).
pub fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run npm in `dir` against `registry`, with its cache and config inside `home` only.
pub fn npm(dir: &Path, home: &Path, registry: &str, args: &[&str]) -> Output {
    let userconfig = home.join("npmrc");
    if !userconfig.exists() {
        std::fs::create_dir_all(home).expect("home");
        std::fs::write(&userconfig, "").expect("npmrc");
    }
    std::fs::create_dir_all(dir).expect("mkdir");
    Command::new("npm")
        .args(args)
        .args([
            "--registry",
            &format!("{registry}/"),
            "--no-audit",
            "--no-fund",
            "--prefer-online",
            "--no-update-notifier",
            "--fetch-retries",
            "0",
        ])
        .current_dir(dir)
        .env("npm_config_cache", home.join("cache"))
        .env("npm_config_userconfig", &userconfig)
        .env("npm_config_globalconfig", home.join("global-npmrc"))
        .env("npm_config_prefix", home.join("prefix"))
        .env("HOME", home)
        .env_remove("npm_config_registry")
        .env_remove("NPM_CONFIG_REGISTRY")
        .output()
        .expect("run npm")
}
