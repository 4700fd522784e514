//! `vetted audit-installed`: which installed copies match an audited build byte for byte, and
//! whether anything else is where Node would load it from.
//!
//! Finds installed copies under a path: `node_modules` trees (nested ones and `@scope/name`
//! directories too; an npm global prefix's `lib/node_modules` is one of them) and Claude Code
//! native installs (`.../claude/versions/<version>`, one binary per version). Each npm copy is
//! identified by its `package.json` (name, version), every file is hashed, and the result is
//! compared with the content manifest of an audited build of that name@version: the archive's
//! first path component (`package/` in npm tarballs) maps to the package directory.
//!
//! Everything else Node could load gets a verdict too (docs/audit-installed.md): every entry of
//! every `node_modules` is a package directory, a scope, `.bin`, or npm's own
//! `.package-lock.json`; anything else (a loose `node_modules/<name>.js`, which Node's
//! resolver tries before the directory; a directory without package.json) is unidentified
//! code. A symlinked package directory or native version is followed when it resolves inside
//! the audited root and reported when it does not. Each `.bin/<cmd>` (and each entry of a
//! global prefix's `bin/` that npm would have written) must be a link to the file its
//! package's `bin` names.
//!
//! npm adds nothing to a package directory except what install scripts write (bin links live
//! in `node_modules/.bin`, outside it), extracts only files and directories (links in a
//! tarball are skipped), renames `.gitignore` to `.npmignore` (pacote), and may change modes
//! (it marks bin targets executable); so files are compared by content, not mode. Files an
//! install script of the audited build wrote under `build/` (node-gyp's output) are "built on
//! this machine": listed, failing only with `--strict`. A package's own `node_modules/` holds
//! other installed copies and is audited separately, except files a tarball bundles there
//! (`bundleDependencies`), which are compared like any other; a bundled package is reported
//! as its own copy, matched against its part of the parent's build.
//!
//! Claude Code's wrapper (`@anthropic-ai/claude-code`) has a postinstall (`install.cjs`) that
//! replaces `bin/claude.exe` with the platform package's binary
//! (`@anthropic-ai/claude-code-<platform>`'s `claude`, `claude.exe` on Windows), by hard link or
//! copy. So in the wrapper, `bin/claude.exe` matches when it equals either the audited
//! wrapper's own file (postinstall not run) or the binary of an audited platform package of
//! the same version.
use crate::content::install_scripts;
use crate::content::manifest::EntryKind;
use crate::digest::{Algorithm, Digest};
use crate::ledger::{
    AuditedBuild, CriterionName, Ecosystem, Ledger, PackageId, PackageName, Version,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// The Claude Code wrapper package.
pub const CLAUDE_WRAPPER: &str = "@anthropic-ai/claude-code";
/// Prefix of Claude Code's platform packages (`@anthropic-ai/claude-code-linux-x64`, ...).
pub const CLAUDE_PLATFORM_PREFIX: &str = "@anthropic-ai/claude-code-";
/// The wrapper file the postinstall replaces.
pub const CLAUDE_WRAPPER_BIN: &str = "bin/claude.exe";
/// npm's hidden lockfile, the one file npm itself writes into `node_modules/`.
pub const HIDDEN_LOCKFILE: &str = ".package-lock.json";
/// Where node-gyp writes its output, inside the package directory.
pub const BUILD_DIR: &str = "build/";

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

/// What kind of installed thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyKind {
    /// A package directory in a `node_modules` tree.
    Npm,
    /// A Claude Code native install (`claude/versions/<version>`).
    ClaudeNative,
    /// A command link in `node_modules/.bin` or a global prefix's `bin/`.
    BinLink,
    /// Something in a `node_modules` that is no package: a loose file, a directory without
    /// package.json, a file where npm writes links.
    Unidentified,
}

/// The verdict on one installed thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Byte for byte an audited build (a bin link: points where its package's `bin` says).
    Match,
    /// Differs from every audited build of this name@version (a bin link: points elsewhere).
    Modified,
    /// No audited build of this name@version.
    UnknownVersion,
    /// The ledger revokes this version (or the audited build with these bytes).
    Revoked,
    /// The copy (or the ledger's manifest for it) could not be read.
    Unreadable,
    /// Code Node can load that belongs to no package: loose files, directories without
    /// package.json, files in `.bin`.
    UnidentifiedCode,
    /// A symbolic link that leaves the audited root: what it loads was not audited here.
    OutsideRoot,
    /// An audited build, plus files its install scripts wrote under `build/` on this machine
    /// (node-gyp): not reviewed, failing only with `--strict`.
    BuiltOnThisMachine,
    /// A native install whose binary is not one the vendor's signed manifest for its version
    /// lists (or for which no signed manifest verified): `--vendor-source` only.
    VendorMismatch,
}

