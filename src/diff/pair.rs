//! Pairing entries across two builds when a bundler renamed them (content-hashed chunk names)
//! or a release moved them: one-to-one, within one container (the archive, or one executable's
//! embedded modules), in three rounds:
//!
//! 1. the same bytes (a move: same content, new path);
//! 2. the same canonical form (JavaScript equal up to a minifier's renames, see `js`): within a
//!    group of equal canonical forms, first the pairs that also name the same modules and pick
//!    the same exports (old names mapped through the pairs found so far), in passes until no more
//!    are found (a re-export chunk is paired once the chunk it re-exports is); then the rest by
//!    the overlap of the modules they name, then the tie-break below;
//! 3. similar normalised tokens and similar structure, in passes with a falling bar (0.9 down to
//!    [`MIN_SIMILARITY`]): the score is the estimated Jaccard similarity of the shingle sets,
//!    averaged, when the modules import others, with the Jaccard similarity of the modules they
//!    import (old names mapped through the pairs found so far: a chunk that only re-imports
//!    others is recognised by what it imports). Best scores first; each pass maps more names.
//!    Last, what is left is paired on token similarity alone, from [`TOKENS_ALONE`] up (a module
//!    whose imports were all re-drawn scores low on structure while its own code matches).
//!
//! Ties are broken by whether the two name the same modules and exports (as in round 2), then by
//! the name stem (the path with its content hash cut off), then by the closer size, then by path,
//! so the result does not depend on iteration order.
use super::js;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Lowest similarity at which two entries are paired.
pub const MIN_SIMILARITY: f64 = 0.5;
/// A sketch value shared by more entries than this carries no information (boilerplate) and is
/// not used to find candidates.
const COMMON_VALUE: usize = 40;
/// Token similarity below which two entries are not candidates at all.
const MIN_TOKENS: f64 = 0.3;
/// Token similarity at which what is left after the structured passes is paired on its tokens
/// alone.
const TOKENS_ALONE: f64 = 0.6;
/// Once no more than this many (old, new) combinations are left, all are candidates.
const BRUTE_FORCE_PAIRS: usize = 4_000_000;
/// Passes of round 2 that pair equal canonical forms naming the same (already paired) modules:
/// one per level of re-export chains; past it, the overlap and the tie-break decide.
const IMPORT_PASSES: usize = 32;
/// A group of equal canonical forms with more (old, new) combinations than this is paired by
/// the tie-break alone once the exact import matches are taken (the overlap is not scored).
const GROUP_OVERLAP_PAIRS: usize = 250_000;

/// Names as numbers: module paths, specifiers and picked exports, each interned once for both
/// sides, so that pairing compares and hashes numbers, not strings (it compares millions); also
/// the module specifiers of one module's facts (`js::JsFacts::names`).
#[derive(Debug, Default)]
pub struct Names {
    index: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The number of `s` (a new one the first time it is seen).
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(NONE);
        self.names.push(s.into());
        self.index.insert(s.into(), i);
        i
    }

    /// The names, each at its number.
    pub fn into_names(self) -> Vec<Box<str>> {
        self.names
    }
}

/// No name: never equal to one, not even to itself (an unknown mapping).
const NONE: u32 = u32::MAX;

/// The numbers of the candidates' paths and, per name, whether it keeps its name in the new
/// build (an old path that also exists there, or a name that is not an embedded module's, as
/// `node:fs`).
struct Ids {
    old: Vec<u32>,
    new: Vec<u32>,
    keeps: Vec<bool>,
}

