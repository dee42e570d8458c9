//! The configuration of the SDK, from outside the crate: resolution from
//! the builder, an environment given as a map and `secrets.json` files; only
//! a file the user named is read; no secret in any `Debug`, `Display` or
//! error; the README's table of settings against the code's. One test
//! binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod planted;
mod readme;
mod redaction;
mod resolution;
