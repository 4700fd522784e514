//! `vetted inspect`: the content manifest of an artifact.
use super::fetch::SourceArgs;
use super::{Failure, Outcome, finish};
use crate::content::manifest::{ContentManifest, EntryKind};
use crate::content::{ContentError, InspectOptions, inspect_file};
use crate::limits::Limits;
use crate::source::{self, ArtifactSpec};
use std::path::PathBuf;

/// Append a line to the output buffer (printed at once; a closed stdout is not a panic).
macro_rules! outln {
    ($out:ident) => {
        $out.push('\n')
    };
    ($out:ident, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// List an artifact's contents: its digests and, for tgz/tar/zip, every entry (path, kind, size,
/// mode, sha256), totals, the package.json facts and what the inspectors found.
///
/// One streaming pass over the bytes in bounded memory. Hostile archives are rejected (exit 1)
/// with the entry and the rule it broke: `..` or absolute paths, links leaving the root, devices,
/// duplicates, corrupt gzip, limits exceeded.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A local artifact (.tgz, .tar, .zip or any file; the format is detected from its bytes),
    /// or a spec to fetch first: `npm:<name>@<version|tag>`, an `https://` URL, or
    /// `claude-native:<version>/<platform>` (verified against the vendor-signed manifest).
    artifact: String,
    /// Print the content manifest as JSON (the stable format the ledger stores).
    #[arg(long)]
    json: bool,
    /// Most entries accepted in the archive.
    #[arg(long, value_name = "N")]
    max_entries: Option<u64>,
    /// Most bytes accepted unpacked, all files together (e.g. 2147483648).
    #[arg(long, value_name = "BYTES")]
    max_unpacked: Option<u64>,
    /// Largest single file accepted inside the archive, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    vendor: super::vendor::VendorSourceArgs,
}

pub fn run(args: InspectArgs) -> Outcome {
    let json = args.json;
    finish(json, inspect(args))
}

fn inspect(args: InspectArgs) -> Result<Outcome, Failure> {
    let mut limits = Limits::default();
    if let Some(n) = args.max_entries {
        limits.archive_entries = n;
    }
    if let Some(n) = args.max_unpacked {
        limits.unpacked_bytes = n;
    }
    if let Some(n) = args.max_file_size {
        limits.file_bytes = n;
    }
    let local = PathBuf::from(&args.artifact);
    let (path, expect_archive) = if local.exists() {
        (local, false)
    } else {
        let spec: ArtifactSpec = args
            .artifact
            .parse()
            .map_err(|e: source::SpecError| Failure::operational(e))?;
        let opts = args.source.options(limits)?;
        let fetched = match &spec {
            ArtifactSpec::ClaudeNative { version, platform } => {
                super::vendor::fetch_native(version, platform, &args.vendor, &opts)?.fetched
            }
            _ => source::fetch(&spec, &opts).map_err(super::fetch::failure)?,
        };
        // The cache names blobs by digest: what the URL's name promises is checked here.
        let named = match &spec {
            ArtifactSpec::Url(u) => crate::content::archive_by_name(u).is_some(),
            _ => false,
        };
        (
            fetched.path,
            named || matches!(spec, ArtifactSpec::Npm { .. }),
        )
    };
    let opts = InspectOptions {
        limits,
        expect_archive,
    };
    let manifest = inspect_file(&path, &opts).map_err(|e| match e {
        ContentError::Rejected(r) => Failure::rejected(r.rule(), r),
        e @ ContentError::Io { .. } => Failure::operational(e),
    })?;
    let mut out = String::new();
    if args.json {
        let text = serde_json::to_string_pretty(&manifest).map_err(Failure::operational)?;
        outln!(out, "{text}");
    } else {
        print_human(&mut out, &manifest);
    }
    super::fetch::emit(&out);
    Ok(Outcome::Success)
}

/// Text from the artifact (package.json values) with control characters escaped, so a hostile
/// package cannot write terminal escape sequences into the report.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn print_human(out: &mut String, m: &ContentManifest) {
    outln!(out, "archive: {}", m.archive);
    outln!(out, "size:    {}", m.artifact.size);
    outln!(out, "sha256:  {}", m.artifact.sha256.hex());
    outln!(out, "sha512:  {}", m.artifact.sha512.sri());
    outln!(out);
    for (path, e) in &m.entries {
        let kind = match e.kind {
            EntryKind::File => "file",
            EntryKind::Dir => "dir",
            EntryKind::Symlink => "symlink",
            EntryKind::Hardlink => "hardlink",
            EntryKind::Embedded => "embedded",
        };
        let digest = e.sha256.as_ref().map(|d| d.hex()).unwrap_or_default();
        let link = e
            .link_target
            .as_ref()
            .map(|t| format!(" -> {t}"))
            .unwrap_or_default();
        let exe = e
            .signals
            .executable
            .map(|f| format!(" [{f:?}]"))
            .unwrap_or_default();
        outln!(
            out,
            "{kind:8} {:04o} {:>12} {digest:64} {path}{link}{exe}",
            e.mode,
            e.size
        );
    }
    outln!(out);
    outln!(
        out,
        "totals: {} entries, {} files, {} bytes unpacked",
        m.totals.entries,
        m.totals.files,
        m.totals.unpacked_bytes
    );
    let urls: usize = m.entries.values().map(|e| e.signals.urls.len()).sum();
    let envs: usize = m.entries.values().map(|e| e.signals.env_vars.len()).sum();
    outln!(
        out,
        "signals: {urls} URLs, {envs} environment variables (see --json for the lists)"
    );
    if let Some(p) = &m.package {
        outln!(out);
        outln!(
            out,
            "package: {} {} ({})",
            clean(p.name.as_deref().unwrap_or("?")),
            clean(p.version.as_deref().unwrap_or("?")),
            p.path
        );
        if p.lifecycle_scripts.is_empty() {
            outln!(out, "  lifecycle scripts: none");
        }
        for (k, v) in &p.lifecycle_scripts {
            outln!(out, "  lifecycle script {}: {}", clean(k), clean(v));
        }
        for (kind, deps) in &p.dependencies {
            for (name, range) in deps {
                outln!(out, "  {kind}: {} {}", clean(name), clean(range));
            }
        }
        for (cmd, path) in &p.bin {
            outln!(out, "  bin {}: {}", clean(cmd), clean(path));
        }
    }
}
