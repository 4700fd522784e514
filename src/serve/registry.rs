//! Registry documents built from the store index: packuments (full and abbreviated), version
//! documents, dist-tags. Only admitted versions appear; `dist` is always written from the
//! index's verified digests, never taken from stored metadata.
use super::route::tarball_basename;
use crate::ledger::Version;
use crate::store::{IndexedVersion, PackageIndex};
use serde_json::{Map, Value, json};

/// Fields of a version document that go into an abbreviated packument
/// (`application/vnd.npm.install-v1+json`), as the public registry does.
const ABBREVIATED_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "bundledDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "acceptDependencies",
    "bin",
    "directories",
    "engines",
    "cpu",
    "os",
    "libc",
    "funding",
    "license",
    "_hasShrinkwrap",
    "hasInstallScript",
    "dist",
];

/// Fields never copied from stored metadata: the server writes them.
const SERVER_FIELDS: &[&str] = &["dist", "_resolved", "_integrity", "_from", "_id", "_shasum"];

/// The `latest` dist-tag: the highest admitted version, prereleases excluded unless there are
/// only prereleases.
pub fn latest(pkg: &PackageIndex) -> Option<&str> {
    let versions: Vec<(Version, &str)> = pkg
        .versions
        .keys()
        .filter_map(|v| Version::new(v).ok().map(|p| (p, v.as_str())))
        .collect();
    let is_pre = |v: &str| v.split('+').next().unwrap_or(v).contains('-');
    versions
        .iter()
        .filter(|(_, s)| !is_pre(s))
        .max_by(|a, b| a.0.cmp(&b.0))
        .or_else(|| versions.iter().max_by(|a, b| a.0.cmp(&b.0)))
        .map(|(_, s)| *s)
}

/// The dist-tags served: upstream's tags as recorded at admission, for versions still
/// admitted (so a platform build never becomes `latest` by being the highest version). An index
/// written before tags were recorded gets `latest` = [`latest`].
pub fn dist_tags(pkg: &PackageIndex) -> Map<String, Value> {
    match &pkg.tags {
        Some(tags) => {
            let mut out: Map<String, Value> = tags
                .iter()
                .filter(|(_, v)| pkg.versions.contains_key(*v))
                .map(|(t, v)| (t.clone(), json!(v)))
                .collect();
            // npm needs `latest` to install a bare name. When upstream's `latest` was never an
            // admitted version (an older release was admitted, or it was withdrawn), the
            // highest admitted *release* stands in; a prerelease (a platform build such as
            // `0.171.0-linux-x64`) never does.
            if !out.contains_key("latest")
                && let Some(v) = highest_release(pkg)
            {
                out.insert("latest".into(), json!(v));
            }
            out
        }
        None => latest(pkg)
            .map(|l| ("latest".to_string(), json!(l)))
            .into_iter()
            .collect(),
    }
}

fn highest_release(pkg: &PackageIndex) -> Option<&str> {
    let is_pre = |v: &str| v.split('+').next().unwrap_or(v).contains('-');
    pkg.versions
        .keys()
        .filter(|v| !is_pre(v))
        .filter_map(|v| Version::new(v).ok().map(|p| (p, v.as_str())))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, s)| s)
}

/// Resolve a version or dist-tag to an admitted version.
pub fn resolve<'a>(pkg: &'a PackageIndex, version_or_tag: &str) -> Option<&'a str> {
    if let Some((k, _)) = pkg.versions.get_key_value(version_or_tag) {
        return Some(k.as_str());
    }
    let tags = dist_tags(pkg);
    let v = tags.get(version_or_tag)?.as_str()?;
    pkg.versions.get_key_value(v).map(|(k, _)| k.as_str())
}

/// The tarball URL of a version, under `base` (no trailing slash).
pub fn tarball_url(base: &str, name: &str, version: &str) -> String {
    format!(
        "{base}/{name}/-/{}-{version}.tgz",
        tarball_basename(name),
        version = version
    )
}

fn has_install_script(meta: &Map<String, Value>) -> bool {
    meta.get("scripts")
        .and_then(Value::as_object)
        .is_some_and(|s| {
            ["preinstall", "install", "postinstall"]
                .iter()
                .any(|k| s.contains_key(*k))
        })
}

