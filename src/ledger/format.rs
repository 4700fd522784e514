//! The one module that owns the ledger file format (`audits.toml`): reading it, with every
//! problem reported at once with its place and a hint, and writing it canonically.
//!
//! The file is read through `toml`'s spanned document tree (`DeTable`) rather than
//! `#[derive(Deserialize)]`: serde stops at the first error and loses spans under `flatten`,
//! and a person editing the ledger wants every problem, each with its line, in one run. The
//! tree is the private wire form; everything leaving this module is a domain type.
use super::types::*;
use crate::diagnostics::{
    Diagnostic, Fields, SourceMap, opt_str, req_str, str_list, tables, type_hint,
};
use crate::digest::{Algorithm, Digest};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Sp<'i> = Spanned<DeValue<'i>>;

/// The names of the built-in criteria.
pub const VERIFIED_ORIGIN: &str = "verified-origin";
/// See [`VERIFIED_ORIGIN`].
pub const SAFE_TO_RUN: &str = "safe-to-run";

/// The built-in criteria.
pub fn builtin_criteria() -> Vec<Criterion> {
    let name = |s: &str| CriterionName(s.to_string());
    vec![
        Criterion {
            name: name(VERIFIED_ORIGIN),
            description: "All required signature and provenance checks passed.".into(),
            implies: BTreeSet::new(),
            builtin: true,
        },
        Criterion {
            name: name(SAFE_TO_RUN),
            description: "Reviewed; fit to run on employee machines.".into(),
            implies: [name(VERIFIED_ORIGIN)].into_iter().collect(),
            builtin: true,
        },
    ]
}

/// The contents of one ledger file, as domain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LedgerFile {
    /// Comment lines at the top of the file, kept verbatim by `fmt`.
    pub header: String,
    /// Criteria defined in the file (not the built-ins).
    pub criteria: BTreeMap<CriterionName, Criterion>,
    pub imports: BTreeMap<ImportName, Import>,
    pub audits: Vec<Audit>,
    pub violations: Vec<Violation>,
    pub exemptions: Vec<Exemption>,
    pub trusted: Vec<Trusted>,
    /// Whether the file says `format = 1` (kept by `vetted fmt`).
    pub format_declared: bool,
}

/// The ledger format this vetted reads and writes (`format = 1`, optional; docs/ledger.md).
pub const LEDGER_FORMAT: u32 = 1;

fn when_value(sm: &mut SourceMap<'_>, v: &Sp<'_>, key: &str, what: &str) -> Option<When> {
    let text = match v.get_ref() {
        DeValue::Datetime(d) => d.to_string(),
        DeValue::String(s) => s.to_string(),
        other => {
            sm.error(
                Some(&v.span()),
                format!(
                    "'{key}' in {what} must be a date or an RFC 3339 timestamp, found {}",
                    type_hint(other)
                ),
                Some(format!(
                    "write {key} = 2026-11-23 or {key} = 2026-11-23T10:00:00Z"
                )),
            );
            return None;
        }
    };
    let parsed = When::parse(&text);
    if parsed.is_none() {
        sm.error(
            Some(&v.span()),
            format!(
                "'{key}' in {what} is not a date or an RFC 3339 timestamp with offset: {text:?}"
            ),
            Some(format!(
                "write {key} = 2026-11-23 or {key} = 2026-11-23T10:00:00Z"
            )),
        );
    }
    parsed
}

fn req_when(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    key: &str,
    what: &str,
    hint: &str,
) -> Option<When> {
    match f.get(key) {
        None => {
            sm.error(
                Some(&f.span.clone()),
                format!("{what} has no '{key}'"),
                Some(hint.to_string()),
            );
            None
        }
        Some(v) => when_value(sm, v, key, what),
    }
}

/// A digest of a given algorithm, written `alg:<hex>` or SRI `alg-<base64>`.
fn digest_text(
    sm: &mut SourceMap<'_>,
    text: &str,
    span: &Range<usize>,
    alg: Algorithm,
    key: &str,
    what: &str,
) -> Option<Digest> {
    let parsed = if text.contains(':') {
        Digest::parse_prefixed(text)
    } else {
        Digest::parse_sri(text)
    };
    match parsed {
        Ok(d) if d.algorithm() == alg => Some(d),
        Ok(d) => {
            sm.error(
                Some(span),
                format!(
                    "'{key}' in {what} must be a {} digest, found a {} digest",
                    alg.name(),
                    d.algorithm().name()
                ),
                Some(digest_hint(alg)),
            );
            None
        }
        Err(e) => {
            sm.error(
                Some(span),
                format!("'{key}' in {what} is not a valid digest: {e}"),
                Some(digest_hint(alg)),
            );
            None
        }
    }
}

fn digest_hint(alg: Algorithm) -> String {
    match alg {
        Algorithm::Sha512 => "write the npm integrity, sha512-<base64>, or sha512:<hex>".into(),
        a => format!("write {}:<hex>", a.name()),
    }
}

