//! The closure of a release: what `npm install` of it would fetch from a registry, resolved
//! with npm's own rules.
//!
//! - Dependency specs are read as npm-package-arg reads them: an exact version, a range
//!   (node-semver, via the `nodejs-semver` crate: `||`, hyphen ranges, x-ranges, space-separated
//!   comparator sets, prerelease rules), a dist-tag, or an alias `npm:NAME@RANGE`. Git, URL,
//!   file, link and workspace specs are refused (not a registry package: nothing to verify).
//! - A range is resolved as npm-pick-manifest does: the `latest` dist-tag when it satisfies
//!   the range (or the range is `*`) and is not deprecated; otherwise the highest satisfying
//!   version, versions that are not deprecated first. (npm also demotes versions whose
//!   `engines` exclude the running node; the gate does not know which node will install, so it
//!   does not.)
//! - Edges: `dependencies`; `optionalDependencies` (they win over a `dependencies` entry of the
//!   same name, as in arborist) kept only when their `os` / `cpu` / `libc` admit one of the
//!   policy's platforms — decided before the policy is consulted, so a platform package nobody
//!   asked for needs no entry; `peerDependencies` that npm 7+ installs (not marked optional in
//!   `peerDependenciesMeta`), satisfied by a version the closure already has when one fits.
//!   `bundleDependencies` ship inside the tarball and are not fetched.
//! - Packuments of one level are fetched concurrently (bounded); the closure's size and depth
//!   are bounded by [`Limits`](crate::limits::Limits) (`closure_packages`, `closure_depth`).
//! - Only the versions the closure picks must parse; another version's broken metadata is
//!   noted and ignored. A pick that lands on a broken version is a rejection.
use super::{Candidate, Gate, GateError};
use crate::limits::LimitExceeded;
use crate::report::{ArtifactReport, Status};
use crate::source::{self, FetchError, NpmVersionMeta, PackageName, Packument, VersionSelector};
use nodejs_semver::{Range, Version as SemVer};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How a package is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Requested,
    Required,
    Optional,
    Peer,
}

impl Edge {
    fn label(self) -> &'static str {
        match self {
            Edge::Requested => "requested",
            Edge::Required => "dependency",
            Edge::Optional => "optional dependency",
            Edge::Peer => "peer dependency",
        }
    }
}

/// A registry spec, as npm-package-arg classifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegistrySpec {
    /// An exact version (`1.2.3`, `v1.2.3`).
    Version(String),
    /// A node-semver range.
    Range(String),
    /// A dist-tag.
    Tag(String),
}

/// Parse one dependency entry `key: spec` into the package to fetch and what to pick.
/// `npm:NAME@RANGE` is an alias: the package fetched is NAME, whatever the key says.
pub(crate) fn parse_dependency(
    key: &str,
    spec: &str,
) -> Result<(PackageName, RegistrySpec), String> {
    let spec = spec.trim();
    if let Some(aliased) = spec.strip_prefix("npm:") {
        // The version follows the first '@' after the name (a scoped name starts with '@').
        let at = aliased
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '@')
            .map(|(i, _)| i);
        let (name, range) = match at {
            Some(i) => (&aliased[..i], &aliased[i + 1..]),
            None => (aliased, ""),
        };
        if range.trim_start().starts_with("npm:") {
            return Err(format!(
                "{key}: nested alias {spec:?} (npm refuses aliases of aliases)"
            ));
        }
        let name: PackageName = name
            .parse()
            .map_err(|e| format!("{key}: alias {spec:?}: {e}"))?;
        return Ok((name, registry_spec(key, range)?));
    }
    let name: PackageName = key.parse().map_err(|e| format!("{e}"))?;
    Ok((name, registry_spec(key, spec)?))
}

