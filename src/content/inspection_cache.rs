//! The inspection cache: what a review's inspection of an artifact found, kept beside the
//! fetch cache so that the next review of the same artifact does not parse its code again.
//!
//! `vetted diff` and `vetted review` inspect both builds and compare them; the old build of
//! one review is usually the new build of the last, and a reviewer runs the same diff more than
//! once. Parsing and analysing every module is most of that time (two Claude Code native
//! builds: 14 of 20 CPU seconds). One file per artifact, `<cache>/inspections/<sha512 hex>.json`
//! (format in `docs/inspection-cache.md`): the content manifest and the review's facts of each
//! JavaScript entry, written atomically after an inspection that kept them.
//!
//! What it is trusted with, and what it is not: the next inspection still reads the whole
//! artifact, checks it against the digest it was fetched by, lists it by npm's rules and hashes
//! every file and module; only an entry the cached manifest holds at the same path with the
//! same SHA-256 and size, made by this very analysis ([`super::reuse::analysis_id`]), takes its
//! behaviours and facts from the cache ([`super::reuse::Reuse`]). So the cache can speed a
//! review up, never change what is listed; a cache entry from another build of vetted, other
//! limits, another artifact, or unreadable, is ignored and replaced. Someone who can write the
//! cache directory can change the behaviours a review shows (as they could the `vetted`
//! binary); `certify`, `admit` and the gate never read it — what they record is analysed
//! afresh, or taken from the ledger — and `--no-inspection-cache` makes a review analyse
//! everything again.
use super::manifest::ContentManifest;
use super::reuse::Reuse;
use crate::diff::js::JsFacts;
use crate::digest::{Algorithm, Digest};
use crate::limits::JsLimits;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The `schema` of a cache file.
pub const SCHEMA: &str = "vetted.inspection-cache/v1";

/// One cached inspection: read owned, written borrowing what the inspection holds. The
/// analysis that made it is the manifest's own `analysis` ([`super::reuse::analysis_id`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct CachedInspection<'a> {
    /// [`SCHEMA`].
    pub schema: Cow<'a, str>,
    /// The content manifest of the artifact (its `artifact.sha512` names the file).
    pub manifest: Cow<'a, ContentManifest>,
    /// The review's facts of each JavaScript entry the analysis parsed, by path.
    pub facts: Cow<'a, HashMap<String, JsFacts>>,
}

/// Where the cached inspection of the artifact with this SHA-512 is kept.
pub fn path(cache_dir: &Path, sha512: &Digest) -> Option<PathBuf> {
    (sha512.algorithm() == Algorithm::Sha512).then(|| {
        cache_dir
            .join("inspections")
            .join(format!("{}.json", sha512.hex()))
    })
}

/// The reusable analyses of the cached inspection of the artifact with this SHA-512, or why
/// there are none (no entry; unreadable; another schema, analysis or artifact).
pub fn load(cache_dir: &Path, sha512: &Digest, js: &JsLimits) -> Result<Reuse, String> {
    let p = path(cache_dir, sha512).ok_or("not a SHA-512")?;
    let max = crate::limits::review::INSPECTION_CACHE_BYTES;
    let file = std::fs::File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let too_big = || {
        format!(
            "{}: more than {max} bytes (limits::review::INSPECTION_CACHE_BYTES)",
            p.display()
        )
    };
    if file.metadata().map_err(|e| e.to_string())?.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max + 1), &mut bytes)
        .map_err(|e| format!("{}: {e}", p.display()))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    let c: CachedInspection =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
    if c.schema != SCHEMA {
        return Err(format!(
            "{}: schema {:?}, not {SCHEMA}",
            p.display(),
            c.schema
        ));
    }
    if c.manifest.artifact.sha512 != *sha512 {
        return Err(format!(
            "{}: the inspection of {}, not of {sha512}",
            p.display(),
            c.manifest.artifact.sha512
        ));
    }
    // Another analysis' manifest is refused here.
    Reuse::with_facts(c.manifest.into_owned(), c.facts.into_owned(), js)
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// Keep an inspection (written whole or not at all).
pub fn store(
    cache_dir: &Path,
    manifest: &ContentManifest,
    kept: &super::Kept,
) -> Result<(), String> {
    if manifest.analysis.is_none() {
        return Err("the manifest does not record its analysis".into());
    }
    let p = path(cache_dir, &manifest.artifact.sha512).ok_or("no SHA-512")?;
    let bytes = serde_json::to_vec(&CachedInspection {
        schema: Cow::Borrowed(SCHEMA),
        manifest: Cow::Borrowed(manifest),
        facts: Cow::Borrowed(&kept.facts),
    })
    .map_err(|e| e.to_string())?;
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    crate::atomic::write(&p, &bytes).map_err(|e| format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha512() -> Digest {
        Digest::new(Algorithm::Sha512, vec![7; 64]).expect("digest")
    }

    #[test]
    fn a_cache_file_past_the_limit_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = path(dir.path(), &sha512()).expect("path");
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        // Sparse: nothing is written, the file only says it is that long.
        let f = std::fs::File::create(&p).expect("create");
        f.set_len(crate::limits::review::INSPECTION_CACHE_BYTES + 1)
            .expect("set_len");
        let why = load(dir.path(), &sha512(), &JsLimits::default()).expect_err("too big");
        assert!(why.contains("INSPECTION_CACHE_BYTES"), "{why}");
    }

    #[test]
    fn only_a_sha512_names_a_cache_file() {
        let sha256 = Digest::new(Algorithm::Sha256, vec![7; 32]).expect("digest");
        assert!(path(Path::new("/c"), &sha256).is_none());
        assert!(path(Path::new("/c"), &sha512()).is_some_and(|p| p.starts_with("/c/inspections")));
    }
}