impl Status {
    /// Whether this verdict fails the audit.
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Status::Match => false,
            Status::BuiltOnThisMachine => strict,
            _ => true,
        }
    }

    /// The word in human output.
    pub fn word(self) -> &'static str {
        match self {
            Status::Match => "match",
            Status::Modified => "modified",
            Status::UnknownVersion => "unknown",
            Status::Revoked => "revoked",
            Status::Unreadable => "unreadable",
            Status::UnidentifiedCode => "unidentified",
            Status::OutsideRoot => "outside",
            Status::BuiltOnThisMachine => "built",
            Status::VendorMismatch => "unsigned",
        }
    }
}

/// One file whose bytes differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Path inside the package directory (a bin link: the link).
    pub path: String,
    /// The audited digest (for the wrapper binary: every accepted digest, space separated; a
    /// bin link: where its package's `bin` says it points).
    pub expected: String,
    /// The installed file's digest (or what is there instead of a file; a bin link: where it
    /// points).
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

/// The result for one installed thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Where it is.
    pub path: PathBuf,
    /// What kind of thing.
    pub kind: CopyKind,
    /// Package name (`None` when unreadable or unidentified; a bin link: its command).
    pub name: Option<String>,
    /// Version (`None` when unreadable).
    pub version: Option<String>,
    /// The verdict.
    pub status: Status,
    /// The audited build compared with (the closest one when none matched).
    pub audited: Option<AuditedRef>,
    /// Where a symbolic link at `path` leads (package directories and native versions
    /// reached through a link).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<PathBuf>,
    /// Files whose bytes differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modified: Vec<FileDiff>,
    /// Files of the audited build that are not installed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Files installed that the audited build does not have (unidentified code: its files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// Files the audited build's install scripts wrote here (node-gyp `build/`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub built: Vec<String>,
    /// Explanations (which rule matched, why something could not be read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A native install checked against the vendor's signed manifest (`--vendor-source`): the
    /// manifest's facts and the entry the binary matched, or why it matched none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_signature: Option<serde_json::Value>,
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
            link_target: None,
            modified: Vec::new(),
            missing: Vec::new(),
            added: Vec::new(),
            built: Vec::new(),
            notes: Vec::new(),
            vendor_signature: None,
        }
    }

    fn unidentified(path: &Path, files: Vec<String>, why: String) -> Self {
        let mut r = CopyReport::new(path, CopyKind::Unidentified, None, None);
        r.status = Status::UnidentifiedCode;
        r.added = files;
        r.notes.push(why);
        r
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

    /// The status from the differences found.
    fn settle(&mut self) {
        self.status = if self.differences() > 0 {
            Status::Modified
        } else if !self.built.is_empty() {
            Status::BuiltOnThisMachine
        } else {
            Status::Match
        };
    }
}

/// Something found under the audited path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A package directory (has a package.json, inside `node_modules`); the link's target
    /// when reached through a symbolic link.
    Npm(PathBuf, Option<PathBuf>),
    /// A Claude Code native binary: path, the version its file name says, the link's target.
    ClaudeNative(PathBuf, String, Option<PathBuf>),
    /// An entry of a `node_modules` that is no package (loose file, directory without
    /// package.json), and why.
    Unidentified(PathBuf, String),
    /// A symbolic link leaving the audited root: the link and its target.
    OutsideRoot(PathBuf, PathBuf),
    /// A symbolic link that resolves to nothing.
    Dangling(PathBuf),
    /// A bin directory: `node_modules/.bin` (global = false) or a global prefix's `bin/`
    /// (global = true), and the `node_modules` whose packages it links.
    Bins(PathBuf, PathBuf, bool),
}

/// What [`find`] saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Everything found, parents before what is inside them.
    pub found: Vec<Found>,
    /// How many `node_modules` directories were looked into.
    pub node_modules: usize,
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

/// `p` with `.` and `..` resolved lexically (no filesystem access).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

struct Walker {
    root: PathBuf,
    out: Discovery,
    /// Directories already walked, canonical, with the name they were reached by (what a
    /// walk does depends on it: `node_modules`, `versions`); a link cycle is walked once.
    visited: BTreeSet<(PathBuf, String)>,
}

/// Where a link leads: inside the root (its canonical target), outside, or nowhere.
enum Resolved {
    Inside(PathBuf, std::fs::Metadata),
    Outside(PathBuf),
    Dangling,
}

