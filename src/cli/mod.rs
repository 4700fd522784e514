//! The command line. One file per command family; the doc comments on the clap types are the
//! `--help` text. Every command returns an [`Outcome`] that maps to the exit code:
//! 0 verified/admitted, 1 rejected, 2 usage or operational error.
use clap::{Parser, Subcommand};
use std::ffi::OsString;

mod output;
pub use output::{Failure, Outcome, finish};

/// vetted: admit a third-party tool release only when it is verified and reviewed.
///
/// Exit codes: 0 verified/admitted, 1 rejected (the reason on stderr), 2 usage or operational error.
#[derive(Debug, Parser)]
#[command(name = "vetted", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a Sigstore bundle for an artifact, offline, against pinned trust roots
    /// (the Sigstore conformance client protocol).
    VerifyBundle(Box<verify_bundle::VerifyBundleArgs>),
    /// Show or export the pinned trust roots.
    #[command(subcommand)]
    TrustRoot(trust_root::TrustRootCommand),
    /// Compare two builds: files, install scripts, dependencies, executables, URLs, env vars.
    Diff(diff::DiffArgs),
    /// Write the audit ledger canonically; with --check, exit 1 when it is not canonical.
    Fmt(ledger::FmtArgs),
    /// Record an audit of a build in the ledger (and store its content manifest).
    Certify(ledger::CertifyArgs),
    /// Check a build against the audit ledger; show the diff from the closest audited build.
    Review(ledger::ReviewArgs),
    /// Verify SLSA provenance for artifacts (slsa-verifier verify-artifact), offline.
    VerifyArtifact(Box<provenance::VerifyArtifactArgs>),
    /// Verify an npm package's provenance and publish attestation (slsa-verifier verify-npm-package).
    VerifyNpmPackage(Box<provenance::VerifyNpmPackageArgs>),
    /// Verify a GitHub attestation as SLSA provenance (slsa-verifier verify-github-attestation).
    VerifyGithubAttestation(Box<provenance::VerifyGithubAttestationArgs>),
    /// Verify a verification summary attestation (slsa-verifier verify-vsa).
    VerifyVsa(Box<provenance::VerifyVsaArgs>),
    /// Verify a GitHub artifact attestation (gh attestation verify), offline.
    VerifyAttestation(Box<provenance::VerifyAttestationArgs>),
    /// Admit a release (and its dependency closure) into the store, only if every artifact is
    /// verified and reviewed; all or nothing.
    Admit(Box<admit::AdmitArgs>),
    /// Fetch an artifact (npm:<name>@<version>, https URL, or file) into the cache, verified.
    Fetch(fetch::FetchArgs),
    /// Show an artifact's content manifest: digests, every entry, package.json facts, signals.
    Inspect(inspect::InspectArgs),
    /// Serve the store as an npm registry: only admitted versions, every tarball re-hashed.
    Serve(serve::ServeArgs),
    /// Check installed copies (node_modules, npm global prefix, Claude Code native installs)
    /// against the audited builds in the ledger, file by file.
    AuditInstalled(audit::AuditInstalledArgs),
}

mod admit;
mod audit;
mod diff;
mod fetch;
mod inspect;
mod ledger;
mod provenance;
mod serve;
mod trust_root;
mod verify_bundle;

/// Parse `args` and run the command; never panics on user input.
pub fn main_from_args<I, T>(args: I) -> Outcome
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                Outcome::Error
            } else {
                Outcome::Success
            };
            let _ = e.print();
            return code;
        }
    };
    run(cli)
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::VerifyBundle(args) => verify_bundle::run(*args),
        Command::TrustRoot(cmd) => trust_root::run(cmd),
        Command::Diff(args) => diff::run(args),
        Command::Fmt(args) => ledger::run_fmt(args),
        Command::Certify(args) => ledger::run_certify(args),
        Command::Review(args) => ledger::run_review(args),
        Command::VerifyArtifact(args) => provenance::run_verify_artifact(*args),
        Command::VerifyNpmPackage(args) => provenance::run_verify_npm_package(*args),
        Command::VerifyGithubAttestation(args) => provenance::run_verify_github_attestation(*args),
        Command::VerifyVsa(args) => provenance::run_verify_vsa(*args),
        Command::VerifyAttestation(args) => provenance::run_verify_attestation(*args),
        Command::Admit(args) => admit::run(*args),
        Command::Fetch(args) => fetch::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Serve(args) => serve::run(args),
        Command::AuditInstalled(args) => audit::run(args),
    }
}
