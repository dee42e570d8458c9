//! [`StaticToken`]: a personal access token, the same every time.

use std::fmt;

use futures_util::future::BoxFuture;
use identity_call::CredentialSent;
use secrecy::SecretString;

use super::{AccessToken, TokenProvider};
use crate::AuthError;
use crate::redact::Redacted;

/// A personal access token (API key), sent as the bearer token as it is.
///
/// It has no known expiry: the cache keeps it until a 401 says otherwise.
#[derive(Clone)]
pub struct StaticToken {
    token: SecretString,
}

impl StaticToken {
    /// Provides `token`.
    pub fn new(token: SecretString) -> Self {
        Self { token }
    }
}

impl TokenProvider for StaticToken {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        let token = AccessToken::new(self.token.clone(), None);
        Box::pin(std::future::ready(Ok(token)))
    }

    fn can_renew(&self) -> bool {
        false
    }

    fn credential(&self) -> CredentialSent {
        CredentialSent::AccessToken
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StaticToken").field(&Redacted).finish()
    }
}
