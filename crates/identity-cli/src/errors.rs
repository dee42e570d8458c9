//! What can make a command fail, how it is reported on stderr, and the exit
//! code it ends the process with.
//!
//! Exit codes: 0 success; 1 the service answered with an error status (or
//! the token endpoint refused the credentials), or some lines of an import
//! failed; 2 bad usage or configuration; 3 no answer came back; 130 an
//! export stopped by Ctrl-C; 141 stdout was closed by its reader
//! (`fbn-identity users export | head -1`). Clap's own usage errors already
//! exit with 2.
//!
//! A closed stdout ends the command at once and without a word, with 141:
//! the code a shell reports for a process killed by SIGPIPE (128 + 13),
//! which is what a pipeline's other tools do there (`yes | head -1`), so
//! that `set -o pipefail` scripts see the same thing. Rust ignores SIGPIPE,
//! so the write fails with `BrokenPipe` instead of killing the process;
//! restoring the signal's default would need `unsafe` code, and would leave
//! no chance to remove an unfinished temporary file.
//!
//! The service's text in a report (title, detail, field errors, the raw body,
//! the request id, and the messages of errors, which may quote an answer) is
//! escaped whole as it is put in, with
//! [`escape::untrusted`]: no control character of
//! it reaches the terminal, and no line break of it can fake a line.

use std::fmt::Write as _;
use std::io;
use std::process::ExitCode;

use finbourne_identity::{ApiError, Error, ErrorKind, ValidationErrors};
#[cfg(feature = "emulator")]
use identity_emulator::EmulatorError;

use crate::escape::{self, untrusted};

/// The service answered with an error, or some of the work failed.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Bad usage or configuration.
pub(crate) const EXIT_USAGE: u8 = 2;
/// No answer came back.
pub(crate) const EXIT_NO_ANSWER: u8 = 3;
/// Ctrl-C: as a process killed by SIGINT (128 + 2).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Stdout was closed by its reader: as a process killed by SIGPIPE.
pub(crate) const EXIT_CLOSED_PIPE: u8 = 141;

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A call of the SDK failed (or the client could not be configured).
    Sdk(Error),
    /// A request the user described breaks the contract's rules.
    Invalid {
        /// What was checked, e.g. "the user".
        what: String,
        /// Every violation.
        errors: ValidationErrors,
    },
    /// A file could not be read.
    Read {
        /// What was being read.
        what: String,
        /// Why not.
        source: io::Error,
    },
    /// A file (or stdin) was read but does not hold what it should, as a
    /// whole (a line-by-line import reports its bad lines itself).
    BadInput {
        /// What was read.
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file could not be written.
    Write {
        /// What was being written.
        what: String,
        /// Why not.
        source: io::Error,
    },
    /// An export ended part-way: `count` users were written before
    /// `source` stopped it.
    Stopped {
        /// Users written.
        count: usize,
        /// What stopped it.
        source: Box<CliError>,
        /// The file that was to be written, left as it was.
        untouched: Option<String>,
    },
    /// The emulator could not start or do what was asked.
    #[cfg(feature = "emulator")]
    Emulator(EmulatorError),
    /// `emulator` or `demo` in a build without the `emulator` feature.
    #[cfg(not(feature = "emulator"))]
    WithoutEmulator,
    /// Writing the output failed (a closed pipe ends the command quietly).
    Output(io::Error),
    /// Ctrl-C stopped the command before it was done.
    Interrupted,
    /// The command did its work and has already reported what failed
    /// (e.g. some lines of an import, some ids of `users get`): exit with
    /// this code and no more to say.
    Reported(u8),
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        Self::Sdk(error)
    }
}

impl From<io::Error> for CliError {
    fn from(error: io::Error) -> Self {
        Self::Output(error)
    }
}

