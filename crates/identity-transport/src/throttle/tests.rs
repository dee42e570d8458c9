//! Tests of the throttle on tokio's paused clock: over tower-test mocks for
//! each rule, and over a simulated token-bucket service for the whole
//! scheme (the figures over real sockets come from `cargo xtask bench
//! --fanout`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use identity_call::{Deadline, RequestOptions};
use tokio::time::Instant;
use tower::{BoxError, Layer, Service, ServiceExt};

use super::*;
use crate::error::{TransportError, TransportErrorKind};
use crate::retry::{Backoff, RetryConfig, RetryLayer};

type Request = http::Request<Bytes>;
type Response = http::Response<()>;
type Handle = tower_test::mock::Handle<Request, Response>;

fn request() -> Request {
    http::Request::new(Bytes::new())
}

fn answer(status: u16, retry_after: Option<&str>) -> Response {
    let mut builder = http::Response::builder().status(status);
    if let Some(wait) = retry_after {
        builder = builder.header("retry-after", wait);
    }
    builder.body(()).unwrap()
}

/// A throttle over a mock, and the mock's handle.
fn throttled(
    config: ThrottleConfig,
) -> (
    ThrottleLayer,
    Throttle<tower_test::mock::Mock<Request, Response>>,
    Handle,
) {
    let (mock, handle) = tower_test::mock::pair();
    let layer = ThrottleLayer::new(config);
    let service = layer.layer(mock);
    (layer, service, handle)
}

/// Starts `count` calls at once through `service`, each with `request()`.
fn start_calls<S>(
    service: &S,
    count: usize,
    make: impl Fn() -> Request,
) -> Vec<tokio::task::JoinHandle<Result<Response, BoxError>>>
where
    S: Service<Request, Response = Response, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    (0..count)
        .map(|_| tokio::spawn(service.clone().oneshot(make())))
        .collect()
}

/// Answers the next request with `response`, and says when it came.
async fn answer_next(handle: &mut Handle, response: Response) -> Instant {
    let (_, respond) = handle.next_request().await.expect("a request");
    respond.send_response(response);
    Instant::now()
}

/// Engages the pace: one call answered 429 with `retry_after`.
async fn engage(
    service: &Throttle<tower_test::mock::Mock<Request, Response>>,
    handle: &mut Handle,
    retry_after: &str,
) {
    let call = start_calls(service, 1, request);
    answer_next(handle, answer(429, Some(retry_after))).await;
    let throttled = call.into_iter().next().unwrap().await.unwrap().unwrap();
    assert_eq!(throttled.status(), 429);
}

#[tokio::test(start_paused = true)]
async fn calls_are_free_until_the_service_throttles() {
    let (layer, service, mut handle) = throttled(ThrottleConfig::default());
    let started = Instant::now();
    let calls = start_calls(&service, 10, request);
    for _ in 0..10 {
        answer_next(&mut handle, answer(200, None)).await;
    }
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().status(), 200);
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    let now = layer.snapshot();
    assert_eq!((now.pacing, now.succeeded, now.throttled), (false, 10, 0));
    // A 5xx or a failure is no throttling either.
    let calls = start_calls(&service, 2, request);
    answer_next(&mut handle, answer(503, None)).await;
    let (_, respond) = handle.next_request().await.unwrap();
    respond.send_error(TransportError::new(TransportErrorKind::Closed, "dropped"));
    for call in calls {
        let _ = call.await.unwrap();
    }
    assert!(!layer.snapshot().pacing);
}

#[tokio::test(start_paused = true)]
async fn once_throttled_calls_take_turns_an_interval_apart_after_the_wait_asked() {
    let (layer, service, mut handle) = throttled(ThrottleConfig::default());
    engage(&service, &mut handle, "0.05").await;
    let now = layer.snapshot();
    assert!(now.pacing);
    assert_eq!(now.rate, Some(20.0));
    let started = Instant::now();
    let calls = start_calls(&service, 5, request);
    let mut starts = Vec::new();
    for _ in 0..5 {
        starts.push(answer_next(&mut handle, answer(200, None)).await - started);
    }
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().status(), 200);
    }
    // The first waits out the Retry-After, then one call per interval, the
    // interval shrinking a little with each success (it probes).
    assert_eq!(starts[0], Duration::from_millis(50));
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap > Duration::from_millis(40) && gap <= Duration::from_millis(50),
            "{starts:?}"
        );
    }
    assert!(layer.snapshot().rate.unwrap() > 20.0);
}

