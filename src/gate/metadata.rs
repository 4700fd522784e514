//! The version document the store serves, built from the verified package.json.
//!
//! npm acts on the registry's version document, not on the package.json inside the tarball:
//! bin-links links `node_modules/.bin/<key>` to the document's `bin`, arborist builds the tree
//! from its dependency fields, skips optional packages by its `os`/`cpu`/`libc`, and runs
//! install scripts only when it says `hasInstallScript` (then it reads the scripts from the
//! extracted package.json). So every field npm acts on is taken from the admitted tarball's
//! package.json, normalised as npm normalises it, and where the upstream packument states the
//! field differently the admission is rejected, naming the field (expected: the package.json,
//! actual: the packument). A field the packument does not state is no claim; it is served
//! from the package.json all the same.
//!
//! The normalisations mirror npm 11: `npm-normalize-package-bin` (what bin-links uses: a
//! string `bin` keyed by the package name, an array keyed by basenames, keys reduced to their
//! basename, targets `path.join('/', t).slice(1)`), `@npmcli/package-json` (`directories.bin`
//! expanded to every file under it when there is no `bin`, `man` as a list of safe paths and
//! `directories.man` expanded to `**/*.[0-9]`, `bundledDependencies` renamed,
//! `bundleDependencies: true` expanded to the dependency names, `optionalDedupe` removing
//! optional names from `dependencies`) and npm-install-checks (a string `os`/`cpu`/`libc` is a
//! one-item list).
use crate::content::ContentManifest;
use crate::content::install_scripts;
use crate::content::manifest::{EntryKind, PackageInfo};
use crate::report::{ArtifactReport, Status};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The fields served from the package.json, in the order they are checked.
pub const SERVED_FIELDS: &[&str] = &[
    "bin",
    "directories",
    "man",
    "engines",
    "os",
    "cpu",
    "libc",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "hasInstallScript",
];

/// Upstream keys kept as upstream wrote them (npm does not act on them).
const KEPT_FROM_UPSTREAM: &[&str] = &["description", "license", "deprecated"];

/// Why a version document could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// The artifact has no package.json npm would read.
    #[error("the tarball has no package.json at its root: npm would have nothing to install")]
    NoPackageJson,
    /// A field npm would read two ways, or that vetted cannot read the way npm does.
    #[error("{field}: {why}")]
    Ambiguous {
        /// The field.
        field: String,
        /// Why.
        why: String,
    },
    /// The packument states a field differently from the verified package.json.
    #[error(
        "{field}: the packument says {actual}, the verified package.json says {expected} (npm acts on the packument)"
    )]
    Disagrees {
        /// The field.
        field: String,
        /// From the package.json (normalised).
        expected: String,
        /// From the upstream packument (normalised).
        actual: String,
    },
}

/// The served document and what was noticed building it.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// The version document (no `dist`: the server writes it from the verified digests).
    pub document: Value,
    /// Fields the packument did not state (served from the package.json).
    pub unstated: Vec<String>,
}

fn ambiguous(field: &str, why: impl Into<String>) -> MetadataError {
    MetadataError::Ambiguous {
        field: field.to_string(),
        why: why.into(),
    }
}

/// POSIX `path.join('/', p)` without the leading slash: `.` and empty segments dropped, `..`
/// resolved and clamped at the root (what `npm-normalize-package-bin` does to targets).
fn join_under_root(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut s = out.join("/");
    if p.ends_with('/') && !s.is_empty() {
        s.push('/');
    }
    s
}

