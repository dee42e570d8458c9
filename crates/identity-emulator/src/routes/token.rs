//! The OAuth2 token endpoint (RFC 6749): `POST /oauth2/token`, form-encoded
//! in, JSON out, with the password and refresh_token grants.
//!
//! The client authenticates with HTTP Basic (`client_id:client_secret`, each
//! form-encoded, RFC 6749 §2.3.1) or with `client_id` and `client_secret` in
//! the body, for either grant; Basic wins when both are sent. Errors are
//! `{"error", "error_description"}`: 401 `invalid_client` for a bad client,
//! 400 `invalid_grant` for bad user credentials or a refresh token that is
//! unknown, expired or another client's, 400 `invalid_request` and
//! `unsupported_grant_type` for malformed requests, 429
//! `temporarily_unavailable` with `Retry-After` for a client over the rate
//! limit (see [`crate::ratelimit`]). Refresh tokens are not rotated (see
//! [`crate::tokens`]).
//!
//! The form is bounded ([`Limits`](crate::Limits)): a body larger than
//! `max_token_request_bytes` is answered 413 `invalid_request` (by its
//! `Content-Length`, unread; sent in chunks, as soon as it passes the
//! bound), one that takes longer than the head timeout to arrive 408, and
//! a `scope` longer than `max_scope_bytes` (it is kept with the grant) 400
//! `invalid_scope`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};

use crate::shared::{AppState, Credentials, lock};
use crate::tokens::IssuedTokens;

/// The scope granted when none is asked for (what the official SDKs ask).
const DEFAULT_SCOPE: &str = "openid client groups offline_access";

/// The form fields the endpoint reads (others are ignored).
#[derive(Default, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
}

/// A successful answer.
#[derive(Serialize)]
struct TokenAnswer<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: &'a str,
    scope: &'a str,
}

/// An OAuth2 error answer.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// `Retry-After`, for a client over the rate limit.
    retry_after: Option<String>,
}

impl OAuthError {
    fn invalid_request(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description,
            retry_after: None,
        }
    }

    fn invalid_grant(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            description,
            retry_after: None,
        }
    }

    fn invalid_scope(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_scope",
            description,
            retry_after: None,
        }
    }

    /// 413 or 408: the form is too large, or too slow to arrive.
    fn unread(status: StatusCode, description: &'static str) -> Self {
        Self {
            status,
            error: "invalid_request",
            description,
            retry_after: None,
        }
    }

    fn invalid_client() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "Client authentication failed.",
            retry_after: None,
        }
    }

    /// 429 `temporarily_unavailable`: the client is over the rate limit.
    fn rate_limited(wait: std::time::Duration) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            error: "temporarily_unavailable",
            description: "Too many token requests from this client: retry after Retry-After seconds.",
            retry_after: Some(crate::ratelimit::retry_after(wait)),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut response = (self.status, no_store(), Json(body)).into_response();
        if let Some(value) = self
            .retry_after
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="identity-emulator""#),
            );
        }
        response
    }
}

/// The body of an error answer of the token endpoint when a status fault is
/// injected on it.
pub(crate) fn injected_token_error_body(status: StatusCode) -> Vec<u8> {
    let error =
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            "temporarily_unavailable"
        } else {
            "server_error"
        };
    let description = format!("Fault injected by the emulator: {status}.");
    serde_json::to_vec(&serde_json::json!({ "error": error, "error_description": description }))
        .unwrap_or_default()
}

