//! Safe archive reading (tar, tgz, zip), the content manifest, and the inspectors.
//!
//! [`inspect_file`] builds a [`ContentManifest`] in one read of the bytes: a reader thread
//! hashes the compressed stream (sha256, sha512, sha1) while an inflate thread decompresses it
//! and the calling thread walks the tar, hashing and inspecting each file. Every rule an entry
//! can break is an [`ArchiveRejection`] variant; every limit stops the read at once.
mod builder;
pub(crate) mod bun;
pub mod inspect;
pub mod inspection_cache;
pub mod install_scripts;
pub mod js;
pub mod manifest;
mod paths;
mod pipeline;
mod rejection;
pub mod reuse;
mod sea;
mod tar_walk;
mod zip_walk;

pub use builder::parse_package_json;
pub use manifest::{Behaviour, BehaviourKind, ContentManifest};
pub use rejection::{ArchiveRejection, ContentError};

use crate::digest::Digests;
use crate::limits::Limits;
use builder::Builder;
use manifest::{Entry, EntryKind, ExecutableFormat, MANIFEST_FORMAT, Totals};
use pipeline::{ChanReader, StageError};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use tar_walk::WalkError;

/// How to read an artifact.
#[derive(Debug, Clone, Default)]
pub struct InspectOptions {
    /// The limits to enforce.
    pub limits: Limits,
    /// Reject a file that is not an archive (npm artifacts must be tarballs).
    pub expect_archive: bool,
}

/// The format of an artifact, by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// gzip (RFC 1952: ID1 = 0x1f, ID2 = 0x8b), expected to hold a tar.
    Gzip,
    /// POSIX tar (`ustar` magic at offset 257, or a v7 header with a valid checksum).
    Tar,
    /// zip (`PK\x03\x04`, or `PK\x05\x06` for an empty archive).
    Zip,
    /// Anything else.
    Other,
}

impl Format {
    /// Detect from the first bytes (at least 512 for tar).
    pub fn detect(head: &[u8]) -> Format {
        if head.starts_with(&[0x1f, 0x8b]) {
            Format::Gzip
        } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Format::Zip
        } else if is_tar_header(head) {
            Format::Tar
        } else {
            Format::Other
        }
    }
}

fn is_tar_header(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else {
        return false;
    };
    if &block[257..262] == b"ustar" {
        return true;
    }
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..])
        .map(|b| u32::from(*b))
        .sum::<u32>()
        + 8 * 32;
    tar::Header::from_byte_slice(block).cksum().ok() == Some(sum) && block[0] != 0
}

/// For the fuzz targets (`fuzz/`): read a Bun module graph from `bytes` as if they were an
/// executable inside an archive. Returns the number of modules found. Never panics.
#[doc(hidden)]
pub fn fuzz_bun_graph(bytes: &[u8]) -> usize {
    bun::read_graph(
        bytes,
        bytes.len() as u64,
        "fuzz",
        10_000,
        &crate::limits::JsLimits::default(),
    )
    .modules
    .len()
}

/// For the fuzz targets (`fuzz/`): find a Node SEA blob in `bytes` as if they were an
/// executable inside an archive, and list (and analyse) its modules. Returns the number of
/// modules found. Never panics.
#[doc(hidden)]
pub fn fuzz_sea(bytes: &[u8]) -> usize {
    let js = crate::limits::JsLimits {
        millis: 2_000,
        ..Default::default()
    };
    sea::read_sea(bytes, bytes.len() as u64, "fuzz", 10_000, &js).map_or(0, |g| g.modules.len())
}

/// For the fuzz targets (`fuzz/`): the JavaScript behaviour analysis of one file named `name`
/// (the name chooses the dialect, and `.zst` the bounded decompression first). Returns the
/// number of behaviours found. Never panics.
#[doc(hidden)]
pub fn fuzz_js(name: &str, bytes: &[u8]) -> usize {
    let js = crate::limits::JsLimits {
        millis: 2_000,
        zst_bytes: 4 << 20,
        ..Default::default()
    };
    let mut e = manifest::Entry::blank_file(bytes.len() as u64);
    js::analyse_entry(&mut e, name, bytes, &js);
    e.behaviours.len()
}

