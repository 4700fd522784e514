//! End to end: packages served by `vetted serve`, installed by the real npm client, then
//! checked by `vetted audit-installed` against a ledger that audited the same builds. This
//! shows npm adds nothing to a package directory (bin links go to node_modules/.bin) and that a
//! file changed after installation is caught. Skipped when `npm` is not on PATH.
mod audit_support;
mod serve_support;

use audit_support::{Pkg, audit, copy};
use serde_json::json;
use serve_support::{Admitted, Server, tarball_of, write_store};
use std::process::Command;

#[test]
fn what_npm_installs_from_vetted_serve_matches_the_audited_builds() {
    if !Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipping: npm is not on PATH");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = tmp.path().join("ledger");
    let mk = |name: &str, version: &str, pj: serde_json::Value, files: &[(&str, &[u8])]| {
        let mut p = Pkg::new(name, version, files);
        p.files[0].1 = serde_json::to_vec_pretty(&pj).expect("json");
        p
    };
    let dep = mk(
        "@vt/dep",
        "1.0.0",
        json!({"name": "@vt/dep", "version": "1.0.0", "main": "index.js"}),
        &[("index.js", b"module.exports = 42;\n")],
    );
    let tool = mk(
        "vt-tool",
        "3.0.0",
        json!({"name": "vt-tool", "version": "3.0.0", "bin": {"vt-tool": "bin/cli.js"}, "dependencies": {"@vt/dep": "1.0.0"}}),
        &[
            (
                "bin/cli.js",
                b"#!/usr/bin/env node\nconsole.log(require('@vt/dep'));\n",
            ),
            ("lib/x.js", b"x\n"),
        ],
    );
    let mut admitted = Vec::new();
    for p in [&dep, &tool] {
        p.certify(&ledger);
        let meta: serde_json::Value = serde_json::from_slice(&p.files[0].1).expect("pj");
        admitted.push(Admitted::new(
            &p.name,
            &p.version,
            tarball_of(&p.files),
            meta,
        ));
    }
    let store = tmp.path().join("store");
    write_store(&store, &admitted);
    let server = Server::start(&store, &[]);

    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join("npmrc"), "").expect("npmrc");
    let proj = tmp.path().join("proj");
    std::fs::create_dir_all(&proj).expect("proj");
    let o = Command::new("npm")
        .args([
            "install",
            "vt-tool@3.0.0",
            "--no-audit",
            "--no-fund",
            "--prefer-online",
            "--no-update-notifier",
        ])
        .arg("--registry")
        .arg(format!("{}/", server.base))
        .current_dir(&proj)
        .env("npm_config_cache", home.join("cache"))
        .env("npm_config_userconfig", home.join("npmrc"))
        .env("npm_config_globalconfig", home.join("global-npmrc"))
        .env("HOME", &home)
        .output()
        .expect("npm");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        proj.join("node_modules/.bin/vt-tool").exists(),
        "npm linked the bin"
    );

    let (code, json, stderr) = audit(&proj, &ledger);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    assert_eq!(copy(&json, "node_modules/vt-tool")["status"], "match");
    assert_eq!(copy(&json, "node_modules/@vt/dep")["status"], "match");

    std::fs::write(
        proj.join("node_modules/@vt/dep/index.js"),
        b"module.exports = 43;\n",
    )
    .expect("tamper");
    let (code, json, _) = audit(&proj, &ledger);
    assert_eq!(code, 1);
    assert_eq!(
        copy(&json, "node_modules/@vt/dep")["modified"][0]["path"],
        "index.js"
    );
}
