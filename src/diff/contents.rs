//! The bytes behind a content manifest's entries, read again from the artifact for the review:
//! the code a reviewer is shown, and what pairing compares. The manifest stays the authority:
//! every file or module read here is hashed and kept only when its SHA-256 is the one the
//! manifest lists for that path, so what is shown is exactly what was inspected (a reader that
//! saw the archive differently would be caught, and the entry reported as unreadable).
use crate::content::bun::{self, ReadAt};
use crate::content::manifest::{ContentManifest, Entry, EntryKind};
use crate::limits::review::{FILE_BYTES, SIDE_BYTES, ZST_OUTPUT_BYTES};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read};
use std::path::Path;

/// The bytes of some entries of one artifact, each checked against its manifest digest.
#[derive(Debug, Default)]
pub struct Contents {
    bytes: HashMap<String, Vec<u8>>,
    /// The facts the inspection computed from the same bytes (see [`crate::content::Kept`]).
    facts: HashMap<String, super::js::JsFacts>,
    /// What could not be read, and why (one line per cause).
    pub notes: Vec<String>,
}

impl Contents {
    /// The facts of one JavaScript entry the inspection computed, if it did.
    pub fn facts(&self, path: &str) -> Option<&super::js::JsFacts> {
        self.facts.get(path)
    }

    /// The bytes of one entry, when they were read.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.bytes.get(path).map(Vec::as_slice)
    }

    /// Bytes held, all entries together.
    pub fn held_bytes(&self) -> u64 {
        self.bytes.values().map(|b| b.len() as u64).sum()
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Add bytes for a path (tests and in-memory sources); not checked against a manifest.
    pub fn insert(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.bytes.insert(path.into(), bytes);
    }
}

/// Decompress a zstd frame sequence (RFC 8878), at most [`ZST_OUTPUT_BYTES`] of output.
pub fn decompress_zst(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut input = bytes;
    let mut out = Vec::new();
    while !input.is_empty() {
        let mut dec = ruzstd::decoding::StreamingDecoder::new(&mut input)
            .map_err(|e| format!("not a zstd frame: {e}"))?;
        let mut buf = [0u8; 64 << 10];
        loop {
            let n = match dec.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("corrupt zstd data: {e}")),
            };
            if (out.len() + n) as u64 > ZST_OUTPUT_BYTES {
                return Err(format!(
                    "decompresses to more than {ZST_OUTPUT_BYTES} bytes (limit)"
                ));
            }
            out.extend_from_slice(&buf[..n]);
        }
    }
    Ok(out)
}

/// The bytes a reviewer reads for an entry: zstd streams ([`crate::content::js::compressed`])
/// decompressed, others as they are.
pub fn decoded<'a>(path: &str, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, [u8]>, String> {
    if crate::content::js::compressed(path, bytes) {
        decompress_zst(bytes).map(std::borrow::Cow::Owned)
    } else {
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

fn sha256_matches(e: &Entry, bytes: &[u8]) -> bool {
    e.sha256
        .as_ref()
        .is_some_and(|d| d.bytes() == &Sha256::digest(bytes)[..])
}

/// A temporary file holding an executable from byte `base` on.
struct Tail {
    file: std::fs::File,
    base: u64,
}

impl ReadAt for Tail {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let at = offset
            .checked_sub(self.base)
            .ok_or_else(|| io::Error::other("before the kept tail of the executable"))?;
        self.file.read_exact_at(buf, at)
    }
}

/// Which entries to read: regular files by path, and the embedded modules (by path) of
/// the executables that hold them.
struct Wanted<'a> {
    manifest: &'a ContentManifest,
    files: BTreeSet<&'a str>,
    embedded: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> Wanted<'a> {
    fn new(manifest: &'a ContentManifest, paths: &BTreeSet<&'a str>) -> Self {
        let mut w = Wanted {
            manifest,
            files: BTreeSet::new(),
            embedded: BTreeMap::new(),
        };
        for p in paths {
            let Some(e) = manifest.entries.get(*p) else {
                continue;
            };
            if e.size > FILE_BYTES {
                continue;
            }
            match e.kind {
                EntryKind::File => {
                    w.files.insert(p);
                }
                EntryKind::Embedded => {
                    if let Some((container, _)) = p.split_once("!/") {
                        w.embedded.entry(container).or_default().insert(p);
                    }
                }
                _ => {}
            }
        }
        w
    }
}

