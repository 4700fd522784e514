//! `ContentManifest × ContentManifest -> ReviewReport`: what changed between two builds, the
//! delta a reviewer signs off. Entries a bundler renamed or a release moved are paired
//! ([`pair`]); each changed pair's code is pretty-printed with oxc_codegen, normalised so that
//! a re-minification is "no semantic change", and diffed ([`delta`]); behaviour changes per
//! module are ranked by risk; and the signals (install scripts, dependencies, executables,
//! URLs, environment variables) say what else a change can do.
//!
//! Thresholds:
//! - `size-jump`: a file, or the total unpacked size, more than doubles **and** grows by more
//!   than [`SIZE_JUMP_MIN_BYTES`] (1 MiB). Both conditions, so small files that double and big
//!   files that grow a little are not reported.
use crate::content::manifest::{ContentManifest, Entry, EntryKind, ExecutableFormat};
use crate::digest::Digest;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

mod behaviour;
pub use behaviour::{BehaviourChange as ModuleBehaviourChange, behaviour_changes, render_changes};
pub mod code;
pub mod contents;
pub mod delta;
pub mod html;
pub mod js;
pub mod pair;
mod render;
pub use contents::Contents;
pub use delta::{AnalysisGap, BehaviourChange, CodeChange, CodeStatus, Counts, Delta};
pub use pair::PairedBy;
pub use render::{render_human, render_markdown, summary};

/// The process's memory pages (`/proc/self/statm`: size, resident, shared, ...), for the
/// `VETTED_DEBUG_DELTA` timings; empty where there is no such file.
pub(crate) fn statm() -> String {
    std::fs::read_to_string("/proc/self/statm").unwrap_or_default()
}

/// The JSON schema identifier of [`ReviewReport`] (see `docs/diff-json.md`).
pub const REPORT_SCHEMA: &str = "vetted.diff/v2";

/// A similarity score in [0, 1], kept in thousandths so reports compare exactly; JSON: a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Similarity(u16);

impl Similarity {
    /// 1.0.
    pub const ONE: Similarity = Similarity(1000);

    /// From a ratio (clamped to [0, 1], rounded to thousandths).
    pub fn from_f64(v: f64) -> Self {
        Similarity((v.clamp(0.0, 1.0) * 1000.0).round() as u16)
    }

    /// As a ratio.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl Serialize for Similarity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

/// A `size-jump` needs growth beyond 2x and beyond this many bytes.
pub const SIZE_JUMP_MIN_BYTES: u64 = 1 << 20;

/// Substrings (upper case) that make an environment variable name credential-like.
pub const CREDENTIAL_MARKERS: &[&str] = &[
    "TOKEN",
    "KEY",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "AUTH",
    "CREDENTIAL",
    "SESSION",
    "COOKIE",
    "PRIVATE",
];

/// Whether an environment variable name looks like it holds a credential.
pub fn is_credential_like(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CREDENTIAL_MARKERS.iter().any(|m| upper.contains(m))
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// How the user named it (`ledger:NAME@VERSION`, a path).
    pub label: String,
    /// Package name from package.json, if any.
    pub name: Option<String>,
    /// Package version from package.json, if any.
    pub version: Option<String>,
    /// Artifact SHA-512.
    pub sha512: Digest,
    /// Artifact SHA-256.
    pub sha256: Digest,
    /// Number of entries.
    pub entries: u64,
    /// Unpacked bytes (regular files).
    pub unpacked_bytes: u64,
}

/// The facts of one entry, as the report shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryFacts {
    /// file, dir, symlink, hardlink.
    pub kind: EntryKind,
    /// Size in bytes.
    pub size: u64,
    /// Mode, as octal text (`0755`).
    pub mode: String,
    /// SHA-256 of the bytes (files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Digest>,
    /// Link target (links).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

impl EntryFacts {
    fn of(e: &Entry) -> Self {
        EntryFacts {
            kind: e.kind,
            size: e.size,
            mode: format!("{:04o}", e.mode & 0o7777),
            sha256: e.sha256.clone(),
            link_target: e.link_target.clone(),
        }
    }
}

/// An added or removed entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Path.
    pub path: String,
    /// Its facts.
    #[serde(flatten)]
    pub facts: EntryFacts,
}

