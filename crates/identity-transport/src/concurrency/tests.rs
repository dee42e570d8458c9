//! Tests of the adaptive concurrency layer over tower-test mocks, on
//! tokio's paused clock: pauses are exact and no test sleeps for real.

use std::time::Duration;

use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

use super::*;

type Request = http::Request<()>;
type Response = http::Response<()>;
type Mock = tower_test::mock::Mock<Request, Response>;
type Handle = tower_test::mock::Handle<Request, Response>;
type Limited = AdaptiveConcurrency<Mock>;

fn service(config: AdaptiveConcurrencyConfig) -> (AdaptiveConcurrencyLayer, Limited, Handle) {
    let (mock, handle) = tower_test::mock::pair();
    let layer = AdaptiveConcurrencyLayer::new(config);
    let service = layer.layer(mock);
    (layer, service, handle)
}

fn answer(status: u16, retry_after: Option<&str>) -> Response {
    let mut response = http::Response::builder().status(status);
    if let Some(wait) = retry_after {
        response = response.header(http::header::RETRY_AFTER, wait);
    }
    response.body(()).unwrap()
}

/// Whether `service` can take a call within an hour of the paused clock
/// (which jumps ahead when nothing else can run: no real wait).
async fn ready_within_an_hour(service: &mut Limited) -> bool {
    tokio::time::timeout(Duration::from_secs(3600), service.ready())
        .await
        .is_ok()
}

/// Sends `n` calls at once (each on its own clone), then answers them all
/// with `status`.
async fn round(service: &Limited, handle: &mut Handle, n: usize, status: u16) {
    let mut calls = Vec::new();
    for _ in 0..n {
        let mut clone = service.clone();
        clone.ready().await.unwrap();
        calls.push(clone.call(http::Request::new(())));
    }
    for _ in 0..n {
        let (_, reply) = handle.next_request().await.unwrap();
        reply.send_response(answer(status, None));
    }
    for call in calls {
        let _ = call.await;
    }
}

