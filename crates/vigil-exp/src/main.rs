//! `exp`: Vigil's command line. Parsing lives in [`cli`], each subcommand in [`commands`], and
//! configs become objects only in [`wiring`].

mod cli;
mod commands;
mod config;
mod evaluate;
mod rundir;
mod selfplay_eval;
mod sweep;
mod tensorboard;
mod training;
mod warmstart;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tune_allocator();
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the whole cause chain, outermost first.
            let chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {}", chain.join(": "));
            }
            ExitCode::FAILURE
        }
    }
}

/// glibc's malloc hands every freed block over 32 MB back to the kernel, so each attention-sized
/// tensor of a CPU training step is page-faulted in again from zero: a third of the step time.
/// Keeping big blocks in the heap (`mmap_max=0`, high `trim_threshold`) made an SFT step of the
/// quickstart model ≈1.5× faster. The tunables are read only at process start, and the
/// workspace forbids the `unsafe` that `mallopt` needs, so `exp` re-executes itself once with
/// `GLIBC_TUNABLES` set; a user's own `GLIBC_TUNABLES` is left alone.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const TUNABLES: &str = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184";
        if std::env::var_os("GLIBC_TUNABLES").is_some()
            || std::env::var_os("VIGIL_NO_MALLOC_TUNING").is_some()
        {
            return;
        }
        if let Ok(exe) = std::env::current_exe() {
            // `exec` only returns on failure; then run untuned rather than not at all (there is
            // no logger yet to report it to).
            let mut args = std::env::args_os();
            let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
            let _ = std::process::Command::new(&exe)
                .arg0(arg0)
                .args(args)
                .env("GLIBC_TUNABLES", TUNABLES)
                .exec();
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
