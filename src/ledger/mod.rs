//! The audit ledger: who reviewed which build (pinned by its bytes) for which criteria.
//!
//! A ledger is a directory, kept in git:
//!
//! ```text
//! ledger/audits.toml                 criteria, imports, audits, violations, exemptions
//! ledger/manifests/<sha256>.json     the content manifest of every audited build
//! ledger/imports/<ORG>.toml          cached copies of imported ledgers given by URL
//! ledger/.lock                       held by writers (certify, fmt)
//! ```
//!
//! The format is documented in `docs/ledger.md` and owned by [`format`](self) alone.
//!
//! Review ([`Ledger::review`]) answers, for one build and one criterion, in this order:
//! 1. a violation naming the version or the digest revokes it, whatever the audits say;
//! 2. a full audit of exactly these bytes (sha512 and sha256 and version) -> identical;
//! 3. a chain full audit -> delta -> delta ... ending at these bytes, where every delta's
//!    `from.sha512` is the digest of a build the chain already covers -> covered by delta;
//! 4. an exemption for these bytes that has not expired (by the [`Clock`]) -> covered;
//! 5. otherwise the build needs review, with the closest audited build and the diff.
//!
//! Imports: `[imports.ORG]` names a file (a `path`, or a `url` whose cached copy is
//! `imports/ORG.toml`) and pins its `sha256`. A file with another digest, or that cannot be read
//! or parsed, is ignored with a warning and grants nothing. Problems inside an import are
//! warnings and drop the offending entry. From an import vetted takes audits (for the built-in
//! criteria only) and violations (they only ever restrict); never exemptions or imports.
use crate::clock::Clock;
use crate::content::ContentManifest;
use crate::diff::ReviewReport;
use crate::digest::{self, Digest, Digests};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod format;
mod store;
mod types;

pub use crate::diagnostics::{Diagnostic, LedgerDiagnostics, Severity};
pub use format::{SAFE_TO_RUN, VERIFIED_ORIGIN, builtin_criteria};
pub use store::{
    AUDITS_FILE, IMPORTS_DIR, LOCK_FILE, LedgerLock, MANIFESTS_DIR, ManifestLoadError, StoreError,
    canonical_manifest, load_manifest, manifest_path, store_manifest, write_atomic,
};
pub use types::*;

use format::LedgerFile;

/// A loaded, valid ledger (with its imports resolved).
#[derive(Debug, Clone)]
pub struct Ledger {
    dir: PathBuf,
    file: LedgerFile,
    criteria: BTreeMap<CriterionName, Criterion>,
    imported_audits: Vec<Audit>,
    imported_violations: Vec<Violation>,
    warnings: LedgerDiagnostics,
}

/// A build covered for a criterion: by a full audit (chain of one) or by a chain of deltas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedBuild {
    /// The build.
    pub package: PackageId,
    /// Its artifact SHA-512.
    pub sha512: Digest,
    /// Its artifact SHA-256.
    pub sha256: Digest,
    /// Its stored content manifest.
    pub manifest: Digest,
    /// The audits that cover it: a full audit first, then deltas in order.
    pub chain: AuditChain,
}

/// A chain of audits, shared: builds reached through the same base share its links, so the
/// builds of a ledger with N deltas in a row hold N links in all, not N²/2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChain {
    last: std::sync::Arc<ChainLink>,
    len: usize,
}

#[derive(Debug, PartialEq, Eq)]
struct ChainLink {
    audit: Audit,
    prev: Option<std::sync::Arc<ChainLink>>,
}

impl Drop for ChainLink {
    // Iteratively: a chain of 100,000 links dropped recursively would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.prev.take();
        while let Some(link) = next {
            match std::sync::Arc::try_unwrap(link) {
                Ok(mut l) => next = l.prev.take(),
                Err(_) => break,
            }
        }
    }
}

impl AuditChain {
    /// A chain of one full audit.
    pub fn start(full: Audit) -> Self {
        AuditChain {
            last: std::sync::Arc::new(ChainLink {
                audit: full,
                prev: None,
            }),
            len: 1,
        }
    }

    /// This chain extended by one delta audit.
    pub fn then(&self, delta: Audit) -> Self {
        AuditChain {
            last: std::sync::Arc::new(ChainLink {
                audit: delta,
                prev: Some(self.last.clone()),
            }),
            len: self.len + 1,
        }
    }

    /// How many audits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never empty (a chain starts with a full audit); for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The audits, full audit first.
    pub fn to_vec(&self) -> Vec<Audit> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = Some(&self.last);
        while let Some(l) = cur {
            out.push(l.audit.clone());
            cur = l.prev.as_ref();
        }
        out.reverse();
        out
    }
}

