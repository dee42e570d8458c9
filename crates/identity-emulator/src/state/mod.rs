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
//!
//! # Indexes
//!
//! Users are kept in creation order in a `BTreeMap` keyed by a rising
//! *place* (so a purge in the middle costs a logarithm, not a shift of
//! every later user), with two hash indexes beside it: id to place, and
//! lower-cased login to place. GetUser, GetUserFromLogin, FindUsersById, the
//! uniqueness checks of CreateUser and UpdateUser and every change by id
//! look a user up through them, never by scanning, so they cost the same at
//! a million users as at a hundred. ListUsers walks the map in creation
//! order.
//!
//! # Effects
//!
//! When asked to ([`Directory::record_effects`]), every change also notes
//! its effect ([`Effect`]: a user as it now is, a user removed, a role
//! registered, the schema, everything cleared), which the state file's
//! journal writes and a restart replays ([`Directory::apply_effect`]).
//! Effects, not requests, are journaled, so that a replay makes no new ids
//! or timestamps.

mod lifecycle;
mod seed;
mod stamps;

use std::collections::{BTreeMap, HashMap};

use identity_models::{
    CreateUserRequest, ErrorDetail, ListUsersResponse, RoleId, RoleResponse, TemporaryPassword,
    UpdateUserRequest, UpdateUserSchemaRequest, UserResponse, UserSchemaProperty,
    UserSchemaResponse, UserStatus, UserSummary, UserType, ValidationErrors,
};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

pub(crate) use lifecycle::{LifecycleAction, Refusal};

/// The most ids FindUsersById takes in one call.
pub(crate) const MAX_FIND_IDS: usize = 50;

/// Which users a list operation answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listing {
    /// ListUsers: deleted users only when asked.
    Users { include_deactivated: bool },
    /// ListRunnableUsers: the Service users that are not deleted.
    Runnable,
}

impl Listing {
    /// Whether the listing answers `user`.
    pub(crate) fn keeps(self, user: &UserResponse) -> bool {
        let live = user.status != UserStatus::Deprovisioned;
        match self {
            Self::Users {
                include_deactivated,
            } => include_deactivated || live,
            Self::Runnable => live && user.user_type == UserType::Service,
        }
    }
}

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

/// What one change did to the directory, as the journal of the state file
/// keeps it. Replaying the effects of every change in order, from the state
/// they were made on, gives the same directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(crate) enum Effect {
    /// A user as it now is, with its roles: created (placed last) or changed
    /// (kept in its place).
    PutUser {
        /// The whole user.
        user: Box<UserResponse>,
    },
    /// A user purged.
    RemoveUser {
        /// Its id.
        id: String,
    },
    /// A role named for the first time (so that it keeps its id).
    PutRole {
        /// The role.
        role: RoleResponse,
    },
    /// The user schema replaced.
    SetSchema {
        /// The new properties.
        properties: Vec<UserSchemaProperty>,
    },
    /// Every user, role and schema property forgotten (a reset).
    Clear,
}

/// The directory, as kept in memory and in the state file.
#[derive(Clone, Default)]
pub(crate) struct Directory {
    /// Users in creation order, each with its full role list, keyed by place.
    users: BTreeMap<u64, UserResponse>,
    /// The place the next new user takes.
    next_place: u64,
    /// Place of each user by id.
    by_id: HashMap<String, u64>,
    /// Place of each user by lower-cased login.
    by_login: HashMap<String, u64>,
    /// The alternative user id properties.
    schema: Vec<UserSchemaProperty>,
    /// Every role ever named, so a role keeps its id.
    roles: Vec<RoleResponse>,
    /// Sequence number of the latest journaled change this state holds (0:
    /// none). Kept by the state file's writer; written in the snapshot as
    /// `journalSeq`.
    pub(crate) seq: u64,
    /// Whether changes note their effects.
    record: bool,
    /// Effects noted since the last [`Directory::take_effects`].
    effects: Vec<Effect>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("users", &self.users.len())
            .field("schema", &self.schema)
            .field("roles", &self.roles.len())
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// Two directories are equal when they would be written the same way: the
/// same users in the same order, schema, roles and journal position.
impl PartialEq for Directory {
    fn eq(&self, other: &Self) -> bool {
        self.users.len() == other.users.len()
            && self.users.values().eq(other.users.values())
            && self.schema == other.schema
            && self.roles == other.roles
            && self.seq == other.seq
    }
}

/// The state file's snapshot: `{"format", "journalSeq", "users", "schema",
/// "roles"}`, users in creation order.
impl Serialize for Directory {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct InOrder<'a>(&'a BTreeMap<u64, UserResponse>);
        impl Serialize for InOrder<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.values())
            }
        }
        let mut state = serializer.serialize_struct("Directory", 5)?;
        state.serialize_field("format", STATE_FORMAT)?;
        state.serialize_field("journalSeq", &self.seq)?;
        state.serialize_field("users", &InOrder(&self.users))?;
        state.serialize_field("schema", &self.schema)?;
        state.serialize_field("roles", &self.roles)?;
        state.end()
    }
}

