use super::*;
use crate::content::manifest::BehaviourKind as K;

fn run(src: &str) -> Vec<Behaviour> {
    let (b, err) = analyse_str("m.js", src, &JsLimits::default());
    assert_eq!(err, None, "{src}");
    b
}

fn has(b: &[Behaviour], kind: K, value: &str) -> bool {
    b.iter()
        .any(|x| x.kind == kind && x.value.as_deref() == Some(value))
}

#[test]
fn concatenated_require_resolves() {
    let b = run("const cp = require('child'+'_process'); cp.exec('id');");
    assert!(has(&b, K::ProcessSpawn, "id"), "{b:#?}");
    assert!(has(&b, K::DynamicRequire, "child_process"), "{b:#?}");
}

#[test]
fn env_through_computed_member() {
    let b = run("const k = process['en'+'v'].AWS_SECRET_ACCESS_KEY;");
    let e = b.iter().find(|x| x.kind == K::EnvRead).expect("env-read");
    assert_eq!(e.value.as_deref(), Some("AWS_SECRET_ACCESS_KEY"));
    assert!(e.attributes.contains("credential"));
    assert_eq!((e.line, e.column), (1, 11));
}

#[test]
fn base64_url_is_decoded() {
    let b = run("fetch(atob('aHR0cHM6Ly9ldmlsLmV4YW1wbGUvcA=='));");
    assert!(has(&b, K::Url, "https://evil.example/p"), "{b:#?}");
    assert!(b.iter().any(|x| x.kind == K::Obfuscation));
    assert!(has(&b, K::Network, "fetch"));
}

#[test]
fn parse_error_is_recorded() {
    let (b, err) = analyse_str("m.js", "function (", &JsLimits::default());
    assert!(b.is_empty());
    assert!(err.is_some_and(|e| e.starts_with("1:")));
}

#[test]
fn zst_round_trip_is_bounded() {
    // A zstd frame of "hello" (raw block), made with the zstd tool.
    let frame = [
        0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x29, 0x00, 0x00, b'h', b'e', b'l', b'l', b'o', 0x66,
        0x0b, 0x2a, 0x7c,
    ];
    let r = zst_decompress(&frame, 100);
    if let Ok(d) = &r {
        assert_eq!(d, b"hello");
        assert!(zst_decompress(&frame, 2).is_err());
    }
    assert!(zst_decompress(b"not zstd", 100).is_err());
}

fn entry() -> Entry {
    Entry::blank_file(0)
}

/// The facts the analysis hands the review (from its own parse and scoping) are the facts the
/// review computes on its own from the same bytes: pairing and "no semantic change" cannot
/// depend on which of the two computed them.
#[test]
fn facts_from_the_analysis_parse_equal_the_reviews_own() {
    let sources = [
        // A Bun chunk: imports, re-exports, embedded module names, renamed locals.
        (
            "/$bunfs/root/chunk-a1.js",
            "import{a as q,b}from'/$bunfs/root/chunk-b2.js';export*from'/$bunfs/root/c.js';\
             function k(n){let t=n+1;return q(t,'/$bunfs/root/d.js')}var z=class{m(){return b}};\
             export{k as x,z};export default k",
        ),
        // A script: no module syntax, sloppy-mode binding names, a shebang.
        (
            "/$bunfs/root/cli.js",
            "#!/usr/bin/env node\nvar let_=1;function f(a){return a.x?.y+let_}module.exports=f",
        ),
        (
            "package/lib/x.cjs",
            "const cp=require('child_process');exports.run=c=>cp.exec(c)",
        ),
        (
            "package/lib/x.mjs",
            "export const u=`https://${host}/p`;export async function g(){}",
        ),
    ];
    for (path, src) in sources {
        let mut e = entry();
        let got = analyse_entry_with(&mut e, path, src.as_bytes(), &JsLimits::default(), true)
            .unwrap_or_else(|| panic!("{path}: no facts ({:?})", e.parse_error));
        let want = crate::diff::js::analyse(path, src);
        assert_eq!(got.error, None, "{path}");
        assert_eq!(got.canonical, want.canonical, "{path}: canonical form");
        assert_eq!(got.sketch, want.sketch, "{path}: sketch");
        assert_eq!(got.specs, want.specs, "{path}");
        assert_eq!(got.imports, want.imports, "{path}");
        assert_eq!(got.names, want.names, "{path}");
        assert_eq!(got.exports, want.exports, "{path}");
    }
}

