//! `vetted audit-installed`: installed copies against the audited builds in the ledger.
use super::{Failure, Outcome, finish};
use crate::installed::{Auditor, CopyReport, Status};
use crate::ledger::{self, Ledger};
use serde_json::json;
use std::path::PathBuf;

/// Check installed copies against the audited builds in the ledger, file by file: node_modules
/// trees (nested and scoped too), an npm global prefix, and Claude Code native installs
/// (claude/versions/<version>).
///
/// Exit 0 when every copy found matches an audited build, 1 when any is modified, unknown or
/// unreadable (the files are named), 2 when the ledger or the path cannot be read.
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
    /// Print one JSON document: {"verdict", "copies": [one object per installed copy]}.
    #[arg(long)]
    json: bool,
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Match => "match",
        Status::Modified => "modified",
        Status::UnknownVersion => "unknown",
        Status::Revoked => "revoked",
        Status::Unreadable => "unreadable",
    }
}

fn print_human(reports: &[CopyReport]) {
    for r in reports {
        println!(
            "{:<10} {}  {}",
            status_word(r.status),
            r.label(),
            r.path.display()
        );
        for f in &r.modified {
            println!(
                "           modified {}: expected {}, actual {}",
                f.path, f.expected, f.actual
            );
        }
        for f in &r.missing {
            println!("           missing  {f}");
        }
        for f in &r.added {
            println!("           added    {f}");
        }
        if r.status != Status::Match {
            for n in &r.notes {
                println!("           note: {n}");
            }
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
    if parts.is_empty() {
        parts.push(match r.status {
            Status::UnknownVersion => "no audited build of this version".to_string(),
            _ => r.notes.join("; "),
        });
    }
    format!(
        "{} at {}: {}",
        r.label(),
        r.path.display(),
        parts.join(", ")
    )
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
    let reports = auditor
        .audit_path(&args.path)
        .map_err(Failure::operational)?;
    let bad: Vec<&CopyReport> = reports
        .iter()
        .filter(|r| r.status != Status::Match)
        .collect();
    if args.json {
        let verdict = if bad.is_empty() { "match" } else { "mismatch" };
        println!(
            "{}",
            json!({
                "verdict": verdict,
                "path": args.path,
                "criteria": args.criteria,
                "copies": reports,
            })
        );
    } else {
        print_human(&reports);
    }
    if reports.is_empty() {
        eprintln!(
            "vetted: no installed packages found under {}",
            args.path.display()
        );
    }
    if bad.is_empty() {
        return Ok(Outcome::Success);
    }
    Err(Failure::rejected(
        "installed-copies",
        format!(
            "{} of {} installed copies do not match an audited build: {}",
            bad.len(),
            reports.len(),
            bad.iter()
                .map(|r| summary(r))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    ))
}

/// Run `vetted audit-installed`.
pub fn run(args: AuditInstalledArgs) -> Outcome {
    finish(false, run_inner(args))
}
