//! Provenance: DSSE envelopes and in-toto statements, SLSA provenance v0.2 and v1, npm publish
//! attestations, GitHub artifact attestations and verification summary attestations (VSA).
//!
//! Each entry point takes the evidence as bytes, verifies its signature offline against pinned
//! roots (through [`crate::sigstore`]), reads the statement once into domain types and applies
//! the policy. Success is a [`ProvenanceAccepted`], which only this module constructs.
//!
//! SLSA v1.0 "Verifying artifacts" (slsa.dev/spec/v1.0/verifying-artifacts), "How to verify":
//! "Ensuring that the builder identity is one of those in the map of trusted builder id's to
//! SLSA level." / "Verifying the signature on the provenance envelope." / "Ensuring that the
//! values for buildType and externalParameters in the provenance match the expected values."
//! The signature is checked by [`crate::sigstore::verify`], the builder by `evaluate_builder`,
//! the build type by [`slsa::Provenance::from_statement`], the source and ref by [`slsa`].
use crate::digest::{Digest, Digests};
use crate::limits::{LimitExceeded, Limits};
use crate::sigstore::{
    self, ArtifactRef, IdentityPolicy, Signer, SigstoreError, StringMatch, VerifiedBundle,
};
use crate::trust::TrustRoots;
use crate::trust::npm_keys::NpmKeyError;
use jiff::Timestamp;
use serde::Serialize;

pub mod dsse;
pub mod github;
pub mod npm;
pub mod slsa;
pub mod statement;
pub mod vsa;

pub use github::{GhAttestationPolicy, verify_gh_attestation, verify_release_attestation};
pub use npm::{NpmPackageRef, verify_npm_attestations, verify_npm_package};
pub use vsa::{VsaPolicy, verify_vsa};

use dsse::Document;
use slsa::Provenance;
use statement::Statement;

/// The OIDC issuer of GitHub Actions' tokens: the only issuer SLSA provenance from GitHub
/// Actions builders is accepted from.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Why provenance was rejected. `check()` names the failed check; the message says expected vs
/// actual.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// The document is not what it claims to be (bad JSON, bad base64, two signatures, ...).
    #[error("malformed provenance: {0}")]
    Malformed(String),
    /// A limit was crossed.
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    /// A bare DSSE envelope: offline there is no transparency-log evidence to verify.
    #[error(
        "no transparency-log evidence: the provenance is a bare DSSE envelope, which cannot be verified offline (expected a Sigstore bundle with a log entry; slsa-verifier would look it up on rekor.sigstore.dev)"
    )]
    NoTransparencyLog,
    /// The Sigstore bundle did not verify.
    #[error("{0}")]
    Sigstore(#[from] SigstoreError),
    /// An npm registry signature did not verify.
    #[error("{0}")]
    NpmKey(#[from] NpmKeyError),
    /// A signature over a DSSE envelope did not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// The build type is not one vetted knows how to read.
    #[error("build-type mismatch: expected a known build type, provenance says {build_type}")]
    UnknownBuildType {
        /// The build type.
        build_type: String,
    },
    /// A policy value does not match.
    #[error("{check} mismatch: expected {expected}, provenance says {actual}")]
    Mismatch {
        /// The check (`source`, `builder-id`, `source-tag`, ...).
        check: &'static str,
        /// What the policy requires.
        expected: String,
        /// What the evidence says.
        actual: String,
    },
    /// The policy itself is unusable (a usage error, exit 2).
    #[error("invalid policy: {0}")]
    Usage(String),
}

impl ProvenanceError {
    /// A mismatch.
    pub fn mismatch(
        check: &'static str,
        expected: impl ToString,
        actual: impl ToString,
    ) -> ProvenanceError {
        ProvenanceError::Mismatch {
            check,
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }

    /// The short, stable name of the failed check.
    pub fn check(&self) -> &'static str {
        match self {
            ProvenanceError::Malformed(_) => "provenance-format",
            ProvenanceError::Limit(_) => "limits",
            ProvenanceError::NoTransparencyLog => "transparency-log",
            ProvenanceError::Sigstore(e) => e.check(),
            ProvenanceError::NpmKey(_) => "npm-registry-signature",
            ProvenanceError::Signature(_) => "signature",
            ProvenanceError::UnknownBuildType { .. } => "build-type",
            ProvenanceError::Mismatch { check, .. } => check,
            ProvenanceError::Usage(_) => "usage",
        }
    }
}

/// What the provenance must say (slsa-verifier's flags).
#[derive(Debug, Clone, Default)]
pub struct ProvenancePolicy {
    /// `--source-uri`: the source repository, e.g. `github.com/owner/repo`.
    pub source_uri: String,
    /// `--builder-id`: `name[@ref]`; when absent, the builder must be a trusted one.
    pub builder_id: Option<String>,
    /// `--source-tag`: the exact tag built.
    pub source_tag: Option<String>,
    /// `--source-versioned-tag`: a semver tag prefix (`v1`, `v1.2`).
    pub source_versioned_tag: Option<String>,
    /// `--source-branch`: the branch built.
    pub source_branch: Option<String>,
    /// `--build-workflow-input k=v`.
    pub workflow_inputs: Vec<(String, String)>,
}

/// One subject, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectFact {
    /// Name.
    pub name: String,
    /// Digests (`alg:hex`).
    pub digests: Vec<String>,
}

