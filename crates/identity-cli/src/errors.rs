//! What can make a command fail, how it is reported on stderr, and the exit
//! code it ends the process with.
//!
//! Exit codes: one table, [`Exit`], used by every command (`fbn-identity
//! --help` prints it from there, [`Exit::help`]). Clap's own usage errors
//! exit with 2 as [`Exit::Usage`] does.
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
//!
//! The report speaks the command line's language: a setting is named by its
//! flag and variable ([`wording`]), never by the SDK's builder call. With
//! `--json` it is one JSON object on stderr instead ([`json`]).

mod json;
pub(crate) mod wording;

use std::fmt::Write as _;
use std::io;
use std::process::ExitCode;

use finbourne_identity::layers::auth::AuthError;
use finbourne_identity::{ApiError, Error, ErrorKind, ValidationErrors};
#[cfg(feature = "emulator")]
use identity_emulator::EmulatorError;

use self::json::JsonError;
use crate::escape::{self, untrusted};

/// The process's exit codes: the one table of every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Success (a sync plan: no changes).
    Success,
    /// The service refused the call: an error answer not listed below, or a
    /// refused token grant.
    Refused,
    /// Bad usage or configuration.
    Usage,
    /// No answer: a connect, TLS or proxy failure, a timeout, a connection
    /// closed.
    NoAnswer,
    /// Not found (404).
    NotFound,
    /// Already exists (the service's code 658, or a 409).
    AlreadyExists,
    /// Throttled (429, or the service's own 503) longer than the client
    /// could wait.
    Throttled,
    /// The call may have taken effect, and nothing settled it.
    OutcomeUnknown,
    /// A local file could not be read or written, or a path was refused
    /// for safety.
    LocalFile,
    /// A bulk run finished with some lines failed (listed in its report).
    SomeLinesFailed,
    /// `users sync --plan`: the plan is not empty.
    ChangesPending,
    /// Interrupted by SIGINT (Ctrl-C), SIGTERM or SIGHUP: as a process
    /// killed by SIGINT (128 + 2).
    Interrupted,
    /// Stdout was closed by its reader: as a process killed by SIGPIPE
    /// (128 + 13).
    ClosedPipe,
}

impl Exit {
    /// Every code, in the order of the table.
    pub(crate) const ALL: [Exit; 13] = [
        Exit::Success,
        Exit::Refused,
        Exit::Usage,
        Exit::NoAnswer,
        Exit::NotFound,
        Exit::AlreadyExists,
        Exit::Throttled,
        Exit::OutcomeUnknown,
        Exit::LocalFile,
        Exit::SomeLinesFailed,
        Exit::ChangesPending,
        Exit::Interrupted,
        Exit::ClosedPipe,
    ];

