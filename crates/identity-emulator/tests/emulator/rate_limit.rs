//! The rate limit: a burst beyond N per second per token is answered 429
//! with a fractional Retry-After, each token and client has its own bucket,
//! hooks are never limited, and the hook changes the limit at run time.
//! Time is paused: the buckets refill only when the test advances it.

use std::num::NonZeroU32;
use std::time::Duration;

use http::{Method, StatusCode};
use identity_emulator::EmulatorConfig;
use serde_json::json;

use crate::common::{Call, TestEmulator};

const TOKEN_FORM: &str = "grant_type=password&username=emulator-user&password=emulator-password\
                          &client_id=emulator-client&client_secret=emulator-client-secret";

/// The statuses of `count` ListUsers calls with `token`, one after another.
async fn burst(emulator: &TestEmulator, token: &str, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        let call = Call::new(
            Method::GET,
            format!("{}/api/users", emulator.emulator.base_url()),
        )
        .bearer(token);
        statuses.push(emulator.send(call).await.status.as_u16());
    }
    statuses
}

#[tokio::test(start_paused = true)]
async fn a_burst_beyond_the_limit_is_answered_429_with_retry_after() {
    let emulator = TestEmulator::with(EmulatorConfig {
        rate_limit: NonZeroU32::new(5),
        ..EmulatorConfig::default()
    })
    .await;
    let statuses = burst(&emulator, crate::common::TOKEN, 8).await;
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    let refused = emulator.send(emulator.api(Method::GET, "users")).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("retry-after"), Some("0.2"));
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(refused.value()["status"], 429);
    assert!(refused.header("lusid-meta-requestId").is_some());

    // Another token has its own bucket.
    let issued = emulator
        .send(
            Call::new(Method::POST, emulator.emulator.token_url())
                .raw_body("application/x-www-form-urlencoded", TOKEN_FORM),
        )
        .await
        .value();
    let other = issued["access_token"].as_str().unwrap();
    assert_eq!(
        burst(&emulator, other, 6).await,
        [200, 200, 200, 200, 200, 429]
    );

    // A fifth of a second refills one request.
    tokio::time::advance(Duration::from_millis(200)).await;
    assert_eq!(burst(&emulator, crate::common::TOKEN, 2).await, [200, 429]);

    // Hooks are never limited, and the log shows the refusals.
    for _ in 0..10 {
        let log = emulator.send(emulator.hook(Method::GET, "requests")).await;
        assert_eq!(log.status, StatusCode::OK);
    }
    let refusals = emulator
        .emulator
        .requests()
        .iter()
        .filter(|request| request.status == Some(429))
        .count();
    assert_eq!(refusals, 6);
}

#[tokio::test(start_paused = true)]
async fn the_hook_changes_the_limit_at_run_time() {
    let emulator = TestEmulator::start().await;
    assert_eq!(emulator.emulator.rate_limit(), None);
    let read = emulator
        .send(emulator.hook(Method::GET, "rate-limit"))
        .await;
    assert_eq!(read.value(), json!({"requestsPerSecond": null}));
    let set = |body| emulator.hook(Method::PUT, "rate-limit").json(&body);
    assert_eq!(
        emulator
            .send(set(json!({"requestsPerSecond": 2})))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(emulator.emulator.rate_limit(), NonZeroU32::new(2));
    assert_eq!(
        burst(&emulator, crate::common::TOKEN, 3).await,
        [200, 200, 429]
    );
    assert_eq!(
        emulator
            .send(emulator.hook(Method::GET, "rate-limit"))
            .await
            .value(),
        json!({"requestsPerSecond": 2})
    );
    for bad in [
        json!({"requestsPerSecond": 0}),
        json!({"requestsPerSecond": -1}),
        json!({"rate": 1}),
    ] {
        let reply = emulator.send(set(bad.clone())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    emulator.send(set(json!({"requestsPerSecond": null}))).await;
    assert_eq!(burst(&emulator, crate::common::TOKEN, 20).await, [200; 20]);
    emulator.emulator.set_rate_limit(NonZeroU32::new(1));
    assert_eq!(burst(&emulator, crate::common::TOKEN, 2).await, [200, 429]);
}

#[tokio::test(start_paused = true)]
async fn the_token_endpoint_is_limited_per_client() {
    let emulator = TestEmulator::with(EmulatorConfig {
        rate_limit: NonZeroU32::new(2),
        ..EmulatorConfig::default()
    })
    .await;
    let grant = || {
        Call::new(Method::POST, emulator.emulator.token_url())
            .raw_body("application/x-www-form-urlencoded", TOKEN_FORM)
    };
    assert_eq!(emulator.send(grant()).await.status, StatusCode::OK);
    assert_eq!(emulator.send(grant()).await.status, StatusCode::OK);
    let refused = emulator.send(grant()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("retry-after"), Some("0.5"));
    assert_eq!(refused.value()["error"], "temporarily_unavailable");
    // A client that fails to authenticate is told so, not throttled.
    let wrong = Call::new(Method::POST, emulator.emulator.token_url()).raw_body(
        "application/x-www-form-urlencoded",
        TOKEN_FORM.replace("emulator-client-secret", "wrong"),
    );
    assert_eq!(emulator.send(wrong).await.status, StatusCode::UNAUTHORIZED);
    tokio::time::advance(Duration::from_millis(500)).await;
    assert_eq!(emulator.send(grant()).await.status, StatusCode::OK);
}
