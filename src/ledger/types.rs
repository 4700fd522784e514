//! The ledger's domain types. A value that exists is valid: these are built only by the parser
//! (`format`) or by `certify`, never from raw strings elsewhere.
use crate::digest::Digest;
use jiff::Timestamp;
use jiff::civil::Date;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;

/// Why an identifier was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty.
    #[error("{what} is empty")]
    Empty {
        /// What kind of identifier.
        what: &'static str,
    },
    /// Contains a character that is not allowed.
    #[error("{what} {value:?} contains {bad:?}, which is not allowed")]
    BadChar {
        /// What kind of identifier.
        what: &'static str,
        /// The text.
        value: String,
        /// The offending character.
        bad: char,
    },
    /// A package spec without `@VERSION`.
    #[error("package spec {0:?} has no version (write [ecosystem:]NAME@VERSION)")]
    NoVersion(String),
}

fn check_ident(what: &'static str, s: &str, extra_bad: &[char]) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { what });
    }
    if let Some(bad) = s
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || extra_bad.contains(c))
    {
        return Err(IdError::BadChar {
            what,
            value: s.to_string(),
            bad,
        });
    }
    Ok(())
}

macro_rules! ident {
    ($(#[$doc:meta])* $name:ident, $what:literal, $bad:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(super) String);

        impl $name {
            /// Parse, refusing empty text, whitespace and control characters.
            pub fn new(s: &str) -> Result<Self, IdError> {
                check_ident($what, s, $bad)?;
                Ok($name(s.to_string()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

ident!(
    /// A package name as its ecosystem spells it (`@anthropic-ai/claude-code`).
    PackageName,
    "package name",
    &[]
);
ident!(
    /// A package ecosystem (`npm`).
    Ecosystem,
    "ecosystem",
    &[':', '@']
);
ident!(
    /// A platform qualifier for builds that differ per platform (`linux-x64`).
    Platform,
    "platform",
    &[]
);
ident!(
    /// The name of an audit criterion (`safe-to-run`).
    CriterionName,
    "criterion name",
    &['.', '"', '\'', '[', ']']
);
ident!(
    /// The name of an imported organisation's ledger.
    ImportName,
    "import name",
    &['.', '"', '\'', '[', ']']
);

/// A package version. Ordered as semver: numeric components numerically, a pre-release before
/// its release; anything that is not semver sorts by text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    /// Parse, refusing empty text, whitespace, control characters and `@`.
    pub fn new(s: &str) -> Result<Self, IdError> {
        check_ident("version", s, &['@'])?;
        Ok(Version(s.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn key(&self) -> (Vec<u64>, Option<&str>) {
        let core = self.0.split('+').next().unwrap_or(&self.0);
        let (release, pre) = match core.split_once('-') {
            Some((r, p)) => (r, Some(p)),
            None => (core, None),
        };
        let nums = release
            .split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect();
        (nums, pre)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, ap) = self.key();
        let (b, bp) = other.key();
        a.cmp(&b)
            .then_with(|| match (ap, bp) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => cmp_prerelease(x, y),
            })
            .then_with(|| self.0.cmp(&other.0))
    }
}

fn cmp_prerelease(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One package build: ecosystem, name, version, and the platform when builds differ by platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId {
    /// Ecosystem (`npm`).
    pub ecosystem: Ecosystem,
    /// Name.
    pub name: PackageName,
    /// Version.
    pub version: Version,
    /// Platform, if the build is platform-specific.
    pub platform: Option<Platform>,
}

impl PackageId {
    /// Parse `[ecosystem:]NAME@VERSION` (`npm:@anthropic-ai/claude-code@2.1.1`); the ecosystem
    /// defaults to npm.
    pub fn parse_spec(spec: &str) -> Result<Self, IdError> {
        let (eco, rest) = match spec.split_once(':') {
            Some((e, r)) => (e, r),
            None => ("npm", spec),
        };
        // A scoped npm name starts with '@'; the version follows the last '@'.
        let at = rest
            .char_indices()
            .filter(|(i, c)| *c == '@' && *i > 0)
            .map(|(i, _)| i)
            .next_back()
            .ok_or_else(|| IdError::NoVersion(spec.to_string()))?;
        let (name, version) = (&rest[..at], &rest[at + 1..]);
        Ok(PackageId {
            ecosystem: Ecosystem::new(eco)?,
            name: PackageName::new(name)?,
            version: Version::new(version)?,
            platform: None,
        })
    }

    /// Whether `other` names the same package (ecosystem and name).
    pub fn same_package(&self, other: &PackageId) -> bool {
        self.ecosystem == other.ecosystem && self.name == other.name
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)?;
        if let Some(p) = &self.platform {
            write!(f, " ({p})")?;
        }
        Ok(())
    }
}

/// A moment as written in the ledger: a date (`2026-11-23`) or an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum When {
    /// A calendar date (UTC).
    Date(Date),
    /// An instant.
    Timestamp(Timestamp),
}

impl When {
    /// Parse a date or an RFC 3339 timestamp (with offset).
    pub fn parse(s: &str) -> Option<When> {
        if let Ok(t) = s.parse::<Timestamp>() {
            return Some(When::Timestamp(t));
        }
        if s.len() == 10
            && let Ok(d) = s.parse::<Date>()
        {
            return Some(When::Date(d));
        }
        None
    }

    /// The instant this names (a date is its first second, UTC).
    pub fn instant(&self) -> Timestamp {
        match self {
            When::Timestamp(t) => *t,
            When::Date(d) => d
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MIN),
        }
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Date(d) => write!(f, "{d}"),
            When::Timestamp(t) => write!(f, "{t}"),
        }
    }
}

/// A criterion: what an audit certifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// Name.
    pub name: CriterionName,
    /// What it means, for people.
    pub description: String,
    /// Criteria this one implies.
    pub implies: BTreeSet<CriterionName>,
    /// Built into vetted (not written in the file).
    pub builtin: bool,
}

/// Where an audit came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// This ledger, at this line of `audits.toml`.
    Local {
        /// 1-based line (0 for an entry not yet written).
        line: usize,
    },
    /// An imported organisation's ledger.
    Imported(ImportName),
}

/// The start of a delta audit: a build identified by its version and its bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeltaFrom {
    /// The version the delta starts from.
    pub version: Version,
    /// The SHA-512 of that build's artifact; the delta counts only when a build with exactly
    /// this digest is itself covered.
    pub sha512: Digest,
    /// `review = "sha256:..."`: the digest of the canonical diff JSON (`vetted.diff/v2`) the
    /// reviewer signed off on; `vetted review` recomputes it and rejects a mismatch.
    pub review: Option<Digest>,
}

/// Full audit or delta audit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuditKind {
    /// Everything in the build was reviewed.
    Full,
    /// The difference from `from` to this build was reviewed.
    Delta(DeltaFrom),
}

