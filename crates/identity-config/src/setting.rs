//! The table of settings: each one's environment variables and `secrets.json` key.
//!
//! The names are those of FINBOURNE's other SDKs (see the crate docs), so a
//! user moving from Python or C# keeps the same environment and file.

use std::fmt;

/// One configuration setting, as the official SDKs name it.
///
/// Errors of [`ConfigError`](crate::ConfigError) name settings with this type,
/// whose [`Display`](fmt::Display) gives both the environment variable and the
/// `secrets.json` key, e.g. `FBN_PASSWORD (secrets.json api.password)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// Base URL of the Identity service.
    IdentityUrl,
    /// OAuth2 token endpoint of the password grant.
    TokenUrl,
    /// Username of the password grant.
    Username,
    /// Password of the password grant (secret).
    Password,
    /// OAuth2 client id of the password grant.
    ClientId,
    /// OAuth2 client secret of the password grant (secret).
    ClientSecret,
    /// Personal access token (secret).
    AccessToken,
    /// File holding the access token, re-read when it changes.
    AccessTokenFile,
    /// Application name, sent as `X-LUSID-Application`.
    ApplicationName,
    /// Extra CA certificate file (PEM) to trust.
    ClientCertificate,
    /// Total timeout of a call, in milliseconds.
    TotalTimeoutMs,
    /// Connect timeout, in milliseconds.
    ConnectTimeoutMs,
    /// Read timeout of one attempt, in milliseconds.
    ReadTimeoutMs,
    /// How many times a 429 answer is retried.
    RateLimitRetries,
    /// Address of an HTTP proxy.
    ProxyAddress,
    /// Username at the proxy.
    ProxyUsername,
    /// Password at the proxy (secret).
    ProxyPassword,
    /// Correlation id, sent as `CorrelationId`.
    CorrelationId,
}

impl Setting {
    /// Every setting, in the order of the table in the crate docs.
    pub const ALL: [Setting; 18] = [
        Setting::IdentityUrl,
        Setting::TokenUrl,
        Setting::Username,
        Setting::Password,
        Setting::ClientId,
        Setting::ClientSecret,
        Setting::AccessToken,
        Setting::AccessTokenFile,
        Setting::ApplicationName,
        Setting::ClientCertificate,
        Setting::TotalTimeoutMs,
        Setting::ConnectTimeoutMs,
        Setting::ReadTimeoutMs,
        Setting::RateLimitRetries,
        Setting::ProxyAddress,
        Setting::ProxyUsername,
        Setting::ProxyPassword,
        Setting::CorrelationId,
    ];

    /// The settings the password grant needs, all of them.
    pub const PASSWORD_GRANT: [Setting; 5] = [
        Setting::TokenUrl,
        Setting::Username,
        Setting::Password,
        Setting::ClientId,
        Setting::ClientSecret,
    ];

