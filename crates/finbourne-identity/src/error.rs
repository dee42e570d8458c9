//! The facade's one error type: every layer's error, kept whole, with the
//! questions a caller asks of it answered in one place.
//!
//! The layers below report in their own types: `identity_users::Error` for a
//! call, with the stack's failure boxed inside it, `TransportError` for the
//! HTTP stack, `AuthError` for tokens, `ConfigError` for settings. [`Error`]
//! wraps them without losing any detail (the originals stay reachable through
//! [`std::error::Error::source`] and the accessors) and answers: what kind of
//! failure is it ([`Error::kind`], one [`ErrorKind`] to `match` on, each
//! with its `is_*()` question), did the service answer and with what
//! ([`Error::api`], [`Error::status`], [`Error::code`],
//! [`Error::field_errors`], [`Error::request_id`]), may the request have
//! reached the service ([`Error::may_have_been_sent`]), and could retrying
//! help ([`Error::is_retryable`]).
//!
//! What an answer or a failure means is decided once, by
//! `identity_call::Outcome`: these questions ask it, they do not decide
//! again.
//!
//! `Debug` prints what `Display` says, then its causes, as anyhow does, so
//! that `fn main() -> Result<(), finbourne_identity::Error>` prints a
//! message a person can act on; `{:#?}` prints the structure.

use std::collections::BTreeMap;
use std::fmt;

use http::{HeaderMap, Method, StatusCode};
use identity_auth::AuthError;
use identity_call::Outcome;
use identity_config::ConfigError;
use identity_models::ErrorCode;
use identity_transport::{BuildError, TransportError, TransportErrorKind};
use identity_users::ApiError;

/// A client could not be built, or a call failed.
///
/// Ask it what happened with [`kind`](Self::kind) and the `is_*()`
/// questions (see [`ErrorKind`]); its `Debug` is its message and causes.
#[non_exhaustive]
pub enum Error {
    /// The configuration is missing a setting or has a wrong one.
    Config(ConfigError),
    /// The HTTP client could not be built (e.g. an unreadable CA file).
    Build(BuildError),
    /// A call failed.
    Call(identity_users::Error),
    /// The blocking client was called from inside an async runtime, where
    /// blocking a thread would stall other tasks: use the async client
    /// there. Nothing was sent.
    BlockingInAsync,
    /// The blocking client's background runtime could not be started.
    Runtime(std::io::Error),
    /// The test emulator could not start or do what was asked (the
    /// `testing` feature).
    #[cfg(feature = "testing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
    Emulator(identity_emulator::EmulatorError),
}

/// What kind of failure an [`Error`] is: the one value to `match` on.
///
/// Each kind that a program acts on has its question too
/// ([`Error::is_not_found`], [`Error::is_already_exists`],
/// [`Error::is_validation`], [`Error::is_throttled`],
/// [`Error::is_outcome_unknown`]), and the two agree: when `kind()` answers
/// a kind, its question answers true. When several questions hold (a 404 to
/// a DeleteUser replayed after an attempt of unknown outcome), `kind()`
/// answers the first in this order: outcome unknown, throttled, not found,
/// already exists, validation.
///
/// New kinds may come in a minor release: match with a wildcard arm.
///
/// ```
/// use finbourne_identity::{Error, ErrorKind};
///
/// fn what_next(error: &Error) -> &'static str {
///     match error.kind() {
///         ErrorKind::NotFound => "nothing to do: it is not there",
///         ErrorKind::AlreadyExists => "look it up instead of creating it",
///         ErrorKind::Throttled => "try again after error.retry_after()",
///         ErrorKind::OutcomeUnknown => "find out whether it happened before sending it again",
///         ErrorKind::NoAnswer => "try again later",
///         _ => "report it",
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Settings missing or wrong; nothing was sent.
    Config,
    /// The input can never be sent (an empty id, `..`); nothing was sent.
    InvalidInput,
    /// The user (or resource) does not exist: a 404, or the service's code
    /// 657 ([`Error::is_not_found`]).
    NotFound,
    /// What the call would create exists already: the service's code 658,
    /// or a 409 ([`Error::is_already_exists`]).
    AlreadyExists,
    /// The service refused the request's fields: a 400 with the errors of
    /// each field ([`Error::field_errors`]).
    Validation,
    /// The service throttled the call (429, its own 503, or its token
    /// endpoint's 429) for longer than the call could wait:
    /// [`Error::retry_after`] says how long it asked. Nothing was done.
    Throttled,
    /// A call that changes something may have taken effect, and no answer
    /// says whether it did ([`Error::is_outcome_unknown`]). For a
    /// CreateUser, `settle_create_user` finds out.
    OutcomeUnknown,
    /// The credentials were refused: the token endpoint refused them, no
    /// token could be had, or the service answered 401 (the error names the
    /// credential sent).
    Auth,
    /// The service answered with another error status (a refusal such as a
    /// 403 or a wrong lifecycle step, or a 5xx to a call that changes
    /// nothing), after any retries.
    Api,
    /// No answer came back: connect, TLS or proxy failure, a timeout, the
    /// connection closed before the answer (to a call that changes
    /// nothing, or one that provably never left).
    NoAnswer,
    /// An answer came but could not be read or decoded.
    Decode,
    /// A failure of a layer this crate does not know (a layer of yours), or
    /// of the blocking client's runtime.
    Other,
}

