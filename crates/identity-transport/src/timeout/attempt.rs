//! The attempt-timeout layer: the read timeout of one attempt.
//!
//! The timeout is the call's
//! [`RequestOptions::attempt_timeout`](identity_options::RequestOptions::attempt_timeout),
//! else the layer's default. It bounds the wait for the answer's headers,
//! clipped to the call's [`Deadline`]; the layer also leaves it in the
//! request as a [`ReadTimeout`] so that [`HttpClient`](crate::HttpClient)
//! bounds every wait for the body with it.

use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use identity_options::RequestOptions;
use tokio::time::Instant;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use super::TimeoutFuture;
use crate::error::TimeoutKind;
use crate::extensions::{Deadline, ReadTimeout};

/// The default attempt (read) timeout: 60 s.
///
/// The official SDKs have none by default; without one, a service or a
/// proxy that accepts a request and never answers holds the call until the
/// total timeout, 30 minutes later. One minute is far longer than any
/// Identity call takes, and a timed-out attempt of an idempotent call is
/// retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

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

impl<S, B> Service<http::Request<Bytes>> for AttemptTimeout<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<B>;
    type Error = BoxError;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<Bytes>) -> Self::Future {
        let from_options = RequestOptions::of(&request).attempt_timeout;
        let timeout = from_options.unwrap_or(self.default);
        if from_options != Some(timeout) {
            ReadTimeout(timeout).set_on(&mut request);
        }
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
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::error::{TransportError, TransportErrorKind};
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
