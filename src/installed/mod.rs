//! `vetted audit-installed`: which installed copies match an audited build byte for byte.
//!
//! Finds installed copies under a path: `node_modules` trees (nested ones and `@scope/name`
//! directories too; an npm global prefix's `lib/node_modules` is one of them) and Claude Code
//! native installs (`.../claude/versions/<version>`, one binary per version). Each npm copy is
//! identified by its `package.json` (name, version), every file is hashed, and the result is
//! compared with the content manifest of an audited build of that name@version: the archive's
//! first path component (`package/` in npm tarballs) maps to the package directory.
//!
//! npm adds nothing to a package directory (bin links live in `node_modules/.bin`, outside it),
//! extracts only files and directories (links in a tarball are skipped), and may change modes
//! (it marks bin targets executable); so files are compared by content, not mode. A package's
//! own `node_modules/` holds other installed copies and is audited separately, except files a
//! tarball bundles there (`bundleDependencies`), which are compared like any other; a bundled
//! package is reported as its own copy, matched against its part of the parent's build.
//!
//! Claude Code's wrapper (`@anthropic-ai/claude-code`) has a postinstall (`install.cjs`) that
//! replaces `bin/claude.exe` with the platform package's binary
//! (`@anthropic-ai/claude-code-<platform>`'s `claude`, `claude.exe` on Windows), by hard link or
//! copy. So in the wrapper, `bin/claude.exe` matches when it equals either the audited
//! wrapper's own file (postinstall not run) or the binary of an audited platform package of
//! the same version.
use crate::content::manifest::EntryKind;
use crate::digest::{Algorithm, Digest};
use crate::ledger::{
    AuditedBuild, CriterionName, Ecosystem, Ledger, PackageId, PackageName, Version,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The Claude Code wrapper package.
pub const CLAUDE_WRAPPER: &str = "@anthropic-ai/claude-code";
/// Prefix of Claude Code's platform packages (`@anthropic-ai/claude-code-linux-x64`, ...).
pub const CLAUDE_PLATFORM_PREFIX: &str = "@anthropic-ai/claude-code-";
/// The wrapper file the postinstall replaces.
pub const CLAUDE_WRAPPER_BIN: &str = "bin/claude.exe";

const MAX_DEPTH: usize = 64;
const PACKAGE_JSON_BYTES: u64 = 1 << 20;

/// What could not be done (operational: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InstalledError {
    /// The path to audit cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// What kind of installed copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyKind {
    /// A package directory in a `node_modules` tree.
    Npm,
    /// A Claude Code native install (`claude/versions/<version>`).
    ClaudeNative,
}

/// The verdict on one installed copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Byte for byte an audited build.
    Match,
    /// Differs from every audited build of this name@version.
    Modified,
    /// No audited build of this name@version.
    UnknownVersion,
    /// The ledger revokes this version (or the audited build with these bytes).
    Revoked,
    /// The copy (or the ledger's manifest for it) could not be read.
    Unreadable,
}

/// One file whose bytes differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Path inside the package directory.
    pub path: String,
    /// The audited digest (for the wrapper binary: every accepted digest, space separated).
    pub expected: String,
    /// The installed file's digest (or what is there instead of a file).
    pub actual: String,
}

/// The audited build a copy was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditedRef {
    /// The audited package (for a native install: the platform package).
    pub package: String,
    /// Its artifact's sha512.
    pub sha512: String,
    /// Its stored manifest's sha256.
    pub manifest: String,
}

