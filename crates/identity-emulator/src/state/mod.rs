//! The directory: users, their roles and the user schema, with the service's
//! rules (validation, unique logins, soft delete and purge, the lifecycle
//! table). Pure domain logic: the routes lock it, call one method, and answer
//! what it returns; it is also what the state file holds.
//!
//! Choices where the documents are silent:
//! - Validation is the models' `validate()` (shared with the SDK), plus two
//!   rules only the service can check: `type` must be `Personal` or `Service`,
//!   and every `alternativeUserIds` key must be a property of the user schema
//!   (both reported with the other violations, under `type` and
//!   `alternativeUserIds`).
//! - Logins are unique case-insensitively among all kept users, deleted ones
//!   included (their record stays in the identity provider).
//! - Roles named at create (or update, which replaces them when given) are
//!   kept as RoleResponse with source `"LUSID"`, name `"scope/code"` and an id
//!   stable per role across users.
//! - A deleted user can still be read (GetUser, GetUserFromLogin,
//!   FindUsersById) and shows status `DEPROVISIONED`.

mod lifecycle;
mod stamps;

use std::collections::BTreeMap;

use identity_models::{
    CreateUserRequest, ErrorDetail, ListUsersResponse, RoleId, RoleResponse, TemporaryPassword,
    UpdateUserRequest, UpdateUserSchemaRequest, UserResponse, UserSchemaProperty,
    UserSchemaResponse, UserStatus, UserSummary, UserType, ValidationErrors,
};
use serde::{Deserialize, Serialize};

pub(crate) use lifecycle::{LifecycleAction, Refusal};

/// The most ids FindUsersById takes in one call.
pub(crate) const MAX_FIND_IDS: usize = 50;

/// The `format` written in the state file.
const STATE_FORMAT: &str = "identity-emulator/1";

/// Why a directory operation failed; each maps to one problem-details answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DomainError {
    /// 400, code 157: the body breaks the contract's rules.
    InvalidRequest(BTreeMap<String, Vec<String>>),
    /// 400, code 151: a query or path parameter is invalid.
    InvalidParameter(BTreeMap<String, Vec<String>>),
    /// 404, code 657: no user with this id (or login).
    UserNotFound(String),
    /// 400, code 658: the login is taken.
    AlreadyExists(String),
    /// A lifecycle or update refusal on user `id` in status `status`.
    Refused {
        id: String,
        status: UserStatus,
        operation: &'static str,
        refusal: Refusal,
    },
}

/// The directory, as kept in memory and in the state file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Directory {
    format: String,
    /// Users in creation order, each with its full role list.
    users: Vec<UserResponse>,
    /// The alternative user id properties.
    schema: Vec<UserSchemaProperty>,
    /// Every role ever named, so a role keeps its id.
    roles: Vec<RoleResponse>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            format: STATE_FORMAT.to_owned(),
            users: Vec::new(),
            schema: Vec::new(),
            roles: Vec::new(),
        }
    }
}

/// A user as answered: roles shown only when asked for.
pub(crate) fn present(user: &UserResponse, include_roles: bool) -> UserResponse {
    let mut shown = user.clone();
    if include_roles {
        shown.roles.get_or_insert_with(Vec::new);
    } else {
        shown.roles = None;
    }
    shown
}

