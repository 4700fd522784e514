//! The delta a reviewer signs off: added and removed entries paired (renamed chunks, moved
//! files), each changed pair's code compared after normalisation and shown as a unified diff,
//! and the behaviour changes per module, ranked by risk.
use super::code::{self, LineDiff};
use super::contents::{self, Contents};
use super::js::{self, JsFacts};
use super::pair::{self, Candidate, PairedBy};
use super::{FileChange, FileChanges, FileEntry, FileMove, Similarity};
use crate::content::manifest::{Behaviour, BehaviourKind, ContentManifest, Entry, EntryKind};
use crate::limits::review::{DIFF_LINES_PER_FILE, DIFF_LINES_TOTAL};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex};

/// What the comparison of a changed pair found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeStatus {
    /// The code differs after normalisation.
    Changed,
    /// JavaScript equal up to a minifier's renames (and comments): no semantic change.
    NoSemanticChange,
    /// The same text once decoded (e.g. a `.zst` resource compressed again).
    SameText,
    /// Binary content: not diffed.
    Binary,
    /// The bytes could not be read or decoded (see `note`).
    NotShown,
}

impl CodeStatus {
    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            CodeStatus::Changed => "changed",
            CodeStatus::NoSemanticChange => "no-semantic-change",
            CodeStatus::SameText => "same-text",
            CodeStatus::Binary => "binary",
            CodeStatus::NotShown => "not-shown",
        }
    }
}

/// The code change of one pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeChange {
    /// What the comparison found.
    pub status: CodeStatus,
    /// `javascript` (pretty-printed with oxc_codegen and normalised) or `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_as: Option<&'static str>,
    /// Why it is not shown, or how it was compared when that is not the usual way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The diff (empty unless `changed`).
    #[serde(flatten)]
    pub diff: LineDiff,
}

impl CodeChange {
    fn status(status: CodeStatus, note: Option<String>) -> Self {
        CodeChange {
            status,
            compared_as: None,
            note,
            diff: LineDiff::default(),
        }
    }
}

/// Added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Only in the new build.
    Added,
    /// Only in the old build.
    Removed,
}

/// One behaviour a module gained or lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BehaviourChange {
    /// Risk score (higher first): the kind's weight plus its attributes'.
    pub risk: u32,
    /// Added or removed.
    pub change: Change,
    /// The module, by its new path (its old path for a removed module).
    pub path: String,
    /// The old path when the module was paired under another name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// The behaviour, with its evidence (line and column in that side's own source).
    pub behaviour: Behaviour,
    /// Index of the hunk (in that module's `code.hunks`) that shows it, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hunk: Option<usize>,
}

/// Counts over one scope (archive entries, or modules embedded in executables).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Entries on the old side.
    pub old_total: u64,
    /// Entries on the new side.
    pub new_total: u64,
    /// Same path and bytes.
    pub unchanged: u64,
    /// Paired: same path, different bytes.
    pub changed_in_place: u64,
    /// Paired: same bytes, new path.
    pub moved: u64,
    /// Paired: new path and different bytes.
    pub renamed_and_changed: u64,
    /// Unpaired, only on the new side.
    pub unpaired_added: u64,
    /// Unpaired, only on the old side.
    pub unpaired_removed: u64,
    /// Changed pairs whose code is equal after normalisation (or whose decoded text is).
    pub no_semantic_change: u64,
    /// Changed pairs whose code differs after normalisation.
    pub changed: u64,
    /// Changed pairs not compared (binary, unreadable).
    pub not_compared: u64,
    /// Lines added in the normalised diffs.
    pub added_lines: u64,
    /// Lines removed in the normalised diffs.
    pub removed_lines: u64,
}

/// The review summary of a delta.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delta {
    /// Behaviour changes, highest risk first.
    pub behaviour_changes: Vec<BehaviourChange>,
    /// Archive entries.
    pub files: Counts,
    /// Modules embedded in executables.
    pub embedded: Counts,
    /// Whether the code of both sides was available (else only digests were compared).
    pub code_compared: bool,
    /// What could not be read or compared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// New or changed code the behaviour analysis could not read in full: the behaviour
    /// changes above may miss what it does, so the reviewer reads it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub analysis_gaps: Vec<AnalysisGap>,
}

/// A file or embedded module of the new build, added or changed (not a move, not a change the
/// normalisation shows to be none), whose behaviour analysis is incomplete: it did not parse
/// (a syntax error, a limit such as `limits.js.source_bytes`, a resource not decompressed) or a
/// limit stopped the walk (`analysis_truncated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalysisGap {
    /// Its path in the new build.
    pub path: String,
    /// Why the analysis is incomplete.
    pub reason: String,
}