/// Sends one call and answers it with `status` and `retry_after`.
async fn one(service: &mut Limited, handle: &mut Handle, status: u16, retry_after: Option<&str>) {
    let call = service.ready().await.unwrap().call(http::Request::new(()));
    let (_, reply) = handle.next_request().await.unwrap();
    reply.send_response(answer(status, retry_after));
    call.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_limit_grows_while_calls_succeed_and_never_passes_the_maximum() {
    let (layer, service, mut handle) = service(
        AdaptiveConcurrencyConfig::default()
            .initial_limit(2)
            .max_limit(10),
    );
    let mut limits = vec![layer.snapshot().limit];
    for _ in 0..6 {
        let limit = layer.snapshot().limit;
        round(&service, &mut handle, limit, 200).await;
        limits.push(layer.snapshot().limit);
    }
    // Slow start: up by one per busy success, so about double per round,
    // up to the maximum and no further.
    assert_eq!(limits, [2, 4, 7, 10, 10, 10, 10]);
    let now = layer.snapshot();
    assert_eq!(now.in_flight, 0);
    assert_eq!(now.decreases, 0);
    assert_eq!(now.succeeded, 2 + 4 + 7 + 10 + 10 + 10);
}

#[tokio::test(start_paused = true)]
async fn calls_that_leave_the_limit_mostly_unused_do_not_raise_it() {
    let (layer, mut service, mut handle) =
        service(AdaptiveConcurrencyConfig::default().initial_limit(8));
    for _ in 0..20 {
        one(&mut service, &mut handle, 200, None).await;
    }
    assert_eq!(layer.snapshot().limit, 8);
    assert_eq!(layer.snapshot().succeeded, 20);
}

#[tokio::test(start_paused = true)]
async fn a_429_halves_the_limit_once_per_round_and_never_below_one() {
    let (layer, mut service, mut handle) = service(
        AdaptiveConcurrencyConfig::default()
            .initial_limit(16)
            .max_limit(16),
    );
    one(&mut service, &mut handle, 429, None).await;
    assert_eq!(layer.snapshot().limit, 8);

    // Eight calls started at the new limit, all throttled: one halving.
    round(&service, &mut handle, 8, 429).await;
    assert_eq!(layer.snapshot().limit, 4);
    assert_eq!(layer.snapshot().decreases, 2);
    assert_eq!(layer.snapshot().throttled, 9);

    for expected in [2, 1, 1, 1] {
        one(&mut service, &mut handle, 429, None).await;
        assert_eq!(layer.snapshot().limit, expected);
    }
    // At the floor, a call still goes through.
    assert!(ready_within_an_hour(&mut service).await);
}

#[tokio::test(start_paused = true)]
async fn after_a_decrease_the_limit_grows_by_one_per_round() {
    let (layer, service, mut handle) = service(
        AdaptiveConcurrencyConfig::default()
            .initial_limit(8)
            .max_limit(64),
    );
    round(&service, &mut handle, 1, 429).await;
    assert_eq!(layer.snapshot().limit, 4);
    // Congestion avoidance: each busy success adds 1/limit.
    round(&service, &mut handle, 4, 200).await;
    assert_eq!(layer.snapshot().limit, 4, "three busy successes: about 4.7");
    round(&service, &mut handle, 4, 200).await;
    assert_eq!(layer.snapshot().limit, 5);
}

#[tokio::test(start_paused = true)]
async fn no_more_calls_than_the_limit_are_in_flight() {
    let (layer, service, mut handle) = service(AdaptiveConcurrencyConfig::fixed(3));
    let mut holding = Vec::new();
    for _ in 0..3 {
        let mut clone = service.clone();
        clone.ready().await.unwrap();
        holding.push(clone);
    }
    assert_eq!(layer.snapshot().in_flight, 3);
    let mut fourth = service.clone();
    assert!(!ready_within_an_hour(&mut fourth).await, "a fourth place");

    // A call that ends gives its place back.
    let mut first = holding.remove(0);
    let call = first.call(http::Request::new(()));
    let (_, reply) = handle.next_request().await.unwrap();
    reply.send_response(answer(200, None));
    call.await.unwrap();
    assert!(ready_within_an_hour(&mut fourth).await);
    assert_eq!(layer.snapshot().in_flight, 3);

    // So does a service dropped with its place, and a call dropped before
    // its answer (which leaves the limit as it is).
    drop(holding.remove(0));
    assert_eq!(layer.snapshot().in_flight, 2);
    let call = holding.remove(0).call(http::Request::new(()));
    let _request = handle.next_request().await.unwrap();
    drop(call);
    assert_eq!(layer.snapshot().in_flight, 1);
    assert_eq!(layer.snapshot().limit, 3);
}

#[tokio::test(start_paused = true)]
async fn a_decrease_takes_places_back_as_calls_end() {
    let (layer, service, mut handle) =
        service(AdaptiveConcurrencyConfig::default().initial_limit(4));
    let mut calls = Vec::new();
    for _ in 0..4 {
        let mut clone = service.clone();
        clone.ready().await.unwrap();
        calls.push(clone.call(http::Request::new(())));
    }
    let mut replies = Vec::new();
    for _ in 0..4 {
        replies.push(handle.next_request().await.unwrap().1);
    }
    // The first answer is a 429: the limit is 2 while 3 calls are still
    // in flight.
    replies.remove(0).send_response(answer(429, None));
    calls.remove(0).await.unwrap();
    assert_eq!(layer.snapshot().limit, 2);
    let mut waiting = service.clone();
    for reply in replies.drain(..2) {
        reply.send_response(answer(200, None));
    }
    calls.remove(0).await.unwrap();
    calls.remove(0).await.unwrap();
    assert_eq!(layer.snapshot().in_flight, 1);
    // One in flight of a limit of 2: one place.
    assert!(ready_within_an_hour(&mut waiting).await);
    let mut another = service.clone();
    assert!(!ready_within_an_hour(&mut another).await);
}

#[tokio::test(start_paused = true)]
async fn retry_after_pauses_new_calls_up_to_the_maximum_pause() {
    let (layer, mut service, mut handle) = service(
        AdaptiveConcurrencyConfig::default()
            .initial_limit(8)
            .max_pause(Duration::from_secs(60)),
    );
    one(&mut service, &mut handle, 429, Some("2")).await;
    let asked = Instant::now();
    service.ready().await.unwrap();
    assert_eq!(asked.elapsed(), Duration::from_secs(2));
    assert_eq!(layer.snapshot().limit, 4);

    // A 503 with Retry-After is throttling too; a wait past the maximum is
    // cut to it.
    let mut service = service.clone();
    one(&mut service, &mut handle, 503, Some("3600")).await;
    let asked = Instant::now();
    service.ready().await.unwrap();
    assert_eq!(asked.elapsed(), Duration::from_secs(60));
    assert_eq!(layer.snapshot().throttled, 2);
}

#[tokio::test(start_paused = true)]
async fn overload_lowers_the_limit_and_other_answers_count_as_the_service_keeping_up() {
    let (layer, service, mut handle) = service(
        AdaptiveConcurrencyConfig::default()
            .initial_limit(32)
            .max_limit(32),
    );
    let mut limits = Vec::new();
    for status in [503, 502, 504] {
        round(&service, &mut handle, 1, status).await;
        limits.push(layer.snapshot().limit);
    }
    assert_eq!(limits, [16, 8, 4]);

    // An error instead of an answer: overload too.
    let mut clone = service.clone();
    let call = clone.ready().await.unwrap().call(http::Request::new(()));
    let (_, reply) = handle.next_request().await.unwrap();
    reply.send_error("connection reset");
    assert!(call.await.is_err());
    assert_eq!(layer.snapshot().limit, 2);
    assert_eq!(layer.snapshot().overloaded, 4);

    // A 500 is neutral; a 404 is the service keeping up.
    round(&service, &mut handle, 2, 500).await;
    assert_eq!(layer.snapshot().limit, 2);
    round(&service, &mut handle, 2, 404).await;
    round(&service, &mut handle, 2, 404).await;
    assert_eq!(
        layer.snapshot().limit,
        3,
        "four busy successes from 2: about 3.5"
    );
    assert_eq!(layer.snapshot().succeeded, 4);
}

#[tokio::test(start_paused = true)]
async fn a_fixed_limit_stays_fixed() {
    let (layer, service, mut handle) = service(AdaptiveConcurrencyConfig::fixed(5));
    round(&service, &mut handle, 5, 200).await;
    round(&service, &mut handle, 1, 429).await;
    assert_eq!(layer.snapshot().limit, 5);
    let zero = AdaptiveConcurrencyLayer::new(AdaptiveConcurrencyConfig::fixed(0));
    assert_eq!(zero.snapshot().limit, 1, "never below 1");
    let upside_down = AdaptiveConcurrencyLayer::new(
        AdaptiveConcurrencyConfig::default()
            .min_limit(8)
            .max_limit(2)
            .initial_limit(100),
    );
    assert_eq!(upside_down.snapshot().limit, 8);
}

#[tokio::test(start_paused = true)]
async fn a_call_without_poll_ready_is_an_error_not_a_panic() {
    let (layer, mut service, _handle) = service(AdaptiveConcurrencyConfig::default());
    let error = service.call(http::Request::new(())).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<ConcurrencyError>(),
        Some(&ConcurrencyError::NotReady)
    );
    assert_eq!(layer.snapshot().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn the_limit_holds_in_any_order_of_layers() {
    // Under the retry layer, every attempt is counted and seen: a 429 then
    // a 200 of one call lower the limit once and raise it once.
    use crate::retry::{RetryConfig, RetryLayer};

    let (mock, mut handle) = tower_test::mock::pair::<http::Request<bytes::Bytes>, Response>();
    let limiter = AdaptiveConcurrencyLayer::new(
        AdaptiveConcurrencyConfig::default()
            .initial_limit(2)
            .max_limit(2),
    );
    let stack = RetryLayer::new(RetryConfig::default()).layer(limiter.layer(mock));
    let started = Instant::now();
    let call = tokio::spawn(
        stack.oneshot(
            http::Request::get("http://127.0.0.1/api/users/00u1")
                .body(bytes::Bytes::new())
                .unwrap(),
        ),
    );
    let (_, reply) = handle.next_request().await.unwrap();
    reply.send_response(answer(429, Some("1")));
    let (_, reply) = handle.next_request().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    reply.send_response(answer(200, None));
    assert_eq!(call.await.unwrap().unwrap().status(), 200);
    let now = limiter.snapshot();
    assert_eq!((now.throttled, now.succeeded, now.in_flight), (1, 1, 0));
    assert_eq!(now.limit, 2, "halved to 1, then up by 1/1");
}

/// A service that admits `rate` calls a second (a token bucket holding one
/// second of them, full at the start) and answers the others 429 with the
/// exact wait for its next token, as the emulator does; calls take no time.
fn rate_limited(
    rate: f64,
    whole_seconds: bool,
) -> impl Service<Request, Response = Response, Error = BoxError, Future: Send> + Clone + Send {
    let bucket = Arc::new(Mutex::new((rate, Instant::now())));
    tower::service_fn(move |_request: Request| {
        let bucket = bucket.clone();
        async move {
            let mut bucket = bucket.lock().unwrap();
            let now = Instant::now();
            let (tokens, last) = *bucket;
            let tokens = (tokens + now.duration_since(last).as_secs_f64() * rate).min(rate);
            if tokens >= 1.0 {
                *bucket = (tokens - 1.0, now);
                Ok(answer(200, None))
            } else {
                *bucket = (tokens, now);
                let wait = ((1.0 - tokens) / rate).max(0.001);
                let wait = if whole_seconds {
                    format!("{}", wait.ceil())
                } else {
                    format!("{wait:.3}")
                };
                Ok(answer(429, Some(&wait)))
            }
        }
    })
}

/// `calls` calls from `workers` tasks through `layer` over a service that
/// admits `rate` a second, each throttled call sent again (as a bulk import
/// does); answers the time taken and the 429s met.
async fn fan_out(
    layer: &AdaptiveConcurrencyLayer,
    rate: f64,
    whole_seconds: bool,
    calls: usize,
    workers: usize,
) -> (Duration, u64) {
    let service = layer.layer(rate_limited(rate, whole_seconds));
    let left = Arc::new(std::sync::atomic::AtomicUsize::new(calls));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let mut service = service.clone();
            let left = left.clone();
            tokio::spawn(async move {
                while left
                    .fetch_update(
                        std::sync::atomic::Ordering::SeqCst,
                        std::sync::atomic::Ordering::SeqCst,
                        |n| n.checked_sub(1),
                    )
                    .is_ok()
                {
                    loop {
                        let answer = service
                            .ready()
                            .await
                            .unwrap()
                            .call(http::Request::new(()))
                            .await
                            .unwrap();
                        if answer.status() != 429 {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (started.elapsed(), layer.snapshot().throttled)
}

/// The quickest 2,000 calls can go at 100 a second: the first second's
/// burst of 100, then 1,900 at the rate.
const QUICKEST: Duration = Duration::from_secs(19);

#[tokio::test(start_paused = true)]
async fn a_fast_service_with_a_rate_limit_is_paced_at_its_rate_not_flooded_with_429s() {
    let layer = AdaptiveConcurrencyLayer::default();
    let (elapsed, throttled) = fan_out(&layer, 100.0, false, 2_000, 16).await;
    assert!(
        elapsed.as_secs_f64() <= QUICKEST.as_secs_f64() / 0.9,
        "{elapsed:?}"
    );
    // Without the pace, 1,900 (every call after the burst met one 429).
    assert!(throttled <= 250, "{throttled} answers 429 for 2,000 calls");
    let pace = layer.snapshot().pace.expect("a pace was set");
    assert!(
        (Duration::from_millis(8)..=Duration::from_millis(11)).contains(&pace),
        "{pace:?} between calls, for 100 a second"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_in_whole_seconds_paces_by_its_pauses_at_full_rate() {
    let layer = AdaptiveConcurrencyLayer::default();
    let (elapsed, throttled) = fan_out(&layer, 100.0, true, 2_000, 16).await;
    assert!(
        elapsed.as_secs_f64() <= QUICKEST.as_secs_f64() / 0.9,
        "{elapsed:?}"
    );
    assert!(throttled <= 40, "{throttled} answers 429 for 2,000 calls");
}

#[tokio::test(start_paused = true)]
async fn sporadic_calls_set_no_pace_and_a_pace_ends_two_seconds_after_the_last_429() {
    let (layer, mut service, mut handle) = service(AdaptiveConcurrencyConfig::default());
    // A call every two seconds, then a 429: nothing to measure a rate from.
    for _ in 0..5 {
        one(&mut service, &mut handle, 200, None).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    one(&mut service, &mut handle, 429, Some("0.01")).await;
    assert_eq!(layer.snapshot().pace, None);

    // Successes 10 ms apart, then a 429: a pace of 10 ms.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        one(&mut service, &mut handle, 200, None).await;
    }
    one(&mut service, &mut handle, 429, Some("0.01")).await;
    let pace = layer.snapshot().pace.expect("a pace was set");
    assert!(
        (Duration::from_millis(9)..=Duration::from_millis(10)).contains(&pace),
        "{pace:?}"
    );
    // The next two calls start a pace apart.
    service.ready().await.unwrap();
    let first = Instant::now();
    one(&mut service, &mut handle, 200, None).await;
    service.ready().await.unwrap();
    assert!(
        first.elapsed() >= pace.mul_f64(0.99),
        "{:?}",
        first.elapsed()
    );

    // Two seconds without a 429: calls start as soon as they have a place.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let asked = Instant::now();
    one(&mut service, &mut handle, 200, None).await;
    service.ready().await.unwrap();
    assert_eq!(asked.elapsed(), Duration::ZERO);
    assert_eq!(layer.snapshot().pace, None);
}
