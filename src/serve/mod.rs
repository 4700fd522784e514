//! `vetted serve`: the npm registry protocol over the store, read-only.
//!
//! - Packuments (`/<name>`, `/@scope%2fname`, `/@scope/name`; full, or abbreviated for
//!   `Accept: application/vnd.npm.install-v1+json`), version documents (`/<name>/<version>`),
//!   tarballs (`/<name>/-/<basename>-<version>.tgz`), `/-/ping`. Only admitted versions exist;
//!   everything else is 404 `{"error":"not found"}`.
//! - `dist.tarball` points at a configured base URL (`--public-url`, else the address the
//!   server is bound to), never at the request's `Host` header: a client (or a cache in front)
//!   must not be able to make the mirror advertise another origin.
//! - **No byte of a blob goes out before the blob was verified** against the index (sha512 and
//!   size). Blobs up to [`ServeLimits::buffer_bytes`] are read and hashed whole, then sent; at
//!   most [`ServeLimits::buffered_responses`] such buffers exist at once, so memory is bounded
//!   whatever the number of clients. Larger blobs (and small ones when every buffer is taken)
//!   are hashed in one streaming pass first, then streamed from the store; the verification is
//!   remembered per blob identity (file: device, inode, size, mtime, ctime; object: e-tag,
//!   version, size, last-modified) and redone when any of them changes. A file modified within
//!   two seconds of the check is not remembered (timestamps are coarse: "racy git"). While
//!   streaming, the bytes are hashed again and the last chunk is held back until the digest is
//!   known, so a blob rewritten in place during a transfer is cut short, never completed.
//!   A mismatch is a 500 and a `tracing::error!` (`INTEGRITY FAILURE`).
//! - Connections are bounded ([`ServeLimits`]): a cap on open connections (clamped to the
//!   file-descriptor limit), a header-read timeout (slowloris) and an idle timeout (no progress
//!   either way), so `/-/ping` keeps answering under a flood of half-sent requests.
//! - Optional bearer token, compared in constant time (`/-/ping` stays open for health checks).
//! - One access-log line per request (method, path, status, bytes, duration to the response
//!   head).
use crate::digest::Digest;
use crate::store::{Index, StoreBackend, StoreError};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha512};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub mod registry;
pub mod route;
pub mod vendor;

use route::Route;

pub use crate::limits::ServeLimits;