/// The result for one installed copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Where it is.
    pub path: PathBuf,
    /// What kind of copy.
    pub kind: CopyKind,
    /// Package name (`None` when unreadable).
    pub name: Option<String>,
    /// Version (`None` when unreadable).
    pub version: Option<String>,
    /// The verdict.
    pub status: Status,
    /// The audited build compared with (the closest one when none matched).
    pub audited: Option<AuditedRef>,
    /// Files whose bytes differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modified: Vec<FileDiff>,
    /// Files of the audited build that are not installed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Files installed that the audited build does not have.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// Explanations (which rule matched, why something could not be read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl CopyReport {
    fn new(path: &Path, kind: CopyKind, name: Option<String>, version: Option<String>) -> Self {
        CopyReport {
            path: path.to_path_buf(),
            kind,
            name,
            version,
            status: Status::Unreadable,
            audited: None,
            modified: Vec::new(),
            missing: Vec::new(),
            added: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// `name@version`, or the path when unreadable.
    pub fn label(&self) -> String {
        match (&self.name, &self.version) {
            (Some(n), Some(v)) => format!("{n}@{v}"),
            _ => self.path.display().to_string(),
        }
    }

    fn differences(&self) -> usize {
        self.modified.len() + self.missing.len() + self.added.len()
    }
}

/// An installed copy found under the audited path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A package directory (has a package.json, inside `node_modules`).
    Npm(PathBuf),
    /// A Claude Code native binary: path and the version its file name says.
    ClaudeNative(PathBuf, String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> InstalledError + '_ {
    move |source| InstalledError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn name_of(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn sorted_dir(dir: &Path) -> Result<Vec<(PathBuf, std::fs::FileType)>, InstalledError> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let e = e.map_err(io_err(dir))?;
        let ft = e.file_type().map_err(io_err(dir))?;
        out.push((e.path(), ft));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Find installed copies under `root` (symlinks are not followed).
pub fn find(root: &Path) -> Result<Vec<Found>, InstalledError> {
    let meta = std::fs::metadata(root).map_err(io_err(root))?;
    let mut found = Vec::new();
    if meta.is_dir() {
        walk(root, 0, &mut found)?;
    }
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<Found>) -> Result<(), InstalledError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let name = name_of(dir);
    if name == "versions" && dir.parent().is_some_and(|p| name_of(p) == "claude") {
        for (p, ft) in sorted_dir(dir)? {
            if ft.is_file() {
                found.push(Found::ClaudeNative(p.clone(), name_of(&p).to_string()));
            }
        }
        return Ok(());
    }
    let in_node_modules = name == "node_modules";
    for (p, ft) in sorted_dir(dir)? {
        if !ft.is_dir() {
            continue;
        }
        let child = name_of(&p);
        if in_node_modules && child == ".bin" {
            continue;
        }
        if in_node_modules && child.starts_with('@') {
            for (q, qft) in sorted_dir(&p)? {
                if qft.is_dir() {
                    package_or_walk(&q, depth + 2, found)?;
                }
            }
        } else if in_node_modules {
            package_or_walk(&p, depth + 1, found)?;
        } else {
            walk(&p, depth + 1, found)?;
        }
    }
    Ok(())
}

fn package_or_walk(dir: &Path, depth: usize, found: &mut Vec<Found>) -> Result<(), InstalledError> {
    if dir.join("package.json").is_file() {
        found.push(Found::Npm(dir.to_path_buf()));
    }
    walk(dir, depth, found)
}

/// Read `name` and `version` from a package.json.
fn read_package_json(dir: &Path) -> Result<(String, String), String> {
    let path = dir.join("package.json");
    let bytes = crate::limits::read_file_limited(&path, "package.json", PACKAGE_JSON_BYTES)
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("package.json is not JSON: {e}"))?;
    let name = v.get("name").and_then(|n| n.as_str());
    let version = v.get("version").and_then(|n| n.as_str());
    match (name, version) {
        (Some(n), Some(ver)) if !n.is_empty() && !ver.is_empty() => {
            Ok((n.to_string(), ver.to_string()))
        }
        _ => Err("package.json has no name and version".into()),
    }
}

fn sha256_file(path: &Path) -> Result<Digest, std::io::Error> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Digest::new(Algorithm::Sha256, h.finalize().to_vec()).map_err(std::io::Error::other)
}

/// A manifest path without its first component (`package/bin/x` -> `bin/x`).
fn strip_root(path: &str) -> Option<&str> {
    path.split_once('/')
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .filter(|r| !r.is_empty())
}

/// Every regular file and link under `dir`, relative, except the top-level `node_modules/`.
fn installed_files(dir: &Path) -> Result<BTreeMap<String, PathBuf>, InstalledError> {
    let mut out = BTreeMap::new();
    let mut todo = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((d, rel, depth)) = todo.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        for (p, ft) in sorted_dir(&d)? {
            let n = name_of(&p).to_string();
            let r = if rel.is_empty() {
                n.clone()
            } else {
                format!("{rel}/{n}")
            };
            if ft.is_dir() {
                if depth == 0 && n == "node_modules" {
                    continue;
                }
                todo.push((p, r, depth + 1));
            } else {
                out.insert(r, p);
            }
        }
    }
    Ok(out)
}

/// The audit: what to compare against, loaded once.
pub struct Auditor<'a> {
    ledger: &'a Ledger,
    criterion: CriterionName,
    manifests: BTreeMap<Digest, Result<crate::content::ContentManifest, String>>,
}

