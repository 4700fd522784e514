//! Renderings of a [`ReviewReport`] for people: a terminal (colour only when asked, i.e. on a
//! TTY) and Markdown for a pull-request comment. JSON is the serde form (`docs/diff-json.md`).
use super::{ChangedAspect, EntryFacts, FileChanges, ReviewReport, Side, Signal};
use std::fmt::Write as _;

/// At most this many rows per file section in the human and Markdown renderings; the JSON form
/// always lists every entry.
pub const MAX_FILE_ROWS: usize = 200;

/// Human-readable size: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn human_size(n: u64) -> String {
    const UNITS: &[&str] = &["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

fn title(r: &ReviewReport) -> String {
    let name = r.new.name.clone().or_else(|| r.old.name.clone());
    let ver = |s: &Side| s.version.clone().unwrap_or_else(|| s.label.clone());
    match name {
        Some(n) => format!("{n} {} -> {}", ver(&r.old), ver(&r.new)),
        None => format!("{} -> {}", r.old.label, r.new.label),
    }
}

fn facts(f: &EntryFacts) -> String {
    let kind = match f.kind {
        crate::content::manifest::EntryKind::File => "file",
        crate::content::manifest::EntryKind::Dir => "dir",
        crate::content::manifest::EntryKind::Symlink => "symlink",
        crate::content::manifest::EntryKind::Hardlink => "hardlink",
        crate::content::manifest::EntryKind::Embedded => "embedded",
    };
    let mut s = format!("{kind}, {}, {}", human_size(f.size), f.mode);
    if let Some(t) = &f.link_target {
        let _ = write!(s, ", -> {t}");
    }
    s
}

fn change_facts(c: &super::FileChange) -> String {
    let mut parts = Vec::new();
    for a in &c.changed {
        parts.push(match a {
            ChangedAspect::Kind => {
                format!("kind {:?} -> {:?}", c.old.kind, c.new.kind).to_lowercase()
            }
            ChangedAspect::Size => format!(
                "size {} -> {}",
                human_size(c.old.size),
                human_size(c.new.size)
            ),
            ChangedAspect::Mode => format!("mode {} -> {}", c.old.mode, c.new.mode),
            ChangedAspect::Content => "content".to_string(),
            ChangedAspect::LinkTarget => format!(
                "link {} -> {}",
                c.old.link_target.as_deref().unwrap_or("(none)"),
                c.new.link_target.as_deref().unwrap_or("(none)")
            ),
        });
    }
    parts.join(", ")
}

fn signal_details(s: &Signal) -> Vec<String> {
    let mut d = Vec::new();
    if let Some(n) = &s.note {
        d.push(n.clone());
    }
    if let Some(o) = &s.old {
        d.push(format!("old: {o}"));
    }
    if let Some(n) = &s.new {
        d.push(format!("new: {n}"));
    }
    d
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

struct Paint(bool);

impl Paint {
    fn p(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn files_summary(f: &FileChanges) -> String {
    format!(
        "{} added, {} removed, {} changed, {} unchanged",
        f.added.len(),
        f.removed.len(),
        f.changed.len(),
        f.unchanged
    )
}

/// The terminal rendering. `color` adds ANSI colours (callers pass true only on a TTY).
pub fn render_human(r: &ReviewReport, color: bool) -> String {
    let c = Paint(color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        c.p("1", &format!("vetted diff: {}", one_line(&title(r))))
    );
    for (tag, s) in [("old", &r.old), ("new", &r.new)] {
        let _ = writeln!(
            out,
            "  {tag}: {}  {}  ({} entries, {})",
            one_line(&s.label),
            s.sha512.sri(),
            s.entries,
            human_size(s.unpacked_bytes)
        );
    }
    if r.identical {
        let _ = writeln!(
            out,
            "\n{}",
            c.p("32", "identical: the artifacts are byte-for-byte the same")
        );
        return out;
    }
    let _ = writeln!(out);
    if !r.behaviours.is_empty() {
        let _ = writeln!(out, "Behaviour changes ({}):", r.behaviours.len());
        for line in super::render_changes(&r.behaviours, 200) {
            let _ = writeln!(out, "  {}", one_line(&line));
        }
        let _ = writeln!(out);
    }
    if r.signals.is_empty() {
        let _ = writeln!(out, "Signals: none");
    } else {
        let _ = writeln!(out, "Signals ({}):", r.signals.len());
        for s in &r.signals {
            let _ = writeln!(
                out,
                "  {}  {}",
                c.p("1;33", &format!("{:<22}", s.kind.name())),
                one_line(&s.subject)
            );
            for d in signal_details(s) {
                let _ = writeln!(out, "      {}", one_line(&d));
            }
            if !s.files.is_empty() {
                let _ = writeln!(out, "      files: {}", one_line(&s.files.join(", ")));
            }
        }
    }
    let _ = writeln!(out, "\nFiles: {}", files_summary(&r.files));
    let rows = r
        .files
        .added
        .iter()
        .map(|f| (c.p("32", "+"), &f.path, facts(&f.facts)))
        .chain(
            r.files
                .removed
                .iter()
                .map(|f| (c.p("31", "-"), &f.path, facts(&f.facts))),
        )
        .chain(
            r.files
                .changed
                .iter()
                .map(|f| (c.p("33", "~"), &f.path, change_facts(f))),
        );
    let total = r.files.added.len() + r.files.removed.len() + r.files.changed.len();
    for (mark, path, detail) in rows.take(MAX_FILE_ROWS) {
        let _ = writeln!(out, "  {mark} {}  ({detail})", one_line(path));
    }
    if total > MAX_FILE_ROWS {
        let _ = writeln!(out, "  ... and {} more (see --json)", total - MAX_FILE_ROWS);
    }
    out
}

/// Inline code for Markdown table cells: no newlines, pipes escaped, backticks fenced.
fn code(s: &str) -> String {
    let s = one_line(s).replace('|', "\\|");
    // A fence one backtick longer than the longest run inside (CommonMark code spans).
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{s}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {s} {fence}")
    }
}

fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// The Markdown rendering, for a pull-request comment.
pub fn render_markdown(r: &ReviewReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### vetted diff: {}\n", code(&title(r)));
    let _ = writeln!(out, "| | old | new |\n|---|---|---|");
    let _ = writeln!(
        out,
        "| operand | {} | {} |",
        code(&r.old.label),
        code(&r.new.label)
    );
    let _ = writeln!(
        out,
        "| sha512 | {} | {} |",
        code(&r.old.sha512.sri()),
        code(&r.new.sha512.sri())
    );
    let _ = writeln!(out, "| entries | {} | {} |", r.old.entries, r.new.entries);
    let _ = writeln!(
        out,
        "| unpacked | {} | {} |",
        human_size(r.old.unpacked_bytes),
        human_size(r.new.unpacked_bytes)
    );
    let _ = writeln!(out);
    if r.identical {
        let _ = writeln!(
            out,
            "**Identical**: the artifacts are byte-for-byte the same."
        );
        return out;
    }
    if r.signals.is_empty() {
        let _ = writeln!(out, "#### Signals: none\n");
    } else {
        let _ = writeln!(out, "#### Signals ({})\n", r.signals.len());
        let _ = writeln!(
            out,
            "| signal | subject | details | files |\n|---|---|---|---|"
        );
        for s in &r.signals {
            let mut details: Vec<String> = s.note.iter().map(|n| cell(n)).collect();
            if let Some(o) = &s.old {
                details.push(format!("old: {}", code(o)));
            }
            if let Some(n) = &s.new {
                details.push(format!("new: {}", code(n)));
            }
            let files: Vec<String> = s.files.iter().map(|f| code(f)).collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                s.kind.name(),
                code(&s.subject),
                details.join("<br>"),
                files.join(" ")
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "#### Files: {}\n", files_summary(&r.files));
    let total = r.files.added.len() + r.files.removed.len() + r.files.changed.len();
    if total > 0 {
        let _ = writeln!(out, "<details><summary>File changes</summary>\n");
        let _ = writeln!(out, "| | path | details |\n|---|---|---|");
        let rows = r
            .files
            .added
            .iter()
            .map(|f| ("+", &f.path, facts(&f.facts)))
            .chain(
                r.files
                    .removed
                    .iter()
                    .map(|f| ("-", &f.path, facts(&f.facts))),
            )
            .chain(
                r.files
                    .changed
                    .iter()
                    .map(|f| ("~", &f.path, change_facts(f))),
            );
        for (mark, path, detail) in rows.take(MAX_FILE_ROWS) {
            let _ = writeln!(out, "| {mark} | {} | {} |", code(path), cell(&detail));
        }
        if total > MAX_FILE_ROWS {
            let _ = writeln!(
                out,
                "\n... and {} more (see the JSON report)",
                total - MAX_FILE_ROWS
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}