/// The verified facts, for reports and `--json`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ProvenanceFacts {
    /// Predicate type.
    pub predicate_type: String,
    /// The builder that is trusted for this build.
    pub builder: Option<String>,
    /// Build type.
    pub build_type: Option<String>,
    /// Source repository (`github.com/owner/repo`).
    pub source_repository: Option<String>,
    /// Git ref built.
    pub source_ref: Option<String>,
    /// Commit built.
    pub source_commit: Option<String>,
    /// Workflow that ran.
    pub workflow: Option<String>,
    /// Triggering event.
    pub trigger: Option<String>,
    /// Invocation id.
    pub invocation: Option<String>,
    /// The signer's identity (certificate SAN, or the key id).
    pub signer: Option<String>,
    /// The signing certificate's OIDC issuer, when the signature was keyless.
    pub issuer: Option<String>,
    /// The trust root or key that verified the signature.
    pub verified_by: String,
    /// Verified signing time.
    pub signing_time: Option<Timestamp>,
    /// Subjects.
    pub subjects: Vec<SubjectFact>,
}

/// Proof that provenance was verified and met the policy. Only this module constructs it.
#[derive(Debug, Clone, Serialize)]
pub struct ProvenanceAccepted {
    facts: ProvenanceFacts,
    #[serde(skip)]
    statement: serde_json::Value,
}

impl ProvenanceAccepted {
    fn new(facts: ProvenanceFacts, statement: &Statement) -> ProvenanceAccepted {
        ProvenanceAccepted {
            facts,
            statement: statement.json.clone(),
        }
    }

    /// The verified facts.
    pub fn facts(&self) -> &ProvenanceFacts {
        &self.facts
    }

    /// The verified statement (for `--print-provenance`).
    pub fn statement(&self) -> &serde_json::Value {
        &self.statement
    }
}

fn subject_facts(statement: &Statement) -> Vec<SubjectFact> {
    statement
        .subjects
        .iter()
        .map(|s| SubjectFact {
            name: s.name.clone(),
            digests: s.digest.iter().map(|(a, v)| format!("{a}:{v}")).collect(),
        })
        .collect()
}

/// Which kind of command is evaluating, deciding how the builder is identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// slsa-verifier `verify-artifact`: slsa-github-generator builders.
    Artifact,
    /// slsa-verifier `verify-npm-package`: npm CLI on GitHub-hosted runners, or generator builders.
    Npm,
    /// slsa-verifier `verify-github-attestation`: the signing workflow is the builder.
    GithubAttestation,
}

