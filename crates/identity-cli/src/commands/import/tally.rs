//! What an import tells as it goes: each skipped and failed line on stderr,
//! each line on stdout with `--json`, in the input's order, and the counts
//! at the end.
//!
//! Lines finish out of order (creates run side by side), so a finished line
//! waits here until the lines started before it have finished too. While
//! one create is slow (waiting out the service's throttling, say) the lines
//! after it keep finishing, bad lines at once: the import reads on only
//! while fewer than [`MAX_WAITING`] wait ([`Tally::has_room`]), so memory
//! does not grow with the input.
//!
//! `--json` writes one JSON object, streamed:
//! `{"dryRun":false,"lines":[{...},{...}],"valid":..,"created":..,"skipped":..,
//! "failed":..,"resumed":..}` (with `"stopped"` when the import stopped
//! early), each line an object of the report's form.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Stdout, Write};

use indicatif::ProgressBar;
use serde::Serialize;

use super::line::{LineResult, Outcome};
use crate::escape::{untrusted, write_json};
use crate::output::{Output, note};

/// The most finished lines kept waiting for an earlier one before the
/// import stops reading.
pub(crate) const MAX_WAITING: usize = 4096;

/// The counts of an import.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Counts {
    /// Lines that passed the checks.
    pub(crate) valid: usize,
    /// Users created.
    pub(crate) created: usize,
    /// Lines skipped (the user exists, or left).
    pub(crate) skipped: usize,
    /// Lines that failed (bad lines included).
    pub(crate) failed: usize,
    /// Lines an earlier run finished (per the report), not looked at again.
    pub(crate) resumed: usize,
}

/// The lines told so far, and those waiting for earlier ones.
pub(crate) struct Tally {
    dry_run: bool,
    counts: Counts,
    /// Finished lines by their place in the order lines were started.
    waiting: BTreeMap<u64, (bool, LineResult)>,
    /// The place of the next line to tell.
    next: u64,
    json: Option<JsonOut>,
    progress: ProgressBar,
}

/// The `--json` object being written to stdout.
struct JsonOut {
    out: BufWriter<Stdout>,
    first: bool,
    /// The first failure to write: no more is written after it.
    failure: Option<io::Error>,
}

impl JsonOut {
    fn write(&mut self, write: impl FnOnce(&mut BufWriter<Stdout>) -> io::Result<()>) {
        if self.failure.is_none()
            && let Err(error) = write(&mut self.out)
        {
            self.failure = Some(error);
        }
    }
}

impl Tally {
    /// A tally printing as `output` says, its notes drawn above `progress`.
    pub(crate) fn new(output: Output, dry_run: bool, progress: ProgressBar) -> Self {
        let json = output.is_json().then(|| {
            let mut json = JsonOut {
                out: BufWriter::new(io::stdout()),
                first: true,
                failure: None,
            };
            json.write(|out| write!(out, "{{\"dryRun\":{dry_run},\"lines\":["));
            json
        });
        Self {
            dry_run,
            counts: Counts::default(),
            waiting: BTreeMap::new(),
            next: 0,
            json,
            progress,
        }
    }

    /// Whether the import may start more lines: fewer than [`MAX_WAITING`]
    /// finished lines wait for an earlier one.
    pub(crate) fn has_room(&self) -> bool {
        self.waiting.len() < MAX_WAITING
    }

    /// Counts one more line finished by an earlier run.
    pub(crate) fn resumed(&mut self) {
        self.counts.resumed += 1;
    }

    /// The line started `place`th has finished (`valid`: it passed its
    /// checks); it is told once every line started before it is.
    pub(crate) fn finished(&mut self, place: u64, valid: bool, line: LineResult) {
        self.waiting.insert(place, (valid, line));
        while let Some((valid, line)) = self.waiting.remove(&self.next) {
            self.tell(valid, &line);
            self.next += 1;
        }
    }

    fn tell(&mut self, valid: bool, line: &LineResult) {
        let counts = &mut self.counts;
        counts.valid += usize::from(valid);
        match &line.outcome {
            Outcome::Valid => {}
            Outcome::Created { .. } => counts.created += 1,
            Outcome::Skipped { .. } => counts.skipped += 1,
            Outcome::Failed { .. } => counts.failed += 1,
        }
        if let Some(text) = stderr_note(line) {
            self.progress.suspend(|| note(&text));
        }
        self.progress.inc(1);
        if let Some(json) = &mut self.json {
            let first = std::mem::replace(&mut json.first, false);
            json.write(|out| {
                out.write_all(if first { b"\n" } else { b",\n" })?;
                write_json(&mut *out, line, false)
            });
        }
    }

