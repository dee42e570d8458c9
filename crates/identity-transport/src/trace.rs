//! Tracing of calls and attempts: a span per call, and inside it a span
//! per attempt.
//!
//! [`TraceLayer::call`] goes outside the retry layer (the facade puts it
//! first) and opens an `identity.call` span (INFO) with the operation's
//! name and path template (from its
//! [`OperationInfo`]), the method, and,
//! when the call ends, its status, its number of attempts and its error.
//! [`TraceLayer::attempt`] goes just above the HTTP client and opens an
//! `identity.attempt` span (DEBUG) with the attempt's number, the wait
//! before it, and its status, error and the service's request id
//! (`lusid-meta-requestId`).
//!
//! Nothing else is recorded: never a header value (the `Authorization`
//! header least of all), a path (it may hold an id) nor a query. With no
//! subscriber, or one that filters the spans out, the layers cost a check.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use identity_call::{OperationInfo, REQUEST_ID_HEADER};
use pin_project_lite::pin_project;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use tracing::field::{Empty, display};

use crate::retry::RetryAttempt;

/// Opens a span per call ([`TraceLayer::call`]) or per attempt
/// ([`TraceLayer::attempt`]).
#[derive(Clone, Copy, Debug)]
pub struct TraceLayer {
    scope: Scope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Call,
    Attempt,
}

/// The call's span, so that attempts can count themselves on it.
#[derive(Clone, Debug)]
struct CallSpan(Span);

impl TraceLayer {
    /// The layer of the `identity.call` span, outside the retry layer.
    pub fn call() -> Self {
        Self { scope: Scope::Call }
    }

    /// The layer of the `identity.attempt` spans, just above the client.
    pub fn attempt() -> Self {
        Self {
            scope: Scope::Attempt,
        }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Trace {
            inner,
            scope: self.scope,
        }
    }
}

/// The service of [`TraceLayer`].
#[derive(Clone, Debug)]
pub struct Trace<S> {
    inner: S,
    scope: Scope,
}

impl<S, B> Service<http::Request<Bytes>> for Trace<S>
where
    S: Service<http::Request<Bytes>, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<B>;
    type Error = BoxError;
    type Future = TraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: http::Request<Bytes>) -> Self::Future {
        let span = match self.scope {
            Scope::Call => {
                let operation = OperationInfo::of(&request);
                let span = tracing::info_span!(
                    "identity.call",
                    operation = operation.map(|o| o.name()),
                    path_template = operation.map(|o| o.path_template()),
                    method = request.method().as_str(),
                    status = Empty,
                    attempts = Empty,
                    error = Empty,
                );
                if !span.is_disabled() {
                    request.extensions_mut().insert(CallSpan(span.clone()));
                }
                span
            }
            Scope::Attempt => {
                let attempt = RetryAttempt::of(&request);
                if let Some(CallSpan(call)) = request.extensions().get::<CallSpan>() {
                    call.record("attempts", attempt.number());
                }
                tracing::debug_span!(
                    "identity.attempt",
                    attempt = attempt.number(),
                    wait_ms = attempt.waited().as_secs_f64() * 1000.0,
                    status = Empty,
                    request_id = Empty,
                    error = Empty,
                )
            }
        };
        let inner = span.in_scope(|| self.inner.call(request));
        TraceFuture {
            inner,
            span,
            scope: self.scope,
        }
    }
}

pin_project! {
    /// The future of [`Trace`]: the inner future inside its span.
    pub struct TraceFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        scope: Scope,
    }
}

impl<F, B, E> Future for TraceFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = ready!(this.inner.poll(cx)).map_err(Into::into);
        if !this.span.is_disabled() {
            match &result {
                Ok(response) => {
                    this.span.record("status", response.status().as_u16());
                    if *this.scope == Scope::Attempt
                        && let Some(id) = response
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|v| v.to_str().ok())
                    {
                        this.span.record("request_id", id);
                    }
                }
                Err(error) => {
                    this.span.record("error", display(error));
                }
            }
        }
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for TraceFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn errors_pass_through_unchanged() {
        let (mock, mut handle) =
            tower_test::mock::pair::<http::Request<Bytes>, http::Response<()>>();
        let service = TraceLayer::call().layer(TraceLayer::attempt().layer(mock));
        let call = tokio::spawn(service.oneshot(http::Request::new(Bytes::new())));
        let (_, respond) = handle.next_request().await.unwrap();
        respond.send_error(crate::TransportError::timeout(crate::TimeoutKind::Attempt));
        let error = call.await.unwrap().unwrap_err();
        assert_eq!(
            crate::TransportError::from_box(&error).map(crate::TransportError::kind),
            Some(crate::TransportErrorKind::Timeout(
                crate::TimeoutKind::Attempt
            ))
        );
    }
}
