//! Fault injection: statuses with Retry-After, delays, dropped connections.

use std::time::Duration;

use http::{Method, StatusCode};
use identity_emulator::{Fault, FaultRule, FaultWhen};
use serde_json::json;

use crate::common::{Call, TestEmulator, personal};

fn rule(operation: Option<&str>, fault: Fault, when: FaultWhen) -> FaultRule {
    FaultRule::new(operation, fault).when(when)
}

#[tokio::test]
async fn status_faults_answer_without_processing_with_retry_after() {
    let emulator = TestEmulator::start().await;
    let too_many = Fault::Status {
        status: 429,
        retry_after: Some("1.5".into()),
    };
    emulator.emulator.set_faults(vec![rule(
        Some("CreateUser"),
        too_many,
        FaultWhen::Next { n: 2 },
    )]);
    for _ in 0..2 {
        let reply = emulator
            .send(
                emulator
                    .api(Method::POST, "users")
                    .json(&personal("ada@example.com")),
            )
            .await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(reply.header("retry-after"), Some("1.5"));
        assert!(reply.header("lusid-meta-requestId").is_some());
        assert_eq!(reply.value()["status"], 429);
    }
    assert!(
        emulator.emulator.users().is_empty(),
        "nothing was processed"
    );
    let reply = emulator.send(emulator.api(Method::GET, "users")).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "other operations are not faulted"
    );
    let reply = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .json(&personal("ada@example.com")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "the rule is spent");
    assert_eq!(reply.header("retry-after"), None);
}

#[tokio::test]
async fn every_nth_call_and_server_errors_without_retry_after() {
    let emulator = TestEmulator::start().await;
    let fault = Fault::Status {
        status: 503,
        retry_after: None,
    };
    emulator
        .emulator
        .set_faults(vec![rule(None, fault, FaultWhen::Every { n: 3 })]);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let reply = emulator.send(emulator.api(Method::GET, "users")).await;
        assert_eq!(reply.header("retry-after"), None);
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 503, 200, 200, 503]);
    for status in [500, 502, 504] {
        emulator.emulator.set_faults(vec![rule(
            Some("ListUsers"),
            Fault::Status {
                status,
                retry_after: None,
            },
            FaultWhen::Always,
        )]);
        let reply = emulator.send(emulator.api(Method::GET, "users")).await;
        assert_eq!(reply.status.as_u16(), status);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
}

#[tokio::test]
async fn seeded_rates_repeat_exactly() {
    let emulator = TestEmulator::start().await;
    let rates = json!({"rules": [{"operation": "ListUsers", "fault": {"kind": "status", "status": 503},
                                  "when": {"kind": "rate", "rate": 0.5, "seed": 42}}]});
    let mut runs = Vec::new();
    for _ in 0..2 {
        let reply = emulator
            .send(emulator.hook(Method::PUT, "faults").json(&rates))
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(
                emulator
                    .send(emulator.api(Method::GET, "users"))
                    .await
                    .status
                    .as_u16(),
            );
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&503) && runs[0].contains(&200),
        "{:?}",
        runs[0]
    );
    let listed = emulator.send(emulator.hook(Method::GET, "faults")).await;
    assert_eq!(listed.value(), rates);

    let invalid = json!({"rules": [{"fault": {"kind": "status", "status": 503}, "when": {"kind": "every", "n": 0}}]});
    let reply = emulator
        .send(emulator.hook(Method::PUT, "faults").json(&invalid))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_fields(), ["rules[0]"]);
}

#[tokio::test(start_paused = true)]
async fn delay_faults_wait_on_tokios_clock_then_process() {
    let emulator = TestEmulator::start().await;
    emulator.emulator.set_faults(vec![rule(
        Some("CreateUser"),
        Fault::Delay { ms: 30_000 },
        FaultWhen::Next { n: 1 },
    )]);
    let started = tokio::time::Instant::now();
    let reply = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .json(&personal("ada@example.com")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emulator.emulator.users().len(), 1);
    emulator.send(emulator.api(Method::GET, "users")).await;
    let log = emulator.emulator.requests();
    assert!(log[1].elapsed_ms - log[0].elapsed_ms >= 30_000.0, "{log:?}");
}

#[tokio::test]
async fn close_before_processing_drops_the_connection_and_changes_nothing() {
    let emulator = TestEmulator::start().await;
    emulator.emulator.set_faults(vec![rule(
        Some("CreateUser"),
        Fault::CloseBeforeProcessing,
        FaultWhen::Next { n: 1 },
    )]);
    let call = emulator
        .api(Method::POST, "users")
        .json(&personal("ada@example.com"));
    let failed = emulator.http.try_send(&call).await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(emulator.emulator.users().is_empty());
    let log = emulator.emulator.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].operation.as_deref(), log[0].status),
        (Some("CreateUser"), None)
    );
    assert_eq!(
        emulator.send(call).await.status,
        StatusCode::OK,
        "the next call goes through"
    );
}

#[tokio::test]
async fn close_before_processing_resets_an_http2_stream() {
    let mut emulator = TestEmulator::start().await;
    emulator.http = crate::common::Http::http2();
    emulator.emulator.set_faults(vec![rule(
        Some("ListUsers"),
        Fault::CloseBeforeProcessing,
        FaultWhen::Next { n: 1 },
    )]);
    let call = emulator.api(Method::GET, "users");
    assert!(emulator.http.try_send(&call).await.is_err());
    assert_eq!(emulator.send(call).await.status, StatusCode::OK);
}

