//! The `vetted` binary: parse the command line, run it, map the outcome to an exit code.
use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let outcome = vetted::cli::main_from_args(std::env::args_os());
    ExitCode::from(outcome.exit_code())
}

/// glibc gives each thread that allocates its own arena (up to 8 per core) and keeps what is
/// freed in each: with the reading threads and their analysis workers, a native build's diff
/// peaked at 746-798 MB against 650-663 MB with at most `vetted::limits::MALLOC_ARENAS`, at the
/// same speed. `MALLOC_ARENA_MAX` in the environment still decides when set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt takes two integers and is called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, vetted::limits::MALLOC_ARENAS);
        }
    }
}