/// Why an entry's analysis is incomplete, if it is.
fn gap_reason(e: &Entry) -> Option<String> {
    let mut why = Vec::new();
    if let Some(pe) = &e.parse_error {
        // The inspection's own words when they already say it ("not parsed: …", "not analysed:
        // …"); otherwise the parser's diagnostic. Some (a duplicated export) leave the whole AST
        // and the walk covered it; others stop the parse there: which one is not recorded.
        why.push(
            if pe.starts_with("not ") || pe.contains("not decompressed") {
                pe.clone()
            } else {
                format!("parse error (the analysis may have stopped there): {pe}")
            },
        );
    }
    if e.analysis_truncated {
        why.push(
            "the analysis stopped at a limit (limits.js: ast_nodes, millis or behaviours_per_module); the rest of it is not analysed"
                .to_string(),
        );
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Risk weight of a behaviour kind (higher: look first).
pub fn kind_weight(k: BehaviourKind) -> u32 {
    use BehaviourKind as K;
    match k {
        K::Exfiltration => 100,
        K::InstallScript => 90,
        K::Obfuscation => 85,
        K::SelfPropagation => 85,
        K::DynamicCode => 80,
        K::ProcessSpawn => 75,
        K::EnvSerialize => 70,
        K::SensitivePath => 65,
        K::MonkeyPatch => 60,
        K::DependencyUrl => 55,
        K::Executable => 55,
        K::DynamicRequire => 50,
        K::Network => 45,
        K::FsWrite => 40,
        K::Url => 35,
        K::EnvRead => 30,
        K::SystemInfo => 30,
        K::Runtime => 20,
    }
}

/// Risk of one behaviour change: kind weight, plus 15 per alarming attribute; a removal
/// counts a third.
pub fn risk(b: &Behaviour, change: Change) -> u32 {
    const ALARMING: &[&str] = &[
        "suspicious",
        "suspicious-command",
        "credential",
        "non-constant",
        "shell",
        "silent",
        "insecure",
    ];
    let bump = b
        .attributes
        .iter()
        .filter(|a| ALARMING.contains(&a.as_str()))
        .count() as u32
        * 15;
    let r = kind_weight(b.kind) + bump;
    match change {
        Change::Added => r,
        Change::Removed => r / 3,
    }
}

/// What one entry's bytes yield for pairing and comparison.
#[derive(Debug, Default)]
struct Facts {
    js: Option<JsFacts>,
    sketch: Vec<u64>,
    /// Each export name's first position in `js.exports` (imports are resolved against it:
    /// 221,000 imports of chunks exporting thousands of names each, searched in turn, were a
    /// second of a native build's delta).
    export_pos: HashMap<String, usize>,
    /// The inspection's parse of it overran its time budget ([`crate::content::js::overran`]):
    /// the review does not parse it again, it compares it as text.
    unparsed: bool,
}

fn facts_of(path: &str, e: &Entry, c: Option<&Contents>) -> Facts {
    let Some(bytes) = c.and_then(|c| c.get(path)) else {
        return Facts::default();
    };
    if !matches!(e.kind, EntryKind::File | EntryKind::Embedded) {
        return Facts::default();
    }
    let Ok(bytes) = contents::decoded(path, bytes) else {
        return Facts::default();
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Facts::default();
    };
    if js::is_js(path) && crate::content::js::overran(e) {
        return Facts {
            js: None,
            sketch: js::sketch(&js::text_tokens(text)),
            export_pos: HashMap::new(),
            unparsed: true,
        };
    }
    if js::is_js(path) {
        // The inspection's facts, from the same bytes and the AST its analysis built; a module
        // it did not parse (or parsed with an error) is parsed here.
        let mut f = match c.and_then(|c| c.facts(path)) {
            Some(f) => f.clone(),
            None => js::analyse(path, text),
        };
        // The sketch is held once, here (pairing reads `Facts::sketch`).
        let mut export_pos = HashMap::with_capacity(f.exports.len());
        for (i, e) in f.exports.iter().enumerate() {
            export_pos.entry(e.clone()).or_insert(i);
        }
        Facts {
            sketch: std::mem::take(&mut f.sketch),
            js: Some(f),
            export_pos,
            unparsed: false,
        }
    } else {
        Facts {
            js: None,
            sketch: js::sketch(&js::text_tokens(text)),
            export_pos: HashMap::new(),
            unparsed: false,
        }
    }
}

/// Run `f` over `items` on two threads, keeping the order.
pub(super) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    // Interleave so that both threads get a share of the big items.
    let (mut a, mut b) = std::thread::scope(|s| {
        let h = s.spawn(|| {
            items
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, t)| f(t))
                .collect::<Vec<R>>()
        });
        let a: Vec<R> = items.iter().step_by(2).map(&f).collect();
        let b = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (a.into_iter(), b.into_iter())
    });
    let mut out = Vec::with_capacity(items.len());
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) => {
                out.push(x);
                out.push(y);
            }
            (Some(x), None) => out.push(x),
            _ => break,
        }
    }
    out
}

static NO_SKETCH: Vec<u64> = Vec::new();

fn candidate<'x>(
    side: &'x SideData<'_>,
    m: &'x ContentManifest,
    f: &FileEntry,
    names: &mut pair::Names,
) -> Candidate<'x> {
    let path = m
        .entries
        .get_key_value(&f.path)
        .map_or("", |(k, _)| k.as_str());
    let facts = side.facts.get(path);
    let js = facts.and_then(|x| x.js.as_ref());
    let c = pair::container(path);
    let mut buf = String::new();
    // A module name as the pairing numbers it: an embedded one with its container.
    let mut module = |s: &str, names: &mut pair::Names| {
        if s.starts_with("/$bunfs/") {
            buf.clear();
            buf.push_str(c);
            buf.push('!');
            buf.push_str(s);
            names.id(&buf)
        } else {
            names.id(s)
        }
    };
    let mut links: Vec<u32> = js
        .map(|j| j.spec_names().iter().map(|s| module(s, names)).collect())
        .unwrap_or_default();
    links.sort_unstable();
    links.dedup();
    let imports: Vec<(u32, u32)> = js
        .filter(|j| j.error.is_none())
        .map(|j| {
            // Each module named once, shared by its occurrences.
            let modules: Vec<u32> = j.names.iter().map(|s| module(s, names)).collect();
            let module_of = |i: u32| modules.get(i as usize).copied().unwrap_or(u32::MAX);
            let nothing = names.id("");
            let mut out: Vec<(u32, u32)> =
                j.specs.iter().map(|&i| (module_of(i), nothing)).collect();
            for (i, n) in &j.imports {
                let spec = j.names.get(*i as usize).map_or("", |s| s);
                let picked = side.resolve(c, spec, n);
                out.push((module_of(*i), names.id(&picked)));
            }
            out
        })
        .unwrap_or_default();
    let mut importers: Vec<u32> = side
        .importers
        .get(path)
        .map(|v| v.iter().map(|p| names.id(p)).collect())
        .unwrap_or_default();
    importers.sort_unstable();
    Candidate {
        path,
        sha256: f.facts.sha256.as_ref().map(|d| d.hex()),
        size: f.facts.size,
        canonical: js.filter(|j| j.error.is_none()).map(|j| j.canonical),
        sketch: facts.map_or(NO_SKETCH.as_slice(), |x| x.sketch.as_slice()),
        links,
        imports,
        importers,
    }
}

