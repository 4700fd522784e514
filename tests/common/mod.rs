//! Helpers shared by the integration tests: where the public corpus is, and running the binary.
#![allow(dead_code)]
use std::path::PathBuf;
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
