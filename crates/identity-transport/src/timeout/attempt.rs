//! The attempt-timeout layer: the read timeout of one attempt.
//!
//! The timeout is the call's
//! [`RequestOptions`](identity_call::RequestOptions) attempt timeout, else
//! the layer's default. It bounds the wait for the answer's headers; an
//! attempt that the call's [`Deadline`] cuts shorter fails as a total
//! timeout, which the retry layer does not retry. The layer also leaves the
//! timeout on the request as a [`ReadTimeout`] so that
//! [`HttpClient`](crate::HttpClient) bounds every wait for the body with it.

use std::task::{Context, Poll};
use std::time::Duration;

use identity_call::RequestOptions;
use tokio::time::Instant;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use super::{Deadline, TimeoutFuture};
use crate::error::TimeoutKind;

/// The default attempt (read) timeout: 60 s.
///
/// The official SDKs have none by default; without one, a service or a
/// proxy that accepts a request and never answers holds the call until the
/// total timeout, 30 minutes later. One minute is far longer than any
/// Identity call takes, and a timed-out attempt of an idempotent call is
/// retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The read timeout of one attempt, set by the attempt-timeout layer for
/// [`HttpClient`](crate::HttpClient): it bounds the wait for every piece of
/// the answer's body, as the attempt timeout bounds the wait for its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadTimeout(pub(crate) Duration);

impl ReadTimeout {
    /// The read timeout a request carries, if any.
    pub(crate) fn of<B>(request: &http::Request<B>) -> Option<Duration> {
        request
            .extensions()
            .get::<ReadTimeout>()
            .map(|timeout| timeout.0)
    }
}

/// Fails an attempt with [`TimeoutKind::Attempt`] when its answer does not
/// come within the read timeout (with [`TimeoutKind::Total`] when the
/// call's deadline comes first).
#[derive(Clone, Copy, Debug)]
pub struct AttemptTimeoutLayer {
    default: Duration,
}

impl AttemptTimeoutLayer {
    /// The layer, with `default` for calls that do not set their own.
    pub fn new(default: Duration) -> Self {
        Self { default }
    }
}

impl Default for AttemptTimeoutLayer {
    fn default() -> Self {
        Self::new(DEFAULT_ATTEMPT_TIMEOUT)
    }
}

impl<S> Layer<S> for AttemptTimeoutLayer {
    type Service = AttemptTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AttemptTimeout {
            inner,
            default: self.default,
        }
    }
}

/// The service of [`AttemptTimeoutLayer`].
#[derive(Clone, Debug)]
pub struct AttemptTimeout<S> {
    inner: S,
    default: Duration,
}

impl<S, B> Service<http::Request<B>> for AttemptTimeout<S>
where
    S: Service<http::Request<B>>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let timeout = RequestOptions::of(&request)
            .get_attempt_timeout()
            .unwrap_or(self.default);
        request.extensions_mut().insert(ReadTimeout(timeout));
        let attempt_ends = Instant::now().checked_add(timeout);
        let (until, kind) = match (attempt_ends, Deadline::of(&request).map(Deadline::instant)) {
            (Some(ends), Some(deadline)) if ends < deadline => (Some(ends), TimeoutKind::Attempt),
            (_, Some(deadline)) => (Some(deadline), TimeoutKind::Total),
            (ends, None) => (ends, TimeoutKind::Attempt),
        };
        TimeoutFuture::new(self.inner.call(request), until, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{TransportError, TransportErrorKind};
    use bytes::Bytes;
    use tower::ServiceExt;

    type Handle = tower_test::mock::Handle<http::Request<Bytes>, http::Response<()>>;

    async fn timeout_of(
        request: http::Request<Bytes>,
    ) -> (Duration, TransportErrorKind, http::Request<Bytes>) {
        let (mock, mut handle): (_, Handle) = tower_test::mock::pair();
        let service = AttemptTimeoutLayer::new(Duration::from_secs(60)).layer(mock);
        let started = Instant::now();
        let call = tokio::spawn(service.oneshot(request));
        let (sent, _respond) = handle.next_request().await.unwrap();
        let error = call.await.unwrap().unwrap_err();
        let kind = TransportError::from_box(&error).unwrap().kind();
        (started.elapsed(), kind, sent)
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_ends_at_the_default_timeout() {
        let (elapsed, kind, sent) = timeout_of(http::Request::new(Bytes::new())).await;
        assert_eq!(elapsed, Duration::from_secs(60));
        assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Attempt));
        assert_eq!(ReadTimeout::of(&sent), Some(Duration::from_secs(60)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_call_options_override_the_default() {
        let mut request = http::Request::new(Bytes::new());
        RequestOptions::new()
            .attempt_timeout(Duration::from_secs(2))
            .set_on(&mut request);
        let (elapsed, kind, sent) = timeout_of(request).await;
        assert_eq!(elapsed, Duration::from_secs(2));
        assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Attempt));
        assert_eq!(ReadTimeout::of(&sent), Some(Duration::from_secs(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_is_clipped_to_the_deadline_and_then_fails_as_total() {
        let mut request = http::Request::new(Bytes::new());
        Deadline::after(Duration::from_secs(3))
            .unwrap()
            .set_on(&mut request);
        let (elapsed, kind, _) = timeout_of(request).await;
        assert_eq!(elapsed, Duration::from_secs(3));
        assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Total));
    }
}
