//! identity-auth's integration tests, in one binary: the token cache, the
//! auth layer over a mock, the password grant against the emulator, and
//! redaction.

// Helpers outside #[test] functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod emulator;
mod layer;
mod redaction;
