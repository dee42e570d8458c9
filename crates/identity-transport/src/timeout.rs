//! The two time limits of a call, as two layers over one mechanism.
//!
//! - [`TotalTimeoutLayer`], outside the retry layer: one [`Deadline`] for
//!   the whole call, every attempt, every wait and the whole answer's body
//!   included (except a [`StreamedAnswer`](identity_call::StreamedAnswer)'s
//!   body, which is as long as the list it streams). It puts the deadline
//!   on the request for the layers below that must stop waiting at it, and
//!   on the answer, for a follow-up request of the same call (the GetUser
//!   with which `identity-users` confirms an "already done" refusal), which
//!   then keeps to it.
//! - [`AttemptTimeoutLayer`], inside the retry and auth layers: the read
//!   timeout of one attempt, the longest silence it bears: before the
//!   answer's headers, and between two pieces of its body.
//!
//! One [`Timeout`] service does both, told which [`Limit`] it keeps: it
//! races the inner future against a tokio `Sleep` ([`TimeoutFuture`]), and
//! wraps the answer's body in a [`TimeoutBody`] that keeps the same
//! promise for the body, as tower-http's `TimeoutBody` does, so that each
//! layer bounds what it lets through over any inner service, with no help
//! from the HTTP client. Both fail with a [`TransportError`] of kind
//! [`Timeout`](crate::TransportErrorKind::Timeout): [`TimeoutKind::Total`]
//! or [`TimeoutKind::Attempt`]. The attempt timeout knows nothing of the
//! deadline: when the deadline comes first, the total-timeout layer's own
//! timer ends the call as a total timeout, which the retry layer above the
//! attempt never sees.

mod attempt;
mod body;
mod total;

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::{TimeoutKind, TransportError};

pub use attempt::{Attempt, DEFAULT_ATTEMPT_TIMEOUT};
pub use body::TimeoutBody;
pub use identity_call::Deadline;
pub use total::{DEFAULT_TOTAL_TIMEOUT, Total};

/// The read timeout of one attempt: [`Timeout`] keeping the [`Attempt`] limit.
pub type AttemptTimeoutLayer = TimeoutLayer<Attempt>;
/// The service of [`AttemptTimeoutLayer`].
pub type AttemptTimeout<S> = Timeout<S, Attempt>;
/// The deadline of the whole call: [`Timeout`] keeping the [`Total`] limit.
pub type TotalTimeoutLayer = TimeoutLayer<Total>;
/// The service of [`TotalTimeoutLayer`].
pub type TotalTimeout<S> = Timeout<S, Total>;

/// Which time limit a [`Timeout`] keeps: how it reads a call's timeout, and
/// what it bounds.
pub trait Limit: sealed::Sealed + Send + Sync + 'static {
    /// The kind of the errors of this limit.
    const KIND: TimeoutKind;

    /// Whether the answer carries the call's [`Deadline`], for the calls
    /// that follow it up (the total timeout's: the attempt timeout knows
    /// nothing of the deadline).
    const MARKS_ANSWER: bool;

    /// Arms the limit for one call, whose timeout is the call's own
    /// (`RequestOptions`) or else `default`: when its answer's head must
    /// have come, and how its body is bounded. May mark the request for the
    /// layers below.
    fn arm<B>(default: Duration, request: &mut http::Request<B>) -> (Option<Instant>, BodyBound);
}

mod sealed {
    pub trait Sealed {}
}

/// How a [`TimeoutBody`] bounds a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyBound {
    /// Not at all.
    None,
    /// The whole body must have come by this instant.
    Until(Instant),
    /// No wait for the next piece may be longer than this.
    Idle(Duration),
}

/// A layer of one time limit, `L`: [`TotalTimeoutLayer`] or [`AttemptTimeoutLayer`].
pub struct TimeoutLayer<L> {
    default: Duration,
    limit: PhantomData<fn() -> L>,
}

impl<L: Limit> TimeoutLayer<L> {
    /// The layer, with `default` for calls that do not set their own.
    pub fn new(default: Duration) -> Self {
        Self {
            default,
            limit: PhantomData,
        }
    }
}

impl<L> Clone for TimeoutLayer<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for TimeoutLayer<L> {}

impl<L: Limit> std::fmt::Debug for TimeoutLayer<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutLayer")
            .field("kind", &L::KIND)
            .field("default", &self.default)
            .finish()
    }
}

impl<S, L: Limit> Layer<S> for TimeoutLayer<L> {
    type Service = Timeout<S, L>;

    fn layer(&self, inner: S) -> Self::Service {
        Timeout {
            inner,
            default: self.default,
            limit: PhantomData,
        }
    }
}

/// The service of a [`TimeoutLayer`]: the inner service's answer within
/// the limit `L`, its body bounded by it too.
pub struct Timeout<S, L> {
    inner: S,
    default: Duration,
    limit: PhantomData<fn() -> L>,
}

impl<S: Clone, L> Clone for Timeout<S, L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            default: self.default,
            limit: PhantomData,
        }
    }
}

impl<S: std::fmt::Debug, L: Limit> std::fmt::Debug for Timeout<S, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeout")
            .field("kind", &L::KIND)
            .field("default", &self.default)
            .field("inner", &self.inner)
            .finish()
    }
}

impl<S, L, B, R> Service<http::Request<B>> for Timeout<S, L>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Error: Into<BoxError>,
    L: Limit,
{
    type Response = http::Response<TimeoutBody<R>>;
    type Error = BoxError;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let (until, body) = L::arm(self.default, &mut request);
        let deadline = if L::MARKS_ANSWER {
            Deadline::of(&request)
        } else {
            None
        };
        TimeoutFuture {
            inner: self.inner.call(request),
            sleep: until.map(tokio::time::sleep_until),
            kind: L::KIND,
            body,
            deadline,
        }
    }
}

pin_project! {
    /// The inner future, failed with a timeout error if its answer's head
    /// has not come by its instant; the answer's body bounded as the limit
    /// says.
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
        kind: TimeoutKind,
        body: BodyBound,
        // The call's deadline, put on the answer for follow-ups of the call.
        deadline: Option<Deadline>,
    }
}

impl<F, R, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<TimeoutBody<R>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            let (kind, bound, deadline) = (*this.kind, *this.body, *this.deadline);
            return Poll::Ready(
                result
                    .map(|mut response| {
                        if let Some(deadline) = deadline {
                            response.extensions_mut().insert(deadline);
                        }
                        response.map(|body| TimeoutBody::new(body, bound, kind))
                    })
                    .map_err(Into::into),
            );
        }
        match this.sleep.as_pin_mut() {
            Some(sleep) => {
                ready!(sleep.poll(cx));
                Poll::Ready(Err(Box::new(TransportError::timeout(*this.kind))))
            }
            None => Poll::Pending,
        }
    }
}

impl<F> std::fmt::Debug for TimeoutFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutFuture")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
