//! `users import FILE`: creates the users of a file of JSON lines (one
//! CreateUserRequest a line) or CSV (the columns of [`crate::columns`]), so
//! that it can be re-run safely.
//!
//! 1. Every line is read and checked first (JSON or CSV, then the SDK's
//!    `validate()`); `--dry-run` stops there and reports each bad line,
//!    by its line number in the file.
//! 2. One ListUsers (deactivated users included) tells which logins exist
//!    already: those lines are skipped (with the existing user's id), as is
//!    a login repeated in the file.
//! 3. The rest are created, at the service's pace ([`super::pace`]: an
//!    adaptive concurrency, or `--concurrency N`), with a progress bar on
//!    stderr when it is a terminal.
//!    - A create refused with code 658 (the user exists) is skipped too,
//!      with the user's id, looked up by its login.
//!    - A create whose outcome is unknown (no answer, or a 5xx, after its
//!      request may have reached the service) is settled by looking its
//!      login up: the user found is reported as created; if there is none,
//!      the create was never made and is sent again (up to
//!      [`MAX_CREATES`] times in all).
//!    - Ctrl-C stops starting new creates and waits for those in flight
//!      (and their settling); a second Ctrl-C stops at once, and reports
//!      the lines in flight as failed, to be settled by a re-run.
//! 4. Every line ends as created, skipped or failed, with its reason: each
//!    skipped and failed line and a summary on stderr, the whole report on
//!    stdout with `--json`, and with `--report FILE` one JSON line per input
//!    line, written (and flushed) as soon as that line's outcome is known,
//!    so that the file tells how far an import that crashed got.
//!
//! Re-running the same file after an interruption, a crash or a failure
//! creates nothing twice (logins that exist are skipped) and creates every
//! user still missing.

mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::{self, Read};

use finbourne_identity::{CreateUserRequest, Error, IdentityClient, UserResponse};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::Serialize;

use super::pace::{Pace, PacedClient, while_throttled};
use crate::args::{FileFormat, ImportArgs};
use crate::columns::Header;
use crate::errors::{CliError, Exit, one_line};
use crate::escape::untrusted;
use crate::files::Input;
use crate::output::{Output, note, plural, print_json};
use crate::progress;
use report::{ReportFile, Resumed};

/// The service's code for "the user already exists".
const ALREADY_EXISTS: i32 = 658;

/// How many times one line's user may be sent for creation, counting only
/// the creates that were settled as never made (a throttled create is
/// sent again apart from these).
pub(crate) const MAX_CREATES: u32 = 5;

/// What became of one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "outcome"
)]
pub(crate) enum Outcome {
    /// Checked and valid (`--dry-run`), or not attempted yet.
    Valid,
    /// Created, with the new user's id.
    Created {
        /// The new user's id.
        id: String,
    },
    /// Not created because the user exists already.
    Skipped {
        /// The existing user's id, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Why.
        message: String,
    },
    /// Not created.
    Failed {
        /// The service's answer's status, when it answered.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// The service's error code, when it sent one.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// Why.
        message: String,
        /// The messages of each field at fault.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        field_errors: BTreeMap<String, Vec<String>>,
        /// The service's request id, when it answered.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

impl Outcome {
    fn failed(message: impl Into<String>) -> Self {
        Self::Failed {
            status: None,
            code: None,
            message: message.into(),
            field_errors: BTreeMap::new(),
            request_id: None,
        }
    }

    /// A failed call, with what the service said.
    fn of_error(error: &Error, message: String) -> Self {
        Self::Failed {
            status: error.status().map(|status| status.as_u16()),
            code: error.api().and_then(|api| api.code()),
            message,
            field_errors: error.field_errors().cloned().unwrap_or_default(),
            request_id: error.request_id().map(str::to_owned),
        }
    }
}

/// One line of the file and what became of it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LineResult {
    /// The line number, from 1 (blank lines and a CSV header count).
    pub(crate) line: usize,
    /// The login the line asks for, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) login: Option<String>,
    /// What became of it.
    #[serde(flatten)]
    pub(crate) outcome: Outcome,
    /// Whether the line passed its checks.
    #[serde(skip)]
    valid: bool,
    /// The request, while it is still to be sent.
    #[serde(skip)]
    request: Option<CreateUserRequest>,
    /// The index of the earlier line with the same login.
    #[serde(skip)]
    repeat_of: Option<usize>,
}

impl LineResult {
    fn new(line: usize) -> Self {
        Self {
            line,
            login: None,
            outcome: Outcome::Valid,
            valid: false,
            request: None,
            repeat_of: None,
        }
    }
}

/// The whole import: counts and each line's result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportReport {
    /// Whether lines were only checked.
    pub(crate) dry_run: bool,
    /// Lines that passed the checks.
    pub(crate) valid: usize,
    /// Users created.
    pub(crate) created: usize,
    /// Lines skipped (the user exists).
    pub(crate) skipped: usize,
    /// Lines that failed (bad lines included).
    pub(crate) failed: usize,
    /// Each non-blank line, in file order.
    pub(crate) lines: Vec<LineResult>,
}

