//! How many calls the bulk commands keep in flight, and what the pace was.
//!
//! The pace itself is the client's business: its throttle (one for every
//! clone of the client) holds calls to what the service lets through once
//! it throttles, and its retry layer waits each 429 out within the call's
//! deadline (see `finbourne_identity::layers::transport::throttle`). The
//! bulk commands only cap the calls in flight (`--concurrency N`, else
//! [`DEFAULT_CONCURRENCY`]) and report, at the end, what the throttle saw.

use std::time::Duration;

use finbourne_identity::{IdentityClient, RequestOptions};

/// The calls in flight without `--concurrency`: enough to reach a rate of
/// hundreds of calls a second over a WAN's round trip, which the client's
/// throttle then holds to the service's pace.
pub(crate) const DEFAULT_CONCURRENCY: usize = 32;

/// The pace of a bulk command: a cap on the calls in flight, and the
/// longest a call waits at once for the service's pace.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    limit: usize,
    fixed: bool,
    longest_wait: Option<Duration>,
}

impl Pace {
    /// `Some(n)`: at most `n` calls in flight; `None`: the default.
    pub(crate) fn of(concurrency: Option<u16>) -> Self {
        match concurrency {
            Some(limit) => Self {
                limit: usize::from(limit).max(1),
                fixed: true,
                longest_wait: None,
            },
            None => Self {
                limit: DEFAULT_CONCURRENCY,
                fixed: false,
                longest_wait: None,
            },
        }
    }

    /// The same, each call waiting at most `wait` at once (a longer
    /// `Retry-After` ends it as throttled).
    pub(crate) fn with_longest_wait(self, wait: Duration) -> Self {
        Self {
            longest_wait: Some(wait),
            ..self
        }
    }

    /// How many calls may be in flight.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The options of each call of the bulk command.
    pub(crate) fn options(&self) -> RequestOptions {
        match self.longest_wait {
            Some(wait) => RequestOptions::new().longest_wait(wait),
            None => RequestOptions::new(),
        }
    }

    /// A line for the end of a command: the cap, and how the service's
    /// throttling went.
    pub(crate) fn summary(&self, client: &IdentityClient) -> String {
        let throttle = client.throttle();
        let cap = if self.fixed {
            format!("concurrency: {} (--concurrency)", self.limit)
        } else {
            format!("concurrency: up to {}", self.limit)
        };
        if throttle.throttled == 0 {
            return format!("{cap}; the service throttled no call");
        }
        let paced = throttle.rate.map_or(String::new(), |rate| {
            format!(", paced at {rate:.1} calls/s at the end")
        });
        format!(
            "{cap}; the service throttled {} call{}{paced}",
            throttle.throttled,
            crate::output::plural(usize::try_from(throttle.throttled).unwrap_or(usize::MAX)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_the_flag_or_the_default() {
        assert_eq!(Pace::of(None).limit(), DEFAULT_CONCURRENCY);
        assert_eq!(Pace::of(Some(7)).limit(), 7);
        assert_eq!(Pace::of(Some(0)).limit(), 1);
        let waits = Pace::of(None).with_longest_wait(Duration::from_secs(60));
        assert_eq!(
            waits.options().get_longest_wait(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(Pace::of(None).options().get_longest_wait(), None);
    }
}
