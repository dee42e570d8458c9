//! The request log, through the library and the hooks.

use http::{Method, StatusCode};
use identity_emulator::RecordedRequest;

use crate::common::{TestEmulator, id_of};

#[tokio::test]
async fn records_raw_requests_masked_and_without_hooks() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    emulator.set_status(&id, "ACTIVE").await;
    let call = emulator
        .api(Method::GET, &format!("users/{id}?includeRoles=True&x=%20y"))
        .header("cookie", "session=secret-cookie")
        .header("X-LUSID-SDK-Language", "Rust");
    emulator.send(call).await;

    let reply = emulator.send(emulator.hook(Method::GET, "requests")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(
        !text.contains(crate::common::TOKEN) && !text.contains("secret-cookie"),
        "{text}"
    );
    assert!(!text.contains("Lovelace"), "bodies are never logged");
    let log: Vec<RecordedRequest> = reply.json();
    let mut direct = emulator.emulator.requests();
    for (served, read) in log.iter().zip(&mut direct) {
        assert!((served.elapsed_ms - read.elapsed_ms).abs() < 1e-6);
        read.elapsed_ms = served.elapsed_ms;
    }
    assert_eq!(log, direct, "the hook serves what the library reads");
    assert_eq!(log.len(), 2, "hooks are not logged: {log:?}");
    assert_eq!(log[0].operation.as_deref(), Some("CreateUser"));
    assert_eq!(log[0].status, Some(200));
    let get = &log[1];
    assert_eq!(get.method, "GET");
    assert_eq!(get.path, format!("/identity/api/users/{id}"));
    assert_eq!(get.query.as_deref(), Some("includeRoles=True&x=%20y"));
    assert_eq!(get.operation.as_deref(), Some("GetUser"));
    assert_eq!(get.status, Some(200));
    assert_eq!(get.headers["authorization"], "Bearer ***");
    assert_eq!(get.headers["cookie"], "***");
    assert_eq!(get.headers["x-lusid-sdk-language"], "Rust");
    assert!(
        time::OffsetDateTime::parse(&get.time, &time::format_description::well_known::Rfc3339)
            .is_ok()
    );
    let value = reply.value();
    assert!(value[1].get("elapsedMs").is_some() && value[1].get("operation").is_some());

    assert_eq!(
        emulator
            .send(emulator.hook(Method::DELETE, "requests"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert!(emulator.emulator.requests().is_empty());
    emulator.send(emulator.api(Method::GET, "users")).await;
    emulator.emulator.clear_requests();
    assert!(emulator.emulator.requests().is_empty());
}

#[tokio::test]
async fn a_create_carried_out_names_its_login_whatever_became_of_its_answer() {
    use identity_emulator::{Fault, FaultRule, FaultWhen};
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    // The same login again: refused, nothing created.
    let again = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .json(&crate::common::personal("ada@example.com")),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    // Created, then its answer dropped.
    emulator.emulator.set_faults(vec![
        FaultRule::new(Some("CreateUser"), Fault::CloseAfterProcessing)
            .when(FaultWhen::Next { n: 1 }),
    ]);
    let dropped = emulator
        .http
        .try_send(
            &emulator
                .api(Method::POST, "users")
                .json(&crate::common::personal("bob@example.com")),
        )
        .await;
    assert!(dropped.is_err(), "the answer was dropped");
    let created: Vec<Option<String>> = emulator
        .emulator
        .requests()
        .into_iter()
        .map(|request| request.created_login)
        .collect();
    assert_eq!(
        created,
        [
            Some("ada@example.com".to_owned()),
            None,
            Some("bob@example.com".to_owned())
        ]
    );
}
