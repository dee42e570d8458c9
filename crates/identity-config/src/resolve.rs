//! Merging the three sources key by key: explicit, then environment, then file.
//!
//! The identity URL, the credentials and the proxy are checked and assembled
//! here by hand; the options, plain values each, are taken alike with
//! [`Resolver::value`] by the code the table generates (`config.rs`).

use std::path::PathBuf;
use std::time::Duration;

use http::Uri;
use secrecy::SecretString;

use crate::limits;
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

    /// The explicit value when there is one, else the raw value read as a
    /// `T`; either way checked to make sense ([`FromRaw::check`]).
    pub(crate) fn value<T: FromRaw>(
        &self,
        explicit: Option<T>,
        setting: Setting,
    ) -> Result<Option<T>, ConfigError> {
        let found = self.pick(explicit, setting, |raw, origin| {
            T::from_raw(raw, setting, origin)
        })?;
        match found {
            Some((value, origin)) => {
                value.check(setting, &origin)?;
                Ok(Some(value))
            }
            None => Ok(None),
        }
    }

    /// The whole configuration, or the first thing wrong with it.
    pub(crate) fn resolve(
        &self,
        explicit: IdentityConfigBuilder,
    ) -> Result<IdentityConfig, ConfigError> {
        let allow_insecure_http = self.allow_insecure_http(&explicit)?;
        let (identity_url, origin) = self
            .pick(
                explicit.identity_url.clone(),
                Setting::IdentityUrl,
                |raw, _| Ok(raw),
            )?
            .ok_or(ConfigError::Missing {
                setting: Setting::IdentityUrl,
            })?;
        parse_endpoint(
            Setting::IdentityUrl,
            &origin,
            &identity_url,
            allow_insecure_http,
        )?;

        let credentials = self.credentials(&explicit, allow_insecure_http)?;
        let proxy = self.proxy(&explicit)?;
        IdentityConfig::new(
            identity_url.trim().to_owned(),
            credentials,
            proxy,
            &explicit,
            self,
        )
    }

    /// Whether plain http to hosts that are not loopback is allowed
    /// (`FBN_ALLOW_INSECURE_HTTP`, or the builder); off when not set.
    fn allow_insecure_http(&self, explicit: &IdentityConfigBuilder) -> Result<bool, ConfigError> {
        Ok(self
            .value(explicit.allow_insecure_http, Setting::AllowInsecureHttp)?
            .unwrap_or(false))
    }

    /// A personal access token, else a token file, else the password grant,
    /// which needs all five of its settings.
    fn credentials(
        &self,
        explicit: &IdentityConfigBuilder,
        allow_insecure_http: bool,
    ) -> Result<Credentials, ConfigError> {
        let access_token = self.value(explicit.access_token.clone(), Setting::AccessToken)?;
        let access_token_file =
            self.value(explicit.access_token_file.clone(), Setting::AccessTokenFile)?;
        let token_url = self.pick(explicit.token_url.clone(), Setting::TokenUrl, |raw, _| {
            Ok(raw)
        })?;
        let username = self.value(explicit.username.clone(), Setting::Username)?;
        let password = self.value(explicit.password.clone(), Setting::Password)?;
        let client_id = self.value(explicit.client_id.clone(), Setting::ClientId)?;
        let client_secret = self.value(explicit.client_secret.clone(), Setting::ClientSecret)?;

        if let Some(token) = access_token {
            return Ok(Credentials::AccessToken(token));
        }
        if let Some(file) = access_token_file {
            return Ok(Credentials::AccessTokenFile(file));
        }
        match (token_url, username, password, client_id, client_secret) {
            (
                Some((url, origin)),
                Some(username),
                Some(password),
                Some(client_id),
                Some(secret),
            ) => {
                let uri = parse_endpoint(Setting::TokenUrl, &origin, &url, allow_insecure_http)?;
                Ok(Credentials::PasswordGrant(
                    PasswordGrantCredentials::from_checked(
                        uri, username, password, client_id, secret,
                    ),
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
                Err(ConfigError::NoCredentials { missing })
            }
        }
    }

    /// The proxy, when it has an address; credentials without one are an
    /// error.
    fn proxy(
        &self,
        explicit: &IdentityConfigBuilder,
    ) -> Result<Option<ProxySettings>, ConfigError> {
        let proxy_address = self
            .pick(
                explicit.proxy_address.clone(),
                Setting::ProxyAddress,
                |raw, _| Ok(raw),
            )?
            .map(|(raw, origin)| parse_proxy_address(&raw, &origin))
            .transpose()?;
        let proxy_username = self.value(explicit.proxy_username.clone(), Setting::ProxyUsername)?;
        let proxy_password = self.value(explicit.proxy_password.clone(), Setting::ProxyPassword)?;
        match (proxy_address, proxy_username, proxy_password) {
            (Some(address), username, password) => Ok(Some(ProxySettings {
                address,
                username,
                password,
            })),
            (None, Some(_), _) => Err(ConfigError::ProxyWithoutAddress {
                setting: Setting::ProxyUsername,
            }),
            (None, None, Some(_)) => Err(ConfigError::ProxyWithoutAddress {
                setting: Setting::ProxyPassword,
            }),
            (None, None, None) => Ok(None),
        }
    }
}

/// How the text of a setting, from the environment or the file, becomes its
/// value, and whether a value from any source makes sense.
pub(crate) trait FromRaw: Sized {
    /// The value of `raw`, or why it is not one.
    fn from_raw(raw: String, setting: Setting, origin: &ValueSource) -> Result<Self, ConfigError>;

    /// Whether the value, parsed or given in code, makes sense (see
    /// `limits.rs`); any value does unless the type says otherwise.
    fn check(&self, _setting: Setting, _origin: &ValueSource) -> Result<(), ConfigError> {
        Ok(())
    }
}

impl FromRaw for String {
    fn from_raw(raw: String, _: Setting, _: &ValueSource) -> Result<Self, ConfigError> {
        Ok(raw)
    }
}

impl FromRaw for SecretString {
    fn from_raw(raw: String, _: Setting, _: &ValueSource) -> Result<Self, ConfigError> {
        Ok(SecretString::from(raw))
    }
}

impl FromRaw for PathBuf {
    fn from_raw(raw: String, _: Setting, _: &ValueSource) -> Result<Self, ConfigError> {
        Ok(PathBuf::from(raw))
    }
}

/// A timeout: a whole number of milliseconds, within the bounds of
/// `limits.rs`.
impl FromRaw for Duration {
    fn from_raw(raw: String, setting: Setting, origin: &ValueSource) -> Result<Self, ConfigError> {
        let number = whole_number(&raw).ok_or_else(|| {
            invalid_number(
                setting,
                origin,
                &raw,
                format!("a whole number, {}", limits::timeout_range()),
            )
        })?;
        Ok(Duration::from_millis(number))
    }

    fn check(&self, setting: Setting, origin: &ValueSource) -> Result<(), ConfigError> {
        limits::check_timeout(setting, origin, *self)
    }
}

/// A retry count, within the bound of `limits.rs`.
impl FromRaw for u32 {
    fn from_raw(raw: String, setting: Setting, origin: &ValueSource) -> Result<Self, ConfigError> {
        whole_number(&raw)
            .and_then(|number| u32::try_from(number).ok())
            .ok_or_else(|| {
                invalid_number(
                    setting,
                    origin,
                    &raw,
                    format!("a whole number of retries, {}", limits::retries_range()),
                )
            })
    }

    fn check(&self, setting: Setting, origin: &ValueSource) -> Result<(), ConfigError> {
        limits::check_retries(setting, origin, *self)
    }
}

/// A size in bytes: a whole number, at least 1.
impl FromRaw for u64 {
    fn from_raw(raw: String, setting: Setting, origin: &ValueSource) -> Result<Self, ConfigError> {
        whole_number(&raw).ok_or_else(|| {
            invalid_number(
                setting,
                origin,
                &raw,
                "a whole number of bytes, at least 1".into(),
            )
        })
    }

    fn check(&self, setting: Setting, origin: &ValueSource) -> Result<(), ConfigError> {
        limits::check_bytes(setting, origin, *self)
    }
}

/// A switch: `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`, in any case.
impl FromRaw for bool {
    fn from_raw(raw: String, setting: Setting, origin: &ValueSource) -> Result<Self, ConfigError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::InvalidValue {
                setting,
                origin: origin.clone(),
                value: Some(raw),
                reason: "expected true or false (or 1/0, yes/no, on/off)".to_owned(),
            }),
        }
    }
}

fn whole_number(raw: &str) -> Option<u64> {
    raw.trim().parse::<u64>().ok()
}

fn invalid_number(
    setting: Setting,
    origin: &ValueSource,
    raw: &str,
    expected: String,
) -> ConfigError {
    ConfigError::InvalidValue {
        setting,
        origin: origin.clone(),
        value: (!setting.is_secret()).then(|| raw.to_owned()),
        reason: format!("expected {expected}"),
    }
}

/// The proxy's address, from the builder, the environment or the file
/// alike; a bad one is shown only without any `user:password@`.
fn parse_proxy_address(raw: &str, origin: &ValueSource) -> Result<Uri, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidValue {
        setting: Setting::ProxyAddress,
        origin: origin.clone(),
        value: shown_url(raw),
        reason: reason.to_owned(),
    };
    let uri: Uri = raw.trim().parse().map_err(|_| invalid("not a URL"))?;
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(uri),
        _ => Err(invalid("the address has no host")),
    }
}
