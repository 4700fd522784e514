//! Every policy flag of the provenance commands, once passing and once failing, on real corpus
//! data. The failing run must exit 1 and name the check the flag controls.
mod common;

use common::{slsa_corpus, split_command, vetted_in as vetted};

const GO: &str = "verify-artifact --provenance-path slsa-verifier/gha_go/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl slsa-verifier/gha_go/v2.1.0/binary-linux-amd64-push-v13.0.30";
const GO_SRC: &str = "--source-uri github.com/slsa-framework/example-package";
const GO_WD: &str = "verify-artifact --provenance-path slsa-verifier/gha_go/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl slsa-verifier/gha_go/v2.1.0/binary-linux-amd64-workflow_dispatch --source-uri github.com/slsa-framework/example-package";
const DELEGATOR: &str = "verify-artifact --provenance-path slsa-verifier/gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa slsa-verifier/gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch --source-uri github.com/slsa-framework/example-package --builder-id https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml";
const NPM_TAG: &str = "verify-npm-package --attestations-path slsa-verifier/npm/gha/supreme-googles-cli-v02-tag.tgz.json --source-uri github.com/trishankatdatadog/supreme-goggles --package-name @trishankatdatadog/supreme-goggles --package-version 1.0.5 --builder-id https://github.com/actions/runner/github-hosted slsa-verifier/npm/gha/supreme-googles-cli-v02-tag.tgz";
const NPM_MAIN: &str = "verify-npm-package --attestations-path slsa-verifier/npm/gha/provenance-npm-test-cli-v1-prega.tgz.json --source-uri github.com/sigstore/sigstore-js --package-name sigstore --package-version 2.3.1 slsa-verifier/npm/gha/provenance-npm-test-cli-v1-prega.tgz";
const NPM_RUNNER: &str = "--builder-id https://github.com/actions/runner/github-hosted";
const BCR: &str = "verify-github-attestation --attestation-path slsa-verifier/bcr/MODULE.bazel.intoto.jsonl slsa-verifier/bcr/MODULE.bazel";
const GH: &str =
    "verify-attestation npm/sigstore-2.1.0.tgz --bundle gh-cli/sigstore-js-2.1.0-bundle.json";
const GH_REUSABLE: &str = "verify-attestation gh-cli/reusable-workflow-artifact --bundle gh-cli/reusable-workflow-attestation.sigstore.json --owner malancas --repo malancas/attest-demo";
const GH_INSTANCE: &str = "verify-attestation gh-cli/github_provenance_demo-0.0.12-py3-none-any.whl --bundle gh-cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl --owner actions";
const VSA: &str = "verify-vsa --attestation-path slsa-verifier/vsa/gce/v1/gke-gce-pre.bcid-vsa.jsonl --public-key-id keystore://76574:prod:vsa_signing_public_key --resource-uri gce_image://gke-node-images:gke-12615-gke1418000-cos-101-17162-463-29-c-cgpv1-pre";
const VSA_KEY: &str = "--public-key-path slsa-verifier/vsa/gce/v1/vsa_signing_public_key.pem";
const VSA_VERIFIER: &str =
    "--verifier-id https://bcid.corp.google.com/verifier/bcid_package_enforcer/v0.1";
const VSA_DIGEST: &str = "--subject-digest gce_image_id:8970095005306000053";

