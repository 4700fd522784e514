//! A fake upstream npm registry on loopback that serves generated packages, and helpers to
//! build a policy, a ledger and a store around it for gate tests.
#![allow(dead_code)]
use base64::Engine as _;
use sha2::Digest as _;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// One published version.
#[derive(Clone, Debug)]
pub struct Published {
    pub name: String,
    pub version: String,
    /// Extra top-level package.json keys (dependencies, optionalDependencies, os, cpu, scripts...).
    pub meta: serde_json::Value,
    /// Files under `package/` (package.json is generated).
    pub files: Vec<(String, Vec<u8>)>,
    /// Publish time (RFC 3339).
    pub time: String,
    /// Serve other bytes than the packument's integrity promises.
    pub corrupt: bool,
    /// An attestations document to list under dist.attestations.
    pub attestations: Option<Vec<u8>>,
    /// Serve exactly these tarball bytes instead of generating them.
    pub tarball: Option<Vec<u8>>,
}

impl Published {
    pub fn new(name: &str, version: &str, time: &str) -> Published {
        Published {
            name: name.into(),
            version: version.into(),
            meta: serde_json::json!({}),
            files: vec![(
                "index.js".into(),
                format!("module.exports = '{name}@{version}';\n").into_bytes(),
            )],
            time: time.into(),
            corrupt: false,
            attestations: None,
            tarball: None,
        }
    }
}

/// The registry.
pub struct Upstream {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    /// Responses served once each, before `routes` (a registry that changes between requests).
    once: Arc<Mutex<HashMap<String, Vec<Vec<u8>>>>>,
    packages: Mutex<HashMap<String, Vec<Published>>>,
}

pub fn tarball(p: &Published) -> Vec<u8> {
    if let Some(t) = &p.tarball {
        return t.clone();
    }
    let mut pkg = serde_json::json!({"name": p.name, "version": p.version});
    if let (Some(obj), Some(extra)) = (pkg.as_object_mut(), p.meta.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    let pkg = serde_json::to_vec_pretty(&pkg).expect("json");
    let mut b = tar::Builder::new(Vec::new());
    let mut files = vec![("package.json".to_string(), pkg)];
    files.extend(p.files.iter().cloned());
    for (path, data) in &files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(if data.starts_with(b"\x7fELF") {
            0o755
        } else {
            0o644
        });
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, format!("package/{path}"), data.as_slice())
            .expect("append");
    }
    let t = b.into_inner().expect("tar");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&t).expect("gz");
    e.finish().expect("gz")
}

pub fn sri(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

impl Upstream {
    pub fn start() -> Arc<Upstream> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(Upstream {
            port,
            routes: Arc::default(),
            once: Arc::default(),
            packages: Mutex::default(),
        });
        let routes = up.routes.clone();
        let once = up.once.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let routes = routes.clone();
                let once = once.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let Ok(clone) = stream.try_clone() else {
                        return;
                    };
                    let mut reader = BufReader::new(clone);
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
                    let first = once.lock().ok().and_then(|mut o| {
                        let queue = o.get_mut(&path)?;
                        (!queue.is_empty()).then(|| queue.remove(0))
                    });
                    let body = first
                        .or_else(|| routes.lock().map(|r| r.get(&path).cloned()).unwrap_or(None));
                    let (status, body) = match body {
                        Some(b) => ("200 OK", b),
                        None => ("404 Not Found", b"{\"error\":\"not found\"}".to_vec()),
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(&body);
                });
            }
        });
        up
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The packument as currently served.
    pub fn packument(&self, name: &str) -> Vec<u8> {
        let path = format!("/{}", name.replace('/', "%2f"));
        self.routes
            .lock()
            .ok()
            .and_then(|r| r.get(&path).cloned())
            .unwrap_or_default()
    }

    /// Serve `body` for the next request of `name`'s packument only, then the current one again.
    pub fn packument_once(&self, name: &str, body: Vec<u8>) {
        let path = format!("/{}", name.replace('/', "%2f"));
        if let Ok(mut o) = self.once.lock() {
            o.entry(path).or_default().push(body);
        }
    }

    /// Publish (or replace) a version; rebuilds the packument.
    pub fn publish(&self, p: Published) {
        let good = tarball(&p);
        let file = format!(
            "/tarballs/{}-{}.tgz",
            p.name.replace('/', "-").trim_start_matches('@'),
            p.version
        );
        let mut served = good.clone();
        if p.corrupt {
            let last = served.len() - 20;
            served[last] ^= 0xff;
        }
        let mut routes = self.routes.lock().expect("routes");
        routes.insert(file.clone(), served);
        if let Some(att) = &p.attestations {
            routes.insert(format!("{file}.attestations"), att.clone());
        }
        let mut packages = self.packages.lock().expect("packages");
        let list = packages.entry(p.name.clone()).or_default();
        list.retain(|q| q.version != p.version);
        let mut entry = p.clone();
        entry.tarball = Some(good);
        list.push(entry);
        let mut versions = serde_json::Map::new();
        let mut times = serde_json::Map::new();
        let mut latest = String::new();
        for q in list.iter() {
            let bytes = q.tarball.clone().unwrap_or_default();
            let mut doc = serde_json::json!({"name": q.name, "version": q.version});
            if let (Some(obj), Some(extra)) = (doc.as_object_mut(), q.meta.as_object()) {
                for (k, v) in extra {
                    obj.insert(k.clone(), v.clone());
                }
            }
            let qfile = format!(
                "/tarballs/{}-{}.tgz",
                q.name.replace('/', "-").trim_start_matches('@'),
                q.version
            );
            let mut dist = serde_json::json!({
                "tarball": format!("{}{qfile}", self.url()),
                "integrity": sri(&bytes),
                "shasum": hex::encode(sha1::Sha1::digest(&bytes)),
            });
            if q.attestations.is_some() {
                dist["attestations"] = serde_json::json!({"url": format!("{}{qfile}.attestations", self.url()),
                    "provenance": {"predicateType": "https://slsa.dev/provenance/v0.2"}});
            }
            doc["dist"] = dist;
            versions.insert(q.version.clone(), doc);
            times.insert(q.version.clone(), serde_json::Value::String(q.time.clone()));
            latest = q.version.clone();
        }
        let packument = serde_json::json!({
            "name": p.name, "dist-tags": {"latest": latest}, "versions": versions, "time": times,
        });
        routes.insert(
            format!("/{}", p.name.replace('/', "%2f")),
            serde_json::to_vec(&packument).expect("json"),
        );
    }
}

