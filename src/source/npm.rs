//! The npm registry: packuments (`GET <registry>/<name>`) and the facts of one version.
use super::error::FetchError;
use super::spec::{PackageName, Version, VersionSelector};
use crate::digest::Digest;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Deserialize)]
struct WirePackument {
    name: Option<String>,
    #[serde(rename = "dist-tags", default)]
    dist_tags: BTreeMap<String, serde_json::Value>,
    /// Each version is parsed on its own: one version's odd metadata (`"dependencies": []`)
    /// must not make the others unusable.
    #[serde(default)]
    versions: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    time: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct WireVersion {
    dist: Option<WireDist>,
    /// Everything else the registry said about the version (only whitelisted keys are kept).
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// The version-document keys an npm client needs to install a package, and nothing else: a
/// mirror serves these (plus its own `dist`), never the upstream's arbitrary extras.
pub const INSTALL_METADATA_KEYS: &[&str] = &[
    "name",
    "version",
    "description",
    "license",
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bundledDependencies",
    "bin",
    "directories",
    "man",
    "engines",
    "os",
    "cpu",
    "libc",
    "hasInstallScript",
    "deprecated",
];

#[derive(Deserialize)]
struct WireDist {
    tarball: Option<String>,
    integrity: Option<String>,
    shasum: Option<String>,
    attestations: Option<WireAttestations>,
}

#[derive(Deserialize)]
struct WireAttestations {
    url: Option<String>,
}

/// The facts of one published version, from the packument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpmVersionMeta {
    /// Package name.
    pub name: PackageName,
    /// Exact version.
    pub version: Version,
    /// `dist.integrity` (SRI; the strongest algorithm listed), when present and usable
    /// (sha256 or sha512, every token of a known algorithm well-formed).
    pub integrity: Option<Digest>,
    /// Why `dist.integrity` is not usable, when it is present but malformed or sha1-only.
    pub integrity_error: Option<String>,
    /// `dist.shasum` (SHA-1 hex), when present.
    pub shasum: Option<Digest>,
    /// `dist.tarball`.
    pub tarball_url: String,
    /// `time[version]`: when this version was published.
    pub publish_time: Option<jiff::Timestamp>,
    /// `dependencies`: name -> range.
    pub dependencies: BTreeMap<String, String>,
    /// `optionalDependencies`: name -> range.
    pub optional_dependencies: BTreeMap<String, String>,
    /// `peerDependencies`: name -> range.
    pub peer_dependencies: BTreeMap<String, String>,
    /// Peers marked optional in `peerDependenciesMeta` (npm 7+ does not install them).
    pub optional_peers: BTreeSet<String>,
    /// `bundleDependencies` (or `bundledDependencies`): shipped inside the tarball, never fetched.
    pub bundled: BTreeSet<String>,
    /// Whether the version is deprecated (npm-pick-manifest prefers versions that are not).
    pub deprecated: bool,
    /// `dist.attestations.url`, when the registry lists attestations.
    pub attestations_url: Option<String>,
    /// Where the fetched attestations were stored (set by `fetch`).
    pub attestations_path: Option<PathBuf>,
    /// The version document's install-relevant keys ([`INSTALL_METADATA_KEYS`]), no `dist`.
    pub install_metadata: serde_json::Value,
}

/// A package document from the registry, reduced to what vetted uses.
#[derive(Debug, Clone)]
pub struct Packument {
    /// The package.
    pub name: PackageName,
    /// `dist-tags`: tag -> version.
    pub dist_tags: BTreeMap<String, String>,
    /// Every version's facts.
    pub versions: BTreeMap<String, NpmVersionMeta>,
    /// Versions whose metadata could not be understood: version -> why. They are never
    /// admitted; they matter only when a closure would pick one.
    pub broken: BTreeMap<String, String>,
    /// The URL it was fetched from.
    pub url: String,
}

/// A dependency map (`dependencies`, `optionalDependencies`, `peerDependencies`): an object of
/// name -> range strings, or absent. Anything else is broken metadata for this version.
fn dependency_map(
    rest: &BTreeMap<String, serde_json::Value>,
    key: &str,
) -> Result<BTreeMap<String, String>, String> {
    match rest.get(key) {
        None | Some(serde_json::Value::Null) => Ok(BTreeMap::new()),
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v.as_str() {
                Some(r) => Ok((k.clone(), r.to_string())),
                None => Err(format!("{key}.{k} is {v}, expected a range string")),
            })
            .collect(),
        Some(other) => Err(format!("{key} is {}, expected an object", json_kind(other))),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// `bundleDependencies` / `bundledDependencies`: a list of names, or `true` for every
/// dependency (npm-packlist's rule).
fn bundled_of(
    rest: &BTreeMap<String, serde_json::Value>,
    deps: &BTreeMap<String, String>,
) -> Result<BTreeSet<String>, String> {
    let value = rest
        .get("bundleDependencies")
        .or_else(|| rest.get("bundledDependencies"));
    match value {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => {
            Ok(BTreeSet::new())
        }
        Some(serde_json::Value::Bool(true)) => Ok(deps.keys().cloned().collect()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("bundleDependencies lists {i}, expected names"))
            })
            .collect(),
        Some(other) => Err(format!(
            "bundleDependencies is {}, expected a list of names",
            json_kind(other)
        )),
    }
}

