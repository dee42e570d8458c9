//! The facade's one error type: every layer's error, kept whole, with the
//! questions a caller asks of it answered in one place.
//!
//! The layers below report in their own types: `identity_users::Error` for a
//! call, with the stack's failure boxed inside it, `TransportError` for the
//! HTTP stack, `AuthError` for tokens, `ConfigError` for settings. [`Error`]
//! wraps them without losing any detail (the originals stay reachable through
//! [`std::error::Error::source`] and the accessors) and answers: what kind of
//! failure is it ([`Error::kind`]), did the service answer and with what
//! ([`Error::api`], [`Error::status`], [`Error::field_errors`],
//! [`Error::request_id`]), may the request have reached the service
//! ([`Error::may_have_been_sent`]), and could retrying help
//! ([`Error::is_retryable`]).

use std::collections::BTreeMap;

use http::StatusCode;
use identity_auth::AuthError;
use identity_config::ConfigError;
use identity_transport::{BuildError, TransportError, TransportErrorKind};
use identity_users::ApiError;

/// A client could not be built, or a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is missing a setting or has a wrong one.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client could not be built (e.g. an unreadable CA file).
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A call failed.
    #[error(transparent)]
    Call(#[from] identity_users::Error),
    /// The blocking client was called from inside an async runtime, where
    /// blocking a thread would stall other tasks: use the async client
    /// there. Nothing was sent.
    #[error(
        "the blocking client was called from inside an async runtime; use the async IdentityClient there"
    )]
    BlockingInAsync,
    /// The blocking client's background runtime could not be started.
    #[error("the blocking client's runtime could not be started")]
    Runtime(#[source] std::io::Error),
}

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Settings missing or wrong; nothing was sent.
    Config,
    /// The input can never be sent (an empty id, `..`); nothing was sent.
    InvalidInput,
    /// The service answered with an error status, after any retries.
    Api,
    /// The service throttled the call (429, its own 503, or its token
    /// endpoint's 429) for longer than the call could wait:
    /// [`Error::retry_after`] says how long it asked. Nothing was done.
    Throttled,
    /// The token endpoint refused the credentials, or no token could be had.
    Auth,
    /// No answer came back: connect, TLS or proxy failure, a timeout, the
    /// connection closed before the answer.
    NoAnswer,
    /// An answer came but could not be read or decoded.
    Decode,
    /// A failure of a layer this crate does not know (a layer of yours).
    Other,
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use identity_users::Error as Call;
        match self {
            Self::Config(_) | Self::Build(_) | Self::BlockingInAsync => ErrorKind::Config,
            Self::Runtime(_) => ErrorKind::Other,
            Self::Call(Call::InvalidInput { .. } | Call::Serialize { .. }) => {
                ErrorKind::InvalidInput
            }
            _ if self.is_throttled() => ErrorKind::Throttled,
            Self::Call(Call::Api(_)) => ErrorKind::Api,
            Self::Call(Call::Decode { .. } | Call::ElementTooLarge { .. }) => ErrorKind::Decode,
            Self::Call(Call::Body { .. }) => match self.transport().map(TransportError::kind) {
                Some(TransportErrorKind::BodyTooLarge) => ErrorKind::Decode,
                _ => ErrorKind::NoAnswer,
            },
            // What failed, found through every wrapper (the retry layer's
            // mark, an auth error around a failed connection).
            Self::Call(Call::Service { .. }) => match (self.auth(), self.transport()) {
                (Some(AuthError::Unreachable { .. } | AuthError::Timeout { .. }), _) => {
                    // A token endpoint that does not answer is no answer too.
                    ErrorKind::NoAnswer
                }
                (Some(AuthError::InsecureTarget { .. }), _) => ErrorKind::Config,
                (Some(_), _) => ErrorKind::Auth,
                (None, Some(_)) => ErrorKind::NoAnswer,
                (None, None) => ErrorKind::Other,
            },
            Self::Call(_) => ErrorKind::Other,
        }
    }

    /// The service's error answer: status, headers, raw body, problem details.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Call(call) => call.api(),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when one came.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Call(call) => call.status(),
            _ => None,
        }
    }

    /// The service's id of the request, for support.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(ApiError::request_id)
    }

    /// The messages of each invalid field, for a validation failure.
    pub fn field_errors(&self) -> Option<&BTreeMap<String, Vec<String>>> {
        self.api()
            .map(ApiError::field_errors)
            .filter(|errors| !errors.is_empty())
    }

    /// 404: the user does not exist.
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(ApiError::is_not_found)
    }

    /// 400 with field errors.
    pub fn is_validation(&self) -> bool {
        self.api().is_some_and(ApiError::is_validation)
    }

    /// The service throttled the call (a 429, its own 503, its token
    /// endpoint's 429) for longer than the call could wait: its deadline,
    /// or its `RequestOptions::longest_wait`. Nothing was done; try again
    /// after [`retry_after`](Self::retry_after).
    pub fn is_throttled(&self) -> bool {
        self.api().is_some_and(ApiError::is_throttled)
            || self
                .transport()
                .is_some_and(|error| error.kind() == TransportErrorKind::Throttled)
            || self.auth().is_some_and(AuthError::is_throttled)
    }

    /// How long the service asked to wait before trying again, when it said
    /// (its `Retry-After`).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        if let Some(api) = self.api() {
            return api.retry_after();
        }
        if let Some(auth) = self.auth().filter(|auth| auth.retry_after().is_some()) {
            return auth.retry_after();
        }
        self.transport().and_then(TransportError::wait)
    }

    /// A timeout ended the call (connect, attempt or total), or the token
    /// endpoint did not answer in time (its own timeout, or the call's
    /// deadline while the call waited for a token).
    pub fn is_timeout(&self) -> bool {
        self.transport()
            .is_some_and(|error| matches!(error.kind(), TransportErrorKind::Timeout(_)))
            || matches!(self.auth(), Some(AuthError::Timeout { .. }))
    }

    /// Whether the request may have reached the service, so that its effect
    /// may have happened: false only when it provably did not.
    pub fn may_have_been_sent(&self) -> bool {
        if self.after_unknown_outcome() {
            // An earlier attempt may have been processed, whatever the last
            // one's failure says.
            return true;
        }
        if self.auth().is_some() || matches!(self, Self::Runtime(_)) {
            // No token, or no runtime: the call itself was never sent.
            return false;
        }
        match self.kind() {
            ErrorKind::Config | ErrorKind::InvalidInput | ErrorKind::Auth => false,
            ErrorKind::Api | ErrorKind::Decode => true,
            // An answer of 429 came from the service; the throttle's refusal
            // and the token endpoint's 429 sent nothing.
            ErrorKind::Throttled => self.api().is_some(),
            ErrorKind::NoAnswer | ErrorKind::Other => self
                .transport()
                .is_none_or(TransportError::may_have_been_sent),
        }
    }

    /// Whether the call may or may not have taken effect: it may have
    /// reached the service, and no answer says what came of it (no answer
    /// at all; a 5xx, which a gateway may send after the service acted; or
    /// any answer to a replay after an attempt the service may have
    /// processed). For a CreateUser,
    /// [`UsersApi::settle_create_user`](crate::UsersApi::settle_create_user)
    /// finds out.
    pub fn is_outcome_unknown(&self) -> bool {
        if self.api().is_some_and(ApiError::follows_unknown_outcome) || self.after_unknown_outcome()
        {
            return true;
        }
        self.may_have_been_sent()
            && !self
                .status()
                .is_some_and(|status| status.is_success() || status.is_client_error())
    }

    /// Whether the same call later could succeed (throttling, a transient
    /// failure of the service or the network).
    pub fn is_retryable(&self) -> bool {
        if let Some(api) = self.api() {
            return api.is_retryable();
        }
        if let Some(transport) = self.transport() {
            return transport.is_retryable();
        }
        self.auth().is_some_and(AuthError::is_retryable)
    }

    /// The transport's error, when the HTTP stack failed.
    pub fn transport(&self) -> Option<&TransportError> {
        self.find_source()
    }

    /// Whether the call was replayed after an attempt the service may have
    /// processed, and failed after that.
    fn after_unknown_outcome(&self) -> bool {
        match self {
            Self::Call(identity_users::Error::Service { source, .. }) => {
                identity_transport::retry::after_unknown_outcome(&**source)
            }
            _ => false,
        }
    }

    /// The auth layer's error, when no token could be had.
    pub fn auth(&self) -> Option<&AuthError> {
        self.find_source()
    }

    /// The first error of type `E` in the chain of sources.
    fn find_source<E: std::error::Error + 'static>(&self) -> Option<&E> {
        let mut source: Option<&(dyn std::error::Error + 'static)> =
            std::error::Error::source(self);
        while let Some(error) = source {
            if let Some(found) = error.downcast_ref::<E>() {
                return Some(found);
            }
            source = error.source();
        }
        None
    }
}

