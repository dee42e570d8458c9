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