/// One audit: who certified which build (by its bytes) for which criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Who.
    pub who: String,
    /// When.
    pub when: When,
    /// Criteria certified.
    pub criteria: BTreeSet<CriterionName>,
    /// The build.
    pub package: PackageId,
    /// Artifact SHA-512.
    pub sha512: Digest,
    /// Artifact SHA-256.
    pub sha256: Digest,
    /// SHA-256 of the build's canonical content manifest JSON (`manifests/<hex>.json`).
    pub manifest: Digest,
    /// Full or delta.
    pub kind: AuditKind,
    /// Free text.
    pub notes: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// What a violation revokes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViolationTarget {
    /// Every build of this version.
    Version(Version),
    /// The build with these bytes (SHA-512 or SHA-256).
    Digest(Digest),
}

/// A violation: a version or a build that must not be admitted, whatever audits say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Package name.
    pub name: PackageName,
    /// What is revoked.
    pub target: ViolationTarget,
    /// Who.
    pub who: String,
    /// When.
    pub when: When,
    /// Why.
    pub notes: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// An exemption: admit a build without an audit until a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    /// The build (version and, as always, its bytes).
    pub package: PackageId,
    /// Artifact SHA-512: an exemption is pinned to bytes.
    pub sha512: Digest,
    /// Criteria granted.
    pub criteria: BTreeSet<CriterionName>,
    /// Who granted it.
    pub who: String,
    /// No longer admits from this moment on (a date means 00:00 UTC of that date).
    pub expires: When,
    /// Why.
    pub notes: Option<String>,
    /// 1-based line in `audits.toml`.
    pub line: usize,
}

/// Where an imported ledger is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The organisation's name (`[imports.NAME]`).
    pub name: ImportName,
    /// A local path (relative to the ledger directory).
    pub path: Option<String>,
    /// A URL, recorded for people and for a fetcher; vetted reads the cached copy at
    /// `imports/<NAME>.toml` in the ledger directory, never the network.
    pub url: Option<String>,
    /// SHA-256 of the file's bytes. A file with another digest is ignored.
    pub sha256: Digest,
    /// 1-based line of `[imports.NAME]` in `audits.toml`.
    pub line: usize,
}

/// A trusted publisher: builds of matching packages whose provenance verifies with exactly this
/// identity are covered for `criteria` until `expires` (cargo-vet's `trusted` entries, bound to
/// a verified Sigstore identity instead of a registry account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// Ecosystem (`npm`).
    pub ecosystem: Ecosystem,
    /// Package name or glob (`*` any run of characters, `?` one).
    pub name: String,
    /// The source repository the provenance must name (`github.com/OWNER/REPO`).
    pub source_repository: String,
    /// The workflow that signed (`github.com/OWNER/REPO/.github/workflows/FILE`).
    pub signer_workflow: String,
    /// The OIDC issuer of the signing certificate.
    pub issuer: String,
    /// A glob the built git ref must match (`refs/tags/v*`), if any.
    pub ref_pattern: Option<String>,
    /// Criteria granted.
    pub criteria: BTreeSet<CriterionName>,
    /// Who decided to trust it.
    pub who: String,
    /// When.
    pub when: When,
    /// No longer covers from this moment on.
    pub expires: When,
    /// Why.
    pub notes: Option<String>,
    /// 1-based line in `audits.toml`.
    pub line: usize,
}