/// A temporary workspace: policy, ledger, store, cache.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub upstream: Arc<Upstream>,
}

impl Workspace {
    pub fn new(upstream: Arc<Upstream>, policy: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("ledger")).expect("ledger");
        std::fs::write(dir.path().join("ledger/audits.toml"), "").expect("audits");
        std::fs::write(dir.path().join("vetted.toml"), policy).expect("policy");
        Workspace { dir, upstream }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Run vetted with the registry, cache and ledger of this workspace.
    pub fn vetted(&self, args: &[&str]) -> Output {
        self.vetted_with_cache(args, &self.path("cache"))
    }

    pub fn vetted_with_cache(&self, args: &[&str], cache: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args(args)
            .args([
                "--registry",
                &self.upstream.url(),
                "--cache-dir",
                &cache.display().to_string(),
                "--retries",
                "0",
                // The tests republish packages between runs: never reuse a cached packument.
                "--packument-max-age",
                "0",
            ])
            .args(["--ledger", &self.path("ledger").display().to_string()])
            .env("NO_COLOR", "1")
            .env_remove("npm_config_registry")
            .output()
            .expect("run vetted")
    }

    pub fn certify(&self, spec: &str) {
        let out = self.vetted(&[
            "certify",
            spec,
            "--criteria",
            "safe-to-run",
            "--who",
            "Tester <t@example.com>",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "certify {spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn admit(&self, spec: &str, extra: &[&str]) -> Output {
        let policy = self.path("vetted.toml").display().to_string();
        let store = self.path("store").display().to_string();
        let mut args = vec![
            "admit", spec, "--policy", &policy, "--store", &store, "--json",
        ];
        args.extend_from_slice(extra);
        self.vetted(&args)
    }

    pub fn append_ledger(&self, text: &str) {
        let p = self.path("ledger/audits.toml");
        let mut s = std::fs::read_to_string(&p).expect("read");
        s.push_str(text);
        std::fs::write(&p, s).expect("write");
    }
}

/// Every file under `dir` with its bytes (to compare a store before and after).
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// The report's checks for one artifact, as (name, status).
pub fn checks(report: &serde_json::Value, artifact: &str) -> Vec<(String, String)> {
    report["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["artifact"] == artifact)
        .flat_map(|a| a["checks"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn failed(report: &serde_json::Value, artifact: &str) -> Vec<String> {
    checks(report, artifact)
        .into_iter()
        .filter(|(_, s)| s == "fail")
        .map(|(n, _)| n)
        .collect()
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// RFC 3339 time `days` ago.
pub fn days_ago(days: i64) -> String {
    let t = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    t.to_string()
}
