//! `vetted admit`: the gate.
use super::fetch::SourceArgs;
use super::{Failure, Outcome, finish};
use crate::clock::SystemClock;
use crate::gate::{Gate, GateError, vsa::OrgKey};
use crate::ledger::Ledger;
use crate::limits::Limits;
use crate::policy::{Policy, PolicyError};
use crate::store::AdmitTarget;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Admit a release into the store only if it, its dependencies and its platform packages are
/// all verified and reviewed.
///
/// Every artifact of the closure goes through fetch → integrity (dist.integrity, while
/// streaming) → min-age → provenance (as the policy requires) → contents (safe archive read) →
/// ledger review (an audit, a delta chain or an unexpired exemption covers exactly these bytes)
/// → install scripts. All pass, or nothing is admitted. Exit 0 admitted, 1 rejected (each
/// failed artifact and check on stderr), 2 operational error.
#[derive(Debug, clap::Args)]
pub struct AdmitArgs {
    /// The release: `npm:<name>@<version|dist-tag>`, or `claude-native:<version>/<platform>`
    /// (Claude Code's native-channel binary, checked against the vendor-signed manifest from
    /// `--vendor-source`, reviewed as `claude-native:claude-code@<version>`).
    spec: String,
    /// The policy file.
    #[arg(long, default_value = "vetted.toml", value_name = "FILE")]
    policy: PathBuf,
    /// The audit ledger directory.
    #[arg(long, default_value = "ledger", value_name = "DIR")]
    ledger: PathBuf,
    /// The store to admit into: a directory (created if missing) or `s3://bucket/prefix`
    /// (credentials from the standard AWS environment). Without it nothing is written: a dry run.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    store: Option<String>,
    /// The organisation's signing key (PKCS#8 PEM, ECDSA P-256 or Ed25519): each admission gets
    /// a signed SLSA verification summary attestation, checkable with `vetted verify-vsa`.
    #[arg(long, value_name = "PEM")]
    signing_key: Option<PathBuf>,
    /// Print the report as JSON on stdout.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the report as Markdown (for a pull-request comment).
    #[arg(long)]
    markdown: bool,
    #[command(flatten)]
    asset: AssetArgs,
    #[command(flatten)]
    vendor: super::vendor::VendorSourceArgs,
    #[command(flatten)]
    closure_limits: ClosureLimitArgs,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    trust: super::trust_root::TrustArgs,
}

pub fn run(args: AdmitArgs) -> Outcome {
    let json = args.json;
    finish(json, admit(args))
}

/// What a gate run needs, loaded from the command line (policy, ledger, fetch options, roots).
pub(super) struct GateParts {
    pub policy: Policy,
    pub ledger: Ledger,
    pub fetch: crate::source::FetchOptions,
    pub roots: crate::trust::TrustRoots,
    pub npm_keys: crate::trust::npm_keys::NpmRegistryKeys,
    pub limits: Limits,
    pub vendor: crate::gate::vendor::VendorOptions,
}

impl GateParts {
    pub(super) fn load(
        policy: &std::path::Path,
        ledger: &std::path::Path,
        source: &SourceArgs,
        trust: &super::trust_root::TrustArgs,
        limits: Limits,
    ) -> Result<GateParts, Failure> {
        let policy_file = policy;
        let policy = Policy::load(policy_file).map_err(|e| match e {
            PolicyError::Invalid(d) => {
                eprint!("{}", d.render());
                Failure::operational(format!(
                    "the policy {} has {} error(s)",
                    policy_file.display(),
                    d.error_count()
                ))
            }
            other => Failure::operational(other),
        })?;
        let ledger_dir = ledger;
        let ledger = Ledger::load(ledger_dir).map_err(|d| {
            eprint!("{}", d.render());
            Failure::operational(format!(
                "the ledger in {} has {} error(s)",
                ledger_dir.display(),
                d.error_count()
            ))
        })?;
        let trust = trust.load()?;
        Ok(GateParts {
            policy,
            ledger,
            fetch: source.options(limits)?,
            roots: trust.roots,
            npm_keys: trust.npm_keys,
            limits,
            vendor: Default::default(),
        })
    }

    /// Where vendor-signed manifests come from (`--vendor-source`, `--insecure-vendor-key`).
    pub(super) fn with_vendor(mut self, vendor: crate::gate::vendor::VendorOptions) -> GateParts {
        self.vendor = vendor;
        self
    }

    pub(super) fn gate<'a>(&'a self, key: Option<&'a OrgKey>) -> Gate<'a> {
        Gate {
            policy: &self.policy,
            ledger: &self.ledger,
            fetch: &self.fetch,
            roots: &self.roots,
            npm_keys: &self.npm_keys,
            clock: &SystemClock,
            limits: self.limits,
            signing_key: key,
            vendor: &self.vendor,
        }
    }
}

/// For an `https://` release asset: its Sigstore bundle, who must have signed it, and the name
/// and version it has in the policy and the ledger (`release-asset:<name>@<version>`). All
/// required with a URL spec (a usage error otherwise); none allowed with another spec.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct AssetArgs {
    /// The asset's Sigstore bundle: a file, or an https URL (at most limits.rs's bundle size).
    #[arg(long, value_name = "FILE|URL")]
    bundle: Option<String>,
    /// The exact certificate identity (SAN URI or email) that must have signed the asset.
    #[arg(
        long,
        value_name = "IDENTITY",
        conflicts_with = "certificate_identity_regexp"
    )]
    certificate_identity: Option<String>,
    /// A regular expression the whole certificate identity must match.
    #[arg(long, value_name = "REGEXP")]
    certificate_identity_regexp: Option<String>,
    /// The exact OIDC issuer (e.g. https://token.actions.githubusercontent.com).
    #[arg(
        long,
        value_name = "ISSUER",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    certificate_oidc_issuer: Option<String>,
    /// A regular expression the whole OIDC issuer must match.
    #[arg(long, value_name = "REGEXP")]
    certificate_oidc_issuer_regexp: Option<String>,
    /// The asset's name in the policy and the ledger (e.g. codex-x86_64-unknown-linux-musl).
    #[arg(long, value_name = "NAME")]
    asset_name: Option<String>,
    /// The asset's version (e.g. 0.63.0).
    #[arg(long, value_name = "VERSION")]
    asset_version: Option<String>,
}

