//! [`Limits`]: the bounds on what any caller, with a token or without, can
//! make the emulator hold: memory (a request's head, the request log, the
//! token grants) and connections (how many, how long a head may take to
//! arrive, how long one may sit idle).
//!
//! Each is a flag of the binary (`fbn-identity emulator --help`) and a field
//! here, with a default meant for a team sharing one emulator: far above
//! what a test or an SDK needs, far below what would exhaust a CI machine.

use std::time::Duration;

use crate::EmulatorError;

/// The smallest head bound the HTTP/1.1 server can work with: hyper's
/// smallest read buffer.
pub const MIN_HEAD_BYTES: usize = 8 * 1024;

/// How long a client of the SDK keeps an idle connection for its next call
/// (`identity_transport::client::DEFAULT_POOL_IDLE_TIMEOUT`). The
/// emulator's idle timeout is longer, so that it never closes a connection
/// the client may be reusing at that very moment: a request sent as the
/// server closes gets no answer, and a CreateUser without an answer is an
/// unknown outcome.
pub const SDK_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The longest timeout the emulator takes (a day): longer is no bound.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The bounds of one emulator (see the module's docs). `Default` gives the
/// binary's defaults.
///
/// ```
/// use identity_emulator::{EmulatorConfig, Limits};
///
/// let config = EmulatorConfig {
///     limits: Limits { max_connections: 64, ..Limits::default() },
///     ..EmulatorConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// assert!(config.limits.idle_timeout > identity_emulator::SDK_POOL_IDLE_TIMEOUT);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest request head (request line and headers), in bytes:
    /// a longer one is answered 431 Request Header Fields Too Large, as
    /// gateways answer, before any of it is logged or checked. At least
    /// [`MIN_HEAD_BYTES`]. Default 64 KiB.
    pub max_head_bytes: usize,
    /// How long a request's head may take to arrive, from its first byte
    /// (for a new connection, from the connection), before the connection
    /// is closed; and a request's body, whole (answered 408). Default 10 s.
    pub head_timeout: Duration,
    /// How long a connection may wait for its next request after an
    /// answer before it is closed. Longer than [`SDK_POOL_IDLE_TIMEOUT`] by
    /// default (120 s), so that the emulator never closes a connection as a
    /// client reuses it.
    pub idle_timeout: Duration,
    /// The most connections open at once. A new connection past it takes
    /// the place of the one that has waited longest for a request (idle,
    /// or still sending its head); when every one has a request in flight,
    /// the new one is answered 503 with `Retry-After` before its request is
    /// read, and closed. Default 512.
    pub max_connections: usize,
    /// The most entries the request log keeps (the latest). Default
    /// [`REQUEST_LOG_CAPACITY`](crate::REQUEST_LOG_CAPACITY) (100,000).
    pub request_log_entries: usize,
    /// The most bytes the request log's entries hold, together (the oldest
    /// go first). Default 64 MiB.
    pub request_log_bytes: usize,
    /// The most bytes one entry of the request log holds (its path, query
    /// and headers): past it, values are cut and the entry is marked
    /// `truncated`. Default 16 KiB.
    pub request_log_entry_bytes: usize,
    /// The largest body of a token request (the form): a larger one is
    /// answered 413, unread. Bounds every field of the form. Default 8 KiB.
    pub max_token_request_bytes: usize,
    /// The longest `scope` a grant may ask for (it is kept with the
    /// grant): a longer one is answered 400 `invalid_scope`. Default 1 KiB.
    pub max_scope_bytes: usize,
    /// The most refresh grants kept, and the most access tokens: past it,
    /// the oldest is forgotten (its holder is answered 401 and signs in
    /// again). Expired ones are swept as new ones are issued. Default 10,000.
    pub max_grants: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_bytes: 64 * 1024,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_connections: 512,
            request_log_entries: crate::REQUEST_LOG_CAPACITY,
            request_log_bytes: 64 * 1024 * 1024,
            request_log_entry_bytes: 16 * 1024,
            max_token_request_bytes: 8 * 1024,
            max_scope_bytes: 1024,
            max_grants: 10_000,
        }
    }
}

impl Limits {
    /// Checks that every bound can be honoured; the error names the flag.
    pub(crate) fn validate(&self) -> Result<(), EmulatorError> {
        let invalid =
            |setting, message: String| Err(EmulatorError::InvalidSetting { setting, message });
        if self.max_head_bytes < MIN_HEAD_BYTES {
            return invalid(
                "--max-head-bytes (limits.max_head_bytes)",
                format!(
                    "{} is less than the minimum of {MIN_HEAD_BYTES}",
                    self.max_head_bytes
                ),
            );
        }
        if u32::try_from(self.max_head_bytes).is_err() {
            return invalid(
                "--max-head-bytes (limits.max_head_bytes)",
                format!("{} is more than HTTP/2 can announce", self.max_head_bytes),
            );
        }
        for (setting, timeout) in [
            (
                "--head-timeout-secs (limits.head_timeout)",
                self.head_timeout,
            ),
            (
                "--idle-timeout-secs (limits.idle_timeout)",
                self.idle_timeout,
            ),
        ] {
            if timeout.is_zero() || timeout > MAX_TIMEOUT {
                return invalid(
                    setting,
                    format!("{timeout:?} is not between 1 ms and a day"),
                );
            }
        }
        for (setting, count) in [
            (
                "--max-connections (limits.max_connections)",
                self.max_connections,
            ),
            (
                "--request-log-entries (limits.request_log_entries)",
                self.request_log_entries,
            ),
            ("--max-grants (limits.max_grants)", self.max_grants),
            (
                "--max-scope-bytes (limits.max_scope_bytes)",
                self.max_scope_bytes,
            ),
        ] {
            if count == 0 {
                return invalid(setting, "0 would refuse everything".to_owned());
            }
        }
        if self.request_log_entry_bytes < 1024 {
            return invalid(
                "--request-log-entry-bytes (limits.request_log_entry_bytes)",
                format!(
                    "{} is less than the minimum of 1024",
                    self.request_log_entry_bytes
                ),
            );
        }
        if self.request_log_bytes < self.request_log_entry_bytes {
            return invalid(
                "--request-log-bytes (limits.request_log_bytes)",
                format!(
                    "{} is less than one entry ({} bytes, --request-log-entry-bytes)",
                    self.request_log_bytes, self.request_log_entry_bytes
                ),
            );
        }
        if self.max_token_request_bytes < 1024 {
            return invalid(
                "--max-token-request-bytes (limits.max_token_request_bytes)",
                format!(
                    "{} is less than the minimum of 1024",
                    self.max_token_request_bytes
                ),
            );
        }
        Ok(())
    }
}
