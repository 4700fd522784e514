//! `vetted verify-bundle`.
use super::{Failure, Outcome, finish};

/// Arguments (filled in with the Sigstore conformance protocol).
#[derive(Debug, clap::Args)]
pub struct VerifyBundleArgs {
    /// Print the verified facts or the rejection as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VerifyBundleArgs) -> Outcome {
    finish(
        args.json,
        Err(Failure::operational("verify-bundle is not implemented yet")),
    )
}