#[cfg(test)]
mod tests {

    use std::time::Duration;

    use super::*;
    use identity_transport::TimeoutKind;
    use identity_users::Error as Call;

    fn no_answer(source: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Call(Call::Service {
            operation: "CreateUser",
            source: Box::new(source),
        })
    }

    #[test]
    fn a_connect_failure_is_no_answer_and_provably_not_sent() {
        let error = no_answer(TransportError::new(TransportErrorKind::Connect, "refused"));
        assert_eq!(error.kind(), ErrorKind::NoAnswer);
        assert!(!error.may_have_been_sent());
        assert!(error.is_retryable());
        assert!(error.transport().is_some());
    }

    #[test]
    fn a_connection_closed_before_the_answer_may_have_been_sent() {
        let error = no_answer(TransportError::new(TransportErrorKind::Closed, "closed"));
        assert_eq!(error.kind(), ErrorKind::NoAnswer);
        assert!(error.may_have_been_sent());
        assert!(error.is_outcome_unknown());
        let refused = no_answer(TransportError::new(TransportErrorKind::Connect, "refused"));
        assert!(!refused.is_outcome_unknown());
    }

    #[test]
    fn a_5xx_answer_leaves_the_outcome_unknown_and_a_4xx_does_not() {
        let answered = |status: u16| {
            Error::Call(Call::Api(Box::new(ApiError::new(
                "CreateUser",
                StatusCode::from_u16(status).unwrap(),
                http::HeaderMap::new(),
                bytes::Bytes::new(),
            ))))
        };
        assert!(answered(503).is_outcome_unknown());
        assert!(answered(500).is_outcome_unknown());
        assert!(!answered(400).is_outcome_unknown());
        assert!(!answered(404).is_outcome_unknown());
    }

