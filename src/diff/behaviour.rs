//! Behaviour changes as `<kind>-added` / `<kind>-removed` per module (the report's
//! `behaviours` list): a view of the review's ranked `behaviour_changes`, which is the one
//! source (computed per pair, see `delta`), sorted by kind instead of risk.
//!
//! A behaviour is identified by its kind, value and attributes (not its position: code moves).
//! A module is compared with its pair (same path, or paired across a rename); an unpaired
//! module contributes all its behaviours.
use super::delta::{self, Change};
use crate::content::manifest::{Behaviour, BehaviourKind};
use serde::Serialize;

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

/// The review's behaviour changes, most consequential kinds first (then added before removed,
/// then module and value).
pub fn behaviour_changes(review: &[delta::BehaviourChange]) -> Vec<BehaviourChange> {
    let mut out: Vec<BehaviourChange> = review
        .iter()
        .map(|c| {
            let (what, module) = match c.change {
                Change::Added => ("added", &c.path),
                Change::Removed => ("removed", c.old_path.as_ref().unwrap_or(&c.path)),
            };
            let b = &c.behaviour;
            let name = serde_json::to_value(b.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            BehaviourChange {
                change: format!("{name}-{what}"),
                kind: b.kind,
                module: module.clone(),
                behaviour: b.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.kind, &a.change, &a.module, &a.behaviour).cmp(&(
            b.kind,
            &b.change,
            &b.module,
            &b.behaviour,
        ))
    });
    out
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
