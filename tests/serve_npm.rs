//! `vetted serve` with the real npm client on loopback: `npm view` sees only admitted versions,
//! `npm install` gets byte-identical files (dependencies resolved among admitted versions), a
//! version that is not admitted cannot be installed, and a blob altered on disk fails the install
//! and is logged. Skipped (with a message) when `npm` is not on PATH.
mod serve_support;

use serde_json::json;
use serve_support::{Admitted, Server, blob_path, npm, npm_available, npm_tarball, write_store};
use std::process::Output;

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn lib(name: &str, version: &str) -> String {
    format!(
        "module.exports = function () {{ return {:?}; }};\n",
        format!("{name}@{version}")
    )
}

#[test]
fn real_npm_client_sees_only_admitted_versions_and_byte_identical_files() {
    if !npm_available() {
        eprintln!("skipping: npm is not on PATH");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    let mut admitted = Vec::new();
    let mut files = std::collections::BTreeMap::new();
    for (name, version, deps) in [
        ("vt-dep", "1.0.0", json!({})),
        ("vt-dep", "1.1.0", json!({})),
        (
            "vt-app",
            "1.0.0",
            json!({"vt-dep": "^1.0.0", "@vt/util": "0.2.0"}),
        ),
        (
            "vt-app",
            "1.2.0",
            json!({"vt-dep": "^1.0.0", "@vt/util": "0.2.0"}),
        ),
        ("@vt/util", "0.2.0", json!({})),
    ] {
        let index = lib(name, version);
        let readme = format!("# {name}\n");
        let extra = json!({"main": "index.js", "dependencies": deps});
        let tgz = npm_tarball(
            name,
            version,
            extra.clone(),
            &[
                ("index.js", index.as_bytes()),
                ("README.md", readme.as_bytes()),
            ],
        );
        files.insert((name, version), index);
        let mut meta = extra;
        meta["name"] = json!(name);
        meta["version"] = json!(version);
        admitted.push(Admitted::new(name, version, tgz, meta));
    }
    let index = write_store(&store, &admitted);
    let server = Server::start(&store, &[]);
    let home = tmp.path().join("home");

    // npm view lists exactly the admitted versions.
    let o = npm(
        &tmp.path().join("view"),
        &home,
        &server.base,
        &["view", "vt-app", "versions", "--json"],
    );
    assert!(o.status.success(), "{}", show(&o));
    let versions: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(versions, json!(["1.0.0", "1.2.0"]));
    let o = npm(
        &tmp.path().join("view"),
        &home,
        &server.base,
        &["view", "@vt/util", "dist-tags.latest"],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0.2.0");

    // npm install of an admitted version: files are byte-identical, dependencies resolve to
    // admitted versions (the highest matching one).
    let proj = tmp.path().join("proj");
    let o = npm(&proj, &home, &server.base, &["install", "vt-app@1.0.0"]);
    assert!(o.status.success(), "{}", show(&o));
    let nm = proj.join("node_modules");
    for (name, version, dir) in [
        ("vt-app", "1.0.0", nm.join("vt-app")),
        ("vt-dep", "1.1.0", nm.join("vt-dep")),
        ("@vt/util", "0.2.0", nm.join("@vt/util")),
    ] {
        let got = std::fs::read(dir.join("index.js")).expect("installed file");
        assert_eq!(got, files[&(name, version)].as_bytes(), "{name}@{version}");
        assert_eq!(
            std::fs::read_to_string(dir.join("README.md")).expect("readme"),
            format!("# {name}\n")
        );
    }
    let lock = std::fs::read_to_string(proj.join("package-lock.json")).expect("lock");
    let lock: serde_json::Value = serde_json::from_str(&lock).expect("lock json");
    assert_eq!(
        lock["packages"]["node_modules/vt-dep"]["integrity"],
        index.packages["vt-dep"].versions["1.1.0"]
            .digests
            .sha512
            .sri()
            .as_str()
    );
    assert!(
        lock["packages"]["node_modules/vt-dep"]["resolved"]
            .as_str()
            .is_some_and(|r| r.starts_with(&server.base)),
        "resolved from this server"
    );

    // A version that exists upstream but is not admitted cannot be installed.
    let o = npm(
        &tmp.path().join("proj-bad"),
        &home,
        &server.base,
        &["install", "vt-app@2.0.0"],
    );
    assert!(!o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ETARGET")
            || String::from_utf8_lossy(&o.stderr).contains("No matching version"),
        "{}",
        show(&o)
    );
    let o = npm(
        &tmp.path().join("proj-bad2"),
        &home,
        &server.base,
        &["install", "not-admitted-at-all"],
    );
    assert!(!o.status.success(), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("404"),
        "{}",
        show(&o)
    );

    // A blob altered on disk: the install fails (fresh cache, so npm must download it) and the
    // server logs it.
    let blob = blob_path(&store, &index, "vt-app", "1.2.0");
    let mut bytes = std::fs::read(&blob).expect("blob");
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&blob, &bytes).expect("tamper");
    let home2 = tmp.path().join("home2");
    let o = npm(
        &tmp.path().join("proj-tampered"),
        &home2,
        &server.base,
        &["install", "vt-app@1.2.0"],
    );
    assert!(!o.status.success(), "{}", show(&o));
    assert!(
        !tmp.path()
            .join("proj-tampered/node_modules/vt-app/index.js")
            .exists()
    );
    assert!(server.wait_log("INTEGRITY FAILURE"), "{}", server.log());
    assert!(server.log().contains("vt-app"));
}
