//! [`ProxyConfig`]: the proxy given in code or configuration (the official
//! SDKs' `proxy` settings), which wins over the standard variables.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use http::{HeaderValue, Uri};
use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};

use super::{Endpoint, default_port};
use crate::error::BuildError;

/// An HTTP proxy reached with CONNECT, as the official SDKs' `proxy`
/// settings (`FBN_PROXY_ADDRESS`, `FBN_PROXY_USERNAME`, `FBN_PROXY_PASSWORD`).
///
/// The address is `http://host:port`, `https://host:port` (TLS to the
/// proxy, verified as any server is) or `host:port`; it may hold the
/// credentials (`http://user:pass@host:port`, percent-encoded), which
/// [`credentials`](Self::credentials) overrides.
///
/// ```
/// use identity_transport::ProxyConfig;
///
/// let proxy = ProxyConfig::new("http://proxy.corp:3128".parse()?)
///     .credentials("svc-identity", "s3cret".to_string());
/// assert!(!format!("{proxy:?}").contains("s3cret"));
///
/// let in_the_url = ProxyConfig::new("http://svc-identity:s3cret@proxy.corp:3128".parse()?);
/// assert!(!format!("{in_the_url:?}").contains("s3cret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ProxyConfig {
    /// The proxy: `http://host:port`, `https://host:port` or `host:port`,
    /// optionally with `user:password@`.
    pub address: Uri,
    /// The proxy's user name, for basic authentication (wins over one in
    /// the address).
    pub username: Option<String>,
    /// The proxy's password, for basic authentication (wins over one in
    /// the address).
    pub password: Option<SecretString>,
    /// The setting's name in errors.
    setting: Cow<'static, str>,
}

impl ProxyConfig {
    /// A proxy; without credentials unless its address holds some.
    pub fn new(address: Uri) -> Self {
        Self {
            address,
            username: None,
            password: None,
            setting: Cow::Borrowed("the proxy address"),
        }
    }

    /// The same proxy with basic credentials.
    pub fn credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<SecretString>,
    ) -> Self {
        self.username = Some(username.into());
        self.password = Some(password.into());
        self
    }

    /// The name of the setting the address came from, for errors (default
    /// "the proxy address"); the facade names its `FBN_PROXY_ADDRESS`.
    pub fn setting_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.setting = name.into();
        self
    }

    /// Where to connect and what to send, or why the setting is unusable.
    pub(crate) fn endpoint(&self) -> Result<Endpoint, BuildError> {
        let invalid = |reason: Cow<'static, str>| BuildError::InvalidProxy {
            setting: self.setting.clone(),
            reason,
        };
        let parsed = ParsedProxy::of(&self.address).map_err(invalid)?;
        let from_url = parsed.credentials;
        let credentials = match (&self.username, &self.password) {
            (Some(username), password) => Some((
                username.clone(),
                password
                    .as_ref()
                    .map_or_else(String::new, |p| p.expose_secret().to_owned()),
            )),
            (None, Some(_)) => {
                return Err(invalid(Cow::Borrowed(
                    "a password is set without a username",
                )));
            }
            (None, None) => from_url,
        };
        let authorization = credentials
            .map(|(username, password)| basic_authorization(&username, &password))
            .transpose()
            .map_err(|()| invalid(Cow::Borrowed("the credentials cannot be sent in HTTP")))?;
        Ok(Endpoint {
            uri: parsed.uri,
            authorization,
        })
    }
}

/// A proxy URL taken apart: the URI to connect to, without credentials,
/// and the credentials it held (percent-decoded).
pub(crate) struct ParsedProxy {
    pub(crate) uri: Uri,
    pub(crate) credentials: Option<(String, String)>,
}