fn no_store() -> [(http::HeaderName, HeaderValue); 2] {
    [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// The form, read within the bounds of [`Limits`](crate::Limits).
async fn read_form(
    shared: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, OAuthError> {
    let max = shared.limits.max_token_request_bytes;
    let too_large = || {
        OAuthError::unread(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The token request is larger than the emulator takes (--max-token-request-bytes).",
        )
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(too_large());
    }
    let read = tokio::time::timeout(
        shared.limits.head_timeout,
        Limited::new(body, max).collect(),
    );
    match read.await {
        Ok(Ok(collected)) => Ok(collected.to_bytes().to_vec()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(OAuthError::invalid_request(
            "The token request's body could not be read.",
        )),
        Err(_) => Err(OAuthError::unread(
            StatusCode::REQUEST_TIMEOUT,
            "The token request's body took longer than the head timeout to arrive.",
        )),
    }
}

/// `POST /oauth2/token`.
pub(crate) async fn token(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form = match read_form(&shared, &headers, body).await {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    match grant(&shared, &headers, &form) {
        Ok(issued) => {
            let answer = TokenAnswer {
                access_token: &issued.access_token,
                token_type: "Bearer",
                expires_in: issued.expires_in.as_secs(),
                refresh_token: &issued.refresh_token,
                scope: &issued.scope,
            };
            (no_store(), Json(answer)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn grant(shared: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<IssuedTokens, OAuthError> {
    let form_encoded = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return Err(OAuthError::invalid_request(
            "The request must be application/x-www-form-urlencoded.",
        ));
    }
    let form: TokenForm = serde_urlencoded::from_bytes(body).map_err(|_| {
        OAuthError::invalid_request(
            "The request body is not a valid form (a parameter given twice?).",
        )
    })?;
    let credentials = &shared.credentials;
    let client_id = authenticate_client(credentials, headers, &form)?;
    shared
        .throttle(&format!("client:{client_id}"))
        .map_err(OAuthError::rate_limited)?;
    let scope = form
        .scope
        .as_deref()
        .filter(|scope| !scope.trim().is_empty());
    if scope.is_some_and(|scope| scope.len() > shared.limits.max_scope_bytes) {
        return Err(OAuthError::invalid_scope(
            "The scope is longer than the emulator keeps with a grant (--max-scope-bytes).",
        ));
    }
    match form.grant_type.as_deref() {
        None => Err(OAuthError::invalid_request(
            "The grant_type parameter is required.",
        )),
        Some("password") => {
            let (Some(username), Some(password)) = (&form.username, &form.password) else {
                return Err(OAuthError::invalid_request(
                    "The username and password parameters are required.",
                ));
            };
            if *username != credentials.username || *password != credentials.password {
                return Err(OAuthError::invalid_grant(
                    "The credentials provided were invalid.",
                ));
            }
            Ok(lock(&shared.tokens).issue(&client_id, scope.unwrap_or(DEFAULT_SCOPE)))
        }
        Some("refresh_token") => {
            let Some(refresh_token) = &form.refresh_token else {
                return Err(OAuthError::invalid_request(
                    "The refresh_token parameter is required.",
                ));
            };
            lock(&shared.tokens)
                .refresh(refresh_token, &client_id, scope)
                .ok_or_else(|| {
                    OAuthError::invalid_grant("The refresh token is invalid or expired.")
                })
        }
        Some(_) => Err(OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: "The grant type is not supported: use password or refresh_token.",
            retry_after: None,
        }),
    }
}

/// The authenticated client id, from HTTP Basic or the body.
fn authenticate_client(
    credentials: &Credentials,
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<String, OAuthError> {
    let (client_id, client_secret) = match headers.get(AUTHORIZATION) {
        Some(value) => basic_credentials(value).ok_or_else(OAuthError::invalid_client)?,
        None => match (&form.client_id, &form.client_secret) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => return Err(OAuthError::invalid_client()),
        },
    };
    if client_id == credentials.client_id && client_secret == credentials.client_secret {
        Ok(client_id)
    } else {
        Err(OAuthError::invalid_client())
    }
}

/// `Basic base64(form-encoded id ":" form-encoded secret)`.
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

fn form_decode(text: &str) -> Option<String> {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = HeaderValue::from_str(&format!(
            "Basic {}",
            STANDARD.encode("my%20client:s%3Acret+x")
        ))
        .unwrap();
        assert_eq!(
            basic_credentials(&header),
            Some(("my client".into(), "s:cret x".into()))
        );
        assert_eq!(
            basic_credentials(&HeaderValue::from_static("Bearer abc")),
            None
        );
        assert_eq!(
            basic_credentials(&HeaderValue::from_static("Basic !!!")),
            None
        );
    }
}