impl ImportReport {
    fn new(dry_run: bool, lines: Vec<LineResult>) -> Self {
        let count =
            |test: fn(&Outcome) -> bool| lines.iter().filter(|line| test(&line.outcome)).count();
        Self {
            dry_run,
            valid: lines.iter().filter(|line| line.valid).count(),
            created: count(|outcome| matches!(outcome, Outcome::Created { .. })),
            skipped: count(|outcome| matches!(outcome, Outcome::Skipped { .. })),
            failed: count(|outcome| matches!(outcome, Outcome::Failed { .. })),
            lines,
        }
    }
}

/// Runs `users import`.
///
/// The client is made only once the lines are checked, so a dry run needs
/// no configuration.
pub(crate) async fn run(
    args: &ImportArgs,
    output: Output,
    client: impl FnOnce() -> Result<IdentityClient, CliError>,
) -> Result<(), CliError> {
    let text = read_input(args)?;
    let stdin = args.file.as_os_str() == "-";
    let format = args.format.unwrap_or_else(|| {
        if stdin {
            FileFormat::Jsonl
        } else {
            FileFormat::of_path(&args.file)
        }
    });
    let mut lines = match format {
        FileFormat::Jsonl => check_lines(&text),
        FileFormat::Csv => check_csv(&text).map_err(|message| CliError::BadInput {
            what: args.file.display().to_string(),
            message,
        })?,
    };
    let (mut report, resumed) = match &args.report {
        Some(path) => ReportFile::open(path, &Input::new(&args.file))?,
        None => (ReportFile::none(), Resumed::default()),
    };
    let done = skip_done(&mut lines, &resumed);
    if done > 0 {
        note(&format!(
            "resuming: {done} line{} finished by an earlier run (per the report) not sent again",
            plural(done)
        ));
    }
    if args.dry_run || lines.iter().all(|line| line.request.is_none()) {
        for line in &lines {
            report.record(line);
        }
    } else {
        let client = client()?;
        let existing = existing_logins(&client).await?;
        skip_existing(&mut lines, &existing);
        for line in lines
            .iter()
            .filter(|line| line.request.is_none() && line.repeat_of.is_none())
        {
            report.record(line);
        }
        let pace = Pace::of(args.concurrency);
        create_all(&pace, &client, &mut lines, &mut report).await;
        settle_repeats(&mut lines, &mut report);
        note(&pace.summary());
    }
    let summary = ImportReport::new(args.dry_run, lines);
    print_report(&summary, output)?;
    report.finish()?;
    if summary.failed == 0 {
        Ok(())
    } else {
        Err(CliError::Reported(Exit::SomeLinesFailed))
    }
}

/// Leaves out the lines an earlier run finished, as its report says; how
/// many.
fn skip_done(lines: &mut Vec<LineResult>, resumed: &Resumed) -> usize {
    let before = lines.len();
    lines.retain(|line| {
        !(line.valid
            && line
                .login
                .as_deref()
                .is_some_and(|login| resumed.is_done(line.line, login)))
    });
    before - lines.len()
}

/// The file's text (stdin for `-`), without a byte order mark.
fn read_input(args: &ImportArgs) -> Result<String, CliError> {
    let what = args.file.display().to_string();
    let read = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(&args.file)
    };
    let text = read.map_err(|source| CliError::Read { what, source })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Each non-blank line of JSON lines, parsed and validated: a line ready to
/// send keeps its request, a bad one is failed with its field errors.
pub(crate) fn check_lines(text: &str) -> Vec<LineResult> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let request =
                serde_json::from_str::<CreateUserRequest>(line).map_err(|error| json_error(&error));
            check_request(index + 1, request, None)
        })
        .collect()
}

