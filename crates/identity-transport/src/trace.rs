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
use identity_options::OperationInfo;
use pin_project_lite::pin_project;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use tracing::field::{Empty, display};

use crate::extensions::RetryAttempt;

/// The header where the service puts its id of the request.
const REQUEST_ID: &str = "lusid-meta-requestid";

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
                    operation = operation.map(|o| o.name),
                    path_template = operation.map(|o| o.path_template),
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
                    call.record("attempts", attempt.number);
                }
                tracing::debug_span!(
                    "identity.attempt",
                    attempt = attempt.number,
                    wait_ms = attempt.waited.as_secs_f64() * 1000.0,
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
                            .get(REQUEST_ID)
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
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::retry::{RetryConfig, RetryLayer};
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt;
    use tracing_subscriber::fmt::format::FmtSpan;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn answer(status: u16, request_id: &str) -> http::Response<()> {
        http::Response::builder()
            .status(status)
            .header("lusid-meta-requestId", request_id)
            .body(())
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn spans_of_a_call_and_its_attempts_without_secrets() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_span_events(FmtSpan::CLOSE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let (mock, mut handle) =
            tower_test::mock::pair::<http::Request<Bytes>, http::Response<()>>();
        let service = tower::ServiceBuilder::new()
            .layer(TraceLayer::call())
            .layer(RetryLayer::new(RetryConfig::default()))
            .layer(TraceLayer::attempt())
            .service(mock);
        let mut request =
            http::Request::get("http://127.0.0.1/api/users/ann%40example.com?filter=hush-query")
                .header("authorization", "Bearer hush-token")
                .body(Bytes::new())
                .unwrap();
        OperationInfo::new("GetUser", "/api/users/{id}", true).set_on(&mut request);
        let call = tokio::spawn(service.oneshot(request));
        let (_, respond) = handle.next_request().await.unwrap();
        respond.send_response(answer(503, "req-1"));
        let (_, respond) = handle.next_request().await.unwrap();
        respond.send_response(answer(200, "req-2"));
        assert_eq!(call.await.unwrap().unwrap().status(), 200);

        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let call_line = output
            .lines()
            .find(|line| {
                line.contains("identity.call{")
                    && !line.contains("identity.attempt{")
                    && line.contains("close")
            })
            .expect(&output);
        for field in [
            "operation=\"GetUser\"",
            "path_template=\"/api/users/{id}\"",
            "method=\"GET\"",
            "status=200",
            "attempts=2",
        ] {
            assert!(call_line.contains(field), "{field} missing in {call_line}");
        }
        let attempts: Vec<_> = output
            .lines()
            .filter(|line| {
                line.contains("identity.call{")
                    && line.contains("identity.attempt{")
                    && line.contains("close")
            })
            .collect();
        assert_eq!(attempts.len(), 2, "{output}");
        assert!(attempts[0].contains("attempt=1") && attempts[0].contains("status=503"));
        assert!(
            attempts[0].contains("request_id=\"req-1\"")
                || attempts[0].contains("request_id=req-1")
        );
        assert!(attempts[1].contains("attempt=2") && attempts[1].contains("status=200"));
        assert!(attempts[1].contains("req-2"));
        assert!(!output.contains("hush-token"), "{output}");
        assert!(!output.contains("hush-query"), "{output}");
        assert!(!output.contains("ann%40example.com"), "{output}");
    }

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
