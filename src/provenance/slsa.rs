//! SLSA provenance predicates v0.2 and v1, read into one [`Provenance`] domain type, and the
//! policy matchers slsa-verifier applies (builder id, source, tag, versioned tag, branch).
//!
//! SLSA v1.0 "Verifying artifacts": "Ensuring that the values for buildType and
//! externalParameters in the provenance match the expected values." vetted reads only the build
//! types listed here; any other build type, and any other predicate type, is rejected rather
//! than skipped. The expectations are slsa-verifier's: the source repository, and the tag,
//! versioned tag or branch built.
use super::ProvenanceError;
use super::statement::Statement;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// SLSA provenance v0.2.
pub const PREDICATE_SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
/// SLSA provenance v1.
pub const PREDICATE_SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// The build types vetted knows how to read, by predicate version.
///
/// v0.2: slsa-github-generator's Go, generic, container and delegator builders, and npm CLI's
/// GitHub Actions build type. v1: slsa-github-generator's delegator and container-based builders,
/// and GitHub Actions' workflow build type (both spellings).
const BUILD_TYPES_V02: &[(&str, Kind)] = &[
    (
        "https://github.com/slsa-framework/slsa-github-generator/go@v1",
        Kind::GeneratorV02,
    ),
    (
        "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
        Kind::GeneratorV02,
    ),
    (
        "https://github.com/slsa-framework/slsa-github-generator/container@v1",
        Kind::GeneratorV02,
    ),
    (
        "https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0",
        Kind::GeneratorV02,
    ),
    ("https://github.com/npm/cli/gha/v2", Kind::GeneratorV02),
];
const BUILD_TYPES_V1: &[(&str, Kind)] = &[
    (
        "https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0",
        Kind::DelegatorV1,
    ),
    (
        "https://slsa.dev/container-based-build/v0.1?draft",
        Kind::ContainerBasedV1,
    ),
    (
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
        Kind::WorkflowV1,
    ),
    (
        "https://actions.github.io/buildtypes/workflow/v1",
        Kind::WorkflowV1,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GeneratorV02,
    DelegatorV1,
    ContainerBasedV1,
    WorkflowV1,
}

/// Which SLSA provenance version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SlsaVersion {
    /// v0.2.
    #[serde(rename = "v0.2")]
    V02,
    /// v1.
    #[serde(rename = "v1")]
    V1,
}

/// What a SLSA provenance statement says, read once from the wire predicate.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// Predicate version.
    pub version: SlsaVersion,
    /// `builder.id` (v0.2) / `runDetails.builder.id` (v1).
    pub builder_id: String,
    /// `buildType` (v0.2) / `buildDefinition.buildType` (v1).
    pub build_type: String,
    /// The source repository URI as written (e.g. `git+https://github.com/a/b@refs/heads/main`).
    pub source_uri: String,
    /// The git ref built (`refs/heads/...`, `refs/tags/...`), if stated.
    pub source_ref: Option<String>,
    /// The commit built, if stated.
    pub source_commit: Option<String>,
    /// The workflow (entry point) that ran, if stated.
    pub workflow: Option<String>,
    /// The triggering event, if stated.
    pub trigger: Option<String>,
    /// Workflow inputs (`workflow_dispatch` inputs), if any.
    pub inputs: BTreeMap<String, Value>,
    /// The build invocation id, if stated.
    pub invocation_id: Option<String>,
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn inputs(v: Option<&Value>) -> BTreeMap<String, Value> {
    match v {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => BTreeMap::new(),
    }
}

/// The `@ref` part of a `git+https://host/repo@ref` URI.
fn ref_of_uri(uri: &str) -> Option<String> {
    uri.rsplit_once('@').map(|(_, r)| r.to_string())
}