#[tokio::test(start_paused = true)]
async fn a_paced_call_throttled_slows_the_pace_once_per_round() {
    let (layer, service, mut handle) = throttled(ThrottleConfig::default());
    engage(&service, &mut handle, "0.1").await;
    assert_eq!(layer.snapshot().rate, Some(10.0));
    // Three paced calls in flight at once, all throttled: only the first
    // 429 slows the pace; the others were sent at the old pace.
    let calls = start_calls(&service, 3, request);
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        in_flight.push(handle.next_request().await.unwrap().1);
    }
    for respond in in_flight {
        respond.send_response(answer(429, Some("0.01")));
    }
    for call in calls {
        let _ = call.await.unwrap();
    }
    let now = layer.snapshot();
    assert_eq!((now.decreases, now.throttled), (1, 4));
    let rate = now.rate.unwrap();
    assert!((rate - 10.0 * 0.85).abs() < 1e-6, "{rate}");
}

#[tokio::test(start_paused = true)]
async fn a_turn_past_the_deadline_ends_the_call_at_once_as_throttled_and_unsent() {
    let (layer, service, mut handle) = throttled(ThrottleConfig::default());
    engage(&service, &mut handle, "30").await;
    let mut request = request();
    Deadline::after(Duration::from_secs(10))
        .unwrap()
        .set_on(&mut request);
    let started = Instant::now();
    let error = service.clone().oneshot(request).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    let error = TransportError::from_box(&error).unwrap();
    assert_eq!(error.kind(), TransportErrorKind::Throttled);
    assert!(!error.may_have_been_sent());
    let wait = error.wait().unwrap();
    assert!(
        wait > Duration::from_secs(29) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );
    assert!(error.to_string().contains("30 s"), "{error}");
    assert_eq!(layer.snapshot().gave_up, 1);
    // Nothing reached the service.
    assert!(
        tokio::time::timeout(Duration::from_millis(1), handle.next_request())
            .await
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn a_turn_further_away_than_the_longest_wait_ends_the_call_at_once() {
    let (_, service, mut handle) = throttled(ThrottleConfig::default());
    engage(&service, &mut handle, "1000000000000").await;
    let mut request = request();
    RequestOptions::new()
        .longest_wait(Duration::from_secs(60))
        .set_on(&mut request);
    let started = Instant::now();
    let error = service.clone().oneshot(request).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::ZERO);
    let error = TransportError::from_box(&error).unwrap();
    assert_eq!(error.kind(), TransportErrorKind::Throttled);
    assert!(error.wait().unwrap() > Duration::from_secs(999_999_999));
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_behind_others_gives_up_at_its_deadline_as_throttled() {
    let (_, service, mut handle) = throttled(ThrottleConfig::default());
    engage(&service, &mut handle, "2").await;
    // The first in line waits for its turn at 2 s; the second waits in line
    // behind it, and its deadline comes first.
    let first = start_calls(&service, 1, request);
    tokio::task::yield_now().await;
    let mut late = request();
    Deadline::after(Duration::from_millis(800))
        .unwrap()
        .set_on(&mut late);
    let started = Instant::now();
    let second = tokio::spawn(service.clone().oneshot(late));
    let error = second.await.unwrap().unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_millis(800));
    assert_eq!(
        TransportError::from_box(&error).map(TransportError::kind),
        Some(TransportErrorKind::Throttled)
    );
    drop(first);
}

#[tokio::test(start_paused = true)]
async fn under_retry_a_call_that_gave_up_in_line_is_not_sent_round_again() {
    let (layer, service, mut handle) = throttled(ThrottleConfig::default());
    engage(&service, &mut handle, "0.5").await;
    // Ten calls in line, a turn each half second: the last one's at 5 s.
    let queued = start_calls(&service, 10, request);
    let answers = tokio::spawn(async move {
        let mut seen = 0;
        while let Some((_, respond)) = handle.next_request().await {
            respond.send_response(answer(200, None));
            seen += 1;
        }
        seen
    });
    tokio::task::yield_now().await;
    // Behind them, a call that waits 2 s at most: the service asked for
    // half a second, but its turn is further away than that.
    let retrying = RetryLayer::new(RetryConfig::default()).layer(service.clone());
    let mut request = request();
    RequestOptions::new()
        .longest_wait(Duration::from_secs(2))
        .set_on(&mut request);
    let started = Instant::now();
    let error = retrying.oneshot(request).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(
        TransportError::from_box(&error).map(TransportError::kind),
        Some(TransportErrorKind::Throttled)
    );
    assert_eq!(layer.snapshot().gave_up, 1, "given up once, not retried");
    for call in queued {
        assert_eq!(call.await.unwrap().unwrap().status(), 200);
    }
    drop(service);
    drop(layer);
    assert_eq!(
        answers.await.unwrap(),
        10,
        "only the ten reached the service"
    );
}

#[tokio::test(start_paused = true)]
async fn the_pace_eases_off_when_nothing_is_held_and_is_remembered() {
    let config = ThrottleConfig::default().ease_off(Duration::from_secs(10));
    let (layer, service, mut handle) = throttled(config);
    engage(&service, &mut handle, "0.05").await;
    tokio::time::advance(Duration::from_secs(11)).await;
    let calls = start_calls(&service, 3, request);
    let started = Instant::now();
    for _ in 0..3 {
        answer_next(&mut handle, answer(200, None)).await;
    }
    for call in calls {
        let _ = call.await.unwrap();
    }
    assert_eq!(started.elapsed(), Duration::ZERO, "free again");
    assert!(!layer.snapshot().pacing);
    // The next 429 takes up the pace it had, not the new Retry-After.
    engage(&service, &mut handle, "0.5").await;
    assert_eq!(layer.snapshot().rate, Some(20.0));
}

#[tokio::test(start_paused = true)]
async fn a_ceiling_paces_from_the_start_and_off_paces_nothing() {
    let (layer, service, mut handle) = throttled(ThrottleConfig::default().max_rate(4.0));
    assert!(layer.snapshot().pacing);
    let started = Instant::now();
    let calls = start_calls(&service, 3, request);
    let mut starts = Vec::new();
    for _ in 0..3 {
        starts.push(answer_next(&mut handle, answer(200, None)).await - started);
    }
    for call in calls {
        let _ = call.await.unwrap();
    }
    assert_eq!(
        starts,
        [0, 250, 500].map(Duration::from_millis),
        "never faster"
    );

    let (layer, service, mut handle) = throttled(ThrottleConfig::off());
    engage(&service, &mut handle, "5").await;
    let started = Instant::now();
    let calls = start_calls(&service, 3, request);
    for _ in 0..3 {
        answer_next(&mut handle, answer(200, None)).await;
    }
    for call in calls {
        let _ = call.await.unwrap();
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(!layer.snapshot().pacing);
}

/// A service limited as the emulator's `--rate-limit`: a token bucket of
/// `rate` calls, refilled at `rate` a second, answering 429 with the time
/// until it holds one call again; each answer takes 1 ms.
#[derive(Clone)]
struct TokenBucket {
    state: Arc<Mutex<(f64, Instant, u64, u64)>>,
    rate: f64,
}

impl TokenBucket {
    fn new(rate: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new((rate, Instant::now(), 0, 0))),
            rate,
        }
    }

    /// (answers of 200, answers of 429)
    fn counts(&self) -> (u64, u64) {
        let state = self.state.lock().unwrap();
        (state.2, state.3)
    }

    fn take(&self) -> Response {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        state.0 = (state.0 + (now - state.1).as_secs_f64() * self.rate).min(self.rate);
        state.1 = now;
        if state.0 >= 1.0 {
            state.0 -= 1.0;
            state.2 += 1;
            answer(200, None)
        } else {
            state.3 += 1;
            let wait = (1.0 - state.0) / self.rate;
            answer(
                429,
                Some(&format!("{:.3}", (wait * 1000.0).ceil() / 1000.0)),
            )
        }
    }
}

