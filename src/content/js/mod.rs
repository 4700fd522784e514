//! The JavaScript behaviour analysis: what each module can do, from its AST.
//!
//! Every JavaScript/TypeScript file of an archive, and every JavaScript module embedded in an
//! executable (Bun module graphs, Node single-executable applications, decompressed `.zst`
//! resources), is parsed with `oxc_parser`; `oxc_semantic` resolves each identifier to its
//! binding, so aliases resolve to what they were bound to; constants are folded (concatenation,
//! templates, `.join`, literal array indexing, string methods) and encoded literals decoded
//! (bounded) and scanned again. The result is a set of [`Behaviour`]s per entry, each with its
//! kind, attributes and evidence (`docs/behaviours.md` documents every kind).
//!
//! A module that does not parse keeps the byte scan ([`super::inspect`]) and records the parse
//! error; a module that parses has no byte-scan signals other than its executable format.
mod analyse;
mod decode;
mod rules;
mod value;

use super::manifest::{Behaviour, BehaviourKind, Entry, ExecutableFormat, PackageInfo};
use crate::limits::JsLimits;
use crate::limits::{
    JS_OVERRUNS as MAX_OVERRUNS, JS_WATCHED_SOURCE_BYTES as WATCHED_SOURCE_BYTES, TS_BRACKET_DEPTH,
};
use oxc_span::SourceType;
use std::collections::BTreeSet;
use std::io::Read;

/// How a file is parsed, by its name; `None` for files that are not JavaScript or TypeScript.
/// Names of decompressed resources (`x.mjs-1a2b3c4d.txt`, Bun's naming of embedded sources)
/// count by the extension before the hash.
pub fn source_type(path: &str) -> Option<SourceType> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let name = name.strip_suffix(".zst").unwrap_or(name);
    let ext_of = |n: &str| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let mut ext = ext_of(name)?;
    if ext == "txt"
        && let Some((stem, _hash)) = name.trim_end_matches(".txt").rsplit_once('-')
        && let Some(e) = ext_of(stem)
    {
        ext = e;
    }
    Some(match ext.as_str() {
        "js" | "mjs" => SourceType::mjs(),
        "cjs" => SourceType::cjs(),
        "jsx" => SourceType::jsx(),
        "ts" | "mts" | "cts" => SourceType::ts(),
        "tsx" => SourceType::tsx(),
        _ => return None,
    })
}

/// The name to analyse an extensionless script under, when its first line is a `#!` that runs
/// a JavaScript runtime (`#!/usr/bin/env node`, `#!/usr/bin/env -S node --flag`,
/// `#!/usr/local/bin/node`, bun, deno; tsx and ts-node as TypeScript): `path` with the matching
/// extension. `None` for anything else (shell scripts, text starting with `#`).
pub(crate) fn script_name(path: &str, bytes: &[u8]) -> Option<String> {
    let line = bytes.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    let line = std::str::from_utf8(line).ok()?;
    let ext = line
        .split(|c: char| c.is_whitespace() || c == '/')
        .find_map(|w| match w {
            "node" | "nodejs" | "bun" | "deno" => Some("mjs"),
            "tsx" | "ts-node" => Some("ts"),
            _ => None,
        })?;
    Some(format!("{path}.{ext}"))
}

/// Whether a file's bytes should be kept for the analysis (its name says JavaScript, or it is
/// an embedded `.zst` resource).
pub fn wants(path: &str) -> bool {
    source_type(path).is_some() || path.ends_with(".zst")
}

/// The first four bytes of a zstd frame (RFC 8878, 3.1.1: magic number 0xFD2FB528, little-endian).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// Whether an entry's bytes are a zstd stream to decompress before reading: an embedded `.zst`
/// resource, or a zstd frame under a JavaScript name. Claude Code's graph stores
/// `mermaid.min.js`, `chart.umd.min.js` and `hljsBundle.generated.min.js` that way; read as they
/// are, they are "binary" and code hidden in them would never be analysed. No JavaScript text
/// starts with these bytes (0xB5 cannot follow `(` in UTF-8).
pub fn compressed(name: &str, bytes: &[u8]) -> bool {
    name.ends_with(".zst") || (bytes.starts_with(&ZSTD_MAGIC) && source_type(name).is_some())
}

/// Analyse one file or module and record the result on its entry. `bytes` is the whole
/// content; `name` its path (to choose the dialect).
pub(crate) fn analyse_entry(entry: &mut Entry, name: &str, bytes: &[u8], limits: &JsLimits) {
    analyse_entry_with(entry, name, bytes, limits, false);
}

