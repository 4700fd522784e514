//! GitHub artifact attestations, verified as `gh attestation verify` does, offline: bundles
//! from the public-good instance or GitHub's own (timestamp authority, no transparency log),
//! each checked against the pinned root its certificate's issuer names.
//!
//! gh's defaults (cli/cli `pkg/cmd/attestation/verify`): the predicate type is SLSA provenance
//! v1; the certificate's SAN must be a workflow of `--repo` (or of `--owner`) unless
//! `--signer-repo`, `--signer-workflow` or `--cert-identity` says otherwise; the OIDC issuer is
//! GitHub Actions'; bundles older than v0.2 are not accepted.
use super::dsse;
use super::statement::Statement;
use super::{ProvenanceAccepted, ProvenanceError, ProvenanceFacts, subject_facts};
use crate::digest::Digest;
use crate::limits::Limits;
use crate::sigstore::{self, ArtifactRef, Claim, IdentityPolicy, Signer, StringMatch};
use crate::trust::TrustRoots;

/// The SAN of GitHub's release attestations.
pub const RELEASE_SIGNER: &str = "https://dotcom.releases.github.com";
/// The predicate type prefix of GitHub release attestations.
pub const RELEASE_PREDICATE_PREFIX: &str = "https://in-toto.io/attestation/release/";

/// What `gh attestation verify` enforces, by its flags.
#[derive(Debug, Clone)]
pub struct GhAttestationPolicy {
    /// `--owner`.
    pub owner: Option<String>,
    /// `--repo` (owner/name).
    pub repo: Option<String>,
    /// `--signer-repo` (owner/name of the reusable workflow's repository).
    pub signer_repo: Option<String>,
    /// `--signer-workflow` (`[host/]owner/repo/path`).
    pub signer_workflow: Option<String>,
    /// `--cert-identity` / `--cert-identity-regex`.
    pub cert_identity: Option<StringMatch>,
    /// `--cert-oidc-issuer`.
    pub cert_oidc_issuer: String,
    /// `--predicate-type`.
    pub predicate_type: String,
    /// `--deny-self-hosted-runners`.
    pub deny_self_hosted_runners: bool,
    /// `--source-ref`.
    pub source_ref: Option<String>,
    /// `--source-digest`.
    pub source_digest: Option<String>,
    /// `--signer-digest`.
    pub signer_digest: Option<String>,
    /// `--hostname`.
    pub hostname: String,
}

impl Default for GhAttestationPolicy {
    fn default() -> Self {
        GhAttestationPolicy {
            owner: None,
            repo: None,
            signer_repo: None,
            signer_workflow: None,
            cert_identity: None,
            cert_oidc_issuer: super::GITHUB_ACTIONS_ISSUER.into(),
            predicate_type: super::slsa::PREDICATE_SLSA_V1.into(),
            deny_self_hosted_runners: false,
            source_ref: None,
            source_digest: None,
            signer_digest: None,
            hostname: "github.com".into(),
        }
    }
}

fn prefix_regex(prefix: &str) -> Result<StringMatch, ProvenanceError> {
    StringMatch::regex(&format!("{}.*", regex::escape(prefix)))
        .map_err(|e| ProvenanceError::Usage(e.to_string()))
}

impl GhAttestationPolicy {
    /// The certificate identity policy these flags mean.
    pub fn identity_policy(&self) -> Result<IdentityPolicy, ProvenanceError> {
        let host = &self.hostname;
        let identity = if let Some(m) = &self.cert_identity {
            m.clone()
        } else if let Some(w) = &self.signer_workflow {
            // `--signer-workflow` may include the host; the workflow is followed by `@ref`.
            let w = w.trim_start_matches("https://");
            let full = if w.starts_with(&format!("{host}/")) {
                format!("https://{w}")
            } else {
                format!("https://{host}/{w}")
            };
            StringMatch::regex(&format!("{}(?:@.*)?", regex::escape(&full)))
                .map_err(|e| ProvenanceError::Usage(e.to_string()))?
        } else if let Some(r) = &self.signer_repo {
            prefix_regex(&format!("https://{host}/{r}/"))?
        } else if let Some(r) = &self.repo {
            prefix_regex(&format!("https://{host}/{r}/"))?
        } else if let Some(o) = &self.owner {
            prefix_regex(&format!("https://{host}/{o}/"))?
        } else {
            return Err(ProvenanceError::Usage(
                "one of --owner or --repo is required".into(),
            ));
        };
        let mut claims = Vec::new();
        if let Some(o) = &self.owner {
            claims.push((
                Claim::SourceRepositoryOwnerUri,
                StringMatch::Exact(format!("https://{host}/{o}")),
            ));
        }
        if let Some(r) = &self.repo {
            claims.push((
                Claim::SourceRepositoryUri,
                StringMatch::Exact(format!("https://{host}/{r}")),
            ));
        }
        if self.deny_self_hosted_runners {
            claims.push((
                Claim::RunnerEnvironment,
                StringMatch::Exact("github-hosted".into()),
            ));
        }
        for (claim, value) in [
            (Claim::SourceRepositoryRef, &self.source_ref),
            (Claim::SourceRepositoryDigest, &self.source_digest),
            (Claim::BuildSignerDigest, &self.signer_digest),
        ] {
            if let Some(v) = value {
                claims.push((claim, StringMatch::Exact(v.clone())));
            }
        }
        Ok(IdentityPolicy {
            identity: Some(identity),
            issuer: Some(StringMatch::Exact(self.cert_oidc_issuer.clone())),
            claims,
        })
    }
}

