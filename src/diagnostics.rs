//! Compiler-style diagnostics for the human-edited files (ledger, policy): every problem at once,
//! each with file, line, column and a hint; and the spanned-TOML field readers that produce them.
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Sp<'i> = Spanned<DeValue<'i>>;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The ledger (or the entry, in an import) cannot be used.
    Error,
    /// Worth reading; does not stop the ledger from loading.
    Warning,
}

/// One problem in one file, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as the user named it (e.g. `ledger/audits.toml`).
    pub file: PathBuf,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// 1-based column (in characters), when the problem has a place.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {sev}: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// All the diagnostics from loading a ledger. `Ledger::load` fails with this when there is at
/// least one error; warnings alone travel with the loaded ledger.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct LedgerDiagnostics {
    /// In file order (then by line).
    pub items: Vec<Diagnostic>,
}

impl LedgerDiagnostics {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// Every diagnostic, one after the other, as a compiler prints them.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&d.to_string());
            out.push('\n');
        }
        out
    }

    pub(crate) fn sort(&mut self) {
        self.items
            .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    }
}

/// Maps byte offsets in one source text to lines and columns, and collects diagnostics for it.
pub(crate) struct SourceMap<'a> {
    file: PathBuf,
    text: &'a str,
    line_starts: Vec<usize>,
    /// In a lenient source (an imported ledger) errors are reported as warnings: the offending
    /// entry is dropped and never grants anything.
    lenient: bool,
    pub(crate) out: Vec<Diagnostic>,
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(file: &Path, text: &'a str, lenient: bool) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        SourceMap {
            file: file.to_path_buf(),
            text,
            line_starts,
            lenient,
            out: Vec::new(),
        }
    }

    /// 1-based (line, column) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.position(offset).0
    }

    pub(crate) fn error(
        &mut self,
        span: Option<&std::ops::Range<usize>>,
        message: String,
        hint: Option<String>,
    ) {
        let severity = if self.lenient {
            Severity::Warning
        } else {
            Severity::Error
        };
        self.push(severity, span, message, hint);
    }

    pub(crate) fn warning(
        &mut self,
        span: Option<&std::ops::Range<usize>>,
        message: String,
        hint: Option<String>,
    ) {
        self.push(Severity::Warning, span, message, hint);
    }

    fn push(
        &mut self,
        severity: Severity,
        span: Option<&std::ops::Range<usize>>,
        message: String,
        hint: Option<String>,
    ) {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = self.position(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.out.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line,
            column,
            message,
            hint,
        });
    }

    pub(crate) fn is_lenient(&self) -> bool {
        self.lenient
    }
}

/// Reads the keys of one table, remembering which were used so the rest can be reported.
pub(crate) struct Fields<'t, 'i> {
    table: &'t DeTable<'i>,
    pub(crate) span: Range<usize>,
    used: BTreeSet<String>,
}

impl<'t, 'i> Fields<'t, 'i> {
    pub(crate) fn new(table: &'t DeTable<'i>, span: Range<usize>) -> Self {
        Fields {
            table,
            span,
            used: BTreeSet::new(),
        }
    }

    pub(crate) fn get(&mut self, key: &str) -> Option<&'t Sp<'i>> {
        self.used.insert(key.to_string());
        self.table.get(key)
    }

    /// Report keys nobody asked for.
    pub(crate) fn finish(self, sm: &mut SourceMap<'_>, what: &str, known: &[&str]) {
        for (k, _) in self.table.iter() {
            let name: &str = k.get_ref();
            if !self.used.contains(name) {
                sm.error(
                    Some(&k.span()),
                    format!("unknown key '{name}' in {what}"),
                    Some(format!("known keys: {}", known.join(", "))),
                );
            }
        }
    }
}

