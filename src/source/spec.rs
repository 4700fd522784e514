//! What to fetch: `npm:<name>@<version|tag>`, an `https://` URL, or a local path, parsed once.
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Why a spec did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The npm package name breaks npm's naming rules.
    #[error("invalid npm package name {name:?}: {rule}")]
    PackageName {
        /// The name.
        name: String,
        /// The rule it broke.
        rule: &'static str,
    },
    /// The version or dist-tag is not valid.
    #[error("invalid npm version or dist-tag {0:?}")]
    Selector(String),
    /// The URL is not an http(s) URL.
    #[error("invalid URL {0:?}")]
    Url(String),
    /// A `claude-native:` spec that does not parse.
    #[error("invalid native-channel spec {0}")]
    Native(String),
}

/// An npm package name, valid by npm's rules ("validate-npm-package-name"): at most 214
/// characters, URL-safe, no leading `.` or `_`, optionally `@scope/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageName(String);

impl PackageName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as one URL path segment (`@scope%2fname`), as the registry API expects.
    pub fn url_segment(&self) -> String {
        self.0.replace('/', "%2f")
    }

    /// The file name `npm pack` writes: `scope-name-<version>.tgz`.
    pub fn pack_file_name(&self, version: &Version) -> String {
        let flat = self.0.trim_start_matches('@').replace('/', "-");
        format!("{flat}-{}.tgz", version.as_str())
    }
}

fn check_name_part(full: &str, part: &str) -> Result<(), SpecError> {
    let err = |rule| {
        Err(SpecError::PackageName {
            name: full.to_string(),
            rule,
        })
    };
    if part.is_empty() {
        return err("name part is empty");
    }
    if part.starts_with('.') || part.starts_with('_') {
        return err("name cannot start with a period or underscore");
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return err("name can only contain URL-friendly characters");
    }
    Ok(())
}

