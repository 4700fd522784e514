//! The content manifest: what is inside an artifact, file by file, with the facts the review
//! needs (digest, size, mode, kind, and what the inspectors found). A manifest is what the ledger
//! stores for an audited build, so later diffs do not need the old artifact.
//!
//! This type is shared by `content` (which builds it in one streaming pass) and `ledger`/`diff`
//! (which store and compare it). Its JSON form is stable: `ledger/manifests/<sha256>.json`.
use crate::digest::{Digest, Digests};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Version of the manifest JSON format.
pub const MANIFEST_FORMAT: u32 = 1;

/// Everything inside one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentManifest {
    /// Format version ([`MANIFEST_FORMAT`]).
    pub format: u32,
    /// Digests of the artifact itself (the compressed bytes, as published).
    pub artifact: Digests,
    /// Archive format: "tgz", "tar", "zip", or "file" for a non-archive.
    pub archive: String,
    /// Entries by normalized path (forward slashes, no leading `./`). For tar and tgz, the files
    /// npm installs: the first component stripped as npm strips it and replaced by `package/`,
    /// `.gitignore` listed as `.npmignore`, no directory or link entries, modes as npm writes
    /// them (`docs/archive-rules.md`). For zip, the entries as written.
    pub entries: BTreeMap<String, Entry>,
    /// Totals over the entries.
    pub totals: Totals,
    /// The npm `package.json` at the package root, when there is one.
    pub package: Option<PackageInfo>,
    /// What could not be looked into, and why (e.g. an embedded module graph that could not be
    /// read). Informational: the entries are complete either way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Which analysis produced the behaviours ([`crate::content::reuse::analysis_id`]): an
    /// admission reuses a stored manifest's analysis only when it is this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<String>,
}

/// Totals over a manifest's entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Number of entries of every kind.
    pub entries: u64,
    /// Number of regular files.
    pub files: u64,
    /// Sum of regular file sizes.
    pub unpacked_bytes: u64,
}

/// What kind of archive entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (target inside the archive root).
    Symlink,
    /// A hard link (target inside the archive).
    Hardlink,
    /// A module embedded in an executable (a Bun single-file executable's module graph), at the
    /// virtual path `<executable path>!/<module name>`. Not a file in the archive: not counted
    /// in the totals, not installed, but hashed and inspected like a file.
    Embedded,
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Kind of entry.
    pub kind: EntryKind,
    /// Size in bytes (0 for non-files).
    pub size: u64,
    /// Unix permission bits (e.g. 0o755).
    pub mode: u32,
    /// SHA-256 of the file's bytes (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Digest>,
    /// Link target (symlinks and hardlinks only), as written in the archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// What the inspectors found in this file's bytes.
    #[serde(default, skip_serializing_if = "Signals::is_empty")]
    pub signals: Signals,
    /// What the code can do, from the JavaScript analysis (see `docs/behaviours.md`). Empty for
    /// files that are not analysed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviours: Vec<Behaviour>,
    /// Why a JavaScript file or module could not be parsed (`line:column: message`); such a
    /// file also gets the byte scan ([`Signals`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// The analysis stopped at a limit (`limits.js`): the behaviours are incomplete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub analysis_truncated: bool,
}

impl Entry {
    /// A regular file of `size` bytes (mode 0644) with nothing recorded yet: what the analysis
    /// of a lone source text starts from.
    pub(crate) fn blank_file(size: u64) -> Entry {
        Entry {
            kind: EntryKind::File,
            size,
            mode: 0o644,
            sha256: None,
            link_target: None,
            signals: Default::default(),
            behaviours: Vec::new(),
            parse_error: None,
            analysis_truncated: false,
        }
    }
}

