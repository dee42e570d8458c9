//! `users import FILE`: creates the users of a file of JSON lines, one
//! CreateUserRequest a line, so that it can be re-run safely.
//!
//! 1. Every line is read and checked first (JSON, then the SDK's
//!    `validate()`); `--dry-run` stops there and reports each bad line.
//! 2. One ListUsers (deactivated users included) tells which logins exist
//!    already: those lines are skipped, as is a login repeated in the file.
//! 3. The rest are created, at most `--concurrency` at once, with a
//!    progress bar on stderr when it is a terminal. A create refused with
//!    code 658 (the user already exists) counts as skipped too. Ctrl-C stops
//!    starting new creates and waits for those in flight.
//! 4. Every line ends as created, skipped or failed, with its reason; the
//!    summary goes to stderr, the full report to stdout with `--json`.
//!
//! Re-running the same file after an interruption creates nothing twice.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, IsTerminal, Read};

use finbourne_identity::{CreateUserRequest, Error, IdentityClient};
use futures_util::{StreamExt, stream};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::args::ImportArgs;
use crate::errors::{CliError, one_line};
use crate::escape::untrusted;
use crate::output::{Output, note, print_json};

/// The service's code for "the user already exists".
const ALREADY_EXISTS: i32 = 658;

/// What became of one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
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
        /// Why.
        reason: String,
    },
    /// Not created.
    Failed {
        /// Why.
        reason: String,
        /// The messages of each field at fault.
        #[serde(rename = "fieldErrors", skip_serializing_if = "BTreeMap::is_empty")]
        field_errors: BTreeMap<String, Vec<String>>,
    },
}

impl Outcome {
    fn failed(reason: impl Into<String>) -> Self {
        Self::Failed {
            reason: reason.into(),
            field_errors: BTreeMap::new(),
        }
    }
}

/// One line of the file and what became of it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LineResult {
    /// The line number, from 1 (blank lines count).
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
    let mut lines = check_lines(&text);
    if !args.dry_run && lines.iter().any(|line| line.request.is_some()) {
        let client = client()?;
        let existing = existing_logins(&client).await?;
        skip_existing(&mut lines, &existing);
        create_all(&client, &mut lines, usize::from(args.concurrency)).await;
    }
    let report = ImportReport::new(args.dry_run, lines);
    print_report(&report, output)?;
    if report.failed == 0 {
        Ok(())
    } else {
        Err(CliError::Reported)
    }
}

/// The file's text (stdin for `-`).
fn read_input(args: &ImportArgs) -> Result<String, CliError> {
    let what = args.file.display().to_string();
    let read = if what == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(&args.file)
    };
    read.map_err(|source| CliError::Read { what, source })
}

/// Each non-blank line, parsed and validated: a line ready to send keeps
/// its request, a bad one is failed with its field errors.
pub(crate) fn check_lines(text: &str) -> Vec<LineResult> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| check_line(index + 1, line))
        .collect()
}

