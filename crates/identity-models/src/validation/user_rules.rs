//! The rules of CreateUserRequest and UpdateUserRequest. The two share their
//! fields and limits; only CreateUserRequest carries the user type, so the
//! type-dependent rules run on create, or on update when the caller knows the
//! type ([`UpdateUserRequest::validate_for`]).

use super::ValidationErrors;
use super::rules::{items_at_most, length_between, matches_pattern};
use crate::{CreateUserRequest, RoleId, UpdateUserRequest, UserType};

/// The most roles a request may carry.
const MAX_ROLES: usize = 20;

/// The fields both user requests carry, borrowed for checking.
struct UserFields<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email_address: &'a str,
    second_email_address: Option<&'a str>,
    login: &'a str,
    roles: Option<&'a [RoleId]>,
}

impl UserFields<'_> {
    /// The rules that hold whatever the user type.
    fn check(&self, errors: &mut ValidationErrors) {
        length_between(errors, "firstName", self.first_name, 1, 50);
        length_between(errors, "lastName", self.last_name, 2, 50);
        length_between(errors, "emailAddress", self.email_address, 5, 80);
        length_between(errors, "login", self.login, 5, 80);
        if let Some(second) = self.second_email_address {
            length_between(errors, "secondEmailAddress", second, 5, 80);
        }
        if let Some(roles) = self.roles {
            items_at_most(errors, "roles", roles.len(), MAX_ROLES);
            for (index, role) in roles.iter().enumerate() {
                length_between(
                    errors,
                    &format!("roles[{index}].scope"),
                    &role.scope,
                    3,
                    100,
                );
                length_between(errors, &format!("roles[{index}].code"), &role.code, 3, 100);
            }
        }
    }

    /// The rules that depend on the user type.
    fn check_for_type(&self, user_type: &UserType, errors: &mut ValidationErrors) {
        if *user_type == UserType::Personal && self.login != self.email_address {
            errors.add(
                "login",
                "For Personal users the field login must be equal to emailAddress.",
            );
        }
        if *user_type != UserType::Service && self.second_email_address.is_some() {
            errors.add(
                "secondEmailAddress",
                "The field secondEmailAddress is only allowed for Service users.",
            );
        }
    }
}

/// The contract's `type` field: 1 to 20 letters, and one of the types the
/// service creates (`Personal`, `Service`): a value this SDK keeps from a
/// newer service's answer is still refused in a request.
fn check_user_type(user_type: &UserType, errors: &mut ValidationErrors) {
    let text = user_type.as_str();
    length_between(errors, "type", text, 1, 20);
    matches_pattern(errors, "type", text, "^[a-zA-Z]*$", |c| {
        c.is_ascii_alphabetic()
    });
    if !matches!(user_type, UserType::Personal | UserType::Service) {
        errors.add(
            "type",
            "The field type must be either 'Personal' or 'Service'.",
        );
    }
}

impl CreateUserRequest {
    fn fields(&self) -> UserFields<'_> {
        UserFields {
            first_name: &self.first_name,
            last_name: &self.last_name,
            email_address: &self.email_address,
            second_email_address: self.second_email_address.as_deref(),
            login: &self.login,
            roles: self.roles.as_deref(),
        }
    }

    /// Checks the request against the contract's limits, returning every
    /// violation at once: names 1-50 (last name 2-50) characters, email
    /// addresses and login 5-80, `type` `Personal` or `Service`, at most 20
    /// roles (scope and code 3-100 each), a Personal user's login equal to
    /// its email address, a second email address only for Service users.
    ///
    /// ```
    /// use identity_models::CreateUserRequest;
    /// let bad = CreateUserRequest::personal("", "X", "a@b.c")
    ///     .with_second_email_address("other@example.com");
    /// let errors = bad.validate().unwrap_err();
    /// let fields: Vec<&str> = errors.fields().collect();
    /// assert_eq!(fields, ["firstName", "lastName", "secondEmailAddress"]);
    /// ```
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let fields = self.fields();
        fields.check(&mut errors);
        check_user_type(&self.user_type, &mut errors);
        fields.check_for_type(&self.user_type, &mut errors);
        errors.into_result()
    }
}

impl UpdateUserRequest {
    fn fields(&self) -> UserFields<'_> {
        UserFields {
            first_name: &self.first_name,
            last_name: &self.last_name,
            email_address: &self.email_address,
            second_email_address: self.second_email_address.as_deref(),
            login: &self.login,
            roles: self.roles.as_deref(),
        }
    }

    /// Checks the limits that do not depend on the user type (the request
    /// does not carry it), returning every violation at once: the same
    /// lengths and role limits as [`CreateUserRequest::validate`].
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        self.fields().check(&mut errors);
        errors.into_result()
    }

    /// [`UpdateUserRequest::validate`] plus the rules that depend on the
    /// type of the user being updated: a Personal user's login must equal its
    /// email address; a second email address is only allowed for Service users.
    pub fn validate_for(&self, user_type: &UserType) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let fields = self.fields();
        fields.check(&mut errors);
        fields.check_for_type(user_type, &mut errors);
        errors.into_result()
    }
}
