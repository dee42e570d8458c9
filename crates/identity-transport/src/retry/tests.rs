//! Tests of the retry layer over tower-test mocks, on tokio's paused clock:
//! the waits are exact and no test sleeps for real.

use std::time::Duration;

use bytes::Bytes;
use identity_call::RequestOptions;
use tokio::time::Instant;
use tower::{BoxError, Layer, Service, ServiceExt};

use super::*;
use crate::error::{TimeoutKind, TransportError, TransportErrorKind};
use crate::timeout::Deadline;
use crate::timeout::{AttemptTimeoutLayer, TotalTimeoutLayer};

type Request = http::Request<Bytes>;
type Response = http::Response<()>;
type Mock = tower_test::mock::Mock<Request, Response>;
type Handle = tower_test::mock::Handle<Request, Response>;

/// How the mock service answers one attempt.
#[derive(Clone, Debug)]
enum Reply {
    Status(u16),
    RetryAfter(u16, String),
    Error(TransportErrorKind),
    /// Never answers (the attempt timeout must end it).
    Silence,
}

/// What a call did: its result, and when each attempt started.
struct Run {
    result: Result<Response, BoxError>,
    attempts: Vec<(Duration, Request)>,
}

impl Run {
    fn count(&self) -> usize {
        self.attempts.len()
    }

    fn status(&self) -> u16 {
        self.result.as_ref().expect("an answer").status().as_u16()
    }

    fn error_kind(&self) -> TransportErrorKind {
        let error = self.result.as_ref().expect_err("an error");
        TransportError::from_box(error)
            .expect("a transport error")
            .kind()
    }

    /// The waits between attempts.
    fn waits(&self) -> Vec<Duration> {
        self.attempts
            .windows(2)
            .map(|pair| pair[1].0 - pair[0].0)
            .collect()
    }
}

fn quick_backoff() -> RetryConfig {
    RetryConfig::default().backoff(Backoff::exponential(
        Duration::from_millis(100),
        Duration::from_secs(1),
    ))
}

fn get() -> Request {
    http::Request::get("http://127.0.0.1/api/users/00u1")
        .header("x-test", "kept")
        .body(Bytes::new())
        .unwrap()
}

fn post() -> Request {
    http::Request::post("http://127.0.0.1/api/users")
        .body(Bytes::from_static(b"{\"firstName\":\"Ann\"}"))
        .unwrap()
}

fn with_options(mut request: Request, options: RequestOptions) -> Request {
    options.set_on(&mut request);
    request
}

/// Sends `request` through `service`, answering attempt `n` with
/// `replies[n]` and every attempt past the script with 200.
async fn run<S, B>(service: S, mut handle: Handle, request: Request, replies: &[Reply]) -> Run
where
    S: Service<Request, Response = http::Response<B>, Error = BoxError> + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    let started = Instant::now();
    let call = tokio::spawn(service.oneshot(request));
    let mut attempts = Vec::new();
    let mut silent = Vec::new();
    while let Some((sent, respond)) = handle.next_request().await {
        let reply = replies
            .get(attempts.len())
            .cloned()
            .unwrap_or(Reply::Status(200));
        attempts.push((started.elapsed(), sent));
        match reply {
            Reply::Status(code) => {
                respond.send_response(http::Response::builder().status(code).body(()).unwrap())
            }
            Reply::RetryAfter(code, after) => respond.send_response(
                http::Response::builder()
                    .status(code)
                    .header("retry-after", after)
                    .body(())
                    .unwrap(),
            ),
            Reply::Error(kind) => respond.send_error(TransportError::new(kind, "scripted failure")),
            Reply::Silence => silent.push(respond),
        }
    }
    let result = call.await.unwrap().map(|answer| answer.map(drop));
    Run { result, attempts }
}

fn retry(config: RetryConfig) -> (Retry<Mock>, Handle) {
    let (mock, handle) = tower_test::mock::pair();
    (RetryLayer::new(config).layer(mock), handle)
}

async fn run_with(config: RetryConfig, request: Request, replies: &[Reply]) -> Run {
    let (service, handle) = retry(config);
    run(service, handle, request, replies).await
}

// ----- Retry-After -----

async fn wait_after_429(retry_after: &str) -> Duration {
    let replies = [Reply::RetryAfter(429, retry_after.to_string())];
    let run = run_with(quick_backoff().budget(None), get(), &replies).await;
    assert_eq!(run.count(), 2, "Retry-After {retry_after:?}");
    assert_eq!(run.status(), 200);
    run.waits()[0]
}

