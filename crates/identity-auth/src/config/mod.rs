//! Configuration: where the SDK finds its URL, credentials and settings.
//!
//! Settings come from three places, with the names of FINBOURNE's other SDKs:
//!
//! | setting | environment variable | `secrets.json` key |
//! |---|---|---|
//! | identity URL | `FBN_IDENTITY_URL` (older: `FBN_FINBOURNE_IDENTITY_API_URL`) | `api.identityUrl` |
//! | token URL | `FBN_TOKEN_URL` | `api.tokenUrl` |
//! | username | `FBN_USERNAME` | `api.username` |
//! | password | `FBN_PASSWORD` | `api.password` |
//! | client id | `FBN_CLIENT_ID` | `api.clientId` |
//! | client secret | `FBN_CLIENT_SECRET` | `api.clientSecret` |
//! | personal access token | `FBN_ACCESS_TOKEN` | `api.accessToken` |
//! | access token file | `FBN_ACCESS_TOKEN_FILE` | `api.accessTokenFile` |
//! | application name | `FBN_APP_NAME` | `api.applicationName` |
//! | extra CA certificate file | `FBN_CLIENT_CERTIFICATE` | `api.clientCertificate` |
//! | total / connect / read timeout, ms | `FBN_TOTAL_TIMEOUT_MS`, `FBN_CONNECT_TIMEOUT_MS`, `FBN_READ_TIMEOUT_MS` | `api.totalTimeoutMs`, `api.connectTimeoutMs`, `api.readTimeoutMs` |
//! | retries on 429 | `FBN_RATE_LIMIT_RETRIES` | `api.rateLimitRetries` |
//! | proxy address, username, password | `FBN_PROXY_ADDRESS`, `FBN_PROXY_USERNAME`, `FBN_PROXY_PASSWORD` | `proxy.address`, `proxy.username`, `proxy.password` |
//! | correlation id | `FBN_CORRELATION_ID` | none |
//!
//! # Precedence
//!
//! [`IdentityConfig::load`] takes each setting, independently of the others,
//! from the first of:
//!
//! 1. the [`IdentityConfigBuilder`] (values given in code),
//! 2. the environment,
//! 3. the `secrets.json` file: the path given, else the file named by
//!    `FBN_SECRETS_PATH` (an extra of this SDK), else `./secrets.json` when it
//!    exists.
//!
//! So a file can hold the credentials while `FBN_IDENTITY_URL` points one run
//! at another environment. An empty value counts as not set.
//!
//! **This differs from the Python SDK**, where the file wins over the
//! environment (it reads the environment first, then lets `secrets.json`
//! overwrite it key by key); the C# SDK also prefers the file. We follow the
//! convention of the AWS and Kubernetes clients and of twelve-factor apps
//! instead: the environment of one run overrides a file that is shared by many,
//! and code overrides both. A file that is checked in or mounted into a
//! container can then be overridden without being edited.
//!
//! # Credentials
//!
//! A personal access token wins over everything else when it is set, then an
//! access token file, then the password grant, which needs all of token URL,
//! username, password, client id and client secret (see [`Credentials`]).
//! Identity and token URLs must be https, or http to a loopback host, unless
//! [`IdentityConfigBuilder::allow_insecure_http`] says otherwise. An Okta
//! issuer URL without `/v1/token` gets it appended, as the official SDKs do.
//!
//! Secrets are kept in [`SecretString`](secrecy::SecretString): `Debug`
//! shows `[REDACTED]` and no error message holds one.
//!
//! ```
//! use std::collections::HashMap;
//! use identity_auth::{Credentials, IdentityConfig};
//!
//! // The environment as a map, as tests do; `IdentityConfig::load` reads the
//! // process environment.
//! let env = HashMap::from([
//!     ("FBN_IDENTITY_URL", "https://example.lusid.com/identity"),
//!     ("FBN_ACCESS_TOKEN", "from-the-environment"),
//!     ("FBN_TOTAL_TIMEOUT_MS", "60000"),
//! ]);
//! let explicit = IdentityConfig::builder().total_timeout(std::time::Duration::from_secs(5));
//! let config = IdentityConfig::from_sources(explicit, |name| env.get(name).map(|v| v.to_string()), None)?;
//!
//! assert_eq!(config.total_timeout(), Some(std::time::Duration::from_secs(5)));
//! assert!(matches!(config.credentials(), Credentials::AccessToken(_)));
//! assert!(format!("{config:?}").contains("[REDACTED]"));
//! # Ok::<(), identity_auth::ConfigError>(())
//! ```

