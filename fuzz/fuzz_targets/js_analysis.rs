//! The JavaScript behaviour analysis (`content::js`): oxc parse, semantic binding resolution,
//! constant folding, bounded decoding of encoded literals and the rules, on arbitrary text.
//! The first byte chooses the dialect by file name (as the archive walk does); `.zst` runs the
//! bounded zstd decompression first.
#![no_main]
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 8] = [
    "a.mjs", "a.cjs", "a.js", "a.ts", "a.tsx", "a.jsx", "a.mjs.zst", "x.mjs-1a2b3c4d.txt",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, src)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(sel) % NAMES.len()];
    let _ = vetted::content::fuzz_js(name, src);
});
