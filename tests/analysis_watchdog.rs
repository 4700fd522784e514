//! A module that keeps the parser busy for hours (oxc's export resolution compares every local
//! export with every import) is bounded by a watchdog: recorded as not analysed, and after two
//! overruns nothing more is analysed in the process. Its own test binary, since the count of
//! overruns is process-wide.
use std::io::Write;
use vetted::content::{InspectOptions, inspect_file};
use vetted::limits::Limits;

fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&b.into_inner().unwrap()).unwrap();
    e.finish().unwrap()
}

/// `import{a0,…}from"./x.mjs";export{a0,…};` with `n` names: n² string comparisons in the
/// parser (50,000 names: about 6 s in a release build, far longer in a debug one).
fn quadratic(n: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let names = names.join(",");
    format!("import{{{names}}}from\"./x.mjs\";export{{{names}}};\n").into_bytes()
}

#[test]
fn module_that_keeps_the_parser_busy_is_bounded_and_recorded_as_not_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.tgz");
    let hostile = quadratic(50_000);
    std::fs::write(
        &path,
        tgz(&[
            ("package/package.json", br#"{"name":"q","version":"1.0.0"}"#),
            (
                "package/a-first.js",
                b"require('child_process').exec('id');\n",
            ),
            ("package/b.mjs", &hostile),
            ("package/c.mjs", &hostile),
            ("package/d.mjs", &hostile),
            (
                "package/e-last.js",
                b"require('child_process').exec('id');\n",
            ),
        ]),
    )
    .unwrap();
    let mut limits = Limits::default();
    limits.js.millis = 100;
    let m = inspect_file(
        &path,
        &InspectOptions {
            limits,
            expect_archive: true,
        },
    )
    .expect("inspected");
    let e = |p: &str| &m.entries[p];
    // Analysed before the overruns.
    assert!(e("package/a-first.js").parse_error.is_none());
    assert!(!e("package/a-first.js").behaviours.is_empty());
    for p in ["package/b.mjs", "package/c.mjs"] {
        let pe = e(p).parse_error.as_deref().unwrap_or_default();
        assert!(pe.contains("did not finish within"), "{p}: {pe:?}");
        assert!(e(p).analysis_truncated, "{p}");
    }
    // Past two overruns, nothing more is analysed (each says why).
    for p in ["package/d.mjs", "package/e-last.js"] {
        let pe = e(p).parse_error.as_deref().unwrap_or_default();
        assert!(
            pe.contains("2 earlier analyses did not finish"),
            "{p}: {pe:?}"
        );
        assert!(e(p).analysis_truncated, "{p}");
    }

    // The review does not parse such a module again (it would overrun with no watchdog): it
    // is compared as text and listed for the reviewer to read.
    let old_path = dir.path().join("old.tgz");
    std::fs::write(
        &old_path,
        tgz(&[
            ("package/package.json", br#"{"name":"q","version":"0.9.0"}"#),
            ("package/b.mjs", b"export const x = 1;\n"),
        ]),
    )
    .unwrap();
    let opts = InspectOptions {
        limits,
        expect_archive: true,
    };
    let old = inspect_file(&old_path, &opts).expect("old inspected");
    let (wo, wn) = vetted::diff::delta::wanted_paths(&old, &m);
    let oc = vetted::diff::contents::read(&old_path, &old, &wo);
    let nc = vetted::diff::contents::read(&path, &m, &wn);
    let r = vetted::diff::diff_with("old", &old, Some(&oc), "new", &m, Some(&nc));
    let b = r
        .files
        .changed
        .iter()
        .find(|c| c.new_path == "package/b.mjs")
        .and_then(|c| c.code.clone())
        .expect("b.mjs compared");
    assert_eq!(b.compared_as, Some("text"));
    assert!(
        b.note.as_deref().is_some_and(|n| n.contains("overran")),
        "{b:?}"
    );
    let gaps: Vec<&str> = r
        .review
        .analysis_gaps
        .iter()
        .map(|g| g.path.as_str())
        .collect();
    for p in ["package/b.mjs", "package/c.mjs", "package/d.mjs"] {
        assert!(gaps.contains(&p), "{p} not in {gaps:?}");
    }
}