fn check_line(line: usize, text: &str) -> LineResult {
    let mut result = LineResult {
        line,
        login: None,
        outcome: Outcome::Valid,
        valid: false,
        request: None,
    };
    match serde_json::from_str::<CreateUserRequest>(text) {
        Err(error) => result.outcome = Outcome::failed(json_error(&error)),
        Ok(request) => {
            result.login = Some(request.login.clone());
            match request.validate() {
                Err(errors) => {
                    result.outcome = Outcome::Failed {
                        reason: "not valid".to_owned(),
                        field_errors: errors.into_map(),
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
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    for line in lines.iter_mut() {
        let Some(request) = &line.request else {
            continue;
        };
        let login = request.login.to_lowercase();
        let reason = if let Some(id) = existing.get(&login) {
            format!("login {} exists already (user {id})", request.login)
        } else if let Some(first) = first_line_of.get(&login) {
            format!("login {} is on line {first} already", request.login)
        } else {
            first_line_of.insert(login, line.line);
            continue;
        };
        line.outcome = Outcome::Skipped { reason };
        line.request = None;
    }
}

/// Creates the users of the lines still to send, `concurrency` at once,
/// until done or Ctrl-C; lines never sent end as failed.
async fn create_all(client: &IdentityClient, lines: &mut [LineResult], concurrency: usize) {
    let jobs: Vec<(usize, CreateUserRequest)> = lines
        .iter_mut()
        .enumerate()
        .filter_map(|(index, line)| line.request.take().map(|request| (index, request)))
        .collect();
    let progress = progress_bar(jobs.len());
    let mut pending: Vec<usize> = jobs.iter().map(|(index, _)| *index).collect();
    let users = client.users();
    let interrupted = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            progress.suspend(|| note("interrupted: waiting for the creates in flight"));
        } else {
            std::future::pending::<()>().await;
        }
    };
    let results = stream::iter(jobs)
        .take_until(interrupted)
        .map(|(index, request)| async move {
            let answer = users.create_user(&request).send().await;
            (index, answer)
        })
        .buffer_unordered(concurrency);
    let mut results = std::pin::pin!(results);
    while let Some((index, answer)) = results.next().await {
        pending.retain(|pending| *pending != index);
        if let Some(line) = lines.get_mut(index) {
            line.outcome = outcome_of(answer);
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    for index in pending {
        if let Some(line) = lines.get_mut(index) {
            line.outcome = Outcome::failed("not attempted: the import was interrupted");
        }
    }
}

/// What a create's answer makes of its line.
fn outcome_of(answer: Result<finbourne_identity::UserResponse, Error>) -> Outcome {
    match answer {
        Ok(user) => Outcome::Created { id: user.id },
        Err(error) => match error.api() {
            Some(api) if api.code() == Some(ALREADY_EXISTS) => Outcome::Skipped {
                reason: format!("exists already (code {ALREADY_EXISTS})"),
            },
            _ => Outcome::Failed {
                reason: one_line(&error),
                field_errors: error.field_errors().cloned().unwrap_or_default(),
            },
        },
    }
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
fn progress_bar(total: usize) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    if let Ok(style) =
        ProgressStyle::with_template("creating users {bar:40} {pos}/{len} ({eta} left)")
    {
        bar.set_style(style);
    }
    bar
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
            Outcome::Skipped { reason } => note(&format!(
                "line {}{login}: skipped: {}",
                line.line,
                untrusted(reason)
            )),
            Outcome::Failed {
                reason,
                field_errors,
            } => {
                let mut text = format!("line {}{login}: failed: {}", line.line, untrusted(reason));
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
            reason,
            field_errors,
        } = &lines[1].outcome
        else {
            panic!("line 4 accepted");
        };
        assert_eq!(reason, "not valid");
        assert!(field_errors.contains_key("firstName") && field_errors.contains_key("lastName"));
        assert!(!lines[1].valid && lines[1].request.is_none());

        let Outcome::Failed { reason, .. } = &lines[2].outcome else {
            panic!("line 5 accepted");
        };
        assert!(reason.starts_with("not a CreateUserRequest"), "{reason}");
        assert!(lines[2].login.is_none());
    }

    #[test]
    fn existing_and_repeated_logins_are_skipped() {
        let upper = ANN.replace("ann@", "ANN@");
        let mut lines = check_lines(&format!("{ANN}\n{BOB}\n{BOB}\n{upper}"));
        let existing = HashMap::from([("ann@example.com".to_owned(), "00u1".to_owned())]);
        skip_existing(&mut lines, &existing);
        assert!(
            matches!(&lines[0].outcome, Outcome::Skipped { reason } if reason.contains("00u1"))
        );
        assert!(lines[1].request.is_some(), "the first bob is to be created");
        assert!(
            matches!(&lines[2].outcome, Outcome::Skipped { reason } if reason.contains("line 2"))
        );
        assert!(
            matches!(&lines[3].outcome, Outcome::Skipped { .. }),
            "logins compare without case"
        );
        assert!(lines.iter().filter(|line| line.request.is_some()).count() == 1);
    }

    /// A facade error for an error answer of CreateUser.
    fn answered(status: u16, problem: Option<finbourne_identity::Problem>) -> Error {
        let body = match problem {
            Some(finbourne_identity::Problem::Details(details)) => serde_json::to_vec(&details),
            Some(finbourne_identity::Problem::Validation(details)) => serde_json::to_vec(&details),
            None => Ok(Vec::new()),
            Some(other) => panic!("no test body for {other:?}"),
        };
        let api = finbourne_identity::ApiError::new(
            "CreateUser",
            http::StatusCode::from_u16(status).unwrap(),
            http::HeaderMap::new(),
            body.unwrap().into(),
        );
        Error::from(finbourne_identity::layers::users::Error::Api(Box::new(api)))
    }

    fn problem(code: i32) -> finbourne_identity::LusidProblemDetails {
        finbourne_identity::LusidProblemDetails {
            name: "Problem".into(),
            error_details: None,
            code,
            problem_type: None,
            title: Some("Refused".into()),
            detail: Some("it was refused".into()),
            instance: None,
            status: Some(400),
        }
    }

    #[test]
    fn already_exists_is_skipped_and_other_refusals_fail_with_their_reason() {
        let exists = answered(
            400,
            Some(finbourne_identity::Problem::Details(problem(
                ALREADY_EXISTS,
            ))),
        );
        assert!(matches!(outcome_of(Err(exists)), Outcome::Skipped { .. }));

        let mut validation = finbourne_identity::LusidValidationProblemDetails {
            problem: problem(157),
            errors: BTreeMap::new(),
        };
        validation
            .errors
            .insert("lastName".into(), vec!["too short".into()]);
        let invalid = answered(
            400,
            Some(finbourne_identity::Problem::Validation(validation)),
        );
        let Outcome::Failed {
            reason,
            field_errors,
        } = outcome_of(Err(invalid))
        else {
            panic!("not failed");
        };
        assert!(
            reason.contains("400") && reason.contains("code 157"),
            "{reason}"
        );
        assert_eq!(field_errors["lastName"], ["too short"]);

        let unavailable = answered(503, None);
        assert!(
            matches!(outcome_of(Err(unavailable)), Outcome::Failed { reason, .. } if reason.contains("503"))
        );
    }

    #[test]
    fn the_report_counts_every_line_once() {
        let mut lines = check_lines(&format!("{ANN}\n{BAD}\n{BOB}"));
        lines[0].outcome = Outcome::Created { id: "00u1".into() };
        lines[2].outcome = Outcome::Skipped {
            reason: "exists".into(),
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
        assert_eq!(json["dryRun"], false);
    }
}
