//! What can go wrong with a call, from bad input to the service's answer.
//!
//! [`Error`] says which stage failed: the input was refused before any
//! request ([`Error::InvalidInput`]), the service stack failed the call
//! without an answer of the service ([`Error::Service`], whose source is the
//! stack's own error, e.g. a transport or auth error: it says what failed,
//! a connection, a timeout, a token endpoint's refusal), the answer's body could not be read
//! ([`Error::Body`]) or decoded ([`Error::Decode`], or
//! [`Error::ElementTooLarge`] for one user of a streamed list), or the service answered
//! with an error status ([`Error::Api`], an [`ApiError`] with everything the
//! answer said).

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use identity_call::{CredentialSent, Outcome, REQUEST_ID_HEADER};
use identity_models::{ErrorCode, LusidProblemDetails, LusidValidationProblemDetails};

/// The boxed error of a tower service: what the stack below may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many characters of a body an error message quotes.
const SNIPPET_CHARS: usize = 200;

/// How many bytes of a body are kept to quote in an error (the characters
/// above in UTF-8 at the most).
pub(crate) const SNIPPET_BYTES: usize = SNIPPET_CHARS * 4;

/// The most bytes of an error answer's body a call reads and keeps in its
/// [`ApiError::body`]: 64 KiB, enough for any problem document. The rest of
/// a longer body is neither read nor waited for: the call stops reading and
/// drops the body (and with it the connection).
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A call of the Users API failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input can never be sent safely; no request was made.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was refused, e.g. `user id`.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The request body could not be serialised; no request was made.
    #[error("could not serialise the request body of {operation}")]
    Serialize {
        /// The operation.
        operation: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// The service stack failed the call without an answer of the service
    /// (a connection, a timeout, no token, a layer's refusal): its source
    /// says what failed.
    #[error("{operation} failed")]
    Service {
        /// The operation.
        operation: &'static str,
        /// The stack's error.
        #[source]
        source: BoxError,
    },
    /// The answer came, but its body could not be read to the end.
    #[error("{operation}: the body of the {status} answer could not be read")]
    Body {
        /// The operation.
        operation: &'static str,
        /// The answer's status.
        status: StatusCode,
        /// The body's error.
        #[source]
        source: BoxError,
    },
    /// A successful answer whose body is not what the contract says.
    #[error("{operation}: the {status} answer could not be decoded: {snippet:?}")]
    Decode {
        /// The operation.
        operation: &'static str,
        /// The answer's status.
        status: StatusCode,
        /// The start of the body, for the reader.
        snippet: String,
        /// serde_json's error (it names the field and position).
        #[source]
        source: serde_json::Error,
    },
    /// One user of a streamed list has more bytes than the limit of one
    /// element ([`MAX_STREAMED_USER_BYTES`](crate::MAX_STREAMED_USER_BYTES)):
    /// the stream ends there, the users before it having been yielded.
    #[error("{operation}: a user of the streamed list has more than {limit} bytes")]
    ElementTooLarge {
        /// The operation.
        operation: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The service answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
}

impl Error {
    pub(crate) fn invalid_input(what: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            what,
            reason: reason.into(),
        }
    }

    /// The service's error answer, if that is what this is.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when one came.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::Body { status, .. } | Self::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The operation that failed, when the call got as far as naming it.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Self::InvalidInput { .. } => None,
            Self::Serialize { operation, .. }
            | Self::Service { operation, .. }
            | Self::Body { operation, .. }
            | Self::Decode { operation, .. }
            | Self::ElementTooLarge { operation, .. } => Some(operation),
            Self::Api(api) => Some(api.operation),
        }
    }

    /// The user (or resource) does not exist: see [`ApiError::is_not_found`].
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(ApiError::is_not_found)
    }

    /// It exists already: see [`ApiError::is_already_exists`].
    pub fn is_already_exists(&self) -> bool {
        self.api().is_some_and(ApiError::is_already_exists)
    }

    /// 400 with field errors.
    pub fn is_validation(&self) -> bool {
        self.api().is_some_and(ApiError::is_validation)
    }
}

/// The service's problem-details body, in whichever of its two forms it came.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// A validation failure, with the errors of each field.
    Validation(LusidValidationProblemDetails),
    /// Any other failure.
    Details(LusidProblemDetails),
}

impl Problem {
    fn parse(body: &[u8]) -> Option<Self> {
        let validation = serde_json::from_slice::<LusidValidationProblemDetails>(body)
            .ok()
            .filter(|problem| !problem.errors.is_empty());
        validation.map(Self::Validation).or_else(|| {
            serde_json::from_slice::<LusidProblemDetails>(body)
                .ok()
                .map(Self::Details)
        })
    }

    /// The fields common to both forms.
    pub fn details(&self) -> &LusidProblemDetails {
        match self {
            Self::Validation(validation) => &validation.problem,
            Self::Details(details) => details,
        }
    }
}