    /// The number the process exits with.
    pub(crate) const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Refused => 1,
            Exit::Usage => 2,
            Exit::NoAnswer => 3,
            Exit::NotFound => 4,
            Exit::AlreadyExists => 5,
            Exit::Throttled => 6,
            Exit::OutcomeUnknown => 7,
            Exit::LocalFile => 8,
            Exit::SomeLinesFailed => 9,
            Exit::ChangesPending => 10,
            Exit::Interrupted => 130,
            Exit::ClosedPipe => 141,
        }
    }

    /// The code's name, for the `kind` of a JSON error (`not_found`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Refused => "refused",
            Exit::Usage => "usage",
            Exit::NoAnswer => "no_answer",
            Exit::NotFound => "not_found",
            Exit::AlreadyExists => "already_exists",
            Exit::Throttled => "throttled",
            Exit::OutcomeUnknown => "outcome_unknown",
            Exit::LocalFile => "local_file",
            Exit::SomeLinesFailed => "some_lines_failed",
            Exit::ChangesPending => "changes_pending",
            Exit::Interrupted => "interrupted",
            Exit::ClosedPipe => "closed_pipe",
        }
    }

    /// What the code means, for `--help`.
    pub(crate) const fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success (a sync plan: no changes)",
            Exit::Refused => {
                "the service refused the call (an error answer not listed below, a refused token grant)"
            }
            Exit::Usage => "usage or configuration",
            Exit::NoAnswer => "no answer (connect/TLS/proxy failure, timeout, connection closed)",
            Exit::NotFound => "not found (404)",
            Exit::AlreadyExists => "already exists (the service's code 658, or a 409)",
            Exit::Throttled => {
                "throttled (429, or the service's own 503) longer than the client could wait"
            }
            Exit::OutcomeUnknown => {
                "outcome unknown (the call may have taken effect; nothing settled it)"
            }
            Exit::LocalFile => {
                "local file error (input unreadable, output or report unwritable, a path refused for safety)"
            }
            Exit::SomeLinesFailed => "some lines of a bulk run failed (listed in its report)",
            Exit::ChangesPending => "changes pending (users sync --plan: the plan is not empty)",
            Exit::Interrupted => "interrupted (Ctrl-C / SIGINT, SIGTERM, SIGHUP)",
            Exit::ClosedPipe => "stdout closed by its reader (as a process killed by SIGPIPE)",
        }
    }

    /// The table, for the end of `fbn-identity --help`.
    pub(crate) fn help() -> String {
        let mut text = String::from("Exit codes:\n");
        for exit in Self::ALL {
            let _ = writeln!(text, "  {:>3}  {}", exit.code(), exit.meaning());
        }
        text
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

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
    /// A path given for writing was refused, so that no file of the user's
    /// is destroyed (it is the input, a symbolic link, a file that is not
    /// a report of this import).
    UnsafePath {
        /// The path as given.
        path: String,
        /// Why it was refused, and what to do.
        reason: String,
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
    /// A create may have been made: its answer was lost, and the look-up of
    /// its login that would have told got no answer either.
    OutcomeUnknown {
        /// The create's failure.
        error: Box<Error>,
        /// The look-up's failure.
        lookup: Box<Error>,
        /// The login looked up.
        login: String,
    },
    /// The emulator could not start or do what was asked.
    #[cfg(feature = "emulator")]
    Emulator(EmulatorError),
    /// `emulator` or `demo` in a build without the `emulator` feature.
    #[cfg(not(feature = "emulator"))]
    WithoutEmulator,
    /// Writing the output failed (a closed pipe ends the command quietly).
    Output(io::Error),
    /// A signal (its name: SIGINT, SIGTERM, SIGHUP) stopped the command
    /// before it was done.
    Interrupted(&'static str),
    /// The command line is not one `fbn-identity` takes (clap's message).
    BadUsage(String),
    /// A failure, and what the command found out about it (the user who
    /// has the login a create was refused): a line of the report, the
    /// `note` of the JSON object.
    Noted {
        /// The failure.
        source: Box<CliError>,
        /// What was found out.
        note: String,
    },
    /// The command did its work and has already reported what failed
    /// (e.g. some lines of an import, some ids of `users get`): exit with
    /// this code and no more to say.
    Reported(Exit),
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
    /// This failure, with what the command found out about it.
    pub(crate) fn noted(self, note: String) -> Self {
        Self::Noted {
            source: Box::new(self),
            note,
        }
    }

    /// The process's exit code for this failure.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Self::Sdk(error) => exit_of(error),
            Self::Invalid { .. } | Self::BadInput { .. } | Self::BadUsage(_) => Exit::Usage,
            Self::Output(error) if error.kind() == io::ErrorKind::BrokenPipe => Exit::ClosedPipe,
            #[cfg(feature = "emulator")]
            Self::Emulator(error) => emulator_exit(error),
            #[cfg(not(feature = "emulator"))]
            Self::WithoutEmulator => Exit::Usage,
            Self::Stopped { source, .. } | Self::Noted { source, .. } => source.exit(),
            Self::Reported(exit) => *exit,
            Self::OutcomeUnknown { .. } => Exit::OutcomeUnknown,
            Self::Interrupted(_) => Exit::Interrupted,
            Self::Read { .. } | Self::Write { .. } | Self::UnsafePath { .. } | Self::Output(_) => {
                Exit::LocalFile
            }
        }
    }

    /// Whether this is stdout closed by its reader.
    pub(crate) fn is_closed_pipe(&self) -> bool {
        match self {
            Self::Output(error) => error.kind() == io::ErrorKind::BrokenPipe,
            Self::Stopped { source, .. } | Self::Noted { source, .. } => source.is_closed_pipe(),
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
            Self::OutcomeUnknown {
                error,
                lookup,
                login,
            } => {
                let mut report = sdk_report(error);
                let _ = writeln!(
                    report,
                    "  the user may have been created: the answer was lost, and looking its login \
                     up failed too: {}",
                    untrusted(&one_line(lookup))
                );
                let _ = writeln!(
                    report,
                    "  check with: fbn-identity users get-by-login {}",
                    untrusted(&shell_word(login))
                );
                report
            }
            Self::Invalid { what, errors } => {
                let mut report = format!("error: {what} is not valid\n");
                push_field_errors(&mut report, errors.iter());
                report
            }
            Self::Read { what, source } => format!("error: could not read {what}: {source}\n"),
            Self::BadInput { what, message } => format!("error: {what}: {message}\n"),
            Self::Write { what, source } => format!("error: could not write {what}: {source}\n"),
            Self::UnsafePath { path, reason } => {
                format!(
                    "error: refusing to write to {}: {reason}\n",
                    untrusted(path)
                )
            }
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
            Self::Interrupted(signal) => format!("error: interrupted ({signal})\n"),
            Self::BadUsage(message) => format!("error: {message}\n"),
            Self::Noted { source, note } => {
                format!("{}  {}\n", source.report(), untrusted(note))
            }
            Self::Reported(_) => String::new(),
        }
    }

    /// Prints the report on stderr (with `json`, the one JSON object of
    /// [`JsonError`]) and gives the exit code.
    pub(crate) fn into_exit_code(self, json: bool) -> ExitCode {
        let report = match JsonError::of(&self).filter(|_| json) {
            Some(object) => object.line(),
            None => crate::color::paint(&escape::lines(&self.report())),
        };
        if !report.is_empty() {
            crate::output::print_stderr(&report);
        }
        ExitCode::from(self.exit())
    }
}

