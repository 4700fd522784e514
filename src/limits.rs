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
    /// Largest vendor release manifest (Claude Code's `manifest.json` is about 2 KiB).
    pub vendor_manifest_bytes: u64,
    /// Largest detached OpenPGP signature of a vendor manifest (the real ones are under 1 KiB).
    pub vendor_signature_bytes: u64,
    /// Most artifacts in one admission closure (an upstream that keeps inventing dependencies
    /// is stopped here, with a rejection naming this limit).
    pub closure_packages: u64,
    /// Deepest dependency chain in one closure, in edges from the requested release.
    pub closure_depth: u64,
    /// Most registry fetches (packuments, tarballs) in flight at once.
    pub fetch_concurrency: usize,
    /// The JavaScript behaviour analysis (one file or embedded module at a time).
    pub js: JsLimits,
}

/// Limits of the JavaScript behaviour analysis, per file or embedded module. A module past
/// `source_bytes` is not parsed (the entry says so in `parse_error`) and gets the byte scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsLimits {
    /// Largest source parsed (the largest Claude Code 2.1.330 chunk is 6.2 MB).
    pub source_bytes: u64,
    /// Most AST nodes visited in one module; the rest of the module is not analysed and the
    /// entry says so (`analysis_truncated`).
    pub ast_nodes: u64,
    /// Wall-clock budget for one module's analysis, in milliseconds (checked while visiting).
    pub millis: u64,
    /// How many times decoded or eval'd constant code is parsed again, nested.
    pub decode_depth: u32,
    /// Largest string built by constant folding or decoding (longer results are cut).
    pub fold_bytes: usize,
    /// Most behaviours recorded for one module (further ones set `analysis_truncated`).
    pub behaviours_per_module: usize,
    /// Largest decompressed size of one embedded `.zst` resource.
    pub zst_bytes: u64,
}

impl Default for JsLimits {
    fn default() -> Self {
        JsLimits {
            source_bytes: 32 << 20,
            ast_nodes: 50_000_000,
            millis: 20_000,
            decode_depth: 3,
            fold_bytes: 64 << 10,
            behaviours_per_module: 2_000,
            zst_bytes: 64 << 20,
        }
    }
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
            vendor_manifest_bytes: MIB,
            vendor_signature_bytes: 64 * 1024,
            js: JsLimits::default(),
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

/// Limits of a TUF update (`vetted trust-root update`). Sigstore's `timestamp.json` and
/// `snapshot.json` give no lengths for the files they name, so these bound every download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TufLimits {
    /// Largest `N.root.json`.
    pub root_bytes: u64,
    /// Largest `timestamp.json`.
    pub timestamp_bytes: u64,
    /// Largest `snapshot.json`.
    pub snapshot_bytes: u64,
    /// Largest `targets.json` or delegated targets role.
    pub targets_bytes: u64,
    /// Most root versions walked in one update (TUF 5.3.3's "Y").
    pub root_updates: u64,
    /// Largest target file installed (`trusted_root.json`, the npm keys).
    pub target_bytes: u64,
    /// Overall deadline of one HTTP request, in seconds.
    pub request_seconds: u64,
}

impl Default for TufLimits {
    fn default() -> Self {
        const MIB: u64 = 1 << 20;
        TufLimits {
            root_bytes: MIB,
            timestamp_bytes: MIB,
            snapshot_bytes: 4 * MIB,
            targets_bytes: 8 * MIB,
            root_updates: 1024,
            target_bytes: 4 * MIB,
            request_seconds: 60,
        }
    }
}

/// Longest `dist.integrity` (SRI) string parsed; real ones are under 200 bytes.
pub const INTEGRITY_BYTES: usize = 4096;

/// Longest one fetch (all retries included) may take, start to end. The per-chunk stall
/// timeout alone lets an upstream that sends one byte every few seconds hold a fetch for ever.
pub const FETCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What `vetted serve` lets clients hold. Every value bounds memory or file descriptors that a
/// client could otherwise take without limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Most open client connections; one past it is accepted and closed at once (so the
    /// listen backlog never fills and `/-/ping` keeps answering once a slot frees). Clamped at
    /// start to the process's file-descriptor limit less a reserve.
    pub max_connections: usize,
    /// Longest a client may take to send a request's head (slowloris).
    pub header_timeout: std::time::Duration,
    /// Longest a connection may make no progress in either direction (a stalled reader, a
    /// half-sent body, an idle keep-alive).
    pub idle_timeout: std::time::Duration,
    /// Most responses buffered whole in memory at once; past it, a blob takes the streaming
    /// path (verified first, then streamed from the store).
    pub buffered_responses: usize,
    /// Largest blob buffered whole; larger ones are verified, then streamed.
    pub buffer_bytes: u64,
    /// Most bytes held by all whole-blob buffers together (a blob that does not fit takes
    /// the streaming path).
    pub buffered_bytes_total: u64,
    /// Most (blob, file identity) pairs remembered as verified.
    pub verified_blobs: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            max_connections: 4096,
            header_timeout: std::time::Duration::from_secs(10),
            idle_timeout: std::time::Duration::from_secs(60),
            buffered_responses: 16,
            buffer_bytes: 4 << 20,
            buffered_bytes_total: 64 << 20,
            verified_blobs: 100_000,
        }
    }
}