    /// Ends the JSON object (with `stopped`, when the import stopped
    /// early) and says the counts on stderr; the counts, or the failure to
    /// write stdout.
    pub(crate) fn finish(mut self, stopped: Option<&Stopped>) -> Result<Counts, io::Error> {
        self.progress.finish_and_clear();
        let counts = self.counts;
        let resumed = if counts.resumed > 0 {
            format!("; {} done by an earlier run", counts.resumed)
        } else {
            String::new()
        };
        if self.dry_run {
            note(&format!(
                "dry run: {} valid, {} not valid{resumed}; nothing was created",
                counts.valid, counts.failed
            ));
        } else {
            note(&format!(
                "created {}, skipped {}, failed {}{resumed}",
                counts.created, counts.skipped, counts.failed
            ));
        }
        let Some(mut json) = self.json.take() else {
            return Ok(counts);
        };
        let had_lines = !json.first;
        json.write(|out| {
            out.write_all(if had_lines { b"\n]" } else { b"]" })?;
            let mut tail = serde_json::to_value(counts).map_err(io::Error::from)?;
            if let (Some(stopped), Some(tail)) = (stopped, tail.as_object_mut()) {
                tail.insert(
                    "stopped".into(),
                    serde_json::to_value(stopped).map_err(io::Error::from)?,
                );
            }
            let tail = serde_json::to_string(&tail).map_err(io::Error::from)?;
            // The counts' object, without its opening brace, closes ours.
            out.write_all(b",")?;
            out.write_all(tail.get(1..).unwrap_or("}").as_bytes())?;
            out.write_all(b"\n")?;
            out.flush()
        });
        match json.failure {
            Some(error) => Err(error),
            None => Ok(counts),
        }
    }
}

/// Why an import stopped before the end of its input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stopped {
    /// The last line read; the lines after it were not.
    pub(crate) after_line: usize,
    /// Why, in words.
    pub(crate) reason: String,
}

/// The stderr line of a skipped or failed line (none for the others), the
/// file's login and the service's reasons escaped for the terminal.
fn stderr_note(line: &LineResult) -> Option<String> {
    let login = line
        .login
        .as_deref()
        .map(|login| format!(" ({})", untrusted(login)))
        .unwrap_or_default();
    match &line.outcome {
        Outcome::Skipped { message, .. } => Some(format!(
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
            Some(text)
        }
        Outcome::Valid | Outcome::Created { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, outcome: Outcome) -> LineResult {
        LineResult {
            line: n,
            login: Some(format!("user{n}\u{1b}")),
            outcome,
        }
    }

    #[test]
    fn lines_finished_behind_a_slow_one_stop_the_reading_at_the_bound() {
        let mut tally = Tally::new(Output::new(false), true, ProgressBar::hidden());
        // Line 1 (place 0) is slow; the lines after it finish at once.
        for place in 1..=MAX_WAITING as u64 {
            assert!(tally.has_room(), "{place}");
            tally.finished(
                place,
                false,
                line(place as usize + 1, Outcome::failed("bad")),
            );
        }
        assert!(!tally.has_room(), "{MAX_WAITING} lines wait: read no more");
        tally.finished(0, true, line(1, Outcome::Valid));
        assert!(tally.has_room());
        assert_eq!(tally.counts.failed, MAX_WAITING);
    }

    #[test]
    fn lines_are_told_in_the_order_they_were_started() {
        let mut tally = Tally::new(Output::new(false), false, ProgressBar::hidden());
        tally.finished(1, true, line(2, Outcome::Created { id: "b".into() }));
        assert_eq!(tally.counts, Counts::default(), "line 1 is not in yet");
        tally.finished(0, false, line(1, Outcome::failed("bad")));
        assert_eq!(
            (
                tally.counts.created,
                tally.counts.failed,
                tally.counts.valid
            ),
            (1, 1, 1)
        );
        tally.finished(
            2,
            true,
            line(
                3,
                Outcome::Skipped {
                    id: None,
                    reason: super::super::line::SkipReason::Exists,
                    message: "exists".into(),
                },
            ),
        );
        assert_eq!(tally.counts.skipped, 1);
        assert!(tally.waiting.is_empty());
    }

    #[test]
    fn the_note_of_a_failed_line_has_its_fields_and_no_raw_control() {
        let mut failed = line(4, Outcome::failed("not valid"));
        if let Outcome::Failed { field_errors, .. } = &mut failed.outcome {
            field_errors.insert("firstName".into(), vec!["too\u{7} short".into()]);
        }
        let text = stderr_note(&failed).unwrap();
        assert_eq!(
            text,
            "line 4 (user4\\x1b): failed: not valid\n  firstName: too\\x07 short"
        );
        assert_eq!(
            stderr_note(&line(5, Outcome::Created { id: "x".into() })),
            None
        );
    }
}
