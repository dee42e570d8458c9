//! `fbn-identity`: manage the users of a FINBOURNE domain from a terminal or
//! a script, through the `finbourne-identity` SDK.
//!
//! `main` parses the command line ([`args`]), sets up logging for
//! `-v`/`-vv`, runs the command on a tokio runtime ([`commands`], or
//! [`demo`]), and turns the outcome into the exit code ([`errors`]).
//! Settings reach the SDK through [`settings`]; answers are printed by
//! [`output`], the service's text escaped for the terminal by [`escape`].

mod args;
mod commands;
mod demo;
mod errors;
mod escape;
mod output;
mod settings;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::args::Cli;
use crate::errors::CliError;

/// The crates whose logs `-v` shows.
const LOGGED_CRATES: &[&str] = &[
    "finbourne_identity",
    "identity_users",
    "identity_auth",
    "identity_transport",
    "identity_emulator",
    "fbn_identity",
];

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Cli { global, command } = cli;
    match runtime.block_on(commands::run(command, &global)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => CliError::into_exit_code(error),
    }
}

/// Logs to stderr: the SDK's crates at debug (`-v`) or trace (`-vv`);
/// without `-v`, only what `RUST_LOG` asks for.
fn init_logging(verbose: u8) {
    let filter = match verbose {
        0 => match EnvFilter::try_from_default_env() {
            Ok(filter) => filter,
            Err(_) => return,
        },
        level => {
            let level = if level == 1 { "debug" } else { "trace" };
            let directives: Vec<String> = LOGGED_CRATES
                .iter()
                .map(|krate| format!("{krate}={level}"))
                .collect();
            EnvFilter::new(directives.join(","))
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