/// Blobs up to this size are buffered and hashed whole before they are sent.
pub const DEFAULT_BUFFER_LIMIT: u64 = 4 << 20;
/// How long an index read is reused before the store is asked again.
pub const DEFAULT_INDEX_REFRESH: Duration = Duration::from_secs(1);

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL for `dist.tarball` (no trailing slash); `None`: `http://<bound address>`
    /// (`http://localhost` for a bare [`router`]). Never the request's `Host` header.
    pub public_url: Option<String>,
    /// Bearer token required on every request but `/-/ping`.
    pub token: Option<String>,
    /// Blobs up to this size are buffered and hashed whole before sending; larger ones are
    /// verified in a streaming pass, then streamed. (Same as `limits.buffer_bytes`; kept for
    /// the `--buffer-limit` flag.)
    pub buffer_limit: u64,
    /// How long an index read is reused.
    pub index_refresh: Duration,
    /// Connection and memory bounds.
    pub limits: ServeLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_url: None,
            token: None,
            buffer_limit: DEFAULT_BUFFER_LIMIT,
            index_refresh: DEFAULT_INDEX_REFRESH,
            limits: ServeLimits::default(),
        }
    }
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server error: {0}")]
    Run(#[source] std::io::Error),
    /// The store cannot be read at start.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug)]
struct AppState {
    backend: Arc<dyn StoreBackend>,
    config: Config,
    token_digest: Option<[u8; 64]>,
    index: Mutex<Option<(Instant, Arc<Index>)>>,
    /// Permits for responses buffered whole in memory (one per response).
    buffers: Arc<tokio::sync::Semaphore>,
    /// Permits for the bytes of those buffers (one per KiB).
    buffer_kib: Arc<tokio::sync::Semaphore>,
    /// Blob key -> the identity its bytes had when they were last verified.
    verified: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl AppState {
    async fn index(&self) -> Result<Arc<Index>, StoreError> {
        let mut cached = self.index.lock().await;
        if let Some((at, idx)) = cached.as_ref()
            && at.elapsed() < self.config.index_refresh
        {
            return Ok(idx.clone());
        }
        let idx = Arc::new(self.backend.read_index().await?);
        *cached = Some((Instant::now(), idx.clone()));
        Ok(idx)
    }
}

fn token_digest(token: &str) -> [u8; 64] {
    Sha512::digest(token.as_bytes()).into()
}

/// Compare in constant time (both sides hashed first, so lengths leak nothing either).
fn authorized(expected: &[u8; 64], headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let given = token_digest(given.trim());
    let diff = expected
        .iter()
        .zip(given.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    diff == 0
}

fn json_response(status: StatusCode, body: &Value, content_type: &'static str) -> Response {
    let bytes = body.to_string().into_bytes();
    let mut resp = (status, bytes).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({"error": message}), "application/json")
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found")
}

/// The router: every path goes through one handler that parses it ([`route::parse`]).
pub fn router(backend: Arc<dyn StoreBackend>, config: Config) -> axum::Router {
    let token_digest = config.token.as_deref().map(token_digest);
    let buffers = Arc::new(tokio::sync::Semaphore::new(
        config.limits.buffered_responses.max(1),
    ));
    let buffer_kib = Arc::new(tokio::sync::Semaphore::new(
        usize::try_from(config.limits.buffered_bytes_total / 1024).unwrap_or(usize::MAX),
    ));
    let state = Arc::new(AppState {
        backend,
        config,
        token_digest,
        index: Mutex::new(None),
        buffers,
        buffer_kib,
        verified: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
    axum::Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(axum::middleware::from_fn(access_log))
}

async fn access_log(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let bytes = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| axum::body::HttpBody::size_hint(resp.body()).exact())
        .unwrap_or(0);
    tracing::info!(
        target: "vetted::serve::access",
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        bytes,
        duration_ms = format!("{:.3}", start.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    resp
}

fn base_url(config: &Config) -> String {
    match &config.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => "http://localhost".to_string(),
    }
}

fn wants_abbreviated(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/vnd.npm.install-v1+json"))
}

async fn handle(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let route = route::parse(uri.path());
    if route == Route::Ping {
        return json_response(StatusCode::OK, &json!({}), "application/json");
    }
    if let Some(expected) = &state.token_digest
        && !authorized(expected, &headers)
    {
        let mut resp = error(StatusCode::UNAUTHORIZED, "unauthorized");
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    let index = match state.index().await {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(store = %state.backend.describe(), error = %e, "cannot read the store index");
            return error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable");
        }
    };
    // The vendor's release layout for admitted native releases (docs/vendor-manifest.md).
    if let Some(rest) = uri.path().strip_prefix(vendor::PREFIX) {
        return vendor::handle(&state, &index, rest).await;
    }
    let base = base_url(&state.config);
    match route {
        Route::Ping => json_response(StatusCode::OK, &json!({}), "application/json"),
        Route::Unknown => not_found(),
        Route::Packument { name } => match index.packages.get(&name) {
            Some(pkg) if !pkg.versions.is_empty() => {
                let abbreviated = wants_abbreviated(&headers);
                let doc = registry::packument(&base, &name, pkg, abbreviated);
                let ct = if abbreviated {
                    "application/vnd.npm.install-v1+json"
                } else {
                    "application/json"
                };
                json_response(StatusCode::OK, &doc, ct)
            }
            _ => not_found(),
        },
        Route::Version { name, version } => {
            let found = index.packages.get(&name).and_then(|pkg| {
                let v = registry::resolve(pkg, &version)?;
                pkg.versions.get(v).map(|entry| (v, entry))
            });
            match found {
                Some((v, entry)) => json_response(
                    StatusCode::OK,
                    &registry::version_document(&base, &name, v, entry),
                    "application/json",
                ),
                None => not_found(),
            }
        }
        Route::Tarball { name, file } => {
            let basename = route::tarball_basename(&name);
            let version = file
                .strip_prefix(basename)
                .and_then(|f| f.strip_prefix('-'))
                .and_then(|f| f.strip_suffix(".tgz"));
            let entry = version.and_then(|v| index.packages.get(&name)?.versions.get(v));
            match entry {
                Some(entry) => {
                    serve_blob(
                        &state,
                        &name,
                        &entry.blob_key(),
                        &entry.digests.sha512,
                        entry.digests.size,
                    )
                    .await
                }
                None => not_found(),
            }
        }
    }
}

fn integrity_failure(name: &str, key: &str, expected: &Digest, actual: &str, size: u64, got: u64) {
    tracing::error!(
        package = %name,
        blob = %key,
        expected = %expected,
        actual = %actual,
        expected_size = size,
        actual_size = got,
        "INTEGRITY FAILURE: a stored blob does not match the index; not serving it"
    );
}

async fn serve_blob(
    state: &AppState,
    name: &str,
    key: &str,
    expected: &Digest,
    size: u64,
) -> Response {
    let octets = HeaderValue::from_static("application/octet-stream");
    let buffer_limit = state
        .config
        .buffer_limit
        .min(state.config.limits.buffer_bytes);
    let kib = u32::try_from(size.div_ceil(1024)).unwrap_or(u32::MAX);
    if size <= buffer_limit
        && let Ok(permit) = state.buffers.clone().try_acquire_owned()
        && let Ok(bytes) = state.buffer_kib.clone().try_acquire_many_owned(kib)
    {
        return serve_buffered(state, name, key, expected, size, (permit, bytes)).await;
    }
    // Verify before the first byte: once per identity of the stored bytes.
    let identity = match state.backend.blob_identity(key).await {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(package = %name, blob = %key, error = %e, "admitted blob cannot be read");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
        }
    };
    let known = identity.as_ref().is_some_and(|id| {
        state
            .verified
            .lock()
            .map(|m| m.get(key) == Some(id))
            .unwrap_or(false)
    });
    if !known {
        match verify_streaming(state, key, expected, size).await {
            Ok(None) => {
                if let (Some(id), Ok(mut m)) = (identity, state.verified.lock()) {
                    if m.len() >= state.config.limits.verified_blobs {
                        m.clear();
                    }
                    m.insert(key.to_string(), id);
                }
            }
            Ok(Some((actual, got))) => {
                if let Ok(mut m) = state.verified.lock() {
                    m.remove(key);
                }
                integrity_failure(name, key, expected, &actual, size, got);
                return error(StatusCode::INTERNAL_SERVER_ERROR, "integrity check failed");
            }
            Err(e) => {
                tracing::error!(package = %name, blob = %key, error = %e, "admitted blob cannot be read");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
            }
        }
    }
    let stream = match state.backend.read_blob(key).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(package = %name, blob = %key, error = %e, "admitted blob cannot be read");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
        }
    };
    // Hashed again on the way out, last chunk held back: a blob rewritten in place while this
    // response streams is cut short, never completed.
    let checked = CheckedStream {
        inner: stream,
        hasher: Some(Sha512::new()),
        seen: 0,
        size,
        expected: expected.clone(),
        held: None,
        name: name.to_string(),
        key: key.to_string(),
    };
    let body = Body::from_stream(futures_util::stream::unfold(checked, CheckedStream::next));
    let mut resp = Response::new(body);
    resp.headers_mut().insert(header::CONTENT_TYPE, octets);
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    resp
}

/// Hash a blob in one streaming pass (memory: one chunk). `Ok(None)` when it matches,
/// `Ok(Some((actual, size)))` when it does not.
async fn verify_streaming(
    state: &AppState,
    key: &str,
    expected: &Digest,
    size: u64,
) -> Result<Option<(String, u64)>, StoreError> {
    let mut stream = state.backend.read_blob(key).await?;
    let mut hasher = Sha512::new();
    let mut seen = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > size {
            return Ok(Some(("(longer than the index says)".into(), seen)));
        }
        // Large chunks are hashed off the async workers.
        hasher = tokio::task::spawn_blocking(move || {
            hasher.update(&chunk);
            hasher
        })
        .await
        .map_err(|e| StoreError::Io {
            path: key.to_string(),
            source: std::io::Error::other(e),
        })?;
    }
    let actual = Digest::new(crate::digest::Algorithm::Sha512, hasher.finalize().to_vec()).ok();
    if actual.as_ref() == Some(expected) && seen == size {
        Ok(None)
    } else {
        Ok(Some((
            actual.map(|d| d.to_string()).unwrap_or_default(),
            seen,
        )))
    }
}

