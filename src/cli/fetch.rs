//! `vetted fetch`: download an artifact into the cache, verified against what its source promised.
use super::{Failure, Outcome, finish};
use crate::digest::Digest;
use crate::limits::Limits;
use crate::source::{self, ArtifactSpec, FetchError, FetchOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Write the output buffer to stdout, ignoring a closed pipe.
pub(super) fn emit(out: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

/// Where and how to fetch (shared by `fetch` and `inspect`).
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// npm registry base URL. Default: $npm_config_registry, else `registry=` in ~/.npmrc, else
    /// https://registry.npmjs.org.
    #[arg(long, env = "npm_config_registry", value_name = "URL")]
    registry: Option<String>,
    /// Cache directory (content-addressed by sha512). Default: $XDG_CACHE_HOME/vetted, else
    /// ~/.cache/vetted.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// For a URL or local file: the sha256 (hex) the artifact must have.
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,
    /// For a URL or local file: the sha512 (hex) the artifact must have.
    #[arg(long, value_name = "HEX")]
    sha512: Option<String>,
    /// For a URL or local file: an SRI integrity string (`sha512-<base64>`) it must match.
    #[arg(long, value_name = "SRI")]
    integrity: Option<String>,
    /// A PEM file of extra CA certificates to trust for https, in addition to the bundled
    /// Mozilla roots (e.g. a corporate TLS proxy). Default: $NODE_EXTRA_CA_CERTS, as npm does.
    #[arg(long, env = "NODE_EXTRA_CA_CERTS", value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Allow plain http to hosts other than loopback. Weakens transport security.
    #[arg(long)]
    insecure_allow_http: bool,
    /// Accept an npm version whose only usable digest is the SHA-1 `dist.shasum` (no, or a
    /// malformed or sha1-only, `dist.integrity`). SHA-1 collisions are practical.
    #[arg(long)]
    insecure_allow_sha1: bool,
    /// Retries after a connection error, timeout or 5xx (with exponential backoff).
    #[arg(long, default_value_t = 3, value_name = "N")]
    retries: u32,
    /// Seconds to wait for a connection.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    connect_timeout: u64,
    /// Seconds to wait for a response or for more bytes before the transfer counts as stalled.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    stall_timeout: u64,
    /// Seconds one download may take in total, retries included (the stall timeout only
    /// bounds each wait for more bytes).
    #[arg(long, default_value_t = crate::limits::FETCH_DEADLINE.as_secs(), value_name = "SECS")]
    fetch_deadline: u64,
    /// Reuse a cached packument fetched less than this many seconds ago (npm does the same
    /// within the registry's max-age, 300 s); 0 always asks the registry.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    packument_max_age: u64,
    /// Largest artifact accepted, in bytes (the download stops as soon as it is crossed).
    #[arg(long, value_name = "BYTES")]
    max_artifact_size: Option<u64>,
}

impl SourceArgs {
    pub(super) fn options(&self, mut limits: Limits) -> Result<FetchOptions, Failure> {
        let mut expected = Vec::new();
        let bad = |e: crate::digest::DigestError| Failure::operational(format!("bad digest: {e}"));
        if let Some(h) = &self.sha256 {
            expected.push(Digest::from_hex(crate::digest::Algorithm::Sha256, h).map_err(bad)?);
        }
        if let Some(h) = &self.sha512 {
            expected.push(Digest::from_hex(crate::digest::Algorithm::Sha512, h).map_err(bad)?);
        }
        if let Some(s) = &self.integrity {
            expected.push(Digest::parse_sri_strongest(s).map_err(bad)?);
        }
        if let Some(n) = self.max_artifact_size {
            limits.artifact_bytes = n;
        }
        Ok(FetchOptions {
            registry: self
                .registry
                .clone()
                .filter(|r| !r.is_empty())
                .or_else(source::npmrc_registry)
                .unwrap_or_else(|| source::DEFAULT_REGISTRY.to_string()),
            cache_dir: self
                .cache_dir
                .clone()
                .unwrap_or_else(source::default_cache_dir),
            expected,
            allow_insecure_http: self.insecure_allow_http,
            allow_insecure_sha1: self.insecure_allow_sha1,
            limits,
            retries: self.retries,
            connect_timeout: Duration::from_secs(self.connect_timeout),
            stall_timeout: Duration::from_secs(self.stall_timeout),
            deadline: Duration::from_secs(self.fetch_deadline),
            packument_max_age: Duration::from_secs(self.packument_max_age),
            progress: std::io::stderr().is_terminal(),
            extra_ca_files: self.ca_file.iter().cloned().collect(),
            ..FetchOptions::default()
        })
    }
}

/// Fetch an artifact into the verified cache: `npm:<name>@<version|dist-tag>`, an https URL, or
/// a local file.
///
/// npm: the version is resolved from the packument and the tarball streamed into the
/// content-addressed cache while its sha512 is checked against `dist.integrity` (`shasum` only
/// when no integrity exists); on a mismatch nothing is left in the cache (exit 1). Cache hits are
/// re-hashed. Attestations the registry lists are kept beside the tarball. Exit 2 on network
/// failure after bounded retries.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// What to fetch: `npm:<name>@<version|dist-tag>`, an `https://` URL, a local path, or
    /// `claude-native:<version>/<platform>` (manifest verified first, then the binary against it).
    spec: String,
    /// Also copy the verified artifact into this directory (npm: `<scope>-<name>-<version>.tgz`).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    vendor: super::vendor::VendorSourceArgs,
}

