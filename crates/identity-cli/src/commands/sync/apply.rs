//! `users sync --apply`: the plan applied through the SDK
//! ([`Plan::apply`]), at the pace of import ([`Pace`]: at most
//! `--concurrency` changes at once, the client's throttle keeping the
//! service's pace), each outcome told as it comes: in the `--report`
//! (appended and flushed), on stderr when it is not a change made, on
//! stdout with `--json`.
//!
//! It stops early, starting no more changes and letting those in flight
//! finish, on SIGINT, SIGTERM or SIGHUP (a second one stops at once), when
//! the service is gone or keeps throttling ([`Breaker`]), and at the first
//! failure no other change can escape (credentials, configuration, 401,
//! 403). A re-run resumes: of the same saved plan with the same report,
//! without sending the changes applied again; of a plan made again, with
//! what is left to do (the changes made no longer differ).

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use finbourne_identity::IdentityClient;
use finbourne_identity::sync::{Applied, Applying, Change, Outcome, Plan};
use futures_util::StreamExt;
use serde::Serialize;

use super::cli_error;
use crate::args::SyncArgs;
use crate::commands::bulk::breaker::Breaker;
use crate::commands::bulk::report::ReportFile;
use crate::commands::bulk::stop::Stop;
use crate::commands::pace::Pace;
use crate::errors::{CliError, Exit, one_line};
use crate::escape::{untrusted, write_json};
use crate::output::{Output, note};
use crate::progress;
use crate::signals::StopSignals;

/// One outcome, as the report and `--json` write it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeLine<'a> {
    plan: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<u64>,
    action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<String>,
    /// `applied`, `skipped`, `notAttempted`, `failed` or `unknown`.
    outcome: &'static str,
    /// Applied already (by an earlier run, or another hand).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    already: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl<'a> OutcomeLine<'a> {
    fn of(plan: &'a str, applied: &Applied) -> Self {
        let change = &applied.change;
        let mut line = OutcomeLine {
            plan,
            number: change.number(),
            action: change.action(),
            line: change.line(),
            id: change.id().map(str::to_owned),
            login: change.login().map(str::to_owned),
            outcome: "applied",
            already: false,
            message: None,
            status: None,
            code: None,
            request_id: None,
        };
        match &applied.outcome {
            Outcome::Applied { id, already } => {
                line.id = id.clone().or(line.id);
                line.already = *already;
            }
            Outcome::Skipped { message } => {
                line.outcome = "skipped";
                line.message = Some(message.clone());
            }
            Outcome::NotAttempted => {
                line.outcome = "notAttempted";
                line.message = match change {
                    Change::Conflict { message, .. } | Change::Invalid { message, .. } => {
                        Some(message.clone())
                    }
                    _ => None,
                };
            }
            Outcome::Failed { error } => {
                line.outcome = "failed";
                line.message = Some(one_line(error));
                line.status = error.status().map(|status| status.as_u16());
                line.code = error.code().map(finbourne_identity::ErrorCode::number);
                line.request_id = error.request_id().map(str::to_owned);
            }
            Outcome::Unknown { error, lookup } => {
                line.outcome = "unknown";
                line.message = Some(format!(
                    "{}; the user may have been created, and looking its login up failed: {}; \
                     re-run to settle it",
                    one_line(error),
                    one_line(lookup)
                ));
            }
        }
        line
    }
}

/// The counts of an apply.
#[derive(Clone, Copy, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    applied: u64,
    already: u64,
    skipped: u64,
    not_attempted: u64,
    failed: u64,
    unknown: u64,
    resumed: u64,
}

