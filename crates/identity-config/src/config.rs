//! [`IdentityConfig`]: the resolved configuration, and where it is read from.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::redact;
use crate::{
    ConfigError, Credentials, IdentityConfigBuilder, ProxySettings, env, resolve, secrets_file,
};

/// The resolved configuration: a URL, a way of authenticating, and the
/// optional settings.
#[derive(Clone)]
pub struct IdentityConfig {
    pub(crate) identity_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) application_name: Option<String>,
    pub(crate) client_certificate: Option<std::path::PathBuf>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) rate_limit_retries: Option<u32>,
    pub(crate) proxy: Option<ProxySettings>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) allow_insecure_http: bool,
}

impl IdentityConfig {
    /// A builder for settings given in code.
    pub fn builder() -> IdentityConfigBuilder {
        IdentityConfigBuilder::new()
    }

    /// The settings of `explicit`, completed from the process environment,
    /// then from `secrets.json` (see [the crate docs](crate) for the order).
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
