//! The `vetted` binary: parse the command line, run it, map the outcome to an exit code.
use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
    // JavaScript is parsed and printed on whichever thread reads it (the analysis has its own
    // workers; a review prints code on its compare threads and on this one). oxc recurses once
    // per level of nesting, up to `limits::JS_NESTING` levels: every thread gets a stack that
    // holds that (address space; only what is touched becomes memory), this one included.
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: no other thread exists yet, so nothing reads the environment concurrently.
        unsafe {
            std::env::set_var("RUST_MIN_STACK", vetted::limits::JS_STACK_BYTES.to_string());
        }
    }
    let run = std::thread::Builder::new()
        .name("main".into())
        .stack_size(vetted::limits::JS_STACK_BYTES)
        .spawn(|| vetted::cli::main_from_args(std::env::args_os()).exit_code());
    let code = match run.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        // A panic was reported on stderr by the hook; a thread that cannot start is ours.
        Ok(Err(_)) => 101,
        Err(e) => {
            eprintln!("error: cannot start the main thread: {e}");
            2
        }
    };
    ExitCode::from(code)
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
