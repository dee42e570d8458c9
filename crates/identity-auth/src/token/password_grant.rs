//! [`PasswordGrant`]: OAuth2 resource-owner password grant, renewed with its
//! refresh token.
//!
//! The forms are those of the official SDKs:
//!
//! - password grant: `grant_type=password&username=..&password=..&scope=..&client_id=..&client_secret=..`
//!   (the client authenticates in the form body);
//! - refresh grant: `grant_type=refresh_token&refresh_token=..&scope=..`, with
//!   HTTP Basic authentication of `client_id:client_secret`.
//!
//! The refresh token of the last answer is kept and used for the next token;
//! when the endpoint rejects it (`invalid_grant`), the password grant runs
//! again.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::HeaderValue;
use identity_config::PasswordGrantCredentials;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use identity_call::Deadline;

use super::endpoint::{Endpoint, TokenForm, TokenHttp};
use super::response::TokenResponse;
use super::{AccessToken, TokenProvider};
use crate::redact::Secrets;
use crate::{AuthError, GrantType, OAuthErrorCode};

/// The scope the official SDKs ask for.
pub const DEFAULT_SCOPE: &str = "openid client groups offline_access";

/// How long one fetch's requests to the token endpoint may take, retries
/// and waits included, by default: 30 s; the token cache's default fetch
/// timeout too.
pub const DEFAULT_FETCH_DEADLINE: Duration = Duration::from_secs(30);

/// OAuth2 password grant against the token endpoint, with refresh token.
///
/// `H` carries the HTTP (see [`TokenHttp`]); retrying the endpoint's 429
/// and 5xx answers is its business (the SDK gives it `identity-transport`'s
/// `RetryLayer`). The [`TokenCache`](crate::TokenCache) in front of it
/// bounds each fetch with its own timeout.
///
/// ```no_run
/// # async fn example<H: identity_auth::TokenHttp>(http: H) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use identity_auth::{PasswordGrant, SecretString, TokenCache};
/// use identity_config::PasswordGrantCredentials;
///
/// let credentials = PasswordGrantCredentials::new(
///     "https://acme.okta.com/oauth2/abcdef",  // `/v1/token` is appended
///     "robot@acme.com",
///     SecretString::from("the password"),
///     "the-client-id",
///     SecretString::from("the client secret"),
/// )?;
/// let grant = PasswordGrant::new(credentials, http);
/// let tokens = TokenCache::builder(std::sync::Arc::new(grant))
///     .fetch_timeout(Duration::from_secs(10))
///     .build();
/// let bearer = tokens.bearer().await?;
/// # Ok(()) }
/// ```
pub struct PasswordGrant<H> {
    credentials: PasswordGrantCredentials,
    http: H,
    scope: String,
    endpoint: Endpoint,
    fetch_deadline: Duration,
    refresh_token: Mutex<Option<SecretString>>,
}

impl<H: TokenHttp> PasswordGrant<H> {
    /// The password grant for `credentials`, over `http`.
    pub fn new(credentials: PasswordGrantCredentials, http: H) -> Self {
        let endpoint = Endpoint {
            url: credentials.token_url().clone(),
            max_response_bytes: 64 * 1024,
        };
        Self {
            credentials,
            http,
            scope: DEFAULT_SCOPE.to_owned(),
            endpoint,
            fetch_deadline: DEFAULT_FETCH_DEADLINE,
            refresh_token: Mutex::new(None),
        }
    }

    /// How long one fetch's requests may take, retries and waits included
    /// (default [`DEFAULT_FETCH_DEADLINE`]): the requests carry it as their
    /// [`Deadline`], so that the HTTP service's retry layer ends at it, and
    /// an endpoint that throttles for longer ends the fetch at once with
    /// [`AuthError::Status`] saying how long it asked to wait. Give it the
    /// token cache's fetch timeout.
    pub fn with_fetch_deadline(mut self, deadline: Duration) -> Self {
        self.fetch_deadline = deadline;
        self
    }

