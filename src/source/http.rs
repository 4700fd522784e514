//! The one seam to the network: GET with bounded retries, timeouts, a size limit, and
//! transport security (https, or http only to loopback unless the insecure flag is given).
use super::FetchOptions;
use super::error::FetchError;
use crate::digest::{Digests, MultiHasher};
use crate::limits::LimitExceeded;
use futures_util::StreamExt as _;
use std::io::{Seek, Write};
use std::net::IpAddr;
use std::time::Duration;

/// Where the bytes of a download go.
pub(crate) enum Sink<'a> {
    File(&'a mut std::fs::File),
    Memory(&'a mut Vec<u8>),
}

impl Sink<'_> {
    fn reset(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => {
                f.set_len(0)?;
                f.seek(std::io::SeekFrom::Start(0)).map(|_| ())
            }
            Sink::Memory(v) => {
                v.clear();
                Ok(())
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.write_all(bytes),
            Sink::Memory(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
        }
    }
}

enum Attempt {
    Retry(String),
    Fatal(FetchError),
}

/// Whether `url` may be fetched: https always; http only for a loopback host, or when the user
/// named the insecure flag.
pub(crate) fn check_url(url: &str, allow_insecure_http: bool) -> Result<reqwest::Url, FetchError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| FetchError::Metadata {
        url: url.to_string(),
        detail: "not a valid URL".into(),
    })?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if allow_insecure_http || is_loopback(&parsed) => Ok(parsed),
        _ => Err(FetchError::InsecureUrl {
            url: url.to_string(),
        }),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// An HTTP client configured from [`FetchOptions`].
pub(crate) struct Http<'o> {
    client: reqwest::Client,
    opts: &'o FetchOptions,
}

impl<'o> Http<'o> {
    pub(crate) fn new(opts: &'o FetchOptions) -> Result<Self, FetchError> {
        let insecure = opts.allow_insecure_http;
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if check_url(attempt.url().as_str(), insecure).is_err() {
                attempt.error("redirect to plain http refused")
            } else {
                attempt.follow()
            }
        });
        let mut builder = reqwest::Client::builder();
        for file in &opts.extra_ca_files {
            let pem = std::fs::read(file).map_err(|e| FetchError::io(file, e))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                FetchError::Client(format!(
                    "{}: not a PEM certificate bundle: {}",
                    file.display(),
                    chain(&e)
                ))
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .connect_timeout(opts.connect_timeout)
            .redirect(redirect)
            .user_agent(concat!("vetted/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(chain(&e)))?;
        Ok(Http { client, opts })
    }

    /// GET `url` into `sink` with retries; returns the digests of the bytes received. The
    /// whole of it, retries included, must finish within `opts.deadline`: the stall timeout
    /// only bounds the wait for each chunk, so an upstream sending a byte every few seconds
    /// would otherwise hold the fetch for ever.
    pub(crate) async fn get(
        &self,
        url: &str,
        accept: &str,
        limit: u64,
        sink: &mut Sink<'_>,
        progress: bool,
    ) -> Result<Digests, FetchError> {
        let deadline = self.opts.deadline;
        match tokio::time::timeout(
            deadline,
            self.get_with_retries(url, accept, limit, sink, progress),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(FetchError::Network {
                url: url.to_string(),
                attempts: 0,
                detail: format!("the fetch did not finish within its deadline of {deadline:?}"),
            }),
        }
    }

    async fn get_with_retries(
        &self,
        url: &str,
        accept: &str,
        limit: u64,
        sink: &mut Sink<'_>,
        progress: bool,
    ) -> Result<Digests, FetchError> {
        let parsed = check_url(url, self.opts.allow_insecure_http)?;
        let attempts = self.opts.retries + 1;
        let mut last = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                let factor = 1u32 << (attempt - 2).min(6);
                tokio::time::sleep(self.opts.backoff * factor).await;
                sink.reset().map_err(|e| FetchError::Io {
                    path: url.to_string(),
                    source: e,
                })?;
            }
            match self.try_get(&parsed, accept, limit, sink, progress).await {
                Ok(d) => return Ok(d),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retry(detail)) => {
                    tracing::debug!("attempt {attempt} for {url} failed: {detail}");
                    last = detail;
                }
            }
        }
        Err(FetchError::Network {
            url: url.to_string(),
            attempts,
            detail: last,
        })
    }

    async fn try_get(
        &self,
        url: &reqwest::Url,
        accept: &str,
        limit: u64,
        sink: &mut Sink<'_>,
        progress: bool,
    ) -> Result<Digests, Attempt> {
        let stall = self.opts.stall_timeout;
        let send = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .send();
        let resp = match tokio::time::timeout(stall, send).await {
            Err(_) => return Err(Attempt::Retry(format!("no response within {stall:?}"))),
            Ok(Err(e)) if e.is_redirect() => {
                return Err(Attempt::Fatal(FetchError::InsecureUrl {
                    url: e.url().map(|u| u.to_string()).unwrap_or_default(),
                }));
            }
            Ok(Err(e)) => return Err(Attempt::Retry(chain(&e))),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Attempt::Retry(format!("HTTP {}", status.as_u16())));
        }
        if status.as_u16() == 404 {
            return Err(Attempt::Fatal(FetchError::NotFound {
                what: url.to_string(),
            }));
        }
        if !status.is_success() {
            return Err(Attempt::Fatal(FetchError::HttpStatus {
                url: url.to_string(),
                status: status.as_u16(),
            }));
        }
        let too_large = |actual| {
            Attempt::Fatal(FetchError::TooLarge {
                url: url.to_string(),
                limit: LimitExceeded {
                    what: "download bytes",
                    limit,
                    actual,
                },
            })
        };
        let declared = resp.content_length();
        if let Some(len) = declared
            && len > limit
        {
            return Err(too_large(len));
        }
        let bar = if progress {
            let bar = indicatif::ProgressBar::with_draw_target(
                declared,
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar.set_message(
                url.path_segments()
                    .and_then(|mut s| s.next_back())
                    .unwrap_or("download")
                    .to_string(),
            );
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut hasher = MultiHasher::new();
        let mut stream = resp.bytes_stream();
        loop {
            let next = match tokio::time::timeout(stall, stream.next()).await {
                Err(_) => {
                    bar.abandon();
                    return Err(Attempt::Retry(format!(
                        "transfer stalled: no data for {stall:?}"
                    )));
                }
                Ok(n) => n,
            };
            match next {
                None => break,
                Some(Err(e)) => {
                    bar.abandon();
                    return Err(Attempt::Retry(chain(&e)));
                }
                Some(Ok(bytes)) => {
                    let total = hasher.size() + bytes.len() as u64;
                    if total > limit {
                        bar.abandon();
                        return Err(too_large(total));
                    }
                    hasher.update(&bytes);
                    sink.write(&bytes).map_err(|e| {
                        Attempt::Fatal(FetchError::Io {
                            path: url.to_string(),
                            source: e,
                        })
                    })?;
                    bar.set_position(total);
                }
            }
        }
        bar.finish_and_clear();
        if let Some(len) = declared
            && hasher.size() != len
        {
            return Err(Attempt::Retry(format!(
                "truncated: expected {len} bytes, received {}",
                hasher.size()
            )));
        }
        Ok(hasher.finish())
    }
}

/// Default backoff between retries.
pub(crate) const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
