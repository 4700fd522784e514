//! Diff tests: every signal from a change that should raise it (and none from no change),
//! snapshots of what a person reads, the JSON shape, and the `vetted diff` command.
mod ledger_support;

use ledger_support::{claude, manifest, write};
use vetted::content::manifest::{ContentManifest, ExecutableFormat};
use vetted::diff::{self, ReviewReport, SignalKind};

fn report(old: &ContentManifest, new: &ContentManifest) -> ReviewReport {
    diff::diff("old.json", old, "new.json", new)
}

fn kinds(r: &ReviewReport) -> Vec<(SignalKind, String)> {
    r.signals
        .iter()
        .map(|s| (s.kind, s.subject.clone()))
        .collect()
}

type Change = fn(ledger_support::ManifestBuilder) -> ledger_support::ManifestBuilder;

#[test]
fn each_signal_is_raised_by_its_change() {
    const MIB: u64 = 1 << 20;
    // (what, change to the old build, change to the new build, expected signal, subject)
    let cases: Vec<(&str, Change, Change, SignalKind, &str)> = vec![
        (
            "install script added",
            |b| b,
            |b| b.script("postinstall", "node x.js"),
            SignalKind::InstallScriptAdded,
            "postinstall",
        ),
        (
            "install script changed",
            |b| b.script("install", "a"),
            |b| b.script("install", "b"),
            SignalKind::InstallScriptChanged,
            "install",
        ),
        (
            "install script removed",
            |b| b.script("preinstall", "a"),
            |b| b,
            SignalKind::InstallScriptRemoved,
            "preinstall",
        ),
        (
            "dependency added",
            |b| b,
            |b| b.dep("dependencies", "left-pad", "^1"),
            SignalKind::DependencyAdded,
            "dependencies:left-pad",
        ),
        (
            "peer dependency added",
            |b| b,
            |b| b.dep("peerDependencies", "react", "*"),
            SignalKind::DependencyAdded,
            "peerDependencies:react",
        ),
        (
            "dependency removed",
            |b| b.dep("devDependencies", "x", "1"),
            |b| b,
            SignalKind::DependencyRemoved,
            "devDependencies:x",
        ),
        (
            "dependency changed",
            |b| b.dep("dependencies", "x", "1"),
            |b| b.dep("dependencies", "x", "2"),
            SignalKind::DependencyChanged,
            "dependencies:x",
        ),
        (
            "bin added",
            |b| b,
            |b| b.bin("helper", "helper.js"),
            SignalKind::BinChanged,
            "helper",
        ),
        (
            "bin retargeted",
            |b| b,
            |b| b.bin("claude", "other.js"),
            SignalKind::BinChanged,
            "claude",
        ),
        (
            "elf added",
            |b| b,
            |b| {
                b.file("package/vendor/rg", b"\x7fELF", 0o644)
                    .exec("package/vendor/rg", ExecutableFormat::Elf)
            },
            SignalKind::ExecutableAdded,
            "package/vendor/rg",
        ),
        (
            "exec bit added",
            |b| b.file("package/run.sh", b"x", 0o644),
            |b| b.file("package/run.sh", b"x", 0o755),
            SignalKind::ExecutableAdded,
            "package/run.sh",
        ),
        (
            "executable changed",
            |b| {
                b.file("package/rg", b"v1", 0o755)
                    .exec("package/rg", ExecutableFormat::MachO)
            },
            |b| {
                b.file("package/rg", b"v2", 0o755)
                    .exec("package/rg", ExecutableFormat::MachO)
            },
            SignalKind::ExecutableChanged,
            "package/rg",
        ),
        (
            "executable removed",
            |b| {
                b.file("package/rg.exe", b"MZ", 0o644)
                    .exec("package/rg.exe", ExecutableFormat::Pe)
            },
            |b| b,
            SignalKind::ExecutableRemoved,
            "package/rg.exe",
        ),
        (
            "native addon",
            |b| b,
            |b| {
                b.file("package/build/x.node", b"\x7fELF", 0o644)
                    .exec("package/build/x.node", ExecutableFormat::Elf)
            },
            SignalKind::NativeAddonAdded,
            "package/build/x.node",
        ),
        (
            "url added",
            |b| b,
            |b| b.urls("package/cli.js", &["https://new.example/path"]),
            SignalKind::UrlAdded,
            "https://new.example/path",
        ),
        (
            "url removed",
            |b| b.urls("package/cli.js", &["https://old.example/"]),
            |b| b,
            SignalKind::UrlRemoved,
            "https://old.example/",
        ),
        (
            "env var added",
            |b| b,
            |b| b.env("package/cli.js", &["GITHUB_TOKEN"]),
            SignalKind::EnvVarAdded,
            "GITHUB_TOKEN",
        ),
        (
            "capability in a changed file",
            |b| b,
            |b| b.caps("package/cli.js", &["eval"]),
            SignalKind::CapabilityAdded,
            "eval",
        ),
        (
            "capability in a new file",
            |b| b,
            |b| {
                b.file("package/x.js", b"x", 0o644)
                    .caps("package/x.js", &["child_process"])
            },
            SignalKind::CapabilityAdded,
            "child_process",
        ),
        (
            "file size jump",
            |b| b.sized("package/big.js", "v1", MIB),
            |b| b.sized("package/big.js", "v2", 3 * MIB),
            SignalKind::SizeJump,
            "package/big.js",
        ),
        (
            "total size jump",
            |b| b,
            |b| b.sized("package/blob.bin", "blob", 2 * MIB),
            SignalKind::SizeJump,
            "(total)",
        ),
    ];
    for (what, old_change, new_change, kind, subject) in cases {
        let old = old_change(claude("1.0.0", "old")).build();
        let new = new_change(claude("1.0.0", "new")).build();
        let r = report(&old, &new);
        assert!(
            kinds(&r).contains(&(kind, subject.to_string())),
            "{what}: expected {} {subject}, got {:?}",
            kind.name(),
            kinds(&r)
        );
        // And the same build compared with itself raises nothing.
        let same = report(&new, &new);
        assert!(
            same.signals.is_empty() && same.identical,
            "{what}: {:?}",
            kinds(&same)
        );
    }
}

