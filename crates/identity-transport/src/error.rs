//! Errors of this crate: [`TransportError`] when a call fails on its way to
//! the service or back, [`BuildError`] when a client or a layer cannot be
//! built from its configuration.
//!
//! Layers of the request path have `Error = tower::BoxError`, so errors of
//! other layers (the auth layer's, a user's middleware's) pass through them
//! unchanged. [`TransportError::find`] finds ours again, through any chain
//! of sources; [`failure_of`] says what a failure means for
//! [`identity_call::Outcome`], by the error at the head of the chain.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use identity_call::Failure;
use tower::BoxError;

/// A call failed between the client and the service: no usable answer came
/// back.
///
/// An HTTP answer, whatever its status, is never a `TransportError`: the
/// layers hand it back as a response. The message says what happened in
/// words a caller understands; it never holds a URL's credentials, a header
/// or a body. [`std::error::Error::source`] gives the underlying cause.
///
/// The error is cheap to clone (its source is shared), so a layer may keep
/// a copy.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportError {
    kind: TransportErrorKind,
    message: Cow<'static, str>,
    /// How long the service asked to wait, for [`TransportErrorKind::Throttled`].
    wait: Option<Duration>,
    /// Set by the retry layer on a call's last error when an earlier
    /// attempt may have been processed.
    after_unknown_outcome: bool,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Written by hand: std's `impl Error for Arc<T>` forwards `source()` to the
/// inner error's own source, so a derived `source()` returning the `Arc`
/// would hide the inner error from every walk of the chain.
impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source: &(dyn StdError + Send + Sync + 'static) = self.source.as_deref()?;
        Some(source)
    }
}

/// What kind of failure a [`TransportError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection to the service (or the proxy) could be opened: DNS,
    /// refused, unreachable. The request was not sent.
    Connect,
    /// The TLS handshake failed, for example an untrusted certificate. The
    /// request was not sent.
    Tls,
    /// The HTTP proxy refused or failed the CONNECT tunnel (wrong
    /// credentials, unknown host). The request was not sent.
    Proxy,
    /// A time limit ran out.
    Timeout(TimeoutKind),
    /// The answer's body is larger than the client's limit.
    BodyTooLarge,
    /// The connection failed while the request or the answer was in flight.
    Io,
    /// The connection closed before the whole answer arrived.
    Closed,
    /// The peer's answer was not valid HTTP.
    Http,
    /// The request cannot be sent as it is (a URL without a host, a header
    /// value that is not valid in HTTP). Nothing was sent.
    InvalidRequest,
    /// The service is throttling the client, and the call's turn would come
    /// after its deadline or its longest wait
    /// ([`RequestOptions::longest_wait`](identity_call::RequestOptions::longest_wait)):
    /// the [throttle](crate::throttle) ended it without sending it.
    /// [`TransportError::wait`] says how long the service asked to wait.
    Throttled,
    /// Any other failure of the HTTP stack.
    Other,
}

impl TransportErrorKind {
    /// A short, stable name of the kind (`connect_timeout`, `closed`, ...),
    /// for metrics and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Tls => "tls",
            TransportErrorKind::Proxy => "proxy",
            TransportErrorKind::Timeout(TimeoutKind::Connect) => "connect_timeout",
            TransportErrorKind::Timeout(TimeoutKind::Attempt) => "attempt_timeout",
            TransportErrorKind::Timeout(TimeoutKind::Total) => "total_timeout",
            TransportErrorKind::BodyTooLarge => "body_too_large",
            TransportErrorKind::Io => "io",
            TransportErrorKind::Closed => "closed",
            TransportErrorKind::Http => "http",
            TransportErrorKind::InvalidRequest => "invalid_request",
            TransportErrorKind::Throttled => "throttled",
            TransportErrorKind::Other => "other",
        }
    }
}

