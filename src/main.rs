//! The `vetted` binary: parse the command line, run it, map the outcome to an exit code.
use std::process::ExitCode;

fn main() -> ExitCode {
    let outcome = vetted::cli::main_from_args(std::env::args_os());
    ExitCode::from(outcome.exit_code())
}
