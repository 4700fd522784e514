//! Fetch errors: rejections (the bytes are not what was promised) and operational failures.
use crate::digest::Digest;
use crate::limits::LimitExceeded;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The downloaded bytes do not match the expected digest (rejection).
    #[error("{url}: expected {expected}, got {actual}")]
    IntegrityMismatch {
        /// Where the bytes came from.
        url: String,
        /// The digest promised (registry `dist.integrity`, `--sha256`, ...).
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// A size limit was crossed (rejection); the download stopped there.
    #[error("{url}: {limit}")]
    TooLarge {
        /// Where.
        url: String,
        /// The limit.
        limit: LimitExceeded,
    },
    /// The registry's metadata gives no usable digest for the tarball (rejection: fail closed).
    #[error("{url}: no usable integrity: {detail}")]
    NoIntegrity {
        /// The packument.
        url: String,
        /// What was found instead.
        detail: String,
    },
    /// A plain-http URL for a non-loopback host without `--insecure-allow-http` (usage).
    #[error("refusing plain http for {url}: use https (or --insecure-allow-http)")]
    InsecureUrl {
        /// The URL.
        url: String,
    },
    /// The package, version or tag does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The server answered with an error status that is not retried.
    #[error("{url}: HTTP {status}")]
    HttpStatus {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The network failed (after retries): connection refused, timeout, stalled or cut transfer,
    /// 5xx.
    #[error("{url}: network failure after {attempts} attempt(s): {detail}")]
    Network {
        /// The URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
    /// The registry's JSON could not be understood.
    #[error("{url}: bad registry metadata: {detail}")]
    Metadata {
        /// The URL.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// Whether this is a verdict about the artifact (exit 1) rather than an operational
    /// failure (exit 2). Metadata the upstream got wrong (a garbage packument, one for another
    /// name, a tarball URL that is not https, attestations that are not JSON) is a fault of the
    /// release, so a rejection; exit 2 stays for our own failures (usage, disk, network down).
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            FetchError::IntegrityMismatch { .. }
                | FetchError::TooLarge { .. }
                | FetchError::NoIntegrity { .. }
                | FetchError::Metadata { .. }
        )
    }

    /// A short stable name of the check, for reports.
    pub fn check(&self) -> &'static str {
        match self {
            FetchError::IntegrityMismatch { .. } => "artifact-integrity",
            FetchError::TooLarge { .. } => "artifact-size",
            FetchError::NoIntegrity { .. } => "registry-integrity",
            FetchError::InsecureUrl { .. } => "transport-security",
            FetchError::NotFound { .. } => "not-found",
            FetchError::HttpStatus { .. } => "http-status",
            FetchError::Network { .. } => "network",
            FetchError::Metadata { .. } => "registry-metadata",
            FetchError::Io { .. } => "io",
            FetchError::Client(_) => "http-client",
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        FetchError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
