//! The limits of ResponseBody, against a raw TCP server.

use std::time::Duration;

use http_body_util::BodyExt;
use identity_transport::{
    AttemptTimeoutLayer, Deadline, HttpClient, TimeoutKind, TransportErrorKind,
};
use tokio::time::Instant;
use tower::{Layer, ServiceExt};

use crate::support;

/// Guards a test against a hang: a failure, never a timing check.
async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("the test hung")
}

#[tokio::test]
async fn a_body_within_the_limit_is_read() {
    let addr =
        support::raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".to_vec())
            .await;
    let client = HttpClient::builder()
        .max_response_bytes(10)
        .build()
        .unwrap();
    let response = client
        .oneshot(support::get(&format!("http://{addr}/")))
        .await
        .unwrap();
    let body = bounded(response.into_body().collect())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body, "0123456789");
}

#[tokio::test]
async fn a_declared_length_over_the_limit_fails_before_reading() {
    // The server never sends the body: only the declared length can end this.
    let addr =
        support::raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec()).await;
    let client = HttpClient::builder()
        .max_response_bytes(100)
        .build()
        .unwrap();
    let response = client
        .oneshot(support::get(&format!("http://{addr}/")))
        .await
        .unwrap();
    let error = bounded(response.into_body().collect()).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
    assert!(error.to_string().contains("100 bytes"), "{error}");
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_stops_at_the_limit() {
    let chunk = vec![b'x'; 16 * 1024];
    let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..32 {
        answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        answer.extend_from_slice(&chunk);
        answer.extend_from_slice(b"\r\n");
    }
    // No last chunk: the body would go on for ever.
    let addr = support::raw_server(answer).await;
    let limit = 100 * 1024;
    let client = HttpClient::builder()
        .max_response_bytes(limit)
        .build()
        .unwrap();
    let response = client
        .oneshot(support::get(&format!("http://{addr}/")))
        .await
        .unwrap();
    let mut body = response.into_body();
    let mut passed_on = 0u64;
    let error = bounded(async {
        loop {
            match body.frame().await {
                Some(Ok(frame)) => passed_on += frame.into_data().map_or(0, |d| d.len() as u64),
                Some(Err(error)) => return error,
                None => panic!("the body ended"),
            }
        }
    })
    .await;
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge);
    assert!(passed_on <= limit, "{passed_on} bytes passed on");
    assert!(passed_on > limit / 2, "{passed_on} bytes passed on");
}

/// A body that stops after 10 of its 100 bytes, read through the client
/// (under an attempt-timeout layer when one is given), with `mark`
/// applied to the request.
async fn stalled_body(
    attempt_timeout: Option<Duration>,
    mark: impl FnOnce(&mut http::Request<bytes::Bytes>),
) -> (TransportErrorKind, Duration) {
    let addr =
        support::raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec())
            .await;
    let client = HttpClient::builder().connect_timeout(None).build().unwrap();
    let mut request = support::get(&format!("http://{addr}/"));
    mark(&mut request);
    let started = Instant::now();
    let response = match attempt_timeout {
        Some(timeout) => AttemptTimeoutLayer::new(timeout)
            .layer(client)
            .oneshot(request)
            .await
            .unwrap(),
        None => client.oneshot(request).await.unwrap(),
    };
    let error = response.into_body().collect().await.unwrap_err();
    (error.kind(), started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_ends_at_the_attempt_timeout_above() {
    let (kind, elapsed) = stalled_body(Some(Duration::from_secs(2)), |_| {}).await;
    assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Attempt));
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_ends_at_the_call_deadline() {
    let (kind, elapsed) = stalled_body(None, |request| {
        Deadline::after(Duration::from_secs(3))
            .unwrap()
            .set_on(request);
    })
    .await;
    assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Total));
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
}
