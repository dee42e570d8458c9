//! What the reliability suite's test crates share (each includes this module
//! with `#[path = "support_reliability/mod.rs"] mod support;`): an emulator
//! and a client of it configured in code only, the fault soak, a raw TCP
//! server for hostile answers, and the emulator binary as a child process.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

pub mod emulator_process;
pub mod raw_server;
pub mod recording_proxy;
pub mod soak;

use finbourne_identity::{IdentityClient, IdentityClientBuilder};
use identity_emulator::{Emulator, EmulatorConfig};

/// The static token the emulator accepts in these tests.
pub const TOKEN: &str = "reliability-static-token";

/// An emulator that accepts [`TOKEN`], with `config`'s other settings.
pub async fn emulator_with(config: EmulatorConfig) -> Emulator {
    let mut config = config;
    config.access_tokens.push(TOKEN.to_owned());
    identity_emulator::start(config)
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
