//! `identity-emulator`: a local FINBOURNE Identity service for development
//! and tests. Run with `--help` for the flags.

use std::process::ExitCode;

use clap::Parser;
use identity_emulator::EmulatorArgs;

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
    match identity_emulator::run(cli.emulator).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("identity-emulator: {error}");
            ExitCode::FAILURE
        }
    }
}
