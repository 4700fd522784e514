//! Test builders shared by the ledger and diff tests: content manifests built directly in Rust
//! (no archive reader), and ledger directories.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use vetted::content::manifest::{
    ContentManifest, Entry, EntryKind, ExecutableFormat, MANIFEST_FORMAT, PackageInfo, Signals,
    Totals,
};
use vetted::digest::{self, Digests};

/// Builds a [`ContentManifest`]; the artifact digests are those of `seed` (a stand-in for the
/// tarball's bytes: different seeds are different builds).
pub struct ManifestBuilder {
    m: ContentManifest,
}

pub fn manifest(name: &str, version: &str, seed: &str) -> ManifestBuilder {
    ManifestBuilder {
        m: ContentManifest {
            format: MANIFEST_FORMAT,
            artifact: Digests::of(seed.as_bytes()),
            archive: "tgz".into(),
            entries: BTreeMap::new(),
            totals: Totals::default(),
            package: Some(PackageInfo {
                path: "package/package.json".into(),
                name: Some(name.into()),
                version: Some(version.into()),
                ..PackageInfo::default()
            }),
            notes: Vec::new(),
            analysis: None,
        },
    }
}

impl ManifestBuilder {
    pub fn file(mut self, path: &str, content: &[u8], mode: u32) -> Self {
        self.m.entries.insert(
            path.into(),
            Entry {
                kind: EntryKind::File,
                size: content.len() as u64,
                mode,
                sha256: Some(digest::sha256(content)),
                link_target: None,
                signals: Signals::default(),
                behaviours: Vec::new(),
                parse_error: None,
                analysis_truncated: false,
            },
        );
        self
    }

    /// A file of `size` bytes whose content is identified by `tag`.
    pub fn sized(mut self, path: &str, tag: &str, size: u64) -> Self {
        self.m.entries.insert(
            path.into(),
            Entry {
                kind: EntryKind::File,
                size,
                mode: 0o644,
                sha256: Some(digest::sha256(tag.as_bytes())),
                link_target: None,
                signals: Signals::default(),
                behaviours: Vec::new(),
                parse_error: None,
                analysis_truncated: false,
            },
        );
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.m.entries.insert(
            path.into(),
            Entry {
                kind: EntryKind::Symlink,
                size: 0,
                mode: 0o777,
                sha256: None,
                link_target: Some(target.into()),
                signals: Signals::default(),
                behaviours: Vec::new(),
                parse_error: None,
                analysis_truncated: false,
            },
        );
        self
    }

    fn signals(&mut self, path: &str) -> &mut Signals {
        &mut self
            .m
            .entries
            .get_mut(path)
            .unwrap_or_else(|| panic!("test builder: add {path} before its signals"))
            .signals
    }

    pub fn exec(mut self, path: &str, f: ExecutableFormat) -> Self {
        self.signals(path).executable = Some(f);
        self
    }

    pub fn urls(mut self, path: &str, urls: &[&str]) -> Self {
        self.signals(path)
            .urls
            .extend(urls.iter().map(|s| s.to_string()));
        self
    }

    pub fn env(mut self, path: &str, vars: &[&str]) -> Self {
        self.signals(path)
            .env_vars
            .extend(vars.iter().map(|s| s.to_string()));
        self
    }

    pub fn caps(mut self, path: &str, caps: &[&str]) -> Self {
        self.signals(path)
            .capabilities
            .extend(caps.iter().map(|s| s.to_string()));
        self
    }

    fn pkg(&mut self) -> &mut PackageInfo {
        self.m.package.get_or_insert_with(PackageInfo::default)
    }

    pub fn script(mut self, name: &str, cmd: &str) -> Self {
        self.pkg().lifecycle_scripts.insert(name.into(), cmd.into());
        self.pkg().scripts.insert(name.into(), cmd.into());
        self
    }

    pub fn dep(mut self, kind: &str, name: &str, range: &str) -> Self {
        self.pkg()
            .dependencies
            .entry(kind.into())
            .or_default()
            .insert(name.into(), range.into());
        self
    }

    pub fn bin(mut self, cmd: &str, path: &str) -> Self {
        self.pkg().bin.insert(cmd.into(), path.into());
        self
    }

    pub fn build(mut self) -> ContentManifest {
        let files = self
            .m
            .entries
            .values()
            .filter(|e| e.kind == EntryKind::File);
        self.m.totals = Totals {
            entries: self.m.entries.len() as u64,
            files: files.clone().count() as u64,
            unpacked_bytes: files.map(|e| e.size).sum(),
        };
        self.m
    }
}

/// A typical small CLI package.
pub fn claude(version: &str, seed: &str) -> ManifestBuilder {
    manifest("@anthropic-ai/claude-code", version, seed)
        .file(
            "package/package.json",
            format!("{{\"version\":\"{version}\"}}").as_bytes(),
            0o644,
        )
        .file(
            "package/cli.js",
            format!("console.log('{version}')").as_bytes(),
            0o755,
        )
        .urls("package/cli.js", &["https://api.anthropic.com/v1/messages"])
        .env("package/cli.js", &["ANTHROPIC_API_KEY", "HOME"])
        .caps("package/cli.js", &["child_process"])
        .bin("claude", "cli.js")
        .dep("optionalDependencies", "@img/sharp-linux-x64", "^0.33.5")
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("create test dir");
    }
    std::fs::write(p, text).expect("write test file");
}