/// Node's `path.basename` (trailing slashes ignored).
fn basename(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// `@npmcli/package-json`'s `secureAndUnixifyPath`: `\` and `:` become `/`, the path is put
/// under the root; a path that resolves to the root itself is empty.
fn secure_path(p: &str) -> String {
    join_under_root(&p.replace(['\\', ':'], "/"))
}

/// `bin` as bin-links sees it (`npm-normalize-package-bin`): command -> target.
pub fn normalise_bin(name: &str, bin: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    let mut raw: Vec<(String, &Value)> = Vec::new();
    match bin {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(v @ Value::String(_)) => {
            if !name.is_empty() {
                raw.push((name.to_string(), v));
            }
        }
        Some(Value::Array(items)) => {
            for it in items {
                if let Value::String(s) = it {
                    raw.push((basename(s).to_string(), it));
                }
            }
        }
        Some(Value::Object(m)) => raw.extend(m.iter().map(|(k, v)| (k.clone(), v))),
        Some(other) => return Err(format!("bin is {other}, not a string, list or object")),
    }
    let mut out = BTreeMap::new();
    for (key, target) in raw {
        let Value::String(target) = target else {
            continue;
        };
        let base = join_under_root(basename(&key.replace(['\\', ':'], "/")));
        if base.is_empty() {
            continue;
        }
        // npm-normalize-package-bin leaves ':' in a target, @npmcli/package-json turns it
        // into '/': two readings of one field.
        if target.contains(':') {
            return Err(format!(
                "bin target {target:?} contains ':', which npm's two normalisers read differently"
            ));
        }
        let t = join_under_root(&target.replace('\\', "/"));
        if t.is_empty() {
            continue;
        }
        if out.insert(base.clone(), t).is_some() {
            return Err(format!(
                "two bin entries normalise to the same command {base:?}"
            ));
        }
    }
    Ok(out)
}

/// The commands an installed package links, from its package.json (`bin`, or `directories.bin`
/// expanded over `tree`, its files and directories relative to the package directory).
pub fn bins_of(
    package_json: &Value,
    tree: &[(String, EntryKind)],
) -> Result<BTreeMap<String, String>, String> {
    let name = package_json
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let get = |k: &str| package_json.get(k).cloned();
    normalise(name, &get, Some(tree))
        .map_err(|e| e.to_string())
        .map(|m| {
            m.get("bin")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        })
}

/// Files of the manifest under the package root, relative to it (links excluded: not
/// extracted), and directories.
fn package_tree(manifest: &ContentManifest, pkg: &PackageInfo) -> Vec<(String, EntryKind)> {
    let root = install_scripts::package_root(pkg);
    manifest
        .entries
        .iter()
        .filter_map(|(p, e)| {
            let rel = p.strip_prefix(root)?.trim_end_matches('/');
            (!rel.is_empty() && matches!(e.kind, EntryKind::File | EntryKind::Dir))
                .then(|| (rel.to_string(), e.kind))
        })
        .collect()
}

/// glob's default: no segment starting with '.'.
fn no_dot_segment(p: &str) -> bool {
    !p.split('/').any(|s| s.starts_with('.'))
}

/// `directories.bin` expanded as `@npmcli/package-json` does: `glob('**')` under it (files and
/// directories, implied ones too, no segment starting with '.'), every match a command named
/// by its basename -- a directory included, as npm links it.
fn expand_bin_dir(
    dir: &str,
    tree: &[(String, EntryKind)],
) -> Result<BTreeMap<String, String>, String> {
    let bin_path = secure_path(dir);
    if bin_path.is_empty() {
        return Err(format!(
            "directories.bin {dir:?} names the package root or above"
        ));
    }
    let prefix = format!("{}/", bin_path.trim_end_matches('/'));
    let mut matches = std::collections::BTreeSet::new();
    for (rel, _) in tree {
        let Some(under) = rel.strip_prefix(&prefix) else {
            continue;
        };
        // Every ancestor directory of a file is a match too.
        let mut acc = String::new();
        for seg in under.split('/').filter(|s| !s.is_empty()) {
            if seg.starts_with('.') {
                break;
            }
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(seg);
            matches.insert(acc.clone());
        }
    }
    let mut out = BTreeMap::new();
    for under in matches {
        let name = basename(&under).to_string();
        // `${binPath}/${file}` exactly (a trailing slash in directories.bin gives `//`, which
        // bin-links' own normalisation removes again).
        if out
            .insert(name.clone(), format!("{bin_path}/{under}"))
            .is_some()
        {
            return Err(format!(
                "directories.bin holds two entries named {name:?}; which one npm links depends on glob order"
            ));
        }
    }
    Ok(out)
}

fn string_list(field: &str, v: Option<&Value>) -> Result<Vec<String>, MetadataError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ambiguous(field, format!("holds {x}, not a string")))
            })
            .collect(),
        Some(other) => Err(ambiguous(
            field,
            format!("is {other}, not a string or a list"),
        )),
    }
}

