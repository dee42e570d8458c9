//! [`ProxySettings`]: the HTTP proxy the configuration names, if any.

use std::fmt;

use secrecy::SecretString;

use crate::redact;

/// An HTTP proxy and the credentials to give it.
#[derive(Clone)]
pub struct ProxySettings {
    pub(crate) address: String,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<SecretString>,
}

impl ProxySettings {
    /// The proxy's address, as configured (`http://proxy.example.com:3128`).
    pub fn address(&self) -> &str {
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
            .field("address", &redact::url(&self.address))
            .field("username", &self.username)
            .field("password", &redact::optional(&self.password))
            .finish()
    }
}
