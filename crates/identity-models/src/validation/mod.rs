//! Client-side checks of request bodies against the contract's limits, so that
//! a bad request fails before it is sent, with the same field names and
//! messages the service (and the emulator, which answers its 400s from these
//! checks) would give.
//!
//! Every check collects all violations into one [`ValidationErrors`] rather
//! than stopping at the first.

mod errors;
mod rules;
mod schema_rules;
mod user_id;
mod user_rules;

pub use errors::ValidationErrors;
pub use user_id::is_valid_user_id;
