//! Pinned trust roots: the Sigstore `trusted_root.json` files for public-good production,
//! staging and GitHub's own instance, and the npm registry's signing keys. The files live in
//! `trust-roots/` and are embedded in the binary, so vetted works from any directory.
//!
//! A bundle is checked against the one root its certificate chains to, chosen by the
//! certificate's issuer name; it never passes because some other root happened to accept it.
use der::{Decode, Encode};
use sigstore_trust_root::TrustedRoot;
use std::path::Path;

pub mod dir;
pub mod npm_keys;
pub mod tuf;
pub mod vendor;

/// The pinned files, embedded at build time (`trust-roots/`, checked against `SHA256SUMS` by tests).
pub const PINNED_FILES: &[(&str, &str)] = &[
    (
        "public-good.trusted_root.json",
        include_str!("../../trust-roots/public-good.trusted_root.json"),
    ),
    (
        "staging.trusted_root.json",
        include_str!("../../trust-roots/staging.trusted_root.json"),
    ),
    (
        "github.trusted_root.json",
        include_str!("../../trust-roots/github.trusted_root.json"),
    ),
    (
        "npm-registry-keys.json",
        include_str!("../../trust-roots/npm-registry-keys.json"),
    ),
    ("sigstore-tuf-root.json", tuf::PINNED_TUF_ROOT),
    (
        "vendor/claude-code.asc",
        include_str!("../../trust-roots/vendor/claude-code.asc"),
    ),
    (
        "vendor/FINGERPRINTS",
        include_str!("../../trust-roots/vendor/FINGERPRINTS"),
    ),
];

/// When the pinned files were last confirmed current: they are byte-identical to the targets
/// of Sigstore's TUF repository at timestamp version 762 (2026-08-21T19:25:56Z; see
/// `trust-roots/README.md`). Their age, for the staleness warning, counts from here.
pub const PINNED_AS_OF: &str = "2026-08-21T19:25:56Z";

/// The Sigstore roots as embedded in the `sigstore-trust-root` crate: the source that
/// `vetted trust-root export` writes out. `trust-roots/` must equal this, byte for byte.
pub const UPSTREAM_SIGSTORE_ROOTS: &[(&str, &str)] = &[
    (
        "public-good.trusted_root.json",
        sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT,
    ),
    (
        "staging.trusted_root.json",
        sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT,
    ),
    (
        "github.trusted_root.json",
        sigstore_trust_root::SIGSTORE_GITHUB_TRUSTED_ROOT,
    ),
];

fn pinned(name: &str) -> &'static str {
    PINNED_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .unwrap_or("")
}

/// Which Sigstore instance a root belongs to. The instance decides which evidence is required:
/// GitHub's instance has no transparency log (a timestamp authority instead) and no CT log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Instance {
    /// Sigstore public-good production.
    PublicGood,
    /// Sigstore public-good staging (only used when asked for by name).
    Staging,
    /// GitHub's own Sigstore instance (artifact attestations for private repositories).
    GitHub,
    /// A root file given on the command line.
    Custom,
}

/// One trust root with its name and instance.
#[derive(Debug, Clone)]
pub struct PinnedRoot {
    /// A name for reports, e.g. `public-good` or the file path.
    pub name: String,
    /// The instance this root belongs to.
    pub instance: Instance,
    /// The parsed root.
    pub root: TrustedRoot,
}

impl PinnedRoot {
    /// Whether this root lists transparency logs. A root without logs (GitHub's instance) cannot
    /// check inclusion; its bundles must carry RFC 3161 timestamps instead.
    pub fn has_tlogs(&self) -> bool {
        !self.root.tlogs.is_empty()
    }

    /// Whether this root lists CT logs (needed to check a certificate's SCT).
    pub fn has_ctlogs(&self) -> bool {
        !self.root.ctlogs.is_empty()
    }

    /// Whether any of this root's certificate authorities has a certificate whose subject is
    /// `issuer_der` (the DER of an X.509 Name).
    fn issues_certificates_named(&self, issuer_der: &[u8]) -> bool {
        self.root.certificate_authorities.iter().any(|ca| {
            ca.cert_chain.certificates.iter().any(|c| {
                x509_cert::Certificate::from_der(c.raw_bytes.as_bytes())
                    .ok()
                    .and_then(|cert| cert.tbs_certificate.subject.to_der().ok())
                    .is_some_and(|subject| subject == issuer_der)
            })
        })
    }
}

/// Why trust material could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A root file could not be read.
    #[error("cannot read trusted root {path}: {source}")]
    Read {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A root file is not a valid trusted root.
    #[error("invalid trusted root {name}: {message}")]
    Invalid {
        /// Which root.
        name: String,
        /// Why.
        message: String,
    },
    /// The signing certificate could not be parsed to find its issuer.
    #[error("cannot read the signing certificate's issuer: {0}")]
    Certificate(String),
    /// No pinned root has a CA with the certificate's issuer name.
    #[error(
        "certificate issuer {issuer:?} is not a certificate authority of any trusted root (tried: {tried})"
    )]
    NoRootForIssuer {
        /// The certificate's issuer, as text.
        issuer: String,
        /// The roots considered.
        tried: String,
    },
    /// More than one root claims the issuer (ambiguous trust configuration).
    #[error("certificate issuer {issuer:?} is claimed by more than one trusted root ({roots})")]
    AmbiguousIssuer {
        /// The certificate's issuer, as text.
        issuer: String,
        /// The roots that claim it.
        roots: String,
    },
}

/// The set of roots one run trusts.
#[derive(Debug, Clone)]
pub struct TrustRoots {
    roots: Vec<PinnedRoot>,
}

