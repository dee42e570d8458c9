//! Integration tests of identity-transport over loopback sockets: one test
//! binary, one module per area.

// Helpers outside `#[test]` functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod emulator;
mod proxy;
mod response_body;
mod support;
mod tls;
mod trace_spans;
