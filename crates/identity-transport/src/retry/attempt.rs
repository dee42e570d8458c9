//! [`RetryAttempt`]: which attempt of a call a request is.

use std::time::Duration;

/// Which attempt of a call a request is, set by the retry layer on every
/// attempt after the first; a request without one is the first attempt.
/// The tracing layer reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAttempt {
    number: u32,
    waited: Duration,
}

impl RetryAttempt {
    /// The first attempt.
    pub const FIRST: RetryAttempt = RetryAttempt::new(1, Duration::ZERO);

    /// Attempt `number` (from 1), after a wait of `waited`.
    pub const fn new(number: u32, waited: Duration) -> Self {
        Self { number, waited }
    }

    /// The attempt's number, from 1.
    pub const fn number(self) -> u32 {
        self.number
    }

    /// How long the retry layer waited before it.
    pub const fn waited(self) -> Duration {
        self.waited
    }

    /// The attempt a request is.
    pub fn of<B>(request: &http::Request<B>) -> RetryAttempt {
        request
            .extensions()
            .get::<RetryAttempt>()
            .copied()
            .unwrap_or(Self::FIRST)
    }

    /// Makes `request` this attempt.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        request.extensions_mut().insert(self);
    }
}
