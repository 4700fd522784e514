//! `vetted admit https://…/ASSET --bundle …`: a release asset signed with Sigstore keyless
//! (as Codex CLI signs its Linux binaries with cosign from its release workflow), served over
//! loopback. The asset and bundle are the Sigstore conformance suite's `happy-path-v0.3` case
//! (artifact `a.txt`, signed by the conformance beacon workflow, public-good root), so the
//! verification is the real one; the ledger review is the project's own.
mod common;
mod static_server;
use static_server::StaticServer;
use std::path::PathBuf;
use std::process::Output;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const NAME: &str = "conformance-a-txt";
const VERSION: &str = "1.0.0";

const POLICY: &str = r#"
[[package]]
ecosystem = "release-asset"
name = "conformance-a-txt"
criteria = ["safe-to-run"]
provenance = "not-required"
"#;

/// A workspace: policy, empty ledger, a served `rel/` directory, a cache.
struct Ws {
    dir: tempfile::TempDir,
    server: StaticServer,
    case: PathBuf,
}

impl Ws {
    fn new(test: &str) -> Option<Ws> {
        let corpus = common::corpus(test)?;
        let cases = corpus.join("sigstore-conformance/bundle-verify");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("ledger")).expect("ledger");
        std::fs::write(dir.path().join("ledger/audits.toml"), "").expect("audits");
        std::fs::write(dir.path().join("vetted.toml"), POLICY).expect("policy");
        let rel = dir.path().join("rel");
        std::fs::create_dir_all(&rel).expect("rel");
        std::fs::copy(cases.join("a.txt"), rel.join("a.txt")).expect("asset");
        std::fs::copy(
            cases.join("happy-path-v0.3/bundle.sigstore.json"),
            rel.join("a.txt.sigstore.json"),
        )
        .expect("bundle");
        let server = StaticServer::start(&rel);
        Some(Ws {
            dir,
            server,
            case: cases,
        })
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn p(&self, p: &str) -> String {
        self.path(p).display().to_string()
    }

    fn vetted(&self, args: &[&str]) -> Output {
        let cache = self.p("cache");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--cache-dir", &cache, "--retries", "0"]);
        common::vetted(&all)
    }

    /// Review the served `file` as `release-asset:NAME@VERSION` (inspect, then certify).
    fn certify(&self, file: &str) {
        let out = self.vetted(&["inspect", &self.server.url(file), "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "inspect: {}",
            common::stderr(&out)
        );
        let m = self.path("asset-manifest.json");
        std::fs::write(&m, &out.stdout).expect("manifest");
        let out = common::vetted([
            "certify",
            &format!("release-asset:{NAME}@{VERSION}"),
            "--manifest",
            &m.display().to_string(),
            "--criteria",
            "safe-to-run",
            "--who",
            "Tester <t@example.com>",
            "--ledger",
            &self.p("ledger"),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "certify: {}",
            common::stderr(&out)
        );
    }

    /// `admit URL --bundle B --certificate-identity I --certificate-oidc-issuer ISSUER …`
    /// with `extra` replacing nothing (appended).
    fn admit(&self, url: &str, bundle: Option<&str>, identity: &str, extra: &[&str]) -> Output {
        let (policy, ledger, store) = (self.p("vetted.toml"), self.p("ledger"), self.p("store"));
        let mut args = vec![
            "admit",
            url,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            ISSUER,
            "--asset-name",
            NAME,
            "--asset-version",
            VERSION,
            "--policy",
            &policy,
            "--ledger",
            &ledger,
            "--store",
            &store,
            "--json",
        ];
        if let Some(b) = bundle {
            args.extend(["--bundle", b]);
        }
        args.extend_from_slice(extra);
        self.vetted(&args)
    }

    fn index(&self) -> serde_json::Value {
        match std::fs::read(self.path("store/index.json")) {
            Ok(b) => serde_json::from_slice(&b).expect("index json"),
            Err(_) => serde_json::Value::Null,
        }
    }
}

fn report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            common::stderr(out)
        )
    })
}

