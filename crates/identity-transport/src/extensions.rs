//! Values the layers leave in a request's [`http::Extensions`] for the
//! layers below them.
//!
//! The retry layer copies a request's extensions into every attempt, so a
//! value set above it (the [`Deadline`]) reaches every attempt, and a value
//! it sets itself ([`RetryAttempt`]) reaches the attempt it starts.

use std::time::Duration;

use tokio::time::Instant;

/// When the whole call must be over, every attempt and wait included.
///
/// Set by the total-timeout layer; read by the retry layer (it never waits
/// past it), the attempt-timeout layer (it clips each attempt to it) and
/// [`ResponseBody`](crate::ResponseBody) (reading the body ends at it).
/// When a request already carries a deadline, the total-timeout layer keeps
/// the earlier of the two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline at `instant` (on tokio's clock, so paused-time tests see it).
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    /// The deadline `timeout` from now, or `None` when that is too far away
    /// to represent (no deadline at all).
    pub fn after(timeout: Duration) -> Option<Self> {
        Instant::now().checked_add(timeout).map(Self)
    }

    /// The deadline a request carries, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<Deadline> {
        request.extensions().get::<Deadline>().copied()
    }

    /// The instant.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// The time left before the deadline (zero once it has passed).
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// Which attempt of a call a request is, set by the retry layer on every
/// attempt after the first. A request without one is the first attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAttempt {
    /// The attempt's number, from 1.
    pub number: u32,
    /// How long the retry layer waited before it.
    pub waited: Duration,
}

impl RetryAttempt {
    /// The first attempt.
    pub const FIRST: RetryAttempt = RetryAttempt {
        number: 1,
        waited: Duration::ZERO,
    };

    /// The attempt a request is.
    pub fn of<B>(request: &http::Request<B>) -> RetryAttempt {
        request
            .extensions()
            .get::<RetryAttempt>()
            .copied()
            .unwrap_or(Self::FIRST)
    }
}

/// The read timeout of one attempt, set by the attempt-timeout layer and
/// read by [`HttpClient`](crate::HttpClient): it bounds the wait for every
/// piece of the answer's body, as the attempt timeout bounds the wait for
/// its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadTimeout(pub Duration);

impl ReadTimeout {
    /// The read timeout a request carries: this value, else the call's
    /// [`RequestOptions::attempt_timeout`](identity_options::RequestOptions::attempt_timeout).
    pub fn of<B>(request: &http::Request<B>) -> Option<Duration> {
        request
            .extensions()
            .get::<ReadTimeout>()
            .map(|timeout| timeout.0)
            .or_else(|| identity_options::RequestOptions::of(request).attempt_timeout)
    }
}
