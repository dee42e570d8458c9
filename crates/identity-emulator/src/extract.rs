//! Request extractors that fail the way the service fails: a JSON body
//! ([`JsonBody`]), a user id path segment ([`UserId`]), a login path segment
//! ([`Login`]) and query parameters ([`QueryParams`]), each rejecting with a
//! problem-details [`ApiError`].

use std::collections::BTreeMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use identity_models::is_valid_user_id;
use serde::de::DeserializeOwned;

use crate::problems::ApiError;

/// The `errors` key for a problem with the body as a whole.
const WHOLE_BODY: &str = "$";

/// Whether a `Content-Type` is one of the JSON types the service accepts:
/// `application/json`, `text/json`, `application/json-patch+json` and any
/// `application/*+json`, parameters (`; charset=utf-8`) allowed.
pub(crate) fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", "json")) | Some(("text", "json")) => true,
        Some(("application", subtype)) => {
            subtype.len() > "+json".len() && subtype.ends_with("+json")
        }
        _ => false,
    }
}

/// A JSON body of type `T`: 415 unless sent as JSON, 400 (code 157) when
/// empty or not a valid `T`. A missing required field is reported under its
/// name, anything else under `"$"`.
pub(crate) struct JsonBody<T>(pub(crate) T);

/// How long a request's body may take to arrive, whole (a request
/// extension the service sets): a body that trickles in would otherwise
/// hold its connection, which no head or idle timeout watches while a
/// request is in flight.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyTimeout(pub(crate) std::time::Duration);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        match content_type {
            Some(content_type) if is_json_content_type(&content_type) => {}
            Some(content_type) => return Err(ApiError::unsupported_media_type(&content_type)),
            None => return Err(ApiError::unsupported_media_type("(none)")),
        }
        let limit = request.extensions().get::<BodyTimeout>().map(|t| t.0);
        let read = Bytes::from_request(request, state);
        let read = match limit {
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .map_err(|_| ApiError::body_too_slow(limit.as_secs()))?,
            None => read.await,
        };
        let body = read.map_err(|rejection| body_error(WHOLE_BODY, rejection.body_text()))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(body_error(
                WHOLE_BODY,
                "A non-empty request body is required.".to_owned(),
            ));
        }
        serde_json::from_slice(&body)
            .map(JsonBody)
            .map_err(|error| {
                let message = error.to_string();
                match missing_field(&message) {
                    Some(field) => body_error(field, format!("The {field} field is required.")),
                    None => body_error(
                        WHOLE_BODY,
                        format!("The request body is not valid: {message}"),
                    ),
                }
            })
    }
}

fn body_error(field: &str, message: String) -> ApiError {
    ApiError::invalid_request(BTreeMap::from([(field.to_owned(), vec![message])]))
}

/// The field named by serde's "missing field `x`" error, if that is the error.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// A user id from the path, percent-decoded once. An id outside the
/// contract's pattern (1-64 of `[A-Za-z0-9_-]`, so never `../roles` nor
/// `a/b`) cannot name a user: it is answered 404, code 657, like an unknown
/// one, and never reaches another resource.
pub(crate) struct UserId(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for UserId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) if is_valid_user_id(&id) => Ok(Self(id)),
            Ok(Path(id)) => Err(ApiError::user_not_found(&id)),
            Err(_) => Err(ApiError::user_not_found("(undecodable)")),
        }
    }
}

/// A login from the path, percent-decoded once; 5 to 80 characters, else
/// 400 (code 151) naming `login`.
pub(crate) struct Login(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Login {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || {
            let message = "The field login must be between 5 and 80 characters long.".to_owned();
            ApiError::invalid_parameter_value("login", message)
        };
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(login)) if (5..=80).contains(&login.chars().count()) => Ok(Self(login)),
            _ => Err(invalid()),
        }
    }
}

/// The decoded query parameters, in order. Names match case-insensitively,
/// as ASP.NET binds them.
pub(crate) struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Self)
            .map_err(|error| {
                ApiError::invalid_parameter_value(
                    "query",
                    format!("The query string is not valid: {error}"),
                )
            })
    }
}

impl QueryParams {
    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// A boolean parameter: `true`/`false` in any case (the Python SDK sends
    /// `True`/`False`), `None` when absent or empty, else 400 (code 151).
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        let Some(value) = self.all(name).into_iter().next() else {
            return Ok(None);
        };
        if value.is_empty() {
            Ok(None)
        } else if value.eq_ignore_ascii_case("true") {
            Ok(Some(true))
        } else if value.eq_ignore_ascii_case("false") {
            Ok(Some(false))
        } else {
            Err(ApiError::invalid_parameter_value(
                name,
                format!("The value '{value}' is not valid for {name}."),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_json_types_of_the_official_sdks() {
        for accepted in [
            "application/json",
            "application/json; charset=utf-8",
            "text/json",
            "application/json-patch+json",
            "Application/Problem+JSON",
        ] {
            assert!(is_json_content_type(accepted), "{accepted}");
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/+json",
            "json",
        ] {
            assert!(!is_json_content_type(refused), "{refused}");
        }
    }

    #[test]
    fn booleans_accept_any_case_and_refuse_other_words() {
        let query = QueryParams(vec![
            ("includeRoles".into(), "True".into()),
            ("purge".into(), "FALSE".into()),
            ("bad".into(), "yes".into()),
            ("empty".into(), String::new()),
        ]);
        assert_eq!(query.flag("includeroles"), Ok(Some(true)));
        assert_eq!(query.flag("purge"), Ok(Some(false)));
        assert_eq!(query.flag("empty"), Ok(None));
        assert_eq!(query.flag("absent"), Ok(None));
        assert!(query.flag("bad").is_err());
    }

    #[test]
    fn finds_the_missing_field_in_serde_errors() {
        assert_eq!(
            missing_field("missing field `login` at line 1 column 2"),
            Some("login")
        );
        assert_eq!(missing_field("expected value at line 1 column 1"), None);
    }
}
