//! The limits of ResponseBody, against a raw TCP server.

use std::time::Duration;

use http_body_util::BodyExt;
use identity_call::StreamedAnswer;
use identity_transport::{
    AttemptTimeoutLayer, HttpClient, TimeoutKind, TotalTimeoutLayer, TransportError,
    TransportErrorKind,
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

/// A 200 whose chunked body is `chunks` chunks of 16 KiB, then its end
/// when `ends`.
fn chunked_answer(chunks: usize, ends: bool) -> Vec<u8> {
    let chunk = vec![b'x'; 16 * 1024];
    let mut answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..chunks {
        answer.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        answer.extend_from_slice(&chunk);
        answer.extend_from_slice(b"\r\n");
    }
    if ends {
        answer.extend_from_slice(b"0\r\n\r\n");
    }
    answer
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_stops_at_the_limit() {
    // No last chunk: the body would go on for ever.
    let addr = support::raw_server(chunked_answer(32, false)).await;
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

/// The error of a body that stops after 10 of its 100 bytes, read through
/// the client under a timeout layer (`Attempt` of 2 s or `Total` of 3 s),
/// and when it came.
async fn stalled_body(kind: TimeoutKind) -> (TransportErrorKind, Duration) {
    let addr =
        support::raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec())
            .await;
    let client = HttpClient::builder().connect_timeout(None).build().unwrap();
    let request = support::get(&format!("http://{addr}/"));
    let started = Instant::now();
    let body = match kind {
        TimeoutKind::Attempt => AttemptTimeoutLayer::new(Duration::from_secs(2))
            .layer(client)
            .oneshot(request)
            .await
            .unwrap()
            .into_body(),
        _ => TotalTimeoutLayer::new(Duration::from_secs(3))
            .layer(client)
            .oneshot(request)
            .await
            .unwrap()
            .into_body(),
    };
    let error = body.collect().await.unwrap_err();
    (kind_of(&error), started.elapsed())
}

fn kind_of(error: &tower::BoxError) -> TransportErrorKind {
    TransportError::from_box(error)
        .expect("a transport error")
        .kind()
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_ends_at_the_attempt_timeout_above() {
    let (kind, elapsed) = stalled_body(TimeoutKind::Attempt).await;
    assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Attempt));
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_ends_at_the_call_deadline_above() {
    let (kind, elapsed) = stalled_body(TimeoutKind::Total).await;
    assert_eq!(kind, TransportErrorKind::Timeout(TimeoutKind::Total));
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn a_streamed_answer_is_not_held_to_the_whole_body_limit() {
    let addr = support::raw_server(chunked_answer(32, true)).await;
    let client = HttpClient::builder()
        .max_response_bytes(100 * 1024)
        .build()
        .unwrap();
    let mut request = support::get(&format!("http://{addr}/"));
    StreamedAnswer::set_on(&mut request);
    let response = client.oneshot(request).await.unwrap();
    let body = bounded(response.into_body().collect())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(body.len(), 32 * 16 * 1024);
}

/// A server that answers with a head, then `pieces` pieces of a chunked
/// body each `pause` after the last, then the body's end.
async fn dripping_server(pieces: usize, pause: Duration) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 1024];
        let _ = stream.read(&mut head).await.unwrap();
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        stream.write_all(head).await.unwrap();
        for _ in 0..pieces {
            tokio::time::sleep(pause).await;
            stream.write_all(b"2\r\nab\r\n").await.unwrap();
        }
        stream.write_all(b"0\r\n\r\n").await.unwrap();
        let mut sink = [0u8; 64];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    addr
}

/// Reads the body of a GET to `addr` through an attempt timeout of 5 s
/// under a total timeout of 3 s, the request marked [`StreamedAnswer`]
/// when `streamed`.
async fn read_under_a_deadline(
    addr: std::net::SocketAddr,
    streamed: bool,
) -> Result<bytes::Bytes, TransportErrorKind> {
    let client = HttpClient::builder().connect_timeout(None).build().unwrap();
    let mut request = support::get(&format!("http://{addr}/"));
    if streamed {
        StreamedAnswer::set_on(&mut request);
    }
    let response = tower::ServiceBuilder::new()
        .layer(TotalTimeoutLayer::new(Duration::from_secs(3)))
        .layer(AttemptTimeoutLayer::new(Duration::from_secs(5)))
        .service(client)
        .oneshot(request)
        .await
        .unwrap();
    match response.into_body().collect().await {
        Ok(body) => Ok(body.to_bytes()),
        Err(error) => Err(kind_of(&error)),
    }
}

#[tokio::test(start_paused = true)]
async fn a_streamed_answer_outlives_the_call_deadline_while_pieces_keep_coming() {
    // Ten pieces 2 s apart: 20 s of body, past the 3 s deadline, never
    // a 5 s silence.
    let started = Instant::now();
    let body = read_under_a_deadline(dripping_server(10, Duration::from_secs(2)).await, true).await;
    assert_eq!(body.unwrap(), "ab".repeat(10));
    assert!(started.elapsed() >= Duration::from_secs(20));

    // The same body, not streamed, ends at the deadline.
    let body =
        read_under_a_deadline(dripping_server(10, Duration::from_secs(2)).await, false).await;
    assert_eq!(body, Err(TransportErrorKind::Timeout(TimeoutKind::Total)));
}

#[tokio::test(start_paused = true)]
async fn a_streamed_answer_ends_at_a_silence_longer_than_the_read_timeout() {
    // One piece after 2 s, then 6 s of silence before the next.
    let addr = dripping_server(2, Duration::from_secs(6)).await;
    let body = read_under_a_deadline(addr, true).await;
    assert_eq!(body, Err(TransportErrorKind::Timeout(TimeoutKind::Attempt)));
}