type BufferPermits = (
    tokio::sync::OwnedSemaphorePermit,
    tokio::sync::OwnedSemaphorePermit,
);

/// Read, hash and send a blob whole. The permits live as long as the body: a slow reader
/// keeps its buffer, and so its share of the budget, until it has read it all.
async fn serve_buffered(
    state: &AppState,
    name: &str,
    key: &str,
    expected: &Digest,
    size: u64,
    permits: BufferPermits,
) -> Response {
    let mut stream = match state.backend.read_blob(key).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(package = %name, blob = %key, error = %e, "admitted blob cannot be read");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
        }
    };
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                buf.extend_from_slice(&c);
                if buf.len() as u64 > size {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(package = %name, blob = %key, error = %e, "admitted blob cannot be read");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
            }
        }
    }
    // Hash off the async workers: a large blob would stall every other request.
    let (buf, actual) = match tokio::task::spawn_blocking(move || {
        let d = crate::digest::sha512(&buf);
        (buf, d)
    })
    .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(package = %name, blob = %key, error = %e, "hashing failed");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
        }
    };
    if &actual != expected || buf.len() as u64 != size {
        integrity_failure(
            name,
            key,
            expected,
            &actual.to_string(),
            size,
            buf.len() as u64,
        );
        return error(StatusCode::INTERNAL_SERVER_ERROR, "integrity check failed");
    }
    let buf = Bytes::from(buf);
    let chunks = futures_util::stream::unfold(
        (buf, 0usize, Some(permits)),
        |(buf, at, permits)| async move {
            const SLICE: usize = 256 * 1024;
            if at >= buf.len() {
                drop(permits);
                return None;
            }
            let end = (at + SLICE).min(buf.len());
            let chunk = buf.slice(at..end);
            Some((
                Ok::<_, std::convert::Infallible>(chunk),
                (buf, end, permits),
            ))
        },
    );
    let mut resp = Response::new(Body::from_stream(chunks));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    resp
}