impl Walker {
    fn resolve(&self, link: &Path) -> Resolved {
        match (std::fs::canonicalize(link), std::fs::metadata(link)) {
            (Ok(t), Ok(m)) if t.starts_with(&self.root) => Resolved::Inside(t, m),
            (Ok(t), Ok(_)) => Resolved::Outside(t),
            _ => Resolved::Dangling,
        }
    }

    fn first_visit(&mut self, dir: &Path) -> bool {
        let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        self.visited.insert((canon, name_of(dir).to_string()))
    }

    fn walk(&mut self, dir: &Path, depth: usize) -> Result<(), InstalledError> {
        if depth > MAX_DEPTH || !self.first_visit(dir) {
            return Ok(());
        }
        let name = name_of(dir);
        if name == "versions" && dir.parent().is_some_and(|p| name_of(p) == "claude") {
            return self.native_versions(dir);
        }
        if name == "node_modules" {
            return self.node_modules(dir, depth);
        }
        for (p, ft) in sorted_dir(dir)? {
            self.walk_child(&p, &ft, depth + 1)?;
        }
        Ok(())
    }

    /// Directories are walked; of links, only those Node or the native installer would go
    /// through (`node_modules`, `claude/versions`) are followed, the rest are not (a home
    /// directory has many).
    fn walk_child(
        &mut self,
        p: &Path,
        ft: &std::fs::FileType,
        depth: usize,
    ) -> Result<(), InstalledError> {
        if ft.is_dir() {
            return self.walk(p, depth);
        }
        let name = name_of(p);
        let governed = name == "node_modules"
            || (name == "versions" && p.parent().is_some_and(|q| name_of(q) == "claude"));
        if !ft.is_symlink() || !governed {
            return Ok(());
        }
        match self.resolve(p) {
            Resolved::Inside(_, m) if m.is_dir() => self.walk(p, depth),
            Resolved::Inside(..) => {
                self.out.found.push(Found::Unidentified(
                    p.to_path_buf(),
                    format!("a link named {name} to something that is not a directory"),
                ));
                Ok(())
            }
            Resolved::Outside(t) => {
                self.out.found.push(Found::OutsideRoot(p.to_path_buf(), t));
                Ok(())
            }
            Resolved::Dangling => {
                self.out.found.push(Found::Dangling(p.to_path_buf()));
                Ok(())
            }
        }
    }

    fn native_versions(&mut self, dir: &Path) -> Result<(), InstalledError> {
        for (p, ft) in sorted_dir(dir)? {
            let version = name_of(&p).to_string();
            if ft.is_file() {
                self.out.found.push(Found::ClaudeNative(p, version, None));
            } else if ft.is_symlink() {
                match self.resolve(&p) {
                    Resolved::Inside(t, m) if m.is_file() => self
                        .out
                        .found
                        .push(Found::ClaudeNative(p, version, Some(t))),
                    Resolved::Inside(..) => self.out.found.push(Found::Unidentified(
                        p,
                        "a link in claude/versions to something that is not a file".into(),
                    )),
                    Resolved::Outside(t) => self.out.found.push(Found::OutsideRoot(p, t)),
                    Resolved::Dangling => self.out.found.push(Found::Dangling(p)),
                }
            } else {
                self.out.found.push(Found::Unidentified(
                    p,
                    "claude/versions holds one binary per version; this is not a file".into(),
                ));
            }
        }
        Ok(())
    }

    fn node_modules(&mut self, nm: &Path, depth: usize) -> Result<(), InstalledError> {
        self.out.node_modules += 1;
        // A global prefix: PREFIX/lib/node_modules, with its commands linked from PREFIX/bin.
        if let Some(lib) = nm.parent()
            && name_of(lib) == "lib"
            && let Some(prefix) = lib.parent()
        {
            let bin = prefix.join("bin");
            if bin.is_dir() && !bin.is_symlink() && bin.starts_with(&self.root) {
                self.out
                    .found
                    .push(Found::Bins(bin, nm.to_path_buf(), true));
            }
        }
        for (p, ft) in sorted_dir(nm)? {
            let child = name_of(&p).to_string();
            if child == ".bin" && ft.is_dir() {
                self.out
                    .found
                    .push(Found::Bins(p.clone(), nm.to_path_buf(), false));
                continue;
            }
            if child == HIDDEN_LOCKFILE && ft.is_file() {
                continue;
            }
            if child.starts_with('@') && (ft.is_dir() || ft.is_symlink()) {
                let scope = match self.entry_dir(&p, &ft) {
                    Some(s) => s,
                    None => continue,
                };
                if !scope {
                    self.out.found.push(Found::Unidentified(
                        p,
                        "a file named like a scope in node_modules".into(),
                    ));
                    continue;
                }
                for (q, qft) in sorted_dir(&p)? {
                    self.package_entry(&q, &qft, depth + 2)?;
                }
                continue;
            }
            self.package_entry(&p, &ft, depth + 1)?;
        }
        Ok(())
    }

