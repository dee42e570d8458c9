//! Integration tests of identity-users over test doubles of the stack: one
//! test binary, one module per area.

// Helpers outside `#[test]` functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod answers;
mod requests;