/// The archive format a file name promises (`.tgz`, `.tar.gz`, `.tar`, `.zip`, `.crate`,
/// `.whl`, `.jar`), if any. A file so named must be that archive: inspected as a plain file it
/// would pass without any of the archive checks.
pub fn archive_by_name(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = lower.split(['?', '#']).next().unwrap_or("");
    [
        (".tar.gz", "tgz"),
        (".tgz", "tgz"),
        (".crate", "tgz"),
        (".tar", "tar"),
        (".zip", "zip"),
        (".whl", "zip"),
        (".jar", "zip"),
    ]
    .into_iter()
    .find_map(|(ext, fmt)| lower.ends_with(ext).then_some(fmt))
}

/// What an inspection kept of an artifact's bytes for a review (`vetted diff`), so they are
/// not read and inflated a second time: the regular files of at most
/// [`crate::limits::review::FILE_BYTES`] (within [`crate::limits::review::SIDE_BYTES`] in all), and the
/// kept tails of executables, where their module graphs are. The manifest stays the authority:
/// `diff::contents` keeps a file or module only when its SHA-256 is the manifest's.
#[derive(Debug, Default)]
pub struct Kept {
    pub(crate) files: std::collections::HashMap<String, Vec<u8>>,
    pub(crate) spools: Vec<KeptTail>,
    /// The review's facts of each JavaScript file and module the analysis parsed, by path
    /// (each from the bytes whose SHA-256 the manifest records).
    pub(crate) facts: std::collections::HashMap<String, crate::diff::js::JsFacts>,
    held: u64,
}

/// The kept tail of an executable: `file` holds its bytes from offset `start` on.
#[derive(Debug)]
pub(crate) struct KeptTail {
    pub(crate) path: String,
    pub(crate) file: std::fs::File,
    pub(crate) start: u64,
}

impl Kept {
    /// How many entries' review facts are held.
    pub fn facts_held(&self) -> usize {
        self.facts.len()
    }

    pub(crate) fn room_for(&self, size: u64) -> bool {
        size <= crate::limits::review::FILE_BYTES
            && self.held + size <= crate::limits::review::SIDE_BYTES
    }

    pub(crate) fn add_file(&mut self, path: &str, bytes: Vec<u8>) {
        let size = bytes.len() as u64;
        // A file left out makes `diff::contents::from_kept` read the artifact again.
        if self.room_for(size) {
            self.held += size;
            self.files.insert(path.to_string(), bytes);
        }
    }
}

/// Build the content manifest of the artifact at `path` in one streaming pass.
///
/// An empty file is rejected (there is nothing to verify). A file whose name promises an
/// archive ([`archive_by_name`]) must be one, as when `opts.expect_archive` is set.
pub fn inspect_file(path: &Path, opts: &InspectOptions) -> Result<ContentManifest, ContentError> {
    inspect_inner(path, opts, false, None).map(|(m, _)| m)
}

/// [`inspect_file`] of an artifact whose earlier manifest is at hand (an audited build being
/// admitted): an entry that manifest holds with the same path, SHA-256 and size takes its
/// analysis from it instead of being parsed again ([`reuse`]). The result is the manifest
/// [`inspect_file`] would build.
pub fn inspect_file_reusing(
    path: &Path,
    opts: &InspectOptions,
    stored: reuse::Reuse,
) -> Result<ContentManifest, ContentError> {
    inspect_inner(path, opts, false, Some(stored)).map(|(m, _)| m)
}

/// [`inspect_file`], keeping the bytes a review reads (tar and tgz; `None` for other formats,
/// whose review reads the artifact again), and the facts of each module the review compares.
/// With `reuse` (an earlier inspection of the same artifact, [`inspection_cache`]), an entry it
/// holds with the same path, SHA-256, size and facts is not parsed again.
pub fn inspect_file_keeping(
    path: &Path,
    opts: &InspectOptions,
    reuse: Option<reuse::Reuse>,
) -> Result<(ContentManifest, Option<Kept>), ContentError> {
    inspect_inner(path, opts, true, reuse)
}

