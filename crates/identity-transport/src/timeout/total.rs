//! The total-timeout layer: one deadline for the whole call.
//!
//! The deadline is the call's
//! [`RequestOptions`](identity_call::RequestOptions) total timeout from now,
//! else the layer's default; when the request already carries an earlier
//! [`Deadline`], that one stays. The layer arms its own timer for it, so it
//! bounds any inner service alone, and puts the deadline on the request for
//! the layers below that must stop waiting at it.

use std::task::{Context, Poll};
use std::time::Duration;

use identity_call::RequestOptions;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use super::{Deadline, TimeoutFuture};
use crate::error::TimeoutKind;

/// The default total timeout: 30 minutes, as the official SDKs.
///
/// Calls of the Identity API are small, and the attempt timeout and the
/// retry counts end a failing call long before: this limit is the backstop
/// that bounds a call whatever the other settings, not the usual way a call
/// ends.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Sets the call's [`Deadline`] and fails the call with
/// [`TimeoutKind::Total`] when it passes.
#[derive(Clone, Copy, Debug)]
pub struct TotalTimeoutLayer {
    default: Duration,
}

impl TotalTimeoutLayer {
    /// The layer, with `default` for calls that do not set their own.
    pub fn new(default: Duration) -> Self {
        Self { default }
    }
}

impl Default for TotalTimeoutLayer {
    fn default() -> Self {
        Self::new(DEFAULT_TOTAL_TIMEOUT)
    }
}

impl<S> Layer<S> for TotalTimeoutLayer {
    type Service = TotalTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TotalTimeout {
            inner,
            default: self.default,
        }
    }
}

/// The service of [`TotalTimeoutLayer`].
#[derive(Clone, Debug)]
pub struct TotalTimeout<S> {
    inner: S,
    default: Duration,
}

impl<S, B> Service<http::Request<B>> for TotalTimeout<S>
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
            .get_total_timeout()
            .unwrap_or(self.default);
        let deadline = match (Deadline::after(timeout), Deadline::of(&request)) {
            (Some(ours), Some(earlier)) => Some(ours.min(earlier)),
            (ours, earlier) => ours.or(earlier),
        };
        if let Some(deadline) = deadline {
            deadline.set_on(&mut request);
        }
        let until = deadline.map(Deadline::instant);
        TimeoutFuture::new(self.inner.call(request), until, TimeoutKind::Total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{TransportError, TransportErrorKind};
    use bytes::Bytes;
    use tokio::time::Instant;
    use tower::ServiceExt;

    type Mock = tower_test::mock::Mock<http::Request<Bytes>, http::Response<()>>;
    type Handle = tower_test::mock::Handle<http::Request<Bytes>, http::Response<()>>;

    fn service(default: Duration) -> (TotalTimeout<Mock>, Handle) {
        let (mock, handle) = tower_test::mock::pair();
        (TotalTimeoutLayer::new(default).layer(mock), handle)
    }

    fn request() -> http::Request<Bytes> {
        http::Request::new(Bytes::new())
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_answers_ends_at_the_total_timeout() {
        let (service, mut handle) = service(Duration::from_secs(5));
        let started = Instant::now();
        let call = tokio::spawn(service.oneshot(request()));
        let (sent, _respond) = handle.next_request().await.unwrap();
        let deadline = Deadline::of(&sent).unwrap();
        assert_eq!(deadline.instant(), started + Duration::from_secs(5));
        let error = call.await.unwrap().unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        let error = TransportError::from_box(&error).unwrap();
        assert_eq!(
            error.kind(),
            TransportErrorKind::Timeout(TimeoutKind::Total)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_call_options_override_the_default() {
        let (service, mut handle) = service(Duration::from_secs(5));
        let started = Instant::now();
        let mut request = request();
        RequestOptions::new()
            .total_timeout(Duration::from_millis(300))
            .set_on(&mut request);
        let call = tokio::spawn(service.oneshot(request));
        let (_sent, _respond) = handle.next_request().await.unwrap();
        assert!(call.await.unwrap().is_err());
        assert_eq!(started.elapsed(), Duration::from_millis(300));
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_deadline_on_the_request_stays() {
        let (service, mut handle) = service(Duration::from_secs(5));
        let earlier = Deadline::after(Duration::from_secs(1)).unwrap();
        let mut request = request();
        earlier.set_on(&mut request);
        let call = tokio::spawn(service.oneshot(request));
        let (sent, _respond) = handle.next_request().await.unwrap();
        assert_eq!(Deadline::of(&sent), Some(earlier));
        assert!(call.await.unwrap().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_in_time_passes_through() {
        let (service, mut handle) = service(Duration::from_secs(5));
        let call = tokio::spawn(service.oneshot(request()));
        let (_sent, respond) = handle.next_request().await.unwrap();
        respond.send_response(http::Response::builder().status(503).body(()).unwrap());
        assert_eq!(call.await.unwrap().unwrap().status(), 503);
    }
}
