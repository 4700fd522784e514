//! Claude Code's native channel (`claude-native:<V>/<platform>`): a generated vendor key signs a
//! generated manifest listing a generated Bun-like binary, laid out as the vendor's release
//! server lays it out, read from a directory (`--vendor-source DIR`) and from a loopback HTTP
//! server. Fetch, inspect and admit verify the manifest first and the binary against it; the
//! admitted release is served in the vendor's layout and fetched the way the installer does;
//! audit-installed checks a native install against the signed checksums.
mod common;
mod static_server;
mod vendor_support;

use static_server::StaticServer;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use vendor_support::*;

const V: &str = "9.9.9";
const POLICY: &str = r#"
[[package]]
ecosystem = "claude-native"
name = "claude-code"
criteria = ["safe-to-run"]
provenance = "not-required"
platforms = ["linux-x64"]
"#;

/// A Bun-like ELF with a standalone module graph (the layout of Bun's
/// `StandaloneModuleGraph.zig`, as in tests/bun_graph.rs), so the content manifest lists
/// embedded modules.
fn bun_binary(tag: &str) -> Vec<u8> {
    const TRAILER: &[u8] = b"\n---- Bun! ----\n";
    let src = format!("export const build = \"{tag}\"; fetch(\"https://api.example.com/{tag}\");");
    let modules: [(&str, &[u8]); 1] = [("/$bunfs/root/cli.js", src.as_bytes())];
    let mut blob = Vec::new();
    let put = |blob: &mut Vec<u8>, b: &[u8]| {
        let p = (blob.len() as u32, b.len() as u32);
        blob.extend_from_slice(b);
        blob.push(0);
        p
    };
    let mut table = Vec::new();
    for (name, contents) in modules {
        let n = put(&mut blob, name.as_bytes());
        let c = put(&mut blob, contents);
        for (off, len) in [n, c, (0, 0), (0, 0), (0, 0), n] {
            table.extend_from_slice(&off.to_le_bytes());
            table.extend_from_slice(&len.to_le_bytes());
        }
        table.extend_from_slice(&[1, 1, 1, 0]);
    }
    let table_at = blob.len() as u32;
    blob.extend_from_slice(&table);
    let argv = put(&mut blob, b"--smol");
    let byte_count = blob.len() as u64;
    blob.extend_from_slice(&byte_count.to_le_bytes());
    blob.extend_from_slice(&table_at.to_le_bytes());
    blob.extend_from_slice(&(table.len() as u32).to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes());
    blob.extend_from_slice(&argv.0.to_le_bytes());
    blob.extend_from_slice(&argv.1.to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes());
    blob.extend_from_slice(TRAILER);
    let mut exe = b"\x7fELF\x02\x01\x01\0".to_vec();
    exe.resize(4096, 0);
    exe.extend_from_slice(b"https://bun.sh/ \n---- Bun! ----\n (the constant, in rodata)");
    exe.resize(100_000, 0x90);
    exe.extend_from_slice(&((blob.len() - 48) as u64).to_le_bytes());
    exe.extend_from_slice(&blob);
    exe.extend_from_slice(&[0x11; 5000]);
    exe
}

/// A manifest in the vendor's format; `entries` are (platform, sha256 hex, size).
fn manifest(version: &str, entries: &[(&str, String, u64)]) -> Vec<u8> {
    let platforms: Vec<String> = entries
        .iter()
        .map(|(p, sha, size)| {
            format!(
                "    \"{p}\": {{\n      \"binary\": \"claude\",\n      \"checksum\": \"{sha}\",\n      \"size\": {size}\n    }}"
            )
        })
        .collect();
    format!(
        "{{\n  \"version\": \"{version}\",\n  \"buildDate\": \"2026-01-02T00:00:00Z\",\n  \"platforms\": {{\n{}\n  }}\n}}\n",
        platforms.join(",\n")
    )
    .into_bytes()
}

fn entry(bin: &[u8]) -> (&'static str, String, u64) {
    (
        "linux-x64",
        vetted::digest::sha256(bin).hex(),
        bin.len() as u64,
    )
}

struct Ws {
    dir: tempfile::TempDir,
    key: pgp::composed::SignedSecretKey,
}

