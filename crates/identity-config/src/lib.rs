//! Configuration of the FINBOURNE Identity SDK: where it finds its URL,
//! credentials and settings.
//!
//! The facade (`finbourne-identity`) and the command-line tool read their
//! configuration with this crate: an [`IdentityConfig`], resolved to
//! [`Credentials`]; `identity-auth` builds the token provider of those
//! credentials (`identity_auth::token_provider`). This crate reads the
//! environment and files and sends nothing: no HTTP client, no async.
//!
//! # The settings
//!
//! Settings come from code, the environment and a `secrets.json` file, with
//! the names of FINBOURNE's other SDKs: `FBN_TOKEN_URL` in the environment is
//! `api.tokenUrl` in the file, and so on. Each one's environment variables
//! and `secrets.json` key are listed once for readers, in the [Configuration
//! table of the README](https://github.com/finbourne/identity-sdk-rust#configuration)
//! (a test checks it against the code), and once for code, in [`Setting`]:
//! its variants' docs, [`Setting::ALL`], [`Setting::env_vars`] and
//! [`Setting::secrets_key`].
//!
//! Inside the crate, one table (`table.rs`) writes every setting once; the
//! [`Setting`] enum, the [`IdentityConfigBuilder`]'s setters, the
//! [`IdentityConfig`]'s getters and the facade's builder are generated from
//! it.
//!
//! # Precedence
//!
//! [`IdentityConfig::load`] takes each setting, independently of the others,
//! from the first of:
//!
//! 1. the [`IdentityConfigBuilder`] (values given in code),
//! 2. the environment,
//! 3. the `secrets.json` file, when one is named: the path given to
//!    [`IdentityConfig::load`] (the builders' `secrets_file`, the CLI's
//!    `--secrets`), else the file named by `FBN_SECRETS_PATH` (an extra of
//!    this SDK; the official SDKs take the path as an argument).
//!
//! So a file can hold the credentials while `FBN_IDENTITY_URL` points one run
//! at another environment. An empty value counts as not set.
//!
//! No file is read unless it is named: a `secrets.json` in the working
//! directory is not, since a cloned repository may bring one, and it could
//! otherwise set the proxy, the CA, the token URL or the base URL that the
//! credentials go to. On unix, a named file that group or others may read or
//! write is read with a warning (a `tracing` event at WARN naming the file
//! and its mode, never its content).
//!
//! # Values that make no sense
//!
//! Timeouts of 0 or past [`MAX_TIMEOUT`] (24 hours) and retry counts past
//! [`MAX_RETRIES`] (100) are refused, from every source, with a
//! [`ConfigError::InvalidValue`] naming the setting and where the value came
//! from.
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
//! `FBN_ALLOW_INSECURE_HTTP=true` or
//! [`IdentityConfigBuilder::allow_insecure_http`] says otherwise (an
//! emulator reached by a container's name; never from `secrets.json`). An Okta
//! issuer URL without `/v1/token` gets it appended, as the official SDKs do.
//!
//! Secrets are kept in [`SecretString`]: `Debug`
//! shows `[REDACTED]` and no error message holds one.
//!
//! ```
//! use std::collections::HashMap;
//! use identity_config::{Credentials, IdentityConfig};
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
//! assert_eq!(config.total_timeout(), std::time::Duration::from_secs(5));
//! // A setting no source sets answers its default.
//! assert_eq!(config.read_timeout(), identity_config::defaults::READ_TIMEOUT);
//! assert!(matches!(config.credentials(), Credentials::AccessToken(_)));
//! assert!(format!("{config:?}").contains("[REDACTED]"));
//! # Ok::<(), identity_config::ConfigError>(())
//! ```

mod builder;
mod config;
mod credentials;
pub mod defaults;
mod env;
mod error;
mod limits;
mod proxy;
mod redact;
mod resolve;
mod secrets_file;
mod setting;
mod table;
mod url;

pub use builder::IdentityConfigBuilder;
pub use config::IdentityConfig;
pub use credentials::{Credentials, PasswordGrantCredentials};
pub use env::SECRETS_PATH_VAR;
pub use error::{ConfigError, ValueSource};
pub use limits::{MAX_RETRIES, MAX_TIMEOUT, MIN_TIMEOUT};
pub use proxy::ProxySettings;
pub use secrecy::{ExposeSecret, SecretString};
pub use setting::Setting;
pub use url::is_loopback;