/// Facts are only handed over when they were asked for, from a module that parsed cleanly and
/// is valid UTF-8; otherwise the review parses it itself (and falls back to text for code that
/// does not parse).
#[test]
fn no_facts_from_a_module_that_did_not_parse_or_is_not_utf8() {
    let l = JsLimits::default();
    let mut e = entry();
    assert!(analyse_entry_with(&mut e, "a.js", b"export const x = 1", &l, false).is_none());
    let mut e = entry();
    assert!(analyse_entry_with(&mut e, "a.js", b"function (", &l, true).is_none());
    assert!(e.parse_error.is_some());
    let mut e = entry();
    assert!(analyse_entry_with(&mut e, "a.js", b"var s = '\xff';", &l, true).is_none());
    // Analysed all the same (the analysis reads invalid UTF-8 lossily).
    assert_eq!(e.parse_error, None);
    let mut e = entry();
    assert!(analyse_entry_with(&mut e, "a.ts", b"export const x: number = 1", &l, true).is_none());
    let mut e = entry();
    assert!(analyse_entry_with(&mut e, "a.js", b"export const x = 1", &l, true).is_some());
}

#[test]
fn nesting_estimate_counts_brackets_and_chains_and_resets_at_separators() {
    use super::nesting_estimate as n;
    assert_eq!(n(b"x"), 0);
    assert_eq!(n(b"[[[1]]]"), 3);
    // Right-nested chains without brackets count each link.
    assert_eq!(n(b"a?b:c?d:e"), 4);
    assert_eq!(n(b"x=>y=>1"), 4);
    // A comma or semicolon ends the element or statement; a newline does not.
    assert_eq!(n(b"a=1;b=2;c=3"), 1);
    assert_eq!(n(b"a=\nb=\nc"), 2);
    assert_eq!(n(b"f(a=1,b=2)"), 2);
    // Keywords that nest, not identifiers that contain them.
    assert_eq!(n(b"if(a)if(b)c"), 3);
    assert_eq!(n(b"diff(a)"), 1);
    // A run of `/` is one level; slashes apart are one each.
    assert_eq!(n(b"a=//////////b"), 2);
    assert_eq!(n(b"a/b/c"), 2);
}

/// A long base64 string (an image inlined in a bundle) is mostly `/` runs: counted per byte it
/// looked 28,000 levels deep and Claude Code 2.1.112's cli.js was not analysed at all.
#[test]
fn a_base64_string_of_slash_runs_is_parsed_and_analysed() {
    let mut src = String::from("const img = \"");
    for _ in 0..4_000 {
        src.push_str("////////AAAA+/");
    }
    src.push_str("\";\nrequire('child_process').exec('id');\n");
    assert!(super::nesting_estimate(src.as_bytes()) < crate::limits::JS_NESTING);
    let (b, err) = analyse_str("cli.js", &src, &crate::limits::JsLimits::default());
    assert!(err.is_none(), "{err:?}");
    assert!(b.iter().any(|b| b.kind == K::ProcessSpawn), "{b:?}");
}

/// The estimate written plainly (a `match` per byte, a search of the keywords): the table
/// version must give the same number on any input.
fn nesting_estimate_reference(bytes: &[u8]) -> usize {
    const WORDS: [&[u8]; 16] = [
        b"if",
        b"else",
        b"for",
        b"while",
        b"do",
        b"with",
        b"new",
        b"case",
        b"await",
        b"yield",
        b"typeof",
        b"void",
        b"delete",
        b"in",
        b"of",
        b"instanceof",
    ];
    let mut outer: Vec<usize> = Vec::new();
    let (mut cur, mut max) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' | b'(' | b'{' => {
                outer.push(cur);
                cur += 1;
            }
            b']' | b')' | b'}' => cur = outer.pop().unwrap_or(0),
            b',' | b';' => cur = outer.last().map_or(0, |o| o + 1),
            b'/' if i > 0 && bytes[i - 1] == b'/' => {}
            b'?' | b'=' | b':' | b'!' | b'~' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|'
            | b'^' | b'<' | b'>' => cur += 1,
            b'a'..=b'z' => {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                let word = &bytes[start..i];
                let before = start.checked_sub(1).map(|j| bytes[j]);
                let ident =
                    before.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$');
                if !ident && WORDS.contains(&word) {
                    cur += 1;
                }
                max = max.max(cur);
                continue;
            }
            _ => {}
        }
        max = max.max(cur);
        i += 1;
    }
    max
}

#[test]
fn nesting_estimate_agrees_with_its_reference_on_generated_sources() {
    // Pieces that exercise every class: brackets, separators, operators, keywords, words that
    // contain keywords, identifier characters before a keyword, newlines, non-ASCII.
    const PIECES: &[&str] = &[
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        ",",
        ";",
        "?",
        ":",
        "=",
        "=>",
        "!",
        "+",
        "<",
        ">",
        "if",
        "else",
        "for",
        "in",
        "of",
        "instanceof",
        "typeof",
        "new",
        "diff",
        "ifx",
        "_if",
        "$in",
        "9do",
        "x",
        "A",
        "\n",
        " ",
        "é",
        "\"s\"",
        "void",
        "await",
        "yield",
        "delete",
        "case",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..2_000 {
        let mut src = String::new();
        let len = (seed % 200) as usize;
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            src.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
        }
        assert_eq!(
            nesting_estimate(src.as_bytes()),
            nesting_estimate_reference(src.as_bytes()),
            "{src:?}"
        );
    }
}