impl Ws {
    fn new() -> Ws {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("ledger")).expect("ledger");
        std::fs::write(dir.path().join("ledger/audits.toml"), "").expect("audits");
        std::fs::write(dir.path().join("vetted.toml"), POLICY).expect("policy");
        let key = gen_key(31, "Test Release Signing <release@example.com>", false);
        std::fs::write(
            dir.path().join("vendor-key.asc"),
            armored_public(&pubkey(&key)),
        )
        .expect("key");
        Ws { dir, key }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// `<root>/<V>/manifest.json` (+ `.sig` by `signer`) and `<root>/<V>/linux-x64/claude`.
    fn release(
        &self,
        root: &str,
        signer: &pgp::composed::SignedSecretKey,
        m: &[u8],
        bin: &[u8],
    ) -> PathBuf {
        let root = self.path(root);
        let v = root.join(V);
        std::fs::create_dir_all(v.join("linux-x64")).expect("dirs");
        std::fs::write(v.join("manifest.json"), m).expect("manifest");
        std::fs::write(v.join("manifest.json.sig"), sign(signer, m)).expect("sig");
        std::fs::write(v.join("linux-x64/claude"), bin).expect("binary");
        root
    }

    fn key_args(&self, source: &str) -> Vec<String> {
        vec![
            "--vendor-source".into(),
            source.into(),
            "--insecure-vendor-key".into(),
            self.path("vendor-key.asc").display().to_string(),
            "--insecure-vendor-key-fingerprint".into(),
            fpr(&self.key.primary_key),
        ]
    }

    fn vetted(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run vetted")
    }

    fn run(&self, cmd: &str, spec: &str, source: &str, extra: &[&str]) -> Output {
        let key = self.key_args(source);
        let cache = self.path("cache").display().to_string();
        let mut args = vec![cmd, spec, "--cache-dir", &cache, "--retries", "0"];
        args.extend(key.iter().map(String::as_str));
        args.extend_from_slice(extra);
        self.vetted(&args)
    }

    fn admit(&self, source: &str, store: &str) -> Output {
        let policy = self.path("vetted.toml").display().to_string();
        let ledger = self.path("ledger").display().to_string();
        let store = self.path(store).display().to_string();
        self.run(
            "admit",
            &format!("claude-native:{V}/linux-x64"),
            source,
            &[
                "--policy", &policy, "--ledger", &ledger, "--store", &store, "--json",
            ],
        )
    }

    /// Certify the native build whose content manifest `inspect` produces from `source`.
    fn certify(&self, source: &str) {
        let out = self.run(
            "inspect",
            &format!("claude-native:{V}/linux-x64"),
            source,
            &["--json"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", err(&out));
        let m = self.path("native-manifest.json");
        std::fs::write(&m, &out.stdout).expect("manifest");
        let out = self.vetted(&[
            "certify",
            &format!("claude-native:claude-code@{V}"),
            "--manifest",
            &m.display().to_string(),
            "--criteria",
            "safe-to-run",
            "--who",
            "Tester <t@example.com>",
            "--ledger",
            &self.path("ledger").display().to_string(),
        ]);
        assert_eq!(out.status.code(), Some(0), "certify: {}", err(&out));
    }
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            err(out)
        )
    })
}

fn cache_blobs(ws: &Ws) -> usize {
    std::fs::read_dir(ws.path("cache/sha512"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .count()
        })
        .unwrap_or(0)
}

// ---- fetch, inspect, admit from a directory source ----------------------------------------