/// (flag, command line that passes, command line that fails, check the failure names)
fn table() -> Vec<(&'static str, String, String, &'static str)> {
    let go = |extra: &str| format!("{GO} {GO_SRC} {extra}");
    let gh = |extra: &str| format!("{GH} --digest-alg sha512 {extra}");
    let vsa = |extra: &str| format!("{VSA} {VSA_KEY} {VSA_VERIFIER} {VSA_DIGEST} {extra}");
    vec![
        ("--source-uri", format!("{GO} --source-uri git+https://github.com/slsa-framework/example-package@refs/tags/v13.0.30"), format!("{GO} --source-uri github.com/slsa-framework/example-packag"), "source"),
        ("--builder-id", go("--builder-id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0"), go("--builder-id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.0.0"), "builder-id"),
        ("--source-tag", go("--source-tag v13.0.30"), go("--source-tag v13.0.3"), "source-tag"),
        ("--source-versioned-tag", go("--source-versioned-tag v13.0"), go("--source-versioned-tag v13.1"), "source-versioned-tag"),
        ("--source-branch", format!("{GO_WD} --source-branch main"), format!("{GO_WD} --source-branch dev"), "source-branch"),
        ("--build-workflow-input", format!("{DELEGATOR} --build-workflow-input content=hello"), format!("{DELEGATOR} --build-workflow-input content=bye"), "build-workflow-input"),
        ("ARTIFACT...", format!("{GO} {GO_SRC} slsa-verifier/gha_go/v2.1.0/binary-linux-amd64-push-v13.0.30"), format!("{GO} {GO_SRC} derived/binary-linux-amd64-workflow_dispatch.tampered"), "subject-digest"),
// slsa-verifier verifyNpmEnvAndCert (verifiers/internal/gha/verifier.go): the v1
        // builder must be spelled in full; the short legacy ID names only v0.2 provenance.
        ("npm --builder-id", format!("{NPM_MAIN} {NPM_RUNNER}"), format!("{NPM_MAIN} --builder-id https://github.com/actions/runner"), "builder-id"),
        // verifyNpmEnvAndCert: any other ID for npm CLI provenance is ErrorNotSupported.
        ("npm --builder-id (not a runner)", NPM_TAG.to_string(), NPM_TAG.replace("/actions/runner/github-hosted", "/actions/runner2"), "builder-id"),
        // npm.go verifyPackageName / verifyPackageVersion: the provenance subject, the publish
        // attestation's subject and its predicate must all name the package.
        ("npm --package-name", format!("{NPM_MAIN} {NPM_RUNNER}"), format!("{} {NPM_RUNNER}", NPM_MAIN.replace("--package-name sigstore", "--package-name sigstor")), "package-name"),
        ("npm --package-version", format!("{NPM_MAIN} {NPM_RUNNER}"), format!("{} {NPM_RUNNER}", NPM_MAIN.replace("--package-version 2.3.1", "--package-version 2.3.0")), "package-version"),
        ("npm TARBALL", format!("{NPM_MAIN} {NPM_RUNNER}"), format!("{} {NPM_RUNNER} npm/sigstore-2.2.0.tgz", NPM_MAIN.rsplit_once(' ').map_or("", |(a, _)| a)), "artifact-digest"),
        ("github --builder-id", format!("{BCR} --source-uri github.com/aspect-build/rules_lint --builder-id https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@v0.0.1"), format!("{BCR} --source-uri github.com/aspect-build/rules_lint --builder-id https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@v0.0.2"), "builder-id"),
        ("github --source-uri", format!("{BCR} --source-uri https://github.com/aspect-build/rules_lint --builder-id https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml"), format!("{BCR} --source-uri github.com/aspect-build/rules_lin --builder-id https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml"), "source"),
        ("gh --owner", gh("--owner sigstore"), gh("--owner sigstor"), "certificate-identity"),
        ("gh --repo", gh("--repo sigstore/sigstore-js"), gh("--repo sigstore/sigstore-go"), "certificate-identity"),
        ("gh --signer-repo", format!("{GH_REUSABLE} --signer-repo github/artifact-attestations-workflows"), format!("{GH_REUSABLE} --signer-repo github/other"), "certificate-identity"),
        ("gh --signer-workflow", format!("{GH_REUSABLE} --signer-workflow github/artifact-attestations-workflows/.github/workflows/attest.yml"), format!("{GH_REUSABLE} --signer-workflow github/artifact-attestations-workflows/.github/workflows/other.yml"), "certificate-identity"),
        ("gh --cert-identity", gh("--owner sigstore --cert-identity https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"), gh("--owner sigstore --cert-identity https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/mai"), "certificate-identity"),
        ("gh --cert-identity-regex", gh("--owner sigstore --cert-identity-regex https://github\\.com/sigstore/sigstore-js/.*"), gh("--owner sigstore --cert-identity-regex sigstore-js"), "certificate-identity"),
        ("gh --cert-oidc-issuer", "verify-attestation gh-cli/custom-issuer-artifact --bundle gh-cli/custom-issuer.sigstore.json --owner too-legit --cert-oidc-issuer https://token.actions.githubusercontent.com/hammer-time".to_string(), "verify-attestation gh-cli/custom-issuer-artifact --bundle gh-cli/custom-issuer.sigstore.json --owner too-legit".to_string(), "certificate-oidc-issuer"),
        ("gh --predicate-type", gh("--owner sigstore --predicate-type https://slsa.dev/provenance/v1"), gh("--owner sigstore --predicate-type https://slsa.dev/provenance/v0.2"), "predicate-type"),
        ("gh --source-ref", gh("--owner sigstore --source-ref refs/heads/main"), gh("--owner sigstore --source-ref refs/heads/dev"), "source-repository-ref"),
        ("gh --source-digest", gh("--owner sigstore --source-digest 26d16513386ffaa790b1c32f927544f1322e4194"), gh("--owner sigstore --source-digest 26d16513386ffaa790b1c32f927544f1322e4195"), "source-repository-digest"),
        ("gh --digest-alg", gh("--owner sigstore"), format!("{GH} --owner sigstore --digest-alg sha256"), "artifact-digest"),
        ("gh --custom-trusted-root", gh("--owner sigstore --custom-trusted-root trust/public-good.trusted_root.json"), gh("--owner sigstore --custom-trusted-root trust/github.trusted_root.json"), "transparency-log"),
        ("gh --no-public-good", format!("{GH_INSTANCE} --no-public-good"), gh("--owner sigstore --no-public-good"), "transparency-log"),
        ("gh --hostname", gh("--owner sigstore --hostname github.com"), gh("--owner sigstore --hostname ghe.example.com"), "certificate-identity"),
        ("vsa --public-key-id", vsa("--verified-level SLSA_BUILD_LEVEL_2"), vsa("--verified-level SLSA_BUILD_LEVEL_2").replace("keystore://76574:prod:vsa_signing_public_key", "keystore://76574:prod:other"), "public-key-id"),
        ("vsa --public-key-path", vsa(""), format!("{VSA} --public-key-path sigstore-go/publish_key.pub {VSA_VERIFIER} {VSA_DIGEST}"), "signature"),
        ("vsa --verifier-id", vsa(""), format!("{VSA} {VSA_KEY} --verifier-id https://example.com/verifier {VSA_DIGEST}"), "verifier-id"),
        ("vsa --resource-uri", vsa(""), vsa("").replace("cgpv1-pre", "cgpv1-prod"), "resource-uri"),
        ("vsa --subject-digest", vsa(""), format!("{VSA} {VSA_KEY} {VSA_VERIFIER} --subject-digest gce_image_id:2"), "subject-digest"),
        ("vsa --verified-level", vsa("--verified-level SLSA_BUILD_LEVEL_1 --verified-level BCID_L1"), vsa("--verified-level BCID_L2"), "verified-levels"),
    ]
}

