//! [`AuthError`]: why no bearer token could be had.
//!
//! Messages name the cause (the OAuth2 error code, the HTTP status, the file)
//! and never a secret: no token, password, client secret or response body.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

/// The grant a token request used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantType {
    /// `grant_type=password`.
    Password,
    /// `grant_type=refresh_token`.
    RefreshToken,
}

impl GrantType {
    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::Password => "password",
            GrantType::RefreshToken => "refresh_token",
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` code of an OAuth2 error response (RFC 6749, section 5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`: the request is malformed.
    InvalidRequest,
    /// `invalid_client`: the client id or client secret is wrong.
    InvalidClient,
    /// `invalid_grant`: the username and password, or the refresh token, are
    /// wrong, expired or revoked.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the server does not offer this grant.
    UnsupportedGrantType,
    /// `invalid_scope`: the scope is not allowed.
    InvalidScope,
    /// Any other code, as sent.
    Other(String),
}

impl OAuthErrorCode {
    /// The code as the server sent it.
    pub fn as_str(&self) -> &str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::Other(code) => code,
        }
    }

    fn meaning(&self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => " (the request is malformed)",
            OAuthErrorCode::InvalidClient => " (wrong client id or client secret)",
            OAuthErrorCode::InvalidGrant => {
                " (wrong username or password, or an expired or revoked refresh token)"
            }
            OAuthErrorCode::UnauthorizedClient => " (the client may not use this grant)",
            OAuthErrorCode::UnsupportedGrantType => " (the server does not offer this grant)",
            OAuthErrorCode::InvalidScope => " (the scope is not allowed)",
            OAuthErrorCode::Other(_) => "",
        }
    }
}

impl From<&str> for OAuthErrorCode {
    fn from(code: &str) -> Self {
        match code {
            "invalid_request" => OAuthErrorCode::InvalidRequest,
            "invalid_client" => OAuthErrorCode::InvalidClient,
            "invalid_grant" => OAuthErrorCode::InvalidGrant,
            "unauthorized_client" => OAuthErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => OAuthErrorCode::UnsupportedGrantType,
            "invalid_scope" => OAuthErrorCode::InvalidScope,
            other => OAuthErrorCode::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// No bearer token could be had.
///
/// Cheap to clone, so that every call waiting on one token refresh gets its
/// outcome.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token endpoint refused the grant with an OAuth2 error.
    #[error(
        "the token endpoint refused the {grant} grant (HTTP {}): {code}{}{}",
        status.as_u16(),
        code.meaning(),
        described(description)
    )]
    Refused {
        /// The grant that was refused.
        grant: GrantType,
        /// The HTTP status of the answer.
        status: StatusCode,
        /// The OAuth2 error code.
        code: OAuthErrorCode,
        /// The server's `error_description`, shortened.
        description: Option<String>,
    },

