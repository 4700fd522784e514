//! The long differential run (`bench/npm-oracle-mutants.sh`): mutants of real npm tarballs
//! (seeded random pax / GNU / ustar header edits, `tests/oracle/support.rs`), each read by vetted
//! and extracted by npm's own pacote, with three counts: accepted-and-agree, rejected,
//! accepted-and-disagree. Exits 1 when any accepted archive disagrees.
//!
//! Usage: cargo run --example npm_oracle_mutants -- [--count N] [--seed S] [--keep DIR] TGZ...
#[path = "../tests/oracle/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use support::*;

fn main() {
    let mut count = 10_000usize;
    let mut seed = 1u64;
    let mut keep: Option<PathBuf> = None;
    let mut inputs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" => count = args.next().and_then(|v| v.parse().ok()).unwrap_or(count),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--keep" => keep = args.next().map(PathBuf::from),
            _ => inputs.push(PathBuf::from(a)),
        }
    }
    let Some(root) = npm_root() else {
        eprintln!("node or npm's bundled pacote not found (set VETTED_NPM_ROOT)");
        std::process::exit(2);
    };
    let mut seeds = Vec::new();
    for i in &inputs {
        let bytes = std::fs::read(i).unwrap_or_else(|e| {
            eprintln!("cannot read {}: {e}", i.display());
            std::process::exit(2)
        });
        match gunzip(&bytes) {
            Some(t) => seeds.push((i.clone(), t)),
            None => {
                eprintln!("{} is not gzip", i.display());
                std::process::exit(2)
            }
        }
    }
    if seeds.is_empty() {
        eprintln!("no tarballs given");
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rng = Rng::new(seed);
    let (mut agree, mut rejected, mut disagree) = (0usize, 0usize, 0usize);
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    let mut shown = 0;
    let batch = 500;
    let mut done = 0;
    // The unmutated tarballs first: they must agree.
    let mut pending: Vec<(PathBuf, String)> = Vec::new();
    for (i, (name, t)) in seeds.iter().enumerate() {
        let p = dir.path().join(format!("seed-{i}.tgz"));
        std::fs::write(&p, gz(t)).expect("write");
        pending.push((p, format!("{} (unmutated)", name.display())));
    }
    while done < count || !pending.is_empty() {
        while pending.len() < batch && done < count {
            let (name, t) = &seeds[done % seeds.len()];
            let p = dir.path().join(format!("m{done}.tgz"));
            std::fs::write(&p, gz(&mutate(t, &mut rng))).expect("write");
            pending.push((p, format!("mutant {done} of {}", name.display())));
            done += 1;
        }
        let files: Vec<PathBuf> = pending.iter().map(|p| p.0.clone()).collect();
        let written = extract_all(&root, &files).unwrap_or_else(|e| {
            eprintln!("oracle failed: {e}");
            std::process::exit(2)
        });
        for ((path, what), npm) in pending.iter().zip(&written) {
            match judge(path, npm) {
                Verdict::Agree => agree += 1,
                Verdict::Rejected(rule) => {
                    rejected += 1;
                    *rules.entry(rule).or_default() += 1;
                }
                Verdict::Disagree(d) => {
                    disagree += 1;
                    if shown < 20 {
                        shown += 1;
                        eprintln!("DISAGREE {what}: {d}");
                    }
                    if let Some(k) = &keep {
                        let _ = std::fs::create_dir_all(k);
                        let _ = std::fs::copy(path, k.join(path.file_name().unwrap_or_default()));
                    }
                }
            }
            let _ = std::fs::remove_file(path);
        }
        pending.clear();
    }
    println!(
        "archives: {} ({} unmutated, {count} mutants, seed {seed})",
        agree + rejected + disagree,
        seeds.len()
    );
    println!("accepted-and-agree: {agree}");
    println!("rejected: {rejected}");
    println!("accepted-and-disagree: {disagree}");
    for (rule, n) in &rules {
        println!("  rejected by {rule}: {n}");
    }
    if disagree > 0 {
        std::process::exit(1);
    }
}