    /// Sets the scope asked for (default [`DEFAULT_SCOPE`]).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Sets the longest answer read (default 64 KiB).
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.endpoint.max_response_bytes = bytes;
        self
    }

    async fn fetch(&self) -> Result<AccessToken, AuthError> {
        let deadline = Deadline::after(self.fetch_deadline);
        let refresh_token = self
            .refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(refresh_token) = refresh_token {
            match self
                .endpoint
                .post(&self.http, &self.refresh_form(&refresh_token)?, deadline)
                .await
            {
                Ok(answer) => return Ok(self.accept(answer)),
                Err(AuthError::Refused {
                    code: OAuthErrorCode::InvalidGrant,
                    ..
                }) => {
                    tracing::debug!(
                        "the refresh token was refused (invalid_grant); using the password grant"
                    );
                    self.set_refresh_token(None);
                }
                Err(error) => return Err(error),
            }
        }
        let answer = self
            .endpoint
            .post(&self.http, &self.password_form()?, deadline)
            .await?;
        Ok(self.accept(answer))
    }

    fn password_form(&self) -> Result<TokenForm, AuthError> {
        let body = serde_urlencoded::to_string([
            ("grant_type", GrantType::Password.as_str()),
            ("username", self.credentials.username()),
            ("password", self.credentials.password().expose_secret()),
            ("scope", &self.scope),
            ("client_id", self.credentials.client_id()),
            (
                "client_secret",
                self.credentials.client_secret().expose_secret(),
            ),
        ])
        .map_err(AuthError::provider)?;
        Ok(TokenForm {
            grant: GrantType::Password,
            body: Bytes::from(body),
            basic: None,
            secrets: self.secrets(None),
        })
    }

    /// The secrets of a token request: the password, the client secret, the
    /// HTTP Basic pair and the refresh token, whichever the request carries
    /// (all of them, in case the server echoes one request in another).
    fn secrets(&self, refresh_token: Option<&SecretString>) -> Secrets {
        let mut secrets = Secrets::default();
        secrets.add(self.credentials.password().expose_secret());
        secrets.add(self.credentials.client_secret().expose_secret());
        secrets.add(&STANDARD.encode(format!(
            "{}:{}",
            self.credentials.client_id(),
            self.credentials.client_secret().expose_secret()
        )));
        let stored = self
            .refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for token in [refresh_token, stored.as_ref()].into_iter().flatten() {
            secrets.add(token.expose_secret());
        }
        secrets
    }

    fn refresh_form(&self, refresh_token: &SecretString) -> Result<TokenForm, AuthError> {
        let body = serde_urlencoded::to_string([
            ("grant_type", GrantType::RefreshToken.as_str()),
            ("refresh_token", refresh_token.expose_secret()),
            ("scope", &self.scope),
        ])
        .map_err(AuthError::provider)?;
        let pair = format!(
            "{}:{}",
            self.credentials.client_id(),
            self.credentials.client_secret().expose_secret()
        );
        let mut basic = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(pair)))
            .map_err(AuthError::provider)?;
        basic.set_sensitive(true);
        Ok(TokenForm {
            grant: GrantType::RefreshToken,
            body: Bytes::from(body),
            basic: Some(basic),
            secrets: self.secrets(Some(refresh_token)),
        })
    }

    /// Keeps the answer's refresh token (or the current one, when the answer
    /// has none: RFC 6749 lets the server keep it valid) and makes the token.
    fn accept(&self, answer: TokenResponse) -> AccessToken {
        if let Some(refresh_token) = answer.refresh_token {
            self.set_refresh_token(Some(refresh_token));
        }
        let expires_at = answer
            .expires_in
            .and_then(|seconds| Instant::now().checked_add(Duration::from_secs(seconds)));
        AccessToken::new(answer.access_token, expires_at)
    }

    fn set_refresh_token(&self, token: Option<SecretString>) {
        *self
            .refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = token;
    }
}

impl<H: TokenHttp> TokenProvider for PasswordGrant<H> {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(self.fetch())
    }

    fn credential(&self) -> identity_call::CredentialSent {
        identity_call::CredentialSent::PasswordGrant {
            username: self.credentials.username().to_owned(),
            client_id: self.credentials.client_id().to_owned(),
        }
    }
}

impl<H> fmt::Debug for PasswordGrant<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has_refresh_token = self
            .refresh_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        f.debug_struct("PasswordGrant")
            .field("credentials", &self.credentials)
            .field("scope", &self.scope)
            .field("endpoint", &self.endpoint)
            .field("has_refresh_token", &has_refresh_token)
            .finish_non_exhaustive()
    }
}
