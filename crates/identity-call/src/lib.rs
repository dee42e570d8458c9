//! What a FINBOURNE Identity call carries beside its HTTP request.
//!
//! `identity-users` builds each call as an `http::Request` and puts in its
//! [`http::Extensions`] the [`OperationInfo`] of the operation (its contract
//! name, path template and whether replaying it is safe), the caller's
//! [`RequestOptions`] when there are any, and the [`StreamedAnswer`] mark
//! when the answer is read as a stream of users. They are the one per-call
//! record the layers share: the layers of `identity-transport` and
//! `identity-auth` read them and never write into them.
//!
//! One value crosses from one layer's crate to another's: the call's
//! [`Deadline`], set by the total-timeout layer (transport) and read by
//! whoever must stop waiting at it, the auth layer among them. It is
//! defined here, once, as are the marks that layers put on an answer for
//! `identity-users` to read: the retry layer's
//! [`ReplayedAfterUnknownOutcome`], and the auth layer's [`CredentialSent`]
//! on a 401 (which credential was refused).
//! What a layer tells only the layers of its own crate (an attempt's
//! number) stays in that crate.
//!
//! What an answer or a failure means ([`Outcome`]: success, refused,
//! throttled or unavailable with the wait asked, overloaded, transient,
//! unknown, not sent, failed) is decided here too, once, for the retry layer, the throttle,
//! the errors and the metrics alike.
//!
//! This small crate is the vocabulary both sides share, so that the
//! operations crate does not depend on the transport crate nor the
//! transport on the operations.
//!
//! ```
//! use std::time::Duration;
//! use identity_call::{OperationInfo, RequestOptions};
//!
//! let mut request = http::Request::new(());
//! OperationInfo::new("GetUser", "/api/users/{id}", true).set_on(&mut request);
//! RequestOptions::new()
//!     .total_timeout(Duration::from_secs(5))
//!     .rate_limit_retries(0)
//!     .set_on(&mut request);
//!
//! assert!(identity_call::is_idempotent(&request));
//! assert_eq!(RequestOptions::of(&request).get_rate_limit_retries(), Some(0));
//! ```

mod credential;
mod deadline;
mod loopback;
mod outcome;
mod retry_after;

use std::fmt;
use std::time::Duration;

pub use credential::CredentialSent;
pub use deadline::Deadline;
pub use loopback::is_loopback;
pub use outcome::{Failure, Outcome};
pub use retry_after::{Seconds, retry_after};

use http::{HeaderName, HeaderValue};

/// The header in which the service names each request it answers
/// (`lusid-meta-requestId`), for support: the errors of `identity-users`
/// report it and the tracing layer records it.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("lusid-meta-requestid");

/// Per-call overrides of the client's settings, as the official SDKs' `opts`.
///
/// Every setting left unset keeps the client's. Put the options on a
/// request with [`set_on`](Self::set_on) (the operation builders of
/// `identity-users` do it with `.options(...)`); each layer of the stack
/// reads the setting it owns.
///
/// ```
/// use std::time::Duration;
/// use identity_call::RequestOptions;
///
/// let options = RequestOptions::new()
///     .attempt_timeout(Duration::from_secs(2))
///     .correlation_id("nightly-sync-42")?;
/// assert_eq!(options.get_correlation_id().map(|id| id.as_bytes()), Some(&b"nightly-sync-42"[..]));
/// assert!(RequestOptions::new().correlation_id("line\nbreak").is_err());
/// # Ok::<(), identity_call::InvalidCorrelationId>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    total_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    rate_limit_retries: Option<u32>,
    transient_retries: Option<u32>,
    longest_wait: Option<Duration>,
    idempotent: Option<bool>,
    correlation_id: Option<HeaderValue>,
}

/// The options of a request that carries none.
static NO_OPTIONS: RequestOptions = RequestOptions {
    total_timeout: None,
    attempt_timeout: None,
    rate_limit_retries: None,
    transient_retries: None,
    longest_wait: None,
    idempotent: None,
    correlation_id: None,
};

impl RequestOptions {
    /// Options that override nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The options a request carries, or the empty options when it has none.
    pub fn of<B>(request: &http::Request<B>) -> &RequestOptions {
        request
            .extensions()
            .get::<RequestOptions>()
            .unwrap_or(&NO_OPTIONS)
    }

