//! Bearer checks of the API and the hooks.

use http::{Method, StatusCode};

use crate::common::{Call, TestEmulator};

#[tokio::test]
async fn no_token_is_401_with_a_bare_bearer_challenge() {
    let emulator = TestEmulator::start().await;
    let call = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    );
    let reply = emulator.send(call).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert!(reply.header("lusid-meta-requestId").is_some());
    let basic = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    )
    .header("authorization", "Basic dXNlcjpwYXNz");
    assert_eq!(
        emulator.send(basic).await.header("www-authenticate"),
        Some("Bearer")
    );
}

#[tokio::test]
async fn a_bad_token_is_401_invalid_token_on_every_route() {
    let emulator = TestEmulator::start().await;
    for path in [
        "users",
        "users/00u1",
        "users/schema",
        "directory?id=a",
        "no/such/route",
    ] {
        let call = Call::new(
            Method::GET,
            format!("{}/api/{path}", emulator.emulator.base_url()),
        )
        .bearer("wrong");
        let reply = emulator.send(call).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        let challenge = reply.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );
    }
    let empty = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    )
    .header("authorization", "Bearer ");
    assert!(
        emulator
            .send(empty)
            .await
            .header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
}

#[tokio::test]
async fn hooks_take_a_valid_token_or_none() {
    let emulator = TestEmulator::start().await;
    assert_eq!(
        emulator
            .send(emulator.hook(Method::GET, "requests"))
            .await
            .status,
        StatusCode::OK
    );
    let with_token = emulator
        .hook(Method::GET, "requests")
        .bearer(crate::common::TOKEN);
    assert_eq!(emulator.send(with_token).await.status, StatusCode::OK);
    let bad = emulator
        .send(emulator.hook(Method::GET, "requests").bearer("wrong"))
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}