pub(crate) fn type_hint(v: &DeValue<'_>) -> &'static str {
    v.type_str()
}

/// A required string.
pub(crate) fn req_str(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    key: &str,
    what: &str,
    hint: &str,
) -> Option<(String, Range<usize>)> {
    match f.get(key) {
        None => {
            sm.error(
                Some(&f.span.clone()),
                format!("{what} has no '{key}'"),
                Some(hint.to_string()),
            );
            None
        }
        Some(v) => str_value(sm, v, key, what),
    }
}

/// The optional top-level `format = N` of a vetted file. Absent means `current` (files written
/// before the key existed); a number other than `current` is an error, so a file written for
/// a newer vetted is refused instead of half-understood. Returns whether the file declared it.
pub(crate) fn format_version(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    what: &str,
    current: u32,
) -> bool {
    let Some(v) = f.get("format") else {
        return false;
    };
    let declared = v
        .get_ref()
        .as_integer()
        .filter(|i| i.radix() == 10)
        .and_then(|i| i.as_str().parse::<u32>().ok());
    match declared {
        Some(n) if n == current => {}
        Some(n) => sm.error(
            Some(&v.span()),
            format!("{what} has format = {n}; this vetted reads format {current}"),
            Some("use the vetted release that wrote the file, or rewrite it for this one".into()),
        ),
        None => sm.error(
            Some(&v.span()),
            format!(
                "'format' in {what} must be the integer {current}, found {}",
                type_hint(v.get_ref())
            ),
            Some(format!("write format = {current}")),
        ),
    }
    true
}

pub(crate) fn opt_str(
    sm: &mut SourceMap<'_>,
    f: &mut Fields<'_, '_>,
    key: &str,
    what: &str,
) -> Option<(String, Range<usize>)> {
    f.get(key).and_then(|v| str_value(sm, v, key, what))
}

pub(crate) fn str_value(
    sm: &mut SourceMap<'_>,
    v: &Sp<'_>,
    key: &str,
    what: &str,
) -> Option<(String, Range<usize>)> {
    match v.get_ref().as_str() {
        Some(s) => Some((s.to_string(), v.span())),
        None => {
            sm.error(
                Some(&v.span()),
                format!(
                    "'{key}' in {what} must be a string, found {}",
                    type_hint(v.get_ref())
                ),
                Some(format!("write {key} = \"...\"")),
            );
            None
        }
    }
}

pub(crate) fn str_list(
    sm: &mut SourceMap<'_>,
    v: &Sp<'_>,
    key: &str,
    what: &str,
) -> Option<Vec<(String, Range<usize>)>> {
    let Some(arr) = v.get_ref().as_array() else {
        sm.error(
            Some(&v.span()),
            format!(
                "'{key}' in {what} must be an array of strings, found {}",
                type_hint(v.get_ref())
            ),
            Some(format!("write {key} = [\"...\"]")),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in arr.iter() {
        match str_value(sm, item, key, what) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// The tables of an array of tables (`[[key]]`), each with its index and span.
pub(crate) fn tables<'t, 'i>(
    sm: &mut SourceMap<'_>,
    v: &'t Sp<'i>,
    key: &str,
) -> Vec<(usize, &'t DeTable<'i>, Range<usize>)> {
    let Some(arr) = v.get_ref().as_array() else {
        sm.error(
            Some(&v.span()),
            format!(
                "'{key}' must be an array of tables, found {}",
                type_hint(v.get_ref())
            ),
            Some(format!("write each entry as a [[{key}]] table")),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in arr.iter().enumerate() {
        match item.get_ref().as_table() {
            Some(t) => out.push((i, t, item.span())),
            None => sm.error(
                Some(&item.span()),
                format!(
                    "each '{key}' entry must be a table, found {}",
                    type_hint(item.get_ref())
                ),
                Some(format!("write each entry as a [[{key}]] table")),
            ),
        }
    }
    out
}

/// Parse TOML into the spanned document tree, reporting every syntax error with its place.
/// `None` when the text is not valid TOML: no entry is read from such a file.
pub(crate) fn parse_toml<'i>(
    sm: &mut SourceMap<'_>,
    text: &'i str,
) -> Option<Spanned<DeTable<'i>>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if errors.is_empty() {
        return Some(doc);
    }
    for e in errors {
        sm.error(
            e.span().as_ref(),
            format!("invalid TOML: {}", e.message().trim_end()),
            Some("fix the syntax; no entry is read from a file that is not valid TOML".into()),
        );
    }
    None
}