/// Why a build counts as reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewBasis {
    /// A full audit of exactly these bytes.
    Identical(Audit),
    /// A full audit then deltas, each starting from the bytes the previous one covers.
    DeltaChain(Vec<Audit>),
    /// An exemption that had not expired at review time.
    Exemption(Exemption),
    /// A `[[trusted]]` publisher whose identity the build's verified provenance carries.
    TrustedPublisher(Trusted),
}

impl ReviewBasis {
    /// Why the build counts as reviewed, in words (for reports and admission records).
    pub fn describe(&self) -> String {
        match self {
            ReviewBasis::Identical(a) => format!(
                "identical to the audited build (audit by {} on {})",
                a.who, a.when
            ),
            ReviewBasis::DeltaChain(chain) => {
                let steps: Vec<String> = chain
                    .iter()
                    .map(|a| a.package.version.to_string())
                    .collect();
                let who: BTreeSet<&str> = chain.iter().map(|a| a.who.as_str()).collect();
                format!(
                    "covered by the audit chain {} (by {})",
                    steps.join(" -> "),
                    who.into_iter().collect::<Vec<_>>().join(", ")
                )
            }
            ReviewBasis::Exemption(e) => format!(
                "covered by an exemption granted by {} (expires {})",
                e.who, e.expires
            ),
            ReviewBasis::TrustedPublisher(t) => format!(
                "covered by trusted publisher {} (provenance from {}, issuer {}), trusted by {} on {} until {}",
                t.signer_workflow, t.source_repository, t.issuer, t.who, t.when, t.expires
            ),
        }
    }
}

/// Proof that a build passed review for a criterion. Only [`Ledger::review`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewedBuild {
    package: PackageId,
    digests: Digests,
    criterion: CriterionName,
    basis: ReviewBasis,
}

impl ReviewedBuild {
    /// The build.
    pub fn package(&self) -> &PackageId {
        &self.package
    }
    /// The artifact's digests.
    pub fn digests(&self) -> &Digests {
        &self.digests
    }
    /// The criterion it was reviewed for.
    pub fn criterion(&self) -> &CriterionName {
        &self.criterion
    }
    /// Why it counts as reviewed.
    pub fn basis(&self) -> &ReviewBasis {
        &self.basis
    }
}

/// A build no audit covers: what a reviewer needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsReview {
    /// The audited build closest to this one (highest version not above it, else the lowest
    /// above it).
    pub closest: Option<AuditedBuild>,
    /// The diff from the closest audited build, when its manifest is stored.
    pub diff: Option<ReviewReport>,
    /// Why there is no diff, when there is a closest build but no diff.
    pub diff_unavailable: Option<String>,
    /// Exemptions for these bytes that would have admitted them, had they not expired.
    pub expired_exemptions: Vec<Exemption>,
    /// Set when a delta chain was longer than [`crate::limits::DELTA_CHAIN_LINKS`] and not
    /// followed past the limit: the reason, naming the limit.
    pub chain_limit: Option<String>,
}

/// The answer of [`Ledger::review`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// A full audit covers exactly these bytes.
    Identical(ReviewedBuild),
    /// A chain of delta audits, bound by digests, covers these bytes.
    CoveredByDelta(ReviewedBuild),
    /// An unexpired exemption covers these bytes.
    CoveredByExemption(ReviewedBuild),
    /// A violation revokes this version or these bytes.
    Revoked(Violation),
    /// Nothing covers this build.
    NeedsReview(Box<NeedsReview>),
}

impl ReviewOutcome {
    /// The proof, when the build passed.
    pub fn reviewed(&self) -> Option<&ReviewedBuild> {
        match self {
            ReviewOutcome::Identical(b)
            | ReviewOutcome::CoveredByDelta(b)
            | ReviewOutcome::CoveredByExemption(b) => Some(b),
            _ => None,
        }
    }

    /// The proof, by value.
    pub fn into_reviewed(self) -> Option<ReviewedBuild> {
        match self {
            ReviewOutcome::Identical(b)
            | ReviewOutcome::CoveredByDelta(b)
            | ReviewOutcome::CoveredByExemption(b) => Some(b),
            _ => None,
        }
    }
}

/// Review could not be carried out (as opposed to a build that needs review).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The criterion is not defined.
    #[error("criteria '{name}' is not defined (known: {known})")]
    UnknownCriterion {
        /// Asked for.
        name: String,
        /// Defined.
        known: String,
    },
    /// The manifest describes another artifact.
    #[error(
        "the content manifest describes another artifact: expected {expected}, actual {actual}"
    )]
    ManifestMismatch {
        /// The artifact's digest.
        expected: Digest,
        /// The manifest's artifact digest.
        actual: Digest,
    },
}