/// Applies `plan`, telling each outcome; its exit.
pub(crate) async fn run(
    plan: &Plan,
    applying: Applying,
    client: &IdentityClient,
    args: &SyncArgs,
    mut report: ReportFile,
    done: Vec<u64>,
    output: Output,
) -> Result<(), CliError> {
    let pace = Pace::of(args.concurrency).with_longest_wait(Duration::from_secs(args.longest_wait));
    let resumed = Arc::new(AtomicU64::new(0));
    let skipped = Arc::clone(&resumed);
    let mut applying = applying
        .concurrency(pace.limit())
        .options(pace.options())
        .skip(move |change| {
            let done = change
                .number()
                .is_some_and(|number| done.binary_search(&number).is_ok());
            if done {
                skipped.fetch_add(1, Ordering::Relaxed);
            }
            done
        });
    let plan_id = plan.info().id.as_str();
    let mut json = output.is_json().then(|| JsonOut::start(plan_id));
    let progress = progress::counter("applied", "changes");
    let mut breaker = Breaker::new(args.stop_after_unanswered).counting("changes", "changes");
    let mut counts = Counts::default();
    let mut signals = StopSignals::new();
    let mut stop = None;
    let mut cut_short = 0;
    loop {
        tokio::select! {
            biased;
            signal = signals.recv() => {
                if stop.is_some() {
                    cut_short = applying.in_flight();
                    progress.suspend(|| note("interrupted again: stopping now"));
                    break;
                }
                applying.stop();
                progress.suspend(|| note(&format!(
                    "interrupted ({signal}): waiting for the changes in flight (again to stop now)"
                )));
                stop = Some(Stop::Signal(signal));
            }
            next = applying.next() => {
                let Some(next) = next else { break };
                let applied = next.map_err(|error| cli_error(error, "the plan"))?;
                let line = OutcomeLine::of(plan_id, &applied);
                report.record(&line);
                if let Some(json) = &mut json {
                    json.write(&line);
                }
                tell(&line, &mut counts, &progress);
                if let Some(stopping) = judge(&applied, &mut breaker)
                    && stop.is_none()
                {
                    applying.stop();
                    let reason = stopping.reason("the plan");
                    progress.suspend(|| note(&format!(
                        "stopping: {reason}; waiting for the changes in flight"
                    )));
                    stop = Some(stopping);
                }
            }
        }
    }
    drop(applying);
    progress.finish_and_clear();
    counts.resumed = resumed.load(Ordering::Relaxed);
    let written = json.map_or(Ok(()), |json| json.finish(&counts));
    note(&format!(
        "applied {} ({} found done already), skipped {}, not attempted {} (conflicts and \
         invalid lines), failed {}, unknown {}{}",
        counts.applied + counts.already,
        counts.already,
        counts.skipped,
        counts.not_attempted,
        counts.failed,
        counts.unknown,
        if counts.resumed > 0 {
            format!("; {} applied by an earlier run", counts.resumed)
        } else {
            String::new()
        }
    ));
    note(&pace.summary(client));
    report.finish()?;
    written.map_err(CliError::Output)?;
    if cut_short > 0 {
        note(&format!(
            "{cut_short} changes were cut short in flight: re-run to settle them (an apply \
             finds what is made already)"
        ));
    }
    if stop.is_some() {
        note("stopped early: re-run (with the same --report, for a saved plan) to resume");
    }
    if let Some(stop) = stop {
        return Err(stop.ended("apply", "the plan", counts.unknown > 0));
    }
    if counts.unknown > 0 {
        Err(CliError::Reported(Exit::OutcomeUnknown))
    } else if counts.skipped + counts.not_attempted + counts.failed > 0 {
        Err(CliError::Reported(Exit::SomeLinesFailed))
    } else {
        Ok(())
    }
}

/// Counts an outcome, and tells it on stderr when it is not a change made.
fn tell(line: &OutcomeLine<'_>, counts: &mut Counts, progress: &indicatif::ProgressBar) {
    match (line.outcome, line.already) {
        ("applied", true) => counts.already += 1,
        ("applied", false) => counts.applied += 1,
        ("skipped", _) => counts.skipped += 1,
        ("notAttempted", _) => counts.not_attempted += 1,
        ("unknown", _) => counts.unknown += 1,
        _ => counts.failed += 1,
    }
    progress.inc(1);
    if line.outcome == "applied" {
        return;
    }
    let place = match (line.number, line.line) {
        (Some(number), _) => format!("change {number}"),
        (None, Some(at)) => format!("line {at}"),
        (None, None) => "an entry".to_owned(),
    };
    let login = line
        .login
        .as_deref()
        .map(|login| format!(" ({})", untrusted(login)))
        .unwrap_or_default();
    let message = line.message.as_deref().unwrap_or("");
    let verb = match line.outcome {
        "notAttempted" => "not attempted",
        other => other,
    };
    progress.suspend(|| {
        note(&format!(
            "{place}, {}{login}: {verb}: {}",
            line.action,
            untrusted(message)
        ));
    });
}

/// Whether this outcome stops the apply: the breaker's count, or a failure
/// every change would meet.
fn judge(applied: &Applied, breaker: &mut Breaker) -> Option<Stop> {
    let number = usize::try_from(applied.change.number()?).unwrap_or(usize::MAX);
    let error = match &applied.outcome {
        Outcome::Failed { error } => Some(error),
        _ => None,
    };
    breaker.judge(number, error, applied.outcome.answered(), "change")
}

/// The `--json` object on stdout: `{"plan":ID,"outcomes":[..],"counts":{..}}`,
/// streamed.
struct JsonOut {
    out: BufWriter<Stdout>,
    first: bool,
    failure: Option<io::Error>,
}

impl JsonOut {
    fn start(plan: &str) -> Self {
        let mut json = Self {
            out: BufWriter::new(io::stdout()),
            first: true,
            failure: None,
        };
        json.run(|out| {
            out.write_all(b"{\"plan\":")?;
            serde_json::to_writer(&mut *out, plan)?;
            out.write_all(b",\"outcomes\":[")
        });
        json
    }

    fn run(&mut self, write: impl FnOnce(&mut BufWriter<Stdout>) -> io::Result<()>) {
        if self.failure.is_none()
            && let Err(error) = write(&mut self.out)
        {
            self.failure = Some(error);
        }
    }

    fn write(&mut self, line: &OutcomeLine<'_>) {
        let first = std::mem::replace(&mut self.first, false);
        self.run(|out| {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            write_json(&mut *out, line, false)
        });
    }

    fn finish(mut self, counts: &Counts) -> io::Result<()> {
        let had = !self.first;
        self.run(|out| {
            out.write_all(if had {
                b"\n],\"counts\":"
            } else {
                b"],\"counts\":"
            })?;
            serde_json::to_writer(&mut *out, counts)?;
            out.write_all(b"}\n")?;
            out.flush()
        });
        self.failure.map_or(Ok(()), Err)
    }
}