mod builder;
mod credentials;
mod env;
mod error;
mod proxy;
mod resolve;
mod secrets_file;
mod setting;
mod url;

use std::fmt;
use std::path::Path;
use std::time::Duration;

pub use builder::IdentityConfigBuilder;
pub use credentials::{Credentials, PasswordGrantCredentials};
pub use env::SECRETS_PATH_VAR;
pub use error::{ConfigError, ValueSource};
pub use proxy::ProxySettings;
pub use setting::Setting;

use crate::redact;

/// The resolved configuration: a URL, a way of authenticating, and the
/// optional settings.
#[derive(Clone)]
pub struct IdentityConfig {
    identity_url: String,
    credentials: Credentials,
    application_name: Option<String>,
    client_certificate: Option<std::path::PathBuf>,
    total_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    rate_limit_retries: Option<u32>,
    proxy: Option<ProxySettings>,
    correlation_id: Option<String>,
    allow_insecure_http: bool,
}

impl IdentityConfig {
    /// A builder for settings given in code.
    pub fn builder() -> IdentityConfigBuilder {
        IdentityConfigBuilder::new()
    }

    /// The settings of `explicit`, completed from the process environment,
    /// then from `secrets.json` (see [the module docs](self) for the order).
    ///
    /// `secrets_path` names the file, which must then exist; without it the
    /// file named by `FBN_SECRETS_PATH` is read, else `./secrets.json` when it
    /// exists.
    pub fn load(
        explicit: IdentityConfigBuilder,
        secrets_path: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let values = env::process_env()?;
        let env = |name: &str| values.get(name).cloned();
        let file = env::locate_secrets_file(secrets_path, &env, Path::new("secrets.json"));
        Self::from_sources(explicit, env, file.as_deref())
    }

    /// The environment, then `secrets.json`: [`load`](Self::load) with
    /// nothing explicit.
    pub fn from_env_and_file(secrets_path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(IdentityConfigBuilder::new(), secrets_path)
    }

    /// The settings of `explicit`, completed from `env` (a variable's value
    /// by name), then from the `secrets_file` when there is one.
    ///
    /// This is [`load`](Self::load) with its sources given: tests pass a map
    /// as the environment instead of changing the process environment.
    pub fn from_sources(
        explicit: IdentityConfigBuilder,
        env: impl Fn(&str) -> Option<String>,
        secrets_file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file = secrets_file
            .map(secrets_file::SecretsFile::read)
            .transpose()?;
        resolve::Resolver {
            env: &env,
            file: file.as_ref(),
        }
        .resolve(explicit)
    }

    /// Base URL of the Identity service, as configured (checked to be an
    /// https URL, or http to loopback or when allowed).
    pub fn identity_url(&self) -> &str {
        &self.identity_url
    }

    /// How to obtain the bearer token.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Application name, sent as `X-LUSID-Application`.
    pub fn application_name(&self) -> Option<&str> {
        self.application_name.as_deref()
    }

    /// Extra CA certificate file (PEM) to trust.
    pub fn client_certificate(&self) -> Option<&Path> {
        self.client_certificate.as_deref()
    }

    /// Total timeout of a call, when configured.
    pub fn total_timeout(&self) -> Option<Duration> {
        self.total_timeout
    }

    /// Connect timeout, when configured.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// Read timeout of one attempt, when configured.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout
    }

    /// How many times a 429 answer is retried, when configured.
    pub fn rate_limit_retries(&self) -> Option<u32> {
        self.rate_limit_retries
    }

    /// The HTTP proxy, when configured.
    pub fn proxy(&self) -> Option<&ProxySettings> {
        self.proxy.as_ref()
    }

    /// Correlation id, sent as `CorrelationId`.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// Whether plain http to hosts that are not loopback was allowed.
    pub fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }
}

impl fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("identity_url", &redact::url(&self.identity_url))
            .field("credentials", &self.credentials)
            .field("application_name", &self.application_name)
            .field("client_certificate", &self.client_certificate)
            .field("total_timeout", &self.total_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("rate_limit_retries", &self.rate_limit_retries)
            .field("proxy", &self.proxy)
            .field("correlation_id", &self.correlation_id)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}
