//! `vetted fmt`, `vetted certify`, `vetted review`: the audit ledger at the command line.
use super::diff::{Format, read_manifest_file, render};
use super::{Failure, Outcome, finish};
use crate::clock::SystemClock;
use crate::content::ContentManifest;
use crate::ledger::{
    self, CertifyError, CertifyRequest, CriterionName, FmtError, FmtStatus, Ledger,
    LedgerDiagnostics, PackageId, ReviewOutcome, Version,
};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Rewrite the ledger file (or, with --policy, a policy file) canonically (sorted, one stable
/// layout). With --check, write nothing and exit 1 when it is not canonical.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Only check; exit 1 and name the file when it is not canonical.
    #[arg(long)]
    check: bool,
    /// The ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    /// Format this policy file (vetted.toml) instead of the ledger.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

/// Record that a person reviewed a build: store its content manifest and append an audit.
#[derive(Debug, clap::Args)]
pub struct CertifyArgs {
    /// The build: [ecosystem:]NAME@VERSION (e.g. npm:@anthropic-ai/claude-code@2.1.1).
    spec: String,
    /// Criteria certified (repeat or separate with commas), e.g. safe-to-run.
    #[arg(long, required = true, value_delimiter = ',')]
    criteria: Vec<String>,
    /// Certify only the change from this audited version (a delta audit, bound to its digest).
    #[arg(long, value_name = "VERSION")]
    delta_from: Option<String>,
    /// The review digest of the diff that was reviewed (`sha256:<hex>`, shown by `vetted diff`
    /// and `vetted review` and on the review page); recorded so `vetted review` can check that
    /// the delta is still the one signed off.
    #[arg(long, value_name = "sha256:HEX", requires = "delta_from")]
    review: Option<String>,
    /// Who reviewed it ("Name <email>").
    #[arg(long)]
    who: String,
    /// Notes for the audit.
    #[arg(long)]
    notes: Option<String>,
    /// Use this content manifest (JSON) instead of fetching the build (offline; the digests are
    /// the manifest's own).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    #[command(flatten)]
    source: super::fetch::SourceArgs,
    #[command(flatten)]
    trust: super::trust_root::TrustArgs,
}

/// Check a build against the ledger: exit 0 when an audit (or delta chain, or exemption) covers
/// it, 1 when it is revoked or needs review (with the diff from the closest audited build).
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// The build: [ecosystem:]NAME@VERSION.
    spec: String,
    /// The criterion to review for.
    #[arg(long, default_value = ledger::SAFE_TO_RUN)]
    criteria: String,
    /// Use this content manifest (JSON) instead of fetching the build (offline; the digests are
    /// the manifest's own).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the diff as Markdown.
    #[arg(long)]
    markdown: bool,
    /// When the build needs review: write the review page (one self-contained HTML file).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// With --markdown: how the comment names the HTML page (e.g. the workflow artifact).
    #[arg(long, value_name = "TEXT", requires = "html")]
    html_link: Option<String>,
    /// The ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    #[command(flatten)]
    source: super::fetch::SourceArgs,
    #[command(flatten)]
    trust: super::trust_root::TrustArgs,
}

fn print_diagnostics(d: &LedgerDiagnostics) {
    eprint!("{}", d.render());
}

fn invalid(dir: &Path, d: &LedgerDiagnostics) -> Failure {
    print_diagnostics(d);
    Failure::rejected(
        "ledger",
        format!(
            "{} has {} error(s)",
            dir.join(ledger::AUDITS_FILE).display(),
            d.error_count()
        ),
    )
}

pub fn run_fmt(args: FmtArgs) -> Outcome {
    finish(false, fmt_inner(&args))
}

/// `vetted fmt --policy FILE`: the policy's canonical form (entries in file order, keys in a
/// fixed order, defaults written out, the leading comment kept).
fn fmt_policy(path: &Path, check: bool) -> Result<Outcome, Failure> {
    use crate::policy::{Policy, PolicyError, canonical_text, header_of};
    let policy = Policy::load(path).map_err(|e| match e {
        PolicyError::Invalid(d) => {
            print_diagnostics(&d);
            Failure::rejected(
                "policy",
                format!("{} has {} error(s)", path.display(), d.error_count()),
            )
        }
        other => Failure::operational(other),
    })?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::operational(format!("{}: {e}", path.display())))?;
    let canonical = canonical_text(&policy, &header_of(&text));
    if canonical == text {
        return Ok(Outcome::Success);
    }
    if check {
        crate::outln!("{}", path.display());
        return Err(Failure::rejected(
            "fmt",
            format!(
                "{} is not in canonical form (run vetted fmt --policy)",
                path.display()
            ),
        ));
    }
    crate::atomic::write(path, canonical.as_bytes())
        .map_err(|e| Failure::operational(format!("{}: {e}", path.display())))?;
    eprintln!("vetted: formatted {}", path.display());
    Ok(Outcome::Success)
}

