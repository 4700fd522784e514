//! Bun single-file executables (`bun build --compile`, e.g. the Claude Code native binary): find
//! the embedded module graph and list its modules as [`EntryKind::Embedded`] entries, so a diff
//! of two releases compares the JavaScript inside the binary file by file.
//!
//! The layout is Bun's "standalone module graph" (oven-sh/bun `src/StandaloneModuleGraph.zig`,
//! `toBytes` / `fromBytes`). One blob, all integers little-endian:
//!
//! ```text
//! [strings: names, contents, bytecode, ...]  (each module's bytes, NUL-terminated)
//! [modules: CompiledModuleGraphFile; n]       (at Offsets.modules_ptr)
//! [compile_exec_argv]                         (at Offsets.compile_exec_argv_ptr)
//! Offsets (32 bytes): byte_count u64 | modules_ptr (u32 offset, u32 length)
//!                     | entry_point_id u32 | compile_exec_argv_ptr (u32, u32) | flags u32
//! "\n---- Bun! ----\n"                        (the trailer, 16 bytes)
//! ```
//!
//! `byte_count` is the length of the blob before `Offsets`, so the blob starts at
//! `trailer - 32 - byte_count`; every pointer is an (offset, length) pair relative to that start.
//! On Linux, current Bun keeps the blob in an ELF section `.bun` (a u64 length, then the blob)
//! followed by the symbol and section tables; older Bun appended it at the end of the file. Both
//! are found the same way: the last trailer within [`TRAILER_WINDOW`] bytes of the end.
//!
//! A module record (`CompiledModuleGraphFile`) is six pointers (name, contents, sourcemap,
//! bytecode, module_info, bytecode_origin_path) and four bytes (encoding, loader, module_format,
//! side): 52 bytes, as in Claude Code 2.1.x. Older Bun has four pointers (36 bytes); both are
//! tried, and a table is accepted only if every pointer of every record lies inside the blob.
//! Anything else is not guessed at: no module is listed and the reason is returned as a note.
//!
//! Only `contents` (the module's source, what Bun runs when there is no bytecode and what the
//! bytecode was compiled from) is hashed and inspected. Bytecode and source maps are not listed.
use super::inspect::Inspector;
use super::manifest::{Entry, EntryKind};
use crate::digest::{Algorithm, Digest};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::io;

/// The trailer that ends a Bun module graph.
pub(crate) const TRAILER: &[u8; 16] = b"\n---- Bun! ----\n";
/// Size of the `Offsets` struct right before the trailer.
const OFFSETS_LEN: u64 = 32;
/// Module record sizes tried, newest layout first.
const RECORD_SIZES: [usize; 2] = [52, 36];
/// How far from the end of the executable the trailer is looked for. In the Claude Code binary
/// it is about 60 KiB from the end (only the symbol and section tables follow it).
pub(crate) const TRAILER_WINDOW: u64 = 4 << 20;
/// Longest module name read.
const MAX_NAME: u32 = 4096;
/// Largest module table read into memory (Claude Code 2.1.330: 3,758 records, 195 KB).
const MAX_TABLE: u32 = 16 << 20;
/// Executables smaller than this are not looked into.
pub(crate) const MIN_EXECUTABLE: u64 = 64 << 10;

