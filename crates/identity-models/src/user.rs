//! [`UserResponse`]: a user as the service returns it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::datetime::rfc3339_option;
use crate::{Link, RoleResponse, UserStatus, UserType};

/// A user as returned by GetUser, CreateUser, UpdateUser and ListUsers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    /// The system-assigned unique id.
    pub id: String,
    /// Alternative ids, keyed by the property names of the user schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_user_ids: Option<BTreeMap<String, Option<String>>>,
    /// The email address.
    pub email_address: String,
    /// A second email address (Service users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_email_address: Option<String>,
    /// The login, unique in the domain.
    pub login: String,
    /// The first name.
    pub first_name: String,
    /// The last name.
    pub last_name: String,
    /// The user's roles, filled when asked with `includeRoles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleResponse>>,
    /// Personal or Service (other values kept).
    #[serde(rename = "type")]
    pub user_type: UserType,
    /// The lifecycle status (other values kept).
    pub status: UserStatus,
    /// Whether the user comes from an external identity system.
    pub external: bool,
    /// The last sign-in.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_login: Option<OffsetDateTime>,
    /// The last change.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated: Option<OffsetDateTime>,
    /// The creation time.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<OffsetDateTime>,
    /// The last password change.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub password_changed: Option<OffsetDateTime>,
    /// When the user expires.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_expiry: Option<OffsetDateTime>,
    /// Related links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
}