impl Directory {
    /// Checks a directory read from a state file.
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        if self.format != STATE_FORMAT {
            return Err(format!(
                "unknown format {:?}, expected {STATE_FORMAT:?}",
                self.format
            ));
        }
        Ok(())
    }

    /// Forgets every user, role and schema property.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Every user, deleted ones included, with roles.
    pub(crate) fn users(&self) -> &[UserResponse] {
        &self.users
    }

    fn position(&self, id: &str) -> Result<usize, DomainError> {
        self.users
            .iter()
            .position(|user| user.id == id)
            .ok_or_else(|| DomainError::UserNotFound(id.to_owned()))
    }

    /// The user with this id.
    pub(crate) fn get(&self, id: &str) -> Result<&UserResponse, DomainError> {
        self.position(id).map(|index| &self.users[index])
    }

    /// The user with this login (compared case-insensitively).
    pub(crate) fn get_by_login(&self, login: &str) -> Result<&UserResponse, DomainError> {
        let wanted = login.to_lowercase();
        self.users
            .iter()
            .find(|user| user.login.to_lowercase() == wanted)
            .ok_or_else(|| DomainError::UserNotFound(login.to_owned()))
    }

    /// ListUsers: users in creation order, deleted ones only when asked.
    pub(crate) fn list(&self, include_deactivated: bool) -> Vec<&UserResponse> {
        self.users
            .iter()
            .filter(|user| include_deactivated || user.status != UserStatus::Deprovisioned)
            .collect()
    }

    /// ListRunnableUsers: the Service users that are not deleted.
    pub(crate) fn runnable(&self) -> Vec<&UserResponse> {
        self.list(false)
            .into_iter()
            .filter(|user| user.user_type == UserType::Service)
            .collect()
    }

    /// FindUsersById: at most [`MAX_FIND_IDS`] ids; found ones as summaries,
    /// the others as failures, both keyed by the id asked for.
    pub(crate) fn find(&self, ids: &[String]) -> Result<ListUsersResponse, DomainError> {
        if ids.len() > MAX_FIND_IDS {
            let message = format!(
                "At most {MAX_FIND_IDS} ids may be given; {} were.",
                ids.len()
            );
            return Err(DomainError::InvalidParameter(BTreeMap::from([(
                "id".to_owned(),
                vec![message],
            )])));
        }
        let mut values = BTreeMap::new();
        let mut failed = BTreeMap::new();
        for id in ids {
            match self.get(id) {
                Ok(user) => {
                    values.insert(id.clone(), summary(user));
                }
                Err(_) => {
                    let detail = ErrorDetail {
                        id: Some(id.clone()),
                        error_type: Some("UserNotFound".to_owned()),
                        detail: Some(format!("User with id '{id}' does not exist.")),
                    };
                    failed.insert(id.clone(), detail);
                }
            }
        }
        Ok(ListUsersResponse {
            href: None,
            values: Some(values),
            failed: Some(failed),
            links: None,
        })
    }

    /// CreateUser: a new `PROVISIONED` user.
    pub(crate) fn create(
        &mut self,
        request: CreateUserRequest,
    ) -> Result<UserResponse, DomainError> {
        let mut errors = request.validate().err().unwrap_or_default();
        if !matches!(request.user_type, UserType::Personal | UserType::Service) {
            errors.add(
                "type",
                "The field type must be either 'Personal' or 'Service'.",
            );
        }
        self.check_alternative_ids(request.alternative_user_ids.as_ref(), &mut errors);
        errors
            .into_result()
            .map_err(|errors| DomainError::InvalidRequest(errors.into_map()))?;
        self.check_login_free(&request.login, None)?;

        let now = stamps::now();
        let mut id = stamps::new_id("00u");
        while self.get(&id).is_ok() {
            id = stamps::new_id("00u");
        }
        let roles = self.role_responses(request.roles.unwrap_or_default());
        let user = UserResponse {
            id,
            alternative_user_ids: request.alternative_user_ids,
            email_address: request.email_address,
            second_email_address: request.second_email_address,
            login: request.login,
            first_name: request.first_name,
            last_name: request.last_name,
            roles: Some(roles),
            user_type: request.user_type,
            status: UserStatus::Provisioned,
            external: false,
            last_login: None,
            last_updated: Some(now),
            created: Some(now),
            password_changed: None,
            user_expiry: request.user_expiry,
            links: None,
        };
        self.users.push(user.clone());
        Ok(user)
    }

    /// UpdateUser: replaces the user's details (roles only when given).
    pub(crate) fn update(
        &mut self,
        id: &str,
        request: UpdateUserRequest,
    ) -> Result<UserResponse, DomainError> {
        let invalid = |errors: ValidationErrors| DomainError::InvalidRequest(errors.into_map());
        request.validate().map_err(invalid)?;
        let index = self.position(id)?;
        let user = &self.users[index];
        if user.status == UserStatus::Deprovisioned {
            return Err(refused(user, "UpdateUser", Refusal::Deleted));
        }
        let mut errors = request
            .validate_for(&user.user_type)
            .err()
            .unwrap_or_default();
        self.check_alternative_ids(request.alternative_user_ids.as_ref(), &mut errors);
        errors.into_result().map_err(invalid)?;
        self.check_login_free(&request.login, Some(id))?;

        let roles = request.roles.map(|roles| self.role_responses(roles));
        let user = &mut self.users[index];
        user.first_name = request.first_name;
        user.last_name = request.last_name;
        user.email_address = request.email_address;
        user.second_email_address = request.second_email_address;
        user.login = request.login;
        user.alternative_user_ids = request.alternative_user_ids;
        user.user_expiry = request.user_expiry;
        if let Some(roles) = roles {
            user.roles = Some(roles);
        }
        user.last_updated = Some(stamps::now());
        Ok(user.clone())
    }

    /// DeleteUser: `DEPROVISIONED` and kept, or removed with `purge`.
    pub(crate) fn delete(&mut self, id: &str, purge: bool) -> Result<(), DomainError> {
        let index = self.position(id)?;
        if purge {
            self.users.remove(index);
        } else {
            let user = &mut self.users[index];
            if user.status != UserStatus::Deprovisioned {
                user.status = UserStatus::Deprovisioned;
                user.last_updated = Some(stamps::now());
            }
        }
        Ok(())
    }

    /// A lifecycle operation: the status it leads to, or the refusal.
    pub(crate) fn lifecycle(
        &mut self,
        id: &str,
        action: LifecycleAction,
    ) -> Result<(), DomainError> {
        let index = self.position(id)?;
        let user = &mut self.users[index];
        let status = lifecycle::next_status(action, &user.user_type, &user.status)
            .map_err(|refusal| refused(user, action.operation(), refusal))?;
        if status != user.status {
            user.status = status;
            user.last_updated = Some(stamps::now());
        }
        Ok(())
    }

    /// ExpirePassword: the lifecycle step, then a new temporary password.
    pub(crate) fn expire_password(&mut self, id: &str) -> Result<TemporaryPassword, DomainError> {
        self.lifecycle(id, LifecycleAction::ExpirePassword)?;
        let index = self.position(id)?;
        let user = &mut self.users[index];
        let now = stamps::now();
        user.password_changed = Some(now);
        user.last_updated = Some(now);
        Ok(TemporaryPassword {
            password: stamps::temporary_password(),
        })
    }

    /// Sets a user's status directly (the emulator's test hook).
    pub(crate) fn set_status(&mut self, id: &str, status: UserStatus) -> Result<(), DomainError> {
        let index = self.position(id)?;
        let user = &mut self.users[index];
        user.status = status;
        user.last_updated = Some(stamps::now());
        Ok(())
    }

    /// GetUserSchema.
    pub(crate) fn schema(&self) -> UserSchemaResponse {
        UserSchemaResponse {
            alternative_user_ids: Some(self.schema.clone()),
        }
    }

    /// UpdateUserSchema: replaces the properties (names must be unique).
    pub(crate) fn update_schema(
        &mut self,
        request: UpdateUserSchemaRequest,
    ) -> Result<UserSchemaResponse, DomainError> {
        let mut errors = request.validate().err().unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        for property in &request.alternative_user_ids {
            if !seen.insert(property.name.to_lowercase()) {
                errors.add(
                    "alternativeUserIds",
                    format!(
                        "The property name '{}' is given more than once.",
                        property.name
                    ),
                );
            }
        }
        errors
            .into_result()
            .map_err(|errors| DomainError::InvalidRequest(errors.into_map()))?;
        self.schema = request.alternative_user_ids;
        Ok(self.schema())
    }

    /// Every `alternativeUserIds` key must be a property of the schema.
    fn check_alternative_ids(
        &self,
        ids: Option<&BTreeMap<String, Option<String>>>,
        errors: &mut ValidationErrors,
    ) {
        for key in ids.into_iter().flat_map(BTreeMap::keys) {
            if !self.schema.iter().any(|property| property.name == *key) {
                errors.add(
                    "alternativeUserIds",
                    format!("'{key}' is not a property of the user schema."),
                );
            }
        }
    }

    /// 658 when another user (`except` aside) has this login, in any case.
    fn check_login_free(&self, login: &str, except: Option<&str>) -> Result<(), DomainError> {
        let wanted = login.to_lowercase();
        let taken = self
            .users
            .iter()
            .any(|user| Some(user.id.as_str()) != except && user.login.to_lowercase() == wanted);
        if taken {
            Err(DomainError::AlreadyExists(login.to_owned()))
        } else {
            Ok(())
        }
    }

    /// The role responses of `roles` (duplicates dropped), registering new roles.
    fn role_responses(&mut self, roles: Vec<RoleId>) -> Vec<RoleResponse> {
        let mut answered: Vec<RoleResponse> = Vec::with_capacity(roles.len());
        for role_id in roles {
            if answered.iter().any(|role| role.role_id == role_id) {
                continue;
            }
            let known = self
                .roles
                .iter()
                .find(|role| role.role_id == role_id)
                .cloned();
            let role = known.unwrap_or_else(|| {
                let role = RoleResponse {
                    id: stamps::new_id("rol"),
                    name: format!("{}/{}", role_id.scope, role_id.code),
                    role_id,
                    source: "LUSID".to_owned(),
                    description: None,
                    saml_name: None,
                };
                self.roles.push(role.clone());
                role
            });
            answered.push(role);
        }
        answered
    }
}

fn refused(user: &UserResponse, operation: &'static str, refusal: Refusal) -> DomainError {
    DomainError::Refused {
        id: user.id.clone(),
        status: user.status.clone(),
        operation,
        refusal,
    }
}

/// FindUsersById's short form of a user.
fn summary(user: &UserResponse) -> UserSummary {
    UserSummary {
        id: Some(user.id.clone()),
        login: Some(user.login.clone()),
        email: Some(user.email_address.clone()),
        second_email: user.second_email_address.clone(),
        first_name: Some(user.first_name.clone()),
        last_name: Some(user.last_name.clone()),
        user_type: Some(user.user_type.clone()),
        alternative_user_ids: None,
        links: None,
    }
}

#[cfg(test)]
mod tests;
