//! The gate: an [`Admission`] exists only when every check an artifact needs has passed, and the
//! store accepts nothing else. `admit` resolves a release's closure (its dependencies and the
//! optional packages for the policy's platforms), runs every artifact through
//! fetch → integrity → min-age → provenance → inspect → ledger review → install-script rule,
//! and admits all of them or none.
use crate::clock::Clock;
use crate::content::install_scripts;
use crate::content::{ContentManifest, InspectOptions};
use crate::digest::Digests;
use crate::ledger::{self, CriterionName, Ledger, PackageId, ReviewOutcome, ReviewedBuild};
use crate::limits::Limits;
use crate::policy::{NewInstallScripts, PackagePolicy, Policy, ProvenanceRequirement};
use crate::provenance::{self, NpmPackageRef, ProvenanceAccepted, ProvenancePolicy};
use crate::report::{AdmitReport, ArtifactReport, Status};
use crate::source::{self, ArtifactSpec, FetchOptions, Fetched, NpmVersionMeta};
use crate::store::AdmitTarget;
use crate::trust::TrustRoots;
use crate::trust::npm_keys::NpmRegistryKeys;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub mod asset;
pub mod certify;
mod closure;
pub mod metadata;
pub mod vendor;
pub mod vsa;

/// Everything one gate run needs. Built by the CLI; tests build their own.
pub struct Gate<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The audit ledger.
    pub ledger: &'a Ledger,
    /// How to reach the registry and where the cache is.
    pub fetch: &'a FetchOptions,
    /// Sigstore trust roots.
    pub roots: &'a TrustRoots,
    /// npm registry keys.
    pub npm_keys: &'a NpmRegistryKeys,
    /// The clock.
    pub clock: &'a dyn Clock,
    /// Limits.
    pub limits: Limits,
    /// The organisation key VSAs are signed with, if any.
    pub signing_key: Option<&'a vsa::OrgKey>,
    /// Vendor release manifests (policy `vendor-manifest`): where from, which key.
    pub vendor: &'a vendor::VendorOptions,
}

/// What provenance evaluation concluded.
#[derive(Debug, Clone)]
pub enum ProvenanceOutcome {
    /// Verified and matching the policy.
    Accepted(Box<ProvenanceAccepted>),
    /// Absent, and the policy allows that (`if-present`).
    AbsentAllowed,
    /// The policy does not ask for it (`not-required`).
    NotRequired,
}

/// Proof that one artifact passed every check its policy requires. Only [`Gate::admit`] makes
/// one; the store takes nothing else.
#[derive(Debug)]
pub struct Admission {
    name: String,
    version: String,
    digests: Digests,
    artifact_path: PathBuf,
    record: serde_json::Value,
    registry_metadata: serde_json::Value,
    published: Option<jiff::Timestamp>,
    admitted_at: jiff::Timestamp,
    dist_tags: Vec<String>,
}