fn package_id(name: &str, version: &str) -> Option<PackageId> {
    Some(PackageId {
        ecosystem: Ecosystem::new("npm").ok()?,
        name: PackageName::new(name).ok()?,
        version: Version::new(version).ok()?,
        platform: None,
    })
}

impl<'a> Auditor<'a> {
    /// Audit against `ledger`, for `criterion`.
    pub fn new(ledger: &'a Ledger, criterion: CriterionName) -> Self {
        Auditor {
            ledger,
            criterion,
            manifests: BTreeMap::new(),
        }
    }

    fn builds(&self, name: &str, version: &str) -> Vec<AuditedBuild> {
        let Some(id) = package_id(name, version) else {
            return Vec::new();
        };
        self.ledger
            .covered_builds(&id, &self.criterion)
            .into_iter()
            .filter(|b| b.package.version.as_str() == version)
            .collect()
    }

    fn manifest(&mut self, d: &Digest) -> Result<crate::content::ContentManifest, String> {
        let dir = self.ledger.dir().to_path_buf();
        self.manifests
            .entry(d.clone())
            .or_insert_with(|| crate::ledger::load_manifest(&dir, d).map_err(|e| e.to_string()))
            .clone()
    }

    /// The binaries of audited Claude Code platform packages of `version`:
    /// digest -> platform package name.
    fn platform_binaries(&mut self, version: &str) -> BTreeMap<Digest, (String, AuditedBuild)> {
        let names: BTreeSet<String> = self
            .ledger
            .audits()
            .map(|a| a.package.name.as_str())
            .filter(|n| n.starts_with(CLAUDE_PLATFORM_PREFIX))
            .map(str::to_string)
            .collect();
        let mut out = BTreeMap::new();
        for name in names {
            for b in self.builds(&name, version) {
                let Ok(m) = self.manifest(&b.manifest) else {
                    continue;
                };
                for (path, e) in &m.entries {
                    let bin = strip_root(path);
                    if e.kind == EntryKind::File
                        && matches!(bin, Some("claude") | Some("claude.exe"))
                        && let Some(d) = &e.sha256
                    {
                        out.entry(d.clone()).or_insert((name.clone(), b.clone()));
                    }
                }
            }
        }
        out
    }

    /// Audit every copy under `root`.
    pub fn audit_path(&mut self, root: &Path) -> Result<Vec<CopyReport>, InstalledError> {
        let mut out: Vec<CopyReport> = Vec::new();
        // Package directories audited so far, with the files their audited build has.
        let mut parents: Vec<(PathBuf, usize, BTreeSet<String>)> = Vec::new();
        for f in find(root)? {
            match f {
                Found::Npm(dir) => {
                    let (report, expected) = match bundled_in(&parents, &dir) {
                        Some((i, rel)) => {
                            let parent = &out[parents[i].1];
                            bundled(&dir, parent, &parents[i].2, &rel)
                        }
                        None => self.audit_npm_inner(&dir),
                    };
                    parents.push((dir, out.len(), expected));
                    out.push(report);
                }
                Found::ClaudeNative(path, version) => out.push(self.audit_native(&path, &version)),
            }
        }
        Ok(out)
    }

    /// Audit one package directory.
    pub fn audit_npm(&mut self, dir: &Path) -> CopyReport {
        self.audit_npm_inner(dir).0
    }

