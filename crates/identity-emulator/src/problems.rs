//! Error answers of the Users API: problem-details bodies with the service's
//! error codes, and the request id they end with.
//!
//! A handler fails with an [`ApiError`]. Its response carries the problem as
//! an extension and no body yet; the connection service, which made the
//! request id, renders it ([`render_pending_problem`]) with `instance` =
//! `https://<host>/app/insights/logs/<requestId>`, as
//! `application/problem+json`.

//! The codes and names are listed in the crate documentation.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use identity_models::{LusidProblemDetails, LusidValidationProblemDetails};

use crate::state::{DomainError, Refusal};

/// Media type of problem bodies.
const PROBLEM_JSON: &str = "application/problem+json";

/// Who a request is: its id (sent as `lusid-meta-requestId`) and the host it
/// was sent to (for `instance` links).
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    pub(crate) request_id: String,
    pub(crate) host: String,
}

impl RequestContext {
    /// `https://<host>/app/insights/logs/<requestId>`.
    pub(crate) fn instance(&self) -> String {
        format!(
            "https://{}/app/insights/logs/{}",
            self.host, self.request_id
        )
    }
}

/// An error answer of the API, rendered once the request id is known.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: i32,
    name: &'static str,
    title: &'static str,
    detail: String,
    /// `Some` for a LusidValidationProblemDetails (a 400 naming fields).
    errors: Option<BTreeMap<String, Vec<String>>>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        code: i32,
        name: &'static str,
        title: &'static str,
        detail: String,
    ) -> Self {
        Self {
            status,
            code,
            name,
            title,
            detail,
            errors: None,
        }
    }

    /// 400, code 157: the body is invalid (unparseable, or breaks the rules).
    pub(crate) fn invalid_request(errors: BTreeMap<String, Vec<String>>) -> Self {
        let detail = "One or more elements of the request were invalid. Please check the request and try again.";
        Self {
            errors: Some(errors),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                157,
                "InvalidRequestFailure",
                "Invalid request",
                detail.to_owned(),
            )
        }
    }

    /// 400, code 151: a query or path parameter is invalid.
    pub(crate) fn invalid_parameter(errors: BTreeMap<String, Vec<String>>) -> Self {
        let detail = "One or more parameters of the request were invalid.";
        Self {
            errors: Some(errors),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                151,
                "InvalidParameterValue",
                "Invalid parameter value",
                detail.to_owned(),
            )
        }
    }

    /// 400, code 151 for one parameter.
    pub(crate) fn invalid_parameter_value(parameter: &str, message: String) -> Self {
        Self::invalid_parameter(BTreeMap::from([(parameter.to_owned(), vec![message])]))
    }

    /// 415, code 157: the body is not JSON.
    pub(crate) fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            157,
            "InvalidRequestFailure",
            "Unsupported media type",
            format!(
                "The content type '{content_type}' is not supported: send application/json, \
                 text/json, application/json-patch+json or application/*+json."
            ),
        )
    }

    /// 404, code 657.
    pub(crate) fn user_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            657,
            "UserNotFound",
            "User not found",
            format!("User with id or login '{id}' does not exist."),
        )
    }

    /// 500: the change could not be written to the state file.
    pub(crate) fn state_not_saved() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            0,
            "InternalServerError",
            "State not saved",
            "The emulator could not write its state file; see its log.".to_owned(),
        )
    }

    /// 421, code 0: the request names a host this emulator does not serve
    /// (see [`crate::guard`]).
    pub(crate) fn misdirected(detail: String) -> Self {
        Self::new(
            StatusCode::MISDIRECTED_REQUEST,
            0,
            "MisdirectedRequest",
            "Misdirected request",
            detail,
        )
    }

    /// 403, code 0: the request comes from another web origin (see
    /// [`crate::guard`]).
    pub(crate) fn cross_origin(detail: String) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            0,
            "CrossOriginRequestRefused",
            "Cross-origin request refused",
            detail,
        )
    }

    /// 429, code 0: the caller is over the rate limit.
    pub(crate) fn rate_limited(limit: u32, retry_after: &str) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            0,
            "TooManyRequests",
            "Too many requests",
            format!(
                "More than {limit} requests per second with this token: retry after {retry_after} s."
            ),
        )
    }

    /// 408, code 0: the request's body did not arrive in time.
    pub(crate) fn body_too_slow(seconds: u64) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            0,
            "RequestTimeout",
            "Request timeout",
            format!(
                "The request body did not arrive within {seconds} s (--head-timeout-secs): \
                 it was not read."
            ),
        )
    }

    /// 503, code 0: every connection the emulator takes has a request in
    /// flight.
    pub(crate) fn overloaded(max_connections: usize) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            0,
            "ServiceUnavailable",
            "Service unavailable",
            format!(
                "The emulator has {max_connections} connections open, each with a request in \
                 flight (--max-connections): retry after Retry-After seconds. This request was \
                 not read."
            ),
        )
    }

    /// An injected fault status (code 0, named after the status).
    pub(crate) fn injected(status: StatusCode) -> Self {
        let name = status.canonical_reason().unwrap_or("Error");
        Self::new(
            status,
            0,
            name,
            name,
            format!("Fault injected by the emulator: {status}."),
        )
    }

    /// The problem body for the request `context`.
    fn body(&self, context: &RequestContext) -> serde_json::Result<Vec<u8>> {
        let problem = LusidProblemDetails {
            name: self.name.to_owned(),
            error_details: Some(Vec::new()),
            code: self.code,
            problem_type: Some(format!(
                "https://docs.lusid.com/#section/Error-Codes/{}",
                self.code
            )),
            title: Some(self.title.to_owned()),
            detail: Some(self.detail.clone()),
            instance: Some(context.instance()),
            status: Some(i32::from(self.status.as_u16())),
        };
        match &self.errors {
            Some(errors) => serde_json::to_vec(&LusidValidationProblemDetails {
                problem,
                errors: errors.clone(),
            }),
            None => serde_json::to_vec(&problem),
        }
    }

    /// The problem body for the request `context`, as bytes.
    pub(crate) fn body_bytes(&self, context: &RequestContext) -> Vec<u8> {
        // Strings and numbers only: serialising cannot fail.
        self.body(context).unwrap_or_default()
    }

    /// The full answer for the request `context`.
    pub(crate) fn render(&self, context: &RequestContext) -> Response {
        let body = self.body_bytes(context);
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let bad = StatusCode::BAD_REQUEST;
        match error {
            DomainError::InvalidRequest(errors) => Self::invalid_request(errors),
            DomainError::InvalidParameter(errors) => Self::invalid_parameter(errors),
            DomainError::UserNotFound(id) => Self::user_not_found(&id),
            DomainError::AlreadyExists(login) => Self::new(
                bad,
                658,
                "UserAlreadyExists",
                "User already exists",
                format!("A user with login '{login}' already exists."),
            ),
            DomainError::Refused {
                id,
                status,
                operation,
                refusal,
            } => {
                let (code, name, title) = match refusal {
                    Refusal::Deleted => (705, "UserDeleted", "User is in a deleted state"),
                    Refusal::NotLockedOut => (706, "UserNotLockedOut", "User is not locked out"),
                    Refusal::AlreadyActivated => {
                        (707, "UserAlreadyActivated", "User is already activated")
                    }
                    Refusal::StatusInvalid => (
                        717,
                        "UserStatusInvalid",
                        "User status is invalid for the operation",
                    ),
                    Refusal::InvalidForResetPassword => (
                        718,
                        "UserStatusInvalidForPasswordReset",
                        "User status is invalid for resetting the password",
                    ),
                    Refusal::InvalidForExpirePassword => (
                        719,
                        "UserStatusInvalidForPasswordExpiry",
                        "User status is invalid for expiring the password",
                    ),
                    Refusal::InvalidForUserType => (
                        786,
                        "ActionNotValidForUserType",
                        "Action not valid for this type of user",
                    ),
                };
                let detail =
                    format!("{operation} is not valid for user '{id}' in status {status}.");
                Self::new(bad, code, name, title, detail)
            }
        }
    }
}