    /// The token endpoint answered an HTTP status that is no token and no
    /// OAuth2 error (after the retries of the HTTP service, if it has any):
    /// a 429 whose wait was longer than the fetch allows, a 5xx.
    #[error(
        "the token endpoint answered HTTP {} to the {grant} grant{}",
        status.as_u16(),
        asked_to_wait(*retry_after)
    )]
    Status {
        /// The grant that was asked for.
        grant: GrantType,
        /// The last HTTP status.
        status: StatusCode,
        /// How long the endpoint asked to wait (its `Retry-After`), if it said.
        retry_after: Option<Duration>,
    },

    /// The token endpoint could not be reached, or its answer could not be
    /// read to the end.
    #[error("the token endpoint could not be reached")]
    Unreachable {
        /// Why.
        #[source]
        source: SharedSource,
    },

    /// The token endpoint answered 200 with something that is not a token.
    #[error("the token endpoint's answer is not a usable token: {reason}")]
    BadResponse {
        /// What is wrong with it (never its content).
        reason: String,
    },

    /// The token endpoint did not answer in time.
    #[error("the token endpoint did not answer within {timeout:?}")]
    Timeout {
        /// The time allowed.
        timeout: Duration,
    },

    /// The access token file cannot be read.
    #[error("the access token file {} cannot be read", path.display())]
    TokenFileUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: SharedSource,
    },

    /// The access token file holds no token.
    #[error("the access token file {} is empty", path.display())]
    TokenFileEmpty {
        /// The file.
        path: PathBuf,
    },

    /// The access token file is longer than a token can be: it was read no
    /// further.
    #[error(
        "the access token file {} is longer than {max_bytes} bytes: not a token",
        path.display()
    )]
    TokenFileTooLong {
        /// The file.
        path: PathBuf,
        /// The most a token file may hold.
        max_bytes: u64,
    },

    /// The access token file could not be read within the token fetch
    /// timeout (a FIFO nobody writes to, a mount that stalls).
    #[error(
        "the access token file {} could not be read within {timeout:?}",
        path.display()
    )]
    TokenFileTimeout {
        /// The file.
        path: PathBuf,
        /// The time allowed.
        timeout: Duration,
    },

    /// The token holds characters an HTTP header cannot carry.
    #[error("the access token holds characters that an HTTP header cannot carry")]
    InvalidToken,

    /// The request goes over plain `http://` to a host that is not this
    /// machine: its bearer token would travel in clear text, so none was
    /// attached and nothing was sent (allow it with
    /// [`AuthLayer::allow_insecure_http`](crate::AuthLayer::allow_insecure_http)).
    #[error("refusing to send a bearer token over plain http to {host}: use https")]
    InsecureTarget {
        /// The host the request was for.
        host: String,
    },

    /// A token provider written outside this crate failed.
    #[error("the token provider failed")]
    Provider {
        /// Why.
        #[source]
        source: SharedSource,
    },
}

/// The cause of an [`AuthError`], shared by its clones (every call waiting
/// on one token fetch gets the same error).
///
/// It is not an error itself: it dereferences to the error it holds, so a
/// walk of [`Error::source`] goes from the `AuthError` straight to that
/// error and on to its own causes. (An `Arc<dyn Error>` as the source would
/// hide it: std's `impl Error for Arc<T>` forwards `source()` to the inner
/// error's source, skipping the inner error, and no downcast finds it.)
#[derive(Clone)]
pub struct SharedSource(Arc<dyn Error + Send + Sync>);

impl SharedSource {
    /// Shares `error`.
    pub fn new(error: impl Into<tower::BoxError>) -> Self {
        Self(Arc::from(error.into()))
    }
}

impl std::ops::Deref for SharedSource {
    type Target = dyn Error + Send + Sync;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl AuthError {
    /// Wraps the failure of a token provider written outside this crate.
    pub fn provider(source: impl Into<tower::BoxError>) -> Self {
        AuthError::Provider {
            source: SharedSource::new(source),
        }
    }

    /// How long the token endpoint asked to wait, when it throttled the
    /// fetch for longer than the fetch could wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AuthError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the token endpoint throttled the fetch (429) for longer than
    /// it could wait.
    pub fn is_throttled(&self) -> bool {
        matches!(self, AuthError::Status { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether asking again later may succeed: the endpoint was unreachable,
    /// slow, throttling (429) or failing (5xx). Refused credentials are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            AuthError::Unreachable { .. } | AuthError::Timeout { .. } => true,
            AuthError::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            AuthError::Refused { status, code, .. } => {
                status.is_server_error()
                    || matches!(code.as_str(), "temporarily_unavailable" | "server_error")
            }
            _ => false,
        }
    }

    /// Whether the credentials themselves were refused (`invalid_grant`,
    /// `invalid_client`, `unauthorized_client`): fix the configuration.
    pub fn is_credentials_refused(&self) -> bool {
        matches!(
            self,
            AuthError::Refused {
                code: OAuthErrorCode::InvalidGrant
                    | OAuthErrorCode::InvalidClient
                    | OAuthErrorCode::UnauthorizedClient,
                ..
            }
        )
    }
}

fn asked_to_wait(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (it asked to wait {})", identity_call::Seconds(wait)),
        None => String::new(),
    }
}

fn described(description: &Option<String>) -> String {
    match description {
        Some(text) => format!(": {text}"),
        None => String::new(),
    }
}
