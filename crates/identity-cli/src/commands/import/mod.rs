//! `users import FILE`: creates the users of a file of JSON lines (one
//! CreateUserRequest, or an exported UserResponse, a line) or CSV (the
//! columns of [`crate::columns`]), in memory that depends on neither the
//! input nor the domain, so that it can be re-run and resumed safely.
//!
//! 1. The input is read as a stream, on a thread of its own ([`Source`]):
//!    each line is read (at most 1 MiB of it), decoded and checked with
//!    the SDK's `validate()` as it comes ([`line`](mod@line)). `--dry-run` stops
//!    there, reporting each bad line by its number in the file.
//! 2. Each good line is created ([`super::create::create_user`], one call
//!    of one function per line, its throttling the client's business), at
//!    the service's pace ([`super::pace`]: an adaptive concurrency, or
//!    `--concurrency N`). "Already exists" is the service's own answer to
//!    that create (its code 658, or a 409), the existing user's id then
//!    looked up by login: the domain is never listed. A create whose
//!    outcome is unknown is settled by looking its login up.
//! 3. A row of a user who left (`DEPROVISIONED`) is skipped unless
//!    `--recreate-deprovisioned`.
//! 4. Every line ends as created, skipped or failed, with its reason: each
//!    skipped and failed line and a summary on stderr, each line on stdout
//!    with `--json` ([`tally`], in the input's order), and with `--report
//!    FILE` ([`ReportFile`], resumed by [`resume`]) one JSON line per input
//!    line, appended and flushed as soon as that line's outcome is known.
//! 5. The import stops early, starting no more lines and letting those in
//!    flight finish, on SIGINT, SIGTERM or SIGHUP (a second one stops at
//!    once), when the service is gone ([`breaker`]), and at the first
//!    failure no other line can escape (refused credentials, an unusable
//!    configuration, a 401 or 403); the rest of the input is not read. A re-run with the same `--report` resumes: the
//!    lines the report says are finished are not sent again.
//!
//! Re-running the same file after an interruption, a crash or a failure
//! creates nothing twice (the service refuses a login that exists) and
//! creates every user still missing.

pub(crate) mod line;
pub(crate) mod resume;
mod tally;

use std::collections::BTreeMap;
use std::time::Duration;

use finbourne_identity::IdentityClient;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::bulk::breaker::{self, Breaker};
use super::bulk::report::ReportFile;
use super::bulk::source::{Record, Records, Source};
use super::bulk::stop::Stop;
use super::create::{Created, create_user};
use super::pace::Pace;
use crate::args::ImportArgs;
use crate::errors::{CliError, Exit, one_line};
use crate::output::{Output, note};
use crate::progress;
use crate::signals::StopSignals;
pub(crate) use line::{ImportLines, LineResult, Outcome, Parsed, SkipReason, at_field};
use resume::Resumed;
use tally::{Stopped, Tally};

/// `--stop-after-unanswered`'s default.
pub(crate) const DEFAULT_STOP_AFTER_UNANSWERED: u32 = breaker::DEFAULT_LIMIT;

/// The longest a create waits at once for the service's pace, by default:
/// a minute, far under the 30-minute total timeout, so that a service that
/// asks for hours ends the line (and, line after line, the import) at once.
pub(crate) const DEFAULT_LONGEST_WAIT_SECS: u64 = 60;

/// Runs `users import`.
///
/// The client is made only when the first line is to be sent, so a dry run
/// (or a file of bad lines) needs no configuration.
pub(crate) async fn run(
    args: &ImportArgs,
    output: Output,
    client: impl Fn() -> Result<IdentityClient, CliError>,
) -> Result<(), CliError> {
    let source = Source::open(&args.file, args.format)?;
    // The report is opened (or refused) before anything is read or sent.
    let (report, resumed) = match &args.report {
        Some(path) => ReportFile::open(path, &source.input, resume::REPORT_KIND)?,
        None => (ReportFile::none(), Resumed::default()),
    };
    let what = source.what.clone();
    let records = source.read(ImportLines)?;
    let verb = if args.dry_run { "checked" } else { "imported" };
    let progress = progress::counter(verb, "lines");
    let mut import = Import {
        args,
        report,
        resumed,
        tally: Tally::new(output, args.dry_run, progress.clone()),
        breaker: Breaker::new(args.stop_after_unanswered),
        client,
        paced: None,
        place: 0,
        last_line: 0,
        unknown: 0,
        in_flight: BTreeMap::new(),
        progress,
    };
    let stop = import.run(records).await?;
    import.finish(stop, &what)
}

