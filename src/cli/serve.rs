//! `vetted serve`: the store as an npm registry.
use super::{Failure, Outcome, finish};
use crate::serve::{self, Config};
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// Serve the store as an npm registry (read-only): only admitted versions exist, and every
/// tarball is re-hashed against the index as it is served.
///
/// Prints `listening on http://ADDR/` on stdout once bound. Stops gracefully on SIGTERM/SIGINT.
/// Log level from RUST_LOG (default info; one access-log line per request on stderr).
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The store: a directory `vetted admit` wrote (one that does not exist or holds no
    /// index.json is refused, exit 2), or s3://bucket/prefix (AWS_* environment variables).
    #[arg(long, value_name = "DIR|URL")]
    store: String,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:4873", value_name = "ADDR")]
    listen: String,
    /// Base URL written into dist.tarball (default: http://<the address bound>; never the
    /// request's Host header).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// File holding a bearer token every request must present (else $VETTED_SERVE_TOKEN, else none).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Blobs up to this many bytes are hashed whole before sending; larger ones are streamed
    /// while hashing and the response is aborted on a mismatch.
    #[arg(long, default_value_t = serve::DEFAULT_BUFFER_LIMIT, value_name = "BYTES")]
    buffer_limit: u64,
    /// Milliseconds an index read is reused before the store is read again.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    index_refresh_ms: u64,
    /// Most open client connections (clamped to the file-descriptor limit).
    #[arg(long, default_value_t = crate::limits::ServeLimits::default().max_connections, value_name = "N")]
    max_connections: usize,
    /// Milliseconds a client may take to send a request's head.
    #[arg(long, default_value_t = crate::limits::ServeLimits::default().header_timeout.as_millis() as u64, value_name = "MS")]
    header_timeout_ms: u64,
    /// Milliseconds a connection may make no progress before it is closed.
    #[arg(long, default_value_t = crate::limits::ServeLimits::default().idle_timeout.as_millis() as u64, value_name = "MS")]
    idle_timeout_ms: u64,
    /// Most responses buffered whole in memory at once.
    #[arg(long, default_value_t = crate::limits::ServeLimits::default().buffered_responses, value_name = "N")]
    buffered_responses: usize,
}

fn token(args: &ServeArgs) -> Result<Option<String>, Failure> {
    let raw = match &args.token_file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            Failure::operational(format!("cannot read token file {}: {e}", path.display()))
        })?),
        None => std::env::var("VETTED_SERVE_TOKEN").ok(),
    };
    match raw.map(|t| t.trim().to_string()) {
        Some(t) if t.is_empty() => Err(Failure::operational(
            "the bearer token is empty (token file or VETTED_SERVE_TOKEN)",
        )),
        other => Ok(other),
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

fn run_inner(args: ServeArgs) -> Result<Outcome, Failure> {
    let config = Config {
        public_url: args.public_url.clone(),
        token: token(&args)?,
        buffer_limit: args.buffer_limit,
        index_refresh: Duration::from_millis(args.index_refresh_ms),
        limits: crate::limits::ServeLimits {
            max_connections: args.max_connections,
            header_timeout: Duration::from_millis(args.header_timeout_ms),
            idle_timeout: Duration::from_millis(args.idle_timeout_ms),
            buffered_responses: args.buffered_responses,
            buffer_bytes: args.buffer_limit,
            ..crate::limits::ServeLimits::default()
        },
    };
    // A local path must already be a store: a typo must not start a healthy, empty registry.
    if !args.store.contains("://") {
        crate::store::Store::open(std::path::Path::new(&args.store))
            .check_is_store()
            .map_err(Failure::operational)?;
    }
    let backend = crate::store::open_backend(&args.store).map_err(Failure::operational)?;
    init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::operational(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        // Fail at start, not at the first request, when the store cannot be read.
        let index = backend.read_index().await.map_err(Failure::operational)?;
        let listener = serve::bind(&args.listen)
            .await
            .map_err(Failure::operational)?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::operational(format!("cannot read the bound address: {e}")))?;
        tracing::info!(
            store = %backend.describe(),
            packages = index.packages.len(),
            generation = index.generation,
            auth = config.token.is_some(),
            "serving"
        );
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}/");
        let _ = out.flush();
        drop(out);
        serve::serve(listener, backend, config, serve::shutdown_signal())
            .await
            .map_err(Failure::operational)?;
        Ok(Outcome::Success)
    })
}

/// Run `vetted serve`.
pub fn run(args: ServeArgs) -> Outcome {
    finish(false, run_inner(args))
}
