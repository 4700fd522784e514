//! `vetted diff OLD NEW`, and how an operand becomes a content manifest.
use super::{Failure, Outcome, finish};
use crate::content::ContentManifest;
use crate::ledger::{Ledger, PackageId};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

/// Compare two builds: the delta a reviewer signs off. Behaviour changes per module (ranked by
/// risk) first, then modules whose code changed (pretty-printed, minifier renames normalised,
/// unified diffs), then pure moves; renamed bundler chunks and moved files are paired.
///
/// An operand is an audited build `ledger:NAME@VERSION` (its stored manifest; its code is read
/// from the cache when the artifact is there), a content manifest `FILE.json` (digests only), an
/// npm spec `npm:NAME@VERSION` (fetched and verified against the registry's integrity), an
/// `https://` URL, or a local artifact (`.tgz`, `.tar`, `.zip`).
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier build (usually the audited one).
    old: String,
    /// The build under review.
    new: String,
    /// Print the report as JSON (schema vetted.diff/v2: docs/diff-json.md).
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the report as Markdown (for a pull-request comment; stays under GitHub's 65,536
    /// characters, pointing at the HTML page for the rest).
    #[arg(long)]
    markdown: bool,
    /// Also write the review page: one self-contained HTML file (no network, no external assets).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The ledger directory (for `ledger:` operands).
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    /// Analyse both builds afresh: do not reuse (nor fill) the inspection cache, which keeps
    /// what the last review of the same artifact found (docs/inspection-cache.md).
    #[arg(long)]
    no_inspection_cache: bool,
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
        Format::Markdown => crate::diff::render_markdown(report, None),
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
    let (old, new) = std::thread::scope(|s| {
        let cache = !args.no_inspection_cache;
        let h = s.spawn(move || load_operand(&args.new, &args.ledger, &args.source, cache));
        let old = load_operand(&args.old, &args.ledger, &args.source, cache);
        let new = h
            .join()
            .unwrap_or_else(|_| Err(Failure::operational("the reader thread failed")));
        (old, new)
    });
    let (old, new) = (old?, new?);
    if std::env::var_os("VETTED_DEBUG_DELTA").is_some() {
        eprintln!("delta: operands loaded; statm {}", crate::diff::statm());
    }
    let report = diff_operands(&args.old, &old, &args.new, &new);
    let mut md_link = None;
    if let Some(path) = &args.html {
        write_html(path, &report, &certify_command(&report, None))?;
        md_link = Some(path.display().to_string());
    }
    let text = match format {
        Format::Markdown => crate::diff::render_markdown(&report, md_link.as_deref()),
        f => render(&report, f)?,
    };
    super::fetch::emit(&text);
    Ok(Outcome::Success)
}

/// A loaded operand: its manifest, and the artifact its bytes can be read from (if any), and
/// what its inspection kept of them.
pub(crate) struct Operand {
    pub(crate) manifest: ContentManifest,
    pub(crate) artifact: Option<PathBuf>,
    pub(crate) kept: std::sync::Mutex<Option<crate::content::Kept>>,
}

impl Operand {
    /// A stored manifest, with its artifact when the fetch cache holds it.
    pub(crate) fn cached(manifest: ContentManifest, source: &super::fetch::SourceArgs) -> Self {
        Operand {
            artifact: cached_artifact(&manifest, source),
            manifest,
            kept: std::sync::Mutex::new(None),
        }
    }
}

/// Load an operand (see [`load_manifest`]), keeping where its artifact is.
pub(crate) fn load_operand(
    operand: &str,
    ledger_dir: &Path,
    source: &super::fetch::SourceArgs,
    inspection_cache: bool,
) -> Result<Operand, Failure> {
    let path = Path::new(operand);
    if operand.starts_with("ledger:") || path.extension().is_some_and(|e| e == "json") {
        let manifest = load_manifest(operand, ledger_dir, source)?;
        return Ok(Operand::cached(manifest, source));
    }
    let (fetched, manifest, kept) =
        super::fetch::fetch_and_inspect_keeping(operand, source, inspection_cache)?;
    Ok(Operand {
        manifest,
        artifact: Some(fetched.path),
        kept: std::sync::Mutex::new(kept),
    })
}

/// The cached artifact of a manifest, when the cache holds it.
pub(crate) fn cached_artifact(
    manifest: &ContentManifest,
    source: &super::fetch::SourceArgs,
) -> Option<PathBuf> {
    let opts = source.options(crate::limits::Limits::default()).ok()?;
    crate::source::cached_path(&opts.cache_dir, &manifest.artifact.sha512)
}

/// Read what the delta needs of both artifacts (on two threads) and compare.
pub(crate) fn diff_operands(
    old_label: &str,
    old: &Operand,
    new_label: &str,
    new: &Operand,
) -> crate::diff::ReviewReport {
    use crate::diff::{contents, delta};
    let (wo, wn) = delta::wanted_paths(&old.manifest, &new.manifest);
    let read = |op: &Operand, want: &std::collections::BTreeSet<&str>| {
        // What the inspection kept, else the artifact read again.
        let from_kept = op
            .kept
            .lock()
            .ok()
            .and_then(|mut k| k.take())
            .and_then(|mut k| contents::from_kept(&op.manifest, &mut k, want));
        from_kept.or_else(|| {
            op.artifact
                .as_deref()
                .map(|a| contents::read(a, &op.manifest, want))
        })
    };
    let t0 = std::time::Instant::now();
    let (oc, nc) = std::thread::scope(|s| {
        let h = s.spawn(|| read(new, &wn));
        let oc = read(old, &wo);
        (oc, h.join().ok().flatten())
    });
    if std::env::var_os("VETTED_DEBUG_DELTA").is_some() {
        eprintln!(
            "delta: contents read in {:?} ({} + {} bytes held); statm {}",
            t0.elapsed(),
            oc.as_ref().map_or(0, |c| c.held_bytes()),
            nc.as_ref().map_or(0, |c| c.held_bytes()),
            crate::diff::statm()
        );
    }
    let mut report = crate::diff::diff_with(
        old_label,
        &old.manifest,
        oc.as_ref(),
        new_label,
        &new.manifest,
        nc.as_ref(),
    );
    for (side, op) in [("old", old), ("new", new)] {
        if op.artifact.is_none() {
            report.review.notes.push(format!(
                "the {side} build's artifact is not available (not in the cache): code not compared"
            ));
        }
    }
    report
}

