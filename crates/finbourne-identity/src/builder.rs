//! [`IdentityClientBuilder`]: settings given in code, completed from the
//! environment and the `secrets.json` named, turned into an [`IdentityClient`].
//!
//! Each setting is taken from the first of: this builder, the `FBN_*`
//! environment variables (unless [`environment(false)`](IdentityClientBuilder::environment)),
//! the `secrets.json` file when one is named (with
//! [`secrets_file`](IdentityClientBuilder::secrets_file), else by
//! `FBN_SECRETS_PATH`; never `./secrets.json` unnamed). The keys and the
//! order are those of `identity-config`.
//!
//! The proxy is the configured one (`FBN_PROXY_ADDRESS`, `proxy.address`),
//! else the one the standard `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
//! `NO_PROXY` variables name (unless [`system_proxy(false)`](IdentityClientBuilder::system_proxy)
//! or [`environment(false)`](IdentityClientBuilder::environment)), else
//! none; a loopback host is always reached directly.

use std::path::PathBuf;

use identity_config::{IdentityConfig, IdentityConfigBuilder};
use identity_transport::{ProxyEnv, ThrottleConfig};

use crate::stack::{ProxySource, StackSettings};
use crate::{Error, IdentityClient};

/// Builds an [`IdentityClient`]; every setting is optional.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `.build()`"]
pub struct IdentityClientBuilder {
    config: IdentityConfigBuilder,
    secrets_file: Option<PathBuf>,
    ignore_environment: bool,
    /// `Some(false)` after `system_proxy(false)`.
    system_proxy: Option<bool>,
    proxy_env: Option<ProxyEnv>,
    stack: StackSettings,
}

/// A setter of each setting, forwarded to the [`IdentityConfigBuilder`]:
/// generated from identity-config's table of settings, so that a setting
/// added there is a setting of this builder too.
macro_rules! forward_setters {
    ($( $section:ident { $(
        $(#[doc = $doc:literal])*
        $variant:ident: $method:ident($arg:ident: $arg_type:ty) as $kind:ident, $description:literal,
            env [$env:literal $(, $older:literal)*], file $file:tt, default $default:tt;
    )* } )*) => {
        impl IdentityClientBuilder {
            $( $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!(
                    "Not set here: `", $env, "` in the environment, else the `secrets.json` named, if any (see [`Setting::",
                    stringify!($variant), "`](identity_config::Setting::", stringify!($variant), "))."
                )]
                pub fn $method(mut self, $arg: $arg_type) -> Self {
                    self.config = self.config.$method($arg);
                    self
                }
            )* )*
        }
    };
}

identity_config::for_each_setting!(forward_setters);

impl IdentityClientBuilder {
    /// A builder with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same as [`identity_url`](Self::identity_url).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.identity_url(url)
    }

    /// The throttle's settings (default [`ThrottleConfig::default`]): how
    /// the client keeps the service's pace once it throttles, shared by
    /// every clone of the client. `ThrottleConfig::off()` turns it off;
    /// `ThrottleConfig::default().max_rate(n)` paces calls from the start,
    /// never faster than `n` a second. See
    /// [`identity_transport::throttle`].
    pub fn throttle(mut self, throttle: ThrottleConfig) -> Self {
        self.stack.throttle = Some(throttle);
        self
    }

    /// Reads this `secrets.json` (it must exist). Without it, the file
    /// `FBN_SECRETS_PATH` names is read, if any: never a `secrets.json` that
    /// was not named, such as one in the working directory.
    pub fn secrets_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.secrets_file = Some(path.into());
        self
    }

    /// Whether the environment is read (default true): the `FBN_*`
    /// variables (`FBN_SECRETS_PATH` included), and the standard proxy
    /// variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`).
    /// Off, the client depends on nothing of the machine's but its trust
    /// store and, when named, the secrets file.
    pub fn environment(mut self, read: bool) -> Self {
        self.ignore_environment = !read;
        self
    }

    /// Whether the standard proxy variables choose a proxy when none is
    /// configured (default true; see [`ProxyEnv`] for their rules). Off,
    /// every host is reached directly unless `FBN_PROXY_ADDRESS` (or
    /// `proxy.address`, or [`proxy_address`](Self::proxy_address)) names a
    /// proxy.
    pub fn system_proxy(mut self, enabled: bool) -> Self {
        self.system_proxy = Some(enabled);
        self
    }

    /// The proxy variables to use instead of the process's, even with
    /// [`environment(false)`](Self::environment) (they are then not the
    /// machine's): for tests, which must not change the environment of a
    /// process whose other tests run beside them. A configured proxy still
    /// wins, and [`system_proxy(false)`](Self::system_proxy) still turns
    /// them off.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use finbourne_identity::{IdentityClient, ProxyEnv};
    ///
    /// let vars = HashMap::from([("HTTPS_PROXY", "http://proxy.corp:3128")]);
    /// let client = IdentityClient::builder()
    ///     .environment(false)
    ///     .base_url("https://acme.lusid.com/identity")
    ///     .access_token("token")
    ///     .proxy_env(ProxyEnv::from_lookup(|name| vars.get(name).map(|v| v.to_string())))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), finbourne_identity::Error>(())
    /// ```
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.proxy_env = Some(env);
        self
    }

    /// Resolves the settings and builds a [blocking client](crate::blocking),
    /// with its own runtime.
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    pub fn build_blocking(self) -> Result<crate::blocking::IdentityClient, Error> {
        crate::blocking::IdentityClient::new(self.build()?)
    }

    /// Resolves the settings and builds the client; a setting that makes no
    /// sense (a timeout of 0, too many retries) is a [`ConfigError`](identity_config::ConfigError).
    ///
    /// Nothing is sent yet: the first call fetches the token.
    pub fn build(mut self) -> Result<IdentityClient, Error> {
        let secrets_file = self.secrets_file.as_deref();
        let config = if self.ignore_environment {
            IdentityConfig::from_sources(self.config, |_| None, secrets_file)?
        } else {
            IdentityConfig::load(self.config, secrets_file)?
        };
        self.stack.proxies = proxy_source(
            self.ignore_environment,
            self.system_proxy.unwrap_or(true),
            self.proxy_env,
        );
        IdentityClient::from_config_with(&config, self.stack)
    }
}

/// Where the proxy variables come from: none when turned off, the given
/// ones, none when the environment is not read, else the process's.
fn proxy_source(
    ignore_environment: bool,
    system_proxy: bool,
    given: Option<ProxyEnv>,
) -> ProxySource {
    match (system_proxy, given) {
        (false, _) => ProxySource::Off,
        (true, Some(env)) => ProxySource::Given(env),
        (true, None) if ignore_environment => ProxySource::Off,
        (true, None) => ProxySource::Process,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_variables_are_read_unless_turned_off_or_the_environment_is_ignored() {
        let given = || Some(ProxyEnv::none());
        assert!(matches!(
            proxy_source(false, true, None),
            ProxySource::Process
        ));
        assert!(matches!(proxy_source(true, true, None), ProxySource::Off));
        assert!(matches!(proxy_source(false, false, None), ProxySource::Off));
        assert!(matches!(
            proxy_source(true, true, given()),
            ProxySource::Given(_)
        ));
        assert!(matches!(
            proxy_source(false, false, given()),
            ProxySource::Off
        ));
    }
}
