//! [`AfterUnknownOutcome`]: the mark of a call's last error when an earlier
//! attempt of the call may have been processed.
//!
//! The retry layer replays an idempotent call after a failure that may have
//! reached the service (a dropped connection, a 5xx). When a later attempt
//! then fails too, its error speaks of that attempt alone: a connection
//! refused, or the throttle's refusal, both "not sent". The call itself may
//! have taken effect all the same, through the earlier attempt. The retry
//! layer marks such a final error ([`RetryError::after_unknown_outcome`]), so
//! that [`after_unknown_outcome`] tells, and the facade's
//! `is_outcome_unknown()` says so. (A final *answer* gets
//! [`ReplayedAfterUnknownOutcome`](identity_call::ReplayedAfterUnknownOutcome)
//! instead.)

use std::error::Error as StdError;
use std::fmt;

use tower::BoxError;

use crate::error::{TransportError, causes};

/// An error the retry layer hands back: looked into as a `dyn Error`, and
/// marked when an earlier attempt of the call may have been processed.
/// Implemented for `tower::BoxError` (the stack's error) and for
/// [`TransportError`] (the retry layer straight over the
/// [`HttpClient`](crate::HttpClient)).
pub trait RetryError: AsRef<dyn StdError + Send + Sync + 'static> {
    /// Marks this, the call's last error, as following an attempt the
    /// service may have processed.
    fn after_unknown_outcome(&mut self);
}

impl RetryError for BoxError {
    fn after_unknown_outcome(&mut self) {
        let last = std::mem::replace(self, Box::new(AfterUnknownOutcome::empty()));
        *self = Box::new(AfterUnknownOutcome { last: Some(last) });
    }
}

impl RetryError for TransportError {
    fn after_unknown_outcome(&mut self) {
        self.mark_after_unknown_outcome();
    }
}

/// The last error of a call replayed after an attempt the service may have
/// processed: whatever this error says of its own attempt, the call's effect
/// may have happened. Its source is that last error.
#[derive(Debug)]
pub struct AfterUnknownOutcome {
    last: Option<BoxError>,
}

impl AfterUnknownOutcome {
    fn empty() -> Self {
        Self { last: None }
    }
}

impl fmt::Display for AfterUnknownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an earlier attempt of the call may have been processed; the last one failed")
    }
}

impl StdError for AfterUnknownOutcome {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let last: &(dyn StdError + Send + Sync + 'static) = self.last.as_deref()?;
        Some(last)
    }
}

/// Whether `error` is (or wraps) the last error of a call replayed after an
/// attempt the service may have processed.
pub fn after_unknown_outcome(error: &(dyn StdError + 'static)) -> bool {
    causes(error).any(|e| {
        e.is::<AfterUnknownOutcome>()
            || e.downcast_ref::<TransportError>()
                .is_some_and(TransportError::is_after_unknown_outcome)
    })
}
