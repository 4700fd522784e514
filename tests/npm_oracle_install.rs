//! npm's own code as the oracle for what vetted computes about install time: the install
//! scripts (`@npmcli/arborist`'s `lib/install-scripts.js`, on a package normalised as arborist's
//! Node constructor does) and the bin links (`npm-normalize-package-bin`, what bin-links uses),
//! run with node from the npm installation on PATH. Skipped when node or npm is absent.
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use vetted::content::install_scripts;

fn npm_root() -> Option<String> {
    let o = Command::new("npm").args(["root", "-g"]).output().ok()?;
    let root = format!("{}/npm", String::from_utf8_lossy(&o.stdout).trim());
    (o.status.success() && std::path::Path::new(&root).is_dir()).then_some(root)
}

fn node(script: &str, root: &str, input: &Value) -> Value {
    let mut child = Command::new("node")
        .args(["-e", script, "--", root])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

const INSTALL_SCRIPTS_JS: &str = r#"
const path = require('path');
const npmRoot = process.argv[1];
const arb = path.join(npmRoot, 'node_modules/@npmcli/arborist');
const getInstallScripts = require(path.join(arb, 'lib/install-scripts.js'));
const PackageJson = require(require.resolve('@npmcli/package-json', { paths: [arb] }));
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  const out = [];
  for (const c of cases) {
    const pkg = new PackageJson();
    pkg.fromContent(c.pj);
    pkg.syncNormalize();
    out.push(await getInstallScripts({ package: pkg.content, path: c.dir,
      resolved: 'https://registry.npmjs.org/x/-/x-1.0.0.tgz', isRegistryDependency: true }));
  }
  console.log(JSON.stringify(out));
})();
"#;

#[test]
fn install_scripts_agree_with_arborist() {
    let Some(root) = npm_root() else {
        eprintln!("SKIPPED install_scripts_agree_with_arborist: npm is not on PATH");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let gyp = tmp.path().join("gyp");
    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(&gyp).expect("mkdir");
    std::fs::create_dir_all(&plain).expect("mkdir");
    std::fs::write(gyp.join("binding.gyp"), "{}").expect("gyp");
    let pjs = [
        json!({}),
        json!({"scripts": {"test": "jest"}}),
        json!({"scripts": {"install": ""}}),
        json!({"scripts": {"install": "node i.js"}}),
        json!({"scripts": {"preinstall": "node p.js"}}),
        json!({"scripts": {"postinstall": "node post.js"}}),
        json!({"scripts": {"preinstall": "a", "install": "b", "postinstall": "c"}}),
        json!({"scripts": {"prepare": "node evil.js", "prepublish": "x", "prepack": "y", "postpack": "z"}}),
        json!({"scripts": {"install": true, "postinstall": 1}}),
        json!({"gypfile": false}),
        json!({"gypfile": "false"}),
        json!({"gypfile": false, "scripts": {"postinstall": "c"}}),
        json!({"gypfile": true}),
        json!({"scripts": {"preinstall": ""}}),
    ];
    let mut cases = Vec::new();
    let mut ours = Vec::new();
    for pj in &pjs {
        for (dir, has_gyp) in [(&gyp, true), (&plain, false)] {
            cases.push(json!({"pj": pj, "dir": dir}));
            let mut full = pj.clone();
            full["name"] = json!("x");
            full["version"] = json!("1.0.0");
            let bytes = serde_json::to_vec(&full).expect("json");
            let info = vetted::content::parse_package_json("package/package.json", &bytes, has_gyp)
                .expect("parse");
            let got: BTreeMap<String, String> = install_scripts::from_parts(
                &info.scripts,
                install_scripts::gypfile_disabled(&info),
                has_gyp,
            )
            .into_iter()
            .map(|s| (s.event, s.command))
            .collect();
            ours.push(got);
        }
    }
    let theirs = node(INSTALL_SCRIPTS_JS, &root, &Value::Array(cases.clone()));
    let theirs: Vec<BTreeMap<String, String>> =
        serde_json::from_value(theirs).expect("maps of strings");
    for ((c, a), b) in cases.iter().zip(&ours).zip(&theirs) {
        assert_eq!(a, b, "vetted vs arborist for {c}");
    }
    assert_eq!(ours.len(), 28);
}

const BIN_JS: &str = r#"
const path = require('path');
const normalize = require(path.join(process.argv[1], 'node_modules/npm-normalize-package-bin'));
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(cases.map(c => normalize(c).bin || {})));
"#;

