//! [`Stop`]: why a bulk run (`users import`, `users sync --apply`) stopped
//! before its end, and the exit it makes: one place for both.

use super::source::SourceError;
use crate::errors::{CliError, Exit};
use crate::output::note;

/// Why a bulk run stopped before its end.
pub(crate) enum Stop {
    /// A signal (its name).
    Signal(&'static str),
    /// The service stopped answering (the breaker's reason).
    Unanswered(String),
    /// The service kept asking to wait longer than --longest-wait (the
    /// breaker's reason).
    Throttled(String),
    /// A call failed for a reason no other line can escape: the
    /// credentials or the configuration (a refused token grant, an
    /// unusable token file, a 401 or 403). Why, and the exit it makes.
    Refused(String, Exit),
    /// The input could not be read on.
    Input(SourceError),
}

impl Stop {
    /// Why, in words (`what`: the input's name).
    pub(crate) fn reason(&self, what: &str) -> String {
        match self {
            Stop::Signal(signal) => format!("interrupted ({signal})"),
            Stop::Unanswered(reason) | Stop::Throttled(reason) | Stop::Refused(reason, _) => {
                reason.clone()
            }
            Stop::Input(SourceError::Read(error)) => format!("{what} could not be read: {error}"),
            Stop::Input(SourceError::Bad(message)) => message.clone(),
        }
    }

    /// The error the run ends with, after saying why on stderr: `run`
    /// names the run (`import`, `apply`), `what` its input, and `unknown`
    /// whether some outcomes are left unknown (a run stopped for want of
    /// answers then exits 7, else 3).
    pub(crate) fn ended(self, run: &str, what: &str, unknown: bool) -> CliError {
        let exit = match self {
            Stop::Signal(signal) => return CliError::Interrupted(signal),
            Stop::Input(SourceError::Read(source)) => {
                return CliError::Read {
                    what: what.to_owned(),
                    source,
                };
            }
            Stop::Input(SourceError::Bad(message)) => {
                return CliError::BadInput {
                    what: what.to_owned(),
                    message,
                };
            }
            Stop::Throttled(_) => Exit::Throttled,
            Stop::Unanswered(_) if unknown => Exit::OutcomeUnknown,
            Stop::Unanswered(_) => Exit::NoAnswer,
            Stop::Refused(_, exit) => exit,
        };
        note(&format!("error: {run} stopped: {}", self.reason(what)));
        CliError::Reported(exit)
    }
}