const GENERATOR_WORKFLOWS: &str =
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/";
/// slsa-github-generator's trusted reusable workflows that sign their own provenance.
const TRUSTED_REUSABLE_WORKFLOWS: &[&str] = &[
    "generator_generic_slsa3.yml",
    "generator_container_slsa3.yml",
    "builder_go_slsa3.yml",
    "builder_container-based_slsa3.yml",
];
/// The delegator workflows of slsa-github-generator's "bring your own builder" framework: the
/// certificate names the delegator, the provenance's builder.id names the builder it ran.
const DELEGATOR_WORKFLOWS: &[&str] = &[
    "delegator_generic_slsa3.yml",
    "delegator_lowperms-generic_slsa3.yml",
];
/// npm CLI's builder on GitHub-hosted runners, v0.2 and v1 spellings, and on self-hosted
/// runners (slsa-verifier `common.NpmCLILegacyBuilderID`, `NpmCLIHostedBuilderID`,
/// `NpmCLISelfHostedBuilderID`, verifiers/internal/gha/slsaprovenance/common/builders.go).
const NPM_RUNNER_V02: &str = "https://github.com/actions/runner";
const NPM_RUNNER_V1: &str = "https://github.com/actions/runner/github-hosted";
const NPM_RUNNER_SELF_HOSTED: &str = "https://github.com/actions/runner/self-hosted";
/// The only delegator slsa-verifier trusts for npm packages (`verifyNpmEnvAndCert` verifies
/// the signer against `common.GenericLowPermsDelegatorBuilderID`).
const NPM_DELEGATOR: &str = "delegator_lowperms-generic_slsa3.yml";
/// Runner environments a Fulcio certificate names (OID 1.3.6.1.4.1.57264.1.11).
const GITHUB_HOSTED: &str = "github-hosted";
const SELF_HOSTED: &str = "self-hosted";

fn split_ref(id: &str) -> (&str, Option<&str>) {
    match id.rsplit_once('@') {
        Some((n, r)) => (n, Some(r)),
        None => (id, None),
    }
}

/// slsa-github-generator builders must be referenced at a release tag `refs/tags/vX.Y.Z`.
fn check_builder_release_ref(signer: &str) -> Result<(), ProvenanceError> {
    let (_, r) = split_ref(signer);
    let ok = r
        .and_then(|r| r.strip_prefix("refs/tags/v"))
        .is_some_and(|v| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        });
    if ok {
        Ok(())
    } else {
        Err(ProvenanceError::mismatch(
            "builder-ref",
            "a trusted builder at a release tag refs/tags/vX.Y.Z",
            signer,
        ))
    }
}