/// [`analyse_entry`]; with `facts`, also the review's facts of a JavaScript module that parses
/// without error and is valid UTF-8 (what [`crate::diff::js::analyse`] would compute from the
/// same bytes, from the AST the analysis built).
pub(crate) fn analyse_entry_with(
    entry: &mut Entry,
    name: &str,
    bytes: &[u8],
    limits: &JsLimits,
    facts: bool,
) -> Option<crate::diff::js::JsFacts> {
    let facts = facts && crate::diff::js::is_js(name);
    if compressed(name, bytes) {
        return analyse_zst(entry, name, bytes, limits, facts);
    }
    let st = source_type(name)?;
    analyse_text(entry, st, bytes, limits, facts)
}

fn analyse_text(
    entry: &mut Entry,
    st: SourceType,
    bytes: &[u8],
    limits: &JsLimits,
    facts: bool,
) -> Option<crate::diff::js::JsFacts> {
    if bytes.len() as u64 > limits.source_bytes {
        entry.parse_error = Some(format!(
            "not parsed: {} bytes, more than the limit of {} (limits.js.source_bytes)",
            bytes.len(),
            limits.source_bytes
        ));
        return None;
    }
    if st.is_typescript() {
        let depth = bracket_depth(bytes);
        if depth > TS_BRACKET_DEPTH {
            entry.parse_error = Some(format!(
                "not parsed: brackets nested {depth} deep, more than the limit of {TS_BRACKET_DEPTH} for TypeScript (limits::TS_BRACKET_DEPTH)"
            ));
            return None;
        }
    }
    // Invalid UTF-8 (minified libraries with raw Latin-1 bytes in strings) is replaced, so
    // such a module is still analysed; positions after a replaced byte shift by two columns.
    let src = String::from_utf8_lossy(bytes);
    // The review reads only valid UTF-8 as code: no facts for a module that is not.
    let facts = facts && matches!(src, std::borrow::Cow::Borrowed(_));
    let src: &str = src.as_ref();
    // A `#!` line is not JavaScript syntax oxc accepts everywhere (it does at the start).
    let out = analyse_bounded(src, st, limits, facts);
    if out.parse_error.is_none() {
        // Parsed: the behaviours replace the byte scan (its executable format stays).
        let exe = entry.signals.executable;
        entry.signals = Default::default();
        entry.signals.executable = exe;
    }
    entry.behaviours = out.behaviours;
    entry.parse_error = out.parse_error;
    entry.analysis_truncated = out.truncated;
    out.facts
}

/// Analyses abandoned by the watchdog whose threads still run; past [`MAX_OVERRUNS`], no
/// further source is analysed in this process.
static OVERRUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How [`analyse_bounded`]'s records start (and no other parse error does).
const OVERRUN: &str = "not analysed: ";

/// Whether an entry's analysis was abandoned by the watchdog ([`analyse_bounded`]): a review
/// must not parse it again (it would overrun again, with no watchdog).
pub fn overran(e: &Entry) -> bool {
    e.analysis_truncated
        && e.parse_error
            .as_deref()
            .is_some_and(|p| p.starts_with(OVERRUN))
}