/// What differs in a changed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangedAspect {
    /// Entry kind.
    Kind,
    /// Size.
    Size,
    /// Permission bits.
    Mode,
    /// Content digest.
    Content,
    /// Link target.
    LinkTarget,
}

/// A pair of entries (same path, or paired across a rename) with different facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Path in the old build.
    pub old_path: String,
    /// Path in the new build.
    pub new_path: String,
    /// Similarity of the normalised tokens (1 for the same canonical form); absent when the
    /// contents were not compared.
    pub similarity: Option<Similarity>,
    /// How the pair was found.
    pub paired_by: PairedBy,
    /// What differs.
    pub changed: Vec<ChangedAspect>,
    /// Before.
    pub old: EntryFacts,
    /// After.
    pub new: EntryFacts,
    /// The code change, when the contents were compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeChange>,
}

impl FileChange {
    /// The path to show: the new one.
    pub fn path(&self) -> &str {
        &self.new_path
    }
}

/// An entry with the same bytes under a new path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMove {
    /// Path in the old build.
    pub old_path: String,
    /// Path in the new build.
    pub new_path: String,
    /// Always 1.
    pub similarity: Similarity,
    /// Its facts (the same on both sides but the path).
    #[serde(flatten)]
    pub facts: EntryFacts,
}

/// The file-level difference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileChanges {
    /// Entries only in the new build (unpaired).
    pub added: Vec<FileEntry>,
    /// Entries only in the old build (unpaired).
    pub removed: Vec<FileEntry>,
    /// Pairs whose facts differ (same path, or paired across a rename).
    pub changed: Vec<FileChange>,
    /// Pairs with the same bytes under a new path.
    pub moved: Vec<FileMove>,
    /// Number of entries identical on both sides.
    pub unchanged: u64,
}

/// What differs between two entries' facts.
pub(crate) fn changed_aspects(o: &EntryFacts, n: &EntryFacts) -> Vec<ChangedAspect> {
    let mut changed = Vec::new();
    if o.kind != n.kind {
        changed.push(ChangedAspect::Kind);
    }
    if o.size != n.size {
        changed.push(ChangedAspect::Size);
    }
    if o.mode != n.mode {
        changed.push(ChangedAspect::Mode);
    }
    if o.sha256 != n.sha256 {
        changed.push(ChangedAspect::Content);
    }
    if o.link_target != n.link_target {
        changed.push(ChangedAspect::LinkTarget);
    }
    changed
}

/// The kinds of signal, in the order the report lists them (most consequential first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// An npm lifecycle script (preinstall, install, postinstall, ...) appeared.
    InstallScriptAdded,
    /// A lifecycle script's command changed.
    InstallScriptChanged,
    /// A lifecycle script went away.
    InstallScriptRemoved,
    /// A native executable or exec-bit file appeared.
    ExecutableAdded,
    /// An executable's bytes or format changed.
    ExecutableChanged,
    /// An executable went away.
    ExecutableRemoved,
    /// A `.node` native addon appeared.
    NativeAddonAdded,
    /// A file started using child_process / eval / new Function / vm.
    CapabilityAdded,
    /// A newly read environment variable (credential-like names are marked).
    EnvVarAdded,
    /// A URL appeared (a new host is marked).
    UrlAdded,
    /// A URL is gone.
    UrlRemoved,
    /// A dependency appeared (any dependency kind).
    DependencyAdded,
    /// A dependency's range changed.
    DependencyChanged,
    /// A dependency went away.
    DependencyRemoved,
    /// A `bin` command was added, removed or pointed elsewhere.
    BinChanged,
    /// A file or the total more than doubled and grew by more than 1 MiB.
    SizeJump,
}

