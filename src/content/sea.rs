//! Node single-executable applications (SEA, e.g. the `@github/copilot` native binaries): the
//! `NODE_SEA_BLOB` resource that `postject` injects into a copy of `node` holds the main script
//! and the assets. They are listed as embedded modules, like a Bun module graph's, and analysed.
//!
//! The blob layout is Node's (`src/node_sea.h`, `SeaSerializer::Write` in `src/node_sea.cc`;
//! integers little-endian, `size_t` 8 bytes on the 64-bit targets Node ships):
//!
//! ```text
//! u32 magic = 0x0143da20 | u32 flags
//! string code_path | string main_code_or_snapshot      (string = u64 length + bytes)
//! [string code_cache]                  if flags & kUseCodeCache (1 << 2)
//! [u64 count, (string key, string content) * count]    if flags & kIncludeAssets (1 << 3)
//! ```
//!
//! `kUseSnapshot` (1 << 1) means the main "code" is a V8 snapshot, not source: it is listed
//! but not parsed. The blob is found by its magic and accepted only if every length fits
//! inside the file; anything else is no SEA (and no guess).
use super::bun::{Graph, Module, ReadAt};
use super::inspect::Inspector;
use super::manifest::{Entry, EntryKind};
use crate::digest::{Algorithm, Digest};
use crate::limits::JsLimits;
use sha2::{Digest as _, Sha256};

/// `kMagic` in `src/node_sea.h`, as stored (little-endian).
const MAGIC: [u8; 4] = 0x0143_da20u32.to_le_bytes();
const USE_SNAPSHOT: u32 = 1 << 1;
const USE_CODE_CACHE: u32 = 1 << 2;
const INCLUDE_ASSETS: u32 = 1 << 3;
/// Most assets listed from one blob.
const MAX_ASSETS: u64 = 10_000;
/// Longest code path or asset key.
const MAX_KEY: u64 = 4096;
/// Bytes scanned per read when looking for the magic.
const WINDOW: usize = 1 << 20;

/// The name postject gives the resource; it appears in the file (ELF note, Mach-O section,
/// PE resource), so files without it are not scanned.
const RESOURCE: &[u8] = b"NODE_SEA_BLOB";

struct Reader<'a, R: ReadAt + ?Sized> {
    src: &'a R,
    at: u64,
    end: u64,
}