/// [`analyse::analyse_source`] with a wall-clock bound on all of it. `limits.js.millis` is
/// checked while the detector walks, but the parser and the semantic pass cannot be
/// interrupted, and oxc's export resolution compares every local export with every import
/// (`ModuleRecordBuilder::resolve_export_entries`): 40,000 names of each take 4 s, a few MB of
/// them hours. So a big source is analysed on its own thread; if it has not finished by the
/// budget (with half again as grace, so the walk's own limit normally stops it first), the
/// module is recorded as not analysed and the thread is left to finish or to end with the
/// process. After [`MAX_OVERRUNS`] such threads, every further source is recorded as not
/// analysed at once, so a hostile release costs at most a few budgets, not one per module.
fn analyse_bounded(src: &str, st: SourceType, limits: &JsLimits, facts: bool) -> analyse::Outcome {
    use std::sync::atomic::Ordering;
    let overran = OVERRUNS.load(Ordering::Relaxed);
    if overran >= MAX_OVERRUNS {
        return analyse::Outcome {
            parse_error: Some(format!(
                "{OVERRUN}{overran} earlier analyses did not finish within limits.js.millis ({} ms)",
                limits.millis
            )),
            truncated: true,
            ..Default::default()
        };
    }
    // Every source runs on the worker: its stack is sized for the nesting limit (the calling
    // threads' are not), and a big one is bounded in time.
    let owned: std::sync::Arc<str> = std::sync::Arc::from(src);
    let lim = *limits;
    let job: Job = Box::new(move || analyse::analyse_source(&owned, st, &lim, 0, facts));
    let big = src.len() >= WATCHED_SOURCE_BYTES;
    let failed = |why: &str| analyse::Outcome {
        parse_error: Some(why.into()),
        truncated: true,
        ..Default::default()
    };
    // One worker per calling thread, kept for the next module: a thread per module gave each
    // its own malloc arena, and a native build's diff 190 MiB more peak RSS.
    let Some(w) = WORKER
        .with(|w| w.borrow_mut().take())
        .or_else(Worker::start)
    else {
        return failed("not analysed: the analysis thread could not be started");
    };
    if w.jobs.send((job, big)).is_err() {
        return failed("not analysed: the analysis thread could not be started");
    }
    let budget = std::time::Duration::from_millis(
        limits
            .millis
            .saturating_add(limits.millis / 2)
            .saturating_add(1_000),
    );
    // Small sources are not timed (their parse is quick, the walk checks limits.js.millis).
    let got = if big {
        w.results.recv_timeout(budget)
    } else {
        w.results
            .recv()
            .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected)
    };
    match got {
        Ok(out) => {
            WORKER.with(|slot| *slot.borrow_mut() = Some(w));
            out
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            // The worker is dropped: its thread finishes this job (or ends with the process),
            // then stops, its channels closed.
            OVERRUNS.fetch_add(1, Ordering::Relaxed);
            failed(&format!(
                "{OVERRUN}the parse and analysis did not finish within {} ms (limits.js.millis, with grace)",
                budget.as_millis()
            ))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            failed("the analysis thread failed")
        }
    }
}

type Job = Box<dyn FnOnce() -> analyse::Outcome + Send>;

/// A thread that runs analyses for [`analyse_bounded`], one at a time.
struct Worker {
    /// A job, and whether its source is big (its heap is trimmed after it).
    jobs: std::sync::mpsc::Sender<(Job, bool)>,
    results: std::sync::mpsc::Receiver<analyse::Outcome>,
}