/// Decide which builder is trusted for this build and check it against `--builder-id`.
fn evaluate_builder(
    flavor: Flavor,
    signer: &str,
    runner: Option<&str>,
    provenance: &Provenance,
    expected: Option<&str>,
) -> Result<String, ProvenanceError> {
    if flavor == Flavor::GithubAttestation {
        // The certificate's build signer is the builder (slsa-verifier: the signing workflow
        // must match --builder-id, ErrorUntrustedReusableWorkflow otherwise).
        let expected =
            expected.ok_or_else(|| ProvenanceError::Usage("--builder-id is required".into()))?;
        if !slsa::builder_matches(expected, signer) {
            return Err(ProvenanceError::mismatch("builder-id", expected, signer));
        }
        return Ok(signer.to_string());
    }
    let runner_builder = matches!(
        (provenance.version, provenance.builder_id.as_str()),
        (slsa::SlsaVersion::V02, NPM_RUNNER_V02)
            | (
                slsa::SlsaVersion::V1,
                NPM_RUNNER_V1 | NPM_RUNNER_SELF_HOSTED
            )
    );
    if flavor == Flavor::Npm && runner_builder {
        // npm CLI provenance: the builder is the runner. v0.2 predates the `/github-hosted`
        // suffix, so for v0.2 both spellings name the same builder; v1 must be spelled in
        // full. slsa-verifier (`verifyNpmEnvAndCert`, verifiers/internal/gha/verifier.go)
        // accepts only the three runner builder IDs here, and only when the certificate's
        // runner environment agrees ("hosted status unknown" is not supported): the
        // provenance's builder.id comes from the workflow and is forgeable, the certificate's
        // claim is not.
        if let Some(e) = expected
            && ![NPM_RUNNER_V02, NPM_RUNNER_V1, NPM_RUNNER_SELF_HOSTED].contains(&e)
        {
            return Err(ProvenanceError::mismatch(
                "builder-id",
                format!(
                    "one of {NPM_RUNNER_V1}, {NPM_RUNNER_SELF_HOSTED} (or {NPM_RUNNER_V02}) for npm CLI provenance"
                ),
                e,
            ));
        }
        let want = if provenance.builder_id == NPM_RUNNER_SELF_HOSTED {
            SELF_HOSTED
        } else {
            GITHUB_HOSTED
        };
        match runner {
            Some(r) if r == want => {}
            other => {
                return Err(ProvenanceError::mismatch(
                    "runner-environment",
                    format!(
                        "{want} in the certificate (builder.id {})",
                        provenance.builder_id
                    ),
                    other.unwrap_or("none"),
                ));
            }
        }
        if let Some(e) = expected {
            let ok = e == provenance.builder_id
                || (provenance.version == slsa::SlsaVersion::V02 && e == NPM_RUNNER_V1);
            if !ok {
                return Err(ProvenanceError::mismatch(
                    "builder-id",
                    e,
                    &provenance.builder_id,
                ));
            }
        }
        return Ok(provenance.builder_id.clone());
    }
    let (name, _) = split_ref(signer);
    let workflow = name.strip_prefix(GENERATOR_WORKFLOWS);
    if workflow.is_some_and(|w| DELEGATOR_WORKFLOWS.contains(&w)) {
        if flavor == Flavor::Npm {
            // slsa-verifier `verifyNpmEnvAndCert`: npm trusts the low-permission delegator
            // only, and not on a self-hosted runner.
            if workflow != Some(NPM_DELEGATOR) {
                return Err(ProvenanceError::mismatch(
                    "builder-id",
                    format!("{GENERATOR_WORKFLOWS}{NPM_DELEGATOR} (the delegator npm trusts)"),
                    signer,
                ));
            }
            if runner.is_some_and(|r| r != GITHUB_HOSTED) {
                return Err(ProvenanceError::mismatch(
                    "runner-environment",
                    GITHUB_HOSTED,
                    runner.unwrap_or_default(),
                ));
            }
        }
        check_builder_release_ref(signer)?;
        let builder = &provenance.builder_id;
        match expected {
            Some(e) if !slsa::builder_matches(e, builder) => {
                Err(ProvenanceError::mismatch("builder-id", e, builder))
            }
            Some(_) => Ok(builder.clone()),
            None if builder.starts_with(GENERATOR_WORKFLOWS) => Ok(builder.clone()),
            None => Err(ProvenanceError::mismatch(
                "builder-id",
                format!("a builder under {GENERATOR_WORKFLOWS} (or pass --builder-id)"),
                builder,
            )),
        }
    } else if workflow.is_some_and(|w| TRUSTED_REUSABLE_WORKFLOWS.contains(&w)) {
        check_builder_release_ref(signer)?;
        if provenance.builder_id != signer {
            return Err(ProvenanceError::mismatch(
                "builder-consistency",
                format!("builder.id {signer} (the certificate's signer)"),
                &provenance.builder_id,
            ));
        }
        match expected {
            Some(e) if !slsa::builder_matches(e, signer) => {
                Err(ProvenanceError::mismatch("builder-id", e, signer))
            }
            _ => Ok(signer.to_string()),
        }
    } else {
        Err(ProvenanceError::mismatch(
            "builder-id",
            format!("a trusted slsa-github-generator workflow under {GENERATOR_WORKFLOWS}"),
            format!("{signer} (untrusted reusable workflow)"),
        ))
    }
}

