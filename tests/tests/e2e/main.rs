//! End-to-end tests of the FINBOURNE Identity SDK against the emulator over
//! real loopback sockets: one test binary, one module per area, and the
//! reliability suite (hostile input and answers, secrets, the fault soak,
//! the emulator under load).

// Helpers outside `#[test]` functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod blocking;
mod bounded_bodies;
mod custom_stack;
mod emulator_load;
mod fan_out;
mod hostile_input;
mod hostile_responses;
mod networks;
mod operations;
mod secrets;
mod soak;
mod streamed_lists;
mod support;
mod telemetry;
mod token_endpoint;
mod truthful_retries;
mod wire;