fn req_digest(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    key: &str,
    alg: Algorithm,
    what: &str,
    hint: &str,
) -> Option<Digest> {
    let (text, span) = req_str(sm, f, key, what, hint)?;
    digest_text(sm, &text, &span, alg, key, what)
}

fn ident<T>(
    sm: &mut SourceMap<'_>,
    parsed: Result<T, IdError>,
    span: &Range<usize>,
    key: &str,
    what: &str,
) -> Option<T> {
    match parsed {
        Ok(v) => Some(v),
        Err(e) => {
            sm.error(
                Some(span),
                format!("'{key}' in {what} is not valid: {e}"),
                None,
            );
            None
        }
    }
}

fn criteria_set(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    key: &str,
    what: &str,
    required: bool,
    known: &BTreeSet<CriterionName>,
) -> Option<Vec<(CriterionName, Range<usize>)>> {
    let Some(v) = f.get(key) else {
        if required {
            sm.error(
                Some(&f.span.clone()),
                format!("{what} has no '{key}'"),
                Some(format!(
                    "write {key} = [\"{SAFE_TO_RUN}\"] (built in: {VERIFIED_ORIGIN}, {SAFE_TO_RUN})"
                )),
            );
            return None;
        }
        return Some(Vec::new());
    };
    let list = str_list(sm, v, key, what)?;
    if required && list.is_empty() {
        sm.error(
            Some(&v.span()),
            format!("'{key}' in {what} is empty"),
            Some(format!(
                "name at least one criterion, e.g. \"{SAFE_TO_RUN}\""
            )),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (s, span) in list {
        match ident(sm, CriterionName::new(&s), &span, key, what) {
            Some(c) if known.contains(&c) => out.push((c, span)),
            Some(c) => {
                let names: Vec<&str> = known.iter().map(|k| k.as_str()).collect();
                sm.error(
                    Some(&span),
                    format!("{what} names criteria '{c}', which is not defined"),
                    Some(format!(
                        "define [criteria.{c}], or use one of: {}",
                        names.join(", ")
                    )),
                );
                // In an imported ledger the unknown criterion is dropped, the rest kept.
                if !sm.is_lenient() {
                    ok = false;
                }
            }
            None => ok = false,
        }
    }
    if ok && required && out.is_empty() {
        return None;
    }
    ok.then_some(out)
}

/// Ecosystem, name, version, platform of an entry; the description used in messages.
struct PkgFields {
    ecosystem: Option<Ecosystem>,
    name: Option<(PackageName, Range<usize>)>,
    version: Option<Version>,
    platform: Option<Platform>,
    failed: bool,
}

fn pkg_fields(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    kind: &str,
    index: usize,
    need_version: bool,
) -> (PkgFields, String) {
    let mut failed = false;
    let name_raw = f
        .get("name")
        .and_then(|v| v.get_ref().as_str().map(|s| (s.to_string(), v.span())));
    let version_raw = f
        .get("version")
        .and_then(|v| v.get_ref().as_str().map(|s| s.to_string()));
    let what = match (&name_raw, &version_raw) {
        (Some((n, _)), Some(v)) => format!("{kind} for {n}@{v}"),
        (Some((n, _)), None) => format!("{kind} for {n}"),
        _ => format!("{kind} #{}", index + 1),
    };
    let ecosystem = match opt_str(sm, f, "ecosystem", &what) {
        Some((s, span)) => ident(sm, Ecosystem::new(&s), &span, "ecosystem", &what),
        None => Ecosystem::new("npm").ok(),
    };
    failed |= ecosystem.is_none();
    let name = match req_str(
        sm,
        f,
        "name",
        &what,
        "write name = \"@scope/package\" (the package name as the registry spells it)",
    ) {
        Some((s, span)) => ident(sm, PackageName::new(&s), &span, "name", &what).map(|n| (n, span)),
        None => None,
    };
    failed |= name.is_none();
    let version = if need_version {
        match req_str(
            sm,
            f,
            "version",
            &what,
            "write version = \"1.2.3\" (the exact version)",
        ) {
            Some((s, span)) => ident(sm, Version::new(&s), &span, "version", &what),
            None => None,
        }
    } else {
        match opt_str(sm, f, "version", &what) {
            Some((s, span)) => ident(sm, Version::new(&s), &span, "version", &what),
            None => None,
        }
    };
    failed |= need_version && version.is_none();
    let platform = match opt_str(sm, f, "platform", &what) {
        Some((s, span)) => {
            let p = ident(sm, Platform::new(&s), &span, "platform", &what);
            failed |= p.is_none();
            p
        }
        None => None,
    };
    (
        PkgFields {
            ecosystem,
            name,
            version,
            platform,
            failed,
        },
        what,
    )
}

const AUDIT_KEYS: &[&str] = &[
    "who",
    "when",
    "criteria",
    "ecosystem",
    "name",
    "version",
    "platform",
    "kind",
    "from",
    "sha512",
    "sha256",
    "manifest",
    "review",
    "notes",
];
const VIOLATION_KEYS: &[&str] = &[
    "who",
    "when",
    "ecosystem",
    "name",
    "version",
    "sha512",
    "sha256",
    "notes",
];
const EXEMPTION_KEYS: &[&str] = &[
    "who",
    "criteria",
    "ecosystem",
    "name",
    "version",
    "platform",
    "sha512",
    "expires",
    "notes",
];
const CRITERIA_KEYS: &[&str] = &["description", "implies"];
const IMPORT_KEYS: &[&str] = &["path", "url", "sha256"];
const TOP_KEYS: &[&str] = &[
    "format",
    "criteria",
    "imports",
    "audit",
    "violation",
    "exemption",
    "trusted",
];
const TRUSTED_KEYS: &[&str] = &[
    "ecosystem",
    "name",
    "source-repository",
    "signer-workflow",
    "issuer",
    "ref",
    "criteria",
    "who",
    "when",
    "expires",
    "notes",
];

/// Parse one ledger file. `origin_import` marks an imported file: its problems are warnings and
/// the entries with problems are dropped. Returns what could be read and the diagnostics; the
/// caller decides (by the errors among them) whether the result may be used.
pub(crate) fn parse(
    file: &Path,
    text: &str,
    origin_import: Option<&ImportName>,
) -> (LedgerFile, Vec<Diagnostic>) {
    let mut sm = SourceMap::new(file, text, origin_import.is_some());
    let mut out = LedgerFile {
        header: header_of(text),
        ..LedgerFile::default()
    };
    let Some(doc) = crate::diagnostics::parse_toml(&mut sm, text) else {
        return (out, sm.out);
    };
    let top = doc.get_ref();
    // Entry count bounded before any entry is parsed (a ledger of millions of tiny tables
    // would otherwise be checked and resolved in full).
    let entries: usize = [
        "audit",
        "violation",
        "exemption",
        "criteria",
        "imports",
        "trusted",
    ]
    .iter()
    .filter_map(|k| top.get(*k))
    .map(|v| match v.get_ref() {
        DeValue::Array(a) => a.len(),
        DeValue::Table(t) => t.len(),
        _ => 0,
    })
    .sum();
    if let Err(e) = crate::limits::LimitExceeded::check(
        "ledger entries",
        crate::limits::LEDGER_ENTRIES as u64,
        entries as u64,
    ) {
        sm.error(
            None,
            e.to_string(),
            Some("split the ledger, or import the older entries from another file".into()),
        );
        return (out, sm.out);
    }
    let mut known: BTreeSet<CriterionName> =
        builtin_criteria().into_iter().map(|c| c.name).collect();
    // Criteria an imported ledger defines are its own: only the built-in ones are honoured.
    let mut top_fields = Fields::new(top, 0..0);
    out.format_declared =
        crate::diagnostics::format_version(&mut sm, &mut top_fields, "the ledger", LEDGER_FORMAT);

    let origin = |line: usize| match origin_import {
        Some(n) => Origin::Imported(n.clone()),
        None => Origin::Local { line },
    };

    if let Some(v) = top_fields.get("criteria") {
        match v.get_ref().as_table() {
            // An imported ledger's own criteria mean what that organisation says; only the
            // built-in criteria are honoured from an import.
            _ if origin_import.is_some() => {}
            None => sm.error(
                Some(&v.span()),
                "'criteria' must be a table of criteria".into(),
                Some("write [criteria.NAME] with description and implies".into()),
            ),
            Some(t) => {
                // Names first, so criteria may imply criteria defined after them.
                let mut all = known.clone();
                for (k, _) in t.iter() {
                    if let Ok(n) = CriterionName::new(k.get_ref()) {
                        all.insert(n);
                    }
                }
                for (k, cv) in t.iter() {
                    if let Some(c) = parse_criterion(&mut sm, &all, k, cv) {
                        out.criteria.insert(c.name.clone(), c);
                    }
                }
                known.extend(out.criteria.keys().cloned());
            }
        }
    }
    if let Some(v) = top_fields.get("imports") {
        if origin_import.is_some() {
            sm.warning(
                Some(&v.span()),
                "imports inside an imported ledger are not followed".into(),
                None,
            );
        } else {
            match v.get_ref().as_table() {
                None => sm.error(
                    Some(&v.span()),
                    "'imports' must be a table".into(),
                    Some("write [imports.ORG] with path or url, and sha256".into()),
                ),
                Some(t) => {
                    for (k, iv) in t.iter() {
                        if let Some(i) = parse_import(&mut sm, k, iv) {
                            out.imports.insert(i.name.clone(), i);
                        }
                    }
                }
            }
        }
    }
    if let Some(v) = top_fields.get("audit") {
        for (i, t, span) in tables(&mut sm, v, "audit") {
            let line = sm.line_of(span.start);
            if let Some(a) = parse_audit(&mut sm, &known, i, t, span, origin(line)) {
                out.audits.push(a);
            }
        }
    }
    if let Some(v) = top_fields.get("violation") {
        for (i, t, span) in tables(&mut sm, v, "violation") {
            let line = sm.line_of(span.start);
            if let Some(x) = parse_violation(&mut sm, i, t, span, origin(line)) {
                out.violations.push(x);
            }
        }
    }
    if let Some(v) = top_fields.get("exemption") {
        if origin_import.is_some() {
            sm.warning(
                Some(&v.span()),
                "exemptions in an imported ledger are ignored: an exemption only admits in the ledger that grants it".into(),
                None,
            );
        } else {
            for (i, t, span) in tables(&mut sm, v, "exemption") {
                let line = sm.line_of(span.start);
                if let Some(x) = parse_exemption(&mut sm, &known, i, t, span, line) {
                    out.exemptions.push(x);
                }
            }
        }
    }
    if let Some(v) = top_fields.get("trusted") {
        if origin_import.is_some() {
            sm.warning(
                Some(&v.span()),
                "trusted publishers in an imported ledger are ignored: trust is granted only by the ledger that admits".into(),
                None,
            );
        } else {
            for (i, t, span) in tables(&mut sm, v, "trusted") {
                let line = sm.line_of(span.start);
                if let Some(x) = parse_trusted(&mut sm, &known, i, t, span, line) {
                    out.trusted.push(x);
                }
            }
        }
    }
    top_fields.finish(&mut sm, "the ledger", TOP_KEYS);
    (out, sm.out)
}

fn parse_trusted(
    sm: &mut SourceMap<'_>,
    known: &BTreeSet<CriterionName>,
    index: usize,
    t: &DeTable<'_>,
    span: Range<usize>,
    line: usize,
) -> Option<Trusted> {
    let mut f = Fields::new(t, span);
    let what = format!("trusted entry #{}", index + 1);
    let ecosystem = match opt_str(sm, &mut f, "ecosystem", &what) {
        Some((e, sp)) => ident(sm, Ecosystem::new(&e), &sp, "ecosystem", &what),
        None => Ecosystem::new("npm").ok(),
    };
    let name = req_str(
        sm,
        &mut f,
        "name",
        &what,
        "name the package or a glob: name = \"@scope/*\"",
    );
    let repo = req_str(
        sm,
        &mut f,
        "source-repository",
        &what,
        "the repository the provenance must name: source-repository = \"github.com/OWNER/REPO\"",
    );
    let workflow = req_str(
        sm,
        &mut f,
        "signer-workflow",
        &what,
        "the workflow that must have signed: signer-workflow = \"github.com/OWNER/REPO/.github/workflows/FILE\"",
    );
    let issuer = req_str(
        sm,
        &mut f,
        "issuer",
        &what,
        "issuer = \"https://token.actions.githubusercontent.com\"",
    );
    let ref_pattern = opt_str(sm, &mut f, "ref", &what).map(|s| s.0);
    let criteria = criteria_set(sm, &mut f, "criteria", &what, true, known);
    let who = req_str(
        sm,
        &mut f,
        "who",
        &what,
        "name who decided to trust it: who = \"Name <email>\"",
    );
    let when = req_when(sm, &mut f, "when", &what, "when = 2026-12-01");
    let expires = req_when(
        sm,
        &mut f,
        "expires",
        &what,
        "trust is reviewed again: write expires = 2027-06-01",
    );
    let notes = opt_str(sm, &mut f, "notes", &what).map(|s| s.0);
    f.finish(sm, &what, TRUSTED_KEYS);
    Some(Trusted {
        ecosystem: ecosystem?,
        name: name?.0,
        source_repository: repo?.0,
        signer_workflow: workflow?.0,
        issuer: issuer?.0,
        ref_pattern,
        criteria: criteria?.into_iter().map(|(c, _)| c).collect(),
        who: who?.0,
        when: when?,
        expires: expires?,
        notes,
        line,
    })
}

fn parse_criterion(
    sm: &mut SourceMap<'_>,
    known: &BTreeSet<CriterionName>,
    key: &Spanned<std::borrow::Cow<'_, str>>,
    v: &Sp<'_>,
) -> Option<Criterion> {
    let what = format!("criteria '{}'", key.get_ref());
    let name = ident(
        sm,
        CriterionName::new(key.get_ref()),
        &key.span(),
        "criteria",
        &what,
    )?;
    if builtin_criteria().iter().any(|c| c.name == name) {
        sm.error(
            Some(&key.span()),
            format!("criteria '{name}' is built in and cannot be redefined"),
            Some(
                "define a new criterion with another name, and let it imply the built-in one"
                    .into(),
            ),
        );
        return None;
    }
    let Some(t) = v.get_ref().as_table() else {
        sm.error(
            Some(&v.span()),
            format!("{what} must be a table"),
            Some(format!(
                "write [criteria.{name}] with description and implies"
            )),
        );
        return None;
    };
    let mut f = Fields::new(t, v.span());
    let description = req_str(
        sm,
        &mut f,
        "description",
        &what,
        "say in one sentence what an auditor certifies with this criterion",
    );
    let implies = criteria_set(sm, &mut f, "implies", &what, false, known);
    f.finish(sm, &what, CRITERIA_KEYS);
    Some(Criterion {
        name,
        description: description?.0,
        implies: implies?.into_iter().map(|(c, _)| c).collect(),
        builtin: false,
    })
}

fn parse_import(
    sm: &mut SourceMap<'_>,
    key: &Spanned<std::borrow::Cow<'_, str>>,
    v: &Sp<'_>,
) -> Option<Import> {
    let what = format!("import '{}'", key.get_ref());
    let name = ident(
        sm,
        ImportName::new(key.get_ref()),
        &key.span(),
        "imports",
        &what,
    )?;
    let Some(t) = v.get_ref().as_table() else {
        sm.error(
            Some(&v.span()),
            format!("{what} must be a table"),
            Some(format!(
                "write [imports.{name}] with path or url, and sha256"
            )),
        );
        return None;
    };
    let mut f = Fields::new(t, v.span());
    let path = opt_str(sm, &mut f, "path", &what).map(|s| s.0);
    let url = opt_str(sm, &mut f, "url", &what).map(|s| s.0);
    let sha256 = req_digest(
        sm,
        &mut f,
        "sha256",
        Algorithm::Sha256,
        &what,
        "pin the imported file: sha256 = \"sha256:<hex of the file>\"",
    );
    let mut ok = sha256.is_some();
    if path.is_none() && url.is_none() {
        sm.error(
            Some(&v.span()),
            format!("{what} has neither 'path' nor 'url'"),
            Some(format!(
                "write path = \"imports/{name}.toml\" (relative to the ledger directory) or url = \"https://...\" (read from imports/{name}.toml)"
            )),
        );
        ok = false;
    }
    f.finish(sm, &what, IMPORT_KEYS);
    if !ok {
        return None;
    }
    Some(Import {
        name,
        path,
        url,
        sha256: sha256?,
        line: sm.line_of(key.span().start),
    })
}

fn parse_audit(
    sm: &mut SourceMap<'_>,
    known: &BTreeSet<CriterionName>,
    index: usize,
    t: &DeTable<'_>,
    span: Range<usize>,
    origin: Origin,
) -> Option<Audit> {
    let mut f = Fields::new(t, span.clone());
    let (pkg, what) = pkg_fields(sm, &mut f, "audit", index, true);
    let who = req_str(
        sm,
        &mut f,
        "who",
        &what,
        "every audit names the person who reviewed it: who = \"Name <email>\"",
    );
    let when = req_when(
        sm,
        &mut f,
        "when",
        &what,
        "write when = 2026-11-23 (the day of the review)",
    );
    let criteria = criteria_set(sm, &mut f, "criteria", &what, true, known);
    let sha512 = req_digest(
        sm,
        &mut f,
        "sha512",
        Algorithm::Sha512,
        &what,
        "an audit is pinned to the artifact's bytes: sha512 = \"sha512-<base64>\" (npm's dist.integrity)",
    );
    let sha256 = req_digest(
        sm,
        &mut f,
        "sha256",
        Algorithm::Sha256,
        &what,
        "an audit is pinned to the artifact's bytes: sha256 = \"sha256:<hex>\"",
    );
    let manifest = req_digest(
        sm,
        &mut f,
        "manifest",
        Algorithm::Sha256,
        &what,
        "name the stored content manifest: manifest = \"sha256:<hex>\" (manifests/<hex>.json); `vetted certify` writes both",
    );
    let notes = opt_str(sm, &mut f, "notes", &what).map(|s| s.0);
    // `review`: the digest of the diff JSON a delta was signed off on (delta audits only).
    let review_raw = opt_str(sm, &mut f, "review", &what);
    let mut review_bad = false;
    let review = match &review_raw {
        Some((text, span)) => {
            let d = digest_text(sm, text, span, Algorithm::Sha256, "review", &what);
            review_bad = d.is_none();
            d
        }
        None => None,
    };
    let kind_raw = opt_str(sm, &mut f, "kind", &what);
    let from_v = f.get("from");
    let kind = match kind_raw.as_ref().map(|(s, sp)| (s.as_str(), sp)) {
        None | Some(("full", _)) => {
            if let Some(fv) = from_v {
                sm.error(
                    Some(&fv.span()),
                    format!("{what} has 'from' but is not a delta audit"),
                    Some("write kind = \"delta\", or remove 'from'".into()),
                );
                None
            } else {
                Some(AuditKind::Full)
            }
        }
        Some(("delta", ksp)) => match from_v {
            None => {
                sm.error(
                    Some(ksp),
                    format!("delta {what} has no 'from'"),
                    Some("write from = { version = \"1.2.3\", sha512 = \"sha512-<base64>\" } (the audited build the delta starts from)".into()),
                );
                None
            }
            Some(fv) => parse_from(sm, fv, &what).map(|mut from| {
                from.review = review.clone();
                AuditKind::Delta(from)
            }),
        },
        Some((other, ksp)) => {
            sm.error(
                Some(ksp),
                format!("'kind' in {what} must be \"full\" or \"delta\", found {other:?}"),
                None,
            );
            None
        }
    };
    f.finish(sm, &what, AUDIT_KEYS);
    if let (Some(AuditKind::Full), Some((_, span))) = (&kind, &review_raw) {
        sm.error(
            Some(span),
            format!("{what} has 'review' but is not a delta audit"),
            Some("'review' records the diff a delta audit was signed off on: write kind = \"delta\" and 'from', or remove 'review'".into()),
        );
        return None;
    }
    if review_bad {
        return None;
    }
    if let (Some(AuditKind::Delta(from)), Some(d)) = (&kind, &sha512)
        && &from.sha512 == d
    {
        sm.error(
            Some(&span),
            format!("delta {what} starts and ends at the same build"),
            Some("a delta audit covers a change: 'from' names the earlier build".into()),
        );
        return None;
    }
    if pkg.failed {
        return None;
    }
    Some(Audit {
        who: who?.0,
        when: when?,
        criteria: criteria?.into_iter().map(|(c, _)| c).collect(),
        package: PackageId {
            ecosystem: pkg.ecosystem?,
            name: pkg.name?.0,
            version: pkg.version?,
            platform: pkg.platform,
        },
        sha512: sha512?,
        sha256: sha256?,
        manifest: manifest?,
        kind: kind?,
        notes,
        origin,
    })
}

fn parse_from(sm: &mut SourceMap<'_>, v: &Sp<'_>, what: &str) -> Option<DeltaFrom> {
    let Some(t) = v.get_ref().as_table() else {
        sm.error(
            Some(&v.span()),
            format!("'from' in {what} must be a table"),
            Some("write from = { version = \"1.2.3\", sha512 = \"sha512-<base64>\" }".into()),
        );
        return None;
    };
    let what = format!("'from' of {what}");
    let mut f = Fields::new(t, v.span());
    let version = req_str(
        sm,
        &mut f,
        "version",
        &what,
        "name the version the delta starts from",
    )
    .and_then(|(s, span)| ident(sm, Version::new(&s), &span, "version", &what));
    let sha512 = req_digest(
        sm,
        &mut f,
        "sha512",
        Algorithm::Sha512,
        &what,
        "a delta starts from bytes, not a version number: sha512 = \"sha512-<base64>\" of the earlier build",
    );
    f.finish(sm, &what, &["version", "sha512"]);
    Some(DeltaFrom {
        version: version?,
        sha512: sha512?,
        review: None,
    })
}

fn parse_violation(
    sm: &mut SourceMap<'_>,
    index: usize,
    t: &DeTable<'_>,
    span: Range<usize>,
    origin: Origin,
) -> Option<Violation> {
    let mut f = Fields::new(t, span.clone());
    let (pkg, what) = pkg_fields(sm, &mut f, "violation", index, false);
    let who = req_str(
        sm,
        &mut f,
        "who",
        &what,
        "name who recorded the violation: who = \"Name <email>\"",
    );
    let when = req_when(sm, &mut f, "when", &what, "write when = 2026-11-23");
    let notes = opt_str(sm, &mut f, "notes", &what).map(|s| s.0);
    let sha512 = opt_str(sm, &mut f, "sha512", &what)
        .map(|(s, sp)| digest_text(sm, &s, &sp, Algorithm::Sha512, "sha512", &what));
    let sha256 = opt_str(sm, &mut f, "sha256", &what)
        .map(|(s, sp)| digest_text(sm, &s, &sp, Algorithm::Sha256, "sha256", &what));
    f.finish(sm, &what, VIOLATION_KEYS);
    let targets = [
        pkg.version.clone().map(ViolationTarget::Version),
        sha512.clone().flatten().map(ViolationTarget::Digest),
        sha256.clone().flatten().map(ViolationTarget::Digest),
    ];
    let given = usize::from(pkg.version.is_some())
        + usize::from(sha512.is_some())
        + usize::from(sha256.is_some());
    if given != 1 {
        sm.error(
            Some(&span),
            format!(
                "{what} must name exactly one of 'version', 'sha512', 'sha256' (found {given})"
            ),
            Some("write one violation per revoked version or per revoked build".into()),
        );
        return None;
    }
    if pkg.failed {
        return None;
    }
    let target = targets.into_iter().flatten().next()?;
    Some(Violation {
        ecosystem: pkg.ecosystem?,
        name: pkg.name?.0,
        target,
        who: who?.0,
        when: when?,
        notes,
        origin,
    })
}

fn parse_exemption(
    sm: &mut SourceMap<'_>,
    known: &BTreeSet<CriterionName>,
    index: usize,
    t: &DeTable<'_>,
    span: Range<usize>,
    line: usize,
) -> Option<Exemption> {
    let mut f = Fields::new(t, span);
    let (pkg, what) = pkg_fields(sm, &mut f, "exemption", index, true);
    let who = req_str(
        sm,
        &mut f,
        "who",
        &what,
        "name who granted the exemption: who = \"Name <email>\"",
    );
    let criteria = criteria_set(sm, &mut f, "criteria", &what, true, known);
    let sha512 = req_digest(
        sm,
        &mut f,
        "sha512",
        Algorithm::Sha512,
        &what,
        "an exemption is pinned to the artifact's bytes: sha512 = \"sha512-<base64>\"",
    );
    let expires = req_when(
        sm,
        &mut f,
        "expires",
        &what,
        "every exemption ends: write expires = 2026-12-31 (no longer admits from that date, 00:00 UTC)",
    );
    let notes = opt_str(sm, &mut f, "notes", &what).map(|s| s.0);
    f.finish(sm, &what, EXEMPTION_KEYS);
    if pkg.failed {
        return None;
    }
    Some(Exemption {
        package: PackageId {
            ecosystem: pkg.ecosystem?,
            name: pkg.name?.0,
            version: pkg.version?,
            platform: pkg.platform,
        },
        sha512: sha512?,
        criteria: criteria?.into_iter().map(|(c, _)| c).collect(),
        who: who?.0,
        expires: expires?,
        notes,
        line,
    })
}

/// The comment block at the top of the file (kept by `fmt`).
fn header_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('#') {
            out.push_str(line.trim_end());
            out.push('\n');
        } else if !t.is_empty() {
            break;
        }
    }
    out
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A table key as TOML needs it: bare when it is only `A-Za-z0-9_-` (TOML 1.0, "Keys"), else
/// quoted (`[criteria."security+legal"]`); a bare key with any other character does not parse.
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        s.to_string()
    } else {
        q(s)
    }
}