/// Random access to the bytes of one executable.
pub(crate) trait ReadAt: Sync {
    /// Fill `buf` from byte `offset`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl ReadAt for std::fs::File {
    #[cfg(unix)]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        // pread: no shared cursor, so two threads can read one file.
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        // Every read names its offset, so the shared cursor does not matter.
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(self, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// File offset of the last `PT_LOAD` segment of an ELF executable, from its program headers
/// (`head`: the first bytes of the file, which hold them). Bun keeps the graph in the `.bun`
/// section, the last thing in the last loaded segment, or (older Bun) after every segment, so
/// the bytes before this offset need not be kept. `None` when `head` is not an ELF file with its
/// program headers inside `head`.
pub(crate) fn elf_last_load(head: &[u8]) -> Option<u64> {
    if head.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match head.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let le = match head.get(5)? {
        1 => true,
        2 => false,
        _ => return None,
    };
    let uint = |at: usize, n: usize| -> Option<u64> {
        let b = head.get(at..at.checked_add(n)?)?;
        let mut v = 0u64;
        for i in 0..n {
            let byte = if le { b[n - 1 - i] } else { b[i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    };
    let (phoff, phentsize, phnum) = if wide {
        (uint(0x20, 8)?, uint(0x36, 2)?, uint(0x38, 2)?)
    } else {
        (uint(0x1c, 4)?, uint(0x2a, 2)?, uint(0x2c, 2)?)
    };
    let mut last = None;
    for i in 0..phnum {
        let at = usize::try_from(phoff.checked_add(i.checked_mul(phentsize)?)?).ok()?;
        let (ty, off) = if wide {
            (uint(at, 4)?, uint(at + 8, 8)?)
        } else {
            (uint(at, 4)?, uint(at + 4, 4)?)
        };
        if ty == 1 {
            last = Some(last.map_or(off, |l: u64| l.max(off)));
        }
    }
    last
}

/// One embedded module, ready for the manifest.
#[derive(Debug)]
pub(crate) struct Module {
    /// `<executable path>!/<module name without its leading slash>`.
    pub path: String,
    /// The entry: kind `Embedded`, size, sha256, signals.
    pub entry: Entry,
    /// The review's facts of a JavaScript module, when they were asked for and it parsed.
    pub facts: Option<crate::diff::js::JsFacts>,
    /// Not analysed: its analysis is to be copied from the stored manifest ([`How::reuse`]).
    pub reused: bool,
}

/// What to compute for each module beyond its listing: the review's facts, or neither facts
/// nor analysis for the modules a stored manifest of the same artifact already analysed.
#[derive(Clone, Copy, Default)]
pub(crate) struct How<'r> {
    pub facts: bool,
    pub reuse: Option<&'r super::reuse::Reuse>,
}

/// What was found in one executable.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// The modules, in table order.
    pub modules: Vec<Module>,
    /// Why the graph (or part of it) could not be read; `None` when all went well or when the
    /// executable has no graph at all.
    pub note: Option<String>,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[derive(Debug, Clone, Copy)]
struct Ptr {
    offset: u64,
    length: u64,
}

impl Ptr {
    fn at(b: &[u8], at: usize) -> Ptr {
        Ptr {
            offset: u64::from(u32_at(b, at)),
            length: u64::from(u32_at(b, at + 4)),
        }
    }
    fn end(self) -> u64 {
        self.offset + self.length
    }
}

struct Record {
    name: Ptr,
    contents: Ptr,
}

/// Parse a module table of `size`-byte records; `None` unless every pointer is inside the blob.
fn parse_table(table: &[u8], size: usize, blob_len: u64) -> Option<Vec<Record>> {
    if table.is_empty() || !table.len().is_multiple_of(size) {
        return None;
    }
    let pointers = (size - 4) / 8;
    let mut out = Vec::with_capacity(table.len() / size);
    for rec in table.chunks_exact(size) {
        for i in 0..pointers {
            if Ptr::at(rec, i * 8).end() > blob_len {
                return None;
            }
        }
        let name = Ptr::at(rec, 0);
        if name.length == 0 || name.length > u64::from(MAX_NAME) {
            return None;
        }
        out.push(Record {
            name,
            contents: Ptr::at(rec, 8),
        });
    }
    Some(out)
}

/// A manifest-safe module name: UTF-8 (lossy), no control characters, no leading slash.
fn clean_name(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.trim_start_matches('/')
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Find and read the module graph of the executable `src` (`len` bytes) known as `entry_path`.
/// `max_modules` bounds the number of modules listed. Never panics; any inconsistency gives no
/// modules and a note.
pub(crate) fn read_graph<R: ReadAt + ?Sized>(
    src: &R,
    len: u64,
    entry_path: &str,
    max_modules: u64,
    js: &crate::limits::JsLimits,
) -> Graph {
    read_graph_with(src, len, entry_path, max_modules, js, How::default())
}

/// [`read_graph`]; with `facts`, each JavaScript module also carries the review's facts
/// ([`Module::facts`]), computed from the AST its analysis built.
pub(crate) fn read_graph_with<R: ReadAt + ?Sized>(
    src: &R,
    len: u64,
    entry_path: &str,
    max_modules: u64,
    js: &crate::limits::JsLimits,
    how: How<'_>,
) -> Graph {
    match locate(src, len) {
        Ok(None) => Graph::default(),
        Ok(Some((blob_start, blob_len, records))) => {
            let mut graph = Graph::default();
            if records.len() as u64 > max_modules {
                graph.note = Some(format!(
                    "Bun module graph in {entry_path}: {} modules, more than the limit of \
                     {max_modules}; none listed",
                    records.len()
                ));
                return graph;
            }
            match read_modules(src, blob_start, blob_len, &records, entry_path, js, how) {
                Ok(modules) => graph.modules = modules,
                Err(e) => {
                    graph.note = Some(format!(
                        "Bun module graph in {entry_path} could not be read: {e}"
                    ))
                }
            }
            graph
        }
        Err(e) => Graph {
            modules: Vec::new(),
            note: Some(format!(
                "{entry_path} has a Bun trailer but no readable module graph: {e}"
            )),
        },
    }
}

/// The blob (start, length) and module records; `Ok(None)` when there is no trailer at all.
fn locate<R: ReadAt + ?Sized>(
    src: &R,
    len: u64,
) -> Result<Option<(u64, u64, Vec<Record>)>, String> {
    let window = len.min(TRAILER_WINDOW);
    let wstart = len - window;
    let mut tail = vec![0u8; window as usize];
    src.read_exact_at(&mut tail, wstart)
        .map_err(|e| format!("reading the end of the file: {e}"))?;
    let mut last_err = None;
    let mut end = tail.len();
    let mut attempts = 0usize;
    // Bytes of module tables read across all candidate trailers: a file full of fake trailers
    // each pointing at a maximal table would otherwise cost a large read per trailer.
    let mut table_budget = crate::limits::BUN_TABLE_BYTES_TOTAL;
    // The last trailer that leads to a consistent graph wins (a trailer-like string may appear
    // in the program's own data, e.g. Bun's constant for it).
    while let Some(i) = tail[..end]
        .windows(TRAILER.len())
        .rposition(|w| w == TRAILER)
    {
        end = i + TRAILER.len() - 1;
        attempts += 1;
        if attempts > crate::limits::BUN_TRAILER_ATTEMPTS {
            return Err(format!(
                "limit exceeded: Bun trailer candidates are limited to {}, the last {} bytes \
                 hold more{}",
                crate::limits::BUN_TRAILER_ATTEMPTS,
                window,
                last_err
                    .map(|e| format!(" (first failure: {e})"))
                    .unwrap_or_default()
            ));
        }
        match graph_at(src, wstart + i as u64, &mut table_budget) {
            Ok(found) => return Ok(Some(found)),
            Err(e) => {
                if last_err.is_none() {
                    last_err = Some(e);
                }
            }
        }
    }
    match last_err {
        None => Ok(None),
        Some(e) => Err(e),
    }
}

fn graph_at<R: ReadAt + ?Sized>(
    src: &R,
    trailer: u64,
    table_budget: &mut u64,
) -> Result<(u64, u64, Vec<Record>), String> {
    let off_at = trailer
        .checked_sub(OFFSETS_LEN)
        .ok_or("the trailer is too close to the start")?;
    let mut offsets = [0u8; OFFSETS_LEN as usize];
    src.read_exact_at(&mut offsets, off_at)
        .map_err(|e| format!("reading the offsets: {e}"))?;
    let mut bc = [0u8; 8];
    bc.copy_from_slice(&offsets[..8]);
    let blob_len = u64::from_le_bytes(bc);
    let blob_start = off_at.checked_sub(blob_len).ok_or_else(|| {
        format!("byte_count {blob_len} is larger than the bytes before the trailer ({off_at})")
    })?;
    let modules = Ptr::at(&offsets, 8);
    let entry_point = u64::from(u32_at(&offsets, 16));
    let argv = Ptr::at(&offsets, 20);
    if modules.end() > blob_len || argv.end() > blob_len {
        return Err("a pointer in the offsets lies outside the graph".into());
    }
    if modules.length > u64::from(MAX_TABLE) {
        return Err(format!(
            "module table of {} bytes is larger than {MAX_TABLE}",
            modules.length
        ));
    }
    // A table is a whole number of records of a known size: anything else is refused before
    // any of it is read.
    if !RECORD_SIZES
        .iter()
        .any(|&size| modules.length > 0 && modules.length.is_multiple_of(size as u64))
    {
        return Err(format!(
            "unrecognised module table layout ({} bytes, record size 52 or 36 expected)",
            modules.length
        ));
    }
    if modules.length > *table_budget {
        return Err(format!(
            "limit exceeded: Bun module table bytes read for one executable are limited to {}, \
             this table would need {} more",
            crate::limits::BUN_TABLE_BYTES_TOTAL,
            modules.length
        ));
    }
    *table_budget -= modules.length;
    let mut table = vec![0u8; modules.length as usize];
    src.read_exact_at(&mut table, blob_start + modules.offset)
        .map_err(|e| format!("reading the module table: {e}"))?;
    let records = RECORD_SIZES
        .iter()
        .find_map(|&size| parse_table(&table, size, blob_len))
        .ok_or_else(|| {
            format!(
                "unrecognised module table layout ({} bytes, record size 52 or 36 expected)",
                table.len()
            )
        })?;
    if entry_point >= records.len() as u64 {
        return Err(format!(
            "entry point {entry_point} is past the {} modules",
            records.len()
        ));
    }
    Ok((blob_start, blob_len, records))
}

fn read_modules<R: ReadAt + ?Sized>(
    src: &R,
    blob_start: u64,
    blob_len: u64,
    records: &[Record],
    entry_path: &str,
    js: &crate::limits::JsLimits,
    how: How<'_>,
) -> Result<Vec<Module>, String> {
    // Real graphs store each module's contents once; overlapping pointers could make a hostile
    // file cost many reads of the same bytes, so the total read is bounded by the blob.
    let total: u64 = records.iter().map(|r| r.contents.length).sum();
    if total > blob_len {
        return Err(format!(
            "module contents add up to {total} bytes, more than the {blob_len}-byte graph"
        ));
    }
    let mut seen = BTreeSet::new();
    let mut names = Vec::with_capacity(records.len());
    for r in records {
        let mut name = vec![0u8; r.name.length as usize];
        src.read_exact_at(&mut name, blob_start + r.name.offset)
            .map_err(|e| format!("reading a module name: {e}"))?;
        let name = clean_name(&name);
        if !seen.insert(name.clone()) {
            return Err(format!("module {name:?} appears twice"));
        }
        names.push(name);
    }
    // Hash and inspect on two threads (the streaming pass is over: its cores are free), each
    // taking about half the bytes.
    let half = total / 2;
    let mut split = 0;
    let mut acc = 0u64;
    while split < records.len() && acc < half {
        acc += records[split].contents.length;
        split += 1;
    }
    let (a, b) = records.split_at(split);
    let (na, nb) = names.split_at(split);
    let one = |recs: &[Record], names: &[String]| -> Result<Vec<Module>, String> {
        let mut buf = vec![0u8; super::pipeline::CHUNK];
        recs.iter()
            .zip(names)
            .map(|(r, name)| read_module(src, blob_start, r, name, entry_path, &mut buf, (js, how)))
            .collect()
    };
    let (ra, rb) = std::thread::scope(|s| {
        let hb = s.spawn(|| one(b, nb));
        let ra = one(a, na);
        (
            ra,
            hb.join()
                .unwrap_or_else(|_| Err("reader thread failed".into())),
        )
    });
    let mut out = ra?;
    out.extend(rb?);
    Ok(out)
}

fn read_module<R: ReadAt + ?Sized>(
    src: &R,
    blob_start: u64,
    r: &Record,
    name: &str,
    entry_path: &str,
    buf: &mut [u8],
    (js, how): (&crate::limits::JsLimits, How<'_>),
) -> Result<Module, String> {
    let facts = how.facts;
    let mut sha = Sha256::new();
    let mut insp = Inspector::new();
    let mut at = 0u64;
    // JavaScript (and `.zst` resources) is kept whole for the behaviour analysis.
    let mut source = (super::js::wants(name) && r.contents.length <= js.source_bytes)
        .then(|| Vec::with_capacity(r.contents.length as usize));
    while at < r.contents.length {
        let n = (r.contents.length - at).min(buf.len() as u64) as usize;
        src.read_exact_at(&mut buf[..n], blob_start + r.contents.offset + at)
            .map_err(|e| format!("reading module {name:?}: {e}"))?;
        sha.update(&buf[..n]);
        insp.update(&buf[..n]);
        if let Some(s) = source.as_mut() {
            s.extend_from_slice(&buf[..n]);
        }
        at += n as u64;
    }
    let mut m = Module {
        path: format!("{entry_path}!/{name}"),
        entry: Entry {
            kind: EntryKind::Embedded,
            size: r.contents.length,
            mode: 0o644,
            sha256: Digest::new(Algorithm::Sha256, sha.finalize().to_vec()).ok(),
            link_target: None,
            signals: insp.finish(),
            behaviours: Vec::new(),
            parse_error: None,
            analysis_truncated: false,
        },
        facts: None,
        reused: false,
    };
    if let Some(r) = how.reuse.filter(|r| r.covers_for(&m.path, &m.entry, facts)) {
        // The stored manifest's entry (behaviours included, and the facts a review wants)
        // replaces this one's analysis.
        m.reused = true;
        if facts {
            m.facts = r.facts_of(&m.path);
        }
        return Ok(m);
    }
    if let Some(s) = source {
        m.facts = super::js::analyse_entry_with(&mut m.entry, name, &s, js, facts);
    } else if super::js::wants(name) {
        m.entry.parse_error = Some(format!(
            "not parsed: {} bytes, more than the limit of {} (limits.js.source_bytes)",
            r.contents.length, js.source_bytes
        ));
    }
    m.entry
        .behaviours
        .extend(super::js::executable_behaviour(&m.path, &m.entry));
    Ok(m)
}

/// The contents of the modules of the graph in `src` (`len` bytes, known as `entry_path`) whose
/// virtual path (`<entry_path>!/<name>`) `want` accepts, in table order: what `vetted diff` and
/// `vetted show` read to display code. At most `max_bytes` are read in all (the modules past it
/// are left out and named in the error). Never panics.
pub(crate) fn read_contents<R: ReadAt + ?Sized>(
    src: &R,
    len: u64,
    entry_path: &str,
    max_modules: u64,
    want: &dyn Fn(&str) -> bool,
    max_bytes: u64,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let Some((blob_start, blob_len, records)) = locate(src, len)? else {
        return Err(format!("{entry_path} has no Bun module graph"));
    };
    if records.len() as u64 > max_modules {
        return Err(format!(
            "{entry_path}: {} modules, more than the limit of {max_modules}",
            records.len()
        ));
    }
    let total: u64 = records.iter().map(|r| r.contents.length).sum();
    if total > blob_len {
        return Err(format!(
            "module contents add up to {total} bytes, more than the {blob_len}-byte graph"
        ));
    }
    let mut out = Vec::new();
    let mut read = 0u64;
    for r in &records {
        let mut name = vec![0u8; r.name.length as usize];
        src.read_exact_at(&mut name, blob_start + r.name.offset)
            .map_err(|e| format!("reading a module name: {e}"))?;
        let path = format!("{entry_path}!/{}", clean_name(&name));
        if !want(&path) {
            continue;
        }
        read += r.contents.length;
        if read > max_bytes {
            return Err(format!(
                "the wanted modules of {entry_path} are larger than {max_bytes} bytes"
            ));
        }
        let mut bytes = vec![0u8; r.contents.length as usize];
        src.read_exact_at(&mut bytes, blob_start + r.contents.offset)
            .map_err(|e| format!("reading module {path:?}: {e}"))?;
        out.push((path, bytes));
    }
    Ok(out)
}

/// Build a module graph blob in the layout above (52-byte records), ending with the trailer:
/// what `bun build --compile` appends. For tests.
#[cfg(test)]
pub(crate) fn build_graph(modules: &[(&str, &[u8])], entry_point: u32) -> Vec<u8> {
    let mut blob = Vec::new();
    let mut recs = Vec::new();
    let put = |blob: &mut Vec<u8>, b: &[u8]| {
        let p = (blob.len() as u32, b.len() as u32);
        blob.extend_from_slice(b);
        blob.push(0);
        p
    };
    for (name, contents) in modules {
        let n = put(&mut blob, name.as_bytes());
        let c = put(&mut blob, contents);
        let o = put(&mut blob, name.as_bytes());
        let mut rec = Vec::with_capacity(52);
        for (off, len) in [n, c, (0, 0), (0, 0), (0, 0), o] {
            rec.extend_from_slice(&off.to_le_bytes());
            rec.extend_from_slice(&len.to_le_bytes());
        }
        rec.extend_from_slice(&[1, 1, 1, 0]);
        recs.push(rec);
    }
    let table_at = blob.len() as u32;
    let table: Vec<u8> = recs.concat();
    blob.extend_from_slice(&table);
    let argv = put(&mut blob, b"--smol");
    let mut offsets = Vec::with_capacity(32);
    offsets.extend_from_slice(&(blob.len() as u64).to_le_bytes());
    offsets.extend_from_slice(&table_at.to_le_bytes());
    offsets.extend_from_slice(&(table.len() as u32).to_le_bytes());
    offsets.extend_from_slice(&entry_point.to_le_bytes());
    offsets.extend_from_slice(&argv.0.to_le_bytes());
    offsets.extend_from_slice(&argv.1.to_le_bytes());
    offsets.extend_from_slice(&0u32.to_le_bytes());
    blob.extend_from_slice(&offsets);
    blob.extend_from_slice(TRAILER);
    blob
}

/// A small Bun-like ELF executable: header bytes, fake code, a `.bun`-style section (u64 length,
/// then the graph) and fake symbol tables after it. For tests.
#[cfg(test)]
pub(crate) fn build_executable(modules: &[(&str, &[u8])]) -> Vec<u8> {
    let mut exe = b"\x7fELF\x02\x01\x01\0".to_vec();
    exe.resize(4096, 0x90);
    exe.extend_from_slice(b"fake code; the constant \n---- Bun! ----\n in rodata");
    exe.resize(8192, 0xcc);
    let graph = build_graph(modules, 0);
    exe.extend_from_slice(&((graph.len() - 48) as u64).to_le_bytes());
    exe.extend_from_slice(&graph);
    exe.extend_from_slice(&[0x5a; 3000]);
    exe
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::manifest::BehaviourKind;

    fn sha(b: &[u8]) -> String {
        hex::encode(Sha256::digest(b))
    }

    #[test]
    fn reads_generated_graph() {
        let cli: &[u8] = b"fetch('https://example.com/api'); process.env.SECRET_TOKEN";
        let exe = build_executable(&[
            ("/$bunfs/root/cli.js", cli),
            ("/$bunfs/root/x.node", b"\0\x01"),
        ]);
        let g = read_graph(
            exe.as_slice(),
            exe.len() as u64,
            "package/claude",
            100,
            &Default::default(),
        );
        assert_eq!(g.note, None);
        assert_eq!(g.modules.len(), 2);
        let m = &g.modules[0];
        assert_eq!(m.path, "package/claude!/$bunfs/root/cli.js");
        assert_eq!(m.entry.kind, EntryKind::Embedded);
        assert_eq!(m.entry.size, cli.len() as u64);
        assert_eq!(
            m.entry.sha256.as_ref().map(|d| hex::encode(d.bytes())),
            Some(sha(cli))
        );
        // A JavaScript module that parses gets behaviours, not the byte scan.
        assert!(m.entry.signals.urls.is_empty());
        let has = |kind, value: &str| {
            m.entry
                .behaviours
                .iter()
                .any(|b| b.kind == kind && b.value.as_deref() == Some(value))
        };
        assert!(has(BehaviourKind::Url, "https://example.com/api"));
        assert!(has(BehaviourKind::EnvRead, "SECRET_TOKEN"));
        assert!(has(BehaviourKind::Network, "fetch"));
    }

    #[test]
    fn elf_last_load_segment() {
        let mut h = vec![0u8; 512];
        h[..6].copy_from_slice(b"\x7fELF\x02\x01");
        h[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        h[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        h[0x38..0x3a].copy_from_slice(&3u16.to_le_bytes());
        for (i, (ty, off)) in [(1u32, 0u64), (1, 0x9000), (4, 0x20_0000)]
            .iter()
            .enumerate()
        {
            let at = 64 + i * 56;
            h[at..at + 4].copy_from_slice(&ty.to_le_bytes());
            h[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
        }
        assert_eq!(elf_last_load(&h), Some(0x9000));
        assert_eq!(elf_last_load(&h[..100]), None); // headers beyond what is held
        h[0x38] = 0xff; // phnum past the bytes held
        assert_eq!(elf_last_load(&h), None);
        assert_eq!(elf_last_load(b"MZ\x90\0"), None);
    }

    #[test]
    fn no_trailer_no_graph_no_note() {
        let exe = vec![0x7fu8; 100_000];
        let g = read_graph(
            exe.as_slice(),
            exe.len() as u64,
            "a",
            100,
            &Default::default(),
        );
        assert!(g.modules.is_empty() && g.note.is_none());
    }

    #[test]
    fn corrupt_graphs_are_notes() {
        let good = build_executable(&[("/$bunfs/root/a.js", b"a"), ("/$bunfs/root/b.js", b"bb")]);
        let t = good.len() - 3000 - 16;
        // byte_count past the start of the file.
        let mut bad = good.clone();
        bad[t - 32..t - 24].copy_from_slice(&u64::MAX.to_le_bytes());
        let g = read_graph(
            bad.as_slice(),
            bad.len() as u64,
            "x",
            100,
            &Default::default(),
        );
        assert!(g.modules.is_empty() && g.note.is_some(), "{g:?}");
        // modules pointer length overflowing.
        let mut bad = good.clone();
        bad[t - 20..t - 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let g = read_graph(
            bad.as_slice(),
            bad.len() as u64,
            "x",
            100,
            &Default::default(),
        );
        assert!(g.modules.is_empty() && g.note.is_some(), "{g:?}");
        // wrong trailer: no graph found (the rodata constant is not a graph either).
        let mut bad = good.clone();
        bad[t + 5] = b'X';
        let g = read_graph(
            bad.as_slice(),
            bad.len() as u64,
            "x",
            100,
            &Default::default(),
        );
        assert!(g.modules.is_empty(), "{g:?}");
        // too many modules for the limit.
        let g = read_graph(
            good.as_slice(),
            good.len() as u64,
            "x",
            1,
            &Default::default(),
        );
        assert!(g.modules.is_empty() && g.note.is_some());
    }

    #[test]
    fn fuzzed_graphs_never_panic() {
        let good = build_executable(&[
            ("/$bunfs/root/a.js", b"https://a.example/"),
            ("/$bunfs/root/b.js", b"process.env.B"),
            ("/$bunfs/root/c.wasm", b"\0asm"),
        ]);
        let graph_start = 8192;
        let region = good.len() - graph_start;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..500 {
            let mut bad = good.clone();
            for _ in 0..1 + round % 8 {
                let at = graph_start + (next() as usize % region);
                bad[at] = next() as u8;
            }
            if round % 5 == 0 {
                let cut = graph_start + (next() as usize % region);
                bad.truncate(cut);
            }
            let g = read_graph(
                bad.as_slice(),
                bad.len() as u64,
                "x",
                100,
                &Default::default(),
            );
            for m in &g.modules {
                assert!(m.path.starts_with("x!/"));
                assert!(m.entry.size <= bad.len() as u64);
            }
        }
    }
}