/// Evaluate a verified SLSA provenance bundle: statement, subjects, builder, source, refs.
pub(crate) fn evaluate_slsa(
    flavor: Flavor,
    verified: &VerifiedBundle,
    artifacts: &[&Digest],
    policy: &ProvenancePolicy,
    limits: &Limits,
) -> Result<(ProvenanceFacts, Statement, Provenance), ProvenanceError> {
    let (payload_type, payload) = verified.dsse_payload().ok_or_else(|| {
        ProvenanceError::Malformed("the bundle signs a message, not a DSSE statement".into())
    })?;
    if payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(ProvenanceError::mismatch(
            "payload-type",
            dsse::IN_TOTO_PAYLOAD_TYPE,
            payload_type,
        ));
    }
    let statement = Statement::parse(payload, limits)?;
    for digest in artifacts {
        statement.require_subject(digest)?;
    }
    let provenance = Provenance::from_statement(&statement)?;
    let cert = verified.certificate().ok_or_else(|| {
        ProvenanceError::Malformed("SLSA provenance must be signed with a certificate".into())
    })?;
    let signer = cert
        .build_signer_uri
        .clone()
        .or_else(|| cert.identity.clone())
        .unwrap_or_default();
    let builder = evaluate_builder(
        flavor,
        &signer,
        cert.runner_environment.as_deref(),
        &provenance,
        policy.builder_id.as_deref(),
    )?;

    // Source: the policy against the provenance, then the provenance against the certificate,
    // whose claims come from the OIDC token rather than from the build.
    slsa::check_source(&policy.source_uri, &provenance.source_uri)?;
    if let Some(cert_repo) = &cert.source_repository_uri
        && slsa::normalize_source(cert_repo) != provenance.source_repository()
    {
        return Err(ProvenanceError::mismatch(
            "source-consistency",
            format!(
                "{} (the certificate's source repository)",
                slsa::normalize_source(cert_repo)
            ),
            provenance.source_repository(),
        ));
    }
    if let (Some(cert_ref), Some(prov_ref)) = (&cert.source_repository_ref, &provenance.source_ref)
        && cert_ref != prov_ref
    {
        return Err(ProvenanceError::mismatch(
            "ref-consistency",
            format!("{cert_ref} (the certificate's source ref)"),
            prov_ref,
        ));
    }
    let source_ref = provenance.source_ref.as_deref();
    if let Some(tag) = &policy.source_tag {
        slsa::check_tag(tag, source_ref)?;
    }
    if let Some(tag) = &policy.source_versioned_tag {
        slsa::check_versioned_tag(tag, source_ref)?;
    }
    if let Some(branch) = &policy.source_branch {
        slsa::check_branch(branch, source_ref)?;
    }
    for (k, v) in &policy.workflow_inputs {
        slsa::check_input(&provenance.inputs, k, v)?;
    }
    let facts = ProvenanceFacts {
        predicate_type: statement.predicate_type.clone(),
        builder: Some(builder),
        build_type: Some(provenance.build_type.clone()),
        source_repository: Some(provenance.source_repository()),
        source_ref: provenance.source_ref.clone(),
        source_commit: provenance.source_commit.clone(),
        workflow: provenance.workflow.clone(),
        trigger: provenance.trigger.clone(),
        invocation: provenance.invocation_id.clone(),
        signer: cert.identity.clone(),
        issuer: cert.issuer.clone(),
        verified_by: verified.trust_root().to_string(),
        signing_time: verified.signing_time(),
        subjects: subject_facts(&statement),
    };
    Ok((facts, statement, provenance))
}

/// The signer policy for GitHub Actions provenance: any workflow, GitHub's issuer. The
/// workflow is judged afterwards by [`evaluate_builder`].
fn github_actions_signer() -> Signer {
    Signer::Certificate(IdentityPolicy {
        identity: None,
        issuer: Some(StringMatch::Exact(GITHUB_ACTIONS_ISSUER.into())),
        claims: Vec::new(),
    })
}

/// Verify every document of a provenance file until one is accepted; report the first
/// document's rejection otherwise.
fn first_accepted<T>(
    documents: Vec<Document>,
    mut each: impl FnMut(&sigstore::ParsedBundle) -> Result<T, ProvenanceError>,
) -> Result<T, ProvenanceError> {
    let mut first_error = None;
    for doc in documents {
        let result = match &doc {
            Document::Envelope(_) => Err(ProvenanceError::NoTransparencyLog),
            Document::Bundle(b) => each(b),
        };
        match result {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| ProvenanceError::Malformed("provenance file holds no document".into())))
}

fn verify_slsa_file(
    flavor: Flavor,
    artifacts: &[Digests],
    provenance: &[u8],
    policy: &ProvenancePolicy,
    roots: &TrustRoots,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    let first = artifacts
        .first()
        .ok_or_else(|| ProvenanceError::Usage("no artifact given".into()))?;
    let documents = dsse::parse_documents(provenance, limits)?;
    let signer = github_actions_signer();
    let digests: Vec<&Digest> = artifacts.iter().map(|d| &d.sha256).collect();
    first_accepted(documents, |bundle| {
        let verified = sigstore::verify(
            bundle,
            ArtifactRef::Digest(first.sha256.clone()),
            &signer,
            roots,
        )?;
        let (facts, statement, _) = evaluate_slsa(flavor, &verified, &digests, policy, limits)?;
        Ok(ProvenanceAccepted::new(facts, &statement))
    })
}

