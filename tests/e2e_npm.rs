//! End to end, offline, with the real npm client: certify the wrapper and the linux-x64 package
//! of a release → `vetted admit` → `vetted serve` on 127.0.0.1 → `npm view` lists only that
//! version → `npm install` of it succeeds (the wrapper's postinstall copies the platform binary,
//! as Claude Code's `install.cjs` does) and the binary has the audited sha256 → `npm install` of
//! the next release fails → `vetted audit-installed node_modules` exits 0 → change one installed
//! file → it exits 1 and names the file.
//!
//! The packages are generated and served by a fake upstream on loopback under Claude Code's
//! names; `bench/e2e-claude.sh` runs the same flow on the real releases from the registry.
mod gate_support;
mod serve_support;

use gate_support::{Published, Upstream, Workspace, days_ago};
use serde_json::json;
use serve_support::{Server, npm, npm_available};
use sha2::Digest as _;
use std::process::{Command, Output};

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "@anthropic-ai/claude-code"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]
min-age = "1d"

[[package]]
ecosystem = "npm"
name = "@anthropic-ai/claude-code-*"
criteria = ["safe-to-run"]
provenance = "if-present"
min-age = "1d"
"#;

const INSTALL_CJS: &str = r#"// Like Claude Code's install.cjs: copy the platform package's binary over bin/claude.exe.
const fs = require('fs'), path = require('path');
const pkg = `@anthropic-ai/claude-code-${process.platform}-${process.arch}`;
let src;
try { src = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'claude'); } catch (e) { process.exit(0); }
fs.copyFileSync(src, path.join(__dirname, 'bin', 'claude.exe'));
fs.chmodSync(path.join(__dirname, 'bin', 'claude.exe'), 0o755);
"#;

fn publish(up: &Upstream, version: &str) {
    let mut w = Published::new("@anthropic-ai/claude-code", version, &days_ago(5));
    w.meta = json!({
        "bin": {"claude": "bin/claude.exe"},
        "scripts": {"postinstall": "node install.cjs"},
        "optionalDependencies": {
            "@anthropic-ai/claude-code-linux-x64": version,
            "@anthropic-ai/claude-code-darwin-arm64": version,
        },
    });
    w.files = vec![
        ("install.cjs".into(), INSTALL_CJS.as_bytes().to_vec()),
        (
            "bin/claude.exe".into(),
            b"#!/bin/sh\necho 'claude: the postinstall did not run'\nexit 1\n".to_vec(),
        ),
    ];
    up.publish(w);
    let mut l = Published::new("@anthropic-ai/claude-code-linux-x64", version, &days_ago(5));
    l.meta = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]});
    let mut binary = b"\x7fELF\x02\x01\x01\x00".to_vec();
    binary.extend_from_slice(
        format!("claude native {version} https://api.anthropic.com\n").as_bytes(),
    );
    l.files = vec![("claude".into(), binary)];
    up.publish(l);
    let mut d = Published::new(
        "@anthropic-ai/claude-code-darwin-arm64",
        version,
        &days_ago(5),
    );
    d.meta = json!({"os": ["darwin"], "cpu": ["arm64"]});
    d.files = vec![("claude".into(), b"\xcf\xfa\xed\xfe".to_vec())];
    up.publish(d);
}

fn say(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn certify_admit_serve_install_audit() {
    if !npm_available() {
        eprintln!("SKIPPED certify_admit_serve_install_audit: npm is not on PATH");
        return;
    }
    if std::env::consts::OS != "linux" || std::env::consts::ARCH != "x86_64" {
        eprintln!("SKIPPED certify_admit_serve_install_audit: the fixture is a linux-x64 release");
        return;
    }
    let up = Upstream::start();
    publish(&up, "2.0.0");
    publish(&up, "2.0.1");
    let ws = Workspace::new(up, POLICY);
    ws.certify("npm:@anthropic-ai/claude-code@2.0.0");
    ws.certify("npm:@anthropic-ai/claude-code-linux-x64@2.0.0");
    let out = ws.admit("npm:@anthropic-ai/claude-code@2.0.0", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", say(&out));

    let server = Server::start(&ws.path("store"), &[]);
    let home = ws.path("npm-home");
    let project = ws.path("project");

    let view = npm(
        &project,
        &home,
        &server.base,
        &["view", "@anthropic-ai/claude-code", "versions", "--json"],
    );
    assert!(view.status.success(), "{}", say(&view));
    let versions: serde_json::Value = serde_json::from_slice(&view.stdout).expect("json");
    assert_eq!(
        versions,
        json!(["2.0.0"]),
        "only the admitted version exists"
    );

    let install = npm(
        &project,
        &home,
        &server.base,
        &["install", "@anthropic-ai/claude-code@2.0.0"],
    );
    assert!(install.status.success(), "{}", say(&install));
    let nm = project.join("node_modules");
    let binary = std::fs::read(nm.join("@anthropic-ai/claude-code-linux-x64/claude"))
        .expect("platform binary installed");
    let audited = {
        let ledger = vetted::ledger::Ledger::load(&ws.path("ledger")).expect("ledger");
        let audit = ledger
            .audits()
            .find(|a| a.package.name.as_str() == "@anthropic-ai/claude-code-linux-x64")
            .expect("audit")
            .clone();
        let m =
            vetted::ledger::load_manifest(&ws.path("ledger"), &audit.manifest).expect("manifest");
        m.entries["package/claude"].sha256.clone().expect("sha256")
    };
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&binary)),
        audited.hex(),
        "installed binary has the audited sha256"
    );
    assert_eq!(
        std::fs::read(nm.join("@anthropic-ai/claude-code/bin/claude.exe")).expect("bin"),
        binary,
        "the postinstall copied the platform binary over bin/claude.exe"
    );
    assert!(
        !nm.join("@anthropic-ai/claude-code-darwin-arm64").exists(),
        "not admitted, not installed"
    );

    let next = npm(
        &ws.path("project2"),
        &home,
        &server.base,
        &["install", "@anthropic-ai/claude-code@2.0.1"],
    );
    assert!(
        !next.status.success(),
        "the unadmitted release must not install: {}",
        say(&next)
    );

    let audit = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args([
                "audit-installed",
                &nm.display().to_string(),
                "--ledger",
                &ws.path("ledger").display().to_string(),
            ])
            .args(args)
            .output()
            .expect("audit")
    };
    let ok = audit(&["--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", say(&ok));
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("json");
    let statuses: Vec<&str> = report["copies"]
        .as_array()
        .expect("copies")
        .iter()
        .filter_map(|c| c["status"].as_str())
        .collect();
    assert_eq!(statuses, ["match", "match"], "{report}");

    let changed = nm.join("@anthropic-ai/claude-code/install.cjs");
    std::fs::write(&changed, "// replaced\n").expect("tamper");
    let bad = audit(&[]);
    assert_eq!(bad.status.code(), Some(1), "{}", say(&bad));
    assert!(
        say(&bad).contains("install.cjs"),
        "names the file: {}",
        say(&bad)
    );
}