fn fmt_inner(args: &FmtArgs) -> Result<Outcome, Failure> {
    if let Some(policy) = &args.policy {
        return fmt_policy(policy, args.check);
    }
    let file = args.ledger.join(ledger::AUDITS_FILE);
    if !file.exists() {
        return Err(Failure::operational(format!(
            "no ledger at {} (pass --ledger DIR)",
            file.display()
        )));
    }
    match ledger::fmt(&args.ledger, !args.check) {
        Ok(FmtStatus::Canonical) => Ok(Outcome::Success),
        Ok(FmtStatus::Rewritten) => {
            eprintln!("vetted: formatted {}", file.display());
            Ok(Outcome::Success)
        }
        Ok(FmtStatus::NotCanonical) => {
            crate::outln!("{}", file.display());
            Err(Failure::rejected(
                "fmt",
                format!(
                    "{} is not in canonical form (run vetted fmt)",
                    file.display()
                ),
            ))
        }
        Err(FmtError::Invalid(d)) => Err(invalid(&args.ledger, &d)),
        Err(FmtError::Store(e)) => Err(Failure::operational(e)),
    }
}

/// The manifest and artifact digests for a spec: from `--manifest` (offline), or by fetching the
/// build (checked against the registry's integrity) and reading its contents.
fn manifest_for(
    spec: &PackageId,
    manifest: Option<&Path>,
    source: &super::fetch::SourceArgs,
    trust: &super::trust_root::TrustArgs,
) -> Result<(ContentManifest, crate::digest::Digests), Failure> {
    match manifest {
        Some(p) => read_manifest_file(p).map(|m| {
            let d = m.artifact.clone();
            (m, d)
        }),
        None => {
            let npm = format!("npm:{}@{}", spec.name, spec.version);
            let (fetched, manifest) = super::fetch::fetch_and_inspect(&npm, source)?;
            if manifest.artifact != fetched.digests {
                return Err(Failure::operational(
                    "the content reader and the fetcher disagree on the artifact's digests",
                ));
            }
            check_attestations(&fetched, trust)?;
            Ok((manifest, fetched.digests))
        }
    }
}

/// When the registry lists attestations for the build, they must verify (Sigstore bundle against
/// the pinned roots, npm publish attestation against the registry keys, subject = these bytes);
/// when it lists none, say so. Source-repository policy belongs to `vetted admit`'s policy file.
fn check_attestations(
    fetched: &crate::source::Fetched,
    trust: &super::trust_root::TrustArgs,
) -> Result<(), Failure> {
    let Some(meta) = &fetched.npm else {
        return Ok(());
    };
    let Some(path) = &meta.attestations_path else {
        eprintln!(
            "vetted: note: the registry lists no attestations for {}@{}: provenance not checked",
            meta.name, meta.version
        );
        return Ok(());
    };
    let limits = crate::limits::Limits::default();
    let bytes = crate::limits::read_file_limited(path, "attestations size", limits.bundle_bytes)
        .map_err(Failure::operational)?;
    let trust = trust.load()?;
    let (roots, keys) = (trust.roots, trust.npm_keys);
    let package = crate::provenance::NpmPackageRef {
        tarball: &fetched.digests,
        name: meta.name.as_str(),
        version: meta.version.as_str(),
    };
    let accepted = crate::provenance::verify_npm_attestations(
        package,
        &bytes,
        &roots,
        &keys,
        crate::clock::Clock::now(&crate::clock::SystemClock),
        &limits,
    )
    .map_err(|e| Failure::rejected(e.check(), e))?;
    let f = accepted.facts();
    eprintln!(
        "vetted: provenance verified: built from {} at {} (signed by {})",
        f.source_repository.as_deref().unwrap_or("?"),
        f.source_commit.as_deref().unwrap_or("?"),
        f.signer.as_deref().unwrap_or("?")
    );
    Ok(())
}

fn criterion(name: &str) -> Result<CriterionName, Failure> {
    CriterionName::new(name).map_err(Failure::operational)
}

