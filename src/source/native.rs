//! A vendor's native release channel: the binary for one version and platform, from the
//! vendor's release URL (`<base>/<V>/<platform>/<binary>`) or from a directory laid out the same
//! way. Only fetching lives here: the caller ([`crate::vendor::native`]) verifies the signed
//! manifest first and passes in the sha256 and size its entry lists; the bytes are checked
//! against them while they stream (the size as the download limit, so a longer body stops at
//! the first byte too many) and only matching bytes enter the cache.
use super::error::FetchError;
use super::http::Http;
use super::vendor::VendorSource;
use super::{FetchOptions, Fetched, Version};
use crate::digest::{Digest, Digests};
use crate::limits::{LimitExceeded, Limits};

/// What the signed manifest promises about the binary.
#[derive(Debug, Clone)]
pub struct ExpectedBinary<'a> {
    /// Platform directory (`linux-x64`).
    pub platform: &'a str,
    /// File name (`claude`, `claude.exe`).
    pub binary: &'a str,
    /// Its sha256.
    pub sha256: &'a Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// Where the binary is, for messages and records.
pub fn binary_uri(source: &VendorSource, version: &Version, want: &ExpectedBinary<'_>) -> String {
    match source {
        VendorSource::Url(base) => format!(
            "{base}/{}/{}/{}",
            version.as_str(),
            want.platform,
            want.binary
        ),
        VendorSource::Dir(dir) => dir
            .join(version.as_str())
            .join(want.platform)
            .join(want.binary)
            .display()
            .to_string(),
    }
}

/// Fetch the binary `want` describes and check its sha256 and size. A missing file is
/// [`FetchError::NotFound`], more bytes than the manifest lists [`FetchError::TooLarge`], other
/// bytes [`FetchError::IntegrityMismatch`]; the caller compares the size once more.
pub fn fetch_vendor_binary(
    source: &VendorSource,
    version: &Version,
    want: &ExpectedBinary<'_>,
    opts: &FetchOptions,
) -> Result<Fetched, FetchError> {
    // `Version` and the platform are plain names and `binary` a bare file name (checked by the
    // spec and manifest parsers): the path cannot leave the release directory.
    let uri = binary_uri(source, version, want);
    // The manifest's size is the download limit, capped by the artifact limit.
    let mut limits: Limits = opts.limits;
    let limit = want.size.min(limits.artifact_bytes);
    if want.size > limits.artifact_bytes {
        return Err(FetchError::TooLarge {
            url: uri,
            limit: LimitExceeded {
                what: "artifact size",
                limit: limits.artifact_bytes,
                actual: want.size,
            },
        });
    }
    limits.artifact_bytes = limit;
    let expected = [want.sha256.clone()];
    match source {
        VendorSource::Dir(_) => {
            let path = std::path::PathBuf::from(&uri);
            let meta = match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => m,
                Ok(_) | Err(_) => {
                    return Err(FetchError::NotFound {
                        what: format!("{uri} (the signed manifest lists it)"),
                    });
                }
            };
            if meta.len() > limit {
                return Err(FetchError::TooLarge {
                    url: uri,
                    limit: LimitExceeded {
                        what: "binary size (the signed manifest's)",
                        limit,
                        actual: meta.len(),
                    },
                });
            }
            let file = std::fs::File::open(&path).map_err(|e| FetchError::io(&path, e))?;
            // Bounded by `limit`: a file that grows while it is read is cut off and fails.
            use std::io::Read as _;
            let digests = Digests::of_reader(file.take(limit.saturating_add(1)))
                .map_err(|e| FetchError::io(&path, e))?;
            if digests.size > limit {
                return Err(FetchError::TooLarge {
                    url: uri,
                    limit: LimitExceeded {
                        what: "binary size (the signed manifest's)",
                        limit,
                        actual: digests.size,
                    },
                });
            }
            super::check_expected(&uri, &digests, &expected)?;
            Ok(Fetched {
                path,
                digests,
                npm: None,
                from_cache: false,
                unchecked: None,
            })
        }
        VendorSource::Url(_) => {
            let opts = FetchOptions {
                limits,
                ..opts.clone()
            };
            let rt = super::runtime()?;
            let http = Http::new(&opts)?;
            // The deadline is Http::get's, like every download.
            rt.block_on(async {
                let (path, digests) =
                    super::download_to_cache(&http, &uri, &expected, &opts).await?;
                Ok(Fetched {
                    path,
                    digests,
                    npm: None,
                    from_cache: false,
                    unchecked: None,
                })
            })
        }
    }
}
