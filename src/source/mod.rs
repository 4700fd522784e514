//! Where artifacts come from: the npm registry, `https://` URLs, local files. This is the only
//! code that touches the network (through the one seam in `http`), so everything else runs
//! offline.
//!
//! Downloads stream into a content-addressed cache (`<cache>/sha512/<hex>`), hashed while they
//! stream, written to a temporary file in the same directory, fsynced and renamed into place
//! only when the digest matches what was promised: a mismatch leaves nothing in the cache.
//! Cache hits are re-hashed before use.
//!
//! The calls block; do not call them from inside an async runtime.
mod error;
mod http;
mod native;
mod npm;
mod spec;
pub mod tuf;
mod vendor;

pub use error::FetchError;
pub use native::{ExpectedBinary, binary_uri, fetch_vendor_binary};
pub use npm::{INSTALL_METADATA_KEYS, NpmVersionMeta, Packument};
pub use spec::CLAUDE_NATIVE_PREFIX;
pub use spec::{ArtifactSpec, PackageName, SpecError, Version, VersionSelector};
pub use vendor::{VendorManifestFiles, VendorSource, fetch_vendor_manifest, fetch_vendor_pointer};

use crate::digest::{Algorithm, Digest, Digests};
use crate::limits::Limits;
use http::{Http, Sink};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public npm registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// npm registry base URL.
    pub registry: String,
    /// Cache directory.
    pub cache_dir: PathBuf,
    /// Digests the artifact must match (URL and path specs; npm uses the registry's).
    pub expected: Vec<Digest>,
    /// Allow plain http to non-loopback hosts.
    pub allow_insecure_http: bool,
    /// Accept npm's legacy `dist.shasum` (SHA-1) when a version has no usable
    /// `dist.integrity`. SHA-1 collisions are practical (SHAttered, 2017): off by default.
    pub allow_insecure_sha1: bool,
    /// Longest one download (a packument, a tarball, a vendor file) may take in total, retries
    /// included ([`crate::limits::FETCH_DEADLINE`]); enforced in one place, `Http::get`.
    pub deadline: Duration,
    /// Size limits (`artifact_bytes`, `metadata_bytes`, `bundle_bytes`).
    pub limits: Limits,
    /// Retries after the first attempt (connection errors, timeouts, 5xx).
    pub retries: u32,
    /// First backoff; doubled on every retry.
    pub backoff: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the response or for the next bytes of the body.
    pub stall_timeout: Duration,
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// A packument fetched less than this long ago is read from the cache instead of the
    /// registry, as npm does within the registry's `max-age` (300 s on the public registry).
    /// Safe because nothing trusts the packument alone: the tarball is verified against it and
    /// the review binds to the bytes. Zero: always fetch.
    pub packument_max_age: Duration,
    /// PEM files of extra CA certificates to trust (in addition to the bundled Mozilla roots),
    /// e.g. a corporate TLS proxy's CA (npm's `NODE_EXTRA_CA_CERTS`).
    pub extra_ca_files: Vec<PathBuf>,
    /// Hand a cache hit (and a local file) over without hashing it first: for a caller that
    /// reads every byte anyway and hashes while it reads (the content inspection), which then
    /// checks [`Fetched::unchecked`]. One read instead of two, and the digests checked are
    /// those of the very bytes inspected. Off by default.
    pub defer_hashing: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            registry: DEFAULT_REGISTRY.into(),
            cache_dir: default_cache_dir(),
            expected: Vec::new(),
            allow_insecure_http: false,
            allow_insecure_sha1: false,
            deadline: crate::limits::FETCH_DEADLINE,
            limits: Limits::default(),
            retries: 3,
            backoff: http::DEFAULT_BACKOFF,
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
            progress: false,
            packument_max_age: Duration::ZERO,
            extra_ca_files: Vec::new(),
            defer_hashing: false,
        }
    }
}

/// `$XDG_CACHE_HOME/vetted`, else `~/.cache/vetted`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("vetted");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache").join("vetted")
}

/// The `registry=` line of `~/.npmrc`, if any.
pub fn npmrc_registry() -> Option<String> {
    let home = std::env::var_os("HOME")?;
    let text = std::fs::read_to_string(Path::new(&home).join(".npmrc")).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == "registry").then(|| v.trim().to_string())
    })
}

