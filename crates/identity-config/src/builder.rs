//! [`IdentityConfigBuilder`]: settings given explicitly, in code.
//!
//! Explicit settings win over the environment and the `secrets.json` named,
//! key by key (see [the crate docs](crate)). The fields, setters and `Debug` come from
//! the table of settings (`table.rs`).

use std::fmt;
use std::path::Path;

use crate::table::kind;
use crate::{ConfigError, IdentityConfig};

/// The builder's fields, setters and `Debug`, from the table of settings.
macro_rules! builder {
    ($( $section:ident { $(
        $(#[doc = $doc:literal])*
        $variant:ident: $method:ident($arg:ident: $arg_type:ty) as $kind:ident, $description:literal,
            env [$env:literal $(, $older:literal)*], file $file:tt, default $default:tt;
    )* } )*) => {
        /// Settings given in code; every one is optional.
        ///
        /// [`build`](IdentityConfigBuilder::build) uses these settings alone;
        /// [`load`](IdentityConfigBuilder::load) completes them from the
        /// environment and the `secrets.json` named, if any. An empty string
        /// counts as not set, as in the environment.
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
            $( $( pub(crate) $method: Option<kind!(type $kind)>, )* )*
        }

        impl IdentityConfigBuilder {
            $( $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!(
                    "Not set here: `", $env, "` in the environment, else the `secrets.json` named, if any (see [`Setting::",
                    stringify!($variant), "`](crate::Setting::", stringify!($variant), "))."
                )]
                pub fn $method(mut self, $arg: $arg_type) -> Self {
                    self.$method = kind!(set $kind, $arg);
                    self
                }
            )* )*
        }

        impl fmt::Debug for IdentityConfigBuilder {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("IdentityConfigBuilder")
                    $( $( .field(stringify!($method), kind!(show $kind, &self.$method)) )* )*
                    .finish()
            }
        }
    };
}

crate::for_each_setting!(builder);

impl IdentityConfigBuilder {
    /// No setting yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses these settings alone: no environment, no file.
    pub fn build(self) -> Result<IdentityConfig, ConfigError> {
        IdentityConfig::from_sources(self, |_| None, None)
    }

    /// Completes these settings from the environment, then from the
    /// `secrets.json` named by `secrets_path` or `FBN_SECRETS_PATH`, if any
    /// (see [`IdentityConfig::load`]).
    pub fn load(self, secrets_path: Option<&Path>) -> Result<IdentityConfig, ConfigError> {
        IdentityConfig::load(self, secrets_path)
    }
}
