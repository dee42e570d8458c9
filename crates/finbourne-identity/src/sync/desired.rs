//! The directory's side: [`DesiredUser`], a user as the directory wants
//! them, and [`Desired`], one line of the directory (a user, or a line that
//! could not be read as one).
//!
//! A field the directory does not carry is not the directory's to manage:
//! an optional field absent from the input (a JSON key left out, a CSV
//! column the file does not have) keeps the domain's value, while one
//! given empty (`null`, an empty cell) means "no value" and clears it.
//! Alternative user ids are managed key by key: the keys the directory
//! names are set (or cleared, when given without a value), the others
//! kept.

use std::collections::BTreeMap;

use identity_models::{CreateUserRequest, RoleId, UserType, ValidationErrors};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// A user as the directory wants them.
///
/// Read from the JSON of a CreateUserRequest (or of an exported user: its
/// other fields are ignored), or made from a [`CreateUserRequest`], which
/// manages every field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredUser {
    /// The first name.
    pub first_name: String,
    /// The last name.
    pub last_name: String,
    /// The email address (a Personal user's login).
    pub email_address: String,
    /// The login.
    pub login: String,
    /// Personal or Service: a user's type cannot be changed by an update,
    /// so a different type is a conflict.
    #[serde(rename = "type")]
    pub user_type: UserType,
    /// `None`: not managed; `Some(None)`: no second email address.
    #[serde(
        default,
        with = "managed_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub second_email_address: Option<Option<String>>,
    /// `None`: not managed; `Some(None)`: the user does not expire.
    #[serde(
        default,
        with = "managed_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_expiry: Option<Option<OffsetDateTime>>,
    /// The alternative ids the directory manages (a `None` value: the user
    /// has none under that key); keys not named are left as they are.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub alternative_user_ids: BTreeMap<String, Option<String>>,
    /// The roles a new user is created with. Those of a user that exists
    /// are compared only when the domain's side carries them (ListUsers
    /// does not), a difference being a conflict: UpdateUser deprecates
    /// roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleId>>,
}

impl DesiredUser {
    /// The CreateUserRequest of this user (what is not managed left out).
    pub fn to_create_request(&self) -> CreateUserRequest {
        let ids: BTreeMap<String, Option<String>> = self
            .alternative_user_ids
            .iter()
            .filter(|(_, value)| value.as_deref().is_some_and(|value| !value.is_empty()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        CreateUserRequest {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email_address: self.email_address.clone(),
            second_email_address: self.second_email_address.clone().flatten(),
            login: self.login.clone(),
            alternative_user_ids: (!ids.is_empty()).then_some(ids),
            roles: self.roles.clone().filter(|roles| !roles.is_empty()),
            user_type: self.user_type.clone(),
            user_expiry: self.user_expiry.flatten(),
        }
    }

    /// Checks the user with the contract's rules of CreateUserRequest.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        self.to_create_request().validate()
    }
}

impl From<CreateUserRequest> for DesiredUser {
    /// Every field managed: what the request leaves out, the user has not.
    fn from(request: CreateUserRequest) -> Self {
        Self {
            first_name: request.first_name,
            last_name: request.last_name,
            email_address: request.email_address,
            login: request.login,
            user_type: request.user_type,
            second_email_address: Some(request.second_email_address),
            user_expiry: Some(request.user_expiry),
            alternative_user_ids: request.alternative_user_ids.unwrap_or_default(),
            roles: request.roles,
        }
    }
}

/// One line of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Desired {
    /// A user, read from line `line` (any number, for the plan to name).
    User {
        /// Where the user was read (from 1; 0 when there are no lines).
        line: u64,
        /// The user.
        user: Box<DesiredUser>,
    },
    /// A line that is not a valid user.
    Invalid(InvalidLine),
}

impl Desired {
    /// A user read from line `line`.
    pub fn user(line: u64, user: impl Into<DesiredUser>) -> Self {
        Desired::User {
            line,
            user: Box::new(user.into()),
        }
    }
}

/// A line of the directory that is not a valid user: reported, and its
/// user, when its key can be read, is left as it is (never pruned for a
/// typo). A line whose key cannot be read stops a prune.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidLine {
    /// The line.
    pub line: u64,
    /// The login, if it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The alternative ids, as far as they could be read (for a key that
    /// is one of them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alternative_user_ids: BTreeMap<String, Option<String>>,
    /// Why the line is not valid.
    pub message: String,
    /// The messages of each field at fault.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub field_errors: BTreeMap<String, Vec<String>>,
}

/// An absent or null map as an empty one.
fn null_as_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    Ok(Option::deserialize(deserializer)?.unwrap_or_default())
}

/// A managed text field: present (its value, or null) or absent.
mod managed_text {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Option<String>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .and_then(Option::as_ref)
            .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        // Only called when the key is there: present, even when null.
        Option::<String>::deserialize(deserializer).map(Some)
    }
}

/// A managed datetime field (RFC 3339): present (its value, or null) or
/// absent.
mod managed_datetime {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Option<OffsetDateTime>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::option::serialize(&value.flatten(), serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
        time::serde::rfc3339::option::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_left_out_is_not_managed_and_a_null_one_clears() {
        let sparse: DesiredUser = serde_json::from_str(
            r#"{"firstName":"Ann","lastName":"Lee","emailAddress":"a@b.cd","login":"a@b.cd",
                "type":"Personal","secondEmailAddress":null,"id":"00u1","status":"ACTIVE"}"#,
        )
        .unwrap();
        assert_eq!(sparse.second_email_address, Some(None));
        assert_eq!(sparse.user_expiry, None);
        assert!(sparse.alternative_user_ids.is_empty());
        // Written and read back the same (as the planner's sort does).
        let text = serde_json::to_string(&sparse).unwrap();
        assert_eq!(serde_json::from_str::<DesiredUser>(&text).unwrap(), sparse);

        let full = DesiredUser::from(CreateUserRequest::personal("Ann", "Lee", "a@b.cd"));
        assert_eq!(full.user_expiry, Some(None));
        let text = serde_json::to_string(&full).unwrap();
        assert_eq!(serde_json::from_str::<DesiredUser>(&text).unwrap(), full);
    }
}
