//! What the end-to-end tests share: an emulator on a loopback port and a
//! client of it, configured in code only (no environment, no secrets.json),
//! so that the tests do not depend on the machine they run on; and for the
//! reliability tests, the fault soak, a raw TCP server for hostile answers,
//! a recording relay and a recording CONNECT proxy, the emulator binary as
//! a child process, a `tracing` dispatcher a test can set on its own
//! threads, and a counting allocator.

#![allow(unreachable_pub)]

pub mod alloc;
pub mod emulator_process;
pub mod raw_server;
pub mod recording_proxy;
pub mod soak;
pub mod traces;

use finbourne_identity::testing::TestEmulator;
use finbourne_identity::{CreateUserRequest, IdentityClient, IdentityClientBuilder, UserResponse};
use identity_emulator::{Emulator, EmulatorConfig, RecordedRequest};

/// The static token the emulator accepts in these tests: the SDK's
/// `testing` emulator's.
pub const TOKEN: &str = finbourne_identity::testing::TEST_TOKEN;

/// An emulator that accepts [`TOKEN`] and its default credentials.
pub async fn emulator() -> TestEmulator {
    emulator_with(EmulatorConfig::default()).await
}

/// An emulator that accepts [`TOKEN`], with `config`'s other settings: the
/// SDK's own [`TestEmulator`], which these tests use as its users would.
pub async fn emulator_with(config: EmulatorConfig) -> TestEmulator {
    TestEmulator::start_with(config)
        .await
        .expect("the emulator starts")
}

/// A builder for a client of `base_url` that reads nothing from the machine
/// (no `FBN_*` variables, no `./secrets.json`).
pub fn builder(base_url: &str) -> IdentityClientBuilder {
    IdentityClient::builder()
        .environment(false)
        .base_url(base_url)
}

/// A client of `base_url` with the static token.
pub fn client(base_url: &str) -> IdentityClient {
    builder(base_url).access_token(TOKEN).build().unwrap()
}

/// A client of `emulator` that authenticates with the password grant.
pub fn password_client(emulator: &Emulator) -> IdentityClient {
    builder(&emulator.base_url())
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
