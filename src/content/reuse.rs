//! Admitting an audited build without analysing its code a second time.
//!
//! A build the ledger covers was inspected when it was reviewed, and that inspection's manifest
//! is stored content-addressed in the ledger (`manifests/<sha256>.json`, the digest named by
//! the audit). The behaviour analysis is a function of a file's bytes, its path, the analysis
//! code and its limits, nothing else. So when the stored manifest was made by this very
//! analysis ([`analysis_id`]: the analysis' source, hashed at build time, and `limits.js`) and
//! lists an entry at the same path with the same SHA-256 and size, parsing that entry again
//! would give what the manifest already holds: the admission copies it instead. Parsing is
//! most of an admission's memory (the AST of a 6 MB module is over 100 MiB) and time.
//!
//! Everything else is done afresh: the archive is walked and listed by npm's rules, every file
//! and module is hashed, and any entry the stored manifest does not hold with the same digest
//! is analysed. A manifest from another build of vetted, or with other limits, is not used.
use super::manifest::{ContentManifest, Entry};
use crate::diff::js::JsFacts;
use crate::limits::JsLimits;
use std::collections::{BTreeMap, HashMap};

/// What produced a manifest's behaviours: vetted's version, a digest of the source of the
/// inspection and analysis (`src/content/`, `src/limits.rs`, computed by `build.rs`), and the
/// JavaScript limits in force. Recorded in every manifest (`analysis`).
pub fn analysis_id(js: &JsLimits) -> String {
    format!(
        "vetted {} content-source {} js {:?}",
        env!("CARGO_PKG_VERSION"),
        env!("VETTED_CONTENT_SOURCE"),
        js
    )
}

/// The analysed entries of a stored manifest, by path.
#[derive(Debug, Default)]
pub struct Reuse {
    entries: BTreeMap<String, Entry>,
    /// The review's facts of the same entries ([`crate::diff::js::JsFacts`]), when an inspection
    /// that keeps them for a review reuses: an entry is reused then only with its facts.
    facts: Option<HashMap<String, JsFacts>>,
}

impl Reuse {
    /// The analyses `stored` holds, usable only when the same analysis made them; otherwise
    /// why not.
    pub fn of(stored: ContentManifest, js: &JsLimits) -> Result<Reuse, String> {
        let want = analysis_id(js);
        match stored.analysis.as_deref() {
            Some(a) if a == want => {}
            Some(a) => return Err(format!("made by another analysis ({a}; this is {want})")),
            None => return Err("it does not record which analysis made it".into()),
        }
        let entries = stored
            .entries
            .into_iter()
            .filter(|(_, e)| e.sha256.is_some())
            .collect();
        Ok(Reuse {
            entries,
            facts: None,
        })
    }

    /// [`Reuse::of`] with the facts the stored inspection computed of its entries (an
    /// inspection cache, [`super::inspection_cache`]): what a review's inspection reuses.
    pub fn with_facts(
        stored: ContentManifest,
        facts: HashMap<String, JsFacts>,
        js: &JsLimits,
    ) -> Result<Reuse, String> {
        let mut r = Reuse::of(stored, js)?;
        r.facts = Some(facts);
        Ok(r)
    }

    /// [`Reuse::covers`], and when the inspection wants facts (`facts`), only an entry whose
    /// facts are held too: the reused entry must be what parsing it again would give, facts
    /// included.
    pub(crate) fn covers_for(&self, path: &str, fresh: &Entry, facts: bool) -> bool {
        self.covers(path, fresh)
            && (!facts || self.facts.as_ref().is_some_and(|f| f.contains_key(path)))
    }

    /// The stored facts of an entry [`Reuse::covers_for`] accepted.
    pub(crate) fn facts_of(&self, path: &str) -> Option<JsFacts> {
        self.facts.as_ref()?.get(path).cloned()
    }

    /// Whether the stored manifest holds the analysis of these bytes at this path.
    pub(crate) fn covers(&self, path: &str, fresh: &Entry) -> bool {
        self.entries.get(path).is_some_and(|s| {
            s.kind == fresh.kind
                && s.size == fresh.size
                && s.sha256.is_some()
                && s.sha256 == fresh.sha256
        })
    }

    /// Copy the stored analysis (behaviours, parse error, truncation, the signals it left)
    /// into each entry of `paths` (those [`Reuse::covers`] accepted).
    pub(crate) fn fill(&self, entries: &mut BTreeMap<String, Entry>, paths: &[String]) {
        for p in paths {
            if let (Some(e), Some(s)) = (entries.get_mut(p), self.entries.get(p))
                && s.sha256 == e.sha256
            {
                e.signals = s.signals.clone();
                e.behaviours = s.behaviours.clone();
                e.parse_error = s.parse_error.clone();
                e.analysis_truncated = s.analysis_truncated;
            }
        }
    }
}