/// gh accepts bundles v0.2 and later only.
fn check_bundle_version(bundle: &sigstore::ParsedBundle) -> Result<(), ProvenanceError> {
    let media_type = bundle.inner().media_type().as_str().to_string();
    if media_type.ends_with("version=0.1") {
        return Err(ProvenanceError::mismatch(
            "bundle-version",
            "a Sigstore bundle v0.2 or later",
            media_type,
        ));
    }
    Ok(())
}

/// `gh attestation verify`: one of the bundles in `bundles` (a bundle or JSON lines of bundles)
/// verifies for `artifact` under `policy`.
pub fn verify_gh_attestation(
    artifact: &Digest,
    bundles: &[u8],
    policy: &GhAttestationPolicy,
    roots: &TrustRoots,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    let signer = Signer::Certificate(policy.identity_policy()?);
    let documents = dsse::parse_documents(bundles, limits)?;
    super::first_accepted(documents, |bundle| {
        check_bundle_version(bundle)?;
        let verified = sigstore::verify(
            bundle,
            ArtifactRef::Digest(artifact.clone()),
            &signer,
            roots,
        )?;
        let (_, payload) = verified.dsse_payload().ok_or_else(|| {
            ProvenanceError::Malformed("the bundle signs a message, not an attestation".into())
        })?;
        let statement = Statement::parse(payload, limits)?;
        statement.require_predicate_type(&policy.predicate_type)?;
        statement.require_subject(artifact)?;
        let cert = verified.certificate();
        let facts = ProvenanceFacts {
            predicate_type: statement.predicate_type.clone(),
            builder: cert.and_then(|c| c.build_signer_uri.clone()),
            source_repository: cert
                .and_then(|c| c.source_repository_uri.as_deref())
                .map(super::slsa::normalize_source),
            source_ref: cert.and_then(|c| c.source_repository_ref.clone()),
            source_commit: cert.and_then(|c| c.source_repository_digest.clone()),
            workflow: cert.and_then(|c| c.build_config_uri.clone()),
            trigger: cert.and_then(|c| c.build_trigger.clone()),
            invocation: cert.and_then(|c| c.run_invocation_uri.clone()),
            signer: cert.and_then(|c| c.identity.clone()),
            issuer: cert.and_then(|c| c.issuer.clone()),
            verified_by: verified.trust_root().to_string(),
            signing_time: verified.signing_time(),
            subjects: subject_facts(&statement),
            ..ProvenanceFacts::default()
        };
        Ok(ProvenanceAccepted::new(facts, &statement))
    })
}

