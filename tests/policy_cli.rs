//! `vetted fmt --policy`: canonical form, `--check`, and every error at once with its line.
use std::process::Command;

fn vetted(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .output()
        .expect("run")
}

#[test]
fn fmt_check_rewrite_and_diagnostics() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("vetted.toml");
    let path = p.to_str().expect("utf8");
    std::fs::write(&p, "# ours\n[[package]]\nname = \"a\"\necosystem = \"npm\"\ncriteria = [ \"safe-to-run\" ]\nprovenance = \"not-required\"\n").expect("write");
    let check = vetted(&["fmt", "--policy", path, "--check"]);
    assert_eq!(check.status.code(), Some(1), "not canonical");
    assert!(String::from_utf8_lossy(&check.stderr).contains("not in canonical form"));
    assert_eq!(vetted(&["fmt", "--policy", path]).status.code(), Some(0));
    assert_eq!(
        vetted(&["fmt", "--policy", path, "--check"]).status.code(),
        Some(0),
        "canonical after fmt"
    );
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(
        text.starts_with("# ours\n\n[[package]]\necosystem = \"npm\"\nname = \"a\"\n"),
        "{text}"
    );

    std::fs::write(&p, "[[package]]\necosystem = \"npm\"\nname = \"a\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"sometimes\"\nmin-age = \"soon\"\n").expect("write");
    let bad = vetted(&["fmt", "--policy", path, "--check"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("vetted.toml:5:") && err.contains("unknown provenance requirement"),
        "{err}"
    );
    assert!(
        err.contains("vetted.toml:6:") && err.contains("invalid min-age"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&p).expect("read").lines().count(),
        6,
        "an invalid file is not rewritten"
    );
}
