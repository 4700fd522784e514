//! `vetted trust-root`.
use super::{Failure, Outcome, finish};

/// Trust-root commands.
#[derive(Debug, clap::Subcommand)]
pub enum TrustRootCommand {
    /// List the pinned roots.
    List,
}

pub fn run(_cmd: TrustRootCommand) -> Outcome {
    finish(
        false,
        Err(Failure::operational("trust-root is not implemented yet")),
    )
}
