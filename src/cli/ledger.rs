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
///
/// With --closure and --policy: every artifact of the closure `admit` would resolve (its
/// dependencies, the platform packages the policy asks for) gets one audit, with its digests
/// and content manifest, for the criteria its policy entry names, in one ledger write;
/// artifacts already covered are skipped. With --exempt --expires DATE, digest-pinned
/// exemptions are recorded instead (for bootstrapping a ledger).
#[derive(Debug, clap::Args)]
pub struct CertifyArgs {
    /// The build: [ecosystem:]NAME@VERSION (e.g. npm:@anthropic-ai/claude-code@2.1.1).
    spec: String,
    /// Criteria certified (repeat or separate with commas), e.g. safe-to-run. With --closure:
    /// default each artifact's policy criteria.
    #[arg(long, required_unless_present = "closure", value_delimiter = ',')]
    criteria: Vec<String>,
    /// Certify the whole closure of SPEC as `admit` resolves it with --policy.
    #[arg(long, requires = "policy", conflicts_with_all = ["manifest", "delta_from"])]
    closure: bool,
    /// The policy file the closure is resolved with (--closure).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Record digest-pinned exemptions instead of audits (with --closure; needs --expires).
    #[arg(long, requires_all = ["closure", "expires"])]
    exempt: bool,
    /// When the exemptions stop admitting (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", requires = "exempt")]
    expires: Option<String>,
    #[command(flatten)]
    closure_limits: super::admit::ClosureLimitArgs,
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

/// `certify --closure`: one audit (or exemption) per artifact, one ledger write.
fn certify_closure(args: &CertifyArgs) -> Result<Outcome, Failure> {
    let policy = args
        .policy
        .as_deref()
        .ok_or_else(|| Failure::operational("--closure needs --policy FILE"))?;
    let spec = if args.spec.starts_with("npm:") {
        args.spec.clone()
    } else {
        format!("npm:{}", args.spec)
    };
    let parts = super::admit::GateParts::load(
        policy,
        &args.ledger,
        &args.source,
        &args.trust,
        args.closure_limits.limits(),
    )?;
    let gate = parts.gate(None);
    let builds = gate.closure_builds(&spec).map_err(Failure::operational)?;
    for n in &builds.notes {
        eprintln!("vetted: note: {n}");
    }
    if !builds.failures.is_empty() {
        let lines: Vec<String> = builds
            .failures
            .iter()
            .filter_map(|r| {
                r.first_failure()
                    .map(|c| format!("{}: {}: {}", r.artifact, c.name, c.detail))
            })
            .collect();
        return Err(Failure::rejected(
            "certify",
            format!(
                "{} artifact(s) of the closure fail before review, nothing was written: {}",
                lines.len(),
                lines.join("; ")
            ),
        ));
    }
    let override_criteria = args
        .criteria
        .iter()
        .map(|c| criterion(c.trim()))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let mut todo = Vec::new();
    let mut already = 0usize;
    for b in builds.builds {
        let criteria = if override_criteria.is_empty() {
            b.criteria.clone()
        } else {
            override_criteria.clone()
        };
        let covered = criteria
            .iter()
            .all(|c| b.covered(&parts.ledger, c, &SystemClock));
        if covered {
            already += 1;
            continue;
        }
        todo.push((b, criteria));
    }
    let n = todo.len();
    if args.exempt {
        let expires = args
            .expires
            .as_deref()
            .and_then(ledger::When::parse)
            .ok_or_else(|| {
                Failure::operational("--expires must be YYYY-MM-DD or an RFC 3339 timestamp")
            })?;
        let exemptions = todo
            .into_iter()
            .map(|(b, criteria)| ledger::Exemption {
                package: b.package,
                sha512: b.digests.sha512.clone(),
                criteria,
                who: args.who.trim().to_string(),
                expires,
                notes: args.notes.clone(),
                line: 0,
            })
            .collect();
        ledger::exempt_many(&args.ledger, exemptions).map_err(Failure::operational)?;
        crate::outln!(
            "exempted {n} artifact(s) of {spec} until {expires} ({already} already covered) in {}",
            args.ledger.join(ledger::AUDITS_FILE).display()
        );
        return Ok(Outcome::Success);
    }
    let reqs = todo
        .into_iter()
        .map(|(b, criteria)| CertifyRequest {
            package: b.package,
            manifest: b.manifest,
            criteria,
            who: args.who.clone(),
            notes: args.notes.clone(),
            delta_from: None,
            review: None,
        })
        .collect();
    ledger::certify_many(&args.ledger, reqs, &SystemClock).map_err(Failure::operational)?;
    crate::outln!(
        "certified {n} artifact(s) of {spec} ({already} already covered) in {}",
        args.ledger.join(ledger::AUDITS_FILE).display()
    );
    Ok(Outcome::Success)
}

fn certify_inner(args: CertifyArgs) -> Result<Outcome, Failure> {
    if args.closure {
        return certify_closure(&args);
    }
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
                    json!({"schema": "vetted.review/v1", "verdict": "reviewed", "package": package.to_string(), "criteria": crit.as_str(), "basis": why})
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
                let old = super::diff::Operand::cached(old, &args.source);
                let new = super::diff::Operand::cached(manifest.clone(), &args.source);
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
            if let Some(why) = &n.chain_limit {
                reason.push_str(&format!("; {why}"));
            }
            if format == Format::Json {
                crate::outln!(
                    "{}",
                    json!({"schema": "vetted.review/v1", "verdict": "needs-review", "check": "ledger-review", "reason": reason, "diff": n.diff})
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
        let old = super::diff::Operand::cached(om, source);
        let new = super::diff::Operand::cached(nm, source);
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

/// What must be audited for SPEC's closure to pass `admit`: each artifact no audit, delta
/// chain or exemption covers, with the nearest audited version and the size of the delta
/// (files and behaviour changes), smallest first. Exit 0 when nothing is missing, 1 otherwise.
#[derive(Debug, clap::Args)]
pub struct SuggestArgs {
    /// The release: `npm:<name>@<version|dist-tag>`.
    spec: String,
    /// The policy file.
    #[arg(long, default_value = "vetted.toml", value_name = "FILE")]
    policy: PathBuf,
    /// The ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    /// Print the suggestions as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    closure_limits: super::admit::ClosureLimitArgs,
    #[command(flatten)]
    source: super::fetch::SourceArgs,
    #[command(flatten)]
    trust: super::trust_root::TrustArgs,
}

pub fn run_suggest(args: SuggestArgs) -> Outcome {
    finish(args.json, suggest_inner(&args))
}

fn suggest_inner(args: &SuggestArgs) -> Result<Outcome, Failure> {
    let parts = super::admit::GateParts::load(
        &args.policy,
        &args.ledger,
        &args.source,
        &args.trust,
        args.closure_limits.limits(),
    )?;
    let gate = parts.gate(None);
    let builds = gate
        .closure_builds(&args.spec)
        .map_err(Failure::operational)?;
    let suggestions = gate.suggest(&builds);
    let failures: Vec<String> = builds
        .failures
        .iter()
        .filter_map(|r| {
            r.first_failure()
                .map(|c| format!("{}: {}: {}", r.artifact, c.name, c.detail))
        })
        .collect();
    if args.json {
        crate::outln!(
            "{}",
            json!({"schema": "vetted.suggest/v1", "spec": args.spec, "artifacts": builds.builds.len(), "to_audit": suggestions,
                   "failing_before_review": failures, "notes": builds.notes})
        );
    } else {
        crate::outln!(
            "{} of {} artifact(s) of {} need an audit:",
            suggestions.len(),
            builds.builds.len(),
            args.spec
        );
        for s in &suggestions {
            let nearest = s
                .nearest
                .as_deref()
                .map(|v| format!("nearest audited {v}"))
                .unwrap_or_else(|| "no audited version".into());
            crate::outln!(
                "  {} ({}): {nearest}; {} file(s), {} behaviour change(s)\n    {}",
                s.package,
                s.criterion,
                s.files,
                s.behaviour_changes,
                s.command
            );
        }
        for f in &failures {
            crate::outln!("  cannot be certified: {f}");
        }
    }
    if suggestions.is_empty() && failures.is_empty() {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::Rejected)
    }
}

/// Revoke a version: record a violation in the ledger and withdraw the version from the store's
/// index (its blob and record are kept, for forensics, and never served again). A running
/// `vetted serve` stops offering it within its index refresh (about a second). The ledger is
/// written first: should the store write fail, the next `revoke` or `admit` withdraws it.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The version: [npm:]NAME@VERSION.
    spec: String,
    /// The ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    /// The store to withdraw it from: a directory or s3://bucket[/prefix] (the index is
    /// rewritten conditionally on the one read, as `admit` does).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    store: Option<String>,
    /// Why (recorded in the violation and the store index).
    #[arg(long)]
    why: String,
    /// Who revokes it (default: $USER).
    #[arg(long)]
    who: Option<String>,
}

pub fn run_revoke(args: RevokeArgs) -> Outcome {
    finish(false, revoke_inner(&args))
}

fn revoke_inner(args: &RevokeArgs) -> Result<Outcome, Failure> {
    let package = PackageId::parse_spec(&args.spec).map_err(Failure::operational)?;
    if args.why.trim().is_empty() {
        return Err(Failure::operational(
            "--why is empty: say why it is revoked",
        ));
    }
    let who = args
        .who
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| Failure::operational("--who is needed ($USER is not set)"))?;
    let store = match &args.store {
        Some(location) => {
            let s = crate::store::AdmitTarget::open(location).map_err(Failure::operational)?;
            s.check_is_store().map_err(Failure::operational)?;
            Some(s)
        }
        None => None,
    };
    let now = crate::clock::Clock::now(&SystemClock);
    let when = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let violation = ledger::Violation {
        ecosystem: package.ecosystem.clone(),
        name: package.name.clone(),
        target: ledger::ViolationTarget::Version(package.version.clone()),
        who: who.trim().to_string(),
        when: ledger::When::Timestamp(when),
        notes: Some(args.why.trim().to_string()),
        origin: ledger::Origin::Local { line: 0 },
    };
    ledger::record_violation(&args.ledger, violation).map_err(Failure::operational)?;
    crate::outln!(
        "revoked {}@{} in {}",
        package.name,
        package.version,
        args.ledger.join(ledger::AUDITS_FILE).display()
    );
    if let Some(store) = store {
        let why = format!("revoked by {} on {when}: {}", who.trim(), args.why.trim());
        let done = store
            .withdraw(
                &[(package.name.to_string(), package.version.to_string())],
                &why,
                now,
            )
            .map_err(Failure::operational)?;
        if done.is_empty() {
            crate::outln!(
                "{}@{} is not served by {} (nothing to withdraw)",
                package.name,
                package.version,
                store.describe()
            );
        } else {
            crate::outln!(
                "withdrew {}@{} from {} (blob kept, never served)",
                package.name,
                package.version,
                store.describe()
            );
        }
    }
    Ok(Outcome::Success)
}