impl ParsedProxy {
    /// Checks and splits a proxy URL; the reason never quotes credentials.
    pub(crate) fn of(address: &Uri) -> Result<Self, Cow<'static, str>> {
        let scheme = match address.scheme_str() {
            None | Some("http") => "http",
            Some("https") => "https",
            Some(other) => {
                return Err(Cow::Owned(format!(
                    "only http:// and https:// proxies are supported, not {other}://"
                )));
            }
        };
        let authority = address
            .authority()
            .ok_or(Cow::Borrowed("the address has no host"))?;
        let userinfo = authority
            .as_str()
            .rsplit_once('@')
            .map(|(userinfo, _)| userinfo);
        if authority.host().is_empty() {
            return Err(Cow::Borrowed("the address has no host"));
        }
        let port = authority.port_u16().unwrap_or(default_port(Some(scheme)));
        let host = authority.host();
        let uri = Uri::builder()
            .scheme(scheme)
            .authority(format!("{host}:{port}"))
            .path_and_query("/")
            .build()
            .map_err(|_| Cow::Borrowed("the address is not a valid host:port"))?;
        let credentials = userinfo.map(|userinfo| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            (
                percent_decode_str(user).decode_utf8_lossy().into_owned(),
                percent_decode_str(password)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        });
        Ok(Self { uri, credentials })
    }
}

/// `Basic base64(user:password)`, marked sensitive.
fn basic_authorization(username: &str, password: &str) -> Result<HeaderValue, ()> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value = HeaderValue::try_from(format!("Basic {encoded}")).map_err(|_| ())?;
    value.set_sensitive(true);
    Ok(value)
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.address.host().unwrap_or("");
        let port = self.address.port_u16();
        let credentials_in_address = self
            .address
            .authority()
            .is_some_and(|authority| authority.as_str().contains('@'));
        f.debug_struct("ProxyConfig")
            .field("scheme", &self.address.scheme_str())
            .field("host", &host)
            .field("port", &port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("credentials_in_address", &credentials_in_address)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(address: &str) -> ProxyConfig {
        ProxyConfig::new(address.parse().unwrap())
    }

    fn basic(credentials: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }

    #[test]
    fn the_endpoint_has_a_scheme_and_a_port() {
        assert_eq!(
            proxy("proxy.corp:3128").endpoint().unwrap().uri,
            "http://proxy.corp:3128/"
        );
        assert_eq!(
            proxy("http://proxy.corp").endpoint().unwrap().uri,
            "http://proxy.corp:80/"
        );
        assert_eq!(
            proxy("https://proxy.corp").endpoint().unwrap().uri,
            "https://proxy.corp:443/"
        );
    }

    #[test]
    fn unusable_addresses_are_refused_naming_the_setting_without_credentials() {
        for bad in ["socks5://u:hunter2@proxy.corp:1080", "ftp://proxy.corp"] {
            let error = proxy(bad)
                .setting_name("FBN_PROXY_ADDRESS")
                .endpoint()
                .unwrap_err();
            assert!(matches!(error, BuildError::InvalidProxy { .. }), "{bad}");
            let message = error.to_string();
            assert!(message.contains("FBN_PROXY_ADDRESS"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn credentials_in_the_address_are_decoded_and_sent() {
        let endpoint = proxy("http://ann:p%40ss%3Aword@proxy.corp:3128")
            .endpoint()
            .unwrap();
        assert_eq!(endpoint.uri, "http://proxy.corp:3128/");
        let header = endpoint.authorization.unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header, basic("ann:p@ss:word").as_str());
    }

    #[test]
    fn credentials_given_apart_win_over_the_address() {
        let endpoint = proxy("http://old:stale@proxy.corp:3128")
            .credentials("ann", "pa:ss".to_string())
            .endpoint()
            .unwrap();
        assert_eq!(endpoint.authorization.unwrap(), basic("ann:pa:ss").as_str());
        assert!(
            proxy("proxy.corp:3128")
                .endpoint()
                .unwrap()
                .authorization
                .is_none()
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let config = proxy("proxy.corp:3128").credentials("ann", "hunter2".to_string());
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("ann"));
        let with_userinfo = proxy("http://ann:hunter2@proxy.corp:3128");
        assert!(!format!("{with_userinfo:?}").contains("hunter2"));
        let endpoint = with_userinfo.endpoint().unwrap();
        assert!(!format!("{endpoint:?}").contains("hunter2"));
        assert!(!format!("{endpoint:?}").contains(&basic("ann:hunter2")[6..]));
    }
}