impl SignalKind {
    /// The stable kebab-case name (as in JSON).
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::InstallScriptAdded => "install-script-added",
            SignalKind::InstallScriptChanged => "install-script-changed",
            SignalKind::InstallScriptRemoved => "install-script-removed",
            SignalKind::ExecutableAdded => "executable-added",
            SignalKind::ExecutableChanged => "executable-changed",
            SignalKind::ExecutableRemoved => "executable-removed",
            SignalKind::NativeAddonAdded => "native-addon-added",
            SignalKind::CapabilityAdded => "capability-added",
            SignalKind::EnvVarAdded => "env-var-added",
            SignalKind::UrlAdded => "url-added",
            SignalKind::UrlRemoved => "url-removed",
            SignalKind::DependencyAdded => "dependency-added",
            SignalKind::DependencyChanged => "dependency-changed",
            SignalKind::DependencyRemoved => "dependency-removed",
            SignalKind::BinChanged => "bin-changed",
            SignalKind::SizeJump => "size-jump",
        }
    }
}

/// One thing a reviewer must look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// What kind.
    pub kind: SignalKind,
    /// What it is about: a script name, `KIND:NAME` of a dependency, a URL, a variable, a
    /// capability, a path, a bin command, or `(total)`.
    pub subject: String,
    /// The files behind it.
    pub files: Vec<String>,
    /// The value before, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The value after, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// An extra fact (`credential-like name`, `new host`, `elf, content changed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What changed between two builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewReport {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The earlier (audited) build.
    pub old: Side,
    /// The build under review.
    pub new: Side,
    /// Whether the artifacts are byte-identical.
    pub identical: bool,
    /// The delta to decide on: behaviour changes (ranked), counts of what was paired,
    /// normalised and changed.
    pub review: Delta,
    /// Signals, sorted by kind then subject.
    pub signals: Vec<Signal>,
    /// File-level changes, sorted by path.
    pub files: FileChanges,
    /// Behaviours added and removed per module (`<kind>-added` / `<kind>-removed`): the same
    /// changes as `review.behaviour_changes`, sorted by kind.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub behaviours: Vec<ModuleBehaviourChange>,
}

impl ReviewReport {
    /// One line for a rejection reason: file counts and the signal kinds with their counts.
    pub fn summary_line(&self) -> String {
        let mut kinds: Vec<(SignalKind, usize)> = Vec::new();
        for s in &self.signals {
            match kinds.last_mut() {
                Some((k, n)) if *k == s.kind => *n += 1,
                _ => kinds.push((s.kind, 1)),
            }
        }
        let signals: Vec<String> = kinds
            .iter()
            .map(|(k, n)| format!("{} x{n}", k.name()))
            .collect();
        format!(
            "since {}: {} files added, {} removed, {} changed, {} moved; {} behaviour change(s); signals: {}",
            self.old.label,
            self.files.added.len(),
            self.files.removed.len(),
            self.files.changed.len(),
            self.files.moved.len(),
            self.review.behaviour_changes.len(),
            if signals.is_empty() {
                "none".to_string()
            } else {
                signals.join(", ")
            }
        )
    }

    /// Count of signals of one kind.
    pub fn count(&self, kind: SignalKind) -> usize {
        self.signals.iter().filter(|s| s.kind == kind).count()
    }

    /// The canonical JSON of the report: compact serde JSON with the operand labels left out
    /// (they name how the builds were given, not what they hold). What a delta audit's
    /// `review = "sha256:..."` digests.
    pub fn canonical_json(&self) -> Vec<u8> {
        let mut r = self.clone();
        r.old.label.clear();
        r.new.label.clear();
        serde_json::to_vec(&r).unwrap_or_default()
    }

    /// `sha256:<hex>` of [`ReviewReport::canonical_json`].
    pub fn digest(&self) -> Digest {
        use sha2::Digest as _;
        let h = sha2::Sha256::digest(self.canonical_json());
        Digest::new(crate::digest::Algorithm::Sha256, h.to_vec())
            .unwrap_or_else(|_| unreachable!("a SHA-256 output has 32 bytes"))
    }
}

fn side(label: &str, m: &ContentManifest) -> Side {
    Side {
        label: label.to_string(),
        name: m.package.as_ref().and_then(|p| p.name.clone()),
        version: m.package.as_ref().and_then(|p| p.version.clone()),
        sha512: m.artifact.sha512.clone(),
        sha256: m.artifact.sha256.clone(),
        entries: m.totals.entries,
        unpacked_bytes: m.totals.unpacked_bytes,
    }
}

