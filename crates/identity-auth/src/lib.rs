//! Bearer tokens of the FINBOURNE Identity SDK, as a tower layer.
//!
//! - [`token`]: [`TokenProvider`]s ([`StaticToken`], [`TokenFile`],
//!   [`PasswordGrant`]) and the [`TokenCache`] that refreshes ahead of expiry
//!   with one fetch in flight; [`token_provider`] picks the provider of the
//!   `Credentials` that `identity-config` resolves the configuration to.
//! - [`AuthLayer`]: the tower layer that puts the token on each request and,
//!   after a 401, gets a new token and replays the request once, by itself.
//!
//! This crate picks no HTTP client: the password grant talks to the token
//! endpoint through any tower service ([`TokenHttp`]), and the layer wraps
//! any service over `http::Request<Bytes>`.
//!
//! Secrets are [`SecretString`]s: `Debug` shows `[REDACTED]`, no `Display`
//! or error message holds one, and `Authorization` headers are marked
//! sensitive.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tower::BoxError> {
//! use bytes::Bytes;
//! use identity_auth::{AuthLayer, TokenCache, token_provider};
//! use identity_config::IdentityConfig;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! let config = IdentityConfig::builder()
//!     .identity_url("https://example.lusid.com/identity")
//!     .access_token("a-personal-access-token")
//!     .build()?;
//! // The token endpoint's HTTP service; unused by a personal access token.
//! let token_http = tower::service_fn(|_: http::Request<Bytes>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! });
//! let tokens = TokenCache::new(token_provider(config.credentials(), token_http));
//!
//! // Any service over Request<Bytes>: here one that echoes the header it got.
//! let api = tower::service_fn(|request: http::Request<Bytes>| async move {
//!     let sent = request.headers()[http::header::AUTHORIZATION].clone();
//!     Ok::<_, std::convert::Infallible>(http::Response::new(sent))
//! });
//! let client = ServiceBuilder::new().layer(AuthLayer::new(tokens)).service(api);
//! let response = client.oneshot(http::Request::new(Bytes::new())).await?;
//! assert_eq!(response.body(), "Bearer a-personal-access-token");
//! # Ok(()) }
//! ```
//!
//! Cargo feature `metrics`: the token cache counts its fetches
//! (`identity.client.token_fetches`, labelled `outcome`: `success` or
//! `failure`) on the `metrics` facade.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod layer;
mod redact;
pub mod token;

pub use error::{AuthError, GrantType, OAuthErrorCode, SharedSource};
pub use layer::{AuthLayer, AuthService};
pub use secrecy::{ExposeSecret, SecretString};
pub use token::{
    AccessToken, BearerToken, PasswordGrant, StaticToken, TokenCache, TokenCacheBuilder, TokenFile,
    TokenHttp, TokenProvider, token_provider,
};