#[test]
fn thresholds_and_markers_are_what_the_docs_say() {
    const MIB: u64 = 1 << 20;
    // Doubling a small file is not a size jump; growing a big one a little is not either.
    for (a, b) in [(1000, 5000), (10 * MIB, 15 * MIB), (MIB, 2 * MIB)] {
        let old = manifest("p", "1", "o").sized("f", "1", a).build();
        let new = manifest("p", "1", "n").sized("f", "2", b).build();
        assert_eq!(
            report(&old, &new).count(SignalKind::SizeJump),
            0,
            "{a} -> {b}"
        );
    }
    let old = manifest("p", "1", "o").sized("f", "1", MIB).build();
    let new = manifest("p", "1", "n")
        .sized("f", "2", 2 * MIB + MIB / 2)
        .build();
    assert_eq!(
        report(&old, &new).count(SignalKind::SizeJump),
        2,
        "file and total"
    );

    let new = claude("1", "n")
        .env("package/cli.js", &["NPM_AUTH", "PATH", "db_password"])
        .build();
    let r = report(&claude("1", "o").build(), &new);
    let marked: Vec<(&str, bool)> = r
        .signals
        .iter()
        .filter(|s| s.kind == SignalKind::EnvVarAdded)
        .map(|s| (s.subject.as_str(), s.note.is_some()))
        .collect();
    assert_eq!(
        marked,
        [("NPM_AUTH", true), ("PATH", false), ("db_password", true)]
    );

    // A URL on a host already used is not a new host.
    let new = claude("1", "n")
        .urls(
            "package/cli.js",
            &["https://api.anthropic.com/v2", "https://x.example:8443/a"],
        )
        .build();
    let r = report(&claude("1", "o").build(), &new);
    let notes: Vec<(&str, Option<&str>)> = r
        .signals
        .iter()
        .filter(|s| s.kind == SignalKind::UrlAdded)
        .map(|s| (s.subject.as_str(), s.note.as_deref()))
        .collect();
    assert_eq!(
        notes,
        [
            ("https://api.anthropic.com/v2", None),
            ("https://x.example:8443/a", Some("new host"))
        ]
    );
    assert_eq!(
        diff::url_host("wss://u:p@[::1]:80/x").as_deref(),
        Some("::1")
    );
    assert_eq!(diff::url_host("not a url"), None);
}