/// How an entry is executable, if it is.
fn exec_of(e: &Entry) -> Option<String> {
    if e.kind == EntryKind::Embedded {
        // An embedded module has no mode; only a binary (e.g. a native addon) counts.
        return match e.signals.executable {
            Some(ExecutableFormat::Elf) => Some("elf, embedded".into()),
            Some(ExecutableFormat::MachO) => Some("mach-o, embedded".into()),
            Some(ExecutableFormat::Pe) => Some("pe, embedded".into()),
            _ => None,
        };
    }
    if e.kind != EntryKind::File {
        return None;
    }
    match e.signals.executable {
        Some(ExecutableFormat::Elf) => Some("elf".into()),
        Some(ExecutableFormat::MachO) => Some("mach-o".into()),
        Some(ExecutableFormat::Pe) => Some("pe".into()),
        Some(ExecutableFormat::Script) if e.mode & 0o111 != 0 => Some("script, exec bit".into()),
        Some(ExecutableFormat::Script) => Some("script".into()),
        None if e.mode & 0o111 != 0 => Some("exec bit".into()),
        None => None,
    }
}

fn size_jump(old: u64, new: u64) -> bool {
    new > old.saturating_mul(2) && new - old > SIZE_JUMP_MIN_BYTES
}

fn sig(kind: SignalKind, subject: impl Into<String>, files: Vec<String>) -> Signal {
    Signal {
        kind,
        subject: subject.into(),
        files,
        old: None,
        new: None,
        note: None,
    }
}

/// The host of a URL (`https://user@Host:443/x` -> `host`), lower-cased.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(stripped) = host_port.strip_prefix('[') {
        stripped.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Everything one signal set holds, across a manifest: value -> files.
fn collect(
    m: &ContentManifest,
    pick: impl Fn(&Entry) -> Vec<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, e) in &m.entries {
        for v in pick(e) {
            out.entry(v).or_default().insert(path.clone());
        }
    }
    out
}

/// Every capability the modules embedded in `container` use.
fn embedded_capabilities(m: &ContentManifest, container: &str) -> BTreeSet<String> {
    let prefix = format!("{container}!/");
    m.entries
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .flat_map(|(_, e)| e.signals.capabilities.iter().cloned())
        .collect()
}

/// Compare two manifests without their contents (digests only: moves are paired, code is not
/// compared). `old_label`/`new_label` name the operands in the report.
pub fn diff(
    old_label: &str,
    old: &ContentManifest,
    new_label: &str,
    new: &ContentManifest,
) -> ReviewReport {
    diff_with(old_label, old, None, new_label, new, None)
}

