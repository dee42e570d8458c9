//! [`Attempt`]: the read timeout of one attempt, the longest silence it
//! bears: before the answer's headers, and between two pieces of its body.
//!
//! The timeout is the call's
//! [`RequestOptions`](identity_call::RequestOptions) attempt timeout, else
//! the layer's default. An attempt that times out is one the retry layer may
//! try again (when the call is idempotent): the call's deadline is the total
//! timeout's business.

use std::time::Duration;

use identity_call::RequestOptions;
use tokio::time::Instant;

use super::{BodyBound, Limit, sealed};
use crate::error::TimeoutKind;

/// The default attempt (read) timeout: 60 s.
///
/// The official SDKs have none by default; without one, a service or a
/// proxy that accepts a request and never answers holds the call until the
/// total timeout, 30 minutes later. One minute is far longer than any
/// Identity call takes, and a timed-out attempt of an idempotent call is
/// retried.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// The limit of [`AttemptTimeoutLayer`](super::AttemptTimeoutLayer): fails an
/// attempt with [`TimeoutKind::Attempt`] when its answer's headers, or the
/// next piece of its body, do not come within the read timeout.
#[derive(Clone, Copy, Debug)]
pub enum Attempt {}

impl sealed::Sealed for Attempt {}

impl Limit for Attempt {
    const KIND: TimeoutKind = TimeoutKind::Attempt;
    const MARKS_ANSWER: bool = false;

    fn arm<B>(default: Duration, request: &mut http::Request<B>) -> (Option<Instant>, BodyBound) {
        let timeout = RequestOptions::of(request)
            .get_attempt_timeout()
            .unwrap_or(default);
        (
            Instant::now().checked_add(timeout),
            BodyBound::Idle(timeout),
        )
    }
}
