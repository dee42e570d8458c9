//! The retry layer: tries a call again when that can help and is safe.
//!
//! The engine is tower's own `Retry`, driven by [`RetryPolicy`]. The
//! request body is `Bytes`, so every attempt replays the same request. What
//! an outcome means comes from [`identity_call::Outcome`], the one place
//! that decides it for the SDK (an answer by its status and headers, a
//! failure by [`failure_of`](crate::failure_of)); the parts this layer adds
//! are separate values a caller can swap, as in google-cloud-rust's `gax`:
//!
//! - [`Backoff`] ([`backoff`]): exponential with full jitter.
//!   `tower::retry::backoff` hands out a `Sleep` rather than a `Duration`,
//!   and the policy must compare the wait with `Retry-After` and the
//!   deadline first, so the duration is computed here;
//! - [`RetryBudget`] ([`budget`]): tower's `TpsBudget`, shared by every
//!   clone of one [`RetryLayer`], against retry storms of failures;
//! - `Retry-After`: seconds, fractional seconds (as FINBOURNE's services
//!   send them) or an HTTP date; negative or unreadable values are ignored.
//!
//! The rules, with the defaults of [`RetryConfig::default`]:
//!
//! - **Throttled** (429): the service did not act on the call, so any
//!   request is sent again, after the service's `Retry-After` or the
//!   backoff, whichever is longer. A throttled answer is not a failure: it
//!   draws nothing from the budget, and no count ends it unless one is set
//!   ([`RetryConfig::rate_limit_retries`], or the call's
//!   `RequestOptions::rate_limit_retries`): it is waited out, for as long
//!   as the call's deadline allows. Under the client's
//!   [throttle](crate::throttle), the next attempt also waits for its turn.
//! - **Unavailable** (a 503 that shows it is the service's own): the
//!   service did not act on the call either, so any request is sent again
//!   after its `Retry-After`; but a service that is down is not a limit to
//!   wait out: each retry counts as a failure's (3, and the budget).
//! - **Overloaded, transient, unknown** (502, 504, a bare 503, 500 and the
//!   other 5xx, a dropped connection, an attempt timeout): retried 3 times
//!   with the backoff, **only** when the request is idempotent
//!   ([`identity_call::is_idempotent`]): CreateUser is never replayed after
//!   its request may have reached the service. Each retry draws on the
//!   budget.
//! - **Not sent** (no connection could be opened): retried like a transient
//!   failure, whatever the request: it never reached the service.
//! - The service's `Retry-After` is waited as asked, never cut short; no
//!   wait ends past the call's [`Deadline`](crate::Deadline), nor is longer
//!   than the call's `RequestOptions::longest_wait`: when the service asks
//!   for more, the call ends at once with its last answer (whose error says
//!   how long the service asked to wait). Nor is a call the client's
//!   throttle gave up on (its turn past the deadline or the longest wait)
//!   sent round again: it has waited all it may.
//! - After the last retry an error answer (a 503, say) is returned as the
//!   response, never turned into an error. An answer to a call replayed
//!   after an attempt the service may have processed carries
//!   [`ReplayedAfterUnknownOutcome`](identity_call::ReplayedAfterUnknownOutcome),
//!   so that "already done" can be told from a refusal.
//!
//! Each call may change the counts with
//! [`RequestOptions`](identity_call::RequestOptions)'s
//! `rate_limit_retries` and `transient_retries`, its longest wait with
//! `longest_wait`, and its idempotency with `idempotent`. A 401 is not this
//! layer's business: the auth layer replays it with a new token by itself.
//!
//! ```
//! use std::time::Duration;
//! use identity_transport::retry::{Backoff, RetryConfig, RetryLayer};
//!
//! let layer = RetryLayer::new(
//!     RetryConfig::default()
//!         .transient_retries(5)
//!         .backoff(Backoff::exponential(Duration::from_millis(100), Duration::from_secs(5))),
//! );
//! # let _ = layer;
//! ```

mod attempt;
pub mod backoff;
pub mod budget;
mod policy;
mod replayed;

use tower_layer::Layer;

pub use attempt::RetryAttempt;
pub use backoff::Backoff;
pub use budget::RetryBudget;
pub use policy::RetryPolicy;
pub use replayed::{AfterUnknownOutcome, RetryError, after_unknown_outcome};

/// The service of [`RetryLayer`]: tower's `Retry` with [`RetryPolicy`].
pub type Retry<S> = tower::retry::Retry<RetryPolicy, S>;

/// The default count of retries of a failure (overloaded, transient,
/// unknown, not sent): 3.
pub const DEFAULT_TRANSIENT_RETRIES: u32 = 3;

/// Settings of the retry layer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryConfig {
    /// At most this many retries of a throttled answer (429); `None` (the
    /// default): waited out within the deadline. The
    /// official SDKs stop at 2; this one keeps the service's pace instead.
    pub rate_limit_retries: Option<u32>,
    /// Retries of failures: 500, 502, 503, 504, connection failures,
    /// attempt timeouts (default [`DEFAULT_TRANSIENT_RETRIES`]).
    pub transient_retries: u32,
    /// The wait between attempts.
    pub backoff: Backoff,
    /// The retry budget of failures, or `None` for none.
    pub budget: Option<RetryBudget>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            rate_limit_retries: None,
            transient_retries: DEFAULT_TRANSIENT_RETRIES,
            backoff: Backoff::default(),
            budget: Some(RetryBudget::default()),
        }
    }
}

impl RetryConfig {
    /// Sets [`RetryConfig::rate_limit_retries`]: a cap on the retries of
    /// throttled answers.
    pub fn rate_limit_retries(mut self, retries: impl Into<Option<u32>>) -> Self {
        self.rate_limit_retries = retries.into();
        self
    }

    /// Sets [`RetryConfig::transient_retries`].
    pub fn transient_retries(mut self, retries: u32) -> Self {
        self.transient_retries = retries;
        self
    }

    /// Sets [`RetryConfig::backoff`].
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets [`RetryConfig::budget`].
    pub fn budget(mut self, budget: Option<RetryBudget>) -> Self {
        self.budget = budget;
        self
    }
}

/// Retries calls by the rules of the [module docs](self). The layer and
/// every service it makes share one budget.
#[derive(Clone, Debug)]
pub struct RetryLayer {
    policy: RetryPolicy,
}

impl RetryLayer {
    /// The layer, with its own budget.
    pub fn new(config: RetryConfig) -> Self {
        Self {
            policy: RetryPolicy::new(config),
        }
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        Self::new(RetryConfig::default())
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        tower::retry::Retry::new(self.policy.clone(), inner)
    }
}

#[cfg(test)]
mod tests;
