//! Shared by the audit-installed tests: builds certified in a ledger through the ledger API
//! (with content manifests constructed here), installed copies written to disk, and a runner.
#![allow(dead_code)]
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use vetted::clock::FixedClock;
use vetted::content::ContentManifest;
use vetted::content::manifest::{Entry, EntryKind, MANIFEST_FORMAT, PackageInfo, Signals, Totals};
use vetted::digest::{Digests, sha256};
use vetted::ledger::{self, CertifyRequest, CriterionName, PackageId};

/// A package build: name, version, and its files (package.json is added).
#[derive(Clone)]
pub struct Pkg {
    pub name: String,
    pub version: String,
    pub files: Vec<(String, Vec<u8>)>,
}

impl Pkg {
    pub fn new(name: &str, version: &str, files: &[(&str, &[u8])]) -> Pkg {
        let mut all = vec![(
            "package.json".to_string(),
            format!("{{\n  \"name\": \"{name}\",\n  \"version\": \"{version}\"\n}}\n").into_bytes(),
        )];
        all.extend(files.iter().map(|(p, b)| (p.to_string(), b.to_vec())));
        Pkg {
            name: name.into(),
            version: version.into(),
            files: all,
        }
    }

    /// A build whose package.json has `extra` keys too (bin, scripts, gypfile, ...).
    pub fn with_json(
        name: &str,
        version: &str,
        extra: serde_json::Value,
        files: &[(&str, &[u8])],
    ) -> Pkg {
        let mut p = Pkg::new(name, version, files);
        let mut pj = serde_json::json!({"name": name, "version": version});
        if let (Some(o), Some(e)) = (pj.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        p.files[0].1 = serde_json::to_vec_pretty(&pj).expect("json");
        p
    }

    /// The content manifest of this build's tarball (archive root `package/`).
    pub fn manifest(&self) -> ContentManifest {
        let mut entries = BTreeMap::new();
        let mut dirs = BTreeSet::new();
        dirs.insert("package".to_string());
        let mut totals = Totals::default();
        for (p, b) in &self.files {
            let full = format!("package/{p}");
            let mut parent = full.as_str();
            while let Some((d, _)) = parent.rsplit_once('/') {
                dirs.insert(d.to_string());
                parent = d;
            }
            entries.insert(
                full,
                Entry {
                    kind: EntryKind::File,
                    size: b.len() as u64,
                    mode: 0o644,
                    sha256: Some(sha256(b)),
                    link_target: None,
                    signals: Signals::default(),
                    behaviours: Vec::new(),
                    parse_error: None,
                    analysis_truncated: false,
                },
            );
            totals.files += 1;
            totals.unpacked_bytes += b.len() as u64;
        }
        for d in dirs {
            entries.insert(
                format!("{d}/"),
                Entry {
                    kind: EntryKind::Dir,
                    size: 0,
                    mode: 0o755,
                    sha256: None,
                    link_target: None,
                    signals: Signals::default(),
                    behaviours: Vec::new(),
                    parse_error: None,
                    analysis_truncated: false,
                },
            );
        }
        totals.entries = entries.len() as u64;
        ContentManifest {
            format: MANIFEST_FORMAT,
            artifact: Digests::of(format!("artifact of {}@{}", self.name, self.version).as_bytes()),
            archive: "tgz".into(),
            entries,
            totals,
            package: Some(
                vetted::content::parse_package_json(
                    "package/package.json",
                    &self.files[0].1,
                    self.files.iter().any(|(p, _)| p == "binding.gyp"),
                )
                .unwrap_or_else(|| PackageInfo {
                    path: "package/package.json".into(),
                    name: Some(self.name.clone()),
                    version: Some(self.version.clone()),
                    ..PackageInfo::default()
                }),
            ),
            notes: Vec::new(),
            analysis: None,
        }
    }

    /// Record a full audit of this build (safe-to-run) in the ledger at `dir`.
    pub fn certify(&self, dir: &Path) {
        let clock = FixedClock("2026-11-20T00:00:00Z".parse().expect("ts"));
        let criteria: BTreeSet<CriterionName> = [ledger::SAFE_TO_RUN]
            .iter()
            .map(|c| CriterionName::new(c).expect("criterion"))
            .collect();
        ledger::certify(
            dir,
            CertifyRequest {
                package: PackageId::parse_spec(&format!("npm:{}@{}", self.name, self.version))
                    .expect("spec"),
                manifest: self.manifest(),
                criteria,
                who: "Test Auditor <audit@example.com>".into(),
                notes: None,
                delta_from: None,
                review: None,
            },
            &clock,
        )
        .expect("certify");
    }

    /// Write this build's files into `dir` (as npm would extract them).
    pub fn install(&self, dir: &Path) {
        for (p, b) in &self.files {
            let path = dir.join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, b).expect("write");
        }
    }
}

/// Run `vetted audit-installed PATH --ledger LEDGER --json`: (exit code, JSON, stderr).
pub fn audit(path: &Path, ledger: &Path) -> (i32, serde_json::Value, String) {
    audit_with(path, ledger, &[])
}

/// [`audit`] with extra arguments (`--strict`).
pub fn audit_with(path: &Path, ledger: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vetted"))
        .arg("audit-installed")
        .arg(path)
        .arg("--ledger")
        .arg(ledger)
        .arg("--json")
        .args(extra)
        .output()
        .expect("run vetted");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The bin link reported at a path ending in `path_suffix`.
pub fn bin_link<'a>(json: &'a serde_json::Value, path_suffix: &str) -> &'a serde_json::Value {
    json["bin_links"]
        .as_array()
        .expect("bin_links")
        .iter()
        .find(|c| c["path"].as_str().is_some_and(|p| p.ends_with(path_suffix)))
        .unwrap_or_else(|| panic!("no bin link at *{path_suffix} in {json:#}"))
}

/// The copy reported for `name`, by name and path suffix.
pub fn copy<'a>(json: &'a serde_json::Value, path_suffix: &str) -> &'a serde_json::Value {
    json["copies"]
        .as_array()
        .expect("copies")
        .iter()
        .find(|c| c["path"].as_str().is_some_and(|p| p.ends_with(path_suffix)))
        .unwrap_or_else(|| panic!("no copy at *{path_suffix} in {json:#}"))
}
