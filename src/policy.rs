//! The policy file (`vetted.toml`): which packages may be admitted, which evidence each needs,
//! and which ledger criteria. Read with the same compiler-style diagnostics as the ledger (all
//! problems at once, each with its line and a hint) and written canonically by `vetted fmt`.
//!
//! ```toml
//! [[package]]
//! ecosystem = "npm"
//! name = "@anthropic-ai/claude-code"   # exact name, or a glob such as "@anthropic-ai/*"
//! criteria = ["safe-to-run"]           # ledger criteria every admitted artifact needs
//! provenance = "if-present"            # required | if-present | not-required
//! platforms = ["linux-x64"]            # optional per-platform packages admitted with it
//! min-age = "3d"                       # cooldown from the registry's publish time (d, h, m)
//! new-install-scripts = "block"        # block | allow: install scripts not in an audited build
//! source-uri = "github.com/anthropics/claude-code"  # expected provenance, when present
//! builder-id = "https://github.com/actions/runner/github-hosted"
//! signer-workflow = "github.com/anthropics/claude-code/.github/workflows/release.yml"
//! issuer = "https://token.actions.githubusercontent.com"
//! vendor-manifest = "claude-code"      # platform binaries must match the vendor-signed manifest
//! ```
use crate::diagnostics::{
    Diagnostic, Fields, LedgerDiagnostics, SourceMap, format_version, opt_str, req_str, str_list,
    tables,
};

/// The policy format this vetted reads and writes (`format = 1`, optional; docs/policy.md).
pub const POLICY_FORMAT: u32 = 1;
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// Whether provenance is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProvenanceRequirement {
    /// Missing provenance rejects.
    Required,
    /// Provenance that is present must verify; absence is recorded, not rejected.
    IfPresent,
    /// Not checked even when present (recorded as such).
    NotRequired,
}

/// What to do with lifecycle scripts that no audited build of the package had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NewInstallScripts {
    /// Reject (the default).
    Block,
    /// Allow (the ledger review still has to cover the build).
    Allow,
}

/// A package name or a glob (`*` matches any run of characters, `?` one character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern(String);

impl NamePattern {
    /// A pattern from text (`*` any run of characters, `?` one).
    pub fn new(pattern: &str) -> NamePattern {
        NamePattern(pattern.to_string())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern is an exact name (no wildcard).
    pub fn is_exact(&self) -> bool {
        !self.0.contains(['*', '?'])
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        glob_match(self.0.as_bytes(), name.as_bytes())
    }
}

fn glob_match(p: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard match with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// The rules for the packages one `[[package]]` entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePolicy {
    /// Line of the entry (for reports).
    pub line: usize,
    /// Ecosystem (`npm`).
    pub ecosystem: String,
    /// Name or glob.
    pub name: NamePattern,
    /// Ledger criteria each artifact needs.
    pub criteria: Vec<String>,
    /// Provenance requirement.
    pub provenance: ProvenanceRequirement,
    /// Platforms whose optional packages are admitted along with it (e.g. `linux-x64`).
    pub platforms: Vec<String>,
    /// Cooldown since the registry's publish time.
    pub min_age: Option<jiff::SignedDuration>,
    /// New install scripts.
    pub new_install_scripts: NewInstallScripts,
    /// Expected provenance source repository (slsa-verifier `--source-uri` semantics).
    pub source_uri: Option<String>,
    /// Expected builder id.
    pub builder_id: Option<String>,
    /// Expected signer workflow (`github.com/OWNER/REPO/.github/workflows/FILE`).
    pub signer_workflow: Option<String>,
    /// Expected OIDC issuer of the provenance signature.
    pub issuer: Option<String>,
    /// A vendor whose signed release manifest the package's binary must match
    /// (`claude-code`: see `src/vendor/`).
    pub vendor_manifest: Option<String>,
}

/// A loaded policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The file it came from.
    pub path: PathBuf,
    /// sha256 of the file's bytes (recorded in every admission and VSA).
    pub sha256: crate::digest::Digest,
    /// The entries, in file order.
    pub packages: Vec<PackagePolicy>,
    /// Whether the file says `format = 1` (kept by `vetted fmt`).
    pub format_declared: bool,
}

