//! The values in force when no source sets a setting: the `default` column
//! of the table of settings (`table.rs`), read by the getters of
//! [`IdentityConfig`](crate::IdentityConfig).
//!
//! The layers of `identity-transport`, usable without this crate, have the
//! same defaults of their own; a test of the facade holds the two to each
//! other.

use std::time::Duration;

/// The total timeout of a call: 30 minutes, as the official SDKs.
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The time to open a connection (TCP, proxy tunnel and TLS): 10 s.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The read timeout of one attempt: 60 s (the official SDKs have none).
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Retries of a failure (5xx, connection failures, attempt timeouts), for
/// calls that may be replayed: 3.
pub const TRANSIENT_RETRIES: u32 = 3;

/// The largest answer body read: 64 MiB.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