impl Admission {
    // One argument per proof the admission is made of.
    #[allow(clippy::too_many_arguments)]
    fn new(
        candidate: &Candidate,
        fetched: &Fetched,
        manifest: &ContentManifest,
        provenance: &ProvenanceOutcome,
        reviewed: &[ReviewedBuild],
        checks: &ArtifactReport,
        gate: &Gate<'_>,
        registry_metadata: serde_json::Value,
        vendor_evidence: Option<&vendor::VendorEvidence>,
    ) -> Admission {
        let now = gate.clock.now();
        let prov = match provenance {
            ProvenanceOutcome::Accepted(p) => json!({"status": "verified", "facts": p.facts()}),
            ProvenanceOutcome::AbsentAllowed => json!({"status": "absent (policy: if-present)"}),
            ProvenanceOutcome::NotRequired => json!({"status": "not required by policy"}),
        };
        let reviews: Vec<_> = reviewed
            .iter()
            .map(|r| json!({"criterion": r.criterion().as_str(), "basis": r.basis().describe()}))
            .collect();
        let manifest_digest = ledger::canonical_manifest(manifest)
            .map(|(_, d)| d.to_string())
            .ok();
        let mut record = json!({
            "format": 1,
            "package": {"ecosystem": "npm", "name": candidate.meta.name.as_str(), "version": candidate.meta.version.as_str()},
            "reason": candidate.reason,
            "artifact": fetched.digests,
            "tarball_url": candidate.meta.tarball_url,
            "published": candidate.meta.publish_time.map(|t| t.to_string()),
            "manifest": manifest_digest,
            "policy": {"path": gate.policy.path.display().to_string(), "sha256": gate.policy.sha256.to_string(), "entry_line": candidate.policy.line},
            "provenance": prov,
            "reviews": reviews,
            "checks": checks.checks,
            "tool": {"name": "vetted", "version": env!("CARGO_PKG_VERSION")},
            "admitted_at": now.to_string(),
        });
        if let Some(v) = vendor_evidence {
            record["vendor_signature"] = v.record();
        }
        if let Some(key) = gate.signing_key {
            let mut levels = vec!["VETTED_REVIEWED".to_string()];
            if matches!(provenance, ProvenanceOutcome::Accepted(_)) {
                levels.insert(0, "SLSA_BUILD_LEVEL_2".into());
            }
            if vendor_evidence.is_some() {
                levels.push("VETTED_VENDOR_SIGNATURE".into());
            }
            let mut inputs = Vec::new();
            if let Some(p) = &candidate.meta.attestations_path
                && let Ok(bytes) = std::fs::read(p)
            {
                inputs.push((
                    candidate.meta.attestations_url.clone().unwrap_or_default(),
                    crate::digest::sha256(&bytes).hex(),
                ));
            }
            if let Some(v) = vendor_evidence {
                inputs.extend(v.inputs().iter().cloned());
            }
            let statement = vsa::statement(&vsa::VsaFacts {
                subject_name: format!(
                    "pkg:npm/{}@{}",
                    candidate.meta.name.as_str(),
                    candidate.meta.version.as_str()
                ),
                subject_digests: vec![
                    ("sha256".into(), fetched.digests.sha256.hex()),
                    ("sha512".into(), fetched.digests.sha512.hex()),
                ],
                resource_uri: candidate.meta.tarball_url.clone(),
                policy: (
                    gate.policy.path.display().to_string(),
                    gate.policy.sha256.hex(),
                ),
                input_attestations: inputs,
                verified_levels: levels,
                time_verified: now,
            });
            record["vsa"] = vsa::sign(&statement, key);
            record["vsa_key"] = json!({"keyid": key.key_id(), "public_key": key.public_key_pem()});
        }
        Admission {
            name: candidate.meta.name.as_str().to_string(),
            version: candidate.meta.version.as_str().to_string(),
            digests: fetched.digests.clone(),
            artifact_path: fetched.path.clone(),
            record,
            registry_metadata,
            published: candidate.meta.publish_time,
            admitted_at: now,
            dist_tags: candidate.dist_tags.clone(),
        }
    }

    /// Package name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Version.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Digests of the admitted bytes.
    pub fn digests(&self) -> &Digests {
        &self.digests
    }
    /// Where the verified bytes are (the fetch cache).
    pub fn artifact_path(&self) -> &std::path::Path {
        &self.artifact_path
    }
    /// The admission record.
    pub fn record(&self) -> &serde_json::Value {
        &self.record
    }
    /// Registry metadata to serve.
    pub fn registry_metadata(&self) -> &serde_json::Value {
        &self.registry_metadata
    }
    /// Registry publish time.
    pub fn published(&self) -> Option<jiff::Timestamp> {
        self.published
    }
    /// When admitted.
    pub fn admitted_at(&self) -> jiff::Timestamp {
        self.admitted_at
    }
    /// The upstream dist-tags that named this version when its closure was resolved.
    pub fn dist_tags(&self) -> &[String] {
        &self.dist_tags
    }
}

/// One artifact of the closure.
#[derive(Debug, Clone)]
struct Candidate {
    meta: NpmVersionMeta,
    policy: PackagePolicy,
    reason: String,
    /// The upstream dist-tags that named this version when the closure was resolved.
    dist_tags: Vec<String>,
}

