//! Each timeout layer alone over a tower-test mock, on tokio's paused
//! clock: the answer's head and its body are bounded by the layer itself,
//! with no `HttpClient` underneath.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use identity_call::{RequestOptions, StreamedAnswer};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tower::{BoxError, Layer, ServiceExt};

use super::*;
use crate::error::{TransportError, TransportErrorKind};

/// A body whose pieces the test sends when it wants; it ends when the
/// sender is dropped, and stalls while the sender is kept and silent.
struct Drip(mpsc::UnboundedReceiver<Bytes>);

impl Body for Drip {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|bytes| Ok(Frame::data(bytes))))
    }
}

type Request = http::Request<Bytes>;
type Mock = tower_test::mock::Mock<Request, http::Response<Drip>>;
type Handle = tower_test::mock::Handle<Request, http::Response<Drip>>;

fn request() -> Request {
    http::Request::new(Bytes::new())
}

fn kind(error: &BoxError) -> TransportErrorKind {
    TransportError::from_box(error)
        .expect("a transport error")
        .kind()
}

const ATTEMPT: TransportErrorKind = TransportErrorKind::Timeout(TimeoutKind::Attempt);
const TOTAL: TransportErrorKind = TransportErrorKind::Timeout(TimeoutKind::Total);

/// Sends `request` through `layer` over the mock, answers with a body the
/// test drips, and returns what the mock received, the sender of the body,
/// and the answer.
async fn answer<L>(
    layer: L,
    request: Request,
) -> (
    Request,
    mpsc::UnboundedSender<Bytes>,
    http::Response<TimeoutBody<Drip>>,
)
where
    L: Layer<Mock>,
    L::Service: tower::Service<Request, Response = http::Response<TimeoutBody<Drip>>, Error = BoxError>
        + Send
        + 'static,
    <L::Service as tower::Service<Request>>::Future: Send,
{
    let (mock, mut handle): (Mock, Handle) = tower_test::mock::pair();
    let call = tokio::spawn(layer.layer(mock).oneshot(request));
    let (sent, respond) = handle.next_request().await.expect("a request");
    let (pieces, receiver) = mpsc::unbounded_channel();
    respond.send_response(http::Response::new(Drip(receiver)));
    let answer = call.await.expect("no panic").expect("an answer");
    (sent, pieces, answer)
}

/// The same, the answer's body alone.
async fn answered<L>(
    layer: L,
    request: Request,
) -> (Request, mpsc::UnboundedSender<Bytes>, TimeoutBody<Drip>)
where
    L: Layer<Mock>,
    L::Service: tower::Service<Request, Response = http::Response<TimeoutBody<Drip>>, Error = BoxError>
        + Send
        + 'static,
    <L::Service as tower::Service<Request>>::Future: Send,
{
    let (sent, pieces, answer) = answer(layer, request).await;
    (sent, pieces, answer.into_body())
}

/// Reads the body to its end or its error: the bytes read, the error, and
/// when it came.
async fn read(mut body: TimeoutBody<Drip>) -> (usize, Option<BoxError>, Instant) {
    let mut read = 0;
    loop {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(error)) => return (read, Some(error), Instant::now()),
            None => return (read, None, Instant::now()),
        }
    }
}

/// Sends a piece every `every`, `count` times, then keeps the body open
/// and silent (or ends it when `end`).
fn drip(pieces: mpsc::UnboundedSender<Bytes>, every: Duration, count: usize, end: bool) {
    tokio::spawn(async move {
        for _ in 0..count {
            tokio::time::sleep(every).await;
            let _ = pieces.send(Bytes::from_static(b"0123456789"));
        }
        if !end {
            std::future::pending::<()>().await;
        }
    });
}

