//! Line diffs (the `similar` crate, Myers, no deadline so the result is deterministic) as
//! unified-diff hunks. Code is compared on its canonical printing and shown with its own names:
//! both printings have the same lines, so the hunks of one are shown with the text of the other.
use serde::Serialize;
use similar::{Algorithm, DiffTag, capture_diff_slices, group_diff_ops};

/// Lines of context around a change.
pub const CONTEXT: usize = 3;

/// One hunk of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// 1-based first line on the old side (0 when the hunk has no old lines).
    pub old_start: usize,
    /// Old lines covered.
    pub old_lines: usize,
    /// 1-based first line on the new side.
    pub new_start: usize,
    /// New lines covered.
    pub new_lines: usize,
    /// The lines, each prefixed with ' ', '-' or '+'.
    pub lines: Vec<String>,
}

impl Hunk {
    /// The `@@ -a,b +c,d @@` header.
    pub fn header(&self) -> String {
        format!(
            "@@ -{},{} +{},{} @@",
            self.old_start, self.old_lines, self.new_start, self.new_lines
        )
    }
}

/// A line diff: counts of every changed line, and the hunks kept (at most a given number of
/// lines; the counts always cover everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineDiff {
    /// Lines only on the new side.
    pub added_lines: u64,
    /// Lines only on the old side.
    pub removed_lines: u64,
    /// The hunks.
    pub hunks: Vec<Hunk>,
    /// Hunks left out past the line budget.
    #[serde(skip_serializing_if = "is_zero")]
    pub hunks_left_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Diff `old_cmp` against `new_cmp` and show the hunks with the lines of `old_show` and
/// `new_show` (same lengths as the compared ones, else the compared lines are shown).
/// At most `budget` hunk lines are kept.
pub fn line_diff(
    old_cmp: &[&str],
    new_cmp: &[&str],
    old_show: &[&str],
    new_show: &[&str],
    budget: usize,
) -> LineDiff {
    let (old_show, new_show) = if old_show.len() == old_cmp.len() && new_show.len() == new_cmp.len()
    {
        (old_show, new_show)
    } else {
        (old_cmp, new_cmp)
    };
    let ops = capture_diff_slices(Algorithm::Myers, old_cmp, new_cmp);
    let mut d = LineDiff::default();
    for op in &ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => {}
            DiffTag::Delete => d.removed_lines += o.len() as u64,
            DiffTag::Insert => d.added_lines += n.len() as u64,
            DiffTag::Replace => {
                d.removed_lines += o.len() as u64;
                d.added_lines += n.len() as u64;
            }
        }
    }
    let mut used = 0usize;
    for group in group_diff_ops(ops, CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (os, ne) = (first.old_range().start, last.old_range().end);
        let (ns, nend) = (first.new_range().start, last.new_range().end);
        let mut lines = Vec::new();
        for op in &group {
            let (tag, o, n) = op.as_tag_tuple();
            match tag {
                // Context as the new build has it (the build under review).
                DiffTag::Equal => lines.extend(n.map(|i| format!(" {}", new_show[i]))),
                DiffTag::Delete => lines.extend(o.map(|i| format!("-{}", old_show[i]))),
                DiffTag::Insert => lines.extend(n.map(|i| format!("+{}", new_show[i]))),
                DiffTag::Replace => {
                    lines.extend(o.map(|i| format!("-{}", old_show[i])));
                    lines.extend(n.map(|i| format!("+{}", new_show[i])));
                }
            }
        }
        if used + lines.len() > budget {
            d.hunks_left_out += 1;
            continue;
        }
        used += lines.len();
        let start = |s: usize, len: usize| if len == 0 { s } else { s + 1 };
        d.hunks.push(Hunk {
            old_start: start(os, ne - os),
            old_lines: ne - os,
            new_start: start(ns, nend - ns),
            new_lines: nend - ns,
            lines,
        });
    }
    d
}

/// The unified diff text of hunks, with `--- a` / `+++ b` headers.
pub fn unified(old_name: &str, new_name: &str, d: &LineDiff) -> String {
    let mut s = format!("--- {old_name}\n+++ {new_name}\n");
    for h in &d.hunks {
        s.push_str(&h.header());
        s.push('\n');
        for l in &h.lines {
            s.push_str(l);
            s.push('\n');
        }
    }
    if d.hunks_left_out > 0 {
        s.push_str(&format!(
            "... {} more hunk(s) not shown (see vetted show)\n",
            d.hunks_left_out
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_show_display_lines() {
        let old_cmp = ["a", "b", "c", "d"];
        let new_cmp = ["a", "b", "X", "d"];
        let old_show = ["A", "B", "C", "D"];
        let new_show = ["A", "B", "Y", "D"];
        let d = line_diff(&old_cmp, &new_cmp, &old_show, &new_show, 100);
        assert_eq!((d.added_lines, d.removed_lines), (1, 1));
        assert_eq!(d.hunks.len(), 1);
        assert_eq!(d.hunks[0].lines, vec![" A", " B", "-C", "+Y", " D"]);
        assert_eq!(d.hunks[0].header(), "@@ -1,4 +1,4 @@");
        let t = unified("a/x", "b/x", &d);
        assert!(t.starts_with("--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n"));
    }

    #[test]
    fn budget_counts_everything_keeps_some() {
        let old: Vec<String> = (0..100).map(|i| format!("l{i}")).collect();
        let new: Vec<String> = (0..100)
            .map(|i| {
                if i % 10 == 0 {
                    format!("x{i}")
                } else {
                    format!("l{i}")
                }
            })
            .collect();
        let o: Vec<&str> = old.iter().map(String::as_str).collect();
        let n: Vec<&str> = new.iter().map(String::as_str).collect();
        let d = line_diff(&o, &n, &o, &n, 20);
        assert_eq!((d.added_lines, d.removed_lines), (10, 10));
        assert!(d.hunks_left_out > 0 && !d.hunks.is_empty());
    }
}