/// The body was aborted because the blob did not match the index.
#[derive(Debug, thiserror::Error)]
#[error("blob {key} does not match the index; response aborted")]
pub struct IntegrityAbort {
    key: String,
}

struct CheckedStream {
    inner: crate::store::BlobStream,
    hasher: Option<Sha512>,
    seen: u64,
    size: u64,
    expected: Digest,
    held: Option<Bytes>,
    name: String,
    key: String,
}

type Item = Result<Bytes, Box<dyn std::error::Error + Send + Sync>>;

impl CheckedStream {
    fn abort(mut self, actual: &str) -> Option<(Item, CheckedStream)> {
        integrity_failure(
            &self.name,
            &self.key,
            &self.expected,
            actual,
            self.size,
            self.seen,
        );
        self.hasher = None;
        self.held = None;
        let err = IntegrityAbort {
            key: self.key.clone(),
        };
        Some((Err(Box::new(err)), self))
    }

    /// Yield each chunk once the next one has arrived; the last only after the digest matched.
    async fn next(mut self) -> Option<(Item, CheckedStream)> {
        loop {
            let hasher = self.hasher.as_mut()?;
            match self.inner.next().await {
                Some(Ok(chunk)) => {
                    hasher.update(&chunk);
                    self.seen += chunk.len() as u64;
                    if self.seen > self.size {
                        return self.abort("(longer than the index says)");
                    }
                    if let Some(prev) = self.held.replace(chunk) {
                        return Some((Ok(prev), self));
                    }
                    // First chunk: nothing to send yet; read on.
                }
                Some(Err(e)) => {
                    tracing::error!(package = %self.name, blob = %self.key, error = %e, "admitted blob cannot be read");
                    self.hasher = None;
                    return Some((Err(Box::new(e)), self));
                }
                None => {
                    let digest = self.hasher.take()?.finalize();
                    let actual =
                        Digest::new(crate::digest::Algorithm::Sha512, digest.to_vec()).ok();
                    if actual.as_ref() != Some(&self.expected) || self.seen != self.size {
                        let shown = actual.map(|d| d.to_string()).unwrap_or_default();
                        return self.abort(&shown);
                    }
                    let last = self.held.take()?;
                    return Some((Ok(last), self));
                }
            }
        }
    }
}

