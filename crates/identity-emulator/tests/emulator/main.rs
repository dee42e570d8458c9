//! End-to-end tests of the emulator over loopback sockets, with a plain
//! HTTP client. One test binary, one module per area.

// Helpers outside `#[test]` functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The helpers of `common` are `pub` for the modules beside it.
#![allow(unreachable_pub)]

mod auth;
mod browser;
mod common;
mod concurrency;
mod faults;
mod lifecycle;
mod limits;
mod log;
mod paths;
mod persistence;
mod rate_limit;
mod scale;
mod server;
mod settings;
mod tokens;
mod tool;
mod users;