    #[test]
    fn a_timeout_says_so() {
        let error = no_answer(TransportError::timeout(TimeoutKind::Total));
        assert!(error.is_timeout());
        assert_eq!(error.kind(), ErrorKind::NoAnswer);
    }

    #[test]
    fn a_body_over_the_limit_is_a_decode_failure_after_an_answer() {
        let error = Error::Call(Call::Body {
            operation: "ListUsers",
            status: StatusCode::OK,
            source: Box::new(TransportError::new(
                TransportErrorKind::BodyTooLarge,
                "too large",
            )),
        });
        assert_eq!(error.kind(), ErrorKind::Decode);
        assert!(error.may_have_been_sent());
        assert_eq!(error.status(), Some(StatusCode::OK));
    }

    #[test]
    fn no_token_means_the_call_was_never_sent() {
        let refused = no_answer(AuthError::BadResponse {
            reason: "no access_token".into(),
        });
        assert_eq!(refused.kind(), ErrorKind::Auth);
        assert!(!refused.is_timeout());
        assert!(!refused.may_have_been_sent());
        let slow = no_answer(AuthError::Timeout {
            timeout: Duration::from_secs(30),
        });
        assert_eq!(slow.kind(), ErrorKind::NoAnswer);
        assert!(slow.is_timeout());
        assert!(!slow.may_have_been_sent());
        let unreachable = no_answer(AuthError::Unreachable {
            source: identity_auth::SharedSource::new(TransportError::new(
                TransportErrorKind::Connect,
                "down",
            )),
        });
        assert_eq!(unreachable.kind(), ErrorKind::NoAnswer);
        assert!(!unreachable.may_have_been_sent());
        // The connection failure inside is found through the auth error.
        assert_eq!(
            unreachable.transport().map(TransportError::kind),
            Some(TransportErrorKind::Connect)
        );
    }

    #[test]
    fn an_error_of_a_layer_we_do_not_know_is_other_and_maybe_sent() {
        let error = no_answer(std::io::Error::other("a layer of yours"));
        assert_eq!(error.kind(), ErrorKind::Other);
        assert!(error.may_have_been_sent());
    }

    #[test]
    fn missing_settings_are_a_config_error_naming_them() {
        let error = crate::IdentityClient::builder()
            .environment(false)
            .secrets_file("/nonexistent/secrets.json")
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        let error = crate::IdentityClient::builder()
            .environment(false)
            .access_token("t")
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        assert!(error.to_string().contains("FBN_IDENTITY_URL"), "{error}");
        assert!(!error.may_have_been_sent());
        // A bad proxy address too, wherever it comes from.
        let error = crate::IdentityClient::builder()
            .environment(false)
            .identity_url("https://acme.lusid.com/identity")
            .access_token("t")
            .proxy_address("not a proxy")
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        assert!(error.to_string().contains("proxy address"), "{error}");
    }
}
