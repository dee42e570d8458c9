//! Hostile ids in paths: decoded once, never reaching another resource.

use http::{Method, StatusCode};

use crate::common::{TestEmulator, id_of};

#[tokio::test]
async fn encoded_slashes_and_dots_stay_inside_the_id_segment() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    let schema =
        serde_json::json!({"alternativeUserIds": [{"name": "employeeNo", "description": "HR"}]});
    emulator
        .send(emulator.api(Method::PUT, "users/schema").json(&schema))
        .await;

    let hostile = [
        "..%2Froles",
        "a%2Fb",
        "..%2Fschema",
        "%2E%2E%2Fschema",
        "..%2F..%2F..%2Foauth2%2Ftoken",
        &format!("{id}%2Flifecycle%2F$unlock"),
        &format!("{id}%3FincludeRoles=true"),
        "%FF",
    ];
    for segment in hostile {
        let reply = emulator
            .send(emulator.api(Method::GET, &format!("users/{segment}")))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "GET {segment}");
        assert_eq!(reply.code(), 657, "GET {segment}");
        let reply = emulator
            .send(emulator.api(Method::DELETE, &format!("users/{segment}")))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, 657),
            "DELETE {segment}"
        );
        let reply = emulator
            .send(emulator.api(
                Method::POST,
                &format!("users/{segment}/lifecycle/$activate"),
            ))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, 657),
            "$activate {segment}"
        );
    }
    // Nothing else was touched: the user and the schema are as they were.
    let users = emulator.emulator.users();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].status, identity_models::UserStatus::Provisioned);
    assert_eq!(
        emulator
            .send(emulator.api(Method::GET, "users/schema"))
            .await
            .value(),
        schema
    );

    // The log shows the raw paths, classified as the id operation they address.
    let log = emulator.emulator.requests();
    let entry = log
        .iter()
        .find(|entry| entry.path.ends_with("users/..%2Froles"))
        .unwrap();
    assert_eq!(entry.operation.as_deref(), Some("GetUser"));
    assert_eq!(entry.status, Some(404));
}

#[tokio::test]
async fn literal_dot_segments_reach_no_route() {
    let emulator = TestEmulator::start().await;
    let reply = emulator
        .send(emulator.api(Method::GET, "users/../users/schema"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = emulator.send(emulator.api(Method::GET, "users/a/b")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