    /// Makes these the options of `request`.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        request.extensions_mut().insert(self);
    }

    /// Deadline of the whole call, every attempt and backoff wait included.
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// Read timeout of one attempt.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// At most this many retries of a throttled answer (429); 0 returns the first one. Without it a throttled
    /// call is waited out, for as long as its deadline allows.
    pub fn rate_limit_retries(mut self, retries: u32) -> Self {
        self.rate_limit_retries = Some(retries);
        self
    }

    /// The longest the call waits at once for the service's pace: a
    /// `Retry-After` longer than this, or a turn of the client's throttle
    /// further away, ends the call at once as throttled (saying how long the
    /// service asked to wait) instead of waiting. Without it, only the
    /// call's deadline bounds a wait.
    pub fn longest_wait(mut self, wait: Duration) -> Self {
        self.longest_wait = Some(wait);
        self
    }

    /// How many times a transient failure (5xx, connection error, attempt
    /// timeout) may be retried.
    pub fn transient_retries(mut self, retries: u32) -> Self {
        self.transient_retries = Some(retries);
        self
    }

    /// Overrides the operation's idempotency: `true` lets the retry layer
    /// replay the call after a failure that may have reached the service,
    /// `false` forbids it unless the request provably never reached it.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// The `CorrelationId` header of this call, kept across its attempts;
    /// refused at once when it cannot be an HTTP header value.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Result<Self, InvalidCorrelationId> {
        let value = HeaderValue::try_from(id.into()).map_err(|_| InvalidCorrelationId)?;
        self.correlation_id = Some(value);
        Ok(self)
    }
}

/// The settings, read by the layers (`None`: the client's setting holds).
impl RequestOptions {
    /// The call's total timeout.
    pub fn get_total_timeout(&self) -> Option<Duration> {
        self.total_timeout
    }

    /// The read timeout of each attempt of the call.
    pub fn get_attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }

    /// How many times the call may retry a throttled answer.
    pub fn get_rate_limit_retries(&self) -> Option<u32> {
        self.rate_limit_retries
    }

    /// The longest the call waits at once for the service's pace.
    pub fn get_longest_wait(&self) -> Option<Duration> {
        self.longest_wait
    }

    /// How many times the call may retry a transient failure.
    pub fn get_transient_retries(&self) -> Option<u32> {
        self.transient_retries
    }

    /// The call's own idempotency.
    pub fn get_idempotent(&self) -> Option<bool> {
        self.idempotent
    }

    /// The call's `CorrelationId` header value.
    pub fn get_correlation_id(&self) -> Option<&HeaderValue> {
        self.correlation_id.as_ref()
    }
}

/// A correlation id that is not a valid HTTP header value (a line break, a
/// control character).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidCorrelationId;

impl fmt::Display for InvalidCorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the correlation id is not a valid HTTP header value")
    }
}

impl std::error::Error for InvalidCorrelationId {}

/// Which operation of the contract a request is.
///
/// Set by `identity-users` on every request it builds. The retry layer reads
/// [`OperationInfo::idempotent`], the tracing layer the name and the path
/// template (never the path itself, which may hold an id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationInfo {
    name: &'static str,
    path_template: &'static str,
    idempotent: bool,
}

impl OperationInfo {
    /// Describes an operation.
    pub const fn new(name: &'static str, path_template: &'static str, idempotent: bool) -> Self {
        Self {
            name,
            path_template,
            idempotent,
        }
    }

    /// The contract's name of the operation, e.g. `GetUser`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The path template, e.g. `/api/users/{id}`.
    pub const fn path_template(&self) -> &'static str {
        self.path_template
    }

    /// Whether the operation may be replayed after a failure that may have
    /// reached the service: repeating it leaves the service as one call would.
    pub const fn idempotent(&self) -> bool {
        self.idempotent
    }

    /// The operation a request carries, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<&OperationInfo> {
        request.extensions().get::<OperationInfo>()
    }

    /// Makes this the operation of `request`.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        request.extensions_mut().insert(self);
    }
}