impl CliError {
    /// The process's exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Sdk(error) => exit_code_of(error.kind()),
            Self::Invalid { .. } | Self::Read { .. } | Self::BadInput { .. } => EXIT_USAGE,
            Self::Output(error) if error.kind() == io::ErrorKind::BrokenPipe => EXIT_CLOSED_PIPE,
            #[cfg(feature = "emulator")]
            Self::Emulator(error) => emulator_exit_code(error),
            #[cfg(not(feature = "emulator"))]
            Self::WithoutEmulator => EXIT_USAGE,
            Self::Stopped { source, .. } => source.exit_code(),
            Self::Reported(code) => *code,
            Self::Interrupted => EXIT_INTERRUPTED,
            Self::Output(_) | Self::Write { .. } => EXIT_FAILED,
        }
    }

    /// Whether this is stdout closed by its reader.
    pub(crate) fn is_closed_pipe(&self) -> bool {
        match self {
            Self::Output(error) => error.kind() == io::ErrorKind::BrokenPipe,
            Self::Stopped { source, .. } => source.is_closed_pipe(),
            _ => false,
        }
    }

    /// The report for stderr (empty when there is nothing more to say).
    pub(crate) fn report(&self) -> String {
        if self.is_closed_pipe() {
            return String::new();
        }
        match self {
            Self::Sdk(error) => sdk_report(error),
            Self::Invalid { what, errors } => {
                let mut report = format!("error: {what} is not valid\n");
                push_field_errors(&mut report, errors.iter());
                report
            }
            Self::Read { what, source } => format!("error: could not read {what}: {source}\n"),
            Self::BadInput { what, message } => format!("error: {what}: {message}\n"),
            Self::Write { what, source } => format!("error: could not write {what}: {source}\n"),
            #[cfg(feature = "emulator")]
            Self::Emulator(error) => format!("error: emulator: {error}\n"),
            #[cfg(not(feature = "emulator"))]
            Self::WithoutEmulator => "error: this fbn-identity was built without the emulator: \
                 `cargo install identity-cli` (its default features) has the `emulator` and \
                 `demo` commands\n"
                .to_owned(),
            Self::Output(error) => format!("error: could not write the output: {error}\n"),
            Self::Stopped {
                count,
                source,
                untouched,
            } => {
                // The reason's first line joins the sentence; its details
                // (title, request id...) follow as they are.
                let reason = source.report();
                let (first, details) = reason.split_once('\n').unwrap_or((&reason, ""));
                let first = first.strip_prefix("error: ").unwrap_or(first);
                let mut report = format!(
                    "error: export stopped after {count} user{}: {first}\n{details}",
                    crate::output::plural(*count)
                );
                if let Some(path) = untouched {
                    let _ = writeln!(report, "  nothing was written to {path}");
                }
                report
            }
            Self::Interrupted => "error: interrupted (Ctrl-C)\n".to_owned(),
            Self::Reported(_) => String::new(),
        }
    }

    /// Prints the report on stderr and gives the exit code.
    pub(crate) fn into_exit_code(self) -> ExitCode {
        let report = self.report();
        if !report.is_empty() {
            crate::output::print_stderr(&crate::color::paint(&escape::lines(&report)));
        }
        ExitCode::from(self.exit_code())
    }
}

/// The exit code of each kind of SDK error.
pub(crate) fn exit_code_of(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Config | ErrorKind::InvalidInput => EXIT_USAGE,
        ErrorKind::NoAnswer => EXIT_NO_ANSWER,
        // Api, Auth, Decode: an answer came, and it was not a success.
        _ => EXIT_FAILED,
    }
}

/// The exit code of an emulator failure: 2 when it could not start as
/// configured (address, credentials, limits, state file, fault rules), 1
/// otherwise.
#[cfg(feature = "emulator")]
fn emulator_exit_code(error: &EmulatorError) -> u8 {
    if error.is_configuration() {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}

/// An SDK error for stderr: for an error answer its status, title, detail,
/// code, each field error and the request id; otherwise the message and
/// its causes.
fn sdk_report(error: &Error) -> String {
    let mut report = String::new();
    match error.api() {
        Some(api) => push_api_error(&mut report, api),
        None => {
            let _ = writeln!(report, "error: {}", untrusted(&error.to_string()));
            let mut source = std::error::Error::source(error);
            let mut previous = error.to_string();
            while let Some(cause) = source {
                let text = cause.to_string();
                // Skip a cause that only repeats what was already said.
                if !previous.contains(&text) {
                    let _ = writeln!(report, "  caused by: {}", untrusted(&text));
                }
                previous = text;
                source = cause.source();
            }
        }
    }
    if let Some(id) = error.request_id().filter(|_| error.api().is_none()) {
        let _ = writeln!(report, "  request id: {}", untrusted(id));
    }
    report
}

/// The parts of the service's error answer, one a line.
pub(crate) fn push_api_error(report: &mut String, api: &ApiError) {
    let _ = writeln!(report, "error: {} failed: {}", api.operation, api.status);
    if let Some(title) = api.title() {
        let _ = writeln!(report, "  title: {}", untrusted(title));
    }
    if let Some(detail) = api.detail() {
        let _ = writeln!(report, "  detail: {}", untrusted(detail));
    }
    if let Some(code) = api.code() {
        let _ = writeln!(report, "  code: {code}");
    }
    push_field_errors(
        report,
        api.field_errors()
            .iter()
            .map(|(field, messages)| (field.as_str(), messages.as_slice())),
    );
    if api.problem.is_none() && !api.body.is_empty() {
        let _ = writeln!(report, "  body: {}", untrusted(&api.body_snippet()));
    }
    if let Some(wait) = api.retry_after() {
        let _ = writeln!(
            report,
            "  the service asked to wait {:.1} s before trying again",
            wait.as_secs_f64()
        );
    }
    if api.follows_unknown_outcome() {
        let _ = writeln!(
            report,
            "  note: this answered a retry after an attempt the service may have processed; that attempt's change may have been made"
        );
    }
    if let Some(id) = api.request_id() {
        let _ = writeln!(report, "  request id: {}", untrusted(id));
    }
}

/// Each field with its messages, one field a line.
pub(crate) fn push_field_errors<'a>(
    report: &mut String,
    errors: impl Iterator<Item = (&'a str, &'a [String])>,
) {
    for (field, messages) in errors {
        let _ = writeln!(
            report,
            "  {}: {}",
            untrusted(field),
            untrusted(&messages.join(" "))
        );
    }
}