/// A low-cardinality name of a failure, for traces' and metrics'
/// `error.type`: this crate's kinds by name, any other error as `_OTHER`
/// (as OpenTelemetry asks).
pub(crate) fn error_type(error: &(dyn StdError + 'static)) -> &'static str {
    match TransportError::find(error) {
        Some(transport) => transport.kind().as_str(),
        None => "_OTHER",
    }
}

/// Which time limit a [`TransportErrorKind::Timeout`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Opening the connection (TCP, proxy tunnel and TLS handshake) took too
    /// long. The request was not sent.
    Connect,
    /// One attempt waited too long for the answer's headers, or for the next
    /// piece of its body.
    Attempt,
    /// The call's deadline passed (every attempt and wait included).
    Total,
}

/// Lets the retry policy look into a `TransportError` as it looks into a
/// `tower::BoxError`, so that [`RetryLayer`](crate::RetryLayer) works
/// straight over [`HttpClient`](crate::HttpClient).
impl AsRef<dyn std::error::Error + Send + Sync + 'static> for TransportError {
    fn as_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
}

impl TransportError {
    /// A new error of `kind` saying `message`.
    ///
    /// For transports and test doubles outside this crate; the message must
    /// not hold secrets.
    pub fn new(kind: TransportErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            wait: None,
            after_unknown_outcome: false,
            source: None,
        }
    }

    /// The service is throttling calls and this one's turn would come too
    /// late: after a wait of `wait`, as far as the client knows.
    pub fn throttled(wait: Option<Duration>) -> Self {
        let message = match wait {
            Some(wait) => Cow::Owned(format!(
                "the service is throttling calls and asked to wait {}, past the call's deadline or longest wait; it was not sent",
                identity_call::Seconds(wait)
            )),
            None => Cow::Borrowed(
                "the service is throttling calls and this one's turn would come past its deadline or longest wait; it was not sent",
            ),
        };
        Self {
            wait,
            ..Self::new(TransportErrorKind::Throttled, message)
        }
    }

    /// How long the service asked to wait, for a
    /// [`Throttled`](TransportErrorKind::Throttled) error.
    pub fn wait(&self) -> Option<Duration> {
        self.wait
    }

    /// What this failure means for [`identity_call::Outcome`].
    pub fn failure(&self) -> Failure {
        match self.kind {
            TransportErrorKind::Throttled => Failure::Throttled { wait: self.wait },
            kind if kind.is_retryable() && self.may_have_been_sent() => Failure::NoAnswer,
            kind if kind.is_retryable() => Failure::NotSent,
            _ => Failure::Final {
                may_have_been_sent: self.may_have_been_sent(),
            },
        }
    }

    /// The same error, caused by `source`.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// A time limit ran out.
    pub fn timeout(kind: TimeoutKind) -> Self {
        let message = match kind {
            TimeoutKind::Connect => "timed out opening a connection to the service",
            TimeoutKind::Attempt => "timed out waiting for the service to answer (attempt timeout)",
            TimeoutKind::Total => "the call's total timeout ran out before the service answered",
        };
        Self::new(TransportErrorKind::Timeout(kind), message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the call was replayed after an attempt the service may have
    /// processed, this being its last error: see
    /// [`retry::AfterUnknownOutcome`](crate::retry::AfterUnknownOutcome).
    pub fn is_after_unknown_outcome(&self) -> bool {
        self.after_unknown_outcome
    }

    pub(crate) fn mark_after_unknown_outcome(&mut self) {
        self.after_unknown_outcome = true;
    }

    /// Whether the request may have reached the service: `false` only when
    /// it provably did not (no connection, no tunnel, no TLS session, or it
    /// could not be written at all), nor did an earlier attempt of the call.
    pub fn may_have_been_sent(&self) -> bool {
        self.after_unknown_outcome
            || !matches!(
                self.kind,
                TransportErrorKind::Connect
                    | TransportErrorKind::Tls
                    | TransportErrorKind::Proxy
                    | TransportErrorKind::InvalidRequest
                    | TransportErrorKind::Throttled
                    | TransportErrorKind::Timeout(TimeoutKind::Connect)
            )
    }

    /// Whether trying the call again could succeed: the failure was of the
    /// network or of time, not of the request nor of the configuration.
    ///
    /// Whether it is *safe* to try again is another question: see
    /// [`TransportError::may_have_been_sent`] and the retry layer.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// Whether this is a timeout, and which.
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        match self.kind {
            TransportErrorKind::Timeout(kind) => Some(kind),
            _ => None,
        }
    }

    /// The `TransportError` in a layer's boxed error: the error itself, or
    /// the first one in its chain of sources (an auth error caused by a
    /// failed connection to the token endpoint, for example).
    pub fn from_box(error: &BoxError) -> Option<&TransportError> {
        Self::find(&**error)
    }

    /// The first `TransportError` in `error` and its chain of sources.
    pub fn find<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a TransportError> {
        causes(error).find_map(|e| e.downcast_ref())
    }
}

