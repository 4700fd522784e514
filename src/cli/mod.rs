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
    VerifyBundle(verify_bundle::VerifyBundleArgs),
    /// Show or export the pinned trust roots.
    #[command(subcommand)]
    TrustRoot(trust_root::TrustRootCommand),
    /// Fetch an artifact (npm:<name>@<version>, https URL, or file) into the cache, verified.
    Fetch(fetch::FetchArgs),
    /// Show an artifact's content manifest: digests, every entry, package.json facts, signals.
    Inspect(inspect::InspectArgs),
}

mod fetch;
mod inspect;
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
        Command::VerifyBundle(args) => verify_bundle::run(args),
        Command::TrustRoot(cmd) => trust_root::run(cmd),
        Command::Fetch(args) => fetch::run(args),
        Command::Inspect(args) => inspect::run(args),
    }
}
