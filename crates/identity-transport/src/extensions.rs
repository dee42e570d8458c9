//! Values the layers leave in a request's
//! [`CallContext`](identity_options::CallContext) for the layers below
//! them, with typed readers and writers.
//!
//! They travel in the call's one context rather than as extensions of
//! their own: the retry layer copies a request's extensions into every
//! attempt, so a value set above it (the [`Deadline`]) reaches every
//! attempt, and a value it sets itself ([`RetryAttempt`]) reaches the
//! attempt it starts, and one context is one allocation to make and to
//! copy where a value each would be one each.

use std::time::Duration;

use identity_options::CallContext;
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
        let deadline = CallContext::of(request)?.deadline?;
        Some(Self(Instant::from_std(deadline)))
    }

    /// Makes this the deadline of `request`.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        CallContext::of_mut(request).deadline = Some(self.0.into_std());
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
        match CallContext::of(request) {
            Some(context) if context.attempt > 0 => RetryAttempt {
                number: context.attempt,
                waited: context.waited,
            },
            _ => Self::FIRST,
        }
    }

    /// Makes `request` this attempt.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        let context = CallContext::of_mut(request);
        context.attempt = self.number;
        context.waited = self.waited;
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
        let context = CallContext::of(request)?;
        context.read_timeout.or(context.options.attempt_timeout)
    }

    /// Makes this the read timeout of `request`.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        CallContext::of_mut(request).read_timeout = Some(self.0);
    }
}