/// `error` and its chain of causes, looking inside `std::io::Error`s too
/// (whose `source()` skips the error they wrap).
pub(crate) fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn StdError + 'static)| {
        match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        }
    })
}

/// The kind and message of a failure hyper reports while sending a request
/// or reading an answer.
pub(crate) fn hyper_failure(error: &hyper::Error) -> (TransportErrorKind, &'static str) {
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() {
        (
            TransportErrorKind::Closed,
            "the connection closed before the service's answer arrived",
        )
    } else if error.is_parse() || error.is_parse_status() {
        (
            TransportErrorKind::Http,
            "the answer received is not valid HTTP",
        )
    } else if error.is_user() {
        (
            TransportErrorKind::InvalidRequest,
            "the request cannot be sent as it is",
        )
    } else if error.is_timeout() {
        (
            TransportErrorKind::Timeout(TimeoutKind::Attempt),
            "timed out waiting for the service to answer (attempt timeout)",
        )
    } else if causes(error).any(|e| e.is::<std::io::Error>()) || error.is_body_write_aborted() {
        (
            TransportErrorKind::Io,
            "the connection failed while the request or its answer was in flight",
        )
    } else {
        (
            TransportErrorKind::Other,
            "the HTTP exchange with the service failed",
        )
    }
}

impl TransportErrorKind {
    /// Whether a failure of this kind could pass if tried again (see
    /// [`TransportError::is_retryable`]).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            TransportErrorKind::Connect
                | TransportErrorKind::Io
                | TransportErrorKind::Closed
                | TransportErrorKind::Throttled
                | TransportErrorKind::Timeout(TimeoutKind::Connect | TimeoutKind::Attempt)
        )
    }
}

/// What a failure without an answer means, as the data that
/// [`identity_call::Outcome::of_failure`] judges: the one place that says
/// which errors of the stack may be tried again.
///
/// It looks at the error at the head of the chain (through the
/// `std::io::Error`s that wrap others): a [`TransportError`] by its kind;
/// hyper-util's and hyper's own errors by what they say (for a stack whose
/// client is not [`HttpClient`](crate::HttpClient)). Any other error is
/// [`Failure::Final`], sent as far as anyone knows: its layer took its own
/// decision. That holds for the auth layer's errors: a connection to the
/// token endpoint that failed was already retried by the token endpoint's
/// own retries, and the transport error inside an `AuthError` must not
/// make the call's retry layer fetch the token again.
pub fn failure_of(error: &(dyn StdError + 'static)) -> Failure {
    let head = causes(error)
        .find(|e| !e.is::<std::io::Error>())
        .unwrap_or(error);
    if let Some(ours) = head.downcast_ref::<TransportError>() {
        return ours.failure();
    }
    if let Some(legacy) = head.downcast_ref::<hyper_util::client::legacy::Error>() {
        if legacy.is_connect() {
            return Failure::NotSent;
        }
        if let Some(hyper_error) = causes(legacy).find_map(|e| e.downcast_ref::<hyper::Error>()) {
            return TransportError::new(hyper_failure(hyper_error).0, "").failure();
        }
    }
    if let Some(hyper_error) = head.downcast_ref::<hyper::Error>() {
        return TransportError::new(hyper_failure(hyper_error).0, "").failure();
    }
    Failure::Final {
        may_have_been_sent: true,
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Attempt => "attempt",
            TimeoutKind::Total => "total",
        })
    }
}

