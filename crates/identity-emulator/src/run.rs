//! [`run`]: the emulator in the foreground, as the binary and
//! `fbn-identity emulator` run it: start, say where it is (the banner, or
//! the ready line), serve until SIGTERM or SIGINT, stop gracefully.

use std::io::Write;

use crate::ready::{banner, ready_line};
use crate::{Emulator, EmulatorArgs, EmulatorError};

/// Starts the emulator, prints its URLs and test credentials (the banner on
/// stdout, or with `--ready-json` one JSON line on stdout and the banner on
/// stderr), and serves until SIGTERM or SIGINT (Ctrl-C), then shuts down
/// gracefully: in-flight requests finish (for at most 5 seconds) and the
/// state file's journal is folded into its snapshot.
///
/// A configuration the emulator cannot start with is an error for which
/// [`EmulatorError::is_configuration`] holds (a command line exits 2).
pub async fn run(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let ready_json = args.ready_json;
    let config = args.into_config();
    let emulator = Emulator::start(config.clone()).await?;
    // Listening for the signals before saying it is ready: a test suite may
    // send SIGTERM as soon as it has read the line.
    let stop = StopSignals::listen()?;
    // One write each, and a closed stdout is no reason to stop serving
    // (println! would panic on a broken pipe).
    let banner = banner(&emulator, &config);
    if ready_json {
        let mut line = ready_line(&emulator, &config);
        line.push('\n');
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(line.as_bytes());
        let _ = stdout.flush();
        drop(stdout);
        let _ = writeln!(std::io::stderr().lock(), "{banner}");
    } else {
        let _ = writeln!(std::io::stdout().lock(), "{banner}");
    }
    let signal = stop.wait().await;
    tracing::info!(signal, "shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// SIGTERM and SIGINT on Unix; Ctrl-C elsewhere.
struct StopSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> Result<Self, EmulatorError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate()).map_err(EmulatorError::Signal)?,
                interrupt: signal(SignalKind::interrupt()).map_err(EmulatorError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// The name of the signal that came.
    async fn wait(self) -> &'static str {
        #[cfg(unix)]
        {
            let Self {
                mut terminate,
                mut interrupt,
            } = self;
            tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(error) => {
                    tracing::error!(%error, "cannot wait for Ctrl-C; stopping");
                    "none"
                }
            }
        }
    }
}
