//! What a FINBOURNE Identity call carries beside its HTTP request.
//!
//! `identity-users` builds each call as an `http::Request` and puts one
//! value in its [`http::Extensions`], a [`CallContext`]: the
//! [`OperationInfo`] of the operation (its contract name, path template and
//! whether replaying it is safe) and the caller's [`RequestOptions`]. The
//! tower layers of `identity-transport` and `identity-auth` read them, and
//! fill in what they learn for the layers below (the deadline, the attempt).
//! This small crate is the vocabulary both sides share, so that the
//! operations crate does not depend on the transport crate nor the
//! transport on the operations. One value travels the other way, on an
//! answer: [`ReplayWithNewToken`], from the auth layer to the retry layer.
//!
//! ```
//! use std::time::Duration;
//! use identity_options::{OperationInfo, RequestOptions};
//!
//! let mut request = http::Request::new(());
//! OperationInfo::new("GetUser", "/api/users/{id}", true).set_on(&mut request);
//! RequestOptions::new()
//!     .total_timeout(Duration::from_secs(5))
//!     .rate_limit_retries(0)
//!     .set_on(&mut request);
//!
//! assert!(identity_options::is_idempotent(&request));
//! assert_eq!(RequestOptions::of(&request).rate_limit_retries, Some(0));
//! ```

mod context;

pub use context::CallContext;

use std::time::Duration;

/// Per-call overrides of the client's settings, as the official SDKs' `opts`.
///
/// Every field left `None` keeps the client's setting. Put a value in a
/// request's [`CallContext`] (the operation builders of `identity-users` do it with
/// `.options(...)`) and every layer of the stack reads the field it owns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Deadline of the whole call, every attempt and backoff wait included.
    pub total_timeout: Option<Duration>,
    /// Read timeout of one attempt (clipped to the time left of the call).
    pub attempt_timeout: Option<Duration>,
    /// How many times a 429 answer may be retried (0 turns it off).
    pub rate_limit_retries: Option<u32>,
    /// How many times a transient failure (5xx, connection error, attempt
    /// timeout) may be retried.
    pub transient_retries: Option<u32>,
    /// Override of the operation's idempotency: `Some(true)` lets the retry
    /// layer replay the call after a transient failure, `Some(false)` forbids
    /// it unless the request provably never reached the service.
    pub idempotent: Option<bool>,
    /// `CorrelationId` header of this call, kept across its attempts.
    pub correlation_id: Option<String>,
}

impl RequestOptions {
    /// Options that override nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The options a request carries, or the empty options when it has none.
    pub fn of<B>(request: &http::Request<B>) -> &RequestOptions {
        static NONE: RequestOptions = RequestOptions {
            total_timeout: None,
            attempt_timeout: None,
            rate_limit_retries: None,
            transient_retries: None,
            idempotent: None,
            correlation_id: None,
        };
        CallContext::of(request).map_or(&NONE, |context| &context.options)
    }

    /// Makes these the options of `request` (in its [`CallContext`]).
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        CallContext::of_mut(request).options = self;
    }

    /// Sets [`RequestOptions::total_timeout`].
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// Sets [`RequestOptions::attempt_timeout`].
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets [`RequestOptions::rate_limit_retries`].
    pub fn rate_limit_retries(mut self, retries: u32) -> Self {
        self.rate_limit_retries = Some(retries);
        self
    }

    /// Sets [`RequestOptions::transient_retries`].
    pub fn transient_retries(mut self, retries: u32) -> Self {
        self.transient_retries = Some(retries);
        self
    }

    /// Sets [`RequestOptions::idempotent`].
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Sets [`RequestOptions::correlation_id`].
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }
}

/// Which operation of the contract a request is.
///
/// Set by `identity-users` on every request it builds. The retry layer reads
/// [`OperationInfo::idempotent`], the tracing layer the name and the path
/// template (never the path itself, which may hold an id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationInfo {
    /// The contract's name of the operation, e.g. `GetUser`.
    pub name: &'static str,
    /// The path template, e.g. `/api/users/{id}`.
    pub path_template: &'static str,
    /// Whether the operation may be replayed after a failure that may have
    /// reached the service: repeating it leaves the service as one call would.
    pub idempotent: bool,
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

    /// The operation a request carries, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<&OperationInfo> {
        CallContext::of(request)?.operation.as_ref()
    }

    /// Makes this the operation of `request` (in its [`CallContext`]).
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        CallContext::of_mut(request).operation = Some(self);
    }
}

/// The mark of a 401 answer that sending the same request again can fix.
///
/// The auth layer of `identity-auth`, built with `replay_through_retry()`,
/// puts it in the extensions of a 401 answer when the token the request
/// carried has since been replaced (it drops the refused token and gets a
/// new one first). The retry layer of `identity-transport` replays a marked
/// answer once, at once: the service refused the request without acting on
/// it, so this is safe for any request. It puts the mark on the replayed
/// request too, and the auth layer lets a 401 to that one stand. Leaving the replay to the retry
/// layer means the request is copied once per call, by the layer that keeps
/// a copy anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayWithNewToken;

impl ReplayWithNewToken {
    /// Whether `response` carries the mark.
    pub fn is_on<B>(response: &http::Response<B>) -> bool {
        response.extensions().get::<ReplayWithNewToken>().is_some()
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
        .or_else(|| OperationInfo::of(request).map(|info| info.idempotent))
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
        http::Request::builder()
            .method(method)
            .body(())
            .unwrap_or_default()
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
        assert_eq!(post.extensions().len(), 1, "one context, not a value each");
    }

    #[test]
    fn a_request_without_options_reads_the_empty_options() {
        assert_eq!(
            RequestOptions::of(&request(http::Method::GET)),
            &RequestOptions::new()
        );
    }
}
