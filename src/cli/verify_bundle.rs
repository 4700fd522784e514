//! `vetted verify-bundle`: the Sigstore conformance client protocol.
use super::{Failure, Outcome, finish};
use crate::digest::{Algorithm, Digest};
use crate::limits::{Limits, ReadLimitedError, read_file_limited};
use crate::sigstore::{self, ArtifactRef, Claim, IdentityPolicy, Signer, StringMatch};
use std::path::PathBuf;

/// Verify a Sigstore bundle for an artifact, offline.
///
/// The bundle is checked against the pinned trust root its certificate chains to (public-good
/// or GitHub's instance, chosen by the certificate's issuer), or against `--trusted-root`.
/// Keyless bundles need the signer's identity and OIDC issuer (exact, or whole-string
/// regular expressions); managed-key bundles need `--key`.
///
/// Exit 0 verified, 1 rejected (one line on stderr naming the check, expected and actual),
/// 2 usage or operational error.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("signer").required(true).multiple(true)
    .args(["certificate_identity", "certificate_identity_regexp", "key"]))]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (`.sigstore.json`).
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,

    /// The artifact: a file path, or `sha256:<hex>` of its bytes.
    #[arg(value_name = "ARTIFACT_PATH|sha256:HEX")]
    artifact: String,

    /// The exact certificate identity (SAN email or URI) that must have signed.
    #[arg(long, value_name = "IDENTITY", conflicts_with_all = ["certificate_identity_regexp", "key"])]
    certificate_identity: Option<String>,

    /// A regular expression the whole certificate identity must match.
    #[arg(long, value_name = "REGEXP", conflicts_with = "key")]
    certificate_identity_regexp: Option<String>,

    /// The exact OIDC issuer (e.g. https://token.actions.githubusercontent.com).
    #[arg(long, value_name = "ISSUER", conflicts_with_all = ["certificate_oidc_issuer_regexp", "key"])]
    certificate_oidc_issuer: Option<String>,

    /// A regular expression the whole OIDC issuer must match.
    #[arg(long, value_name = "REGEXP", conflicts_with = "key")]
    certificate_oidc_issuer_regexp: Option<String>,

    /// GitHub repository (owner/repo) the workflow ran in (certificate OID .1.5, or .1.12).
    #[arg(long, value_name = "OWNER/REPO")]
    certificate_github_workflow_repository: Option<String>,

    /// Git ref the workflow ran on, e.g. refs/tags/v1.0.0 (OID .1.6, or .1.14).
    #[arg(long, value_name = "REF")]
    certificate_github_workflow_ref: Option<String>,

    /// Event that triggered the workflow, e.g. push or release (OID .1.2, or .1.20).
    #[arg(long, value_name = "EVENT")]
    certificate_github_workflow_trigger: Option<String>,

    /// Commit the workflow ran on (OID .1.3, or .1.13).
    #[arg(long, value_name = "SHA")]
    certificate_github_workflow_sha: Option<String>,

    /// Workflow display name (OID .1.4).
    #[arg(long, value_name = "NAME")]
    certificate_github_workflow_name: Option<String>,

    /// A PEM public key, for bundles signed with a managed key instead of a certificate.
    #[arg(long, value_name = "PEM")]
    key: Option<PathBuf>,

    #[command(flatten)]
    trust: super::trust_root::TrustArgs,

    /// Print the verified facts, or the rejection, as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VerifyBundleArgs) -> Outcome {
    let json = args.json;
    finish(json, verify(args))
}

fn read_input(path: &std::path::Path, what: &'static str, limit: u64) -> Result<Vec<u8>, Failure> {
    read_file_limited(path, what, limit).map_err(|e| match e {
        ReadLimitedError::Limit(l) => Failure::rejected("bundle-size", l),
        other => Failure::operational(other),
    })
}