async fn head_timeout<L>(layer: L, request: Request) -> (Duration, TransportErrorKind, Request)
where
    L: Layer<Mock>,
    L::Service: tower::Service<Request, Response = http::Response<TimeoutBody<Drip>>, Error = BoxError>
        + Send
        + 'static,
    <L::Service as tower::Service<Request>>::Future: Send,
{
    let (mock, mut handle): (Mock, Handle) = tower_test::mock::pair();
    let started = Instant::now();
    let call = tokio::spawn(layer.layer(mock).oneshot(request));
    let (sent, _respond) = handle.next_request().await.expect("a request");
    let error = call.await.expect("no panic").expect_err("a timeout");
    (started.elapsed(), kind(&error), sent)
}

// ----- the attempt timeout -----

#[tokio::test(start_paused = true)]
async fn an_attempt_ends_at_the_default_timeout_and_the_call_options_override_it() {
    let layer = AttemptTimeoutLayer::new(Duration::from_secs(60));
    let (elapsed, kind, _) = head_timeout(layer, request()).await;
    assert_eq!((elapsed, kind), (Duration::from_secs(60), ATTEMPT));

    let mut request = request();
    RequestOptions::new()
        .attempt_timeout(Duration::from_secs(2))
        .set_on(&mut request);
    let (elapsed, kind, _) = head_timeout(layer, request).await;
    assert_eq!((elapsed, kind), (Duration::from_secs(2), ATTEMPT));
}

