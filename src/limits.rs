//! Every size and count limit in one place. Each is enforced while streaming: a limit stops the
//! read the moment it is crossed, never after the fact.

/// The limits one run applies. Defaults are generous for real releases (the Claude Code native
/// package unpacks to about 400 MB) and small enough that hostile input is stopped in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest artifact (compressed, as downloaded) accepted.
    pub artifact_bytes: u64,
    /// Most entries in one archive.
    pub archive_entries: u64,
    /// Most bytes unpacked from one archive, all entries together.
    pub unpacked_bytes: u64,
    /// Largest single file inside an archive.
    pub file_bytes: u64,
    /// Largest ratio of unpacked bytes to compressed bytes (gzip bombs), checked once past
    /// `ratio_grace_bytes` of output.
    pub expansion_ratio: u64,
    /// Unpacked bytes allowed before the expansion ratio applies.
    pub ratio_grace_bytes: u64,
    /// Longest path inside an archive, in bytes.
    pub path_bytes: usize,
    /// Deepest path inside an archive, in components.
    pub path_depth: usize,
    /// Largest Sigstore bundle / attestation / provenance document.
    pub bundle_bytes: u64,
    /// Most transparency-log entries in one bundle.
    pub tlog_entries: usize,
    /// Most subjects in one in-toto statement.
    pub statement_subjects: usize,
    /// Most lines (documents) in one JSON-lines provenance file.
    pub jsonl_documents: usize,
    /// Largest JSON metadata document fetched from a registry (packuments can be large).
    pub metadata_bytes: u64,
    /// Largest tar extension header (GNU long name/link, pax record block), held in memory.
    pub tar_extension_bytes: u64,
    /// Largest tail of an executable inside an archive that is kept, in an unlinked temporary
    /// file (disk, not memory), to read an embedded Bun module graph from after the file has
    /// streamed past. Bun writes the graph near the end; one that starts earlier than this many
    /// bytes from the end is not read (the manifest says so in a note). For ELF, bytes before
    /// the last loaded segment are never kept (the graph is in it or after it): the Claude Code
    /// 2.1.330 binary keeps 220 MiB of its 363 MiB, a 218 MiB graph. Memory stays bounded (the
    /// tail is on disk; the module table read is at most 16 MiB). 0 turns the look off.
    pub embedded_graph_bytes: u64,
    /// Most artifacts in one admission closure (an upstream that keeps inventing dependencies
    /// is stopped here, with a rejection naming this limit).
    pub closure_packages: u64,
    /// Deepest dependency chain in one closure, in edges from the requested release.
    pub closure_depth: u64,
    /// Most registry fetches (packuments, tarballs) in flight at once.
    pub fetch_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const MIB: u64 = 1 << 20;
        const GIB: u64 = 1 << 30;
        Limits {
            artifact_bytes: 2 * GIB,
            archive_entries: 100_000,
            unpacked_bytes: 2 * GIB,
            file_bytes: GIB,
            expansion_ratio: 200,
            ratio_grace_bytes: 64 * MIB,
            path_bytes: 1024,
            path_depth: 64,
            bundle_bytes: 16 * MIB,
            tlog_entries: 32,
            statement_subjects: 1024,
            jsonl_documents: 256,
            metadata_bytes: 256 * MIB,
            tar_extension_bytes: 64 * 1024,
            embedded_graph_bytes: 512 * MIB,
            closure_packages: 5_000,
            closure_depth: 64,
            fetch_concurrency: 16,
        }
    }
}

/// A limit that was crossed: which one, the limit, and how far the input got.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("limit exceeded: {what} is limited to {limit}, input reached {actual}")]
pub struct LimitExceeded {
    /// Which limit (e.g. "archive entries").
    pub what: &'static str,
    /// The limit.
    pub limit: u64,
    /// The value that crossed it (may be the first value past the limit, not the final total).
    pub actual: u64,
}

impl LimitExceeded {
    /// Check `actual <= limit`.
    pub fn check(what: &'static str, limit: u64, actual: u64) -> Result<(), LimitExceeded> {
        if actual > limit {
            Err(LimitExceeded {
                what,
                limit,
                actual,
            })
        } else {
            Ok(())
        }
    }
}

/// Read a whole file, refusing one larger than `limit` bytes without reading past the limit.
pub fn read_file_limited(
    path: &std::path::Path,
    what: &'static str,
    limit: u64,
) -> Result<Vec<u8>, ReadLimitedError> {
    use std::io::Read;
    let meta =
        std::fs::metadata(path).map_err(|e| ReadLimitedError::Io(path.display().to_string(), e))?;
    if meta.is_dir() {
        return Err(ReadLimitedError::IsDirectory(path.display().to_string()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| ReadLimitedError::Io(path.display().to_string(), e))?;
    let mut buf = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ReadLimitedError::Io(path.display().to_string(), e))?;
    LimitExceeded::check(what, limit, buf.len() as u64)?;
    Ok(buf)
}

/// Reading a bounded file failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadLimitedError {
    /// The file could not be read (operational).
    #[error("cannot read {0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// The path is a directory.
    #[error("{0} is a directory, expected a file")]
    IsDirectory(String),
    /// The file is over the limit (a rejection).
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}
