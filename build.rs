//! Records a digest of the inspection and analysis source (`src/content/`, `src/limits.rs`, the
//! review's facts in `src/diff/js.rs` and `src/diff/pair.rs`) as
//! `VETTED_CONTENT_SOURCE`: part of every manifest's `analysis` id, so an admission reuses a
//! stored manifest's analysis only when this very code made it (`src/content/reuse.rs`).
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn main() {
    // The review's facts of a module (src/diff/js.rs, the names it numbers in src/diff/pair.rs)
    // are computed by the same pass and cached with it (src/content/inspection_cache.rs).
    let mut list = vec![
        PathBuf::from("src/limits.rs"),
        PathBuf::from("src/diff/js.rs"),
        PathBuf::from("src/diff/pair.rs"),
    ];
    files(Path::new("src/content"), &mut list);
    list.sort();
    let mut h = Sha256::new();
    for p in &list {
        let bytes = std::fs::read(p).unwrap_or_default();
        h.update(p.to_string_lossy().as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let d = h.finalize();
    let hex: String = d[..8].iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=VETTED_CONTENT_SOURCE={hex}");
    println!("cargo:rerun-if-changed=src/content");
    println!("cargo:rerun-if-changed=src/limits.rs");
    println!("cargo:rerun-if-changed=src/diff/js.rs");
    println!("cargo:rerun-if-changed=src/diff/pair.rs");
}
