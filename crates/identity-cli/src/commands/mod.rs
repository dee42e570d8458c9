//! The commands that talk to the service: each module runs one group, on a
//! client built from the global flags, and prints through `output`.
//!
//! `users` holds the one-call commands, `import` and `export` the bulk
//! ones, `schema` the user schema's two.

pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod schema;
pub(crate) mod users;

use crate::args::{Command, GlobalArgs, UsersCommand};
use crate::errors::CliError;
use crate::output::Output;
use crate::settings;

/// Runs `command` with the settings of `global`.
pub(crate) async fn run(command: Command, global: &GlobalArgs) -> Result<(), CliError> {
    let output = Output::new(global.json);
    match command {
        Command::Users(UsersCommand::Call(call)) => {
            users::run(&settings::client(global)?, call, output).await
        }
        Command::Users(UsersCommand::Import(args)) => {
            import::run(&args, output, || settings::client(global)).await
        }
        Command::Users(UsersCommand::Export {
            include_deactivated,
        }) => export::run(&settings::client(global)?, include_deactivated).await,
        Command::Schema(command) => schema::run(&settings::client(global)?, command, output).await,
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => identity_emulator::run(args)
            .await
            .map_err(CliError::Emulator),
        #[cfg(feature = "emulator")]
        Command::Demo => crate::demo::run().await,
        #[cfg(not(feature = "emulator"))]
        Command::Emulator(_) | Command::Demo => Err(CliError::WithoutEmulator),
    }
}