fn string_map(field: &str, v: Option<&Value>) -> Result<BTreeMap<String, String>, MetadataError> {
    match v {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, x)| {
                x.as_str()
                    .map(|s| (k.clone(), s.to_string()))
                    .ok_or_else(|| ambiguous(field, format!("{k} is {x}, not a string")))
            })
            .collect(),
        Some(other) => Err(ambiguous(field, format!("is {other}, not an object"))),
    }
}

fn object(field: &str, v: Option<&Value>) -> Result<Map<String, Value>, MetadataError> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(ambiguous(field, format!("is {other}, not an object"))),
    }
}

/// One document's fields, normalised: `get` reads a raw field; `tree` is the package's files
/// (for `directories.bin` / `directories.man`; `None` for a packument, which has none).
fn normalise(
    name: &str,
    get: &dyn Fn(&str) -> Option<Value>,
    tree: Option<&[(String, EntryKind)]>,
) -> Result<BTreeMap<&'static str, Value>, MetadataError> {
    let mut out: BTreeMap<&'static str, Value> = BTreeMap::new();
    let directories = object("directories", get("directories").as_ref())?;
    let dir = |k: &str| {
        directories
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut dirs = Map::new();
    for k in ["bin", "man"] {
        if let Some(d) = dir(k) {
            dirs.insert(k.into(), json!(d));
        }
    }
    out.insert("directories", Value::Object(dirs));

    let raw_bin = get("bin");
    let bin_given = raw_bin
        .as_ref()
        .is_some_and(|b| !matches!(b, Value::Null | Value::Bool(false)) && b != &json!(""));
    let mut bin = normalise_bin(name, raw_bin.as_ref()).map_err(|w| ambiguous("bin", w))?;
    if !bin_given && let (Some(d), Some(tree)) = (dir("bin"), tree) {
        let expanded = expand_bin_dir(&d, tree).map_err(|w| ambiguous("directories.bin", w))?;
        // What bin-links links: the expansion, normalised like any `bin`.
        bin = normalise_bin(name, Some(&json!(expanded))).map_err(|w| ambiguous("bin", w))?;
    }
    out.insert("bin", json!(bin));

    let mut man: Vec<String> = match get("man") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(secure_path)
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![secure_path(&s)],
        _ => Vec::new(),
    };
    if man.is_empty()
        && get("man").is_none()
        && let (Some(d), Some(tree)) = (dir("man"), tree)
    {
        let p = secure_path(&d);
        let prefix = format!("{}/", p.trim_end_matches('/'));
        man = tree
            .iter()
            .filter(|(rel, kind)| {
                *kind == EntryKind::File
                    && rel
                        .strip_prefix(&prefix)
                        .is_some_and(|u| no_dot_segment(u) && is_man_page(u))
            })
            .map(|(rel, _)| rel.clone())
            .collect();
    }
    out.insert("man", json!(man));

    out.insert(
        "engines",
        Value::Object(object("engines", get("engines").as_ref())?),
    );
    for f in ["os", "cpu", "libc"] {
        out.insert(f, json!(string_list(f, get(f).as_ref())?));
    }
    let optional = string_map("optionalDependencies", get("optionalDependencies").as_ref())?;
    let mut deps = string_map("dependencies", get("dependencies").as_ref())?;
    let bundle_raw = get("bundleDependencies").or_else(|| get("bundledDependencies"));
    let bundle: Vec<String> = match bundle_raw {
        Some(Value::Bool(true)) => deps.keys().cloned().collect(),
        Some(Value::Bool(false)) | None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    ambiguous("bundleDependencies", format!("holds {x}, not a name"))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(other) => {
            return Err(ambiguous(
                "bundleDependencies",
                format!("is {other}, not a list"),
            ));
        }
    };
    // optionalDedupe: an optional dependency listed in `dependencies` too is optional.
    for k in optional.keys() {
        deps.remove(k);
    }
    out.insert("dependencies", json!(deps));
    out.insert("optionalDependencies", json!(optional));
    out.insert(
        "peerDependencies",
        json!(string_map(
            "peerDependencies",
            get("peerDependencies").as_ref()
        )?),
    );
    out.insert(
        "peerDependenciesMeta",
        Value::Object(object(
            "peerDependenciesMeta",
            get("peerDependenciesMeta").as_ref(),
        )?),
    );
    out.insert("bundleDependencies", json!(bundle));
    Ok(out)
}