/// A date or timestamp as TOML can hold it: a bare TOML date-time only when the text is one
/// (TOML's `date-fullyear` is exactly four digits, so years before 0 or after 9999, which
/// jiff writes as `-000001-…` / `+010000-…`, are not), else a quoted string, which the
/// parser accepts too ([`When::parse`]).
fn when_text(w: &impl std::fmt::Display) -> String {
    let t = w.to_string();
    let b = t.as_bytes();
    let toml_year = b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    if toml_year && t.parse::<toml::value::Datetime>().is_ok() {
        t
    } else {
        q(&t)
    }
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| q(&s)).collect();
    format!("[{}]", items.join(", "))
}

fn sha512_text(d: &Digest) -> String {
    d.sri()
}

/// Write the file canonically: criteria, imports, audits, violations, exemptions, each sorted,
/// each entry's keys in one fixed order. Comments other than the header are not kept; write
/// them in `notes`.
pub(crate) fn write(file: &LedgerFile) -> String {
    let mut out = String::new();
    let section = |out: &mut String, body: String| {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&body);
    };
    if !file.header.is_empty() {
        out.push_str(&file.header);
    }
    if file.format_declared {
        out.push_str(&format!("format = {LEDGER_FORMAT}\n"));
    }
    for c in file.criteria.values() {
        let mut s = format!("[criteria.{}]\n", key(c.name.as_str()));
        s += &format!("description = {}\n", q(&c.description));
        s += &format!(
            "implies = {}\n",
            list(c.implies.iter().map(|c| c.to_string()))
        );
        section(&mut out, s);
    }
    for i in file.imports.values() {
        let mut s = format!("[imports.{}]\n", key(i.name.as_str()));
        if let Some(p) = &i.path {
            s += &format!("path = {}\n", q(p));
        }
        if let Some(u) = &i.url {
            s += &format!("url = {}\n", q(u));
        }
        s += &format!("sha256 = {}\n", q(&i.sha256.to_string()));
        section(&mut out, s);
    }
    let mut audits: Vec<&Audit> = file.audits.iter().collect();
    audits.sort_by(|a, b| audit_key(a).cmp(&audit_key(b)));
    for a in audits {
        let mut s = String::from("[[audit]]\n");
        s += &pkg_lines(&a.package);
        s += &format!(
            "kind = {}\n",
            q(match a.kind {
                AuditKind::Full => "full",
                AuditKind::Delta(_) => "delta",
            })
        );
        if let AuditKind::Delta(from) = &a.kind {
            s += &format!(
                "from = {{ version = {}, sha512 = {} }}\n",
                q(from.version.as_str()),
                q(&sha512_text(&from.sha512))
            );
        }
        s += &format!("sha512 = {}\n", q(&sha512_text(&a.sha512)));
        s += &format!("sha256 = {}\n", q(&a.sha256.to_string()));
        s += &format!("manifest = {}\n", q(&a.manifest.to_string()));
        if let AuditKind::Delta(DeltaFrom {
            review: Some(r), ..
        }) = &a.kind
        {
            s += &format!("review = {}\n", q(&r.to_string()));
        }
        s += &criteria_line(&a.criteria);
        s += &format!("who = {}\n", q(&a.who));
        s += &format!("when = {}\n", when_text(&a.when));
        s += &notes_line(a.notes.as_deref());
        section(&mut out, s);
    }
    let mut violations: Vec<&Violation> = file.violations.iter().collect();
    violations.sort_by(|a, b| violation_key(a).cmp(&violation_key(b)));
    for v in violations {
        let mut s = String::from("[[violation]]\n");
        s += &format!(
            "ecosystem = {}\nname = {}\n",
            q(v.ecosystem.as_str()),
            q(v.name.as_str())
        );
        match &v.target {
            ViolationTarget::Version(ver) => s += &format!("version = {}\n", q(ver.as_str())),
            ViolationTarget::Digest(d) if d.algorithm() == Algorithm::Sha512 => {
                s += &format!("sha512 = {}\n", q(&sha512_text(d)))
            }
            ViolationTarget::Digest(d) => {
                s += &format!("{} = {}\n", d.algorithm().name(), q(&d.to_string()))
            }
        }
        s += &format!("who = {}\nwhen = {}\n", q(&v.who), when_text(&v.when));
        s += &notes_line(v.notes.as_deref());
        section(&mut out, s);
    }
    let mut exemptions: Vec<&Exemption> = file.exemptions.iter().collect();
    exemptions.sort_by(|a, b| {
        (&a.package, a.expires, &a.sha512).cmp(&(&b.package, b.expires, &b.sha512))
    });
    let mut trusted: Vec<&Trusted> = file.trusted.iter().collect();
    trusted.sort_by(|a, b| {
        (&a.name, &a.signer_workflow, a.when).cmp(&(&b.name, &b.signer_workflow, b.when))
    });
    for t in trusted {
        let mut s = String::from("[[trusted]]\n");
        s += &format!(
            "ecosystem = {}\nname = {}\n",
            q(t.ecosystem.as_str()),
            q(&t.name)
        );
        s += &format!("source-repository = {}\n", q(&t.source_repository));
        s += &format!("signer-workflow = {}\n", q(&t.signer_workflow));
        s += &format!("issuer = {}\n", q(&t.issuer));
        if let Some(r) = &t.ref_pattern {
            s += &format!("ref = {}\n", q(r));
        }
        s += &criteria_line(&t.criteria);
        s += &format!(
            "who = {}\nwhen = {}\nexpires = {}\n",
            q(&t.who),
            t.when,
            t.expires
        );
        s += &notes_line(t.notes.as_deref());
        section(&mut out, s);
    }
    for e in exemptions {
        let mut s = String::from("[[exemption]]\n");
        s += &pkg_lines(&e.package);
        s += &format!("sha512 = {}\n", q(&sha512_text(&e.sha512)));
        s += &criteria_line(&e.criteria);
        s += &format!("who = {}\nexpires = {}\n", q(&e.who), when_text(&e.expires));
        s += &notes_line(e.notes.as_deref());
        section(&mut out, s);
    }
    out
}

