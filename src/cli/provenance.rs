//! Provenance commands with slsa-verifier's and `gh attestation verify`'s command lines:
//! `verify-artifact`, `verify-npm-package`, `verify-github-attestation`, `verify-vsa`,
//! `verify-attestation`. All verify offline against the pinned roots.
use super::{Failure, Outcome, finish};
use crate::digest::{Algorithm, Digest, Digests, MultiHasher};
use crate::limits::{Limits, ReadLimitedError, read_file_limited};
use crate::provenance::{
    self, GhAttestationPolicy, ProvenanceAccepted, ProvenanceError, ProvenancePolicy, VsaPolicy,
};
use crate::sigstore::StringMatch;
use crate::trust::{Instance, TrustError, TrustRoots};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Source ref policy shared by the SLSA commands.
#[derive(Debug, clap::Args)]
pub struct RefArgs {
    /// The exact git tag the artifact must have been built from (e.g. v1.2.3).
    #[arg(long, value_name = "TAG", conflicts_with_all = ["source_versioned_tag", "source_branch"])]
    source_tag: Option<String>,

    /// A semver tag the build's tag must match: v1 and v1.2 match v1.2.3 (slsa-verifier's
    /// semantics).
    #[arg(long, value_name = "TAG", conflicts_with = "source_branch")]
    source_versioned_tag: Option<String>,

    /// The branch the artifact must have been built from (e.g. main).
    #[arg(long, value_name = "BRANCH")]
    source_branch: Option<String>,
}

/// Output options shared by the commands.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Print the verified statement (JSON) on stdout.
    #[arg(long, alias = "print-attestation")]
    print_provenance: bool,

    /// Print the verified facts (builder, source, ref, commit, workflow, subjects) or the
    /// rejection as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Verify SLSA provenance for one or more artifacts (as `slsa-verifier verify-artifact`),
/// offline against the pinned Sigstore roots.
///
/// The provenance file may hold a Sigstore bundle or JSON lines of bundles; a bare DSSE
/// envelope carries no transparency-log evidence and is rejected offline. The builder must be
/// a trusted slsa-github-generator workflow (or, for delegated builders, match --builder-id);
/// the source repository and, when given, the tag or branch must match.
///
/// Exit 0 verified, 1 rejected (one line on stderr naming the check, expected and actual),
/// 2 usage or operational error.
#[derive(Debug, clap::Args)]
pub struct VerifyArtifactArgs {
    /// The artifacts; each must be a subject of the provenance.
    #[arg(value_name = "ARTIFACT", required = true)]
    artifacts: Vec<PathBuf>,

    /// The provenance file (Sigstore bundle, or JSON lines of them; `.intoto.jsonl`).
    #[arg(long, value_name = "FILE")]
    provenance_path: PathBuf,

    /// The source repository, e.g. github.com/owner/repo (with or without git+https://).
    #[arg(long, value_name = "URI")]
    source_uri: String,

    /// The builder id, `name[@ref]`, e.g.
    /// https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@v2.1.0
    #[arg(long, value_name = "ID")]
    builder_id: Option<String>,

    /// A workflow input the build must have had, `key=value` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    build_workflow_input: Vec<String>,

    #[command(flatten)]
    refs: RefArgs,

    #[command(flatten)]
    trust: super::trust_root::TrustArgs,

    #[command(flatten)]
    output: OutputArgs,
}

/// Verify an npm package's provenance and publish attestation (as `slsa-verifier
/// verify-npm-package`), offline.
///
/// The attestations document is the registry's `{"attestations": [...]}` for the version: the
/// SLSA provenance is verified against the pinned Sigstore roots, the publish attestation
/// against the pinned npm registry keys (by key id, within the key's validity window). Both
/// must name pkg:npm/NAME@VERSION with the tarball's sha512.
///
/// The flags are slsa-verifier's, with its semantics (cli/slsa-verifier/verify/options.go
/// `VerifyNpmOptions.AddFlags`, cli/slsa-verifier/verify.go `verifyNpmPackageCmd`):
/// --source-uri, --builder-id, --package-name and --package-version are required;
/// --source-tag, --source-versioned-tag, --source-branch and --print-provenance are not
/// supported for npm packages and make the command fail.
#[derive(Debug, clap::Args)]
pub struct VerifyNpmPackageArgs {
    /// The package tarball (.tgz).
    #[arg(value_name = "TARBALL")]
    tarball: PathBuf,

    /// The attestations document.
    #[arg(long, value_name = "FILE")]
    attestations_path: PathBuf,

