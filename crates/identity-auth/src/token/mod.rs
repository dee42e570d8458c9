//! Bearer tokens: where they come from ([`TokenProvider`]) and how they are
//! kept ([`TokenCache`]).
//!
//! A provider fetches a token each time it is asked: [`StaticToken`] (a
//! personal access token), [`TokenFile`] (a file another process rotates),
//! [`PasswordGrant`] (OAuth2, renewed with its refresh token), or one of your
//! own. The [`TokenCache`] in front of it asks only when the token nears its
//! expiry, once however many calls wait, and the
//! [`AuthLayer`](crate::AuthLayer) puts the cached token on every request.

mod cache;
mod credentials;
mod endpoint;
mod password_grant;
mod response;
mod static_token;
mod token_file;

use std::fmt;
use std::time::Duration;

use futures_util::future::BoxFuture;
use identity_call::CredentialSent;
use secrecy::SecretString;
use tokio::time::Instant;

pub use cache::{BearerToken, TokenCache, TokenCacheBuilder};
pub use credentials::token_provider;
pub use endpoint::TokenHttp;
pub use password_grant::{DEFAULT_FETCH_DEADLINE, DEFAULT_SCOPE, PasswordGrant};
pub use static_token::StaticToken;
pub use token_file::{MAX_TOKEN_FILE_BYTES, TokenFile};

use crate::AuthError;
use crate::redact::Redacted;

/// A bearer token and when it stops being valid.
#[derive(Clone)]
pub struct AccessToken {
    /// The token itself.
    pub secret: SecretString,
    /// When the token expires, if known (on tokio's clock, so that tests with
    /// paused time see it expire).
    pub expires_at: Option<Instant>,
}

impl AccessToken {
    /// A token that expires at `expires_at`, or whose expiry is not known.
    pub fn new(secret: SecretString, expires_at: Option<Instant>) -> Self {
        Self { secret, expires_at }
    }

    /// A token that expires `lifetime` from now.
    pub fn expiring_in(secret: SecretString, lifetime: Duration) -> Self {
        Self::new(secret, Instant::now().checked_add(lifetime))
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired_at(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|expiry| now >= expiry)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &Redacted)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Fetches a bearer token.
///
/// Called by the [`TokenCache`] only when it needs a new token, so a provider
/// may do I/O every time; boxing the future costs nothing that matters there.
///
/// ```
/// use futures_util::future::BoxFuture;
/// use identity_auth::{AccessToken, AuthError, SecretString, TokenProvider};
///
/// /// A token from a vault of our own.
/// struct FromVault;
///
/// impl TokenProvider for FromVault {
///     fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
///         Box::pin(async {
///             let token = SecretString::from("from-the-vault");
///             Ok(AccessToken::expiring_in(token, std::time::Duration::from_secs(600)))
///         })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// A new (or the current) token.
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>>;

    /// How long the cache may serve a fetched token before asking again, even
    /// one that does not expire: a provider whose source may change under it
    /// (a rotated token file) says how often to look. `None` (the default):
    /// ask again only when the token nears its expiry, or after a 401.
    fn recheck_after(&self) -> Option<Duration> {
        None
    }

    /// Whether asking again can give a different token (default true). A
    /// provider that always gives the same one (a personal access token)
    /// says false: a 401 to its token is final, and the auth layer keeps no
    /// copy of a request to replay it.
    fn can_renew(&self) -> bool {
        true
    }

    /// The error of a fetch that took longer than `timeout` (the cache's
    /// fetch timeout, or the call's deadline): by default
    /// [`AuthError::Timeout`], which names the token endpoint. A provider
    /// that reads something else says what ([`TokenFile`] names its file).
    fn timed_out(&self, timeout: Duration) -> AuthError {
        AuthError::Timeout { timeout }
    }

    /// What names the credential of this provider's tokens, never the
    /// secret: the auth layer puts it on a 401 answer, so that the error
    /// says which credential was refused. By default the provider's type
    /// name; the SDK's providers say which token, file or user.
    fn credential(&self) -> CredentialSent {
        CredentialSent::Other {
            description: format!("a token of {}", std::any::type_name::<Self>()),
        }
    }
}
