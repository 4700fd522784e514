//! The network side of `vetted trust-root update --from URL`: a [`tough::Transport`] over our
//! HTTP client rules (https, or plain http to loopback only; bounded size; an overall deadline
//! per request). Directory sources use tough's own filesystem transport and never come here.
use super::http::check_url;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tough::{FilesystemTransport, Transport, TransportError, TransportErrorKind, TransportStream};
use url::Url;

/// Fetches TUF metadata and targets over HTTP(S), or `file://` from a directory.
#[derive(Debug, Clone)]
pub struct TufTransport {
    client: Option<reqwest::Client>,
    max_bytes: u64,
    /// The first failure that was ours or the network's (not the repository's): the caller
    /// reports it as an operational error (exit 2) rather than a rejection.
    operational: Arc<Mutex<Option<String>>>,
}

impl TufTransport {
    /// A transport for `file://` URLs only (an air-gapped copy of a repository).
    pub fn filesystem() -> TufTransport {
        TufTransport {
            client: None,
            max_bytes: u64::MAX,
            operational: Arc::default(),
        }
    }

    /// A transport for http(s) URLs, each response at most `max_bytes`, each request finished
    /// within `deadline`.
    pub fn http(max_bytes: u64, deadline: Duration) -> Result<TufTransport, String> {
        let redirect = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if check_url(attempt.url().as_str(), false).is_err() {
                attempt.error("redirect to plain http refused")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(deadline)
            .redirect(redirect)
            .user_agent(concat!("vetted/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(TufTransport {
            client: Some(client),
            max_bytes,
            operational: Arc::default(),
        })
    }

    /// The first operational (network or local) failure seen, if any.
    pub fn operational_error(&self) -> Option<String> {
        self.operational.lock().ok().and_then(|g| g.clone())
    }

    fn note(&self, message: String) {
        if let Ok(mut g) = self.operational.lock()
            && g.is_none()
        {
            *g = Some(message);
        }
    }

    async fn get(&self, url: Url) -> Result<TransportStream, TransportError> {
        let url = consistent_target_url(url);
        if url.scheme() == "file" {
            return FilesystemTransport.fetch(url).await;
        }
        let Some(client) = &self.client else {
            return Err(TransportError::new(
                TransportErrorKind::UnsupportedUrlScheme,
                url,
            ));
        };
        if check_url(url.as_str(), false).is_err() {
            return Err(TransportError::new(
                TransportErrorKind::UnsupportedUrlScheme,
                url,
            ));
        }
        let response = match client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                self.note(format!("{url}: {e}"));
                return Err(TransportError::new_with_cause(
                    TransportErrorKind::Other,
                    url,
                    e,
                ));
            }
        };
        let status = response.status();
        // A missing N+1.root.json ends the root walk (TUF 5.3.3); object stores answer 403 for
        // a missing key as often as 404.
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::FORBIDDEN {
            return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
        }
        if !status.is_success() {
            self.note(format!("{url}: HTTP {status}"));
            return Err(TransportError::new_with_cause(
                TransportErrorKind::Other,
                url,
                format!("HTTP {status}"),
            ));
        }
        let mut response = response;
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > self.max_bytes {
                        return Err(TransportError::new_with_cause(
                            TransportErrorKind::Other,
                            url,
                            format!("response larger than {} bytes", self.max_bytes),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    self.note(format!("{url}: {e}"));
                    return Err(TransportError::new_with_cause(
                        TransportErrorKind::Other,
                        url,
                        e,
                    ));
                }
            }
        }
        let once = futures_util::stream::once(async move { Ok(bytes::Bytes::from(body)) });
        Ok(Box::pin(once))
    }
}

/// TUF 5.7.3: with consistent snapshots a target `dir/name.ext` is fetched as
/// `dir/HASH.name.ext` (the hash prefixes the file name, inside its directory), which is how
/// Sigstore publishes `registry.npmjs.org/keys.json`. tough 0.24 asks for `HASH.dir/name.ext`
/// instead; this moves the hash back onto the file name. tough still checks the length and the
/// hash of what comes back.
pub fn consistent_target_url(url: Url) -> Url {
    let Some(segments) = url
        .path_segments()
        .map(|s| s.map(str::to_string).collect::<Vec<_>>())
    else {
        return url;
    };
    let is_hash_prefixed = |s: &str| {
        s.len() > 65 && s.as_bytes()[64] == b'.' && s[..64].bytes().all(|b| b.is_ascii_hexdigit())
    };
    let Some(i) = segments.iter().position(|s| is_hash_prefixed(s)) else {
        return url;
    };
    if i + 1 >= segments.len() {
        return url;
    }
    let (hash, first_dir) = segments[i].split_at(64);
    let mut fixed: Vec<String> = segments[..i].to_vec();
    fixed.push(first_dir[1..].to_string());
    fixed.extend(segments[i + 1..segments.len() - 1].iter().cloned());
    let last = &segments[segments.len() - 1];
    fixed.push(format!("{hash}.{last}"));
    let mut out = url.clone();
    match out.path_segments_mut() {
        Ok(mut p) => {
            p.clear();
            p.extend(fixed.iter());
        }
        Err(()) => return url,
    }
    out
}

impl Transport for TufTransport {
    fn fetch<'life0, 'async_trait>(
        &'life0 self,
        url: Url,
    ) -> Pin<Box<dyn Future<Output = Result<TransportStream, TransportError>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(self.get(url))
    }
}

#[cfg(test)]
mod tests {
    use super::consistent_target_url;
    use url::Url;

    #[test]
    fn hash_moves_onto_the_file_name_of_a_target_in_a_directory() {
        let h = "160677eb6e1c7083c89b166b20f8fe4e837fb71181506aff1991b80b89184f7d";
        let u = Url::parse(&format!(
            "file:///r/targets/{h}.registry.npmjs.org/keys.json"
        ))
        .expect("url");
        assert_eq!(
            consistent_target_url(u).as_str(),
            format!("file:///r/targets/registry.npmjs.org/{h}.keys.json")
        );
        let top = Url::parse(&format!("https://x/targets/{h}.trusted_root.json")).expect("url");
        assert_eq!(consistent_target_url(top.clone()), top);
        let meta = Url::parse("https://x/15.root.json").expect("url");
        assert_eq!(consistent_target_url(meta.clone()), meta);
    }
}