fn failed_checks(out: &Output) -> Vec<String> {
    let r = report(out);
    r["artifacts"][0]["checks"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["status"] == "fail")
                .map(|c| {
                    format!(
                        "{}: {}",
                        c["name"].as_str().unwrap_or_default(),
                        c["detail"]
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn signed_reviewed_release_asset_is_admitted_with_its_sigstore_identity_recorded() {
    let Some(ws) = Ws::new("signed_reviewed_release_asset_is_admitted") else {
        return;
    };
    ws.certify("a.txt");
    let bundle = ws.path("rel/a.txt.sigstore.json").display().to_string();
    let out = ws.admit(&ws.server.url("a.txt"), Some(&bundle), IDENTITY, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let r = report(&out);
    assert_eq!(r["verdict"], "admitted");
    let entry = &ws.index()["assets"][NAME][VERSION];
    assert_eq!(entry["identity"], IDENTITY, "{}", ws.index());
    let record_key = entry["record"].as_str().expect("record key");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.path("store").join(record_key)).expect("record"))
            .expect("record json");
    assert_eq!(record["sigstore"]["verified"], true);
    assert_eq!(record["package"]["ecosystem"], "release-asset");
    let sha512 = entry["digests"]["sha512"].as_str().expect("sha512");
    let blob = sha512.split_once(':').map_or(sha512, |(_, hex)| hex);
    let stored = std::fs::read(ws.path("store/blobs/sha512").join(blob)).expect("blob");
    assert_eq!(stored, std::fs::read(ws.case.join("a.txt")).expect("a.txt"));
}

#[test]
fn bundle_fetched_from_a_url_verifies_like_a_file() {
    let Some(ws) = Ws::new("bundle_fetched_from_a_url_verifies_like_a_file") else {
        return;
    };
    ws.certify("a.txt");
    let out = ws.admit(
        &ws.server.url("a.txt"),
        Some(&ws.server.url("a.txt.sigstore.json")),
        IDENTITY,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
}

#[test]
fn asset_one_byte_off_from_the_signed_bytes_is_rejected() {
    let Some(ws) = Ws::new("asset_one_byte_off_from_the_signed_bytes_is_rejected") else {
        return;
    };
    let mut bytes = std::fs::read(ws.path("rel/a.txt")).expect("a.txt");
    bytes[0] ^= 1;
    std::fs::write(ws.path("rel/a-tampered.txt"), &bytes).expect("write");
    // Reviewed: the ledger covers these very bytes, so only the signature can stop them.
    ws.certify("a-tampered.txt");
    let bundle = ws.p("rel/a.txt.sigstore.json");
    let out = ws.admit(
        &ws.server.url("a-tampered.txt"),
        Some(&bundle),
        IDENTITY,
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let failed = failed_checks(&out);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("artifact-digest"), "{failed:?}");
    assert!(ws.index()["assets"].is_null(), "nothing admitted");
}

#[test]
fn bundle_of_another_artifact_is_rejected() {
    let Some(ws) = Ws::new("bundle_of_another_artifact_is_rejected") else {
        return;
    };
    // Another artifact of the suite, served under the asset's URL; the bundle is a.txt's.
    std::fs::copy(
        ws.case.join("intoto-with-custom-trust-root/artifact"),
        ws.path("rel/other"),
    )
    .expect("other");
    ws.certify("other");
    let bundle = ws.p("rel/a.txt.sigstore.json");
    let out = ws.admit(&ws.server.url("other"), Some(&bundle), IDENTITY, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let failed = failed_checks(&out);
    assert!(
        failed.len() == 1 && failed[0].contains("artifact-digest"),
        "{failed:?}"
    );
    assert!(ws.index()["assets"].is_null(), "nothing admitted");
}

#[test]
fn asset_signed_by_another_identity_is_rejected() {
    let Some(ws) = Ws::new("asset_signed_by_another_identity_is_rejected") else {
        return;
    };
    ws.certify("a.txt");
    let bundle = ws.p("rel/a.txt.sigstore.json");
    let other =
        "https://github.com/openai/codex/.github/workflows/rust-release.yml@refs/tags/rust-v0.63.0";
    let out = ws.admit(&ws.server.url("a.txt"), Some(&bundle), other, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let failed = failed_checks(&out);
    assert!(
        failed.len() == 1
            && failed[0].contains("certificate-identity")
            && failed[0].contains(IDENTITY)
            && failed[0].contains(other),
        "the reason names the identities: {failed:?}"
    );
    assert!(ws.index()["assets"].is_null(), "nothing admitted");
}

#[test]
fn release_asset_without_a_bundle_is_a_usage_error() {
    let Some(ws) = Ws::new("release_asset_without_a_bundle_is_a_usage_error") else {
        return;
    };
    ws.certify("a.txt");
    let out = ws.admit(&ws.server.url("a.txt"), None, IDENTITY, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("--bundle"),
        "{}",
        common::stderr(&out)
    );
    assert!(ws.index().is_null(), "nothing written");
}

#[test]
fn signed_but_unreviewed_release_asset_is_rejected() {
    let Some(ws) = Ws::new("signed_but_unreviewed_release_asset_is_rejected") else {
        return;
    };
    let bundle = ws.p("rel/a.txt.sigstore.json");
    let out = ws.admit(&ws.server.url("a.txt"), Some(&bundle), IDENTITY, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let failed = failed_checks(&out);
    assert!(
        !failed.is_empty() && failed.iter().all(|f| f.starts_with("review: ")),
        "{failed:?}"
    );
    assert!(ws.index()["assets"].is_null(), "nothing admitted");
}