/// The exit code of an SDK error: its kind, one code each.
pub(crate) fn exit_of(error: &Error) -> Exit {
    match error.kind() {
        ErrorKind::Config | ErrorKind::InvalidInput => Exit::Usage,
        ErrorKind::NoAnswer => Exit::NoAnswer,
        ErrorKind::Throttled => Exit::Throttled,
        ErrorKind::NotFound => Exit::NotFound,
        ErrorKind::AlreadyExists => Exit::AlreadyExists,
        ErrorKind::OutcomeUnknown => Exit::OutcomeUnknown,
        // A token file that cannot be used is the configuration's fault.
        ErrorKind::Auth if error.auth().is_some_and(is_token_file_error) => Exit::Usage,
        _ => Exit::Refused,
    }
}

/// Whether `error` is about the access token file rather than a grant.
fn is_token_file_error(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::TokenFileUnreadable { .. }
            | AuthError::TokenFileEmpty { .. }
            | AuthError::TokenFileTooLong { .. }
            | AuthError::TokenFileTimeout { .. }
    )
}

/// The exit code of an emulator failure: usage when it could not start as
/// configured (address, credentials, limits, state file, fault rules),
/// refused otherwise.
#[cfg(feature = "emulator")]
fn emulator_exit(error: &EmulatorError) -> Exit {
    if error.is_configuration() {
        Exit::Usage
    } else {
        Exit::Refused
    }
}

/// An SDK error for stderr: for an error answer its status, title, detail,
/// code, each field error and the request id; otherwise the message (a
/// configuration error's in flags and variables) and its causes.
fn sdk_report(error: &Error) -> String {
    let mut report = String::new();
    match error.api() {
        Some(api) => push_api_error(&mut report, api),
        None => {
            let _ = writeln!(report, "error: {}", untrusted(&message(error)));
            for cause in error.causes() {
                let _ = writeln!(report, "  caused by: {}", untrusted(&cause));
            }
        }
    }
    if let Some(AuthError::InsecureTarget { .. }) = error.auth() {
        let _ = writeln!(
            report,
            "  allow it with --allow-insecure-http (or FBN_ALLOW_INSECURE_HTTP=true): tokens then \
             travel in clear text"
        );
    }
    report
}