/// A fetched artifact, verified against what its source promised.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the bytes are (in the cache, or the local file itself).
    pub path: PathBuf,
    /// Digests computed while the bytes streamed (re-hashed on a cache hit). Not computed
    /// when [`Fetched::unchecked`] is set: then only `sha512` is meaningful (a cache hit's
    /// name) and the rest is zero until the caller fills them in.
    pub digests: Digests,
    /// The npm facts, for npm specs.
    pub npm: Option<NpmVersionMeta>,
    /// Whether the bytes came from the cache.
    pub from_cache: bool,
    /// With [`FetchOptions::defer_hashing`]: the bytes at `path` were not hashed, and must
    /// match these digests (for a cache hit, the one it is named by) before anything read
    /// from them is used. A cache hit that does not is corrupt: drop it and fetch again.
    pub unchecked: Option<Unchecked>,
}

/// What a caller that deferred the hashing must check (see [`Fetched::unchecked`]).
#[derive(Debug, Clone)]
pub struct Unchecked {
    /// The digests the bytes must match (none for a local file fetched without any).
    pub expected: Vec<Digest>,
    /// Whether the bytes are a cache entry (corrupt when they do not match).
    pub cache_entry: bool,
}

impl Fetched {
    /// Check deferred digests against those of the bytes as they were read; fill them in.
    pub fn check_deferred(&mut self, actual: &Digests) -> Result<(), FetchError> {
        if let Some(u) = &self.unchecked {
            check_expected(&self.path.display().to_string(), actual, &u.expected)?;
            self.digests = actual.clone();
            self.unchecked = None;
        }
        Ok(())
    }

    /// Drop a corrupt cache entry this fetch returned unchecked (a fetch again re-downloads).
    pub fn drop_corrupt_cache_entry(&self) {
        if self.unchecked.as_ref().is_some_and(|u| u.cache_entry) {
            drop_corrupt(&self.path);
        }
    }
}

/// Remove a cache entry whose bytes do not match its name: the next fetch downloads it again.
fn drop_corrupt(path: &Path) {
    tracing::warn!("cache entry {} is corrupt; fetching again", path.display());
    let _ = std::fs::remove_file(path);
}

fn runtime() -> Result<tokio::runtime::Runtime, FetchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))
}

/// Fetch (or find in the cache) the artifact a spec names and verify it.
pub fn fetch(spec: &ArtifactSpec, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    match spec {
        ArtifactSpec::Path(p) => fetch_path(p, opts),
        ArtifactSpec::Url(url) => {
            let rt = runtime()?;
            let http = Http::new(opts)?;
            rt.block_on(fetch_url(&http, url, &opts.expected, opts))
        }
        ArtifactSpec::Npm { name, selector } => {
            let rt = runtime()?;
            let http = Http::new(opts)?;
            rt.block_on(fetch_npm(&http, name, selector, opts))
        }
        // The binary's digest comes from a signed manifest, which needs the vendor source and
        // key: `crate::vendor::native::fetch` does that, then calls `fetch_vendor_binary`.
        ArtifactSpec::ClaudeNative { .. } => Err(FetchError::Client(
            "claude-native: specs are fetched through the vendor's signed manifest (vendor::native::fetch)".into(),
        )),
    }
}

/// Fetch a package's packument (full document: `time` and every version's `dist`).
pub fn fetch_packument(name: &PackageName, opts: &FetchOptions) -> Result<Packument, FetchError> {
    let rt = runtime()?;
    let http = Http::new(opts)?;
    rt.block_on(packument(&http, name, opts))
}

