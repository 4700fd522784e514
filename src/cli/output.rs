//! How a command ends: the outcome (exit code) and how failures are printed.

/// `println!` that does not panic when stdout is a closed pipe (`vetted ... | head`): the reader
/// has gone, so there is nobody left to tell.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
use serde_json::json;

/// The schema of the object `finish` prints with `--json` when a command fails before it has a
/// result of its own (docs/json.md).
pub const FAILURE_SCHEMA: &str = "vetted.failure/v1";

/// How a command ended; maps one-to-one onto the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Verified / admitted / matched: exit 0.
    Success,
    /// A normal negative verdict: exit 1.
    Rejected,
    /// Usage or operational error: exit 2.
    Error,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Rejected => 1,
            Outcome::Error => 2,
        }
    }
}

/// Why a command did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The input was checked and rejected: `check` names the failed check, `reason` says expected vs actual.
    Rejected {
        /// The check that failed (short, stable, e.g. "certificate-identity").
        check: String,
        /// Expected and actual values.
        reason: String,
    },
    /// The command could not do its job (bad usage, missing file, network down): exit 2.
    Operational(String),
}

impl Failure {
    /// A rejection.
    pub fn rejected(check: impl Into<String>, reason: impl ToString) -> Self {
        Failure::Rejected {
            check: check.into(),
            reason: reason.to_string(),
        }
    }

    /// An operational error.
    pub fn operational(message: impl ToString) -> Self {
        Failure::Operational(message.to_string())
    }
}

/// Print a failure (one line on stderr; with `json`, also a JSON object on stdout) and return
/// the outcome. A success passes through.
pub fn finish(json: bool, result: Result<Outcome, Failure>) -> Outcome {
    match result {
        Ok(outcome) => outcome,
        Err(Failure::Rejected { check, reason }) => {
            eprintln!("vetted: rejected: {check}: {reason}");
            if json {
                crate::outln!(
                    "{}",
                    json!({"schema": FAILURE_SCHEMA, "verdict": "rejected", "check": check, "reason": reason})
                );
            }
            Outcome::Rejected
        }
        Err(Failure::Operational(message)) => {
            eprintln!("vetted: error: {message}");
            if json {
                crate::outln!(
                    "{}",
                    json!({"schema": FAILURE_SCHEMA, "verdict": "error", "error": message})
                );
            }
            Outcome::Error
        }
    }
}
