//! `vetted serve`'s request handling: route parsing and the whole router (auth, index lookup,
//! documents, blob verification) over an in-memory store holding one package.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt as _;

struct Fixture {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let backend = vetted::store::ObjectBackend::in_memory();
        let staged = vetted::store::StagedVersion {
            name: "@s/p".into(),
            version: "1.0.0".into(),
            bytes: axum::body::Bytes::from_static(b"not really a tarball"),
            record: serde_json::json!({}),
            metadata: serde_json::json!({"name": "@s/p", "version": "1.0.0"}),
            admitted_at: "2026-11-01T00:00:00Z".parse().expect("ts"),
            published: None,
            dist_tags: Vec::new(),
        };
        rt.block_on(backend.admit_staged(&[staged])).expect("admit");
        let config = vetted::serve::Config {
            token: Some("secret".into()),
            ..Default::default()
        };
        let app = vetted::serve::router(Arc::new(backend), config);
        Fixture { rt, app }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Line 1: the path; the rest: headers `name: value`.
    let mut lines = text.split('\n');
    let path = lines.next().unwrap_or("/");
    let _ = vetted::serve::route::parse(path);
    let mut req = axum::http::Request::builder().method("GET").uri(path);
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            req = req.header(k.trim(), v.trim());
        }
    }
    let Ok(req) = req.body(axum::body::Body::empty()) else {
        return;
    };
    let f = fixture();
    let _ = f.rt.block_on(async {
        let resp = f.app.clone().oneshot(req).await.ok()?;
        axum::body::to_bytes(resp.into_body(), 1 << 20).await.ok()
    });
});