/// The message of an SDK error, in the command line's words.
fn message(error: &Error) -> String {
    match error {
        Error::Config(config) => wording::config_message(config),
        other => other.to_string(),
    }
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
            "  the service asked to wait {} before trying again",
            finbourne_identity::layers::call::Seconds(wait)
        );
    }
    if let Some(credential) = &api.credential {
        let _ = writeln!(
            report,
            "  {}",
            untrusted(&wording::credential_hint(credential))
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

/// `text` as one shell word: as it is when it holds only characters no
/// shell treats specially, else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@._+-=/:,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
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
        None => std::iter::once(message(error))
            .chain(error.causes())
            .collect::<Vec<_>>()
            .join(": "),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn the_table_has_each_code_once_with_its_meaning() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|exit| exit.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 130, 141]);
        let help = Exit::help();
        for exit in Exit::ALL {
            assert!(
                help.contains(&format!("{:>3}  {}", exit.code(), exit.meaning())),
                "{help}"
            );
        }
    }

    #[test]
    fn answers_map_to_their_exit_codes() {
        let problem = |status: u16, code: i32| {
            serde_json::json!({"name": "P", "code": code, "status": status, "title": "t"})
                .to_string()
        };
        assert_eq!(exit_of(&answered(404, &problem(404, 657))), Exit::NotFound);
        assert_eq!(
            exit_of(&answered(400, &problem(400, 658))),
            Exit::AlreadyExists
        );
        assert_eq!(exit_of(&answered(409, "")), Exit::AlreadyExists);
        assert_eq!(exit_of(&answered(429, "")), Exit::Throttled);
        assert_eq!(
            exit_of(&answered(503, &problem(503, 1))),
            Exit::Throttled,
            "the service's own 503"
        );
        assert_eq!(
            exit_of(&answered_by("GetUser", 503, "<html>", false)),
            Exit::Refused,
            "a gateway's, to a read"
        );
        assert_eq!(
            exit_of(&answered_by("CreateUser", 502, "<html>", false)),
            Exit::OutcomeUnknown,
            "a gateway's, to a change"
        );
        assert_eq!(exit_of(&answered(400, &problem(400, 157))), Exit::Refused);
        assert_eq!(exit_of(&answered(401, "")), Exit::Refused);
        assert_eq!(exit_of(&answered(500, "")), Exit::Refused);
    }

    #[test]
    fn with_json_an_error_is_one_object_with_the_same_keys_always() {
        let problem = serde_json::json!({
            "name": "UserNotFound", "code": 657, "status": 404,
            "title": "User does not exist", "detail": "no \u{1b}[2J user",
        });
        let json = JsonError::of(&CliError::Sdk(answered(404, &problem.to_string()))).unwrap();
        let line = json.line();
        assert_eq!(line.lines().count(), 1, "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["kind"], "not_found");
        assert_eq!(value["exit_code"], 4);
        assert_eq!(value["status"], 404);
        assert_eq!(value["code"], 657);
        assert_eq!(value["operation"], "GetUser");
        assert_eq!(value["request_id"], "req\t1");
        // The service's text exact in the value, no control character raw
        // in the line.
        assert_eq!(value["detail"], "no \u{1b}[2J user");
        assert!(!line.trim_end().chars().any(char::is_control), "{line}");
        assert_eq!(value["message"], "GetUser failed: 404 Not Found");

        let mut errors = ValidationErrors::new();
        errors.add("lastName", "too short");
        let invalid = JsonError::of(&CliError::Invalid {
            what: "the user".into(),
            errors,
        })
        .unwrap();
        let value: serde_json::Value = serde_json::from_str(&invalid.line()).unwrap();
        let keys = |value: &serde_json::Value| {
            value
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        let first: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(keys(&value), keys(&first));
        assert_eq!(value["kind"], "usage");
        assert_eq!(value["field_errors"]["lastName"][0], "too short");
        assert_eq!(value["status"], serde_json::Value::Null);
        // Nothing more to say: no object.
        assert!(JsonError::of(&CliError::Reported(Exit::SomeLinesFailed)).is_none());
    }

    #[test]
    fn local_failures_have_their_codes_and_reports() {
        let mut errors = ValidationErrors::new();
        errors.add("lastName", "too short");
        let invalid = CliError::Invalid {
            what: "the user".into(),
            errors,
        };
        assert_eq!(invalid.exit(), Exit::Usage);
        assert_eq!(
            invalid.report(),
            "error: the user is not valid\n  lastName: too short\n"
        );

        let closed = CliError::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(closed.exit(), Exit::ClosedPipe);
        assert_eq!(closed.report(), "");
        let stopped_by_a_closed_pipe = CliError::Stopped {
            count: 3,
            source: Box::new(closed),
            untouched: None,
        };
        assert_eq!(stopped_by_a_closed_pipe.exit(), Exit::ClosedPipe);
        assert_eq!(stopped_by_a_closed_pipe.report(), "");

        assert_eq!(
            CliError::Reported(Exit::SomeLinesFailed).exit(),
            Exit::SomeLinesFailed
        );
        let unreadable = CliError::Read {
            what: "users.jsonl".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(unreadable.exit(), Exit::LocalFile);
    }

    /// A facade error for an answer of GetUser with `body` (problem details
    /// when it is a JSON problem), from the service (its request id).
    fn answered(status: u16, body: &str) -> Error {
        answered_by("GetUser", status, body, true)
    }

    /// A facade error for an answer of `operation`, with the service's
    /// request id or without (a gateway's).
    fn answered_by(operation: &'static str, status: u16, body: &str, request_id: bool) -> Error {
        let mut headers = http::HeaderMap::new();
        if request_id {
            headers.insert(
                "lusid-meta-requestId",
                http::HeaderValue::from_static("req\t1"),
            );
        }
        let api = ApiError::new(
            operation,
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