impl<R: ReadAt + ?Sized> Reader<'_, R> {
    fn u32(&mut self) -> Option<u32> {
        let mut b = [0u8; 4];
        (self.at + 4 <= self.end).then_some(())?;
        self.src.read_exact_at(&mut b, self.at).ok()?;
        self.at += 4;
        Some(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> Option<u64> {
        let mut b = [0u8; 8];
        (self.at + 8 <= self.end).then_some(())?;
        self.src.read_exact_at(&mut b, self.at).ok()?;
        self.at += 8;
        Some(u64::from_le_bytes(b))
    }
    /// A string's (offset, length), skipped over.
    fn span(&mut self, max: u64) -> Option<(u64, u64)> {
        let n = self.u64()?;
        if n > max || n > self.end - self.at {
            return None;
        }
        let at = self.at;
        self.at += n;
        Some((at, n))
    }
    fn text(&self, (at, n): (u64, u64)) -> Option<String> {
        let mut b = vec![0u8; n as usize];
        self.src.read_exact_at(&mut b, at).ok()?;
        let s = String::from_utf8(b).ok()?;
        (!s.chars().any(char::is_control)).then_some(s)
    }
}

/// The SEA blob's parts: (flags, code path, code span, assets (key, span)).
type Parsed = (u32, String, (u64, u64), Vec<(String, (u64, u64))>);

fn parse_at<R: ReadAt + ?Sized>(src: &R, at: u64, len: u64) -> Option<Parsed> {
    let mut r = Reader { src, at, end: len };
    if r.u32()? != u32::from_le_bytes(MAGIC) {
        return None;
    }
    let flags = r.u32()?;
    if flags & !0xf != 0 {
        return None;
    }
    let path = r.span(MAX_KEY)?;
    let code_path = r.text(path)?;
    let code = r.span(len)?;
    if flags & USE_CODE_CACHE != 0 {
        r.span(len)?;
    }
    let mut assets = Vec::new();
    if flags & INCLUDE_ASSETS != 0 {
        let n = r.u64()?;
        if n > MAX_ASSETS {
            return None;
        }
        for _ in 0..n {
            let k = r.span(MAX_KEY)?;
            let key = r.text(k)?;
            let v = r.span(len)?;
            assets.push((key, v));
        }
    }
    Some((flags, code_path, code, assets))
}

/// Find the SEA blob in `src` (`len` bytes) and list its main script and assets as embedded
/// modules of `entry_path`. `None` when there is none.
pub(crate) fn read_sea<R: ReadAt + ?Sized>(
    src: &R,
    len: u64,
    entry_path: &str,
    max_modules: u64,
    js: &JsLimits,
) -> Option<Graph> {
    let mut buf = vec![0u8; WINDOW + 3];
    let mut off = 0u64;
    let mut named = false;
    let mut candidates = Vec::new();
    while off < len {
        let n = ((len - off) as usize).min(buf.len());
        src.read_exact_at(&mut buf[..n], off).ok()?;
        let w = &buf[..n];
        named |= w.windows(RESOURCE.len()).any(|x| x == RESOURCE);
        candidates.extend(
            w.windows(4)
                .enumerate()
                .filter(|(_, x)| *x == MAGIC)
                .map(|(i, _)| off + i as u64),
        );
        if n < buf.len() {
            break;
        }
        off += WINDOW as u64;
    }
    if !named {
        return None;
    }
    candidates.dedup();
    let (flags, code_path, code, assets) =
        candidates.iter().find_map(|&at| parse_at(src, at, len))?;
    let mut graph = Graph::default();
    if assets.len() as u64 + 1 > max_modules {
        graph.note = Some(format!(
            "Node SEA blob in {entry_path}: {} assets, more than the limit of {max_modules}; none listed",
            assets.len()
        ));
        return Some(graph);
    }
    let main_name = code_path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("main.js")
        .to_string();
    let main_name = if main_name.is_empty() {
        "main.js".into()
    } else {
        main_name
    };
    let snapshot = flags & USE_SNAPSHOT != 0;
    let mut parts = vec![(format!("sea/{main_name}"), code, !snapshot)];
    parts.extend(
        assets
            .into_iter()
            .map(|(k, v)| (format!("sea/assets/{}", k.trim_start_matches('/')), v, true)),
    );
    for (name, (at, n), analyse) in parts {
        match module(src, entry_path, &name, at, n, analyse, js) {
            Some(m) => graph.modules.push(m),
            None => {
                graph.note = Some(format!(
                    "Node SEA blob in {entry_path}: {name} not readable"
                ));
                graph.modules.clear();
                return Some(graph);
            }
        }
    }
    Some(graph)
}

fn module<R: ReadAt + ?Sized>(
    src: &R,
    entry_path: &str,
    name: &str,
    at: u64,
    n: u64,
    analyse: bool,
    js: &JsLimits,
) -> Option<Module> {
    let mut sha = Sha256::new();
    let mut insp = Inspector::new();
    let keep = analyse && n <= js.source_bytes;
    let mut whole = Vec::new();
    let mut buf = vec![0u8; super::pipeline::CHUNK];
    let mut done = 0u64;
    while done < n {
        let k = ((n - done) as usize).min(buf.len());
        src.read_exact_at(&mut buf[..k], at + done).ok()?;
        sha.update(&buf[..k]);
        insp.update(&buf[..k]);
        if keep {
            whole.extend_from_slice(&buf[..k]);
        }
        done += k as u64;
    }
    let mut entry = Entry {
        kind: EntryKind::Embedded,
        size: n,
        mode: 0o644,
        sha256: Digest::new(Algorithm::Sha256, sha.finalize().to_vec()).ok(),
        link_target: None,
        signals: insp.finish(),
        behaviours: Vec::new(),
        parse_error: None,
        analysis_truncated: false,
    };
    // The main script of a SEA is CommonJS whatever its name.
    let as_js = if super::js::source_type(name).is_some() || name.contains("/assets/") {
        name.to_string()
    } else {
        format!("{name}.cjs")
    };
    if keep {
        super::js::analyse_entry(&mut entry, &as_js, &whole, js);
    }
    entry
        .behaviours
        .extend(super::js::executable_behaviour(name, &entry));
    Some(Module {
        path: format!("{entry_path}!/{name}"),
        entry,
        facts: None,
        reused: false,
    })
}

/// A SEA blob as `node --experimental-sea-config` writes it (for tests).
#[cfg(test)]
pub(crate) fn build_blob(code_path: &str, code: &[u8], assets: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    let flags = if assets.is_empty() {
        0u32
    } else {
        INCLUDE_ASSETS
    };
    b.extend_from_slice(&flags.to_le_bytes());
    let s = |b: &mut Vec<u8>, x: &[u8]| {
        b.extend_from_slice(&(x.len() as u64).to_le_bytes());
        b.extend_from_slice(x);
    };
    s(&mut b, code_path.as_bytes());
    s(&mut b, code);
    if !assets.is_empty() {
        b.extend_from_slice(&(assets.len() as u64).to_le_bytes());
        for (k, v) in assets {
            s(&mut b, k.as_bytes());
            s(&mut b, v);
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::manifest::BehaviourKind;

    fn exe(blob: &[u8]) -> Vec<u8> {
        let mut e = b"\x7fELF\x02\x01\x01\0".to_vec();
        e.resize(70_000, 0x90);
        // An ELF note: namesz, descsz, type, "NODE_SEA_BLOB\0" padded, then the blob.
        e.extend_from_slice(&14u32.to_le_bytes());
        e.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        e.extend_from_slice(&0u32.to_le_bytes());
        e.extend_from_slice(b"NODE_SEA_BLOB\0\0\0");
        e.extend_from_slice(blob);
        e.extend_from_slice(&[0u8; 100]);
        e
    }

    #[test]
    fn main_script_and_assets_are_modules() {
        let blob = build_blob(
            "/build/dist/index.js",
            b"const cp = require('child_process'); cp.exec(process.env.CMD);",
            &[("prompts/a.txt", b"https://api.example.com/")],
        );
        let e = exe(&blob);
        let g = read_sea(
            e.as_slice(),
            e.len() as u64,
            "package/copilot",
            100,
            &JsLimits::default(),
        )
        .expect("a SEA");
        assert_eq!(g.note, None);
        let paths: Vec<&str> = g.modules.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "package/copilot!/sea/index.js",
                "package/copilot!/sea/assets/prompts/a.txt"
            ]
        );
        let main = &g.modules[0].entry;
        assert!(
            main.behaviours
                .iter()
                .any(|b| b.kind == BehaviourKind::ProcessSpawn)
        );
        assert!(main.signals.urls.is_empty());
        assert!(
            g.modules[1]
                .entry
                .signals
                .urls
                .contains("https://api.example.com/")
        );
    }

    #[test]
    fn lengths_past_the_file_are_no_sea() {
        let mut blob = build_blob("m.js", b"1", &[]);
        // code length far past the end
        blob[8 + 8 + 4..8 + 8 + 4 + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = exe(&blob);
        assert!(read_sea(e.as_slice(), e.len() as u64, "x", 100, &JsLimits::default()).is_none());
        // no resource name: not scanned
        let plain = build_blob("m.js", b"1", &[]);
        assert!(
            read_sea(
                plain.as_slice(),
                plain.len() as u64,
                "x",
                100,
                &JsLimits::default()
            )
            .is_none()
        );
    }
}