#[test]
fn file_changes_list_sizes_modes_and_digests() {
    let old = manifest("p", "1", "o")
        .file("a", b"same", 0o644)
        .file("b", b"old", 0o644)
        .file("gone", b"x", 0o644)
        .symlink("link", "a")
        .build();
    let new = manifest("p", "1", "n")
        .file("a", b"same", 0o644)
        .file("b", b"newer", 0o600)
        .file("fresh", b"y", 0o644)
        .symlink("link", "b")
        .build();
    let r = report(&old, &new);
    assert_eq!(r.files.unchanged, 1);
    assert_eq!(
        r.files
            .added
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["fresh"]
    );
    assert_eq!(
        r.files
            .removed
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["gone"]
    );
    let changed: Vec<(&str, Vec<diff::ChangedAspect>)> = r
        .files
        .changed
        .iter()
        .map(|c| (c.new_path.as_str(), c.changed.clone()))
        .collect();
    use diff::ChangedAspect::*;
    assert_eq!(
        changed,
        [("b", vec![Size, Mode, Content]), ("link", vec![LinkTarget])]
    );
}

/// The report a reviewer reads for a typical risky update.
fn risky_update() -> ReviewReport {
    let old = claude("2.1.0", "old")
        .file("package/vendor/ripgrep/x64-linux/rg", b"rg-1", 0o755)
        .exec("package/vendor/ripgrep/x64-linux/rg", ExecutableFormat::Elf)
        .file("package/README.md", b"readme", 0o644)
        .build();
    let new = claude("2.1.1", "new")
        .file("package/vendor/ripgrep/x64-linux/rg", b"rg-2", 0o755)
        .exec("package/vendor/ripgrep/x64-linux/rg", ExecutableFormat::Elf)
        .file(
            "package/install.js",
            b"require('child_process').exec(...)",
            0o644,
        )
        .caps("package/install.js", &["child_process"])
        .urls(
            "package/install.js",
            &["https://telemetry.evil.example/collect"],
        )
        .env("package/install.js", &["NPM_TOKEN"])
        .script("postinstall", "node install.js")
        .dep("dependencies", "node-fetch", "^3.3.2")
        .build();
    diff::diff(
        "ledger:@anthropic-ai/claude-code@2.1.0",
        &old,
        "claude-code-2.1.1.manifest.json",
        &new,
    )
}

fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("VETTED_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with VETTED_UPDATE_SNAPSHOTS=1 to create it)",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs (VETTED_UPDATE_SNAPSHOTS=1 to accept)"
    );
}

#[test]
fn human_report_snapshot() {
    let text = diff::render_human(&risky_update(), false);
    assert!(!text.contains('\x1b'), "no colour when not asked");
    snapshot("diff-human.txt", &text);
    assert!(diff::render_human(&risky_update(), true).contains("\x1b[1;33m"));
}

#[test]
fn markdown_report_snapshot() {
    snapshot(
        "diff-markdown.md",
        &diff::render_markdown(&risky_update(), None),
    );
}

#[test]
fn identical_builds_render_as_identical() {
    let m = claude("2.1.0", "same").build();
    let r = report(&m, &m);
    assert!(r.identical && r.signals.is_empty());
    assert!(
        diff::render_human(&r, false)
            .contains("identical: the artifacts are byte-for-byte the same")
    );
    assert!(diff::render_markdown(&r, None).contains("**Identical**"));
}

