//! Generated builds for the review tests: Bun-like executables (the layout of Bun's
//! `StandaloneModuleGraph.zig`) in npm tarballs, and manifests with behaviours.
#![allow(dead_code)]
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::Path;
use vetted::content::manifest::{Behaviour, BehaviourKind, Entry};
use vetted::content::{ContentManifest, InspectOptions, inspect_file};
use vetted::diff::{self, ReviewReport};

const TRAILER: &[u8] = b"\n---- Bun! ----\n";

pub fn graph(modules: &[(&str, &[u8])]) -> Vec<u8> {
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
        table.extend_from_slice(&[1, 1, 1, 0]);
    }
    let table_at = blob.len() as u32;
    blob.extend_from_slice(&table);
    let argv = put(&mut blob, b"");
    let byte_count = blob.len() as u64;
    blob.extend_from_slice(&byte_count.to_le_bytes());
    blob.extend_from_slice(&table_at.to_le_bytes());
    blob.extend_from_slice(&(table.len() as u32).to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes());
    blob.extend_from_slice(&argv.0.to_le_bytes());
    blob.extend_from_slice(&argv.1.to_le_bytes());
    blob.extend_from_slice(&0u32.to_le_bytes());
    blob.extend_from_slice(TRAILER);
    blob
}

pub fn executable(modules: &[(&str, &[u8])]) -> Vec<u8> {
    let mut exe = b"\x7fELF\x02\x01\x01\0".to_vec();
    exe.resize(100_000, 0x90);
    let g = graph(modules);
    exe.extend_from_slice(&((g.len() - 48) as u64).to_le_bytes());
    exe.extend_from_slice(&g);
    exe.extend_from_slice(&[0x11; 5000]);
    exe
}

pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("tar");
    }
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(&b.into_inner().expect("tar")).expect("gz");
    e.finish().expect("gz")
}

pub fn pkg(version: &str) -> Vec<u8> {
    format!("{{\"name\":\"@acme/tool\",\"version\":\"{version}\"}}").into_bytes()
}

pub fn zst(text: &str) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(text.as_bytes(), ruzstd::encoding::CompressionLevel::Fastest)
}

/// The library chunk: two exports, one harmless, one that deletes files.
pub fn lib(version: &str, names: (&str, &str, &str)) -> Vec<u8> {
    let (a, b, x) = names;
    format!(
        "// @bun\n// Version: {version}\nimport {{rmSync as {x}}} from \"node:fs\";function {a}(n){{return n.trim().split(\",\")}}function {b}(p){{{x}(p,{{recursive:true}})}}export{{{a},{b}}};\n"
    )
    .into_bytes()
}

/// The app chunk: uses the library's first export and fetches a URL.
pub fn app(version: &str, lib_name: &str, import: &str, url: &str) -> Vec<u8> {
    format!(
        "// @bun\n// Version: {version}\nimport{{{import}}}from\"/$bunfs/root/{lib_name}\";async function q(z){{let r=await fetch(\"{url}\");return {import}(await r.text()).length+z}}\nexport{{q}};\n"
    )
    .into_bytes()
}

pub struct Build {
    pub dir: tempfile::TempDir,
}