/// Compare two manifests, with the bytes of their entries where available (see
/// [`delta::wanted_paths`] and [`contents::read`]): renamed modules are paired by similarity and
/// code changes are normalised and diffed.
pub fn diff_with(
    old_label: &str,
    old: &ContentManifest,
    old_contents: Option<&Contents>,
    new_label: &str,
    new: &ContentManifest,
    new_contents: Option<&Contents>,
) -> ReviewReport {
    let mut files = FileChanges::default();
    let mut signals = Vec::new();
    let mut old_embedded_caps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut embedded_new_caps: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();

    for (path, ne) in &new.entries {
        match old.entries.get(path) {
            None => files.added.push(FileEntry {
                path: path.clone(),
                facts: EntryFacts::of(ne),
            }),
            Some(oe) => {
                let (of, nf) = (EntryFacts::of(oe), EntryFacts::of(ne));
                let changed = changed_aspects(&of, &nf);
                if changed.is_empty() {
                    files.unchanged += 1;
                } else {
                    files.changed.push(FileChange {
                        old_path: path.clone(),
                        new_path: path.clone(),
                        similarity: None,
                        paired_by: PairedBy::Path,
                        changed,
                        old: of,
                        new: nf,
                        code: None,
                    });
                }
            }
        }
        // Per-file signals on the new side.
        let oe = old.entries.get(path);
        match (oe.and_then(exec_of), exec_of(ne)) {
            (None, Some(how)) => {
                let mut s = sig(
                    SignalKind::ExecutableAdded,
                    path.clone(),
                    vec![path.clone()],
                );
                s.new = Some(how);
                signals.push(s);
            }
            (Some(was), Some(how)) => {
                let content_changed = oe.is_some_and(|o| o.sha256 != ne.sha256);
                if was != how || content_changed {
                    let mut s = sig(
                        SignalKind::ExecutableChanged,
                        path.clone(),
                        vec![path.clone()],
                    );
                    if was == how {
                        s.note = Some(format!("{how}, content changed"));
                    } else {
                        s.old = Some(was);
                        s.new = Some(how);
                    }
                    signals.push(s);
                }
            }
            _ => {}
        }
        if matches!(ne.kind, EntryKind::File | EntryKind::Embedded)
            && path.ends_with(".node")
            && oe.is_none_or(|o| o.kind != ne.kind)
        {
            let mut s = sig(
                SignalKind::NativeAddonAdded,
                path.clone(),
                vec![path.clone()],
            );
            s.new = exec_of(ne).or_else(|| Some("not a recognised binary".into()));
            signals.push(s);
        }
        // A new module embedded in an executable is compared with the executable's other
        // modules, not file by file: bundlers name chunks by content hash, so every release
        // "adds" thousands of chunks that use what the old chunks used.
        let embedded_in = |p: &str| {
            p.split_once("!/")
                .map(|(container, _)| container.to_string())
        };
        let new_embedded = oe.is_none() && ne.kind == EntryKind::Embedded;
        if new_embedded && let Some(container) = embedded_in(path) {
            for cap in &ne.signals.capabilities {
                let known = old_embedded_caps
                    .entry(container.clone())
                    .or_insert_with(|| embedded_capabilities(old, &container));
                if !known.contains(cap) {
                    embedded_new_caps
                        .entry((container.clone(), cap.clone()))
                        .or_default()
                        .push(path.clone());
                }
            }
        }
        for cap in ne.signals.capabilities.iter().filter(|_| !new_embedded) {
            if oe.is_none_or(|o| !o.signals.capabilities.contains(cap)) {
                let mut s = sig(SignalKind::CapabilityAdded, cap.clone(), vec![path.clone()]);
                s.note = Some(if oe.is_none() {
                    "in a new file".into()
                } else {
                    "in a changed file".into()
                });
                signals.push(s);
            }
        }
        if let Some(oe) = oe
            && oe.kind == EntryKind::File
            && ne.kind == EntryKind::File
            && size_jump(oe.size, ne.size)
        {
            let mut s = sig(SignalKind::SizeJump, path.clone(), vec![path.clone()]);
            s.old = Some(oe.size.to_string());
            s.new = Some(ne.size.to_string());
            signals.push(s);
        }
    }
    for ((container, cap), modules) in embedded_new_caps {
        let mut sg = sig(SignalKind::CapabilityAdded, cap, modules);
        sg.note = Some(format!("new in the modules embedded in {container}"));
        signals.push(sg);
    }
    for (path, oe) in &old.entries {
        if !new.entries.contains_key(path) {
            files.removed.push(FileEntry {
                path: path.clone(),
                facts: EntryFacts::of(oe),
            });
        }
        if let Some(was) = exec_of(oe)
            && new.entries.get(path).and_then(exec_of).is_none()
        {
            let mut s = sig(
                SignalKind::ExecutableRemoved,
                path.clone(),
                vec![path.clone()],
            );
            s.old = Some(was);
            signals.push(s);
        }
    }
    if size_jump(old.totals.unpacked_bytes, new.totals.unpacked_bytes) {
        let mut s = sig(SignalKind::SizeJump, "(total)", Vec::new());
        s.old = Some(old.totals.unpacked_bytes.to_string());
        s.new = Some(new.totals.unpacked_bytes.to_string());
        signals.push(s);
    }

    // Package-wide sets: URLs and environment variables (files can be renamed or re-bundled).
    let old_urls = collect(old, |e| e.signals.urls.iter().cloned().collect());
    let new_urls = collect(new, |e| e.signals.urls.iter().cloned().collect());
    let old_hosts: BTreeSet<String> = old_urls.keys().filter_map(|u| url_host(u)).collect();
    for (url, fs) in &new_urls {
        if !old_urls.contains_key(url) {
            let mut s = sig(
                SignalKind::UrlAdded,
                url.clone(),
                fs.iter().cloned().collect(),
            );
            if let Some(h) = url_host(url)
                && !old_hosts.contains(&h)
            {
                s.note = Some("new host".into());
            }
            signals.push(s);
        }
    }
    for (url, fs) in &old_urls {
        if !new_urls.contains_key(url) {
            signals.push(sig(
                SignalKind::UrlRemoved,
                url.clone(),
                fs.iter().cloned().collect(),
            ));
        }
    }
    let old_env = collect(old, |e| e.signals.env_vars.iter().cloned().collect());
    let new_env = collect(new, |e| e.signals.env_vars.iter().cloned().collect());
    for (var, fs) in &new_env {
        if !old_env.contains_key(var) {
            let mut s = sig(
                SignalKind::EnvVarAdded,
                var.clone(),
                fs.iter().cloned().collect(),
            );
            if is_credential_like(var) {
                s.note = Some("credential-like name".into());
            }
            signals.push(s);
        }
    }

    package_signals(old, new, &mut signals);

    signals.sort_by(|a, b| (a.kind, &a.subject, &a.files).cmp(&(b.kind, &b.subject, &b.files)));
    let review = delta::build(&mut files, old, old_contents, new, new_contents);
    ReviewReport {
        schema: REPORT_SCHEMA,
        old: side(old_label, old),
        new: side(new_label, new),
        identical: old.artifact.sha512 == new.artifact.sha512
            && old.artifact.sha256 == new.artifact.sha256,
        behaviours: behaviour_changes(&review.behaviour_changes),
        review,
        signals,
        files,
    }
}