fn is_embedded(path: &str) -> bool {
    path.contains("!/")
}

/// A side: manifest, contents, and the facts computed for some of its paths.
struct SideData<'a> {
    contents: Option<&'a Contents>,
    facts: BTreeMap<&'a str, Facts>,
    /// For each module path, the paths of the modules with facts that name it (sorted).
    importers: HashMap<String, Vec<&'a str>>,
}

impl SideData<'_> {
    /// The export index of `name` in the module `spec` names (relative to `container`).
    fn resolve(&self, container: &str, spec: &str, name: &str) -> String {
        let target = format!("{container}!{spec}");
        match self
            .facts
            .get(target.as_str())
            .and_then(|f| f.export_pos.get(name))
        {
            Some(i) => format!("#{i}"),
            None => format!("={name}"),
        }
    }
}

/// For one pair, what its old export names became: old export name to the new export name of
/// the same binding (the binding paired by the alignment of the two sides). The modules that
/// import from this pair translate their old imported names through it, so a chunk whose export
/// names a minifier re-drew stays equal, while importing a different binding does not.
type ExportMap = HashMap<String, String>;

/// Modules bigger than this (both sides together) are printed on two threads.
const PRINT_APART_BYTES: usize = 1 << 20;

/// Debug counters of the compare (VETTED_DEBUG_DELTA): pairs equal on their canonical digests,
/// pairs printed, printed pairs that came out unchanged, and microseconds spent printing.
static COMPARE_STATS: [std::sync::atomic::AtomicU64; 4] =
    [const { std::sync::atomic::AtomicU64::new(0) }; 4];

fn count(i: usize, n: u64) {
    COMPARE_STATS[i].fetch_add(n, std::sync::atomic::Ordering::Relaxed);
}

/// The export maps a pair's comparison may use, by old path.
type Maps<'p> = HashMap<&'p str, Arc<ExportMap>>;

/// A compared pair: its change, and its export map when it has one.
type Compared = (CodeChange, Option<Arc<ExportMap>>);