impl Error {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        use identity_users::Error as Call;
        match self {
            Self::Config(_) | Self::Build(_) | Self::BlockingInAsync => ErrorKind::Config,
            Self::Runtime(_) => ErrorKind::Other,
            #[cfg(feature = "testing")]
            Self::Emulator(_) => ErrorKind::Other,
            Self::Call(Call::InvalidInput { .. } | Call::Serialize { .. }) => {
                ErrorKind::InvalidInput
            }
            _ if self.is_outcome_unknown() => ErrorKind::OutcomeUnknown,
            _ if self.is_throttled() => ErrorKind::Throttled,
            _ if self.is_not_found() => ErrorKind::NotFound,
            _ if self.is_already_exists() => ErrorKind::AlreadyExists,
            _ if self.is_validation() => ErrorKind::Validation,
            Self::Call(Call::Api(api)) if api.is_unauthorized() => ErrorKind::Auth,
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

    /// The service's error code, by name ([`ErrorCode::UserAlreadyExists`]
    /// for 658, ...), when its answer had one.
    pub fn code(&self) -> Option<ErrorCode> {
        self.api().and_then(ApiError::code)
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

    /// The user (or resource) does not exist: a 404, or the service's code
    /// 657.
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(ApiError::is_not_found)
    }

    /// What the call would create exists already: the service's code 658
    /// (a user with this login), or a 409.
    pub fn is_already_exists(&self) -> bool {
        self.api().is_some_and(ApiError::is_already_exists)
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
        use identity_users::Error as Call;
        if self.after_unknown_outcome() {
            // An earlier attempt may have been processed, whatever the last
            // one's failure says.
            return true;
        }
        match self {
            Self::Call(Call::InvalidInput { .. } | Call::Serialize { .. }) => false,
            Self::Call(Call::Service { .. }) => {
                // No token: the call itself was never sent.
                self.auth().is_none()
                    && self
                        .transport()
                        .is_none_or(TransportError::may_have_been_sent)
            }
            // An answer came.
            Self::Call(_) => true,
            _ => false,
        }
    }

    /// Whether a call that changes something (any operation but the
    /// reads) may or may not have taken effect: it may have reached the
    /// service, and no answer says what came of it (no answer at all; a
    /// 5xx that a gateway may send after the service acted; or any answer
    /// to a replay after an attempt the service may have processed). What
    /// an answer says is `identity_call::Outcome`'s: a 429 or the
    /// service's own 503 say it did nothing, a 500 or a gateway's 502 say
    /// nothing. For a CreateUser,
    /// [`UsersApi::settle_create_user`](crate::UsersApi::settle_create_user)
    /// finds out.
    pub fn is_outcome_unknown(&self) -> bool {
        use identity_users::Error as Call;
        if !self.changes_state() {
            return false;
        }
        if self.api().is_some_and(ApiError::follows_unknown_outcome) || self.after_unknown_outcome()
        {
            return true;
        }
        if !self.may_have_been_sent() {
            return false;
        }
        match self {
            Self::Call(Call::Api(api)) => api.outcome().may_have_acted(),
            _ => match self.status() {
                // An answer's status, its body unread: what it says.
                Some(status) => {
                    Outcome::of_answer(status, &HeaderMap::new(), std::time::SystemTime::now())
                        .may_have_acted()
                }
                None => true,
            },
        }
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

    /// Why, beyond the message: the messages of the causes, outermost
    /// first, a cause that only repeats the message before it left out.
    /// What `Debug` prints after the message.
    pub fn causes(&self) -> Vec<String> {
        let mut causes = Vec::new();
        let mut previous = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !previous.contains(&text) {
                causes.push(text.clone());
            }
            previous = text;
            source = cause.source();
        }
        causes
    }

    /// The transport's error, when the HTTP stack failed.
    pub fn transport(&self) -> Option<&TransportError> {
        self.find_source()
    }

    /// The auth layer's error, when no token could be had.
    pub fn auth(&self) -> Option<&AuthError> {
        self.find_source()
    }

    /// Whether the failed call is one that changes something: any
    /// operation but the reads (GET).
    fn changes_state(&self) -> bool {
        match self {
            Self::Call(call) => call
                .operation()
                .and_then(identity_users::operation::method_of)
                .is_none_or(|method| method != Method::GET),
            _ => false,
        }
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

/// The message: each layer's own, but for a failure of the stack, worded by
/// its kind (`GetUser got no answer`, `ListUsers was not sent: no token
/// could be had`); its causes come from [`source`](std::error::Error::source).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(error) => error.fmt(f),
            Self::Build(error) => error.fmt(f),
            Self::Call(identity_users::Error::Service { operation, .. }) => {
                let what = match self.kind() {
                    ErrorKind::OutcomeUnknown => "may or may not have taken effect",
                    ErrorKind::NoAnswer => "got no answer",
                    ErrorKind::Throttled => "was throttled",
                    ErrorKind::Auth => "was not sent: no token could be had",
                    ErrorKind::Config => "was not sent",
                    _ => "failed",
                };
                write!(f, "{operation} {what}")
            }
            Self::Call(error) => error.fmt(f),
            Self::BlockingInAsync => f.write_str(
                "the blocking client was called from inside an async runtime; use the async IdentityClient there",
            ),
            Self::Runtime(_) => f.write_str("the blocking client's runtime could not be started"),
            #[cfg(feature = "testing")]
            Self::Emulator(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // The wrapped errors speak for themselves (their message is
            // this one's): their causes follow.
            Self::Config(error) => error.source(),
            Self::Build(error) => error.source(),
            Self::Call(error) => error.source(),
            Self::BlockingInAsync => None,
            Self::Runtime(error) => Some(error),
            #[cfg(feature = "testing")]
            Self::Emulator(error) => error.source(),
        }
    }
}

/// What `Display` says, then each cause on a line of its own, as anyhow's
/// `Debug` does: what `fn main() -> Result<(), Error>` prints. A cause that
/// only repeats the message before it is left out. The alternate form
/// (`{:#?}`) prints the structure instead, every layer's error whole.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return match self {
                Self::Config(error) => f.debug_tuple("Config").field(error).finish(),
                Self::Build(error) => f.debug_tuple("Build").field(error).finish(),
                Self::Call(error) => f.debug_tuple("Call").field(error).finish(),
                Self::BlockingInAsync => f.write_str("BlockingInAsync"),
                Self::Runtime(error) => f.debug_tuple("Runtime").field(error).finish(),
                #[cfg(feature = "testing")]
                Self::Emulator(error) => f.debug_tuple("Emulator").field(error).finish(),
            };
        }
        write!(f, "{self}")?;
        match self.causes().as_slice() {
            [] => Ok(()),
            [cause] => write!(f, "\n\nCaused by:\n    {cause}"),
            causes => {
                f.write_str("\n\nCaused by:")?;
                for (at, cause) in causes.iter().enumerate() {
                    write!(f, "\n    {at}: {cause}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}

impl From<BuildError> for Error {
    fn from(error: BuildError) -> Self {
        Self::Build(error)
    }
}

impl From<identity_users::Error> for Error {
    fn from(error: identity_users::Error) -> Self {
        Self::Call(error)
    }
}

#[cfg(feature = "testing")]
impl From<identity_emulator::EmulatorError> for Error {
    fn from(error: identity_emulator::EmulatorError) -> Self {
        Self::Emulator(error)
    }
}

#[cfg(test)]
mod tests {

    use std::time::Duration;

    use super::*;
    use identity_transport::TimeoutKind;
    use identity_users::Error as Call;

    fn no_answer(source: impl std::error::Error + Send + Sync + 'static) -> Error {
        failed("CreateUser", source)
    }

    fn failed(
        operation: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Call(Call::Service {
            operation,
            source: Box::new(source),
        })
    }

    /// An error answer of `operation`, with `body`.
    fn answered(operation: &'static str, status: u16, body: &str) -> Error {
        let mut headers = http::HeaderMap::new();
        headers.insert("lusid-meta-requestId", "req-1".parse().unwrap());
        Error::Call(Call::Api(Box::new(ApiError::new(
            operation,
            StatusCode::from_u16(status).unwrap(),
            headers,
            bytes::Bytes::from(body.to_owned()),
        ))))
    }

    #[test]
    fn the_error_goes_anywhere_an_error_goes() {
        fn anywhere<E: std::error::Error + Send + Sync + 'static>() {}
        anywhere::<Error>();
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
    fn a_connection_closed_before_the_answer_leaves_a_change_unknown_and_a_read_unanswered() {
        let closed = || TransportError::new(TransportErrorKind::Closed, "closed");
        let create = failed("CreateUser", closed());
        assert!(create.may_have_been_sent());
        assert!(create.is_outcome_unknown());
        assert_eq!(create.kind(), ErrorKind::OutcomeUnknown);
        assert_eq!(
            create.to_string(),
            "CreateUser may or may not have taken effect"
        );
        // A read has no effect to be unknown: it got no answer.
        let read = failed("GetUser", closed());
        assert!(read.may_have_been_sent());
        assert!(!read.is_outcome_unknown());
        assert_eq!(read.kind(), ErrorKind::NoAnswer);
        assert_eq!(read.to_string(), "GetUser got no answer");
        let refused = no_answer(TransportError::new(TransportErrorKind::Connect, "refused"));
        assert!(!refused.is_outcome_unknown());
        assert_eq!(refused.kind(), ErrorKind::NoAnswer);
    }

    #[test]
    fn what_an_answer_says_of_the_outcome_is_identity_calls_outcome() {
        let bare = |status: u16| {
            Error::Call(Call::Api(Box::new(ApiError::new(
                "CreateUser",
                StatusCode::from_u16(status).unwrap(),
                http::HeaderMap::new(),
                bytes::Bytes::new(),
            ))))
        };
        // A gateway's bare 503 and a 500 say nothing of what the service did.
        assert!(bare(503).is_outcome_unknown());
        assert!(bare(500).is_outcome_unknown());
        assert_eq!(bare(502).kind(), ErrorKind::OutcomeUnknown);
        assert!(!bare(400).is_outcome_unknown());
        assert!(!bare(404).is_outcome_unknown());
        // The service's own 503 and a 429 say it did nothing: throttled.
        for status in [429, 503] {
            let throttled = answered("CreateUser", status, "");
            assert!(!throttled.is_outcome_unknown(), "{status}");
            assert_eq!(throttled.kind(), ErrorKind::Throttled, "{status}");
        }
        // A 500 to a read is a refusal like any other.
        assert_eq!(answered("GetUser", 500, "").kind(), ErrorKind::Api);
    }

    #[test]
    fn each_kind_agrees_with_its_question() {
        let problem = |code: i32| format!(r#"{{"name":"P","code":{code},"title":"t"}}"#);
        let validation =
            r#"{"name":"V","code":151,"title":"t","errors":{"lastName":["too short"]}}"#;
        let cases = [
            (answered("GetUser", 404, &problem(657)), ErrorKind::NotFound),
            (
                answered("CreateUser", 400, &problem(658)),
                ErrorKind::AlreadyExists,
            ),
            (answered("UpdateUser", 409, ""), ErrorKind::AlreadyExists),
            (
                answered("CreateUser", 400, validation),
                ErrorKind::Validation,
            ),
            (answered("GetUser", 429, ""), ErrorKind::Throttled),
            (answered("CreateUser", 502, ""), ErrorKind::OutcomeUnknown),
            (answered("GetUser", 401, ""), ErrorKind::Auth),
            (answered("UnlockUser", 400, &problem(706)), ErrorKind::Api),
            (answered("GetUser", 403, ""), ErrorKind::Api),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind, "{error:?}");
            let questions = [
                (ErrorKind::OutcomeUnknown, error.is_outcome_unknown()),
                (ErrorKind::Throttled, error.is_throttled()),
                (ErrorKind::NotFound, error.is_not_found()),
                (ErrorKind::AlreadyExists, error.is_already_exists()),
                (ErrorKind::Validation, error.is_validation()),
            ];
            // The first question that holds is the kind; none holds for the rest.
            let first = questions
                .iter()
                .find(|(_, holds)| *holds)
                .map(|(kind, _)| *kind);
            match first {
                Some(first) => assert_eq!(first, kind, "{error:?}"),
                None => assert!(
                    !questions.iter().any(|(asked, _)| *asked == kind),
                    "{error:?}"
                ),
            }
        }
        assert_eq!(
            answered("UnlockUser", 400, &problem(706)).code(),
            Some(ErrorCode::UserNotLockedOut)
        );
    }

    #[test]
    fn debug_says_what_display_says_with_its_causes_and_the_alternate_form_the_structure() {
        let refused = failed(
            "ListUsers",
            AuthError::BadResponse {
                reason: "no access_token".into(),
            },
        );
        let debug = format!("{refused:?}");
        assert!(
            debug.starts_with(&format!("{refused}\n\nCaused by:\n    ")),
            "{debug}"
        );
        assert!(debug.contains("no access_token"), "{debug}");
        assert!(!debug.contains("no answer"), "{debug}");
        assert!(format!("{refused:#?}").starts_with("Call(\n    Service {"));

        let config = crate::IdentityClient::builder()
            .environment(false)
            .access_token("t")
            .build()
            .unwrap_err();
        // What `fn main() -> Result<(), Error>` prints: the message, not the
        // variant.
        assert_eq!(format!("{config:?}"), config.to_string());
        assert!(format!("{config:?}").contains("FBN_IDENTITY_URL"));
        assert!(format!("{config:#?}").starts_with("Config("));

        // Several causes are numbered, as anyhow does.
        let unreachable = failed(
            "GetUser",
            AuthError::Unreachable {
                source: identity_auth::SharedSource::new(
                    TransportError::new(TransportErrorKind::Connect, "connection refused")
                        .with_source(std::io::Error::other("os error 111")),
                ),
            },
        );
        let debug = format!("{unreachable:?}");
        assert!(debug.contains("Caused by:\n    0: "), "{debug}");
        assert!(debug.contains("os error 111"), "{debug}");
    }

    #[test]
    fn a_timeout_says_so() {
        let error = failed("GetUser", TransportError::timeout(TimeoutKind::Total));
        assert!(error.is_timeout());
        assert_eq!(error.kind(), ErrorKind::NoAnswer);
        let create = no_answer(TransportError::timeout(TimeoutKind::Total));
        assert!(create.is_timeout());
        assert_eq!(create.kind(), ErrorKind::OutcomeUnknown);
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
        let error = failed("GetUser", std::io::Error::other("a layer of yours"));
        assert_eq!(error.kind(), ErrorKind::Other);
        assert!(error.may_have_been_sent());
        // To a change, it leaves the outcome unknown.
        assert_eq!(
            no_answer(std::io::Error::other("a layer of yours")).kind(),
            ErrorKind::OutcomeUnknown
        );
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
