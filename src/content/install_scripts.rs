//! The scripts npm runs when it installs a package from a registry, computed from the bytes.
//!
//! npm 11 (`@npmcli/arborist` `lib/arborist/rebuild.js` and `lib/install-scripts.js`,
//! `@npmcli/run-script` `lib/run-script-pkg.js`) runs, for a registry dependency:
//!
//! - `preinstall`, `install`, `postinstall` when the package.json's `scripts` has them as
//!   non-empty strings (arborist tests `if (scripts.install)`: an empty string is not run, and
//!   `@npmcli/package-json`'s `scripts` step deletes non-string entries);
//! - the implicit `node-gyp rebuild`: "Rebuild node-gyp dependencies lacking an install or
//!   preinstall script ... the package may set gypfile:false to avoid this automatic
//!   detection" -- `gypfile !== false && !install && !preinstall && isNodeGypPackage(path)`,
//!   where `isNodeGypPackage` is `stat(path + '/binding.gyp').isFile()` on the extracted
//!   package root (pacote strips the first path component and skips links);
//! - not `prepare`: `install-scripts.js` lists it "only for non-registry sources (git, file,
//!   link, remote)". `prepublish`, `prepack`, `postpack` run on the publisher's machine.
//!
//! One function ([`install_scripts`]) answers it; the gate's install-script rule and the
//! served `hasInstallScript` both use it.
use super::manifest::{ContentManifest, EntryKind, PackageInfo};
use std::collections::BTreeMap;

/// The install events npm runs for a registry package, in order.
pub const INSTALL_EVENTS: &[&str] = &["preinstall", "install", "postinstall"];

/// npm's default install command for a package with a `binding.gyp` (`@npmcli/node-gyp`'s
/// `defaultGypInstallScript`).
pub const NODE_GYP_REBUILD: &str = "node-gyp rebuild";

/// One script npm runs at install.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InstallScript {
    /// `preinstall`, `install` or `postinstall`.
    pub event: String,
    /// The command.
    pub command: String,
    /// True for the implicit `node-gyp rebuild` (a `binding.gyp` and no install/preinstall).
    pub implicit: bool,
}

impl InstallScript {
    /// `event: command` (with `(implicit: binding.gyp)` for the node-gyp default).
    pub fn describe(&self) -> String {
        if self.implicit {
            format!("{}: {} (implicit: binding.gyp)", self.event, self.command)
        } else {
            format!("{}: {}", self.event, self.command)
        }
    }
}

/// Whether the package.json sets `"gypfile": false` (only the JSON boolean counts:
/// arborist tests `gypfile !== false`).
pub fn gypfile_disabled(pkg: &PackageInfo) -> bool {
    pkg.npm_fields.get("gypfile") == Some(&serde_json::Value::Bool(false))
}

/// The rule itself, from the package.json's string scripts, its `gypfile` opt-out and whether
/// a regular file `binding.gyp` is at the package root.
pub fn from_parts(
    scripts: &BTreeMap<String, String>,
    gypfile_disabled: bool,
    has_binding_gyp: bool,
) -> Vec<InstallScript> {
    let runs = |e: &str| scripts.get(e).filter(|c| !c.is_empty());
    let mut out = Vec::new();
    for event in INSTALL_EVENTS {
        if let Some(cmd) = runs(event) {
            out.push(InstallScript {
                event: (*event).to_string(),
                command: cmd.clone(),
                implicit: false,
            });
        }
    }
    if runs("install").is_none()
        && runs("preinstall").is_none()
        && !gypfile_disabled
        && has_binding_gyp
    {
        out.push(InstallScript {
            event: "install".into(),
            command: NODE_GYP_REBUILD.into(),
            implicit: true,
        });
        out.sort_by_key(|s| INSTALL_EVENTS.iter().position(|e| *e == s.event));
    }
    out
}

/// The package root inside the archive: the directory of the root package.json
/// (`package/` in npm tarballs; npm strips that one component whatever its name).
pub fn package_root(pkg: &PackageInfo) -> &str {
    pkg.path.strip_suffix("package.json").unwrap_or("")
}