impl Ids {
    fn new(
        old: &[Candidate<'_>],
        new: &[Candidate<'_>],
        names: &mut Names,
        same_path: &dyn Fn(&str) -> bool,
    ) -> Self {
        let old_ids = old.iter().map(|c| names.id(c.path)).collect();
        let new_ids = new.iter().map(|c| names.id(c.path)).collect();
        Ids {
            old: old_ids,
            new: new_ids,
            keeps: names
                .names
                .iter()
                .map(|s| same_path(s) || !s.contains("!/"))
                .collect(),
        }
    }
}

/// The new names of old names: paired so far, or kept.
struct PathMap<'k> {
    map: Vec<u32>,
    keeps: &'k [bool],
}

impl<'k> PathMap<'k> {
    fn new(ids: &'k Ids, pairs: &[Pair]) -> Self {
        let mut map = vec![NONE; ids.keeps.len()];
        for p in pairs {
            if let (Some(&o), Some(&n)) = (ids.old.get(p.old), ids.new.get(p.new))
                && let Some(m) = map.get_mut(o as usize)
            {
                *m = n;
            }
        }
        PathMap {
            map,
            keeps: &ids.keeps,
        }
    }

    /// The new name of an old name; `None` when it is not known (yet).
    fn get(&self, old: u32) -> Option<u32> {
        match self.map.get(old as usize) {
            Some(&n) if n != NONE => Some(n),
            _ if self.keeps.get(old as usize).copied().unwrap_or(false) => Some(old),
            _ => None,
        }
    }

    /// Old names mapped, unknown ones as [`NONE`], sorted.
    fn sorted(&self, names: &[u32]) -> Vec<u32> {
        let mut v: Vec<u32> = names.iter().map(|&l| self.get(l).unwrap_or(NONE)).collect();
        v.sort_unstable();
        v
    }
}

/// An old candidate's `imports` as the new build names them; `None` when one is not paired yet.
fn mapped_imports(c: &Candidate<'_>, map: &PathMap<'_>) -> Option<Vec<(u32, u32)>> {
    c.imports
        .iter()
        .map(|&(p, e)| map.get(p).map(|n| (n, e)))
        .collect()
}

/// One side's candidate for pairing.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Manifest path.
    pub path: &'a str,
    /// Content digest (hex), if any.
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Canonical form digest (JavaScript that parsed).
    pub canonical: Option<[u8; 32]>,
    /// Similarity sketch (empty: pair by bytes only).
    pub sketch: &'a [u64],
    /// The paths of the modules it names (imports), as [`Names`], sorted: pairing uses them as
    /// structure.
    pub links: Vec<u32>,
    /// What it names, in source order, as the canonical comparison sees it: every embedded module
    /// name (its path, `(path, "")`) and every imported name (the path of the module it comes
    /// from, or the specifier when that is not an embedded module, and the export it picks:
    /// `#<position among that module's exports>`, or `=<name>`). Two modules with the same
    /// canonical form and the same `imports` (old paths mapped through the pairing) are the same
    /// program: how equal re-export chunks are told apart. Both as [`Names`].
    pub imports: Vec<(u32, u32)>,
    /// The paths of the modules on the same side that name this one, as [`Names`], sorted: how
    /// modules with equal canonical forms and no imports of their own (a side-effect chunk) are
    /// told apart.
    pub importers: Vec<u32>,
}

/// Old and new indices with one key.
type Group = (Vec<usize>, Vec<usize>);

/// How a pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairedBy {
    /// Same path on both sides.
    Path,
    /// Same bytes.
    Content,
    /// Same canonical form.
    Canonical,
    /// Similar normalised tokens.
    Similarity,
}

/// A pair: indices into the old and new candidate lists, with the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// Index in the old list.
    pub old: usize,
    /// Index in the new list.
    pub new: usize,
    /// 1.0 for the same bytes or canonical form, else the estimated similarity.
    pub similarity: f64,
    /// How.
    pub by: PairedBy,
}

/// The container of a path: the executable for an embedded module, "" for an archive entry.
pub fn container(path: &str) -> &str {
    path.split_once("!/").map_or("", |(c, _)| c)
}

/// The path without the content hash a bundler put in its name: `chunk-ab12cd34.js` ->
/// `chunk-.js`, `README-18458fac.md.zst` -> `README-.md.zst`.
pub fn stem(path: &str) -> String {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let (base, ext) = file.split_once('.').unwrap_or((file, ""));
    let base = match base.rsplit_once('-') {
        Some((b, h)) if h.len() >= 6 && h.chars().all(|c| c.is_ascii_alphanumeric()) => b,
        _ => base,
    };
    format!("{dir}/{base}-.{ext}")
}