/// The gate could not run (operational: exit 2), as opposed to a rejection.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Only npm specs can be admitted.
    #[error("only npm:<name>@<version> specs can be admitted, got {0}")]
    NotNpm(String),
    /// Network, disk, registry trouble.
    #[error("{0}")]
    Operational(String),
    /// The store could not be written.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Gate<'_> {
    /// Resolve the closure of `spec` and check every artifact in it. When all pass and `store`
    /// is given, admit them all (blobs, records, index last); otherwise admit nothing.
    pub fn admit(&self, spec: &str, store: Option<&AdmitTarget>) -> Result<AdmitReport, GateError> {
        let parsed: ArtifactSpec = spec
            .parse()
            .map_err(|e| GateError::Operational(format!("{e}")))?;
        if let ArtifactSpec::ClaudeNative { version, platform } = &parsed {
            return self.admit_native(spec, version, platform, store);
        }
        let ArtifactSpec::Npm { name, selector } = parsed else {
            return Err(GateError::NotNpm(spec.to_string()));
        };
        let closure = self.resolve_closure(&name, &selector)?;
        let mut reports = closure.failures;
        let candidates = closure.candidates;
        let mut notes = closure.notes;
        // Every tarball of the closure at once (bounded), each against the packument the
        // closure was resolved from; then the checks, artifact by artifact.
        let metas: Vec<NpmVersionMeta> = candidates.iter().map(|c| c.meta.clone()).collect();
        let fetched = source::fetch_resolved(&metas, self.fetch, self.limits.fetch_concurrency)
            .map_err(|e| GateError::Operational(e.to_string()))?;
        let mut admissions = Vec::new();
        for (c, f) in candidates.iter().zip(fetched) {
            let (report, admission) = self.check(c, f)?;
            reports.push(report);
            admissions.extend(admission);
        }
        if self.signing_key.is_none() {
            notes.push(
                "no --signing-key: no verification summary attestation (VSA) was signed"
                    .to_string(),
            );
        }
        let all_passed =
            reports.iter().all(ArtifactReport::passed) && admissions.len() == candidates.len();
        let mut admitted = Vec::new();
        if all_passed {
            if let Some(store) = store {
                store.admit(&admissions)?;
                admitted = admissions
                    .iter()
                    .map(|a| format!("{}@{}", a.name(), a.version()))
                    .collect();
            }
        } else if store.is_some() {
            notes.push("nothing was admitted: every artifact of the closure must pass".to_string());
        }
        // Revocation reaches the mirror: whatever the verdict, versions the ledger revokes
        // leave the served index.
        if let Some(store) = store {
            let withdrawn = withdraw_revoked(self.ledger, store, self.clock)?;
            for (n, v) in withdrawn {
                notes.push(format!(
                    "withdrew {n}@{v} from the store: the ledger revokes it"
                ));
            }
        }
        Ok(AdmitReport {
            schema: crate::report::ADMIT_SCHEMA,
            spec: spec.to_string(),
            verdict: if all_passed { "admitted" } else { "rejected" },
            artifacts: reports,
            admitted,
            notes,
        })
    }

    /// Run one artifact through every check. Returns its report and, when all passed, its admission.
    fn check(
        &self,
        c: &Candidate,
        fetched: Result<Fetched, source::FetchError>,
    ) -> Result<(ArtifactReport, Option<Admission>), GateError> {
        let label = format!("{}@{}", c.meta.name.as_str(), c.meta.version.as_str());
        let mut r = ArtifactReport::new(label.clone(), c.reason.clone());
        r.push(
            "policy",
            Status::Pass,
            format!(
                "{} entry at line {}",
                self.policy.path.display(),
                c.policy.line
            ),
        );

        // 1. Fetch, checking dist.integrity while streaming.
        let fetched = match fetched {
            Ok(f) => f,
            Err(e) if e.is_rejection() => {
                r.push(e.check(), Status::Fail, e.to_string());
                return Ok((r, None));
            }
            Err(e) => return Err(GateError::Operational(e.to_string())),
        };
        r.integrity = Some(fetched.digests.sha512.sri());
        // The closure (and the metadata the mirror will serve) came from the packument read
        // first; the bytes must be the ones that packument promised too, or the registry changed
        // the version under us.
        if let Some(promised) = c.meta.integrity.as_ref().or(c.meta.shasum.as_ref())
            && !fetched.digests.matches(promised)
        {
            r.push(
                "artifact-integrity",
                Status::Fail,
                format!(
                    "the registry changed {label} during admission: the packument read first promised {promised}, the tarball is {}",
                    fetched.digests.get(promised.algorithm())
                ),
            );
            return Ok((r, None));
        }
        // Say which digest was checked: dist.integrity (sha512/sha256), or the SHA-1 shasum
        // only under --insecure-allow-sha1.
        let checked = match (&c.meta.integrity, &c.meta.shasum) {
            (Some(i), _) => format!("{} matches the registry's dist.integrity", i.algorithm().name()),
            (None, Some(_)) => {
                "sha1 matches the registry's dist.shasum (no usable dist.integrity; --insecure-allow-sha1)".to_string()
            }
            (None, None) => "matches the digest given".to_string(),
        };
        r.push(
            "artifact-integrity",
            Status::Pass,
            format!("{checked} ({} bytes)", fetched.digests.size),
        );
        let meta = fetched.npm.clone().unwrap_or_else(|| c.meta.clone());

        // 2. Cooldown.
        let now = self.clock.now();
        if let Some(min_age) = c.policy.min_age {
            check_min_age(
                &mut r,
                min_age,
                now,
                meta.publish_time,
                "the registry gives no publish time, so the cooldown cannot be checked",
                |t| format!("published {t}"),
            );
        }

        // 3. Provenance.
        let provenance = self.provenance(c, &meta, &fetched, &mut r);

        // 4. Contents (an audited build's code is not parsed again: `content::reuse`).
        let manifest = self.contents_reusing(&mut r, &fetched.path, &fetched.digests)?;

        // 4b. The vendor's own signature over the binary, when the policy asks for it.
        let vendor_evidence = vendor::check(
            self,
            c.policy.vendor_manifest.as_deref(),
            &meta,
            manifest.as_ref(),
            &mut r,
        )?;

        // 5. Ledger review, for every criterion the policy names.
        let mut reviewed = Vec::new();
        let id = package_id(&meta)?;
        if let Some(manifest) = &manifest {
            for crit in &c.policy.criteria {
                let Some(criterion) = self.ledger.criterion(crit).cloned() else {
                    r.push(
                        "review",
                        Status::Fail,
                        format!("criterion '{crit}' is not defined in the ledger"),
                    );
                    continue;
                };
                match self
                    .ledger
                    .review(&id, &fetched.digests, manifest, &criterion, self.clock)
                {
                    // No audit covers it: a trusted publisher may, on verified provenance only.
                    Ok(ReviewOutcome::NeedsReview(n)) => {
                        let trusted = match &provenance {
                            Some(ProvenanceOutcome::Accepted(p)) => self.ledger.trusted_publisher(
                                &id,
                                &fetched.digests,
                                p.facts(),
                                &criterion,
                                self.clock,
                            ),
                            _ => None,
                        };
                        match trusted {
                            Some(b) => {
                                r.push(
                                    "review",
                                    Status::Pass,
                                    format!("{}: {}", criterion.as_str(), b.basis().describe()),
                                );
                                reviewed.push(b);
                            }
                            None => self.record_review(
                                &mut r,
                                &criterion,
                                ReviewOutcome::NeedsReview(n),
                                &mut reviewed,
                            ),
                        }
                    }
                    Ok(outcome) => self.record_review(&mut r, &criterion, outcome, &mut reviewed),
                    Err(e) => r.push("review", Status::Fail, e.to_string()),
                }
            }
            // 6. Install scripts no audited build had.
            self.install_scripts(c, &id, manifest, &mut r);
        }
        // 7. The version document to serve, from the verified package.json.
        let served = manifest
            .as_ref()
            .and_then(|m| metadata::check(&c.meta.install_metadata, m, &mut r));

        let provenance = match provenance {
            Some(p) if r.passed() => p,
            _ => return Ok((r, None)),
        };
        let (Some(manifest), Some(served)) = (manifest, served) else {
            return Ok((r, None));
        };
        if !r.passed() || reviewed.is_empty() {
            return Ok((r, None));
        }
        let admission = Admission::new(
            c,
            &fetched,
            &manifest,
            &provenance,
            &reviewed,
            &r,
            self,
            served,
            vendor_evidence.as_ref(),
        );
        Ok((r, Some(admission)))
    }

    fn provenance(
        &self,
        c: &Candidate,
        meta: &NpmVersionMeta,
        fetched: &Fetched,
        r: &mut ArtifactReport,
    ) -> Option<ProvenanceOutcome> {
        let present = meta.attestations_path.as_ref();
        match (c.policy.provenance, present) {
            (ProvenanceRequirement::NotRequired, _) => {
                r.push("provenance", Status::Skipped, "not required by policy");
                Some(ProvenanceOutcome::NotRequired)
            }
            (ProvenanceRequirement::Required, None) => {
                r.push("provenance", Status::Fail, format!(
                    "policy requires provenance; the registry lists no attestations (dist.attestations) for {}@{}",
                    meta.name, meta.version));
                None
            }
            (ProvenanceRequirement::IfPresent, None) => {
                r.push(
                    "provenance",
                    Status::Skipped,
                    "absent; policy says if-present",
                );
                Some(ProvenanceOutcome::AbsentAllowed)
            }
            (_, Some(path)) => {
                let bytes = match crate::limits::read_file_limited(
                    path,
                    "attestations size",
                    self.limits.bundle_bytes,
                ) {
                    Ok(b) => b,
                    Err(e) => {
                        r.push("provenance", Status::Fail, e.to_string());
                        return None;
                    }
                };
                let package = NpmPackageRef {
                    tarball: &fetched.digests,
                    name: meta.name.as_str(),
                    version: meta.version.as_str(),
                };
                let now = self.clock.now();
                let result = match &c.policy.source_uri {
                    Some(source) => {
                        let policy = ProvenancePolicy {
                            source_uri: source.clone(),
                            builder_id: c.policy.builder_id.clone(),
                            source_tag: None,
                            source_versioned_tag: None,
                            source_branch: None,
                            workflow_inputs: Vec::new(),
                        };
                        provenance::verify_npm_package(
                            package,
                            &bytes,
                            &policy,
                            self.roots,
                            self.npm_keys,
                            now,
                            &self.limits,
                        )
                    }
                    None => provenance::verify_npm_attestations(
                        package,
                        &bytes,
                        self.roots,
                        self.npm_keys,
                        now,
                        &self.limits,
                    ),
                };
                match result {
                    Ok(accepted) => {
                        if let Some(why) = self.signer_mismatch(c, &accepted) {
                            r.push("provenance", Status::Fail, why);
                            return None;
                        }
                        let f = accepted.facts();
                        r.push(
                            "provenance",
                            Status::Pass,
                            format!(
                                "{} from {} at {} (signed by {})",
                                f.predicate_type,
                                f.source_repository.as_deref().unwrap_or("?"),
                                f.source_commit.as_deref().unwrap_or("?"),
                                f.signer.as_deref().unwrap_or("?")
                            ),
                        );
                        Some(ProvenanceOutcome::Accepted(Box::new(accepted)))
                    }
                    Err(e) => {
                        r.push("provenance", Status::Fail, format!("{}: {e}", e.check()));
                        None
                    }
                }
            }
        }
    }

    /// [`Gate::contents`] of an artifact the ledger has audited (the same SHA-512 and SHA-256):
    /// the audit's stored manifest, when this analysis made it, supplies the analysis of every
    /// entry whose path and SHA-256 it lists ([`crate::content::reuse`]). Any other artifact,
    /// or a stored manifest that cannot be used, is inspected in full.
    fn contents_reusing(
        &self,
        r: &mut ArtifactReport,
        path: &std::path::Path,
        digests: &Digests,
    ) -> Result<Option<ContentManifest>, GateError> {
        let stored = self
            .ledger
            .audits()
            .filter(|a| a.sha512 == digests.sha512 && a.sha256 == digests.sha256)
            .find_map(|a| ledger::load_manifest(self.ledger.dir(), &a.manifest).ok())
            .filter(|m| m.artifact.sha512 == digests.sha512 && m.artifact.sha256 == digests.sha256)
            .and_then(|m| crate::content::reuse::Reuse::of(m, &self.limits.js).ok());
        let Some(stored) = stored else {
            return self.contents(r, path, true);
        };
        let opts = InspectOptions {
            limits: self.limits,
            expect_archive: true,
        };
        self.record_contents(r, crate::content::inspect_file_reusing(path, &opts, stored))
    }

    /// The content manifest of a fetched artifact, recorded as the `contents` check; `None`
    /// when the archive was rejected (the reason is in the report).
    fn contents(
        &self,
        r: &mut ArtifactReport,
        path: &std::path::Path,
        expect_archive: bool,
    ) -> Result<Option<ContentManifest>, GateError> {
        let opts = InspectOptions {
            limits: self.limits,
            expect_archive,
        };
        self.record_contents(r, crate::content::inspect_file(path, &opts))
    }

    fn record_contents(
        &self,
        r: &mut ArtifactReport,
        inspected: Result<ContentManifest, crate::content::ContentError>,
    ) -> Result<Option<ContentManifest>, GateError> {
        match inspected {
            Ok(m) => {
                r.push(
                    "contents",
                    Status::Pass,
                    format!(
                        "{} entries, {} bytes unpacked",
                        m.totals.entries, m.totals.unpacked_bytes
                    ),
                );
                Ok(Some(m))
            }
            Err(crate::content::ContentError::Rejected(why)) => {
                r.push("contents", Status::Fail, format!("{}: {why}", why.rule()));
                Ok(None)
            }
            Err(e) => Err(GateError::Operational(e.to_string())),
        }
    }

    /// The ledger review for every criterion, for an artifact no trusted publisher can cover
    /// (native releases, release assets): the reviewed builds, each check in the report.
    fn review_criteria(
        &self,
        r: &mut ArtifactReport,
        id: &PackageId,
        digests: &crate::digest::Digests,
        manifest: &ContentManifest,
        criteria: &[String],
    ) -> Vec<ReviewedBuild> {
        let mut reviewed = Vec::new();
        for crit in criteria {
            let Some(criterion) = self.ledger.criterion(crit).cloned() else {
                r.push(
                    "review",
                    Status::Fail,
                    format!("criterion '{crit}' is not defined in the ledger"),
                );
                continue;
            };
            match self
                .ledger
                .review(id, digests, manifest, &criterion, self.clock)
            {
                Ok(outcome) => self.record_review(r, &criterion, outcome, &mut reviewed),
                Err(e) => r.push("review", Status::Fail, e.to_string()),
            }
        }
        reviewed
    }

    /// The policy's `signer-workflow` and `issuer`, matched against the verified facts.
    fn signer_mismatch(&self, c: &Candidate, accepted: &ProvenanceAccepted) -> Option<String> {
        let f = accepted.facts();
        if let Some(want) = &c.policy.signer_workflow {
            let signer = f.signer.as_deref().unwrap_or("");
            let path = signer.strip_prefix("https://").unwrap_or(signer);
            let path = path.split('@').next().unwrap_or(path);
            if path != want.trim_start_matches("https://") {
                return Some(format!(
                    "signer-workflow mismatch: expected {want}, provenance was signed by {signer}"
                ));
            }
        }
        if let Some(want) = &c.policy.issuer {
            let got = f.issuer.as_deref().unwrap_or("(none)");
            if got != want {
                return Some(format!(
                    "issuer mismatch: expected {want}, certificate says {got}"
                ));
            }
        }
        None
    }

    fn record_review(
        &self,
        r: &mut ArtifactReport,
        criterion: &CriterionName,
        outcome: ReviewOutcome,
        reviewed: &mut Vec<ReviewedBuild>,
    ) {
        match outcome {
            ReviewOutcome::Identical(b)
            | ReviewOutcome::CoveredByDelta(b)
            | ReviewOutcome::CoveredByExemption(b) => {
                r.push(
                    "review",
                    Status::Pass,
                    format!("{}: {}", criterion.as_str(), b.basis().describe()),
                );
                reviewed.push(b);
            }
            ReviewOutcome::Revoked(v) => {
                let target = match &v.target {
                    ledger::ViolationTarget::Version(ver) => format!("version {ver}"),
                    ledger::ViolationTarget::Digest(d) => format!("build {d}"),
                };
                r.push(
                    "revoked",
                    Status::Fail,
                    format!("a violation revokes {target} (recorded by {})", v.who),
                );
            }
            ReviewOutcome::NeedsReview(n) => {
                let closest = n
                    .closest
                    .as_ref()
                    .map(|b| format!("closest audited build: {}", b.package))
                    .unwrap_or_else(|| "no audited build of this package".into());
                let changes = n
                    .diff
                    .as_ref()
                    .map(|d| format!("; {}", d.summary_line()))
                    .unwrap_or_default();
                let expired = if n.expired_exemptions.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} exemption(s) for these bytes expired",
                        n.expired_exemptions.len()
                    )
                };
                r.push("review", Status::Fail, format!(
                    "unreviewed: no audit covers these bytes for {} ({closest}{changes}{expired})",
                    criterion.as_str()));
            }
        }
    }

    fn install_scripts(
        &self,
        c: &Candidate,
        id: &PackageId,
        manifest: &ContentManifest,
        r: &mut ArtifactReport,
    ) {
        // What npm runs when installing from a registry (preinstall, install, postinstall, the
        // implicit node-gyp rebuild), not every lifecycle script the package.json lists.
        let scripts = install_scripts::install_scripts(manifest);
        if scripts.is_empty() {
            r.push(
                "install-scripts",
                Status::Pass,
                "no install scripts (preinstall, install, postinstall, binding.gyp)",
            );
            return;
        }
        let mut audited: BTreeSet<(String, String)> = BTreeSet::new();
        for crit in &c.policy.criteria {
            let Some(criterion) = self.ledger.criterion(crit) else {
                continue;
            };
            for build in self.ledger.covered_builds(id, criterion) {
                if let Ok(m) = ledger::load_manifest(self.ledger.dir(), &build.manifest) {
                    audited.extend(
                        install_scripts::install_scripts(&m)
                            .into_iter()
                            .map(|s| (s.event, s.command)),
                    );
                }
            }
        }
        let new: Vec<String> = scripts
            .iter()
            .filter(|s| !audited.contains(&(s.event.clone(), s.command.clone())))
            .map(|s| s.describe())
            .collect();
        let listed = scripts
            .iter()
            .map(|s| s.describe())
            .collect::<Vec<_>>()
            .join("; ");
        match (new.is_empty(), c.policy.new_install_scripts) {
            (true, _) => r.push("install-scripts", Status::Pass, format!("all present in an audited build ({listed})")),
            (false, NewInstallScripts::Allow) => r.push("install-scripts", Status::Pass, format!("not in any audited build, allowed by policy: {}", new.join("; "))),
            (false, NewInstallScripts::Block) => r.push("install-scripts", Status::Fail, format!(
                "install scripts not in any audited build: {} (policy: new-install-scripts = \"block\")", new.join("; "))),
        }
    }
}