impl Provenance {
    /// Read a SLSA provenance statement. Unknown predicate types and build types are rejected.
    pub fn from_statement(statement: &Statement) -> Result<Provenance, ProvenanceError> {
        let p = &statement.predicate;
        let missing = |what: &str| ProvenanceError::Malformed(format!("provenance has no {what}"));
        match statement.predicate_type.as_str() {
            PREDICATE_SLSA_V02 => {
                let build_type = text(p, &["buildType"]).ok_or_else(|| missing("buildType"))?;
                if !BUILD_TYPES_V02.iter().any(|(t, _)| *t == build_type) {
                    return Err(ProvenanceError::UnknownBuildType { build_type });
                }
                let builder_id =
                    text(p, &["builder", "id"]).ok_or_else(|| missing("builder.id"))?;
                let config = at(p, &["invocation", "configSource"]);
                let source_uri = config
                    .and_then(|c| text(c, &["uri"]))
                    .or_else(|| {
                        at(p, &["materials"])
                            .and_then(|m| m.get(0))
                            .and_then(|m| text(m, &["uri"]))
                    })
                    .ok_or_else(|| missing("source (invocation.configSource.uri)"))?;
                let env = at(p, &["invocation", "environment"])
                    .cloned()
                    .unwrap_or_default();
                let source_ref = text(&env, &["github_ref"])
                    .or_else(|| text(&env, &["GITHUB_REF"]))
                    .or_else(|| ref_of_uri(&source_uri));
                let mut wf_inputs = inputs(at(&env, &["github_event_payload", "inputs"]));
                wf_inputs.extend(inputs(at(p, &["invocation", "parameters", "inputs"])));
                Ok(Provenance {
                    version: SlsaVersion::V02,
                    builder_id,
                    build_type,
                    source_commit: config.and_then(|c| text(c, &["digest", "sha1"])),
                    workflow: config.and_then(|c| text(c, &["entryPoint"])),
                    trigger: text(&env, &["github_event_name"])
                        .or_else(|| text(&env, &["GITHUB_EVENT_NAME"])),
                    invocation_id: text(&env, &["github_run_id"])
                        .or_else(|| text(&env, &["GITHUB_RUN_ID"])),
                    source_uri,
                    source_ref,
                    inputs: wf_inputs,
                })
            }
            PREDICATE_SLSA_V1 => {
                let bd = at(p, &["buildDefinition"]).ok_or_else(|| missing("buildDefinition"))?;
                let build_type =
                    text(bd, &["buildType"]).ok_or_else(|| missing("buildDefinition.buildType"))?;
                let kind = BUILD_TYPES_V1
                    .iter()
                    .find(|(t, _)| *t == build_type)
                    .map(|(_, k)| *k)
                    .ok_or_else(|| ProvenanceError::UnknownBuildType {
                        build_type: build_type.clone(),
                    })?;
                let builder_id = text(p, &["runDetails", "builder", "id"])
                    .ok_or_else(|| missing("runDetails.builder.id"))?;
                let ext = at(bd, &["externalParameters"]).cloned().unwrap_or_default();
                let int = at(bd, &["internalParameters"]).cloned().unwrap_or_default();
                let dep0 = at(bd, &["resolvedDependencies"]).and_then(|d| d.get(0));
                let dep_uri = dep0.and_then(|d| text(d, &["uri"]));
                let dep_commit = dep0.and_then(|d| {
                    text(d, &["digest", "gitCommit"]).or_else(|| text(d, &["digest", "sha1"]))
                });
                let invocation_id = text(p, &["runDetails", "metadata", "invocationId"]);
                let (source_uri, source_ref, source_commit, workflow, trigger, wf_inputs) =
                    match kind {
                        Kind::WorkflowV1 => (
                            text(&ext, &["workflow", "repository"]).or(dep_uri),
                            text(&ext, &["workflow", "ref"]),
                            dep_commit,
                            text(&ext, &["workflow", "path"]),
                            text(&int, &["github", "event_name"]),
                            inputs(at(&ext, &["inputs"])),
                        ),
                        Kind::ContainerBasedV1 => (
                            text(&ext, &["source", "uri"]).or(dep_uri),
                            text(&int, &["GITHUB_REF"]),
                            text(&ext, &["source", "digest", "sha1"]).or(dep_commit),
                            text(&int, &["GITHUB_WORKFLOW_REF"]),
                            text(&int, &["GITHUB_EVENT_NAME"]),
                            BTreeMap::new(),
                        ),
                        Kind::DelegatorV1 | Kind::GeneratorV02 => (
                            dep_uri,
                            text(&int, &["GITHUB_REF"]),
                            text(&int, &["GITHUB_SHA"]).or(dep_commit),
                            text(&int, &["GITHUB_WORKFLOW_REF"]),
                            text(&int, &["GITHUB_EVENT_NAME"]),
                            inputs(at(&ext, &["inputs"])),
                        ),
                    };
                let source_uri = source_uri.ok_or_else(|| missing("source repository"))?;
                let source_ref = source_ref.or_else(|| ref_of_uri(&source_uri));
                Ok(Provenance {
                    version: SlsaVersion::V1,
                    builder_id,
                    build_type,
                    source_uri,
                    source_ref,
                    source_commit,
                    workflow,
                    trigger,
                    inputs: wf_inputs,
                    invocation_id,
                })
            }
            other => Err(ProvenanceError::mismatch(
                "predicate-type",
                format!("{PREDICATE_SLSA_V02} or {PREDICATE_SLSA_V1}"),
                other,
            )),
        }
    }

