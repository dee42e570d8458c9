//! [`CredentialSent`]: which credential's token went with a request, told by
//! the auth layer on the answer, so that a 401 can say what was refused.
//!
//! The auth layer (`identity-auth`) knows the credential; the error of a
//! call is made in `identity-users`, which does not depend on it. The auth
//! layer puts this mark in the extensions of a 401 answer it hands back, as
//! data, and `identity-users` reads it into its `ApiError`: no state is
//! shared between them.
//!
//! It names the credential and never holds a secret: no token, password or
//! client secret, only the kind of credential and what identifies it (a
//! token file's path, the password grant's username and client id).
//!
//! ```
//! use identity_call::CredentialSent;
//!
//! let mut answer = http::Response::new(());
//! *answer.status_mut() = http::StatusCode::UNAUTHORIZED;
//! CredentialSent::AccessToken.set_on(&mut answer);
//! assert_eq!(CredentialSent::of(&answer), Some(&CredentialSent::AccessToken));
//! assert_eq!(CredentialSent::AccessToken.to_string(), "a personal access token");
//! ```

use std::fmt;
use std::path::PathBuf;

/// Which credential's bearer token a request carried: put by the auth
/// layer on a 401 it hands back, read into the call's error, never the
/// secret itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSent {
    /// A personal access token.
    AccessToken,
    /// The token read from a file.
    TokenFile {
        /// The file.
        path: PathBuf,
    },
    /// A token of the OAuth2 password grant.
    PasswordGrant {
        /// The username the token was granted to.
        username: String,
        /// The OAuth2 client id it was granted through.
        client_id: String,
    },
    /// A token of a provider this SDK does not know, as it describes itself.
    Other {
        /// What the token is (the provider's type, unless it says more).
        description: String,
    },
}

impl CredentialSent {
    /// The credential an answer says its request carried, when the auth
    /// layer said.
    pub fn of<B>(response: &http::Response<B>) -> Option<&CredentialSent> {
        response.extensions().get::<CredentialSent>()
    }

    /// Says on `response` that its request carried this credential.
    pub fn set_on<B>(self, response: &mut http::Response<B>) {
        response.extensions_mut().insert(self);
    }
}

impl fmt::Display for CredentialSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSent::AccessToken => f.write_str("a personal access token"),
            CredentialSent::TokenFile { path } => {
                write!(f, "the token in the file {}", path.display())
            }
            CredentialSent::PasswordGrant {
                username,
                client_id,
            } => write!(
                f,
                "a token of the password grant for the user {username:?} (client id {client_id:?})"
            ),
            CredentialSent::Other { description } => f.write_str(description),
        }
    }
}