    /// The report, and the files of the audited build it was compared with.
    fn audit_npm_inner(&mut self, dir: &Path) -> (CopyReport, BTreeSet<String>) {
        let (name, version) = match read_package_json(dir) {
            Ok(nv) => nv,
            Err(e) => {
                let mut r = CopyReport::new(dir, CopyKind::Npm, None, None);
                r.notes.push(e);
                return (r, BTreeSet::new());
            }
        };
        let mut base = CopyReport::new(
            dir,
            CopyKind::Npm,
            Some(name.clone()),
            Some(version.clone()),
        );
        if let Some(why) = self.revoked(&name, &version) {
            base.status = Status::Revoked;
            base.notes.push(why);
            return (base, BTreeSet::new());
        }
        let builds = self.builds(&name, &version);
        if builds.is_empty() {
            base.status = Status::UnknownVersion;
            base.notes.push(format!(
                "no audit of {name}@{version} covers '{}'",
                self.criterion
            ));
            return (base, BTreeSet::new());
        }
        let installed = match installed_files(dir) {
            Ok(f) => f,
            Err(e) => {
                base.notes.push(e.to_string());
                return (base, BTreeSet::new());
            }
        };
        let wrapper_alternatives = if name == CLAUDE_WRAPPER {
            self.platform_binaries(&version)
        } else {
            BTreeMap::new()
        };
        let mut best: Option<(CopyReport, BTreeSet<String>)> = None;
        for b in &builds {
            let mut r = base.clone();
            r.audited = Some(AuditedRef {
                package: b.package.to_string(),
                sha512: b.sha512.to_string(),
                manifest: b.manifest.to_string(),
            });
            let expected = match self.manifest(&b.manifest) {
                Ok(m) => compare(&mut r, dir, &m, &installed, &wrapper_alternatives),
                Err(e) => {
                    r.notes.push(e);
                    BTreeSet::new()
                }
            };
            let better = match &best {
                None => true,
                Some((cur, _)) => rank(&r) < rank(cur),
            };
            if better {
                best = Some((r, expected));
            }
            if best
                .as_ref()
                .is_some_and(|(r, _)| r.status == Status::Match)
            {
                break;
            }
        }
        best.unwrap_or((base, BTreeSet::new()))
    }

    /// The violation revoking `name@version`: by version, or by the digest of an audited build
    /// of that version (revoked builds no longer count as audited, so without this check a
    /// revoked install would read as merely unknown).
    fn revoked(&self, name: &str, version: &str) -> Option<String> {
        let v = self.ledger.violations().find(|v| {
            v.ecosystem.as_str() == "npm"
                && v.name.as_str() == name
                && match &v.target {
                    crate::ledger::ViolationTarget::Version(x) => x.as_str() == version,
                    crate::ledger::ViolationTarget::Digest(d) => self.ledger.audits().any(|a| {
                        a.package.name.as_str() == name
                            && a.package.version.as_str() == version
                            && (&a.sha512 == d || &a.sha256 == d)
                    }),
                }
        })?;
        Some(format!(
            "{name}@{version} is revoked by {} on {}{}",
            v.who,
            v.when,
            v.notes
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        ))
    }

    /// Audit one Claude Code native install.
    pub fn audit_native(&mut self, path: &Path, version: &str) -> CopyReport {
        let mut r = CopyReport::new(
            path,
            CopyKind::ClaudeNative,
            Some(CLAUDE_WRAPPER.to_string()),
            Some(version.to_string()),
        );
        let binaries = self.platform_binaries(version);
        if binaries.is_empty() {
            r.status = Status::UnknownVersion;
            r.notes.push(format!(
                "no audit of a {CLAUDE_PLATFORM_PREFIX}<platform>@{version} package covers '{}'",
                self.criterion
            ));
            return r;
        }
        let actual = match sha256_file(path) {
            Ok(d) => d,
            Err(e) => {
                r.notes.push(format!("cannot read {}: {e}", path.display()));
                return r;
            }
        };
        let audited = |b: &AuditedBuild| AuditedRef {
            package: b.package.to_string(),
            sha512: b.sha512.to_string(),
            manifest: b.manifest.to_string(),
        };
        if let Some((pkg, b)) = binaries.get(&actual) {
            r.status = Status::Match;
            r.audited = Some(audited(b));
            r.notes
                .push(format!("the binary of the audited {pkg}@{version}"));
        } else {
            r.status = Status::Modified;
            r.audited = binaries.values().next().map(|(_, b)| audited(b));
            r.modified.push(FileDiff {
                path: path.display().to_string(),
                expected: join_digests(binaries.keys()),
                actual: actual.to_string(),
            });
        }
        r
    }
}

fn join_digests<'a>(ds: impl Iterator<Item = &'a Digest>) -> String {
    ds.map(|d| d.to_string()).collect::<Vec<_>>().join(" ")
}

fn rank(r: &CopyReport) -> (bool, usize) {
    (r.status != Status::Match, r.differences())
}