/// Each row of a CSV file (the header row is line 1), parsed and
/// validated; an error when the header row is not one of users.
pub(crate) fn check_csv(text: &str) -> Result<Vec<LineResult>, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|error| format!("the header row cannot be read: {error}"))
        .and_then(Header::new)?;
    let mut lines = Vec::new();
    // The csv crate's own line count puts a record that follows blank lines
    // on the first of them: count from its byte offset instead.
    let line_of = |position: Option<&csv::Position>| {
        let at = position
            .and_then(|position| usize::try_from(position.byte()).ok())
            .unwrap_or(0);
        line_at(text, at)
    };
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let mut result = LineResult::new(line_of(error.position()));
                result.outcome =
                    Outcome::failed(format!("not a CSV row of a user: {}", csv_reason(&error)));
                lines.push(result);
                continue;
            }
        };
        let line = line_of(record.position());
        let login = header.cell(&record, "login").map(str::to_owned);
        let result = match header.request_json(&record) {
            Ok(json) => check_request(
                line,
                serde_json::from_value(json)
                    .map_err(|error| format!("not a CreateUserRequest: {error}")),
                login,
            ),
            Err(field_errors) => {
                let mut result = LineResult::new(line);
                result.login = login;
                result.outcome = Outcome::Failed {
                    status: None,
                    code: None,
                    message: "not valid".to_owned(),
                    field_errors,
                    request_id: None,
                };
                result
            }
        };
        lines.push(result);
    }
    Ok(lines)
}

/// The line (from 1) of the first character at or after byte `at` of
/// `text` that is not a line break.
fn line_at(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = at.min(bytes.len());
    while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
        start += 1;
    }
    bytes[..start].iter().filter(|byte| **byte == b'\n').count() + 1
}

/// Why a CSV row could not be read, without the csv crate's own position
/// (the line is reported apart).
fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells where the header row has {expected_len}"),
        _ => error.to_string(),
    }
}

/// A line's result from its decoded request: checked with `validate()`.
fn check_request(
    line: usize,
    request: Result<CreateUserRequest, String>,
    login: Option<String>,
) -> LineResult {
    let mut result = LineResult::new(line);
    result.login = login;
    match request {
        Err(message) => result.outcome = Outcome::failed(message),
        Ok(request) => {
            result.login = Some(request.login.clone());
            match request.validate() {
                Err(errors) => {
                    result.outcome = Outcome::Failed {
                        status: None,
                        code: None,
                        message: "not valid".to_owned(),
                        field_errors: errors.into_map(),
                        request_id: None,
                    };
                }
                Ok(()) => {
                    result.valid = true;
                    result.request = Some(request);
                }
            }
        }
    }
    result
}

/// Why a line is not a CreateUserRequest, placed by column (serde_json's
/// "line 1" would be confused with the file's line numbers).
fn json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text);
    format!(
        "not a CreateUserRequest: {message} (column {})",
        error.column()
    )
}

/// The logins of the domain (deactivated users included), lower-cased, with
/// their user's id.
async fn existing_logins(client: &IdentityClient) -> Result<HashMap<String, String>, CliError> {
    let users = client
        .users()
        .list_users()
        .include_deactivated(true)
        .send()
        .await?;
    Ok(users
        .into_iter()
        .map(|user| (user.login.to_lowercase(), user.id))
        .collect())
}

/// Skips the lines whose login exists already, or came on an earlier line.
pub(crate) fn skip_existing(lines: &mut [LineResult], existing: &HashMap<String, String>) {
    let mut first_of: HashMap<String, (usize, usize)> = HashMap::new();
    for (index, line) in lines.iter_mut().enumerate() {
        let Some(request) = &line.request else {
            continue;
        };
        let login = request.login.to_lowercase();
        if let Some(id) = existing.get(&login) {
            line.outcome = Outcome::Skipped {
                id: Some(id.clone()),
                message: format!("login {} exists already", request.login),
            };
        } else if let Some((first_index, first_line)) = first_of.get(&login) {
            line.outcome = Outcome::Skipped {
                id: None,
                message: format!("login {} is on line {first_line} already", request.login),
            };
            line.repeat_of = Some(*first_index);
        } else {
            first_of.insert(login, (index, line.line));
            continue;
        }
        line.request = None;
    }
}

