//! `fbn-identity`: manage the users of a FINBOURNE domain from a terminal or
//! a script, through the `finbourne-identity` SDK.
//!
//! `main` parses the command line ([`args`]), sets up logging for
//! `-v`/`-vv` and the SDK's configuration warnings, runs the command on a
//! tokio runtime ([`commands`], or [`demo`]), and turns the outcome into the
//! exit code ([`errors`]). Settings reach the SDK through [`settings`];
//! answers are printed by [`output`] (users as CSV by [`columns`]), the
//! service's text escaped for the terminal by [`escape`]; [`color`] decides
//! whether stderr is coloured (`NO_COLOR`), [`progress`] draws progress
//! lines on a terminal. What the CLI writes to files goes through the
//! rules of [`files`] (never the input, never through a link) and, for an
//! export, a [`temporary`] file; long inputs are read a line at a time
//! ([`lines`]); [`signals`] lists the signals that stop a command cleanly.

mod args;
mod color;
mod columns;
mod commands;
#[cfg(feature = "emulator")]
mod demo;
mod errors;
mod escape;
mod files;
mod lines;
mod output;
mod progress;
mod settings;
mod signals;
mod temporary;

use std::process::ExitCode;

use clap::Parser;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
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
        Ok(()) => ExitCode::from(errors::Exit::Success),
        Err(error) => error.into_exit_code(global.json),
    }
}

/// A command line clap refused: its own report and exit code (2; 0 for
/// `--help` and `--version`), or with `--json` among the arguments, one
/// JSON error on stderr as for every other failure.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let json = std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json");
    let shown = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !json || shown {
        error.exit()
    }
    // clap's own text, without its styling, as the message.
    let text = error.render().to_string();
    let message = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    CliError::BadUsage(message).into_exit_code(true)
}

/// Logs to stderr: the SDK's crates at debug (`-v`) or trace (`-vv`);
/// without `-v`, only what `RUST_LOG` asks for. Whatever the verbosity, the
/// configuration's warnings (a secrets file that others may read) are
/// printed as `warning: ...` lines ([`ConfigWarnings`]).
fn init_logging(verbose: u8) {
    let filter = match verbose {
        0 => EnvFilter::try_from_default_env().ok(),
        level => {
            let level = if level == 1 { "debug" } else { "trace" };
            let directives: Vec<String> = LOGGED_CRATES
                .iter()
                .map(|krate| format!("{krate}={level}"))
                .collect();
            Some(EnvFilter::new(directives.join(",")))
        }
    };
    let logs = filter.map(|filter| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(color::stderr())
            .with_filter(filter)
    });
    let warnings =
        ConfigWarnings.with_filter(Targets::new().with_target("identity_config", Level::WARN));
    // Nothing else sets a subscriber: this cannot fail, and logging is not
    // worth failing the command for if it did.
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(warnings)
        .try_init();
}

/// Prints each event it is given as `warning: MESSAGE (FIELD=VALUE, ...)`
/// on stderr, escaped for the terminal. Given identity-config's warnings
/// alone, which name a file and its mode, never a secret.
struct ConfigWarnings;

impl<S: Subscriber> Layer<S> for ConfigWarnings {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let mut text = WarningText::default();
        event.record(&mut text);
        let mut line = format!("warning: {}", text.message);
        if !text.fields.is_empty() {
            line.push_str(&format!(" ({})", text.fields.join(", ")));
        }
        output::print_stderr(&color::paint(&format!("{}\n", escape::untrusted(&line))));
    }
}

/// An event's message and its other fields, as `name=value`.
#[derive(Default)]
struct WarningText {
    message: String,
    fields: Vec<String>,
}

impl Visit for WarningText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push(format!("{}={value:?}", field.name()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.push(format!("{}={value}", field.name()));
        }
    }
}
