//! The vendor's own layout for admitted native releases, so that install scripts written for
//! the vendor's server work against the mirror unchanged:
//!
//! ```text
//! /claude-code-releases/latest                       the highest admitted version (text)
//! /claude-code-releases/stable                       the highest admitted version the vendor's
//!                                                    `stable` pointer named at admission (text)
//! /claude-code-releases/<V>/manifest.json            the vendor's signed manifest, byte for byte
//! /claude-code-releases/<V>/manifest.json.sig        its detached signature, byte for byte
//! /claude-code-releases/<V>/<platform>/<binary>      an admitted binary
//! ```
//!
//! Only what the index records exists: a version with no admitted platform, or a platform not
//! admitted, is 404 even though the manifest lists it. Every file is a blob served through the
//! same verifying path as tarballs (sha512 and size against the index before the first byte).
use super::{AppState, not_found, serve_blob};
use crate::store::{Index, blob_key};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The path prefix of Claude Code's release layout.
pub const PREFIX: &str = "/claude-code-releases/";

fn text(body: String) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A request under [`PREFIX`]; `rest` is the path after it (not percent-decoded: every valid
/// segment is a plain version, platform or file name).
pub(super) async fn handle(state: &AppState, index: &Index, rest: &str) -> Response {
    let Some(channel) = index.native.get(crate::vendor::CLAUDE_CODE) else {
        return not_found();
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
    };
    if !segs.iter().all(|s| plain(s)) {
        return not_found();
    }
    let label = |v: &str| format!("claude-code-releases/{v}");
    match segs.as_slice() {
        ["latest"] => match channel.latest() {
            Some(v) => text(format!("{v}\n")),
            None => not_found(),
        },
        ["stable"] => match channel.stable() {
            Some(v) => text(format!("{v}\n")),
            None => not_found(),
        },
        [v, file @ ("manifest.json" | "manifest.json.sig")] => {
            let Some(rel) = channel.releases.get(*v).filter(|r| !r.platforms.is_empty()) else {
                return not_found();
            };
            let d = if *file == "manifest.json" {
                &rel.manifest
            } else {
                &rel.signature
            };
            let mut resp =
                serve_blob(state, &label(v), &blob_key(&d.sha512), &d.sha512, d.size).await;
            if resp.status() == StatusCode::OK {
                let ct = if *file == "manifest.json" {
                    "application/json"
                } else {
                    "application/pgp-signature"
                };
                resp.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            }
            resp
        }
        [v, platform, binary] => {
            let entry = channel
                .releases
                .get(*v)
                .and_then(|r| r.platforms.get(*platform))
                .filter(|e| e.binary == *binary);
            match entry {
                Some(e) => {
                    serve_blob(
                        state,
                        &label(v),
                        &blob_key(&e.digests.sha512),
                        &e.digests.sha512,
                        e.digests.size,
                    )
                    .await
                }
                None => not_found(),
            }
        }
        _ => not_found(),
    }
}