/// A client or a layer cannot be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The extra CA certificate file cannot be read.
    #[error("cannot read the CA certificate file {path}")]
    CaFileUnreadable {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// The extra CA certificate file is not PEM, or holds no certificate.
    #[error("the CA certificate file {path} is not usable: {reason}")]
    CaFileInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS library refused its configuration.
    #[error("cannot set up TLS")]
    Tls(#[source] rustls::Error),
    /// The operating system's trust store cannot be used (no certificate
    /// found in it, or none usable).
    #[error(
        "cannot use the system's trust store: install its CA certificates (or name a PEM bundle with SSL_CERT_FILE), give an extra CA file, or build with the webpki-roots feature"
    )]
    TrustStore(#[source] rustls::Error),
    /// No root certificate to verify servers with: the crate was built
    /// without the `native-roots` and `webpki-roots` features, and no extra
    /// CA file was given.
    #[error(
        "no root certificate to verify servers with: enable the native-roots or webpki-roots feature, or give an extra CA file"
    )]
    NoTrustedRoots,
    /// A proxy setting is not usable. The message names the setting (a
    /// variable such as `HTTPS_PROXY`, or the explicit proxy's address) and
    /// never shows credentials.
    #[error("the proxy setting {setting} is not usable: {reason}")]
    InvalidProxy {
        /// Which setting, and its value without credentials when it is a
        /// variable.
        setting: Cow<'static, str>,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// A configured header value cannot be sent in HTTP.
    #[error("the {name} setting is not a valid HTTP header value")]
    InvalidHeaderValue {
        /// Which setting.
        name: &'static str,
    },
    /// The retry budget's settings are out of range.
    #[error("invalid retry budget: {0}")]
    InvalidRetryBudget(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_before_sending_say_not_sent() {
        let not_sent = [
            TransportErrorKind::Connect,
            TransportErrorKind::Tls,
            TransportErrorKind::Proxy,
            TransportErrorKind::InvalidRequest,
            TransportErrorKind::Timeout(TimeoutKind::Connect),
        ];
        let maybe_sent = [
            TransportErrorKind::Io,
            TransportErrorKind::Closed,
            TransportErrorKind::Http,
            TransportErrorKind::BodyTooLarge,
            TransportErrorKind::Other,
            TransportErrorKind::Timeout(TimeoutKind::Attempt),
            TransportErrorKind::Timeout(TimeoutKind::Total),
        ];
        for kind in not_sent {
            assert!(
                !TransportError::new(kind, "x").may_have_been_sent(),
                "{kind:?}"
            );
        }
        for kind in maybe_sent {
            assert!(
                TransportError::new(kind, "x").may_have_been_sent(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn retryable_kinds_are_network_and_time_failures() {
        let retryable = [
            TransportErrorKind::Connect,
            TransportErrorKind::Io,
            TransportErrorKind::Closed,
            TransportErrorKind::Timeout(TimeoutKind::Connect),
            TransportErrorKind::Timeout(TimeoutKind::Attempt),
        ];
        let final_ = [
            TransportErrorKind::Tls,
            TransportErrorKind::Proxy,
            TransportErrorKind::BodyTooLarge,
            TransportErrorKind::InvalidRequest,
            TransportErrorKind::Http,
            TransportErrorKind::Other,
            TransportErrorKind::Timeout(TimeoutKind::Total),
        ];
        for kind in retryable {
            assert!(TransportError::new(kind, "x").is_retryable(), "{kind:?}");
        }
        for kind in final_ {
            assert!(!TransportError::new(kind, "x").is_retryable(), "{kind:?}");
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("auth failed")]
    struct Wrapper(#[source] TransportError);

    #[test]
    fn from_box_finds_the_error_itself_and_in_a_chain() {
        let direct: BoxError = Box::new(TransportError::timeout(TimeoutKind::Total));
        assert_eq!(
            TransportError::from_box(&direct).map(TransportError::kind),
            Some(TransportErrorKind::Timeout(TimeoutKind::Total))
        );
        let wrapped: BoxError = Box::new(Wrapper(TransportError::new(
            TransportErrorKind::Connect,
            "could not connect",
        )));
        assert_eq!(
            TransportError::from_box(&wrapped).map(TransportError::kind),
            Some(TransportErrorKind::Connect)
        );
        let other: BoxError = "something else".into();
        assert!(TransportError::from_box(&other).is_none());
    }

    #[test]
    fn the_source_is_chained() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let error =
            TransportError::new(TransportErrorKind::Io, "the connection failed").with_source(io);
        assert_eq!(error.to_string(), "the connection failed");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("reset")
        );
    }
}