/// Pair `old` with `new`, one-to-one. The candidates' names are numbers in `names`.
/// `same_path` says whether an old path also exists in the new build (so keeps its name).
pub fn pair(
    old: &[Candidate<'_>],
    new: &[Candidate<'_>],
    names: &mut Names,
    same_path: &dyn Fn(&str) -> bool,
) -> Vec<Pair> {
    let ids = Ids::new(old, new, names, same_path);
    let mut out = Vec::new();
    let mut old_used = vec![false; old.len()];
    let mut new_used = vec![false; new.len()];
    // Ties are broken by (different stem, size difference, old path, new path); stems and
    // paths are compared as numbers (their ranks), since the sorts compare millions of pairs.
    let mut stem_ids: HashMap<String, u32> = HashMap::new();
    let mut stem_id = |p: &str| {
        let n = stem_ids.len() as u32;
        *stem_ids.entry(stem(p)).or_insert(n)
    };
    let stems_old: Vec<u32> = old.iter().map(|c| stem_id(c.path)).collect();
    let stems_new: Vec<u32> = new.iter().map(|c| stem_id(c.path)).collect();
    let rank = |cs: &[Candidate<'_>]| {
        let mut order: Vec<usize> = (0..cs.len()).collect();
        order.sort_by(|&a, &b| cs[a].path.cmp(cs[b].path));
        let mut r = vec![0usize; cs.len()];
        for (k, i) in order.into_iter().enumerate() {
            r[i] = k;
        }
        r
    };
    let (rank_old, rank_new) = (rank(old), rank(new));
    let mut container_ids: HashMap<String, u32> = HashMap::new();
    let mut container_id = |p: &str| {
        let n = container_ids.len() as u32;
        *container_ids.entry(container(p).to_string()).or_insert(n)
    };
    let cont_old: Vec<u32> = old.iter().map(|c| container_id(c.path)).collect();
    let cont_new: Vec<u32> = new.iter().map(|c| container_id(c.path)).collect();
    let tiebreak = |o: usize, n: usize| {
        (
            stems_old[o] != stems_new[n],
            old[o].size.abs_diff(new[n].size),
            rank_old[o],
            rank_new[n],
        )
    };

    // Rounds 1 and 2: equal keys, matched within the same container.
    type KeyFn<'k> = &'k dyn Fn(&Candidate<'_>) -> Option<Vec<u8>>;
    let by_sha: KeyFn<'_> = &|c| c.sha256.as_ref().map(|s| s.as_bytes().to_vec());
    let by_canon: KeyFn<'_> = &|c| c.canonical.map(|d| d.to_vec());
    for (key, by) in [(by_sha, PairedBy::Content), (by_canon, PairedBy::Canonical)] {
        let mut groups: BTreeMap<(String, Vec<u8>), Group> = BTreeMap::new();
        for (i, c) in old.iter().enumerate().filter(|(i, _)| !old_used[*i]) {
            if let Some(k) = key(c) {
                groups
                    .entry((container(c.path).to_string(), k))
                    .or_default()
                    .0
                    .push(i);
            }
        }
        for (i, c) in new.iter().enumerate().filter(|(i, _)| !new_used[*i]) {
            if let Some(k) = key(c)
                && let Some(g) = groups.get_mut(&(container(c.path).to_string(), k))
            {
                g.1.push(i);
            }
        }
        groups.retain(|_, (os, ns)| !os.is_empty() && !ns.is_empty());
        let take = |o: usize,
                    n: usize,
                    old_used: &mut [bool],
                    new_used: &mut [bool],
                    out: &mut Vec<Pair>| {
            take_free(o, n, 1.0, by, (old_used, new_used), out)
        };
        if by == PairedBy::Canonical {
            // Equal canonical forms that also name the same modules and exports first: a
            // re-export chunk is told from its twins by what it re-exports, known once the
            // module it names is paired (so in passes, one per level of re-exports).
            for _ in 0..IMPORT_PASSES {
                let map = PathMap::new(&ids, &out);
                let mut found = false;
                for (os, ns) in groups.values() {
                    let mut by_imports: HashMap<&[(u32, u32)], Vec<usize>> = HashMap::new();
                    for &n in ns.iter().filter(|&&n| !new_used[n]) {
                        by_imports
                            .entry(new[n].imports.as_slice())
                            .or_default()
                            .push(n);
                    }
                    let mut cands: Vec<(usize, usize)> = Vec::new();
                    for &o in os.iter().filter(|&&o| !old_used[o]) {
                        if let Some(m) = mapped_imports(&old[o], &map)
                            && let Some(v) = by_imports.get(m.as_slice())
                        {
                            cands.extend(v.iter().map(|&n| (o, n)));
                        }
                    }
                    cands.sort_by_key(|&(o, n)| tiebreak(o, n));
                    for (o, n) in cands {
                        found |= take(o, n, &mut old_used, &mut new_used, &mut out);
                    }
                }
                if !found {
                    break;
                }
            }
        }
        // The rest of each group: most modules named in common first (canonical), then the
        // tie-break.
        let map = PathMap::new(&ids, &out);
        for (os, ns) in groups.values() {
            let os: Vec<usize> = os.iter().copied().filter(|&o| !old_used[o]).collect();
            let ns: Vec<usize> = ns.iter().copied().filter(|&n| !new_used[n]).collect();
            let score = by == PairedBy::Canonical && os.len() * ns.len() <= GROUP_OVERLAP_PAIRS;
            let mapped: HashMap<usize, Vec<u32>> = if score {
                os.iter().map(|&o| (o, map.sorted(&old[o].links))).collect()
            } else {
                HashMap::new()
            };
            let mut cands: Vec<(u32, usize, usize)> = os
                .iter()
                .flat_map(|&o| ns.iter().map(move |&n| (o, n)))
                .map(|(o, n)| {
                    let overlap = mapped.get(&o).map_or(0.0, |m| jaccard(m, &new[n].links));
                    (u32::MAX - (overlap * 1e6) as u32, o, n)
                })
                .collect();
            cands.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| tiebreak(a.1, a.2).cmp(&tiebreak(b.1, b.2)))
            });
            for (_, o, n) in cands {
                take(o, n, &mut old_used, &mut new_used, &mut out);
            }
        }
    }

    // Round 3: candidates share an informative sketch value (or, once few are left, any two
    // in one container); token similarity computed once, structure re-scored every pass.
    let mut index: HashMap<(&str, u64), Vec<usize>> = HashMap::new();
    for (i, c) in old.iter().enumerate().filter(|(i, _)| !old_used[*i]) {
        for &v in c.sketch {
            index.entry((container(c.path), v)).or_default().push(i);
        }
    }
    let mut cands: Vec<(usize, usize, f64)> = Vec::new();
    let mut seen_pairs: HashSet<(usize, usize)> = HashSet::new();
    for (n, c) in new.iter().enumerate().filter(|(i, _)| !new_used[*i]) {
        let mut seen: Vec<usize> = Vec::new();
        for &v in c.sketch {
            if let Some(os) = index.get(&(container(c.path), v))
                && os.len() <= COMMON_VALUE
            {
                seen.extend(os);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        for o in seen {
            let s = js::similarity(old[o].sketch, c.sketch);
            if s >= MIN_TOKENS {
                cands.push((o, n, s));
                seen_pairs.insert((o, n));
            }
        }
    }
    let mut brute = false;
    for bar in [0.9, 0.8, 0.7, 0.6, 0.5, MIN_SIMILARITY, MIN_SIMILARITY] {
        let rem_old: Vec<usize> = (0..old.len()).filter(|&i| !old_used[i]).collect();
        let rem_new: Vec<usize> = (0..new.len()).filter(|&i| !new_used[i]).collect();
        if rem_old.is_empty() || rem_new.is_empty() {
            break;
        }
        if !brute && rem_old.len() * rem_new.len() <= BRUTE_FORCE_PAIRS {
            brute = true;
            // Millions of pairs: containers compared as numbers, the set of pairs already
            // scored looked up only for a hit, and the new side split over two threads (the
            // candidates come out in the same order as on one).
            let all = |ns: &[usize]| {
                let mut v = Vec::new();
                for &n in ns {
                    for &o in &rem_old {
                        if cont_old[o] == cont_new[n] && !old[o].sketch.is_empty() {
                            let s = js::similarity(old[o].sketch, new[n].sketch);
                            if s >= MIN_TOKENS && !seen_pairs.contains(&(o, n)) {
                                v.push((o, n, s));
                            }
                        }
                    }
                }
                v
            };
            let (a, b) = rem_new.split_at(rem_new.len() / 2);
            let (ra, rb) = std::thread::scope(|sc| {
                let h = sc.spawn(|| all(b));
                let ra = all(a);
                (
                    ra,
                    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                )
            });
            cands.extend(ra);
            cands.extend(rb);
        }
        // Old names as the new build spells them: paired so far, or kept on the same path.
        let path_map = PathMap::new(&ids, &out);
        // Re-scored every pass (the map grows), on two threads: the old side's links mapped
        // once per module, then each candidate (the sort below fixes the order).
        // A structure score is at most 1, so a candidate whose tokens are under `2 * bar - 1`
        // cannot reach the bar: not scored.
        let live: Vec<(usize, usize, f64)> = cands
            .iter()
            .copied()
            .filter(|&(o, n, tok)| !old_used[o] && !new_used[n] && (tok + 1.0) / 2.0 >= bar)
            .collect();
        let no_links = |o: usize, n: usize| old[o].links.is_empty() && new[n].links.is_empty();
        let mut linked: Vec<usize> = live
            .iter()
            .filter(|&&(o, n, _)| !no_links(o, n))
            .map(|&(o, _, _)| o)
            .collect();
        linked.sort_unstable();
        linked.dedup();
        let sorted = super::delta::par_map(&linked, |&o| path_map.sorted(&old[o].links));
        let memo: HashMap<usize, Vec<u32>> = linked.into_iter().zip(sorted).collect();
        let mut scored: Vec<(u32, bool, usize, usize, f64)> =
            super::delta::par_map(&live, |&(o, n, tok)| {
                // `memo` holds every `o` with links on either side (`linked`).
                let s = match memo.get(&o).filter(|_| !no_links(o, n)) {
                    Some(m) => (tok + jaccard(m, &new[n].links)) / 2.0,
                    None => tok,
                };
                (s >= bar).then(|| {
                    let m = mapped_imports(&old[o], &path_map);
                    let differ = m.as_deref() != Some(new[n].imports.as_slice());
                    ((s * 1e6) as u32, differ, o, n, s)
                })
            })
            .into_iter()
            .flatten()
            .collect();
        scored.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.cmp(&b.1))
                .then_with(|| tiebreak(a.2, a.3).cmp(&tiebreak(b.2, b.3)))
        });
        for (_, _, o, n, s) in scored {
            let used = (old_used.as_mut_slice(), new_used.as_mut_slice());
            take_free(o, n, s, PairedBy::Similarity, used, &mut out);
        }
    }
    // Last, what is left by its tokens alone: a module whose imports were all re-drawn can have
    // its structure score pull it under the bar while its own code matches.
    let mut last: Vec<(u32, usize, usize, f64)> = cands
        .iter()
        .filter(|&&(o, n, t)| !old_used[o] && !new_used[n] && t >= TOKENS_ALONE)
        .map(|&(o, n, t)| ((t * 1e6) as u32, o, n, t))
        .collect();
    last.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| tiebreak(a.1, a.2).cmp(&tiebreak(b.1, b.2)))
    });
    for (_, o, n, s) in last {
        let used = (old_used.as_mut_slice(), new_used.as_mut_slice());
        take_free(o, n, s, PairedBy::Similarity, used, &mut out);
    }
    repair_by_importers(old, new, &ids, &mut out);
    out
}

