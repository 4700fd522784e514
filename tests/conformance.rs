//! The Sigstore client conformance protocol, run inside `cargo test` over the corpus's 70 verify
//! cases, each twice (artifact path and sha256 digest): exactly what
//! `../shared/tools/conformance-run` does. `_fail` cases must exit 1; the others must exit 0.
mod common;
use sha2::Digest as _;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

#[test]
fn conformance_suite_verdicts() {
    let Some(corpus) = common::corpus("conformance_suite_verdicts") else {
        return;
    };
    let cases = corpus.join("sigstore-conformance/bundle-verify");
    let mut dirs: Vec<_> = std::fs::read_dir(&cases)
        .expect("read cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 70, "the suite has 70 verify cases");
    let mut wrong = Vec::new();
    for case in &dirs {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let want_ok = !name.ends_with("_fail");
        let artifact = if case.join("artifact").exists() {
            case.join("artifact")
        } else {
            cases.join("a.txt")
        };
        for by_digest in [false, true] {
            let mut args: Vec<String> = vec!["verify-bundle".into(), "--bundle".into()];
            args.push(case.join("bundle.sigstore.json").display().to_string());
            if case.join("key.pub").exists() {
                args.extend(["--key".into(), case.join("key.pub").display().to_string()]);
            } else {
                let read = |f: &str, default: &str| {
                    std::fs::read_to_string(case.join(f))
                        .map(|s| s.trim().to_string())
                        .unwrap_or(default.to_string())
                };
                args.extend(["--certificate-identity".into(), read("identity", IDENTITY)]);
                args.extend(["--certificate-oidc-issuer".into(), read("issuer", ISSUER)]);
            }
            if case.join("trusted_root.json").exists() {
                args.extend([
                    "--trusted-root".into(),
                    case.join("trusted_root.json").display().to_string(),
                ]);
            }
            if by_digest {
                let bytes = std::fs::read(&artifact).expect("artifact");
                args.push(format!(
                    "sha256:{}",
                    hex::encode(sha2::Sha256::digest(&bytes))
                ));
            } else {
                args.push(artifact.display().to_string());
            }
            let out = common::vetted(&args);
            let code = out.status.code();
            let ok = if want_ok {
                code == Some(0)
            } else {
                code == Some(1)
            };
            if !ok {
                wrong.push(format!(
                    "{name} digest={by_digest}: exit {code:?}: {}",
                    common::stderr(&out).trim()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}
