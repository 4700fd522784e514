//! Behaviour changes: `<kind>-added` / `<kind>-removed` per module, with evidence.
//!
//! A behaviour is identified by its kind, value and attributes (not its position: code moves).
//! A file is compared with the file at the same path. Modules embedded in an executable are
//! compared with all the modules of the same executable on the other side, because bundlers
//! name chunks by content hash (every release renames most of them): a behaviour is added when
//! no module of the old executable had it, and it is listed under the new module that has it.
//! Pairing renamed modules one to one is the review's job (issue 12).
use crate::content::manifest::{Behaviour, BehaviourKind, ContentManifest, EntryKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One behaviour that appeared or went away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BehaviourChange {
    /// `<kind>-added` or `<kind>-removed` (e.g. `network-added`).
    pub change: String,
    /// The behaviour kind.
    pub kind: BehaviourKind,
    /// The module (entry path) on the side where the behaviour is (new side for added, old side
    /// for removed).
    pub module: String,
    /// The behaviour, with its evidence in that module.
    pub behaviour: Behaviour,
}

type Key = (BehaviourKind, Option<String>, BTreeSet<String>);

fn key(b: &Behaviour) -> Key {
    (b.kind, b.value.clone(), b.attributes.clone())
}

/// Which group an entry's behaviours are compared in: its own path, or its executable.
fn group(path: &str, kind: EntryKind) -> String {
    match (kind, path.split_once("!/")) {
        (EntryKind::Embedded, Some((container, _))) => format!("{container}!/"),
        _ => path.to_string(),
    }
}

fn sets(m: &ContentManifest) -> BTreeMap<String, BTreeMap<Key, (String, &Behaviour)>> {
    let mut out: BTreeMap<String, BTreeMap<Key, (String, &Behaviour)>> = BTreeMap::new();
    for (path, e) in &m.entries {
        if e.behaviours.is_empty() {
            continue;
        }
        let g = out.entry(group(path, e.kind)).or_default();
        for b in &e.behaviours {
            g.entry(key(b)).or_insert_with(|| (path.clone(), b));
        }
    }
    out
}

/// Behaviours added and removed between two manifests, most consequential kinds first.
pub fn behaviour_changes(old: &ContentManifest, new: &ContentManifest) -> Vec<BehaviourChange> {
    let (o, n) = (sets(old), sets(new));
    let empty = BTreeMap::new();
    let mut out = Vec::new();
    let groups: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for g in groups {
        let og = o.get(g).unwrap_or(&empty);
        let ng = n.get(g).unwrap_or(&empty);
        for (k, (path, b)) in ng {
            if !og.contains_key(k) {
                out.push(change(k.0, "added", path, b));
            }
        }
        for (k, (path, b)) in og {
            if !ng.contains_key(k) {
                out.push(change(k.0, "removed", path, b));
            }
        }
    }
    out.sort_by(|a, b| {
        (a.kind, &a.change, &a.module, &a.behaviour.value).cmp(&(
            b.kind,
            &b.change,
            &b.module,
            &b.behaviour.value,
        ))
    });
    out
}

fn change(kind: BehaviourKind, what: &str, path: &str, b: &Behaviour) -> BehaviourChange {
    let name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    BehaviourChange {
        change: format!("{name}-{what}"),
        kind,
        module: path.to_string(),
        behaviour: b.clone(),
    }
}

/// Human lines for the changes (at most `max`, then a count).
pub fn render_changes(changes: &[BehaviourChange], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for c in changes.iter().take(max) {
        let b = &c.behaviour;
        let attrs = if b.attributes.is_empty() {
            String::new()
        } else {
            format!(
                " [{}]",
                b.attributes.iter().cloned().collect::<Vec<_>>().join(",")
            )
        };
        out.push(format!(
            "{:<24} {}{}  {}:{}:{}  {}",
            c.change,
            b.value.as_deref().unwrap_or("-"),
            attrs,
            c.module,
            b.line,
            b.column,
            b.snippet
        ));
    }
    if changes.len() > max {
        out.push(format!("... and {} more (see --json)", changes.len() - max));
    }
    out
}