pub fn run_certify(args: CertifyArgs) -> Outcome {
    finish(false, certify_inner(args))
}

fn certify_inner(args: CertifyArgs) -> Result<Outcome, Failure> {
    let package = PackageId::parse_spec(&args.spec).map_err(Failure::operational)?;
    let (manifest, _) = manifest_for(
        &package,
        args.manifest.as_deref(),
        &args.source,
        &args.trust,
    )?;
    let criteria = args
        .criteria
        .iter()
        .map(|c| criterion(c.trim()))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let delta_from = args
        .delta_from
        .as_deref()
        .map(Version::new)
        .transpose()
        .map_err(Failure::operational)?;
    let review = args
        .review
        .as_deref()
        .map(|r| {
            crate::digest::Digest::parse_prefixed(r)
                .ok()
                .filter(|d| d.algorithm() == crate::digest::Algorithm::Sha256)
                .ok_or_else(|| {
                    Failure::operational(format!(
                        "--review must be sha256:<64 hex digits> (the review digest), found {r:?}"
                    ))
                })
        })
        .transpose()?;
    let req = CertifyRequest {
        package,
        manifest,
        criteria,
        who: args.who,
        notes: args.notes,
        delta_from,
        review,
    };
    match ledger::certify(&args.ledger, req, &SystemClock) {
        Ok(audit) => {
            let kind = match &audit.kind {
                ledger::AuditKind::Full => "full audit".to_string(),
                ledger::AuditKind::Delta(f) => format!("delta audit from {}", f.version),
            };
            let crit: Vec<&str> = audit.criteria.iter().map(|c| c.as_str()).collect();
            crate::outln!(
                "certified {} for {} ({kind}) in {}",
                audit.package,
                crit.join(", "),
                args.ledger.join(ledger::AUDITS_FILE).display()
            );
            Ok(Outcome::Success)
        }
        Err(CertifyError::Invalid(d)) => {
            print_diagnostics(&d);
            Err(Failure::operational(format!(
                "{} has {} error(s); nothing was written",
                args.ledger.join(ledger::AUDITS_FILE).display(),
                d.error_count()
            )))
        }
        Err(e) => Err(Failure::operational(e)),
    }
}

pub fn run_review(args: ReviewArgs) -> Outcome {
    let format = Format::from_flags(args.json, args.markdown);
    finish(args.json, review_inner(&args, format))
}