fn map_diff<'a>(
    old: &'a BTreeMap<String, String>,
    new: &'a BTreeMap<String, String>,
) -> Vec<(&'a str, Option<&'a str>, Option<&'a str>)> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (o, n) = (
                old.get(k).map(String::as_str),
                new.get(k).map(String::as_str),
            );
            (o != n).then_some((k.as_str(), o, n))
        })
        .collect()
}

fn package_signals(old: &ContentManifest, new: &ContentManifest, signals: &mut Vec<Signal>) {
    let empty = crate::content::manifest::PackageInfo::default();
    let op = old.package.as_ref().unwrap_or(&empty);
    let np = new.package.as_ref().unwrap_or(&empty);
    let pj: Vec<String> = [&op.path, &np.path]
        .into_iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (name, o, n) in map_diff(&op.lifecycle_scripts, &np.lifecycle_scripts) {
        let kind = match (o, n) {
            (None, _) => SignalKind::InstallScriptAdded,
            (_, None) => SignalKind::InstallScriptRemoved,
            _ => SignalKind::InstallScriptChanged,
        };
        let mut s = sig(kind, name, pj.clone());
        s.old = o.map(str::to_string);
        s.new = n.map(str::to_string);
        signals.push(s);
    }
    let kinds: BTreeSet<&String> = op
        .dependencies
        .keys()
        .chain(np.dependencies.keys())
        .collect();
    let none = BTreeMap::new();
    for kind in kinds {
        let o = op.dependencies.get(kind).unwrap_or(&none);
        let n = np.dependencies.get(kind).unwrap_or(&none);
        for (name, ov, nv) in map_diff(o, n) {
            let sk = match (ov, nv) {
                (None, _) => SignalKind::DependencyAdded,
                (_, None) => SignalKind::DependencyRemoved,
                _ => SignalKind::DependencyChanged,
            };
            let mut s = sig(sk, format!("{kind}:{name}"), pj.clone());
            s.old = ov.map(str::to_string);
            s.new = nv.map(str::to_string);
            signals.push(s);
        }
    }
    for (cmd, o, n) in map_diff(&op.bin, &np.bin) {
        let mut s = sig(SignalKind::BinChanged, cmd, pj.clone());
        s.old = o.map(str::to_string);
        s.new = n.map(str::to_string);
        s.note = Some(match (o, n) {
            (None, _) => "command added".into(),
            (_, None) => "command removed".into(),
            _ => "command points elsewhere".into(),
        });
        signals.push(s);
    }
}
