//! The npm registry: packuments (`GET <registry>/<name>`) and the facts of one version.
use super::error::FetchError;
use super::spec::{PackageName, Version, VersionSelector};
use crate::digest::Digest;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Deserialize)]
struct WirePackument {
    name: Option<String>,
    #[serde(rename = "dist-tags", default)]
    dist_tags: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    versions: BTreeMap<String, WireVersion>,
    #[serde(default)]
    time: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct WireVersion {
    dist: Option<WireDist>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: Option<BTreeMap<String, serde_json::Value>>,
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
    /// The URL it was fetched from.
    pub url: String,
}

fn string_map(m: Option<BTreeMap<String, serde_json::Value>>) -> BTreeMap<String, String> {
    m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn dependencies_of(w: &WireVersion) -> Vec<(&'static str, serde_json::Value)> {
    let mut out = Vec::new();
    if let Some(d) = &w.dependencies {
        out.push(("dependencies", serde_json::to_value(d).unwrap_or_default()));
    }
    if let Some(d) = &w.optional_dependencies {
        out.push((
            "optionalDependencies",
            serde_json::to_value(d).unwrap_or_default(),
        ));
    }
    out
}

fn install_metadata(
    version: &str,
    name: &PackageName,
    rest: &BTreeMap<String, serde_json::Value>,
    deps: &[(&'static str, serde_json::Value)],
) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    for key in INSTALL_METADATA_KEYS {
        if let Some(v) = rest.get(*key) {
            doc.insert((*key).to_string(), v.clone());
        }
    }
    for (k, v) in deps {
        doc.insert((*k).to_string(), v.clone());
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
        for (v, w) in wire.versions {
            // Versions that are not valid semver are skipped, not trusted.
            let Ok(version) = v.parse::<Version>() else {
                continue;
            };
            let deps_for_meta = dependencies_of(&w);
            let dist = w.dist;
            let (integrity, integrity_error) =
                match dist.as_ref().and_then(|d| d.integrity.as_deref()) {
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
            let meta = NpmVersionMeta {
                name: name.clone(),
                version,
                integrity,
                integrity_error,
                shasum,
                tarball_url: dist
                    .as_ref()
                    .and_then(|d| d.tarball.clone())
                    .unwrap_or_default(),
                publish_time: times.get(&v).copied(),
                dependencies: string_map(w.dependencies),
                optional_dependencies: string_map(w.optional_dependencies),
                attestations_url: dist
                    .as_ref()
                    .and_then(|d| d.attestations.as_ref())
                    .and_then(|a| a.url.clone()),
                attestations_path: None,
                install_metadata: install_metadata(&v, name, &w.rest, &deps_for_meta),
            };
            versions.insert(v, meta);
        }
        Ok(Packument {
            name: name.clone(),
            dist_tags: wire
                .dist_tags
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                .collect(),
            versions,
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
}
