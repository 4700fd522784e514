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
    /// The release: `npm:<name>@<version|dist-tag>`.
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
    /// Where vendor-signed release manifests come from, for policy entries with
    /// `vendor-manifest`: a base URL (`<URL>/<V>/manifest.json` and `.sig`) or, air-gapped, a
    /// directory laid out as `<V>/manifest.json` + `<V>/manifest.json.sig`.
    #[arg(long, value_name = "URL|DIR", default_value = crate::vendor::CLAUDE_CODE_RELEASES)]
    vendor_source: String,
    /// Trust this OpenPGP key file instead of the pinned vendor key (tests, key rotation
    /// drills); only its primary key with `--insecure-vendor-key-fingerprint` may sign.
    #[arg(
        long,
        value_name = "FILE",
        requires = "insecure_vendor_key_fingerprint"
    )]
    insecure_vendor_key: Option<PathBuf>,
    /// The primary fingerprint that `--insecure-vendor-key` pins.
    #[arg(long, value_name = "HEX", requires = "insecure_vendor_key")]
    insecure_vendor_key_fingerprint: Option<String>,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    trust: super::trust_root::TrustArgs,
}

pub fn run(args: AdmitArgs) -> Outcome {
    let json = args.json;
    finish(json, admit(args))
}

fn admit(args: AdmitArgs) -> Result<Outcome, Failure> {
    let policy = Policy::load(&args.policy).map_err(|e| match e {
        PolicyError::Invalid(d) => {
            eprint!("{}", d.render());
            Failure::operational(format!(
                "the policy {} has {} error(s)",
                args.policy.display(),
                d.error_count()
            ))
        }
        other => Failure::operational(other),
    })?;
    let ledger = Ledger::load(&args.ledger).map_err(|d| {
        eprint!("{}", d.render());
        Failure::operational(format!(
            "the ledger in {} has {} error(s)",
            args.ledger.display(),
            d.error_count()
        ))
    })?;
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
    let limits = Limits::default();
    let fetch = args.source.options(limits)?;
    let trust = args.trust.load()?;
    let (roots, npm_keys) = (trust.roots, trust.npm_keys);
    let vendor = crate::gate::vendor::VendorOptions {
        source: crate::source::VendorSource::parse(&args.vendor_source)
            .map_err(Failure::operational)?,
        key_override: match &args.insecure_vendor_key {
            Some(path) => Some(super::vendor::vendor_key(
                crate::vendor::CLAUDE_CODE,
                Some(path),
                args.insecure_vendor_key_fingerprint.as_deref(),
            )?),
            None => None,
        },
    };
    let gate = Gate {
        policy: &policy,
        ledger: &ledger,
        fetch: &fetch,
        roots: &roots,
        npm_keys: &npm_keys,
        clock: &SystemClock,
        limits,
        signing_key: key.as_ref(),
        vendor: &vendor,
    };
    let store = args
        .store
        .as_deref()
        .map(AdmitTarget::open)
        .transpose()
        .map_err(Failure::operational)?;
    let report = gate
        .admit(&args.spec, store.as_ref())
        .map_err(|e| match e {
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