/// Fetch a spec (verifying what its source promised) and read its content manifest: what
/// `certify`, `review` and `diff` need from an artifact operand.
pub(super) fn fetch_and_inspect(
    spec: &str,
    source: &SourceArgs,
) -> Result<(source::Fetched, crate::content::ContentManifest), Failure> {
    fetch_and_inspect_with(spec, source, None).map(|(f, m, _)| (f, m))
}

/// [`fetch_and_inspect`], keeping what a review reads of the artifact's bytes. With `cache`,
/// the inspection reuses the inspection cache's analyses of the same artifact, and fills the
/// cache when it had none ([`crate::content::inspection_cache`]).
pub(super) fn fetch_and_inspect_keeping(
    spec: &str,
    source: &SourceArgs,
    cache: bool,
) -> Result<Inspected, Failure> {
    fetch_and_inspect_with(spec, source, Some(cache))
}

type Inspected = (
    source::Fetched,
    crate::content::ContentManifest,
    Option<crate::content::Kept>,
);

/// `keep`: `None` for an inspection that keeps nothing; `Some(cache)` keeps what a review
/// reads, using the inspection cache when `cache`.
fn fetch_and_inspect_with(
    spec: &str,
    source: &SourceArgs,
    keep: Option<bool>,
) -> Result<Inspected, Failure> {
    use crate::content::inspection_cache;
    let parsed: ArtifactSpec = spec.parse().map_err(Failure::operational)?;
    let limits = Limits::default();
    let mut opts = source.options(limits)?;
    let inspect = crate::content::InspectOptions {
        limits,
        expect_archive: expect_archive(&parsed),
    };
    let run = |path: &Path, reuse| {
        if keep.is_some() {
            crate::content::inspect_file_keeping(path, &inspect, reuse)
        } else {
            crate::content::inspect_file(path, &inspect).map(|m| (m, None))
        }
    };
    // The inspection reads every byte and hashes it as it reads: a cache hit (or a local
    // file) is not hashed first, and what is checked is the digest of the bytes inspected.
    opts.defer_hashing = true;
    let mut fetched = source::fetch(&parsed, &opts).map_err(failure)?;
    // The SHA-512 the bytes are checked against (or were hashed to): what the cache is keyed by.
    let sha512 = match &fetched.unchecked {
        Some(u) => u
            .expected
            .iter()
            .find(|d| d.algorithm() == crate::digest::Algorithm::Sha512)
            .cloned(),
        None => Some(fetched.digests.sha512.clone()),
    };
    let cache_key = sha512.filter(|_| keep == Some(true));
    let reuse = cache_key
        .as_ref()
        .and_then(|d| inspection_cache::load(&opts.cache_dir, d, &limits.js).ok());
    let cached = reuse.is_some();
    let mut got = run(&fetched.path, reuse);
    if let Some(cache_entry) = fetched.unchecked.as_ref().map(|u| u.cache_entry) {
        // The digests of what was read: from the inspection, else (it stopped early) of the
        // whole file, so that a rotten cache entry is told apart from a rejected artifact.
        let actual = match &got {
            Ok((m, _)) => Some(m.artifact.clone()),
            Err(_) => std::fs::File::open(&fetched.path)
                .and_then(crate::digest::Digests::of_reader)
                .ok(),
        };
        let checked = actual.as_ref().map(|a| fetched.check_deferred(a));
        match checked {
            Some(Ok(())) => {}
            // A cache entry that is unreadable or does not match its name is rotten.
            _ if cache_entry => {
                fetched.drop_corrupt_cache_entry();
                opts.defer_hashing = false;
                fetched = source::fetch(&parsed, &opts).map_err(failure)?;
                got = run(&fetched.path, None);
            }
            Some(Err(e)) => return Err(failure(e)),
            None => {
                return Err(Failure::operational(format!(
                    "cannot read {}",
                    fetched.path.display()
                )));
            }
        }
    }
    let (manifest, kept) = got.map_err(|e| match e {
        crate::content::ContentError::Rejected(why) => Failure::rejected(why.rule(), why),
        other => Failure::operational(other),
    })?;
    // The bytes matched the digest they were fetched by (checked above): keep what was found
    // of them for the next review, unless that came from the cache already.
    if let (Some(key), Some(k)) = (&cache_key, &kept)
        && !cached
        && manifest.artifact.sha512 == *key
        && let Err(e) = inspection_cache::store(&opts.cache_dir, &manifest, k)
    {
        eprintln!("vetted: note: the inspection was not cached: {e}");
    }
    Ok((fetched, manifest, kept))
}