fn identity_policy(args: &VerifyBundleArgs) -> Result<IdentityPolicy, Failure> {
    let regex = |s: &str| {
        StringMatch::regex(s)
            .map_err(|e| Failure::operational(format!("invalid regular expression {s:?}: {e}")))
    };
    let identity = match (
        &args.certificate_identity,
        &args.certificate_identity_regexp,
    ) {
        (Some(exact), _) => StringMatch::Exact(exact.clone()),
        (None, Some(re)) => regex(re)?,
        (None, None) => {
            return Err(Failure::operational(
                "--certificate-identity or --certificate-identity-regexp is required",
            ));
        }
    };
    let issuer = match (
        &args.certificate_oidc_issuer,
        &args.certificate_oidc_issuer_regexp,
    ) {
        (Some(exact), _) => StringMatch::Exact(exact.clone()),
        (None, Some(re)) => regex(re)?,
        (None, None) => {
            return Err(Failure::operational(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required with a certificate identity",
            ));
        }
    };
    let claims = [
        (
            Claim::GithubWorkflowRepository,
            &args.certificate_github_workflow_repository,
        ),
        (
            Claim::GithubWorkflowRef,
            &args.certificate_github_workflow_ref,
        ),
        (
            Claim::GithubWorkflowTrigger,
            &args.certificate_github_workflow_trigger,
        ),
        (
            Claim::GithubWorkflowSha,
            &args.certificate_github_workflow_sha,
        ),
        (
            Claim::GithubWorkflowName,
            &args.certificate_github_workflow_name,
        ),
    ]
    .into_iter()
    .filter_map(|(claim, value)| {
        value
            .as_ref()
            .map(|v| (claim, StringMatch::Exact(v.clone())))
    })
    .collect();
    Ok(IdentityPolicy {
        identity: Some(identity),
        issuer: Some(issuer),
        claims,
    })
}

fn verify(args: VerifyBundleArgs) -> Result<Outcome, Failure> {
    let limits = Limits::default();
    let signer = match &args.key {
        Some(path) => {
            let pem = read_input(path, "public key size", 64 * 1024)?;
            let pem = String::from_utf8(pem)
                .map_err(|_| Failure::operational("--key is not a UTF-8 PEM file"))?;
            // Unusable trust material is a rejection, as in the conformance suite: nothing can
            // be verified with it, and failing closed means saying no.
            let key = sigstore_types::DerPublicKey::from_pem(&pem).map_err(|e| {
                Failure::rejected(
                    "public-key",
                    format!("--key {}: not a PEM public key: {e}", path.display()),
                )
            })?;
            Signer::PublicKey(key)
        }
        None => Signer::Certificate(identity_policy(&args)?),
    };
    let roots = args.trust.load()?.roots;

    let bundle_bytes = read_input(&args.bundle, "bundle size", limits.bundle_bytes)?;
    let bundle = sigstore::parse_bundle(&bundle_bytes, &limits)
        .map_err(|e| Failure::rejected(e.check(), e))?;

    let artifact_bytes;
    let artifact = if let Some(hex) = args.artifact.strip_prefix("sha256:") {
        let digest = Digest::from_hex(Algorithm::Sha256, hex)
            .map_err(|e| Failure::operational(format!("artifact digest: {e}")))?;
        ArtifactRef::Digest(digest)
    } else {
        artifact_bytes = read_input(
            std::path::Path::new(&args.artifact),
            "artifact size",
            limits.artifact_bytes,
        )
        .map_err(|f| match f {
            Failure::Rejected { reason, .. } => Failure::rejected("artifact-size", reason),
            other => other,
        })?;
        ArtifactRef::Bytes(&artifact_bytes)
    };

    let verified = sigstore::verify(&bundle, artifact, &signer, &roots)
        .map_err(|e| Failure::rejected(e.check(), e))?;
    if args.json {
        let value = serde_json::json!({"schema": "vetted.verify-bundle/v1", "verdict": "verified", "bundle": verified});
        crate::outln!("{value}");
    } else {
        let who = verified
            .certificate()
            .and_then(|c| c.identity.clone())
            .unwrap_or_else(|| "the given public key".to_string());
        let when = verified
            .signing_time()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "(no time)".into());
        eprintln!(
            "verified: {} signed by {who} at {when} (trust root {})",
            verified.artifact_digest(),
            verified.trust_root()
        );
    }
    Ok(Outcome::Success)
}
