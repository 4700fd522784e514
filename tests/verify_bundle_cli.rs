//! `vetted verify-bundle` from the outside: identity policy, GitHub claim flags, bad input, JSON.
mod common;
use common::{stderr, vetted};
use std::path::{Path, PathBuf};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn happy(corpus: &Path) -> (PathBuf, PathBuf) {
    let cases = corpus.join("sigstore-conformance/bundle-verify");
    (
        cases.join("happy-path-v0.3/bundle.sigstore.json"),
        cases.join("a.txt"),
    )
}

fn run(bundle: &Path, artifact: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["verify-bundle", "--bundle", bundle.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    args.push(artifact);
    vetted(args)
}

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn exact_identity_rejects_prefix_suffix_and_case() {
    let Some(corpus) = common::corpus("exact_identity") else {
        return;
    };
    let (bundle, artifact) = happy(&corpus);
    let a = artifact.to_str().expect("utf8");
    let ok = run(
        &bundle,
        a,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code(&ok), Some(0), "{}", stderr(&ok));
    let prefix = &IDENTITY[..IDENTITY.len() - 1];
    let suffix = format!("{IDENTITY}x");
    let upper = IDENTITY.to_uppercase();
    for wrong in [prefix, suffix.as_str(), upper.as_str()] {
        let out = run(
            &bundle,
            a,
            &[
                "--certificate-identity",
                wrong,
                "--certificate-oidc-issuer",
                ISSUER,
            ],
        );
        assert_eq!(code(&out), Some(1), "identity {wrong} must be rejected");
        let err = stderr(&out);
        assert!(
            err.contains("certificate-identity") && err.contains(wrong) && err.contains(IDENTITY),
            "{err}"
        );
    }
}

#[test]
fn issuer_must_match_exactly() {
    let Some(corpus) = common::corpus("issuer_exact") else {
        return;
    };
    let (bundle, artifact) = happy(&corpus);
    let a = artifact.to_str().expect("utf8");
    for wrong in [
        "https://token.actions.githubusercontent.co",
        "https://token.actions.githubusercontent.com/",
        "https://accounts.google.com",
    ] {
        let out = run(
            &bundle,
            a,
            &[
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                wrong,
            ],
        );
        assert_eq!(code(&out), Some(1), "issuer {wrong} must be rejected");
        assert!(
            stderr(&out).contains("certificate-oidc-issuer"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn regexps_are_anchored() {
    let Some(corpus) = common::corpus("regexps_are_anchored") else {
        return;
    };
    let (bundle, artifact) = happy(&corpus);
    let a = artifact.to_str().expect("utf8");
    let pass = run(
        &bundle,
        a,
        &[
            "--certificate-identity-regexp",
            "https://github\\.com/sigstore-conformance/.*",
            "--certificate-oidc-issuer-regexp",
            "https://token\\.actions\\.githubusercontent\\.com",
        ],
    );
    assert_eq!(code(&pass), Some(0), "{}", stderr(&pass));
    // Each of these would match somewhere inside the string, but not the whole of it.
    for (id_re, iss_re) in [
        ("github\\.com/sigstore-conformance/.*", ".*"),
        ("https://github\\.com/sigstore-conformance", ".*"),
        (".*", "token\\.actions"),
        (".*", "x|token\\.actions\\.githubusercontent\\.com"),
    ] {
        let out = run(
            &bundle,
            a,
            &[
                "--certificate-identity-regexp",
                id_re,
                "--certificate-oidc-issuer-regexp",
                iss_re,
            ],
        );
        assert_eq!(
            code(&out),
            Some(1),
            "{id_re} / {iss_re} must not match: {}",
            stderr(&out)
        );
    }
}

#[test]
fn github_claim_flags_pass_when_right_and_reject_when_wrong() {
    let Some(corpus) = common::corpus("github_claim_flags") else {
        return;
    };
    let (bundle, artifact) = happy(&corpus);
    let a = artifact.to_str().expect("utf8");
    let claims = [
        (
            "--certificate-github-workflow-repository",
            "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
            "sigstore-conformance/other",
        ),
        (
            "--certificate-github-workflow-ref",
            "refs/heads/main",
            "refs/heads/mai",
        ),
        (
            "--certificate-github-workflow-trigger",
            "workflow_dispatch",
            "push",
        ),
        (
            "--certificate-github-workflow-sha",
            "c7b3dfb335f051e1c86bda4c716fac97df62ad81",
            "c7b3dfb335f051e1c86bda4c716fac97df62ad80",
        ),
        (
            "--certificate-github-workflow-name",
            "Extremely dangerous OIDC beacon",
            "extremely dangerous OIDC beacon",
        ),
    ];
    for (flag, right, wrong) in claims {
        let base = [
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ];
        let ok = run(&bundle, a, &[&base[..], &[flag, right]].concat());
        assert_eq!(code(&ok), Some(0), "{flag} {right}: {}", stderr(&ok));
        let bad = run(&bundle, a, &[&base[..], &[flag, wrong]].concat());
        assert_eq!(code(&bad), Some(1), "{flag} {wrong} must be rejected");
        let err = stderr(&bad);
        assert!(
            err.contains(&flag[2..]) && err.contains(right) && err.contains(wrong),
            "{err}"
        );
    }
}

#[test]
fn json_reports_verified_facts_and_rejections() {
    let Some(corpus) = common::corpus("json_output") else {
        return;
    };
    let (bundle, artifact) = happy(&corpus);
    let a = artifact.to_str().expect("utf8");
    let out = run(
        &bundle,
        a,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--json",
        ],
    );
    assert_eq!(code(&out), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verdict"], "verified");
    assert_eq!(v["bundle"]["certificate"]["identity"], IDENTITY);
    assert_eq!(v["bundle"]["log_entry"]["log_index"], 79571823);
    assert_eq!(v["bundle"]["trust_root"], "public-good");
    let out = run(
        &bundle,
        a,
        &[
            "--certificate-identity",
            "x@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
            "--json",
        ],
    );
    assert_eq!(code(&out), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["verdict"], "rejected");
    assert_eq!(v["check"], "certificate-identity");
}

#[test]
fn bad_input_is_a_clear_message_never_a_panic() {
    let Some(corpus) = common::corpus("bad_input") else {
        return;
    };
    let (bundle, artifact) = happy(&corpus);
    let a = artifact.to_str().expect("utf8");
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let policy = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    let text = std::fs::read_to_string(&bundle).expect("bundle");
    let cases: Vec<(&str, PathBuf, String, i32, &str)> = vec![
        (
            "malformed JSON",
            write("m.json", b"{\"mediaType\": "),
            a.into(),
            1,
            "bundle-format",
        ),
        (
            "not UTF-8",
            write("u.json", &[0xff, 0xfe, 0x00]),
            a.into(),
            1,
            "bundle-format",
        ),
        (
            "wrong media type",
            write(
                "t.json",
                text.replace("bundle+json;version=0.3", "bundle+json;version=9.9")
                    .as_bytes(),
            ),
            a.into(),
            1,
            "bundle-media-type",
        ),
        (
            "oversized bundle",
            write("big.json", &vec![b' '; 17 << 20]),
            a.into(),
            1,
            "bundle-size",
        ),
        (
            "missing bundle",
            dir.path().join("nope.json"),
            a.into(),
            2,
            "cannot read",
        ),
        (
            "missing artifact",
            bundle.clone(),
            dir.path().join("nope").display().to_string(),
            2,
            "cannot read",
        ),
        (
            "artifact is a directory",
            bundle.clone(),
            dir.path().display().to_string(),
            2,
            "is a directory",
        ),
        (
            "bad digest",
            bundle.clone(),
            "sha256:xyz".into(),
            2,
            "digest",
        ),
    ];
    for (what, bundle_path, artifact, want, says) in cases {
        let out = run(&bundle_path, &artifact, &policy);
        let err = stderr(&out);
        assert_eq!(code(&out), Some(want), "{what}: {err}");
        assert!(
            err.contains(says),
            "{what}: stderr should say {says}: {err}"
        );
        assert!(!err.contains("panicked"), "{what}: {err}");
        // One line for the verdict; staleness warnings about the trust roots come before it.
        let verdict: Vec<&str> = err
            .trim()
            .lines()
            .filter(|l| !l.starts_with("vetted: warning: "))
            .collect();
        assert_eq!(verdict.len(), 1, "{what}: one line: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    // No signer, both identity kinds, key plus identity: clap rejects each before any I/O.
    for args in [
        vec!["verify-bundle", "--bundle", "b", "a"],
        vec![
            "verify-bundle",
            "--bundle",
            "b",
            "--key",
            "k",
            "--certificate-identity",
            "i",
            "a",
        ],
        vec![
            "verify-bundle",
            "--bundle",
            "b",
            "--certificate-identity",
            "i",
            "--certificate-identity-regexp",
            "r",
            "a",
        ],
        vec!["no-such-command"],
    ] {
        assert_eq!(vetted(&args).status.code(), Some(2), "{args:?}");
    }
    assert_eq!(vetted(["verify-bundle", "--help"]).status.code(), Some(0));
}

#[test]
fn pinned_trust_roots_match_sha256sums_and_export() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("trust-roots");
    let sums = std::fs::read_to_string(root.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut listed = 0;
    for line in sums.lines() {
        let (hex, name) = line.split_once("  ").expect("sha256sum format");
        let bytes = std::fs::read(root.join(name)).expect("pinned file");
        assert_eq!(
            vetted::digest::sha256(&bytes).hex(),
            hex,
            "{name} does not match SHA256SUMS"
        );
        let embedded = vetted::trust::PINNED_FILES
            .iter()
            .find(|(n, _)| *n == name)
            .expect("embedded");
        assert_eq!(
            embedded.1.as_bytes(),
            &bytes[..],
            "{name}: embedded copy differs from the file"
        );
        listed += 1;
    }
    assert_eq!(listed, vetted::trust::PINNED_FILES.len());
    // `vetted trust-root export` reproduces the Sigstore roots byte for byte.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = vetted(["trust-root", "export", dir.path().to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (name, _) in vetted::trust::UPSTREAM_SIGSTORE_ROOTS {
        assert_eq!(
            std::fs::read(dir.path().join(name)).ok(),
            std::fs::read(root.join(name)).ok(),
            "{name}"
        );
    }
}

#[test]
fn trust_root_list_shows_every_kind_of_authority() {
    let out = vetted(["trust-root", "list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let roots = v["sigstore"].as_array().expect("roots");
    let names: Vec<_> = roots.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["public-good", "staging", "github"]);
    let pg = &roots[0];
    for key in [
        "certificate_authorities",
        "transparency_logs",
        "ct_logs",
        "timestamp_authorities",
    ] {
        assert!(
            !pg[key].as_array().expect(key).is_empty(),
            "public-good has {key}"
        );
    }
    assert!(
        roots[2]["transparency_logs"]
            .as_array()
            .expect("tlogs")
            .is_empty(),
        "GitHub's instance has no log"
    );
    assert_eq!(v["npm_registry_keys"].as_array().expect("keys").len(), 2);
    let human = vetted(["trust-root", "list"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("https://rekor.sigstore.dev")
            && text.contains("2021-01-12T11:53:27Z .. open"),
        "{text}"
    );
}
