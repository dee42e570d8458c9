//! Which outcomes of an attempt may be retried, and why: an ordered list of
//! small classifiers, as in smithy-rs.
//!
//! Each classifier looks at the outcome (an answer's status and headers, or
//! an error) and says [`Verdict::Retry`] with a [`RetryReason`],
//! [`Verdict::DontRetry`], or [`Verdict::NoOpinion`]. The first opinion
//! wins; when no classifier has one, the outcome is final. The reason
//! decides the rest: which retry count it uses, whether `Retry-After` is
//! honoured, and whether a request that is not idempotent may be replayed.
//!
//! The standard list, in order: [`ThrottlingStatus`] (429, 503),
//! [`TransientStatus`] (500, 502, 504), [`TransportErrors`] (our errors, by
//! kind), [`HyperClientErrors`] (hyper-util's and hyper's own errors, for a
//! stack that does not use [`HttpClient`](crate::HttpClient)).
//!
//! ```
//! use identity_transport::retry::{Classifiers, ClassifyRetry, Outcome, RetryReason, Verdict};
//!
//! /// Also retry 408 Request Timeout, as a transient failure.
//! #[derive(Debug)]
//! struct RequestTimeout;
//!
//! impl ClassifyRetry for RequestTimeout {
//!     fn classify(&self, outcome: &Outcome<'_>) -> Verdict {
//!         match outcome.status() {
//!             Some(status) if status.as_u16() == 408 => Verdict::Retry(RetryReason::Transient),
//!             _ => Verdict::NoOpinion,
//!         }
//!     }
//! }
//!
//! let classifiers = Classifiers::standard().with(RequestTimeout);
//! # let _ = classifiers;
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, StatusCode};

use crate::error::{TransportError, causes, hyper_failure};

/// The outcome of one attempt, as a classifier sees it.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// An answer came back.
    Response {
        /// Its status.
        status: StatusCode,
        /// Its headers.
        headers: &'a HeaderMap,
    },
    /// The attempt failed without an answer.
    Error(&'a (dyn StdError + Send + Sync + 'static)),
}

impl Outcome<'_> {
    /// The answer's status, if there is an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Outcome::Response { status, .. } => Some(*status),
            Outcome::Error(_) => None,
        }
    }

    /// The error, if the attempt failed.
    pub fn error(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Outcome::Response { .. } => None,
            Outcome::Error(error) => Some(*error),
        }
    }
}

/// What a classifier says of an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// This classifier does not know: ask the next one.
    NoOpinion,
    /// The outcome is final.
    DontRetry,
    /// The call may be tried again, for this reason.
    Retry(RetryReason),
}

/// Why an outcome may be retried; it decides how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryReason {
    /// 429: the service refused the call without acting on it. Counts
    /// against the rate-limit retries; waits at least `Retry-After`; safe
    /// for any request.
    RateLimited,
    /// 503 from the service itself (it carries a `Retry-After`, the
    /// service's request id or a problem document): the service refused the
    /// call without acting on it. Counts against the transient retries;
    /// waits at least `Retry-After`; safe for any request.
    Unavailable,
    /// The request provably never reached the service (no connection).
    /// Counts against the transient retries; safe for any request.
    NotSent,
    /// A failure after the request may have reached the service (500, 502,
    /// 504, a bare 503, a dropped connection, an attempt timeout). Counts
    /// against the transient retries; only idempotent requests are replayed.
    Transient,
}

impl RetryReason {
    /// Whether a request that is not idempotent may be replayed: the
    /// service provably did not act on it.
    pub fn safe_for_any_request(self) -> bool {
        !matches!(self, RetryReason::Transient)
    }

    /// Whether the wait honours the answer's `Retry-After`.
    pub fn honours_retry_after(self) -> bool {
        matches!(self, RetryReason::RateLimited | RetryReason::Unavailable)
    }

    /// Whether the retry counts against the rate-limit retries (else the
    /// transient retries).
    pub fn is_rate_limit(self) -> bool {
        matches!(self, RetryReason::RateLimited)
    }

    /// A short name, for traces.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryReason::RateLimited => "rate limited",
            RetryReason::Unavailable => "unavailable",
            RetryReason::NotSent => "not sent",
            RetryReason::Transient => "transient",
        }
    }
}

/// One classifier of the list.
pub trait ClassifyRetry: fmt::Debug + Send + Sync + 'static {
    /// The classifier's verdict on an outcome.
    fn classify(&self, outcome: &Outcome<'_>) -> Verdict;
}

/// The ordered list of classifiers the retry policy asks.
#[derive(Clone, Debug)]
pub struct Classifiers {
    list: Vec<Arc<dyn ClassifyRetry>>,
}

impl Classifiers {
    /// No classifier: nothing is retried.
    pub fn empty() -> Self {
        Self { list: Vec::new() }
    }

