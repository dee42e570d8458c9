//! A failure as one JSON object on stderr, for `--json`: what a script
//! reads instead of the text report.
//!
//! One line, always with the same keys, `null` where a value is not known:
//!
//! ```text
//! {"kind":"not_found","exit_code":4,"message":"GetUser failed: 404 Not Found",
//!  "operation":"GetUser","status":404,"code":657,"title":"User does not exist",
//!  "detail":null,"field_errors":{},"request_id":"0HN:2","retry_after_seconds":null,
//!  "causes":[]}
//! ```
//!
//! `kind` is the exit code's name (one table, [`Exit`]): `refused`, `usage`,
//! `no_answer`, `not_found`, `already_exists`, `throttled`,
//! `outcome_unknown`, `local_file`, `some_lines_failed`, `changes_pending`,
//! `interrupted`. `message` is the report's first line, as the text report
//! words it (flags and variables, not builder calls); `causes` the reasons
//! behind it, outermost first. The service's text is kept exact, with the
//! control characters escaped as JSON escapes them (see
//! [`escape::write_json`](crate::escape::write_json)).

use std::collections::BTreeMap;

use finbourne_identity::Error;
use serde::Serialize;

use super::{CliError, Exit};

/// The JSON form of a failure (see the module docs).
#[derive(Debug, Serialize)]
pub(crate) struct JsonError {
    kind: &'static str,
    exit_code: u8,
    message: String,
    operation: Option<&'static str>,
    status: Option<u16>,
    code: Option<i32>,
    title: Option<String>,
    detail: Option<String>,
    field_errors: BTreeMap<String, Vec<String>>,
    request_id: Option<String>,
    retry_after_seconds: Option<f64>,
    causes: Vec<String>,
    /// What else a kind of failure tells (the login of a create of unknown
    /// outcome, the users an export wrote before it stopped).
    #[serde(flatten)]
    extra: BTreeMap<&'static str, serde_json::Value>,
}

impl JsonError {
    /// The object of `error`, or `None` when there is nothing to say (the
    /// command reported already, or stdout was closed).
    pub(crate) fn of(error: &CliError) -> Option<Self> {
        let report = error.report();
        let message = report.lines().next()?.strip_prefix("error: ")?.to_owned();
        let exit = error.exit();
        let mut json = Self::bare(exit, message);
        match error {
            CliError::Sdk(sdk) => json.add_sdk(sdk),
            CliError::OutcomeUnknown {
                error,
                lookup,
                login,
            } => {
                json.add_sdk(error);
                json.extra.insert("login", login.clone().into());
                json.extra
                    .insert("lookup_error", super::one_line(lookup).into());
            }
            CliError::Invalid { errors, .. } => {
                json.field_errors = errors.clone().into_map();
            }
            CliError::Stopped {
                count,
                source,
                untouched,
            } => {
                if let Some(inner) = Self::of(source) {
                    let message = json.message;
                    json = Self { message, ..inner };
                }
                json.extra.insert("written", (*count).into());
                if let Some(path) = untouched {
                    json.extra.insert("untouched", path.clone().into());
                }
            }
            CliError::Noted { source, note } => {
                if let Some(inner) = Self::of(source) {
                    json = inner;
                }
                json.extra.insert("note", note.clone().into());
            }
            _ => {
                json.causes = report
                    .lines()
                    .skip(1)
                    .map(|line| line.trim().to_owned())
                    .collect()
            }
        }
        Some(json)
    }

    fn bare(exit: Exit, message: String) -> Self {
        Self {
            kind: exit.name(),
            exit_code: exit.code(),
            message,
            operation: None,
            status: None,
            code: None,
            title: None,
            detail: None,
            field_errors: BTreeMap::new(),
            request_id: None,
            retry_after_seconds: None,
            causes: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    /// What the SDK's error tells: the service's answer, the wait it asked,
    /// the causes.
    fn add_sdk(&mut self, error: &Error) {
        if let finbourne_identity::Error::Call(call) = error {
            self.operation = call.operation();
        }
        self.status = error.status().map(|status| status.as_u16());
        self.code = error.code().map(|code| code.number());
        if let Some(api) = error.api() {
            self.title = api.title().map(str::to_owned);
            self.detail = api.detail().map(str::to_owned);
            self.field_errors = api.field_errors().clone();
            if let Some(credential) = &api.credential {
                self.extra.insert(
                    "credential",
                    super::wording::credential_hint(credential).into(),
                );
            }
        }
        self.request_id = error.request_id().map(str::to_owned);
        self.retry_after_seconds = error.retry_after().map(|wait| wait.as_secs_f64());
        self.causes = error.causes();
    }

    /// One line of JSON, for stderr.
    pub(crate) fn line(&self) -> String {
        let mut text = Vec::new();
        // Writing to memory fails only for a value that is not JSON, which
        // this is not; the line then says so rather than nothing.
        if crate::escape::write_json(&mut text, self, false).is_err() {
            return "{\"kind\":\"refused\",\"message\":\"the error could not be written as JSON\"}\n"
                .to_owned();
        }
        text.push(b'\n');
        String::from_utf8_lossy(&text).into_owned()
    }
}
