//! The retry layer: tries a call again when that can help and is safe.
//!
//! The engine is tower's own `Retry`, driven by [`RetryPolicy`]. The
//! request body is `Bytes`, so every attempt replays the same request. The
//! parts are separate values a caller can swap, as in google-cloud-rust's
//! `gax`:
//!
//! - [`Classifiers`] ([`classify`]): an ordered list that
//!   says which outcomes may be retried and why (smithy-rs style);
//! - [`Backoff`] ([`backoff`]): exponential with full jitter.
//!   `tower::retry::backoff` hands out a `Sleep` rather than a `Duration`,
//!   and the policy must compare the wait with `Retry-After` and the
//!   deadline first, so the duration is computed here;
//! - [`RetryBudget`] ([`budget`]): tower's `TpsBudget`, shared by every
//!   clone of one [`RetryLayer`], against retry storms;
//! - `Retry-After`: seconds, fractional seconds (as FINBOURNE's services
//!   send them) or an HTTP date; negative or unreadable values are ignored.
//!
//! The rules, with the defaults of [`RetryConfig::default`]:
//!
//! - 429, and a 503 that shows it is the service's own (a `Retry-After`,
//!   its request id or a problem document), are throttling: the service did
//!   not act on the call, so any request is retried, after `Retry-After` or
//!   the backoff, whichever is longer. 429 is retried 2 times (as the
//!   official SDKs), 503 counts as a transient failure.
//! - 500, 502, 504, a bare 503 (a gateway's, which may come after the
//!   service acted), a dropped connection and an attempt timeout are
//!   transient: retried 3 times with the backoff, **only** when the request
//!   is idempotent ([`identity_call::is_idempotent`]): CreateUser is
//!   never replayed after its request may have reached the service.
//! - A connection that could not be opened is retried whatever the
//!   request: it never reached the service.
//! - The service's `Retry-After` is waited as asked, never cut short; no
//!   wait ends past the call's [`Deadline`](crate::Deadline): when the
//!   service asks for longer than the time left, the call ends at once with
//!   its last answer (whose error says how long the service asked to wait).
//! - After the last retry an error answer (a 503, say) is returned as the
//!   response, never turned into an error. An answer to a call replayed
//!   after an attempt the service may have processed carries
//!   [`ReplayedAfterUnknownOutcome`](identity_call::ReplayedAfterUnknownOutcome),
//!   so that "already done" can be told from a refusal.
//!
//! Each call may change the counts with
//! [`RequestOptions`](identity_call::RequestOptions)'s
//! `rate_limit_retries` and `transient_retries`, and its idempotency with
//! `idempotent`. A 401 is not this layer's business: the auth layer
//! replays it with a new token by itself.
//!
//! ```
//! use std::time::Duration;
//! use identity_transport::retry::{Backoff, RetryConfig, RetryLayer};
//!
//! let layer = RetryLayer::new(
//!     RetryConfig::default()
//!         .rate_limit_retries(5)
//!         .backoff(Backoff::exponential(Duration::from_millis(100), Duration::from_secs(5))),
//! );
//! # let _ = layer;
//! ```

mod attempt;
pub mod backoff;
pub mod budget;
pub mod classify;
mod policy;

use tower_layer::Layer;

pub use attempt::RetryAttempt;
pub use backoff::Backoff;
pub use budget::RetryBudget;
pub use classify::{Classifiers, ClassifyRetry, Outcome, RetryReason, Verdict};
pub use policy::RetryPolicy;

/// The service of [`RetryLayer`]: tower's `Retry` with [`RetryPolicy`].
pub type Retry<S> = tower::retry::Retry<RetryPolicy, S>;

/// Settings of the retry layer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Retries of a 429 answer (default 2, as the official SDKs).
    pub rate_limit_retries: u32,
    /// Retries of transient failures: 500, 502, 503, 504, connection
    /// failures, attempt timeouts (default 3).
    pub transient_retries: u32,
    /// The wait between attempts.
    pub backoff: Backoff,
    /// The retry budget, or `None` for none.
    pub budget: Option<RetryBudget>,
    /// Which outcomes are retried, and why.
    pub classifiers: Classifiers,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            rate_limit_retries: 2,
            transient_retries: 3,
            backoff: Backoff::default(),
            budget: Some(RetryBudget::default()),
            classifiers: Classifiers::standard(),
        }
    }
}

impl RetryConfig {
    /// Sets [`RetryConfig::rate_limit_retries`].
    pub fn rate_limit_retries(mut self, retries: u32) -> Self {
        self.rate_limit_retries = retries;
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

    /// Sets [`RetryConfig::classifiers`].
    pub fn classifiers(mut self, classifiers: Classifiers) -> Self {
        self.classifiers = classifiers;
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