/// Fetch several packuments at once, at most `concurrency` in flight (one connection pool);
/// results in the order of `names`. `Err` only when no fetch could start.
pub fn fetch_packuments(
    names: &[PackageName],
    opts: &FetchOptions,
    concurrency: usize,
) -> Result<Vec<Result<Packument, FetchError>>, FetchError> {
    use futures_util::StreamExt as _;
    let rt = runtime()?;
    let http = Http::new(opts)?;
    rt.block_on(async {
        let mut results: Vec<(usize, Result<Packument, FetchError>)> =
            futures_util::stream::iter(names.iter().enumerate())
                .map(|(i, name)| {
                    let http = &http;
                    async move { (i, packument(http, name, opts).await) }
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        Ok(results.into_iter().map(|(_, r)| r).collect())
    })
}

/// Fetch (or find in the cache) the tarballs of versions already resolved from a packument,
/// each verified against that packument's integrity, at most `concurrency` at once; results in
/// the order of `metas`. The packument is not fetched again.
pub fn fetch_resolved(
    metas: &[NpmVersionMeta],
    opts: &FetchOptions,
    concurrency: usize,
) -> Result<Vec<Result<Fetched, FetchError>>, FetchError> {
    use futures_util::StreamExt as _;
    let quiet = FetchOptions {
        progress: false,
        ..opts.clone()
    };
    let rt = runtime()?;
    let http = Http::new(&quiet)?;
    rt.block_on(async {
        let mut results: Vec<(usize, Result<Fetched, FetchError>)> =
            futures_util::stream::iter(metas.iter().enumerate())
                .map(|(i, meta)| {
                    let (http, quiet) = (&http, &quiet);
                    async move {
                        let what = format!("{}@{}", meta.name, meta.version);
                        (i, fetch_meta(http, meta.clone(), &what, quiet).await)
                    }
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        Ok(results.into_iter().map(|(_, r)| r).collect())
    })
}

async fn packument(
    http: &Http<'_>,
    name: &PackageName,
    opts: &FetchOptions,
) -> Result<Packument, FetchError> {
    let url = format!(
        "{}/{}",
        opts.registry.trim_end_matches('/'),
        name.url_segment()
    );
    let cached = packument_cache_path(opts, &url);
    if let Some(bytes) = fresh_cached_packument(opts, &cached)
        && let Ok(p) = Packument::parse(name, &url, &bytes)
    {
        return Ok(p);
    }
    let mut body = Vec::new();
    // The full document (not the abbreviated "corgi" form), since vetted needs `time`.
    http.get(
        &url,
        "application/json",
        opts.limits.metadata_bytes,
        &mut Sink::Memory(&mut body),
        false,
    )
    .await
    .map_err(|e| match e {
        FetchError::NotFound { .. } => FetchError::NotFound {
            what: format!("package {name} at {}", opts.registry),
        },
        e => e,
    })?;
    let parsed = Packument::parse(name, &url, &body)?;
    if !opts.packument_max_age.is_zero()
        && let Some(dir) = cached.parent()
        && std::fs::create_dir_all(dir).is_ok()
        && let Err(e) = crate::atomic::write(&cached, &body)
    {
        tracing::warn!("cannot cache {url} at {}: {e}", cached.display());
    }
    Ok(parsed)
}

fn packument_cache_path(opts: &FetchOptions, url: &str) -> PathBuf {
    opts.cache_dir.join("packuments").join(format!(
        "{}.json",
        crate::digest::sha256(url.as_bytes()).hex()
    ))
}

/// The cached packument's bytes when it is younger than `packument_max_age`.
fn fresh_cached_packument(opts: &FetchOptions, path: &Path) -> Option<Vec<u8>> {
    if opts.packument_max_age.is_zero() {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    let age = meta.modified().ok()?.elapsed().ok()?;
    if age >= opts.packument_max_age || meta.len() > opts.limits.metadata_bytes {
        return None;
    }
    std::fs::read(path).ok()
}

fn fetch_path(path: &Path, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    let file = std::fs::File::open(path).map_err(|e| FetchError::io(path, e))?;
    if opts.defer_hashing {
        return Ok(Fetched {
            path: path.to_path_buf(),
            digests: Digests::unhashed(None),
            npm: None,
            from_cache: false,
            unchecked: Some(Unchecked {
                expected: opts.expected.clone(),
                cache_entry: false,
            }),
        });
    }
    let digests = Digests::of_reader(file).map_err(|e| FetchError::io(path, e))?;
    check_expected(&path.display().to_string(), &digests, &opts.expected)?;
    Ok(Fetched {
        path: path.to_path_buf(),
        digests,
        npm: None,
        from_cache: false,
        unchecked: None,
    })
}

pub(crate) fn check_expected(
    url: &str,
    digests: &Digests,
    expected: &[Digest],
) -> Result<(), FetchError> {
    for e in expected {
        if !digests.matches(e) {
            return Err(FetchError::IntegrityMismatch {
                url: url.to_string(),
                expected: e.clone(),
                actual: digests.get(e.algorithm()).clone(),
            });
        }
    }
    Ok(())
}

fn blob_dir(opts: &FetchOptions) -> PathBuf {
    opts.cache_dir.join("sha512")
}

/// Where the cache in `cache_dir` keeps the artifact whose SHA-512 is `sha512`, if it holds it
/// (not re-hashed: readers check what they read against their own digests).
pub fn cached_path(cache_dir: &Path, sha512: &Digest) -> Option<PathBuf> {
    let p = cache_dir.join("sha512").join(sha512.hex());
    (sha512.algorithm() == Algorithm::Sha512 && p.is_file()).then_some(p)
}

/// A cached blob whose sha512 is `want`, re-hashed; a blob that no longer matches is removed.
/// With `defer_hashing` it is not re-hashed: its digests are `None` and the caller checks
/// them as it reads.
fn cache_hit(opts: &FetchOptions, want: &Digest) -> Option<(PathBuf, Option<Digests>)> {
    if want.algorithm() != Algorithm::Sha512 {
        return None;
    }
    let path = blob_dir(opts).join(want.hex());
    let file = std::fs::File::open(&path).ok()?;
    if opts.defer_hashing {
        return Some((path, None));
    }
    match Digests::of_reader(file) {
        Ok(d) if &d.sha512 == want => Some((path, Some(d))),
        _ => {
            drop_corrupt(&path);
            None
        }
    }
}

/// Download `url` into the cache, verifying `expected`; only a verified download is kept.
pub(crate) async fn download_to_cache(
    http: &Http<'_>,
    url: &str,
    expected: &[Digest],
    opts: &FetchOptions,
) -> Result<(PathBuf, Digests), FetchError> {
    let dir = blob_dir(opts);
    std::fs::create_dir_all(&dir).map_err(|e| FetchError::io(&dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(&dir)
        .map_err(|e| FetchError::io(&dir, e))?;
    let digests = http
        .get(
            url,
            "application/octet-stream",
            opts.limits.artifact_bytes,
            &mut Sink::File(tmp.as_file_mut()),
            opts.progress,
        )
        .await?;
    // On a mismatch `tmp` is dropped here, which deletes it: nothing enters the cache.
    check_expected(url, &digests, expected)?;
    let path = dir.join(digests.sha512.hex());
    persist(tmp, &path)?;
    Ok((path, digests))
}

/// fsync, rename into place, fsync the directory.
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<(), FetchError> {
    crate::atomic::persist(tmp, path).map_err(|e| FetchError::io(path, e))
}

async fn fetch_url(
    http: &Http<'_>,
    url: &str,
    expected: &[Digest],
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    if let Some((path, digests)) = expected.iter().find_map(|d| cache_hit(opts, d)) {
        let (digests, unchecked) = hit_digests(&path, digests, expected)?;
        return Ok(Fetched {
            path,
            digests,
            npm: None,
            from_cache: true,
            unchecked,
        });
    }
    let (path, digests) = download_to_cache(http, url, expected, opts).await?;
    Ok(Fetched {
        path,
        digests,
        npm: None,
        from_cache: false,
        unchecked: None,
    })
}

async fn fetch_npm(
    http: &Http<'_>,
    name: &PackageName,
    selector: &VersionSelector,
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let doc = packument(http, name, opts).await?;
    let meta = doc.resolve(selector)?.clone();
    fetch_meta(http, meta, &doc.url, opts).await
}

/// The tarball (and attestations) of one resolved version; `source` names the packument.
async fn fetch_meta(
    http: &Http<'_>,
    mut meta: NpmVersionMeta,
    source: &str,
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    let expected = npm_expected_digest(source, &meta, opts)?;
    if meta.tarball_url.is_empty() {
        return Err(FetchError::Metadata {
            url: source.to_string(),
            detail: format!("version {} has no dist.tarball", meta.version),
        });
    }
    // The tarball URL is the registry's claim: one that is not https (plain http to another
    // host, file://, ...) is a fault of this release's metadata, not a usage error.
    if let Err(e) = http::check_url(&meta.tarball_url, opts.allow_insecure_http) {
        return Err(FetchError::Metadata {
            url: source.to_string(),
            detail: format!(
                "version {} has dist.tarball {:?}, expected an https URL ({e})",
                meta.version, meta.tarball_url
            ),
        });
    }
    let expected = [expected];
    let (path, digests, from_cache, unchecked) = match cache_hit(opts, &expected[0]) {
        Some((p, d)) => {
            let (d, u) = hit_digests(&p, d, &expected)?;
            (p, d, true, u)
        }
        None => {
            let (p, d) = download_to_cache(http, &meta.tarball_url, &expected, opts).await?;
            (p, d, false, None)
        }
    };
    if let Some(url) = meta.attestations_url.clone() {
        // Attestations kept beside a cached tarball are reused: they are verified against the
        // tarball's digest and the trust roots every time, so a kept copy proves as much.
        let kept = attestations_path(&path);
        meta.attestations_path = Some(if from_cache && kept.is_file() {
            kept
        } else {
            fetch_attestations(http, &url, &path, opts).await?
        });
    }
    Ok(Fetched {
        path,
        digests,
        npm: Some(meta),
        from_cache,
        unchecked,
    })
}

/// A cache hit's digests: checked against `expected` when it was re-hashed, else left for
/// the caller to check (see [`Fetched::unchecked`]).
fn hit_digests(
    path: &Path,
    digests: Option<Digests>,
    expected: &[Digest],
) -> Result<(Digests, Option<Unchecked>), FetchError> {
    match digests {
        Some(d) => {
            check_expected(&path.display().to_string(), &d, expected)?;
            Ok((d, None))
        }
        None => Ok((
            Digests::unhashed(expected.iter().find(|d| d.algorithm() == Algorithm::Sha512)),
            Some(Unchecked {
                expected: expected.to_vec(),
                cache_entry: true,
            }),
        )),
    }
}

/// The digest a version's tarball must match: `dist.integrity` (sha512 or sha256). A missing,
/// malformed or sha1-only integrity is a rejection; only `allow_insecure_sha1` lets the legacy
/// `dist.shasum` stand in, and only when `dist.integrity` is absent or unusable.
pub(crate) fn npm_expected_digest(
    packument_url: &str,
    meta: &NpmVersionMeta,
    opts: &FetchOptions,
) -> Result<Digest, FetchError> {
    if let Some(i) = &meta.integrity {
        return Ok(i.clone());
    }
    if opts.allow_insecure_sha1
        && let Some(s) = &meta.shasum
    {
        tracing::warn!(
            "{}@{}: no usable dist.integrity; checking the SHA-1 dist.shasum (--insecure-allow-sha1)",
            meta.name,
            meta.version
        );
        return Ok(s.clone());
    }
    let found = match &meta.integrity_error {
        Some(e) => format!("an unusable dist.integrity: {e}"),
        None => "no dist.integrity".to_string(),
    };
    Err(FetchError::NoIntegrity {
        url: packument_url.to_string(),
        detail: format!(
            "version {} has {found}; expected a sha512 (or sha256) SRI{}",
            meta.version,
            if meta.shasum.is_some() {
                " (its SHA-1 dist.shasum is not enough; --insecure-allow-sha1 accepts it)"
            } else {
                ""
            }
        ),
    })
}

fn attestations_path(blob: &Path) -> PathBuf {
    let mut name = blob.file_name().unwrap_or_default().to_os_string();
    name.push(".attestations.json");
    blob.with_file_name(name)
}

/// Fetch `dist.attestations.url` and keep it next to the tarball (`<blob>.attestations.json`).
async fn fetch_attestations(
    http: &Http<'_>,
    url: &str,
    blob: &Path,
    opts: &FetchOptions,
) -> Result<PathBuf, FetchError> {
    let dest = attestations_path(blob);
    let dir = blob.parent().unwrap_or(Path::new("."));
    let mut body = Vec::new();
    http.get(
        url,
        "application/json",
        opts.limits.bundle_bytes,
        &mut Sink::Memory(&mut body),
        false,
    )
    .await?;
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return Err(FetchError::Metadata {
            url: url.to_string(),
            detail: "attestations are not JSON".into(),
        });
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(dir)
        .map_err(|e| FetchError::io(dir, e))?;
    tmp.write_all(&body).map_err(|e| FetchError::io(&dest, e))?;
    persist(tmp, &dest)?;
    Ok(dest)
}

/// A small document (a Sigstore bundle) from `url`, at most `limit` bytes, enforced while it
/// streams. Same transport rules as every other fetch (https, or http to loopback).
pub fn fetch_document(
    url: &str,
    accept: &str,
    limit: u64,
    opts: &FetchOptions,
) -> Result<Vec<u8>, FetchError> {
    let rt = runtime()?;
    let http = Http::new(opts)?;
    let mut body = Vec::new();
    rt.block_on(http.get(url, accept, limit, &mut Sink::Memory(&mut body), false))?;
    Ok(body)
}