/// Review limits (`vetted diff`, `vetted review`, `vetted show`): what is read and shown of the
/// files and modules whose code a reviewer sees. Past them the report says what was left out.
pub mod review {
    /// Largest single file or module whose bytes are read to pair and diff it.
    pub const FILE_BYTES: u64 = 32 << 20;
    /// Most bytes of file and module contents held for one side of a diff.
    pub const SIDE_BYTES: u64 = 512 << 20;
    /// Largest output of one embedded `.zst` resource (decompression stops when crossed).
    pub const ZST_OUTPUT_BYTES: u64 = 64 << 20;
    /// Most changed lines kept in the report per module (the rest is counted, not listed).
    pub const DIFF_LINES_PER_FILE: usize = 4000;
    /// Most diff lines kept in one report across all modules.
    pub const DIFF_LINES_TOTAL: usize = 150_000;
    /// GitHub's limit on a pull-request comment body, in characters: the Markdown summary stays
    /// under it and points at the HTML page for the rest.
    pub const MARKDOWN_CHARS: usize = 65_536;
    /// Largest inspection cache file read (`content::inspection_cache`): a Claude Code native
    /// build's is 22 MB; a bigger file is ignored (and replaced), not read.
    pub const INSPECTION_CACHE_BYTES: u64 = 256 << 20;
}

/// Most entries (audits, violations, exemptions, criteria, imports) in one ledger file.
pub const LEDGER_ENTRIES: usize = 200_000;

/// Longest delta chain followed from an audit back to its full audit, in deltas. A release a
/// day for fifty years is 18,000; the chain is resolved in linear time (10,000 links in well
/// under a second, bench/ledger-chain.sh), and past the limit nothing is covered and the
/// review says so.
pub const DELTA_CHAIN_LINKS: usize = 20_000;

/// JavaScript sources at least this big are parsed and analysed under a wall-clock watchdog
/// (`limits.js.millis` and half again, plus a second). Smaller ones cannot make the parser's
/// super-linear paths cost long: 64 KiB holds at most ~11,000 import and export names, about
/// 10^8 comparisons in oxc's export resolution.
pub const JS_WATCHED_SOURCE_BYTES: usize = 64 << 10;

/// Deepest bracket nesting (`[`, `(`, `{`, counted over the raw bytes) of a TypeScript source
/// that is parsed; deeper ones are not parsed and say so. oxc's TypeScript parser costs time and
/// memory exponential in the nesting of speculative `<` parses: a fuzzer-found 654-byte `.ts`
/// nesting 140 deep took 4.8 GB in 55 s (its first 300 bytes, 93 deep, 2.5 s and 267 MB; 60
/// deep, 0.07 s however often repeated). Real TypeScript nests far less: 16 at most over 609
/// files of typescript 5.9, @types/node, zod 3 and Claude Code 2.1.113 (measured 2026-12-03).
/// (`content::js::bracket_depth`; before that finding the limit was 256.)
pub const TS_BRACKET_DEPTH: usize = 64;

/// Largest [`crate::content::js::nesting_estimate`] of a source that is parsed (analysed, or
/// printed for a review); deeper ones are not parsed and say so. oxc's parser and the walks over
/// its AST recurse once per level of nesting and have no limit of their own: 6,000 nested `[`
/// (12 KB) overflowed an 8 MiB stack, about 1.9 KB a level, and aborted the process. The
/// estimate over-counts (operators in strings count; a run of `/` counts once): Claude Code
/// 2.1.330's modules reach 1,492, the 13.7 MB cli.js of the 2.1.112 wrapper 7,487; nothing in
/// @google/gemini-cli 0.61.0, @github/copilot 1.0.102 or @openai/codex 0.171.0 is refused
/// (measured 2026-12-03).
pub const JS_NESTING: usize = 16_384;

/// Stack of the threads that parse and walk JavaScript ([`JS_NESTING`] levels at up to 2 KB
/// each, twice over for code decoded inside code, with room to spare). Reserved address space:
/// only what a parse touches becomes memory.
pub const JS_STACK_BYTES: usize = 256 << 20;

/// Sources whose nesting estimate is at most this are printed for a review on the calling
/// thread (any thread's stack holds that); deeper ones on a thread of [`JS_STACK_BYTES`].
pub const JS_INLINE_NESTING: usize = 256;

/// Analyses the watchdog may abandon (their threads run on until they finish or the process
/// ends) before no further source is analysed in the process.
pub const JS_OVERRUNS: usize = 2;

/// Most malloc arenas (glibc `M_ARENA_MAX`) the binary lets the allocator create; see
/// `src/main.rs`.
pub const MALLOC_ARENAS: i32 = 4;

/// Most candidate `---- Bun! ----` trailers tried in one executable (the real one is the last;
/// a string that looks like it can appear in the program's data a few times).
pub const BUN_TRAILER_ATTEMPTS: usize = 64;

/// Most bytes of Bun module tables read for one executable, all candidate trailers together
/// (Claude Code 2.1.330's table is 195 KB; one table may be up to 16 MiB).
pub const BUN_TABLE_BYTES_TOTAL: u64 = 32 << 20;

/// Part size of a streamed (multipart) upload to an object store.
pub const OBJECT_UPLOAD_PART_BYTES: usize = 8 << 20;

/// Parts of one upload in flight at once (memory: about this many parts plus one).
pub const OBJECT_UPLOAD_PARTS_IN_FLIGHT: usize = 2;

/// Tries of one conditional index write to an object store by `revoke` (each re-reads the
/// index that won the race and applies the withdrawal again) before it gives up (exit 2).
pub const OBJECT_INDEX_WRITE_ATTEMPTS: u32 = 5;
