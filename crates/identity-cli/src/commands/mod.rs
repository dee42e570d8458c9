//! The commands: each module runs one group, on a client built from the
//! global flags, and prints through `output`.
//!
//! `users` holds the one-call commands, `import`, `export` and `sync` the
//! bulk ones (paced by `pace`, sharing the parts of `bulk`), `create` the
//! creating of one user that `users create`, `import` and `sync` share,
//! `schema` the user schema's two; `completions` (the shells' scripts)
//! needs no client.

pub(crate) mod bulk;
pub(crate) mod completions;
pub(crate) mod create;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod pace;
pub(crate) mod schema;
pub(crate) mod sync;
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
        Command::Users(UsersCommand::Sync(args)) => {
            sync::run(&args, output, || settings::client(global)).await
        }
        Command::Users(UsersCommand::Export(args)) => {
            export::run(&settings::client(global)?, &args).await
        }
        Command::Schema(command) => schema::run(&settings::client(global)?, command, output).await,
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => identity_emulator::run(args)
            .await
            .map_err(CliError::Emulator),
        #[cfg(feature = "emulator")]
        Command::Demo => crate::demo::run().await,
        #[cfg(not(feature = "emulator"))]
        Command::Emulator(_) | Command::Demo => Err(CliError::WithoutEmulator),
        Command::Completions { shell } => completions::run(shell),
    }
}