fn compare(
    r: &mut CopyReport,
    dir: &Path,
    m: &crate::content::ContentManifest,
    installed: &BTreeMap<String, PathBuf>,
    wrapper_alternatives: &BTreeMap<Digest, (String, AuditedBuild)>,
) -> BTreeSet<String> {
    let mut expected: BTreeMap<&str, &Digest> = BTreeMap::new();
    let mut unreadable = false;
    for (path, e) in &m.entries {
        // npm extracts files and directories only; links in a tarball are not installed.
        if e.kind != EntryKind::File {
            continue;
        }
        match (strip_root(path), &e.sha256) {
            (Some(rel), Some(d)) => {
                expected.insert(rel, d);
            }
            _ => {
                r.notes
                    .push(format!("manifest entry {path:?} cannot be compared"));
                unreadable = true;
            }
        }
    }
    for (rel, want) in &expected {
        let path = dir.join(rel);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(_) => {
                r.missing.push(rel.to_string());
                continue;
            }
        };
        if !meta.is_file() {
            r.modified.push(FileDiff {
                path: rel.to_string(),
                expected: want.to_string(),
                actual: if meta.is_symlink() {
                    "(a symbolic link)".into()
                } else {
                    "(not a regular file)".into()
                },
            });
            continue;
        }
        let actual = match sha256_file(&path) {
            Ok(d) => d,
            Err(e) => {
                r.modified.push(FileDiff {
                    path: rel.to_string(),
                    expected: want.to_string(),
                    actual: format!("(unreadable: {e})"),
                });
                continue;
            }
        };
        if &actual == *want {
            continue;
        }
        if *rel == CLAUDE_WRAPPER_BIN && !wrapper_alternatives.is_empty() {
            if let Some((pkg, _)) = wrapper_alternatives.get(&actual) {
                r.notes.push(format!(
                    "{CLAUDE_WRAPPER_BIN} is the binary of the audited {pkg}, placed by the postinstall (install.cjs)"
                ));
                continue;
            }
            let mut accepted = vec![*want];
            accepted.extend(wrapper_alternatives.keys());
            r.modified.push(FileDiff {
                path: rel.to_string(),
                expected: join_digests(accepted.into_iter()),
                actual: actual.to_string(),
            });
            continue;
        }
        r.modified.push(FileDiff {
            path: rel.to_string(),
            expected: want.to_string(),
            actual: actual.to_string(),
        });
    }
    for rel in installed.keys() {
        if !expected.contains_key(rel.as_str()) {
            r.added.push(rel.clone());
        }
    }
    r.status = if unreadable {
        Status::Unreadable
    } else if r.differences() == 0 {
        Status::Match
    } else {
        Status::Modified
    };
    expected.keys().map(|k| k.to_string()).collect()
}

/// The relative path of `dir` under `parent`, '/'-separated.
fn relative(parent: &Path, dir: &Path) -> Option<String> {
    let rel = dir.strip_prefix(parent).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/")).filter(|r| !r.is_empty())
}

/// The audited package whose tarball bundles `dir` (its `package.json` is one of the parent
/// build's files): index into `parents` and the relative path.
fn bundled_in(
    parents: &[(PathBuf, usize, BTreeSet<String>)],
    dir: &Path,
) -> Option<(usize, String)> {
    parents
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, (p, _, expected))| {
            let rel = relative(p, dir)?;
            expected
                .contains(&format!("{rel}/package.json"))
                .then_some((i, rel))
        })
        .next()
}

/// A package bundled in its parent's tarball (bundleDependencies): its files were compared as
/// part of the parent's; here the differences under it are repeated and extra files found.
fn bundled(
    dir: &Path,
    parent: &CopyReport,
    parent_expected: &BTreeSet<String>,
    rel: &str,
) -> (CopyReport, BTreeSet<String>) {
    let (name, version) = match read_package_json(dir) {
        Ok((n, v)) => (Some(n), Some(v)),
        Err(_) => (None, None),
    };
    let mut r = CopyReport::new(dir, CopyKind::Npm, name, version);
    r.audited = parent.audited.clone();
    r.notes.push(format!(
        "bundled in the audited tarball of {} (bundleDependencies)",
        parent.label()
    ));
    let prefix = format!("{rel}/");
    let under = |p: &str| p.strip_prefix(&prefix).map(str::to_string);
    r.modified = parent
        .modified
        .iter()
        .filter_map(|f| under(&f.path).map(|path| FileDiff { path, ..f.clone() }))
        .collect();
    r.missing = parent.missing.iter().filter_map(|p| under(p)).collect();
    let expected: BTreeSet<String> = parent_expected.iter().filter_map(|p| under(p)).collect();
    match installed_files(dir) {
        Ok(files) => {
            r.added = files
                .into_keys()
                .filter(|k| !expected.contains(k))
                .collect()
        }
        Err(e) => r.notes.push(e.to_string()),
    }
    r.status = if r.differences() == 0 {
        Status::Match
    } else {
        Status::Modified
    };
    (r, expected)
}
