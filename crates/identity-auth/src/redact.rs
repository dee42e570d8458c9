//! `[REDACTED]` in `Debug` output, where a secret would be.

use std::fmt;

/// Shows as `[REDACTED]`.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