#[test]
fn each_flag_passes_and_fails() {
    let Some(corpus) = slsa_corpus("each_flag_passes_and_fails") else {
        return;
    };
    let mut wrong = Vec::new();
    for (flag, pass, fail, check) in table() {
        let run = vetted(&corpus, &split_command(&pass));
        if run.code != Some(0) {
            wrong.push(format!(
                "{flag}: passing run exited {:?}: {}",
                run.code,
                run.stderr.trim()
            ));
        }
        let run = vetted(&corpus, &split_command(&fail));
        let line = run.stderr.lines().last().unwrap_or("").to_string();
        if run.code != Some(1) || !line.starts_with(&format!("vetted: rejected: {check}: ")) {
            wrong.push(format!(
                "{flag}: failing run exited {:?} (want 1, check {check}): {line}",
                run.code
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// The corpus has no bundle from a self-hosted runner, so the failing half of
/// `--deny-self-hosted-runners` is `provenance::github::tests::deny_self_hosted_runners`, over
/// certificate claims; here the flag must accept a GitHub-hosted build.
#[test]
fn deny_self_hosted_runners_accepts_github_hosted() {
    let Some(corpus) = slsa_corpus("deny_self_hosted_runners_accepts_github_hosted") else {
        return;
    };
    let run = vetted(
        &corpus,
        &split_command(&format!(
            "{GH} --digest-alg sha512 --owner sigstore --deny-self-hosted-runners"
        )),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn json_and_print_provenance() {
    let Some(corpus) = slsa_corpus("json_and_print_provenance") else {
        return;
    };
    let run = vetted(&corpus, &split_command(&format!("{GO} {GO_SRC} --json")));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(v["verdict"], "verified");
    assert_eq!(
        v["facts"]["source_repository"],
        "github.com/slsa-framework/example-package"
    );
    assert_eq!(v["facts"]["source_ref"], "refs/tags/v13.0.30");
    assert_eq!(
        v["facts"]["source_commit"],
        "4d329c75e7ec1725f7c9ce917a8799d408d06be3"
    );
    assert_eq!(
        v["facts"]["build_type"],
        "https://github.com/slsa-framework/slsa-github-generator/go@v1"
    );
    assert!(
        v["facts"]["builder"]
            .as_str()
            .unwrap_or("")
            .contains("builder_go_slsa3.yml")
    );
    assert_eq!(
        v["facts"]["subjects"][0]["name"],
        "gha_go-binary-linux-amd64-v13.0.30"
    );

    let run = vetted(
        &corpus,
        &split_command(&format!("{GO} {GO_SRC} --print-provenance")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("statement");
    assert_eq!(v["predicateType"], "https://slsa.dev/provenance/v0.2");

    let run = vetted(
        &corpus,
        &split_command(&format!("{GO} {GO_SRC} --source-tag v1 --json")),
    );
    assert_eq!(run.code, Some(1));
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("json");
    assert_eq!(v["verdict"], "rejected");
    assert_eq!(v["check"], "source-tag");
    assert!(
        v["reason"]
            .as_str()
            .unwrap_or("")
            .contains("expected refs/tags/v1, provenance says refs/tags/v13.0.30")
    );
}

/// slsa-verifier marks --builder-id required for verify-npm-package (cli/slsa-verifier/verify/
/// options.go `VerifyNpmOptions.AddFlags`: `cmd.MarkFlagRequired("builder-id")`), and its
/// verifier refuses an absent one ("Users must always provide the builder ID",
/// `verifyNpmEnvAndCert` in verifiers/internal/gha/verifier.go). Without it, provenance from a
/// builder slsa-verifier accepts only when named (the slsa-github-generator delegator's
/// builder_nodejs_slsa3.yml) must not pass: it is a usage error here.
#[test]
fn npm_provenance_without_builder_id_is_not_accepted() {
    let Some(corpus) = slsa_corpus("npm_provenance_without_builder_id_is_not_accepted") else {
        return;
    };
    let delegated = "verify-npm-package --attestations-path slsa-verifier/npm/gha/provenance-npm-test-ossf.tgz.json --source-uri github.com/laurentsimon/provenance-npm-test --package-name @laurentsimon/provenance-npm-test --package-version 1.0.5 slsa-verifier/npm/gha/provenance-npm-test-ossf.tgz";
    for cmd in [
        delegated,
        NPM_MAIN,
        NPM_TAG.replace(&format!(" {NPM_RUNNER}"), "").as_str(),
    ] {
        let run = vetted(&corpus, &split_command(cmd));
        assert_eq!(run.code, Some(2), "{cmd}: {}", run.stderr);
        assert!(run.stderr.contains("--builder-id"), "{}", run.stderr);
    }
    // Named, the delegated builder passes; a wrong name is rejected (exit 1).
    let nodejs = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml";
    let run = vetted(
        &corpus,
        &split_command(&format!("{delegated} --builder-id {nodejs}")),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let run = vetted(
        &corpus,
        &split_command(&format!(
            "{delegated} --builder-id {}",
            nodejs.replace("nodejs_slsa3", "nodejs_slsa")
        )),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
}

/// slsa-verifier marks --package-name and --package-version required on its command line
/// (options.go `VerifyNpmOptions.AddFlags`: `MarkFlagRequired("package-name")`,
/// `MarkFlagRequired("package-version")`); only its library treats them as optional
/// (`Npm.verifyPackageName(nil)` / `verifyPackageVersion(nil)` in
/// verifiers/internal/gha/npm.go check nothing). So does this command line: without either,
/// a usage error, never a pass that skipped the check.
#[test]
fn npm_package_name_and_version_are_required_as_in_slsa_verifier() {
    let Some(corpus) = slsa_corpus("npm_package_name_and_version_are_required_as_in_slsa_verifier")
    else {
        return;
    };
    for cut in ["--package-name sigstore ", "--package-version 2.3.1 "] {
        let cmd = format!("{} {NPM_RUNNER}", NPM_MAIN.replace(cut, ""));
        let run = vetted(&corpus, &split_command(&cmd));
        assert_eq!(run.code, Some(2), "{cmd}: {}", run.stderr);
        let flag = cut.split(' ').next().unwrap_or("");
        assert!(run.stderr.contains(flag), "{}", run.stderr);
    }
}

/// slsa-verifier's verifyNpmPackageCmd (cli/slsa-verifier/verify.go) fails on --source-branch,
/// --source-tag, --source-versioned-tag and --print-provenance ("... not supported"): a
/// command slsa-verifier fails must not pass here, even when the ref would match.
#[test]
fn npm_ref_flags_slsa_verifier_does_not_support_are_refused() {
    let Some(corpus) = slsa_corpus("npm_ref_flags_slsa_verifier_does_not_support_are_refused")
    else {
        return;
    };
    for extra in [
        "--source-tag v1.0.5",
        "--source-versioned-tag v1",
        "--source-branch main",
        "--print-provenance",
    ] {
        let run = vetted(&corpus, &split_command(&format!("{NPM_TAG} {extra}")));
        assert_eq!(run.code, Some(2), "{extra}: {}", run.stderr);
        let flag = extra.split(' ').next().unwrap_or("");
        assert!(
            run.stderr.contains(&format!("{flag} is not supported")),
            "{}",
            run.stderr
        );
    }
}

/// slsa-verifier passes --build-workflow-input to the npm provenance check
/// (verify_npm_package.go `ExpectedWorkflowInputs`, checked by `VerifyProvenanceCommonOptions`
/// in verifiers/internal/gha/provenance.go): an input the build did not have is a rejection.
#[test]
fn npm_build_workflow_input_the_build_did_not_have_is_rejected() {
    let Some(corpus) = slsa_corpus("npm_build_workflow_input_the_build_did_not_have_is_rejected")
    else {
        return;
    };
    let run = vetted(
        &corpus,
        &split_command(&format!(
            "{NPM_MAIN} {NPM_RUNNER} --build-workflow-input release=yes"
        )),
    );
    let line = run.stderr.lines().last().unwrap_or("");
    assert_eq!(run.code, Some(1), "{line}");
    assert!(
        line.starts_with("vetted: rejected: build-workflow-input: "),
        "{line}"
    );
}
