//! [`CallContext`]: everything a call carries beside its HTTP request, as
//! one extension of the request.

use std::time::{Duration, Instant};

use crate::{OperationInfo, RequestOptions};

/// What one call carries beside its HTTP request: set by `identity-users`
/// (the operation, the caller's options) and completed by the layers of the
/// stack with what they learn for the layers below them (the deadline, the
/// read timeout and the number of the attempt).
///
/// It travels as one value in the request's [`http::Extensions`], rather
/// than a value per layer: the extensions are a map of boxed values, so one
/// value costs one allocation where five cost five, and the retry layer's
/// copy of the request copies one. Each layer reads and writes its own
/// fields; the typed readers ([`RequestOptions::of`], [`OperationInfo::of`],
/// and the transport's `Deadline::of`, `ReadTimeout::of`,
/// `RetryAttempt::of`) read them.
///
/// ```
/// use std::time::Duration;
/// use identity_options::{CallContext, OperationInfo, RequestOptions};
///
/// let mut request = http::Request::new(());
/// let context = CallContext::of_mut(&mut request);
/// context.operation = Some(OperationInfo::new("GetUser", "/api/users/{id}", true));
/// context.options = RequestOptions::new().total_timeout(Duration::from_secs(5));
///
/// assert_eq!(OperationInfo::of(&request).map(|o| o.name), Some("GetUser"));
/// assert_eq!(RequestOptions::of(&request).total_timeout, Some(Duration::from_secs(5)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallContext {
    /// Which operation of the contract the call is (set by `identity-users`).
    pub operation: Option<OperationInfo>,
    /// The caller's overrides of the client's settings.
    pub options: RequestOptions,
    /// When the whole call must be over (set by the total-timeout layer).
    pub deadline: Option<Instant>,
    /// The read timeout of the current attempt (set by the attempt-timeout
    /// layer for the HTTP client, which bounds every wait for the body).
    pub read_timeout: Option<Duration>,
    /// The number of the current attempt, from 1; 0 before the retry layer
    /// has started a second one (the first attempt).
    pub attempt: u32,
    /// How long the retry layer waited before the current attempt.
    pub waited: Duration,
    /// Whether this request is the retry layer's replay of a 401 that a new
    /// token could fix (see [`ReplayWithNewToken`](crate::ReplayWithNewToken)):
    /// the auth layer lets a 401 to it stand.
    pub replay_with_new_token: bool,
}

impl CallContext {
    /// The context a request carries, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<&CallContext> {
        request.extensions().get::<CallContext>()
    }

    /// The context of a request, put there (empty) if it had none.
    pub fn of_mut<B>(request: &mut http::Request<B>) -> &mut CallContext {
        request
            .extensions_mut()
            .get_or_insert_default::<CallContext>()
    }
}
