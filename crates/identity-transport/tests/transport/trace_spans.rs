//! The spans of the trace layers, read through a real `tracing` subscriber.
//!
//! The subscriber is this test's thread's default only, never the global
//! one. Other tests of this binary run the same layers at the same time on
//! other threads without a subscriber, and `tracing` caches per call site,
//! process-wide, whether a span is wanted: set with a plain `set_default`,
//! this subscriber could find the spans cached as "never" by one of them
//! (it happened once in CI). Made with [`support::scoped_dispatch`], it
//! leaves that choice to each thread's own default.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use identity_call::OperationInfo;
use identity_transport::{RetryConfig, RetryLayer, TraceLayer};
use tower::{Layer, ServiceExt};
use tracing_subscriber::fmt::format::FmtSpan;

use crate::support;

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
    let _guard = tracing::dispatcher::set_default(&support::scoped_dispatch(subscriber));

    let (mock, mut handle) = tower_test::mock::pair::<http::Request<Bytes>, http::Response<()>>();
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
        "otel.name=GET /api/users/{id}",
        "otel.kind=\"client\"",
        "identity.operation=\"GetUser\"",
        "url.template=\"/api/users/{id}\"",
        "http.request.method=\"GET\"",
        "server.address=\"127.0.0.1\"",
        "http.response.status_code=200",
        "http.request.resend_count=1",
    ] {
        assert!(call_line.contains(field), "{field} missing in {call_line}");
    }
    assert!(
        call_line.contains("DEBUG"),
        "the call span is at DEBUG: {call_line}"
    );
    let attempts: Vec<_> = output
        .lines()
        .filter(|line| {
            line.contains("identity.call{")
                && line.contains("identity.attempt{")
                && line.contains("close")
        })
        .collect();
    assert_eq!(attempts.len(), 2, "{output}");
    let first = attempts[0];
    assert!(first.contains("http.response.status_code=503"), "{first}");
    assert!(first.contains("error.type=\"503\""), "{first}");
    assert!(!first.contains("resend_count"), "{first}");
    assert!(
        first.contains("lusid.request_id=\"req-1\"") || first.contains("lusid.request_id=req-1"),
        "{first}"
    );
    let second = attempts[1];
    assert!(second.contains("http.response.status_code=200"), "{second}");
    assert!(second.contains("http.request.resend_count=1"), "{second}");
    assert!(second.contains("req-2"), "{second}");
    assert!(!output.contains("hush-token"), "{output}");
    assert!(!output.contains("hush-query"), "{output}");
    assert!(!output.contains("ann%40example.com"), "{output}");
}

#[tokio::test(start_paused = true)]
async fn a_failure_is_named_by_its_kind_in_error_type() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::dispatcher::set_default(&support::scoped_dispatch(subscriber));

    let (mock, mut handle) = tower_test::mock::pair::<http::Request<Bytes>, http::Response<()>>();
    let service = TraceLayer::call().layer(mock);
    let call = tokio::spawn(service.oneshot(http::Request::new(Bytes::new())));
    let (_, respond) = handle.next_request().await.unwrap();
    respond.send_error(identity_transport::TransportError::timeout(
        identity_transport::TimeoutKind::Attempt,
    ));
    assert!(call.await.unwrap().is_err());
    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        output.contains("error.type=\"attempt_timeout\""),
        "{output}"
    );
}
