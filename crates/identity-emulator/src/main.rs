//! `identity-emulator`: a local FINBOURNE Identity service for development
//! and tests, the same as `fbn-identity emulator` (which `cargo install
//! identity-cli` installs). Run with `--help` for the flags; exit code 2
//! when it cannot start as configured. It logs to stderr: warnings
//! (refused requests, state file failures) by default, more with `RUST_LOG`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use identity_emulator::EmulatorArgs;
use tracing_subscriber::EnvFilter;

/// A faithful local FINBOURNE Identity service (Users API, OAuth2 token
/// endpoint, fault injection).
#[derive(Parser)]
#[command(name = "identity-emulator", version, about)]
struct Cli {
    #[command(flatten)]
    emulator: EmulatorArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("identity_emulator=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match identity_emulator::run(cli.emulator).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("identity-emulator: {error}");
            // 2 for a configuration it cannot start with, as `fbn-identity
            // emulator` exits.
            if error.is_configuration() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
