//! `vetted admit` with `vendor-manifest = "claude-code"`: Claude Code's npm platform package must
//! carry the binary the vendor's signed release manifest lists. A loopback registry serves
//! generated `@anthropic-ai/claude-code` packages (a fixture binary stands in for the real
//! 218 MiB one); the manifests are signed by a key the test generates, trusted with
//! `--insecure-vendor-key`, and read from an air-gapped directory (`--vendor-source DIR`).
mod common;
mod gate_support;
mod vendor_support;
use gate_support::{Published, Upstream, Workspace, checks, days_ago, failed, json};
use serde_json::json;
use vendor_support::*;

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "@anthropic-ai/claude-code"
criteria = ["safe-to-run"]
provenance = "not-required"
platforms = ["linux-x64"]
vendor-manifest = "claude-code"

[[package]]
ecosystem = "npm"
name = "@anthropic-ai/claude-code-*"
criteria = ["safe-to-run"]
provenance = "not-required"
vendor-manifest = "claude-code"
"#;

const WRAPPER: &str = "@anthropic-ai/claude-code";
const LINUX: &str = "@anthropic-ai/claude-code-linux-x64";

fn binary(tag: &str) -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\0".to_vec();
    b.extend(
        format!("claude native build {tag}\n")
            .bytes()
            .cycle()
            .take(64 * 1024),
    );
    b
}

/// Publish the wrapper and its linux-x64 and darwin-arm64 packages at `version`, the linux
/// package carrying `bin` as `package/claude`.
fn publish(up: &Upstream, version: &str, bin: &[u8]) {
    let mut wrapper = Published::new(WRAPPER, version, &days_ago(10));
    wrapper.meta = json!({
        "bin": {"claude": "bin/claude.exe"},
        "optionalDependencies": {LINUX: version, "@anthropic-ai/claude-code-darwin-arm64": version},
    });
    up.publish(wrapper);
    let mut linux = Published::new(LINUX, version, &days_ago(10));
    linux.meta = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]});
    linux.files = vec![("claude".into(), bin.to_vec())];
    up.publish(linux);
    let mut mac = Published::new(
        "@anthropic-ai/claude-code-darwin-arm64",
        version,
        &days_ago(10),
    );
    mac.meta = json!({"os": ["darwin"], "cpu": ["arm64"]});
    mac.files = vec![("claude".into(), b"\xcf\xfa\xed\xfe mach-o".to_vec())];
    up.publish(mac);
}

struct Vendor {
    key: pgp::composed::SignedSecretKey,
}

impl Vendor {
    fn new() -> Vendor {
        Vendor {
            key: gen_key(21, "Test Release Signing <release@example.com>", false),
        }
    }

    /// Write `<dir>/<version>/manifest.json` (+ `.sig`) for `manifest` bytes.
    fn publish(&self, ws: &Workspace, version: &str, manifest: &[u8]) {
        let dir = ws.path("vendor").join(version);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("manifest.json"), manifest).expect("manifest");
        std::fs::write(dir.join("manifest.json.sig"), sign(&self.key, manifest)).expect("sig");
    }

    fn args(&self, ws: &Workspace) -> Vec<String> {
        let key = ws.path("vendor-key.asc");
        std::fs::write(&key, armored_public(&pubkey(&self.key))).expect("key");
        vec![
            "--vendor-source".into(),
            ws.path("vendor").display().to_string(),
            "--insecure-vendor-key".into(),
            key.display().to_string(),
            "--insecure-vendor-key-fingerprint".into(),
            fpr(&self.key.primary_key),
        ]
    }
}

fn setup(version: &str, bin: &[u8]) -> (Workspace, Vendor) {
    let up = Upstream::start();
    publish(&up, version, bin);
    let ws = Workspace::new(up, POLICY);
    std::fs::create_dir_all(ws.path("vendor")).expect("vendor dir");
    ws.certify(&format!("npm:{WRAPPER}@{version}"));
    ws.certify(&format!("npm:{LINUX}@{version}"));
    (ws, Vendor::new())
}

