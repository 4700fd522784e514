//! Helpers shared by the integration tests: where the public corpus is, and running the binary.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The public corpus (`../shared/corpus` or `$VETTED_CORPUS`), or `None` with a message on stderr
/// when it is absent (the test then returns early: CI always has it).
pub fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("VETTED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: corpus not found at {} (set VETTED_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Run the vetted binary with `args`.
pub fn vetted<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run vetted")
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The SLSA corpus folder (`$VETTED_CORPUS/slsa` or `../shared/corpus/slsa`), or `None` with a
/// message on stderr when it is absent.
pub fn slsa_corpus(test: &str) -> Option<PathBuf> {
    let root = std::env::var_os("VETTED_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let slsa = root.join("slsa");
    if slsa.join("cases.json").is_file() {
        Some(slsa)
    } else {
        eprintln!(
            "{test}: skipped: the SLSA corpus is not at {} (set VETTED_CORPUS)",
            slsa.display()
        );
        None
    }
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `vetted ARGS` in `cwd`.
pub fn vetted_in(cwd: &Path, args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run vetted");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Split a command line as a POSIX shell would for the forms the corpus uses: words separated
/// by spaces, single- and double-quoted strings (possibly empty).
pub fn split_command(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, ' ' | '\t') => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The cases of `cases.json`.
pub fn cases(corpus: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(corpus.join("cases.json")).expect("cases.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    doc["cases"].as_array().cloned().unwrap_or_default()
}