/// npm-package-arg's order: a valid version, else a valid range, else a tag. Anything with
/// `:` or `/` (git, URLs, `file:`, `github:`, `user/repo`, `workspace:`) is not a registry spec.
fn registry_spec(key: &str, spec: &str) -> Result<RegistrySpec, String> {
    let spec = spec.trim();
    if spec.contains(':') || spec.contains('/') || spec.contains('\\') {
        return Err(format!(
            "{key}: {spec:?} is not a registry version, range or tag (git, URL, file and workspace dependencies cannot be verified against a registry)"
        ));
    }
    if spec.is_empty() {
        return Ok(RegistrySpec::Range("*".into()));
    }
    // nodejs-semver's version parser accepts a valid prefix ("1.0.0 - 1.2.0" reads as 1.0.0):
    // only a single token without range operators can be an exact version.
    let single = !spec.contains(|c: char| c.is_whitespace() || "<>=~^|*".contains(c));
    if single && let Ok(v) = SemVer::parse(spec) {
        return Ok(RegistrySpec::Version(v.to_string()));
    }
    if Range::parse(spec).is_ok() {
        return Ok(RegistrySpec::Range(spec.to_string()));
    }
    // npm-package-arg: a tag is what survives encodeURIComponent unchanged.
    let tag_ok = spec
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b));
    if tag_ok {
        Ok(RegistrySpec::Tag(spec.to_string()))
    } else {
        Err(format!(
            "{key}: {spec:?} is neither a version, a range nor a dist-tag"
        ))
    }
}

/// Pick the version npm would install for `spec` from `packument` (npm-pick-manifest).
pub(crate) fn pick<'p>(spec: &RegistrySpec, packument: &'p Packument) -> Result<&'p str, String> {
    let name = packument.name.as_str();
    let chosen: String = match spec {
        RegistrySpec::Version(v) => v.clone(),
        RegistrySpec::Tag(t) => packument
            .dist_tags
            .get(t)
            .cloned()
            .ok_or_else(|| format!("{name} has no dist-tag {t:?}"))?,
        RegistrySpec::Range(r) => pick_range(r, packument)?,
    };
    if let Some(why) = packument.broken.get(&chosen) {
        return Err(format!(
            "npm would install {name}@{chosen}, whose registry metadata is broken: {why}"
        ));
    }
    packument
        .versions
        .get_key_value(&chosen)
        .map(|(k, _)| k.as_str())
        .ok_or_else(|| format!("no published version {chosen} of {name}"))
}

fn pick_range(range: &str, packument: &Packument) -> Result<String, String> {
    let name = packument.name.as_str();
    let parsed = Range::parse(range).map_err(|_| format!("invalid range {range:?}"))?;
    let deprecated = |v: &str| packument.versions.get(v).is_some_and(|m| m.deprecated);
    // npm-pick-manifest: `latest` wins when it satisfies (or the range is `*`) and is fine.
    if let Some(latest) = packument.dist_tags.get("latest")
        && let Ok(lv) = SemVer::parse(latest)
        && (range.trim() == "*" || parsed.satisfies(&lv))
        && !deprecated(latest)
    {
        return Ok(latest.clone());
    }
    let all = packument.versions.keys().chain(packument.broken.keys());
    let best = all
        .filter_map(|v| SemVer::parse(v).ok().map(|p| (p, v)))
        .filter(|(p, _)| parsed.satisfies(p))
        .max_by(|(pa, a), (pb, b)| {
            // Not deprecated first, then by precedence.
            (!deprecated(a), pa).cmp(&(!deprecated(b), pb))
        });
    best.map(|(_, v)| v.clone())
        .ok_or_else(|| format!("no published version of {name} satisfies {range:?}"))
}

/// npm's platform naming (`linux-x64`, `linux-x64-musl`, `darwin-arm64`, `win32-x64`) matched
/// against a version document's `os`, `cpu` and `libc` fields (npm-install-checks).
pub(crate) fn platform_matches(platform: &str, metadata: &serde_json::Value) -> bool {
    let mut parts = platform.split('-');
    let (os, cpu) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let libc = match parts.next() {
        Some("musl") => "musl",
        _ => "glibc",
    };
    let allows = |field: &str, value: &str| {
        let items: Vec<&str> = match metadata.get(field) {
            Some(serde_json::Value::Array(list)) => {
                list.iter().filter_map(|v| v.as_str()).collect()
            }
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            _ => return true,
        };
        // npm: "!x" excludes x; otherwise the list names what is allowed.
        if items.iter().any(|i| i.strip_prefix('!') == Some(value)) {
            return false;
        }
        let positive: Vec<&&str> = items.iter().filter(|i| !i.starts_with('!')).collect();
        positive.is_empty() || positive.iter().any(|i| **i == value)
    };
    allows("os", os) && allows("cpu", cpu) && (os != "linux" || allows("libc", libc))
}

