//! [`IdentityClientBuilder`]: settings given in code, completed from the
//! environment and `secrets.json`, turned into an [`IdentityClient`].
//!
//! Each setting is taken from the first of: this builder, the `FBN_*`
//! environment variables (unless [`environment(false)`](IdentityClientBuilder::environment)),
//! the `secrets.json` file (the one named, else `./secrets.json` when it
//! exists). The keys and the order are those of `identity-config`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use identity_config::{IdentityConfig, IdentityConfigBuilder};

use crate::stack::StackSettings;
use crate::{Error, IdentityClient};

/// Builds an [`IdentityClient`]; every setting is optional.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct IdentityClientBuilder {
    config: IdentityConfigBuilder,
    secrets_file: Option<PathBuf>,
    ignore_environment: bool,
    stack: StackSettings,
}

macro_rules! config_setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $type:ty);)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $arg: $type) -> Self {
            self.config = self.config.$name($arg);
            self
        }
    )*};
}

impl IdentityClientBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    config_setters! {
        /// Base URL of the service, e.g. `https://acme.lusid.com/identity`.
        identity_url(url: impl Into<String>);
        /// OAuth2 token URL, for the password grant.
        token_url(url: impl Into<String>);
        /// Personal access token (wins over the password grant).
        access_token(token: impl Into<String>);
        /// File holding the bearer token, re-read when it changes.
        access_token_file(file: impl AsRef<Path>);
        /// Username, for the password grant.
        username(username: impl Into<String>);
        /// Password, for the password grant.
        password(password: impl Into<String>);
        /// Client id, for the password grant.
        client_id(client_id: impl Into<String>);
        /// Client secret, for the password grant.
        client_secret(client_secret: impl Into<String>);
        /// Sent as `X-LUSID-Application`.
        application_name(name: impl Into<String>);
        /// Sent as `CorrelationId` on every call.
        correlation_id(id: impl Into<String>);
        /// Deadline of each call, retries and waits included.
        total_timeout(timeout: Duration);
        /// Deadline of each connection attempt.
        connect_timeout(timeout: Duration);
        /// Read timeout of each attempt.
        read_timeout(timeout: Duration);
        /// How many times a 429 answer is retried (0 turns it off).
        rate_limit_retries(retries: u32);
        /// HTTP proxy, e.g. `http://proxy.acme.com:3128`.
        proxy_address(address: impl Into<String>);
        /// Proxy username.
        proxy_username(username: impl Into<String>);
        /// Proxy password.
        proxy_password(password: impl Into<String>);
        /// Extra CA certificate (PEM) trusted beside the web's roots.
        client_certificate(file: impl AsRef<Path>);
        /// Allows `http://` URLs to hosts other than loopback (tokens in clear).
        allow_insecure_http(allow: bool);
    }

    /// The same as [`identity_url`](Self::identity_url).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.identity_url(url)
    }

    /// How many times a transient failure (5xx, connection error, attempt
    /// timeout) is retried.
    pub fn transient_retries(mut self, retries: u32) -> Self {
        self.stack.transient_retries = Some(retries);
        self
    }

    /// The largest answer body read, in bytes.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.stack.max_response_bytes = Some(bytes);
        self
    }

    /// Reads this `secrets.json` (it must exist) instead of looking for
    /// `./secrets.json`.
    pub fn secrets_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secrets_file = Some(path.into());
        self
    }

    /// Whether the `FBN_*` environment variables are read (default true).
    pub fn environment(mut self, read: bool) -> Self {
        self.ignore_environment = !read;
        self
    }

    /// Resolves the settings and builds the client.
    ///
    /// Nothing is sent yet: the first call fetches the token.
    pub fn build(self) -> Result<IdentityClient, Error> {
        let secrets_file = self.secrets_file.as_deref();
        let config = if self.ignore_environment {
            IdentityConfig::from_sources(self.config, |_| None, secrets_file)?
        } else {
            IdentityConfig::load(self.config, secrets_file)?
        };
        IdentityClient::from_config_with(&config, self.stack)
    }
}
