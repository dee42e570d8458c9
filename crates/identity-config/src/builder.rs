//! [`IdentityConfigBuilder`]: settings given explicitly, in code.
//!
//! Explicit settings win over the environment and `secrets.json`, key by key
//! (see [the crate docs](crate)).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::redact;
use crate::{ConfigError, IdentityConfig};

/// Settings given in code; every one is optional.
///
/// [`build`](IdentityConfigBuilder::build) uses these settings alone;
/// [`load`](IdentityConfigBuilder::load) completes them from the environment
/// and `secrets.json`. An empty string counts as not set, as in the
/// environment.
///
/// ```
/// use identity_config::IdentityConfig;
///
/// let config = IdentityConfig::builder()
///     .identity_url("https://example.lusid.com/identity")
///     .access_token("my-personal-access-token")
///     .application_name("payroll-sync")
///     .build()?;
/// assert_eq!(config.identity_url(), "https://example.lusid.com/identity");
/// # Ok::<(), identity_config::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct IdentityConfigBuilder {
    pub(crate) identity_url: Option<String>,
    pub(crate) token_url: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<SecretString>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) access_token: Option<SecretString>,
    pub(crate) access_token_file: Option<PathBuf>,
    pub(crate) application_name: Option<String>,
    pub(crate) client_certificate: Option<PathBuf>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) rate_limit_retries: Option<u32>,
    pub(crate) proxy_address: Option<String>,
    pub(crate) proxy_username: Option<String>,
    pub(crate) proxy_password: Option<SecretString>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) allow_insecure_http: bool,
}

fn text(value: impl Into<String>) -> Option<String> {
    Some(value.into()).filter(|value| !value.trim().is_empty())
}

fn secret(value: impl Into<String>) -> Option<SecretString> {
    text(value).map(SecretString::from)
}

fn path(value: impl AsRef<Path>) -> Option<PathBuf> {
    Some(value.as_ref().to_path_buf()).filter(|path| !path.as_os_str().is_empty())
}

impl IdentityConfigBuilder {
    /// No setting yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses these settings alone: no environment, no file.
    pub fn build(self) -> Result<IdentityConfig, ConfigError> {
        IdentityConfig::from_sources(self, |_| None, None)
    }

    /// Completes these settings from the environment, then from
    /// `secrets.json` (see [`IdentityConfig::load`]).
    pub fn load(self, secrets_path: Option<&Path>) -> Result<IdentityConfig, ConfigError> {
        IdentityConfig::load(self, secrets_path)
    }

    /// Base URL of the Identity service (`FBN_IDENTITY_URL`), e.g.
    /// `https://<domain>.lusid.com/identity`.
    pub fn identity_url(mut self, url: impl Into<String>) -> Self {
        self.identity_url = text(url);
        self
    }

    /// OAuth2 token endpoint of the password grant (`FBN_TOKEN_URL`).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = text(url);
        self
    }

    /// Username of the password grant (`FBN_USERNAME`).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = text(username);
        self
    }

    /// Password of the password grant (`FBN_PASSWORD`).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = secret(password);
        self
    }

    /// OAuth2 client id (`FBN_CLIENT_ID`).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = text(client_id);
        self
    }

    /// OAuth2 client secret (`FBN_CLIENT_SECRET`).
    pub fn client_secret(mut self, client_secret: impl Into<String>) -> Self {
        self.client_secret = secret(client_secret);
        self
    }

    /// Personal access token (`FBN_ACCESS_TOKEN`); wins over the other ways
    /// of authenticating.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = secret(token);
        self
    }

    /// File holding the access token (`FBN_ACCESS_TOKEN_FILE`), re-read when
    /// it changes.
    pub fn access_token_file(mut self, file: impl AsRef<Path>) -> Self {
        self.access_token_file = path(file);
        self
    }

    /// Application name, sent as `X-LUSID-Application` (`FBN_APP_NAME`).
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = text(name);
        self
    }

    /// Extra CA certificate file (PEM) to trust (`FBN_CLIENT_CERTIFICATE`).
    pub fn client_certificate(mut self, file: impl AsRef<Path>) -> Self {
        self.client_certificate = path(file);
        self
    }

    /// Total timeout of a call (`FBN_TOTAL_TIMEOUT_MS`).
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// Connect timeout (`FBN_CONNECT_TIMEOUT_MS`).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Read timeout of one attempt (`FBN_READ_TIMEOUT_MS`).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// How many times a 429 answer is retried (`FBN_RATE_LIMIT_RETRIES`).
    pub fn rate_limit_retries(mut self, retries: u32) -> Self {
        self.rate_limit_retries = Some(retries);
        self
    }

    /// Address of an HTTP proxy (`FBN_PROXY_ADDRESS`).
    pub fn proxy_address(mut self, address: impl Into<String>) -> Self {
        self.proxy_address = text(address);
        self
    }

    /// Username at the proxy (`FBN_PROXY_USERNAME`).
    pub fn proxy_username(mut self, username: impl Into<String>) -> Self {
        self.proxy_username = text(username);
        self
    }

    /// Password at the proxy (`FBN_PROXY_PASSWORD`).
    pub fn proxy_password(mut self, password: impl Into<String>) -> Self {
        self.proxy_password = secret(password);
        self
    }

    /// Correlation id, sent as `CorrelationId` (`FBN_CORRELATION_ID`).
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = text(id);
        self
    }

    /// Allows plain `http://` identity and token URLs to hosts that are not
    /// loopback. Off by default: tokens and passwords would travel in clear
    /// text. Only this builder can turn it on, never the environment or a file.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

impl fmt::Debug for IdentityConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityConfigBuilder")
            .field(
                "identity_url",
                &self.identity_url.as_deref().map(redact::url),
            )
            .field("token_url", &self.token_url.as_deref().map(redact::url))
            .field("username", &self.username)
            .field("password", &redact::optional(&self.password))
            .field("client_id", &self.client_id)
            .field("client_secret", &redact::optional(&self.client_secret))
            .field("access_token", &redact::optional(&self.access_token))
            .field("access_token_file", &self.access_token_file)
            .field("application_name", &self.application_name)
            .field("client_certificate", &self.client_certificate)
            .field("total_timeout", &self.total_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("rate_limit_retries", &self.rate_limit_retries)
            .field(
                "proxy_address",
                &self.proxy_address.as_deref().map(redact::url),
            )
            .field("proxy_username", &self.proxy_username)
            .field("proxy_password", &redact::optional(&self.proxy_password))
            .field("correlation_id", &self.correlation_id)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}