impl FromStr for PackageName {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        if s.len() > 214 {
            return Err(SpecError::PackageName {
                name: s.into(),
                rule: "name can be no longer than 214 characters",
            });
        }
        match s.strip_prefix('@') {
            Some(scoped) => {
                let (scope, name) = scoped.split_once('/').ok_or(SpecError::PackageName {
                    name: s.into(),
                    rule: "a scoped name is @scope/name",
                })?;
                check_name_part(s, scope)?;
                check_name_part(s, name)?;
            }
            None => check_name_part(s, s)?,
        }
        Ok(PackageName(s.to_string()))
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An exact semver version (`1.2.3`, `1.2.3-beta.1+build`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(String);

impl Version {
    /// The version text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Version {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let core = s.split(['-', '+']).next().unwrap_or("");
        let nums: Vec<&str> = core.split('.').collect();
        let ok = nums.len() == 3
            && nums
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
        if ok {
            Ok(Version(s.to_string()))
        } else {
            Err(SpecError::Selector(s.to_string()))
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An exact version or a dist-tag (`latest`, `next`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    /// An exact version.
    Version(Version),
    /// A dist-tag, resolved through the packument's `dist-tags`.
    Tag(String),
}

impl fmt::Display for VersionSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSelector::Version(v) => v.fmt(f),
            VersionSelector::Tag(t) => f.write_str(t),
        }
    }
}

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactSpec {
    /// `npm:<name>@<version|dist-tag>` (no `@...` means `latest`).
    Npm {
        /// Package name.
        name: PackageName,
        /// Version or tag.
        selector: VersionSelector,
    },
    /// An `https://` (or, for loopback or with the insecure flag, `http://`) URL.
    Url(String),
    /// A local file.
    Path(PathBuf),
    /// `claude-native:<version>/<platform>`: Claude Code's native-channel binary, checked
    /// against the vendor-signed release manifest (see [`super::native`]).
    ClaudeNative {
        /// Release version.
        version: Version,
        /// Platform as the manifest names it (`linux-x64`, `darwin-arm64`, ...).
        platform: String,
    },
}

/// The spec prefix of Claude Code's native channel.
pub const CLAUDE_NATIVE_PREFIX: &str = "claude-native:";

impl FromStr for ArtifactSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        if let Some(rest) = s.strip_prefix("npm:") {
            // The version separator is the last '@' that is not the scope's leading one.
            let (name, sel) = match rest.rfind('@').filter(|&i| i > 0) {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            let name: PackageName = name.parse()?;
            let selector = match sel {
                None => VersionSelector::Tag("latest".into()),
                Some(v) if v.starts_with(|c: char| c.is_ascii_digit()) => {
                    VersionSelector::Version(v.parse()?)
                }
                Some(t)
                    if !t.is_empty()
                        && t.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
                        }) =>
                {
                    VersionSelector::Tag(t.to_string())
                }
                Some(other) => return Err(SpecError::Selector(other.to_string())),
            };
            return Ok(ArtifactSpec::Npm { name, selector });
        }
        if let Some(rest) = s.strip_prefix(CLAUDE_NATIVE_PREFIX) {
            // The platform becomes a path segment on the release server and in a directory
            // source: lower-case letters, digits and '-' only.
            let (v, platform) = rest.split_once('/').ok_or_else(|| {
                SpecError::Native(format!(
                    "{s:?}: expected claude-native:<version>/<platform>"
                ))
            })?;
            let platform_ok = !platform.is_empty()
                && platform
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !platform_ok {
                return Err(SpecError::Native(format!(
                    "{s:?}: platform {platform:?} is not a plain platform name (e.g. linux-x64)"
                )));
            }
            return Ok(ArtifactSpec::ClaudeNative {
                version: v.parse()?,
                platform: platform.to_string(),
            });
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            let url = reqwest::Url::parse(s).map_err(|_| SpecError::Url(s.to_string()))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(SpecError::Url(s.to_string()));
            }
            return Ok(ArtifactSpec::Url(s.to_string()));
        }
        Ok(ArtifactSpec::Path(PathBuf::from(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let s: ArtifactSpec = "npm:@anthropic-ai/claude-code@2.1.330".parse().unwrap();
        assert_eq!(
            s,
            ArtifactSpec::Npm {
                name: "@anthropic-ai/claude-code".parse().unwrap(),
                selector: VersionSelector::Version("2.1.330".parse().unwrap()),
            }
        );
        let s: ArtifactSpec = "npm:left-pad@next".parse().unwrap();
        assert!(
            matches!(s, ArtifactSpec::Npm { selector: VersionSelector::Tag(ref t), .. } if t == "next")
        );
        let s: ArtifactSpec = "npm:@scope/x".parse().unwrap();
        assert!(
            matches!(s, ArtifactSpec::Npm { selector: VersionSelector::Tag(ref t), .. } if t == "latest")
        );
        assert!(matches!(
            "https://example.com/a.tgz".parse(),
            Ok(ArtifactSpec::Url(_))
        ));
        assert!(matches!("./a.tgz".parse(), Ok(ArtifactSpec::Path(_))));
        for bad in [
            "npm:",
            "npm:.hidden@1.0.0",
            "npm:a b@1.0.0",
            "npm:@scope@1.0.0",
            "npm:x@1.0",
            "npm:x@",
            "https://",
            "claude-native:2.1.273",
            "claude-native:2.1.273/",
            "claude-native:2.1.273/../x",
            "claude-native:2.1.273/linux/x64",
            "claude-native:latest/linux-x64",
        ] {
            assert!(bad.parse::<ArtifactSpec>().is_err(), "{bad}");
        }
        assert_eq!(
            "claude-native:2.1.273/linux-x64".parse::<ArtifactSpec>(),
            Ok(ArtifactSpec::ClaudeNative {
                version: "2.1.273".parse().unwrap(),
                platform: "linux-x64".into(),
            })
        );
        let n: PackageName = "@anthropic-ai/claude-code".parse().unwrap();
        assert_eq!(n.url_segment(), "@anthropic-ai%2fclaude-code");
        assert_eq!(
            n.pack_file_name(&"2.1.330".parse().unwrap()),
            "anthropic-ai-claude-code-2.1.330.tgz"
        );
    }
}