fn admit(ws: &Workspace, v: &Vendor, version: &str, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = v.args(ws);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ws.admit(&format!("npm:{WRAPPER}@{version}"), &args)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn binary_matching_the_signed_manifest_is_admitted_and_recorded_with_the_vendor_signature() {
    let bin = binary("1");
    let (ws, vendor) = setup("9.9.9", &bin);
    vendor.publish(&ws, "9.9.9", &manifest_for("9.9.9", &bin));
    let key = p256::ecdsa::SigningKey::from_slice(&[42u8; 32]).expect("key");
    use p256::pkcs8::EncodePrivateKey;
    let pem = key.to_pkcs8_pem(Default::default()).expect("pem");
    std::fs::write(ws.path("org.pem"), pem.as_bytes()).expect("write key");
    let org = ws.path("org.pem").display().to_string();
    let out = admit(&ws, &vendor, "9.9.9", &["--signing-key", &org]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert!(
        checks(&report, &format!("{LINUX}@9.9.9"))
            .contains(&("vendor-signature".into(), "pass".into())),
        "{report}"
    );
    assert!(
        checks(&report, &format!("{WRAPPER}@9.9.9"))
            .contains(&("vendor-signature".into(), "skipped".into())),
        "{report}"
    );
    let store = vetted::store::Store::open(&ws.path("store"));
    let index = store.index().expect("index");
    let v = &index.packages[LINUX].versions["9.9.9"];
    let record = store.record(&v.record).expect("record");
    let vs = &record["vendor_signature"];
    assert_eq!(vs["signer_fingerprint"], fpr(&vendor.key.primary_key));
    assert_eq!(vs["version"], "9.9.9");
    assert_eq!(vs["binary"]["path"], "package/claude");
    assert_eq!(vs["binary"]["sha256"], vetted::digest::sha256(&bin).hex());
    assert_eq!(vs["binary"]["matches"], true);
    // The VSA names the vendor signature as a verified level and its files as inputs.
    let predicate = &record["vsa"];
    let payload = predicate["payload"].as_str().expect("DSSE payload");
    use base64::Engine as _;
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(payload)
            .expect("base64"),
    )
    .expect("statement");
    let levels = statement["predicate"]["verifiedLevels"].to_string();
    assert!(levels.contains("VETTED_VENDOR_SIGNATURE"), "{levels}");
    let inputs = statement["predicate"]["inputAttestations"].to_string();
    assert!(inputs.contains("9.9.9/manifest.json.sig"), "{inputs}");
    // The wrapper's record does not claim a vendor signature over its bytes.
    let w = &index.packages[WRAPPER].versions["9.9.9"];
    assert!(store.record(&w.record).expect("record")["vendor_signature"].is_null());
}

#[test]
fn platform_binary_one_byte_off_the_signed_manifest_is_rejected() {
    let bin = binary("2");
    let (ws, vendor) = setup("9.9.9", &bin);
    let mut listed = bin.clone();
    listed[100] ^= 1;
    vendor.publish(&ws, "9.9.9", &manifest_for("9.9.9", &listed));
    let out = admit(&ws, &vendor, "9.9.9", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(
        failed(&report, &format!("{LINUX}@9.9.9")),
        ["vendor-signature"]
    );
    let err = stderr(&out);
    assert!(
        err.contains(&vetted::digest::sha256(&bin).hex())
            && err.contains(&vetted::digest::sha256(&listed).hex()),
        "names expected and actual: {err}"
    );
    assert!(
        !ws.path("store/index.json").exists()
            || report["admitted"].as_array().is_some_and(|a| a.is_empty())
    );
}

#[test]
fn release_without_a_signed_manifest_is_rejected() {
    let bin = binary("3");
    let (ws, vendor) = setup("9.9.9", &bin);
    let out = admit(&ws, &vendor, "9.9.9", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no signed release manifest"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn manifest_signed_by_a_key_other_than_the_pinned_one_is_rejected() {
    let bin = binary("4");
    let (ws, vendor) = setup("9.9.9", &bin);
    vendor.publish(&ws, "9.9.9", &manifest_for("9.9.9", &bin));
    // No --insecure-vendor-key: the pinned Claude Code key must have signed, and did not.
    let dir = ws.path("vendor").display().to_string();
    let out = ws.admit(&format!("npm:{WRAPPER}@9.9.9"), &["--vendor-source", &dir]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("only the pinned claude-code key 31DDDE24DDFAB679F42D7BD2BAA929FF1A7ECACE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn manifest_of_another_version_replayed_for_this_one_is_rejected() {
    let bin = binary("5");
    let (ws, vendor) = setup("9.9.9", &bin);
    // A validly signed manifest for 9.9.8 that happens to list the same binary, served as 9.9.9's.
    vendor.publish(&ws, "9.9.9", &manifest_for("9.9.8", &bin));
    let out = admit(&ws, &vendor, "9.9.9", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("for version 9.9.8, expected 9.9.9"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tampered_manifest_is_rejected() {
    let bin = binary("6");
    let (ws, vendor) = setup("9.9.9", &bin);
    vendor.publish(&ws, "9.9.9", &manifest_for("9.9.9", &bin));
    let p = ws.path("vendor/9.9.9/manifest.json");
    let text = std::fs::read_to_string(&p)
        .expect("read")
        .replace("2026-01-02", "2026-01-03");
    std::fs::write(&p, text).expect("write");
    let out = admit(&ws, &vendor, "9.9.9", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("BAD signature"), "{}", stderr(&out));
}

#[test]
fn vendor_source_that_is_neither_url_nor_directory_is_a_usage_error() {
    let bin = binary("7");
    let (ws, _) = setup("9.9.9", &bin);
    let out = ws.admit(
        &format!("npm:{WRAPPER}@9.9.9"),
        &["--vendor-source", "/nonexistent/vendor"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