/// The full version document.
pub fn version_document(base: &str, name: &str, version: &str, v: &IndexedVersion) -> Value {
    let mut doc = match &v.metadata {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    for f in SERVER_FIELDS {
        doc.remove(*f);
    }
    if has_install_script(&doc) {
        doc.insert("hasInstallScript".into(), Value::Bool(true));
    }
    doc.insert("name".into(), json!(name));
    doc.insert("version".into(), json!(version));
    doc.insert("_id".into(), json!(format!("{name}@{version}")));
    doc.insert(
        "dist".into(),
        json!({
            "tarball": tarball_url(base, name, version),
            "integrity": v.digests.sha512.sri(),
            "shasum": v.digests.sha1.hex(),
        }),
    );
    Value::Object(doc)
}

fn abbreviate(doc: Value) -> Value {
    match doc {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| ABBREVIATED_FIELDS.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

/// The packument of a package: every admitted version, nothing else.
pub fn packument(base: &str, name: &str, pkg: &PackageIndex, abbreviated: bool) -> Value {
    let mut versions = Map::new();
    let mut time = Map::new();
    let mut created: Option<jiff::Timestamp> = None;
    let mut modified: Option<jiff::Timestamp> = None;
    for (version, v) in &pkg.versions {
        let doc = version_document(base, name, version, v);
        versions.insert(
            version.clone(),
            if abbreviated { abbreviate(doc) } else { doc },
        );
        let t = v.published.unwrap_or(v.admitted_at);
        time.insert(version.clone(), json!(t.to_string()));
        created = Some(created.map_or(t, |c| c.min(t)));
        modified = Some(modified.map_or(v.admitted_at, |m| m.max(v.admitted_at)));
    }
    let tags = dist_tags(pkg);
    let modified = modified.map(|m| m.to_string());
    if abbreviated {
        json!({
            "name": name,
            "modified": modified,
            "dist-tags": tags,
            "versions": versions,
        })
    } else {
        if let Some(c) = created {
            time.insert("created".into(), json!(c.to_string()));
        }
        if let Some(m) = &modified {
            time.insert("modified".into(), json!(m));
        }
        json!({
            "_id": name,
            "name": name,
            "dist-tags": tags,
            "versions": versions,
            "time": time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digests;

    fn pkg(versions: &[&str]) -> PackageIndex {
        let mut p = PackageIndex::default();
        for v in versions {
            p.versions.insert(
                v.to_string(),
                IndexedVersion {
                    digests: Digests::of(v.as_bytes()),
                    record: String::new(),
                    admitted_at: jiff::Timestamp::UNIX_EPOCH,
                    metadata: json!({"name": "wrong", "dist": {"tarball": "http://evil/"}, "scripts": {"postinstall": "x"}}),
                    published: None,
                },
            );
        }
        p
    }

    #[test]
    fn latest_is_highest_release_else_highest_prerelease() {
        let table: &[(&[&str], Option<&str>)] = &[
            (&["1.0.0", "1.10.0", "1.9.0"], Some("1.10.0")),
            (&["1.0.0", "2.0.0-beta.1"], Some("1.0.0")),
            (
                &["2.0.0-beta.1", "2.0.0-beta.10", "2.0.0-beta.2"],
                Some("2.0.0-beta.10"),
            ),
            (&[], None),
        ];
        for (versions, want) in table {
            assert_eq!(latest(&pkg(versions)), *want, "{versions:?}");
        }
    }

    #[test]
    fn platform_build_never_becomes_latest() {
        let mut p = pkg(&["0.171.0", "0.171.0-linux-x64"]);
        p.tags = Some([("latest".to_string(), "0.171.0".to_string())].into());
        assert_eq!(resolve(&p, "latest"), Some("0.171.0"));
        // Only the platform build admitted: upstream's latest names no admitted version.
        let mut only = pkg(&["0.171.0-linux-x64"]);
        only.tags = Some([("latest".to_string(), "0.171.0".to_string())].into());
        assert_eq!(resolve(&only, "latest"), None);
        assert!(dist_tags(&only).is_empty());
        // A build upstream tagged otherwise keeps its tag, even when it is not the highest.
        let mut next = pkg(&["1.0.0", "2.0.0-rc.1"]);
        next.tags = Some(
            [
                ("latest".into(), "1.0.0".into()),
                ("next".into(), "2.0.0-rc.1".into()),
            ]
            .into(),
        );
        assert_eq!(resolve(&next, "next"), Some("2.0.0-rc.1"));
        assert_eq!(resolve(&next, "latest"), Some("1.0.0"));
    }

    #[test]
    fn dist_comes_from_the_index_not_from_metadata() {
        let p = pkg(&["1.0.0"]);
        let doc = packument("http://h", "@s/n", &p, true);
        let v = &doc["versions"]["1.0.0"];
        assert_eq!(v["name"], "@s/n");
        assert_eq!(v["dist"]["tarball"], "http://h/@s/n/-/n-1.0.0.tgz");
        assert_eq!(
            v["dist"]["integrity"],
            Digests::of(b"1.0.0").sha512.sri().as_str()
        );
        assert_eq!(v["hasInstallScript"], true);
        assert!(v.get("scripts").is_none(), "abbreviated drops scripts");
    }
}