/// bin-links links a man page only when it ends in `.<digits>` or `.<digits>.gz`; the
/// expansion itself is `**/*.[0-9]`.
fn is_man_page(p: &str) -> bool {
    let b = basename(p).as_bytes();
    b.len() >= 3 && b[b.len() - 2] == b'.' && b[b.len() - 1].is_ascii_digit()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Build the served version document for `manifest` (the admitted tarball's), checking it
/// against `upstream` (the packument's version document the closure was resolved from).
pub fn served_document(
    upstream: &Value,
    manifest: &ContentManifest,
) -> Result<Served, Vec<MetadataError>> {
    let Some(pkg) = manifest.package.as_ref() else {
        return Err(vec![MetadataError::NoPackageJson]);
    };
    let name = pkg.name.clone().unwrap_or_default();
    let tree = package_tree(manifest, pkg);
    let ours =
        normalise(&name, &|k| pkg.npm_fields.get(k).cloned(), Some(&tree)).map_err(|e| vec![e])?;
    let up = upstream.as_object().cloned().unwrap_or_default();
    let theirs = normalise(&name, &|k| up.get(k).cloned(), None).map_err(|e| vec![e])?;
    let has_install_script = !install_scripts::install_scripts(manifest).is_empty();

    let mut errors = Vec::new();
    let mut unstated = Vec::new();
    let stated = |f: &str| -> bool {
        match f {
            "bundleDependencies" => {
                up.contains_key("bundleDependencies") || up.contains_key("bundledDependencies")
            }
            _ => up.contains_key(f),
        }
    };
    for field in SERVED_FIELDS {
        if *field == "hasInstallScript" {
            match up.get("hasInstallScript") {
                None => unstated.push((*field).to_string()),
                Some(v) if v.as_bool() == Some(has_install_script) => {}
                Some(v) => errors.push(MetadataError::Disagrees {
                    field: (*field).into(),
                    expected: has_install_script.to_string(),
                    actual: v.to_string(),
                }),
            }
            continue;
        }
        let (Some(a), Some(b)) = (ours.get(field), theirs.get(field)) else {
            continue;
        };
        if !stated(field) {
            if !is_empty(a) {
                unstated.push((*field).to_string());
            }
            continue;
        }
        // `dependencies` in the packument lists optional ones too when the publisher's npm
        // was old; both sides are deduplicated above, so they compare as npm reads them.
        if a != b {
            errors.push(MetadataError::Disagrees {
                field: (*field).into(),
                expected: a.to_string(),
                actual: b.to_string(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut doc = Map::new();
    for k in KEPT_FROM_UPSTREAM {
        if let Some(v) = up.get(*k) {
            doc.insert((*k).to_string(), v.clone());
        }
    }
    for (k, v) in ours {
        if !is_empty(&v) {
            doc.insert(k.to_string(), v);
        }
    }
    doc.insert("hasInstallScript".into(), Value::Bool(has_install_script));
    doc.insert("name".into(), json!(name));
    if let Some(v) = &pkg.version {
        doc.insert("version".into(), json!(v));
    }
    Ok(Served {
        document: Value::Object(doc),
        unstated,
    })
}

/// The gate's `metadata` check: push its outcome on `r`; the document to serve when it passed.
pub fn check(
    upstream: &Value,
    manifest: &ContentManifest,
    r: &mut ArtifactReport,
) -> Option<Value> {
    match served_document(upstream, manifest) {
        Ok(s) => {
            let mut detail = "bin, directories, man, engines, os, cpu, libc, dependencies, \
                              peerDependencies, bundleDependencies and hasInstallScript served \
                              from the verified package.json"
                .to_string();
            if !s.unstated.is_empty() {
                detail.push_str(&format!(
                    "; not stated by the packument: {}",
                    s.unstated.join(", ")
                ));
            }
            r.push("metadata", Status::Pass, detail);
            Some(s.document)
        }
        Err(errors) => {
            let text = errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            r.push("metadata", Status::Fail, text);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::manifest::{Entry, MANIFEST_FORMAT, Signals, Totals};
    use crate::digest::{Digests, sha256};

    fn manifest(pj: Value, files: &[&str]) -> ContentManifest {
        let bytes = serde_json::to_vec(&pj).expect("json");
        let has_gyp = files.contains(&"binding.gyp");
        let pkg = crate::content::parse_package_json("package/package.json", &bytes, has_gyp)
            .expect("package.json");
        let mut entries = BTreeMap::new();
        for f in files.iter().chain(std::iter::once(&"package.json")) {
            entries.insert(
                format!("package/{f}"),
                Entry {
                    kind: EntryKind::File,
                    size: 1,
                    mode: 0o644,
                    sha256: Some(sha256(f.as_bytes())),
                    link_target: None,
                    signals: Signals::default(),
                    behaviours: Vec::new(),
                    parse_error: None,
                    analysis_truncated: false,
                },
            );
        }
        ContentManifest {
            format: MANIFEST_FORMAT,
            artifact: Digests::of(b"x"),
            archive: "tgz".into(),
            entries,
            totals: Totals::default(),
            package: Some(pkg),
            notes: Vec::new(),
            analysis: None,
        }
    }

    fn fields(errors: &[MetadataError]) -> Vec<String> {
        errors
            .iter()
            .map(|e| match e {
                MetadataError::Disagrees { field, .. } | MetadataError::Ambiguous { field, .. } => {
                    field.clone()
                }
                MetadataError::NoPackageJson => "(none)".into(),
            })
            .collect()
    }

    #[test]
    fn packument_bin_pointing_at_another_file_is_rejected() {
        let m = manifest(
            json!({"name": "t", "version": "1.0.0", "bin": {"t": "cli.js"}}),
            &["cli.js", "evil.js"],
        );
        let up = json!({"name": "t", "version": "1.0.0", "bin": {"node": "evil.js"}});
        let err = served_document(&up, &m).expect_err("rejected");
        assert_eq!(fields(&err), ["bin"]);
        let text = err[0].to_string();
        assert!(
            text.contains("evil.js") && text.contains("cli.js"),
            "expected vs actual: {text}"
        );
        // Twin: the packument says what the package.json says (string form, ./ prefix).
        let up = json!({"name": "t", "version": "1.0.0", "bin": "./cli.js"});
        let s = served_document(&up, &m).expect("agrees");
        assert_eq!(s.document["bin"], json!({"t": "cli.js"}));
    }

    #[test]
    fn bin_missing_from_the_packument_is_served_from_package_json() {
        let m = manifest(
            json!({"name": "@s/t", "version": "1.0.0", "bin": "bin/t.js"}),
            &["bin/t.js"],
        );
        let s = served_document(&json!({"name": "@s/t"}), &m).expect("served");
        // A string bin is keyed by the name's basename, as bin-links links it.
        assert_eq!(s.document["bin"], json!({"t": "bin/t.js"}));
        assert!(s.unstated.contains(&"bin".to_string()));
    }

    #[test]
    fn packument_os_cpu_engines_and_peers_that_differ_are_rejected_by_name() {
        let pj = json!({"name": "t", "version": "1.0.0", "os": ["linux"], "cpu": "x64",
            "engines": {"node": ">=18"}, "peerDependencies": {"p": "^1"}});
        let m = manifest(pj.clone(), &[]);
        let up = json!({"os": ["darwin"], "cpu": ["arm64"], "engines": {"node": ">=12"},
            "peerDependencies": {"p": "^1", "q": "*"}});
        let err = served_document(&up, &m).expect_err("rejected");
        assert_eq!(fields(&err), ["engines", "os", "cpu", "peerDependencies"]);
        // Twin: the same facts in npm's other spellings agree.
        let up = json!({"os": "linux", "cpu": ["x64"], "engines": {"node": ">=18"},
            "peerDependencies": {"p": "^1"}});
        let s = served_document(&up, &m).expect("agrees");
        assert_eq!(s.document["cpu"], json!(["x64"]));
    }

    #[test]
    fn packument_hiding_binding_gyp_install_script_is_rejected() {
        let m = manifest(json!({"name": "t", "version": "1.0.0"}), &["binding.gyp"]);
        let err = served_document(&json!({"hasInstallScript": false}), &m).expect_err("rejected");
        assert_eq!(fields(&err), ["hasInstallScript"]);
        // Unstated upstream: served from the bytes.
        let s = served_document(&json!({}), &m).expect("served");
        assert_eq!(s.document["hasInstallScript"], true);
        // Twin: no binding.gyp, no script.
        let m = manifest(json!({"name": "t", "version": "1.0.0"}), &["index.js"]);
        let s = served_document(&json!({"hasInstallScript": false}), &m).expect("served");
        assert_eq!(s.document["hasInstallScript"], false);
    }

    #[test]
    fn old_packuments_listing_optional_dependencies_twice_agree() {
        let m = manifest(
            json!({"name": "t", "version": "1.0.0", "dependencies": {"a": "1"},
                   "optionalDependencies": {"o": "2"}}),
            &[],
        );
        let up = json!({"dependencies": {"a": "1", "o": "2"}, "optionalDependencies": {"o": "2"}});
        served_document(&up, &m).expect("agrees");
        // Twin: a dependency only the packument has.
        let up = json!({"dependencies": {"a": "1", "x": "2"}, "optionalDependencies": {"o": "2"}});
        assert_eq!(
            fields(&served_document(&up, &m).expect_err("rejected")),
            ["dependencies"]
        );
    }

    #[test]
    fn directories_bin_is_expanded_from_the_tarball_files() {
        let m = manifest(
            json!({"name": "t", "version": "1.0.0", "directories": {"bin": "./bin"}}),
            &[
                "bin/a.js",
                "bin/sub/b",
                "bin/.hidden",
                "bin/sub/.x/c",
                "lib/x.js",
            ],
        );
        let s = served_document(&json!({}), &m).expect("served");
        // As npm: the directory `sub` is a command too; dot segments are not.
        assert_eq!(
            s.document["bin"],
            json!({"a.js": "bin/a.js", "b": "bin/sub/b", "sub": "bin/sub"})
        );
        // A packument bin that is not what directories.bin gives: rejected.
        let up = json!({"bin": {"a.js": "lib/x.js"}});
        assert_eq!(
            fields(&served_document(&up, &m).expect_err("rejected")),
            ["bin"]
        );
    }

    #[test]
    fn directories_bin_with_two_files_of_one_name_is_ambiguous() {
        let m = manifest(
            json!({"name": "t", "version": "1.0.0", "directories": {"bin": "bin"}}),
            &["bin/x/run", "bin/y/run"],
        );
        assert_eq!(
            fields(&served_document(&json!({}), &m).expect_err("ambiguous")),
            ["directories.bin"]
        );
    }

    #[test]
    fn bin_target_escaping_the_package_is_clamped_like_npm() {
        let m = manifest(
            json!({"name": "t", "version": "1.0.0", "bin": {"../node": "../../cli.js"}}),
            &["cli.js"],
        );
        let s = served_document(&json!({}), &m).expect("served");
        assert_eq!(s.document["bin"], json!({"node": "cli.js"}));
        // A ':' in a target is read two ways by npm: rejected.
        let m = manifest(
            json!({"name": "t", "version": "1.0.0", "bin": {"t": "c:cli.js"}}),
            &["cli.js"],
        );
        assert_eq!(
            fields(&served_document(&json!({}), &m).expect_err("ambiguous")),
            ["bin"]
        );
    }

    #[test]
    fn served_document_carries_no_upstream_only_fields() {
        let m = manifest(json!({"name": "t", "version": "1.0.0"}), &[]);
        let up = json!({"description": "d", "scripts": {"postinstall": "evil"},
                        "_resolved": "http://evil/", "gypfile": true});
        let s = served_document(&up, &m).expect("served");
        assert_eq!(s.document["description"], "d");
        assert!(s.document.get("scripts").is_none());
        assert!(s.document.get("_resolved").is_none());
        assert_eq!(s.document["hasInstallScript"], false);
    }
}