/// `calls` calls, `in_flight` at a time, through retry over the throttle
/// over the bucket: (succeeded, failed, 429s, elapsed).
async fn fan_out(calls: usize, in_flight: usize, rate: f64) -> (usize, usize, u64, Duration) {
    let bucket = TokenBucket::new(rate);
    let service = {
        let bucket = bucket.clone();
        tower::service_fn(move |_: Request| {
            let bucket = bucket.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                Ok::<_, BoxError>(bucket.take())
            }
        })
    };
    let stack = tower::ServiceBuilder::new()
        .layer(RetryLayer::new(RetryConfig::default().backoff(
            Backoff::exponential(Duration::from_millis(200), Duration::from_secs(10)),
        )))
        .layer(ThrottleLayer::default())
        .service(service);
    let started = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(0..calls)
        .map(|_| stack.clone().oneshot(request()))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let succeeded = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|a| a.status() == 200))
        .count();
    (
        succeeded,
        calls - succeeded,
        bucket.counts().1,
        started.elapsed(),
    )
}

#[tokio::test(start_paused = true)]
async fn a_fan_out_of_any_width_finishes_at_the_services_rate_with_few_429s() {
    // The ideal: (calls - burst) / rate = 9 s in each case.
    for (calls, in_flight, rate) in [
        (200, 1, 20.0),
        (200, 64, 20.0),
        (200, 256, 20.0),
        (2000, 256, 200.0),
    ] {
        let (succeeded, failed, throttled, elapsed) = fan_out(calls, in_flight, rate).await;
        let ideal = (calls as f64 - rate) / rate;
        let ratio = elapsed.as_secs_f64() / ideal;
        let allowed_429s = in_flight as u64 + calls as u64 / 20;
        println!(
            "{calls} calls, {in_flight} in flight at {rate}/s: {ratio:.3} x ideal, {throttled} 429s"
        );
        assert_eq!((succeeded, failed), (calls, 0));
        assert!(
            ratio <= 1.15,
            "{calls} at {in_flight}: {ratio:.3} x the ideal"
        );
        assert!(
            throttled <= allowed_429s,
            "{calls} at {in_flight}: {throttled} 429s"
        );
    }
}