/// Compare the code of one pair; `maps` holds the export maps of the pairs compared before
/// (the modules this one imports from, when there is no import cycle).
fn compare(
    op: &str,
    np: &str,
    old: &SideData<'_>,
    new: &SideData<'_>,
    path_map: &BTreeMap<&str, &str>,
    maps: &Maps<'_>,
) -> (CodeChange, Option<ExportMap>) {
    let (Some(ob), Some(nb)) = (
        old.contents.and_then(|c| c.get(op)),
        new.contents.and_then(|c| c.get(np)),
    ) else {
        return (
            CodeChange::status(
                CodeStatus::NotShown,
                Some("the bytes of this entry were not read (too large, or unreadable)".into()),
            ),
            None,
        );
    };
    let (ob, nb) = match (contents::decoded(op, ob), contents::decoded(np, nb)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            return (
                CodeChange::status(CodeStatus::NotShown, Some(format!("not decoded: {e}"))),
                None,
            );
        }
    };
    let (Ok(ot), Ok(nt)) = (std::str::from_utf8(&ob), std::str::from_utf8(&nb)) else {
        return (CodeChange::status(CodeStatus::Binary, None), None);
    };
    if !(js::is_js(op) && js::is_js(np)) {
        return (text_change(ot, nt), None);
    }
    let unparsed = |s: &SideData<'_>, p: &str| s.facts.get(p).is_some_and(|f| f.unparsed);
    if unparsed(old, op) || unparsed(new, np) {
        let mut c = text_change(ot, nt);
        c.note = Some(
            "compared as text: its parse overran the analysis time budget (limits.js.millis)"
                .into(),
        );
        return (c, None);
    }
    let oc = pair::container(op);
    let nc = pair::container(np);
    // An old imported name as the new side would write it: translated through the export map
    // of the pair it is imported from (unchanged when that module did not change).
    let translate = |spec: &str, name: &str| -> String {
        maps.get(format!("{oc}!{spec}").as_str())
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    };
    let same_path = op == np;
    let of = old.facts.get(op).and_then(|f| f.js.as_ref());
    let nf = new.facts.get(np).and_then(|f| f.js.as_ref());
    if let (Some(of), Some(nf)) = (of, nf)
        && of.error.is_none()
        && nf.error.is_none()
    {
        let specs_equal = of.specs.len() == nf.specs.len()
            && of.specs().zip(nf.specs()).all(|(o, n)| {
                let o_path = format!("{oc}!{o}");
                let n_path = format!("{nc}!{n}");
                path_map.get(o_path.as_str()).copied() == Some(n_path.as_str())
                    || (o_path == n_path && !path_map.contains_key(o_path.as_str()))
            });
        let imports_equal = of.imports.len() == nf.imports.len()
            && of
                .imports()
                .zip(nf.imports())
                .all(|((os, on), (_, nn))| translate(os, on) == nn);
        // A module that kept its path may be imported by modules that did not change: its
        // export names must stay as they were.
        let exports_kept = !same_path || of.exports == nf.exports;
        if of.canonical == nf.canonical && specs_equal && imports_equal && exports_kept {
            count(0, 1);
            // Equal canonical forms export the same bindings in the same order.
            let map = of
                .exports
                .iter()
                .cloned()
                .zip(nf.exports.iter().cloned())
                .collect();
            return (
                CodeChange {
                    compared_as: Some("javascript"),
                    ..CodeChange::status(CodeStatus::NoSemanticChange, None)
                },
                Some(map),
            );
        }
    }
    // A module names the same few modules many times over: each is looked up once.
    let mut seen: rustc_hash::FxHashMap<Box<str>, String> = rustc_hash::FxHashMap::default();
    let mut old_spec = |s: &str| {
        if let Some(q) = seen.get(s) {
            return q.clone();
        }
        let p = format!("{oc}!{s}");
        let q = match path_map.get(p.as_str()) {
            Some(n) => format!("\"{}\"", n.split_once('!').map_or(*n, |x| x.1)),
            None => format!("\"{s}\""),
        };
        seen.insert(s.into(), q.clone());
        q
    };
    let mut new_spec = |s: &str| format!("\"{s}\"");
    // The first prefix neither printing contains (the code's own strings never hold it).
    let mut printed = None;
    let printing = std::time::Instant::now();
    count(1, 1);
    // Prefixes the sources hold are skipped without printing (the printing holds what the
    // source does, and sometimes more: an escape printed as the character it stands for).
    for mark in js::MARKS
        .iter()
        .filter(|m| !(ot.contains(**m) || nt.contains(**m)))
    {
        let mut old_imp = |s: &str, n: &str| format!("{mark}={}", translate(s, n));
        let mut new_imp = |_: &str, n: &str| format!("{mark}={n}");
        let mut print_old = || js::pretty(op, ot, &mut old_spec, &mut old_imp, same_path, mark);
        let mut print_new = || js::pretty(np, nt, &mut new_spec, &mut new_imp, same_path, mark);
        // A big module is printed on two threads, one side each: otherwise it is the one
        // comparison left at the end, with the other thread idle.
        let both = if ot.len() + nt.len() > PRINT_APART_BYTES {
            std::thread::scope(|s| {
                let h = s.spawn(print_new);
                let o = print_old();
                (o, h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            })
        } else {
            (print_old(), print_new())
        };
        let got = match both {
            (Ok(o), Ok(n)) => Ok((o, n)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        let clean = match &got {
            Ok((o, n)) => !(o.display.contains(mark) || n.display.contains(mark)),
            Err(_) => true,
        };
        printed = Some((got, clean.then_some(*mark)));
        if clean {
            break;
        }
    }
    count(
        3,
        u64::try_from(printing.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    let Some((printed, mark)) = printed else {
        return (text_change(ot, nt), None);
    };
    match printed {
        Ok((o, n)) => {
            let on: Vec<&str> = o.normal.lines().collect();
            let nn: Vec<&str> = n.normal.lines().collect();
            // Bindings renumbered by an added or removed declaration are aligned first (with
            // no safe prefix, compared as numbered).
            let (renamed, marks) = match mark {
                Some(m) => code::align_marks(&on, &nn, m),
                None => (nn.iter().map(|l| l.to_string()).collect(), Vec::new()),
            };
            let rn: Vec<&str> = renamed.iter().map(String::as_str).collect();
            let (od, nd): (Vec<&str>, Vec<&str>) =
                (o.display.lines().collect(), n.display.lines().collect());
            let diff = code::line_diff(&on, &rn, &od, &nd, DIFF_LINES_PER_FILE);
            let status = if diff.added_lines + diff.removed_lines == 0 {
                count(2, 1);
                CodeStatus::NoSemanticChange
            } else {
                CodeStatus::Changed
            };
            let sigma: HashMap<u32, u32> = marks
                .iter()
                .filter(|(c, _, _)| *c == 0)
                .map(|&(_, x, y)| (x, y))
                .collect();
            let mut by_binding: HashMap<u32, &str> = HashMap::new();
            for (y, t) in &n.exports {
                by_binding.entry(*t).or_insert(y.as_str());
            }
            let mut map = ExportMap::new();
            for (x, s) in &o.exports {
                if let Some(y) = sigma.get(s).and_then(|t| by_binding.get(t)) {
                    map.entry(x.clone()).or_insert_with(|| y.to_string());
                }
            }
            (
                CodeChange {
                    status,
                    compared_as: Some("javascript"),
                    note: None,
                    diff,
                },
                Some(map),
            )
        }
        Err(e) => {
            let mut c = text_change(ot, nt);
            c.note = Some(format!("does not parse ({e}); compared as text"));
            (c, None)
        }
    }
}

/// For each pair to compare (positions in `todo`), the pairs it imports from (positions).
fn import_deps(todo: &[usize], changed: &[FileChange], old: &SideData<'_>) -> Vec<Vec<usize>> {
    let by_old: HashMap<&str, usize> = todo
        .iter()
        .enumerate()
        .map(|(k, &i)| (changed[i].old_path.as_str(), k))
        .collect();
    todo.iter()
        .enumerate()
        .map(|(k, &i)| {
            let op = changed[i].old_path.as_str();
            let c = pair::container(op);
            let mut d: Vec<usize> = old
                .facts
                .get(op)
                .and_then(|f| f.js.as_ref())
                .map(|j| {
                    j.imports()
                        .filter_map(|(s, _)| by_old.get(format!("{c}!{s}").as_str()).copied())
                        .filter(|&t| t != k)
                        .collect()
                })
                .unwrap_or_default();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect()
}

/// How [`schedule`] compares one pair (a position in its list) with the maps it may use.
type CompareFn<'f, 'p> = dyn Fn(usize, &Maps<'p>) -> (CodeChange, Option<ExportMap>) + Sync + 'f;

/// What [`schedule`] keeps between its two threads.
struct Board {
    /// Ready to compare, biggest first (so the big ones do not come last on one thread).
    ready: BinaryHeap<(u64, std::cmp::Reverse<usize>)>,
    /// Pairs each one still waits for.
    waiting: Vec<usize>,
    /// Results, as they come.
    done: Vec<Option<Compared>>,
    running: usize,
    /// A comparison panicked: stop, and let the panic through once both threads are out.
    failed: Option<Box<dyn std::any::Any + Send>>,
}

/// Run `f` for every item on two threads, each item once the items it depends on (`deps`,
/// acyclic part) are done, with their export maps. Items in dependency cycles are not run:
/// their result is `None`. The result of an item depends only on the maps of its
/// dependencies, which are final when it runs, so the order the threads take does not matter.
fn schedule<'p>(
    deps: &[Vec<usize>],
    size: &[u64],
    old_path: &(dyn Fn(usize) -> &'p str + Sync),
    f: &CompareFn<'_, 'p>,
) -> Vec<Option<Compared>> {
    let n = deps.len();
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, d) in deps.iter().enumerate() {
        for &t in d {
            users[t].push(k);
        }
    }
    let waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let ready = (0..n)
        .filter(|&k| waiting[k] == 0)
        .map(|k| (size.get(k).copied().unwrap_or(0), std::cmp::Reverse(k)))
        .collect();
    let board = Mutex::new(Board {
        ready,
        waiting,
        done: (0..n).map(|_| None).collect(),
        running: 0,
        failed: None,
    });
    let wake = Condvar::new();
    let work = || {
        let mut b = board.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if b.failed.is_some() {
                return;
            }
            let Some((_, std::cmp::Reverse(k))) = b.ready.pop() else {
                if b.running == 0 {
                    wake.notify_all();
                    return;
                }
                b = wake.wait(b).unwrap_or_else(|p| p.into_inner());
                continue;
            };
            b.running += 1;
            let maps: Maps<'p> = deps[k]
                .iter()
                .filter_map(|&t| {
                    let m = b.done[t].as_ref()?.1.as_ref()?;
                    Some((old_path(t), Arc::clone(m)))
                })
                .collect();
            drop(b);
            let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(k, &maps)));
            b = board.lock().unwrap_or_else(|p| p.into_inner());
            b.running -= 1;
            match got {
                Ok((code, map)) => {
                    b.done[k] = Some((code, map.map(Arc::new)));
                    for &u in &users[k] {
                        b.waiting[u] -= 1;
                        if b.waiting[u] == 0 {
                            let s = size.get(u).copied().unwrap_or(0);
                            b.ready.push((s, std::cmp::Reverse(u)));
                        }
                    }
                }
                Err(p) => b.failed = Some(p),
            }
            wake.notify_all();
        }
    };
    std::thread::scope(|s| {
        s.spawn(work);
        work();
    });
    let b = board.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = b.failed {
        std::panic::resume_unwind(p);
    }
    b.done
}

fn text_change(ot: &str, nt: &str) -> CodeChange {
    if ot == nt {
        return CodeChange {
            compared_as: Some("text"),
            ..CodeChange::status(CodeStatus::SameText, None)
        };
    }
    let o: Vec<&str> = ot.lines().collect();
    let n: Vec<&str> = nt.lines().collect();
    let diff = code::line_diff(&o, &n, &o, &n, DIFF_LINES_PER_FILE);
    CodeChange {
        status: CodeStatus::Changed,
        compared_as: Some("text"),
        note: None,
        diff,
    }
}

fn behaviour_key(b: &Behaviour) -> (BehaviourKind, &BTreeSet<String>, Option<&str>) {
    (b.kind, &b.attributes, b.value.as_deref())
}

/// Behaviours in `a` with no behaviour of the same kind, attributes and value in `b`.
fn missing_from<'a>(a: &'a [Behaviour], b: &[Behaviour]) -> Vec<&'a Behaviour> {
    let keys: BTreeSet<_> = b.iter().map(behaviour_key).collect();
    let mut seen = BTreeSet::new();
    a.iter()
        .filter(|x| !keys.contains(&behaviour_key(x)) && seen.insert(behaviour_key(x)))
        .collect()
}

fn hunk_for(code: Option<&CodeChange>, b: &Behaviour, change: Change) -> Option<usize> {
    let code = code?;
    let mark = match change {
        Change::Added => '+',
        Change::Removed => '-',
    };
    let needles: Vec<&str> = [b.value.as_deref(), Some(b.snippet.trim())]
        .into_iter()
        .flatten()
        .filter(|s| s.len() >= 4)
        .collect();
    for needle in needles {
        if let Some(i) = code.diff.hunks.iter().position(|h| {
            h.lines
                .iter()
                .any(|l| l.starts_with(mark) && l.contains(needle))
        }) {
            return Some(i);
        }
    }
    None
}

/// Pair the added and removed entries of `files`, compare code, and collect behaviour changes.
pub(super) fn build<'m>(
    files: &mut FileChanges,
    old: &'m ContentManifest,
    old_c: Option<&'m Contents>,
    new: &'m ContentManifest,
    new_c: Option<&'m Contents>,
) -> Delta {
    let t0 = std::time::Instant::now();
    let debug = std::env::var_os("VETTED_DEBUG_DELTA").is_some();
    let mut delta = Delta {
        code_compared: old_c.is_some() && new_c.is_some(),
        ..Delta::default()
    };
    for c in [old_c, new_c].into_iter().flatten() {
        delta.notes.extend(c.notes.iter().cloned());
    }
    // Facts for every path that takes part: removed, added, and both sides of changed entries
    // (keyed by the manifests' own path strings, which outlive the file lists).
    let key =
        |m: &'m ContentManifest, p: &str| m.entries.get_key_value(p).map(|(k, e)| (k.as_str(), e));
    let old_entries: Vec<(&'m str, &'m Entry)> = files
        .removed
        .iter()
        .map(|f| f.path.as_str())
        .chain(files.changed.iter().map(|c| c.old_path.as_str()))
        .filter_map(|p| key(old, p))
        .collect();
    let new_entries: Vec<(&'m str, &'m Entry)> = files
        .added
        .iter()
        .map(|f| f.path.as_str())
        .chain(files.changed.iter().map(|c| c.new_path.as_str()))
        .filter_map(|p| key(new, p))
        .collect();
    let both: Vec<(bool, &'m str, &'m Entry)> = old_entries
        .iter()
        .map(|(p, e)| (false, *p, *e))
        .chain(new_entries.iter().map(|(p, e)| (true, *p, *e)))
        .collect();
    let computed = par_map(&both, |(is_new, p, e)| {
        facts_of(p, e, if *is_new { new_c } else { old_c })
    });
    let mut old_side = SideData {
        contents: old_c,
        facts: BTreeMap::new(),
        importers: HashMap::new(),
    };
    let mut new_side = SideData {
        contents: new_c,
        facts: BTreeMap::new(),
        importers: HashMap::new(),
    };
    for ((is_new, p, _), f) in both.iter().zip(computed) {
        if *is_new {
            new_side.facts.insert(p, f);
        } else {
            old_side.facts.insert(p, f);
        }
    }

    if debug {
        eprintln!(
            "delta: facts computed in {:?}; statm {}",
            t0.elapsed(),
            crate::diff::statm()
        );
    }
    for side in [&mut old_side, &mut new_side] {
        let mut rev: HashMap<String, Vec<&'m str>> = HashMap::new();
        for (p, f) in &side.facts {
            let c = pair::container(p);
            for s in f.js.iter().flat_map(|j| j.spec_names()) {
                rev.entry(format!("{c}!{s}")).or_default().push(p);
            }
        }
        for v in rev.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        side.importers = rev;
    }
    if debug {
        let (mut im, mut sp, mut ex, mut sk, mut rv) = (0usize, 0usize, 0usize, 0usize, 0usize);
        for side in [&old_side, &new_side] {
            for f in side.facts.values() {
                sk += f.sketch.len();
                if let Some(j) = &f.js {
                    im += j.imports.len();
                    sp += j.specs.len();
                    ex += j.exports.len();
                }
            }
            rv += side.importers.values().map(Vec::len).sum::<usize>();
        }
        let rss = crate::diff::statm();
        eprintln!(
            "delta: facts hold {im} imports, {sp} specs, {ex} exports, {sk} sketch values, {rv} importer links; statm {rss}"
        );
        eprintln!(
            "delta: facts of {} entries in {:?}",
            both.len(),
            t0.elapsed()
        );
    }
    // Pairing of removed x added.
    let pairable = |f: &FileEntry| matches!(f.facts.kind, EntryKind::File | EntryKind::Embedded);
    let old_idx: Vec<usize> = (0..files.removed.len())
        .filter(|&i| pairable(&files.removed[i]))
        .collect();
    let new_idx: Vec<usize> = (0..files.added.len())
        .filter(|&i| pairable(&files.added[i]))
        .collect();
    let pairs = {
        let mut names = pair::Names::default();
        let old_c_list: Vec<Candidate<'_>> = old_idx
            .iter()
            .map(|&i| candidate(&old_side, old, &files.removed[i], &mut names))
            .collect();
        let new_c_list: Vec<Candidate<'_>> = new_idx
            .iter()
            .map(|&i| candidate(&new_side, new, &files.added[i], &mut names))
            .collect();
        pair::pair(&old_c_list, &new_c_list, &mut names, &|p| {
            new.entries.contains_key(p)
        })
    };
    let pairs: Vec<(usize, usize, f64, PairedBy)> = pairs
        .iter()
        .map(|p| (old_idx[p.old], new_idx[p.new], p.similarity, p.by))
        .collect();

    // The path map: every old path to the new path it became (same path when it stayed).
    let mut path_map: BTreeMap<&'m str, &'m str> = BTreeMap::new();
    for p in old.entries.keys() {
        if new.entries.contains_key(p) {
            path_map.insert(p.as_str(), p.as_str());
        }
    }
    let removed = std::mem::take(&mut files.removed);
    let added = std::mem::take(&mut files.added);
    let mut paired_old = vec![false; removed.len()];
    let mut paired_new = vec![false; added.len()];
    let mut new_changes: Vec<FileChange> = Vec::new();
    for &(o, n, s, by) in &pairs {
        paired_old[o] = true;
        paired_new[n] = true;
        let (of, nf) = (&removed[o], &added[n]);
        if let (Some((ok, _)), Some((nk, _))) = (key(old, &of.path), key(new, &nf.path)) {
            path_map.insert(ok, nk);
        }
        if of.facts.sha256.is_some() && of.facts.sha256 == nf.facts.sha256 {
            files.moved.push(FileMove {
                old_path: of.path.clone(),
                new_path: nf.path.clone(),
                similarity: Similarity::ONE,
                facts: nf.facts.clone(),
            });
        } else {
            new_changes.push(FileChange {
                old_path: of.path.clone(),
                new_path: nf.path.clone(),
                similarity: Some(Similarity::from_f64(s)),
                paired_by: by,
                changed: super::changed_aspects(&of.facts, &nf.facts),
                old: of.facts.clone(),
                new: nf.facts.clone(),
                code: None,
            });
        }
    }
    files.removed = removed
        .into_iter()
        .zip(paired_old)
        .filter(|(_, p)| !p)
        .map(|(f, _)| f)
        .collect();
    files.added = added
        .into_iter()
        .zip(paired_new)
        .filter(|(_, p)| !p)
        .map(|(f, _)| f)
        .collect();
    // Same-path changes get their similarity too.
    for c in files.changed.iter_mut() {
        let (a, b) = (
            old_side.facts.get(c.old_path.as_str()),
            new_side.facts.get(c.new_path.as_str()),
        );
        if let (Some(a), Some(b)) = (a, b)
            && !a.sketch.is_empty()
            && !b.sketch.is_empty()
        {
            c.similarity = Some(Similarity::from_f64(js::similarity(&a.sketch, &b.sketch)));
        }
    }
    files.changed.extend(new_changes);
    files
        .changed
        .sort_by(|a, b| (&a.new_path, &a.old_path).cmp(&(&b.new_path, &b.old_path)));
    files.moved.sort_by(|a, b| a.new_path.cmp(&b.new_path));

    if debug {
        eprintln!(
            "delta: {} pairs in {:?}; statm {}",
            pairs.len(),
            t0.elapsed(),
            crate::diff::statm()
        );
        let unpaired_new: Vec<&FileEntry> = files
            .added
            .iter()
            .filter(|f| is_embedded(&f.path))
            .collect();
        let unpaired_old: Vec<&FileEntry> = files
            .removed
            .iter()
            .filter(|f| is_embedded(&f.path))
            .collect();
        let mut hist = [0usize; 11];
        for n in &unpaired_new {
            let ns = new_side
                .facts
                .get(n.path.as_str())
                .map(|f| f.sketch.as_slice())
                .unwrap_or(&[]);
            let (best, with) = unpaired_old
                .iter()
                .map(|o| {
                    let os = old_side
                        .facts
                        .get(o.path.as_str())
                        .map(|f| f.sketch.as_slice())
                        .unwrap_or(&[]);
                    (js::similarity(os, ns), o.path.as_str())
                })
                .fold((0.0f64, ""), |a, b| if b.0 > a.0 { b } else { a });
            if best >= 0.6 {
                eprintln!(
                    "delta: unpaired {} best {best:.3} with unpaired {with}",
                    n.path
                );
            }
            hist[(best * 10.0) as usize] += 1;
        }
        eprintln!("delta: best similarity of unpaired new modules, by tenths: {hist:?}");
    }
    // Code of every changed pair (content differs), on two threads, then the line budget.
    if delta.code_compared {
        let todo: Vec<usize> = (0..files.changed.len())
            .filter(|&i| {
                files.changed[i]
                    .changed
                    .contains(&super::ChangedAspect::Content)
            })
            .collect();
        let deps = import_deps(&todo, &files.changed, &old_side);
        let size: Vec<u64> = todo
            .iter()
            .map(|&i| files.changed[i].old.size + files.changed[i].new.size)
            .collect();
        let changed = &files.changed;
        let old_path = |k: usize| changed[todo[k]].old_path.as_str();
        let compare_pair = |k: usize, maps: &Maps<'_>| {
            let c = &changed[todo[k]];
            compare(
                &c.old_path,
                &c.new_path,
                &old_side,
                &new_side,
                &path_map,
                maps,
            )
        };
        let mut done = schedule(&deps, &size, &old_path, &compare_pair);
        // The pairs in import cycles: compared once with the maps known so far, then the
        // changed ones again once the maps of the other members are known.
        let cycle: Vec<usize> = (0..todo.len()).filter(|&k| done[k].is_none()).collect();
        if !cycle.is_empty() {
            let all = |done: &[Option<Compared>]| -> Maps<'_> {
                done.iter()
                    .enumerate()
                    .filter_map(|(k, d)| Some((old_path(k), Arc::clone(d.as_ref()?.1.as_ref()?))))
                    .collect()
            };
            let maps = all(&done);
            let got = par_map(&cycle, |&k| compare_pair(k, &maps));
            for (&k, (code, map)) in cycle.iter().zip(got) {
                done[k] = Some((code, map.map(Arc::new)));
            }
            let again: Vec<usize> = cycle
                .iter()
                .copied()
                .filter(|&k| {
                    done[k]
                        .as_ref()
                        .is_some_and(|d| d.0.status == CodeStatus::Changed)
                })
                .collect();
            let maps = all(&done);
            let got = par_map(&again, |&k| compare_pair(k, &maps).0);
            for (&k, code) in again.iter().zip(got) {
                if let Some(d) = done[k].as_mut() {
                    d.0 = code;
                }
            }
        }
        if debug {
            let c = |i: usize| COMPARE_STATS[i].load(std::sync::atomic::Ordering::Relaxed);
            eprintln!(
                "delta: {} pairs equal on digests, {} printed ({} of them unchanged), {:.1} s printing",
                c(0),
                c(1),
                c(2),
                c(3) as f64 / 1e6
            );
            eprintln!("delta: {} pairs in import cycles", cycle.len());
        }
        let mut results: Vec<(usize, CodeChange)> = done
            .into_iter()
            .enumerate()
            .filter_map(|(k, d)| Some((todo[k], d?.0)))
            .collect();
        results.sort_by_key(|r| r.0);
        let mut used = 0usize;
        for (i, mut r) in results {
            let before = r.diff.hunks.len();
            let mut kept = Vec::new();
            for h in std::mem::take(&mut r.diff.hunks) {
                if used + h.lines.len() <= DIFF_LINES_TOTAL {
                    used += h.lines.len();
                    kept.push(h);
                }
            }
            r.diff.hunks_left_out += before - kept.len();
            r.diff.hunks = kept;
            files.changed[i].code = Some(r);
        }
    }

    if debug {
        eprintln!(
            "delta: code compared in {:?}; statm {}",
            t0.elapsed(),
            crate::diff::statm()
        );
    }
    // Behaviour changes.
    let mut bc = Vec::new();
    for c in &files.changed {
        let (Some(oe), Some(ne)) = (old.entries.get(&c.old_path), new.entries.get(&c.new_path))
        else {
            continue;
        };
        let old_path = (c.old_path != c.new_path).then(|| c.old_path.clone());
        for (change, from, against) in [
            (Change::Added, &ne.behaviours, &oe.behaviours),
            (Change::Removed, &oe.behaviours, &ne.behaviours),
        ] {
            for b in missing_from(from, against) {
                bc.push(BehaviourChange {
                    risk: risk(b, change),
                    change,
                    path: c.new_path.clone(),
                    old_path: old_path.clone(),
                    behaviour: b.clone(),
                    hunk: hunk_for(c.code.as_ref(), b, change),
                });
            }
        }
    }
    for (change, list, m) in [
        (Change::Added, &files.added, new),
        (Change::Removed, &files.removed, old),
    ] {
        for f in list {
            let Some(e) = m.entries.get(&f.path) else {
                continue;
            };
            for b in missing_from(&e.behaviours, &[]) {
                bc.push(BehaviourChange {
                    risk: risk(b, change),
                    change,
                    path: f.path.clone(),
                    old_path: None,
                    behaviour: b.clone(),
                    hunk: None,
                });
            }
        }
    }
    bc.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then_with(|| a.change.cmp(&b.change))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.behaviour.cmp(&b.behaviour))
    });
    delta.behaviour_changes = bc;

    // Analysis gaps: new code whose behaviours are not all known.
    let reviewed_code = |c: &FileChange| {
        c.code.as_ref().is_some_and(|k| {
            matches!(
                k.status,
                CodeStatus::NoSemanticChange | CodeStatus::SameText
            )
        })
    };
    let new_code = files.added.iter().map(|f| f.path.as_str()).chain(
        files
            .changed
            .iter()
            .filter(|c| !reviewed_code(c))
            .map(|c| c.new_path.as_str()),
    );
    let mut gaps: Vec<AnalysisGap> = new_code
        .filter_map(|p| {
            let reason = gap_reason(new.entries.get(p)?)?;
            Some(AnalysisGap {
                path: p.to_string(),
                reason,
            })
        })
        .collect();
    gaps.sort_by(|a, b| a.path.cmp(&b.path));
    delta.analysis_gaps = gaps;

    // Counts.
    for (scope, counts) in [(false, &mut delta.files), (true, &mut delta.embedded)] {
        let in_scope = |p: &str| is_embedded(p) == scope;
        counts.old_total = old.entries.keys().filter(|p| in_scope(p)).count() as u64;
        counts.new_total = new.entries.keys().filter(|p| in_scope(p)).count() as u64;
        counts.unchanged = old
            .entries
            .iter()
            .filter(|(p, e)| in_scope(p) && new.entries.get(*p) == Some(e))
            .count() as u64;
        counts.moved = files.moved.iter().filter(|m| in_scope(&m.new_path)).count() as u64;
        counts.unpaired_added = files.added.iter().filter(|f| in_scope(&f.path)).count() as u64;
        counts.unpaired_removed = files.removed.iter().filter(|f| in_scope(&f.path)).count() as u64;
        for c in files.changed.iter().filter(|c| in_scope(&c.new_path)) {
            if c.old_path == c.new_path {
                counts.changed_in_place += 1;
            } else {
                counts.renamed_and_changed += 1;
            }
            match c.code.as_ref().map(|c| c.status) {
                Some(CodeStatus::NoSemanticChange | CodeStatus::SameText) => {
                    counts.no_semantic_change += 1
                }
                Some(CodeStatus::Changed) => counts.changed += 1,
                _ => counts.not_compared += 1,
            }
            if let Some(code) = &c.code {
                counts.added_lines += code.diff.added_lines;
                counts.removed_lines += code.diff.removed_lines;
            }
        }
    }
    delta
}

