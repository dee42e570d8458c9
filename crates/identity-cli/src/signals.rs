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
    /// could be listened for). Cheap to call in a loop: nothing is
    /// allocated.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            std::future::poll_fn(|cx| {
                for (signal, name) in &mut self.signals {
                    // `Ready(None)`: no more can come from it; the others
                    // still may.
                    if let std::task::Poll::Ready(Some(())) = signal.poll_recv(cx) {
                        return std::task::Poll::Ready(*name);
                    }
                }
                std::task::Poll::Pending
            })
            .await
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