/// How many of `calls` calls through `stack`, `in_flight` at a time, got 200.
async fn succeeded_of<S>(stack: S, calls: usize, in_flight: usize) -> usize
where
    S: Service<Request, Response = Response, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    let results: Vec<_> = futures_util::stream::iter(0..calls)
        .map(|_| stack.clone().oneshot(request()))
        .buffer_unordered(in_flight)
        .collect()
        .await;
    results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|a| a.status() == 200))
        .count()
}

/// A service that answers 429 (`Retry-After: 0.01`) to one call in
/// twenty at random, whatever the pace, as the soak's faults do.
fn throttling_at_random(
    seed: u64,
) -> impl Service<Request, Response = Response, Error = BoxError, Future: Send> + Clone + Send + 'static
{
    let state = Arc::new(Mutex::new(seed));
    tower::service_fn(move |_: Request| {
        let state = state.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            // A 64-bit LCG: enough randomness, and the same each run.
            let roll = {
                let mut x = state.lock().unwrap();
                *x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *x >> 33
            };
            Ok::<_, BoxError>(if roll % 20 == 0 {
                answer(429, Some("0.01"))
            } else {
                answer(200, None)
            })
        }
    })
}

#[tokio::test(start_paused = true)]
async fn throttled_answers_at_random_do_not_slow_the_pace_without_end() {
    let throttle = ThrottleLayer::default();
    let stack = tower::ServiceBuilder::new()
        .layer(crate::timeout::TotalTimeoutLayer::new(Duration::from_secs(
            2,
        )))
        .layer(RetryLayer::new(RetryConfig::default()))
        .layer(throttle.clone())
        .service(throttling_at_random(7));
    let results: Vec<_> = futures_util::stream::iter(0..3000)
        .map(|_| stack.clone().oneshot(request()))
        .buffer_unordered(16)
        .collect()
        .await;
    let failed = results
        .iter()
        .filter(|r| !r.as_ref().is_ok_and(|a| a.status() == 200))
        .count();
    let now = throttle.snapshot();
    assert_eq!(failed, 0, "{now:?}");
    // It paced from 100 calls/s (the first Retry-After); it may slow down,
    // to half the best second it saw, not to a crawl.
    assert!(now.rate.unwrap() >= 40.0, "{now:?}");
    assert!(now.decreases > 10, "{now:?}");
}

#[tokio::test(start_paused = true)]
async fn clients_sharing_one_limit_share_it_and_use_it() {
    // Four clients (four processes with one token), 1,000 calls each, 32
    // in flight each, against one bucket of 100 calls a second.
    let bucket = TokenBucket::new(100.0);
    let service = {
        let bucket = bucket.clone();
        tower::service_fn(move |_: Request| {
            let bucket = bucket.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                Ok::<_, BoxError>(bucket.take())
            }
        })
    };
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let stack = tower::ServiceBuilder::new()
                .layer(RetryLayer::new(RetryConfig::default()))
                .layer(ThrottleLayer::default())
                .service(service.clone());
            tokio::spawn(succeeded_of(stack, 1000, 32))
        })
        .collect();
    let mut succeeded = 0;
    for client in clients {
        succeeded += client.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate_after_burst = (4000.0 - 100.0) / elapsed;
    println!(
        "4 clients: {rate_after_burst:.1} calls/s of 100, {} 429s",
        bucket.counts().1
    );
    assert_eq!(succeeded, 4000);
    assert!(rate_after_burst >= 90.0, "{rate_after_burst:.1} calls/s");
}