/// Certification failed.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The ledger on disk has errors; nothing was written.
    #[error("the ledger has errors; nothing was written:\n{0}")]
    Invalid(LedgerDiagnostics),
    /// Writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A criterion is not defined.
    #[error("criteria '{name}' is not defined (known: {known})")]
    UnknownCriterion {
        /// Asked for.
        name: String,
        /// Defined.
        known: String,
    },
    /// No criteria were given.
    #[error("no criteria given")]
    NoCriteria,
    /// `who` is empty.
    #[error("'who' is empty: an audit names the person who reviewed it")]
    NoWho,
    /// The manifest's package.json names another package or version.
    #[error("the manifest is of {actual}, not {expected}")]
    PackageMismatch {
        /// The package being certified.
        expected: String,
        /// What the manifest's package.json says.
        actual: String,
    },
    /// A violation in the ledger revokes this build; an audit of it would not count.
    #[error(
        "{package} is revoked by a violation recorded by {who} on {when}; remove the violation first if it is wrong"
    )]
    Revoked {
        /// The build.
        package: String,
        /// Who recorded the violation.
        who: String,
        /// When.
        when: String,
    },
    /// `--delta-from VERSION` names no covered build.
    #[error(
        "no build of {name}@{version} is covered for '{criterion}' in the ledger; a delta must start from an audited build"
    )]
    NoAuditedBase {
        /// Package.
        name: String,
        /// Version.
        version: String,
        /// Criterion.
        criterion: String,
    },
    /// `--delta-from VERSION` names several builds with different bytes.
    #[error(
        "{name}@{version} has several audited builds ({digests}); say which one the delta starts from"
    )]
    AmbiguousBase {
        /// Package.
        name: String,
        /// Version.
        version: String,
        /// Their SHA-512 digests.
        digests: String,
    },
}

/// `vetted fmt` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FmtStatus {
    /// Already canonical.
    Canonical,
    /// Not canonical (with `--check`: nothing written).
    NotCanonical,
    /// Rewritten canonically.
    Rewritten,
}

/// `vetted fmt` failed.
#[derive(Debug, thiserror::Error)]
pub enum FmtError {
    /// The ledger has errors; it is not rewritten.
    #[error("the ledger has errors; it is not rewritten:\n{0}")]
    Invalid(LedgerDiagnostics),
    /// Writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn one_error(file: &Path, message: String, hint: Option<String>) -> LedgerDiagnostics {
    LedgerDiagnostics {
        items: vec![Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line: None,
            column: None,
            message,
            hint,
        }],
    }
}

/// Read the local ledger file; `Ok(None)` when it does not exist.
fn read_text(file: &Path) -> Result<Option<String>, LedgerDiagnostics> {
    if !file.exists() {
        return Ok(None);
    }
    let bytes = crate::limits::read_file_limited(file, "ledger file", store::LEDGER_FILE_BYTES)
        .map_err(|e| one_error(file, e.to_string(), None))?;
    String::from_utf8(bytes).map(Some).map_err(|e| {
        one_error(
            file,
            format!("not UTF-8: {e}"),
            Some("a ledger is UTF-8 TOML".into()),
        )
    })
}

fn parse_local(
    file: &Path,
    text: &str,
) -> Result<(LedgerFile, Vec<Diagnostic>), LedgerDiagnostics> {
    let (parsed, diags) = format::parse(file, text, None);
    if diags.iter().any(|d| d.severity == Severity::Error) {
        let mut all = LedgerDiagnostics { items: diags };
        all.sort();
        return Err(all);
    }
    Ok((parsed, diags))
}

impl Ledger {
    /// Load and validate the ledger in `dir` (and the imports it names). Every error is
    /// reported at once; warnings travel with the ledger ([`Ledger::warnings`]).
    pub fn load(dir: &Path) -> Result<Ledger, LedgerDiagnostics> {
        Self::load_inner(dir, false)
    }

    fn load_inner(dir: &Path, allow_missing: bool) -> Result<Ledger, LedgerDiagnostics> {
        let file = dir.join(AUDITS_FILE);
        let (local, mut diags) = match read_text(&file)? {
            Some(text) => parse_local(&file, &text)?,
            None if allow_missing => (LedgerFile::default(), Vec::new()),
            None => {
                return Err(one_error(
                    &file,
                    "no ledger file here".into(),
                    Some(format!(
                        "pass --ledger DIR, or create {} (vetted certify creates it)",
                        file.display()
                    )),
                ));
            }
        };
        let mut criteria: BTreeMap<CriterionName, Criterion> = builtin_criteria()
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        criteria.extend(local.criteria.clone());
        let mut imported_audits = Vec::new();
        let mut imported_violations = Vec::new();
        for imp in local.imports.values() {
            if let Some(f) = load_import(dir, &file, imp, &mut diags) {
                imported_audits.extend(f.audits);
                imported_violations.extend(f.violations);
            }
        }
        let mut warnings = LedgerDiagnostics { items: diags };
        warnings.sort();
        Ok(Ledger {
            dir: dir.to_path_buf(),
            file: local,
            criteria,
            imported_audits,
            imported_violations,
            warnings,
        })
    }