    /// The source repository without scheme or ref: `github.com/owner/repo`.
    pub fn source_repository(&self) -> String {
        normalize_source(&self.source_uri)
    }
}

/// `git+https://github.com/a/b@refs/heads/main`, `https://github.com/a/b` and `github.com/a/b`
/// all become `github.com/a/b`. slsa-verifier accepts `--source-uri` with or without the scheme
/// and compares it with the provenance's source, less `git+` and the `@ref` suffix.
pub fn normalize_source(uri: &str) -> String {
    let s = uri.strip_prefix("git+").unwrap_or(uri);
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = match s.split_once('@') {
        Some((repo, _)) => repo,
        None => s,
    };
    s.trim_end_matches('/').to_string()
}

/// Check the source repository.
pub fn check_source(expected: &str, actual_uri: &str) -> Result<(), ProvenanceError> {
    let (e, a) = (normalize_source(expected), normalize_source(actual_uri));
    if e == a {
        Ok(())
    } else {
        Err(ProvenanceError::mismatch("source", e, a))
    }
}

/// A builder id `name@ref` split in two (the ref is optional).
fn split_builder(id: &str) -> (&str, Option<&str>) {
    // The name is a URL; its `@` only ever introduces the ref.
    match id.rsplit_once('@') {
        Some((name, r)) if !name.is_empty() => (name, Some(r)),
        _ => (id, None),
    }
}

/// slsa-verifier's loose builder-id match: the names must be equal; when the expected id has a
/// `@ref`, it must equal the actual ref, where `v1.2.3` also stands for `refs/tags/v1.2.3`.
pub fn builder_matches(expected: &str, actual: &str) -> bool {
    let (e_name, e_ref) = split_builder(expected);
    let (a_name, a_ref) = split_builder(actual);
    if e_name != a_name {
        return false;
    }
    match (e_ref, a_ref) {
        (None, _) => true,
        (Some(e), Some(a)) => e == a || a.strip_prefix("refs/tags/") == Some(e),
        (Some(_), None) => false,
    }
}

/// Check a `--source-tag`: the provenance ref must be exactly `refs/tags/<tag>`.
pub fn check_tag(expected: &str, source_ref: Option<&str>) -> Result<(), ProvenanceError> {
    let want = format!("refs/tags/{expected}");
    match source_ref {
        Some(r) if r == want => Ok(()),
        other => Err(ProvenanceError::mismatch(
            "source-tag",
            want,
            other.unwrap_or("(no ref)"),
        )),
    }
}

/// Check a `--source-branch`: the provenance ref must be exactly `refs/heads/<branch>`.
pub fn check_branch(expected: &str, source_ref: Option<&str>) -> Result<(), ProvenanceError> {
    let want = format!("refs/heads/{expected}");
    match source_ref {
        Some(r) if r == want => Ok(()),
        other => Err(ProvenanceError::mismatch(
            "source-branch",
            want,
            other.unwrap_or("(no ref)"),
        )),
    }
}

/// A `vMAJOR[.MINOR[.PATCH]][-pre][+build]` tag; missing parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Semver {
    parts: [Option<u64>; 3],
    pre: Option<String>,
    build: Option<String>,
}

fn parse_semver(tag: &str) -> Option<Semver> {
    let rest = tag.strip_prefix('v')?;
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b.to_string())),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p.to_string())),
        None => (rest, None),
    };
    let mut parts = [None; 3];
    let mut n = 0;
    for piece in core.split('.') {
        if n == 3 || piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        parts[n] = Some(piece.parse().ok()?);
        n += 1;
    }
    // A prerelease or build suffix only belongs to a full version.
    if (pre.is_some() || build.is_some()) && n != 3 {
        return None;
    }
    Some(Semver { parts, pre, build })
}