/// The command that records the audit of this delta, with the digest of what was shown.
pub(crate) fn certify_command(r: &crate::diff::ReviewReport, ledger: Option<&Path>) -> String {
    let name = r.new.name.clone().unwrap_or_else(|| "NAME".into());
    let version = r.new.version.clone().unwrap_or_else(|| "VERSION".into());
    let from = r
        .old
        .version
        .clone()
        .unwrap_or_else(|| "OLD_VERSION".into());
    let mut cmd = format!(
        "vetted certify npm:{name}@{version} --delta-from {from} --review {} --criteria safe-to-run --who \"Your Name <you@example.com>\"",
        r.digest()
    );
    if let Some(l) = ledger {
        cmd.push_str(&format!(" --ledger {}", l.display()));
    }
    cmd
}

/// Write the review page.
pub(crate) fn write_html(
    path: &Path,
    report: &crate::diff::ReviewReport,
    certify: &str,
) -> Result<(), Failure> {
    let page = crate::diff::html::render(report, certify);
    crate::atomic::write(path, page.as_bytes())
        .map_err(|e| Failure::operational(format!("cannot write {}: {e}", path.display())))
}

/// Print one entry of an artifact: a file, a module embedded in an executable
/// (`package/claude!/$bunfs/root/chunk-x.js`), or an embedded `.zst` resource (decompressed).
/// Its bytes are checked against the artifact's content manifest before they are printed.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The artifact (as for `vetted diff`: npm:NAME@VERSION, a URL, a file, ledger:NAME@VERSION).
    artifact: String,
    /// The entry's path in the content manifest.
    path: String,
    /// Pretty-print JavaScript (oxc_codegen).
    #[arg(long)]
    pretty: bool,
    /// Print a JSON object (path, kind, size, sha256, text or base64 bytes).
    #[arg(long)]
    json: bool,
    /// The ledger directory (for `ledger:` operands).
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    #[command(flatten)]
    source: super::fetch::SourceArgs,
}

pub fn run_show(args: ShowArgs) -> Outcome {
    finish(args.json, show_inner(&args))
}

fn show_inner(args: &ShowArgs) -> Result<Outcome, Failure> {
    use crate::diff::contents;
    let op = load_operand(&args.artifact, &args.ledger, &args.source, true)?;
    let Some(entry) = op.manifest.entries.get(&args.path) else {
        let near: Vec<&String> = op
            .manifest
            .entries
            .keys()
            .filter(|k| k.ends_with(args.path.rsplit('/').next().unwrap_or("")))
            .take(5)
            .collect();
        return Err(Failure::operational(format!(
            "{} has no entry {:?}{}",
            args.artifact,
            args.path,
            if near.is_empty() {
                String::new()
            } else {
                format!(" (similar: {near:?})")
            }
        )));
    };
    let Some(artifact) = &op.artifact else {
        return Err(Failure::operational(format!(
            "the artifact of {} is not available (fetch it first)",
            args.artifact
        )));
    };
    let want = std::collections::BTreeSet::from([args.path.as_str()]);
    let c = contents::read(artifact, &op.manifest, &want);
    let Some(bytes) = c.get(&args.path) else {
        return Err(Failure::operational(format!(
            "{} could not be read: {}",
            args.path,
            if c.notes.is_empty() {
                "it is not a file or embedded module, or is larger than the review limit".into()
            } else {
                c.notes.join("; ")
            }
        )));
    };
    let decoded = contents::decoded(&args.path, bytes)
        .map_err(|e| Failure::rejected("zstd", format!("{}: {e}", args.path)))?;
    let mut out: Vec<u8> = decoded.into_owned();
    if args.pretty && crate::diff::js::is_js(&args.path) {
        let text = std::str::from_utf8(&out)
            .map_err(|_| Failure::operational(format!("{} is not UTF-8", args.path)))?;
        let pretty = crate::diff::js::pretty_print(&args.path, text)
            .map_err(|e| Failure::operational(format!("{} does not parse: {e}", args.path)))?;
        out = pretty.into_bytes();
    }
    if args.json {
        let (text, b64) = match std::str::from_utf8(&out) {
            Ok(t) => (Some(t.to_string()), None),
            Err(_) => (
                None,
                Some(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    &out,
                )),
            ),
        };
        let doc = serde_json::json!({
            "schema": "vetted.show/v1",
            "path": args.path,
            "kind": entry.kind,
            "size": entry.size,
            "sha256": entry.sha256,
            "decompressed": crate::content::js::compressed(&args.path, bytes),
            "pretty": args.pretty && crate::diff::js::is_js(&args.path),
            "text": text,
            "base64": b64,
        });
        crate::outln!("{doc:#}");
    } else {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&out);
        let _ = stdout.flush();
    }
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