impl TrustRoots {
    /// The pinned defaults: public-good production and GitHub's instance. Staging is pinned too,
    /// but only trusted when named (`--trusted-root staging`).
    pub fn pinned() -> Result<TrustRoots, TrustError> {
        Ok(TrustRoots {
            roots: vec![
                Self::embedded(Instance::PublicGood)?,
                Self::embedded(Instance::GitHub)?,
            ],
        })
    }

    /// Only public-good production (the conformance protocol's default root).
    pub fn public_good() -> Result<TrustRoots, TrustError> {
        Ok(TrustRoots {
            roots: vec![Self::embedded(Instance::PublicGood)?],
        })
    }

    /// One embedded root.
    pub fn embedded(instance: Instance) -> Result<PinnedRoot, TrustError> {
        let (name, file) = match instance {
            Instance::PublicGood => ("public-good", "public-good.trusted_root.json"),
            Instance::Staging => ("staging", "staging.trusted_root.json"),
            Instance::GitHub => ("github", "github.trusted_root.json"),
            Instance::Custom => {
                return Err(TrustError::Invalid {
                    name: "custom".into(),
                    message: "no embedded custom root".into(),
                });
            }
        };
        parse_root(name, instance, pinned(file))
    }

    /// A root given by the user: a file path, or the name of an embedded root
    /// (`public-good`, `staging`, `github`). It replaces the pinned roots for this run.
    pub fn from_arg(arg: &str) -> Result<TrustRoots, TrustError> {
        let embedded = match arg {
            "public-good" => Some(Instance::PublicGood),
            "staging" => Some(Instance::Staging),
            "github" => Some(Instance::GitHub),
            _ => None,
        };
        let root = match embedded {
            Some(instance) => Self::embedded(instance)?,
            None => Self::from_file(Path::new(arg))?,
        };
        Ok(TrustRoots { roots: vec![root] })
    }

    /// A root file; it replaces the pinned roots.
    pub fn from_file(path: &Path) -> Result<PinnedRoot, TrustError> {
        let limit = crate::limits::Limits::default().bundle_bytes;
        let bytes =
            crate::limits::read_file_limited(path, "trusted root size", limit).map_err(|e| {
                TrustError::Read {
                    path: path.display().to_string(),
                    source: std::io::Error::other(e.to_string()),
                }
            })?;
        let text = String::from_utf8(bytes).map_err(|_| TrustError::Invalid {
            name: path.display().to_string(),
            message: "not UTF-8".into(),
        })?;
        // A custom root takes the instance of the pinned root it equals, so that a copy of
        // GitHub's root keeps GitHub's evidence rules.
        let instance = if text.trim() == pinned("github.trusted_root.json").trim() {
            Instance::GitHub
        } else {
            Instance::Custom
        };
        parse_root(&path.display().to_string(), instance, &text)
    }

    /// The roots in force with a trust directory kept by `vetted trust-root update`: its
    /// Sigstore trusted root replaces the pinned public-good root; GitHub's instance (not
    /// published in the public-good TUF repository) stays pinned.
    pub fn from_trust_dir(dir: &dir::TrustDir) -> Result<TrustRoots, TrustError> {
        let name = format!(
            "public-good (trust dir {}, TUF root v{}, timestamp v{})",
            dir.path.display(),
            dir.state.role("root").map_or(0, |r| r.version),
            dir.state.role("timestamp").map_or(0, |r| r.version)
        );
        let public_good = parse_root(&name, Instance::PublicGood, &dir.trusted_root)?;
        Ok(TrustRoots {
            roots: vec![public_good, Self::embedded(Instance::GitHub)?],
        })
    }

    /// A set from explicit roots (tests, `--custom-trusted-root`).
    pub fn from_roots(roots: Vec<PinnedRoot>) -> TrustRoots {
        TrustRoots { roots }
    }

    /// The roots in this set.
    pub fn roots(&self) -> &[PinnedRoot] {
        &self.roots
    }

    /// The root a certificate chains to, chosen by the certificate's issuer name. With a single
    /// root in the set, that root is used (the chain check then decides).
    pub fn for_certificate(&self, cert_der: &[u8]) -> Result<&PinnedRoot, TrustError> {
        if let [only] = self.roots.as_slice() {
            return Ok(only);
        }
        let cert = x509_cert::Certificate::from_der(cert_der)
            .map_err(|e| TrustError::Certificate(e.to_string()))?;
        let issuer = cert
            .tbs_certificate
            .issuer
            .to_der()
            .map_err(|e| TrustError::Certificate(e.to_string()))?;
        let matching: Vec<&PinnedRoot> = self
            .roots
            .iter()
            .filter(|r| r.issues_certificates_named(&issuer))
            .collect();
        match matching.as_slice() {
            [one] => Ok(one),
            [] => Err(TrustError::NoRootForIssuer {
                issuer: cert.tbs_certificate.issuer.to_string(),
                tried: self.names(),
            }),
            many => Err(TrustError::AmbiguousIssuer {
                issuer: cert.tbs_certificate.issuer.to_string(),
                roots: many
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The root for a bundle signed with a managed key (no certificate): the first root that
    /// has transparency logs, since a key bundle's only evidence is its log entry.
    pub fn for_public_key(&self) -> Option<&PinnedRoot> {
        self.roots
            .iter()
            .find(|r| r.has_tlogs())
            .or(self.roots.first())
    }

    fn names(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn parse_root(name: &str, instance: Instance, json: &str) -> Result<PinnedRoot, TrustError> {
    let root = TrustedRoot::from_json(json).map_err(|e| TrustError::Invalid {
        name: name.to_string(),
        message: e.to_string(),
    })?;
    Ok(PinnedRoot {
        name: name.to_string(),
        instance,
        root,
    })
}