impl Build {
    pub fn new() -> Self {
        Build {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p.to_string_lossy().into_owned()
    }
}

pub fn inspect(path: &str) -> ContentManifest {
    inspect_file(
        Path::new(path),
        &InspectOptions {
            limits: vetted::limits::Limits::default(),
            expect_archive: true,
        },
    )
    .expect("inspect")
}

/// Diff two artifacts with their contents, as `vetted diff` does.
pub fn diff_files(old: &str, new: &str) -> ReviewReport {
    let (om, nm) = (inspect(old), inspect(new));
    let (wo, wn) = diff::delta::wanted_paths(&om, &nm);
    let oc = diff::contents::read(Path::new(old), &om, &wo);
    let nc = diff::contents::read(Path::new(new), &nm, &wn);
    assert!(
        oc.notes.is_empty() && nc.notes.is_empty(),
        "{:?} {:?}",
        oc.notes,
        nc.notes
    );
    diff::diff_with(old, &om, Some(&oc), new, &nm, Some(&nc))
}

pub const URL: &str = "https://api.acme.example/v1";

pub fn v1(b: &Build) -> String {
    let exe = executable(&[
        (
            "/$bunfs/root/cli.js",
            b"import\"/$bunfs/root/app-aaaa1111.js\";",
        ),
        (
            "/$bunfs/root/lib-bbbb2222.js",
            &lib("1.0.0", ("kMi", "Udl", "fR")),
        ),
        (
            "/$bunfs/root/app-aaaa1111.js",
            &app("1.0.0", "lib-bbbb2222.js", "kMi", URL),
        ),
        (
            "/$bunfs/root/README-1a2b3c4d.md.zst",
            &zst("# Tool\n\nUse it well.\n"),
        ),
    ]);
    b.write(
        "v1.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.0")),
            ("package/tool", &exe),
            (
                "package/types/index.d.ts",
                b"export declare function run(a: string): void;\n",
            ),
            ("package/docs/guide.md", b"# Guide\n\nSome text.\n"),
        ]),
    )
}

/// 1.0.1: every chunk re-minified under new names, nothing else changed; the guide moved.
pub fn v2_reminified(b: &Build) -> String {
    let exe = executable(&[
        (
            "/$bunfs/root/cli.js",
            b"import\"/$bunfs/root/app-cccc3333.js\";",
        ),
        (
            "/$bunfs/root/lib-dddd4444.js",
            &lib("1.0.1", ("Zq", "Yw", "Xe")),
        ),
        (
            "/$bunfs/root/app-cccc3333.js",
            &app("1.0.1", "lib-dddd4444.js", "Zq", URL),
        ),
        (
            "/$bunfs/root/README-1a2b3c4d.md.zst",
            &zst("# Tool\n\nUse it well.\n"),
        ),
    ]);
    b.write(
        "v2.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.1")),
            ("package/tool", &exe),
            (
                "package/types/index.d.ts",
                b"export declare function run(a: string): void;\n",
            ),
            ("package/guide.md", b"# Guide\n\nSome text.\n"),
        ]),
    )
}

pub fn entry(bytes: &[u8], behaviours: Vec<Behaviour>) -> Entry {
    // Through serde, so fields the manifest gains later take their defaults.
    serde_json::from_value(serde_json::json!({
        "kind": "embedded",
        "size": bytes.len(),
        "mode": 0o644,
        "sha256": vetted::digest::sha256(bytes),
        "behaviours": behaviours,
    }))
    .expect("entry")
}

pub fn behaviour(kind: BehaviourKind, value: &str, attrs: &[&str]) -> Behaviour {
    Behaviour {
        kind,
        attributes: attrs.iter().map(|a| a.to_string()).collect(),
        line: 1,
        column: 1,
        end_line: None,
        snippet: String::new(),
        value: Some(value.to_string()),
    }
}

pub fn manifest_with(entries: Vec<(&str, Entry)>, name_ver: &str) -> ContentManifest {
    let mut m: ContentManifest = serde_json::from_value(serde_json::json!({
        "format": 1,
        "artifact": vetted::digest::Digests::of(name_ver.as_bytes()),
        "archive": "tgz",
        "entries": {},
        "totals": {"entries": 0, "files": 0, "unpacked_bytes": 0},
        "package": null
    }))
    .expect("manifest");
    for (p, e) in entries {
        m.entries.insert(p.to_string(), e);
    }
    m
}

/// Code both sides of a changed module share (enough for the pairing to see them as one).
pub fn common_code() -> String {
    (0..12)
        .map(|i| {
            format!(
                "function f{i}(a,b){{if(a.length>{i}){{return a.slice({i}).map(x=>x*b+{i})}}return []}}\n"
            )
        })
        .collect()
}
