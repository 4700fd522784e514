//! Issue #10, shapes 1 and 2, end to end with the real npm client: every crafted tarball of
//! `tests/oracle/support.rs` (pax records smuggling a path, global headers changing sizes or
//! paths, competing long-name sources, file entries named like directories, a second top-level
//! directory, colliding paths, links, ...) and every benign twin is published by a fake
//! upstream on loopback, then either rejected by `vetted certify` (exit 1, the rule named), or
//! certified, admitted, served by `vetted serve` and installed by `npm install`, and then the
//! files npm installed are exactly the files of vetted's content manifest (paths, bytes, modes).
mod gate_support;
mod serve_support;
#[path = "oracle/support.rs"]
mod support;

use gate_support::{Published, Upstream, Workspace, days_ago};
use serve_support::{Server, npm, npm_available};

const POLICY: &str = r#"
[[package]]
ecosystem = "npm"
name = "fixture-*"
criteria = ["safe-to-run"]
provenance = "if-present"
min-age = "1d"
"#;

fn say(o: &std::process::Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn umask_is_022() -> bool {
    std::process::Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0022")
}

#[test]
fn crafted_tarballs_are_rejected_or_installed_exactly_as_listed() {
    if !npm_available() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("npm is required under CI=true");
        }
        eprintln!(
            "SKIPPED crafted_tarballs_are_rejected_or_installed_exactly_as_listed: npm is not on PATH"
        );
        return;
    }
    let fixtures = support::fixtures_with(|name| {
        format!(r#"{{"name":"fixture-{name}","version":"1.0.0"}}"#).into_bytes()
    });
    let up = Upstream::start();
    for (name, tgz, _) in &fixtures {
        let mut p = Published::new(&format!("fixture-{name}"), "1.0.0", &days_ago(5));
        p.tarball = Some(tgz.clone());
        up.publish(p);
    }
    let ws = Workspace::new(up, POLICY);
    let mut accepted = Vec::new();
    let mut problems = Vec::new();
    for (name, tgz, expect) in &fixtures {
        let spec = format!("npm:fixture-{name}@1.0.0");
        let out = ws.vetted(&[
            "certify",
            &spec,
            "--criteria",
            "safe-to-run",
            "--who",
            "Tester <t@example.com>",
        ]);
        match out.status.code() {
            Some(1) => {
                let err = String::from_utf8_lossy(&out.stderr);
                if !err.contains("archive-") {
                    problems.push(format!("{name}: rejected without naming a rule: {err}"));
                }
                if *expect {
                    problems.push(format!("{name}: benign twin rejected: {err}"));
                }
                eprintln!("{name}: certify rejected it: {}", err.trim());
            }
            Some(0) => {
                if !*expect {
                    problems.push(format!("{name}: an attack was certified"));
                }
                let out = ws.admit(&spec, &[]);
                if out.status.code() != Some(0) {
                    problems.push(format!("{name}: certified but not admitted: {}", say(&out)));
                    continue;
                }
                accepted.push((name.to_string(), tgz.clone()));
            }
            _ => problems.push(format!("{name}: certify: {}", say(&out))),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        accepted.len() >= 8,
        "only {} fixtures accepted",
        accepted.len()
    );

    let server = Server::start(&ws.path("store"), &[]);
    let home = ws.path("npm-home");
    let project = ws.path("project");
    let mut args = vec!["install".to_string()];
    args.extend(accepted.iter().map(|(n, _)| format!("fixture-{n}@1.0.0")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let install = npm(&project, &home, &server.base, &args);
    assert!(install.status.success(), "{}", say(&install));
    let modes = umask_is_022();
    if !modes {
        eprintln!("the umask is not 0022: modes are not compared");
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, tgz) in &accepted {
        let p = dir.path().join(format!("{name}.tgz"));
        std::fs::write(&p, tgz).unwrap();
        let manifest = support::vetted_read(&p).expect("accepted above");
        let mut written =
            support::walk_dir(&project.join("node_modules").join(format!("fixture-{name}")));
        if !modes {
            for (k, e) in &manifest.entries {
                if let Some(w) = k
                    .strip_prefix("package/")
                    .and_then(|r| written.files.get_mut(r))
                {
                    w.1 = e.mode & 0o7777;
                }
            }
        }
        if let Err(d) = support::compare(&manifest, &written) {
            problems.push(format!(
                "{name}: npm installed other files than listed: {d}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