const PACKAGE_KEYS: &[&str] = &[
    "ecosystem",
    "name",
    "criteria",
    "provenance",
    "platforms",
    "min-age",
    "new-install-scripts",
    "source-uri",
    "builder-id",
    "signer-workflow",
    "issuer",
    "vendor-manifest",
];
/// `claude-native`: Claude Code's native release channel (`vetted admit claude-native:V/P`).
const ECOSYSTEMS: &[&str] = &[
    "npm",
    crate::vendor::native::NATIVE_ECOSYSTEM,
    crate::gate::asset::ASSET_ECOSYSTEM,
];

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read (operational).
    #[error("cannot read policy {0}: {1}")]
    Read(String, #[source] std::io::Error),
    /// The file has errors (each with its line).
    #[error("{0}")]
    Invalid(LedgerDiagnostics),
}

impl Policy {
    /// Load and validate a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let bytes =
            std::fs::read(path).map_err(|e| PolicyError::Read(path.display().to_string(), e))?;
        let text = String::from_utf8_lossy(&bytes);
        let (packages, format_declared, diags) = parse(path, &text);
        let mut d = LedgerDiagnostics { items: diags };
        if d.has_errors() {
            d.sort();
            return Err(PolicyError::Invalid(d));
        }
        Ok(Policy {
            path: path.to_path_buf(),
            sha256: crate::digest::sha256(&bytes),
            packages,
            format_declared,
        })
    }

    /// The entry for a package: the first exact-name entry, else the first glob that matches.
    pub fn for_package(&self, ecosystem: &str, name: &str) -> Option<&PackagePolicy> {
        let same_eco = |p: &&PackagePolicy| p.ecosystem == ecosystem;
        self.packages
            .iter()
            .filter(same_eco)
            .find(|p| p.name.is_exact() && p.name.as_str() == name)
            .or_else(|| {
                self.packages
                    .iter()
                    .filter(same_eco)
                    .find(|p| !p.name.is_exact() && p.name.matches(name))
            })
    }
}

fn parse_duration(text: &str) -> Option<jiff::SignedDuration> {
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let secs = match unit {
        "d" => n.checked_mul(86_400)?,
        "h" => n.checked_mul(3_600)?,
        "m" => n.checked_mul(60)?,
        _ => return None,
    };
    Some(jiff::SignedDuration::from_secs(secs))
}

fn format_duration(d: jiff::SignedDuration) -> String {
    let s = d.as_secs();
    if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3_600 == 0 {
        format!("{}h", s / 3_600)
    } else {
        format!("{}m", s / 60)
    }
}

fn parse(file: &Path, text: &str) -> (Vec<PackagePolicy>, bool, Vec<Diagnostic>) {
    let mut sm = SourceMap::new(file, text, false);
    let Some(doc) = crate::diagnostics::parse_toml(&mut sm, text) else {
        return (Vec::new(), false, sm.out);
    };
    let top = doc.get_ref();
    let mut top_fields = Fields::new(top, 0..0);
    let mut out = Vec::new();
    let format_declared = format_version(&mut sm, &mut top_fields, "the policy", POLICY_FORMAT);
    match top_fields.get("package") {
        None => sm.error(
            None,
            "the policy admits nothing: it has no [[package]] entry".into(),
            Some("add a [[package]] table with ecosystem, name and criteria".into()),
        ),
        Some(v) => {
            for (_, t, span) in tables(&mut sm, v, "package") {
                if let Some(p) = parse_package(&mut sm, t, span) {
                    out.push(p);
                }
            }
        }
    }
    top_fields.finish(&mut sm, "the policy", &["format", "package"]);
    // Two entries for the same exact name would make the first one win silently.
    for (i, a) in out.iter().enumerate() {
        if let Some(b) = out[..i]
            .iter()
            .find(|b| b.ecosystem == a.ecosystem && b.name == a.name)
        {
            let msg = format!(
                "duplicate [[package]] for {} (first at line {})",
                a.name.as_str(),
                b.line
            );
            sm.out.push(Diagnostic {
                severity: crate::diagnostics::Severity::Error,
                file: file.to_path_buf(),
                line: Some(a.line),
                column: Some(1),
                message: msg,
                hint: Some("merge the two entries".into()),
            });
        }
    }
    (out, format_declared, sm.out)
}

