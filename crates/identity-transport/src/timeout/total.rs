//! [`Total`]: one deadline for the whole call.
//!
//! The deadline is the call's
//! [`RequestOptions`](identity_call::RequestOptions) total timeout from now,
//! else the layer's default; when the request already carries an earlier
//! [`Deadline`], that one stays. The layer arms its own timer for it, so it
//! bounds any inner service alone, puts the deadline on the request for the
//! layers below that must stop waiting at it, and bounds the answer's body
//! by it, unless the request is a
//! [`StreamedAnswer`], whose body is as long as the list it streams (the
//! attempt timeout still ends a silent one).

use std::time::Duration;

use identity_call::{RequestOptions, StreamedAnswer};
use tokio::time::Instant;

use super::{BodyBound, Deadline, Limit, sealed};
use crate::error::TimeoutKind;

/// The default total timeout: 30 minutes, as the official SDKs.
///
/// Calls of the Identity API are small, and the attempt timeout and the
/// retry counts end a failing call long before: this limit is the backstop
/// that bounds a call whatever the other settings, not the usual way a call
/// ends.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The limit of [`TotalTimeoutLayer`](super::TotalTimeoutLayer): sets the
/// call's [`Deadline`] and fails the call with [`TimeoutKind::Total`] when it
/// passes.
#[derive(Clone, Copy, Debug)]
pub enum Total {}

impl sealed::Sealed for Total {}

impl Limit for Total {
    const KIND: TimeoutKind = TimeoutKind::Total;
    const MARKS_ANSWER: bool = true;

    fn arm<B>(default: Duration, request: &mut http::Request<B>) -> (Option<Instant>, BodyBound) {
        let timeout = RequestOptions::of(request)
            .get_total_timeout()
            .unwrap_or(default);
        let deadline = match (Deadline::after(timeout), Deadline::of(request)) {
            (Some(ours), Some(earlier)) => Some(ours.min(earlier)),
            (ours, earlier) => ours.or(earlier),
        };
        let Some(deadline) = deadline else {
            return (None, BodyBound::None);
        };
        deadline.set_on(request);
        let body = if StreamedAnswer::is_on(request) {
            BodyBound::None
        } else {
            BodyBound::Until(deadline.instant())
        };
        (Some(deadline.instant()), body)
    }
}
