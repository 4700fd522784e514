//! The gate's report: every artifact, every check, pass or fail, with the facts behind it.
//! Rendered for people (terminal), for pipelines (JSON) and for pull requests (Markdown).
use serde::Serialize;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Passed.
    Pass,
    /// Failed: the artifact (and so the closure) is rejected.
    Fail,
    /// Not applicable or not required by the policy (the detail says which).
    Skipped,
}

/// One check on one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name, e.g. `integrity`, `provenance`, `review`.
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// What was found: expected vs actual on failure; the facts on success.
    pub detail: String,
}

/// Everything checked for one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactReport {
    /// `name@version` (or the spec, when it could not be resolved).
    pub artifact: String,
    /// Why it is in the closure (`requested`, or `dependency of X`).
    pub reason: String,
    /// sha512 SRI, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// The checks, in pipeline order.
    pub checks: Vec<Check>,
}

impl ArtifactReport {
    /// A report with no checks yet.
    pub fn new(artifact: impl Into<String>, reason: impl Into<String>) -> ArtifactReport {
        ArtifactReport {
            artifact: artifact.into(),
            reason: reason.into(),
            integrity: None,
            checks: Vec::new(),
        }
    }

    /// Record a check.
    pub fn push(&mut self, name: &str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.to_string(),
            status,
            detail: detail.into(),
        });
    }

    /// Whether every check passed or was skipped.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// The first failed check.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }
}

/// The schema of `admit --json` (docs/json.md).
pub const ADMIT_SCHEMA: &str = "vetted.admit/v1";

/// The verdict of one `admit` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdmitReport {
    /// [`ADMIT_SCHEMA`]: the version of this JSON shape (docs/json.md).
    pub schema: &'static str,
    /// What was asked for.
    pub spec: String,
    /// `admitted` or `rejected`.
    pub verdict: &'static str,
    /// One per artifact of the closure.
    pub artifacts: Vec<ArtifactReport>,
    /// What was written to the store (empty when rejected: nothing is admitted).
    pub admitted: Vec<String>,
    /// Notes (e.g. "no signing key: no VSA was written").
    pub notes: Vec<String>,
}

impl AdmitReport {
    /// The one-line reason for stderr: each failed artifact and its first failed check.
    pub fn rejection_line(&self) -> String {
        let parts: Vec<String> = self
            .artifacts
            .iter()
            .filter_map(|a| {
                a.first_failure()
                    .map(|c| format!("{}: {}: {}", a.artifact, c.name, c.detail))
            })
            .collect();
        parts.join("; ")
    }

    /// Human rendering.
    pub fn human(&self, colour: bool) -> String {
        let paint = |s: &str, code: &str| {
            if colour {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let mut out = format!(
            "{} {}\n",
            paint(
                &self.verdict.to_uppercase(),
                if self.verdict == "admitted" {
                    "32;1"
                } else {
                    "31;1"
                }
            ),
            self.spec
        );
        for a in &self.artifacts {
            out.push_str(&format!("\n{} ({})\n", a.artifact, a.reason));
            for c in &a.checks {
                let mark = match c.status {
                    Status::Pass => paint("pass", "32"),
                    Status::Fail => paint("FAIL", "31;1"),
                    Status::Skipped => paint("skip", "33"),
                };
                out.push_str(&format!(
                    "  {mark}  {:<18} {}\n",
                    c.name,
                    crate::report::one_line(&c.detail)
                ));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("\nnote: {n}\n"));
        }
        out
    }

    /// Markdown rendering (a pull-request comment).
    pub fn markdown(&self) -> String {
        let mut out = format!("### vetted admit `{}`: **{}**\n\n", self.spec, self.verdict);
        out.push_str("| artifact | check | status | detail |\n|---|---|---|---|\n");
        for a in &self.artifacts {
            for c in &a.checks {
                let status = match c.status {
                    Status::Pass => "pass",
                    Status::Fail => "**FAIL**",
                    Status::Skipped => "skipped",
                };
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    a.artifact,
                    c.name,
                    status,
                    one_line(&c.detail).replace('|', "\\|")
                ));
            }
        }
        for n in &self.notes {
            out.push_str(&format!("\n> {n}\n"));
        }
        out
    }
}

/// Collapse a detail to one line, with control characters escaped (details carry text from
/// packages, which must not drive the terminal).
pub fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}
