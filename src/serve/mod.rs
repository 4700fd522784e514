//! `vetted serve`: the npm registry protocol over the store, read-only.
//!
//! - Packuments (`/<name>`, `/@scope%2fname`, `/@scope/name`; full, or abbreviated for
//!   `Accept: application/vnd.npm.install-v1+json`), version documents (`/<name>/<version>`),
//!   tarballs (`/<name>/-/<basename>-<version>.tgz`), `/-/ping`. Only admitted versions exist;
//!   everything else is 404 `{"error":"not found"}`.
//! - `dist.tarball` points at this server (`--public-url`, else the request's `Host`);
//!   `dist.integrity` is the admitted sha512, `dist.shasum` the sha1.
//! - Every tarball is re-hashed on the way out, against the index. Blobs up to
//!   [`Config::buffer_limit`] bytes are read and hashed whole before the first byte is sent: a
//!   mismatch is a 500 and a `tracing::error!`. Larger blobs are streamed while hashing, with
//!   the last chunk held back until the digest is known: on a mismatch (or a size other than
//!   the index's) the body is aborted, so the client sees a truncated response and an error,
//!   never the complete bytes.
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
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub mod registry;
pub mod route;

use route::Route;

/// Blobs up to this size are hashed whole before they are sent.
pub const DEFAULT_BUFFER_LIMIT: u64 = 32 << 20;
/// How long an index read is reused before the store is asked again.
pub const DEFAULT_INDEX_REFRESH: Duration = Duration::from_secs(1);

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL for `dist.tarball` (no trailing slash); `None`: `http://<Host header>`.
    pub public_url: Option<String>,
    /// Bearer token required on every request but `/-/ping`.
    pub token: Option<String>,
    /// Blobs up to this size are hashed before sending; larger ones while streaming.
    pub buffer_limit: u64,
    /// How long an index read is reused.
    pub index_refresh: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_url: None,
            token: None,
            buffer_limit: DEFAULT_BUFFER_LIMIT,
            index_refresh: DEFAULT_INDEX_REFRESH,
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
    let state = Arc::new(AppState {
        backend,
        config,
        token_digest,
        index: Mutex::new(None),
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

fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(u) = &config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
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
    let base = base_url(&state.config, &headers);
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
    let mut stream = match state.backend.read_blob(key).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(package = %name, blob = %key, error = %e, "admitted blob cannot be read");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "blob unavailable");
        }
    };
    let octets = HeaderValue::from_static("application/octet-stream");
    if size <= state.config.buffer_limit {
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
        let mut resp = (StatusCode::OK, Bytes::from(buf)).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, octets);
        return resp;
    }
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
    tracing::info!("shutting down: finishing requests in flight");
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
pub async fn serve(
    listener: tokio::net::TcpListener,
    backend: Arc<dyn StoreBackend>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router(backend, config);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ServeError::Run)
}