    /// For an entry that may be a link: `Some(true)` a directory to look into, `Some(false)`
    /// something else, `None` when already reported (outside the root, dangling).
    fn entry_dir(&mut self, p: &Path, ft: &std::fs::FileType) -> Option<bool> {
        if !ft.is_symlink() {
            return Some(ft.is_dir());
        }
        match self.resolve(p) {
            Resolved::Inside(_, m) => Some(m.is_dir()),
            Resolved::Outside(t) => {
                self.out.found.push(Found::OutsideRoot(p.to_path_buf(), t));
                None
            }
            Resolved::Dangling => {
                self.out.found.push(Found::Dangling(p.to_path_buf()));
                None
            }
        }
    }

    fn package_entry(
        &mut self,
        p: &Path,
        ft: &std::fs::FileType,
        depth: usize,
    ) -> Result<(), InstalledError> {
        let link = if ft.is_symlink() {
            std::fs::canonicalize(p).ok()
        } else {
            None
        };
        match self.entry_dir(p, ft) {
            None => Ok(()),
            Some(false) => {
                // Node's resolver tries `node_modules/<name>`, `<name>.js`, `.json`, `.node`
                // as files before `<name>/` as a directory.
                self.out.found.push(Found::Unidentified(
                    p.to_path_buf(),
                    "a file in node_modules, not a package directory: require() loads it".into(),
                ));
                Ok(())
            }
            Some(true) => {
                if p.join("package.json").is_file() {
                    self.out.found.push(Found::Npm(p.to_path_buf(), link));
                    self.walk_package(p, depth)
                } else {
                    self.out.found.push(Found::Unidentified(
                        p.to_path_buf(),
                        "a directory in node_modules without package.json: require() loads its index.js"
                            .into(),
                    ));
                    Ok(())
                }
            }
        }
    }

    /// Inside a package directory, nested `node_modules` anywhere are trees of their own.
    fn walk_package(&mut self, dir: &Path, depth: usize) -> Result<(), InstalledError> {
        if !self.first_visit(dir) {
            return Ok(());
        }
        for (p, ft) in sorted_dir(dir)? {
            self.walk_child(&p, &ft, depth + 1)?;
        }
        Ok(())
    }
}

/// Find what is installed under `root`.
pub fn find(root: &Path) -> Result<Discovery, InstalledError> {
    let meta = std::fs::metadata(root).map_err(io_err(root))?;
    let canon = std::fs::canonicalize(root).map_err(io_err(root))?;
    let mut w = Walker {
        root: canon.clone(),
        out: Discovery::default(),
        visited: BTreeSet::new(),
    };
    if meta.is_dir() {
        // Walk the canonical path so that links are judged against the same root.
        w.walk(&canon, 0)?;
    }
    Ok(w.out)
}

/// Read a package.json as JSON.
fn read_json(dir: &Path) -> Result<serde_json::Value, String> {
    let path = dir.join("package.json");
    let bytes = crate::limits::read_file_limited(&path, "package.json", PACKAGE_JSON_BYTES)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("package.json is not JSON: {e}"))
}

/// Read `name` and `version` from a package.json.
fn read_package_json(dir: &Path) -> Result<(String, String), String> {
    let v = read_json(dir)?;
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
    Ok(installed_tree(dir)?
        .into_iter()
        .filter_map(|(r, (p, is_dir))| (!is_dir).then_some((r, p)))
        .collect())
}

/// Every entry under `dir` (true: a directory), relative, except the top-level
/// `node_modules/`.
fn installed_tree(dir: &Path) -> Result<BTreeMap<String, (PathBuf, bool)>, InstalledError> {
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
                out.insert(r.clone(), (p.clone(), true));
                todo.push((p, r, depth + 1));
            } else {
                out.insert(r, (p, false));
            }
        }
    }
    Ok(out)
}

/// Every file under `dir`, relative (for reporting unidentified code).
fn all_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((d, rel, depth)) = todo.pop() {
        let Ok(entries) = sorted_dir(&d) else {
            continue;
        };
        for (p, ft) in entries {
            let n = name_of(&p).to_string();
            let r = if rel.is_empty() {
                n
            } else {
                format!("{rel}/{n}")
            };
            if ft.is_dir() && depth < MAX_DEPTH {
                todo.push((p, r, depth + 1));
            } else if !ft.is_dir() {
                out.push(r);
            }
        }
    }
    out.sort();
    out
}