/// Pair old `o` with new `n` when neither is paired yet (`used`: old, new); whether it did.
fn take_free(
    o: usize,
    n: usize,
    similarity: f64,
    by: PairedBy,
    used: (&mut [bool], &mut [bool]),
    out: &mut Vec<Pair>,
) -> bool {
    let (old_used, new_used) = used;
    let free = !old_used[o] && !new_used[n];
    if free {
        old_used[o] = true;
        new_used[n] = true;
        out.push(Pair {
            old: o,
            new: n,
            similarity,
            by,
        });
    }
    free
}

/// Pairs whose old and new modules all have one canonical form are interchangeable as far as
/// their own code goes; which old module became which new one shows in who imports them. Within
/// each such group, the pairs are drawn again, most shared importers (old importers mapped
/// through the final pairing) first, so the modules that import them are not shown a change of
/// import that is only a crossed pairing.
fn repair_by_importers(old: &[Candidate<'_>], new: &[Candidate<'_>], ids: &Ids, out: &mut [Pair]) {
    let mut groups: BTreeMap<(&str, [u8; 32]), Vec<usize>> = BTreeMap::new();
    for (k, p) in out.iter().enumerate() {
        if let (Some(a), Some(b)) = (old[p.old].canonical, new[p.new].canonical)
            && a == b
            && p.by != PairedBy::Content
        {
            groups
                .entry((container(old[p.old].path), a))
                .or_default()
                .push(k);
        }
    }
    groups.retain(|_, v| v.len() > 1 && v.len() <= REPAIR_GROUP);
    if groups.is_empty() {
        return;
    }
    let map = PathMap::new(ids, out);
    for members in groups.values() {
        let olds: Vec<usize> = members.iter().map(|&k| out[k].old).collect();
        let news: Vec<usize> = members.iter().map(|&k| out[k].new).collect();
        let mapped: Vec<Vec<u32>> = olds
            .iter()
            .map(|&o| map.sorted(&old[o].importers))
            .collect();
        let mut cands: Vec<(u32, usize, usize)> = Vec::new();
        for (a, m) in mapped.iter().enumerate() {
            for (b, &n) in news.iter().enumerate() {
                let overlap = jaccard(m, &new[n].importers);
                cands.push((u32::MAX - (overlap * 1e6) as u32, a, b));
            }
        }
        // Ties keep the pairing already made (its own position first).
        cands.sort_by_key(|&(s, a, b)| (s, a != b, a, b));
        let mut used_a = vec![false; olds.len()];
        let mut used_b = vec![false; news.len()];
        let mut assign = vec![usize::MAX; olds.len()];
        for (_, a, b) in cands {
            if !used_a[a] && !used_b[b] {
                used_a[a] = true;
                used_b[b] = true;
                assign[a] = b;
            }
        }
        for (a, &k) in members.iter().enumerate() {
            if let Some(&n) = news.get(assign[a]) {
                out[k].new = n;
            }
        }
    }
}

