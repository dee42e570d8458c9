//! The retry layer: tries a call again when that can help and is safe.
//!
//! [`Retry`] runs [`RetryPolicy`], which is also a `tower::retry::Policy`
//! for use with `tower::retry::Retry`. The request body is `Bytes`, so
//! every attempt replays the same request. The layer's own future rather
//! than tower's: it keeps the call's context as a value instead of copying
//! the request's extensions, and drops the copy unseen when the outcome is
//! final (most are).
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
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use pin_project_lite::pin_project;
use tokio::time::Sleep;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use policy::KeptRequest;

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
            policy: self.policy.clone(),
            inner,
        }
    }
}

/// The service of [`RetryLayer`].
#[derive(Clone, Debug)]
pub struct Retry<S> {
    policy: RetryPolicy,
    inner: S,
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
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        // A clone of the policy holds the call's own counts.
        let mut policy = self.policy.clone();
        let kept = policy.keep(&request);
        let future = self.inner.call(request);
        RetryFuture {
            state: State::Called { future },
            kept: Some(Box::new(kept)),
            policy,
            service: self.inner.clone(),
        }
    }
}

pin_project! {
    /// The future of [`Retry`]: an attempt, then as the policy says a wait
    /// and another attempt, from the copy of the request kept before each.
    pub struct RetryFuture<S>
    where
        S: Service<http::Request<Bytes>>,
    {
        #[pin]
        state: State<S::Future>,
        // Boxed: inline, its 430 bytes would be copied with the future
        // through every layer above, on every call.
        kept: Option<Box<KeptRequest>>,
        policy: RetryPolicy,
        // A clone of the service, made ready before each replay.
        service: S,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<F> {
        // An attempt is in flight.
        Called { #[pin] future: F },
        // Waiting before the next attempt. The request is boxed: retries
        // are rare, and inline it would grow every call's future.
        Waiting { #[pin] sleep: Sleep, request: Option<Box<http::Request<Bytes>>> },
        // Waiting for the service to be ready for the next attempt.
        Replaying { request: Option<Box<http::Request<Bytes>>> },
    }
}

impl<S, B> Future for RetryFuture<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
{
    type Output = Result<http::Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProjection::Called { future } => {
                    let result = ready!(future.poll(cx)).map_err(Into::into);
                    // Most outcomes are final: the copy is dropped unseen.
                    let Some(look) = this.policy.first_look(&result) else {
                        return Poll::Ready(result);
                    };
                    let Some(kept) = this.kept.take() else {
                        return Poll::Ready(result);
                    };
                    let mut request = kept.into_request();
                    let Some(sleep) = this.policy.retry_after(look, &mut request, &result) else {
                        return Poll::Ready(result);
                    };
                    this.state.set(State::Waiting {
                        sleep,
                        request: Some(Box::new(request)),
                    });
                }
                StateProjection::Waiting { sleep, request } => {
                    ready!(sleep.poll(cx));
                    let request = request.take();
                    this.state.set(State::Replaying { request });
                }
                StateProjection::Replaying { request } => {
                    ready!(this.service.poll_ready(cx)).map_err(Into::into)?;
                    let Some(request) = request.take() else {
                        return Poll::Ready(Err(
                            "the retry future was polled after it completed".into()
                        ));
                    };
                    *this.kept = Some(Box::new(this.policy.keep(&request)));
                    let future = this.service.call(*request);
                    this.state.set(State::Called { future });
                }
            }
        }
    }
}

impl<S> std::fmt::Debug for RetryFuture<S>
where
    S: Service<http::Request<Bytes>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
