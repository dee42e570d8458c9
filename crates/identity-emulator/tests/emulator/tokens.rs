//! The OAuth2 token endpoint: grants, client authentication, expiry.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{Method, StatusCode};
use identity_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, EmulatorConfig,
};
use serde_json::Value;

use crate::common::{Call, Reply, TestEmulator};

const FORM: &str = "application/x-www-form-urlencoded";

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn password_form(username: &str, password: &str) -> String {
    format!(
        "grant_type=password&username={username}&password={password}&scope=openid+client+groups+offline_access\
         &client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}"
    )
}

fn token_request(emulator: &TestEmulator, body: String) -> Call {
    Call::new(Method::POST, emulator.emulator.token_url()).raw_body(FORM, body)
}

async fn users_with(emulator: &TestEmulator, token: &str) -> StatusCode {
    let call = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    )
    .bearer(token);
    emulator.send(call).await.status
}

fn oauth_error(reply: &Reply) -> (StatusCode, String, String) {
    let body: Value = reply.value();
    (
        reply.status,
        body["error"].as_str().unwrap().to_owned(),
        body["error_description"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn password_grant_issues_a_bearer_token_the_api_accepts() {
    let emulator = TestEmulator::start().await;
    let reply = emulator
        .send(token_request(
            &emulator,
            password_form(DEFAULT_USERNAME, DEFAULT_PASSWORD),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.value();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600, "an integer");
    assert_eq!(body["scope"], "openid client groups offline_access");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|token| token.len() >= 32)
    );
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 32);
    assert_eq!(users_with(&emulator, token).await, StatusCode::OK);
}

#[tokio::test]
async fn password_grant_accepts_http_basic_client_authentication() {
    let emulator = TestEmulator::start().await;
    let body =
        format!("grant_type=password&username={DEFAULT_USERNAME}&password={DEFAULT_PASSWORD}");
    let call = token_request(&emulator, body).header(
        "authorization",
        &basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    );
    assert_eq!(emulator.send(call).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_user_credentials_are_invalid_grant_and_bad_clients_invalid_client() {
    let emulator = TestEmulator::start().await;
    let reply = emulator
        .send(token_request(
            &emulator,
            password_form(DEFAULT_USERNAME, "wrong"),
        ))
        .await;
    assert_eq!(oauth_error(&reply).0, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&reply).1, "invalid_grant");
    let reply = emulator
        .send(token_request(
            &emulator,
            password_form("someone", DEFAULT_PASSWORD),
        ))
        .await;
    assert_eq!(oauth_error(&reply).1, "invalid_grant");

    let body =
        format!("grant_type=password&username={DEFAULT_USERNAME}&password={DEFAULT_PASSWORD}");
    let call = token_request(&emulator, body.clone())
        .header("authorization", &basic(DEFAULT_CLIENT_ID, "wrong"));
    let reply = emulator.send(call).await;
    assert_eq!(oauth_error(&reply).0, StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&reply).1, "invalid_client");
    assert!(
        reply
            .header("www-authenticate")
            .is_some_and(|value| value.starts_with("Basic"))
    );
    let reply = emulator.send(token_request(&emulator, body)).await;
    assert_eq!(
        oauth_error(&reply).1,
        "invalid_client",
        "no client credentials at all"
    );
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(!text.contains(DEFAULT_PASSWORD));
}

#[tokio::test]
async fn malformed_token_requests_are_400() {
    let emulator = TestEmulator::start().await;
    let reply = emulator
        .send(
            Call::new(Method::POST, emulator.emulator.token_url())
                .raw_body("application/json", "{}"),
        )
        .await;
    assert_eq!(oauth_error(&reply).1, "invalid_request");
    let body = format!(
        "grant_type=client_credentials&client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}"
    );
    let reply = emulator.send(token_request(&emulator, body)).await;
    assert_eq!(oauth_error(&reply).1, "unsupported_grant_type");
    let body = format!("client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}");
    let reply = emulator.send(token_request(&emulator, body)).await;
    assert_eq!(oauth_error(&reply).1, "invalid_request");
}

#[tokio::test]
async fn refresh_grant_with_basic_auth_issues_a_new_access_token() {
    let emulator = TestEmulator::start().await;
    let first = emulator
        .send(token_request(
            &emulator,
            password_form(DEFAULT_USERNAME, DEFAULT_PASSWORD),
        ))
        .await;
    let first = first.value();
    let refresh_token = first["refresh_token"].as_str().unwrap();
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh_token}&scope=openid+client+groups+offline_access"
    );
    let call = token_request(&emulator, body).header(
        "authorization",
        &basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    );
    let reply = emulator.send(call).await;
    assert_eq!(reply.status, StatusCode::OK);
    let second = reply.value();
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(
        second["refresh_token"], first["refresh_token"],
        "refresh tokens are not rotated"
    );
    assert_eq!(
        users_with(&emulator, second["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
    assert_eq!(
        users_with(&emulator, first["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );

    // The client may also authenticate in the body.
    let body = format!(
        "grant_type=refresh_token&refresh_token={refresh_token}&client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}"
    );
    assert_eq!(
        emulator.send(token_request(&emulator, body)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_refresh_tokens_are_invalid_grant() {
    let emulator = TestEmulator::start().await;
    let body = "grant_type=refresh_token&refresh_token=made-up".to_owned();
    let call = token_request(&emulator, body).header(
        "authorization",
        &basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    );
    let reply = emulator.send(call).await;
    assert_eq!(
        oauth_error(&reply),
        (
            StatusCode::BAD_REQUEST,
            "invalid_grant".to_owned(),
            "The refresh token is invalid or expired.".to_owned()
        )
    );
}

#[tokio::test(start_paused = true)]
async fn access_tokens_expire_after_the_ttl_on_tokios_clock() {
    let config = EmulatorConfig {
        token_ttl: Duration::from_secs(60),
        ..EmulatorConfig::default()
    };
    let emulator = TestEmulator::with(config).await;
    let reply = emulator
        .send(token_request(
            &emulator,
            password_form(DEFAULT_USERNAME, DEFAULT_PASSWORD),
        ))
        .await;
    let body = reply.value();
    assert_eq!(body["expires_in"], 60);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(users_with(&emulator, &token).await, StatusCode::OK);

    tokio::time::advance(Duration::from_secs(61)).await;
    let call = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    )
    .bearer(&token);
    let reply = emulator.send(call).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(
        reply
            .header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
    assert_eq!(
        users_with(&emulator, crate::common::TOKEN).await,
        StatusCode::OK,
        "static tokens never expire"
    );

    // The refresh token outlives the access token, then expires too.
    let refresh = |emulator: &TestEmulator| {
        token_request(
            emulator,
            format!("grant_type=refresh_token&refresh_token={refresh_token}"),
        )
        .header(
            "authorization",
            &basic(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        )
    };
    assert_eq!(
        emulator.send(refresh(&emulator)).await.status,
        StatusCode::OK
    );
    tokio::time::advance(Duration::from_secs(60 * 24)).await;
    let reply = emulator.send(refresh(&emulator)).await;
    assert_eq!(oauth_error(&reply).1, "invalid_grant");
}