    /// The package name, e.g. @scope/name.
    #[arg(long, value_name = "NAME")]
    package_name: String,

    /// The package version.
    #[arg(long, value_name = "VERSION")]
    package_version: String,

    /// The source repository, e.g. github.com/owner/repo.
    #[arg(long, value_name = "URI")]
    source_uri: String,

    /// The builder id: https://github.com/actions/runner/github-hosted (or the legacy
    /// https://github.com/actions/runner) or https://github.com/actions/runner/self-hosted
    /// for npm CLI provenance, the builder's workflow for slsa-github-generator's delegator.
    /// Required, as in slsa-verifier ("Users must always provide the builder ID").
    #[arg(long, value_name = "ID")]
    builder_id: String,

    /// A workflow input the build must have had, `key=value` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    build_workflow_input: Vec<String>,

    /// Not supported for npm packages (as slsa-verifier): given, the command fails.
    #[arg(long, value_name = "TAG", hide = true)]
    source_tag: Option<String>,

    /// Not supported for npm packages (as slsa-verifier): given, the command fails.
    #[arg(long, value_name = "TAG", hide = true)]
    source_versioned_tag: Option<String>,

    /// Not supported for npm packages (as slsa-verifier): given, the command fails.
    #[arg(long, value_name = "BRANCH", hide = true)]
    source_branch: Option<String>,

    #[command(flatten)]
    trust: super::trust_root::TrustArgs,

    #[command(flatten)]
    output: OutputArgs,
}

/// Verify a GitHub artifact attestation as SLSA provenance (as `slsa-verifier
/// verify-github-attestation`), offline: the signing workflow must match --builder-id.
#[derive(Debug, clap::Args)]
pub struct VerifyGithubAttestationArgs {
    /// The artifact.
    #[arg(value_name = "ARTIFACT")]
    artifact: PathBuf,

    /// The attestation (Sigstore bundle, or JSON lines of them).
    #[arg(long, value_name = "FILE")]
    attestation_path: PathBuf,

    /// The source repository, e.g. github.com/owner/repo.
    #[arg(long, value_name = "URI")]
    source_uri: String,

    /// The workflow that must have signed, `name[@ref]`.
    #[arg(long, value_name = "ID")]
    builder_id: String,

    #[command(flatten)]
    refs: RefArgs,

    #[command(flatten)]
    trust: super::trust_root::TrustArgs,

    #[command(flatten)]
    output: OutputArgs,
}

/// Verify a SLSA verification summary attestation (as `slsa-verifier verify-vsa`): signed by
/// the given key, from the given verifier, about the given resource, at the given levels.
#[derive(Debug, clap::Args)]
pub struct VerifyVsaArgs {
    /// The VSA (DSSE envelope, or JSON lines of them).
    #[arg(long, value_name = "FILE")]
    attestation_path: PathBuf,

    /// The verifier's public key (PEM; ECDSA P-256 or Ed25519).
    #[arg(long, value_name = "FILE")]
    public_key_path: PathBuf,

    /// The key id the envelope's signature must carry.
    #[arg(long, value_name = "ID")]
    public_key_id: String,

    /// The verifier id (`verifier.id`).
    #[arg(long, value_name = "ID")]
    verifier_id: String,

    /// The resource URI (`resourceUri`).
    #[arg(long, value_name = "URI")]
    resource_uri: String,

    /// A subject digest, `alg:value` (repeatable; all must be present).
    #[arg(long, value_name = "ALG:VALUE", required = true)]
    subject_digest: Vec<String>,

    /// A level that must have been verified (repeatable), e.g. SLSA_BUILD_LEVEL_2.
    #[arg(long, value_name = "LEVEL")]
    verified_level: Vec<String>,

    #[command(flatten)]
    output: OutputArgs,
}

/// Verify a GitHub artifact attestation (as `gh attestation verify`), offline against the
/// pinned public-good and GitHub roots (chosen by the certificate's issuer).
///
/// The certificate must come from a workflow of --repo (or --owner), unless --signer-repo,
/// --signer-workflow or --cert-identity says which workflow signed. The predicate type
/// defaults to SLSA provenance v1.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("scope").required(true).multiple(true).args(["owner", "repo"]))]
pub struct VerifyAttestationArgs {
    /// The artifact: a file path, or sha256:HEX / sha512:HEX.
    #[arg(value_name = "ARTIFACT|sha256:HEX|sha512:HEX")]
    artifact: String,

