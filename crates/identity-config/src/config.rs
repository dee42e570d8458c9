//! [`IdentityConfig`]: the resolved configuration, and where it is read from.
//!
//! Its options (plain values) and their getters come from the table of
//! settings (`table.rs`); the identity URL, the credentials and the proxy,
//! which `resolve.rs` checks and assembles by hand, are written here.

use std::fmt;
use std::path::Path;

use crate::redact;
use crate::resolve::Resolver;
use crate::secrets_file::SecretsFile;
use crate::table::kind;
use crate::{ConfigError, Credentials, IdentityConfigBuilder, ProxySettings, Setting, env};

/// The configuration's struct, its getters of options and `Debug`, from the
/// table of settings: every option is a field and a getter of the same name.
macro_rules! identity_config {
    (
        credentials { $($credentials:tt)* }
        options { $(
            $(#[doc = $doc:literal])*
            $variant:ident: $method:ident($arg:ident: $arg_type:ty) as $kind:ident, $description:literal,
                env [$env:literal $(, $older:literal)*], file $file:tt, default $default:tt;
        )* }
        proxy { $($proxy:tt)* }
    ) => {
        /// The resolved configuration: a URL, a way of authenticating, and the
        /// optional settings.
        #[derive(Clone)]
        pub struct IdentityConfig {
            identity_url: String,
            credentials: Credentials,
            proxy: Option<ProxySettings>,
            $( $method: Option<kind!(type $kind)>, )*
        }

        impl IdentityConfig {
            /// The configuration of the parts [`Resolver`] resolved by hand,
            /// with every option taken from `explicit`, else from the
            /// resolver's sources.
            pub(crate) fn new(
                identity_url: String,
                credentials: Credentials,
                proxy: Option<ProxySettings>,
                explicit: &IdentityConfigBuilder,
                sources: &Resolver<'_>,
            ) -> Result<Self, ConfigError> {
                Ok(Self {
                    identity_url,
                    credentials,
                    proxy,
                    $( $method: sources.value(explicit.$method.clone(), Setting::$variant)?, )*
                })
            }

            $(
                $(#[doc = $doc])*
                pub fn $method(&self) -> kind!(returns $kind, $default) {
                    kind!(get $kind, self.$method, $default)
                }
            )*
        }

        impl fmt::Debug for IdentityConfig {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("IdentityConfig")
                    .field("identity_url", &redact::url(&self.identity_url))
                    .field("credentials", &self.credentials)
                    $( .field(stringify!($method), kind!(show $kind, &self.$method)) )*
                    .field("proxy", &self.proxy)
                    .finish()
            }
        }
    };
}

crate::for_each_setting!(identity_config);

impl IdentityConfig {
    /// A builder for settings given in code.
    pub fn builder() -> IdentityConfigBuilder {
        IdentityConfigBuilder::new()
    }

    /// The settings of `explicit`, completed from the process environment,
    /// then from a `secrets.json` file when one is named (see [the crate
    /// docs](crate) for the order).
    ///
    /// The file is `secrets_path`, else the one `FBN_SECRETS_PATH` names; it
    /// must exist. With neither, no file is read: not even a `secrets.json`
    /// in the working directory, which may come with a cloned repository.
    /// A file readable or writable by group or others is read with a
    /// warning (a `tracing` event at WARN naming the file and its mode).
    pub fn load(
        explicit: IdentityConfigBuilder,
        secrets_path: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let values = env::process_env()?;
        let env = |name: &str| values.get(name).cloned();
        let file = env::locate_secrets_file(secrets_path, &env);
        Self::from_sources(explicit, env, file.as_deref())
    }

    /// The environment, then the `secrets.json` named by `secrets_path` or
    /// `FBN_SECRETS_PATH`: [`load`](Self::load) with nothing explicit.
    pub fn from_env_and_file(secrets_path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load(IdentityConfigBuilder::new(), secrets_path)
    }

    /// The settings of `explicit`, completed from `env` (a variable's value
    /// by name), then from the `secrets_file` when there is one.
    ///
    /// This is [`load`](Self::load) with its sources given: tests pass a map
    /// as the environment instead of changing the process environment.
    /// `env` is not asked for `FBN_SECRETS_PATH`: the file read is
    /// `secrets_file`, and no other.
    pub fn from_sources(
        explicit: IdentityConfigBuilder,
        env: impl Fn(&str) -> Option<String>,
        secrets_file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file = secrets_file.map(SecretsFile::read).transpose()?;
        Resolver {
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

    /// The HTTP proxy, when configured.
    pub fn proxy(&self) -> Option<&ProxySettings> {
        self.proxy.as_ref()
    }
}
