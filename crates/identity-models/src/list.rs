//! The answer of FindUsersById: [`ListUsersResponse`] with its [`UserSummary`]
//! values and [`ErrorDetail`] failures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Link, UserType};

/// A short description of a user. Note the names differ from
/// [`crate::UserResponse`] (`email`, not `emailAddress`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    /// The user's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The second email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_email: Option<String>,
    /// The first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Personal or Service (other values kept).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<UserType>,
    /// Alternative ids (returned only for the current user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_user_ids: Option<BTreeMap<String, Option<String>>>,
    /// Related links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
}

/// Why an id could not be resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// The id concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The kind of error (json `type`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer of FindUsersById: the users found and the ids that failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListUsersResponse {
    /// The URI of this response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// The users found, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<BTreeMap<String, UserSummary>>,
    /// The ids not found, with why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<BTreeMap<String, ErrorDetail>>,
    /// Related links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
}