    /// The standard list (see the [module docs](self)).
    pub fn standard() -> Self {
        Self::empty()
            .with(ThrottlingStatus)
            .with(TransientStatus)
            .with(TransportErrors)
            .with(HyperClientErrors)
    }

    /// The list with `classifier` asked after the others.
    pub fn with(mut self, classifier: impl ClassifyRetry) -> Self {
        self.list.push(Arc::new(classifier));
        self
    }

    /// The list with `classifier` asked before the others, so that its
    /// opinion overrides theirs.
    pub fn with_first(mut self, classifier: impl ClassifyRetry) -> Self {
        self.list.insert(0, Arc::new(classifier));
        self
    }

    /// The first opinion of the list on `outcome`, or `NoOpinion`.
    pub fn classify(&self, outcome: &Outcome<'_>) -> Verdict {
        self.list
            .iter()
            .map(|classifier| classifier.classify(outcome))
            .find(|verdict| *verdict != Verdict::NoOpinion)
            .unwrap_or(Verdict::NoOpinion)
    }
}

impl Default for Classifiers {
    fn default() -> Self {
        Self::standard()
    }
}

/// 429 is [`RetryReason::RateLimited`]. A 503 that shows it is the
/// service's own refusal (a `Retry-After`, the service's request id, or a
/// problem document) is [`RetryReason::Unavailable`]; a bare 503 is
/// [`RetryReason::Transient`], since a gateway (a load balancer, Envoy) may
/// answer it after it forwarded the request to a service that acted on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThrottlingStatus;

impl ClassifyRetry for ThrottlingStatus {
    fn classify(&self, outcome: &Outcome<'_>) -> Verdict {
        match outcome {
            Outcome::Response {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..
            } => Verdict::Retry(RetryReason::RateLimited),
            Outcome::Response {
                status: StatusCode::SERVICE_UNAVAILABLE,
                headers,
            } if is_the_services_own(headers) => Verdict::Retry(RetryReason::Unavailable),
            Outcome::Response {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..
            } => Verdict::Retry(RetryReason::Transient),
            _ => Verdict::NoOpinion,
        }
    }
}

/// Whether an answer shows it comes from the service itself, not from a
/// gateway in front of it.
fn is_the_services_own(headers: &HeaderMap) -> bool {
    let problem = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("problem+json"));
    problem
        || headers.contains_key(http::header::RETRY_AFTER)
        || headers.contains_key(identity_call::REQUEST_ID_HEADER)
}

/// 500, 502 and 504 are [`RetryReason::Transient`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TransientStatus;

impl ClassifyRetry for TransientStatus {
    fn classify(&self, outcome: &Outcome<'_>) -> Verdict {
        match outcome.status() {
            Some(
                StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::BAD_GATEWAY
                | StatusCode::GATEWAY_TIMEOUT,
            ) => Verdict::Retry(RetryReason::Transient),
            _ => Verdict::NoOpinion,
        }
    }
}

/// A [`TransportError`] (itself or in the error's chain) by what it says of
/// itself: not retryable is final, retryable and never sent is
/// [`RetryReason::NotSent`], retryable and maybe sent is
/// [`RetryReason::Transient`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TransportErrors;

impl ClassifyRetry for TransportErrors {
    fn classify(&self, outcome: &Outcome<'_>) -> Verdict {
        let Some(error) = outcome.error().and_then(TransportError::find) else {
            return Verdict::NoOpinion;
        };
        if !error.is_retryable() {
            Verdict::DontRetry
        } else if error.may_have_been_sent() {
            Verdict::Retry(RetryReason::Transient)
        } else {
            Verdict::Retry(RetryReason::NotSent)
        }
    }
}

/// hyper-util's legacy client errors: a connect failure is
/// [`RetryReason::NotSent`]; a closed or failed connection reported by
/// hyper is [`RetryReason::Transient`]; other hyper errors are final.
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperClientErrors;