/// The snapshot as read (files written before the journal have no
/// `journalSeq`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredDirectory {
    format: String,
    #[serde(default)]
    journal_seq: u64,
    users: Vec<UserResponse>,
    schema: Vec<UserSchemaProperty>,
    roles: Vec<RoleResponse>,
}

impl<'de> Deserialize<'de> for Directory {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredDirectory::deserialize(deserializer)?;
        Directory::try_from(stored).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<StoredDirectory> for Directory {
    type Error = String;

    /// Checks the format and that ids and logins are unique, and builds
    /// the indexes.
    fn try_from(stored: StoredDirectory) -> Result<Self, String> {
        if stored.format != STATE_FORMAT {
            return Err(format!(
                "unknown format {:?}, expected {STATE_FORMAT:?}",
                stored.format
            ));
        }
        let mut directory = Directory {
            schema: stored.schema,
            roles: stored.roles,
            seq: stored.journal_seq,
            ..Directory::default()
        };
        directory.by_id.reserve(stored.users.len());
        directory.by_login.reserve(stored.users.len());
        for user in stored.users {
            if directory.by_id.contains_key(&user.id) {
                return Err(format!("the user id {:?} is there twice", user.id));
            }
            if directory.by_login.contains_key(&user.login.to_lowercase()) {
                return Err(format!("the login {:?} is there twice", user.login));
            }
            directory.insert_new(user);
        }
        Ok(directory)
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
    /// Whether changes note their effects (for the journal), from now on.
    pub(crate) fn record_effects(&mut self, record: bool) {
        self.record = record;
    }

    /// The effects noted since the last call, oldest first.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    fn note(&mut self, effect: impl FnOnce() -> Effect) {
        if self.record {
            self.effects.push(effect());
        }
    }

    fn note_user(&mut self, place: u64) {
        if self.record
            && let Some(user) = self.users.get(&place)
        {
            self.effects.push(Effect::PutUser {
                user: Box::new(user.clone()),
            });
        }
    }

    /// Replays one journaled effect (nothing is noted).
    pub(crate) fn apply_effect(&mut self, effect: Effect) {
        match effect {
            Effect::PutUser { user } => self.put_user(*user),
            Effect::RemoveUser { id } => {
                self.remove(&id);
            }
            Effect::PutRole { role } => {
                match self.roles.iter_mut().find(|known| known.id == role.id) {
                    Some(known) => *known = role,
                    None => self.roles.push(role),
                }
            }
            Effect::SetSchema { properties } => self.schema = properties,
            Effect::Clear => self.forget_all(),
        }
    }

    /// Forgets every user, role and schema property.
    pub(crate) fn clear(&mut self) {
        self.forget_all();
        self.note(|| Effect::Clear);
    }

    fn forget_all(&mut self) {
        self.users.clear();
        self.by_id.clear();
        self.by_login.clear();
        self.schema.clear();
        self.roles.clear();
    }

    /// How many users there are, deleted ones included.
    pub(crate) fn len(&self) -> usize {
        self.users.len()
    }

    /// Every user, deleted ones included, with roles, in creation order.
    pub(crate) fn users(&self) -> impl Iterator<Item = &UserResponse> {
        self.users.values()
    }

    /// Adds a user that is known to be new (its id and login free), last.
    fn insert_new(&mut self, user: UserResponse) -> u64 {
        let place = self.next_place;
        self.next_place += 1;
        self.by_id.insert(user.id.clone(), place);
        self.by_login.insert(user.login.to_lowercase(), place);
        self.users.insert(place, user);
        place
    }

    /// Puts a user as it now is: in its place when its id is known, last
    /// otherwise; the login index follows a changed login.
    fn put_user(&mut self, user: UserResponse) {
        let Some(&place) = self.by_id.get(&user.id) else {
            self.insert_new(user);
            return;
        };
        if let Some(old) = self.users.get(&place) {
            let old_login = old.login.to_lowercase();
            let new_login = user.login.to_lowercase();
            if old_login != new_login {
                if self.by_login.get(&old_login) == Some(&place) {
                    self.by_login.remove(&old_login);
                }
                self.by_login.insert(new_login, place);
            }
        }
        self.users.insert(place, user);
    }

    /// Removes a user by id; whether it was there.
    fn remove(&mut self, id: &str) -> bool {
        let Some(place) = self.by_id.remove(id) else {
            return false;
        };
        if let Some(user) = self.users.remove(&place) {
            let login = user.login.to_lowercase();
            if self.by_login.get(&login) == Some(&place) {
                self.by_login.remove(&login);
            }
        }
        true
    }

    fn place(&self, id: &str) -> Result<u64, DomainError> {
        self.by_id
            .get(id)
            .copied()
            .ok_or_else(|| DomainError::UserNotFound(id.to_owned()))
    }

    /// The user in `place`, which an index named.
    fn at(&self, place: u64, id: &str) -> Result<&UserResponse, DomainError> {
        self.users
            .get(&place)
            .ok_or_else(|| DomainError::UserNotFound(id.to_owned()))
    }

    fn at_mut(&mut self, place: u64, id: &str) -> Result<&mut UserResponse, DomainError> {
        self.users
            .get_mut(&place)
            .ok_or_else(|| DomainError::UserNotFound(id.to_owned()))
    }

    /// The user with this id (through the id index).
    pub(crate) fn get(&self, id: &str) -> Result<&UserResponse, DomainError> {
        self.at(self.place(id)?, id)
    }

    /// The user with this login, compared case-insensitively (through the
    /// login index).
    pub(crate) fn get_by_login(&self, login: &str) -> Result<&UserResponse, DomainError> {
        self.by_login
            .get(&login.to_lowercase())
            .and_then(|place| self.users.get(place))
            .ok_or_else(|| DomainError::UserNotFound(login.to_owned()))
    }

    /// The place of every user, in creation order: where a list answer
    /// written a batch at a time reads its users from.
    pub(crate) fn places(&self) -> Vec<u64> {
        self.users.keys().copied().collect()
    }

    /// The user at `place`, unless purged since.
    pub(crate) fn at_place(&self, place: u64) -> Option<&UserResponse> {
        self.users.get(&place)
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
        // The contract's rules, the type's among them, as the SDK checks
        // them before sending.
        let mut errors = request.validate().err().unwrap_or_default();
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
        let place = self.insert_new(user.clone());
        self.note_user(place);
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
        let place = self.place(id)?;
        let user = self.at(place, id)?;
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
        let old_login = self.at(place, id)?.login.to_lowercase();
        let new_login = request.login.to_lowercase();
        if old_login != new_login {
            self.by_login.remove(&old_login);
            self.by_login.insert(new_login, place);
        }
        let user = self.at_mut(place, id)?;
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
        let user = user.clone();
        self.note_user(place);
        Ok(user)
    }

    /// DeleteUser: `DEPROVISIONED` and kept, or removed with `purge`.
    pub(crate) fn delete(&mut self, id: &str, purge: bool) -> Result<(), DomainError> {
        let place = self.place(id)?;
        if purge {
            self.remove(id);
            self.note(|| Effect::RemoveUser { id: id.to_owned() });
        } else {
            let user = self.at_mut(place, id)?;
            if user.status != UserStatus::Deprovisioned {
                user.status = UserStatus::Deprovisioned;
                user.last_updated = Some(stamps::now());
                self.note_user(place);
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
        let place = self.place(id)?;
        let user = self.at_mut(place, id)?;
        let status = lifecycle::next_status(action, &user.user_type, &user.status)
            .map_err(|refusal| refused(user, action.operation(), refusal))?;
        if status != user.status {
            user.status = status;
            user.last_updated = Some(stamps::now());
            self.note_user(place);
        }
        Ok(())
    }

    /// ExpirePassword: the lifecycle step, then a new temporary password.
    pub(crate) fn expire_password(&mut self, id: &str) -> Result<TemporaryPassword, DomainError> {
        self.lifecycle(id, LifecycleAction::ExpirePassword)?;
        let place = self.place(id)?;
        let user = self.at_mut(place, id)?;
        let now = stamps::now();
        user.password_changed = Some(now);
        user.last_updated = Some(now);
        self.note_user(place);
        Ok(TemporaryPassword {
            password: stamps::temporary_password(),
        })
    }

    /// Sets a user's status directly (the emulator's test hook).
    pub(crate) fn set_status(&mut self, id: &str, status: UserStatus) -> Result<(), DomainError> {
        let place = self.place(id)?;
        let user = self.at_mut(place, id)?;
        user.status = status;
        user.last_updated = Some(stamps::now());
        self.note_user(place);
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
        if self.record {
            let properties = self.schema.clone();
            self.effects.push(Effect::SetSchema { properties });
        }
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
        let taken = self
            .by_login
            .get(&login.to_lowercase())
            .and_then(|place| self.users.get(place))
            .is_some_and(|user| Some(user.id.as_str()) != except);
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
                if self.record {
                    self.effects.push(Effect::PutRole { role: role.clone() });
                }
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
