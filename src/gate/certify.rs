//! Bulk work on a whole closure: the builds `certify --closure` records (one audit, or one
//! exemption, per artifact, with its digests and content manifest) and what `suggest` says
//! must be audited for `admit` to pass.
use super::{Gate, GateError};
use crate::content::{ContentManifest, InspectOptions};
use crate::digest::Digests;
use crate::ledger::{CriterionName, PackageId, ReviewOutcome};
use crate::report::{ArtifactReport, Status};
use crate::source::{self, ArtifactSpec, NpmVersionMeta};
use std::collections::BTreeSet;

/// One artifact of the closure, fetched (integrity checked), its provenance verified as the
/// policy asks, and its contents read.
#[derive(Debug, Clone)]
pub struct ClosureBuild {
    /// The build.
    pub package: PackageId,
    /// Its digests.
    pub digests: Digests,
    /// Its content manifest.
    pub manifest: ContentManifest,
    /// The criteria its policy entry asks for.
    pub criteria: BTreeSet<CriterionName>,
    /// Why it is in the closure.
    pub reason: String,
    /// The verified provenance facts, when the registry listed provenance and it verified.
    pub provenance: Option<crate::provenance::ProvenanceFacts>,
}

impl ClosureBuild {
    /// Whether the ledger already covers this build for `criterion` (an audit, a delta chain,
    /// an exemption, or a trusted publisher on verified provenance).
    pub fn covered(
        &self,
        ledger: &crate::ledger::Ledger,
        criterion: &CriterionName,
        clock: &dyn crate::clock::Clock,
    ) -> bool {
        let reviewed = ledger
            .review(
                &self.package,
                &self.digests,
                &self.manifest,
                criterion,
                clock,
            )
            .is_ok_and(|o| o.reviewed().is_some());
        reviewed
            || self.provenance.as_ref().is_some_and(|f| {
                ledger
                    .trusted_publisher(&self.package, &self.digests, f, criterion, clock)
                    .is_some()
            })
    }
}

/// The closure, read for bulk certification or a suggestion.
#[derive(Debug, Default)]
pub struct ClosureBuilds {
    /// Every artifact that could be read.
    pub builds: Vec<ClosureBuild>,
    /// Artifacts that failed before review (resolution, policy, integrity, provenance,
    /// contents): certifying cannot help them.
    pub failures: Vec<ArtifactReport>,
    /// Notes from resolution.
    pub notes: Vec<String>,
}

/// What must be audited for one artifact, with the nearest audited build.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suggestion {
    /// `name@version`.
    pub package: String,
    /// The criterion missing.
    pub criterion: String,
    /// The nearest audited version, if any (certify a delta from it).
    pub nearest: Option<String>,
    /// Files added + removed + changed since the nearest audited build (all files when none).
    pub files: usize,
    /// Behaviour changes (signals) since the nearest audited build.
    pub behaviour_changes: usize,
    /// The command that records the audit once the review is done.
    pub command: String,
}