/// Check a `--source-versioned-tag` (slsa-verifier semantics): the provenance must come from a
/// semver tag, and the expected tag's given parts must equal the built tag's, missing parts of
/// the built tag counting as 0: `v1` and `v1.2` match `v1.2.3`, `v14.0` matches `v14`, `v14.1`
/// does not. A prerelease or build suffix in the expected tag must match exactly.
pub fn check_versioned_tag(
    expected: &str,
    source_ref: Option<&str>,
) -> Result<(), ProvenanceError> {
    let want = parse_semver(expected).ok_or_else(|| {
        ProvenanceError::Usage(format!(
            "--source-versioned-tag {expected:?} is not a semver tag vMAJOR[.MINOR[.PATCH]]"
        ))
    })?;
    let mismatch =
        |actual: &str| ProvenanceError::mismatch("source-versioned-tag", expected, actual);
    let Some(r) = source_ref else {
        return Err(mismatch("(no ref)"));
    };
    let Some(tag) = r.strip_prefix("refs/tags/") else {
        return Err(mismatch(r));
    };
    let Some(have) = parse_semver(tag) else {
        return Err(mismatch(&format!("{tag} (not a semver tag)")));
    };
    for (w, h) in want.parts.iter().zip(have.parts.iter()) {
        if let Some(w) = w
            && *w != h.unwrap_or(0)
        {
            return Err(mismatch(tag));
        }
    }
    if (want.pre.is_some() && want.pre != have.pre)
        || (want.build.is_some() && want.build != have.build)
    {
        return Err(mismatch(tag));
    }
    Ok(())
}