    /// What the setting is, in words (`"client secret"`).
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The environment variable that sets it (`"FBN_CLIENT_SECRET"`).
    pub fn env_var(self) -> &'static str {
        self.row().env[0]
    }

    /// Every environment variable that sets it, the preferred one first
    /// (the identity URL also answers to the older
    /// `FBN_FINBOURNE_IDENTITY_API_URL`).
    pub fn env_vars(self) -> &'static [&'static str] {
        self.row().env
    }

    /// Its key in `secrets.json`, with its section (`"api.clientSecret"`,
    /// `"proxy.address"`), or `None` when the file cannot set it.
    pub fn secrets_key(self) -> Option<&'static str> {
        self.row().file
    }

    /// Whether the value is a secret, never to be shown.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Setting::Password
                | Setting::ClientSecret
                | Setting::AccessToken
                | Setting::ProxyPassword
        )
    }

    fn row(self) -> &'static Row {
        match self {
            Setting::IdentityUrl => &Row {
                description: "identity URL",
                env: &["FBN_IDENTITY_URL", "FBN_FINBOURNE_IDENTITY_API_URL"],
                file: Some("api.identityUrl"),
            },
            Setting::TokenUrl => &Row {
                description: "token URL",
                env: &["FBN_TOKEN_URL"],
                file: Some("api.tokenUrl"),
            },
            Setting::Username => &Row {
                description: "username",
                env: &["FBN_USERNAME"],
                file: Some("api.username"),
            },
            Setting::Password => &Row {
                description: "password",
                env: &["FBN_PASSWORD"],
                file: Some("api.password"),
            },
            Setting::ClientId => &Row {
                description: "client id",
                env: &["FBN_CLIENT_ID"],
                file: Some("api.clientId"),
            },
            Setting::ClientSecret => &Row {
                description: "client secret",
                env: &["FBN_CLIENT_SECRET"],
                file: Some("api.clientSecret"),
            },
            Setting::AccessToken => &Row {
                description: "personal access token",
                env: &["FBN_ACCESS_TOKEN"],
                file: Some("api.accessToken"),
            },
            Setting::AccessTokenFile => &Row {
                description: "access token file",
                env: &["FBN_ACCESS_TOKEN_FILE"],
                file: Some("api.accessTokenFile"),
            },
            Setting::ApplicationName => &Row {
                description: "application name",
                env: &["FBN_APP_NAME"],
                file: Some("api.applicationName"),
            },
            Setting::ClientCertificate => &Row {
                description: "extra CA certificate file",
                env: &["FBN_CLIENT_CERTIFICATE"],
                file: Some("api.clientCertificate"),
            },
            Setting::TotalTimeoutMs => &Row {
                description: "total timeout (ms)",
                env: &["FBN_TOTAL_TIMEOUT_MS"],
                file: Some("api.totalTimeoutMs"),
            },
            Setting::ConnectTimeoutMs => &Row {
                description: "connect timeout (ms)",
                env: &["FBN_CONNECT_TIMEOUT_MS"],
                file: Some("api.connectTimeoutMs"),
            },
            Setting::ReadTimeoutMs => &Row {
                description: "read timeout (ms)",
                env: &["FBN_READ_TIMEOUT_MS"],
                file: Some("api.readTimeoutMs"),
            },
            Setting::RateLimitRetries => &Row {
                description: "rate limit retries",
                env: &["FBN_RATE_LIMIT_RETRIES"],
                file: Some("api.rateLimitRetries"),
            },
            Setting::ProxyAddress => &Row {
                description: "proxy address",
                env: &["FBN_PROXY_ADDRESS"],
                file: Some("proxy.address"),
            },
            Setting::ProxyUsername => &Row {
                description: "proxy username",
                env: &["FBN_PROXY_USERNAME"],
                file: Some("proxy.username"),
            },
            Setting::ProxyPassword => &Row {
                description: "proxy password",
                env: &["FBN_PROXY_PASSWORD"],
                file: Some("proxy.password"),
            },
            Setting::CorrelationId => &Row {
                description: "correlation id",
                env: &["FBN_CORRELATION_ID"],
                file: None,
            },
        }
    }
}

struct Row {
    description: &'static str,
    env: &'static [&'static str],
    file: Option<&'static str>,
}

/// `FBN_CLIENT_SECRET (secrets.json api.clientSecret)`.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.env_var())?;
        if let Some(key) = self.secrets_key() {
            write!(f, " (secrets.json {key})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_a_distinct_variable_and_key() {
        let mut vars: Vec<_> = Setting::ALL.iter().flat_map(|s| s.env_vars()).collect();
        vars.sort();
        vars.dedup();
        assert_eq!(vars.len(), Setting::ALL.len() + 1);
        let mut keys: Vec<_> = Setting::ALL
            .iter()
            .filter_map(|s| s.secrets_key())
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Setting::ALL.len() - 1);
    }

    #[test]
    fn display_names_the_variable_and_the_key() {
        assert_eq!(
            Setting::ClientSecret.to_string(),
            "FBN_CLIENT_SECRET (secrets.json api.clientSecret)"
        );
        assert_eq!(Setting::CorrelationId.to_string(), "FBN_CORRELATION_ID");
    }
}