/// Everything one audit found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Installed copies, and what in a `node_modules` is no package.
    pub copies: Vec<CopyReport>,
    /// Command links (`node_modules/.bin/*`, a global prefix's `bin/*`).
    pub bin_links: Vec<CopyReport>,
    /// How many `node_modules` directories were looked into.
    pub node_modules: usize,
}

impl Audit {
    /// Every report, copies first.
    pub fn all(&self) -> impl Iterator<Item = &CopyReport> {
        self.copies.iter().chain(&self.bin_links)
    }
}

/// The audit: what to compare against, loaded once.
pub struct Auditor<'a> {
    ledger: &'a Ledger,
    criterion: CriterionName,
    manifests: BTreeMap<Digest, Result<crate::content::ContentManifest, String>>,
    vendor: Option<VendorCheck<'a>>,
    signed: BTreeMap<String, Result<crate::vendor::VerifiedManifest, String>>,
}

/// Where native installs' signed manifests come from (`audit-installed --vendor-source`).
pub struct VendorCheck<'a> {
    /// The vendor's release URL or a directory.
    pub source: crate::source::VendorSource,
    /// The key that must have signed.
    pub key: crate::trust::vendor::VendorKey,
    /// How to fetch.
    pub fetch: crate::source::FetchOptions,
    /// The clock signatures are checked at.
    pub clock: &'a dyn crate::clock::Clock,
}

fn package_id(name: &str, version: &str) -> Option<PackageId> {
    Some(PackageId {
        ecosystem: Ecosystem::new("npm").ok()?,
        name: PackageName::new(name).ok()?,
        version: Version::new(version).ok()?,
        platform: None,
    })
}

fn audited_ref(b: &AuditedBuild) -> AuditedRef {
    AuditedRef {
        package: b.package.to_string(),
        sha512: b.sha512.to_string(),
        manifest: b.manifest.to_string(),
    }
}

impl<'a> Auditor<'a> {
    /// Audit against `ledger`, for `criterion`.
    pub fn new(ledger: &'a Ledger, criterion: CriterionName) -> Self {
        Auditor {
            ledger,
            criterion,
            manifests: BTreeMap::new(),
            vendor: None,
            signed: BTreeMap::new(),
        }
    }

    /// Also check native installs against the vendor's signed manifest for their version.
    pub fn with_vendor(mut self, vendor: VendorCheck<'a>) -> Self {
        self.vendor = Some(vendor);
        self
    }

    /// The verified manifest for `version` (fetched once per run).
    fn signed_manifest(
        &mut self,
        version: &str,
    ) -> Option<Result<crate::vendor::VerifiedManifest, String>> {
        let v = self.vendor.as_ref()?;
        if let Some(m) = self.signed.get(version) {
            return Some(m.clone());
        }
        let got: Result<crate::vendor::VerifiedManifest, String> = (|| {
            let parsed: crate::source::Version = version
                .parse()
                .map_err(|e: crate::source::SpecError| e.to_string())?;
            let files = crate::source::fetch_vendor_manifest(&v.source, &parsed, &v.fetch)
                .map_err(|e| format!("no signed release manifest: {e}"))?;
            let m = crate::vendor::verify_manifest(
                &v.key,
                &files.manifest,
                &files.signature,
                v.clock,
                &v.fetch.limits,
            )
            .map_err(|e| format!("{}: {e}", files.manifest_uri))?;
            m.expect_version(version).map_err(|e| e.to_string())?;
            Ok(m)
        })();
        self.signed.insert(version.to_string(), got.clone());
        Some(got)
    }