/// The service answered with an error status (after any retries).
///
/// Carries all of the answer: status, headers, raw body, and the parsed
/// problem details when the body is one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation that failed.
    pub operation: &'static str,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The raw body, as it came (empty, JSON, or a proxy's HTML page), up
    /// to its first [`MAX_ERROR_BODY_BYTES`].
    pub body: Bytes,
    /// The body parsed as problem details, when it is one.
    pub problem: Option<Problem>,
    /// Whether this answer came to a replay of the call after an attempt
    /// the service may have processed (see [`follows_unknown_outcome`](Self::follows_unknown_outcome)).
    pub after_unknown_outcome: bool,
    /// For a 401, the credential whose token the service refused, as the
    /// auth layer told it ([`CredentialSent`]); never the token itself.
    pub credential: Option<CredentialSent>,
}

impl ApiError {
    /// The error answer of `operation`: its status, headers and body, with
    /// the body parsed as problem details when it is one (as a call makes
    /// it; a test double of yours may make one too).
    pub fn new(
        operation: &'static str,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let problem = Problem::parse(&body);
        Self {
            operation,
            status,
            headers,
            body,
            problem,
            after_unknown_outcome: false,
            credential: None,
        }
    }

    /// The service's id of the request (`lusid-meta-requestId`), for support.
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
    }

    /// The service's error code, by name ([`ErrorCode::UserNotFound`] for
    /// 657, [`ErrorCode::UserAlreadyExists`] for 658, ...; a number it does
    /// not document as [`ErrorCode::Other`]), when the body had one.
    pub fn code(&self) -> Option<ErrorCode> {
        self.problem
            .as_ref()
            .map(|problem| problem.details().error_code())
    }

    /// The problem's title, when the body had one.
    pub fn title(&self) -> Option<&str> {
        self.problem
            .as_ref()
            .and_then(|problem| problem.details().title.as_deref())
    }

    /// The problem's detail, when the body had one.
    pub fn detail(&self) -> Option<&str> {
        self.problem
            .as_ref()
            .and_then(|problem| problem.details().detail.as_deref())
    }

    /// The messages of each invalid field (empty unless a validation failure).
    pub fn field_errors(&self) -> &BTreeMap<String, Vec<String>> {
        static NONE: BTreeMap<String, Vec<String>> = BTreeMap::new();
        match &self.problem {
            Some(Problem::Validation(validation)) => &validation.errors,
            _ => &NONE,
        }
    }

    /// The user (or resource) does not exist: a 404, or the service's code
    /// 657 ([`ErrorCode::UserNotFound`]) with any status.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND || self.code() == Some(ErrorCode::UserNotFound)
    }

    /// What the call would create exists already: the service's code 658
    /// ([`ErrorCode::UserAlreadyExists`], a user with the login), or a 409.
    pub fn is_already_exists(&self) -> bool {
        self.status == StatusCode::CONFLICT || self.code() == Some(ErrorCode::UserAlreadyExists)
    }

    /// 400 with field errors.
    pub fn is_validation(&self) -> bool {
        matches!(self.problem, Some(Problem::Validation(_)))
    }

    /// 401: the token was refused (after the auth layer's one replay).
    pub fn is_unauthorized(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
    }

    /// What this answer means ([`Outcome`]: refused, throttled with the
    /// wait asked, overloaded, transient), decided where the retry layer and
    /// the throttle decide it.
    pub fn outcome(&self) -> Outcome {
        Outcome::of_answer(self.status, &self.headers, std::time::SystemTime::now())
    }

    /// Whether the same call later could succeed: throttling (429, the
    /// service's own 503), overload (502, 504, a bare 503) and the
    /// service's transient failures (500 and the other 5xx).
    pub fn is_retryable(&self) -> bool {
        self.outcome().is_worth_retrying()
    }

    /// Whether the service throttled the call (429, or its own 503: see
    /// [`Outcome`]) for longer than the call could wait, without acting on
    /// it: [`retry_after`](Self::retry_after) says how long it asked.
    pub fn is_throttled(&self) -> bool {
        matches!(
            self.outcome(),
            Outcome::Throttled { .. } | Outcome::Unavailable { .. }
        )
    }

    /// Whether this answer came to a replay of the call after an attempt the
    /// service may have processed (a dropped connection, a timeout, a 5xx):
    /// whatever it says, that earlier attempt's effect may have been made.
    pub fn follows_unknown_outcome(&self) -> bool {
        self.after_unknown_outcome
    }

    /// How long the service asked to wait before trying again (its
    /// `Retry-After`), when it said. The retry layer waits it when the
    /// call's deadline allows; when it does not, this error is the answer.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        identity_call::retry_after(&self.headers, std::time::SystemTime::now())
    }

    /// The start of the body as text, for messages.
    pub fn body_snippet(&self) -> String {
        snippet(&self.body)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.operation, self.status)?;
        match &self.problem {
            Some(problem) => {
                let details = problem.details();
                if let Some(title) = &details.title {
                    write!(f, ": {title}")?;
                }
                if let Some(detail) = &details.detail {
                    write!(f, ": {detail}")?;
                }
                write!(f, " (code {})", details.code)?;
                for (field, messages) in self.field_errors() {
                    write!(f, "; {field}: {}", messages.join(" "))?;
                }
            }
            None if !self.body.is_empty() => write!(f, ": {:?}", self.body_snippet())?,
            None => {}
        }
        if let Some(wait) = self.retry_after() {
            write!(
                f,
                "; the service asked to wait {}",
                identity_call::Seconds(wait)
            )?;
        }
        if let Some(credential) = &self.credential {
            write!(f, "; the token refused was {credential}")?;
        }
        if let Some(request_id) = self.request_id() {
            write!(f, " [request id {request_id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

/// The first characters of a body as text, lossily decoded.
pub(crate) fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(SNIPPET_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> ApiError {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, http::HeaderValue::from_static("req-1"));
        ApiError::new(
            "GetUser",
            StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            headers,
            Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn a_validation_problem_gives_its_field_errors() {
        let error = answer(
            400,
            r#"{"name":"ValidationFailed","code":151,"title":"Invalid request","errors":{"firstName":["too long"]}}"#,
        );
        assert!(error.is_validation());
        assert_eq!(error.code(), Some(ErrorCode::InvalidParameterValue));
        assert_eq!(error.field_errors()["firstName"], vec!["too long"]);
        let text = error.to_string();
        assert!(text.contains("firstName: too long"), "{text}");
        assert!(text.contains("req-1"), "{text}");
    }

    #[test]
    fn a_problem_gives_its_code_and_title() {
        let error = answer(
            404,
            r#"{"name":"UserNotFound","code":657,"title":"User does not exist","status":404}"#,
        );
        assert!(error.is_not_found());
        assert!(!error.is_validation());
        assert_eq!(error.code(), Some(ErrorCode::UserNotFound));
        assert_eq!(error.title(), Some("User does not exist"));
        assert!(error.field_errors().is_empty());
    }

    #[test]
    fn already_exists_is_code_658_or_a_409_and_not_found_a_404_or_code_657() {
        let taken = answer(
            400,
            r#"{"name":"UserAlreadyExists","code":658,"title":"User already exists"}"#,
        );
        assert!(taken.is_already_exists() && !taken.is_not_found());
        assert_eq!(taken.code(), Some(ErrorCode::UserAlreadyExists));
        assert!(answer(409, "").is_already_exists());
        assert!(!answer(400, r#"{"name":"X","code":151}"#).is_already_exists());
        assert!(answer(404, "").is_not_found());
        assert!(answer(400, r#"{"name":"UserNotFound","code":657}"#).is_not_found());
        let error = Error::from(taken);
        assert!(error.is_already_exists());
        assert_eq!(error.operation(), Some("GetUser"));
    }

    #[test]
    fn a_429_and_the_services_own_503_are_throttled_and_a_bare_503_is_not() {
        assert!(answer(429, "").is_throttled());
        // The service's own 503: its request id (every answer here has one).
        assert!(answer(503, "").is_throttled());
        let bare = ApiError::new(
            "GetUser",
            StatusCode::SERVICE_UNAVAILABLE,
            HeaderMap::new(),
            Bytes::new(),
        );
        assert!(!bare.is_throttled());
        assert!(!answer(500, "").is_throttled());
    }

    #[test]
    fn a_401_names_the_credential_refused() {
        let mut refused = answer(401, "");
        refused.credential = Some(CredentialSent::AccessToken);
        let text = refused.to_string();
        assert!(
            text.contains("401 Unauthorized; the token refused was a personal access token"),
            "{text}"
        );
    }

    #[test]
    fn a_failure_of_the_stack_is_worded_by_its_cause_not_as_no_answer() {
        let refused = Error::Service {
            operation: "ListUsers",
            source: "the token endpoint refused the password grant".into(),
        };
        assert_eq!(refused.to_string(), "ListUsers failed");
        assert!(!refused.to_string().contains("no answer"));
    }

    #[test]
    fn a_body_that_is_not_json_still_gives_status_and_a_snippet() {
        let page = format!("<html>{}</html>", "Bad gateway ".repeat(100));
        let error = answer(502, &page);
        assert!(error.problem.is_none());
        assert!(error.is_retryable());
        assert_eq!(error.body_snippet().chars().count(), SNIPPET_CHARS);
        let text = error.to_string();
        assert!(text.contains("502") && text.contains("<html>"), "{text}");
    }
}