    /// The bundle (or JSON lines of bundles).
    #[arg(long, short = 'b', value_name = "FILE")]
    bundle: PathBuf,

    /// The GitHub organisation or user the source repository belongs to.
    #[arg(long, short = 'o', value_name = "OWNER")]
    owner: Option<String>,

    /// The source repository, owner/name.
    #[arg(long, short = 'R', value_name = "OWNER/REPO")]
    repo: Option<String>,

    /// The repository of the (reusable) workflow that signed, owner/name.
    #[arg(long, value_name = "OWNER/REPO", conflicts_with_all = ["signer_workflow", "cert_identity", "cert_identity_regex"])]
    signer_repo: Option<String>,

    /// The workflow that signed, [host/]owner/repo/.github/workflows/file.yml.
    #[arg(long, value_name = "WORKFLOW", conflicts_with_all = ["cert_identity", "cert_identity_regex"])]
    signer_workflow: Option<String>,

    /// The exact certificate identity (SAN).
    #[arg(long, value_name = "URI", conflicts_with = "cert_identity_regex")]
    cert_identity: Option<String>,

    /// A regular expression the whole certificate identity must match.
    #[arg(long, short = 'i', value_name = "REGEX")]
    cert_identity_regex: Option<String>,

    /// The OIDC issuer.
    #[arg(long, value_name = "URL", default_value = provenance::GITHUB_ACTIONS_ISSUER)]
    cert_oidc_issuer: String,

    /// The predicate type the attestation must have.
    #[arg(long, value_name = "URI", default_value = crate::provenance::slsa::PREDICATE_SLSA_V1)]
    predicate_type: String,

    /// Reject attestations from self-hosted runners.
    #[arg(long)]
    deny_self_hosted_runners: bool,

    /// The source ref the certificate must name (e.g. refs/heads/main).
    #[arg(long, value_name = "REF")]
    source_ref: Option<String>,

    /// The source commit the certificate must name.
    #[arg(long, value_name = "SHA")]
    source_digest: Option<String>,

    /// The signing workflow's commit the certificate must name.
    #[arg(long, value_name = "SHA")]
    signer_digest: Option<String>,

    /// The digest algorithm for a file artifact.
    #[arg(long, short = 'd', value_name = "ALG", default_value = "sha256", value_parser = ["sha256", "sha512"])]
    digest_alg: String,

    /// A trusted_root.json to trust instead of the pinned roots.
    #[arg(long, value_name = "FILE")]
    custom_trusted_root: Option<PathBuf>,

    #[command(flatten)]
    trust: super::trust_root::TrustArgs,

    /// Do not trust the public-good Sigstore instance (GitHub's own instance only).
    #[arg(long)]
    no_public_good: bool,

    /// The GitHub host.
    #[arg(long, value_name = "HOST", default_value = "github.com")]
    hostname: String,

    /// Print the verified facts or the rejection as JSON on stdout.
    #[arg(long)]
    json: bool,
}

fn read_input(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, Failure> {
    read_file_limited(path, what, limit).map_err(|e| match e {
        ReadLimitedError::Limit(l) => Failure::rejected("limits", l),
        other => Failure::operational(other),
    })
}

/// Hash a file in one streaming pass, within the artifact size limit.
fn digest_file(path: &Path, limits: &Limits) -> Result<Digests, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::operational(format!("cannot read {}: {e}", path.display())))?;
    let mut reader = file.take(limits.artifact_bytes + 1);
    let mut hasher = MultiHasher::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Failure::operational(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if hasher.size() > limits.artifact_bytes {
            return Err(Failure::rejected(
                "limits",
                format!(
                    "artifact {} is larger than the limit of {} bytes",
                    path.display(),
                    limits.artifact_bytes
                ),
            ));
        }
    }
    Ok(hasher.finish())
}

fn rejected(e: ProvenanceError) -> Failure {
    match e {
        ProvenanceError::Usage(m) => Failure::operational(m),
        other => Failure::rejected(other.check(), other),
    }
}

fn trust_failure(e: TrustError) -> Failure {
    match e {
        TrustError::Read { .. } => Failure::operational(e),
        other => Failure::rejected("trust-root", other),
    }
}

fn policy(
    source_uri: &str,
    builder_id: Option<String>,
    refs: RefArgs,
    inputs: &[String],
) -> Result<ProvenancePolicy, Failure> {
    let workflow_inputs = inputs
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    Failure::operational(format!("--build-workflow-input {kv:?} is not key=value"))
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(ProvenancePolicy {
        source_uri: source_uri.to_string(),
        builder_id,
        source_tag: refs.source_tag,
        source_versioned_tag: refs.source_versioned_tag,
        source_branch: refs.source_branch,
        workflow_inputs,
    })
}

