//! [`ConfigError`]: what is wrong with the configuration, said so it can be fixed.
//!
//! Every message names the setting by its environment variable and its
//! `secrets.json` key, and where the bad value came from. A value is shown only
//! for settings that are not secret, and URLs only as scheme, host and port.

use std::fmt;
use std::path::PathBuf;

use crate::Setting;

/// Where a configured value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueSource {
    /// Set explicitly with [`IdentityConfigBuilder`](crate::IdentityConfigBuilder).
    Builder,
    /// Read from an environment variable.
    Environment {
        /// The variable's name.
        variable: &'static str,
    },
    /// Read from a `secrets.json` file.
    SecretsFile {
        /// The file.
        path: PathBuf,
        /// The key, with its section (`api.totalTimeoutMs`).
        key: &'static str,
    },
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Builder => f.write_str("the builder"),
            ValueSource::Environment { variable } => {
                write!(f, "environment variable {variable}")
            }
            ValueSource::SecretsFile { path, key } => {
                write!(f, "{key} in {}", path.display())
            }
        }
    }
}

/// The configuration cannot be used: what is missing or wrong, and where.
///
/// No message ever holds a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting has no value anywhere.
    #[error("missing {}: set {}", setting.description(), how_to_set(*setting))]
    Missing {
        /// The setting.
        setting: Setting,
    },

    /// No way of authenticating is fully configured.
    #[error("{}", no_credentials(missing))]
    NoCredentials {
        /// What the password grant still lacks (empty when none of its
        /// settings is set either).
        missing: Vec<Setting>,
    },

    /// A value cannot be used: not what the setting takes, or a value that
    /// makes no sense (a timeout of 0, too many retries).
    #[error(
        "invalid {} from {}{}: {reason}",
        setting.description(),
        from(*setting, origin),
        shown(value)
    )]
    InvalidValue {
        /// The setting.
        setting: Setting,
        /// Where the value came from.
        origin: ValueSource,
        /// The value as given, when it may be shown (never for a secret).
        value: Option<String>,
        /// What is wrong with it.
        reason: String,
    },

    /// A URL would send credentials or tokens in clear text.
    #[error(
        "{} from {origin} ({url}) uses plain http to a host that is not loopback: \
         tokens would travel in clear text; use https, or opt in with \
         FBN_ALLOW_INSECURE_HTTP=true (fbn-identity --allow-insecure-http, \
         IdentityConfigBuilder::allow_insecure_http(true))",
        setting.description()
    )]
    InsecureUrl {
        /// The setting.
        setting: Setting,
        /// Where the URL came from.
        origin: ValueSource,
        /// The URL's scheme, host and port.
        url: String,
    },

    /// A secrets file that was asked for does not exist.
    #[error("secrets file {} does not exist", path.display())]
    SecretsFileNotFound {
        /// The file.
        path: PathBuf,
    },

    /// A secrets file exists but cannot be read.
    #[error("secrets file {} cannot be read", path.display())]
    SecretsFileUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// A secrets file is not the JSON it should be.
    #[error("secrets file {} is malformed at line {line}, column {column}: {problem}", path.display())]
    SecretsFileMalformed {
        /// The file.
        path: PathBuf,
        /// Line of the problem, from 1.
        line: usize,
        /// Column of the problem, from 1.
        column: usize,
        /// What is wrong there.
        problem: &'static str,
    },

    /// A key of a secrets file holds a value of the wrong JSON type.
    #[error("{key} in secrets file {} must be {expected}", path.display())]
    SecretsFileWrongType {
        /// The file.
        path: PathBuf,
        /// The key, with its section.
        key: &'static str,
        /// The JSON type it must have.
        expected: &'static str,
    },

    /// An environment variable holds bytes that are not Unicode.
    #[error("environment variable {variable} is not valid Unicode")]
    NotUnicode {
        /// The variable.
        variable: &'static str,
    },

    /// A value given to a builder for a setting that only code sets (no
    /// environment variable, no `secrets.json` key), such as the facade's
    /// `transient_retries`, makes no sense.
    #[error("invalid {setter} from the builder ({value}): {reason}")]
    InvalidBuilderValue {
        /// The builder's setter (`"transient_retries"`).
        setter: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Proxy credentials without a proxy to use them with.
    #[error(
        "{} is set but no proxy address is: set {}",
        setting.description(),
        Setting::ProxyAddress
    )]
    ProxyWithoutAddress {
        /// The proxy setting that is set.
        setting: Setting,
    },
}

/// Where a value came from: the variable or the key and file, or, for a
/// value given in code, the builder's setter.
fn from(setting: Setting, origin: &ValueSource) -> String {
    match origin {
        ValueSource::Builder => format!("the builder ({})", setting.setter()),
        other => other.to_string(),
    }
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(value) => format!(" ({value:?})"),
        None => String::new(),
    }
}

fn how_to_set(setting: Setting) -> String {
    let mut text = setting.env_var().to_owned();
    for older in &setting.env_vars()[1..] {
        text.push_str(&format!(" (or the older {older})"));
    }
    if let Some(key) = setting.secrets_key() {
        text.push_str(&format!(", {key} in secrets.json"));
    }
    text.push_str(", or the builder");
    text
}

fn no_credentials(missing: &[Setting]) -> String {
    let grant: Vec<&str> = Setting::PASSWORD_GRANT
        .iter()
        .map(|s| s.env_var())
        .collect();
    let keys: Vec<&str> = Setting::PASSWORD_GRANT
        .iter()
        .filter_map(|s| s.secrets_key())
        .collect();
    let mut text = format!(
        "no credentials: set {} for a personal access token, {} for a token file, \
         or all of {} (secrets.json {}) for the password grant",
        Setting::AccessToken,
        Setting::AccessTokenFile,
        grant.join(", "),
        keys.join(", "),
    );
    if !missing.is_empty() && missing.len() < Setting::PASSWORD_GRANT.len() {
        let names: Vec<String> = missing.iter().map(Setting::to_string).collect();
        text.push_str("; the password grant is missing ");
        text.push_str(&names.join(", "));
    }
    text
}
