//! The import's breaker: when the service is gone, stop, rather than try
//! every remaining line (at the SDK's retries and timeouts, a million lines
//! would take days).
//!
//! Lines whose create got no answer (a connection refused or closed, a
//! timeout, an outcome the look-up could not settle) are counted in the
//! order they finish; any line the service answered (created, exists,
//! refused) resets the count. When the count reaches the limit
//! (`--stop-after-unanswered`, [`DEFAULT_LIMIT`] by default; 0 never
//! stops), the import starts no more lines, lets those in flight finish,
//! and stops, saying at which line; a re-run with the same `--report`
//! resumes there.

/// The default limit: ten lines in a row without an answer. With up to
/// 64 creates in flight, fewer would stop an import on a blip that the
/// lines in flight alone can cause; many more would only add the time each
/// takes to fail (the SDK's retries of each call) to a run that is over.
pub(crate) const DEFAULT_LIMIT: u32 = 10;

/// Counts the lines in a row without an answer.
#[derive(Debug)]
pub(crate) struct Breaker {
    limit: u32,
    run: u32,
    /// The first and last line of the current run.
    lines: Option<(usize, usize)>,
}

impl Breaker {
    /// A breaker that trips after `limit` lines in a row (0: never).
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            limit,
            run: 0,
            lines: None,
        }
    }

    /// Line `line` has finished, `answered` or not; whether the breaker
    /// trips now.
    pub(crate) fn finished(&mut self, line: usize, answered: bool) -> bool {
        if answered {
            self.run = 0;
            self.lines = None;
            return false;
        }
        self.run += 1;
        self.lines = Some(self.lines.map_or((line, line), |(first, _)| (first, line)));
        self.limit > 0 && self.run == self.limit
    }

    /// Why it tripped, in words.
    pub(crate) fn reason(&self) -> String {
        let lines = self
            .lines
            .map(|(first, last)| format!(" (lines {first} to {last})"))
            .unwrap_or_default();
        format!(
            "the service did not answer {} creates in a row{lines}",
            self.run
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_trips_after_the_limit_in_a_row_and_an_answer_resets_it() {
        let mut breaker = Breaker::new(3);
        assert!(!breaker.finished(1, false));
        assert!(!breaker.finished(2, false));
        assert!(!breaker.finished(3, true), "an answer resets the count");
        assert!(!breaker.finished(5, false));
        assert!(!breaker.finished(4, false));
        assert!(breaker.finished(7, false));
        assert_eq!(
            breaker.reason(),
            "the service did not answer 3 creates in a row (lines 5 to 7)"
        );
        let mut never = Breaker::new(0);
        assert!((1..100).all(|line| !never.finished(line, false)));
    }
}