/// A problem waiting for its request id, carried in a response's extensions.
#[derive(Clone, Debug)]
struct PendingProblem(ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self.status;
        response.extensions_mut().insert(PendingProblem(self));
        response
    }
}

/// Renders the problem a handler left in `response`, if any, keeping the
/// headers set beside it (`Retry-After`, `WWW-Authenticate`).
pub(crate) fn render_pending_problem(response: Response, context: &RequestContext) -> Response {
    match response.extensions().get::<PendingProblem>() {
        Some(PendingProblem(problem)) => {
            let mut rendered = problem.render(context);
            for (name, value) in response.headers() {
                if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                    rendered.headers_mut().insert(name.clone(), value.clone());
                }
            }
            rendered
        }
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RequestContext {
        RequestContext {
            request_id: "0HABC:00000001".into(),
            host: "127.0.0.1:8080".into(),
        }
    }

    #[test]
    fn validation_problems_name_fields_and_end_with_the_request_id() {
        let error =
            ApiError::invalid_request(BTreeMap::from([("firstName".into(), vec!["bad".into()])]));
        let body: LusidValidationProblemDetails =
            serde_json::from_slice(&error.body(&context()).unwrap()).unwrap();
        assert_eq!(body.problem.code, 157);
        assert_eq!(body.problem.status, Some(400));
        assert_eq!(body.errors["firstName"], ["bad"]);
        assert_eq!(
            body.problem.instance.as_deref(),
            Some("https://127.0.0.1:8080/app/insights/logs/0HABC:00000001")
        );
    }

    #[test]
    fn domain_refusals_map_to_their_codes_and_statuses() {
        let refusal = |refusal| DomainError::Refused {
            id: "00u1".into(),
            status: identity_models::UserStatus::Active,
            operation: "UnlockUser",
            refusal,
        };
        let cases = [
            (DomainError::UserNotFound("x".into()), 404, 657),
            (DomainError::AlreadyExists("x".into()), 400, 658),
            (refusal(Refusal::Deleted), 400, 705),
            (refusal(Refusal::NotLockedOut), 400, 706),
            (refusal(Refusal::AlreadyActivated), 400, 707),
            (refusal(Refusal::StatusInvalid), 400, 717),
            (refusal(Refusal::InvalidForResetPassword), 400, 718),
            (refusal(Refusal::InvalidForExpirePassword), 400, 719),
            (refusal(Refusal::InvalidForUserType), 400, 786),
        ];
        for (error, status, code) in cases {
            let error = ApiError::from(error);
            assert_eq!((error.status.as_u16(), error.code), (status, code));
            let response = render_pending_problem(error.into_response(), &context());
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        }
    }
}
