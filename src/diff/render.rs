//! Renderings of a [`ReviewReport`] for people: a terminal (colour only when asked, i.e. on a
//! TTY) and Markdown for a pull-request comment. JSON is the serde form (`docs/diff-json.md`).
use super::delta::{BehaviourChange, Change, CodeStatus};
use super::{ChangedAspect, EntryFacts, FileChange, FileChanges, ReviewReport, Side, Signal};
use crate::limits::review::MARKDOWN_CHARS;
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
        "{} added, {} removed, {} changed, {} moved, {} unchanged",
        f.added.len(),
        f.removed.len(),
        f.changed.len(),
        f.moved.len(),
        f.unchanged
    )
}

/// At most this many behaviour changes in the human rendering (all are in the JSON and HTML).
pub const MAX_BEHAVIOUR_ROWS: usize = 100;
/// At most this many diff lines in the human rendering.
pub const MAX_HUMAN_DIFF_LINES: usize = 3000;

/// One line describing a behaviour change: `+ process-spawn [shell] "curl ..." in path:12`.
pub(crate) fn behaviour_line(b: &BehaviourChange) -> String {
    let sign = match b.change {
        Change::Added => "+",
        Change::Removed => "-",
    };
    let attrs = if b.behaviour.attributes.is_empty() {
        String::new()
    } else {
        format!(
            " [{}]",
            b.behaviour
                .attributes
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let value = b
        .behaviour
        .value
        .as_deref()
        .map(|v| format!(" {}", one_line(&truncate(v, 120))))
        .unwrap_or_default();
    format!(
        "{sign} {}{attrs}{value}  ({}:{}:{})",
        behaviour_kind_name(b.behaviour.kind),
        one_line(&b.path),
        b.behaviour.line,
        b.behaviour.column
    )
}

pub(crate) fn behaviour_kind_name(k: crate::content::manifest::BehaviourKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}"))
}

pub(crate) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// The pair's name: `path`, or `old -> new (similarity 0.93)` when it was renamed.
pub(crate) fn pair_name(c: &FileChange) -> String {
    if c.old_path == c.new_path {
        c.new_path.clone()
    } else {
        format!(
            "{} -> {}{}",
            c.old_path,
            c.new_path,
            c.similarity
                .map(|s| format!(" (similarity {:.3})", s.as_f64()))
                .unwrap_or_default()
        )
    }
}

/// The one-paragraph summary: what is left to decide.
pub fn summary(r: &ReviewReport) -> Vec<String> {
    let d = &r.review;
    let mut out = Vec::new();
    let added = d
        .behaviour_changes
        .iter()
        .filter(|b| b.change == Change::Added)
        .count();
    out.push(format!(
        "{} behaviour change(s) ({} added, {} removed)",
        d.behaviour_changes.len(),
        added,
        d.behaviour_changes.len() - added
    ));
    if !d.analysis_gaps.is_empty() {
        out.push(format!(
            "{} new or changed module(s) not fully analysed: their behaviour changes may be incomplete; read them",
            d.analysis_gaps.len()
        ));
    }
    for (what, c) in [("embedded modules", &d.embedded), ("files", &d.files)] {
        if c.old_total == 0 && c.new_total == 0 {
            continue;
        }
        out.push(format!(
            "{what}: {} -> {}; {} unchanged, {} moved, {} paired with changes ({} in place, {} renamed): {} with no semantic change, {} changed (+{} -{} lines), {} not compared; unpaired: {} added, {} removed",
            c.old_total,
            c.new_total,
            c.unchanged,
            c.moved,
            c.changed_in_place + c.renamed_and_changed,
            c.changed_in_place,
            c.renamed_and_changed,
            c.no_semantic_change,
            c.changed,
            c.added_lines,
            c.removed_lines,
            c.not_compared,
            c.unpaired_added,
            c.unpaired_removed
        ));
    }
    if !d.code_compared {
        out.push(
            "code not compared (only digests): the artifacts' bytes were not available".into(),
        );
    }
    out
}

/// Changed pairs whose code differs, in report order.
pub(crate) fn code_changed(r: &ReviewReport) -> impl Iterator<Item = &FileChange> {
    r.files.changed.iter().filter(|c| {
        c.code.as_ref().is_none_or(|k| {
            !matches!(
                k.status,
                CodeStatus::NoSemanticChange | CodeStatus::SameText
            )
        })
    })
}

/// The terminal rendering. `color` adds ANSI colours (callers pass true only on a TTY).
/// Decisions first: behaviour changes, signals, changed code, then what needs no decision.
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
    let _ = writeln!(out, "\nTo decide:");
    for l in summary(r) {
        let _ = writeln!(out, "  {}", one_line(&l));
    }
    let gaps = &r.review.analysis_gaps;
    if !gaps.is_empty() {
        let _ = writeln!(
            out,
            "\nNot fully analysed ({}): read these yourself",
            gaps.len()
        );
        for g in gaps.iter().take(MAX_BEHAVIOUR_ROWS) {
            let _ = writeln!(
                out,
                "  {}  {}",
                c.p("1;33", &one_line(&g.path)),
                one_line(&truncate(&g.reason, 200))
            );
        }
        if gaps.len() > MAX_BEHAVIOUR_ROWS {
            let _ = writeln!(
                out,
                "  ... and {} more (see --json or --html)",
                gaps.len() - MAX_BEHAVIOUR_ROWS
            );
        }
    }
    let bc = &r.review.behaviour_changes;
    if !bc.is_empty() {
        let _ = writeln!(
            out,
            "\nBehaviour changes ({}), highest risk first:",
            bc.len()
        );
        for b in bc.iter().take(MAX_BEHAVIOUR_ROWS) {
            let _ = writeln!(
                out,
                "  {} {}",
                c.p("1;33", &format!("{:>3}", b.risk)),
                behaviour_line(b)
            );
            if !b.behaviour.snippet.is_empty() {
                let _ = writeln!(
                    out,
                    "        {}",
                    one_line(&truncate(&b.behaviour.snippet, 160))
                );
            }
        }
        if bc.len() > MAX_BEHAVIOUR_ROWS {
            let _ = writeln!(
                out,
                "  ... and {} more (see --json or --html)",
                bc.len() - MAX_BEHAVIOUR_ROWS
            );
        }
    }
    if r.signals.is_empty() {
        let _ = writeln!(out, "\nSignals: none");
    } else {
        let _ = writeln!(out, "\nSignals ({}):", r.signals.len());
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
                let _ = writeln!(
                    out,
                    "      files: {}",
                    one_line(&truncate(&s.files.join(", "), 400))
                );
            }
        }
    }
    let changed: Vec<&FileChange> = code_changed(r).collect();
    if !changed.is_empty() {
        let _ = writeln!(out, "\nChanged ({}):", changed.len());
        let mut budget = MAX_HUMAN_DIFF_LINES;
        for ch in &changed {
            let detail = match &ch.code {
                Some(k) if k.status == CodeStatus::Changed => {
                    format!("+{} -{} lines", k.diff.added_lines, k.diff.removed_lines)
                }
                Some(k) => k.status.name().to_string(),
                None => change_facts(ch),
            };
            let _ = writeln!(
                out,
                "  {} {}  ({detail})",
                c.p("33", "~"),
                one_line(&pair_name(ch))
            );
            if let Some(k) = &ch.code {
                if let Some(n) = &k.note {
                    let _ = writeln!(out, "      {}", one_line(n));
                }
                for h in &k.diff.hunks {
                    if budget == 0 {
                        break;
                    }
                    let _ = writeln!(out, "    {}", c.p("36", &h.header()));
                    for l in h.lines.iter().take(budget) {
                        let painted = match l.as_bytes().first() {
                            Some(b'+') => c.p("32", &one_line(&truncate(l, 400))),
                            Some(b'-') => c.p("31", &one_line(&truncate(l, 400))),
                            _ => one_line(&truncate(l, 400)),
                        };
                        let _ = writeln!(out, "    {painted}");
                    }
                    budget = budget.saturating_sub(h.lines.len());
                }
            }
        }
        if budget == 0 {
            let _ = writeln!(out, "  ... more diff lines in --json and --html");
        }
    }
    let quiet = r.files.changed.len() - changed.len();
    if quiet > 0 {
        let _ = writeln!(
            out,
            "\nNo semantic change: {quiet} paired entries differ only by minifier renames, comments or compression"
        );
    }
    if !r.files.moved.is_empty() {
        let _ = writeln!(
            out,
            "Moved: {} entries with the same bytes under a new path",
            r.files.moved.len()
        );
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
        );
    let total = r.files.added.len() + r.files.removed.len();
    for (mark, path, detail) in rows.take(MAX_FILE_ROWS) {
        let _ = writeln!(out, "  {mark} {}  ({detail})", one_line(path));
    }
    if total > MAX_FILE_ROWS {
        let _ = writeln!(out, "  ... and {} more (see --json)", total - MAX_FILE_ROWS);
    }
    for n in &r.review.notes {
        let _ = writeln!(out, "note: {}", one_line(n));
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

/// The Markdown rendering, for a pull-request comment: decisions first, and never more than
/// [`MARKDOWN_CHARS`] characters (GitHub's comment limit): past a budget, sections are cut short
/// and point at the HTML page (`html`: where it is, e.g. the workflow artifact's name).
pub fn render_markdown(r: &ReviewReport, html: Option<&str>) -> String {
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
    let _ = writeln!(out, "**To decide:**\n");
    for l in summary(r) {
        let _ = writeln!(out, "- {}", cell(&l));
    }
    let _ = writeln!(out, "\nReview digest: `{}`\n", r.digest());
    let pointer = match html {
        Some(h) => format!("the full review page ({})", cell(h)),
        None => {
            "the JSON report (`vetted diff --json`) or the review page (`--html FILE`)".to_string()
        }
    };
    // Everything below is cut to fit; the closing pointer is always there.
    let budget = MARKDOWN_CHARS - 2_000;
    let mut cut = false;
    let mut push = |out: &mut String, text: String| -> bool {
        if out.chars().count() + text.chars().count() > budget {
            cut = true;
            false
        } else {
            out.push_str(&text);
            true
        }
    };
    let gaps = &r.review.analysis_gaps;
    if !gaps.is_empty() {
        push(
            &mut out,
            format!(
                "#### Not fully analysed ({}): read these yourself\n\n| module | why |\n|---|---|\n",
                gaps.len()
            ),
        );
        let mut shown = 0;
        for g in gaps {
            let row = format!(
                "| {} | {} |\n",
                code(&g.path),
                cell(&truncate(&g.reason, 200))
            );
            if !push(&mut out, row) {
                break;
            }
            shown += 1;
        }
        if shown < gaps.len() {
            let _ = writeln!(out, "\n... {} more in {pointer}", gaps.len() - shown);
        }
        out.push('\n');
    }
    let bc = &r.review.behaviour_changes;
    if !bc.is_empty() {
        push(
            &mut out,
            format!(
                "#### Behaviour changes ({}), highest risk first\n\n| risk | change | kind | value | module |\n|---|---|---|---|---|\n",
                bc.len()
            ),
        );
        let mut shown = 0;
        for b in bc {
            let row = format!(
                "| {} | {} | `{}` | {} | {} |\n",
                b.risk,
                match b.change {
                    Change::Added => "added",
                    Change::Removed => "removed",
                },
                behaviour_kind_name(b.behaviour.kind),
                b.behaviour
                    .value
                    .as_deref()
                    .map(|v| code(&truncate(v, 100)))
                    .unwrap_or_default(),
                code(&format!("{}:{}", b.path, b.behaviour.line))
            );
            if !push(&mut out, row) {
                break;
            }
            shown += 1;
        }
        if shown < bc.len() {
            let _ = writeln!(out, "\n... {} more in {pointer}", bc.len() - shown);
        }
        out.push('\n');
    }
    if r.signals.is_empty() {
        push(&mut out, "#### Signals: none\n\n".into());
    } else {
        push(
            &mut out,
            format!(
                "#### Signals ({})\n\n| signal | subject | details | files |\n|---|---|---|---|\n",
                r.signals.len()
            ),
        );
        let mut shown = 0;
        for s in &r.signals {
            let mut details: Vec<String> = s.note.iter().map(|n| cell(n)).collect();
            if let Some(o) = &s.old {
                details.push(format!("old: {}", code(o)));
            }
            if let Some(n) = &s.new {
                details.push(format!("new: {}", code(n)));
            }
            let files: Vec<String> = s.files.iter().take(5).map(|f| code(f)).collect();
            let more = if s.files.len() > 5 {
                format!(" and {} more", s.files.len() - 5)
            } else {
                String::new()
            };
            let row = format!(
                "| `{}` | {} | {} | {}{more} |\n",
                s.kind.name(),
                code(&s.subject),
                details.join("<br>"),
                files.join(" ")
            );
            if !push(&mut out, row) {
                break;
            }
            shown += 1;
        }
        if shown < r.signals.len() {
            let _ = writeln!(out, "\n... {} more in {pointer}", r.signals.len() - shown);
        }
        out.push('\n');
    }
    let changed: Vec<&FileChange> = code_changed(r).collect();
    if !changed.is_empty() {
        push(
            &mut out,
            format!(
                "#### Changed code ({})\n\n<details><summary>modules and files whose code changed after normalisation</summary>\n\n| entry | change |\n|---|---|\n",
                changed.len()
            ),
        );
        let mut shown = 0;
        for ch in &changed {
            let detail = match &ch.code {
                Some(k) if k.status == CodeStatus::Changed => {
                    format!("+{} -{} lines", k.diff.added_lines, k.diff.removed_lines)
                }
                Some(k) => k.status.name().to_string(),
                None => change_facts(ch),
            };
            if !push(
                &mut out,
                format!("| {} | {} |\n", code(&pair_name(ch)), cell(&detail)),
            ) {
                break;
            }
            shown += 1;
        }
        if shown < changed.len() {
            let _ = writeln!(out, "\n... {} more in {pointer}", changed.len() - shown);
        }
        out.push_str("\n</details>\n\n");
    }
    let quiet = r.files.changed.len() - changed.len();
    let _ = writeln!(
        out,
        "No semantic change: {quiet} paired entries. Moved: {} entries.\n",
        r.files.moved.len()
    );
    let _ = writeln!(out, "#### Files: {}\n", files_summary(&r.files));
    let total = r.files.added.len() + r.files.removed.len();
    if total > 0 {
        out.push_str("<details><summary>Unpaired files added and removed</summary>\n\n| | path | details |\n|---|---|---|\n");
        let mut shown = 0;
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
            );
        for (mark, path, detail) in rows.take(MAX_FILE_ROWS) {
            if !push(
                &mut out,
                format!("| {mark} | {} | {} |\n", code(path), cell(&detail)),
            ) {
                break;
            }
            shown += 1;
        }
        if total > shown {
            let _ = writeln!(out, "\n... and {} more in {pointer}", total - shown);
        }
        out.push_str("\n</details>\n");
    }
    if cut {
        let _ = writeln!(
            out,
            "\n_This comment is a summary cut to GitHub's comment limit; see {pointer}._"
        );
    }
    out
}
