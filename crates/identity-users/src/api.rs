//! [`UsersApi`]: the entry point, one method per operation of the contract.
//!
//! Each method takes the operation's required inputs and returns its
//! [`Call`], on which the optional inputs are named methods and `.send()`
//! makes the request.

use identity_models::{CreateUserRequest, UpdateUserRequest, UpdateUserSchemaRequest};

use crate::find::FindUsers;
use crate::operation::{
    CreateUser, DeleteUser, ExpirePassword, GetUser, GetUserFromLogin, GetUserSchema,
    ListRunnableUsers, ListUsers, Operation, ResetFactors, ResetPassword, SendActivationEmail,
    UnlockUser, UnsuspendUser, UpdateUser, UpdateUserSchema,
};
use std::marker::PhantomData;

use crate::settle::SettleCreateUser;
use crate::{BaseUrl, Call, Error};

/// The Users API over a tower service `S` (any stack that turns an
/// `http::Request<Bytes>` into an `http::Response<B>`).
///
/// Cloning is as cheap as cloning `S`.
///
/// `E` is the error the calls return: this crate's [`Error`] unless
/// [`with_error`](Self::with_error) chose a type that wraps it (the facade
/// crate does, so its calls return its own error).
pub struct UsersApi<S, E = Error> {
    pub(crate) service: S,
    pub(crate) base_url: BaseUrl,
    error: PhantomData<fn() -> E>,
}

impl<S: Clone, E> Clone for UsersApi<S, E> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            base_url: self.base_url.clone(),
            error: PhantomData,
        }
    }
}

impl<S: std::fmt::Debug, E> std::fmt::Debug for UsersApi<S, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsersApi")
            .field("service", &self.service)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl<S: Clone> UsersApi<S> {
    /// The operations of the service at `base_url`, called through `service`.
    pub fn new(service: S, base_url: BaseUrl) -> Self {
        Self {
            service,
            base_url,
            error: PhantomData,
        }
    }
}

impl<S: Clone, E> UsersApi<S, E> {
    /// The same operations, returning `E2` (any type made from [`Error`]).
    pub fn with_error<E2: From<Error>>(self) -> UsersApi<S, E2> {
        UsersApi {
            service: self.service,
            base_url: self.base_url,
            error: PhantomData,
        }
    }

    /// The base URL the operations' paths are joined to.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// The service the calls go through.
    pub fn service(&self) -> &S {
        &self.service
    }

    fn call<O: Operation>(&self) -> Call<S, O, E> {
        Call::new(self, None)
    }

    fn call_for<O: Operation>(&self, what: &'static str, value: &str) -> Call<S, O, E> {
        Call::new(self, Some((what, value)))
    }

    /// CreateUser: creates a user (`POST /api/users`).
    pub fn create_user(&self, user: &CreateUserRequest) -> Call<S, CreateUser, E> {
        self.call().json_body(user)
    }

    /// DeleteUser: de-provisions the user, or with `.purge(true)` removes it.
    pub fn delete_user(&self, id: &str) -> Call<S, DeleteUser, E> {
        self.call_for("user id", id)
    }

    /// ExpirePassword: sets an expired temporary password and answers it.
    pub fn expire_password(&self, id: &str) -> Call<S, ExpirePassword, E> {
        self.call_for("user id", id)
    }

    /// FindUsersById: looks users up by id, any number of them (split into
    /// requests of 50 and merged).
    pub fn find_users_by_id<I>(&self, ids: I) -> FindUsers<S, E>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        FindUsers::new(self.clone(), ids.into_iter().map(Into::into).collect())
    }

    /// GetUser: one user; `.include_roles(true)` fills its roles.
    pub fn get_user(&self, id: &str) -> Call<S, GetUser, E> {
        self.call_for("user id", id)
    }

    /// GetUserFromLogin: one user, by login (newer services).
    pub fn get_user_from_login(&self, login: &str) -> Call<S, GetUserFromLogin, E> {
        self.call_for("login", login)
    }

    /// GetUserSchema: the domain's alternative-user-id properties.
    pub fn get_user_schema(&self) -> Call<S, GetUserSchema, E> {
        self.call()
    }

    /// ListRunnableUsers: the users that can run jobs.
    pub fn list_runnable_users(&self) -> Call<S, ListRunnableUsers, E> {
        self.call()
    }

    /// ListUsers: every user; `.include_deactivated(true)` adds the deleted.
    pub fn list_users(&self) -> Call<S, ListUsers, E> {
        self.call()
    }

    /// ResetFactors: clears the user's multi-factor enrolment.
    pub fn reset_factors(&self, id: &str) -> Call<S, ResetFactors, E> {
        self.call_for("user id", id)
    }

    /// ResetPassword: starts a password reset.
    pub fn reset_password(&self, id: &str) -> Call<S, ResetPassword, E> {
        self.call_for("user id", id)
    }

    /// SendActivationEmail: (re)sends the activation email.
    pub fn send_activation_email(&self, id: &str) -> Call<S, SendActivationEmail, E> {
        self.call_for("user id", id)
    }

    /// UnlockUser: unlocks a locked-out user.
    pub fn unlock_user(&self, id: &str) -> Call<S, UnlockUser, E> {
        self.call_for("user id", id)
    }

    /// UnsuspendUser: returns a suspended user to active.
    pub fn unsuspend_user(&self, id: &str) -> Call<S, UnsuspendUser, E> {
        self.call_for("user id", id)
    }

    /// UpdateUser: replaces the user's details (start from
    /// `UpdateUserRequest::from_user` to change a few).
    pub fn update_user(&self, id: &str, user: &UpdateUserRequest) -> Call<S, UpdateUser, E> {
        self.call_for("user id", id).json_body(user)
    }

    /// Settles a CreateUser whose outcome is unknown (see
    /// [`SettleCreateUser`]): was the user with this request's login created?
    pub fn settle_create_user(&self, user: &CreateUserRequest) -> SettleCreateUser<S, E> {
        SettleCreateUser::new(self.clone(), user.login.clone())
    }

    /// UpdateUserSchema: replaces the domain's alternative-user-id properties.
    pub fn update_user_schema(
        &self,
        schema: &UpdateUserSchemaRequest,
    ) -> Call<S, UpdateUserSchema, E> {
        self.call().json_body(schema)
    }
}
