//! Accumulates entries under the archive rules shared by tar and zip, hashes and inspects file
//! bytes as they stream past, and reads the root `package.json`.
use super::inspect::Inspector;
use super::manifest::{Entry, EntryKind, ExecutableFormat, PackageInfo, Signals, Totals};
use super::paths;
use super::rejection::ArchiveRejection;
use crate::digest::{Algorithm, Digest};
use crate::limits::{LimitExceeded, Limits};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Largest `package.json` read (bigger ones are hashed but not parsed).
const PACKAGE_JSON_MAX: usize = 16 << 20;

/// The kind of an entry as the archive format describes it, before the rules are applied.
pub(crate) enum RawKind<'a> {
    File { size: u64 },
    Dir,
    Symlink { target: &'a [u8] },
    Hardlink { target: &'a [u8] },
}

pub(crate) struct Builder {
    limits: Limits,
    pub(crate) entries: BTreeMap<String, Entry>,
    symlinks: HashSet<String>,
    pub(crate) totals: Totals,
    package_jsons: Vec<(String, Vec<u8>)>,
    seen: u64,
    /// What could not be looked into (see [`super::ContentManifest::notes`]).
    pub(crate) notes: Vec<String>,
    /// The bytes of the root package.json, once [`Builder::package`] picked it.
    package_text: Option<Vec<u8>>,
    /// The npm layout (tar and tgz): entries are read as npm installs them (see
    /// [`Builder::add_npm`] and `docs/archive-rules.md`).
    npm: Option<NpmLayout>,
    /// The bytes kept for a review (see [`super::Kept`]), when asked for.
    pub(crate) keep: Option<super::Kept>,
    /// An earlier manifest of the same artifact whose analyses may be copied (admission of an
    /// audited build; never with `keep`).
    pub(crate) reuse: Option<super::reuse::Reuse>,
    /// The entries whose analysis is to be copied from `reuse` once the manifest is complete.
    pub(crate) reused: Vec<String>,
}

/// State of the npm layout rules.
#[derive(Default)]
struct NpmLayout {
    /// The first path component of the first entry, as written (npm strips it, whatever it is).
    top: Option<Vec<u8>>,
    /// Manifest key -> the entry's own normalized path (before stripping and renaming).
    origin: HashMap<String, String>,
    /// Directories implied by the files listed so far.
    parents: HashSet<String>,
}

/// The canonical root of manifest keys for an npm layout: npm strips the first component of
/// every entry, and the manifest keeps the stripped path under `package/` (so that manifests of
/// npm tarballs, which all use `package/`, are unchanged).
pub(crate) const NPM_ROOT: &str = "package";

/// The mode npm writes for a file: pacote's `#entryMode` is `((mode | fmode) & ~umask) | exe |
/// 0o600` with `fmode = 0o666` and npm's `umask` 0, then node-tar opens the file with it and the
/// process umask applies; vetted records it for the usual process umask 0o022. (npm also marks
/// `bin` targets executable, when it links them; that is not part of extraction.)
pub(crate) fn npm_file_mode(raw: u32) -> u32 {
    ((raw & 0o777) | 0o666) & !0o022
}

/// The tail of an executable, kept in an unlinked temporary file to look for a Bun module graph
/// once the file has streamed past (the graph's table of contents is at its end). A writer
/// thread does the writes, so the walk is not slowed by the file system; the channel between
/// them is bounded.
struct Spool {
    /// Offset in the file of the first byte kept.
    start: u64,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    writer: Option<std::thread::JoinHandle<std::io::Result<(std::fs::File, u64)>>>,
    failed: Option<String>,
}

impl Spool {
    fn new(start: u64) -> Spool {
        Spool {
            start,
            tx: None,
            writer: None,
            failed: None,
        }
    }

    fn write(&mut self, file_offset: u64, bytes: &[u8]) {
        let end = file_offset + bytes.len() as u64;
        if end <= self.start || self.failed.is_some() {
            return;
        }
        let skip = self.start.saturating_sub(file_offset) as usize;
        let bytes = &bytes[skip..];
        if self.tx.is_none() {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
            let spawned = std::thread::Builder::new()
                .name("vetted-spool".into())
                .spawn(move || {
                    let mut f = tempfile::tempfile()?;
                    let mut kept = 0u64;
                    for chunk in rx {
                        std::io::Write::write_all(&mut f, &chunk)?;
                        kept += chunk.len() as u64;
                    }
                    Ok((f, kept))
                });
            match spawned {
                Ok(h) => {
                    self.tx = Some(tx);
                    self.writer = Some(h);
                }
                Err(e) => {
                    self.failed = Some(format!("cannot start a thread: {e}"));
                    return;
                }
            }
        }
        if let Some(tx) = &self.tx
            && tx.send(bytes.to_vec()).is_err()
        {
            // The writer stopped on an error; `finish` reports it.
            self.tx = None;
            self.failed = Some(String::new());
        }
    }

    /// The kept bytes (file, length), or why there are none; `Ok(None)` if nothing was kept.
    fn finish(mut self) -> Result<Option<(std::fs::File, u64)>, String> {
        self.tx = None;
        let joined = self.writer.take().map(|h| h.join());
        match (joined, self.failed) {
            (Some(Ok(Ok(kept))), None) => Ok(Some(kept)),
            (Some(Ok(Err(e))), _) => Err(format!("cannot write a temporary file: {e}")),
            (Some(Err(_)), _) => Err("the temporary file writer failed".into()),
            (_, Some(why)) => Err(why),
            (None, None) => Ok(None),
        }
    }
}

/// Receives one file's bytes.
pub(crate) struct FileSink {
    path: String,
    declared: u64,
    seen: u64,
    limit: u64,
    sha: Sha256,
    inspector: Inspector,
    package_json: Option<Vec<u8>>,
    spool_limit: u64,
    spool: Option<Spool>,
    /// The bytes of a JavaScript file, kept for the behaviour analysis (`None`: not wanted, or
    /// past `limits.js.source_bytes`, then `js_over` is set).
    js: Option<Vec<u8>>,
    js_over: bool,
    js_limit: u64,
    /// A repeat of a file already listed: the sha256 its bytes must have.
    repeat_of: Option<Digest>,
    /// The bytes of a file that is not JavaScript, kept for a review.
    kept: Option<Vec<u8>>,
}

impl FileSink {
    pub(crate) fn update(&mut self, bytes: &[u8]) -> Result<(), ArchiveRejection> {
        let offset = self.seen;
        self.seen += bytes.len() as u64;
        LimitExceeded::check("file size", self.limit, self.seen)
            .map_err(|l| ArchiveRejection::limit(Some(&self.path), l))?;
        if offset == 0
            && self.spool_limit > 0
            && self.declared >= super::bun::MIN_EXECUTABLE
            && matches!(
                super::inspect::executable_format(bytes),
                Some(ExecutableFormat::Elf | ExecutableFormat::MachO | ExecutableFormat::Pe)
            )
        {
            // Keep the last `spool_limit` bytes, and for ELF nothing before its last loaded
            // segment (the graph is in it or after it).
            let start = self
                .declared
                .saturating_sub(self.spool_limit)
                .max(super::bun::elf_last_load(bytes).unwrap_or(0));
            self.spool = Some(Spool::new(start));
        }
        if let Some(sp) = self.spool.as_mut() {
            sp.write(offset, bytes);
        }
        self.sha.update(bytes);
        self.inspector.update(bytes);
        // An npm `bin` script need not have a JavaScript name (`bin/cli` with
        // `#!/usr/bin/env node`): node runs it all the same, so it is analysed like a `.js` file.
        if offset == 0
            && self.js.is_none()
            && !self.js_over
            && bytes.first() == Some(&b'#')
            && self.declared <= self.js_limit
        {
            // Kept only because the file starts with `#` (its name is not JavaScript's): it is
            // analysed when its first line is a `#!` that runs a JavaScript runtime.
            self.js = Some(Vec::new());
        }
        if let Some(buf) = self.js.as_mut() {
            if (buf.len() + bytes.len()) as u64 > self.js_limit {
                self.js = None;
                self.js_over = true;
            } else {
                buf.extend_from_slice(bytes);
            }
        }
        if let Some(buf) = self.kept.as_mut() {
            buf.extend_from_slice(bytes);
        }
        if let Some(buf) = self.package_json.as_mut() {
            if buf.len() + bytes.len() > PACKAGE_JSON_MAX {
                self.package_json = None;
            } else {
                buf.extend_from_slice(bytes);
            }
        }
        Ok(())
    }
}

fn is_package_json_candidate(path: &str) -> bool {
    path == "package.json" || path.split('/').count() == 2 && path.ends_with("/package.json")
}

impl Builder {
    pub(crate) fn new(limits: Limits) -> Self {
        Builder {
            limits,
            entries: BTreeMap::new(),
            symlinks: HashSet::new(),
            totals: Totals::default(),
            package_jsons: Vec::new(),
            seen: 0,
            notes: Vec::new(),
            npm: None,
            package_text: None,
            keep: None,
            reuse: None,
            reused: Vec::new(),
        }
    }

    /// Read entries as npm installs a tarball (tar and tgz; see [`Builder::add_npm`]).
    pub(crate) fn use_npm_layout(&mut self) {
        self.npm = Some(NpmLayout::default());
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Apply the rules to a new entry. Returns a sink for a regular file's bytes, `None` for
    /// anything else (already recorded).
    pub(crate) fn add(
        &mut self,
        raw_path: &[u8],
        kind: RawKind<'_>,
        mode: u32,
    ) -> Result<Option<FileSink>, ArchiveRejection> {
        self.seen += 1;
        LimitExceeded::check("archive entries", self.limits.archive_entries, self.seen)
            .map_err(|l| ArchiveRejection::limit(None, l))?;
        if self.npm.is_some() {
            return self.add_npm(raw_path, kind, mode);
        }
        let path = match paths::normalize(raw_path, &self.limits)? {
            Some(p) => p,
            // `./`: the archive root directory itself.
            None if matches!(kind, RawKind::Dir) => return Ok(None),
            None => return Err(ArchiveRejection::EmptyPath),
        };
        // An entry beneath a symlink would be written through the link on extraction.
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let prefix = &path[..at + i];
            if self.symlinks.contains(prefix) {
                return Err(ArchiveRejection::BeneathSymlink {
                    path: path.clone(),
                    symlink: prefix.to_string(),
                });
            }
            at += i + 1;
        }
        if let Some(e) = self.entries.get(&path) {
            if e.kind != EntryKind::Embedded {
                return Err(ArchiveRejection::DuplicatePath { path });
            }
            // An archive entry named like an embedded module: the archive's entry is listed.
            self.entries.remove(&path);
            self.notes.push(format!(
                "archive entry {path:?} has the name of an embedded module; the archive entry is listed"
            ));
        }
        let mode = mode & 0o7777;
        let mut entry = Entry {
            kind: EntryKind::Dir,
            size: 0,
            mode,
            sha256: None,
            link_target: None,
            signals: Signals::default(),
            behaviours: Vec::new(),
            parse_error: None,
            analysis_truncated: false,
        };
        match kind {
            RawKind::Dir => {}
            RawKind::Symlink { target } => {
                entry.kind = EntryKind::Symlink;
                entry.link_target = Some(paths::check_symlink(&path, target)?);
                self.symlinks.insert(path.clone());
            }
            RawKind::Hardlink { target } => {
                let t = paths::check_hardlink(&path, target, &self.limits)?;
                if self.entries.get(&t).map(|e| e.kind) != Some(EntryKind::File) {
                    return Err(ArchiveRejection::HardlinkTarget { path, target: t });
                }
                entry.kind = EntryKind::Hardlink;
                entry.link_target = Some(t);
            }
            // One place records a regular file (limits, sink, totals): the npm layout's.
            RawKind::File { size } => return self.file_entry(path, size, mode).map(Some),
        }
        self.totals.entries += 1;
        self.entries.insert(path, entry);
        Ok(None)
    }

    /// An entry under the npm layout. npm (pacote `FetcherBase#tarxOptions`, node-tar `Unpack`)
    /// strips the first path component of every entry whatever it is (`strip: 1`), skips links
    /// and directories (pacote's `filter`), renames `.gitignore` to `.npmignore`, and writes the
    /// rest. The manifest lists exactly those files, under `package/`; an archive npm could
    /// read another way is refused:
    /// - every entry has the same first component (npm would put `zzz/setup.js` where
    ///   `package/setup.js` is);
    /// - nothing lies at the root itself (node-tar skips a file whose stripped path is empty);
    /// - no two files land on one path once stripped and renamed, and no file is also the
    ///   parent directory of another (node-tar fails one of them and goes on);
    /// - no link entries (pacote drops `Link` and `SymbolicLink`, so a link in the manifest
    ///   would be content that never lands);
    /// - no setuid, setgid or sticky bits.
    fn add_npm(
        &mut self,
        raw_path: &[u8],
        kind: RawKind<'_>,
        mode: u32,
    ) -> Result<Option<FileSink>, ArchiveRejection> {
        // The path rules apply to the whole path as written.
        let whole = match paths::normalize(raw_path, &self.limits)? {
            Some(p) => p,
            None if matches!(kind, RawKind::Dir) => return Ok(None),
            None => return Err(ArchiveRejection::EmptyPath),
        };
        let Some(layout) = self.npm.as_mut() else {
            return Err(ArchiveRejection::EmptyPath);
        };
        // node-tar `[CHECKPATH]`: `parts = path.split('/')`, `parts.splice(0, strip)`.
        let (top, rest) = match raw_path.iter().position(|b| *b == b'/') {
            Some(i) => (&raw_path[..i], &raw_path[i + 1..]),
            None => (raw_path, &b""[..]),
        };
        match &layout.top {
            None => layout.top = Some(top.to_vec()),
            Some(first) if first.as_slice() != top => {
                return Err(ArchiveRejection::SecondTopLevel {
                    path: whole,
                    first: String::from_utf8_lossy(first).into_owned(),
                    second: String::from_utf8_lossy(top).into_owned(),
                });
            }
            Some(_) => {}
        }
        let Some(stripped) = paths::normalize(rest, &self.limits)? else {
            // node-tar: an entry whose stripped path is the extraction directory itself is
            // skipped unless it is a directory.
            if matches!(kind, RawKind::Dir) {
                return Ok(None);
            }
            return Err(ArchiveRejection::EntryAtRoot { path: whole });
        };
        let mut key = format!("{NPM_ROOT}/{stripped}");
        let size = match kind {
            // pacote's filter returns nothing for directories: node-tar does not create them
            // (only the parents of files it writes). Not listed.
            RawKind::Dir => return Ok(None),
            RawKind::Symlink { .. } => {
                return Err(ArchiveRejection::LinkNotInstalled {
                    path: whole,
                    kind: "symlink",
                });
            }
            RawKind::Hardlink { .. } => {
                return Err(ArchiveRejection::LinkNotInstalled {
                    path: whole,
                    kind: "hardlink",
                });
            }
            RawKind::File { size } => size,
        };
        if mode & 0o7000 != 0 {
            return Err(ArchiveRejection::SpecialModeBits {
                path: whole,
                mode: mode & 0o7777,
            });
        }
        // pacote: "replicates the npm pack behavior where .gitignore files are treated like
        // .npmignore files, but only if a .npmignore file is not present" (an earlier
        // .npmignore makes it skip the .gitignore; a later one overwrites it).
        if key.rsplit('/').next() == Some(".gitignore") {
            key = format!("{}.npmignore", &key[..key.len() - ".gitignore".len()]);
        }
        if let Some(other) = layout.origin.get(&key) {
            // The same path twice (`package/./dist/a.js` then `package/dist/a.js`, as some
            // published tarballs have): node-tar writes both, the second over the first
            // (`[CHECKFS2]` reuses the file, keeping the first one's mode). Installed, that is
            // one file whatever the order when both copies have the same bytes and mode, so such
            // a repeat is read and compared; any difference is refused.
            if *other == whole {
                let first = self
                    .entries
                    .get(&key)
                    .filter(|e| e.kind == EntryKind::File && e.mode == npm_file_mode(mode))
                    .and_then(|e| e.sha256.clone());
                return match first {
                    Some(sha256) => self.repeat_entry(key, size, sha256).map(Some),
                    None => Err(ArchiveRejection::DuplicatePath { path: whole }),
                };
            }
            return Err(if *other == whole {
                ArchiveRejection::DuplicatePath { path: whole }
            } else {
                ArchiveRejection::PathCollision {
                    path: key,
                    first: other.clone(),
                    second: whole,
                }
            });
        }
        if layout.parents.contains(&key) {
            return Err(ArchiveRejection::FileAsDirectory {
                path: key.clone(),
                file: key,
            });
        }
        let mut at = NPM_ROOT.len() + 1;
        while let Some(i) = key[at..].find('/') {
            let parent = &key[..at + i];
            if layout.origin.contains_key(parent) {
                return Err(ArchiveRejection::FileAsDirectory {
                    path: key.clone(),
                    file: parent.to_string(),
                });
            }
            layout.parents.insert(parent.to_string());
            at += i + 1;
        }
        if let Some(e) = self.entries.get(&key)
            && e.kind == EntryKind::Embedded
        {
            self.entries.remove(&key);
            self.notes.push(format!(
                "archive entry {key:?} has the name of an embedded module; the archive entry is listed"
            ));
        }
        layout.origin.insert(key.clone(), whole);
        self.file_entry(key, size, npm_file_mode(mode)).map(Some)
    }

    /// A second copy of a file already read: its bytes are hashed and must equal the first's
    /// ([`Self::finish_file`]); nothing new is listed.
    fn repeat_entry(
        &mut self,
        path: String,
        size: u64,
        first: Digest,
    ) -> Result<FileSink, ArchiveRejection> {
        LimitExceeded::check("file size", self.limits.file_bytes, size)
            .map_err(|l| ArchiveRejection::limit(Some(&path), l))?;
        LimitExceeded::check(
            "unpacked bytes",
            self.limits.unpacked_bytes,
            self.totals.unpacked_bytes.saturating_add(size),
        )
        .map_err(|l| ArchiveRejection::limit(Some(&path), l))?;
        self.totals.unpacked_bytes += size;
        Ok(FileSink {
            path,
            declared: size,
            seen: 0,
            limit: size.min(self.limits.file_bytes),
            sha: Sha256::new(),
            inspector: Inspector::new(),
            package_json: None,
            spool_limit: 0,
            spool: None,
            js: None,
            js_over: false,
            js_limit: 0,
            repeat_of: Some(first),
            kept: None,
        })
    }

    /// Record a regular file and return the sink for its bytes.
    fn file_entry(
        &mut self,
        path: String,
        size: u64,
        mode: u32,
    ) -> Result<FileSink, ArchiveRejection> {
        LimitExceeded::check("file size", self.limits.file_bytes, size)
            .map_err(|l| ArchiveRejection::limit(Some(&path), l))?;
        LimitExceeded::check(
            "unpacked bytes",
            self.limits.unpacked_bytes,
            self.totals.unpacked_bytes.saturating_add(size),
        )
        .map_err(|l| ArchiveRejection::limit(Some(&path), l))?;
        let sink = FileSink {
            path: path.clone(),
            declared: size,
            seen: 0,
            limit: size.min(self.limits.file_bytes),
            sha: Sha256::new(),
            inspector: Inspector::new(),
            package_json: is_package_json_candidate(&path).then(Vec::new),
            spool_limit: self.limits.embedded_graph_bytes,
            spool: None,
            js: super::js::wants(&path).then(Vec::new),
            js_over: false,
            js_limit: self.limits.js.source_bytes,
            repeat_of: None,
            kept: (!super::js::wants(&path)
                && self.keep.as_ref().is_some_and(|k| k.room_for(size)))
            .then(Vec::new),
        };
        self.totals.files += 1;
        self.totals.unpacked_bytes += size;
        self.totals.entries += 1;
        self.entries.insert(
            path,
            Entry {
                kind: EntryKind::File,
                size,
                mode,
                sha256: None,
                link_target: None,
                signals: Signals::default(),
                behaviours: Vec::new(),
                parse_error: None,
                analysis_truncated: false,
            },
        );
        Ok(sink)
    }

    /// A file's bytes are complete.
    pub(crate) fn finish_file(&mut self, mut sink: FileSink) -> Result<(), ArchiveRejection> {
        if sink.seen != sink.declared {
            return Err(ArchiveRejection::CorruptTar {
                offset: 0,
                detail: format!(
                    "entry {:?}: declared {} bytes, read {}",
                    sink.path, sink.declared, sink.seen
                ),
            });
        }
        let digest = Digest::new(Algorithm::Sha256, sink.sha.finalize().to_vec()).ok();
        if let Some(first) = sink.repeat_of {
            if digest.as_ref() != Some(&first) {
                return Err(ArchiveRejection::DuplicatePath { path: sink.path });
            }
            return Ok(());
        }
        if let Some(bytes) = sink.package_json {
            self.package_jsons.push((sink.path.clone(), bytes));
        }
        let (signals, runtime) = sink.inspector.finish_with_runtime();
        if let Some(e) = self.entries.get_mut(&sink.path) {
            e.sha256 = digest;
            e.signals = signals;
            // A JavaScript name's bytes are kept from the start; any other kept bytes began with `#`.
            let is_script = !super::js::wants(&sink.path);
            let script = match &sink.js {
                Some(src) if is_script => super::js::script_name(&sink.path, src),
                _ => None,
            };
            let want_facts = self.keep.is_some();
            let stored = (sink.js.is_some() || sink.js_over)
                && self
                    .reuse
                    .as_ref()
                    .is_some_and(|r| r.covers_for(&sink.path, e, want_facts));
            if stored {
                self.reused.push(sink.path.clone());
                let facts = self.reuse.as_ref().and_then(|r| r.facts_of(&sink.path));
                if let (Some(k), Some(f)) = (self.keep.as_mut(), facts) {
                    k.facts.insert(sink.path.clone(), f);
                }
            } else if let Some(name) = &script
                && let Some(src) = &sink.js
            {
                // Compared as text in a review (no facts): its name is not JavaScript's.
                super::js::analyse_entry_with(e, name, src, &self.limits.js, false);
            } else if let Some(src) = sink.js.as_ref().filter(|_| !is_script) {
                let facts = super::js::analyse_entry_with(
                    e,
                    &sink.path,
                    src,
                    &self.limits.js,
                    self.keep.is_some(),
                );
                if let (Some(k), Some(f)) = (self.keep.as_mut(), facts) {
                    k.facts.insert(sink.path.clone(), f);
                }
            } else if sink.js_over {
                e.parse_error = Some(format!(
                    "not parsed: more than the limit of {} bytes (limits.js.source_bytes)",
                    self.limits.js.source_bytes
                ));
            }
            e.behaviours
                .extend(super::js::executable_behaviour(&sink.path, e));
        }
        if let Some(k) = self.keep.as_mut()
            && let Some(b) = sink.js.take().or(sink.kept.take())
        {
            k.add_file(&sink.path, b);
        }
        if let Some(spool) = sink.spool {
            let before = self.entries.len();
            self.read_embedded(&sink.path, sink.declared, spool);
            if self.entries.len() > before {
                self.attribute_runtime(&sink.path, runtime.as_deref());
            }
        }
        Ok(())
    }

    /// An executable with an embedded module graph: its own strings are the runtime's, not the
    /// program's (the program is in the modules). One `runtime` behaviour replaces them.
    pub(crate) fn attribute_runtime(&mut self, path: &str, runtime: Option<&str>) {
        if let Some(e) = self.entries.get_mut(path) {
            let exe = e.signals.executable;
            e.signals = Signals::default();
            e.signals.executable = exe;
            e.behaviours
                .retain(|b| b.kind == super::manifest::BehaviourKind::Executable);
            e.behaviours.push(super::js::runtime_behaviour(
                runtime.unwrap_or("unknown (no runtime version string found)"),
            ));
        }
    }

    /// List the modules of a Bun module graph in the kept tail of an executable.
    fn read_embedded(&mut self, path: &str, size: u64, spool: Spool) {
        let start = spool.start;
        let graph = match spool.finish() {
            Err(why) => {
                self.notes.push(format!(
                    "{path}: embedded module graph not looked for: {why}"
                ));
                return;
            }
            Ok(None) => return,
            Ok(Some((f, kept))) => {
                let max = self.limits.archive_entries.saturating_sub(self.seen);
                let facts = self.keep.is_some();
                let how = super::bun::How {
                    facts,
                    reuse: self.reuse.as_ref(),
                };
                let mut g = super::bun::read_graph_with(&f, kept, path, max, &self.limits.js, how);
                if g.modules.is_empty()
                    && g.note.is_none()
                    && let Some(sea) = super::sea::read_sea(&f, kept, path, max, &self.limits.js)
                {
                    g = sea;
                }
                if start > 0
                    && let Some(n) = g.note.as_mut()
                {
                    n.push_str(&format!(
                        " (only the last {kept} of its {size} bytes were kept: limit \
                         embedded_graph_bytes)"
                    ));
                }
                if let Some(k) = self.keep.as_mut() {
                    k.spools.push(super::KeptTail {
                        path: path.to_string(),
                        file: f,
                        start,
                    });
                }
                g
            }
        };
        self.add_embedded(graph);
    }

    /// Record the modules of an embedded graph (and its note).
    pub(crate) fn add_embedded(&mut self, graph: super::bun::Graph) {
        self.notes.extend(graph.note);
        for m in graph.modules {
            if self.entries.contains_key(&m.path) {
                self.notes.push(format!(
                    "embedded module {:?} has the name of an archive entry; not listed",
                    m.path
                ));
                continue;
            }
            if let (Some(k), Some(f)) = (self.keep.as_mut(), m.facts) {
                k.facts.insert(m.path.clone(), f);
            }
            if m.reused {
                self.reused.push(m.path.clone());
            }
            self.entries.insert(m.path, m.entry);
        }
    }

    /// The bytes of the root package.json (after [`Builder::package`]).
    pub(crate) fn package_json_text(&self, _path: &str) -> Option<&[u8]> {
        self.package_text.as_deref()
    }

    /// The root `package.json` (npm: `package/package.json`), parsed.
    pub(crate) fn package(&mut self) -> Option<PackageInfo> {
        let pick = ["package/package.json", "package.json"]
            .iter()
            .find_map(|want| self.package_jsons.iter().position(|(p, _)| p == want))
            .or_else(|| (self.package_jsons.len() == 1).then_some(0))?;
        let (path, bytes) = self.package_jsons.swap_remove(pick);
        self.package_text = Some(bytes.clone());
        let has_binding_gyp = {
            let dir = path.strip_suffix("package.json").unwrap_or("");
            // A regular file only: pacote drops link entries, so a linked binding.gyp is
            // never on disk.
            self.entries
                .get(&format!("{dir}binding.gyp"))
                .is_some_and(|e| e.kind == EntryKind::File)
        };
        parse_package_json(&path, &bytes, has_binding_gyp)
    }
}

/// npm lifecycle scripts that run on install or pack (npm docs, "scripts": "Life Cycle Scripts").
const LIFECYCLE: &[&str] = &[
    "preinstall",
    "install",
    "postinstall",
    "preuninstall",
    "uninstall",
    "postuninstall",
    "prepublish",
    "preprepare",
    "prepare",
    "postprepare",
    "prepack",
    "postpack",
    "dependencies",
];

/// Parse the facts of a `package.json`; `None` when it is not a JSON object.
pub fn parse_package_json(path: &str, bytes: &[u8], has_binding_gyp: bool) -> Option<PackageInfo> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let obj = v.as_object()?;
    let text = |k: &str| obj.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut info = PackageInfo {
        path: path.to_string(),
        name: text("name"),
        version: text("version"),
        ..PackageInfo::default()
    };
    if let Some(scripts) = obj.get("scripts").and_then(|v| v.as_object()) {
        for (k, v) in scripts {
            if let Some(cmd) = v.as_str() {
                info.scripts.insert(k.clone(), cmd.to_string());
                if LIFECYCLE.contains(&k.as_str()) {
                    info.lifecycle_scripts.insert(k.clone(), cmd.to_string());
                }
            }
        }
    }
    for key in super::manifest::NPM_FIELDS {
        if let Some(v) = obj.get(*key) {
            info.npm_fields.insert((*key).to_string(), v.clone());
        }
    }
    // npm: "If there is a binding.gyp file in the root of your package and you haven't defined
    // your own install or preinstall scripts, npm will default the install command to compile
    // using node-gyp" -- an install script the package.json does not show. Listed with the
    // lifecycle scripts so that review and diff see it (rule: `install_scripts`).
    if let Some(gyp) = super::install_scripts::from_parts(
        &info.scripts,
        super::install_scripts::gypfile_disabled(&info),
        has_binding_gyp,
    )
    .into_iter()
    .find(|s| s.implicit)
    {
        info.lifecycle_scripts.insert(
            gyp.event,
            format!("{} (implicit: binding.gyp)", gyp.command),
        );
    }
    for kind in [
        "dependencies",
        "optionalDependencies",
        "peerDependencies",
        "devDependencies",
    ] {
        if let Some(deps) = obj.get(kind).and_then(|v| v.as_object()) {
            let map = deps
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect::<BTreeMap<_, _>>();
            info.dependencies.insert(kind.to_string(), map);
        }
    }
    for kind in ["bundleDependencies", "bundledDependencies"] {
        if let Some(list) = obj.get(kind).and_then(|v| v.as_array()) {
            let map = list
                .iter()
                .filter_map(|v| v.as_str())
                .map(|n| (n.to_string(), "bundled".to_string()))
                .collect::<BTreeMap<_, _>>();
            info.dependencies.insert("bundleDependencies".into(), map);
        }
    }
    match obj.get("bin") {
        Some(serde_json::Value::String(p)) => {
            // npm: a string `bin` is installed under the package name (without the scope).
            let name = info.name.as_deref().unwrap_or_default();
            let cmd = name.rsplit('/').next().unwrap_or(name);
            info.bin.insert(cmd.to_string(), p.clone());
        }
        Some(serde_json::Value::Object(m)) => {
            for (k, v) in m {
                if let Some(p) = v.as_str() {
                    info.bin.insert(k.clone(), p.to_string());
                }
            }
        }
        _ => {}
    }
    Some(info)
}
