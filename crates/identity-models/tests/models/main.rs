//! Integration tests of identity-models, through its public API only: one
//! test binary, one module per area.

// Helpers outside `#[test]` functions are not seen as tests by clippy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod constructors;
mod enums;
mod fixtures;
mod roundtrip;
mod serde_rules;
mod support;
mod validation;