#[test]
fn bin_normalisation_agrees_with_npm_normalize_package_bin() {
    let Some(root) = npm_root() else {
        eprintln!("SKIPPED bin_normalisation_agrees_with_npm_normalize_package_bin: no npm");
        return;
    };
    let cases = vec![
        json!({"name": "t", "bin": "cli.js"}),
        json!({"name": "@s/t", "bin": "./bin/cli.js"}),
        json!({"name": "t", "bin": ["bin/a.js", "./b", "c/"]}),
        json!({"name": "t", "bin": {"t": "./cli.js", "u": "lib//u.js", "v": "./a/../v.js"}}),
        json!({"name": "t", "bin": {"../node": "../../cli.js"}}),
        json!({"name": "t", "bin": {"a/b": "x.js", "c\\d": "y\\z.js"}}),
        json!({"name": "t", "bin": {".": "x.js", "..": "y.js", "": "z.js", "ok": "/abs.js"}}),
        json!({"name": "t", "bin": {"n": 1, "m": null, "o": "o.js"}}),
        json!({"name": "t", "bin": {"e": ""}}),
        json!({"name": "t", "bin": {"s": "/"}}),
        json!({"name": "t", "bin": ""}),
        json!({"name": "", "bin": "cli.js"}),
        json!({"name": "t", "bin": false}),
        json!({"name": "t"}),
        json!({"name": "t", "bin": {"w": "x:y.js"}}),
        json!({"name": "t", "bin": {"a": "1.js", "./a": "2.js"}}),
    ];
    let theirs = node(BIN_JS, &root, &Value::Array(cases.clone()));
    let mut agreed = 0;
    let mut refused = Vec::new();
    for (c, want) in cases.iter().zip(theirs.as_array().expect("array")) {
        let name = c["name"].as_str().unwrap_or_default();
        match vetted::gate::metadata::normalise_bin(name, c.get("bin")) {
            Ok(got) => {
                assert_eq!(
                    json!(got),
                    *want,
                    "vetted vs npm-normalize-package-bin for {c}"
                );
                agreed += 1;
            }
            // vetted refuses what npm's normalisers read two ways; never accepts differently.
            Err(why) => refused.push(format!("{c}: {why}")),
        }
    }
    assert_eq!(refused.len(), 2, "{refused:#?}");
    assert_eq!(agreed, cases.len() - 2);
}

const BIN_DIR_JS: &str = r#"
const path = require('path');
const arb = path.join(process.argv[1], 'node_modules/@npmcli/arborist');
const PackageJson = require(require.resolve('@npmcli/package-json', { paths: [arb] }));
// What bin-links links: the expanded bin, through npm-normalize-package-bin.
const normalizeBin = require(path.join(process.argv[1], 'node_modules/npm-normalize-package-bin'));
const dirs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
Promise.all(dirs.map(d => PackageJson.normalize(d)
  .then(p => normalizeBin({ name: p.content.name, bin: p.content.bin }).bin || {})))
  .then(r => console.log(JSON.stringify(r)));
"#;

/// Files and directories under `dir`, relative.
fn tree(dir: &std::path::Path) -> Vec<(String, vetted::content::manifest::EntryKind)> {
    use vetted::content::manifest::EntryKind;
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                n
            } else {
                format!("{rel}/{n}")
            };
            if e.file_type().expect("type").is_dir() {
                out.push((r.clone(), EntryKind::Dir));
                todo.push((e.path(), r));
            } else {
                out.push((r, EntryKind::File));
            }
        }
    }
    out
}

#[test]
fn directories_bin_expansion_agrees_with_npm_package_json() {
    let Some(root) = npm_root() else {
        eprintln!("SKIPPED directories_bin_expansion_agrees_with_npm_package_json: no npm");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let layouts: &[(&str, &[&str])] = &[
        (
            "./bin",
            &[
                "bin/a.js",
                "bin/sub/b",
                "bin/.hidden",
                "bin/sub/.x/c",
                "bin/.d/e",
                "lib/x.js",
            ],
        ),
        ("scripts/", &["scripts/run", "scripts/deep/er/tool.sh"]),
        ("bin", &["bin/only"]),
    ];
    let mut dirs = Vec::new();
    let mut ours = Vec::new();
    for (i, (bin_dir, files)) in layouts.iter().enumerate() {
        let d = tmp.path().join(format!("p{i}"));
        let pj = json!({"name": "t", "version": "1.0.0", "directories": {"bin": bin_dir}});
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("package.json"), pj.to_string()).expect("pj");
        for f in *files {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, b"x").expect("write");
        }
        ours.push(vetted::gate::metadata::bins_of(&pj, &tree(&d)).expect("bins"));
        dirs.push(json!(d));
    }
    let theirs = node(BIN_DIR_JS, &root, &Value::Array(dirs));
    for (i, (got, want)) in ours
        .iter()
        .zip(theirs.as_array().expect("array"))
        .enumerate()
    {
        assert_eq!(json!(got), *want, "layout {i}: {:?}", layouts[i]);
    }
}
