//! No secret in any `Debug` or `Display` of a token or error value: every
//! secret is a distinctive string searched for in the output. (The
//! configuration's values and errors are checked in identity-config's tests.)

use std::fmt::{Debug, Display};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use identity_auth::{
    AccessToken, AuthError, PasswordGrant, SecretString, StaticToken, TokenCache, TokenFile,
    TokenProvider,
};
use identity_config::PasswordGrantCredentials;

const SECRETS: [&str; 7] = [
    "pw-Q7xSECRET",
    "cs-Z9kSECRET",
    "pat-M2vSECRET",
    "pxpw-L4jSECRET",
    "at-R8nSECRET",
    "rt-W3cSECRET",
    "urlpw-T6hSECRET",
];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

fn debug(what: &str, value: &impl Debug) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

fn both(what: &str, value: &(impl Debug + Display)) {
    debug(what, value);
    assert_clean(what, &value.to_string());
}

/// A token endpoint that answers `status` and `body`, whatever it is asked.
fn endpoint(
    status: StatusCode,
    body: &'static str,
) -> impl tower::Service<
    Request<Bytes>,
    Response = Response<String>,
    Error = std::convert::Infallible,
    Future = std::future::Ready<Result<Response<String>, std::convert::Infallible>>,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(move |_: Request<Bytes>| {
        let mut response = Response::new(body.to_owned());
        *response.status_mut() = status;
        std::future::ready(Ok(response))
    })
}

#[tokio::test]
async fn token_values_never_show_a_secret() {
    let token = AccessToken::new(SecretString::from(SECRETS[4]), None);
    debug("AccessToken", &token);

    let provider = StaticToken::new(SecretString::from(SECRETS[2]));
    debug("StaticToken", &provider);
    let cache = TokenCache::from_provider(provider);
    let bearer = cache.bearer().await.unwrap();
    debug("BearerToken", &bearer);
    debug("TokenCache", &cache);
    assert_clean("HeaderValue", &format!("{:?}", bearer.header_value()));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, SECRETS[4]).unwrap();
    let file = TokenFile::new(&path);
    file.fetch_token().await.unwrap();
    debug("TokenFile", &file);

    let answer = r#"{"access_token":"at-R8nSECRET","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-W3cSECRET"}"#;
    let grant = PasswordGrant::new(password_credentials(), endpoint(StatusCode::OK, answer));
    let token = grant.fetch_token().await.unwrap();
    debug("AccessToken from the grant", &token);
    debug("PasswordGrant holding a refresh token", &grant);
}

fn password_credentials() -> PasswordGrantCredentials {
    PasswordGrantCredentials::new(
        "https://acme.okta.com/oauth2/abc",
        "robot",
        SecretString::from(SECRETS[0]),
        "client",
        SecretString::from(SECRETS[1]),
    )
    .unwrap()
}

#[tokio::test]
async fn auth_errors_never_show_a_secret() {
    let answers: [(StatusCode, &'static str); 7] = [
        (
            StatusCode::OK,
            r#"{"access_token": 5, "refresh_token": "rt-W3cSECRET"}"#,
        ),
        (
            StatusCode::OK,
            r#"{"access_token": "at-R8nSECRET", "token_type": "mac"}"#,
        ),
        (
            StatusCode::OK,
            r#"{"access_token": "at-R8nSECRET", "expires_in": "soon"}"#,
        ),
        (StatusCode::OK, r#"["at-R8nSECRET"]"#),
        (StatusCode::OK, "at-R8nSECRET"),
        (
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_grant","error_description":"bad"}"#,
        ),
        (StatusCode::FORBIDDEN, "<html>at-R8nSECRET</html>"),
    ];
    for (status, body) in answers {
        let grant = PasswordGrant::new(password_credentials(), endpoint(status, body));
        let error = grant.fetch_token().await.unwrap_err();
        both("AuthError", &error);
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            assert_clean("AuthError source", &cause.to_string());
            source = cause.source();
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let error = TokenFile::new(dir.path().join("missing"))
        .fetch_token()
        .await
        .unwrap_err();
    both("AuthError::TokenFileUnreadable", &error);
    let errors = [
        AuthError::InvalidToken,
        AuthError::Timeout {
            timeout: std::time::Duration::from_secs(30),
        },
        AuthError::provider("vault sealed"),
    ];
    for error in errors {
        both("AuthError", &error);
    }
}

/// A token endpoint that refuses every request, echoing its form and its
/// `Authorization` header in `error_description` (as some servers do);
/// a first password grant is answered with a token and a refresh token, so
/// that the refresh grant is echoed too.
fn echoing_endpoint() -> impl tower::Service<
    Request<Bytes>,
    Response = Response<String>,
    Error = std::convert::Infallible,
    Future = std::future::Ready<Result<Response<String>, std::convert::Infallible>>,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(move |request: Request<Bytes>| {
        let form = String::from_utf8_lossy(request.body()).into_owned();
        let basic = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .unwrap_or_default();
        let response = if form.contains("grant_type=password") && !form.contains("scope%3Drefused")
        {
            Response::new(
                r#"{"access_token":"at-R8nSECRET","expires_in":3600,"refresh_token":"rt-W3c SECRET/+"}"#
                    .to_owned(),
            )
        } else {
            let mut refused = Response::new(
                serde_json::json!({
                    "error": "invalid_request",
                    "error_description": format!("you sent {form} with {basic}"),
                })
                .to_string(),
            );
            *refused.status_mut() = StatusCode::BAD_REQUEST;
            refused
        };
        std::future::ready(Ok(response))
    })
}

#[tokio::test]
async fn an_endpoint_echoing_the_request_has_every_secret_removed_from_its_text() {
    let credentials = PasswordGrantCredentials::new(
        "https://acme.okta.com/oauth2/abc",
        "robot",
        // Characters that form encoding changes, so that both forms show.
        SecretString::from("pw-Q7x SECRET&=/"),
        "client",
        SecretString::from("cs-Z9k+SECRET"),
    )
    .unwrap();
    let secret_forms = [
        "pw-Q7x",
        "Q7x+SECRET",
        "cs-Z9k",
        "Z9k%2BSECRET",
        "rt-W3c",
        // base64 of "client:cs-Z9k+SECRET", the Basic header's pair.
        "Y2xpZW50OmNzLVo5aytTRUNSRVQ=",
    ];
    let check = |what: &str, error: &AuthError| {
        for text in [error.to_string(), format!("{error:?}")] {
            for secret in secret_forms {
                assert!(!text.contains(secret), "{what} shows {secret}: {text}");
            }
            assert!(text.contains("[REDACTED]"), "{what}: {text}");
        }
    };
    // The refresh grant: the first password grant gives a refresh token,
    // and the refresh that follows is refused with the echo.
    let grant = PasswordGrant::new(credentials.clone(), echoing_endpoint());
    grant.fetch_token().await.unwrap();
    let error = grant.fetch_token().await.unwrap_err();
    assert!(error.to_string().contains("refresh_token grant"), "{error}");
    check("the refresh grant's error", &error);

    // The password grant itself, echoed (its scope holds `scope=refused`,
    // which the endpoint refuses, form-encoded).
    let grant = PasswordGrant::new(credentials, echoing_endpoint()).with_scope("scope=refused");
    let error = grant.fetch_token().await.unwrap_err();
    assert!(error.to_string().contains("password grant"), "{error}");
    check("the password grant's error", &error);
}