impl Worker {
    fn start() -> Option<Worker> {
        let (jobs, job_rx) = std::sync::mpsc::channel::<(Job, bool)>();
        let (result_tx, results) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("vetted-js".into())
            // The parser and the walks recurse on nesting (limits::JS_NESTING).
            .stack_size(crate::limits::JS_STACK_BYTES)
            .spawn(move || {
                for (job, big) in job_rx {
                    let out = job();
                    if big {
                        trim_heap();
                    }
                    if result_tx.send(out).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(Worker { jobs, results })
    }
}

/// Give the memory a finished analysis freed back to the system. A worker's malloc arena is its
/// own, and glibc keeps what a big module's analysis freed in it for later; with a worker per
/// reading thread, that was 120 MiB more peak RSS in a native build's diff.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's arenas; it takes no
    // pointers and is thread-safe in glibc.
    unsafe {
        libc::malloc_trim(0);
    }
}

thread_local! {
    static WORKER: std::cell::RefCell<Option<Worker>> = const { std::cell::RefCell::new(None) };
}

/// The deepest run of `[`, `(` and `{` not yet closed, over the raw bytes (brackets in strings
/// and comments count too: an over-estimate). oxc's TypeScript parser re-parses ambiguous `<`
/// speculatively and its arena keeps every attempt: a 2,482-byte `.ts` of nested `[` and
/// `<T< K extends[` found by the js_analysis fuzzer (nesting 1,806) took 4 GB in 19 s; its first
/// 2,000 bytes took 1.1 s and 233 MB, its first 1,400 bytes 0.04 s.
fn bracket_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for &b in bytes {
        match b {
            b'[' | b'(' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b')' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// An over-estimate of how deep the parser and the walks over the AST recurse on `bytes`, from
/// the raw bytes (strings and comments count too). oxc has no recursion limit: nesting of
/// brackets, or a chain of right-nested operators (`a?b:a?b:…`, `x=>x=>…`, `a=a=…`, labels,
/// unary operators, `if(a)if(a)…`), or a left-deep chain of binary operators whose tree the
/// walks recurse down, overflowed the stack at 5,000–15,000 levels on an 8 MiB stack: a 40 KB
/// file aborted the process. Each bracket adds a level; inside a bracket level, every operator
/// byte and every keyword that nests a statement or an expression adds one, until a `,` or `;`
/// ends the element or statement (a newline does not: `a=\na=` is still one chain); a run of
/// `/` adds one.
pub(crate) fn nesting_estimate(bytes: &[u8]) -> usize {
    // One table lookup per byte: this runs over every source before it is parsed (hundreds
    // of MB in a native build's diff), where a `match` on the byte and a linear search of the
    // keywords cost 4% of the whole diff.
    const OTHER: u8 = 0;
    const OPEN: u8 = 1;
    const CLOSE: u8 = 2;
    const SEP: u8 = 3;
    const OP: u8 = 4;
    const LOWER: u8 = 5;
    const CLASS: [u8; 256] = {
        let mut t = [OTHER; 256];
        let mut c = b'a';
        while c <= b'z' {
            t[c as usize] = LOWER;
            c += 1;
        }
        t[b'[' as usize] = OPEN;
        t[b'(' as usize] = OPEN;
        t[b'{' as usize] = OPEN;
        t[b']' as usize] = CLOSE;
        t[b')' as usize] = CLOSE;
        t[b'}' as usize] = CLOSE;
        t[b',' as usize] = SEP;
        t[b';' as usize] = SEP;
        let ops = b"?=:!~+-*/%&|^<>";
        let mut i = 0;
        while i < ops.len() {
            t[ops[i] as usize] = OP;
            i += 1;
        }
        t
    };
    fn nests(word: &[u8]) -> bool {
        matches!(
            word,
            b"if"
                | b"else"
                | b"for"
                | b"while"
                | b"do"
                | b"with"
                | b"new"
                | b"case"
                | b"await"
                | b"yield"
                | b"typeof"
                | b"void"
                | b"delete"
                | b"in"
                | b"of"
                | b"instanceof"
        )
    }
    let mut outer: Vec<usize> = Vec::new();
    let (mut cur, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match CLASS[bytes[i] as usize] {
            OPEN => {
                outer.push(cur);
                cur += 1;
            }
            CLOSE => cur = outer.pop().unwrap_or(0),
            SEP => cur = outer.last().map_or(0, |o| o + 1),
            // A run of `/` is one level at most, however it is read: in code `//` opens a
            // comment and one `/` is a division; in a string, regular expression or comment it
            // is no code; a regular expression's closing `/` and a division after it are one.
            // Counted once, a base64 string's `////…` no longer looks nested: Claude Code
            // 2.1.112's cli.js went from 27,963 (over the limit: not analysed) to 7,487.
            OP if bytes[i] == b'/' && i > 0 && bytes[i - 1] == b'/' => {}
            OP => cur += 1,
            LOWER => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let ident = start
                    .checked_sub(1)
                    .map(|j| bytes[j])
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$');
                if !ident && nests(&bytes[start..i]) {
                    cur += 1;
                }
                max = max.max(cur);
                continue;
            }
            _ => {}
        }
        max = max.max(cur);
        i += 1;
    }
    max
}

/// Why `src` is not parsed: its nesting estimate is past [`crate::limits::JS_NESTING`].
pub(crate) fn too_nested(src: &str) -> Option<String> {
    let n = nesting_estimate(src.as_bytes());
    (n > crate::limits::JS_NESTING).then(|| {
        format!(
            "not parsed: nesting estimate {n}, more than the limit of {} (limits::JS_NESTING)",
            crate::limits::JS_NESTING
        )
    })
}

/// An embedded zstd resource: decompressed (bounded) and analysed as what it holds.
fn analyse_zst(
    entry: &mut Entry,
    name: &str,
    bytes: &[u8],
    limits: &JsLimits,
    facts: bool,
) -> Option<crate::diff::js::JsFacts> {
    let inner = name.strip_suffix(".zst").unwrap_or(name);
    let data = match zst_decompress(bytes, limits.zst_bytes) {
        Ok(d) => d,
        Err(e) => {
            entry.parse_error = Some(format!("zstd resource not decompressed: {e}"));
            return None;
        }
    };
    match source_type(inner) {
        Some(st) => analyse_text(entry, st, &data, limits, facts),
        None => {
            // Not code: the decompressed bytes get the byte scan.
            let exe = entry.signals.executable;
            entry.signals = super::inspect::inspect_bytes(&data);
            entry.signals.executable = entry.signals.executable.or(exe);
            None
        }
    }
}

/// Decompress a zstd stream, refusing output past `max` bytes.
pub fn zst_decompress(bytes: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let dec = ruzstd::decoding::StreamingDecoder::new(bytes).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    dec.take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() as u64 > max {
        return Err(format!(
            "decompresses to more than {max} bytes (limits.js.zst_bytes)"
        ));
    }
    Ok(out)
}

fn fact(kind: BehaviourKind, attributes: &[&str], snippet: String, value: String) -> Behaviour {
    Behaviour {
        kind,
        attributes: attributes.iter().map(|s| s.to_string()).collect(),
        line: 1,
        column: 1,
        end_line: None,
        snippet,
        value: Some(value),
    }
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn locate(text: &[u8], needle: &str) -> (u32, u32) {
    let Some(at) = text
        .windows(needle.len().max(1))
        .position(|w| w == needle.as_bytes())
    else {
        return (1, 1);
    };
    let line = text[..at].iter().filter(|b| **b == b'\n').count() as u32 + 1;
    let start = text[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    (line, (at - start) as u32 + 1)
}

/// npm scripts that run when a package is installed from a registry.
const INSTALL_SCRIPTS: &[&str] = &["preinstall", "install", "postinstall"];

/// Behaviours of a package.json: install scripts and dependency specs that are not registry
/// ranges. `text` is the file's bytes (for evidence positions).
pub(crate) fn package_behaviours(info: &PackageInfo, text: Option<&[u8]>) -> Vec<Behaviour> {
    let mut out = Vec::new();
    let at = |needle: &str| text.map_or((1, 1), |t| locate(t, needle));
    for (name, cmd) in &info.lifecycle_scripts {
        if !INSTALL_SCRIPTS.contains(&name.as_str()) {
            continue;
        }
        let mut a: Vec<&str> = Vec::new();
        if rules::command_suspicious(cmd) {
            a.push("suspicious-command");
        }
        if cmd.contains("(implicit: binding.gyp)") {
            a.push("implicit");
        }
        let mut b = fact(
            BehaviourKind::InstallScript,
            &a,
            format!("\"{name}\": {cmd:?}"),
            cmd.clone(),
        );
        (b.line, b.column) = at(&format!("\"{name}\""));
        out.push(b);
    }
    for (kind, deps) in &info.dependencies {
        if kind == "devDependencies" || kind == "bundleDependencies" {
            continue;
        }
        for (name, spec) in deps {
            if let Some(class) = rules::dependency_url(spec) {
                let a: &[&str] = if class == "insecure" {
                    &["insecure"]
                } else {
                    &[]
                };
                let mut b = fact(
                    BehaviourKind::DependencyUrl,
                    a,
                    format!("\"{name}\": {spec:?}"),
                    format!("{name}@{spec}"),
                );
                (b.line, b.column) = at(&format!("\"{name}\""));
                out.push(b);
            }
        }
    }
    out
}

/// The `executable` behaviour of a native executable or library (by magic bytes or name).
pub(crate) fn executable_behaviour(path: &str, entry: &Entry) -> Option<Behaviour> {
    let format = match entry.signals.executable {
        Some(ExecutableFormat::Elf) => "elf",
        Some(ExecutableFormat::MachO) => "mach-o",
        Some(ExecutableFormat::Pe) => "pe",
        _ if path.ends_with(".wasm") => "wasm",
        _ if path.ends_with(".node") => "native-addon",
        _ => return None,
    };
    let mut a = vec![format];
    if path.ends_with(".node") && format != "native-addon" {
        a.push("native-addon");
    }
    Some(fact(
        BehaviourKind::Executable,
        &a,
        format!("{format} file"),
        path.rsplit('/').next().unwrap_or(path).to_string(),
    ))
}

/// The one `runtime` behaviour of a single-file executable's native runtime.
pub(crate) fn runtime_behaviour(version: &str) -> Behaviour {
    fact(
        BehaviourKind::Runtime,
        &[],
        format!("runtime version string {version:?}"),
        version.to_string(),
    )
}

/// The attributes a behaviour has, as a set (for tests and the diff).
pub fn attribute_set(b: &Behaviour) -> BTreeSet<&str> {
    b.attributes.iter().map(String::as_str).collect()
}

/// Analyse a source text on its own (tests, the evaluation command): the behaviours and the
/// parse error, as an entry would record them.
pub fn analyse_str(name: &str, src: &str, limits: &JsLimits) -> (Vec<Behaviour>, Option<String>) {
    let mut e = Entry::blank_file(src.len() as u64);
    let st = source_type(name).unwrap_or(SourceType::mjs());
    analyse_text(&mut e, st, src.as_bytes(), limits, false);
    (e.behaviours, e.parse_error)
}

/// The behaviours of a package.json's bytes (install scripts, dependency URLs), as an archive's
/// root package.json gets them; empty when it is not a JSON object.
pub fn package_json_behaviours(bytes: &[u8]) -> Vec<Behaviour> {
    match super::builder::parse_package_json("package.json", bytes, false) {
        Some(info) => package_behaviours(&info, Some(bytes)),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
