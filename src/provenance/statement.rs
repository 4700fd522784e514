//! in-toto Statements, v0.1 and v1 (github.com/in-toto/attestation, `spec/v1/statement.md`):
//! `_type`, `subject` (name + digest set), `predicateType`, `predicate`.
use super::ProvenanceError;
use crate::digest::Digest;
use crate::limits::{LimitExceeded, Limits};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// in-toto Statement v0.1.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// One subject: a name and its digests (algorithm name -> lowercase hex or other encoding).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// The subject's name (a file name, a purl such as `pkg:npm/x@1.0.0`, `_`).
    pub name: String,
    /// Digest set.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// Whether this subject carries `digest` (same algorithm, same value).
    pub fn has(&self, digest: &Digest) -> bool {
        self.digest
            .get(digest.algorithm().name())
            .is_some_and(|v| v.eq_ignore_ascii_case(&digest.hex()))
    }
}

/// A parsed statement, of a known `_type`, within the subject limit.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `_type`.
    pub statement_type: String,
    /// `predicateType`.
    pub predicate_type: String,
    /// Subjects (at least one).
    pub subjects: Vec<Subject>,
    /// The predicate, read by the predicate-specific module.
    pub predicate: serde_json::Value,
    /// The statement as JSON (for `--print-provenance`).
    pub json: serde_json::Value,
}

#[derive(Deserialize)]
struct WireStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    subject: Vec<WireSubject>,
    #[serde(default)]
    predicate: serde_json::Value,
}

#[derive(Deserialize)]
struct WireSubject {
    #[serde(default)]
    name: String,
    digest: BTreeMap<String, String>,
}

impl Statement {
    /// Parse a DSSE payload as an in-toto statement.
    pub fn parse(payload: &[u8], limits: &Limits) -> Result<Statement, ProvenanceError> {
        let json: serde_json::Value = serde_json::from_slice(payload).map_err(|e| {
            ProvenanceError::Malformed(format!("payload is not a JSON statement: {e}"))
        })?;
        let wire: WireStatement = serde_json::from_value(json.clone()).map_err(|e| {
            ProvenanceError::Malformed(format!("payload is not an in-toto statement: {e}"))
        })?;
        if wire.statement_type != STATEMENT_V01 && wire.statement_type != STATEMENT_V1 {
            return Err(ProvenanceError::mismatch(
                "statement-type",
                format!("{STATEMENT_V01} or {STATEMENT_V1}"),
                wire.statement_type,
            ));
        }
        LimitExceeded::check(
            "statement subjects",
            limits.statement_subjects as u64,
            wire.subject.len() as u64,
        )?;
        if wire.subject.is_empty() {
            return Err(ProvenanceError::Malformed(
                "statement has no subject".into(),
            ));
        }
        Ok(Statement {
            statement_type: wire.statement_type,
            predicate_type: wire.predicate_type,
            subjects: wire
                .subject
                .into_iter()
                .map(|s| Subject {
                    name: s.name,
                    digest: s.digest,
                })
                .collect(),
            predicate: wire.predicate,
            json,
        })
    }

    /// The subject carrying `digest`.
    pub fn subject_with(&self, digest: &Digest) -> Option<&Subject> {
        self.subjects.iter().find(|s| s.has(digest))
    }

    /// Require a subject with `digest`, or say which digests the statement lists.
    pub fn require_subject(&self, digest: &Digest) -> Result<&Subject, ProvenanceError> {
        self.subject_with(digest).ok_or_else(|| {
            let listed: Vec<String> = self
                .subjects
                .iter()
                .take(4)
                .map(|s| {
                    let d = s
                        .digest
                        .get(digest.algorithm().name())
                        .map(|h| format!("{}:{h}", digest.algorithm().name()))
                        .unwrap_or_else(|| "(no such digest)".into());
                    format!("{} {d}", s.name)
                })
                .collect();
            ProvenanceError::mismatch(
                "subject-digest",
                digest.to_string(),
                format!(
                    "subjects [{}{}]",
                    listed.join(", "),
                    if self.subjects.len() > 4 { ", ..." } else { "" }
                ),
            )
        })
    }

    /// Require a predicate type.
    pub fn require_predicate_type(&self, expected: &str) -> Result<(), ProvenanceError> {
        if self.predicate_type == expected {
            Ok(())
        } else {
            Err(ProvenanceError::mismatch(
                "predicate-type",
                expected,
                &self.predicate_type,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement_with_subjects(n: usize) -> Vec<u8> {
        let subjects: Vec<serde_json::Value> = (0..n)
            .map(|i| serde_json::json!({"name": format!("f{i}"), "digest": {"sha256": format!("{i:064x}")}}))
            .collect();
        serde_json::to_vec(
            &serde_json::json!({"_type": STATEMENT_V1, "predicateType": "p",
            "subject": subjects, "predicate": {}}),
        )
        .expect("json")
    }

    #[test]
    fn ten_thousand_subjects_hit_the_limit() {
        let limits = Limits::default();
        assert!(matches!(
            Statement::parse(&statement_with_subjects(10_000), &limits),
            Err(ProvenanceError::Limit(_))
        ));
        assert!(Statement::parse(&statement_with_subjects(3), &limits).is_ok());
    }

    #[test]
    fn unknown_statement_type_is_rejected() {
        let p = br#"{"_type":"https://in-toto.io/Statement/v9","predicateType":"p","subject":[{"digest":{"sha256":"00"}}]}"#;
        let err = Statement::parse(p, &Limits::default()).expect_err("v9");
        assert_eq!(err.check(), "statement-type");
    }

    #[test]
    fn subject_match_needs_same_algorithm_and_value() {
        let s = Statement::parse(&statement_with_subjects(2), &Limits::default()).expect("ok");
        let one = Digest::from_hex(crate::digest::Algorithm::Sha256, &format!("{:064x}", 1))
            .expect("digest");
        assert_eq!(s.require_subject(&one).expect("found").name, "f1");
        let other = Digest::from_hex(crate::digest::Algorithm::Sha256, &format!("{:064x}", 7))
            .expect("digest");
        assert_eq!(
            s.require_subject(&other).expect_err("absent").check(),
            "subject-digest"
        );
    }
}
