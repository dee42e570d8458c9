//! [`Key`]: how a user of the directory is matched with a user of the
//! domain.

use std::fmt;

use identity_models::UserResponse;
use serde::{Deserialize, Serialize};

use super::DesiredUser;

/// What matches a user of the directory with a user of the domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Key {
    /// The login, compared case-insensitively as the service compares
    /// logins. A person whose login changed is a new person (a create, and
    /// the old login not in the directory).
    #[default]
    Login,
    /// An alternative user id (a property of the domain's user schema, such
    /// as an HR employee number), compared exactly: a person whose email
    /// address, and so login, changed is one update. Only the users of the
    /// domain that carry it are the directory's: the others are never
    /// updated nor pruned.
    AlternativeUserId(String),
}

impl Key {
    /// The key of a user of the domain (`None`: the user does not carry it).
    pub fn of_user(&self, user: &UserResponse) -> Option<String> {
        match self {
            Key::Login => Some(login_key(&user.login)),
            Key::AlternativeUserId(name) => {
                alternative_id(user.alternative_user_ids.as_ref(), name)
            }
        }
    }

    /// The key of a user of the directory.
    pub fn of_desired(&self, user: &DesiredUser) -> Option<String> {
        match self {
            Key::Login => Some(login_key(&user.login)),
            Key::AlternativeUserId(name) => user
                .alternative_user_ids
                .get(name)
                .and_then(|value| nonempty(value.as_deref())),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Login => f.write_str("login"),
            Key::AlternativeUserId(name) => write!(f, "alternative user id {name}"),
        }
    }
}

/// A login as the service compares it: lower-cased.
pub(crate) fn login_key(login: &str) -> String {
    login.to_lowercase()
}

/// The value of the alternative id `name`, if it has one that is not empty.
fn alternative_id(
    ids: Option<&std::collections::BTreeMap<String, Option<String>>>,
    name: &str,
) -> Option<String> {
    ids.and_then(|ids| ids.get(name))
        .and_then(|value| nonempty(value.as_deref()))
}

fn nonempty(value: Option<&str>) -> Option<String> {
    value.filter(|value| !value.is_empty()).map(str::to_owned)
}
