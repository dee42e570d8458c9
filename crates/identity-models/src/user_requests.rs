//! The bodies of CreateUser and UpdateUser, with constructors that are hard to
//! get wrong: a Personal user's login is its email address, a Service user
//! names its own, and an update starts from the user as read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::datetime::rfc3339_option;
use crate::{RoleId, UserResponse, UserType};

/// The body of CreateUser.
///
/// Build it with [`CreateUserRequest::personal`] or [`CreateUserRequest::service`],
/// then the `with_*` setters; check it with [`CreateUserRequest::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    /// The first name (1 to 50 characters).
    pub first_name: String,
    /// The last name (2 to 50 characters).
    pub last_name: String,
    /// Where the activation email goes; a Personal user's login.
    pub email_address: String,
    /// A second email address; only allowed for Service users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_email_address: Option<String>,
    /// The login, unique in the domain; the email address for Personal users.
    pub login: String,
    /// Alternative ids, keyed by the property names of the user schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_user_ids: Option<BTreeMap<String, Option<String>>>,
    /// The roles to create the user with (at most 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleId>>,
    /// Personal or Service.
    #[serde(rename = "type")]
    pub user_type: UserType,
    /// When the user expires.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_expiry: Option<OffsetDateTime>,
}

impl CreateUserRequest {
    /// A Personal user: the login is the email address.
    pub fn personal(
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        email_address: impl Into<String>,
    ) -> Self {
        let email_address = email_address.into();
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            login: email_address.clone(),
            email_address,
            second_email_address: None,
            alternative_user_ids: None,
            roles: None,
            user_type: UserType::Personal,
            user_expiry: None,
        }
    }

    /// A Service user with its own login.
    pub fn service(
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        email_address: impl Into<String>,
        login: impl Into<String>,
    ) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email_address: email_address.into(),
            second_email_address: None,
            login: login.into(),
            alternative_user_ids: None,
            roles: None,
            user_type: UserType::Service,
            user_expiry: None,
        }
    }
}

/// The body of UpdateUser: the whole user as it should be (update = get,
/// change, put).
///
/// Start from the user as read with [`UpdateUserRequest::from_user`], change
/// what you need, check it with [`UpdateUserRequest::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    /// The first name (1 to 50 characters).
    pub first_name: String,
    /// The last name (2 to 50 characters).
    pub last_name: String,
    /// The email address; a Personal user's login.
    pub email_address: String,
    /// A second email address; only allowed for Service users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_email_address: Option<String>,
    /// The login, unique in the domain.
    pub login: String,
    /// Alternative ids, keyed by the property names of the user schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_user_ids: Option<BTreeMap<String, Option<String>>>,
    /// The roles (deprecated by the service; at most 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleId>>,
    /// When the user expires.
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_expiry: Option<OffsetDateTime>,
}

impl UpdateUserRequest {
    /// An update from its required fields.
    pub fn new(
        first_name: impl Into<String>,
        last_name: impl Into<String>,
        email_address: impl Into<String>,
        login: impl Into<String>,
    ) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email_address: email_address.into(),
            second_email_address: None,
            login: login.into(),
            alternative_user_ids: None,
            roles: None,
            user_expiry: None,
        }
    }

    /// The update that leaves `user` as it is: its roles become the
    /// [`RoleId`]s of its [`crate::RoleResponse`]s (or `None` if it had none listed).
    pub fn from_user(user: &UserResponse) -> Self {
        Self {
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email_address: user.email_address.clone(),
            second_email_address: user.second_email_address.clone(),
            login: user.login.clone(),
            alternative_user_ids: user.alternative_user_ids.clone(),
            roles: user
                .roles
                .as_ref()
                .map(|roles| roles.iter().map(|role| role.role_id.clone()).collect()),
            user_expiry: user.user_expiry,
        }
    }
}

impl From<&UserResponse> for UpdateUserRequest {
    fn from(user: &UserResponse) -> Self {
        Self::from_user(user)
    }
}

/// The chainable setters both user requests share, written once.
macro_rules! user_request_setters {
    ($request:ty) => {
        impl $request {
            /// Sets the second email address (only valid for Service users).
            pub fn with_second_email_address(mut self, address: impl Into<String>) -> Self {
                self.second_email_address = Some(address.into());
                self
            }

            /// Adds a role.
            pub fn with_role(mut self, role: RoleId) -> Self {
                self.roles.get_or_insert_with(Vec::new).push(role);
                self
            }

            /// Sets one alternative user id (the key is a user schema property name).
            pub fn with_alternative_user_id(
                mut self,
                key: impl Into<String>,
                value: impl Into<String>,
            ) -> Self {
                self.alternative_user_ids
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.into(), Some(value.into()));
                self
            }

            /// Sets when the user expires.
            pub fn with_user_expiry(mut self, expiry: OffsetDateTime) -> Self {
                self.user_expiry = Some(expiry);
                self
            }
        }
    };
}

user_request_setters!(CreateUserRequest);
user_request_setters!(UpdateUserRequest);