#[tokio::test(start_paused = true)]
async fn retry_after_in_seconds_is_waited() {
    assert_eq!(wait_after_429("2").await, Duration::from_secs(2));
    assert_eq!(wait_after_429("0.5").await, Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn retry_after_as_an_http_date_is_waited() {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3));
    let wait = wait_after_429(&date).await;
    assert!(
        wait > Duration::from_secs(1) && wait <= Duration::from_secs(3),
        "{wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn past_negative_and_garbage_retry_after_fall_back_to_the_backoff() {
    for value in ["Wed, 21 Oct 2015 07:28:00 GMT", "-3", "soon", "1e9"] {
        // The backoff's full jitter: within its first ceiling (100 ms),
        // and spread over it, not a wait of zero each time.
        let mut waits = Vec::new();
        for _ in 0..20 {
            waits.push(wait_after_429(value).await);
        }
        assert!(
            waits.iter().all(|wait| *wait <= Duration::from_millis(100)),
            "{value}: {waits:?}"
        );
        let above_10_ms = waits
            .iter()
            .filter(|wait| **wait > Duration::from_millis(10))
            .count();
        assert!(
            above_10_ms >= 5,
            "{value}: no backoff was waited: {waits:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_long_retry_after_is_waited_in_full_not_cut_short() {
    assert_eq!(wait_after_429("90").await, Duration::from_secs(90));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_past_the_deadline_ends_the_call_at_once_with_the_answer() {
    for value in ["99999999999999999999999", "31536000", "600"] {
        let mut request = get();
        Deadline::after(Duration::from_secs(300))
            .unwrap()
            .set_on(&mut request);
        let replies = [Reply::RetryAfter(429, value.to_string())];
        let started = Instant::now();
        let run = run_with(quick_backoff().budget(None), request, &replies).await;
        assert_eq!(run.count(), 1, "{value}");
        assert_eq!(run.status(), 429, "the answer says how long: {value}");
        assert_eq!(started.elapsed(), Duration::ZERO, "{value}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_backoff_is_used_when_it_is_longer_than_retry_after() {
    let config = RetryConfig::default()
        .budget(None)
        .backoff(Backoff::exponential(
            Duration::from_secs(10),
            Duration::from_secs(10),
        ));
    let replies = [Reply::RetryAfter(503, "0".into())];
    let run = run_with(config, get(), &replies).await;
    assert_eq!(run.count(), 2);
    assert!(run.waits()[0] <= Duration::from_secs(10));
}

// ----- counts -----

#[tokio::test(start_paused = true)]
async fn a_throttled_call_is_waited_out_with_no_count_and_no_budget() {
    // A budget with nothing to spend: failures would not be retried at all.
    let empty = RetryBudget::new(Duration::from_secs(10), 0, 0.0).unwrap();
    let replies = vec![Reply::RetryAfter(429, "1".into()); 40];
    let run = run_with(quick_backoff().budget(Some(empty)), post(), &replies).await;
    assert_eq!(run.count(), 41, "CreateUser too: the service did not act");
    assert_eq!(run.status(), 200);
    assert_eq!(run.waits(), [Duration::from_secs(1); 40]);
    // The service's own 503 is a failure: the empty budget ends it.
    let run = run_with(
        quick_backoff().budget(Some(empty)),
        post(),
        &[Reply::RetryAfter(503, "2".into())],
    )
    .await;
    assert_eq!((run.count(), run.status()), (1, 503));
}

#[tokio::test(start_paused = true)]
async fn a_cap_on_throttled_retries_applies_when_set() {
    let replies = vec![Reply::RetryAfter(429, "1".into()); 5];
    let run = run_with(quick_backoff().rate_limit_retries(2), get(), &replies).await;
    assert_eq!(run.count(), 3);
    assert_eq!(run.status(), 429);
    assert_eq!(run.waits(), [Duration::from_secs(1); 2]);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_longer_than_the_longest_wait_ends_the_call_at_once() {
    let request = with_options(
        get(),
        RequestOptions::new().longest_wait(Duration::from_secs(60)),
    );
    let replies = [Reply::RetryAfter(429, "61".into())];
    let started = Instant::now();
    let run = run_with(quick_backoff(), request, &replies).await;
    assert_eq!((run.count(), run.status()), (1, 429));
    assert_eq!(started.elapsed(), Duration::ZERO);
    let request = with_options(
        get(),
        RequestOptions::new().longest_wait(Duration::from_secs(60)),
    );
    let run = run_with(
        quick_backoff(),
        request,
        &[Reply::RetryAfter(429, "60".into())],
    )
    .await;
    assert_eq!(
        (run.count(), run.status()),
        (2, 200),
        "a wait of 60 s is not longer"
    );
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_three_times_then_returned() {
    for code in [500, 502, 503, 504] {
        let replies = vec![Reply::Status(code); 10];
        let run = run_with(quick_backoff().budget(None), get(), &replies).await;
        assert_eq!(run.count(), 4, "{code}");
        assert_eq!(run.status(), code);
    }
}

#[tokio::test(start_paused = true)]
async fn rate_limit_and_transient_retries_are_counted_apart() {
    let replies = [
        Reply::Status(429),
        Reply::Status(500),
        Reply::Status(429),
        Reply::Status(500),
        Reply::Status(429),
    ];
    let run = run_with(
        quick_backoff().budget(None).rate_limit_retries(2),
        get(),
        &replies,
    )
    .await;
    // 2 rate-limit retries, then the third 429 is final.
    assert_eq!(run.count(), 5);
    assert_eq!(run.status(), 429);
}

#[tokio::test(start_paused = true)]
async fn the_call_options_override_the_counts() {
    let no_rate_limit_retry = with_options(get(), RequestOptions::new().rate_limit_retries(0));
    let run = run_with(quick_backoff(), no_rate_limit_retry, &[Reply::Status(429)]).await;
    assert_eq!((run.count(), run.status()), (1, 429));

    let no_transient_retry = with_options(get(), RequestOptions::new().transient_retries(0));
    let run = run_with(quick_backoff(), no_transient_retry, &[Reply::Status(500)]).await;
    assert_eq!((run.count(), run.status()), (1, 500));

    let more = with_options(get(), RequestOptions::new().transient_retries(5));
    let run = run_with(
        quick_backoff().budget(None),
        more,
        &vec![Reply::Status(502); 9],
    )
    .await;
    assert_eq!(run.count(), 6);
}

// ----- idempotency -----

/// Attempts made after `first`, then 200, with one retry of each kind.
async fn attempts_after(first: Reply, request: Request) -> usize {
    let config = quick_backoff()
        .budget(None)
        .rate_limit_retries(1)
        .transient_retries(1);
    let (mock, handle) = tower_test::mock::pair();
    let service = AttemptTimeoutLayer::new(Duration::from_secs(5)).layer(mock);
    let service = RetryLayer::new(config).layer(service);
    run(service, handle, request, &[first]).await.count()
}

#[tokio::test(start_paused = true)]
async fn idempotency_decides_what_is_replayed() {
    use Reply::*;
    let cases = [
        // outcome, attempts when idempotent, attempts when not
        (Status(200), 1, 1),
        (Status(201), 1, 1),
        (Status(400), 1, 1),
        (Status(404), 1, 1),
        (Status(409), 1, 1),
        (Status(429), 2, 2),
        (RetryAfter(503, "0".into()), 2, 2),
        // A bare 503 may be a gateway's, after the service acted.
        (Status(503), 2, 1),
        (Status(500), 2, 1),
        (Status(502), 2, 1),
        (Status(504), 2, 1),
        (Error(TransportErrorKind::Connect), 2, 2),
        (
            Error(TransportErrorKind::Timeout(TimeoutKind::Connect)),
            2,
            2,
        ),
        (Error(TransportErrorKind::Closed), 2, 1),
        (Error(TransportErrorKind::Io), 2, 1),
        (Error(TransportErrorKind::Tls), 1, 1),
        (Error(TransportErrorKind::Proxy), 1, 1),
        (Error(TransportErrorKind::BodyTooLarge), 1, 1),
        (Silence, 2, 1),
    ];
    for (first, idempotent, not_idempotent) in cases {
        assert_eq!(
            attempts_after(first.clone(), get()).await,
            idempotent,
            "GET after {first:?}"
        );
        assert_eq!(
            attempts_after(first.clone(), post()).await,
            not_idempotent,
            "POST after {first:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_attempt_timeout_is_retried_for_an_idempotent_call() {
    let (mock, handle) = tower_test::mock::pair();
    let service = AttemptTimeoutLayer::new(Duration::from_secs(2)).layer(mock);
    let service = RetryLayer::new(quick_backoff().budget(None)).layer(service);
    let retried = run(service, handle, get(), &[Reply::Silence]).await;
    assert_eq!(retried.count(), 2);
    assert!(retried.attempts[1].0 >= Duration::from_secs(2));
    assert_eq!(retried.status(), 200);

    let (mock, handle) = tower_test::mock::pair();
    let service = AttemptTimeoutLayer::new(Duration::from_secs(2)).layer(mock);
    let service = RetryLayer::new(quick_backoff().budget(None)).layer(service);
    let not_retried = run(service, handle, post(), &[Reply::Silence]).await;
    assert_eq!(not_retried.count(), 1);
    assert_eq!(
        not_retried.error_kind(),
        TransportErrorKind::Timeout(TimeoutKind::Attempt)
    );
}

#[tokio::test(start_paused = true)]
async fn the_call_can_declare_itself_idempotent() {
    let request = with_options(post(), RequestOptions::new().idempotent(true));
    let run = run_with(quick_backoff(), request, &[Reply::Status(500)]).await;
    assert_eq!(run.count(), 2);
    let request = with_options(get(), RequestOptions::new().idempotent(false));
    let run = run_with(quick_backoff(), request, &[Reply::Status(500)]).await;
    assert_eq!(run.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_last_error_is_returned_as_it_is() {
    let replies = vec![Reply::Error(TransportErrorKind::Closed); 10];
    let run = run_with(quick_backoff().budget(None), get(), &replies).await;
    assert_eq!(run.count(), 4);
    assert_eq!(run.error_kind(), TransportErrorKind::Closed);
}

// ----- waits, caps and the deadline -----

#[tokio::test(start_paused = true)]
async fn backoff_waits_stay_within_the_jitter_bounds() {
    let config = RetryConfig::default()
        .budget(None)
        .transient_retries(6)
        .backoff(Backoff::exponential(
            Duration::from_millis(100),
            Duration::from_millis(400),
        ));
    let ceilings = [100, 200, 400, 400, 400, 400].map(Duration::from_millis);
    let mut total = Duration::ZERO;
    for _ in 0..10 {
        let run = run_with(config.clone(), get(), &vec![Reply::Status(500); 6]).await;
        assert_eq!(run.count(), 7);
        for (wait, ceiling) in run.waits().into_iter().zip(ceilings) {
            assert!(wait <= ceiling, "{wait:?} > {ceiling:?}");
            total += wait;
        }
    }
    // Full jitter: on average half the ceilings (10 runs of 1.9 s in all),
    // so the sum is near 9.5 s: 30 % to 70 % of the whole is five standard
    // deviations either side.
    assert!(
        (Duration::from_millis(5_700)..Duration::from_millis(13_300)).contains(&total),
        "{total:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn no_wait_goes_past_the_deadline() {
    let mut request = get();
    Deadline::after(Duration::from_secs(5))
        .unwrap()
        .set_on(&mut request);
    let replies = [Reply::RetryAfter(429, "10".into())];
    let run = run_with(quick_backoff(), request, &replies).await;
    assert_eq!(run.count(), 1);
    assert_eq!(run.status(), 429);
}

#[tokio::test(start_paused = true)]
async fn under_a_total_timeout_the_last_answer_is_returned_not_a_timeout() {
    let (mock, handle) = tower_test::mock::pair();
    let service = RetryLayer::new(quick_backoff().budget(None).transient_retries(10)).layer(mock);
    let service = TotalTimeoutLayer::new(Duration::from_millis(3500)).layer(service);
    let replies = vec![Reply::RetryAfter(503, "1".into()); 20];
    let run = run(service, handle, get(), &replies).await;
    // Attempts at 0, 1, 2 and 3 s; a wait to 4 s would pass the deadline.
    assert_eq!(run.count(), 4);
    assert_eq!(run.status(), 503);
}

// ----- budget -----

#[tokio::test(start_paused = true)]
async fn an_empty_budget_stops_retries_and_clones_share_it() {
    // Each call deposits one token and each retry takes one; no reserve.
    let budget = RetryBudget::new(Duration::from_secs(10), 0, 1.0).unwrap();
    let layer = RetryLayer::new(quick_backoff().budget(Some(budget)).transient_retries(10));
    let storm = vec![Reply::Status(503); 20];

    let (mock, handle) = tower_test::mock::pair();
    let run1 = run(layer.layer(mock), handle, get(), &storm).await;
    assert_eq!(run1.count(), 2, "one deposit pays for one retry");
    assert_eq!(run1.status(), 503);

    let (mock, handle) = tower_test::mock::pair();
    let clone = layer.clone();
    let run2 = run(clone.layer(mock), handle, get(), &storm).await;
    assert_eq!(run2.count(), 2);

    // A separate layer has its own budget, with its own reserve.
    let generous = RetryLayer::new(quick_backoff().transient_retries(10));
    let (mock, handle) = tower_test::mock::pair();
    let run3 = run(generous.layer(mock), handle, get(), &storm).await;
    assert_eq!(run3.count(), 11);
}

// ----- what each attempt carries -----

#[tokio::test(start_paused = true)]
async fn every_attempt_is_the_same_request_with_its_attempt_number() {
    let request = with_options(post(), RequestOptions::new().idempotent(true));
    let replies = [Reply::RetryAfter(429, "1".into()), Reply::Status(500)];
    let run = run_with(quick_backoff().budget(None), request, &replies).await;
    assert_eq!(run.count(), 3);
    for (number, (_, sent)) in run.attempts.iter().enumerate() {
        assert_eq!(sent.method(), http::Method::POST);
        assert_eq!(sent.uri(), "http://127.0.0.1/api/users");
        assert_eq!(sent.body().as_ref(), b"{\"firstName\":\"Ann\"}");
        assert_eq!(RequestOptions::of(sent).get_idempotent(), Some(true));
        assert_eq!(RetryAttempt::of(sent).number(), number as u32 + 1);
    }
    assert_eq!(
        RetryAttempt::of(&run.attempts[1].1).waited(),
        Duration::from_secs(1)
    );
    let run = run_with(quick_backoff(), get(), &[Reply::Status(500)]).await;
    assert_eq!(run.attempts[1].1.headers()["x-test"], "kept");
}

#[tokio::test(start_paused = true)]
async fn extensions_of_the_callers_own_are_on_every_attempt() {
    #[derive(Clone, Debug, PartialEq)]
    struct Tag(&'static str);
    let mut request = with_options(get(), RequestOptions::new().transient_retries(2));
    request.extensions_mut().insert(Tag("mine"));
    let replies = [Reply::Status(500), Reply::Status(502)];
    let run = run_with(quick_backoff(), request, &replies).await;
    assert_eq!(run.count(), 3);
    for (number, (_, sent)) in run.attempts.iter().enumerate() {
        assert_eq!(sent.extensions().get::<Tag>(), Some(&Tag("mine")));
        assert_eq!(RequestOptions::of(sent).get_transient_retries(), Some(2));
        assert_eq!(RetryAttempt::of(sent).number(), number as u32 + 1);
    }
}

// ----- 401 -----

#[tokio::test(start_paused = true)]
async fn a_401_is_the_answer_it_is_the_auth_layers_business() {
    let run = run_with(quick_backoff(), get(), &[Reply::Status(401)]).await;
    assert_eq!(run.count(), 1);
    assert_eq!(run.status(), 401);
}

// ----- what the final answer tells -----

#[tokio::test(start_paused = true)]
async fn an_answer_after_a_replay_of_unknown_outcome_is_marked() {
    use identity_call::ReplayedAfterUnknownOutcome;
    let marked = |run: &Run| ReplayedAfterUnknownOutcome::is_on(run.result.as_ref().unwrap());
    // After a dropped connection: the first attempt may have been processed.
    let run = run_with(
        quick_backoff(),
        get(),
        &[Reply::Error(TransportErrorKind::Closed), Reply::Status(400)],
    )
    .await;
    assert_eq!((run.count(), run.status()), (2, 400));
    assert!(marked(&run));
    // After a 429 or a connect failure: the service provably did not act.
    for first in [
        Reply::RetryAfter(429, "1".into()),
        Reply::Error(TransportErrorKind::Connect),
    ] {
        let run = run_with(quick_backoff(), get(), &[first.clone(), Reply::Status(400)]).await;
        assert_eq!(run.count(), 2, "{first:?}");
        assert!(!marked(&run), "{first:?}");
    }
    // A first answer is never marked.
    let run = run_with(quick_backoff(), get(), &[Reply::Status(400)]).await;
    assert!(!marked(&run));
}

#[cfg(feature = "metrics")]
#[test]
fn an_exhausted_budget_and_each_retry_are_counted() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            // One deposit pays for one retry; the second is refused.
            let budget = RetryBudget::new(Duration::from_secs(10), 0, 1.0).unwrap();
            let config = quick_backoff().budget(Some(budget)).transient_retries(10);
            let run = run_with(config, get(), &vec![Reply::Status(500); 5]).await;
            assert_eq!(run.count(), 2);
        })
    });
    let counters: Vec<(String, DebugValue)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| (key.key().name().to_owned(), value))
        .collect();
    assert!(counters.contains(&(crate::metrics::RETRIES.to_owned(), DebugValue::Counter(1))));
    assert!(counters.contains(&(
        crate::metrics::RETRY_BUDGET_EXHAUSTED.to_owned(),
        DebugValue::Counter(1)
    )));
}