impl Gate<'_> {
    /// Resolve `spec`'s closure as `admit` would and read every artifact in it.
    pub fn closure_builds(&self, spec: &str) -> Result<ClosureBuilds, GateError> {
        let parsed: ArtifactSpec = spec
            .parse()
            .map_err(|e| GateError::Operational(format!("{e}")))?;
        let ArtifactSpec::Npm { name, selector } = parsed else {
            return Err(GateError::NotNpm(spec.to_string()));
        };
        let closure = self.resolve_closure(&name, &selector)?;
        let mut out = ClosureBuilds {
            failures: closure.failures,
            notes: closure.notes,
            ..ClosureBuilds::default()
        };
        let metas: Vec<NpmVersionMeta> =
            closure.candidates.iter().map(|c| c.meta.clone()).collect();
        let fetched = source::fetch_resolved(&metas, self.fetch, self.limits.fetch_concurrency)
            .map_err(|e| GateError::Operational(e.to_string()))?;
        for (c, f) in closure.candidates.iter().zip(fetched) {
            let label = format!("{}@{}", c.meta.name, c.meta.version);
            let mut r = ArtifactReport::new(label.clone(), c.reason.clone());
            let fetched = match f {
                Ok(f) => f,
                Err(e) if e.is_rejection() => {
                    r.push(e.check(), Status::Fail, e.to_string());
                    out.failures.push(r);
                    continue;
                }
                Err(e) => return Err(GateError::Operational(e.to_string())),
            };
            let meta = fetched.npm.clone().unwrap_or_else(|| c.meta.clone());
            let provenance = match self.provenance(c, &meta, &fetched, &mut r) {
                None => {
                    out.failures.push(r);
                    continue;
                }
                Some(super::ProvenanceOutcome::Accepted(p)) => Some(p.facts().clone()),
                Some(_) => None,
            };
            let opts = InspectOptions {
                limits: self.limits,
                expect_archive: true,
            };
            let manifest = match crate::content::inspect_file(&fetched.path, &opts) {
                Ok(m) => m,
                Err(crate::content::ContentError::Rejected(why)) => {
                    r.push("contents", Status::Fail, format!("{}: {why}", why.rule()));
                    out.failures.push(r);
                    continue;
                }
                Err(e) => return Err(GateError::Operational(e.to_string())),
            };
            let mut criteria = BTreeSet::new();
            for crit in &c.policy.criteria {
                match self.ledger.criterion(crit) {
                    Some(k) => {
                        criteria.insert(k.clone());
                    }
                    None => r.push(
                        "review",
                        Status::Fail,
                        format!("criterion '{crit}' is not defined in the ledger"),
                    ),
                }
            }
            if !r.passed() {
                out.failures.push(r);
                continue;
            }
            out.builds.push(ClosureBuild {
                package: super::package_id(&meta)?,
                digests: fetched.digests.clone(),
                manifest,
                criteria,
                reason: c.reason.clone(),
                provenance,
            });
        }
        Ok(out)
    }

    /// The builds of a closure no audit, delta chain, exemption or trusted publisher covers
    /// yet, for each missing criterion: nearest audited build and the size of the delta,
    /// smallest first.
    pub fn suggest(&self, builds: &ClosureBuilds) -> Vec<Suggestion> {
        let mut out = Vec::new();
        for b in &builds.builds {
            for crit in &b.criteria {
                if b.provenance.as_ref().is_some_and(|f| {
                    self.ledger
                        .trusted_publisher(&b.package, &b.digests, f, crit, self.clock)
                        .is_some()
                }) {
                    continue;
                }
                let outcome =
                    self.ledger
                        .review(&b.package, &b.digests, &b.manifest, crit, self.clock);
                let Ok(ReviewOutcome::NeedsReview(n)) = outcome else {
                    continue;
                };
                let (files, behaviour) = match &n.diff {
                    Some(d) => (
                        d.files.added.len() + d.files.removed.len() + d.files.changed.len(),
                        d.signals.len(),
                    ),
                    None => (b.manifest.entries.len(), 0),
                };
                let nearest = n.closest.as_ref().map(|c| c.package.version.to_string());
                let delta = nearest
                    .as_deref()
                    .map(|v| format!(" --delta-from {v}"))
                    .unwrap_or_default();
                out.push(Suggestion {
                    package: format!("{}@{}", b.package.name, b.package.version),
                    criterion: crit.to_string(),
                    nearest,
                    files,
                    behaviour_changes: behaviour,
                    command: format!(
                        "vetted certify npm:{}@{} --criteria {crit}{delta} --who \"...\"",
                        b.package.name, b.package.version
                    ),
                });
            }
        }
        out.sort_by(|a, b| {
            (a.behaviour_changes + a.files, &a.package)
                .cmp(&(b.behaviour_changes + b.files, &b.package))
        });
        out
    }
}