/// The paths whose bytes the delta needs: every file or embedded module that is not the same
/// (path and digest) on both sides, and, for JavaScript, the modules they may import.
pub fn wanted_paths<'a>(
    old: &'a ContentManifest,
    new: &'a ContentManifest,
) -> (BTreeSet<&'a str>, BTreeSet<&'a str>) {
    let differs = |b: &ContentManifest, p: &str, e: &Entry| {
        matches!(e.kind, EntryKind::File | EntryKind::Embedded)
            && b.entries.get(p).is_none_or(|o| o.sha256 != e.sha256)
    };
    let o = old
        .entries
        .iter()
        .filter(|(p, e)| differs(new, p, e))
        .map(|(p, _)| p.as_str())
        .collect();
    let n = new
        .entries
        .iter()
        .filter(|(p, e)| differs(old, p, e))
        .map(|(p, _)| p.as_str())
        .collect();
    (o, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: [&str; 5] = ["a", "b", "c", "d", "e"];

    /// Each item's export map names the items whose maps it was given.
    fn run(deps: &[Vec<usize>]) -> Vec<Option<Compared>> {
        let path = |k: usize| PATHS[k];
        let f = |k: usize, maps: &Maps<'_>| {
            let mut seen: Vec<&str> = maps.keys().copied().collect();
            seen.sort_unstable();
            let m: ExportMap = [(PATHS[k].to_string(), seen.join(","))].into();
            (CodeChange::status(CodeStatus::Changed, None), Some(m))
        };
        schedule(deps, &[1, 5, 2, 9, 3], &path, &f)
    }

    fn seen(r: &Option<Compared>, k: usize) -> Option<String> {
        r.as_ref()?.1.as_ref()?.get(PATHS[k]).cloned()
    }

    #[test]
    fn a_pair_is_compared_after_the_pairs_it_imports_from() {
        // c imports a and b; d imports c; e imports nothing.
        let deps = vec![vec![], vec![], vec![0, 1], vec![2], vec![]];
        let r = run(&deps);
        assert_eq!(seen(&r[2], 2).as_deref(), Some("a,b"));
        assert_eq!(seen(&r[3], 3).as_deref(), Some("c"));
        assert_eq!(seen(&r[4], 4).as_deref(), Some(""));
    }

    #[test]
    fn pairs_in_an_import_cycle_are_left_for_the_second_pass() {
        // b and c import each other; d imports c; a stands alone.
        let deps = vec![vec![], vec![2], vec![1], vec![2], vec![0]];
        let r = run(&deps);
        assert!(r[0].is_some() && r[4].is_some());
        assert!(r[1].is_none() && r[2].is_none() && r[3].is_none());
    }

    #[test]
    fn a_panicking_comparison_is_passed_on_not_waited_for() {
        let deps = vec![vec![], vec![0], vec![], vec![], vec![]];
        let path = |k: usize| PATHS[k];
        let f = |k: usize, _: &Maps<'_>| -> (CodeChange, Option<ExportMap>) {
            assert_ne!(k, 0, "boom");
            (CodeChange::status(CodeStatus::Changed, None), None)
        };
        let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            schedule(&deps, &[1, 1, 1, 1, 1], &path, &f)
        }));
        assert!(got.is_err());
    }
}
