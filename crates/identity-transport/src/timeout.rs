//! The two time limits of a call, as two layers over one mechanism.
//!
//! - [`TotalTimeoutLayer`], outside the retry layer: one [`Deadline`] for
//!   the whole call, every attempt and every wait included. It arms its own
//!   timer, so it bounds any service alone, and puts the deadline on the
//!   request for the layers below that must stop waiting at it.
//! - [`AttemptTimeoutLayer`], inside the retry and auth layers: the read
//!   timeout of one attempt (time to the answer's headers).
//!   [`HttpClient`](crate::HttpClient) applies the same read timeout to
//!   every piece of the body, and the deadline to the whole body, except
//!   for a request marked [`StreamedAnswer`](identity_call::StreamedAnswer),
//!   whose body only the read timeout bounds.
//!
//! Both race the inner future against a tokio `Sleep` ([`TimeoutFuture`])
//! and fail with a [`TransportError`] of kind
//! [`Timeout`](crate::TransportErrorKind::Timeout): [`TimeoutKind::Total`]
//! or [`TimeoutKind::Attempt`]. An attempt cut short by the deadline fails
//! with `Total`, as the retry layer must not try again then.

mod attempt;
mod total;

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::BoxError;

use crate::error::{TimeoutKind, TransportError};

pub(crate) use attempt::ReadTimeout;
pub use attempt::{AttemptTimeout, AttemptTimeoutLayer, DEFAULT_ATTEMPT_TIMEOUT};
pub use identity_call::Deadline;
pub use total::{DEFAULT_TOTAL_TIMEOUT, TotalTimeout, TotalTimeoutLayer};

pin_project! {
    /// The inner future, failed with a timeout error if it is not done by
    /// its instant.
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        sleep: Option<Sleep>,
        kind: TimeoutKind,
    }
}

impl<F> TimeoutFuture<F> {
    /// `inner`, cut at `until` (never, when `None`) with a `kind` timeout.
    pub(crate) fn new(inner: F, until: Option<Instant>, kind: TimeoutKind) -> Self {
        Self {
            inner,
            sleep: until.map(tokio::time::sleep_until),
            kind,
        }
    }
}

impl<F, T, E> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(result) = this.inner.poll(cx) {
            return Poll::Ready(result.map_err(Into::into));
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
