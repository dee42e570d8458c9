//! Tracing of calls and attempts: a span per call, and inside it a span
//! per attempt.
//!
//! The fields follow OpenTelemetry's conventions for HTTP clients, so that
//! `tracing-opentelemetry` exports the spans as a collector expects them:
//!
//! | field | on | value |
//! |---|---|---|
//! | `otel.name` | call | `GET /api/users/{id}`: the method and the path template |
//! | `otel.kind` | call, attempt | `client` |
//! | `identity.operation` | call | the contract's operation name, e.g. `GetUser` |
//! | `http.request.method` | call | `GET`, `POST`, ... |
//! | `url.template` | call | the operation's path template, never the path (it holds ids) |
//! | `server.address`, `server.port` | call | the service's host and port |
//! | `http.response.status_code` | call, attempt | the answer's status |
//! | `http.request.resend_count` | call, attempt | how many times the request was sent again (set from the second attempt on) |
//! | `error.type` | call, attempt | the kind of failure (`timeout`, `connect`, ...) or the error status (`503`) |
//! | `lusid.request_id` | attempt | the service's id of the request (`lusid-meta-requestId`) |
//! | `identity.wait_ms` | attempt | how long the retry layer waited before it |
//!
//! [`TraceLayer::call`] goes outside the retry layer (the facade puts it
//! first) and opens the `identity.call` span; [`TraceLayer::attempt`] goes
//! just above the HTTP client and opens an `identity.attempt` span inside it
//! for each attempt. Both are at DEBUG, as aws-sdk-rust's `invoke` span is:
//! an application's INFO logs get nothing per call (a service making
//! thousands of calls would drown in them), and a collector or a developer
//! turns them on with a filter such as `identity=debug`.
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
use tracing::field::Empty;

use crate::error::error_type;
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
                let name = operation.map(OperationInfo::name);
                let template = operation.map(OperationInfo::path_template);
                let method = request.method().as_str();
                let uri = request.uri();
                let span = tracing::debug_span!(
                    "identity.call",
                    "otel.name" = format_args!("{method} {}", template.unwrap_or("")),
                    "otel.kind" = "client",
                    "identity.operation" = name,
                    "http.request.method" = method,
                    "url.template" = template,
                    "server.address" = uri.host(),
                    "server.port" = uri.port_u16(),
                    "http.response.status_code" = Empty,
                    "http.request.resend_count" = Empty,
                    "error.type" = Empty,
                );
                if !span.is_disabled() {
                    request.extensions_mut().insert(CallSpan(span.clone()));
                }
                span
            }
            Scope::Attempt => {
                let attempt = RetryAttempt::of(&request);
                let resends = attempt.number().saturating_sub(1);
                if let Some(CallSpan(call)) = request.extensions().get::<CallSpan>()
                    && resends > 0
                {
                    call.record("http.request.resend_count", resends);
                }
                tracing::debug_span!(
                    "identity.attempt",
                    "otel.kind" = "client",
                    "http.request.resend_count" = (resends > 0).then_some(resends),
                    "identity.wait_ms" = attempt.waited().as_secs_f64() * 1000.0,
                    "http.response.status_code" = Empty,
                    "lusid.request_id" = Empty,
                    "error.type" = Empty,
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
                    let status = response.status();
                    this.span
                        .record("http.response.status_code", status.as_u16());
                    if status.is_client_error() || status.is_server_error() {
                        this.span.record("error.type", status.as_str());
                    }
                    if *this.scope == Scope::Attempt
                        && let Some(id) = response
                            .headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|v| v.to_str().ok())
                    {
                        this.span.record("lusid.request_id", id);
                    }
                }
                Err(error) => {
                    this.span.record("error.type", error_type(&**error));
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