/// The `criteria = [...]` line every entry kind writes.
fn criteria_line<'a, C: std::fmt::Display + 'a>(c: impl IntoIterator<Item = &'a C>) -> String {
    format!(
        "criteria = {}\n",
        list(c.into_iter().map(|c| c.to_string()))
    )
}

/// The optional `notes = "..."` line every entry kind writes.
fn notes_line(n: Option<&str>) -> String {
    n.map(|n| format!("notes = {}\n", q(n))).unwrap_or_default()
}

fn pkg_lines(p: &PackageId) -> String {
    let mut s = format!(
        "ecosystem = {}\nname = {}\nversion = {}\n",
        q(p.ecosystem.as_str()),
        q(p.name.as_str()),
        q(p.version.as_str())
    );
    if let Some(pl) = &p.platform {
        s += &format!("platform = {}\n", q(pl.as_str()));
    }
    s
}

type AuditKey<'a> = (&'a PackageId, &'a AuditKind, When, &'a str, &'a Digest);

fn audit_key(a: &Audit) -> AuditKey<'_> {
    (&a.package, &a.kind, a.when, &a.who, &a.sha512)
}

fn violation_key(v: &Violation) -> (&Ecosystem, &PackageName, &ViolationTarget, When) {
    (&v.ecosystem, &v.name, &v.target, v.when)
}