/// One behaviour of a module: what it can do, and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Behaviour {
    /// Which behaviour.
    pub kind: BehaviourKind,
    /// Qualifiers (e.g. `suspicious`, `insecure`, `shell`, `silent`, `credential`,
    /// `non-constant`), sorted.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub attributes: BTreeSet<String>,
    /// 1-based line in the module's own source.
    pub line: u32,
    /// 1-based column in the module's own source.
    pub column: u32,
    /// Last line of the evidence, when it spans lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// A short excerpt of the code.
    pub snippet: String,
    /// The value where there is one: URL, host, path, env name, command, specifier, version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The behaviour taxonomy (documented kind by kind in `docs/behaviours.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BehaviourKind {
    /// Network access: http/https/net/tls/dgram/dns modules, fetch, WebSocket, servers.
    Network,
    /// A literal or constant-folded URL, host or IP.
    Url,
    /// Starting processes: child_process, Bun.spawn, process.binding.
    ProcessSpawn,
    /// Reading one environment variable.
    EnvRead,
    /// Enumerating, spreading, copying or stringifying the whole environment.
    EnvSerialize,
    /// Touching credentials or system files (~/.ssh, ~/.aws, /etc/passwd, ...).
    SensitivePath,
    /// Reading user or machine facts (os.userInfo, hostname, network interfaces).
    SystemInfo,
    /// Writing, deleting or chmod-ing outside the package; persistence targets.
    FsWrite,
    /// eval, Function, vm.*, WebAssembly from bytes.
    DynamicCode,
    /// require / import() of a computed, decoded or aliased specifier.
    DynamicRequire,
    /// An encoded payload decoded at run time, obfuscator signatures, invisible unicode.
    Obfuscation,
    /// Assignments to built-in prototypes and globals, require hooks.
    MonkeyPatch,
    /// npm publish, writing another package's package.json, using registry tokens.
    SelfPropagation,
    /// A script npm runs at install time (from package.json).
    InstallScript,
    /// A dependency spec that is not a registry range (http(s), git, file:, npm: alias).
    DependencyUrl,
    /// Native executables and libraries, .node addons, process.dlopen, wasm.
    Executable,
    /// Data from env / system-info / sensitive paths reaching a network sink in one module.
    Exfiltration,
    /// The native runtime of a single-file executable (e.g. `bun-v1.4.4`), one fact.
    Runtime,
}

/// Executable formats recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutableFormat {
    /// ELF (Linux, BSD).
    Elf,
    /// Mach-O (macOS), thin or fat.
    MachO,
    /// PE (Windows).
    Pe,
    /// A script with a `#!` line.
    Script,
}

/// Facts the inspectors found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signals {
    /// Executable format by magic bytes, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<ExecutableFormat>,
    /// URLs (http, https, ws, wss) found in the bytes (text, or printable strings of binaries).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub urls: BTreeSet<String>,
    /// Environment variables read (`process.env.X`, `process.env["X"]`, `Bun.env.X`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub env_vars: BTreeSet<String>,
    /// Dangerous capabilities used: `child_process`, `eval`, `new Function`, `vm`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub capabilities: BTreeSet<String>,
    /// Whether the inspector stopped collecting because a per-file cap was reached.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Signals {
    /// Nothing found.
    pub fn is_empty(&self) -> bool {
        self.executable.is_none()
            && self.urls.is_empty()
            && self.env_vars.is_empty()
            && self.capabilities.is_empty()
            && !self.truncated
    }
}

/// The facts of an npm `package.json` the review cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInfo {
    /// Path of the package.json inside the archive (e.g. `package/package.json`).
    pub path: String,
    /// `name`.
    pub name: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// Lifecycle scripts only (preinstall, install, postinstall, prepare, ...): name -> command.
    pub lifecycle_scripts: BTreeMap<String, String>,
    /// All scripts: name -> command.
    pub scripts: BTreeMap<String, String>,
    /// Dependencies by kind (`dependencies`, `optionalDependencies`, `peerDependencies`,
    /// `devDependencies`, `bundleDependencies`): name -> range.
    pub dependencies: BTreeMap<String, BTreeMap<String, String>>,
    /// `bin`: command -> path (a string `bin` is keyed by the package name).
    pub bin: BTreeMap<String, String>,
    /// The fields npm acts on at install time, exactly as the package.json writes them
    /// ([`NPM_FIELDS`]): the served version document is built from these
    /// (`gate::metadata`), and `gypfile` decides the implicit `node-gyp rebuild`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub npm_fields: BTreeMap<String, serde_json::Value>,
}

/// The package.json fields kept in [`PackageInfo::npm_fields`].
pub const NPM_FIELDS: &[&str] = &[
    "bin",
    "directories",
    "man",
    "engines",
    "os",
    "cpu",
    "libc",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bundledDependencies",
    "gypfile",
];