/// A GitHub release attestation (`gh release verify-asset`): signed by GitHub's release
/// service ([`RELEASE_SIGNER`]) on GitHub's instance, a release predicate naming `repo` (and
/// `tag`, when given), and `artifact` among its subjects. Release assets are identified by
/// digest only.
pub fn verify_release_attestation(
    artifact: &Digest,
    bundle: &[u8],
    repo: &str,
    tag: Option<&str>,
    roots: &TrustRoots,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    let signer = Signer::Certificate(IdentityPolicy {
        identity: Some(StringMatch::Exact(RELEASE_SIGNER.into())),
        issuer: None,
        claims: Vec::new(),
    });
    let documents = dsse::parse_documents(bundle, limits)?;
    super::first_accepted(documents, |b| {
        let verified = sigstore::verify(b, ArtifactRef::Digest(artifact.clone()), &signer, roots)?;
        let (_, payload) = verified.dsse_payload().ok_or_else(|| {
            ProvenanceError::Malformed("the bundle signs a message, not an attestation".into())
        })?;
        let statement = Statement::parse(payload, limits)?;
        if !statement
            .predicate_type
            .starts_with(RELEASE_PREDICATE_PREFIX)
        {
            return Err(ProvenanceError::mismatch(
                "predicate-type",
                format!("{RELEASE_PREDICATE_PREFIX}*"),
                &statement.predicate_type,
            ));
        }
        statement.require_subject(artifact)?;
        let p_repo = statement
            .predicate
            .get("repository")
            .and_then(|v| v.as_str());
        if p_repo != Some(repo) {
            return Err(ProvenanceError::mismatch(
                "repository",
                repo,
                p_repo.unwrap_or("(absent)"),
            ));
        }
        let p_tag = statement.predicate.get("tag").and_then(|v| v.as_str());
        if let Some(t) = tag
            && p_tag != Some(t)
        {
            return Err(ProvenanceError::mismatch(
                "source-tag",
                t,
                p_tag.unwrap_or("(absent)"),
            ));
        }
        let facts = ProvenanceFacts {
            predicate_type: statement.predicate_type.clone(),
            source_repository: Some(format!("github.com/{repo}")),
            source_ref: p_tag.map(|t| format!("refs/tags/{t}")),
            signer: Some(RELEASE_SIGNER.into()),
            issuer: None,
            verified_by: verified.trust_root().to_string(),
            signing_time: verified.signing_time(),
            subjects: subject_facts(&statement),
            ..ProvenanceFacts::default()
        };
        Ok(ProvenanceAccepted::new(facts, &statement))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigstore::Claim;

    const SAN: &str = "https://github.com/o/r/.github/workflows/build.yml@refs/heads/main";

    fn claims(runner: &'static str) -> impl Fn(Claim) -> Option<String> {
        move |c| match c {
            Claim::SourceRepositoryOwnerUri => Some("https://github.com/o".into()),
            Claim::SourceRepositoryUri => Some("https://github.com/o/r".into()),
            Claim::RunnerEnvironment => Some(runner.into()),
            Claim::SourceRepositoryRef => Some("refs/heads/main".into()),
            Claim::SourceRepositoryDigest => Some("abc".into()),
            Claim::BuildSignerDigest => Some("def".into()),
            _ => None,
        }
    }

    fn check(policy: &GhAttestationPolicy, runner: &'static str) -> Result<(), &'static str> {
        policy
            .identity_policy()
            .expect("policy")
            .check_values(
                Some(SAN.into()),
                Some(crate::provenance::GITHUB_ACTIONS_ISSUER.into()),
                claims(runner),
            )
            .map_err(|m| m.claim)
    }

    #[test]
    fn deny_self_hosted_runners() {
        let policy = GhAttestationPolicy {
            owner: Some("o".into()),
            deny_self_hosted_runners: true,
            ..GhAttestationPolicy::default()
        };
        assert_eq!(check(&policy, "github-hosted"), Ok(()));
        assert_eq!(check(&policy, "self-hosted"), Err("runner-environment"));
        let allow = GhAttestationPolicy {
            owner: Some("o".into()),
            ..GhAttestationPolicy::default()
        };
        assert_eq!(check(&allow, "self-hosted"), Ok(()));
    }

    #[test]
    fn owner_repo_and_claim_flags() {
        let base = GhAttestationPolicy {
            owner: Some("o".into()),
            ..GhAttestationPolicy::default()
        };
        let other_owner = GhAttestationPolicy {
            owner: Some("x".into()),
            ..GhAttestationPolicy::default()
        };
        assert_eq!(check(&base, "github-hosted"), Ok(()));
        assert_eq!(
            check(&other_owner, "github-hosted"),
            Err("certificate-identity")
        );
        let repo = |r: &str| GhAttestationPolicy {
            repo: Some(r.into()),
            ..GhAttestationPolicy::default()
        };
        assert_eq!(check(&repo("o/r"), "github-hosted"), Ok(()));
        assert_eq!(
            check(&repo("o/r2"), "github-hosted"),
            Err("certificate-identity")
        );
        let with = |f: &dyn Fn(&mut GhAttestationPolicy)| {
            let mut p = base.clone();
            f(&mut p);
            check(&p, "github-hosted")
        };
        assert_eq!(
            with(&|p| p.source_ref = Some("refs/heads/main".into())),
            Ok(())
        );
        assert_eq!(
            with(&|p| p.source_ref = Some("refs/heads/dev".into())),
            Err("source-repository-ref")
        );
        assert_eq!(with(&|p| p.source_digest = Some("abc".into())), Ok(()));
        assert_eq!(
            with(&|p| p.source_digest = Some("abd".into())),
            Err("source-repository-digest")
        );
        assert_eq!(with(&|p| p.signer_digest = Some("def".into())), Ok(()));
        assert_eq!(
            with(&|p| p.signer_digest = Some("deg".into())),
            Err("build-signer-digest")
        );
        assert_eq!(
            with(&|p| p.cert_oidc_issuer = "https://example.com".into()),
            Err("certificate-oidc-issuer")
        );
        assert_eq!(
            with(&|p| p.hostname = "ghe.example.com".into()),
            Err("certificate-identity")
        );
    }

    #[test]
    fn signer_workflow_with_or_without_host() {
        for w in [
            "github.com/o/r/.github/workflows/build.yml",
            "o/r/.github/workflows/build.yml",
        ] {
            let p = GhAttestationPolicy {
                owner: Some("o".into()),
                signer_workflow: Some(w.into()),
                ..GhAttestationPolicy::default()
            };
            assert_eq!(check(&p, "github-hosted"), Ok(()), "{w}");
        }
        let p = GhAttestationPolicy {
            owner: Some("o".into()),
            signer_workflow: Some("o/r/.github/workflows/build.yml.evil".into()),
            ..GhAttestationPolicy::default()
        };
        assert_eq!(check(&p, "github-hosted"), Err("certificate-identity"));
        let none = GhAttestationPolicy::default();
        assert!(matches!(
            none.identity_policy(),
            Err(ProvenanceError::Usage(_))
        ));
    }
}
