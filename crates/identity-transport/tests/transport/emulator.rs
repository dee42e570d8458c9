//! The whole stack against the emulator over loopback sockets, on tokio's
//! paused clock: the emulator's request log (`elapsedMs`) and the waits
//! are on the same clock, and no test sleeps for real.

use std::time::Duration;

use bytes::Bytes;
use identity_call::OperationInfo;
use identity_emulator::{Emulator, EmulatorConfig, Fault, FaultRule, FaultWhen, RecordedRequest};
use identity_transport::retry::RetryBudget;
use identity_transport::{
    AttemptTimeoutLayer, HeadersConfig, HttpClient, ResponseBody, RetryConfig, RetryLayer,
    SdkHeadersLayer, TimeoutBody, TimeoutKind, TotalTimeoutLayer, TransportError,
    TransportErrorKind,
};
use tokio::time::Instant;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};

const LIST_USERS: OperationInfo = OperationInfo::new("ListUsers", "/api/users", true);
const CREATE_USER: OperationInfo = OperationInfo::new("CreateUser", "/api/users", false);

async fn emulator() -> Emulator {
    identity_emulator::start(EmulatorConfig {
        access_tokens: vec!["t".into()],
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// The request path without the auth layer (the token is set by hand).
fn stack(
    retry: RetryConfig,
    total: Duration,
    attempt: Duration,
) -> impl Service<
    http::Request<Bytes>,
    Response = http::Response<TimeoutBody<TimeoutBody<ResponseBody>>>,
    Error = BoxError,
> {
    ServiceBuilder::new()
        .layer(SdkHeadersLayer::new(HeadersConfig::default()).unwrap())
        .layer(TotalTimeoutLayer::new(total))
        .layer(RetryLayer::new(retry))
        .layer(AttemptTimeoutLayer::new(attempt))
        .service(HttpClient::new().unwrap())
}

fn default_stack() -> impl Service<
    http::Request<Bytes>,
    Response = http::Response<TimeoutBody<TimeoutBody<ResponseBody>>>,
    Error = BoxError,
> {
    stack(
        RetryConfig::default(),
        Duration::from_secs(1800),
        Duration::from_secs(60),
    )
}

fn list_users(emulator: &Emulator) -> http::Request<Bytes> {
    let uri = format!("{}/api/users", emulator.base_url());
    let mut request = http::Request::get(uri)
        .header("authorization", "Bearer t")
        .body(Bytes::new())
        .unwrap();
    LIST_USERS.set_on(&mut request);
    request
}

fn create_user(emulator: &Emulator) -> http::Request<Bytes> {
    let uri = format!("{}/api/users", emulator.base_url());
    let body = r#"{"firstName":"Ann","lastName":"Lee","emailAddress":"ann@example.com","login":"ann@example.com","type":"Personal"}"#;
    let mut request = http::Request::post(uri)
        .header("authorization", "Bearer t")
        .header("content-type", "application/json")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap();
    CREATE_USER.set_on(&mut request);
    request
}

fn logged(emulator: &Emulator, operation: &str) -> Vec<RecordedRequest> {
    emulator
        .requests()
        .into_iter()
        .filter(|request| request.operation.as_deref() == Some(operation))
        .collect()
}

fn transport_kind(error: &BoxError) -> TransportErrorKind {
    TransportError::from_box(error)
        .expect("a transport error")
        .kind()
}

#[tokio::test(start_paused = true)]
async fn a_429_is_waited_out_then_the_call_succeeds() {
    let emulator = emulator().await;
    emulator.set_faults(vec![
        FaultRule::new(
            Some("ListUsers"),
            Fault::Status {
                status: 429,
                retry_after: Some("1.5".into()),
            },
        )
        .when(FaultWhen::Next { n: 1 }),
    ]);
    let response = default_stack()
        .oneshot(list_users(&emulator))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let log = logged(&emulator, "ListUsers");
    let statuses: Vec<_> = log.iter().map(|request| request.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
    let spacing = log[1].elapsed_ms - log[0].elapsed_ms;
    assert!(spacing >= 1500.0, "attempts {spacing} ms apart");
    assert!(spacing < 1600.0, "attempts {spacing} ms apart");
    for request in &log {
        assert!(request.headers["user-agent"].starts_with("finbourne-identity-rust/"));
        assert_eq!(request.headers["x-lusid-sdk-language"], "Rust");
    }
}

#[tokio::test(start_paused = true)]
async fn a_503_storm_ends_when_the_retries_run_out() {
    let emulator = emulator().await;
    emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Status {
            status: 503,
            retry_after: None,
        },
    )]);
    let response = default_stack()
        .oneshot(list_users(&emulator))
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        503,
        "the last answer is returned as it is"
    );
    assert_eq!(
        logged(&emulator, "ListUsers").len(),
        4,
        "1 attempt + 3 transient retries"
    );
}