fn inspect_inner(
    path: &Path,
    opts: &InspectOptions,
    keep: bool,
    reuse: Option<reuse::Reuse>,
) -> Result<(ContentManifest, Option<Kept>), ContentError> {
    let io_err = |source| ContentError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(std::io::Error::other("is a directory")));
    }
    if meta.len() == 0 {
        return Err(ArchiveRejection::NotAnArchive {
            found: "an empty file (0 bytes): nothing to verify".into(),
        }
        .into());
    }
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(archive_by_name);
    let expect_archive = opts.expect_archive || named.is_some();
    let limits = opts.limits;
    let (mut src, reader) = pipeline::spawn_reader(file, limits).map_err(io_err)?;
    let format = Format::detect(src.peek(512));
    let mut builder = Builder::new(limits);
    if keep && matches!(format, Format::Gzip | Format::Tar) {
        builder.keep = Some(Kept::default());
    }
    // Reused entries take their facts from `reuse` when the review keeps them.
    builder.reuse = reuse;
    let mut single_file = None;
    let (walk, inflate): (Result<(), WalkError>, Option<Result<(), StageError>>) = match format {
        Format::Gzip => match pipeline::spawn_inflate(src, limits) {
            // `src` now belongs to the inflate stage.
            Ok((mut inner, inflater)) => {
                let res = if Format::detect(inner.peek(512)) == Format::Tar {
                    tar_walk::walk(&mut inner, &mut builder)
                } else {
                    let empty = inner.peek(1).is_empty();
                    Err(WalkError::Rejected(ArchiveRejection::NotAnArchive {
                        found: if empty {
                            "an empty gzip stream".into()
                        } else {
                            "gzip data that is not a tar".into()
                        },
                    }))
                };
                drop(inner);
                (
                    res,
                    Some(inflater.join().unwrap_or(Err(StageError::Hangup))),
                )
            }
            Err(e) => return Err(io_err(e)),
        },
        Format::Tar => {
            let res = tar_walk::walk(&mut src, &mut builder);
            drop(src);
            (res, None)
        }
        Format::Zip => {
            // zip needs random access (its directory is at the end): hash while draining, then
            // read the entries from the file.
            drain(&mut src);
            drop(src);
            (Ok(()), None)
        }
        Format::Other if expect_archive => {
            let found = match named {
                Some(fmt) => format!("{} in a file named as {fmt}", describe(src.peek(8))),
                None => describe(src.peek(8)),
            };
            drop(src);
            (
                Err(WalkError::Rejected(ArchiveRejection::NotAnArchive {
                    found,
                })),
                None,
            )
        }
        Format::Other => {
            let mut insp = inspect::Inspector::new();
            loop {
                let n = match std::io::BufRead::fill_buf(&mut src) {
                    Ok([]) => break,
                    Ok(b) => {
                        insp.update(b);
                        b.len()
                    }
                    Err(_) => break,
                };
                std::io::BufRead::consume(&mut src, n);
            }
            single_file = Some(insp.finish_with_runtime());
            drop(src);
            (Ok(()), None)
        }
    };
    let digests = reader.join().unwrap_or(Err(StageError::Hangup));
    // The earliest stage's own failure is the cause; later stages only saw its effect.
    let digests = match digests {
        Ok(d) => Some(d),
        Err(StageError::Io(e)) => return Err(io_err(e)),
        Err(StageError::Rejected(r)) => return Err(r.into()),
        Err(StageError::Hangup) => None,
    };
    match inflate {
        Some(Err(StageError::Io(e))) => return Err(io_err(e)),
        Some(Err(StageError::Rejected(r))) => return Err(r.into()),
        _ => {}
    }
    match walk {
        Ok(()) => {}
        Err(WalkError::Rejected(r)) => return Err(r.into()),
        Err(WalkError::Io(e)) => return Err(io_err(e)),
    }
    let Some(artifact) = digests else {
        return Err(io_err(std::io::Error::other("reader stage stopped")));
    };
    let archive = match format {
        Format::Gzip => "tgz",
        Format::Tar => "tar",
        Format::Zip => {
            zip_walk::walk(path, &mut builder)?;
            "zip"
        }
        Format::Other => "file",
    };
    let package = builder.package();
    if let Some(info) = &package {
        let found = js::package_behaviours(info, builder.package_json_text(&info.path));
        if let Some(e) = builder.entries.get_mut(&info.path) {
            e.behaviours.extend(found);
        }
    }
    let (entries, totals) = match single_file {
        Some((signals, runtime)) => {
            let is_binary = matches!(
                signals.executable,
                Some(ExecutableFormat::Elf | ExecutableFormat::MachO | ExecutableFormat::Pe)
            );
            let (entries, totals) = one_file_entry(path, &meta, &artifact, signals);
            builder.entries = entries;
            // The artifact is the executable itself: read its module graph in place.
            if is_binary
                && limits.embedded_graph_bytes > 0
                && artifact.size >= bun::MIN_EXECUTABLE
                && let Some(name) = builder.entries.keys().next().cloned()
            {
                let graph = std::fs::File::open(path)
                    .map(|f| {
                        let g = bun::read_graph(
                            &f,
                            artifact.size,
                            &name,
                            limits.archive_entries,
                            &limits.js,
                        );
                        if g.modules.is_empty() && g.note.is_none() {
                            let sea = sea::read_sea(
                                &f,
                                artifact.size,
                                &name,
                                limits.archive_entries,
                                &limits.js,
                            );
                            sea.unwrap_or(g)
                        } else {
                            g
                        }
                    })
                    .unwrap_or_else(|e| bun::Graph {
                        modules: Vec::new(),
                        note: Some(format!("{name}: embedded module graph not read: {e}")),
                    });
                let found = !graph.modules.is_empty();
                builder.add_embedded(graph);
                if found {
                    builder.attribute_runtime(&name, runtime.as_deref());
                }
            }
            (std::mem::take(&mut builder.entries), totals)
        }
        None => (std::mem::take(&mut builder.entries), builder.totals.clone()),
    };
    let mut entries = entries;
    if let Some(r) = &builder.reuse {
        r.fill(&mut entries, &builder.reused);
    }
    Ok((
        ContentManifest {
            format: MANIFEST_FORMAT,
            artifact,
            archive: archive.into(),
            entries,
            totals,
            package,
            notes: std::mem::take(&mut builder.notes),
            analysis: Some(reuse::analysis_id(&limits.js)),
        },
        builder.keep.take(),
    ))
}