fn review_inner(args: &ReviewArgs, format: Format) -> Result<Outcome, Failure> {
    let package = PackageId::parse_spec(&args.spec).map_err(Failure::operational)?;
    let (manifest, digests) = manifest_for(
        &package,
        args.manifest.as_deref(),
        &args.source,
        &args.trust,
    )?;
    let file = args.ledger.join(ledger::AUDITS_FILE);
    if !file.exists() {
        return Err(Failure::operational(format!(
            "no ledger at {} (pass --ledger DIR)",
            file.display()
        )));
    }
    let ledger = Ledger::load(&args.ledger).map_err(|d| invalid(&args.ledger, &d))?;
    print_diagnostics(ledger.warnings());
    let crit = criterion(&args.criteria)?;
    let outcome = ledger
        .review(&package, &digests, &manifest, &crit, &SystemClock)
        .map_err(Failure::operational)?;
    if let ReviewOutcome::CoveredByDelta(b) = &outcome
        && let ledger::ReviewBasis::DeltaChain(chain) = b.basis()
    {
        check_review_digests(&args.ledger, chain, &args.source)?;
    }
    match outcome {
        ReviewOutcome::Identical(b)
        | ReviewOutcome::CoveredByDelta(b)
        | ReviewOutcome::CoveredByExemption(b) => {
            let why = b.basis().describe();
            if format == Format::Json {
                crate::outln!(
                    "{}",
                    json!({"verdict": "reviewed", "package": package.to_string(), "criteria": crit.as_str(), "basis": why})
                );
            } else {
                crate::outln!("reviewed: {package} for {crit}: {why}");
            }
            Ok(Outcome::Success)
        }
        ReviewOutcome::Revoked(v) => {
            let target = match &v.target {
                ledger::ViolationTarget::Version(ver) => format!("version {ver}"),
                ledger::ViolationTarget::Digest(d) => format!("build {d}"),
            };
            Err(Failure::rejected(
                "ledger-violation",
                format!(
                    "{package}: {target} is revoked by {} on {}{}",
                    v.who,
                    v.when,
                    v.notes
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ),
            ))
        }
        ReviewOutcome::NeedsReview(mut n) => {
            // The ledger compared manifests; with the artifacts at hand, compare their code too.
            if let Some(b) = &n.closest
                && let Ok(old) = ledger::load_manifest(&args.ledger, &b.manifest)
            {
                let old_label = format!("ledger:{}@{}", b.package.name, b.package.version);
                let old = super::diff::Operand {
                    artifact: super::diff::cached_artifact(&old, &args.source),
                    manifest: old,
                };
                let new = super::diff::Operand {
                    artifact: super::diff::cached_artifact(&manifest, &args.source),
                    manifest: manifest.clone(),
                };
                let new_label = format!("{}@{}", package.name, package.version);
                n.diff = Some(super::diff::diff_operands(
                    &old_label, &old, &new_label, &new,
                ));
            }
            if let (Some(path), Some(d)) = (&args.html, &n.diff) {
                let cmd = super::diff::certify_command(d, Some(&args.ledger));
                super::diff::write_html(path, d, &cmd)?;
            }
            let closest = n
                .closest
                .as_ref()
                .map(|b| {
                    format!(
                        "closest audited build: {}@{}",
                        b.package.name, b.package.version
                    )
                })
                .unwrap_or_else(|| "no audited build of this package".into());
            let mut reason = format!("no audit covers {package} for {crit}; {closest}");
            if let Some(e) = n.expired_exemptions.first() {
                reason.push_str(&format!("; an exemption expired on {}", e.expires));
            }
            if let Some(why) = &n.diff_unavailable {
                reason.push_str(&format!("; no diff: {why}"));
            }
            if format == Format::Json {
                crate::outln!(
                    "{}",
                    json!({"verdict": "needs-review", "check": "ledger-review", "reason": reason, "diff": n.diff})
                );
                eprintln!("vetted: rejected: ledger-review: {reason}");
                return Ok(Outcome::Rejected);
            }
            if let Some(d) = &n.diff {
                let text = match format {
                    Format::Markdown => crate::diff::render_markdown(
                        d,
                        args.html_link
                            .as_deref()
                            .or(args.html.as_deref().and_then(|p| p.to_str())),
                    ),
                    f => render(d, f)?,
                };
                crate::outln!("{}", text.strip_suffix('\n').unwrap_or(&text));
                if format != Format::Json {
                    eprintln!(
                        "vetted: to record the review: {}",
                        super::diff::certify_command(d, Some(&args.ledger))
                    );
                }
            }
            Err(Failure::rejected("ledger-review", reason))
        }
    }
}

/// Every delta audit in `chain` that records the diff it was signed off on (`review`) must
/// still produce that diff: recompute it from the stored manifests (and the cached artifacts'
/// code) and compare the digests.
fn check_review_digests(
    dir: &Path,
    chain: &[ledger::Audit],
    source: &super::fetch::SourceArgs,
) -> Result<(), Failure> {
    for w in chain.windows(2) {
        let (from, to) = (&w[0], &w[1]);
        let ledger::AuditKind::Delta(d) = &to.kind else {
            continue;
        };
        let Some(want) = &d.review else {
            continue;
        };
        let load = |a: &ledger::Audit| {
            ledger::load_manifest(dir, &a.manifest)
                .map_err(|e| Failure::operational(format!("{}: {e}", a.package)))
        };
        let (om, nm) = (load(from)?, load(to)?);
        let old = super::diff::Operand {
            artifact: super::diff::cached_artifact(&om, source),
            manifest: om,
        };
        let new = super::diff::Operand {
            artifact: super::diff::cached_artifact(&nm, source),
            manifest: nm,
        };
        let label = |a: &ledger::Audit| format!("ledger:{}@{}", a.package.name, a.package.version);
        let report = super::diff::diff_operands(&label(from), &old, &label(to), &new);
        let got = report.digest();
        if &got != want {
            let missing = if old.artifact.is_none() || new.artifact.is_none() {
                format!(
                    " (an artifact is not in the cache, so the code diff could not be rebuilt: vetted fetch npm:{}@{} and npm:{}@{})",
                    from.package.name, from.package.version, to.package.name, to.package.version
                )
            } else {
                String::new()
            };
            return Err(Failure::rejected(
                "review-digest",
                format!(
                    "the delta audit of {} by {} was signed off on diff {want}, but the diff from {} now is {got}{missing}",
                    to.package, to.who, from.package.version
                ),
            ));
        }
    }
    Ok(())
}
