//! What the end-to-end tests share: an emulator on a loopback port and a
//! client of it, configured in code only (no environment, no secrets.json),
//! so that the tests do not depend on the machine they run on.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use finbourne_identity::{CreateUserRequest, IdentityClient, IdentityClientBuilder, UserResponse};
use identity_emulator::{Emulator, EmulatorConfig, RecordedRequest};

/// The static token the emulator accepts in these tests.
pub const TOKEN: &str = "e2e-static-token";

/// An emulator that accepts [`TOKEN`] and its default credentials.
pub async fn emulator() -> Emulator {
    identity_emulator::start(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts")
}

/// A builder for a client of `emulator`, reading nothing from the machine.
pub fn builder(emulator: &Emulator) -> IdentityClientBuilder {
    IdentityClient::builder()
        .environment(false)
        .base_url(emulator.base_url())
}

/// A client of `emulator` with the static token.
pub fn client(emulator: &Emulator) -> IdentityClient {
    builder(emulator).access_token(TOKEN).build().unwrap()
}

/// A client of `emulator` that authenticates with the password grant.
pub fn password_client(emulator: &Emulator) -> IdentityClient {
    builder(emulator)
        .token_url(emulator.token_url())
        .username(identity_emulator::DEFAULT_USERNAME)
        .password(identity_emulator::DEFAULT_PASSWORD)
        .client_id(identity_emulator::DEFAULT_CLIENT_ID)
        .client_secret(identity_emulator::DEFAULT_CLIENT_SECRET)
        .build()
        .unwrap()
}

/// Creates a Personal user named `first` with login `first@example.com`.
pub async fn create(client: &IdentityClient, first: &str) -> UserResponse {
    let email = format!("{}@example.com", first.to_lowercase());
    client
        .users()
        .create_user(&CreateUserRequest::personal(first, "Tester", &email))
        .send()
        .await
        .unwrap()
}

/// The API requests the emulator received (token requests left out).
pub fn api_requests(emulator: &Emulator) -> Vec<RecordedRequest> {
    emulator
        .requests()
        .into_iter()
        .filter(|request| request.operation.as_deref() != Some("Token"))
        .collect()
}