#[test]
fn native_release_from_a_directory_source_is_verified_inspected_and_admitted() {
    let ws = Ws::new();
    let bin = bun_binary("1");
    let src = ws.release("rel", &ws.key, &manifest(V, &[entry(&bin)]), &bin);
    let src = src.display().to_string();
    let spec = format!("claude-native:{V}/linux-x64");
    let out = ws.run("fetch", &spec, &src, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let j = json(&out);
    assert_eq!(
        j["digests"]["sha256"],
        vetted::digest::sha256(&bin).to_string()
    );
    assert_eq!(
        j["vendor_signature"]["signer_fingerprint"],
        fpr(&ws.key.primary_key)
    );
    assert_eq!(j["vendor_signature"]["binary"]["platform"], "linux-x64");
    // The same content manifest as for any binary: the Bun embedded modules are listed.
    let out = ws.run("inspect", &spec, &src, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let m = json(&out);
    assert_eq!(
        m["artifact"]["sha256"],
        vetted::digest::sha256(&bin).to_string()
    );
    assert!(
        m.to_string().contains("/$bunfs/root/cli.js"),
        "embedded module listed: {m}"
    );
    // Not reviewed yet: rejected, nothing stored.
    let out = ws.admit(&src, "store");
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(err(&out).contains("unreviewed"), "{}", err(&out));
    assert!(!ws.path("store/index.json").exists());
    // Reviewed: admitted, with the signed pair kept beside the binary.
    ws.certify(&src);
    let out = ws.admit(&src, "store");
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let report = json(&out);
    let checks = report["artifacts"][0]["checks"].to_string();
    for c in [
        "vendor-signature",
        "artifact-integrity",
        "contents",
        "review",
    ] {
        assert!(checks.contains(c), "{c} in {checks}");
    }
    let store = vetted::store::Store::open(&ws.path("store"));
    let index = store.index().expect("index");
    let rel = &index.native["claude-code"].releases[V];
    let p = &rel.platforms["linux-x64"];
    assert_eq!(p.digests.sha256, vetted::digest::sha256(&bin));
    let signed = std::fs::read(ws.path(&format!("rel/{V}/manifest.json"))).expect("m");
    assert_eq!(
        std::fs::read(
            ws.path("store")
                .join(vetted::store::blob_key(&rel.manifest.sha512))
        )
        .expect("stored manifest"),
        signed
    );
    let record = store.record(&p.record).expect("record");
    assert_eq!(record["package"]["ecosystem"], "claude-native");
    assert_eq!(record["vendor_signature"]["binary"]["matches"], true);
    assert_eq!(store.verify().expect("store verifies"), 1);
}

#[test]
fn second_signed_manifest_for_an_admitted_version_is_not_mixed_into_its_record() {
    let ws = Ws::new();
    let bin = bun_binary("10");
    let src = ws.release("rel", &ws.key, &manifest(V, &[entry(&bin)]), &bin);
    ws.certify(&src.display().to_string());
    let out = ws.admit(&src.display().to_string(), "store");
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let before = std::fs::read(ws.path("store/index.json")).expect("index");
    // Validly signed too, listing the same binary, but other bytes (another buildDate).
    let other = String::from_utf8(manifest(V, &[entry(&bin)]))
        .expect("utf8")
        .replace("2026-01-02", "2026-01-03");
    let src2 = ws.release("rel2", &ws.key, other.as_bytes(), &bin);
    let out = ws.admit(&src2.display().to_string(), "store");
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(
        err(&out).contains("one version, one signed manifest"),
        "{}",
        err(&out)
    );
    // Nothing changed: not the index, and not the admitted binary's record.
    assert_eq!(
        std::fs::read(ws.path("store/index.json")).expect("index"),
        before
    );
    let store = vetted::store::Store::open(&ws.path("store"));
    let index = store.index().expect("index");
    let p = &index.native["claude-code"].releases[V].platforms["linux-x64"];
    let record = store.record(&p.record).expect("record");
    assert!(
        !record.to_string().contains("rel2"),
        "the record still names the first source: {record}"
    );
}

#[test]
fn native_binary_one_byte_off_the_signed_manifest_is_rejected() {
    let ws = Ws::new();
    let bin = bun_binary("2");
    let mut served = bin.clone();
    served[50_000] ^= 1;
    let src = ws.release("rel", &ws.key, &manifest(V, &[entry(&bin)]), &served);
    let out = ws.run(
        "fetch",
        &format!("claude-native:{V}/linux-x64"),
        &src.display().to_string(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    let e = err(&out);
    assert!(
        e.contains(&vetted::digest::sha256(&bin).hex())
            && e.contains(&vetted::digest::sha256(&served).hex()),
        "names expected and actual: {e}"
    );
    let out = ws.admit(&src.display().to_string(), "store");
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(!ws.path("store/index.json").exists());
}

#[test]
fn native_binary_whose_size_differs_from_the_signed_size_is_rejected() {
    let ws = Ws::new();
    let bin = bun_binary("3");
    let sha = vetted::digest::sha256(&bin).hex();
    // Listed one byte shorter: the read stops at the signed size.
    let short = manifest(V, &[("linux-x64", sha.clone(), bin.len() as u64 - 1)]);
    let src = ws.release("short", &ws.key, &short, &bin);
    let out = ws.run(
        "fetch",
        &format!("claude-native:{V}/linux-x64"),
        &src.display().to_string(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(err(&out).contains("binary size"), "{}", err(&out));
    // Listed one byte longer with the right sha256: the size is compared too.
    let long = manifest(V, &[("linux-x64", sha, bin.len() as u64 + 1)]);
    let src = ws.release("long", &ws.key, &long, &bin);
    let out = ws.run(
        "fetch",
        &format!("claude-native:{V}/linux-x64"),
        &src.display().to_string(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        err(&out).contains(&format!("{} bytes", bin.len() + 1)),
        "{}",
        err(&out)
    );
}

#[test]
fn native_manifest_signed_by_another_key_is_rejected_before_the_binary_is_read() {
    let ws = Ws::new();
    let other = gen_key(32, "Attacker <a@example.com>", false);
    let bin = bun_binary("4");
    let src = ws.release("rel", &other, &manifest(V, &[entry(&bin)]), &bin);
    // No binary at all: the manifest's signature is what fails, before the binary is looked for.
    std::fs::remove_file(src.join(V).join("linux-x64/claude")).expect("rm");
    let out = ws.run(
        "fetch",
        &format!("claude-native:{V}/linux-x64"),
        &src.display().to_string(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(err(&out).contains("vendor-signature"), "{}", err(&out));
    // Without the override the pinned Claude Code key is required, and did not sign either.
    let cache = ws.path("cache").display().to_string();
    let out = ws.vetted(&[
        "fetch",
        &format!("claude-native:{V}/linux-x64"),
        "--vendor-source",
        &src.display().to_string(),
        "--cache-dir",
        &cache,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        err(&out).contains("31DDDE24DDFAB679F42D7BD2BAA929FF1A7ECACE"),
        "{}",
        err(&out)
    );
}

#[test]
fn native_platform_missing_from_the_signed_manifest_is_rejected() {
    let ws = Ws::new();
    let bin = bun_binary("5");
    let src = ws.release("rel", &ws.key, &manifest(V, &[entry(&bin)]), &bin);
    let out = ws.run(
        "fetch",
        &format!("claude-native:{V}/darwin-arm64"),
        &src.display().to_string(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        err(&out).contains("no entry for platform darwin-arm64 (it lists: linux-x64)"),
        "{}",
        err(&out)
    );
}

#[test]
fn native_manifest_of_another_version_is_rejected() {
    let ws = Ws::new();
    let bin = bun_binary("6");
    let src = ws.release("rel", &ws.key, &manifest("9.9.8", &[entry(&bin)]), &bin);
    let out = ws.run(
        "fetch",
        &format!("claude-native:{V}/linux-x64"),
        &src.display().to_string(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        err(&out).contains("for version 9.9.8, expected 9.9.9"),
        "{}",
        err(&out)
    );
}

#[test]
fn malformed_native_specs_are_usage_errors() {
    let ws = Ws::new();
    for spec in [
        "claude-native:9.9.9",
        "claude-native:9.9.9/../x",
        "claude-native:latest/linux-x64",
    ] {
        let out = ws.run("fetch", spec, &ws.path("").display().to_string(), &[]);
        assert_eq!(out.status.code(), Some(2), "{spec}: {}", err(&out));
    }
}

// ---- the loopback HTTP source ---------------------------------------------------------------

#[test]
fn native_release_over_loopback_http_is_admitted_and_a_tampered_binary_is_not() {
    let ws = Ws::new();
    let bin = bun_binary("7");
    let root = ws.release("rel", &ws.key, &manifest(V, &[entry(&bin)]), &bin);
    let server = StaticServer::start(&root);
    ws.certify(&root.display().to_string());
    let out = ws.admit(&server.base(), "store");
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let report = json(&out);
    assert!(
        report.to_string().contains(&format!(
            "{}/{V}/linux-x64/claude matches the signed linux-x64 entry",
            server.base()
        )),
        "{report}"
    );
    // The binary on the server changes by one byte: rejected, and nothing new enters the cache.
    let before = cache_blobs(&ws);
    let mut bad = bin.clone();
    bad[60_000] ^= 1;
    std::fs::write(root.join(V).join("linux-x64/claude"), &bad).expect("tamper");
    let out = ws.admit(&server.base(), "store2");
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        err(&out).contains(&vetted::digest::sha256(&bad).hex()),
        "{}",
        err(&out)
    );
    assert_eq!(
        cache_blobs(&ws),
        before,
        "a mismatch leaves nothing in the cache"
    );
    assert!(!ws.path("store2/index.json").exists());
}

// ---- serve in the vendor's layout -----------------------------------------------------------

struct Serve {
    child: std::process::Child,
    url: String,
}

impl Serve {
    fn start(store: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args([
                "serve",
                "--store",
                &store.display().to_string(),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn served_native_layout_is_fetched_like_the_installer_and_matches() {
    if !have("curl") || !(have("sha256sum") || have("shasum")) {
        eprintln!("SKIPPED served_native_layout...: curl or sha256sum missing");
        return;
    }
    let ws = Ws::new();
    let bin = bun_binary("8");
    let other = bun_binary("8-arm");
    let m = manifest(
        V,
        &[
            entry(&bin),
            (
                "linux-arm64",
                vetted::digest::sha256(&other).hex(),
                other.len() as u64,
            ),
        ],
    );
    let src = ws.release("rel", &ws.key, &m, &bin);
    std::fs::write(src.join("stable"), format!("{V}\n")).expect("stable pointer");
    ws.certify(&src.display().to_string());
    let out = ws.admit(&src.display().to_string(), "store");
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let server = Serve::start(&ws.path("store"));
    let base = format!("{}/claude-code-releases", server.url);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/native_installer.sh");
    let dest = ws.path("installed");
    let out = Command::new("sh")
        .arg(&script)
        .args([&base, "latest", "linux-x64", &dest.display().to_string()])
        .env("VETTED", env!("CARGO_BIN_EXE_vetted"))
        .env("VENDOR_KEY", ws.path("vendor-key.asc"))
        .env("VENDOR_FPR", fpr(&ws.key.primary_key))
        .output()
        .expect("run installer script");
    assert_eq!(
        out.status.code(),
        Some(0),
        "installer: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        err(&out)
    );
    assert_eq!(std::fs::read(dest.join("claude")).expect("installed"), bin);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("installed {V} linux-x64")));
    // `stable` names the admitted version the vendor's pointer named.
    let stable = Command::new("curl")
        .args(["-fsS", &format!("{base}/stable")])
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&stable.stdout).trim(), V);
    // The manifest lists linux-arm64, which was not admitted: the mirror does not serve it,
    // and nothing but admitted versions exists.
    for missing in [
        format!("{base}/{V}/linux-arm64/claude"),
        format!("{base}/9.9.8/manifest.json"),
        format!("{base}/{V}/linux-x64/claude.exe"),
        format!("{base}/{V}/../index.json"),
    ] {
        let o = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &missing])
            .output()
            .expect("curl");
        assert_eq!(String::from_utf8_lossy(&o.stdout), "404", "{missing}");
    }
    // A binary altered in the store after admission is not served.
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    let p = &index.native["claude-code"].releases[V].platforms["linux-x64"];
    let blob = ws
        .path("store")
        .join(vetted::store::blob_key(&p.digests.sha512));
    let mut bytes = std::fs::read(&blob).expect("blob");
    bytes[70_000] ^= 1;
    std::fs::write(&blob, bytes).expect("tamper");
    let out = Command::new("sh")
        .arg(&script)
        .args([
            &base,
            V,
            "linux-x64",
            &ws.path("again").display().to_string(),
        ])
        .env("VETTED", env!("CARGO_BIN_EXE_vetted"))
        .env("VENDOR_KEY", ws.path("vendor-key.asc"))
        .env("VENDOR_FPR", fpr(&ws.key.primary_key))
        .output()
        .expect("run installer script");
    assert_ne!(
        out.status.code(),
        Some(0),
        "a corrupt blob must not install"
    );
    assert!(!ws.path("again/claude").exists());
}

// ---- audit-installed against the signed checksums -------------------------------------------

#[test]
fn native_install_is_checked_against_the_signed_checksums() {
    let ws = Ws::new();
    let bin = bun_binary("9");
    let src = ws.release("rel", &ws.key, &manifest(V, &[entry(&bin)]), &bin);
    ws.certify(&src.display().to_string());
    let home = ws.path("home");
    let versions = home.join(".local/share/claude/versions");
    std::fs::create_dir_all(&versions).expect("versions");
    std::fs::write(versions.join(V), &bin).expect("install");
    let audit = |source: &Path| {
        let key = ws.key_args(&source.display().to_string());
        let mut args = vec![
            "audit-installed".to_string(),
            home.display().to_string(),
            "--ledger".into(),
            ws.path("ledger").display().to_string(),
            "--json".into(),
        ];
        args.extend(key);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ws.vetted(&args)
    };
    let out = audit(&src);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    let j = json(&out);
    assert_eq!(j["copies"][0]["status"], "match", "{j}");
    assert_eq!(
        j["copies"][0]["vendor_signature"]["binary"]["matches"],
        true
    );
    // The ledger's audit covers the installed bytes, but the vendor's signed manifest lists
    // other ones (a build the vendor never published): unsigned, exit 1.
    let elsewhere = bun_binary("9-vendor");
    let other = ws.release(
        "other",
        &ws.key,
        &manifest(V, &[entry(&elsewhere)]),
        &elsewhere,
    );
    let out = audit(&other);
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    let j = json(&out);
    assert_eq!(j["copies"][0]["status"], "vendor-mismatch", "{j}");
    assert!(
        err(&out).contains(&vetted::digest::sha256(&bin).hex()),
        "{}",
        err(&out)
    );
    // No signed manifest for the version at all: unsigned too.
    let empty = ws.path("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = audit(&empty);
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        err(&out).contains("no signed release manifest"),
        "{}",
        err(&out)
    );
}