fn expect_archive(parsed: &ArtifactSpec) -> bool {
    match parsed {
        ArtifactSpec::Npm { .. } => true,
        ArtifactSpec::Url(u) => crate::content::archive_by_name(u).is_some(),
        ArtifactSpec::Path(_) | ArtifactSpec::ClaudeNative { .. } => false,
    }
}

/// Map a fetch error onto the CLI's failure (rejection vs operational).
pub(super) fn failure(e: FetchError) -> Failure {
    if e.is_rejection() {
        Failure::rejected(e.check(), e)
    } else {
        Failure::operational(e)
    }
}

pub fn run(args: FetchArgs) -> Outcome {
    let json = args.json;
    finish(json, fetch(args))
}

fn fetch(args: FetchArgs) -> Result<Outcome, Failure> {
    let spec: ArtifactSpec = args.spec.parse().map_err(Failure::operational)?;
    let opts = args.source.options(Limits::default())?;
    if matches!(
        spec,
        ArtifactSpec::Npm { .. } | ArtifactSpec::ClaudeNative { .. }
    ) && !opts.expected.is_empty()
    {
        return Err(Failure::operational(
            "--sha256/--sha512/--integrity apply to URLs and files; npm uses dist.integrity, claude-native: the signed manifest",
        ));
    }
    let mut native = None;
    let fetched = match &spec {
        ArtifactSpec::ClaudeNative { version, platform } => {
            let rel = super::vendor::fetch_native(version, platform, &args.vendor, &opts)?;
            let f = rel.fetched.clone();
            native = Some(rel);
            f
        }
        _ => source::fetch(&spec, &opts).map_err(failure)?,
    };
    let mut copied = None;
    if let Some(dir) = &args.output {
        let name = match (&fetched.npm, &spec) {
            (Some(m), _) => m.name.pack_file_name(&m.version),
            (None, ArtifactSpec::ClaudeNative { .. }) => native
                .as_ref()
                .map(|n| n.entry.binary.clone())
                .unwrap_or_else(|| "claude".into()),
            (None, ArtifactSpec::Url(u)) => u
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty() && !s.contains(['?', '#']))
                .unwrap_or("artifact")
                .to_string(),
            _ => fetched
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "artifact".into()),
        };
        let dest = dir.join(&name);
        crate::atomic::copy(&fetched.path, &dest)
            .map_err(|e| Failure::operational(format!("cannot write {}: {e}", dest.display())))?;
        copied = Some(dest);
    }
    if let Some(m) = &fetched.npm
        && m.attestations_url.is_none()
    {
        eprintln!(
            "vetted: note: the registry lists no attestations (dist.attestations) for {}@{}",
            m.name, m.version
        );
    }
    let mut out = String::new();
    if args.json {
        let npm = fetched.npm.as_ref().map(|m| {
            serde_json::json!({
                "name": m.name.as_str(),
                "version": m.version.as_str(),
                "integrity": m.integrity.as_ref().map(|d| d.sri()),
                "shasum": m.shasum.as_ref().map(|d| d.hex()),
                "tarball": m.tarball_url,
                "publish_time": m.publish_time.map(|t| t.to_string()),
                "dependencies": m.dependencies,
                "optional_dependencies": m.optional_dependencies,
                "attestations_url": m.attestations_url,
                "attestations_path": m.attestations_path,
            })
        });
        let doc = serde_json::json!({
            "schema": "vetted.fetch/v1",
            "path": fetched.path,
            "output": copied,
            "from_cache": fetched.from_cache,
            "digests": fetched.digests,
            "sha512_sri": fetched.digests.sha512.sri(),
            "npm": npm,
            "vendor_signature": native.as_ref().map(|n| {
                let mut f = n.verified.facts();
                f["manifest_uri"] = n.files.manifest_uri.clone().into();
                f["signature_uri"] = n.files.signature_uri.clone().into();
                f["binary"] = serde_json::json!({
                    "uri": n.binary_uri, "platform": n.platform, "sha256": n.entry.sha256.hex(),
                    "size": n.entry.size, "matches": true,
                });
                f
            }),
        });
        outln!(out, "{doc:#}");
    } else {
        outln!(
            out,
            "{}",
            copied.as_ref().unwrap_or(&fetched.path).display()
        );
        outln!(out, "size    {}", fetched.digests.size);
        outln!(out, "sha256  {}", fetched.digests.sha256.hex());
        outln!(out, "sha512  {}", fetched.digests.sha512.sri());
        if let Some(n) = &native {
            let s = n.verified.signature();
            outln!(
                out,
                "vendor  {} {} entry of the {} manifest signed {} by {}",
                n.platform,
                n.entry.binary,
                n.version,
                s.signed_at(),
                s.signer_fingerprint()
            );
        }
        if let Some(p) = fetched
            .npm
            .as_ref()
            .and_then(|m| m.attestations_path.as_ref())
        {
            outln!(out, "attestations {}", p.display());
        }
    }
    emit(&out);
    Ok(Outcome::Success)
}