    /// The binary at `path` must be one the signed manifest for `version` lists.
    fn check_signed(&mut self, path: &Path, version: &str, r: &mut CopyReport) {
        let Some(signed) = self.signed_manifest(version) else {
            return;
        };
        // A revoked or unreadable copy keeps that verdict; any other gets the vendor's.
        let demote = |r: &mut CopyReport| {
            if !matches!(r.status, Status::Revoked | Status::Unreadable) {
                r.status = Status::VendorMismatch;
            }
        };
        let m = match signed {
            Ok(m) => m,
            Err(why) => {
                r.notes.push(format!("vendor signature: {why}"));
                r.vendor_signature = Some(serde_json::json!({"matches": false, "error": why}));
                demote(r);
                return;
            }
        };
        let digests = match std::fs::File::open(path).and_then(crate::digest::Digests::of_reader) {
            Ok(d) => d,
            Err(e) => {
                r.status = Status::Unreadable;
                r.notes.push(format!("cannot read {}: {e}", path.display()));
                return;
            }
        };
        let mut facts = m.facts();
        let found = m
            .manifest()
            .platforms
            .iter()
            .find(|(_, e)| e.sha256 == digests.sha256 && e.size == digests.size);
        match found {
            Some((platform, e)) => {
                facts["binary"] = serde_json::json!({
                    "platform": platform, "sha256": e.sha256.hex(), "size": e.size, "matches": true,
                });
                r.notes.push(format!(
                    "the {platform} binary of the {version} manifest signed by {}",
                    m.signature().signer_fingerprint()
                ));
            }
            None => {
                facts["binary"] = serde_json::json!({
                    "sha256": digests.sha256.hex(), "size": digests.size, "matches": false,
                });
                r.modified.push(FileDiff {
                    path: path.display().to_string(),
                    expected: m
                        .manifest()
                        .platforms
                        .iter()
                        .map(|(p, e)| format!("{p}:{} ({} bytes)", e.sha256, e.size))
                        .collect::<Vec<_>>()
                        .join(" "),
                    actual: format!("{} ({} bytes)", digests.sha256, digests.size),
                });
                r.notes.push(format!(
                    "the binary is none of the {} platform binaries the signed {version} manifest lists",
                    m.manifest().platforms.len()
                ));
                demote(r);
            }
        }
        r.vendor_signature = Some(facts);
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
        // Native-channel builds audited as such (`claude-native:claude-code@V`): the artifact
        // is the binary itself.
        let native = PackageId::parse_spec(&format!(
            "{}:{}@{version}",
            crate::vendor::native::NATIVE_ECOSYSTEM,
            crate::vendor::native::NATIVE_NAME
        ));
        if let Ok(id) = native {
            for b in self
                .ledger
                .covered_builds(&id, &self.criterion)
                .into_iter()
                .filter(|b| b.package.version.as_str() == version)
            {
                out.entry(b.sha256.clone())
                    .or_insert((id.name.to_string(), b.clone()));
            }
        }
        out
    }

    /// Audit everything under `root`.
    pub fn audit_path(&mut self, root: &Path) -> Result<Audit, InstalledError> {
        let discovery = find(root)?;
        let mut out: Vec<CopyReport> = Vec::new();
        // Package directories audited so far, with the files their audited build has.
        let mut parents: Vec<(PathBuf, usize, BTreeSet<String>)> = Vec::new();
        let mut bins = Vec::new();
        for f in discovery.found {
            match f {
                Found::Npm(dir, link) => {
                    let (mut report, expected) = match bundled_in(&parents, &dir, false) {
                        Some((i, rel)) => {
                            let parent = &out[parents[i].1];
                            bundled(&dir, parent, &parents[i].2, &rel)
                        }
                        None => self.audit_npm_inner(&dir),
                    };
                    if let Some(t) = link {
                        report.notes.push(format!(
                            "a symbolic link to {}, inside the audited root: followed",
                            t.display()
                        ));
                        report.link_target = Some(t);
                    }
                    parents.push((dir, out.len(), expected));
                    out.push(report);
                }
                Found::ClaudeNative(path, version, link) => {
                    let mut r = self.audit_native(&path, &version);
                    if let Some(t) = link {
                        r.notes.push(format!(
                            "a symbolic link to {}, inside the audited root: followed",
                            t.display()
                        ));
                        r.link_target = Some(t);
                    }
                    out.push(r);
                }
                Found::Unidentified(path, why) => {
                    let is_dir = path.is_dir();
                    match bundled_in(&parents, &path, !is_dir) {
                        // A tarball may bundle loose files or package-less directories in its
                        // node_modules: compared with the parent's files already.
                        Some(_) if !is_dir => {}
                        Some((i, rel)) => {
                            let parent = &out[parents[i].1];
                            let (r, expected) = bundled(&path, parent, &parents[i].2, &rel);
                            parents.push((path, out.len(), expected));
                            out.push(r);
                        }
                        None => {
                            let files = if is_dir { all_files(&path) } else { Vec::new() };
                            out.push(CopyReport::unidentified(&path, files, why));
                        }
                    }
                }
                Found::OutsideRoot(path, target) => {
                    let mut r = CopyReport::new(&path, CopyKind::Npm, None, None);
                    r.status = Status::OutsideRoot;
                    r.notes.push(format!(
                        "a symbolic link to {}, outside the audited root: what Node loads through it was not audited",
                        target.display()
                    ));
                    r.link_target = Some(target);
                    out.push(r);
                }
                Found::Dangling(path) => {
                    let mut r = CopyReport::new(&path, CopyKind::Npm, None, None);
                    r.status = Status::Unreadable;
                    r.notes
                        .push("a symbolic link that resolves to nothing".to_string());
                    out.push(r);
                }
                Found::Bins(dir, nm, global) => bins.push((dir, nm, global)),
            }
        }
        let mut bin_links = Vec::new();
        for (dir, nm, global) in bins {
            bin_links.extend(check_bins(&dir, &nm, global, &out)?);
        }
        Ok(Audit {
            copies: out,
            bin_links,
            node_modules: discovery.node_modules,
        })
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
            r.audited = Some(audited_ref(b));
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

    /// Audit one Claude Code native install: against the ledger and, with a vendor check,
    /// against the vendor's signed manifest for its version.
    pub fn audit_native(&mut self, path: &Path, version: &str) -> CopyReport {
        let mut r = self.audit_native_ledger(path, version);
        if self.vendor.is_some() {
            self.check_signed(path, version, &mut r);
        }
        r
    }

    fn audit_native_ledger(&mut self, path: &Path, version: &str) -> CopyReport {
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
        if let Some((pkg, b)) = binaries.get(&actual) {
            r.status = Status::Match;
            r.audited = Some(audited_ref(b));
            r.notes
                .push(format!("the binary of the audited {pkg}@{version}"));
        } else {
            r.status = Status::Modified;
            r.audited = binaries.values().next().map(|(_, b)| audited_ref(b));
            r.modified.push(FileDiff {
                path: path.display().to_string(),
                expected: join_digests(binaries.keys()),
                actual: actual.to_string(),
            });
        }
        r
    }
}

/// The commands a package directory links, from its installed package.json.
fn package_bins(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let pj = read_json(dir)?;
    let tree: Vec<(String, EntryKind)> = installed_tree(dir)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(r, (_, is_dir))| {
            (
                r,
                if is_dir {
                    EntryKind::Dir
                } else {
                    EntryKind::File
                },
            )
        })
        .collect();
    crate::gate::metadata::bins_of(&pj, &tree)
}

