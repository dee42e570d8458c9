//! The retry layer: tries a call again when that can help and is safe.
//!
//! Built on `tower::retry::Retry` with [`RetryPolicy`] as its policy: the
//! request body is `Bytes`, so every attempt replays the same request.
//! The parts are separate values a caller can swap, as in google-cloud-rust's
//! `gax`:
//!
//! - [`Classifiers`] ([`classify`]): an ordered list that
//!   says which outcomes may be retried and why (smithy-rs style);
//! - [`Backoff`] ([`backoff`]): exponential with full jitter.
//!   `tower::retry::backoff` hands out a `Sleep` rather than a `Duration`,
//!   and the policy must compare the wait with `Retry-After` and the
//!   deadline first, so the duration is computed here;
//! - [`RetryBudget`] ([`budget`]): tower's `TpsBudget` rules without its
//!   lock, shared by every clone of one [`RetryLayer`], against retry storms;
//! - `Retry-After`: seconds, fractional seconds (as FINBOURNE's services
//!   send them) or an HTTP date; negative or unreadable values are ignored.
//!
//! The rules, with the defaults of [`RetryConfig::default`]:
//!
//! - 429 and 503 are throttling: the service did not act on the call, so
//!   any request is retried, after `Retry-After` or the backoff, whichever
//!   is longer. 429 is retried 2 times (as the official SDKs), 503 counts
//!   as a transient failure.
//! - 500, 502, 504, a dropped connection and an attempt timeout are
//!   transient: retried 3 times with the backoff, **only** when the request
//!   is idempotent ([`identity_options::is_idempotent`]): CreateUser is
//!   never replayed after its request may have reached the service.
//! - A connection that could not be opened is retried whatever the
//!   request: it never reached the service.
//! - Every wait is capped by `max_wait` (60 s); no wait ends past the
//!   call's [`Deadline`](crate::Deadline): the call ends with its last
//!   answer or error instead.
//! - A 401 that the auth layer marked
//!   [`ReplayWithNewToken`](identity_options::ReplayWithNewToken) (its token
//!   is replaced) is replayed once, at once, whatever the counts and the
//!   budget: the service refused it without acting on it.
//! - After the last retry an error answer (a 503, say) is returned as the
//!   response, never turned into an error.
//!
//! Each call may change the counts with
//! [`RequestOptions`](identity_options::RequestOptions)'s
//! `rate_limit_retries` and `transient_retries`, and its idempotency with
//! `idempotent`.
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

mod after;
pub mod backoff;
pub mod budget;
pub mod classify;
mod policy;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use pin_project_lite::pin_project;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::BoxErrorService;

pub use backoff::Backoff;
pub use budget::RetryBudget;
pub use classify::{Classifiers, ClassifyRetry, Outcome, RetryReason, Verdict};
pub use policy::RetryPolicy;

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
    /// The longest wait before any retry, `Retry-After` included (default 60 s).
    pub max_wait: Duration,
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
            max_wait: Duration::from_secs(60),
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

    /// Sets [`RetryConfig::max_wait`].
    pub fn max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
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
        Retry {
            inner: tower::retry::Retry::new(self.policy.clone(), BoxErrorService::new(inner)),
        }
    }
}

/// The service of [`RetryLayer`].
#[derive(Clone, Debug)]
pub struct Retry<S> {
    inner: tower::retry::Retry<RetryPolicy, BoxErrorService<S>>,
}

impl<S, B> Service<http::Request<Bytes>> for Retry<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<B>> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<B>;
    type Error = BoxError;
    type Future = RetryFuture<S>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        RetryFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// The future of [`Retry`].
    pub struct RetryFuture<S>
    where
        S: Service<http::Request<Bytes>>,
        S::Error: Into<BoxError>,
        RetryPolicy: tower::retry::Policy<http::Request<Bytes>, S::Response, BoxError>,
    {
        #[pin]
        inner: tower::retry::future::ResponseFuture<RetryPolicy, BoxErrorService<S>, http::Request<Bytes>>,
    }
}

impl<S, B> Future for RetryFuture<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<B>> + Clone,
    S::Error: Into<BoxError>,
{
    type Output = Result<http::Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

impl<S> std::fmt::Debug for RetryFuture<S>
where
    S: Service<http::Request<Bytes>>,
    S::Error: Into<BoxError>,
    RetryPolicy: tower::retry::Policy<http::Request<Bytes>, S::Response, BoxError>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
