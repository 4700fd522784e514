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

// The commands, main job first. Each one's help text is the doc comment on its arguments struct
// (first paragraph in this list, all of it in `vetted COMMAND --help`).
#[derive(Debug, Subcommand)]
enum Command {
    Admit(Box<admit::AdmitArgs>),
    Serve(serve::ServeArgs),
    AuditInstalled(audit::AuditInstalledArgs),
    Review(ledger::ReviewArgs),
    Certify(ledger::CertifyArgs),
    Suggest(ledger::SuggestArgs),
    Revoke(ledger::RevokeArgs),
    Diff(diff::DiffArgs),
    Show(diff::ShowArgs),
    Fmt(ledger::FmtArgs),
    Fetch(fetch::FetchArgs),
    Inspect(inspect::InspectArgs),
    VerifyBundle(Box<verify_bundle::VerifyBundleArgs>),
    VerifyArtifact(Box<provenance::VerifyArtifactArgs>),
    VerifyNpmPackage(Box<provenance::VerifyNpmPackageArgs>),
    VerifyGithubAttestation(Box<provenance::VerifyGithubAttestationArgs>),
    VerifyVsa(Box<provenance::VerifyVsaArgs>),
    VerifyAttestation(Box<provenance::VerifyAttestationArgs>),
    VerifyVendorManifest(Box<vendor::VerifyVendorManifestArgs>),
    /// Show or export the pinned trust roots.
    #[command(subcommand)]
    TrustRoot(trust_root::TrustRootCommand),
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
mod vendor;
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
        Command::Show(args) => diff::run_show(args),
        Command::Fmt(args) => ledger::run_fmt(args),
        Command::Certify(args) => ledger::run_certify(args),
        Command::Suggest(args) => ledger::run_suggest(args),
        Command::Revoke(args) => ledger::run_revoke(args),
        Command::Review(args) => ledger::run_review(args),
        Command::VerifyArtifact(args) => provenance::run_verify_artifact(*args),
        Command::VerifyNpmPackage(args) => provenance::run_verify_npm_package(*args),
        Command::VerifyGithubAttestation(args) => provenance::run_verify_github_attestation(*args),
        Command::VerifyVsa(args) => provenance::run_verify_vsa(*args),
        Command::VerifyAttestation(args) => provenance::run_verify_attestation(*args),
        Command::VerifyVendorManifest(args) => vendor::run(*args),
        Command::Admit(args) => admit::run(*args),
        Command::Fetch(args) => fetch::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Serve(args) => serve::run(args),
        Command::AuditInstalled(args) => audit::run(args),
    }
}