fn drain(src: &mut ChanReader) {
    let mut buf = vec![0u8; pipeline::CHUNK];
    while matches!(src.read(&mut buf), Ok(n) if n > 0) {}
}

fn describe(head: &[u8]) -> String {
    match inspect::executable_format(head) {
        Some(f) => format!("an executable ({f:?})"),
        None if head.is_empty() => "an empty file".into(),
        None => format!("bytes starting {}", hex::encode(head)),
    }
}

fn one_file_entry(
    path: &Path,
    meta: &std::fs::Metadata,
    artifact: &Digests,
    signals: manifest::Signals,
) -> (BTreeMap<String, Entry>, Totals) {
    #[cfg(unix)]
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
    #[cfg(not(unix))]
    let mode = 0o644;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "artifact".into());
    let mut entries = BTreeMap::new();
    entries.insert(
        name.clone(),
        Entry {
            kind: EntryKind::File,
            size: artifact.size,
            mode,
            sha256: Some(artifact.sha256.clone()),
            link_target: None,
            behaviours: js::executable_behaviour(
                &name,
                &Entry {
                    kind: EntryKind::File,
                    size: 0,
                    mode,
                    sha256: None,
                    link_target: None,
                    signals: signals.clone(),
                    behaviours: Vec::new(),
                    parse_error: None,
                    analysis_truncated: false,
                },
            )
            .into_iter()
            .collect(),
            signals,
            parse_error: None,
            analysis_truncated: false,
        },
    );
    let totals = Totals {
        entries: 1,
        files: 1,
        unpacked_bytes: artifact.size,
    };
    (entries, totals)
}