/// Whether the manifest has a regular file `binding.gyp` at the package root. Links are not
/// counted: pacote's extraction filter drops every `*Link` entry, so none is on disk.
pub fn has_binding_gyp(manifest: &ContentManifest, pkg: &PackageInfo) -> bool {
    let path = format!("{}binding.gyp", package_root(pkg));
    manifest
        .entries
        .get(&path)
        .is_some_and(|e| e.kind == EntryKind::File)
}

/// The scripts npm runs when installing this artifact from a registry. Empty when the
/// artifact has no package.json.
pub fn install_scripts(manifest: &ContentManifest) -> Vec<InstallScript> {
    let Some(pkg) = &manifest.package else {
        return Vec::new();
    };
    from_parts(
        &pkg.scripts,
        gypfile_disabled(pkg),
        has_binding_gyp(manifest, pkg),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scripts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn events(s: &[InstallScript]) -> Vec<String> {
        s.iter().map(InstallScript::describe).collect()
    }

    #[test]
    fn binding_gyp_without_install_script_counts_as_install_script() {
        let got = from_parts(&scripts(&[("test", "jest")]), false, true);
        assert_eq!(
            events(&got),
            ["install: node-gyp rebuild (implicit: binding.gyp)"]
        );
        // Twin: no binding.gyp, nothing runs.
        assert!(from_parts(&scripts(&[("test", "jest")]), false, false).is_empty());
    }

    #[test]
    fn binding_gyp_with_gypfile_false_is_not_an_install_script() {
        assert!(from_parts(&BTreeMap::new(), true, true).is_empty());
        assert_eq!(from_parts(&BTreeMap::new(), false, true).len(), 1);
    }

    #[test]
    fn binding_gyp_with_an_install_or_preinstall_script_runs_only_that() {
        let got = from_parts(&scripts(&[("install", "node build.js")]), false, true);
        assert_eq!(events(&got), ["install: node build.js"]);
        let got = from_parts(&scripts(&[("preinstall", "node pre.js")]), false, true);
        assert_eq!(events(&got), ["preinstall: node pre.js"]);
        // A postinstall does not stop the implicit rebuild; it runs after it.
        let got = from_parts(&scripts(&[("postinstall", "node post.js")]), false, true);
        assert_eq!(
            events(&got),
            [
                "install: node-gyp rebuild (implicit: binding.gyp)",
                "postinstall: node post.js"
            ]
        );
    }

    #[test]
    fn empty_install_script_does_not_hide_binding_gyp() {
        // `"install": ""` is falsy in arborist: not run, and node-gyp rebuild runs instead.
        let got = from_parts(&scripts(&[("install", "")]), false, true);
        assert_eq!(
            events(&got),
            ["install: node-gyp rebuild (implicit: binding.gyp)"]
        );
        assert!(from_parts(&scripts(&[("install", "")]), false, false).is_empty());
    }

    #[test]
    fn prepare_script_is_not_an_install_script() {
        let lifecycle = scripts(&[
            ("prepare", "node evil.js"),
            ("prepublish", "node evil.js"),
            ("prepack", "node evil.js"),
            ("postpack", "node evil.js"),
        ]);
        assert!(from_parts(&lifecycle, false, false).is_empty());
        // Twin: a postinstall is one.
        let mut with = lifecycle.clone();
        with.insert("postinstall".into(), "node evil.js".into());
        assert_eq!(
            events(&from_parts(&with, false, false)),
            ["postinstall: node evil.js"]
        );
    }

    #[test]
    fn install_events_are_listed_in_the_order_npm_runs_them() {
        let got = from_parts(
            &scripts(&[("postinstall", "c"), ("install", "b"), ("preinstall", "a")]),
            false,
            true,
        );
        assert_eq!(
            events(&got),
            ["preinstall: a", "install: b", "postinstall: c"]
        );
    }
}
