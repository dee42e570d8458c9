//! The import's breaker: when the service is gone, or asks for longer than
//! the import can wait, stop, rather than try every remaining line (at the
//! SDK's retries and timeouts, a million lines would take days).
//!
//! Lines whose create got no answer (a connection refused or closed, a
//! timeout, an outcome the look-up could not settle), and lines throttled
//! for longer than `--longest-wait`, are counted in the order they finish;
//! any line the service answered otherwise (created, exists, refused)
//! resets the count. When the count reaches the limit
//! (`--stop-after-unanswered`, [`DEFAULT_LIMIT`] by default; 0 never
//! stops), the import starts no more lines, lets those in flight finish,
//! and stops, saying at which line (and, when every line of the run was
//! throttled, how long the service asked to wait); a re-run with the same
//! `--report` resumes there.

use std::time::Duration;

use super::stop::Stop;
use crate::errors::{exit_of, one_line};

/// The default limit: ten lines in a row without an answer. With up to
/// 64 creates in flight, fewer would stop an import on a blip that the
/// lines in flight alone can cause; many more would only add the time each
/// takes to fail (the SDK's retries of each call) to a run that is over.
pub(crate) const DEFAULT_LIMIT: u32 = 10;

/// How a line's create ended, for the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    /// The service answered (created, exists, refused).
    Answered,
    /// No answer: a connection failure, a timeout, an unsettled outcome.
    Unanswered,
    /// Throttled for longer than the import waits, asking this wait.
    Throttled(Option<Duration>),
}

/// Counts the lines in a row without an answer.
#[derive(Debug)]
pub(crate) struct Breaker {
    limit: u32,
    /// What is counted ("creates"), and what places them ("lines").
    calls: &'static str,
    places: &'static str,
    run: u32,
    /// How many of the run were throttled, and the longest wait asked.
    throttled: u32,
    asked: Option<Duration>,
    /// The first and last line of the current run.
    lines: Option<(usize, usize)>,
}

impl Breaker {
    /// A breaker that trips after `limit` lines in a row (0: never).
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit,
            calls: "creates",
            places: "lines",
            run: 0,
            throttled: 0,
            asked: None,
            lines: None,
        }
    }

    /// The same, counting `calls` (e.g. "changes") placed by `places`
    /// (e.g. "changes") in its reason.
    pub(crate) fn counting(self, calls: &'static str, places: &'static str) -> Self {
        Self {
            calls,
            places,
            ..self
        }
    }

    /// Line `line` has finished as `finish`; whether the breaker trips now.
    pub(crate) fn finished(&mut self, line: usize, finish: Finish) -> bool {
        match finish {
            Finish::Answered => {
                self.run = 0;
                self.throttled = 0;
                self.asked = None;
                self.lines = None;
                return false;
            }
            Finish::Unanswered => {}
            Finish::Throttled(wait) => {
                self.throttled += 1;
                self.asked = self.asked.max(wait);
            }
        }
        self.run += 1;
        self.lines = Some(self.lines.map_or((line, line), |(first, _)| (first, line)));
        self.limit > 0 && self.run == self.limit
    }

    /// Whether every line of the run that tripped it was throttled.
    pub(crate) fn throttled(&self) -> bool {
        self.run > 0 && self.throttled == self.run
    }

    /// Why it tripped, in words.
    pub(crate) fn reason(&self) -> String {
        let lines = self
            .lines
            .map(|(first, last)| format!(" ({} {first} to {last})", self.places))
            .unwrap_or_default();
        if self.throttled() {
            let asked = self.asked.map_or(String::new(), |wait| {
                format!(
                    ", and asked to wait {}",
                    finbourne_identity::layers::call::Seconds(wait)
                )
            });
            return format!(
                "the service throttled {} {} in a row for longer than --longest-wait{asked}{lines}",
                self.run, self.calls
            );
        }
        format!(
            "the service did not answer {} {} in a row{lines}",
            self.run, self.calls
        )
    }
}

impl Breaker {
    /// What a finished line (or change) at `place` means for the run: the
    /// stop it makes, if any. `error` is its failure, when it failed;
    /// `answered`, whether the service answered it; `each` names what
    /// every other one would be ("line", "change") when the failure is one
    /// no other can escape.
    pub(crate) fn judge(
        &mut self,
        place: usize,
        error: Option<&finbourne_identity::Error>,
        answered: bool,
        each: &str,
    ) -> Option<Stop> {
        if let Some(error) = error
            && refuses_everyone(error)
        {
            return Some(Stop::Refused(
                format!("every {each} would fail: {}", one_line(error)),
                exit_of(error),
            ));
        }
        let finish = match error {
            Some(error) if error.is_throttled() => Finish::Throttled(error.retry_after()),
            _ if answered => Finish::Answered,
            _ => Finish::Unanswered,
        };
        self.finished(place, finish).then(|| {
            if self.throttled() {
                Stop::Throttled(self.reason())
            } else {
                Stop::Unanswered(self.reason())
            }
        })
    }
}

/// Whether a call's failure is one no other call can escape: the
/// credentials or the configuration (a refused token grant, an unusable
/// token file, a 401 or 403). A bulk run stops at the first.
pub(crate) fn refuses_everyone(error: &finbourne_identity::Error) -> bool {
    use finbourne_identity::ErrorKind;
    matches!(error.kind(), ErrorKind::Auth | ErrorKind::Config)
        || error
            .status()
            .is_some_and(|status| matches!(status.as_u16(), 401 | 403))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_trips_after_the_limit_in_a_row_and_an_answer_resets_it() {
        use Finish::*;
        let mut breaker = Breaker::new(3);
        assert!(!breaker.finished(1, Unanswered));
        assert!(!breaker.finished(2, Unanswered));
        assert!(!breaker.finished(3, Answered), "an answer resets the count");
        assert!(!breaker.finished(5, Unanswered));
        assert!(!breaker.finished(4, Throttled(None)));
        assert!(breaker.finished(7, Unanswered));
        assert!(!breaker.throttled());
        assert_eq!(
            breaker.reason(),
            "the service did not answer 3 creates in a row (lines 5 to 7)"
        );
        let mut never = Breaker::new(0);
        assert!((1..100).all(|line| !never.finished(line, Unanswered)));
    }

    #[test]
    fn a_run_of_throttled_lines_says_how_long_the_service_asked() {
        let mut breaker = Breaker::new(2);
        let wait = |secs| Finish::Throttled(Some(Duration::from_secs(secs)));
        assert!(!breaker.finished(1, wait(90)));
        assert!(breaker.finished(2, wait(120)));
        assert!(breaker.throttled());
        assert_eq!(
            breaker.reason(),
            "the service throttled 2 creates in a row for longer than --longest-wait, and asked to wait 120 s (lines 1 to 2)"
        );
    }
}