/// Check `--build-workflow-input k=v` against the workflow inputs.
pub fn check_input(
    inputs: &BTreeMap<String, Value>,
    key: &str,
    expected: &str,
) -> Result<(), ProvenanceError> {
    let actual = inputs.get(key).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    match actual {
        Some(a) if a == expected => Ok(()),
        other => Err(ProvenanceError::mismatch(
            "build-workflow-input",
            format!("{key}={expected}"),
            other.map_or_else(|| format!("{key} absent"), |a| format!("{key}={a}")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_normalization() {
        for s in [
            "github.com/a/b",
            "https://github.com/a/b",
            "git+https://github.com/a/b",
            "git+https://github.com/a/b@refs/heads/main",
        ] {
            assert_eq!(normalize_source(s), "github.com/a/b", "{s}");
        }
        assert!(check_source("github.com/a/b", "git+https://github.com/a/b@refs/tags/v1").is_ok());
        assert_eq!(
            check_source("github.com/a/bA", "git+https://github.com/a/b")
                .expect_err("append")
                .check(),
            "source"
        );
        assert!(check_source("github.com/Aa/b", "git+https://github.com/a/b").is_err());
    }

    #[test]
    fn builder_loose_match() {
        let actual = "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v2.1.0";
        assert!(builder_matches(
            "https://github.com/o/r/.github/workflows/b.yml",
            actual
        ));
        assert!(builder_matches(
            "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v2.1.0",
            actual
        ));
        assert!(builder_matches(
            "https://github.com/o/r/.github/workflows/b.yml@v2.1.0",
            actual
        ));
        assert!(!builder_matches(
            "https://github.com/o/r/.github/workflows/b.yml@v2.1.1",
            actual
        ));
        assert!(!builder_matches(
            "https://github.com/o/r/.github/workflows/c.yml",
            actual
        ));
        assert!(!builder_matches(
            "https://github.com/o/r/.github/workflows/b.ym",
            actual
        ));
    }

    #[test]
    fn tags_and_branches() {
        assert!(check_tag("v13.0.30", Some("refs/tags/v13.0.30")).is_ok());
        assert!(check_tag("v13", Some("refs/tags/v13.0.30")).is_err());
        assert!(check_tag("v1.2.3", Some("refs/heads/main")).is_err());
        assert!(check_tag("v1.2.3", None).is_err());
        assert!(check_branch("main", Some("refs/heads/main")).is_ok());
        assert!(check_branch("main", Some("refs/heads/main2")).is_err());
        assert!(check_branch("main", Some("refs/tags/main")).is_err());
    }

    #[test]
    fn versioned_tags() {
        let ok = [
            ("v13", "v13.0.30"),
            ("v13.0", "v13.0.30"),
            ("v13.0.30", "v13.0.30"),
            ("v14.0", "v14"),
            ("v14", "v14"),
            ("v14.0.0", "v14"),
            ("v1.2.3-rc.1", "v1.2.3-rc.1"),
        ];
        for (want, have) in ok {
            assert!(
                check_versioned_tag(want, Some(&format!("refs/tags/{have}"))).is_ok(),
                "{want} vs {have}"
            );
        }
        let bad = [
            ("v14.1", "v14"),
            ("v14.2.1", "v14.2"),
            ("v13.1", "v13.0.30"),
            ("v12", "v13.0.30"),
            ("v1.2.3-rc.2", "v1.2.3-rc.1"),
            ("v1", "release-1"),
        ];
        for (want, have) in bad {
            assert_eq!(
                check_versioned_tag(want, Some(&format!("refs/tags/{have}")))
                    .expect_err(want)
                    .check(),
                "source-versioned-tag"
            );
        }
        assert!(check_versioned_tag("v1", Some("refs/heads/main")).is_err());
        assert!(matches!(
            check_versioned_tag("1.x", Some("refs/tags/v1.0.0")),
            Err(ProvenanceError::Usage(_))
        ));
    }

    fn statement(predicate_type: &str, predicate: serde_json::Value) -> Statement {
        let json = serde_json::json!({"_type": super::super::statement::STATEMENT_V1,
            "predicateType": predicate_type,
            "subject": [{"name": "a", "digest": {"sha256": "00"}}], "predicate": predicate});
        Statement::parse(
            &serde_json::to_vec(&json).expect("json"),
            &crate::limits::Limits::default(),
        )
        .expect("statement")
    }

    #[test]
    fn known_build_types_are_read() {
        let v1 = statement(
            PREDICATE_SLSA_V1,
            serde_json::json!({
            "buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {"ref": "refs/tags/v1.0.0",
                    "repository": "https://github.com/a/b", "path": ".github/workflows/r.yml"}},
                "internalParameters": {"github": {"event_name": "push"}},
                "resolvedDependencies": [{"uri": "git+https://github.com/a/b@refs/tags/v1.0.0",
                    "digest": {"gitCommit": "abc"}}]},
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"},
                "metadata": {"invocationId": "run-1"}}}),
        );
        let p = Provenance::from_statement(&v1).expect("v1");
        assert_eq!(p.source_repository(), "github.com/a/b");
        assert_eq!(p.source_ref.as_deref(), Some("refs/tags/v1.0.0"));
        assert_eq!(p.source_commit.as_deref(), Some("abc"));
        assert_eq!(p.trigger.as_deref(), Some("push"));
        assert_eq!(p.invocation_id.as_deref(), Some("run-1"));
    }

    #[test]
    fn unknown_predicate_and_build_types_are_rejected() {
        let unknown_pred = statement("https://slsa.dev/provenance/v9", serde_json::json!({}));
        assert_eq!(
            Provenance::from_statement(&unknown_pred)
                .expect_err("pred")
                .check(),
            "predicate-type"
        );
        let unknown_v02 = statement(
            PREDICATE_SLSA_V02,
            serde_json::json!({
            "builder": {"id": "https://example.com/builder"},
            "buildType": "https://example.com/other-build@v1",
            "invocation": {"configSource": {"uri": "git+https://github.com/a/b@refs/heads/main"}}}),
        );
        assert_eq!(
            Provenance::from_statement(&unknown_v02)
                .expect_err("v0.2")
                .check(),
            "build-type"
        );
        let unknown_v1 = statement(
            PREDICATE_SLSA_V1,
            serde_json::json!({
            "buildDefinition": {"buildType": "https://example.com/other-build@v1"},
            "runDetails": {"builder": {"id": "https://example.com/builder"}}}),
        );
        assert_eq!(
            Provenance::from_statement(&unknown_v1)
                .expect_err("v1")
                .check(),
            "build-type"
        );
        let no_builder = statement(
            PREDICATE_SLSA_V02,
            serde_json::json!({
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/go@v1"}),
        );
        assert_eq!(
            Provenance::from_statement(&no_builder)
                .expect_err("builder")
                .check(),
            "provenance-format"
        );
    }

    #[test]
    fn workflow_inputs() {
        let mut inputs = BTreeMap::new();
        inputs.insert("a".to_string(), Value::String("x".into()));
        inputs.insert("n".to_string(), Value::Bool(false));
        assert!(check_input(&inputs, "a", "x").is_ok());
        assert!(check_input(&inputs, "n", "false").is_ok());
        assert!(check_input(&inputs, "a", "y").is_err());
        assert!(check_input(&inputs, "b", "x").is_err());
    }
}
