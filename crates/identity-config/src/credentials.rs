//! [`Credentials`]: the way of authenticating the configuration resolves to.
//!
//! A personal access token wins over everything else when it is set (as in the
//! official SDKs), then a token file, then the password grant, which needs all
//! five of its settings.

use std::fmt;
use std::path::PathBuf;

use http::Uri;
use secrecy::SecretString;

use crate::redact::Redacted;
use crate::url::{okta_token_url, parse_endpoint};
use crate::{ConfigError, Setting, ValueSource};

/// How the SDK obtains its bearer token.
///
/// `identity_auth::token_provider` turns these into a token provider. The
/// enum is not `#[non_exhaustive]` on purpose: that function matches every
/// variant, so a new way of authenticating does not compile until it has a
/// token provider.
#[derive(Clone)]
pub enum Credentials {
    /// A personal access token (API key), sent as the bearer token as it is.
    AccessToken(SecretString),
    /// A file holding the bearer token, re-read when it changes (a token
    /// that another process rotates).
    AccessTokenFile(PathBuf),
    /// The OAuth2 resource-owner password grant, renewed with its refresh token.
    PasswordGrant(PasswordGrantCredentials),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::AccessToken(_) => f.debug_tuple("AccessToken").field(&Redacted).finish(),
            Credentials::AccessTokenFile(path) => {
                f.debug_tuple("AccessTokenFile").field(path).finish()
            }
            Credentials::PasswordGrant(credentials) => {
                f.debug_tuple("PasswordGrant").field(credentials).finish()
            }
        }
    }
}

/// What the OAuth2 password grant needs.
#[derive(Clone)]
pub struct PasswordGrantCredentials {
    token_url: Uri,
    username: String,
    password: SecretString,
    client_id: String,
    client_secret: SecretString,
}

impl PasswordGrantCredentials {
    /// Credentials for the token endpoint at `token_url`.
    ///
    /// The URL must be https, or http to a loopback host (an emulator on this
    /// machine); an Okta issuer URL without `/v1/token` gets it appended.
    pub fn new(
        token_url: &str,
        username: impl Into<String>,
        password: SecretString,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, ConfigError> {
        let uri = parse_endpoint(Setting::TokenUrl, &ValueSource::Builder, token_url, false)?;
        Ok(Self::from_checked(
            uri,
            username.into(),
            password,
            client_id.into(),
            client_secret,
        ))
    }

    pub(crate) fn from_checked(
        token_url: Uri,
        username: String,
        password: SecretString,
        client_id: String,
        client_secret: SecretString,
    ) -> Self {
        Self {
            token_url: okta_token_url(token_url),
            username,
            password,
            client_id,
            client_secret,
        }
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &Uri {
        &self.token_url
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The OAuth2 client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The password, to send to the token endpoint and nowhere else.
    pub fn password(&self) -> &SecretString {
        &self.password
    }

    /// The OAuth2 client secret, to send to the token endpoint and nowhere
    /// else.
    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }
}

impl fmt::Debug for PasswordGrantCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrantCredentials")
            .field("token_url", &self.token_url.to_string())
            .field("username", &self.username)
            .field("password", &Redacted)
            .field("client_id", &self.client_id)
            .field("client_secret", &Redacted)
            .finish()
    }
}
