//! [`ProxySettings`]: the HTTP proxy the configuration names, if any.
//!
//! Its address is parsed where it is read (`resolve.rs`), so that a bad one
//! is a [`ConfigError`](crate::ConfigError) naming the setting, like any
//! other invalid value, and the HTTP client gets a parsed `Uri`.

use std::fmt;

use http::Uri;
use secrecy::SecretString;

use crate::redact;

/// An HTTP proxy and the credentials to give it.
#[derive(Clone)]
pub struct ProxySettings {
    pub(crate) address: Uri,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<SecretString>,
}

impl ProxySettings {
    /// The proxy's address (`http://proxy.example.com:3128`).
    pub fn address(&self) -> &Uri {
        &self.address
    }

    /// The username at the proxy.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password at the proxy.
    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }
}

impl fmt::Debug for ProxySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySettings")
            .field("address", &redact::url(&self.address.to_string()))
            .field("username", &self.username)
            .field("password", &redact::optional(&self.password))
            .finish()
    }
}
