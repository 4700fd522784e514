//! Identity policy: who must have signed. Matching happens on the verified certificate's claims,
//! after the engine has checked the chain, SCT, log and signature.
//!
//! Sigstore client spec, "Verification": "the verifier MUST check the certificate's SAN and
//! issuer extension against the expected identity and issuer". Exact matches are exact: no
//! prefix, suffix or case folding. Regular expressions match the whole string.
use regex::Regex;
use serde::Serialize;
use sigstore_crypto::CertificateInfo;

/// An exact string or a whole-string regular expression.
#[derive(Debug, Clone)]
pub enum StringMatch {
    /// Byte-for-byte equality.
    Exact(String),
    /// A regular expression, anchored at both ends.
    Regex {
        /// The expression as the user wrote it.
        source: String,
        /// The compiled, anchored expression.
        regex: Regex,
    },
}

impl StringMatch {
    /// A whole-string regular expression; `source` is wrapped in `^(?:...)$`.
    pub fn regex(source: &str) -> Result<StringMatch, regex::Error> {
        let regex = Regex::new(&format!("^(?:{source})$"))?;
        Ok(StringMatch::Regex {
            source: source.to_string(),
            regex,
        })
    }

    /// Whether `actual` matches.
    pub fn matches(&self, actual: &str) -> bool {
        match self {
            StringMatch::Exact(expected) => expected == actual,
            StringMatch::Regex { regex, .. } => regex.is_match(actual),
        }
    }
}

impl std::fmt::Display for StringMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StringMatch::Exact(s) => write!(f, "{s}"),
            StringMatch::Regex { source, .. } => write!(f, "/{source}/"),
        }
    }
}

/// A Fulcio certificate claim a policy can pin (cosign's `--certificate-github-workflow-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Claim {
    /// `owner/repo`: OID .1.5 (deprecated), else derived from .1.12 source repository URI.
    GithubWorkflowRepository,
    /// Git ref: OID .1.6 (deprecated), else .1.14.
    GithubWorkflowRef,
    /// Commit: OID .1.3 (deprecated), else .1.13.
    GithubWorkflowSha,
    /// Trigger event: OID .1.2 (deprecated), else .1.20.
    GithubWorkflowTrigger,
    /// Workflow display name: OID .1.4 (no successor).
    GithubWorkflowName,
    /// .1.12 source repository URI.
    SourceRepositoryUri,
    /// .1.14 source repository ref.
    SourceRepositoryRef,
    /// .1.13 source repository digest.
    SourceRepositoryDigest,
    /// .1.9 build signer URI.
    BuildSignerUri,
    /// .1.10 build signer digest.
    BuildSignerDigest,
    /// .1.11 runner environment.
    RunnerEnvironment,
    /// .1.16 source repository owner URI.
    SourceRepositoryOwnerUri,
}

impl Claim {
    /// The flag-like name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Claim::GithubWorkflowRepository => "certificate-github-workflow-repository",
            Claim::GithubWorkflowRef => "certificate-github-workflow-ref",
            Claim::GithubWorkflowSha => "certificate-github-workflow-sha",
            Claim::GithubWorkflowTrigger => "certificate-github-workflow-trigger",
            Claim::GithubWorkflowName => "certificate-github-workflow-name",
            Claim::SourceRepositoryUri => "source-repository-uri",
            Claim::SourceRepositoryRef => "source-repository-ref",
            Claim::SourceRepositoryDigest => "source-repository-digest",
            Claim::BuildSignerUri => "build-signer-uri",
            Claim::BuildSignerDigest => "build-signer-digest",
            Claim::RunnerEnvironment => "runner-environment",
            Claim::SourceRepositoryOwnerUri => "source-repository-owner-uri",
        }
    }

    /// The claim's value in a certificate, if present.
    pub fn read(self, info: &CertificateInfo) -> Option<String> {
        let c = &info.ci_claims;
        let d = &c.deprecated_github;
        match self {
            Claim::GithubWorkflowRepository => d.workflow_repository.clone().or_else(|| {
                c.source_repository_uri
                    .as_deref()
                    .and_then(|u| u.strip_prefix("https://github.com/"))
                    .map(str::to_string)
            }),
            Claim::GithubWorkflowRef => d
                .workflow_ref
                .clone()
                .or_else(|| c.source_repository_ref.clone()),
            Claim::GithubWorkflowSha => d
                .workflow_sha
                .clone()
                .or_else(|| c.source_repository_digest.clone()),
            Claim::GithubWorkflowTrigger => d
                .workflow_trigger
                .clone()
                .or_else(|| c.build_trigger.clone()),
            Claim::GithubWorkflowName => d.workflow_name.clone(),
            Claim::SourceRepositoryUri => c.source_repository_uri.clone(),
            Claim::SourceRepositoryRef => c.source_repository_ref.clone(),
            Claim::SourceRepositoryDigest => c.source_repository_digest.clone(),
            Claim::BuildSignerUri => c.build_signer_uri.clone(),
            Claim::BuildSignerDigest => c.build_signer_digest.clone(),
            Claim::RunnerEnvironment => c.runner_environment.clone(),
            Claim::SourceRepositoryOwnerUri => c.source_repository_owner_uri.clone(),
        }
    }
}