/// The mark of an answer to a call that was sent again after an attempt the
/// service may have processed (it failed after the request may have
/// reached the service: a dropped connection, a timeout, a 5xx).
///
/// Set on the final answer by the retry layer of `identity-transport`;
/// read by `identity-users`, for which an answer that says "already in the
/// state this call asked for" (a user no longer locked out, a purged user
/// not found) is then the earlier attempt's success, not a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayedAfterUnknownOutcome;

impl ReplayedAfterUnknownOutcome {
    /// Whether `response` carries the mark.
    pub fn is_on<B>(response: &http::Response<B>) -> bool {
        response.extensions().get::<Self>().is_some()
    }

    /// Puts the mark on `response`.
    pub fn set_on<B>(response: &mut http::Response<B>) {
        response.extensions_mut().insert(Self);
    }
}

/// The mark of a call whose answer is read as a stream of elements (a
/// streamed list), each element bounded by the reader, so that a list of
/// any size can be read.
///
/// Set on the request by `identity-users`' `stream()` (which refuses any
/// one user over 1 MiB). The answer's body is then bounded only by the
/// attempt's read timeout between pieces: neither the client's whole-body
/// size limit nor the call's [`Deadline`] (the total timeout), which hold
/// for every other answer, applies to it. Time to the answer's headers
/// stays bounded by both timeouts, as for any call.
///
/// ```
/// use identity_call::StreamedAnswer;
///
/// let mut request = http::Request::new(());
/// assert!(!StreamedAnswer::is_on(&request));
/// StreamedAnswer::set_on(&mut request);
/// assert!(StreamedAnswer::is_on(&request));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamedAnswer;

impl StreamedAnswer {
    /// Whether `request` carries the mark.
    pub fn is_on<B>(request: &http::Request<B>) -> bool {
        request.extensions().get::<Self>().is_some()
    }

    /// Puts the mark on `request`.
    pub fn set_on<B>(request: &mut http::Request<B>) {
        request.extensions_mut().insert(Self);
    }
}

/// Whether a request may be replayed after a failure that may have reached
/// the service.
///
/// The first answer wins: the call's [`RequestOptions::idempotent`], then its
/// [`OperationInfo::idempotent`], then the method's meaning in HTTP (GET, HEAD,
/// OPTIONS, PUT and DELETE are idempotent; POST and PATCH are not).
pub fn is_idempotent<B>(request: &http::Request<B>) -> bool {
    RequestOptions::of(request)
        .idempotent
        .or_else(|| OperationInfo::of(request).map(OperationInfo::idempotent))
        .unwrap_or_else(|| method_is_idempotent(request.method()))
}

fn method_is_idempotent(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::OPTIONS
            | http::Method::PUT
            | http::Method::DELETE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: http::Method) -> http::Request<()> {
        let mut request = http::Request::new(());
        *request.method_mut() = method;
        request
    }

    #[test]
    fn idempotency_follows_the_method_when_nothing_says_otherwise() {
        assert!(is_idempotent(&request(http::Method::GET)));
        assert!(is_idempotent(&request(http::Method::PUT)));
        assert!(is_idempotent(&request(http::Method::DELETE)));
        assert!(!is_idempotent(&request(http::Method::POST)));
        assert!(!is_idempotent(&request(http::Method::PATCH)));
    }

    #[test]
    fn the_operation_overrides_the_method_and_the_options_override_both() {
        let mut post = request(http::Method::POST);
        OperationInfo::new(
            "ResetFactors",
            "/api/users/{id}/lifecycle/$resetfactors",
            true,
        )
        .set_on(&mut post);
        assert!(is_idempotent(&post));
        RequestOptions::new().idempotent(false).set_on(&mut post);
        assert!(!is_idempotent(&post));
    }

    #[test]
    fn a_request_without_options_reads_the_empty_options() {
        assert_eq!(
            RequestOptions::of(&request(http::Method::GET)),
            &RequestOptions::new()
        );
    }

    #[test]
    fn a_correlation_id_is_checked_where_it_is_set() {
        assert_eq!(
            RequestOptions::new().correlation_id("bad\r\nvalue"),
            Err(InvalidCorrelationId)
        );
        let options = RequestOptions::new().correlation_id("this-call");
        assert_eq!(
            options.ok().and_then(|o| o.get_correlation_id().cloned()),
            Some(HeaderValue::from_static("this-call"))
        );
    }
}