#[tokio::test(start_paused = true)]
async fn the_attempt_timeout_knows_no_deadline() {
    // A deadline on the request is the total timeout's business: the
    // attempt timeout alone keeps its own limit.
    let mut request = request();
    Deadline::after(Duration::from_secs(3))
        .unwrap()
        .set_on(&mut request);
    let layer = AttemptTimeoutLayer::new(Duration::from_secs(10));
    let (elapsed, kind, _) = head_timeout(layer, request).await;
    assert_eq!((elapsed, kind), (Duration::from_secs(10), ATTEMPT));
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_ends_at_the_read_timeout_after_its_last_piece() {
    let layer = AttemptTimeoutLayer::new(Duration::from_secs(5));
    let (_, pieces, body) = answered(layer, request()).await;
    let started = Instant::now();
    // Pieces 4 s apart, each within the read timeout: the body lives on
    // long past it, then stalls.
    drip(pieces, Duration::from_secs(4), 6, false);
    let (read, error, at) = read(body).await;
    assert_eq!(read, 60);
    assert_eq!(kind(&error.expect("a timeout")), ATTEMPT);
    assert_eq!(at - started, Duration::from_secs(24 + 5));
}

#[tokio::test(start_paused = true)]
async fn a_body_that_ends_in_time_is_read_whole() {
    let layer = AttemptTimeoutLayer::new(Duration::from_secs(5));
    let (_, pieces, body) = answered(layer, request()).await;
    drip(pieces, Duration::from_secs(1), 3, true);
    let (read, error, _) = read(body).await;
    assert_eq!((read, error.is_none()), (30, true));
}

// ----- the total timeout -----

#[tokio::test(start_paused = true)]
async fn a_call_that_never_answers_ends_at_the_deadline_it_set() {
    let started = Instant::now();
    let layer = TotalTimeoutLayer::new(Duration::from_secs(5));
    let (elapsed, kind, sent) = head_timeout(layer, request()).await;
    assert_eq!((elapsed, kind), (Duration::from_secs(5), TOTAL));
    assert_eq!(
        Deadline::of(&sent).map(Deadline::instant),
        Some(started + Duration::from_secs(5))
    );
}

#[tokio::test(start_paused = true)]
async fn the_call_options_and_an_earlier_deadline_win() {
    let layer = TotalTimeoutLayer::new(Duration::from_secs(5));
    let mut short = request();
    RequestOptions::new()
        .total_timeout(Duration::from_millis(300))
        .set_on(&mut short);
    let (elapsed, _, _) = head_timeout(layer, short).await;
    assert_eq!(elapsed, Duration::from_millis(300));

    let earlier = Deadline::after(Duration::from_secs(1)).unwrap();
    let mut request = request();
    earlier.set_on(&mut request);
    let (elapsed, _, sent) = head_timeout(layer, request).await;
    assert_eq!(elapsed, Duration::from_secs(1));
    assert_eq!(Deadline::of(&sent), Some(earlier));
}

#[tokio::test(start_paused = true)]
async fn a_body_that_keeps_coming_stops_at_the_deadline() {
    let started = Instant::now();
    let layer = TotalTimeoutLayer::new(Duration::from_secs(10));
    let (_, pieces, body) = answered(layer, request()).await;
    // A piece a second: no silence, but the whole body is not in by 10 s.
    drip(pieces, Duration::from_secs(1), 100, true);
    let (read, error, at) = read(body).await;
    assert_eq!(kind(&error.expect("a timeout")), TOTAL);
    assert_eq!(at - started, Duration::from_secs(10));
    assert_eq!(read, 90, "the pieces of the first 9 s");
}

#[tokio::test(start_paused = true)]
async fn a_streamed_answer_outlives_the_deadline_while_pieces_keep_coming() {
    let layer = TotalTimeoutLayer::new(Duration::from_secs(10));
    let mut request = request();
    StreamedAnswer::set_on(&mut request);
    let (_, pieces, body) = answered(layer, request).await;
    drip(pieces, Duration::from_secs(1), 30, true);
    let (read, error, _) = read(body).await;
    assert_eq!((read, error.is_none()), (300, true));
}

#[tokio::test(start_paused = true)]
async fn a_streamed_answer_still_ends_at_a_silence_under_both_layers() {
    let started = Instant::now();
    let total = TotalTimeoutLayer::new(Duration::from_secs(10));
    let attempt = AttemptTimeoutLayer::new(Duration::from_secs(3));
    let layers = tower::ServiceBuilder::new().layer(total).layer(attempt);
    let (mock, mut handle): (Mock, Handle) = tower_test::mock::pair();
    let mut request = request();
    StreamedAnswer::set_on(&mut request);
    let call = tokio::spawn(layers.service(mock).oneshot(request));
    let (_, respond) = handle.next_request().await.unwrap();
    let (pieces, receiver) = mpsc::unbounded_channel();
    respond.send_response(http::Response::new(Drip(receiver)));
    let mut body = call.await.unwrap().unwrap().into_body();
    // Past the deadline on pieces 2 s apart, then silent.
    drip(pieces, Duration::from_secs(2), 8, false);
    let mut read = 0;
    let error = loop {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
            Some(Err(error)) => break error,
            None => panic!("the body ended"),
        }
    };
    assert_eq!(kind(&error), ATTEMPT);
    assert_eq!(read, 80);
    assert_eq!(started.elapsed(), Duration::from_secs(16 + 3));
}

/// The deadline the answer of a call through `layer` carries, when the
/// request had one of 3 s.
async fn deadline_on_answer<L>(layer: L) -> (Option<Deadline>, Deadline)
where
    L: Layer<Mock>,
    L::Service: tower::Service<Request, Response = http::Response<TimeoutBody<Drip>>, Error = BoxError>
        + Send
        + 'static,
    <L::Service as tower::Service<Request>>::Future: Send,
{
    let mut request = request();
    let deadline = Deadline::after(Duration::from_secs(3)).unwrap();
    deadline.set_on(&mut request);
    let (_, _pieces, answer) = answer(layer, request).await;
    (answer.extensions().get::<Deadline>().copied(), deadline)
}

#[tokio::test(start_paused = true)]
async fn the_total_timeouts_answer_carries_the_calls_deadline_and_the_attempts_none() {
    let (carried, deadline) =
        deadline_on_answer(TotalTimeoutLayer::new(Duration::from_secs(60))).await;
    assert_eq!(carried, Some(deadline), "for the calls that follow it up");
    let (carried, _) = deadline_on_answer(AttemptTimeoutLayer::new(Duration::from_secs(10))).await;
    assert_eq!(carried, None, "the attempt timeout knows no deadline");
}