/// One line saying why a call failed, for lists of failures (an import's),
/// with the service's text as it came: the caller escapes the line for a
/// terminal, and its JSON report keeps it exact.
pub(crate) fn one_line(error: &Error) -> String {
    match error.api() {
        Some(api) => {
            let mut line = format!("{}", api.status);
            for part in [api.title(), api.detail()].into_iter().flatten() {
                line.push_str(": ");
                line.push_str(part);
            }
            if let Some(code) = api.code() {
                let _ = write!(line, " (code {code})");
            }
            for (field, messages) in api.field_errors() {
                let _ = write!(line, "; {field}: {}", messages.join(" "));
            }
            if let Some(id) = api.request_id() {
                let _ = write!(line, " [request id {id}]");
            }
            line
        }
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn kinds_map_to_exit_codes() {
        assert_eq!(exit_code_of(ErrorKind::Api), EXIT_FAILED);
        assert_eq!(exit_code_of(ErrorKind::Auth), EXIT_FAILED);
        assert_eq!(exit_code_of(ErrorKind::Decode), EXIT_FAILED);
        assert_eq!(exit_code_of(ErrorKind::Config), EXIT_USAGE);
        assert_eq!(exit_code_of(ErrorKind::InvalidInput), EXIT_USAGE);
        assert_eq!(exit_code_of(ErrorKind::NoAnswer), EXIT_NO_ANSWER);
    }

    #[test]
    fn local_failures_have_their_codes_and_reports() {
        let mut errors = ValidationErrors::new();
        errors.add("lastName", "too short");
        let invalid = CliError::Invalid {
            what: "the user".into(),
            errors,
        };
        assert_eq!(invalid.exit_code(), EXIT_USAGE);
        assert_eq!(
            invalid.report(),
            "error: the user is not valid\n  lastName: too short\n"
        );

        let closed = CliError::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(closed.exit_code(), EXIT_CLOSED_PIPE);
        assert_eq!(closed.report(), "");
        let stopped_by_a_closed_pipe = CliError::Stopped {
            count: 3,
            source: Box::new(closed),
            untouched: None,
        };
        assert_eq!(stopped_by_a_closed_pipe.exit_code(), EXIT_CLOSED_PIPE);
        assert_eq!(stopped_by_a_closed_pipe.report(), "");

        assert_eq!(CliError::Reported(EXIT_FAILED).exit_code(), EXIT_FAILED);
        assert_eq!(
            CliError::Reported(EXIT_NO_ANSWER).exit_code(),
            EXIT_NO_ANSWER
        );
    }

    /// A facade error for an answer of GetUser with `body`.
    fn answered(status: u16, body: &str) -> Error {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "lusid-meta-requestId",
            http::HeaderValue::from_static("req\t1"),
        );
        let api = ApiError::new(
            "GetUser",
            http::StatusCode::from_u16(status).unwrap(),
            headers,
            body.as_bytes().to_vec().into(),
        );
        Error::from(finbourne_identity::layers::users::Error::Api(Box::new(api)))
    }

    /// Whether `text` holds a control character other than a line break.
    fn raw_control(text: &str) -> bool {
        text.chars().any(|c| c.is_control() && c != '\n')
    }

    #[test]
    fn the_services_text_is_escaped_in_every_report() {
        let problem = serde_json::json!({
            "name": "Problem", "code": 157, "status": 400,
            "title": "\u{1b}[2JBad\u{7}",
            "detail": "line one\n  request id: forged\u{9b}",
            "errors": {"lastName\u{1b}": ["too\u{1b}[8m short"]},
        });
        let error = answered(400, &problem.to_string());
        let report = CliError::Sdk(answered(400, &problem.to_string())).report();
        assert!(!raw_control(&report), "{report:?}");
        assert!(report.contains("title: \\x1b[2JBad\\x07"), "{report}");
        // A line break of the service's cannot fake a line of the report.
        assert!(
            report.contains("detail: line one\\n  request id: forged\\u{9b}"),
            "{report}"
        );
        assert!(
            report.contains("lastName\\x1b: too\\x1b[8m short"),
            "{report}"
        );
        assert!(report.contains("request id: req\\t1"), "{report}");
        // The one-line form keeps the text exact: its printer escapes it.
        assert!(one_line(&error).contains("\u{1b}[2JBad"));

        let raw_body = CliError::Sdk(answered(502, "<html>\u{1b}]0;owned\u{7}</html>")).report();
        assert!(!raw_control(&raw_body), "{raw_body:?}");
        assert!(
            raw_body.contains("body: <html>\\x1b]0;owned\\x07</html>"),
            "{raw_body}"
        );
    }
}