/// Print a line on stdout; a closed pipe (`| head`) is not an error of the verification.
fn print_stdout(value: &serde_json::Value) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{value}");
}

fn report(accepted: &ProvenanceAccepted, output: &OutputArgs, what: &str) -> Outcome {
    let facts = accepted.facts();
    if output.json {
        let mut value = serde_json::json!({"schema": "vetted.verify-provenance/v1", "verdict": "verified", "facts": facts});
        if output.print_provenance {
            value["statement"] = accepted.statement().clone();
        }
        print_stdout(&value);
    } else {
        if output.print_provenance {
            print_stdout(accepted.statement());
        }
        eprintln!(
            "PASSED: {what}: builder {}, source {}{}",
            facts.builder.as_deref().unwrap_or("(n/a)"),
            facts.source_repository.as_deref().unwrap_or("(n/a)"),
            facts
                .source_ref
                .as_deref()
                .map(|r| format!(" at {r}"))
                .unwrap_or_default()
        );
    }
    Outcome::Success
}

/// `vetted verify-artifact`.
pub fn run_verify_artifact(args: VerifyArtifactArgs) -> Outcome {
    let json = args.output.json;
    finish(json, verify_artifact(args))
}

fn verify_artifact(args: VerifyArtifactArgs) -> Result<Outcome, Failure> {
    let limits = Limits::default();
    let policy = policy(
        &args.source_uri,
        args.builder_id,
        args.refs,
        &args.build_workflow_input,
    )?;
    let roots = args.trust.load()?.roots;
    let provenance = read_input(
        &args.provenance_path,
        "provenance size",
        limits.bundle_bytes,
    )?;
    let digests = args
        .artifacts
        .iter()
        .map(|a| digest_file(a, &limits))
        .collect::<Result<Vec<_>, _>>()?;
    let accepted = provenance::verify_artifact(&digests, &provenance, &policy, &roots, &limits)
        .map_err(rejected)?;
    Ok(report(&accepted, &args.output, "SLSA verification passed"))
}

/// `vetted verify-npm-package`.
pub fn run_verify_npm_package(args: VerifyNpmPackageArgs) -> Outcome {
    let json = args.output.json;
    finish(json, verify_npm_package(args))
}

fn verify_npm_package(args: VerifyNpmPackageArgs) -> Result<Outcome, Failure> {
    // slsa-verifier's verifyNpmPackageCmd (cli/slsa-verifier/verify.go) fails on these
    // flags ("--source-branch not supported", ...): the npm attestations are matched on the
    // package, not on a git ref. Accepting them would pass commands slsa-verifier fails.
    for (flag, given) in [
        ("--source-branch", args.source_branch.is_some()),
        ("--source-tag", args.source_tag.is_some()),
        (
            "--source-versioned-tag",
            args.source_versioned_tag.is_some(),
        ),
        ("--print-provenance", args.output.print_provenance),
    ] {
        if given {
            return Err(Failure::operational(format!(
                "{flag} is not supported by verify-npm-package (as in slsa-verifier)"
            )));
        }
    }
    let limits = Limits::default();
    let refs = RefArgs {
        source_tag: None,
        source_versioned_tag: None,
        source_branch: None,
    };
    let policy = policy(
        &args.source_uri,
        Some(args.builder_id),
        refs,
        &args.build_workflow_input,
    )?;
    let trust = args.trust.load()?;
    let (roots, keys) = (trust.roots, trust.npm_keys);
    let attestations = read_input(
        &args.attestations_path,
        "attestations size",
        limits.bundle_bytes,
    )?;
    let tarball = digest_file(&args.tarball, &limits)?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let package = provenance::NpmPackageRef {
        tarball: &tarball,
        name: &args.package_name,
        version: &args.package_version,
    };
    let accepted = provenance::verify_npm_package(
        package,
        &attestations,
        &policy,
        &roots,
        &keys,
        now,
        &limits,
    )
    .map_err(rejected)?;
    Ok(report(
        &accepted,
        &args.output,
        "npm provenance and publish attestation verified",
    ))
}

/// `vetted verify-github-attestation`.
pub fn run_verify_github_attestation(args: VerifyGithubAttestationArgs) -> Outcome {
    let json = args.output.json;
    finish(json, verify_github_attestation(args))
}