#[tokio::test]
async fn close_after_processing_makes_the_change_then_drops_the_connection() {
    let emulator = TestEmulator::start().await;
    emulator.emulator.set_faults(vec![rule(
        Some("CreateUser"),
        Fault::CloseAfterProcessing,
        FaultWhen::Always,
    )]);
    let call = emulator
        .api(Method::POST, "users")
        .json(&personal("ada@example.com"));
    assert!(emulator.http.try_send(&call).await.is_err());
    let users = emulator.emulator.users();
    assert_eq!(users.len(), 1, "the user WAS created");
    assert_eq!(users[0].login, "ada@example.com");
    let logged = &emulator.emulator.requests()[0];
    assert_eq!(logged.status, None);
    assert_eq!(logged.fault.as_deref(), Some("closeAfterProcessing"));
    assert_eq!(logged.processed_status, Some(200));
}

#[tokio::test]
async fn status_after_processing_makes_the_change_then_answers_like_a_gateway() {
    let emulator = TestEmulator::start().await;
    emulator.emulator.set_faults(vec![rule(
        Some("CreateUser"),
        Fault::StatusAfterProcessing { status: 503 },
        FaultWhen::Next { n: 1 },
    )]);
    let call = emulator
        .api(Method::POST, "users")
        .json(&personal("ada@example.com"));
    let reply = emulator.send(call).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    // Bare: nothing that says the service itself refused.
    assert_eq!(reply.header("lusid-meta-requestid"), None);
    assert_eq!(reply.header("retry-after"), None);
    assert_eq!(reply.header("content-type"), Some("text/plain"));
    let users = emulator.emulator.users();
    assert_eq!(users.len(), 1, "the user WAS created");
    let logged = &emulator.emulator.requests()[0];
    assert_eq!(logged.status, Some(503));
    assert_eq!(logged.fault.as_deref(), Some("statusAfterProcessing"));
    assert_eq!(logged.processed_status, Some(200));
    // A status fault before processing is noted too, with no processed status.
    emulator.emulator.set_faults(vec![rule(
        Some("ListUsers"),
        Fault::Status {
            status: 503,
            retry_after: None,
        },
        FaultWhen::Next { n: 1 },
    )]);
    emulator.send(emulator.api(Method::GET, "users")).await;
    let logged = emulator.emulator.requests().pop().unwrap();
    assert_eq!(logged.fault.as_deref(), Some("status"));
    assert_eq!(logged.processed_status, None);
}

#[tokio::test]
async fn token_faults_answer_oauth_errors() {
    let emulator = TestEmulator::start().await;
    let fault = Fault::Status {
        status: 429,
        retry_after: Some("2".into()),
    };
    emulator
        .emulator
        .set_faults(vec![rule(Some("Token"), fault, FaultWhen::Always)]);
    let call = Call::new(Method::POST, emulator.emulator.token_url())
        .raw_body("application/x-www-form-urlencoded", "grant_type=password");
    let reply = emulator.send(call).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("2"));
    assert_eq!(reply.value()["error"], "temporarily_unavailable");
    assert_eq!(
        emulator
            .send(emulator.api(Method::GET, "users"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        emulator.emulator.requests()[0].operation.as_deref(),
        Some("Token")
    );
}

#[tokio::test]
async fn reset_clears_users_schema_faults_log_and_issued_tokens() {
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    let schema = json!({"alternativeUserIds": [{"name": "employeeNo", "description": "HR"}]});
    emulator
        .send(emulator.api(Method::PUT, "users/schema").json(&schema))
        .await;
    let form = format!(
        "grant_type=password&username={}&password={}&client_id={}&client_secret={}",
        identity_emulator::DEFAULT_USERNAME,
        identity_emulator::DEFAULT_PASSWORD,
        identity_emulator::DEFAULT_CLIENT_ID,
        identity_emulator::DEFAULT_CLIENT_SECRET
    );
    let issued = emulator
        .send(
            Call::new(Method::POST, emulator.emulator.token_url())
                .raw_body("application/x-www-form-urlencoded", form),
        )
        .await
        .value();
    let token = issued["access_token"].as_str().unwrap().to_owned();
    emulator.emulator.set_faults(vec![rule(
        Some("GetUser"),
        Fault::Delay { ms: 1 },
        FaultWhen::Always,
    )]);

    assert_eq!(
        emulator
            .send(emulator.hook(Method::POST, "reset"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(emulator.emulator.users().is_empty());
    assert!(emulator.emulator.requests().is_empty());
    assert_eq!(
        emulator
            .send(emulator.hook(Method::GET, "faults"))
            .await
            .value(),
        json!({"rules": []})
    );
    assert_eq!(
        emulator
            .send(emulator.api(Method::GET, "users/schema"))
            .await
            .value(),
        json!({"alternativeUserIds": []})
    );
    let call = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    )
    .bearer(&token);
    assert_eq!(
        emulator.send(call).await.status,
        StatusCode::UNAUTHORIZED,
        "issued tokens are forgotten"
    );
}