/// Whether an optional package is installed on some platform the policy asks for. Without
/// platforms in the policy, only optional packages that restrict no platform are.
fn for_policy_platforms(platforms: &[String], metadata: &serde_json::Value) -> bool {
    if platforms.is_empty() {
        return ["os", "cpu", "libc"]
            .iter()
            .all(|k| metadata.get(*k).is_none());
    }
    platforms.iter().any(|p| platform_matches(p, metadata))
}

struct Want {
    name: PackageName,
    spec: RegistrySpec,
    edge: Edge,
    reason: String,
    platforms: Vec<String>,
}

/// The resolved closure.
pub(super) struct Closure {
    /// Every artifact to check, in resolution order (the requested release first).
    pub candidates: Vec<Candidate>,
    /// Packages that could not be resolved or have no policy entry (each a failed report).
    pub failures: Vec<ArtifactReport>,
    /// Things worth saying that are not failures (ignored broken metadata, skipped platforms).
    pub notes: Vec<String>,
}

impl Gate<'_> {
    pub(super) fn resolve_closure(
        &self,
        root: &PackageName,
        selector: &VersionSelector,
    ) -> Result<Closure, GateError> {
        let mut out = Closure {
            candidates: Vec::new(),
            failures: Vec::new(),
            notes: Vec::new(),
        };
        let mut packuments: HashMap<PackageName, Packument> = HashMap::new();
        let mut failed_packuments: BTreeSet<PackageName> = BTreeSet::new();
        let mut noted_broken: BTreeSet<PackageName> = BTreeSet::new();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        let mut chosen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut skipped_platform = 0usize;
        let root_spec = match selector {
            VersionSelector::Version(v) => RegistrySpec::Version(v.as_str().to_string()),
            VersionSelector::Tag(t) => RegistrySpec::Tag(t.clone()),
        };
        let mut level = vec![Want {
            name: root.clone(),
            spec: root_spec,
            edge: Edge::Requested,
            reason: "requested".into(),
            platforms: Vec::new(),
        }];
        let mut depth = 0usize;
        while !level.is_empty() {
            if let Err(e) =
                LimitExceeded::check("closure depth", self.limits.closure_depth, depth as u64)
            {
                let mut r = ArtifactReport::new(
                    level[0].name.as_str().to_string(),
                    level[0].reason.clone(),
                );
                r.push("closure-limit", Status::Fail, e.to_string());
                out.failures.push(r);
                break;
            }
            // Fetch every packument this level needs that is not known yet, concurrently.
            let missing: Vec<PackageName> = level
                .iter()
                .map(|w| w.name.clone())
                .filter(|n| !packuments.contains_key(n) && !failed_packuments.contains(n))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let fetched =
                source::fetch_packuments(&missing, self.fetch, self.limits.fetch_concurrency)
                    .map_err(|e| GateError::Operational(e.to_string()))?;
            let mut fetch_errors: HashMap<PackageName, FetchError> = HashMap::new();
            for (name, result) in missing.into_iter().zip(fetched) {
                match result {
                    Ok(p) => {
                        packuments.insert(name, p);
                    }
                    Err(e) => {
                        failed_packuments.insert(name.clone());
                        fetch_errors.insert(name, e);
                    }
                }
            }
            let mut next = Vec::new();
            for want in level {
                let label = want.name.as_str().to_string();
                let fail = |out: &mut Closure, check: &str, why: String| {
                    let mut r = ArtifactReport::new(label.clone(), want.reason.clone());
                    r.push(check, Status::Fail, why);
                    out.failures.push(r);
                };
                let Some(packument) = packuments.get(&want.name) else {
                    match fetch_errors.remove(&want.name) {
                        // A package that does not exist, or a packument that is not one, is a
                        // fact about this release; a network or disk failure is ours.
                        Some(e @ (FetchError::NotFound { .. } | FetchError::Metadata { .. })) => {
                            fail(&mut out, e.check(), e.to_string())
                        }
                        Some(e) if e.is_rejection() => fail(&mut out, e.check(), e.to_string()),
                        Some(e) => return Err(GateError::Operational(e.to_string())),
                        // Failed at an earlier edge, already reported there.
                        None => {}
                    }
                    continue;
                };
                // A peer is satisfied by a version the closure already has, when one fits.
                let reuse = match (&want.edge, &want.spec) {
                    (Edge::Peer, RegistrySpec::Range(r)) => Range::parse(r).ok().and_then(|r| {
                        chosen
                            .get(want.name.as_str())?
                            .iter()
                            .find(|v| SemVer::parse(v.as_str()).is_ok_and(|p| r.satisfies(&p)))
                            .cloned()
                    }),
                    (Edge::Peer, RegistrySpec::Version(v)) => chosen
                        .get(want.name.as_str())
                        .and_then(|s| s.get(v).cloned()),
                    _ => None,
                };
                if reuse.is_some() {
                    continue;
                }
                let version = match pick(&want.spec, packument) {
                    Ok(v) => v.to_string(),
                    Err(why) => {
                        fail(&mut out, "resolve", why);
                        continue;
                    }
                };
                let Some(meta) = packument.versions.get(&version).cloned() else {
                    continue;
                };
                if want.edge == Edge::Optional
                    && !for_policy_platforms(&want.platforms, &meta.install_metadata)
                {
                    skipped_platform += 1;
                    continue;
                }
                if !seen.insert((label.clone(), version.clone())) {
                    continue;
                }
                if !packument.broken.is_empty() && noted_broken.insert(want.name.clone()) {
                    let list: Vec<String> = packument
                        .broken
                        .iter()
                        .take(3)
                        .map(|(v, why)| format!("{v}: {why}"))
                        .collect();
                    out.notes.push(format!(
                        "ignored the broken registry metadata of {} unused version(s) of {label} ({}{})",
                        packument.broken.len(),
                        list.join("; "),
                        if packument.broken.len() > 3 { "; ..." } else { "" }
                    ));
                }
                if let Err(e) = LimitExceeded::check(
                    "closure packages",
                    self.limits.closure_packages,
                    out.candidates.len() as u64 + 1,
                ) {
                    fail(&mut out, "closure-limit", e.to_string());
                    return Ok(out);
                }
                let Some(policy) = self.policy.for_package("npm", want.name.as_str()) else {
                    fail(
                        &mut out,
                        "policy",
                        format!(
                            "no [[package]] entry in {} matches {label}",
                            self.policy.path.display()
                        ),
                    );
                    continue;
                };
                chosen
                    .entry(label.clone())
                    .or_default()
                    .insert(version.clone());
                let this = format!("{label}@{version}");
                self.edges(&meta, &this, &policy.platforms, &mut next, &mut out);
                let tags = packument
                    .dist_tags
                    .iter()
                    .filter(|(_, v)| **v == version)
                    .map(|(t, _)| t.clone())
                    .collect();
                out.candidates.push(Candidate {
                    meta,
                    policy: policy.clone(),
                    reason: want.reason,
                    dist_tags: tags,
                });
            }
            level = next;
            depth += 1;
        }
        if skipped_platform > 0 {
            out.notes.push(format!(
                "{skipped_platform} optional package(s) for other platforms than the policy's are not part of the closure"
            ));
        }
        Ok(out)
    }

    /// The edges out of one version, queued for the next level.
    fn edges(
        &self,
        meta: &NpmVersionMeta,
        this: &str,
        platforms: &[String],
        next: &mut Vec<Want>,
        out: &mut Closure,
    ) {
        let mut push = |key: &str, spec: &str, edge: Edge| {
            let alias = match spec.trim().strip_prefix("npm:") {
                Some(_) => format!(" (as {key})"),
                None => String::new(),
            };
            let reason = format!("{} of {this}{alias}", edge.label());
            match parse_dependency(key, spec) {
                Ok((name, spec)) => next.push(Want {
                    name,
                    spec,
                    edge,
                    reason,
                    platforms: platforms.to_vec(),
                }),
                Err(why) => {
                    let mut r = ArtifactReport::new(key.to_string(), reason);
                    r.push("resolve", Status::Fail, why);
                    out.failures.push(r);
                }
            }
        };
        for (dep, spec) in &meta.dependencies {
            if meta.optional_dependencies.contains_key(dep) || meta.bundled.contains(dep) {
                continue;
            }
            push(dep, spec, Edge::Required);
        }
        for (dep, spec) in &meta.optional_dependencies {
            if meta.bundled.contains(dep) {
                continue;
            }
            push(dep, spec, Edge::Optional);
        }
        for (dep, spec) in &meta.peer_dependencies {
            if meta.optional_peers.contains(dep) || meta.bundled.contains(dep) {
                continue;
            }
            push(dep, spec, Edge::Peer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn packument(versions: &[(&str, bool)], latest: &str) -> Packument {
        let docs: serde_json::Map<String, serde_json::Value> = versions
            .iter()
            .map(|(v, deprecated)| {
                let mut d = json!({"dist": {"tarball": format!("https://r/p-{v}.tgz")}});
                if *deprecated {
                    d["deprecated"] = json!("do not use");
                }
                (v.to_string(), d)
            })
            .collect();
        let doc = json!({"name": "p", "dist-tags": {"latest": latest}, "versions": docs});
        Packument::parse(&"p".parse().expect("name"), "u", doc.to_string().as_bytes())
            .expect("packument")
    }

    fn resolve(range: &str, p: &Packument) -> Option<String> {
        let (_, spec) = parse_dependency("p", range).ok()?;
        pick(&spec, p).ok().map(str::to_string)
    }

    #[test]
    fn ranges_resolve_like_npm() {
        let p = packument(
            &[
                ("1.0.0", false),
                ("1.2.0", false),
                ("1.2.5", false),
                ("1.9.0", false),
                ("1.10.0-beta.1", false),
                ("2.0.5", false),
                ("2.1.0", false),
                ("3.0.0", false),
            ],
            "2.1.0",
        );
        let table: &[(&str, Option<&str>)] = &[
            ("1.2.0", Some("1.2.0")),
            ("1.2", Some("1.2.5")),
            ("1.x", Some("1.9.0")),
            ("^1.0.0", Some("1.9.0")),
            ("~1.2.0", Some("1.2.5")),
            ("^1.19.9 || ^2.0.5", Some("2.1.0")),
            ("^1.1 || ^3", Some("3.0.0")),
            (">= 1.2.1 < 2.0.0", Some("1.9.0")),
            ("1.0.0 - 1.2.0", Some("1.2.0")),
            ("*", Some("2.1.0")),
            ("", Some("2.1.0")),
            ("latest", Some("2.1.0")),
            (">=1.10.0-beta.0 <2", Some("1.10.0-beta.1")),
            ("^4", None),
            ("nosuchtag", None),
        ];
        for (range, want) in table {
            assert_eq!(resolve(range, &p).as_deref(), *want, "{range:?}");
        }
    }

    #[test]
    fn latest_is_preferred_and_deprecated_versions_last() {
        let p = packument(
            &[("1.0.0", false), ("1.5.0", false), ("1.6.0", true)],
            "1.0.0",
        );
        assert_eq!(
            resolve("^1", &p).as_deref(),
            Some("1.0.0"),
            "latest satisfies"
        );
        assert_eq!(
            resolve(">1.0.0", &p).as_deref(),
            Some("1.5.0"),
            "1.6.0 is deprecated"
        );
        let p = packument(&[("1.0.0", false), ("1.1.0", false)], "1.1.0");
        assert_eq!(
            resolve("1.0.0", &p).as_deref(),
            Some("1.0.0"),
            "exact is exact"
        );
    }

    #[test]
    fn aliases_and_non_registry_specs() {
        let (n, s) = parse_dependency("@o/c-linux-x64", "npm:@o/c@0.1.0-linux-x64").expect("alias");
        assert_eq!(n.as_str(), "@o/c");
        assert_eq!(s, RegistrySpec::Version("0.1.0-linux-x64".into()));
        let (n, s) = parse_dependency("x", "npm:lodash").expect("alias without range");
        assert_eq!((n.as_str(), s), ("lodash", RegistrySpec::Range("*".into())));
        for bad in [
            "git+https://github.com/a/b.git",
            "github:a/b",
            "a/b",
            "file:../x",
            "workspace:*",
            "npm:a@npm:b@1",
            "https://x/y.tgz",
        ] {
            assert!(parse_dependency("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platforms_follow_npm_os_cpu_libc() {
        let glibc = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["glibc"]});
        let musl = json!({"os": ["linux"], "cpu": ["x64"], "libc": ["musl"]});
        let mac = json!({"os": ["darwin"], "cpu": ["arm64"]});
        assert!(platform_matches("linux-x64", &glibc));
        assert!(!platform_matches("linux-x64", &musl));
        assert!(platform_matches("linux-x64-musl", &musl));
        assert!(!platform_matches("linux-x64", &mac));
        assert!(platform_matches("darwin-arm64", &mac));
        assert!(platform_matches("linux-x64", &json!({})));
        assert!(!platform_matches("linux-x64", &json!({"os": ["!linux"]})));
        assert!(
            !for_policy_platforms(&[], &mac),
            "no platforms: restricted ones out"
        );
        assert!(for_policy_platforms(&[], &json!({})));
    }
}
