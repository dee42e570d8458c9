//! [`token_provider`]: the [`TokenProvider`] of configured [`Credentials`].
//!
//! The configuration (`identity-config`) says how to authenticate; this crate
//! knows how to get a token that way.

use std::sync::Arc;

use identity_config::Credentials;

use super::{PasswordGrant, StaticToken, TokenFile, TokenHttp, TokenProvider};

/// The token provider for `credentials`: a [`StaticToken`] for a personal
/// access token, a [`TokenFile`] for a token file, a [`PasswordGrant`] for
/// the password grant.
///
/// `token_http` carries the password grant's requests to the token endpoint
/// (in the SDK, an `identity_transport::HttpClient`; see [`TokenHttp`]); the
/// other ways of authenticating do not use it.
///
/// ```
/// use bytes::Bytes;
/// use identity_auth::{TokenCache, token_provider};
/// use identity_config::IdentityConfig;
///
/// let config = IdentityConfig::builder()
///     .identity_url("https://example.lusid.com/identity")
///     .access_token("a-personal-access-token")
///     .build()?;
/// // The token endpoint's HTTP service; unused by a personal access token.
/// let token_http = tower::service_fn(|_: http::Request<Bytes>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let tokens = TokenCache::new(token_provider(config.credentials(), token_http));
/// # let _ = tokens;
/// # Ok::<(), identity_config::ConfigError>(())
/// ```
pub fn token_provider<H: TokenHttp>(
    credentials: &Credentials,
    token_http: H,
) -> Arc<dyn TokenProvider> {
    match credentials {
        Credentials::AccessToken(token) => Arc::new(StaticToken::new(token.clone())),
        Credentials::AccessTokenFile(path) => Arc::new(TokenFile::new(path.clone())),
        Credentials::PasswordGrant(credentials) => {
            Arc::new(PasswordGrant::new(credentials.clone(), token_http))
        }
    }
}