/// Read the bytes of `paths` (manifest paths of files and embedded modules) from the artifact
/// at `artifact`, whose manifest is `manifest`. Entries larger than [`FILE_BYTES`], beyond
/// [`SIDE_BYTES`] in all, or whose bytes do not match the manifest are left out with a note.
pub fn read(artifact: &Path, manifest: &ContentManifest, paths: &BTreeSet<&str>) -> Contents {
    let wanted = Wanted::new(manifest, paths);
    let mut out = Contents::default();
    if wanted.files.is_empty() && wanted.embedded.is_empty() {
        return out;
    }
    let res = match manifest.archive.as_str() {
        "tgz" | "tar" => read_tar(artifact, manifest.archive == "tgz", &wanted, &mut out),
        "zip" => read_zip(artifact, &wanted, &mut out),
        "file" => read_single(artifact, &wanted, &mut out),
        other => Err(format!("unknown archive format {other:?}")),
    };
    if let Err(e) = res {
        out.notes.push(format!("{}: {e}", artifact.display()));
    }
    over_side_bytes(&mut out, &format!("contents of {}", artifact.display()));
    out
}

/// Past [`SIDE_BYTES`] in all, no code of this side is shown (a note says so).
fn over_side_bytes(out: &mut Contents, what: &str) {
    let total = out.held_bytes();
    if total > SIDE_BYTES {
        out.notes.push(format!(
            "{what} add up to {total} bytes, more than {SIDE_BYTES}; code not shown"
        ));
        out.bytes.clear();
    }
}

/// The bytes of `paths` from what the inspection of the artifact kept ([`crate::content::Kept`]),
/// checked against the manifest as [`read`] checks them; `None` when something wanted was not
/// kept (then the artifact is read again with [`read`]).
pub fn from_kept(
    manifest: &ContentManifest,
    kept: &mut crate::content::Kept,
    paths: &BTreeSet<&str>,
) -> Option<Contents> {
    let wanted = Wanted::new(manifest, paths);
    if wanted.files.iter().any(|p| !kept.files.contains_key(*p))
        || wanted
            .embedded
            .keys()
            .any(|c| !kept.spools.iter().any(|t| t.path == *c))
    {
        return None;
    }
    let mut out = Contents::default();
    for p in &wanted.files {
        if let Some(bytes) = kept.files.remove(*p) {
            keep(&mut out, manifest, p, bytes);
        }
    }
    for (container, modules) in &wanted.embedded {
        let (Some(t), Some(e)) = (
            kept.spools.iter().find(|t| t.path == *container),
            manifest.entries.get(*container),
        ) else {
            continue;
        };
        let Ok(file) = t.file.try_clone() else {
            return None;
        };
        let tail = Tail {
            file,
            base: t.start,
        };
        read_embedded(&tail, e.size, container, modules, manifest, &mut out);
    }
    kept.files.clear();
    out.facts = std::mem::take(&mut kept.facts);
    over_side_bytes(&mut out, "contents");
    Some(out)
}

fn keep(out: &mut Contents, manifest: &ContentManifest, path: &str, bytes: Vec<u8>) {
    match manifest.entries.get(path) {
        Some(e) if sha256_matches(e, &bytes) => {
            out.bytes.insert(path.to_string(), bytes);
        }
        _ => out.notes.push(format!(
            "{path}: the bytes read for review do not match the manifest; not shown"
        )),
    }
}

fn read_embedded(
    src: &(impl ReadAt + ?Sized),
    len: u64,
    container: &str,
    modules: &BTreeSet<&str>,
    manifest: &ContentManifest,
    out: &mut Contents,
) {
    let want = |p: &str| modules.contains(p);
    match bun::read_contents(src, len, container, 1 << 20, &want, SIDE_BYTES) {
        Ok(found) => {
            for (p, b) in found {
                keep(out, manifest, &p, b);
            }
        }
        Err(e) => out.notes.push(format!("{container}: {e}")),
    }
}

