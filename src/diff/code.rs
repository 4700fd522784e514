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
    let (old_ids, new_ids) = intern_lines(old_cmp, new_cmp);
    let ops = capture_diff_slices(Algorithm::Myers, &old_ids, &new_ids);
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

/// Each line as a number, equal numbers for equal lines: Myers compares lines many times over,
/// and comparing numbers instead of strings gives the same diff (string comparisons were a
/// tenth of the compare phase on a native build's delta).
fn intern_lines<'a>(old: &[&'a str], new: &[&'a str]) -> (Vec<u32>, Vec<u32>) {
    // Fx, not SipHash: the keys are our own printing, and a collision costs only speed.
    let mut ids: rustc_hash::FxHashMap<&'a str, u32> = rustc_hash::FxHashMap::default();
    let mut id = |l: &'a str| {
        let next = ids.len() as u32;
        *ids.entry(l).or_insert(next)
    };
    let o = old.iter().map(|l| id(l)).collect();
    let n = new.iter().map(|l| id(l)).collect();
    (o, n)
}

/// A name the canonical printing introduced that a consistent renaming may change: a
/// binding (`@@12`, class 0) or an export position (`@@E3`, class 1). Other marks (`@@I`,
/// `@@M`, `@@=`) are not renamed.
fn mark_at(line: &[u8], i: usize, mark: &[u8]) -> Option<(usize, u8, u32)> {
    let m = mark.len();
    if line.get(i..i + m) != Some(mark) {
        return None;
    }
    let (class, from) = match line.get(i + m) {
        Some(b'E') => (1u8, i + m + 1),
        _ => (0u8, i + m),
    };
    let end = from
        + line[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    if end == from {
        return None;
    }
    let n = std::str::from_utf8(&line[from..end]).ok()?.parse().ok()?;
    Some((end, class, n))
}

/// The next renameable mark at or after `from`: (start, end, class, number). Candidates are
/// found with `memchr` on the mark's first byte (checking every position was a third of the
/// compare phase on a native build's delta).
fn next_mark(line: &[u8], mut from: usize, mark: &[u8]) -> Option<(usize, usize, u8, u32)> {
    let first = *mark.first()?;
    while from < line.len() {
        let i = from + memchr::memchr(first, &line[from..])?;
        if let Some((end, class, n)) = mark_at(line, i, mark) {
            return Some((i, end, class, n));
        }
        from = i + 1;
    }
    None
}

/// The renameable marks of a line, in order, and the hash of the line with their numbers
/// taken out (its shape).
fn marks(line: &str, mark: &[u8]) -> (Vec<(u8, u32)>, u64) {
    use std::hash::{Hash as _, Hasher as _};
    let b = line.as_bytes();
    let mut out = Vec::new();
    // Fx, not SipHash (a tenth of the alignment): a collision of two shapes only offers
    // the alignment a wrong match, and the diff after it compares the lines themselves.
    let mut h = rustc_hash::FxHasher::default();
    let mut last = 0;
    while let Some((i, end, class, n)) = next_mark(b, last, mark) {
        b[last..i].hash(&mut h);
        class.hash(&mut h);
        out.push((class, n));
        last = end;
    }
    b[last..].hash(&mut h);
    (out, h.finish())
}

/// Align the renameable names of two canonical printings: the lines that are the same once
/// the numbers are taken out are matched (a Myers diff of the shapes), each matched line votes
/// for old name ↔ new name at each position, and the names are paired one to one, most votes
/// first. Returns the new lines with each paired name replaced by its old name and each
/// unpaired one by a fresh name (`@@n…`, never on the old side), and the pairing itself
/// (class, old number, new number).
///
/// Why this is sound: the canonical printing numbers bindings by declaration order, so one
/// added declaration renumbers every later one and a small edit would show as a change of every
/// line after it. The renaming here is a bijection applied to every occurrence, so when the
/// renamed new side equals the old side, the programs are the same up to a consistent renaming
/// of their bindings, which is what "no semantic change" means; where they differ, the diff
/// shows the lines that differ under the best such renaming. `mark` is the prefix of the names
/// the printing introduced; the caller picks one that the code's own printing never contains
/// (a string holding `@@1` must not be renamed like a binding).
pub fn align_marks(old: &[&str], new: &[&str], mark: &str) -> (Vec<String>, Vec<(u8, u32, u32)>) {
    let mk = mark.as_bytes();
    let om: Vec<(Vec<(u8, u32)>, u64)> = old.iter().map(|l| marks(l, mk)).collect();
    let nm: Vec<(Vec<(u8, u32)>, u64)> = new.iter().map(|l| marks(l, mk)).collect();
    let os: Vec<u64> = om.iter().map(|m| m.1).collect();
    let ns: Vec<u64> = nm.iter().map(|m| m.1).collect();
    let mut votes: rustc_hash::FxHashMap<(u8, u32, u32), u32> = rustc_hash::FxHashMap::default();
    for op in capture_diff_slices(Algorithm::Myers, &os, &ns) {
        let (tag, o, n) = op.as_tag_tuple();
        if tag != DiffTag::Equal {
            continue;
        }
        for (i, j) in o.zip(n) {
            let (a, b) = (&om[i].0, &nm[j].0);
            if a.len() != b.len() {
                continue;
            }
            for (&(ca, x), &(cb, y)) in a.iter().zip(b) {
                if ca == cb {
                    *votes.entry((ca, x, y)).or_default() += 1;
                }
            }
        }
    }
    let mut ranked: Vec<((u8, u32, u32), u32)> = votes.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut used_old = rustc_hash::FxHashSet::default();
    let mut to_old: rustc_hash::FxHashMap<(u8, u32), u32> = rustc_hash::FxHashMap::default();
    let mut pairs = Vec::new();
    for ((c, x, y), _) in ranked {
        if !to_old.contains_key(&(c, y)) && used_old.insert((c, x)) {
            to_old.insert((c, y), x);
            pairs.push((c, x, y));
        }
    }
    let renamed = new
        .iter()
        .map(|line| {
            let b = line.as_bytes();
            let mut s = String::with_capacity(line.len());
            let mut last = 0;
            while let Some((i, end, class, n)) = next_mark(b, last, mk) {
                use std::fmt::Write as _;
                s.push_str(&line[last..i]);
                let e = if class == 1 { "E" } else { "" };
                // Writing to a String cannot fail.
                let _ = match to_old.get(&(class, n)) {
                    Some(o) => write!(s, "{mark}{e}{o}"),
                    None => write!(s, "{mark}n{e}{n}"),
                };
                last = end;
            }
            s.push_str(&line[last..]);
            s
        })
        .collect();
    pairs.sort_unstable();
    (renamed, pairs)
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

    fn align_marks_at(old: &[&str], new: &[&str]) -> (Vec<String>, Vec<(u8, u32, u32)>) {
        align_marks(old, new, "@@")
    }

    fn align(old: &[&str], new: &[&str]) -> Vec<String> {
        align_marks(old, new, "@@").0
    }

    #[test]
    fn an_added_declaration_does_not_renumber_the_rest() {
        // One new binding (@@1 on the new side) shifts every later number by one.
        let old = [
            "let @@0 = 1;",
            "function @@1(@@2) {",
            "  return @@2 + @@0;",
            "}",
        ];
        let new = [
            "let @@0 = 1;",
            "let @@1 = 2;",
            "function @@2(@@3) {",
            "  return @@3 + @@0;",
            "}",
        ];
        let r = align(&old, &new);
        assert_eq!(
            r,
            [
                "let @@0 = 1;",
                "let @@n1 = 2;",
                "function @@1(@@2) {",
                "  return @@2 + @@0;",
                "}"
            ]
        );
        let r: Vec<&str> = r.iter().map(String::as_str).collect();
        let d = line_diff(&old, &r, &old, &r, 100);
        assert_eq!((d.added_lines, d.removed_lines), (1, 0));
    }

    #[test]
    fn swapped_references_are_still_a_change() {
        // `a - b` became `b - a`: no renaming makes both lines equal, since the declarations
        // pin the names (an attack that relies on renaming hiding a swap fails).
        let old = ["let @@0 = f(), @@1 = g();", "h(@@0 - @@1);"];
        let new = ["let @@0 = f(), @@1 = g();", "h(@@1 - @@0);"];
        let r = align(&old, &new);
        let r: Vec<&str> = r.iter().map(String::as_str).collect();
        let d = line_diff(&old, &r, &old, &r, 100);
        assert_eq!((d.added_lines, d.removed_lines), (1, 1));
    }

    #[test]
    fn renaming_is_one_to_one() {
        // Two old names cannot both become one new name.
        let old = ["x(@@0);", "x(@@1);"];
        let new = ["x(@@0);", "x(@@0);"];
        let (r, pairs) = align_marks(&old, &new, "@@");
        assert_eq!(pairs, vec![(0, 0, 0)]);
        assert_eq!(r, ["x(@@0);", "x(@@0);"]);
        let r: Vec<&str> = r.iter().map(String::as_str).collect();
        let d = line_diff(&old, &r, &old, &r, 100);
        assert_eq!((d.added_lines, d.removed_lines), (1, 1));
    }

    #[test]
    fn other_marks_are_kept() {
        let (r, _) = align_marks_at(
            &["import { @@=a as @@0 } from \"@@M0\";"],
            &["import { @@=b as @@3 } from \"@@M0\";"],
        );
        assert_eq!(r, ["import { @@=b as @@n3 } from \"@@M0\";"]);
        let (r, _) = align_marks_at(&["export { @@0 as @@E0 };"], &["export { @@4 as @@E1 };"]);
        assert_eq!(r, ["export { @@0 as @@E0 };"]);
    }

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