/// Largest group of interchangeable pairs drawn again by their importers (its cost is the
/// square of its size).
const REPAIR_GROUP: usize = 128;

/// Jaccard similarity of two sorted lists of names ([`NONE`] never matches).
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => {
                if a[i] != NONE {
                    both += 1;
                }
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(path: &'a str, sha: &str, sketch: &'a [u64]) -> Candidate<'a> {
        Candidate {
            path,
            sha256: Some(sha.into()),
            size: 10,
            canonical: None,
            sketch,
            links: Vec::new(),
            imports: Vec::new(),
            importers: Vec::new(),
        }
    }

    #[test]
    fn side_effect_chunks_are_not_cross_paired() {
        // Two side-effect chunks with one canonical form, told apart only by who imports
        // them: old x is imported by i, old y by j; i became i2 and j became j2.
        let k = [7u8; 32];
        let mut ox = c("e!/x-11111111.js", "1", &[]);
        let mut oy = c("e!/y-22222222.js", "2", &[]);
        let mut nx = c("e!/x-33333333.js", "3", &[]);
        let mut ny = c("e!/y-44444444.js", "4", &[]);
        for x in [&mut ox, &mut oy, &mut nx, &mut ny] {
            x.canonical = Some(k);
        }
        let mut names = Names::default();
        ox.importers = vec![names.id("e!/i-11111111.js")];
        oy.importers = vec![names.id("e!/j-11111111.js")];
        // Sorted by path, the new y-chunk comes first: a tie on name order would cross them.
        nx.path = "e!/b-33333333.js";
        ny.path = "e!/a-44444444.js";
        nx.importers = vec![names.id("e!/i-22222222.js")];
        ny.importers = vec![names.id("e!/j-22222222.js")];
        let oi = {
            let mut i = c("e!/i-11111111.js", "5", &[]);
            i.canonical = Some([1; 32]);
            i
        };
        let oj = {
            let mut j = c("e!/j-11111111.js", "6", &[]);
            j.canonical = Some([2; 32]);
            j
        };
        let ni = {
            let mut i = c("e!/i-22222222.js", "7", &[]);
            i.canonical = Some([1; 32]);
            i
        };
        let nj = {
            let mut j = c("e!/j-22222222.js", "8", &[]);
            j.canonical = Some([2; 32]);
            j
        };
        let old = [ox, oy, oi, oj];
        let new = [nx, ny, ni, nj];
        let p = pair(&old, &new, &mut names, &|_| false);
        let to = |o: usize| p.iter().find(|p| p.old == o).map(|p| p.new);
        assert_eq!(
            (to(0), to(1), to(2), to(3)),
            (Some(0), Some(1), Some(2), Some(3)),
            "{p:?}"
        );
    }

    #[test]
    fn a_module_whose_imports_were_all_redrawn_is_paired_by_its_tokens() {
        // Same code (token similarity 0.75) but every module it names is new and unpaired:
        // the structure score (0.75 + 0) / 2 is under the bar; its tokens still pair it.
        let s1: Vec<u64> = (0..64).collect();
        let s2: Vec<u64> = (0..48).chain(100..116).collect();
        let mut names = Names::default();
        let mut o = c("e!/m-11111111.js", "1", &s1);
        let mut n = c("e!/m-22222222.js", "2", &s2);
        o.links = vec![names.id("e!/x-11111111.js")];
        n.links = vec![names.id("e!/y-22222222.js")];
        let p = pair(&[o.clone()], &[n.clone()], &mut names, &|_| false);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!((p[0].similarity - js::similarity(&s1, &s2)).abs() < 1e-9);
        // Below the bar on tokens too: left unpaired.
        let s3: Vec<u64> = (0..30).chain(200..234).collect();
        n.sketch = &s3;
        assert!(js::similarity(&s1, &s3) < TOKENS_ALONE);
        let p = pair(&[o], &[n], &mut names, &|_| false);
        assert!(p.is_empty(), "{p:?}");
    }

    #[test]
    fn stems_cut_content_hashes() {
        assert_eq!(
            stem("a!/$bunfs/root/chunk-ab12cd34.js"),
            "a!/$bunfs/root/chunk-.js"
        );
        assert_eq!(stem("x/README-18458fac.md.zst"), "x/README-.md.zst");
        assert_eq!(stem("package/cli.js"), "package/cli-.js");
    }

    #[test]
    fn pairs_one_to_one_best_first() {
        let s1: Vec<u64> = (0..64).collect();
        let s2: Vec<u64> = (0..60).chain(100..104).collect();
        let s3: Vec<u64> = (0..40).chain(200..224).collect();
        let old = [
            c("e!/a-11111111.js", "1", &s1),
            c("e!/b-22222222.js", "2", &s3),
        ];
        let new = [
            c("e!/a-33333333.js", "3", &s2),
            c("e!/b-44444444.js", "2", &s3),
            c("other!/c.js", "4", &s1),
        ];
        let p = pair(&old, &new, &mut Names::default(), &|_| false);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p.iter()
                .any(|p| p.old == 1 && p.new == 1 && p.by == PairedBy::Content)
        );
        assert!(
            p.iter()
                .any(|p| p.old == 0 && p.new == 0 && p.by == PairedBy::Similarity)
        );
    }
}