impl AssetArgs {
    fn any(&self) -> bool {
        self.bundle.is_some()
            || self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.certificate_oidc_issuer_regexp.is_some()
            || self.asset_name.is_some()
            || self.asset_version.is_some()
    }

    /// The request for `url`; a missing flag is a usage error (exit 2).
    fn request(&self, url: &str) -> Result<crate::gate::asset::AssetRequest, Failure> {
        use crate::sigstore::{IdentityPolicy, StringMatch};
        let missing = |flag: &str| {
            Failure::operational(format!(
                "admit of a URL needs {flag}: a release asset is admitted only with its Sigstore bundle, the identity that signed it, and its name and version"
            ))
        };
        let regex = |s: &str| {
            StringMatch::regex(s)
                .map_err(|e| Failure::operational(format!("invalid regular expression {s:?}: {e}")))
        };
        let bundle = self.bundle.as_deref().ok_or_else(|| missing("--bundle"))?;
        let identity = match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(exact), _) => StringMatch::Exact(exact.clone()),
            (None, Some(re)) => regex(re)?,
            (None, None) => {
                return Err(missing(
                    "--certificate-identity or --certificate-identity-regexp",
                ));
            }
        };
        let issuer = match (
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        ) {
            (Some(exact), _) => StringMatch::Exact(exact.clone()),
            (None, Some(re)) => regex(re)?,
            (None, None) => {
                return Err(missing(
                    "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp",
                ));
            }
        };
        let name = self
            .asset_name
            .clone()
            .ok_or_else(|| missing("--asset-name"))?;
        crate::ledger::PackageName::new(&name)
            .map_err(|e| Failure::operational(format!("--asset-name: {e}")))?;
        let version = self
            .asset_version
            .as_deref()
            .ok_or_else(|| missing("--asset-version"))?;
        let version = version
            .parse::<crate::source::Version>()
            .map_err(|e| Failure::operational(format!("--asset-version: {e}")))?;
        Ok(crate::gate::asset::AssetRequest {
            url: url.to_string(),
            name,
            version,
            bundle: crate::gate::asset::BundleSource::parse(bundle),
            identity: IdentityPolicy {
                identity: Some(identity),
                issuer: Some(issuer),
                claims: Vec::new(),
            },
        })
    }
}

/// `--max-closure-packages` / `--max-closure-depth` over the defaults.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct ClosureLimitArgs {
    /// Most artifacts one closure may have (default from limits.rs); more is a rejection.
    #[arg(long, value_name = "N")]
    max_closure_packages: Option<u64>,
    /// Deepest dependency chain one closure may have (default from limits.rs).
    #[arg(long, value_name = "N")]
    max_closure_depth: Option<u64>,
}

impl ClosureLimitArgs {
    pub(super) fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(n) = self.max_closure_packages {
            l.closure_packages = n;
        }
        if let Some(n) = self.max_closure_depth {
            l.closure_depth = n;
        }
        l
    }
}

fn admit(args: AdmitArgs) -> Result<Outcome, Failure> {
    let parts = GateParts::load(
        &args.policy,
        &args.ledger,
        &args.source,
        &args.trust,
        args.closure_limits.limits(),
    )?;
    let key = match &args.signing_key {
        Some(p) => {
            let pem = std::fs::read_to_string(p)
                .map_err(|e| Failure::operational(format!("cannot read {}: {e}", p.display())))?;
            Some(
                OrgKey::from_pem(&pem)
                    .map_err(|e| Failure::operational(format!("{}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let vendor = args.vendor.options()?;
    let parts = parts.with_vendor(vendor);
    let gate = parts.gate(key.as_ref());
    let store = args
        .store
        .as_deref()
        .map(AdmitTarget::open)
        .transpose()
        .map_err(Failure::operational)?;
    let is_url = args.spec.starts_with("https://") || args.spec.starts_with("http://");
    let report = if is_url {
        let req = args.asset.request(&args.spec)?;
        gate.admit_asset(&args.spec, &req, store.as_ref())
    } else if args.asset.any() {
        return Err(Failure::operational(
            "--bundle, --certificate-identity*, --certificate-oidc-issuer*, --asset-name and --asset-version are for an https:// release asset only",
        ));
    } else {
        gate.admit(&args.spec, store.as_ref())
    };
    let report = report.map_err(|e| match e {
        GateError::NotNpm(_) | GateError::Operational(_) | GateError::Store(_) => {
            Failure::operational(e)
        }
    })?;
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else if args.markdown {
        crate::outln!("{}", report.markdown());
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        crate::outln!("{}", report.human(colour));
    }
    if report.verdict == "admitted" {
        if args.store.is_none() {
            eprintln!("vetted: every check passed; no --store given, so nothing was written");
        }
        Ok(Outcome::Success)
    } else {
        // The full report is on stdout already; stderr gets the one line a pipeline logs.
        eprintln!("vetted: rejected: admit: {}", report.rejection_line());
        Ok(Outcome::Rejected)
    }
}
