//! Integration tests of `fbn-identity`: the built binary run as a user runs
//! it, against emulators started by the tests. One test binary, one module
//! per area.

// Helpers outside `#[test]` functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk;
mod commands;
mod completions;
mod conveniences;
mod emulator;
mod failures;
mod file_safety;
mod for_scripts;
mod import;
mod round_trip;
mod secrets;
mod settling;
mod streaming;
mod support;
mod sync;
mod tls_trust;
mod trust;