/// Withdraw from `store` every served version the ledger revokes (by version or by digest).
pub fn withdraw_revoked(
    ledger: &Ledger,
    store: &AdmitTarget,
    clock: &dyn Clock,
) -> Result<Vec<(String, String)>, GateError> {
    let index = store.index()?;
    let mut targets: Vec<(String, String, String)> = Vec::new();
    for (name, pkg) in &index.packages {
        for (version, entry) in &pkg.versions {
            let Ok(id) = PackageId::parse_spec(&format!("npm:{name}@{version}")) else {
                continue;
            };
            if let Some(v) = ledger.revocation(&id, &entry.digests.sha512, &entry.digests.sha256) {
                let why = format!(
                    "revoked by {} on {}{}",
                    v.who,
                    v.when,
                    v.notes
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                );
                targets.push((name.clone(), version.clone(), why));
            }
        }
    }
    let mut done = Vec::new();
    for (name, version, why) in targets {
        done.extend(store.withdraw(&[(name, version)], &why, clock.now())?);
    }
    Ok(done)
}

fn package_id(meta: &NpmVersionMeta) -> Result<PackageId, GateError> {
    PackageId::parse_spec(&format!(
        "npm:{}@{}",
        meta.name.as_str(),
        meta.version.as_str()
    ))
    .map_err(|e| GateError::Operational(format!("{e}")))
}

/// The cooldown check: `at` is the earliest time the artifact provably existed (the registry's
/// publish time, a verified signing time, a signed build date); `missing` says why there is
/// none; `what(t)` describes it ("published T").
fn check_min_age(
    r: &mut ArtifactReport,
    min_age: jiff::SignedDuration,
    now: jiff::Timestamp,
    at: Option<jiff::Timestamp>,
    missing: &str,
    what: impl Fn(jiff::Timestamp) -> String,
) {
    match at {
        None => r.push("min-age", Status::Fail, missing),
        Some(t) if now.duration_since(t) < min_age => r.push(
            "min-age",
            Status::Fail,
            format!(
                "{}, {} ago; policy requires at least {}",
                what(t),
                human_duration(now.duration_since(t)),
                human_duration(min_age)
            ),
        ),
        Some(t) => r.push(
            "min-age",
            Status::Pass,
            format!("{}, {} ago", what(t), human_duration(now.duration_since(t))),
        ),
    }
}

fn human_duration(d: jiff::SignedDuration) -> String {
    let s = d.as_secs();
    if s.abs() >= 86_400 {
        format!("{:.1} days", s as f64 / 86_400.0)
    } else {
        format!("{:.1} hours", s as f64 / 3_600.0)
    }
}