/// slsa-verifier `verify-artifact`: SLSA provenance from slsa-github-generator builders for one
/// or more artifacts (each must be a subject).
pub fn verify_artifact(
    artifacts: &[Digests],
    provenance: &[u8],
    policy: &ProvenancePolicy,
    roots: &TrustRoots,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    verify_slsa_file(
        Flavor::Artifact,
        artifacts,
        provenance,
        policy,
        roots,
        limits,
    )
}

/// slsa-verifier `verify-github-attestation`: a GitHub artifact attestation (SLSA v1 provenance
/// signed by the workflow that built it); `policy.builder_id` is required and names that workflow.
pub fn verify_github_attestation(
    artifact: &Digests,
    attestation: &[u8],
    policy: &ProvenancePolicy,
    roots: &TrustRoots,
    limits: &Limits,
) -> Result<ProvenanceAccepted, ProvenanceError> {
    verify_slsa_file(
        Flavor::GithubAttestation,
        std::slice::from_ref(artifact),
        attestation,
        policy,
        roots,
        limits,
    )
}

/// Like [`first_accepted`], for documents that must be bare envelopes signed by a given key
/// (VSAs). A Sigstore bundle is not what such a command takes.
fn first_accepted_envelope<T>(
    documents: Vec<Document>,
    mut each: impl FnMut(&dsse::Envelope) -> Result<T, ProvenanceError>,
) -> Result<T, ProvenanceError> {
    let mut first_error = None;
    for doc in documents {
        let result = match &doc {
            Document::Envelope(e) => each(e),
            Document::Bundle(_) => Err(ProvenanceError::mismatch(
                "provenance-format",
                "a DSSE envelope signed by the given key",
                "a Sigstore bundle",
            )),
        };
        match result {
            Ok(v) => return Ok(v),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| ProvenanceError::Malformed("attestation file holds no document".into())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn prov(version: slsa::SlsaVersion, builder: &str) -> Provenance {
        Provenance {
            version,
            builder_id: builder.into(),
            build_type: String::new(),
            source_uri: "git+https://github.com/a/b".into(),
            source_ref: None,
            source_commit: None,
            workflow: None,
            trigger: None,
            inputs: BTreeMap::new(),
            invocation_id: None,
        }
    }

    const GO: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0";
    const DELEGATOR: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.1.0";

    #[test]
    fn trusted_reusable_workflow_is_the_builder() {
        let p = prov(slsa::SlsaVersion::V02, GO);
        assert!(evaluate_builder(Flavor::Artifact, GO, None, &p, None).is_ok());
        // The generator must be used at a release tag.
        let at_branch = GO.replace("refs/tags/v2.1.0", "refs/heads/main");
        let p = prov(slsa::SlsaVersion::V02, &at_branch);
        assert_eq!(
            evaluate_builder(Flavor::Artifact, &at_branch, None, &p, None)
                .expect_err("branch")
                .check(),
            "builder-ref"
        );
        // The provenance must name the certificate's signer as builder.
        let p = prov(slsa::SlsaVersion::V02, "https://example.com/other");
        assert_eq!(
            evaluate_builder(Flavor::Artifact, GO, None, &p, None)
                .expect_err("inconsistent")
                .check(),
            "builder-consistency"
        );
        // A workflow outside slsa-github-generator is not trusted.
        let other = "https://github.com/evil/slsa-github-generator/.github/workflows/builder_go_slsa3.yml@refs/tags/v2.1.0";
        let p = prov(slsa::SlsaVersion::V02, other);
        assert_eq!(
            evaluate_builder(Flavor::Artifact, other, None, &p, None)
                .expect_err("untrusted")
                .check(),
            "builder-id"
        );
    }

    #[test]
    fn delegated_builder_is_named_by_the_provenance() {
        let trw = "https://github.com/o/trw/.github/workflows/b.yml@refs/tags/v1.0.0";
        let p = prov(slsa::SlsaVersion::V1, trw);
        assert!(evaluate_builder(Flavor::Artifact, DELEGATOR, None, &p, None).is_err());
        assert!(
            evaluate_builder(
                Flavor::Artifact,
                DELEGATOR,
                None,
                &p,
                Some("https://github.com/o/trw/.github/workflows/b.yml")
            )
            .is_ok()
        );
    }

    #[test]
    fn npm_runner_builder_spellings() {
        let v02 = prov(slsa::SlsaVersion::V02, NPM_RUNNER_V02);
        let v1 = prov(slsa::SlsaVersion::V1, NPM_RUNNER_V1);
        let san = "https://github.com/a/b/.github/workflows/release.yml@refs/heads/main";
        for (p, expected, ok) in [
            (&v02, NPM_RUNNER_V02, true),
            (&v02, NPM_RUNNER_V1, true),
            (&v1, NPM_RUNNER_V1, true),
            (&v1, NPM_RUNNER_V02, false),
            (&v02, "https://github.com/actions/runner2", false),
        ] {
            assert_eq!(
                evaluate_builder(Flavor::Npm, san, Some(GITHUB_HOSTED), p, Some(expected)).is_ok(),
                ok,
                "{expected}"
            );
        }
        // Outside npm, a GitHub-hosted runner signed by an arbitrary workflow is not a builder.
        assert!(evaluate_builder(Flavor::Artifact, san, None, &v1, None).is_err());
    }

    /// slsa-verifier `verifyNpmEnvAndCert` (verifiers/internal/gha/verifier.go): for npm CLI
    /// provenance the certificate's runner environment must agree with the builder ID
    /// (`--builder-id .../github-hosted` or the legacy spelling needs `github-hosted`,
    /// `.../self-hosted` needs `self-hosted`), and an unknown hosted status is not supported.
    #[test]
    fn npm_runner_builder_forged_by_a_self_hosted_runner_is_rejected() {
        let san = "https://github.com/a/b/.github/workflows/release.yml@refs/heads/main";
        let v1 = prov(slsa::SlsaVersion::V1, NPM_RUNNER_V1);
        let check = |runner, p: &Provenance, expected| {
            evaluate_builder(Flavor::Npm, san, runner, p, Some(expected))
                .err()
                .map(|e| e.check())
        };
        assert_eq!(check(Some(GITHUB_HOSTED), &v1, NPM_RUNNER_V1), None);
        // builder.id says github-hosted, the certificate says self-hosted: forged.
        assert_eq!(
            check(Some(SELF_HOSTED), &v1, NPM_RUNNER_V1),
            Some("runner-environment")
        );
        // No runner environment in the certificate: hosted status unknown.
        assert_eq!(check(None, &v1, NPM_RUNNER_V1), Some("runner-environment"));
        let sh = prov(slsa::SlsaVersion::V1, NPM_RUNNER_SELF_HOSTED);
        assert_eq!(check(Some(SELF_HOSTED), &sh, NPM_RUNNER_SELF_HOSTED), None);
        assert_eq!(
            check(Some(GITHUB_HOSTED), &sh, NPM_RUNNER_SELF_HOSTED),
            Some("runner-environment")
        );
        // Naming the github-hosted builder does not accept self-hosted provenance.
        assert_eq!(
            check(Some(SELF_HOSTED), &sh, NPM_RUNNER_V1),
            Some("builder-id")
        );
    }

    /// slsa-verifier `verifyNpmEnvAndCert`: the signer is verified against
    /// `common.GenericLowPermsDelegatorBuilderID` only, and a self-hosted delegator run is
    /// rejected ("self hosted re-usable workflow").
    #[test]
    fn npm_provenance_from_the_generic_delegator_or_a_self_hosted_delegator_is_rejected() {
        let trw = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml@refs/tags/v1.5.0";
        let p = prov(slsa::SlsaVersion::V02, trw);
        let low = DELEGATOR.replace("delegator_generic_slsa3.yml", NPM_DELEGATOR);
        let named = Some(
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_nodejs_slsa3.yml",
        );
        let run = |signer: &str, runner| {
            evaluate_builder(Flavor::Npm, signer, runner, &p, named)
                .err()
                .map(|e| e.check())
        };
        assert_eq!(run(&low, Some(GITHUB_HOSTED)), None);
        assert_eq!(run(&low, None), None);
        assert_eq!(run(&low, Some(SELF_HOSTED)), Some("runner-environment"));
        assert_eq!(run(DELEGATOR, Some(GITHUB_HOSTED)), Some("builder-id"));
        // verify-artifact keeps accepting the generic delegator.
        assert!(evaluate_builder(Flavor::Artifact, DELEGATOR, None, &p, named).is_ok());
    }
}
