//! Bearer-token checks (RFC 6750): every API call needs a static token or an
//! issued, unexpired one ([`bearer_refusal`], run by the connection service
//! before the request is logged), and is then held to the rate limit of its
//! token ([`throttle`], the API routes' middleware); hooks take the same
//! tokens, and need one when the emulator runs with `allow_remote` or a
//! state file (otherwise they take a valid token or none).
//!
//! A refusal is a 401 with an empty body and `WWW-Authenticate: Bearer`,
//! plus `error="invalid_token"` when a bearer token was sent but is unknown
//! or expired (no error attribute when no bearer token was sent at all).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::problems::ApiError;
use crate::shared::{AppState, lock};
use crate::tokens::TokenCheck;

/// What a request presents as its bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Presented<'a> {
    /// No `Authorization: Bearer ...` header.
    Nothing,
    /// A bearer token (possibly empty).
    Token(&'a str),
}

fn presented(headers: &HeaderMap) -> Presented<'_> {
    let Some(value) = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return Presented::Nothing;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            Presented::Token(token.trim())
        }
        None if value.trim().eq_ignore_ascii_case("bearer") => Presented::Token(""),
        _ => Presented::Nothing,
    }
}

fn unauthorized(challenge: &'static str) -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

/// Why a request is refused, if it is.
fn refusal(shared: &AppState, presented: Presented<'_>, token_required: bool) -> Option<Response> {
    match presented {
        Presented::Nothing if token_required => Some(unauthorized("Bearer")),
        Presented::Nothing => None,
        Presented::Token(token) => match lock(&shared.tokens).check(token) {
            TokenCheck::Valid => None,
            TokenCheck::Invalid => Some(unauthorized(
                r#"Bearer error="invalid_token", error_description="The access token is invalid or expired.""#,
            )),
        },
    }
}

/// The bearer check of an API request: the 401 to answer when it has no
/// valid token. The connection service runs it before the request is
/// logged or meets a fault, so that a request without a valid token costs
/// the log nothing but its bounded entry.
pub(crate) fn bearer_refusal(shared: &AppState, headers: &HeaderMap) -> Option<Response> {
    refusal(shared, presented(headers), true)
}

/// Middleware of the API routes, whose token the connection service has
/// checked ([`bearer_refusal`]): its caller must be within the rate limit
/// ([`crate::ratelimit`]).
pub(crate) async fn throttle(
    State(shared): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Presented::Token(token) = presented(request.headers())
        && let Err(wait) = shared.throttle(&format!("token:{token}"))
    {
        return rate_limited(&shared, wait);
    }
    next.run(request).await
}

/// 429 with `Retry-After` (fractional seconds) and a problem document.
fn rate_limited(shared: &AppState, wait: std::time::Duration) -> Response {
    let retry_after = crate::ratelimit::retry_after(wait);
    let limit = shared.rate_limit().map_or(0, std::num::NonZeroU32::get);
    let mut response = ApiError::rate_limited(limit, &retry_after).into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// Middleware of the hooks: a valid token, or none when the emulator's
/// configuration allows it ([`crate::EmulatorConfig::hooks_need_token`]).
pub(crate) async fn hooks(
    State(shared): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(
        &shared,
        presented(request.headers()),
        shared.hooks_need_token,
    ) {
        Some(response) => response,
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        headers
    }

    #[test]
    fn reads_the_bearer_token_in_any_scheme_case() {
        assert_eq!(presented(&HeaderMap::new()), Presented::Nothing);
        assert_eq!(presented(&headers("Bearer abc")), Presented::Token("abc"));
        assert_eq!(presented(&headers("bearer  abc ")), Presented::Token("abc"));
        assert_eq!(presented(&headers("Bearer")), Presented::Token(""));
        assert_eq!(
            presented(&headers("Basic dXNlcjpwYXNz")),
            Presented::Nothing
        );
    }
}
