//! The gate's install-script rule counts what npm runs for a registry install (preinstall,
//! install, postinstall, the implicit node-gyp rebuild), not every lifecycle script listed.
mod gate_support;

use gate_support::{Published, Upstream, Workspace, days_ago, failed, json};
use serde_json::json;

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "vt-lib"
criteria = ["safe-to-run"]
provenance = "if-present"
new-install-scripts = "block"
"#;

fn exemption(ws: &Workspace, version: &str) {
    let opts = vetted::source::FetchOptions {
        registry: ws.upstream.url(),
        cache_dir: ws.path("cache"),
        ..Default::default()
    };
    let spec: vetted::source::ArtifactSpec = format!("npm:vt-lib@{version}").parse().expect("spec");
    let f = vetted::source::fetch(&spec, &opts).expect("fetch");
    ws.append_ledger(&format!(
        "\n[[exemption]]\necosystem = \"npm\"\nname = \"vt-lib\"\nversion = \"{version}\"\nsha512 = \"{}\"\ncriteria = [\"safe-to-run\"]\nwho = \"T\"\nexpires = 2999-01-01\nnotes = \"trial\"\n",
        f.digests.sha512.sri()
    ));
}

fn publish(up: &Upstream, version: &str, meta: serde_json::Value, files: &[(&str, &[u8])]) {
    let mut p = Published::new("vt-lib", version, &days_ago(5));
    p.meta = meta;
    p.files
        .extend(files.iter().map(|(n, b)| (n.to_string(), b.to_vec())));
    up.publish(p);
}

#[test]
fn new_prepare_script_is_not_an_install_script_but_new_postinstall_is() {
    let up = Upstream::start();
    publish(&up, "1.0.0", json!({}), &[]);
    publish(
        &up,
        "1.1.0",
        json!({"scripts": {"prepare": "node build.js", "prepack": "x", "postpack": "y"}}),
        &[],
    );
    publish(
        &up,
        "1.2.0",
        json!({"scripts": {"postinstall": "node build.js"}}),
        &[],
    );
    let ws = Workspace::new(up, POLICY);
    ws.certify("npm:vt-lib@1.0.0");
    exemption(&ws, "1.1.0");
    exemption(&ws, "1.2.0");
    let out = ws.admit("npm:vt-lib@1.1.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "prepare does not run on a registry install: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = ws.admit("npm:vt-lib@1.2.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(failed(&json(&out), "vt-lib@1.2.0"), ["install-scripts"]);
}

#[test]
fn new_binding_gyp_is_blocked_unless_gypfile_false() {
    let up = Upstream::start();
    publish(&up, "1.0.0", json!({}), &[]);
    publish(
        &up,
        "1.1.0",
        json!({"gypfile": false}),
        &[("binding.gyp", b"{}\n")],
    );
    publish(&up, "1.2.0", json!({}), &[("binding.gyp", b"{}\n")]);
    let ws = Workspace::new(up, POLICY);
    ws.certify("npm:vt-lib@1.0.0");
    exemption(&ws, "1.1.0");
    exemption(&ws, "1.2.0");
    let out = ws.admit("npm:vt-lib@1.1.0", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "gypfile: false opts out: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = ws.admit("npm:vt-lib@1.2.0", &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(failed(&report, "vt-lib@1.2.0"), ["install-scripts"]);
    assert!(
        report
            .to_string()
            .contains("node-gyp rebuild (implicit: binding.gyp)"),
        "{report:#}"
    );
}