/// An import under way.
struct Import<'a, C> {
    args: &'a ImportArgs,
    report: ReportFile,
    resumed: Resumed,
    tally: Tally,
    breaker: Breaker,
    /// Makes the client.
    client: C,
    /// The pace and the client, once a line is to be sent.
    paced: Option<(Pace, IdentityClient)>,
    /// The place of the next line started, in the order lines start.
    place: u64,
    /// The last line read.
    last_line: usize,
    /// Lines whose outcome is unknown.
    unknown: usize,
    /// The lines being created, by place: their line and login.
    in_flight: BTreeMap<u64, (usize, String)>,
    progress: indicatif::ProgressBar,
}

/// A line's create, finished: its place, line, login and outcome.
type Finished = (u64, usize, String, Created);

impl<C: Fn() -> Result<IdentityClient, CliError>> Import<'_, C> {
    /// Reads and creates until the input ends or the import stops; why it
    /// stopped early, if it did.
    async fn run(&mut self, mut records: Records<Parsed>) -> Result<Option<Stop>, CliError> {
        let mut running = FuturesUnordered::new();
        let mut signals = StopSignals::new();
        let mut reading = true;
        let mut stop = None;
        let mut interrupted = false;
        loop {
            let limit = self.paced.as_ref().map_or(1, |(pace, _)| pace.limit());
            let take_more =
                reading && stop.is_none() && running.len() < limit.max(1) && self.tally.has_room();
            if !take_more && running.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                signal = signals.recv() => {
                    if interrupted {
                        self.progress.suspend(|| note("interrupted again: stopping now"));
                        break;
                    }
                    interrupted = true;
                    stop.get_or_insert(Stop::Signal(signal));
                    if !running.is_empty() {
                        self.progress.suspend(|| note(&format!(
                            "interrupted ({signal}): waiting for the creates in flight \
                             (again to stop now)"
                        )));
                    }
                }
                Some(finished) = running.next(), if !running.is_empty() => {
                    if let Some(stopping) = self.created(finished)
                        && stop.is_none()
                    {
                        let reason = stopping.reason("");
                        self.progress.suspend(|| note(&format!(
                            "stopping: {reason}; waiting for the creates in flight"
                        )));
                        stop = Some(stopping);
                    }
                }
                record = records.recv(), if take_more => match record {
                    None => reading = false,
                    Some(Err(error)) => {
                        reading = false;
                        stop = Some(Stop::Input(error));
                    }
                    Some(Ok(record)) => {
                        if let Some(create) = self.start(record)? {
                            running.push(create);
                        }
                    }
                },
            }
        }
        drop(running);
        // Stopped at once: the lines in flight may or may not be created.
        for (place, (line, login)) in std::mem::take(&mut self.in_flight) {
            self.unknown += 1;
            self.done(
                place,
                true,
                LineResult {
                    line,
                    login: Some(login),
                    outcome: Outcome::failed(
                        "interrupted while being created: the user may exist; re-run the import \
                         (with the same --report) to settle it",
                    ),
                },
            );
        }
        Ok(stop)
    }

    /// Takes a line read: tells at once what needs no call, and answers the
    /// create of the others.
    fn start(
        &mut self,
        record: Record<Parsed>,
    ) -> Result<Option<impl Future<Output = Finished> + use<C>>, CliError> {
        self.last_line = record.line;
        let line = record.line;
        let place = self.place;
        let (request, deprovisioned) = match record.parsed {
            Parsed::Bad { login, outcome } => {
                self.place += 1;
                self.done(
                    place,
                    false,
                    LineResult {
                        line,
                        login,
                        outcome,
                    },
                );
                return Ok(None);
            }
            Parsed::Ready {
                request,
                deprovisioned,
            } => (request, deprovisioned),
        };
        if self.resumed.is_done(line, &request.login) {
            self.tally.resumed();
            return Ok(None);
        }
        self.place += 1;
        let login = Some(request.login.clone());
        // What needs no call: a row of a user who left, a dry run.
        let told = if deprovisioned && !self.args.recreate_deprovisioned {
            Some(Outcome::Skipped {
                id: None,
                reason: SkipReason::Deprovisioned,
                message: "the user left (DEPROVISIONED): not recreated without \
                          --recreate-deprovisioned"
                    .to_owned(),
            })
        } else if self.args.dry_run {
            Some(Outcome::Valid)
        } else {
            None
        };
        if let Some(outcome) = told {
            self.done(
                place,
                true,
                LineResult {
                    line,
                    login,
                    outcome,
                },
            );
            return Ok(None);
        }
        let (pace, client) = self.paced()?;
        self.in_flight.insert(place, (line, request.login.clone()));
        Ok(Some(async move {
            let created = create_user(&pace, &client, &request, false).await;
            (place, line, request.login, created)
        }))
    }

    /// The pace and its client, made at the first line to send.
    fn paced(&mut self) -> Result<(Pace, IdentityClient), CliError> {
        if let Some((pace, client)) = &self.paced {
            return Ok((*pace, client.clone()));
        }
        let pace = Pace::of(self.args.concurrency)
            .with_longest_wait(Duration::from_secs(self.args.longest_wait));
        let client = (self.client)()?;
        self.paced = Some((pace, client.clone()));
        Ok((pace, client))
    }

    /// A create has finished: its line is told and recorded; why the
    /// import stops now, when it does.
    fn created(&mut self, (place, line, login, created): Finished) -> Option<Stop> {
        self.in_flight.remove(&place);
        if matches!(created, Created::Unknown { .. }) {
            self.unknown += 1;
        }
        let error = match &created {
            Created::Failed { error, .. } => Some(error),
            _ => None,
        };
        let stop = self.breaker.judge(line, error, created.answered(), "line");
        let outcome = outcome_of(created, &login);
        self.done(
            place,
            true,
            LineResult {
                line,
                login: Some(login),
                outcome,
            },
        );
        stop
    }

    /// A line has its outcome: in the report at once, told in order.
    fn done(&mut self, place: u64, valid: bool, line: LineResult) {
        self.report.record(&line);
        self.tally.finished(place, valid, line);
    }

    /// Says how the import ended, and exits as it did.
    fn finish(self, stop: Option<Stop>, what: &str) -> Result<(), CliError> {
        let after_line = self.last_line;
        let stopped = stop.as_ref().map(|stop| Stopped {
            after_line,
            reason: stop.reason(what),
        });
        let counts = self.tally.finish(stopped.as_ref());
        if let Some((pace, client)) = &self.paced {
            note(&pace.summary(client));
        }
        self.report.finish()?;
        let resume = if self.args.report.is_some() {
            "re-run with the same --report to resume"
        } else {
            "re-run (with --report FILE, to resume without sending the finished lines again)"
        };
        if stop.is_some() && after_line > 0 {
            note(&format!(
                "stopped after line {after_line}: the lines after it were not read; {resume}"
            ));
        }
        if let Some(stop) = stop {
            return Err(stop.ended("import", what, self.unknown > 0));
        }
        let counts = counts.map_err(CliError::Output)?;
        if counts.failed > 0 {
            Err(CliError::Reported(Exit::SomeLinesFailed))
        } else {
            Ok(())
        }
    }
}

/// A create's outcome as the report says it.
fn outcome_of(created: Created, login: &str) -> Outcome {
    match created {
        Created::New { user, .. } => Outcome::Created { id: user.id },
        Created::Exists { existing, error } => {
            let id = existing.map(|user| user.id);
            let code = error
                .api()
                .and_then(|api| api.code())
                .map_or_else(|| "409".to_owned(), |code| format!("code {code}"));
            Outcome::Skipped {
                id,
                reason: SkipReason::Exists,
                message: format!("login {login} exists already ({code})"),
            }
        }
        Created::Failed { error, attempts: 0 } => Outcome::of_error(&error, one_line(&error)),
        Created::Failed { error, attempts } => {
            let message = format!(
                "{} (the user was not created; tried {attempts} times)",
                one_line(&error)
            );
            Outcome::of_error(&error, message)
        }
        Created::Unknown { error, lookup } => {
            let message = format!(
                "{}; the user may have been created, and looking its login up failed: {}; re-run \
                 the import to settle it",
                one_line(&error),
                one_line(&lookup)
            );
            Outcome::of_error(&error, message)
        }
    }
}