    /// The ledger directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Warnings from loading (imports ignored, unknown keys in imports, ...).
    pub fn warnings(&self) -> &LedgerDiagnostics {
        &self.warnings
    }

    /// Every criterion, built-in and defined.
    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.values()
    }

    /// Look up a criterion by name.
    pub fn criterion(&self, name: &str) -> Option<&CriterionName> {
        self.criteria.keys().find(|c| c.as_str() == name)
    }

    /// Every audit, local then imported.
    pub fn audits(&self) -> impl Iterator<Item = &Audit> {
        self.file.audits.iter().chain(self.imported_audits.iter())
    }

    /// Every violation, local then imported.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.file
            .violations
            .iter()
            .chain(self.imported_violations.iter())
    }

    /// The exemptions (local only).
    pub fn exemptions(&self) -> &[Exemption] {
        &self.file.exemptions
    }

    fn known_criteria(&self) -> String {
        self.criteria
            .keys()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether holding `held` satisfies `required` (directly or through `implies`).
    pub fn satisfies(&self, held: &BTreeSet<CriterionName>, required: &CriterionName) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&CriterionName> = held.iter().collect();
        while let Some(c) = todo.pop() {
            if c == required {
                return true;
            }
            if seen.insert(c)
                && let Some(def) = self.criteria.get(c)
            {
                todo.extend(def.implies.iter());
            }
        }
        false
    }

    /// The violation revoking this build, if any.
    pub fn revocation(
        &self,
        package: &PackageId,
        sha512: &Digest,
        sha256: &Digest,
    ) -> Option<&Violation> {
        self.violations().find(|v| {
            v.ecosystem == package.ecosystem
                && v.name == package.name
                && match &v.target {
                    ViolationTarget::Version(ver) => ver == &package.version,
                    ViolationTarget::Digest(d) => d == sha512 || d == sha256,
                }
        })
    }

    /// Every build of this package (ecosystem and name) covered for `criterion`, by a full
    /// audit or a delta chain; revoked builds neither count nor serve as a base.
    pub fn covered_builds(
        &self,
        package: &PackageId,
        criterion: &CriterionName,
    ) -> Vec<AuditedBuild> {
        self.covered_builds_capped(package, criterion).0
    }

    /// [`Ledger::covered_builds`], and whether a delta chain was cut at
    /// [`crate::limits::DELTA_CHAIN_LINKS`] (a longer chain covers nothing past the limit).
    fn covered_builds_capped(
        &self,
        package: &PackageId,
        criterion: &CriterionName,
    ) -> (Vec<AuditedBuild>, bool) {
        let audits: Vec<&Audit> = self
            .audits()
            .filter(|a| a.package.same_package(package))
            .filter(|a| self.satisfies(&a.criteria, criterion))
            .filter(|a| self.revocation(&a.package, &a.sha512, &a.sha256).is_none())
            .collect();
        // Breadth first from the full audits over an index of deltas by their base digest:
        // linear in the number of audits, and chains are shortest (a build reached by k deltas
        // is found before any reached by k+1).
        let mut deltas_from: BTreeMap<&Digest, Vec<&Audit>> = BTreeMap::new();
        for a in &audits {
            if let AuditKind::Delta(from) = &a.kind {
                deltas_from.entry(&from.sha512).or_default().push(a);
            }
        }
        let mut covered: BTreeMap<Digest, AuditedBuild> = BTreeMap::new();
        let mut queue: std::collections::VecDeque<Digest> = std::collections::VecDeque::new();
        for a in audits.iter().filter(|a| a.kind == AuditKind::Full) {
            if covered.contains_key(&a.sha512) {
                continue;
            }
            covered.insert(
                a.sha512.clone(),
                AuditedBuild {
                    package: a.package.clone(),
                    sha512: a.sha512.clone(),
                    sha256: a.sha256.clone(),
                    manifest: a.manifest.clone(),
                    chain: AuditChain::start((*a).clone()),
                },
            );
            queue.push_back(a.sha512.clone());
        }
        let mut cut = false;
        while let Some(digest) = queue.pop_front() {
            let Some(base) = covered.get(&digest) else {
                continue;
            };
            let Some(deltas) = deltas_from.get(&digest) else {
                continue;
            };
            // `chain` holds the full audit and its deltas: at most DELTA_CHAIN_LINKS deltas.
            if base.chain.len() > crate::limits::DELTA_CHAIN_LINKS {
                cut = true;
                continue;
            }
            let (base_version, base_chain) = (base.package.version.clone(), base.chain.clone());
            for a in deltas {
                let AuditKind::Delta(from) = &a.kind else {
                    continue;
                };
                // Bound by digests at both ends: the base must be these exact bytes, and the
                // version it claims must agree with the audited build's.
                if from.version != base_version || covered.contains_key(&a.sha512) {
                    continue;
                }
                covered.insert(
                    a.sha512.clone(),
                    AuditedBuild {
                        package: a.package.clone(),
                        sha512: a.sha512.clone(),
                        sha256: a.sha256.clone(),
                        manifest: a.manifest.clone(),
                        chain: base_chain.then((*a).clone()),
                    },
                );
                queue.push_back(a.sha512.clone());
            }
        }
        (covered.into_values().collect(), cut)
    }

    /// The audited build (covered for `criterion`) closest to `package`: the highest version
    /// not above it, else the lowest above it. A build with the same platform wins a tie.
    pub fn closest_audited(
        &self,
        package: &PackageId,
        criterion: &CriterionName,
    ) -> Option<AuditedBuild> {
        let builds = self.covered_builds(package, criterion);
        let rank = |b: &AuditedBuild| {
            (
                b.package.platform == package.platform,
                b.package.version.clone(),
            )
        };
        let below = builds
            .iter()
            .filter(|b| b.package.version <= package.version)
            .max_by(|a, b| {
                (a.package.version.clone(), rank(a)).cmp(&(b.package.version.clone(), rank(b)))
            });
        let above = builds
            .iter()
            .filter(|b| b.package.version > package.version)
            .min_by(|a, b| {
                a.package
                    .version
                    .cmp(&b.package.version)
                    .then_with(|| rank(b).0.cmp(&rank(a).0))
            });
        below.or(above).cloned()
    }

    /// Review one build for one criterion. `digests` are the artifact's, computed by the
    /// caller; `manifest` is its content manifest (its `artifact` digests must agree).
    pub fn review(
        &self,
        package: &PackageId,
        digests: &Digests,
        manifest: &ContentManifest,
        criterion: &CriterionName,
        clock: &dyn Clock,
    ) -> Result<ReviewOutcome, ReviewError> {
        if !self.criteria.contains_key(criterion) {
            return Err(ReviewError::UnknownCriterion {
                name: criterion.to_string(),
                known: self.known_criteria(),
            });
        }
        for (expected, actual) in [
            (&digests.sha512, &manifest.artifact.sha512),
            (&digests.sha256, &manifest.artifact.sha256),
        ] {
            if expected != actual {
                return Err(ReviewError::ManifestMismatch {
                    expected: expected.clone(),
                    actual: actual.clone(),
                });
            }
        }
        if let Some(v) = self.revocation(package, &digests.sha512, &digests.sha256) {
            return Ok(ReviewOutcome::Revoked(v.clone()));
        }
        let proof = |basis| ReviewedBuild {
            package: package.clone(),
            digests: digests.clone(),
            criterion: criterion.clone(),
            basis,
        };
        let (builds, cut) = self.covered_builds_capped(package, criterion);
        if let Some(b) = builds.iter().find(|b| {
            b.sha512 == digests.sha512
                && b.sha256 == digests.sha256
                && b.package.version == package.version
        }) {
            let chain = b.chain.to_vec();
            return Ok(match chain.as_slice() {
                [only] => ReviewOutcome::Identical(proof(ReviewBasis::Identical(only.clone()))),
                _ => ReviewOutcome::CoveredByDelta(proof(ReviewBasis::DeltaChain(chain))),
            });
        }
        let now = clock.now();
        let mut expired = Vec::new();
        for e in &self.file.exemptions {
            if e.package.same_package(package)
                && e.package.version == package.version
                && e.sha512 == digests.sha512
                && self.satisfies(&e.criteria, criterion)
            {
                if now < e.expires.instant() {
                    return Ok(ReviewOutcome::CoveredByExemption(proof(
                        ReviewBasis::Exemption(e.clone()),
                    )));
                }
                expired.push(e.clone());
            }
        }
        let closest = self.closest_audited(package, criterion);
        let (diff, diff_unavailable) = match &closest {
            None => (None, None),
            Some(b) => match load_manifest(&self.dir, &b.manifest) {
                Ok(old) => (
                    Some(crate::diff::diff(
                        &format!("ledger:{}@{}", b.package.name, b.package.version),
                        &old,
                        &format!("{}@{}", package.name, package.version),
                        manifest,
                    )),
                    None,
                ),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        let chain_limit = cut.then(|| {
            format!(
                "a delta chain of this package is longer than the limit of {} links (limits::DELTA_CHAIN_LINKS); no build past the limit is covered",
                crate::limits::DELTA_CHAIN_LINKS
            )
        });
        Ok(ReviewOutcome::NeedsReview(Box::new(NeedsReview {
            closest,
            diff,
            diff_unavailable,
            expired_exemptions: expired,
            chain_limit,
        })))
    }

    /// The `[[trusted]]` entries.
    pub fn trusted(&self) -> &[Trusted] {
        &self.file.trusted
    }

    /// A build covered for `criterion` by a trusted publisher: an unexpired `[[trusted]]`
    /// entry whose name matches and whose identity (source repository, signer workflow, issuer,
    /// and ref pattern when given) equals what the build's *verified* provenance says. Never
    /// for a revoked build. The caller passes facts only from a verified provenance.
    pub fn trusted_publisher(
        &self,
        package: &PackageId,
        digests: &Digests,
        facts: &crate::provenance::ProvenanceFacts,
        criterion: &CriterionName,
        clock: &dyn Clock,
    ) -> Option<ReviewedBuild> {
        if self
            .revocation(package, &digests.sha512, &digests.sha256)
            .is_some()
        {
            return None;
        }
        let now = clock.now();
        let norm = |s: &str| {
            s.trim_start_matches("https://")
                .trim_end_matches('/')
                .to_ascii_lowercase()
        };
        let signer = facts.signer.as_deref().unwrap_or("");
        // A Fulcio SAN for GitHub Actions is https://github.com/OWNER/REPO/.github/workflows/FILE@REF.
        let workflow = signer.split('@').next().unwrap_or(signer);
        let t = self.file.trusted.iter().find(|t| {
            t.ecosystem == package.ecosystem
                && crate::policy::NamePattern::new(&t.name).matches(package.name.as_str())
                && now < t.expires.instant()
                && self.satisfies(&t.criteria, criterion)
                && facts
                    .source_repository
                    .as_deref()
                    .is_some_and(|r| norm(r) == norm(&t.source_repository))
                && !workflow.is_empty()
                && norm(workflow) == norm(&t.signer_workflow)
                && facts.issuer.as_deref() == Some(t.issuer.as_str())
                && t.ref_pattern.as_deref().is_none_or(|p| {
                    facts
                        .source_ref
                        .as_deref()
                        .is_some_and(|r| crate::policy::NamePattern::new(p).matches(r))
                })
        })?;
        Some(ReviewedBuild {
            package: package.clone(),
            digests: digests.clone(),
            criterion: criterion.clone(),
            basis: ReviewBasis::TrustedPublisher(t.clone()),
        })
    }

    /// Certify a build: store its manifest and append an audit, atomically and under the
    /// ledger's lock (the ledger is re-read under the lock, so concurrent writers serialize).
    pub fn certify(&self, req: CertifyRequest, clock: &dyn Clock) -> Result<Audit, CertifyError> {
        certify(&self.dir, req, clock)
    }
}

/// What to certify.
#[derive(Debug, Clone)]
pub struct CertifyRequest {
    /// The build.
    pub package: PackageId,
    /// Its content manifest (carries the artifact's digests).
    pub manifest: ContentManifest,
    /// Criteria certified.
    pub criteria: BTreeSet<CriterionName>,
    /// Who reviewed it.
    pub who: String,
    /// Notes.
    pub notes: Option<String>,
    /// For a delta audit: the audited version it starts from.
    pub delta_from: Option<Version>,
    /// For a delta audit: the digest of the diff JSON the reviewer signed off on.
    pub review: Option<Digest>,
}

/// Certify into the ledger at `dir` (created if missing). See [`Ledger::certify`].
pub fn certify(dir: &Path, req: CertifyRequest, clock: &dyn Clock) -> Result<Audit, CertifyError> {
    certify_many(dir, vec![req], clock)?
        .into_iter()
        .next()
        .ok_or(CertifyError::NoCriteria)
}

fn precheck(req: &CertifyRequest) -> Result<(), CertifyError> {
    if req.who.trim().is_empty() {
        return Err(CertifyError::NoWho);
    }
    if req.criteria.is_empty() {
        return Err(CertifyError::NoCriteria);
    }
    if let Some(p) = &req.manifest.package {
        let name_ok = p
            .name
            .as_deref()
            .is_none_or(|n| n == req.package.name.as_str());
        let ver_ok = p
            .version
            .as_deref()
            .is_none_or(|v| v == req.package.version.as_str());
        if !name_ok || !ver_ok {
            return Err(CertifyError::PackageMismatch {
                expected: format!("{}@{}", req.package.name, req.package.version),
                actual: format!(
                    "{}@{}",
                    p.name.as_deref().unwrap_or("?"),
                    p.version.as_deref().unwrap_or("?")
                ),
            });
        }
    }
    Ok(())
}

/// Certify several builds in one ledger write (under one lock): every request is checked
/// first, and either all audits are appended or none.
pub fn certify_many(
    dir: &Path,
    reqs: Vec<CertifyRequest>,
    clock: &dyn Clock,
) -> Result<Vec<Audit>, CertifyError> {
    for req in &reqs {
        precheck(req)?;
    }
    let _lock = LedgerLock::acquire(dir)?;
    let ledger = Ledger::load_inner(dir, true).map_err(CertifyError::Invalid)?;
    let mut audits = Vec::with_capacity(reqs.len());
    let mut manifests = Vec::with_capacity(reqs.len());
    for req in reqs {
        let (audit, manifest) = audit_for(&ledger, req, clock)?;
        audits.push(audit);
        manifests.push(manifest);
    }
    // The manifests first: an audit never names a manifest that is not stored.
    for (audit, m) in audits.iter_mut().zip(&manifests) {
        audit.manifest = store_manifest(dir, m)?;
    }
    let mut file = ledger.file;
    file.audits.extend(audits.iter().cloned());
    write_atomic(&dir.join(AUDITS_FILE), format::write(&file).as_bytes())?;
    Ok(audits)
}

/// Append exemptions (digest-pinned, expiring) in one ledger write.
pub fn exempt_many(dir: &Path, exemptions: Vec<Exemption>) -> Result<(), CertifyError> {
    if exemptions.iter().any(|e| e.who.trim().is_empty()) {
        return Err(CertifyError::NoWho);
    }
    let _lock = LedgerLock::acquire(dir)?;
    let ledger = Ledger::load_inner(dir, true).map_err(CertifyError::Invalid)?;
    for e in &exemptions {
        for c in &e.criteria {
            if !ledger.criteria.contains_key(c) {
                return Err(CertifyError::UnknownCriterion {
                    name: c.to_string(),
                    known: ledger.known_criteria(),
                });
            }
        }
    }
    let mut file = ledger.file;
    file.exemptions.extend(exemptions);
    write_atomic(&dir.join(AUDITS_FILE), format::write(&file).as_bytes())?;
    Ok(())
}

/// Append a violation (a revocation) in one ledger write.
pub fn record_violation(dir: &Path, violation: Violation) -> Result<(), CertifyError> {
    if violation.who.trim().is_empty() {
        return Err(CertifyError::NoWho);
    }
    let _lock = LedgerLock::acquire(dir)?;
    let ledger = Ledger::load_inner(dir, true).map_err(CertifyError::Invalid)?;
    let mut file = ledger.file;
    file.violations.push(violation);
    write_atomic(&dir.join(AUDITS_FILE), format::write(&file).as_bytes())?;
    Ok(())
}

/// The audit one request makes (its manifest digest is filled in when stored).
fn audit_for(
    ledger: &Ledger,
    req: CertifyRequest,
    clock: &dyn Clock,
) -> Result<(Audit, ContentManifest), CertifyError> {
    for c in &req.criteria {
        if !ledger.criteria.contains_key(c) {
            return Err(CertifyError::UnknownCriterion {
                name: c.to_string(),
                known: ledger.known_criteria(),
            });
        }
    }
    if let Some(v) = ledger.revocation(
        &req.package,
        &req.manifest.artifact.sha512,
        &req.manifest.artifact.sha256,
    ) {
        return Err(CertifyError::Revoked {
            package: req.package.to_string(),
            who: v.who.clone(),
            when: v.when.to_string(),
        });
    }
    let kind = match &req.delta_from {
        None => AuditKind::Full,
        Some(from_version) => {
            let mut base: Option<Digest> = None;
            for c in &req.criteria {
                let builds: BTreeSet<Digest> = ledger
                    .covered_builds(&req.package, c)
                    .into_iter()
                    .filter(|b| &b.package.version == from_version)
                    .map(|b| b.sha512)
                    .collect();
                match builds.len() {
                    0 => {
                        return Err(CertifyError::NoAuditedBase {
                            name: req.package.name.to_string(),
                            version: from_version.to_string(),
                            criterion: c.to_string(),
                        });
                    }
                    1 => base = builds.into_iter().next(),
                    _ => {
                        return Err(CertifyError::AmbiguousBase {
                            name: req.package.name.to_string(),
                            version: from_version.to_string(),
                            digests: builds
                                .iter()
                                .map(|d| d.sri())
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
            match base {
                Some(sha512) => AuditKind::Delta(DeltaFrom {
                    version: from_version.clone(),
                    sha512,
                    review: req.review.clone(),
                }),
                None => return Err(CertifyError::NoCriteria),
            }
        }
    };
    let manifest = canonical_manifest(&req.manifest)
        .map(|(_, d)| d)
        .map_err(|e| {
            CertifyError::Store(StoreError {
                action: "serialize manifest",
                path: ledger.dir.clone(),
                source: std::io::Error::other(e),
            })
        })?;
    let now = clock.now();
    let when = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let audit = Audit {
        who: req.who.trim().to_string(),
        when: When::Timestamp(when),
        criteria: req.criteria,
        package: req.package,
        sha512: req.manifest.artifact.sha512.clone(),
        sha256: req.manifest.artifact.sha256.clone(),
        manifest,
        kind,
        notes: req.notes.filter(|n| !n.trim().is_empty()),
        origin: Origin::Local { line: 0 },
    };
    Ok((audit, req.manifest))
}

/// Compare the ledger file with its canonical form; with `write`, rewrite it (atomically,
/// under the lock) when it differs.
pub fn fmt(dir: &Path, write: bool) -> Result<FmtStatus, FmtError> {
    let file = dir.join(AUDITS_FILE);
    let _lock = if write {
        Some(LedgerLock::acquire(dir)?)
    } else {
        None
    };
    let text = read_text(&file)
        .map_err(FmtError::Invalid)?
        .ok_or_else(|| {
            FmtError::Invalid(one_error(
                &file,
                "no ledger file here".into(),
                Some("pass --ledger DIR".into()),
            ))
        })?;
    let (parsed, _) = parse_local(&file, &text).map_err(FmtError::Invalid)?;
    let canonical = format::write(&parsed);
    if canonical == text {
        return Ok(FmtStatus::Canonical);
    }
    if !write {
        return Ok(FmtStatus::NotCanonical);
    }
    write_atomic(&file, canonical.as_bytes())?;
    Ok(FmtStatus::Rewritten)
}

/// The canonical text of a ledger file's contents (for tests and tools).
pub fn canonical_text(dir: &Path) -> Result<String, LedgerDiagnostics> {
    let file = dir.join(AUDITS_FILE);
    let text =
        read_text(&file)?.ok_or_else(|| one_error(&file, "no ledger file here".into(), None))?;
    let (parsed, _) = parse_local(&file, &text)?;
    Ok(format::write(&parsed))
}

fn load_import(
    dir: &Path,
    ledger_file: &Path,
    imp: &Import,
    diags: &mut Vec<Diagnostic>,
) -> Option<LedgerFile> {
    let path = match &imp.path {
        Some(p) => dir.join(p),
        None => dir.join(IMPORTS_DIR).join(format!("{}.toml", imp.name)),
    };
    let mut warn = |message: String, hint: Option<String>| {
        diags.push(Diagnostic {
            severity: Severity::Warning,
            file: ledger_file.to_path_buf(),
            line: Some(imp.line),
            column: Some(1),
            message,
            hint,
        })
    };
    let bytes = match crate::limits::read_file_limited(
        &path,
        "imported ledger",
        store::LEDGER_FILE_BYTES,
    ) {
        Ok(b) => b,
        Err(e) => {
            warn(
                format!("import '{}' ignored: {e}", imp.name),
                Some(match &imp.url {
                    Some(u) => format!("fetch {u} into {} and check its sha256", path.display()),
                    None => "check the import's path".into(),
                }),
            );
            return None;
        }
    };
    let actual = digest::sha256(&bytes);
    if actual != imp.sha256 {
        warn(
            format!(
                "import '{}' ignored: {} has digest {actual}, the ledger pins {}",
                imp.name,
                path.display(),
                imp.sha256
            ),
            Some("review the imported file's changes, then update the pinned sha256".into()),
        );
        return None;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        warn(
            format!(
                "import '{}' ignored: {} is not UTF-8",
                imp.name,
                path.display()
            ),
            None,
        );
        return None;
    };
    let (parsed, inner) = format::parse(&path, &text, Some(&imp.name));
    diags.extend(inner);
    Some(parsed)
}

/// Cross-check: the sha256 of a file's bytes (to pin an import).
pub fn file_sha256(path: &Path) -> Result<Digest, crate::limits::ReadLimitedError> {
    crate::limits::read_file_limited(path, "file", store::LEDGER_FILE_BYTES)
        .map(|b| digest::sha256(&b))
}