fn install_metadata(
    version: &str,
    name: &PackageName,
    rest: &BTreeMap<String, serde_json::Value>,
) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    for key in INSTALL_METADATA_KEYS {
        if let Some(v) = rest.get(*key) {
            doc.insert((*key).to_string(), v.clone());
        }
    }
    // Name and version are the ones we resolved, whatever the document claims.
    doc.insert(
        "name".into(),
        serde_json::Value::String(name.as_str().to_string()),
    );
    doc.insert(
        "version".into(),
        serde_json::Value::String(version.to_string()),
    );
    serde_json::Value::Object(doc)
}

/// One version document, parsed on its own.
fn version_meta(
    name: &PackageName,
    v: &str,
    version: Version,
    doc: serde_json::Value,
    times: &BTreeMap<String, jiff::Timestamp>,
) -> Result<NpmVersionMeta, String> {
    let w: WireVersion = serde_json::from_value(doc).map_err(|e| e.to_string())?;
    let dependencies = dependency_map(&w.rest, "dependencies")?;
    let optional_dependencies = dependency_map(&w.rest, "optionalDependencies")?;
    let peer_dependencies = dependency_map(&w.rest, "peerDependencies")?;
    let optional_peers = match w.rest.get("peerDependenciesMeta") {
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .filter(|(_, v)| v.get("optional").and_then(|o| o.as_bool()) == Some(true))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => BTreeSet::new(),
    };
    let bundled = bundled_of(&w.rest, &dependencies)?;
    let deprecated = match w.rest.get("deprecated") {
        Some(serde_json::Value::String(s)) => !s.is_empty(),
        Some(serde_json::Value::Bool(b)) => *b,
        _ => false,
    };
    let dist = w.dist;
    let (integrity, integrity_error) = match dist.as_ref().and_then(|d| d.integrity.as_deref()) {
        None => (None, None),
        Some(s) => match Digest::parse_npm_integrity(s) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let shasum = dist
        .as_ref()
        .and_then(|d| d.shasum.as_deref())
        .and_then(|s| Digest::from_hex(crate::digest::Algorithm::Sha1, s).ok());
    Ok(NpmVersionMeta {
        name: name.clone(),
        version,
        integrity,
        integrity_error,
        shasum,
        tarball_url: dist
            .as_ref()
            .and_then(|d| d.tarball.clone())
            .unwrap_or_default(),
        publish_time: times.get(v).copied(),
        dependencies,
        optional_dependencies,
        peer_dependencies,
        optional_peers,
        bundled,
        deprecated,
        attestations_url: dist
            .as_ref()
            .and_then(|d| d.attestations.as_ref())
            .and_then(|a| a.url.clone()),
        attestations_path: None,
        install_metadata: install_metadata(v, name, &w.rest),
    })
}

impl Packument {
    /// Parse a packument's JSON.
    pub fn parse(name: &PackageName, url: &str, bytes: &[u8]) -> Result<Packument, FetchError> {
        let bad = |detail: String| FetchError::Metadata {
            url: url.to_string(),
            detail,
        };
        let wire: WirePackument =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a packument: {e}")))?;
        if wire.name.as_deref() != Some(name.as_str()) {
            return Err(bad(format!(
                "packument names {:?}, expected {:?}",
                wire.name.unwrap_or_default(),
                name.as_str()
            )));
        }
        let times: BTreeMap<String, jiff::Timestamp> = wire
            .time
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.parse().ok()?)))
            .collect();
        let mut versions = BTreeMap::new();
        let mut broken = BTreeMap::new();
        for (v, doc) in wire.versions {
            // Versions that are not valid semver are skipped, not trusted.
            let Ok(version) = v.parse::<Version>() else {
                continue;
            };
            match version_meta(name, &v, version, doc, &times) {
                Ok(meta) => {
                    versions.insert(v, meta);
                }
                Err(why) => {
                    broken.insert(v, why);
                }
            }
        }
        Ok(Packument {
            name: name.clone(),
            dist_tags: wire
                .dist_tags
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                .collect(),
            versions,
            broken,
            url: url.to_string(),
        })
    }

    /// The version a selector names (a dist-tag is looked up in `dist-tags`).
    pub fn resolve(&self, selector: &VersionSelector) -> Result<&NpmVersionMeta, FetchError> {
        let version = match selector {
            VersionSelector::Version(v) => v.as_str(),
            VersionSelector::Tag(t) => {
                self.dist_tags.get(t).ok_or_else(|| FetchError::NotFound {
                    what: format!("dist-tag {t:?} of {}", self.name),
                })?
            }
        };
        if let Some(why) = self.broken.get(version) {
            return Err(FetchError::Metadata {
                url: self.url.clone(),
                detail: format!("version {version}: {why}"),
            });
        }
        self.versions
            .get(version)
            .ok_or_else(|| FetchError::NotFound {
                what: format!("version {version} of {}", self.name),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves() {
        let name: PackageName = "@s/p".parse().unwrap();
        let json = br#"{"name":"@s/p","dist-tags":{"latest":"1.0.0"},
            "time":{"1.0.0":"2025-01-02T03:04:05.000Z"},
            "versions":{"1.0.0":{"dist":{"tarball":"https://r/p.tgz",
              "integrity":"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
              "shasum":"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
              "dependencies":{"a":"^1"}}, "bogus":{}}}"#;
        let p = Packument::parse(&name, "u", json).unwrap();
        let m = p.resolve(&VersionSelector::Tag("latest".into())).unwrap();
        assert_eq!(m.version.as_str(), "1.0.0");
        assert!(m.integrity.is_some() && m.shasum.is_some());
        assert_eq!(m.dependencies.get("a").map(String::as_str), Some("^1"));
        assert!(m.publish_time.is_some());
        assert!(m.attestations_url.is_none());
        assert!(p.resolve(&VersionSelector::Tag("next".into())).is_err());
        assert!(Packument::parse(&"other".parse().unwrap(), "u", json).is_err());
    }

    #[test]
    fn odd_metadata_of_one_version_breaks_only_that_version() {
        let name: PackageName = "mime".parse().unwrap();
        let json = br#"{"name":"mime","dist-tags":{"latest":"1.1.0"},
            "versions":{"1.0.0":{"dependencies":[],"dist":{"tarball":"https://r/a.tgz"}},
                        "1.0.1":{"dependencies":{"a":1},"dist":{"tarball":"https://r/b.tgz"}},
                        "1.1.0":{"peerDependencies":{"p":"^2"},"peerDependenciesMeta":{"p":{"optional":true}},
                                 "bundleDependencies":["b"],"dependencies":{"b":"1"},
                                 "dist":{"tarball":"https://r/c.tgz"}}}}"#;
        let p = Packument::parse(&name, "u", json).unwrap();
        assert_eq!(p.versions.keys().collect::<Vec<_>>(), ["1.1.0"]);
        assert!(p.broken["1.0.0"].contains("an array"), "{:?}", p.broken);
        assert!(p.broken["1.0.1"].contains("expected a range string"));
        let m = &p.versions["1.1.0"];
        assert!(m.optional_peers.contains("p") && m.bundled.contains("b"));
        let e = p.resolve(&VersionSelector::Version("1.0.0".parse().unwrap()));
        assert!(matches!(e, Err(FetchError::Metadata { .. })));
    }
}