fn parse_package(
    sm: &mut SourceMap<'_>,
    t: &DeTable<'_>,
    span: std::ops::Range<usize>,
) -> Option<PackagePolicy> {
    let line = sm.line_of(span.start);
    let what = "[[package]]";
    let errors_before = sm.out.len();
    let mut f = Fields::new(t, span.clone());
    let ecosystem = req_str(sm, &mut f, "ecosystem", what, "write ecosystem = \"npm\"");
    if let Some((e, s)) = &ecosystem
        && !ECOSYSTEMS.contains(&e.as_str())
    {
        sm.error(
            Some(s),
            format!("unknown ecosystem '{e}'"),
            Some(format!("known: {}", ECOSYSTEMS.join(", "))),
        );
    }
    let name = req_str(
        sm,
        &mut f,
        "name",
        what,
        "write name = \"@scope/pkg\" or a glob such as \"@scope/*\"",
    );
    if let Some((n, s)) = &name
        && n.is_empty()
    {
        sm.error(Some(s), "empty package name".into(), None);
    }
    let criteria = match f.get("criteria") {
        None => {
            sm.error(Some(&span), format!("{what} has no 'criteria'"), Some("write criteria = [\"safe-to-run\"]: every admitted artifact needs a ledger audit".into()));
            None
        }
        Some(v) => str_list(sm, v, "criteria", what),
    };
    if let Some(c) = &criteria
        && c.is_empty()
    {
        sm.error(
            Some(&span),
            "'criteria' is empty: nothing would be reviewed".into(),
            Some("write criteria = [\"safe-to-run\"]".into()),
        );
    }
    let provenance = match opt_str(sm, &mut f, "provenance", what) {
        None => Some(ProvenanceRequirement::Required),
        Some((p, s)) => match p.as_str() {
            "required" => Some(ProvenanceRequirement::Required),
            "if-present" => Some(ProvenanceRequirement::IfPresent),
            "not-required" => Some(ProvenanceRequirement::NotRequired),
            other => {
                sm.error(
                    Some(&s),
                    format!("unknown provenance requirement '{other}'"),
                    Some("write required, if-present or not-required".into()),
                );
                None
            }
        },
    };
    let platforms = f
        .get("platforms")
        .map(|v| str_list(sm, v, "platforms", what))
        .unwrap_or(Some(Vec::new()));
    let min_age = match opt_str(sm, &mut f, "min-age", what) {
        None => Some(None),
        Some((m, s)) => match parse_duration(&m) {
            Some(d) => Some(Some(d)),
            None => {
                sm.error(
                    Some(&s),
                    format!("invalid min-age '{m}'"),
                    Some("write a whole number with d, h or m, e.g. \"3d\"".into()),
                );
                None
            }
        },
    };
    let scripts = match opt_str(sm, &mut f, "new-install-scripts", what) {
        None => Some(NewInstallScripts::Block),
        Some((v, s)) => match v.as_str() {
            "block" => Some(NewInstallScripts::Block),
            "allow" => Some(NewInstallScripts::Allow),
            other => {
                sm.error(
                    Some(&s),
                    format!("unknown new-install-scripts '{other}'"),
                    Some("write block or allow".into()),
                );
                None
            }
        },
    };
    let source_uri = opt_str(sm, &mut f, "source-uri", what).map(|x| x.0);
    let builder_id = opt_str(sm, &mut f, "builder-id", what).map(|x| x.0);
    let signer_workflow = opt_str(sm, &mut f, "signer-workflow", what).map(|x| x.0);
    let issuer = opt_str(sm, &mut f, "issuer", what).map(|x| x.0);
    let vendor_manifest = match opt_str(sm, &mut f, "vendor-manifest", what) {
        None => Some(None),
        Some((v, _)) if crate::trust::vendor::VendorKey::vendors().contains(&v.as_str()) => {
            Some(Some(v))
        }
        Some((v, s)) => {
            sm.error(
                Some(&s),
                format!("unknown vendor-manifest '{v}'"),
                Some(format!(
                    "known: {}",
                    crate::trust::vendor::VendorKey::vendors().join(", ")
                )),
            );
            None
        }
    };
    if provenance == Some(ProvenanceRequirement::Required) && source_uri.is_none() {
        sm.error(
            Some(&span),
            "provenance is required but no 'source-uri' says where it must come from".into(),
            Some(
                "add source-uri = \"github.com/OWNER/REPO\", or set provenance = \"not-required\""
                    .into(),
            ),
        );
    }
    // The gate matches builder-id only inside the slsa-verifier-style check that source-uri
    // selects; alone it would be a pin that checks nothing, so it is refused.
    if builder_id.is_some() && source_uri.is_none() {
        sm.error(
            Some(&span),
            "'builder-id' is checked only together with 'source-uri', which is missing".into(),
            Some("add source-uri = \"github.com/OWNER/REPO\", or remove builder-id".into()),
        );
    }
    f.finish(sm, what, PACKAGE_KEYS);
    if sm.out[errors_before..]
        .iter()
        .any(|d| d.severity == crate::diagnostics::Severity::Error)
    {
        return None;
    }
    Some(PackagePolicy {
        line,
        ecosystem: ecosystem?.0,
        name: NamePattern(name?.0),
        criteria: criteria?.into_iter().map(|c| c.0).collect(),
        provenance: provenance?,
        platforms: platforms?.into_iter().map(|p| p.0).collect(),
        min_age: min_age?,
        new_install_scripts: scripts?,
        source_uri,
        builder_id,
        signer_workflow,
        issuer,
        vendor_manifest: vendor_manifest?,
    })
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The canonical text of a policy: entries in file order, keys in a fixed order, defaults written
/// out, so a diff of the policy shows exactly what changed.
pub fn canonical_text(policy: &Policy, header: &str) -> String {
    let mut out = String::from(header);
    if policy.format_declared {
        out.push_str(&format!("format = {POLICY_FORMAT}\n"));
    }
    for p in &policy.packages {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("[[package]]\n");
        let list = |v: &[String]| {
            format!(
                "[{}]",
                v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
            )
        };
        out.push_str(&format!("ecosystem = {}\n", quote(&p.ecosystem)));
        out.push_str(&format!("name = {}\n", quote(p.name.as_str())));
        out.push_str(&format!("criteria = {}\n", list(&p.criteria)));
        let prov = match p.provenance {
            ProvenanceRequirement::Required => "required",
            ProvenanceRequirement::IfPresent => "if-present",
            ProvenanceRequirement::NotRequired => "not-required",
        };
        out.push_str(&format!("provenance = {}\n", quote(prov)));
        out.push_str(&format!("platforms = {}\n", list(&p.platforms)));
        if let Some(d) = p.min_age {
            out.push_str(&format!("min-age = {}\n", quote(&format_duration(d))));
        }
        let scripts = match p.new_install_scripts {
            NewInstallScripts::Block => "block",
            NewInstallScripts::Allow => "allow",
        };
        out.push_str(&format!("new-install-scripts = {}\n", quote(scripts)));
        for (k, v) in [
            ("source-uri", &p.source_uri),
            ("builder-id", &p.builder_id),
            ("signer-workflow", &p.signer_workflow),
            ("issuer", &p.issuer),
            ("vendor-manifest", &p.vendor_manifest),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("{k} = {}\n", quote(v)));
            }
        }
    }
    out
}