fn verify_github_attestation(args: VerifyGithubAttestationArgs) -> Result<Outcome, Failure> {
    let limits = Limits::default();
    let policy = policy(&args.source_uri, Some(args.builder_id), args.refs, &[])?;
    let roots = args.trust.load()?.roots;
    let attestation = read_input(
        &args.attestation_path,
        "attestation size",
        limits.bundle_bytes,
    )?;
    let digests = digest_file(&args.artifact, &limits)?;
    let accepted =
        provenance::verify_github_attestation(&digests, &attestation, &policy, &roots, &limits)
            .map_err(rejected)?;
    Ok(report(
        &accepted,
        &args.output,
        "GitHub attestation verified",
    ))
}

/// `vetted verify-vsa`.
pub fn run_verify_vsa(args: VerifyVsaArgs) -> Outcome {
    let json = args.output.json;
    finish(json, verify_vsa(args))
}

fn verify_vsa(args: VerifyVsaArgs) -> Result<Outcome, Failure> {
    let limits = Limits::default();
    let key = read_input(&args.public_key_path, "public key size", 64 * 1024)?;
    let public_key_pem = String::from_utf8(key)
        .map_err(|_| Failure::operational("--public-key-path is not a UTF-8 PEM file"))?;
    let attestation = read_input(
        &args.attestation_path,
        "attestation size",
        limits.bundle_bytes,
    )?;
    let policy = VsaPolicy {
        public_key_pem,
        public_key_id: args.public_key_id,
        verifier_id: args.verifier_id,
        resource_uri: args.resource_uri,
        subject_digests: args.subject_digest,
        verified_levels: args.verified_level,
    };
    let accepted = provenance::verify_vsa(&attestation, &policy, &limits).map_err(rejected)?;
    Ok(report(&accepted, &args.output, "VSA verified"))
}

/// `vetted verify-attestation`.
pub fn run_verify_attestation(args: VerifyAttestationArgs) -> Outcome {
    let json = args.json;
    finish(json, verify_attestation(args))
}

fn verify_attestation(args: VerifyAttestationArgs) -> Result<Outcome, Failure> {
    let limits = Limits::default();
    let roots = match (&args.custom_trusted_root, args.no_public_good) {
        (Some(path), _) => TrustRoots::from_file(path)
            .map(|r| TrustRoots::from_roots(vec![r]))
            .map_err(trust_failure)?,
        (None, true) => TrustRoots::embedded(Instance::GitHub)
            .map(|r| TrustRoots::from_roots(vec![r]))
            .map_err(trust_failure)?,
        (None, false) => args.trust.load()?.roots,
    };
    let artifact = if let Some(hex) = args.artifact.strip_prefix("sha256:") {
        Digest::from_hex(Algorithm::Sha256, hex)
            .map_err(|e| Failure::operational(format!("artifact digest: {e}")))?
    } else if let Some(hex) = args.artifact.strip_prefix("sha512:") {
        Digest::from_hex(Algorithm::Sha512, hex)
            .map_err(|e| Failure::operational(format!("artifact digest: {e}")))?
    } else {
        let digests = digest_file(Path::new(&args.artifact), &limits)?;
        let alg = if args.digest_alg == "sha512" {
            Algorithm::Sha512
        } else {
            Algorithm::Sha256
        };
        digests.get(alg).clone()
    };
    let cert_identity = match (&args.cert_identity, &args.cert_identity_regex) {
        (Some(exact), _) => Some(StringMatch::Exact(exact.clone())),
        (None, Some(re)) => Some(StringMatch::regex(re).map_err(|e| {
            Failure::operational(format!("invalid regular expression {re:?}: {e}"))
        })?),
        (None, None) => None,
    };
    let policy = GhAttestationPolicy {
        owner: args.owner,
        repo: args.repo,
        signer_repo: args.signer_repo,
        signer_workflow: args.signer_workflow,
        cert_identity,
        cert_oidc_issuer: args.cert_oidc_issuer,
        predicate_type: args.predicate_type,
        deny_self_hosted_runners: args.deny_self_hosted_runners,
        source_ref: args.source_ref,
        source_digest: args.source_digest,
        signer_digest: args.signer_digest,
        hostname: args.hostname,
    };
    let bundles = read_input(&args.bundle, "bundle size", limits.bundle_bytes)?;
    let accepted = provenance::verify_gh_attestation(&artifact, &bundles, &policy, &roots, &limits)
        .map_err(rejected)?;
    let output = OutputArgs {
        print_provenance: false,
        json: args.json,
    };
    Ok(report(&accepted, &output, "attestation verified"))
}
