//! The HTTP proxy setting of [`HttpClient`](crate::HttpClient): every
//! connection goes through an HTTP CONNECT tunnel opened by hyper-util's
//! `Tunnel`, with optional basic credentials, and TLS runs inside the tunnel.

use std::fmt;

use base64::Engine;
use http::{HeaderValue, Uri};
use secrecy::{ExposeSecret, SecretString};

use crate::error::BuildError;

/// An HTTP proxy reached with CONNECT, as the official SDKs' `proxy`
/// settings (`FBN_PROXY_ADDRESS`, `FBN_PROXY_USERNAME`, `FBN_PROXY_PASSWORD`).
///
/// ```
/// use identity_transport::ProxyConfig;
///
/// let proxy = ProxyConfig::new("http://proxy.corp:3128".parse()?)
///     .credentials("svc-identity", "s3cret".to_string());
/// assert!(!format!("{proxy:?}").contains("s3cret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ProxyConfig {
    /// The proxy: `http://host:port`, or `host:port`. Credentials go in
    /// `username` and `password`, not in the address.
    pub address: Uri,
    /// The proxy's user name, for basic authentication.
    pub username: Option<String>,
    /// The proxy's password, for basic authentication.
    pub password: Option<SecretString>,
}

impl ProxyConfig {
    /// A proxy without credentials.
    pub fn new(address: Uri) -> Self {
        Self {
            address,
            username: None,
            password: None,
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

    /// The URI hyper-util's `Tunnel` connects to: `http://host:port`.
    pub(crate) fn tunnel_uri(&self) -> Result<Uri, BuildError> {
        match self.address.scheme_str() {
            None | Some("http") => {}
            Some("https") => {
                return Err(BuildError::InvalidProxy(
                    "a proxy reached over TLS (https://) is not supported; use http://",
                ));
            }
            Some(_) => {
                return Err(BuildError::InvalidProxy(
                    "the address must be http://host:port",
                ));
            }
        }
        let authority = self
            .address
            .authority()
            .ok_or(BuildError::InvalidProxy("the address has no host"))?;
        if authority.as_str().contains('@') {
            return Err(BuildError::InvalidProxy(
                "put the credentials in username and password, not in the address",
            ));
        }
        if authority.host().is_empty() {
            return Err(BuildError::InvalidProxy("the address has no host"));
        }
        let port = authority.port_u16().unwrap_or(80);
        Uri::builder()
            .scheme("http")
            .authority(format!("{}:{port}", authority.host()))
            .path_and_query("/")
            .build()
            .map_err(|_| BuildError::InvalidProxy("the address is not a valid host:port"))
    }

    /// The `Proxy-Authorization` header of the CONNECT request, if the
    /// proxy has credentials; marked sensitive.
    pub(crate) fn authorization(&self) -> Result<Option<HeaderValue>, BuildError> {
        let (username, password) = match (&self.username, &self.password) {
            (None, None) => return Ok(None),
            (Some(username), password) => (
                username.as_str(),
                password.as_ref().map_or("", |p| p.expose_secret()),
            ),
            (None, Some(_)) => {
                return Err(BuildError::InvalidProxy(
                    "a password is set without a username",
                ));
            }
        };
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
            .map_err(|_| BuildError::InvalidProxy("the credentials cannot be sent"))?;
        value.set_sensitive(true);
        Ok(Some(value))
    }
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.address.host().unwrap_or("");
        let port = self.address.port_u16();
        f.debug_struct("ProxyConfig")
            .field("host", &host)
            .field("port", &port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy(address: &str) -> ProxyConfig {
        ProxyConfig::new(address.parse().unwrap())
    }

    #[test]
    fn the_tunnel_uri_has_a_scheme_and_a_port() {
        assert_eq!(
            proxy("proxy.corp:3128").tunnel_uri().unwrap(),
            "http://proxy.corp:3128/"
        );
        assert_eq!(
            proxy("http://proxy.corp").tunnel_uri().unwrap(),
            "http://proxy.corp:80/"
        );
    }

    #[test]
    fn unusable_addresses_are_refused_without_echoing_credentials() {
        for bad in [
            "https://proxy.corp:443",
            "socks5://proxy.corp:1080",
            "http://u:hunter2@proxy.corp:3128",
        ] {
            let error = proxy(bad).tunnel_uri().unwrap_err();
            assert!(matches!(error, BuildError::InvalidProxy(_)), "{bad}");
            assert!(!error.to_string().contains("hunter2"));
        }
    }

    #[test]
    fn credentials_make_a_sensitive_basic_header() {
        let config = proxy("proxy.corp:3128").credentials("ann", "pa:ss".to_string());
        let header = config.authorization().unwrap().unwrap();
        assert!(header.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode("ann:pa:ss");
        assert_eq!(header, format!("Basic {expected}").as_str());
        assert!(proxy("proxy.corp:3128").authorization().unwrap().is_none());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let config = proxy("proxy.corp:3128").credentials("ann", "hunter2".to_string());
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("ann"));
        let with_userinfo = proxy("http://ann:hunter2@proxy.corp:3128");
        assert!(!format!("{with_userinfo:?}").contains("hunter2"));
    }
}