/// The comment lines at the top of a file (kept by `fmt`).
pub fn header_of(text: &str) -> String {
    let mut h = String::new();
    for line in text.lines() {
        if line.starts_with('#') || (line.trim().is_empty() && !h.is_empty()) {
            h.push_str(line);
            h.push('\n');
        } else {
            break;
        }
    }
    h.trim_end().to_string() + if h.trim_end().is_empty() { "" } else { "\n" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Policy, LedgerDiagnostics> {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("vetted.toml");
        std::fs::write(&p, text).expect("write");
        match Policy::load(&p) {
            Ok(p) => Ok(p),
            Err(PolicyError::Invalid(d)) => Err(d),
            Err(e) => panic!("{e}"),
        }
    }

    const GOOD: &str = r#"# org policy
[[package]]
ecosystem = "npm"
name = "@anthropic-ai/claude-code"
criteria = ["safe-to-run"]
provenance = "if-present"
platforms = ["linux-x64"]
min-age = "3d"

[[package]]
ecosystem = "npm"
name = "@anthropic-ai/*"
criteria = ["safe-to-run"]
provenance = "not-required"
"#;

    #[test]
    fn loads_and_matches_exact_before_glob() {
        let p = load(GOOD).expect("valid");
        assert_eq!(p.packages.len(), 2);
        assert_eq!(
            p.for_package("npm", "@anthropic-ai/claude-code")
                .map(|e| e.line),
            Some(2)
        );
        assert_eq!(
            p.for_package("npm", "@anthropic-ai/claude-code-linux-x64")
                .map(|e| e.line),
            Some(10)
        );
        assert!(p.for_package("npm", "left-pad").is_none());
        assert_eq!(
            p.packages[0].min_age,
            Some(jiff::SignedDuration::from_hours(72))
        );
        assert_eq!(
            p.packages[1].new_install_scripts,
            NewInstallScripts::Block,
            "blocking is the default"
        );
    }

    #[test]
    fn policy_of_a_newer_format_is_refused_not_half_read() {
        let body = "[[package]]\necosystem = \"npm\"\nname = \"x\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"not-required\"\n";
        let e =
            load(&format!("format = 2\n{body}")).expect_err("a format this vetted does not read");
        assert!(
            e.to_string()
                .contains("format = 2; this vetted reads format 1"),
            "{e}"
        );
        assert!(
            load(&format!("format = \"1\"\n{body}")).is_err(),
            "a string is not a format"
        );
        // The current format, declared or not, loads.
        let declared = load(&format!("format = 1\n{body}")).expect("format 1");
        assert!(canonical_text(&declared, "").starts_with("format = 1\n\n[[package]]"));
        let bare = load(body).expect("no format key: format 1");
        assert!(canonical_text(&bare, "").starts_with("[[package]]"));
    }

    #[test]
    fn builder_id_without_source_uri_is_refused_not_silently_unchecked() {
        let pinned = |extra: &str| {
            format!(
                "[[package]]\necosystem = \"npm\"\nname = \"x\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"if-present\"\nbuilder-id = \"https://github.com/actions/runner/github-hosted\"\n{extra}"
            )
        };
        let e = load(&pinned("")).expect_err("a builder pin that nothing checks");
        assert!(
            e.to_string()
                .contains("'builder-id' is checked only together with 'source-uri'"),
            "{e}"
        );
        // With source-uri the pin is used, and the policy loads.
        let p = load(&pinned("source-uri = \"github.com/a/b\"\n")).expect("valid");
        assert!(p.packages[0].builder_id.is_some());
    }

    #[test]
    fn every_error_at_once_with_lines() {
        let text = r#"[[package]]
ecosystem = "pypi"
name = "x"
criteria = []
provenance = "maybe"
min-age = "three days"
colour = "blue"

[[package]]
name = "y"
criteria = ["safe-to-run"]
"#;
        let d = load(text).expect_err("invalid");
        let r = d.render();
        for (line, says) in [
            (2, "unknown ecosystem 'pypi'"),
            (1, "'criteria' is empty"),
            (5, "unknown provenance requirement 'maybe'"),
            (6, "invalid min-age 'three days'"),
            (7, "unknown key 'colour'"),
            (9, "has no 'ecosystem'"),
            (9, "provenance is required but no 'source-uri'"),
        ] {
            assert!(
                d.items
                    .iter()
                    .any(|i| i.line == Some(line) && i.message.contains(says)),
                "line {line}: {says}\n{r}"
            );
        }
        assert!(r.contains("hint:"), "{r}");
    }

    #[test]
    fn rejects_syntax_errors_duplicates_and_empty_policies() {
        assert!(load("[[package]\n").is_err());
        assert!(
            load("# nothing\n")
                .expect_err("no packages")
                .render()
                .contains("admits nothing")
        );
        let dup = "[[package]]\necosystem = \"npm\"\nname = \"a\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"not-required\"\n\n[[package]]\necosystem = \"npm\"\nname = \"a\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"not-required\"\n";
        let d = load(dup).expect_err("duplicate");
        assert!(
            d.items
                .iter()
                .any(|i| i.line == Some(7) && i.message.contains("duplicate")),
            "{}",
            d.render()
        );
    }

    #[test]
    fn vendor_manifest_names_a_pinned_vendor_or_is_an_error() {
        let ok = "[[package]]\necosystem = \"npm\"\nname = \"@anthropic-ai/*\"\ncriteria = [\"safe-to-run\"]\nprovenance = \"not-required\"\nvendor-manifest = \"claude-code\"\n";
        let p = load(ok).expect("valid");
        assert_eq!(
            p.packages[0].vendor_manifest.as_deref(),
            Some("claude-code")
        );
        assert!(canonical_text(&p, "").contains("vendor-manifest = \"claude-code\""));
        let d = load(&ok.replace("\"claude-code\"\n", "\"acme\"\n")).expect_err("unknown vendor");
        assert!(
            d.items
                .iter()
                .any(|i| i.line == Some(6) && i.message.contains("unknown vendor-manifest 'acme'")),
            "{}",
            d.render()
        );
    }

    #[test]
    fn glob_matching() {
        let g = NamePattern("@anthropic-ai/*".into());
        assert!(g.matches("@anthropic-ai/claude-code"));
        assert!(!g.matches("@anthropic-ai-evil/x"));
        assert!(!g.matches("x@anthropic-ai/claude-code"));
        assert!(NamePattern("a?c".into()).matches("abc"));
        assert!(!NamePattern("a?c".into()).matches("ac"));
        assert!(NamePattern("*".into()).matches(""));
    }

    #[test]
    fn canonical_round_trip() {
        let p = load(GOOD).expect("valid");
        let text = canonical_text(&p, &header_of(GOOD));
        let again = load(&text).expect("canonical text is valid");
        assert_eq!(again.packages.len(), 2);
        assert_eq!(
            canonical_text(&again, &header_of(&text)),
            text,
            "canonical is a fixed point"
        );
        assert!(text.starts_with("# org policy\n"));
    }
}