impl ClassifyRetry for HyperClientErrors {
    fn classify(&self, outcome: &Outcome<'_>) -> Verdict {
        let Some(error) = outcome.error() else {
            return Verdict::NoOpinion;
        };
        let connect_failed = causes(error)
            .filter_map(|e| e.downcast_ref::<hyper_util::client::legacy::Error>())
            .any(hyper_util::client::legacy::Error::is_connect);
        if connect_failed {
            return Verdict::Retry(RetryReason::NotSent);
        }
        match causes(error).find_map(|e| e.downcast_ref::<hyper::Error>()) {
            Some(hyper_error) => {
                let (kind, _) = hyper_failure(hyper_error);
                if kind.is_retryable() {
                    Verdict::Retry(RetryReason::Transient)
                } else {
                    Verdict::DontRetry
                }
            }
            None => Verdict::NoOpinion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{TimeoutKind, TransportErrorKind};

    fn status(code: u16) -> Verdict {
        status_with(
            code,
            &[(identity_call::REQUEST_ID_HEADER.as_str(), "0HN:1")],
        )
    }

    fn status_with(code: u16, headers: &[(&str, &str)]) -> Verdict {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let status = StatusCode::from_u16(code).unwrap();
        Classifiers::standard().classify(&Outcome::Response {
            status,
            headers: &map,
        })
    }

    #[test]
    fn a_bare_503_may_come_from_a_gateway_after_the_service_acted() {
        assert_eq!(
            status_with(503, &[]),
            Verdict::Retry(RetryReason::Transient)
        );
        for own in [
            ("retry-after", "1"),
            ("lusid-meta-requestid", "0HN:2"),
            ("content-type", "application/problem+json; charset=utf-8"),
        ] {
            assert_eq!(
                status_with(503, &[own]),
                Verdict::Retry(RetryReason::Unavailable),
                "{own:?}"
            );
        }
    }

    fn error(kind: TransportErrorKind) -> Verdict {
        let error = TransportError::new(kind, "x");
        Classifiers::standard().classify(&Outcome::Error(&error))
    }

    #[test]
    fn statuses() {
        assert_eq!(status(429), Verdict::Retry(RetryReason::RateLimited));
        assert_eq!(status(503), Verdict::Retry(RetryReason::Unavailable));
        for code in [500, 502, 504] {
            assert_eq!(
                status(code),
                Verdict::Retry(RetryReason::Transient),
                "{code}"
            );
        }
        for code in [200, 204, 400, 401, 403, 404, 409, 501] {
            assert_eq!(status(code), Verdict::NoOpinion, "{code}");
        }
    }

    #[test]
    fn transport_errors() {
        assert_eq!(
            error(TransportErrorKind::Connect),
            Verdict::Retry(RetryReason::NotSent)
        );
        assert_eq!(
            error(TransportErrorKind::Timeout(TimeoutKind::Connect)),
            Verdict::Retry(RetryReason::NotSent)
        );
        for kind in [
            TransportErrorKind::Closed,
            TransportErrorKind::Io,
            TransportErrorKind::Timeout(TimeoutKind::Attempt),
        ] {
            assert_eq!(
                error(kind),
                Verdict::Retry(RetryReason::Transient),
                "{kind:?}"
            );
        }
        for kind in [
            TransportErrorKind::Tls,
            TransportErrorKind::Proxy,
            TransportErrorKind::BodyTooLarge,
            TransportErrorKind::InvalidRequest,
            TransportErrorKind::Http,
            TransportErrorKind::Other,
            TransportErrorKind::Timeout(TimeoutKind::Total),
        ] {
            assert_eq!(error(kind), Verdict::DontRetry, "{kind:?}");
        }
    }

    #[test]
    fn foreign_errors_have_no_opinion() {
        let error = std::io::Error::other("something else");
        assert_eq!(
            Classifiers::standard().classify(&Outcome::Error(&error)),
            Verdict::NoOpinion
        );
    }

    #[derive(Debug)]
    struct Never;

    impl ClassifyRetry for Never {
        fn classify(&self, _: &Outcome<'_>) -> Verdict {
            Verdict::DontRetry
        }
    }

    #[test]
    fn the_first_opinion_wins() {
        let headers = HeaderMap::new();
        let outcome = Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &headers,
        };
        assert_eq!(
            Classifiers::standard().with(Never).classify(&outcome),
            Verdict::Retry(RetryReason::RateLimited)
        );
        assert_eq!(
            Classifiers::standard().with_first(Never).classify(&outcome),
            Verdict::DontRetry
        );
        assert_eq!(Classifiers::empty().classify(&outcome), Verdict::NoOpinion);
    }

    /// hyper-util's own client, without our error mapping.
    async fn legacy_client_error(addr: std::net::SocketAddr) -> hyper_util::client::legacy::Error {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let uri = format!("http://{addr}/api/users").parse().unwrap();
        match client.get(uri).await {
            Ok(response) => panic!("unexpected answer {}", response.status()),
            Err(error) => error,
        }
    }

    #[tokio::test]
    async fn hyper_util_errors_are_classified_too() {
        let refused = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let error = legacy_client_error(refused).await;
        assert!(error.is_connect());
        let boxed: tower::BoxError = Box::new(error);
        assert_eq!(
            Classifiers::standard().classify(&Outcome::Error(&*boxed)),
            Verdict::Retry(RetryReason::NotSent)
        );

        // A server that reads the request and closes without answering.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            if let Ok((mut stream, _)) = listener.accept().await {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
            }
        });
        let error = legacy_client_error(addr).await;
        assert!(!error.is_connect());
        let boxed: tower::BoxError = Box::new(error);
        assert_eq!(
            Classifiers::standard().classify(&Outcome::Error(&*boxed)),
            Verdict::Retry(RetryReason::Transient)
        );
    }
}
