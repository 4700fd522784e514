//! A vendor's release channel: the signed manifest and its signature for one version, from the
//! vendor's release URL or from a directory laid out the same way (`<V>/manifest.json` and
//! `<V>/manifest.json.sig`) for air-gapped use. Only fetching lives here; verification is
//! [`crate::vendor`]'s.
use super::FetchOptions;
use super::error::FetchError;
use super::http::{Http, Sink};
use std::path::PathBuf;

/// Where a vendor's release manifests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorSource {
    /// A base URL, e.g. `https://downloads.claude.ai/claude-code-releases`.
    Url(String),
    /// A directory with `<V>/manifest.json` and `<V>/manifest.json.sig`.
    Dir(PathBuf),
}

impl VendorSource {
    /// `https://…` or `http://…` is a URL; anything else a directory, which must exist.
    pub fn parse(arg: &str) -> Result<VendorSource, String> {
        if arg.starts_with("https://") || arg.starts_with("http://") {
            return Ok(VendorSource::Url(arg.trim_end_matches('/').to_string()));
        }
        let dir = PathBuf::from(arg);
        if !dir.is_dir() {
            return Err(format!(
                "--vendor-source {arg}: not an http(s) URL and not a directory"
            ));
        }
        Ok(VendorSource::Dir(dir))
    }
}

/// The manifest and signature bytes for one version, with where they came from.
#[derive(Debug, Clone)]
pub struct VendorManifestFiles {
    /// Manifest bytes, exactly as served.
    pub manifest: Vec<u8>,
    /// Signature bytes.
    pub signature: Vec<u8>,
    /// Where the manifest came from (URL or path).
    pub manifest_uri: String,
    /// Where the signature came from.
    pub signature_uri: String,
}

/// Fetch `<V>/manifest.json` and `<V>/manifest.json.sig`. A missing file is
/// [`FetchError::NotFound`]; the caller decides that it is a rejection (no signed manifest).
pub fn fetch_vendor_manifest(
    source: &VendorSource,
    version: &crate::source::Version,
    opts: &FetchOptions,
) -> Result<VendorManifestFiles, FetchError> {
    // `Version` is digits, letters, '.', '-', '+': it cannot leave the version directory.
    let v = version.as_str();
    let limits = &opts.limits;
    match source {
        VendorSource::Dir(dir) => {
            let read = |name: &str, what: &'static str, limit: u64| {
                let path = dir.join(v).join(name);
                if !path.is_file() {
                    return Err(FetchError::NotFound {
                        what: format!("{} (no signed release manifest for {v})", path.display()),
                    });
                }
                crate::limits::read_file_limited(&path, what, limit)
                    .map(|b| (b, path.display().to_string()))
                    .map_err(|e| match e {
                        crate::limits::ReadLimitedError::Limit(l) => FetchError::TooLarge {
                            url: path.display().to_string(),
                            limit: l,
                        },
                        e => FetchError::io(&path, std::io::Error::other(e.to_string())),
                    })
            };
            let (manifest, manifest_uri) = read(
                "manifest.json",
                "vendor manifest size",
                limits.vendor_manifest_bytes,
            )?;
            let (signature, signature_uri) = read(
                "manifest.json.sig",
                "vendor signature size",
                limits.vendor_signature_bytes,
            )?;
            Ok(VendorManifestFiles {
                manifest,
                signature,
                manifest_uri,
                signature_uri,
            })
        }
        VendorSource::Url(base) => {
            let rt = super::runtime()?;
            let http = Http::new(opts)?;
            let manifest_uri = format!("{base}/{v}/manifest.json");
            let signature_uri = format!("{manifest_uri}.sig");
            rt.block_on(async {
                let mut manifest = Vec::new();
                http.get(
                    &manifest_uri,
                    "application/json",
                    limits.vendor_manifest_bytes,
                    &mut Sink::Memory(&mut manifest),
                    false,
                )
                .await?;
                let mut signature = Vec::new();
                http.get(
                    &signature_uri,
                    "application/pgp-signature",
                    limits.vendor_signature_bytes,
                    &mut Sink::Memory(&mut signature),
                    false,
                )
                .await?;
                Ok(VendorManifestFiles {
                    manifest,
                    signature,
                    manifest_uri,
                    signature_uri,
                })
            })
        }
    }
}

/// The vendor's release pointer `name` (`latest`, `stable`: a file holding one version, as the
/// official installer reads it), or `None` when the source has none. At most 256 bytes; what
/// is not a plain version is `None` too (a pointer only ever marks an already verified version).
pub fn fetch_vendor_pointer(
    source: &VendorSource,
    name: &str,
    opts: &FetchOptions,
) -> Result<Option<String>, FetchError> {
    const POINTER_BYTES: u64 = 256;
    let bytes = match source {
        VendorSource::Dir(dir) => {
            let path = dir.join(name);
            if !path.is_file() {
                return Ok(None);
            }
            match crate::limits::read_file_limited(&path, "release pointer size", POINTER_BYTES) {
                Ok(b) => b,
                Err(_) => return Ok(None),
            }
        }
        VendorSource::Url(base) => {
            let rt = super::runtime()?;
            let http = Http::new(opts)?;
            let url = format!("{base}/{name}");
            let mut body = Vec::new();
            match rt.block_on(http.get(
                &url,
                "text/plain",
                POINTER_BYTES,
                &mut Sink::Memory(&mut body),
                false,
            )) {
                Ok(_) => body,
                Err(FetchError::NotFound { .. }) | Err(FetchError::TooLarge { .. }) => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
    };
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    Ok(text
        .parse::<crate::source::Version>()
        .ok()
        .map(|v| v.as_str().to_string()))
}
