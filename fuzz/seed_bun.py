#!/usr/bin/env python3
"""Bun module-graph seeds for the bun_graph fuzz target, in the layout `bun::build_graph`
writes (src/content/bun.rs: 52-byte records, the offsets struct, the trailer), so the fuzzer
starts from a graph whose offsets are consistent instead of random bytes.
Usage: seed_bun.py OUT_DIR"""
import struct, sys, os

TRAILER = b"\n---- Bun! ----\n"

def graph(modules, entry=0):
    blob = bytearray()
    recs = []
    def put(b):
        p = (len(blob), len(b))
        blob.extend(b)
        blob.append(0)
        return p
    for name, contents in modules:
        n = put(name.encode()); c = put(contents); o = put(name.encode())
        rec = b"".join(struct.pack("<II", off, ln) for off, ln in [n, c, (0, 0), (0, 0), (0, 0), o])
        recs.append(rec + bytes([1, 1, 1, 0]))
    table_at = len(blob)
    table = b"".join(recs)
    blob.extend(table)
    argv = put(b"--smol")
    offsets = struct.pack("<QIIIII", len(blob), table_at, len(table), entry, argv[0], argv[1]) + struct.pack("<I", 0)
    blob.extend(offsets)
    blob.extend(TRAILER)
    return bytes(blob)

def executable(modules):
    exe = bytearray(b"\x7fELF\x02\x01\x01\0")
    exe.extend(b"\x90" * (4096 - len(exe)))
    exe.extend(b"fake code; the constant \n---- Bun! ----\n in rodata")
    exe.extend(b"\xcc" * (8192 - len(exe)))
    g = graph(modules)
    exe.extend(struct.pack("<Q", len(g) - 48))
    exe.extend(g)
    exe.extend(b"\x5a" * 3000)
    return bytes(exe)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
cli = b"fetch('https://example.com/api'); process.env.SECRET_TOKEN"
seeds = {
    "graph-one": graph([("/$bunfs/root/cli.js", cli)]),
    "graph-three": graph([
        ("/$bunfs/root/cli.js", b"import {a} from './chunk-a.js'; require('child_process').exec(a)"),
        ("/$bunfs/root/chunk-a.js", b"export const a = 'id';"),
        ("/$bunfs/root/x.node", b"\0\x01\x02"),
    ]),
    "exe-two": executable([("/$bunfs/root/cli.js", cli), ("/$bunfs/root/y.wasm", b"\0asm\x01\0\0\0")]),
    "graph-empty": graph([]),
}
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
