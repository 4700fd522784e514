//! `vetted audit-installed`: installed copies against the audited builds in the ledger.
use super::{Failure, Outcome, finish};
use crate::installed::{Audit, Auditor, CopyReport, Status};
use crate::ledger::{self, Ledger};
use serde_json::json;
use std::path::PathBuf;

/// Check installed copies against the audited builds in the ledger, file by file: node_modules
/// trees (nested and scoped too), an npm global prefix, and Claude Code native installs
/// (claude/versions/<version>); and everything else Node could load there: loose files and
/// directories without package.json in a node_modules (unidentified code), symbolic links
/// (followed inside PATH, reported outside it), and the links in node_modules/.bin and a
/// global prefix's bin/ (each must point where its package's `bin` says).
///
/// Exit 0 when every copy found matches an audited build (files node-gyp built on this machine
/// are listed, and fail only with --strict), 1 when anything is modified, unknown,
/// unidentified, outside PATH or unreadable (named), or when PATH has a node_modules but no
/// package was found in it; 2 when the ledger or the path cannot be read.
#[derive(Debug, clap::Args)]
pub struct AuditInstalledArgs {
    /// Where to look (a project, a node_modules directory, an npm prefix, a home directory).
    path: PathBuf,
    /// The ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    /// The criterion the audits must cover.
    #[arg(long, default_value = ledger::SAFE_TO_RUN)]
    criteria: String,
    /// Fail on files that install scripts built on this machine (node-gyp `build/`) too.
    #[arg(long)]
    strict: bool,
    /// Print one JSON document: {"verdict", "copies": [...], "bin_links": [...]}
    /// (docs/audit-installed.md).
    #[arg(long)]
    json: bool,
    /// Also check every Claude Code native install (`claude/versions/<V>`) against the vendor's
    /// signed release manifest for V, from this base URL (e.g.
    /// https://downloads.claude.ai/claude-code-releases) or directory (`<V>/manifest.json` +
    /// `.sig`): a binary the manifest does not list is `unsigned` (exit 1).
    #[arg(long, value_name = "URL|DIR")]
    vendor_source: Option<String>,
    /// Trust this OpenPGP key file instead of the pinned vendor key (tests, key rotation drills).
    #[arg(
        long,
        value_name = "FILE",
        requires_all = ["insecure_vendor_key_fingerprint", "vendor_source"]
    )]
    insecure_vendor_key: Option<PathBuf>,
    /// The primary fingerprint that `--insecure-vendor-key` pins.
    #[arg(long, value_name = "HEX", requires = "insecure_vendor_key")]
    insecure_vendor_key_fingerprint: Option<String>,
}

fn print_report(r: &CopyReport) {
    let target = r
        .link_target
        .as_ref()
        .map(|t| format!(" -> {}", t.display()))
        .unwrap_or_default();
    match &r.name {
        Some(_) => crate::outln!(
            "{:<12} {}  {}{target}",
            r.status.word(),
            r.label(),
            r.path.display()
        ),
        None => crate::outln!("{:<12} {}{target}", r.status.word(), r.path.display()),
    }
    for f in &r.modified {
        crate::outln!(
            "             modified {}: expected {}, actual {}",
            f.path,
            f.expected,
            f.actual
        );
    }
    for f in &r.missing {
        crate::outln!("             missing  {f}");
    }
    for f in &r.added {
        crate::outln!("             added    {f}");
    }
    for f in &r.built {
        crate::outln!("             built on this machine {f}");
    }
    if r.status != Status::Match {
        for n in &r.notes {
            crate::outln!("             note: {n}");
        }
    }
}