/// A future that completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Bind `addr`; the caller learns the bound address (port 0 picks one) before serving.
pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })
}

/// Serve until `shutdown` completes, then finish the requests in flight.
///
/// The accept loop is ours (not `axum::serve`) so that every connection is bounded: a cap on
/// open connections, hyper's header-read timeout, and an idle timeout on the socket itself.
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn StoreBackend>,
    mut config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if config.public_url.is_none() {
        let addr = listener.local_addr().map_err(ServeError::Run)?;
        config.public_url = Some(format!("http://{addr}"));
    }
    let limits = config.limits;
    let max_connections = clamp_to_fd_limit(limits.max_connections);
    let app = router(backend, config);
    let conns = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(64);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut shed_logged = Instant::now() - Duration::from_secs(60);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // EMFILE / ENFILE / ECONNABORTED: back off briefly instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(permit) = conns.clone().try_acquire_owned() else {
            if shed_logged.elapsed() > Duration::from_secs(5) {
                tracing::warn!(
                    limit = max_connections,
                    "connection cap reached: closing new connections until one frees"
                );
                shed_logged = Instant::now();
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = idle::IdleIo::new(stream);
        let activity = io.activity();
        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = builder
            .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(io), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        let idle_timeout = limits.idle_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                r = conn => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = idle::expired(activity, idle_timeout) => {
                    tracing::debug!("connection idle past {idle_timeout:?}: closed");
                }
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    // Requests in flight get as long as an idle connection would.
    let _ = tokio::time::timeout(limits.idle_timeout, graceful.shutdown()).await;
    Ok(())
}

/// The connection cap, lowered so that the open connections and a reserve for the store's
/// files fit in the soft file-descriptor limit (else a flood exhausts descriptors and every
/// request, `/-/ping` included, fails).
fn clamp_to_fd_limit(cap: usize) -> usize {
    const RESERVE: u64 = 64;
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass; no other memory is touched.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
        if rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY {
            // Each connection holds one descriptor; files opened for it hold at most one more.
            let room = lim.rlim_cur.saturating_sub(RESERVE) / 2;
            return cap.min(usize::try_from(room).unwrap_or(usize::MAX)).max(1);
        }
    }
    cap.max(1)
}

mod idle {
    //! A socket that records when it last made progress, and a timer that fires once it has
    //! made none for a while.
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    /// Milliseconds since `start` of the last read or write that moved bytes.
    #[derive(Clone)]
    pub(super) struct Activity {
        start: Instant,
        last_ms: Arc<AtomicU64>,
    }

    impl Activity {
        fn touch(&self) {
            let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.last_ms.store(ms, Ordering::Relaxed);
        }
        fn idle_for(&self) -> Duration {
            let now = self.start.elapsed();
            now.saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
        }
    }

    pub(super) struct IdleIo<T> {
        inner: T,
        activity: Activity,
    }

    impl<T> IdleIo<T> {
        pub(super) fn new(inner: T) -> Self {
            IdleIo {
                inner,
                activity: Activity {
                    start: Instant::now(),
                    last_ms: Arc::new(AtomicU64::new(0)),
                },
            }
        }
        pub(super) fn activity(&self) -> Activity {
            self.activity.clone()
        }
    }

    impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let before = buf.filled().len();
            let r = Pin::new(&mut self.inner).poll_read(cx, buf);
            if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
                self.activity.touch();
            }
            r
        }
    }

    impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let r = Pin::new(&mut self.inner).poll_write(cx, buf);
            if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
                self.activity.touch();
            }
            r
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[std::io::IoSlice<'_>],
        ) -> Poll<std::io::Result<usize>> {
            let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
            if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
                self.activity.touch();
            }
            r
        }
        fn is_write_vectored(&self) -> bool {
            self.inner.is_write_vectored()
        }
    }

    /// Completes once the connection has made no progress for `timeout`.
    pub(super) async fn expired(activity: Activity, timeout: Duration) {
        let tick = (timeout / 4).max(Duration::from_millis(25));
        loop {
            tokio::time::sleep(tick).await;
            if activity.idle_for() >= timeout {
                return;
            }
        }
    }
}
