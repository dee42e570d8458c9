//! Merging the three sources key by key: explicit, then environment, then file.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::secrets_file::SecretsFile;
use crate::url::{parse_endpoint, shown_url};
use crate::{
    ConfigError, Credentials, IdentityConfig, IdentityConfigBuilder, PasswordGrantCredentials,
    ProxySettings, Setting, ValueSource, env,
};

/// The environment and the file, asked for one setting at a time.
pub(crate) struct Resolver<'a> {
    pub(crate) env: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) file: Option<&'a SecretsFile>,
}

impl Resolver<'_> {
    /// The raw value of a setting from the environment, else from the file.
    fn raw(&self, setting: Setting) -> Option<(String, ValueSource)> {
        env::lookup(self.env, setting).or_else(|| self.file.and_then(|file| file.get(setting)))
    }

    /// The explicit value when there is one, else the parsed raw value.
    fn pick<T>(
        &self,
        explicit: Option<T>,
        setting: Setting,
        parse: impl FnOnce(String, &ValueSource) -> Result<T, ConfigError>,
    ) -> Result<Option<(T, ValueSource)>, ConfigError> {
        if let Some(value) = explicit {
            return Ok(Some((value, ValueSource::Builder)));
        }
        match self.raw(setting) {
            Some((raw, origin)) => Ok(Some((parse(raw, &origin)?, origin))),
            None => Ok(None),
        }
    }

    fn text(
        &self,
        explicit: Option<String>,
        setting: Setting,
    ) -> Result<Option<String>, ConfigError> {
        Ok(self
            .pick(explicit, setting, |raw, _| Ok(raw))?
            .map(|(value, _)| value))
    }

    fn secret(
        &self,
        explicit: Option<SecretString>,
        setting: Setting,
    ) -> Result<Option<SecretString>, ConfigError> {
        let found = self.pick(explicit, setting, |raw, _| Ok(SecretString::from(raw)))?;
        Ok(found.map(|(value, _)| value))
    }

    fn path(
        &self,
        explicit: Option<PathBuf>,
        setting: Setting,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let found = self.pick(explicit, setting, |raw, _| Ok(PathBuf::from(raw)))?;
        Ok(found.map(|(value, _)| value))
    }

    fn millis(
        &self,
        explicit: Option<Duration>,
        setting: Setting,
    ) -> Result<Option<Duration>, ConfigError> {
        let found = self.pick(explicit, setting, |raw, origin| {
            whole_number(setting, origin, &raw, "milliseconds").map(Duration::from_millis)
        })?;
        Ok(found.map(|(value, _)| value))
    }

    fn count(&self, explicit: Option<u32>, setting: Setting) -> Result<Option<u32>, ConfigError> {
        let found = self.pick(explicit, setting, |raw, origin| {
            let number = whole_number(setting, origin, &raw, "retries")?;
            u32::try_from(number).map_err(|_| invalid_number(setting, origin, &raw, "retries"))
        })?;
        Ok(found.map(|(value, _)| value))
    }

    /// The whole configuration, or the first thing wrong with it.
    pub(crate) fn resolve(
        &self,
        explicit: IdentityConfigBuilder,
    ) -> Result<IdentityConfig, ConfigError> {
        let allow_insecure_http = explicit.allow_insecure_http;
        let (identity_url, origin) = self
            .pick(explicit.identity_url, Setting::IdentityUrl, |raw, _| {
                Ok(raw)
            })?
            .ok_or(ConfigError::Missing {
                setting: Setting::IdentityUrl,
            })?;
        parse_endpoint(
            Setting::IdentityUrl,
            &origin,
            &identity_url,
            allow_insecure_http,
        )?;

        let access_token = self.secret(explicit.access_token, Setting::AccessToken)?;
        let access_token_file = self.path(explicit.access_token_file, Setting::AccessTokenFile)?;
        let token_url = self.pick(explicit.token_url, Setting::TokenUrl, |raw, _| Ok(raw))?;
        let username = self.text(explicit.username, Setting::Username)?;
        let password = self.secret(explicit.password, Setting::Password)?;
        let client_id = self.text(explicit.client_id, Setting::ClientId)?;
        let client_secret = self.secret(explicit.client_secret, Setting::ClientSecret)?;

        let credentials = if let Some(token) = access_token {
            Credentials::AccessToken(token)
        } else if let Some(file) = access_token_file {
            Credentials::AccessTokenFile(file)
        } else {
            match (token_url, username, password, client_id, client_secret) {
                (
                    Some((url, origin)),
                    Some(username),
                    Some(password),
                    Some(client_id),
                    Some(secret),
                ) => {
                    let uri =
                        parse_endpoint(Setting::TokenUrl, &origin, &url, allow_insecure_http)?;
                    Credentials::PasswordGrant(PasswordGrantCredentials::from_checked(
                        uri, username, password, client_id, secret,
                    ))
                }
                (token_url, username, password, client_id, client_secret) => {
                    let set = [
                        token_url.is_some(),
                        username.is_some(),
                        password.is_some(),
                        client_id.is_some(),
                        client_secret.is_some(),
                    ];
                    let missing = Setting::PASSWORD_GRANT
                        .iter()
                        .zip(set)
                        .filter(|(_, set)| !set)
                        .map(|(setting, _)| *setting)
                        .collect();
                    return Err(ConfigError::NoCredentials { missing });
                }
            }
        };

        let proxy_address = self.pick(
            explicit.proxy_address,
            Setting::ProxyAddress,
            |raw, origin| {
                check_proxy_address(&raw, origin)?;
                Ok(raw.trim().to_owned())
            },
        )?;
        let proxy_username = self.text(explicit.proxy_username, Setting::ProxyUsername)?;
        let proxy_password = self.secret(explicit.proxy_password, Setting::ProxyPassword)?;
        let proxy = match (proxy_address, proxy_username, proxy_password) {
            (Some((address, _)), username, password) => Some(ProxySettings {
                address,
                username,
                password,
            }),
            (None, Some(_), _) => {
                return Err(ConfigError::ProxyWithoutAddress {
                    setting: Setting::ProxyUsername,
                });
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::ProxyWithoutAddress {
                    setting: Setting::ProxyPassword,
                });
            }
            (None, None, None) => None,
        };

        Ok(IdentityConfig {
            identity_url: identity_url.trim().to_owned(),
            credentials,
            application_name: self.text(explicit.application_name, Setting::ApplicationName)?,
            client_certificate: self
                .path(explicit.client_certificate, Setting::ClientCertificate)?,
            total_timeout: self.millis(explicit.total_timeout, Setting::TotalTimeoutMs)?,
            connect_timeout: self.millis(explicit.connect_timeout, Setting::ConnectTimeoutMs)?,
            read_timeout: self.millis(explicit.read_timeout, Setting::ReadTimeoutMs)?,
            rate_limit_retries: self
                .count(explicit.rate_limit_retries, Setting::RateLimitRetries)?,
            proxy,
            correlation_id: self.text(explicit.correlation_id, Setting::CorrelationId)?,
            allow_insecure_http,
        })
    }
}

fn whole_number(
    setting: Setting,
    origin: &ValueSource,
    raw: &str,
    unit: &str,
) -> Result<u64, ConfigError> {
    raw.trim()
        .parse::<u64>()
        .map_err(|_| invalid_number(setting, origin, raw, unit))
}

fn invalid_number(setting: Setting, origin: &ValueSource, raw: &str, unit: &str) -> ConfigError {
    ConfigError::InvalidValue {
        setting,
        origin: origin.clone(),
        value: (!setting.is_secret()).then(|| raw.to_owned()),
        reason: format!(
            "expected a whole number of {unit} (0 to {})",
            max_of(setting)
        ),
    }
}

fn max_of(setting: Setting) -> u64 {
    match setting {
        Setting::RateLimitRetries => u64::from(u32::MAX),
        _ => u64::MAX,
    }
}

fn check_proxy_address(raw: &str, origin: &ValueSource) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidValue {
        setting: Setting::ProxyAddress,
        origin: origin.clone(),
        value: shown_url(raw),
        reason: reason.to_owned(),
    };
    let uri: http::Uri = raw.trim().parse().map_err(|_| invalid("not a URL"))?;
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(invalid("the address has no host")),
    }
}