/// Check the links of one bin directory against the `bin` of the packages in `nm`.
fn check_bins(
    dir: &Path,
    nm: &Path,
    global: bool,
    copies: &[CopyReport],
) -> Result<Vec<CopyReport>, InstalledError> {
    // command -> (where it must point, whose bin it is)
    let mut wanted: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
    let mut notes = Vec::new();
    for c in copies.iter().filter(|c| c.kind == CopyKind::Npm) {
        let parent = c.path.parent();
        let direct = parent == Some(nm)
            || (parent.is_some_and(|p| name_of(p).starts_with('@'))
                && parent.and_then(Path::parent) == Some(nm));
        if !direct || c.status == Status::OutsideRoot {
            continue;
        }
        match package_bins(&c.path) {
            Ok(bins) => {
                for (cmd, target) in bins {
                    wanted
                        .entry(cmd)
                        .or_default()
                        .push((lexical(&c.path.join(&target)), c.label()));
                }
            }
            Err(e) => notes.push(format!("{}: {e}", c.label())),
        }
    }
    let mut out = Vec::new();
    for (p, ft) in sorted_dir(dir)? {
        let cmd = name_of(&p).to_string();
        let candidates = wanted.get(&cmd).cloned().unwrap_or_default();
        let expected = || {
            if candidates.is_empty() {
                format!("(no package in {} lists a command {cmd:?})", nm.display())
            } else {
                candidates
                    .iter()
                    .map(|(t, _)| t.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        let mut r = CopyReport::new(&p, CopyKind::BinLink, Some(cmd.clone()), None);
        r.notes.extend(notes.iter().cloned());
        if ft.is_symlink() {
            let target = std::fs::read_link(&p).map_err(io_err(&p))?;
            let resolved = lexical(&dir.join(&target));
            r.link_target = Some(resolved.clone());
            if let Some((_, who)) = candidates.iter().find(|(t, _)| *t == resolved) {
                r.status = Status::Match;
                r.notes.push(format!("the bin {cmd:?} of {who}"));
            } else if !global || !candidates.is_empty() || resolved.starts_with(nm) {
                r.status = Status::Modified;
                r.modified.push(FileDiff {
                    path: cmd.clone(),
                    expected: expected(),
                    actual: resolved.display().to_string(),
                });
            } else {
                // A global prefix's bin/ holds commands npm did not write.
                continue;
            }
        } else if !global {
            r.kind = CopyKind::Unidentified;
            r.status = Status::UnidentifiedCode;
            r.notes
                .push("a file in node_modules/.bin, where npm writes only links".into());
        } else if !candidates.is_empty() {
            r.status = Status::Modified;
            r.modified.push(FileDiff {
                path: cmd.clone(),
                expected: expected(),
                actual: "(a file, not a link)".into(),
            });
        } else {
            continue;
        }
        out.push(r);
    }
    Ok(out)
}
fn join_digests<'a>(ds: impl Iterator<Item = &'a Digest>) -> String {
    ds.map(|d| d.to_string()).collect::<Vec<_>>().join(" ")
}

fn rank(r: &CopyReport) -> (bool, usize, usize) {
    (
        !matches!(r.status, Status::Match | Status::BuiltOnThisMachine),
        r.differences(),
        r.built.len(),
    )
}

fn compare(
    r: &mut CopyReport,
    dir: &Path,
    m: &crate::content::ContentManifest,
    installed: &BTreeMap<String, PathBuf>,
    wrapper_alternatives: &BTreeMap<Digest, (String, AuditedBuild)>,
) -> BTreeSet<String> {
    let mut raw: BTreeMap<&str, &Digest> = BTreeMap::new();
    let mut unreadable = false;
    for (path, e) in &m.entries {
        // npm extracts files and directories only; links in a tarball are not installed.
        if e.kind != EntryKind::File {
            continue;
        }
        match (strip_root(path), &e.sha256) {
            (Some(rel), Some(d)) => {
                raw.insert(rel, d);
            }
            _ => {
                r.notes
                    .push(format!("manifest entry {path:?} cannot be compared"));
                unreadable = true;
            }
        }
    }
    let expected = as_extracted(&raw);
    // node-gyp (or another install script of the audited build) writes under build/.
    let builds_here = !install_scripts::install_scripts(m).is_empty();
    for (rel, want) in &expected {
        let path = dir.join(rel);
        let rel = rel.as_str();
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
        if rel == CLAUDE_WRAPPER_BIN && !wrapper_alternatives.is_empty() {
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
        if expected.contains_key(rel.as_str()) {
            continue;
        }
        if builds_here && rel.starts_with(BUILD_DIR) {
            r.built.push(rel.clone());
        } else {
            r.added.push(rel.clone());
        }
    }
    if !r.built.is_empty() {
        r.notes.push(format!(
            "{} file(s) under {BUILD_DIR} were written on this machine by the audited build's install scripts ({}): not reviewed",
            r.built.len(),
            install_scripts::install_scripts(m)
                .iter()
                .map(|s| s.describe())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    r.settle();
    if unreadable {
        r.status = Status::Unreadable;
    }
    expected.keys().cloned().collect()
}

/// A manifest's files as pacote extracts them: "this replicates the npm pack behavior where
/// .gitignore files are treated like .npmignore files, but only if a .npmignore file is not
/// present" -- every `.gitignore` is written as `.npmignore`, and when the directory has a
/// `.npmignore` too, what ends on disk is the `.npmignore` (written after the renamed file,
/// or the `.gitignore` skipped because one was seen).
fn as_extracted<'a>(raw: &BTreeMap<&str, &'a Digest>) -> BTreeMap<String, &'a Digest> {
    let mut out = BTreeMap::new();
    for (rel, d) in raw {
        if let Some(dir) = rel.strip_suffix(".gitignore")
            && (dir.is_empty() || dir.ends_with('/'))
        {
            let ni = format!("{dir}.npmignore");
            if !raw.contains_key(ni.as_str()) {
                out.insert(ni, *d);
            }
            continue;
        }
        out.insert(rel.to_string(), *d);
    }
    out
}

/// The relative path of `dir` under `parent`, '/'-separated.
fn relative(parent: &Path, dir: &Path) -> Option<String> {
    let rel = dir.strip_prefix(parent).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts.map(|p| p.join("/")).filter(|r| !r.is_empty())
}

/// The audited package whose tarball bundles `path` (a file: it is one of the parent build's
/// files; a directory: the parent build has files under it): index into `parents` and the
/// relative path.
fn bundled_in(
    parents: &[(PathBuf, usize, BTreeSet<String>)],
    path: &Path,
    file: bool,
) -> Option<(usize, String)> {
    parents
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(i, (p, _, expected))| {
            let rel = relative(p, path)?;
            let covered = if file {
                expected.contains(&rel)
            } else {
                let prefix = format!("{rel}/");
                expected.iter().any(|e| e.starts_with(&prefix))
            };
            covered.then_some((i, rel))
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
    r.settle();
    (r, expected)
}