/// Gives each line that repeats an earlier line's login the id that line's
/// user ended with, and records it.
fn settle_repeats(lines: &mut [LineResult], report: &mut ReportFile) {
    for index in 0..lines.len() {
        let Some(first) = lines[index].repeat_of else {
            continue;
        };
        let first_id = match lines.get(first).map(|line| &line.outcome) {
            Some(Outcome::Created { id }) => Some(id.clone()),
            Some(Outcome::Skipped { id, .. }) => id.clone(),
            _ => None,
        };
        if let Outcome::Skipped { id, .. } = &mut lines[index].outcome {
            *id = first_id;
        }
        report.record(&lines[index]);
    }
}

/// Creates the users of the lines still to send, at `pace`, until done or
/// Ctrl-C; lines never sent end as failed.
async fn create_all(
    pace: &Pace,
    client: &IdentityClient,
    lines: &mut [LineResult],
    report: &mut ReportFile,
) {
    let paced = pace.client(client.clone());
    let mut queue: VecDeque<(usize, CreateUserRequest)> = lines
        .iter_mut()
        .enumerate()
        .filter_map(|(index, line)| line.request.take().map(|request| (index, request)))
        .collect();
    let progress = progress::bar("creating users", queue.len());
    let mut running = FuturesUnordered::new();
    let mut in_flight = BTreeSet::new();
    let mut signals = true;
    let mut stopping = false;
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    loop {
        // As many creates as the limiter lets through now: it lets more
        // through as it grows, and holds the rest while it pauses.
        while !stopping && running.len() < pace.limit() {
            let Some((index, request)) = queue.pop_front() else {
                break;
            };
            in_flight.insert(index);
            running.push(create_one(pace, &paced, index, request));
        }
        if running.is_empty() {
            break;
        }
        progress.set_message(format!("concurrency {}", pace.limit()));
        tokio::select! {
            biased;
            Some((index, outcome)) = running.next() => {
                in_flight.remove(&index);
                if let Some(line) = lines.get_mut(index) {
                    line.outcome = outcome;
                    report.record(line);
                }
                progress.inc(1);
            }
            signal = &mut ctrl_c, if signals => {
                if signal.is_err() {
                    // Ctrl-C cannot be caught here: it ends the process.
                    signals = false;
                } else if stopping {
                    progress.suspend(|| note("interrupted again: stopping now"));
                    break;
                } else {
                    stopping = true;
                    progress.suspend(|| note(
                        "interrupted: waiting for the creates in flight (Ctrl-C again to stop now)",
                    ));
                    ctrl_c = Box::pin(tokio::signal::ctrl_c());
                }
            }
        }
    }
    drop(running);
    progress.finish_and_clear();
    for index in in_flight {
        if let Some(line) = lines.get_mut(index) {
            line.outcome = Outcome::failed(
                "interrupted while being created: the user may exist; re-run the import to settle it",
            );
            report.record(line);
        }
    }
    for (index, _) in queue {
        if let Some(line) = lines.get_mut(index) {
            line.outcome = Outcome::failed("not attempted: the import was interrupted");
            report.record(line);
        }
    }
}

/// Creates one line's user and settles what became of it.
async fn create_one(
    pace: &Pace,
    client: &PacedClient,
    index: usize,
    request: CreateUserRequest,
) -> (usize, Outcome) {
    let users = client.users();
    let mut creates = 0;
    loop {
        creates += 1;
        let answer = while_throttled(pace, |options| {
            users.create_user(&request).options(options).send()
        })
        .await;
        let error = match answer {
            Ok(user) => return (index, Outcome::Created { id: user.id }),
            Err(error) => error,
        };
        if error.api().and_then(|api| api.code()) == Some(ALREADY_EXISTS) {
            let id = look_up(pace, client, &request)
                .await
                .ok()
                .flatten()
                .map(|user| user.id);
            let message = format!(
                "login {} exists already (code {ALREADY_EXISTS})",
                request.login
            );
            return (index, Outcome::Skipped { id, message });
        }
        if !error.is_outcome_unknown() {
            return (index, Outcome::of_error(&error, one_line(&error)));
        }
        // The create may or may not have been made: the login tells.
        match look_up(pace, client, &request).await {
            Ok(Some(user)) => return (index, Outcome::Created { id: user.id }),
            Ok(None) if creates < MAX_CREATES => {}
            Ok(None) => {
                let message = format!(
                    "{} (the user was not created; tried {creates} times)",
                    one_line(&error)
                );
                return (index, Outcome::of_error(&error, message));
            }
            Err(lookup) => {
                let message = format!(
                    "{}; the user may have been created, and looking its login up failed: {}; re-run the import to settle it",
                    one_line(&error),
                    one_line(&lookup)
                );
                return (index, Outcome::of_error(&error, message));
            }
        }
    }
}