fn summary(r: &CopyReport) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(r.modified.iter().map(|f| {
        format!(
            "{} modified (expected {}, actual {})",
            f.path, f.expected, f.actual
        )
    }));
    parts.extend(r.missing.iter().map(|f| format!("{f} missing")));
    parts.extend(r.added.iter().map(|f| format!("{f} added")));
    parts.extend(r.built.iter().map(|f| format!("{f} built on this machine")));
    if parts.is_empty() || matches!(r.status, Status::UnidentifiedCode | Status::OutsideRoot) {
        parts.push(match r.status {
            Status::UnknownVersion => "no audited build of this version".to_string(),
            _ => r.notes.join("; "),
        });
    }
    let what = match &r.name {
        Some(_) => format!("{} at {}", r.label(), r.path.display()),
        None => r.path.display().to_string(),
    };
    format!("{} {what}: {}", r.status.word(), parts.join(", "))
}

fn run_inner(args: AuditInstalledArgs) -> Result<Outcome, Failure> {
    let ledger = Ledger::load(&args.ledger).map_err(|d| {
        eprint!("{}", d.render());
        Failure::operational(format!(
            "cannot load the ledger in {}",
            args.ledger.display()
        ))
    })?;
    let criterion = ledger.criterion(&args.criteria).cloned().ok_or_else(|| {
        Failure::operational(format!("criteria '{}' is not defined", args.criteria))
    })?;
    let mut auditor = Auditor::new(&ledger, criterion);
    if let Some(src) = &args.vendor_source {
        auditor = auditor.with_vendor(crate::installed::VendorCheck {
            source: crate::source::VendorSource::parse(src).map_err(Failure::operational)?,
            key: super::vendor::vendor_key(
                crate::vendor::CLAUDE_CODE,
                args.insecure_vendor_key.as_deref(),
                args.insecure_vendor_key_fingerprint.as_deref(),
            )?,
            fetch: crate::source::FetchOptions::default(),
            clock: &crate::clock::SystemClock,
        });
    }
    let audit: Audit = auditor
        .audit_path(&args.path)
        .map_err(Failure::operational)?;
    let bad: Vec<&CopyReport> = audit
        .all()
        .filter(|r| r.status.fails(args.strict))
        .collect();
    let built = audit.copies.iter().filter(|r| !r.built.is_empty()).count();
    // A node_modules with no package in it is not a pass: what is in it was not identified.
    let empty = audit.copies.is_empty() && audit.node_modules > 0;
    let ok = bad.is_empty() && !empty;
    if args.json {
        crate::outln!(
            "{}",
            json!({
                "schema": "vetted.audit-installed/v1",
                "verdict": if ok { "match" } else { "mismatch" },
                "path": args.path,
                "criteria": args.criteria,
                "strict": args.strict,
                "node_modules": audit.node_modules,
                "built_on_this_machine": built,
                "copies": audit.copies,
                "bin_links": audit.bin_links,
            })
        );
    } else {
        for r in audit.all() {
            print_report(r);
        }
    }
    if audit.copies.is_empty() {
        eprintln!(
            "vetted: no installed packages found under {}",
            args.path.display()
        );
    }
    if built > 0 && !args.strict {
        eprintln!(
            "vetted: {built} package(s) have files built on this machine by install scripts (not reviewed; --strict fails them)"
        );
    }
    if ok {
        return Ok(Outcome::Success);
    }
    if empty {
        return Err(Failure::rejected(
            "installed-copies",
            format!(
                "{} has {} node_modules director{} but no installed package was identified in them",
                args.path.display(),
                audit.node_modules,
                if audit.node_modules == 1 { "y" } else { "ies" }
            ),
        ));
    }
    Err(Failure::rejected(
        "installed-copies",
        format!(
            "{} of {} installed copies and links do not match an audited build: {}",
            bad.len(),
            audit.copies.len() + audit.bin_links.len(),
            bad.iter()
                .map(|r| summary(r))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    ))
}

/// Run `vetted audit-installed`.
pub fn run(args: AuditInstalledArgs) -> Outcome {
    let json = args.json;
    match run_inner(args) {
        // A rejection comes after the report was printed (with --json, the report is the one
        // JSON value on stdout); an error comes before anything was, so it is the JSON value.
        r @ Err(Failure::Operational(_)) => finish(json, r),
        r => finish(false, r),
    }
}
