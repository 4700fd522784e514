//! `vetted diff OLD NEW`, and how an operand becomes a content manifest.
use super::{Failure, Outcome, finish};
use crate::content::ContentManifest;
use crate::ledger::{Ledger, PackageId};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

/// Compare two builds: files added, removed and changed, and the signals a reviewer must look
/// at (install scripts, dependencies, executables, URLs, environment variables, capabilities).
///
/// An operand is an audited build `ledger:NAME@VERSION` (its stored manifest), a content
/// manifest `FILE.json`, an npm spec `npm:NAME@VERSION` (fetched and verified against the
/// registry's integrity), an `https://` URL, or a local artifact (`.tgz`, `.tar`, `.zip`).
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier build (usually the audited one).
    old: String,
    /// The build under review.
    new: String,
    /// Print the report as JSON (schema: docs/diff-json.md).
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the report as Markdown (for a pull-request comment).
    #[arg(long)]
    markdown: bool,
    /// The ledger directory (for `ledger:` operands).
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    #[command(flatten)]
    source: super::fetch::SourceArgs,
}

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Human,
    Json,
    Markdown,
}

impl Format {
    pub(crate) fn from_flags(json: bool, markdown: bool) -> Self {
        if json {
            Format::Json
        } else if markdown {
            Format::Markdown
        } else {
            Format::Human
        }
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
pub(crate) fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub(crate) fn render(
    report: &crate::diff::ReviewReport,
    format: Format,
) -> Result<String, Failure> {
    Ok(match format {
        Format::Human => crate::diff::render_human(report, color_stdout()),
        Format::Markdown => crate::diff::render_markdown(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).map_err(Failure::operational)?;
            s.push('\n');
            s
        }
    })
}

pub fn run(args: DiffArgs) -> Outcome {
    let format = Format::from_flags(args.json, args.markdown);
    finish(args.json, run_inner(&args, format))
}

fn run_inner(args: &DiffArgs, format: Format) -> Result<Outcome, Failure> {
    let old = load_manifest(&args.old, &args.ledger, &args.source)?;
    let new = load_manifest(&args.new, &args.ledger, &args.source)?;
    let report = crate::diff::diff(&args.old, &old, &args.new, &new);
    super::fetch::emit(&render(&report, format)?);
    Ok(Outcome::Success)
}

/// Read a content manifest JSON file.
pub(crate) fn read_manifest_file(path: &Path) -> Result<ContentManifest, Failure> {
    let limit = crate::limits::Limits::default().metadata_bytes;
    let bytes = crate::limits::read_file_limited(path, "content manifest", limit)
        .map_err(Failure::operational)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Failure::operational(format!("{} is not a content manifest: {e}", path.display()))
    })
}

/// Turn an operand into a content manifest:
/// - `ledger:NAME@VERSION`: the stored manifest of that audited build;
/// - a path ending in `.json`: a content manifest file;
/// - anything else: an artifact path or spec, read by the content reader.
pub(super) fn load_manifest(
    operand: &str,
    ledger_dir: &Path,
    source: &super::fetch::SourceArgs,
) -> Result<ContentManifest, Failure> {
    if let Some(spec) = operand.strip_prefix("ledger:") {
        return load_ledger_manifest(spec, ledger_dir);
    }
    let path = Path::new(operand);
    if path.extension().is_some_and(|e| e == "json") {
        return read_manifest_file(path);
    }
    // Artifacts and specs: fetched (npm specs checked against dist.integrity while streaming)
    // and read by the content reader.
    super::fetch::fetch_and_inspect(operand, source).map(|(_, manifest)| manifest)
}

fn load_ledger_manifest(spec: &str, ledger_dir: &Path) -> Result<ContentManifest, Failure> {
    let want = PackageId::parse_spec(spec).map_err(Failure::operational)?;
    let ledger = Ledger::load(ledger_dir).map_err(|d| {
        eprint!("{d}");
        Failure::operational(format!(
            "the ledger in {} has {} error(s)",
            ledger_dir.display(),
            d.error_count()
        ))
    })?;
    let mut manifests: Vec<_> = ledger
        .audits()
        .filter(|a| a.package.same_package(&want) && a.package.version == want.version)
        .map(|a| a.manifest.clone())
        .collect();
    manifests.sort();
    manifests.dedup();
    match manifests.as_slice() {
        [] => Err(Failure::operational(format!(
            "no audited build of {}@{} in {}",
            want.name,
            want.version,
            ledger_dir.display()
        ))),
        [one] => crate::ledger::load_manifest(ledger_dir, one).map_err(Failure::operational),
        many => Err(Failure::operational(format!(
            "{}@{} has {} audited builds with different manifests ({}); pass the manifest file instead",
            want.name,
            want.version,
            many.len(),
            many.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