fn read_tar(
    artifact: &Path,
    gz: bool,
    wanted: &Wanted<'_>,
    out: &mut Contents,
) -> Result<(), String> {
    let file = std::fs::File::open(artifact).map_err(|e| e.to_string())?;
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(io::BufReader::with_capacity(
            256 << 10,
            file,
        )))
    } else {
        Box::new(io::BufReader::new(file))
    };
    let mut ar = tar::Archive::new(reader);
    let mut left = wanted.files.len() + wanted.embedded.len();
    for entry in ar.entries().map_err(|e| e.to_string())? {
        if left == 0 {
            break;
        }
        let mut entry = entry.map_err(|e| e.to_string())?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let raw = entry.path_bytes();
        let name = String::from_utf8_lossy(&raw);
        let path = name.trim_start_matches("./").to_string();
        let as_file = wanted.files.contains(path.as_str());
        let modules = wanted.embedded.get(path.as_str());
        if as_file {
            left -= 1;
            let mut bytes = Vec::new();
            (&mut entry)
                .take(FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            if let Some(modules) = modules {
                // Small enough to hold: read its modules from memory.
                left -= 1;
                let len = bytes.len() as u64;
                read_embedded(bytes.as_slice(), len, &path, modules, wanted.manifest, out);
            }
            keep(out, wanted.manifest, &path, bytes);
        } else if let Some(modules) = modules {
            left -= 1;
            let size = entry.size();
            match spool_tail(&mut entry, size) {
                Ok(tail) => {
                    read_embedded(&tail, size, &path, modules, wanted.manifest, out);
                }
                Err(e) => out.notes.push(format!("{path}: {e}")),
            }
        }
    }
    Ok(())
}

/// Copy an executable's tail (from its last ELF load segment, or the last
/// `embedded_graph_bytes`) into an unlinked temporary file.
fn spool_tail(r: &mut impl Read, size: u64) -> Result<Tail, String> {
    let limit = crate::limits::Limits::default().embedded_graph_bytes;
    let mut head = vec![0u8; (64 << 10).min(size as usize)];
    r.read_exact(&mut head).map_err(|e| e.to_string())?;
    let base = size
        .saturating_sub(limit)
        .max(bun::elf_last_load(&head).unwrap_or(0));
    let mut file = tempfile::tempfile().map_err(|e| e.to_string())?;
    let head_len = head.len() as u64;
    if base < head_len {
        io::Write::write_all(&mut file, &head[base as usize..]).map_err(|e| e.to_string())?;
    } else {
        io::copy(&mut r.take(base - head_len), &mut io::sink()).map_err(|e| e.to_string())?;
    }
    io::copy(r, &mut file).map_err(|e| e.to_string())?;
    Ok(Tail { file, base })
}

fn read_zip(artifact: &Path, wanted: &Wanted<'_>, out: &mut Contents) -> Result<(), String> {
    let file = std::fs::File::open(artifact).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    for path in &wanted.files {
        let Ok(mut f) = zip.by_name(path) else {
            out.notes.push(format!("{path}: not found in the zip"));
            continue;
        };
        let mut bytes = Vec::new();
        (&mut f)
            .take(FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        keep(out, wanted.manifest, path, bytes);
    }
    if !wanted.embedded.is_empty() {
        out.notes
            .push("modules embedded in executables inside a zip are not shown".into());
    }
    Ok(())
}

fn read_single(artifact: &Path, wanted: &Wanted<'_>, out: &mut Contents) -> Result<(), String> {
    let file = std::fs::File::open(artifact).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    for path in &wanted.files {
        let mut bytes = Vec::new();
        (&file)
            .take(FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        keep(out, wanted.manifest, path, bytes);
    }
    for (container, modules) in &wanted.embedded {
        read_embedded(&file, len, container, modules, wanted.manifest, out);
    }
    Ok(())
}