/// The user with the request's login, if there is one.
async fn look_up(
    pace: &Pace,
    client: &PacedClient,
    request: &CreateUserRequest,
) -> Result<Option<UserResponse>, Error> {
    while_throttled(pace, |options| {
        client
            .users()
            .settle_create_user(request)
            .options(options)
            .send()
    })
    .await
}

/// Each skipped and failed line and the summary on stderr; the report as
/// JSON on stdout with `--json`. The file's logins and the service's
/// reasons are escaped for the terminal (the JSON report keeps them exact).
fn print_report(report: &ImportReport, output: Output) -> Result<(), CliError> {
    for line in &report.lines {
        let login = line
            .login
            .as_deref()
            .map(|login| format!(" ({})", untrusted(login)))
            .unwrap_or_default();
        match &line.outcome {
            Outcome::Skipped { message, .. } => note(&format!(
                "line {}{login}: skipped: {}",
                line.line,
                untrusted(message)
            )),
            Outcome::Failed {
                message,
                field_errors,
                ..
            } => {
                let mut text = format!("line {}{login}: failed: {}", line.line, untrusted(message));
                for (field, messages) in field_errors {
                    text.push_str(&format!(
                        "\n  {}: {}",
                        untrusted(field),
                        untrusted(&messages.join(" "))
                    ));
                }
                note(&text);
            }
            Outcome::Valid | Outcome::Created { .. } => {}
        }
    }
    if report.dry_run {
        note(&format!(
            "dry run: {} valid, {} not valid; nothing was created",
            report.valid, report.failed
        ));
    } else {
        note(&format!(
            "created {}, skipped {}, failed {}",
            report.created, report.skipped, report.failed
        ));
    }
    if output.is_json() {
        print_json(report)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use super::*;

    const ANN: &str = r#"{"firstName":"Ann","lastName":"Lee","emailAddress":"ann@example.com","login":"ann@example.com","type":"Personal"}"#;
    const BOB: &str = r#"{"firstName":"Bob","lastName":"Ray","emailAddress":"bob@example.com","login":"bob@example.com","type":"Personal"}"#;
    const BAD: &str = r#"{"firstName":"","lastName":"X","emailAddress":"c@example.com","login":"c@example.com","type":"Personal"}"#;

    #[test]
    fn lines_are_numbered_from_one_and_blank_lines_ignored() {
        let text = format!("{ANN}\n\n   \n{BAD}\nnot json\n{BOB}\n");
        let lines = check_lines(&text);
        let numbers: Vec<usize> = lines.iter().map(|line| line.line).collect();
        assert_eq!(numbers, [1, 4, 5, 6]);
        assert!(lines[0].valid && lines[0].request.is_some());
        assert_eq!(lines[0].login.as_deref(), Some("ann@example.com"));

        let Outcome::Failed {
            message,
            field_errors,
            ..
        } = &lines[1].outcome
        else {
            panic!("line 4 accepted");
        };
        assert_eq!(message, "not valid");
        assert!(field_errors.contains_key("firstName") && field_errors.contains_key("lastName"));
        assert!(!lines[1].valid && lines[1].request.is_none());

        let Outcome::Failed { message, .. } = &lines[2].outcome else {
            panic!("line 5 accepted");
        };
        assert!(message.starts_with("not a CreateUserRequest"), "{message}");
        assert!(lines[2].login.is_none());
    }

    #[test]
    fn csv_rows_are_checked_by_their_line_in_the_file() {
        let text = "firstName,lastName,emailAddress,login,type,roles\n\
                    Ann,Lee,ann@example.com,ann@example.com,Personal,default/analyst\n\
                    \n\
                    \"Bob\nBobby\",Ray,bob@example.com,bob@example.com,Personal,\n\
                    ,Xavier,c@example.com,c@example.com,Personal,\n\
                    Dan,F,dan@example.com,dan@example.com,Personal,\n\
                    Eve,Oak,eve@example.com,eve@example.com,Personal,analyst\n\
                    too,few\n";
        let lines = check_csv(text).unwrap();
        let numbers: Vec<usize> = lines.iter().map(|line| line.line).collect();
        assert_eq!(numbers, [2, 4, 6, 7, 8, 9]);
        assert!(lines[0].valid);
        assert_eq!(
            lines[0].request.as_ref().unwrap().roles.as_ref().unwrap()[0].code,
            "analyst"
        );
        assert!(lines[1].valid, "a quoted cell may hold a line break");
        let fields = |line: &LineResult| match &line.outcome {
            Outcome::Failed { field_errors, .. } => field_errors.keys().cloned().collect(),
            _ => Vec::new(),
        };
        assert_eq!(fields(&lines[2]), ["firstName"]);
        assert_eq!(fields(&lines[3]), ["lastName"]);
        assert_eq!(fields(&lines[4]), ["roles"]);
        assert_eq!(lines[4].login.as_deref(), Some("eve@example.com"));
        assert!(
            matches!(&lines[5].outcome, Outcome::Failed { message, .. } if message.contains("2 cells where the header row has 6")),
            "{:?}",
            lines[5]
        );

        assert!(
            check_csv("first,last\nA,B\n")
                .unwrap_err()
                .contains("no column")
        );
    }

    #[test]
    fn existing_and_repeated_logins_are_skipped() {
        let upper = ANN.replace("ann@", "ANN@");
        let mut lines = check_lines(&format!("{ANN}\n{BOB}\n{BOB}\n{upper}"));
        let existing = HashMap::from([("ann@example.com".to_owned(), "00u1".to_owned())]);
        skip_existing(&mut lines, &existing);
        assert!(matches!(
            &lines[0].outcome,
            Outcome::Skipped { id: Some(id), .. } if id == "00u1"
        ));
        assert!(lines[1].request.is_some(), "the first bob is to be created");
        assert!(
            matches!(&lines[2].outcome, Outcome::Skipped { message, .. } if message.contains("line 2"))
        );
        assert_eq!(lines[2].repeat_of, Some(1));
        assert!(
            matches!(&lines[3].outcome, Outcome::Skipped { .. }),
            "logins compare without case"
        );
        assert!(lines.iter().filter(|line| line.request.is_some()).count() == 1);

        // Once bob is created, the repeat gets his id.
        lines[1].outcome = Outcome::Created { id: "00u2".into() };
        let mut report = ReportFile::none();
        settle_repeats(&mut lines, &mut report);
        assert!(matches!(
            &lines[2].outcome,
            Outcome::Skipped { id: Some(id), .. } if id == "00u2"
        ));
    }

    #[test]
    fn the_report_counts_every_line_once_and_says_what_the_service_said() {
        let mut lines = check_lines(&format!("{ANN}\n{BAD}\n{BOB}"));
        lines[0].outcome = Outcome::Created { id: "00u1".into() };
        lines[2].outcome = Outcome::Skipped {
            id: Some("00u2".into()),
            message: "exists".into(),
        };
        let report = ImportReport::new(false, lines);
        assert_eq!(
            (report.valid, report.created, report.skipped, report.failed),
            (2, 1, 1, 1)
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["lines"][0]["outcome"], "created");
        assert_eq!(json["lines"][0]["id"], "00u1");
        assert_eq!(json["lines"][1]["line"], 2);
        assert_eq!(json["lines"][1]["outcome"], "failed");
        assert!(json["lines"][1]["fieldErrors"]["firstName"].is_array());
        assert!(json["lines"][1].get("status").is_none());
        assert_eq!(json["lines"][2]["id"], "00u2");
        assert_eq!(json["dryRun"], false);

        let answered = Outcome::Failed {
            status: Some(400),
            code: Some(157),
            message: "400 Bad Request".into(),
            field_errors: BTreeMap::new(),
            request_id: Some("r1".into()),
        };
        assert_eq!(
            serde_json::to_value(&answered).unwrap(),
            serde_json::json!({"outcome": "failed", "status": 400, "code": 157,
                "message": "400 Bad Request", "requestId": "r1"})
        );
    }
}
