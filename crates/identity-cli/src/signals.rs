//! The signals that stop a command cleanly: SIGINT (Ctrl-C), SIGTERM and
//! SIGHUP on unix, Ctrl-C elsewhere. A command that listens finishes what
//! must not be left half done (an export removes its temporary file, an
//! import settles the creates in flight and writes its report) and exits
//! with 130 ([`crate::errors::Exit::Interrupted`]).
//!
//! Once listened for, a signal no longer kills the process by itself: the
//! command that listens must end.

/// The stop signals, listened for from when this is made.
pub(crate) struct StopSignals {
    #[cfg(unix)]
    signals: Vec<(tokio::signal::unix::Signal, &'static str)>,
}

impl StopSignals {
    /// Starts listening. A signal that cannot be listened for keeps its
    /// default action (it ends the process).
    pub(crate) fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = [
                (SignalKind::interrupt(), "SIGINT"),
                (SignalKind::terminate(), "SIGTERM"),
                (SignalKind::hangup(), "SIGHUP"),
            ]
            .into_iter()
            .filter_map(|(kind, name)| signal(kind).ok().map(|signal| (signal, name)))
            .collect();
            Self { signals }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// The name of the next stop signal, when it comes (never, when none
    /// could be listened for).
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            if self.signals.is_empty() {
                return std::future::pending().await;
            }
            let next = self.signals.iter_mut().map(|(signal, name)| {
                let name = *name;
                Box::pin(async move {
                    if signal.recv().await.is_none() {
                        // No more signals can come: never.
                        std::future::pending::<()>().await;
                    }
                    name
                })
            });
            futures_util::future::select_all(next).await.0
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}