#[tokio::test(start_paused = true)]
async fn a_503_storm_ends_when_the_budget_is_spent() {
    let emulator = emulator().await;
    emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Status {
            status: 503,
            retry_after: Some("0.1".into()),
        },
    )]);
    // No reserve; each call pays for half a retry.
    let budget = RetryBudget::new(Duration::from_secs(10), 0, 0.5).unwrap();
    let retry = RetryConfig::default()
        .transient_retries(10)
        .budget(Some(budget));
    let mut service = stack(retry, Duration::from_secs(1800), Duration::from_secs(60));
    for _ in 0..4 {
        let request = list_users(&emulator);
        let response = service.ready().await.unwrap().call(request).await.unwrap();
        assert_eq!(response.status(), 503);
    }
    // Four calls deposit two retries' worth: six attempts in all, not 44.
    assert_eq!(logged(&emulator, "ListUsers").len(), 6);
}

#[tokio::test(start_paused = true)]
async fn a_create_user_whose_answer_is_lost_is_not_replayed() {
    let emulator = emulator().await;
    emulator.set_faults(vec![
        FaultRule::new(Some("CreateUser"), Fault::CloseAfterProcessing)
            .when(FaultWhen::Next { n: 1 }),
    ]);
    let error = default_stack()
        .oneshot(create_user(&emulator))
        .await
        .unwrap_err();
    let error = TransportError::from_box(&error).unwrap();
    assert_eq!(error.kind(), TransportErrorKind::Closed, "{error}");
    assert!(error.may_have_been_sent());

    assert_eq!(logged(&emulator, "CreateUser").len(), 1);
    let anns = emulator
        .users()
        .into_iter()
        .filter(|user| user.login == "ann@example.com")
        .count();
    assert_eq!(anns, 1, "exactly one user was created");
}

#[tokio::test(start_paused = true)]
async fn a_get_whose_connection_is_dropped_is_replayed() {
    let emulator = emulator().await;
    emulator.set_faults(vec![
        FaultRule::new(Some("ListUsers"), Fault::CloseBeforeProcessing)
            .when(FaultWhen::Next { n: 1 }),
    ]);
    let response = default_stack()
        .oneshot(list_users(&emulator))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let statuses: Vec<_> = logged(&emulator, "ListUsers")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [None, Some(200)]);
}

#[tokio::test(start_paused = true)]
async fn a_hung_server_ends_at_the_attempt_timeout() {
    let emulator = emulator().await;
    emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Delay { ms: 3_600_000 },
    )]);
    let service = stack(
        RetryConfig::default().transient_retries(1),
        Duration::from_secs(1800),
        Duration::from_secs(2),
    );
    let started = Instant::now();
    let error = service.oneshot(list_users(&emulator)).await.unwrap_err();
    assert_eq!(
        transport_kind(&error),
        TransportErrorKind::Timeout(TimeoutKind::Attempt)
    );
    // Two attempts of 2 s, and a backoff wait between them.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(4) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(logged(&emulator, "ListUsers").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_hung_server_ends_at_the_total_timeout() {
    let emulator = emulator().await;
    emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Delay { ms: 3_600_000 },
    )]);
    let service = stack(
        RetryConfig::default(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    );
    let started = Instant::now();
    let error = service.oneshot(list_users(&emulator)).await.unwrap_err();
    assert_eq!(
        transport_kind(&error),
        TransportErrorKind::Timeout(TimeoutKind::Total)
    );
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(logged(&emulator, "ListUsers").len(), 1);
}