#[test]
fn json_report_has_the_documented_shape() {
    let v = serde_json::to_value(risky_update()).expect("json");
    assert_eq!(v["schema"], "vetted.diff/v2");
    for key in ["old", "new", "identical", "signals", "files"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in [
        "label",
        "name",
        "version",
        "sha512",
        "sha256",
        "entries",
        "unpacked_bytes",
    ] {
        assert!(v["new"].get(key).is_some(), "missing new.{key}");
    }
    let first = &v["signals"][0];
    assert_eq!(first["kind"], "install-script-added");
    assert_eq!(first["subject"], "postinstall");
    assert_eq!(first["new"], "node install.js");
    assert_eq!(first["files"][0], "package/package.json");
    let added = &v["files"]["added"][0];
    assert_eq!(added["path"], "package/install.js");
    assert_eq!(added["kind"], "file");
    assert_eq!(added["mode"], "0644");
    assert!(
        added["sha256"]
            .as_str()
            .is_some_and(|s| s.starts_with("sha256:"))
    );
    let changed = &v["files"]["changed"][0];
    assert_eq!(changed["changed"], serde_json::json!(["content"]));
}

#[test]
fn diff_command_reads_manifests_and_the_ledger() {
    use vetted::cli::{Outcome, main_from_args};
    let dir = tempfile::tempdir().expect("tempdir");
    let old = claude("2.1.0", "old").build();
    let new = claude("2.1.1", "new").build();
    write(
        dir.path(),
        "old.json",
        &serde_json::to_string(&old).expect("json"),
    );
    write(
        dir.path(),
        "new.json",
        &serde_json::to_string(&new).expect("json"),
    );
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let ledger_dir = p("ledger");
    for flag in [None, Some("--json"), Some("--markdown")] {
        let mut args = vec![
            "vetted".to_string(),
            "diff".into(),
            p("old.json"),
            p("new.json"),
        ];
        args.extend(flag.map(String::from));
        assert_eq!(main_from_args(args), Outcome::Success, "{flag:?}");
    }
    // An audited build from the ledger.
    let at = vetted::clock::FixedClock("2026-11-20T10:00:00Z".parse().expect("ts"));
    vetted::ledger::certify(
        dir.path().join("ledger").as_path(),
        vetted::ledger::CertifyRequest {
            package: vetted::ledger::PackageId::parse_spec("npm:@anthropic-ai/claude-code@2.1.0")
                .expect("spec"),
            manifest: old,
            criteria: [vetted::ledger::CriterionName::new("safe-to-run").expect("c")].into(),
            who: "Alice".into(),
            notes: None,
            delta_from: None,
            review: None,
        },
        &at,
    )
    .expect("certify");
    let args = [
        "vetted",
        "diff",
        "ledger:@anthropic-ai/claude-code@2.1.0",
        &p("new.json"),
        "--ledger",
        &ledger_dir,
    ];
    assert_eq!(main_from_args(args), Outcome::Success);
    // Operational errors: no such audited build, missing file, artifact operand (needs issue 4).
    let args = [
        "vetted",
        "diff",
        "ledger:@anthropic-ai/claude-code@9.9.9",
        &p("new.json"),
        "--ledger",
        &ledger_dir,
    ];
    assert_eq!(main_from_args(args), Outcome::Error);
    assert_eq!(
        main_from_args(["vetted", "diff", &p("missing.json"), &p("new.json")]),
        Outcome::Error
    );
    assert_eq!(
        main_from_args(["vetted", "diff", &p("x.tgz"), &p("new.json")]),
        Outcome::Error
    );
}

#[test]
fn review_command_exit_codes() {
    use vetted::cli::{Outcome, main_from_args};
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger_dir = dir.path().join("ledger").to_string_lossy().into_owned();
    let old = claude("2.1.0", "old").build();
    let new = claude("2.1.1", "new")
        .script("postinstall", "node x.js")
        .build();
    write(
        dir.path(),
        "old.json",
        &serde_json::to_string(&old).expect("json"),
    );
    write(
        dir.path(),
        "new.json",
        &serde_json::to_string(&new).expect("json"),
    );
    let p = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let spec0 = "npm:@anthropic-ai/claude-code@2.1.0";
    let spec1 = "npm:@anthropic-ai/claude-code@2.1.1";
    let certify = |spec: &str, file: &str, extra: &[&str]| {
        let mut a = vec![
            "vetted",
            "certify",
            spec,
            "--criteria",
            "safe-to-run",
            "--who",
            "Alice",
            "--manifest",
            file,
            "--ledger",
            &ledger_dir,
        ];
        a.extend_from_slice(extra);
        main_from_args(a)
    };
    let review = |spec: &str, file: &str| {
        main_from_args([
            "vetted",
            "review",
            spec,
            "--manifest",
            file,
            "--ledger",
            &ledger_dir,
            "--markdown",
        ])
    };
    // No ledger yet: an operational error, not a verdict.
    assert_eq!(review(spec0, &p("old.json")), Outcome::Error);
    assert_eq!(certify(spec0, &p("old.json"), &[]), Outcome::Success);
    assert_eq!(review(spec0, &p("old.json")), Outcome::Success);
    assert_eq!(review(spec1, &p("new.json")), Outcome::Rejected);
    // The manifest is of 2.1.1, not 2.1.0: certify refuses.
    assert_eq!(certify(spec0, &p("new.json"), &[]), Outcome::Error);
    assert_eq!(
        certify(spec1, &p("new.json"), &["--delta-from", "2.1.0"]),
        Outcome::Success
    );
    assert_eq!(review(spec1, &p("new.json")), Outcome::Success);
    // Without --manifest the build is fetched: an unreachable registry is an operational error
    // (exit 2), never a verdict. (Loopback port 9 refuses connections: no network is needed.)
    assert_eq!(
        main_from_args([
            "vetted",
            "review",
            spec1,
            "--ledger",
            &ledger_dir,
            "--registry",
            "http://127.0.0.1:9",
            "--retries",
            "0",
            "--cache-dir",
            &ledger_dir,
        ]),
        Outcome::Error
    );
}

#[test]
fn hostile_text_cannot_break_the_renderings() {
    let old = claude("1", "o").build();
    let new = claude("1", "n")
        .script("postinstall", "evil | `x` ``y``\n| injected | row |\x1b[2J")
        .file("package/a|b`\x1b[31m.js", b"x", 0o644)
        .build();
    let r = report(&old, &new);
    let human = diff::render_human(&r, false);
    assert!(
        !human.contains('\x1b'),
        "escape sequences from input reach the terminal"
    );
    let md = diff::render_markdown(&r, None);
    assert!(!md.contains('\x1b'));
    // Every table row is one line whose cell separators are only the unescaped pipes we wrote.
    for line in md
        .lines()
        .filter(|l| l.starts_with('|') && l.contains("postinstall"))
    {
        let unescaped = line
            .match_indices('|')
            .filter(|(i, _)| *i == 0 || &line[i - 1..*i] != "\\")
            .count();
        assert_eq!(unescaped, 5, "{line}");
    }
    assert!(!md.lines().any(|l| l.starts_with("| injected")), "{md}");
}

/// Modules embedded in one executable (`bin!/chunk-*.js`, named by content hash) are compared
/// with the executable's other modules for capabilities: renamed chunks that use what the old
/// chunks used raise nothing; a capability no old module used is raised once, naming the modules.
#[test]
fn embedded_module_capabilities_are_compared_per_executable() {
    use vetted::content::manifest::EntryKind;
    let embed = |mut m: ContentManifest, path: &str, caps: &[&str]| {
        let mut e = m.entries.values().next().expect("an entry").clone();
        e.kind = EntryKind::Embedded;
        e.signals = Default::default();
        e.signals.capabilities = caps.iter().map(|c| c.to_string()).collect();
        e.sha256 = Some(vetted::digest::sha256(path.as_bytes()));
        m.entries.insert(path.to_string(), e);
        m
    };
    let old = manifest("a", "1.0.0", "o")
        .file("package/claude", b"\x7fELF old", 0o755)
        .build();
    let old = embed(
        old,
        "package/claude!/$bunfs/root/chunk-aaaa.js",
        &["child_process"],
    );
    let new = manifest("a", "1.0.1", "n")
        .file("package/claude", b"\x7fELF new", 0o755)
        .build();
    let new = embed(
        new,
        "package/claude!/$bunfs/root/chunk-bbbb.js",
        &["child_process"],
    );
    let quiet = diff::diff("old", &old, "new", &new);
    assert_eq!(
        quiet.count(SignalKind::CapabilityAdded),
        0,
        "a renamed chunk using child_process is not news"
    );

    let new = embed(
        new,
        "package/claude!/$bunfs/root/chunk-cccc.js",
        &["eval", "child_process"],
    );
    let new = embed(new, "package/claude!/$bunfs/root/chunk-dddd.js", &["eval"]);
    let loud = diff::diff("old", &old, "new", &new);
    let caps: Vec<_> = loud
        .signals
        .iter()
        .filter(|s| s.kind == SignalKind::CapabilityAdded)
        .collect();
    assert_eq!(caps.len(), 1, "{caps:?}");
    assert_eq!(caps[0].subject, "eval");
    assert_eq!(
        caps[0].files,
        [
            "package/claude!/$bunfs/root/chunk-cccc.js",
            "package/claude!/$bunfs/root/chunk-dddd.js"
        ]
    );
}