/// Who must have signed a keyless bundle.
#[derive(Debug, Clone, Default)]
pub struct IdentityPolicy {
    /// The certificate's SAN (email or URI).
    pub identity: Option<StringMatch>,
    /// The OIDC issuer extension (OID .1.8, or the deprecated .1.1).
    pub issuer: Option<StringMatch>,
    /// Further claims, each must be present and match.
    pub claims: Vec<(Claim, StringMatch)>,
}

/// A policy mismatch: which claim, what was expected, what the certificate says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{claim} mismatch: expected {expected}, certificate says {}", actual.as_deref().unwrap_or("(absent)"))]
pub struct PolicyMismatch {
    /// The claim ("certificate-identity", "certificate-oidc-issuer", or a [`Claim`] name).
    pub claim: &'static str,
    /// What the policy requires.
    pub expected: String,
    /// What the certificate says, if anything.
    pub actual: Option<String>,
}

impl IdentityPolicy {
    /// Whether the policy pins at least the identity and the issuer (what a safe verification
    /// of a keyless bundle needs).
    pub fn is_complete(&self) -> bool {
        self.identity.is_some() && self.issuer.is_some()
    }

    /// Check a verified certificate against the policy.
    pub fn check(&self, info: &CertificateInfo) -> Result<(), PolicyMismatch> {
        let identity = info.identity.as_ref().map(|s| s.as_str().to_string());
        self.check_values(identity, info.issuer.clone(), |claim| claim.read(info))
    }

    /// Check already-read certificate values against the policy: the SAN, the OIDC issuer and
    /// a lookup of each claim. [`IdentityPolicy::check`] uses it with a verified certificate;
    /// tests use it to exercise policies built from command-line flags.
    pub fn check_values(
        &self,
        identity: Option<String>,
        issuer: Option<String>,
        claim_value: impl Fn(Claim) -> Option<String>,
    ) -> Result<(), PolicyMismatch> {
        check_one("certificate-identity", self.identity.as_ref(), identity)?;
        check_one("certificate-oidc-issuer", self.issuer.as_ref(), issuer)?;
        for (claim, expected) in &self.claims {
            check_one(claim.name(), Some(expected), claim_value(*claim))?;
        }
        Ok(())
    }
}

fn check_one(
    claim: &'static str,
    expected: Option<&StringMatch>,
    actual: Option<String>,
) -> Result<(), PolicyMismatch> {
    let Some(expected) = expected else {
        return Ok(());
    };
    match actual {
        Some(a) if expected.matches(&a) => Ok(()),
        actual => Err(PolicyMismatch {
            claim,
            expected: expected.to_string(),
            actual,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_is_exact() {
        let m = StringMatch::Exact(
            "https://github.com/a/b/.github/workflows/x.yml@refs/heads/main".into(),
        );
        assert!(m.matches("https://github.com/a/b/.github/workflows/x.yml@refs/heads/main"));
        for wrong in [
            "https://github.com/a/b/.github/workflows/x.yml@refs/heads/mai",
            "https://github.com/a/b/.github/workflows/x.yml@refs/heads/main2",
            "xhttps://github.com/a/b/.github/workflows/x.yml@refs/heads/main",
            "HTTPS://github.com/a/b/.github/workflows/x.yml@refs/heads/main",
            "",
        ] {
            assert!(!m.matches(wrong), "{wrong}");
        }
    }

    #[test]
    fn regex_is_anchored_at_both_ends() {
        let m = StringMatch::regex("https://github.com/a/.*").expect("regex");
        assert!(m.matches("https://github.com/a/b"));
        assert!(!m.matches("xhttps://github.com/a/b"));
        let m = StringMatch::regex("a|b").expect("regex");
        assert!(m.matches("a"));
        assert!(!m.matches("ab"), "alternation must not escape the anchors");
        assert!(!m.matches("xa"));
    }
}
